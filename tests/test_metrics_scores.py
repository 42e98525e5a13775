"""IS, KID and precision/recall against closed forms and what they must give by construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gancourse.metrics import inception_score, kid, precision_recall


def test_uniform_predictions_give_is_1():
    mean, std = inception_score(np.full((100, 10), 0.1), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 10, 37])
def test_confident_even_predictions_give_is_k(k):
    probs = torch.eye(k).repeat(20, 1)  # each class predicted with certainty, equally often
    mean, _ = inception_score(probs, splits=1)
    assert mean == pytest.approx(k, rel=1e-12)


def test_is_split_order_is_seeded():
    p = torch.softmax(torch.randn(200, 5, generator=torch.Generator().manual_seed(0)), 1)
    assert inception_score(p, seed=3) == inception_score(p, seed=3)
    assert inception_score(p, seed=3) != inception_score(p, seed=4)


def test_is_rejects_logits_and_bad_splits():
    with pytest.raises(ValueError, match="probabilities"):
        inception_score(torch.randn(20, 5))
    with pytest.raises(ValueError, match="splits"):
        inception_score(torch.full((4, 2), 0.5), splits=5)


def test_kid_of_one_distribution_averages_to_zero():
    values = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((200, 16)), rng.standard_normal((200, 16))
        values.append(kid(x, y, subsets=10, subset_size=100, seed=seed).mean)
    # Unbiased: the mean over seeds is ~0 (within a few standard errors), far below a real shift's KID.
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values)) + 1e-3
    rng = np.random.default_rng(0)
    shifted = kid(rng.standard_normal((200, 16)), rng.standard_normal((200, 16)) + 0.5, subsets=10, subset_size=100)
    assert shifted.mean > 20 * abs(np.mean(values))


def test_kid_single_subset_matches_the_formula():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m = 6
    expected = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
    assert kid(x, y, subsets=1, subset_size=6).mean == pytest.approx(expected, rel=1e-12)


def test_kid_bad_input():
    with pytest.raises(ValueError, match="subset_size"):
        kid(np.zeros((10, 3)), np.zeros((10, 3)))  # default 1000 > 10
    with pytest.raises(ValueError, match="same extractor"):
        kid(np.zeros((10, 3)), np.zeros((10, 2)), subset_size=5)
    with pytest.raises(ValueError, match="NaN"):
        kid(np.full((10, 3), np.nan), np.zeros((10, 3)), subset_size=5)


def test_precision_recall_by_construction():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 2))
    same = precision_recall(real, real.copy())
    assert same == (1.0, 1.0)
    far = precision_recall(real, rng.standard_normal((300, 2)) + 100)
    assert far == (0.0, 0.0)
    # A generator that covers one half-plane only: high precision, recall about one half.
    half = real[real[:, 0] > 0]
    p, r = precision_recall(real, half)
    assert p == 1.0 and 0.35 < r < 0.65


def test_precision_recall_bad_input():
    with pytest.raises(ValueError, match="k must"):
        precision_recall(np.zeros((3, 2)), np.zeros((3, 2)), k=3)
    with pytest.raises(ValueError, match="2-D"):
        precision_recall(np.zeros(5), np.zeros((3, 2)))
