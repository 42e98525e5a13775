"""The capstone's grade: the guard flags every way of copying the training set and passes honest
sources; real glyphs reach the top tier, noise none; the measures against closed forms."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pytest
import torch
from PIL import Image

from gancourse.capstone import GUARD, TIERS, grade, memorisation_guard, real_images, tier, training_set
from gancourse.capstone.metrics import class_entropy, detector_rate, fd, fd_interval
from gancourse.capstone.packing import to_png
from gancourse.capstone.reference import bank, judged
from gancourse.models.noise import generate
from gancourse.pretrained import load_shipped

N = 1000


@pytest.fixture(scope="module")
def train():
    return training_set()


def _pick(seed: int, n: int = N) -> torch.Tensor:
    return torch.randperm(10_000, generator=torch.Generator().manual_seed(seed))[:n]


def _shift(x: torch.Tensor) -> torch.Tensor:
    """Half the images one pixel right, half one pixel down (background fills the gap)."""
    out = torch.full_like(x, -1.0)
    h = len(x) // 2
    out[:h, ..., 1:] = x[:h, ..., :-1]
    out[h:, :, 1:, :] = x[h:, :, :-1, :]
    return out


def _shift_down(x: torch.Tensor, k: int = 3) -> torch.Tensor:
    out = torch.full_like(x, -1.0)
    out[:, :, k:] = x[:, :, :-k]
    return out


def _jpeg(x: torch.Tensor, quality: int = 75) -> torch.Tensor:
    out = []
    for image in x:
        buf = io.BytesIO()
        Image.open(io.BytesIO(to_png(image))).save(buf, format="JPEG", quality=quality)
        out.append(torch.from_numpy(np.asarray(Image.open(buf).convert("L"), np.float32)) / 127.5 - 1)
    return torch.stack(out)[:, None]


CHEATS = {
    "copies": lambda t: t[_pick(1)],
    "one-pixel shifts": lambda t: _shift(t[_pick(2)]),
    "Gaussian noise (std 0.05)": lambda t: (t[_pick(3)] + 0.05 * torch.randn(N, 1, 28, 28,
                                            generator=torch.Generator().manual_seed(0))).clamp(-1, 1),
    "JPEG round trip (quality 75)": lambda t: _jpeg(t[_pick(4)]),
    "blends 0.5 / 0.5": lambda t: 0.5 * t[_pick(5)] + 0.5 * t[_pick(6)],
    "one-hot lookup (100 per digit)": lambda t: t[torch.arange(N)],  # G(one_hot(i)) = training image i
    "three-pixel shifts": lambda t: _shift_down(t[_pick(7)]),  # caught after centring the ink
}


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_the_guard_flags_every_way_of_copying_the_training_set(train, cheat):
    images = CHEATS[cheat](train)
    result = memorisation_guard(images, judged(images).features, bank())
    assert result.memorised, (cheat, result)
    assert result.copied_share > 10 * GUARD.copied_share_max, (cheat, result)  # flagged image by image, not by luck
    assert tier(1.0, 1.0, math.log(10), result.memorised) == "none"


def test_thirty_copies_hidden_among_fresh_glyphs_are_flagged(train):
    images = torch.cat([train[_pick(8, 30)], real_images(N - 30, 10)])
    result = memorisation_guard(images, judged(images).features, bank())
    assert result.memorised and result.copied_share == pytest.approx(0.03), result


def _shipped_samples(name: str, seed: int = 6) -> torch.Tensor:
    G, _ = load_shipped(name)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(N, G.z_dim, generator=gen)
    labels = torch.randint(G.n_classes, (N,), generator=gen) if hasattr(G, "n_classes") else None
    return generate(G, z=z, labels=labels).clamp(-1, 1)


# The shipped networks' tiers (the table in gancourse.capstone.tiers): the unconditional ones reach the
# level of the medium reference runs, the two class-conditional ones strong.
HONEST = {"dcgan_glyphs": "medium", "style_glyphs": "medium", "biggan_glyphs": "strong", "cgan_glyphs": "strong"}


@pytest.mark.parametrize("name", list(HONEST))
def test_the_guard_passes_honest_generators_and_each_lands_in_its_tier(name):
    images = _shipped_samples(name)
    seen = judged(images)
    result = memorisation_guard(images, seen.features, bank())
    assert not result.memorised, result
    assert result.copied_share == 0 and result.mifid_distance > 2 * GUARD.mifid_min
    assert 0.4 < result.nn_train_share < 0.6 and 0.4 < result.nn_train_share_pixels < 0.6
    scores = fd(seen.features, bank()), detector_rate(seen.probs), class_entropy(seen.probs)
    assert tier(*scores, result.memorised) == HONEST[name], scores


@pytest.fixture(scope="module")
def real():
    """Fresh glyphs on PNG's 256 levels (so a folder of PNGs holds the same pixels)."""
    return ((real_images(N, 8) + 1) * 127.5).round() / 127.5 - 1


@pytest.fixture(scope="module")
def real_grade(real):
    return grade(real)


def test_fresh_real_glyphs_reach_the_top_tier_and_pass_the_guard(real_grade):
    g = real_grade
    assert g["tier"] == TIERS[-1].name == "boss" and not g["memorised"], g
    lo, hi = g["fd_ci"]
    assert lo <= g["fd"] <= hi and hi - lo < 10
    assert g["detector_rate"] > 0.97 and g["class_entropy"] > 2.28
    assert g["copied_share"] == 0 and abs(g["nn_train_share"] - 0.5) < 0.06


def test_a_folder_and_a_tensor_of_the_same_images_get_identical_grades(real, real_grade, tmp_path):
    for i, image in enumerate(real):
        (tmp_path / f"{i}.png").write_bytes(to_png(image))
    assert grade(tmp_path) == real_grade


def test_noise_gets_no_tier():
    noise = torch.rand(N, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    g = grade(noise)
    assert g["tier"] == "none" and g["fd"] > 500 and g["detector_rate"] < 0.2
    assert g["fd_ci"][0] <= g["fd"] <= g["fd_ci"][1]


def test_the_tiers_table_is_ordered_and_memorising_gives_none():
    for lower, higher in itertools.pairwise(TIERS):
        assert higher.fd_max < lower.fd_max and higher.detector_min > lower.detector_min
        assert higher.entropy_min > lower.entropy_min
    for t in TIERS:
        assert tier(t.fd_max, t.detector_min, t.entropy_min, False) == t.name  # bounds are inclusive
        assert tier(t.fd_max, t.detector_min, t.entropy_min, True) == "none"
        assert tier(t.fd_max * 1.01, t.detector_min, t.entropy_min, False) != t.name
    assert tier(0.0, 1.0, math.log(10), False) == "boss"


def test_entropy_and_detector_rate_match_their_closed_forms():
    uniform = torch.eye(10).repeat(30, 1)  # every digit 30 times, each with probability 1
    assert class_entropy(uniform) == pytest.approx(math.log(10))
    assert str(class_entropy(torch.eye(10)[[3] * 50])) == "0.0"  # one class: 0.0, not -0.0
    two = torch.eye(10)[[1] * 30 + [2] * 10]
    assert class_entropy(two) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    probs = torch.tensor([[0.9, 0.1] + [0] * 8, [0.89, 0.11] + [0] * 8, [0.5, 0.5] + [0] * 8, [0] * 9 + [1.0]])
    assert detector_rate(probs) == 0.5  # 0.9 counts (at least 0.9), 0.89 does not


def test_fd_against_the_reference_itself_is_zero_and_grows_with_a_shift():
    b = bank()
    assert fd(b.reference_features, b) == pytest.approx(0.0, abs=1e-6)
    part = b.reference_features[:N]
    value = fd(part, b)
    lo, hi = fd_interval(part, b, n_boot=50)
    assert lo <= value <= hi
    diff = part.double().mean(0).numpy() - b.mu
    moved = value + float(((diff + 0.5) ** 2).sum() - (diff ** 2).sum())  # a shift changes only ‖μ₁ − μ₂‖²
    assert fd(part + 0.5, b) == pytest.approx(moved, rel=1e-6)
