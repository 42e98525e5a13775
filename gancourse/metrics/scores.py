"""Inception Score, Kernel Inception Distance and precision/recall: FID's complements.

- IS (Salimans et al., 2016): exp E_x KL(p(y|x) ‖ p(y)), the mean over splits and its spread (ddof 0).
- KID (Bińkowski et al., 2018): the unbiased MMD² with the kernel k(x, y) = (xᵀy / d + 1)³, averaged
  over random subsets; unbiased, so two samples of one distribution give 0 on average.
- Precision and recall (Kynkäänniemi et al., 2019): the share of generated samples inside the real
  manifold (fidelity) and of real samples inside the generated one (diversity), each manifold being
  the union of balls reaching every sample's k-th nearest neighbour.

Everything random takes a ``seed``; nothing reads the global random state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from gancourse.checks import integer

__all__ = ["InceptionScore", "KID", "PrecisionRecall", "inception_score", "kid", "precision_recall"]


class InceptionScore(NamedTuple):
    """The mean Inception Score over splits and its standard deviation (ddof = 0)."""

    mean: float
    std: float


class KID(NamedTuple):
    """The mean unbiased MMD² over subsets and its standard deviation (ddof = 0)."""

    mean: float
    std: float


class PrecisionRecall(NamedTuple):
    """Precision (fidelity) and recall (diversity), each a fraction in [0, 1]."""

    precision: float
    recall: float


def _as_matrix(name: str, x: object, min_rows: int = 2) -> torch.Tensor:
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    t = t.to(torch.float64)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, d) matrix, one row per sample, got shape {tuple(t.shape)}")
    if t.shape[0] < min_rows:
        raise ValueError(f"{name} has {t.shape[0]} sample(s); at least {min_rows} are needed")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return t


def _check_seed(seed: int) -> int:
    return integer("seed", seed, "seeds the subsets' draws", at_least=0)


def inception_score(probs: object, splits: int = 10, seed: int = 0) -> InceptionScore:
    """Return the Inception Score (mean, std over ``splits``) of class probabilities p(y|x), shape (N, K).

    The rows are shuffled with ``seed`` before splitting (so a sorted input does not bias the splits).
    Pass probabilities (softmax of the logits), never images or logits.
    """
    p = _as_matrix("probs", probs, min_rows=1)
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= p.shape[0]:
        raise ValueError(f"splits must be an int from 1 to N = {p.shape[0]}, got {splits!r}")
    if float(p.min()) < 0 or not torch.allclose(p.sum(1), torch.ones(p.shape[0], dtype=p.dtype), atol=1e-3):
        raise ValueError("probs must be probabilities: non-negative rows that sum to 1 (apply softmax to logits)")
    gen = torch.Generator().manual_seed(_check_seed(seed))
    p = p[torch.randperm(p.shape[0], generator=gen)]
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(0, keepdim=True)
        # KL(p(y|x) ‖ p(y)) with 0 · log 0 = 0: xlogy gives exactly that.
        kl = (torch.xlogy(part, part) - torch.xlogy(part, marginal)).sum(1)
        scores.append(float(torch.exp(kl.mean())))
    s = np.asarray(scores)
    return InceptionScore(float(s.mean()), float(s.std()))


def _polynomial_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Return the unbiased MMD² of samples x, y (m each) under k(a, b) = (aᵀb / d + 1)³."""
    d, m = x.shape[1], x.shape[0]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    # Unbiased: the diagonals k(x_i, x_i) are left out of the within-sample means.
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


def kid(real_features: object, fake_features: object, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> KID:
    """Return KID (mean, std) over ``subsets`` random subsets of ``subset_size`` from each set (without replacement)."""
    x = _as_matrix("real_features", real_features)
    y = _as_matrix("fake_features", fake_features)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"real features have {x.shape[1]} dimensions and fake ones {y.shape[1]}: same extractor?")
    if isinstance(subsets, bool) or not isinstance(subsets, int) or subsets < 1:
        raise ValueError(f"subsets must be a positive int, got {subsets!r}")
    smallest = min(x.shape[0], y.shape[0])
    if isinstance(subset_size, bool) or not isinstance(subset_size, int) or not 2 <= subset_size <= smallest:
        raise ValueError(f"subset_size must be an int from 2 to {smallest} (the smaller set's size), got "
                         f"{subset_size!r}; pass e.g. subset_size={min(smallest, 1000)}")
    gen = torch.Generator().manual_seed(_check_seed(seed))
    values = []
    for _ in range(subsets):
        i = torch.randperm(x.shape[0], generator=gen)[:subset_size]
        j = torch.randperm(y.shape[0], generator=gen)[:subset_size]
        values.append(_polynomial_mmd2(x[i], y[j]))
    v = np.asarray(values)
    return KID(float(v.mean()), float(v.std()))


def _kth_neighbour_radii(x: torch.Tensor, k: int, batch: int) -> torch.Tensor:
    """Return each row's distance to its k-th nearest other row."""
    radii = []
    for i in range(0, x.shape[0], batch):
        dist = torch.cdist(x[i:i + batch], x)
        # The k+1 smallest include the row itself at distance 0.
        radii.append(dist.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, batch: int) -> torch.Tensor:
    """Return, for each point, whether it lies in some ball (centre, radius)."""
    hits = []
    for i in range(0, points.shape[0], batch):
        dist = torch.cdist(points[i:i + batch], centres)
        hits.append((dist <= radii[None, :]).any(dim=1))
    return torch.cat(hits)


def precision_recall(real_features: object, fake_features: object, k: int = 3, batch: int = 1024) -> PrecisionRecall:
    """Return improved precision and recall (Kynkäänniemi et al., 2019) with k-NN balls (k = 3 as in the paper)."""
    x = _as_matrix("real_features", real_features)
    y = _as_matrix("fake_features", fake_features)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"real features have {x.shape[1]} dimensions and fake ones {y.shape[1]}: same extractor?")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < min(x.shape[0], y.shape[0]):
        raise ValueError(f"k must be an int from 1 to {min(x.shape[0], y.shape[0]) - 1} (fewer than each set's size), "
                         f"got {k!r}")
    real_radii, fake_radii = _kth_neighbour_radii(x, k, batch), _kth_neighbour_radii(y, k, batch)
    precision = float(_inside(y, x, real_radii, batch).double().mean())
    recall = float(_inside(x, y, fake_radii, batch).double().mean())
    return PrecisionRecall(precision, recall)
