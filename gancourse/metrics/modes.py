"""Mode coverage on toy mixtures with known centres, as counted by VEEGAN and PacGAN.

A generated sample is *high quality* when it lies within 3 sigma of its nearest mode centre
(Srivastava et al., 2017). A mode is *covered* when enough high-quality samples land on it:
PacGAN (Lin et al., 2018) draws 2,500 samples and calls a mode lost when fewer than 20 of them
fall within 3 sigma of it, a share of 20 / 2,500 = 0.8 %. We keep that share for any number of
samples N: a mode is covered when it receives at least ``min_share * N`` high-quality samples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from gancourse import checks
from gancourse.data.toy import toy_dataset
from gancourse.models.noise import generate

__all__ = ["ModeCoverage", "mode_coverage", "mode_counts", "evaluate_toy_generator", "PACGAN_MIN_SHARE"]

PACGAN_MIN_SHARE = 20 / 2_500  # PacGAN: < 20 high-quality samples out of 2,500 -> the mode is lost


class ModeCoverage(NamedTuple):
    """How many modes the samples cover, and the share of samples that are high quality."""

    modes_covered: int
    high_quality_fraction: float


def _as_matrix(name: str, x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Return ``x`` as a finite float64 tensor of shape (rows, dims), or raise ValueError."""
    if not isinstance(x, (torch.Tensor, np.ndarray)):
        raise TypeError(f"{name} must be a torch tensor or a numpy array, got {type(x).__name__}")
    t = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError(f"{name} must have shape (rows, dims) with at least one row, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} holds NaN or inf values (a diverged generator?); pass finite numbers")
    return t


def mode_counts(
    samples: torch.Tensor | np.ndarray,
    centres: torch.Tensor | np.ndarray,
    sigma: float,
    *,
    n_sigma: float = 3.0,
) -> torch.Tensor:
    """Return, for each of the K centres, how many samples are high quality and nearest to it, shape (K,)."""
    x = _as_matrix("samples", samples)
    c = _as_matrix("centres", centres)
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have {x.shape[1]} dimensions but centres have {c.shape[1]}; they must match")
    checks.number("sigma", sigma, "the modes' standard deviation", above=0)
    checks.number("n_sigma", n_sigma, "how many standard deviations count as high quality", above=0)
    dist = torch.cdist(x, c)  # (N, K) Euclidean distances
    nearest_dist, nearest = dist.min(dim=1)
    high_quality = nearest_dist <= n_sigma * sigma
    return torch.bincount(nearest[high_quality], minlength=c.shape[0])


def mode_coverage(
    samples: torch.Tensor | np.ndarray,
    centres: torch.Tensor | np.ndarray,
    sigma: float,
    *,
    n_sigma: float = 3.0,
    min_share: float = PACGAN_MIN_SHARE,
) -> ModeCoverage:
    """Return (modes covered, fraction of high-quality samples) for samples of a mixture with these centres.

    - A sample is high quality when its distance to the nearest centre is at most ``n_sigma * sigma``
      (VEEGAN's 3 standard deviations).
    - A mode is covered when at least ``min_share * N`` of the N samples are high quality and nearest
      to it. The default, 0.8 %, is PacGAN's rule (fewer than 20 of 2,500 samples: lost), scaled to
      any N. Pass ``min_share=0`` to count every mode that gets at least one high-quality sample.

    ``samples`` (N, d) and ``centres`` (K, d) are tensors or arrays; sigma is the modes' standard deviation.
    """
    checks.fraction("min_share", min_share, "the share of the samples a covered mode needs")
    counts = mode_counts(samples, centres, sigma, n_sigma=n_sigma)
    n = len(samples)
    # The tolerance keeps 20 >= 0.008 * 2500 true although 0.008 is not exact in binary; a covered
    # mode always needs at least one high-quality sample.
    threshold = max(min_share * n - 1e-9, 1)
    covered = int((counts >= threshold).sum())
    return ModeCoverage(covered, float(counts.sum()) / n)


def evaluate_toy_generator(G: nn.Module, dataset: str, n: int = 2_500, seed: int = 0) -> ModeCoverage:
    """Return (modes covered, high-quality share) of ``n`` samples of G from noise seeded with ``seed``.

    ``dataset`` names the toy distribution G learned (``gancourse.data.toy.toy_dataset``: 'ring',
    'grid'); its centres and sigma decide what counts.
    """
    toy = toy_dataset(dataset)
    samples = generate(G, checks.positive_int("n", n, "samples to draw"), seed=seed, batch_size=n)
    return mode_coverage(samples, toy.centres, toy.sigma)
