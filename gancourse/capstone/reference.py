"""What the grader compares a submission with, computed once per process: the judge's features and
pixels of the training set and of the reference split, and the reference's feature statistics.

The judge is the shipped glyph classifier (``gancourse.metrics.judges.glyph_classifier()``); its
128-d penultimate layer is the feature space of ``fd`` and of the guard's feature tests, and its
logits give ``detector_rate`` and ``class_entropy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from gancourse.capstone.data import reference_set, training_set
from gancourse.metrics.frechet import CovarianceRoot, covariance_root
from gancourse.metrics.judges import glyph_classifier

__all__ = ["Judged", "Bank", "judge", "judged", "bank", "ink", "shifted", "centred"]

BATCH = 1_000


@lru_cache(maxsize=1)
def judge() -> nn.Module:
    """Return the shipped glyph judge in eval mode."""
    return glyph_classifier().model.eval()


@dataclass(frozen=True)
class Judged:
    """The judge's view of some images: ``features`` (N, 128) and ``probs`` (N, 10)."""

    features: torch.Tensor
    probs: torch.Tensor


def judged(images: torch.Tensor) -> Judged:
    """Return the judge's features and class probabilities of ``images`` (N, 1, 28, 28) in [-1, 1]."""
    model, feats, probs = judge(), [], []
    with torch.no_grad():
        for i in range(0, len(images), BATCH):
            f = model.features(images[i:i + BATCH])
            feats.append(f)
            probs.append(torch.softmax(model.head(f), dim=1))
    return Judged(torch.cat(feats), torch.cat(probs))


def ink(images: torch.Tensor) -> torch.Tensor:
    """Return images as ink maps (N, 784) in [0, 1]: 0 is the background, so a blend is a sum of ink."""
    return ((images + 1.0) / 2.0).flatten(1)


def shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Return ink maps (N, H, W) moved by (dy, dx) pixels, empty (0) where nothing moved in."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[..., max(-dy, 0):h + min(-dy, 0),
                                                                      max(-dx, 0):w + min(-dx, 0)]
    return out


def centred(x: torch.Tensor) -> torch.Tensor:
    """Return ink maps (N, H, W), each moved by whole pixels to bring its centre of ink nearest the frame's centre."""
    h, w = x.shape[-2:]
    mass = x.sum((-2, -1)).clamp_min(1e-6)
    cy = (x.sum(-1) * torch.arange(h, dtype=x.dtype)).sum(-1) / mass
    cx = (x.sum(-2) * torch.arange(w, dtype=x.dtype)).sum(-1) / mass
    dy, dx = ((h - 1) / 2 - cy).round().long(), ((w - 1) / 2 - cx).round().long()
    out = torch.empty_like(x)
    for move in torch.unique(torch.stack([dy, dx], 1), dim=0).tolist():  # a few distinct moves
        group = (dy == move[0]) & (dx == move[1])
        out[group] = shifted(x[group], *move)
    return out


@dataclass(frozen=True)
class Bank:
    """The training set's and the reference split's features and ink, and the reference's statistics."""

    train_ink: torch.Tensor         # (10000, 784)
    train_centred: torch.Tensor     # the same, each moved to centre its ink (``centred``)
    train_features: torch.Tensor    # (10000, 128)
    reference_ink: torch.Tensor     # (10000, 784)
    reference_features: torch.Tensor
    mu: np.ndarray                  # the reference features' mean and covariance (float64)
    sigma: np.ndarray
    root: CovarianceRoot            # kept factor of sigma, for repeated Fréchet distances


@lru_cache(maxsize=1)
def bank() -> Bank:
    """Return the grader's bank (about 10 s on one CPU thread the first time, then cached)."""
    train, ref = training_set(), reference_set()
    f_ref = judged(ref).features
    x = f_ref.double().numpy()
    sigma = np.cov(x, rowvar=False)
    train_ink = ink(train)
    return Bank(train_ink, centred(train_ink.view(-1, 28, 28)).flatten(1), judged(train).features, ink(ref), f_ref,
                x.mean(axis=0), sigma, covariance_root(sigma))
