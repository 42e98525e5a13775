"""Chapter 10's losses and measures against closed forms: LSGAN, cycle and identity L1, the perceptual
loss of a linear feature map, PSNR of a known MSE, the grey share, the judges' shares, restyled pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gancourse.data.glyph_fonts import font_stroke_width
from gancourse.data.glyph_pairs import restyle, restyled_images
from gancourse.data.glyphs import ATTRIBUTE_NAMES, GlyphDataset
from gancourse.losses import (
    cycle_consistency_loss,
    identity_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    perceptual_loss,
)
from gancourse.metrics import attribute_share, grey_share, labels_kept, psnr


def test_least_squares_losses_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # D: ½ mean((r - 1)²) + ½ mean(f²) = ½ (0 + 4) / 2 + ½ (0 + 4) / 2 = 2
    assert least_squares_discriminator_loss(real, fake).item() == pytest.approx(2.0)
    assert least_squares_discriminator_loss(torch.ones(3), torch.zeros(3)).item() == 0
    # G: ½ mean((f - 1)²) = ½ (1 + 1) / 2
    assert least_squares_generator_loss(fake).item() == pytest.approx(0.5)
    with pytest.raises(TypeError, match="floating"):
        least_squares_generator_loss(torch.tensor([1, 2]))


def test_cycle_and_identity_losses_are_mean_absolute_errors():
    x = torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    rec = torch.tensor([[[[0.0, -1.0], [1.0, 0.5]]]])  # errors 1, 0, 0.5, 0.5
    assert cycle_consistency_loss(x, rec).item() == pytest.approx(0.5)
    assert identity_loss(x, rec).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same shape"):
        cycle_consistency_loss(x, rec[..., :1])


def test_perceptual_loss_of_a_linear_feature_map():
    torch.manual_seed(0)
    layer = nn.Linear(4, 3, bias=False).requires_grad_(False)

    def features(images):
        return layer(images.flatten(1))

    a = torch.randn(5, 1, 2, 2, requires_grad=True)
    b = torch.randn(5, 1, 2, 2)
    loss = perceptual_loss(features, a, b)
    diff = (a - b).flatten(1) @ layer.weight.T
    assert torch.allclose(loss, diff.pow(2).mean())
    loss.backward()  # d/da of mean((W(a - b))²) = 2 W^T W (a - b) / (5 * 3)
    want = 2 * diff @ layer.weight / 15
    assert torch.allclose(a.grad.flatten(1), want, atol=1e-6)
    with pytest.raises(TypeError, match="network"):
        perceptual_loss("vgg", a, b)


def test_psnr_of_a_known_mse_per_image():
    a = torch.zeros(3, 1, 4, 4)
    b = torch.stack([torch.full((1, 4, 4), v) for v in (0.1, 0.2, 0.0)])
    got = psnr(a, b, data_range=2.0)
    assert got[0].item() == pytest.approx(10 * math.log10(4 / 0.01))  # MSE 0.01 -> 26.02 dB
    assert got[1].item() == pytest.approx(10 * math.log10(4 / 0.04))
    assert math.isinf(got[2].item())
    assert psnr(a[:1], b[:1], data_range=1.0).item() == pytest.approx(20.0)  # 10 log10(1 / 0.01)
    with pytest.raises(ValueError, match="data_range"):
        psnr(a, b, data_range=0)


def test_grey_share_counts_pixels_away_from_ink_and_paper():
    x = torch.tensor([[[[-1.0, 1.0, 0.0, 0.85]]], [[[-0.5, 0.5, 0.79, -0.95]]]])
    assert grey_share(x).tolist() == pytest.approx([0.25, 0.75])
    assert grey_share(x, tolerance=0.1).tolist() == pytest.approx([0.5, 0.75])


class _FixedJudge(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, images):
        return self.logits[: len(images)]


def test_attribute_share_and_labels_kept_read_the_judges_logits():
    logits = torch.full((4, len(ATTRIBUTE_NAMES)), -1.0)
    logits[[0, 2], ATTRIBUTE_NAMES.index("bold")] = 2.0
    images = torch.zeros(4, 1, 28, 28)
    assert attribute_share(images, _FixedJudge(logits), "bold") == 0.5
    digits = torch.eye(10)[[3, 1, 4, 1]]
    assert labels_kept(images, torch.tensor([3, 1, 4, 5]), _FixedJudge(digits)) == 0.75
    with pytest.raises(ValueError, match="bold"):
        attribute_share(images, _FixedJudge(logits), "heavy")


def test_restyle_changes_the_style_and_keeps_everything_else():
    ds = GlyphDataset(20, seed=4, fonts=("DejaVu Sans", "STIX"), styles="regular")
    bold = restyle(ds.factors, "bold")
    for column in ("digit", "font", "rotation", "scale", "shift_x", "shift_y", "wobble", "wobble_seed"):
        assert (bold[column] == ds.factors[column]).all(), column
    assert (bold["style"] == "bold").all() and bold["bold"].all()
    widths = [font_stroke_width(int(d), f, "bold") - font_stroke_width(int(d), f, "regular")
              for d, f in zip(ds.factors["digit"], ds.factors["font"])]
    assert np.allclose(bold["thickness"] - ds.factors["thickness"], np.array(widths) * ds.factors["scale"])
    same = restyled_images(ds.factors, "regular")  # restyled to its own style: the very same images
    assert torch.allclose(same, ds.images, atol=1e-5)
    sans = restyle(ds.factors, "regular", font="Computer Modern Sans", extra_thickness=(0.5, 0.5))
    assert (sans["font"] == "Computer Modern Sans").all() and not sans["serif"].any()
    with pytest.raises(ValueError, match="Computer Modern Sans"):
        restyle(ds.factors, "bold", font="Computer Modern Sans")
