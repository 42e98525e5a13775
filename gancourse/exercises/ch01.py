"""Checks for the exercises of Chapter 1 (the adversarial game), each against closed forms.

Every check calls the student's function on inputs whose answers are known by hand, and names the
likely mistake when an answer matches a classic wrong formula (base-2 logs, the mixture without
its 1/2, D's roles swapped, sigmoid-then-log at extreme logits).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = [
    "check_optimal_discriminator_value",
    "check_js_divergence_discrete",
    "check_discriminator_loss_from_logits",
    "check_kl_divergence_discrete",
    "check_discriminator_reaches_optimum",
]

LOG2 = math.log(2.0)


def _scalar(result: Any, fname: str) -> float:
    """Return the student's result as a float, or raise ExerciseError if it is not one number."""
    if isinstance(result, torch.Tensor):
        expect(result.numel() == 1, f"{fname} must return one number, got a tensor of shape {tuple(result.shape)}")
        return float(result.detach())
    expect(result is not None, f"{fname} returned None: did you forget `return`?")
    arr = np.asarray(result)
    expect(arr.dtype.kind in "fiu" and arr.size == 1,
           f"{fname} must return one number, got {type(result).__name__} {arr.shape}")
    return float(arr.reshape(()))


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


# --------------------------------------------------------------------------------------------

def check_optimal_discriminator_value(fn: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Check D*(x) = p_data(x) / (p_data(x) + p_g(x)), vectorised, with 1/2 where both densities are 0."""
    name = "optimal_discriminator_value"
    pd = np.array([1.0, 3.0, 0.0, 2.0, 0.2])
    pg = np.array([1.0, 1.0, 2.0, 0.0, 0.6])
    want = np.array([0.5, 0.75, 0.0, 1.0, 0.25])
    got = call_student(fn, pd.copy(), pg.copy())
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    got = np.asarray(got, dtype=np.float64)
    expect(got.shape == pd.shape,
           f"{name} must return one value per point: shape {pd.shape} expected, got {got.shape} (work element-wise)")
    if np.allclose(got, 1.0 - want):
        raise ExerciseError(f"{name}: you returned p_g / (p_data + p_g). D(x) is the probability that x is REAL, "
                            "so p_data goes on top")
    expect(np.all(np.isfinite(got)), f"{name} returned NaN or inf at p_data={pd}, p_g={pg}: got {got}")
    expect(np.allclose(got, want, rtol=0, atol=1e-12),
           f"{name}(p_data={pd.tolist()}, p_g={pg.tolist()}) should be {want.tolist()}, got {got.tolist()}")

    # Both densities 0: V does not depend on D there; the convention is the undecided 1/2.
    got = np.asarray(call_student(fn, np.array([0.0, 1.0]), np.array([0.0, 1.0])), dtype=np.float64)
    expect(got.shape == (2,) and np.isfinite(got[0]),
           f"{name} must return 1/2 where p_data = p_g = 0 (no NaN), got {got.tolist()}: test `p_data + p_g > 0`")
    expect(_close(float(got[0]), 0.5), f"{name} should return 1/2 where p_data = p_g = 0, got {got[0]}")

    # Tiny but positive densities: the ratio is still exact; an added epsilon would destroy it.
    got = np.asarray(call_student(fn, np.array([1e-300]), np.array([3e-300])), dtype=np.float64).reshape(-1)
    expect(got.size == 1 and _close(float(got[0]), 0.25, 1e-9),
           f"{name}(1e-300, 3e-300) should be 0.25, got {got.tolist()}: don't add an epsilon to the denominator, "
           "handle the 0/0 case explicitly")
    passed(name)


def check_js_divergence_discrete(fn: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Check JSD(p || q) for discrete distributions in nats against hand-computed values."""
    name = "js_divergence_discrete"
    p = np.array([0.2, 0.3, 0.5])
    got = _scalar(call_student(fn, p.copy(), p.copy()), name)
    if _close(got, -LOG2):
        raise ExerciseError(f"{name}(p, p) gave -log 2: the mixture is m = (p + q) / 2, not p + q")
    expect(_close(got, 0.0), f"{name}(p, p) should be 0 for any p, got {got}")

    got = _scalar(call_student(fn, np.array([1.0, 0.0]), np.array([0.0, 1.0])), name)
    expect(not math.isnan(got), f"{name} returned NaN on disjoint distributions: take 0 * log 0 = 0 "
                                "(sum only over the points where the density is > 0)")
    if _close(got, 1.0):
        raise ExerciseError(f"{name}: disjoint distributions gave 1 = log2(2): use the natural log (np.log), "
                            "the course measures divergences in nats")
    if _close(got, 2 * LOG2):
        raise ExerciseError(f"{name}: disjoint distributions gave 2 log 2: the JSD is the AVERAGE "
                            "(KL(p||m) + KL(q||m)) / 2")
    if _close(got, 0.0):
        raise ExerciseError(f"{name}: disjoint distributions gave 0: the mixture is m = (p + q) / 2, not p + q")
    expect(_close(got, LOG2), f"{name}([1, 0], [0, 1]) should be log 2 = {LOG2:.6f} (disjoint supports), got {got}")

    # p = [1, 0], q = [1/2, 1/2]: m = [3/4, 1/4], KL(p||m) = log(4/3), KL(q||m) = log(4/3)/2.
    want = 0.75 * math.log(4.0 / 3.0)
    got = _scalar(call_student(fn, np.array([1.0, 0.0]), np.array([0.5, 0.5])), name)
    if _close(got, LOG2):
        raise ExerciseError(f"{name}([1, 0], [1/2, 1/2]) gave log 2 = KL(p||q): compare each of p and q with "
                            "the mixture m = (p + q) / 2, not with each other")
    expect(_close(got, want), f"{name}([1, 0], [1/2, 1/2]) should be (3/4) log(4/3) = {want:.6f}, got {got}")

    p, q = np.array([0.1, 0.9]), np.array([0.6, 0.4])
    want = 0.5 * (0.1 * math.log(0.1 / 0.35) + 0.9 * math.log(0.9 / 0.65)) \
        + 0.5 * (0.6 * math.log(0.6 / 0.35) + 0.4 * math.log(0.4 / 0.65))
    got_pq = _scalar(call_student(fn, p.copy(), q.copy()), name)
    got_qp = _scalar(call_student(fn, q.copy(), p.copy()), name)
    expect(_close(got_pq, want), f"{name}([0.1, 0.9], [0.6, 0.4]) should be {want:.6f}, got {got_pq}")
    expect(_close(got_qp, want), f"{name} must be symmetric: JSD(q||p) = JSD(p||q) = {want:.6f}, got {got_qp}")
    passed(name)


def _softplus(v: float) -> float:
    """Return log(1 + e^v) exactly for any float."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


@refuses("gancourse.losses.adversarial.discriminator_loss")
def check_discriminator_loss_from_logits(fn: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check -E[log D(x)] - E[log(1 - D(G(z)))] from logits: values, stability at extreme logits, gradients."""
    name = "discriminator_loss_from_logits"

    def run(real: list[float], fake: list[float], dtype: torch.dtype = torch.float32) -> float:
        out = call_student(fn, torch.tensor(real, dtype=dtype), torch.tensor(fake, dtype=dtype))
        expect(isinstance(out, torch.Tensor),
               f"{name} must return a torch tensor (so that it can be backpropagated), got {type(out).__name__}")
        return _scalar(out, name)

    got = run([0.0] * 4, [0.0] * 4)
    if _close(got, LOG2, 1e-6):
        raise ExerciseError(f"{name}: with every logit 0 you returned log 2, half the loss: it is a sum of two means, "
                            "E_real[-log D] + E_fake[-log(1 - D)], not one mean over the concatenated batch")
    expect(_close(got, 2 * LOG2, 1e-6),
           f"with every logit 0 (D = 1/2 everywhere) the loss is 2 log 2 = {2 * LOG2:.6f}, got {got}")

    # Unequal batch sizes: each expectation is its own mean.
    real, fake = [0.0, 2.0], [-1.0, 0.0, 1.0]
    sum_real = sum(_softplus(-v) for v in real)
    sum_fake = sum(_softplus(v) for v in fake)
    want = sum_real / len(real) + sum_fake / len(fake)
    got = run(real, fake)
    if _close(got, (sum_real + sum_fake) / (len(real) + len(fake)), 1e-6):
        raise ExerciseError(f"{name}: the loss is a sum of two means, E_real[...] + E_fake[...], "
                            "not one mean over the concatenated batch")
    expect(_close(got, want, 1e-6), f"{name}(real={real}, fake={fake}) should be {want:.6f}, got {got}")

    # A confident, correct discriminator: loss close to 0 (2 e^-100 ~ 7e-44).
    got = run([100.0], [-100.0])
    expect(math.isfinite(got) and abs(got) < 1e-6,
           f"{name}(real=[100], fake=[-100]) should be ~0 (D is right and sure), got {got}")
    # A confident, wrong discriminator: loss = softplus(200) + softplus(300) = 500 exactly.
    got = run([-200.0], [300.0])
    expect(math.isfinite(got),
           f"{name}(real=[-200], fake=[300]) is {got}: sigmoid(300) rounds to 1 and log(1 - 1) = -inf. Work with "
           "logits: log D = -softplus(-l) and log(1 - D) = -softplus(l) (torch.nn.functional.softplus)")
    expect(_close(got, 500.0, 1e-6),
           f"{name}(real=[-200], fake=[300]) should be 200 + 300 = 500, got {got}: clamping or adding an epsilon "
           "inside the log changes the loss; use softplus on the logits")

    # Gradients: d/dl softplus(-l) = -sigmoid(-l), d/dl softplus(l) = sigmoid(l), each divided by its batch size.
    r = torch.tensor([-50.0, 0.0, 50.0], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([-50.0, 0.0], dtype=torch.float64, requires_grad=True)
    out = call_student(fn, r, f)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           f"{name} must stay differentiable: build it from torch operations on the logits (no .item(), no numpy)")
    out.backward()
    expect(r.grad is not None and f.grad is not None, f"{name}: no gradient reached the logits")
    want_r = torch.tensor([-1.0 / 3.0, -1.0 / 6.0, 0.0], dtype=torch.float64)
    want_f = torch.tensor([0.0, 0.25], dtype=torch.float64)
    expect(torch.allclose(r.grad, want_r, atol=1e-12) and torch.allclose(f.grad, want_f, atol=1e-12),
           f"gradients w.r.t. the logits should be real {want_r.tolist()} and fake {want_f.tolist()}, got "
           f"{r.grad.tolist()} and {f.grad.tolist()}")
    passed(name)


def check_kl_divergence_discrete(fn: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Check KL(p || q) for discrete distributions in nats: values, direction, 0 log 0 = 0 and infinity."""
    name = "kl_divergence_discrete"
    p = np.array([0.2, 0.3, 0.5])
    got = _scalar(call_student(fn, p.copy(), p.copy()), name)
    expect(_close(got, 0.0), f"{name}(p, p) should be 0, got {got}")

    # KL([1/2, 1/2] || [0.9, 0.1]) = (1/2) log(25/9) = log(5/3); the other direction is 0.9 log 1.8 + 0.1 log 0.2.
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    want, swapped = math.log(5.0 / 3.0), 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    got = _scalar(call_student(fn, p.copy(), q.copy()), name)
    if _close(got, swapped):
        raise ExerciseError(f"{name}: you computed KL(q||p). KL(p||q) = sum p log(p / q): the weights are p's")
    if _close(got, want / LOG2):
        raise ExerciseError(f"{name}: that is log base 2 (bits); use np.log, the course works in nats")
    expect(_close(got, want), f"{name}([0.5, 0.5], [0.9, 0.1]) should be log(5/3) = {want:.6f}, got {got}")

    got = _scalar(call_student(fn, np.array([1.0, 0.0]), np.array([0.5, 0.5])), name)
    expect(not math.isnan(got), f"{name}([1, 0], [1/2, 1/2]) is NaN: a point where p = 0 adds 0 (0 log 0 = 0)")
    expect(_close(got, LOG2), f"{name}([1, 0], [1/2, 1/2]) should be log 2, got {got}")

    got = _scalar(call_student(fn, np.array([0.5, 0.5]), np.array([1.0, 0.0])), name)
    expect(got == math.inf,
           f"{name}([1/2, 1/2], [1, 0]) should be +inf (p puts mass where q has none), got {got}")
    passed(name)


# -- Experiment: a discriminator of your own, trained to D* ------------------------------------

def check_discriminator_reaches_optimum(discriminator: Callable[[torch.Tensor], Any], p_data: Any,
                                        p_g: Any, tolerance: float = 0.03) -> None:
    """Grade a trained discriminator: where the data lie, D(x) must be within ``tolerance`` of D*.

    ``discriminator`` maps points of shape (N, 1) to logits, (N,) or (N, 1); ``p_data`` and ``p_g``
    are the two 1-D distributions it was trained on (anything with ``pdf``, such as ``Gaussian1D``
    or ``Mixture1D``). The distance is the mean |D(x) - D*(x)| under (p_data + p_g) / 2.
    """
    name = "discriminator_reaches_optimum"
    for what, p in (("p_data", p_data), ("p_g", p_g)):
        expect(callable(getattr(p, "pdf", None)), f"{name}: {what} must have a pdf method (a Gaussian1D or "
                                                  f"Mixture1D of gancourse.data.toy), got {type(p).__name__}")
    x = np.linspace(-30.0, 30.0, 24_001)
    pd_, pg = np.asarray(p_data.pdf(x), float), np.asarray(p_g.pdf(x), float)
    weight = (pd_ + pg) / 2
    keep = weight > 1e-12
    x, pd_, pg, weight = x[keep], pd_[keep], pg[keep], weight[keep] / weight[keep].sum()
    d_star = pd_ / (pd_ + pg)
    with torch.no_grad():
        logits = call_student(discriminator, torch.tensor(x, dtype=torch.float32)[:, None])
    expect(isinstance(logits, torch.Tensor), f"{name}: the discriminator must return a tensor of logits, got "
                                             f"{type(logits).__name__}")
    expect(logits.numel() == len(x), f"{name}: the discriminator must return one logit per point, got shape "
                                     f"{tuple(logits.shape)} for {len(x)} points")
    d = torch.sigmoid(logits.detach().double().flatten()).numpy()
    gap = float((weight * np.abs(d - d_star)).sum())
    expect(np.isfinite(gap), f"{name}: the discriminator returned NaN or infinite logits")
    blind = float((weight * np.abs(0.5 - d_star)).sum())
    expect(gap <= tolerance,
           f"{name}: on average D is {gap:.3f} away from D* where the data lie (a constant D = 1/2 is "
           f"{blind:.3f} away); train longer, with more samples per step or a decaying learning rate, "
           f"until the gap is at most {tolerance}; if D is about 1 - D*, its targets are swapped")
    print(f"mean |D - D*| = {gap:.4f} (at most {tolerance} asked; a constant 1/2 scores {blind:.3f})")
    passed(name)
