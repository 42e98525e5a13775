"""The Fréchet distance between two Gaussians, exactly and fast, without ``scipy.linalg.sqrtm``.

    d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^{1/2}        (Fréchet 1957; Dowson & Landau 1982)

The only hard term is tr (Σ₁Σ₂)^{1/2}. Σ₁Σ₂ is not symmetric, which is why pytorch-fid takes a
general matrix square root (a Schur decomposition, ~10 s at d = 2048) and torchmetrics a general
eigen-decomposition (``eigvals``, complex arithmetic, ~3 s). Neither is needed:

1. Write Σ₁ = R Rᵀ (Cholesky, R = L lower triangular, d³/3 flops). Σ₁Σ₂ = R Rᵀ Σ₂ has the same
   nonzero eigenvalues as the SYMMETRIC positive semi-definite M = Rᵀ Σ₂ R, so
   tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ(M): real, never an imaginary part.
2. Only eigenvalues are needed, never eigenvectors, in float64: LAPACK's symmetric eigensolver
   with syevd and jobz = 'N' (``torch.linalg.eigvalsh``): a tridiagonal reduction and root-free QR,
   about a third of the work of ``eigh`` and far less than a Schur decomposition. M itself costs
   about 1.3 d³ multiply-adds (two full products would be 4 d³), because R is triangular (see
   ``_congruence``).
3. Repeated calls against one reference (FID during training) keep R in the reference's
   ``FeatureStats``: only M and its eigenvalues are computed per call.
4. With features at hand and N < d samples, the nonzero eigenvalues of Σ₁Σ₂ are those of an N×N
   problem: for centred feature matrices A (N₁×d) and B (N₂×d), tr (Σ₁Σ₂)^{1/2} is the sum of the
   singular values of A Bᵀ / √((N₁−1)(N₂−1)).

Singular Σ₁ (N ≤ d, or collinear features) has no Cholesky factor: then R = U_r Λ_r^{1/2} from an
eigen-decomposition, keeping the eigenvalues above ``rank_tol`` · λ_max (an argument of
``covariance_root``, d · machine ε by default: below it an eigenvalue is round-off of a zero). M is PSD, so its computed eigenvalues can
be slightly negative only by round-off: those down to −``NEGATIVE_TOL`` · λ_max (from float32
features cast to float64) count as zero; a more negative one means the input is not a covariance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "CovarianceRoot",
    "covariance_root",
    "frechet_distance",
    "frechet_distance_features",
    "trace_sqrt_product",
    "NEGATIVE_TOL",
]

EPS = np.finfo(np.float64).eps
CHOLESKY_PIVOT_TOL = float(np.sqrt(EPS))  # smallest pivot² / max variance taken as surely full rank
NEGATIVE_TOL = 1e-6  # eigenvalues of a PSD product down to -NEGATIVE_TOL * max are round-off (float32 features)


# ---------------------------------------------------------------------------------------------
# Input checks.


def _as_mean(name: str, mu: object) -> np.ndarray:
    mu = np.asarray(_to_numpy(mu), dtype=np.float64)
    if mu.ndim != 1:
        raise ValueError(f"{name} must be a 1-D mean vector of shape (d,), got shape {mu.shape}")
    if not np.isfinite(mu).all():
        raise ValueError(f"{name} contains NaN or Inf: check the features it was computed from")
    return mu


def _as_cov(name: str, sigma: object) -> np.ndarray:
    sigma = np.asarray(_to_numpy(sigma), dtype=np.float64)
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) covariance matrix, got shape {sigma.shape}")
    if sigma.size == 0:
        return sigma
    # Cheap checks: at d = 2048 these take ~20 ms, not the ~100 ms of (t - t.T).abs().max() (a
    # transposed read of 32 MB) and torch.isfinite(t).all().
    if not np.isfinite(sigma).all():
        raise ValueError(f"{name} contains NaN or Inf: check the features it was computed from")
    t = torch.from_numpy(np.ascontiguousarray(sigma))
    low, high = torch.aminmax(t)
    scale = max(-float(low), float(high), np.finfo(np.float64).tiny)
    if _asymmetry(t) > 1e-6 * scale:
        raise ValueError(f"{name} is not symmetric, so it is not a covariance matrix")
    lowest_variance = float(torch.diagonal(t).min())
    if lowest_variance < -NEGATIVE_TOL * scale:
        raise ValueError(f"{name} has a negative variance ({lowest_variance:.3g}) on its diagonal: it is not "
                         "positive semi-definite, so it is not a covariance matrix")
    return sigma


def _asymmetry(t: torch.Tensor, block: int = 128) -> float:
    """Return max |t[i, j] - t[j, i]|, comparing tiles of the lower triangle with the mirrored upper tiles (cache-sized reads)."""
    d, worst = t.shape[0], 0.0
    for i in range(0, d, block):
        for j in range(0, i + 1, block):
            worst = max(worst, float((t[i:i + block, j:j + block] - t[j:j + block, i:i + block].T).abs().max()))
    return worst


def _as_features(name: str, x: object) -> np.ndarray:
    x = np.asarray(_to_numpy(x), dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a (N, d) matrix of features, one row per sample, got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{name} has {x.shape[0]} sample(s); a covariance needs at least 2")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf features: check the images and the extractor")
    return x


def _to_numpy(x: object) -> object:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run the block on one torch (and MKL) thread, then restore the thread count.

    MKL's threaded eigensolver pays 0.4 to 1 s to start its threads on its first use in a process
    (measured at d = 2048 on 2 cores), and gains only about 10 % once warm: one thread makes the
    first Fréchet distance of a fresh process (the command line's only one) as fast as the next.
    """
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _eigvalsh(m: torch.Tensor) -> np.ndarray:
    """Return the eigenvalues of the symmetric matrix ``m`` (only its lower triangle is read), ascending, as float64 numpy."""
    if m.shape[0] == 0:
        return np.zeros(0)
    # Eigenvalues only: LAPACK's syevd with jobz = 'N' (MKL in PyTorch's x86 wheels) reduces to a
    # tridiagonal matrix and runs the root-free QR on it: no eigenvectors, no back-transformation.
    # LAPACK works on a column-major copy of m. The transpose of a row-major m is column-major, so
    # that copy is a plain memory copy, and its upper triangle is m's lower triangle.
    with _one_thread():
        return torch.linalg.eigvalsh(m.to(torch.float64).mT, UPLO="U").cpu().numpy()


def _sum_sqrt_psd(eigenvalues: np.ndarray, what: str) -> float:
    """Return Σ √λ for the eigenvalues of a PSD matrix, round-off negatives counted as zero."""
    if eigenvalues.size == 0:
        return 0.0
    top, bottom = float(eigenvalues.max()), float(eigenvalues.min())
    scale = max(top, -bottom)
    if scale <= 0.0:
        return 0.0  # the zero matrix
    if bottom < -NEGATIVE_TOL * scale:
        raise ValueError(f"{what} has eigenvalue {bottom:.3g} (largest {top:.3g}): it is not positive "
                         "semi-definite, so a covariance matrix passed in is not one")
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


# ---------------------------------------------------------------------------------------------
# The factor R of Σ₁ = R Rᵀ, kept by the reference side.


@dataclass(frozen=True)
class CovarianceRoot:
    """A factor R (d × r) with Σ = R Rᵀ: the Cholesky factor, or U_r Λ_r^{1/2} when Σ is singular."""

    matrix: torch.Tensor  # float64, (d, r)
    cholesky: bool  # True: lower triangular, full rank

    @property
    def rank(self) -> int:
        """Return r, the number of columns (the numerical rank of Σ)."""
        return int(self.matrix.shape[1])


def covariance_root(sigma: object, rank_tol: float | None = None) -> CovarianceRoot:
    """Return R with sigma = R Rᵀ: Cholesky when sigma is clearly full rank, else an exact eigen route.

    ``rank_tol`` (default d · machine ε) is the fraction of the largest eigenvalue below which an
    eigenvalue is round-off of a zero and dropped by the eigen route.
    """
    return _root(_as_cov("sigma", sigma), rank_tol)


def _root(s: np.ndarray, rank_tol: float | None = None) -> CovarianceRoot:
    """``covariance_root`` of an already validated covariance ``s``."""
    d = s.shape[0]
    tol = d * EPS if rank_tol is None else float(rank_tol)
    st = torch.from_numpy(s)
    top = float(np.diag(s).max()) if d else 0.0
    if top > 0:
        l_factor, info = torch.linalg.cholesky_ex(st)
        # A tiny pivot may be a null direction of a singular Σ, whose round-off Cholesky would keep
        # as a spurious √ε-sized contribution. Below √ε · max variance take the eigen route, which
        # drops it (for a full-rank Σ both routes agree; the eigen route is only slower).
        if int(info) == 0 and float(torch.diagonal(l_factor).square().min()) > CHOLESKY_PIVOT_TOL * top:
            return CovarianceRoot(l_factor, True)
    lam, u = torch.linalg.eigh(st)
    lam_max = float(lam.abs().max()) if d else 0.0
    if lam_max == 0:
        return CovarianceRoot(torch.zeros(d, 0, dtype=torch.float64), False)
    if float(lam.min()) < -NEGATIVE_TOL * lam_max:
        raise ValueError(f"sigma has eigenvalue {float(lam.min()):.3g} (largest {lam_max:.3g}): it is not positive "
                         "semi-definite, so it is not a covariance matrix")
    keep = lam > tol * lam_max
    return CovarianceRoot(u[:, keep] * lam[keep].sqrt(), False)


def _congruence(root: CovarianceRoot, sigma: np.ndarray, blocks: int = 8) -> torch.Tensor:
    """Return M = Rᵀ Σ R (float64); when R is triangular only M's lower triangle is computed (the rest is garbage).

    For a lower-triangular R cut into ``blocks`` column slabs, block (I, J) of M, I ≥ J, is
    R[I:, I]ᵀ (Σ R)[I:, J], and the rows J.. of (Σ R)[:, J] that it needs are Σ[J:, J:] R[J:, J]:
    about 1.3 d³ multiply-adds instead of the 4 d³ of two full products, all still matrix-matrix
    products. ``torch.linalg.eigvalsh`` reads only the lower triangle.
    """
    r, s = root.matrix, torch.from_numpy(sigma)
    if not root.cholesky:
        return r.T @ (s @ r)
    d = r.shape[0]
    edges = [round(k * d / blocks) for k in range(blocks + 1)]
    m = torch.empty(d, d, dtype=torch.float64)
    for j0, j1 in zip(edges[:-1], edges[1:]):
        x = s[j0:, j0:] @ r[j0:, j0:j1]  # rows J.. of (Σ R)[:, J]: R[:j0, J] is zero
        for i0, i1 in zip(edges[:-1], edges[1:]):
            if i0 >= j0:
                m[i0:i1, j0:j1] = r[i0:, i0:i1].T @ x[i0 - j0:]
    return m


def trace_sqrt_product(sigma1: object, sigma2: object, *, root1: CovarianceRoot | None = None) -> float:
    """Return tr (Σ₁ Σ₂)^{1/2}, exactly (a real number ≥ 0); pass Σ₁'s kept ``root1`` to skip its factorisation."""
    s2 = _as_cov("sigma2", sigma2)
    if root1 is None:
        root1 = covariance_root(sigma1)
    return _trace_sqrt(root1, s2)


def _trace_sqrt(root1: CovarianceRoot, s2: np.ndarray) -> float:
    """``trace_sqrt_product`` from Σ₁'s factor and an already validated Σ₂."""
    if root1.matrix.shape[0] != s2.shape[0]:
        raise ValueError(f"root1 is for d = {root1.matrix.shape[0]} features, sigma2 for d = {s2.shape[0]}")
    return _sum_sqrt_psd(_eigvalsh(_congruence(root1, s2)), "R1ᵀ Σ2 R1")


def frechet_distance(mu1: object, sigma1: object, mu2: object, sigma2: object, *,
                     root1: CovarianceRoot | None = None) -> float:
    """Return the squared Fréchet distance ‖μ₁−μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}) as a float (FID on Inception features).

    Exact for any positive semi-definite Σ₁, Σ₂, singular ones included; never complex. ``root1``:
    a kept ``covariance_root(sigma1)`` for repeated calls against the same reference.
    """
    m1, m2 = _as_mean("mu1", mu1), _as_mean("mu2", mu2)
    s1, s2 = _as_cov("sigma1", sigma1), _as_cov("sigma2", sigma2)
    if m1.shape != m2.shape:
        raise ValueError(f"mu1 has {m1.shape[0]} features and mu2 {m2.shape[0]}: compare statistics of the same "
                         "extractor (the same layer)")
    if s1.shape != (m1.shape[0],) * 2 or s2.shape != s1.shape:
        raise ValueError(f"covariances of shapes {s1.shape} and {s2.shape} do not match means of {m1.shape[0]} "
                         "features")
    # Each input is validated once, above; the factorisations below trust that.
    return _frechet_validated(m1, float(np.trace(s1)), _root(s1) if root1 is None else root1, m2, s2)


def _frechet_validated(mu1: np.ndarray, trace1: float, root1: CovarianceRoot, mu2: np.ndarray, s2: np.ndarray,
                       scale2: float = 1.0) -> float:
    """The Fréchet distance from validated parts: Σ₁ as its trace and factor, Σ₂ = ``scale2`` · ``s2``.

    ``scale2`` lets a caller pass a scatter matrix and 1 / (N − 1) instead of dividing 32 MB first:
    the eigenvalues of R₁ᵀ (c S) R₁ are c times those of R₁ᵀ S R₁.
    """
    diff = mu1 - mu2
    tr_sqrt = _trace_sqrt(root1, s2) * float(np.sqrt(scale2))
    trace2 = scale2 * float(np.trace(s2))
    distance = float(diff @ diff + trace1 + trace2 - 2.0 * tr_sqrt)
    # A distance is >= 0; identical statistics give 0 up to round-off, which is all we clamp.
    if distance < 0.0:
        if distance < -NEGATIVE_TOL * max(trace1 + trace2, np.finfo(np.float64).tiny):
            raise ValueError(f"the Fréchet distance came out at {distance:.3g} < 0: the statistics are not valid "
                             "covariances")
        distance = 0.0
    return distance


def frechet_distance_features(features1: object, features2: object) -> float:
    """Return the Fréchet distance between the Gaussians fitted to two (N, d) feature sets (covariances with N − 1).

    When a side has fewer samples than features, the square root is taken on an N × N problem:
    for both, the singular values of A Bᵀ (A, B centred); for one, the eigenvalues of A Σ₂ Aᵀ.
    """
    x1, x2 = _as_features("features1", features1), _as_features("features2", features2)
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"features1 has {x1.shape[1]} features per sample and features2 {x2.shape[1]}: use the "
                         "same extractor for both")
    (n1, d), n2 = x1.shape, x2.shape[0]
    mu1, mu2 = x1.mean(axis=0), x2.mean(axis=0)
    a = torch.from_numpy(x1 - mu1) / np.sqrt(n1 - 1)  # Σ₁ = Aᵀ A
    b = torch.from_numpy(x2 - mu2) / np.sqrt(n2 - 1)  # Σ₂ = Bᵀ B
    diff = mu1 - mu2
    traces = float(a.square().sum() + b.square().sum())
    if n1 < d and n2 < d:
        # Both small: Σ σᵢ(A Bᵀ). The singular values of the smaller Gram product, via its eigenvalues.
        c = a @ b.T
        gram = c @ c.T if n1 <= n2 else c.T @ c
        tr_sqrt = _sum_sqrt_psd(_eigvalsh(gram), "(A Bᵀ)(A Bᵀ)ᵀ")
    elif n1 < d or n2 < d:
        small, big = (a, b) if n1 < d else (b, a)
        m = small @ (big.T @ (big @ small.T))  # A Σ₂ Aᵀ without forming the d × d Σ₂
        tr_sqrt = _sum_sqrt_psd(_eigvalsh(m), "A Σ₂ Aᵀ")
    else:
        return frechet_distance(mu1, (a.T @ a).numpy(), mu2, (b.T @ b).numpy())
    return float(diff @ diff + traces - 2.0 * tr_sqrt)
