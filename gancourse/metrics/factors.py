"""What InfoGAN's codes control: a glyph's factors estimated from its pixels, and codes matched to them.

The rendered glyphs know their true rotation, thickness and scale (``GlyphDataset.factors``); a
generated glyph does not, so these estimators measure the factors from the ink alone, and
``estimator_check`` shows on real glyphs how well each estimate follows the truth. Then:

- ``matching_accuracy``: the best one-to-one assignment of a categorical code's values to the
  judge's classes (the Hungarian method), and the share of samples it gets right;
- ``measure_codes(G, classify, ...)``: for a generator fed [noise, one_hot(c_cat), c_cont], that
  accuracy, and Spearman's rho between every input and every estimated factor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import spearmanr
from torch import nn

from gancourse import checks
from gancourse.models.noise import generate, sample_latent

__all__ = ["FACTORS", "ESTIMATORS", "estimate_rotation", "estimate_thickness", "estimate_scale", "spearman",
           "estimator_check", "matching_accuracy", "CodeMeasurement", "measure_codes"]

FACTORS = ("rotation", "thickness", "scale")


def _ink(x: torch.Tensor) -> torch.Tensor:
    """Return the ink of images in [-1, 1]: (N, 1, 28, 28) -> (N, 28, 28) in [0, 1], on the CPU."""
    checks.image_batch("images", x, 1, 28)
    return ((x[:, 0].cpu() + 1) / 2).clamp(0, 1)


def estimate_rotation(x: torch.Tensor) -> torch.Tensor:
    """Return the slant in degrees (+ = counter-clockwise) from the ink's second moments, shape (N,).

    Regress the ink's x on its y (y pointing up): x = a y; a counter-clockwise turn moves the top
    left, so the angle is -atan(a).
    """
    ink = _ink(x)
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    cx, cy = (ink * cols).sum((1, 2)) / mass, (ink * -rows).sum((1, 2)) / mass
    dx, dy = cols - cx[:, None, None], -rows - cy[:, None, None]
    sxy, syy = (ink * dx * dy).sum((1, 2)) / mass, (ink * dy * dy).sum((1, 2)) / mass
    return -torch.rad2deg(torch.atan(sxy / syy.clamp_min(1e-6)))


def estimate_thickness(x: torch.Tensor) -> torch.Tensor:
    """Return the stroke width in pixels, 2 * ink area / outline length, shape (N,).

    A stroke of width w and length L has area w L and an outline of about 2 L; the outline's
    length is the ink's total variation (the sum of |differences| between neighbouring pixels).
    """
    ink = _ink(x)
    tv = (ink[:, 1:] - ink[:, :-1]).abs().sum((1, 2)) + (ink[:, :, 1:] - ink[:, :, :-1]).abs().sum((1, 2))
    return 2 * ink.sum((1, 2)) / tv.clamp_min(1e-6)


def estimate_scale(x: torch.Tensor) -> torch.Tensor:
    """Return the height in pixels of the bounding box of the pixels with ink > 0.5, shape (N,)."""
    rows = (_ink(x) > 0.5).any(dim=2)  # (N, 28): which rows hold ink
    index = torch.arange(28.0).expand_as(rows)
    top = torch.where(rows, index, torch.full_like(index, 28.0)).min(1).values
    bottom = torch.where(rows, index, torch.full_like(index, -1.0)).max(1).values
    return (bottom - top + 1).clamp_min(0)


ESTIMATORS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "rotation": estimate_rotation, "thickness": estimate_thickness, "scale": estimate_scale}


def spearman(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    """Return Spearman's rank correlation of two 1-D arrays (0 when one of them is constant)."""
    a, b = np.asarray(a), np.asarray(b)
    return 0.0 if np.ptp(a) == 0 or np.ptp(b) == 0 else float(spearmanr(a, b).statistic)


def estimator_check(images: torch.Tensor, factors: pd.DataFrame) -> pd.DataFrame:
    """Return Spearman's rho between each estimate (rows) and each TRUE factor (columns) of real glyphs."""
    return pd.DataFrame({f"estimate of {f}": {t: spearman(ESTIMATORS[f](images), factors[t]) for t in FACTORS}
                         for f in FACTORS}).T


def matching_accuracy(c_cat: np.ndarray | torch.Tensor, predicted: np.ndarray | torch.Tensor, k: int = 10,
                      n_classes: int = 10) -> tuple[float, np.ndarray, np.ndarray]:
    """Return (accuracy under the best one-to-one assignment code -> class, the assignment, the confusion).

    ``confusion[i, j]`` counts samples of code value i that the judge called class j; the
    Hungarian method (``linear_sum_assignment``) picks the assignment that matches the most.
    """
    c_cat, predicted = np.asarray(c_cat), np.asarray(predicted)
    if c_cat.shape != predicted.shape or c_cat.ndim != 1:
        raise ValueError(f"c_cat and predicted must be 1-D and of one length, got shapes {c_cat.shape} and "
                         f"{predicted.shape}")
    confusion = np.zeros((k, n_classes), dtype=np.int64)
    np.add.at(confusion, (c_cat, predicted), 1)
    rows, cols = linear_sum_assignment(-confusion)  # maximise the matched counts
    assignment = np.empty(k, dtype=np.int64)
    assignment[rows] = cols
    return float(confusion[rows, cols].sum() / len(c_cat)), assignment, confusion


@dataclass
class CodeMeasurement:
    """What ``measure_codes`` found: the categorical code against the classes, every input against the factors."""

    matching_accuracy: float
    assignment: np.ndarray   # code value -> the class it was matched to
    confusion: np.ndarray    # (n_categories, n_classes) counts
    rho: pd.DataFrame        # Spearman's rho, one row per input of G (noise_i, cat_i, cont_i), one column per factor
    images: torch.Tensor     # the first 64 samples

    @property
    def rho_cont(self) -> pd.DataFrame:
        """The rows of the continuous codes."""
        return self.rho.loc[[name for name in self.rho.index if name.startswith("cont_")]]

    @property
    def best_abs_rho_cont(self) -> float:
        """The largest |rho| of a continuous code with any factor."""
        return float(self.rho_cont.abs().to_numpy().max())

    @property
    def best_abs_rho_any_input(self) -> float:
        """The largest |rho| of any input with any factor."""
        return float(self.rho.abs().to_numpy().max())


def measure_codes(G: nn.Module, classify: Callable[[torch.Tensor], torch.Tensor], n_categories: int = 10,
                  n_continuous: int = 2, n: int = 2_000, seed: int = 123) -> CodeMeasurement:
    """Return what G's codes control, measured on ``n`` samples drawn from ``seed``.

    G reads [noise, one_hot(c_cat), c_cont] (its ``z_dim`` is their total size); ``classify(images)``
    returns the judge's class of each image, shape (N,).
    """
    noise_dim = checks.positive_int("G.z_dim - n_categories - n_continuous", G.z_dim - n_categories - n_continuous,
                                    "G's noise inputs")
    z, c_cat, _ = sample_latent(n, noise_dim, n_categories, n_continuous,
                                generator=torch.Generator().manual_seed(seed))
    x = generate(G, z=z, batch_size=1_000)
    accuracy, assignment, confusion = matching_accuracy(c_cat, classify(x).cpu(), n_categories)
    factors = {f: ESTIMATORS[f](x).numpy() for f in FACTORS}
    names = ([f"noise_{i}" for i in range(noise_dim)] + [f"cat_{i}" for i in range(n_categories)]
             + [f"cont_{i}" for i in range(n_continuous)])
    rho = pd.DataFrame({f: [spearman(z[:, j].numpy(), factors[f]) for j in range(G.z_dim)] for f in FACTORS},
                       index=names)
    return CodeMeasurement(accuracy, assignment, confusion, rho, x[:64])
