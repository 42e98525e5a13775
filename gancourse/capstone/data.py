"""The capstone's glyphs: the training split students get, fresh glyphs for calibration, the grader's reference split.

All three are ``GlyphDataset`` draws from one distribution (every digit, font and style, the default
factor ranges) with different seeds, so no image is in two of them:

- ``training_set()``: 10,000 glyphs, seed 0, the set the shipped glyph generators trained on;
- ``real_images(n, seed)``: fresh glyphs for calibration and tests; the training and reference
  seeds are refused;
- ``reference_set()``: the grader's 10,000 glyphs, drawn with ``REFERENCE_SEED``, a seed that no
  public function defaults to and that ``real_images`` refuses. The grader is open, so the seed is
  no secret; what matters is that no training code draws from it by accident.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from gancourse import checks
from gancourse.data.glyphs import GlyphDataset

__all__ = ["N_TRAIN", "N_REFERENCE", "TRAIN_SEED", "REFERENCE_SEED", "training_set", "real_images", "reference_set"]

N_TRAIN = 10_000
N_REFERENCE = 10_000
TRAIN_SEED = 0
REFERENCE_SEED = 18_004_2022  # issue 18, seed 004 (HW6, 2022): used by the grader alone
RESERVED = {TRAIN_SEED: "the training set's", REFERENCE_SEED: "the grader's reference split's"}


@lru_cache(maxsize=2)
def _draw(n: int, seed: int) -> torch.Tensor:
    images = GlyphDataset(n, seed=seed).images
    images.requires_grad_(False)
    return images


def training_set() -> torch.Tensor:
    """Return the 10,000 training glyphs (N, 1, 28, 28) in [-1, 1] that students train on (a fresh copy)."""
    return _draw(N_TRAIN, TRAIN_SEED).clone()


def real_images(n: int, seed: int) -> torch.Tensor:
    """Return ``n`` fresh glyphs (N, 1, 28, 28) in [-1, 1] from the task's distribution, drawn with ``seed``.

    The seeds of the training set (0) and of the grader's reference split are refused: those images
    are not fresh.
    """
    checks.positive_int("n", n, "how many glyphs to draw, e.g. 1000")
    checks.integer("seed", seed, "any seed but the training set's and the grader's", at_least=0, at_most=2**63 - 1)
    if seed in RESERVED:
        raise ValueError(f"seed {seed} is {RESERVED[seed]} seed: those glyphs are not fresh; pick another seed, "
                         "e.g. 7")
    return GlyphDataset(n, seed=seed).images


def reference_set() -> torch.Tensor:
    """Return the grader's 10,000 reference glyphs (N, 1, 28, 28) in [-1, 1] (a fresh copy)."""
    return _draw(N_REFERENCE, REFERENCE_SEED).clone()
