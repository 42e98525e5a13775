"""The grader's measures of a submission's images, in the glyph judge's terms.

- ``fd``: the Fréchet distance between Gaussians fitted to the judge's 128-d features of the
  submission and of the 10,000 reference glyphs (FID's formula in another feature space).
- ``fd_ci``: a bootstrap 95 % interval: the submission's images are resampled with replacement
  ``B`` times (200 in the quick profile, 1,000 in the full one; generator seed ``BOOTSTRAP_SEED``)
  and the FD recomputed against the fixed reference. Resampling repeats images, which inflates FD
  (a smaller effective sample), so the 2.5 and 97.5 percentiles are shifted down by the
  bootstrap's estimate of that bias (mean of the replicates minus ``fd``).
- ``detector_rate``: the share of images whose top class the judge gives at least 0.9
  (AFD's analogue: "does it look like a digit at all?").
- ``class_entropy``: the entropy in nats of the judge's digit labels over the images, at most
  ln 10 = 2.303 (every digit equally often); a collapsed generator scores low.
"""

from __future__ import annotations

import numpy as np
import torch

from gancourse.capstone.reference import Bank
from gancourse.metrics.frechet import frechet_distance

__all__ = ["CONFIDENT", "BOOTSTRAP_SEED", "BOOTSTRAPS", "fd", "fd_interval", "detector_rate", "class_entropy"]

CONFIDENT = 0.9
BOOTSTRAP_SEED = 0
BOOTSTRAPS = {"quick": 200, "full": 1_000}

def _fd_of(features: np.ndarray, bank: Bank) -> float:
    return frechet_distance(bank.mu, bank.sigma, features.mean(axis=0), np.cov(features, rowvar=False), root1=bank.root)

def fd(features: torch.Tensor, bank: Bank) -> float:
    """Return the Fréchet distance between ``features`` (N, 128) and the reference split's features."""
    return _fd_of(features.double().numpy(), bank)

def fd_interval(features: torch.Tensor, bank: Bank, n_boot: int, seed: int = BOOTSTRAP_SEED,
                level: float = 0.95) -> tuple[float, float]:
    """Return the bias-shifted bootstrap ``level`` interval of FD over resampled images (see the module)."""
    x = features.double().numpy()
    point = _fd_of(x, bank)
    rng = np.random.default_rng(seed)
    reps = np.array([_fd_of(x[rng.integers(0, len(x), len(x))], bank) for _ in range(n_boot)])
    bias = reps.mean() - point
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2]) - bias
    return max(float(lo), 0.0), float(hi)

def detector_rate(probs: torch.Tensor, confident: float = CONFIDENT) -> float:
    """Return the share of images whose top class probability (N, 10) is at least ``confident``."""
    return (probs.max(dim=1).values >= confident).float().mean().item()

def class_entropy(probs: torch.Tensor) -> float:
    """Return the entropy (nats) of the distribution of the judge's labels, at most ln(n_classes)."""
    shares = torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1]).double() / len(probs)
    shares = shares[shares > 0]
    return max(0.0, float(-(shares * shares.log()).sum())) if len(shares) else 0.0  # 0.0, never -0.0

