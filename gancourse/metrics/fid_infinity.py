"""FID∞ (Chong & Forsyth 2020): FID without its dependence on how many images were generated.

FID computed from N generated images is biased upwards, and the bias is, to first order,
proportional to 1 / N with a slope that depends on the generator: two models ranked by FID at one
N can swap at another. Chong & Forsyth fit FID(N) = FID∞ + k / N by least squares over several N
and report the intercept, the FID of infinitely many images.

``fid_infinity(real, fake_features, sizes, seed)`` draws, for each N in ``sizes``, ``repeats``
subsets of N fake feature vectors without replacement (generator seed ``seed``), computes their FID
against the fixed ``real`` statistics and fits the line; ``fit_inverse_n`` is the fit alone.
Default sizes: five, evenly spaced in 1 / N from N_fake / 5 to N_fake (Chong & Forsyth used 15
sizes from 5,000 to 50,000 images; a 1,000-image submission allows 200 to 1,000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gancourse.metrics.frechet import covariance_root, frechet_distance
from gancourse.metrics.stats import FeatureStats

__all__ = ["FIDInfinity", "default_sizes", "fid_infinity", "fit_inverse_n"]


@dataclass(frozen=True)
class FIDInfinity:
    """The fit: ``value`` (FID∞, the intercept), ``slope`` (k in FID ≈ FID∞ + k / N), and its points."""

    value: float
    slope: float
    sizes: tuple[int, ...]
    fids: tuple[float, ...]       # mean FID over the repeats at each size


def fit_inverse_n(sizes: object, fids: object) -> tuple[float, float]:
    """Return (intercept, slope) of the least-squares line FID = intercept + slope / N."""
    n = np.asarray(sizes, dtype=np.float64).ravel()
    y = np.asarray(fids, dtype=np.float64).ravel()
    if n.shape != y.shape:
        raise ValueError(f"sizes ({n.size}) and fids ({y.size}) must have one value each per size")
    if len(np.unique(n)) < 2:
        raise ValueError(f"the fit needs at least two different sizes, got {n.tolist()}: pass e.g. "
                         "sizes=(200, 400, 1000)")
    if not (np.isfinite(n).all() and np.isfinite(y).all()) or (n <= 0).any():
        raise ValueError(f"sizes must be positive and fids finite, got sizes {n.tolist()} and fids {y.tolist()}")
    design = np.stack([np.ones_like(n), 1.0 / n], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(intercept), float(slope)


def default_sizes(n: int, count: int = 5) -> tuple[int, ...]:
    """Return ``count`` sizes from n / 5 to n, evenly spaced in 1 / N (where the fit is a line)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10:
        raise ValueError(f"FID∞ needs at least 10 fake feature vectors, got {n!r}")
    inv = np.linspace(5.0 / n, 1.0 / n, count)
    return tuple(sorted({int(round(1.0 / v)) for v in inv}))


def _real_moments(real: object) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(real, FeatureStats):
        return real.mu, real.sigma
    if isinstance(real, tuple) and len(real) == 2:
        return np.asarray(real[0], np.float64), np.asarray(real[1], np.float64)
    x = np.asarray(real.detach().cpu() if hasattr(real, "detach") else real, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"real must be FeatureStats, (mu, sigma) or (N, d) features with N >= 2, got shape "
                         f"{x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def fid_infinity(real: object, fake_features: object, sizes: tuple[int, ...] | None = None, seed: int = 0,
                 repeats: int = 1) -> FIDInfinity:
    """Return FID∞ of ``fake_features`` (N, d) against ``real`` (FeatureStats, (mu, sigma) or (M, d) features).

    ``sizes``: the subset sizes (default ``default_sizes(N)``), each at most N and at least 2;
    ``repeats``: subsets drawn per size, their FIDs averaged; ``seed``: the subsets' generator seed.
    """
    fake = np.asarray(fake_features.detach().cpu() if hasattr(fake_features, "detach") else fake_features,
                      dtype=np.float64)
    if fake.ndim != 2:
        raise ValueError(f"fake_features must be (N, d), got shape {fake.shape}")
    mu, sigma = _real_moments(real)
    if mu.shape != (fake.shape[1],):
        raise ValueError(f"real has {mu.shape[0]} features and fake {fake.shape[1]}: use one extractor for both")
    sizes = default_sizes(len(fake)) if sizes is None else tuple(int(s) for s in sizes)
    if any(s < 2 or s > len(fake) for s in sizes):
        raise ValueError(f"every size must lie in [2, {len(fake)}] (the fake features given), got {sizes}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    root = covariance_root(sigma)
    rng = np.random.default_rng(seed)
    fids = []
    for s in sizes:
        values = []
        for _ in range(repeats):
            x = fake if s == len(fake) and repeats == 1 else fake[rng.choice(len(fake), s, replace=False)]
            values.append(frechet_distance(mu, sigma, x.mean(axis=0), np.cov(x, rowvar=False), root1=root))
        fids.append(float(np.mean(values)))
    value, slope = fit_inverse_n(sizes, fids)
    return FIDInfinity(value, slope, sizes, tuple(fids))
