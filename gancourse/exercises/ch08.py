"""Checks for the exercises of Chapter 8 (evaluating GANs): FID and the Inception Score from scratch.

Every expected value is a closed form worked out in a comment: identical statistics are at distance
0; N(0, I) and N(0, [[2, -1], [-1, 2]]) are at 4 - 2 sqrt(3) (the eigenvalues of the second
covariance are 1 and 3); for diagonal covariances the distance is |mu1 - mu2|^2 plus the squared
differences of the standard deviations; for 2 x 2 covariances tr (S1 S2)^(1/2) =
sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)). Uniform predictions have Inception Score 1, confident
predictions spread evenly over K classes have K. Reference solutions, with the names and signatures
the checks call (``import numpy as np``, ``import scipy.linalg``, ``import torch``):

    def frechet_distance(mu1, sigma1, mu2, sigma2):
        ### BEGIN SOLUTION
        diff = mu1 - mu2
        # sqrtm of the PRODUCT, a matrix square root (not element-wise); its tiny imaginary part is round-off.
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
        return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
        ### END SOLUTION

    def fid_from_features(real, fake):
        ### BEGIN SOLUTION
        mu1, mu2 = real.mean(axis=0), fake.mean(axis=0)
        sigma1 = np.cov(real, rowvar=False)  # one row per sample; ddof = 1
        sigma2 = np.cov(fake, rowvar=False)
        diff = mu1 - mu2
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
        return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
        ### END SOLUTION

    def inception_score(probs):
        ### BEGIN SOLUTION
        marginal = probs.mean(dim=0, keepdim=True)  # p(y), the average prediction
        # KL(p(y|x) || p(y)) per sample; xlogy makes 0 * log 0 = 0 (a confident prediction has zeros).
        kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)
        return float(torch.exp(kl.mean()))
        ### END SOLUTION

The package's versions: ``gancourse.metrics.frechet_distance``, ``gancourse.metrics.fid`` (with
``FeatureStats``) and ``gancourse.metrics.inception_score`` (which also averages over splits).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_frechet_distance", "check_fid_from_features", "check_inception_score", "check_fid_extrapolation"]

SQRT3 = math.sqrt(3.0)
TOL = 1e-6  # relative (absolute below 1): every expected value is a closed form, exact to rounding


def _number(result: Any, fname: str) -> float:
    """Return the student's one-number result as a float, or raise ExerciseError."""
    expect(result is not None, f"{fname} returned None: did you forget `return`?")
    if isinstance(result, torch.Tensor):
        result = result.detach().cpu().numpy()
    arr = np.asarray(result)
    expect(arr.size == 1, f"{fname} must return one number, got an array of shape {arr.shape}: sum the trace terms "
                          "(np.trace) and the squared mean difference into one number")
    value = arr.reshape(())[()]
    if np.iscomplexobj(arr):
        raise ExerciseError(f"{fname} returned a complex number {value}: scipy.linalg.sqrtm returns a complex matrix "
                            "when round-off leaves tiny imaginary parts; take its real part (.real)")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ExerciseError(f"{fname} must return a number, got {type(result).__name__}") from None


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


# --------------------------------------------------------------------------------------------
# The Fréchet distance from statistics.

def _elementwise(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """The bug of the seed articles: an element-wise square root, whose trace reads only the diagonal."""
    with np.errstate(invalid="ignore"):
        return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.sqrt(s1 @ s2)))


@refuses("gancourse.metrics.frechet.frechet_distance")
def check_frechet_distance(fn: Callable[..., Any]) -> None:
    """Check frechet_distance(mu1, sigma1, mu2, sigma2) = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr (S1 S2)^(1/2)."""
    name = "frechet_distance"
    zero2 = np.zeros(2)
    eye = np.eye(2)
    corr = np.array([[2.0, -1.0], [-1.0, 2.0]])  # eigenvalues 1 and 3

    def run(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
        args = [a.copy() for a in (mu1, s1, mu2, s2)]
        got = _number(call_student(fn, *args), name)
        expect(all(np.array_equal(a, b) for a, b in zip(args, (mu1, s1, mu2, s2))),
               f"{name} changed its inputs in place: compute new arrays, leave mu and sigma as they were")
        return got

    # 1. A distribution against itself: 0, also when the covariance has off-diagonal terms.
    got = run(np.array([1.0, -2.0]), corr, np.array([1.0, -2.0]), corr)
    if _close(got, 8 - 4 * math.sqrt(5)):
        raise ExerciseError(f"{name}: N(mu, S) against itself should be 0, got {got:.4f} = 8 - 4 sqrt(5) < 0: you took "
                            "an ELEMENT-WISE square root of S1 S2 (np.sqrt / torch.sqrt). FID needs the MATRIX square "
                            "root, the matrix R with R R = S1 S2 (scipy.linalg.sqrtm); the two agree only for "
                            "diagonal matrices")
    if _close(got, 8 - 4 * math.sqrt(2)):
        raise ExerciseError(f"{name}: you took the square root of each element of S1 and S2 separately; "
                            "the cross term is 2 tr (S1 S2)^(1/2), one matrix square root of the product")
    # Here tr S1 + tr S2 = 8 and the right cross term is 2 tr S = 8.
    mistakes = {
        4.0: "the cross term is 2 tr (S1 S2)^(1/2): you forgot the factor 2",
        8.0: "the cross term - 2 tr (S1 S2)^(1/2) is missing",
        16.0: "the cross term has a minus sign: - 2 tr (S1 S2)^(1/2)",
        8 - 2 * float(np.trace(_sqrtm_spd(2 * corr))): "you took the square root of the SUM S1 + S2; it is the "
                                                       "square root of the PRODUCT S1 S2",
        8 - 2 * math.sqrt(10): "you took the square root of the trace, (tr S1 S2)^(1/2); take the trace of the "
                               "matrix square root, the sum of the square roots of S1 S2's eigenvalues",
    }
    for value, why in mistakes.items():
        if _close(got, value):
            raise ExerciseError(f"{name}: N(mu, S) against itself should be 0, got {got:.6f}: {why}")
    expect(abs(got) < 1e-6, f"{name}: a Gaussian against itself is at distance 0, got {got}")

    # 2. N(0, I) vs N(0, [[2, -1], [-1, 2]]): 0 + 2 + 4 - 2 (1 + sqrt 3) = 4 - 2 sqrt 3.
    want = 4 - 2 * SQRT3
    got = run(zero2, eye, zero2, corr)
    mistakes = {
        _elementwise(zero2, eye, zero2, corr): "you took an element-wise square root (np.sqrt) of S1 S2; use the "
                                               "matrix square root (scipy.linalg.sqrtm)",
        6 - (1 + SQRT3): "the cross term is 2 tr (S1 S2)^(1/2): you forgot the factor 2",
        6.0: "the cross term - 2 tr (S1 S2)^(1/2) is missing",
        6 - 2 * float(np.trace(_sqrtm_spd(eye + corr))): "you took the square root of the SUM S1 + S2; it is the "
                                                          "square root of the PRODUCT S1 S2",
        6 - 2 * math.sqrt(1 + 3): "you took tr(S1 S2)^(1/2), the square root of the trace; take the trace of the "
                                  "matrix square root, the sum of the square roots of the eigenvalues",
        6 + 2 * (1 + SQRT3): "the cross term has a minus sign: - 2 tr (S1 S2)^(1/2)",
    }
    for value, why in mistakes.items():
        if _close(got, value):
            raise ExerciseError(f"{name}(N(0, I), N(0, [[2, -1], [-1, 2]])) should be 4 - 2 sqrt(3) = {want:.6f}, "
                                f"got {got:.6f}: {why}")
    expect(_close(got, want), f"{name}(N(0, I), N(0, [[2, -1], [-1, 2]])) should be 4 - 2 sqrt(3) = {want:.6f} "
                              f"(the second covariance has eigenvalues 1 and 3), got {got}")

    # 3. Diagonal covariances: |mu1 - mu2|^2 + sum (s1_i - s2_i)^2 over standard deviations s.
    # means (0, 0, 0) and (1, 2, 2): 9; variances (1, 4, 9) and (4, 4, 1): (1 - 2)^2 + 0 + (3 - 1)^2 = 5; total 14.
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    got = run(mu1, s1, mu2, s2)
    if _close(got, 5.0 + 3.0):
        raise ExerciseError(f"{name}: the mean term is the SQUARED distance |mu1 - mu2|^2 = 9, you used |mu1 - mu2| = 3")
    if _close(got, 5.0 + 25.0):
        raise ExerciseError(f"{name}: the mean term is the sum of squared differences, 1 + 4 + 4 = 9; you squared "
                            "the sum of the differences (1 + 2 + 2)^2 = 25")
    if _close(got, 5.0):
        raise ExerciseError(f"{name}: the mean term |mu1 - mu2|^2 (= 9 here) is missing")
    expect(_close(got, 14.0), f"{name}: for means (0, 0, 0), (1, 2, 2) and variances (1, 4, 9), (4, 4, 1) the "
                              f"distance is 9 + (1 - 2)^2 + 0 + (3 - 1)^2 = 14, got {got}")

    # 4. Covariances that do not commute, S1 = diag(1, 4), S2 = [[2, -1], [-1, 2]], means (1, 0) and (0, 2):
    # tr (S1 S2)^(1/2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)) = sqrt(10 + 4 sqrt 3) for 2 x 2 matrices,
    # so the distance is 5 + 5 + 4 - 2 sqrt(10 + 4 sqrt 3).
    s1 = np.diag([1.0, 4.0])
    want = 5 + 5 + 4 - 2 * math.sqrt(10 + 4 * SQRT3)
    got = run(np.array([1.0, 0.0]), s1, np.array([0.0, 2.0]), corr)
    product_of_roots = 14 - 2 * float(np.trace(_sqrtm_spd(s1) @ _sqrtm_spd(corr)))
    if _close(got, product_of_roots):
        raise ExerciseError(f"{name}: you used tr(S1^(1/2) S2^(1/2)), which equals tr (S1 S2)^(1/2) only when S1 and S2 "
                            "commute; take the square root of the product S1 S2")
    expect(_close(got, want), f"{name}: for S1 = diag(1, 4), S2 = [[2, -1], [-1, 2]] (they do not commute) and means "
                              f"(1, 0), (0, 2) the distance is 14 - 2 sqrt(10 + 4 sqrt 3) = {want:.6f}, got {got}")
    passed(name)


def _sqrtm_spd(s: np.ndarray) -> np.ndarray:
    """Return the symmetric square root of a symmetric positive semi-definite matrix."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


# --------------------------------------------------------------------------------------------
# FID from features.

def check_fid_from_features(fn: Callable[..., Any]) -> None:
    """Check fid_from_features(real, fake) for (N, d) feature arrays: mean, covariance (ddof = 1), Fréchet distance."""
    name = "fid_from_features"

    def run(real: np.ndarray, fake: np.ndarray) -> float:
        args = (real.copy(), fake.copy())
        got = _number(call_student(fn, *args), name)
        expect(np.array_equal(args[0], real) and np.array_equal(args[1], fake),
               f"{name} changed the feature arrays in place: centre copies (x - x.mean(0)), not the inputs")
        return got

    # Real: the 4 points (+-1, 0), (0, +-1): mean 0, scatter 2 I, covariance (ddof = 1) 2/3 I.
    # Fake: the same points times 2 plus (3, 4): mean (3, 4), covariance 8/3 I.
    # FID = 25 + 2 (2/3) + 2 (8/3) - 2 * 2 sqrt(16/9) = 25 + 4/3. With ddof = 0 (covariances I/2, 2 I): 26.
    real = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    fake = 2 * real + np.array([3.0, 4.0])
    got = run(real, fake)
    if _close(got, 26.0):
        raise ExerciseError(f"{name}: you divided the scatter by N (ddof = 0): FID's covariance is the sample "
                            "covariance with N - 1 (np.cov's default, torch.cov's correction=1), as in pytorch-fid; "
                            f"expected 25 + 4/3 = {25 + 4 / 3:.6f}, got {got}")
    # Mixed: one side over N, the other over N - 1: 25 + 1/2 * 2 + 8/3 * 2 - 4 sqrt(4/3), or 25 + 4/3 + 4 - 4 sqrt(4/3).
    mixed = (25 + 1 + 16 / 3 - 4 * math.sqrt(4 / 3), 25 + 4 / 3 + 4 - 4 * math.sqrt(4 / 3))
    if any(_close(got, value) for value in mixed):
        raise ExerciseError(f"{name}: the two sides used different normalisations (N and N - 1); use N - 1 for both")
    expect(not _close(got, 1.0 + 4 / 3) and not _close(got, 5.0 + 4 / 3),
           f"{name}: the mean term is |mu_real - mu_fake|^2 = 3^2 + 4^2 = 25; check the means (axis 0: over the samples)")
    expect(_close(got, 25 + 4 / 3), f"{name}: real features (+-1, 0), (0, +-1) against twice them plus (3, 4) give "
                                    f"FID 25 + 4/3 = {25 + 4 / 3:.6f} (covariances 2/3 I and 8/3 I, ddof = 1), got {got}; "
                                    "the arrays hold one row per sample: np.cov(x, rowvar=False), x.mean(axis=0)")

    # Correlated features, unequal counts, more samples than dimensions: 6 real points along (1, 1) and
    # (1, -1) with different spreads; the fake set is the real set with the second coordinate negated.
    # Scatter [[10, 6], [6, 10]]; the covariances are [[a, b], [b, a]] and [[a, -b], [-b, a]] with a = 2, b = 6/5
    # (ddof = 1); S1 S2 = (a^2 - b^2) I, so tr (S1 S2)^(1/2) = 2 sqrt(a^2 - b^2) = 2 * 8/5 and
    # FID = 4a - 4 sqrt(a^2 - b^2) = 8 - 32/5 = 8/5 (both means are 0). With ddof = 0 everything is 5/6 of that: 4/3.
    real = np.array([[2.0, 2.0], [-2.0, -2.0], [1.0, -1.0], [-1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    fake = real * np.array([1.0, -1.0])
    got = run(real, fake)
    if _close(got, 0.0):
        raise ExerciseError(f"{name}: two feature sets whose covariances differ in the sign of their correlation got "
                            "FID 0: an element-wise square root (or only the diagonals) cannot see correlations; use "
                            "the matrix square root of S1 S2")
    if _close(got, 4 / 3):
        raise ExerciseError(f"{name}: you divided the scatter by N (ddof = 0); FID uses N - 1, as np.cov does")
    expect(_close(got, 8 / 5), f"{name}: features with covariance [[2, 6/5], [6/5, 2]] against their mirror image "
                               f"(correlation negated) have FID 8 - 4 * 8/5 = 8/5, got {got}")

    # Rows are samples: 5 samples of 3 features against 7 samples (different N: the shapes catch rowvar mix-ups).
    # Fake = real set shifted by (1, 1, 1) and two copies of its mean added (which shrink its covariance by 4/6).
    rng = np.random.default_rng(8)
    real = rng.normal(size=(5, 3))
    m = real.mean(axis=0)
    fake = np.vstack([real, m, m]) + 1.0
    # Same mean + 1: mean term 3. Covariances S and (4/6) S: tr S + (2/3) tr S - 2 sqrt(2/3) tr S.
    tr = float(np.trace(np.cov(real, rowvar=False)))
    want = 3 + tr * (1 + 2 / 3 - 2 * math.sqrt(2 / 3))
    got = run(real, fake)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    if _close(got, _elementwise(real.mean(0), s1, fake.mean(0), s2)):
        raise ExerciseError(f"{name}: you took an element-wise square root (np.sqrt) of S1 S2; FID needs the matrix "
                            "square root (scipy.linalg.sqrtm): the two agree only when S1 S2 is diagonal")
    expect(_close(got, want), f"{name}: a set of 5 three-dimensional features against the same set shifted by "
                              f"(1, 1, 1) plus two copies of its mean should give {want:.6f}, got {got}: one row per "
                              "sample (np.cov(x, rowvar=False)), means over axis 0")
    passed(name)


# --------------------------------------------------------------------------------------------
# The Inception Score.

def _is(p: torch.Tensor) -> float:
    """exp E_x KL(p(y|x) || p(y)), the reference used only to recognise mistakes (applied to wrong inputs)."""
    m = p.mean(0, keepdim=True)
    return float(torch.exp((torch.xlogy(p, p) - torch.xlogy(p, m)).sum(1).mean()))


@refuses("gancourse.metrics.scores.inception_score")
def check_inception_score(fn: Callable[..., Any]) -> None:
    """Check inception_score(probs): exp of the mean KL(p(y|x) || p(y)) over the rows of probs, shape (N, K)."""
    name = "inception_score"

    def run(probs: torch.Tensor) -> float:
        before = probs.clone()
        got = _number(call_student(fn, probs), name)
        expect(torch.equal(probs, before), f"{name} changed probs in place; compute new tensors")
        return got

    # 1. Uniform predictions: p(y|x) = p(y), every KL is 0, IS = exp(0) = 1.
    got = run(torch.full((6, 5), 0.2, dtype=torch.float64))
    if math.isnan(got) or got == -math.inf:
        raise ExerciseError(f"{name}(uniform) gave {got}: log(p - p_y) is log 0 here (and of a negative number "
                            "elsewhere); the KL needs log p(y|x) - log p(y), a difference of logs")
    if _close(got, 0.0):
        raise ExerciseError(f"{name}(uniform) should be exp(0) = 1, got 0: either the exponential is missing (the "
                            "score is exp of the mean KL) or a log(p - p_y) = log 0 = -inf crept in (use log p - log p_y)")
    if got < 0:
        raise ExerciseError(f"{name}(uniform) should be 1, got {got:.4g} < 0, which an exponential never is: the "
                            "KL is sum_y p(y|x) (log p(y|x) - log p(y)), weighted by p(y|x), with a difference of "
                            "logs (not log(p - p_y)), and the score is exp of its mean")
    expect(_close(got, 1.0), f"{name}: uniform predictions carry no information, IS = 1; got {got}")

    # 2. Confident predictions spread evenly over K = 10 classes: each KL is log K, IS = K.
    k = 10
    confident = torch.eye(k, dtype=torch.float64).repeat(3, 1)  # 30 one-hot rows, 3 per class
    got = run(confident)
    mistakes = {
        math.log(k): "you returned the mean KL, log K; the score is its exponential",
        _is(torch.softmax(confident, dim=1)): "you applied softmax to probabilities: the input already is p(y|x) "
                                              "(softmax belongs on the classifier's LOGITS, never on its inputs or "
                                              "its outputs a second time)",
        _is(torch.softmax(confident, dim=0)): "you applied softmax over the batch dimension: the input already is "
                                              "p(y|x), one distribution per row",
        1.0: "the marginal p(y) must be the mean of p(y|x) over the samples (dim 0), not over the classes",
    }
    if math.isnan(got):
        raise ExerciseError(f"{name}(confident over 10 classes) gave NaN: log(p - p_y) takes the log of a negative "
                            "number, or 0 * log 0 was not taken as 0. Use log p(y|x) - log p(y) with "
                            "torch.xlogy(p, p) - torch.xlogy(p, p_y), which makes 0 * log 0 = 0")
    for value, why in mistakes.items():
        if _close(got, value):
            raise ExerciseError(f"{name}(confident, evenly over 10 classes) should be 10, got {got:.4f}: {why}")
    expect(_close(got, float(k)), f"{name}: confident predictions spread evenly over 10 classes score IS = 10, got {got}")

    # 3. All samples confidently in ONE class: p(y|x) = p(y), IS = 1 (no diversity).
    got = run(torch.eye(4, dtype=torch.float64)[[2] * 8])
    expect(_close(got, 1.0), f"{name}: if every sample is confidently the same class, p(y|x) = p(y) and IS = 1, "
                             f"got {got}")

    # 4. An uneven case: p(y|x1) = (1, 0), p(y|x2) = (1/2, 1/2); p(y) = (3/4, 1/4).
    # KL1 = log(4/3); KL2 = (1/2) log(2/3) + (1/2) log 2 = (1/2) log(4/3); IS = exp((3/4) log(4/3)) = (4/3)^(3/4).
    probs = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    want = (4 / 3) ** 0.75
    got = run(probs)
    if _close(got, (4 / 3 + (4 / 3) ** 0.5) / 2):
        raise ExerciseError(f"{name}: you averaged exp(KL) over the samples; the score is exp of the MEAN KL, "
                            f"(4/3)^(3/4) = {want:.6f} here")
    if math.isinf(got) or math.isnan(got):
        raise ExerciseError(f"{name}([[1, 0], [1/2, 1/2]]) gave {got}: the KL is KL(p(y|x) || p(y)), with p(y|x) "
                            "first; reversed, it divides by the zero in (1, 0)")
    expect(_close(got, want), f"{name}([[1, 0], [1/2, 1/2]]) should be exp((log(4/3) + log(4/3) / 2) / 2) = "
                              f"(4/3)^(3/4) = {want:.6f}, got {got}")
    passed(name)


# -- Experiment: FID's bias in the number of samples, and FID at infinity -----------------------

def check_fid_extrapolation(ns: Any, fids: Any, min_r2: float = 0.9) -> float:
    """Grade a measurement of FID at several sample sizes N; return the extrapolated FID at N = oo.

    FID is biased upwards by a term that shrinks like 1/N (Chong and Forsyth, 2020): the values must
    fall as N grows and lie on a line in 1/N (coefficient of determination at least ``min_r2``); the
    line's intercept is FID at infinity.
    """
    name = "fid_extrapolation"
    ns, fids = np.asarray(ns, dtype=float).ravel(), np.asarray(fids, dtype=float).ravel()
    expect(len(ns) == len(fids), f"{name}: ns and fids must have one value each per size, got {len(ns)} "
                                 f"and {len(fids)}")
    expect(len(np.unique(ns)) >= 3, f"{name}: measure FID at three sample sizes or more, got {len(np.unique(ns))}")
    expect(bool(np.all(np.isfinite(fids)) and np.all(ns > 1)), f"{name}: the sizes must be > 1 and the FIDs finite")
    order = np.argsort(ns)
    ns, fids = ns[order], fids[order]
    expect(fids[0] > fids[-1], f"{name}: FID at the largest N is not below FID at the smallest: its bias "
                               "shrinks with N; use the same generator and real set at every size")
    x = 1.0 / ns
    slope, intercept = np.polyfit(x, fids, 1)
    residual = fids - (slope * x + intercept)
    r2 = 1 - residual.var() / fids.var()
    expect(slope > 0, f"{name}: the fitted line in 1/N falls as 1/N grows (slope {slope:.3g}): FID's bias is "
                      "positive")
    expect(r2 >= min_r2, f"{name}: FID is not close to a line in 1/N (R^2 = {r2:.2f}, at least {min_r2} asked): "
                         "use more sizes, or average a few draws at each size")
    print(f"FID at infinity {intercept:.3f} (the line in 1/N: slope {slope:.3g}, R^2 = {r2:.3f})")
    passed(name)
    return float(intercept)
