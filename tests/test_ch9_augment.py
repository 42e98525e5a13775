"""DiffAugment and ADA: what each op does to known images, the background fill, p, and the training variant."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.data.augment import BACKGROUND, ada_adjust, ada_overfitting, diff_augment
from gancourse.training import DiffAugmentSteps, TrainConfig, train_gan


def _rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _dot_images(n: int = 16) -> torch.Tensor:
    x = torch.full((n, 1, 16, 16), BACKGROUND)
    x[:, :, 8, 8] = 1.0  # one bright pixel in the middle of a black background
    return x


def test_translation_moves_whole_pixels_and_fills_with_the_background():
    x = _dot_images()
    y = diff_augment(x, "translation", generator=_rng(1))
    assert ((y == 1.0).flatten(1).sum(1) == 1).all()  # the dot moved, whole
    assert ((y == BACKGROUND) | (y == 1.0)).all()       # nothing else but background flowed in
    rows, cols = (y[:, 0] == 1.0).nonzero()[:, 1], (y[:, 0] == 1.0).nonzero()[:, 2]
    assert ((rows - 8).abs() <= 2).all() and ((cols - 8).abs() <= 2).all()  # at most 16 / 8 = 2 pixels
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 3  # each sample draws its own shift
    # A zero fill would be mid-grey: the mistake the module avoids.
    assert not (y == 0).any()


def test_translation_by_a_known_amount_is_a_shift():
    x = torch.randn(64, 2, 16, 16, generator=_rng(2))
    y = diff_augment(x, "translation", generator=_rng(3))
    for n in range(64):  # every output is its input moved by (dy, dx), background where it came in
        found = False
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                moved = torch.full_like(x[n], BACKGROUND)
                src = x[n][:, max(0, -dy):16 - max(0, dy), max(0, -dx):16 - max(0, dx)]
                moved[:, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
                found |= torch.equal(moved, y[n])
        assert found


def test_cutout_blanks_a_square_of_half_the_side():
    x = torch.ones(32, 1, 16, 16)
    y = diff_augment(x, "cutout", generator=_rng(4))
    assert ((y == BACKGROUND).flatten(1).sum(1) == 64).all()  # 8 x 8 pixels each
    assert ((y == BACKGROUND) | (y == 1.0)).all()


def test_color_changes_brightness_and_contrast_within_range():
    x = torch.zeros(1000, 1, 4, 4)
    x[:, :, :2] = 0.5
    y = diff_augment(x, "color", generator=_rng(5))
    shift = y.mean(dim=(1, 2, 3)) - x.mean(dim=(1, 2, 3))
    assert shift.min() >= -0.5 - 1e-6 and shift.max() <= 0.5 + 1e-6 and shift.std() > 0.2
    spread = (y[:, 0, 0, 0] - y[:, 0, 3, 0]) / 0.5
    assert spread.min() >= 0.5 - 1e-5 and spread.max() <= 1.5 + 1e-5  # contrast in [0.5, 1.5]


def test_p_zero_is_the_identity_and_augmentation_is_differentiable():
    x = torch.randn(8, 1, 16, 16, generator=_rng(6), requires_grad=True)
    assert torch.equal(diff_augment(x, p=0.0), x)
    diff_augment(x, generator=_rng(7)).sum().backward()
    assert x.grad is not None and (x.grad != 0).any()
    half = diff_augment(_dot_images(4000), "translation", generator=_rng(8), p=0.5)
    moved = (half[:, 0, 8, 8] != 1.0).float().mean()
    assert 0.5 * 24 / 25 - 0.04 < float(moved) < 0.5 * 24 / 25 + 0.04  # p times P(shift != 0)


def test_bad_policies_and_shapes_fail_clearly():
    with pytest.raises(ValueError, match="policy may name only"):
        diff_augment(torch.zeros(1, 1, 8, 8), "color,flip")
    with pytest.raises(ValueError, match="shape"):
        diff_augment(torch.zeros(8, 8))


def test_ada_p_moves_with_the_sign_of_d_on_reals():
    assert ada_overfitting(torch.tensor([2.0, 1.0, -1.0, 3.0])) == 0.5
    assert ada_adjust(0.2, 0.9, batch_size=64, interval=4, speed_images=512) == pytest.approx(0.7)
    assert ada_adjust(0.2, 0.1, batch_size=64, interval=4, speed_images=512) == 0.0
    assert ada_adjust(0.9, 0.9, batch_size=64, interval=4, speed_images=512) == 1.0
    assert ada_adjust(0.3, 0.6, batch_size=64) == 0.3


class _G(nn.Module):
    z_dim = 4

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 64)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, 1, 8, 8)


def _D() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.Flatten(0))


def test_the_variant_augments_what_d_sees():
    seen: list[torch.Tensor] = []
    D = _D()
    D.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    real = torch.full((16, 1, 8, 8), 0.25)
    train_gan(_G(), D, real, TrainConfig(steps=2, batch_size=16), variant=DiffAugmentSteps("cutout"),
              progress=False)
    # D step: augmented reals (holes of -1 in the constant 0.25), then fakes; G step: fakes again.
    assert ((seen[0] == BACKGROUND).flatten(1).sum(1) == 16).all()
    assert ((seen[1] == BACKGROUND).flatten(1).sum(1) == 16).all() and ((seen[2] == BACKGROUND).flatten(1).sum(1) == 16).all()
    seen.clear()
    train_gan(_G(), D, real, TrainConfig(steps=1, batch_size=16), variant=DiffAugmentSteps("cutout", reals_only=True),
              progress=False)
    assert ((seen[0] == BACKGROUND).flatten(1).sum(1) == 16).all()
    assert not (seen[1] == BACKGROUND).any() and not (seen[2] == BACKGROUND).any()


def test_ada_in_the_loop_raises_p_when_d_is_sure_of_the_reals():
    steps = DiffAugmentSteps("translation", p=0.0, ada_target=0.6, ada_interval=1, ada_speed_images=1_000)
    D = _D()
    with torch.no_grad():
        D[1].weight.zero_()
        D[1].bias.fill_(5.0)  # scores every image 5 > 0: r_t = 1 > 0.6
    history = train_gan(_G(), D, torch.zeros(64, 1, 8, 8), TrainConfig(steps=3, batch_size=10, lr_d=0.0),
                        variant=steps, progress=False)
    assert steps.p == pytest.approx(0.03) and history.to_frame()["p"].tolist() == pytest.approx([0.0, 0.01, 0.02])
