"""Chapter 10's super-resolution: block-mean downsampling by hand, SRGAN's G step against its losses
written out, and a short run of the loop."""

from __future__ import annotations

import pytest
import torch

from gancourse.losses import least_squares_generator_loss, perceptual_loss
from gancourse.models import DCGANDiscriminator, SubPixelUpsampler
from gancourse.training import SRGANSteps, TrainConfig, downsample, train_gan


def test_downsample_is_the_mean_of_each_block():
    x = torch.tensor([[[[1.0, 3.0, 0.0, 0.0], [5.0, 7.0, 0.0, 4.0]]]])
    assert torch.equal(downsample(x, 2), torch.tensor([[[[4.0, 1.0]]]]))
    with pytest.raises(ValueError, match="divisible"):
        downsample(torch.zeros(1, 1, 5, 5), 2)


def test_srgan_g_step_is_weighted_gan_loss_plus_l1_and_perceptual():
    torch.manual_seed(0)
    G, D = SubPixelUpsampler(width=4), DCGANDiscriminator(width=4, norm=None)
    judge = torch.nn.Conv2d(1, 2, 3).requires_grad_(False)

    def features(x):
        return judge(x).flatten(1)

    real = torch.rand(3, 1, 28, 28) * 2 - 1
    steps = SRGANSteps(2, l1_weight=2.0, perceptual_weight=0.5, adversarial_weight=1e-2, features=features)
    d = steps.d_step(G, D, real, (), lambda r, f: r.mean() - f.mean())
    g = steps.g_step(G, D, d, least_squares_generator_loss)
    fake = G(downsample(real, 2))
    assert torch.allclose(g.loss, 1e-2 * least_squares_generator_loss(D(fake)))
    want = 2.0 * (fake - real).abs().mean() + 0.5 * perceptual_loss(features, fake, real)
    assert torch.allclose(g.aux_loss, want)
    with pytest.raises(ValueError, match="features"):
        SRGANSteps(perceptual_weight=1.0)


def test_a_short_super_resolution_run():
    torch.manual_seed(0)
    G, D = SubPixelUpsampler(factor=4, width=4), DCGANDiscriminator(width=4, norm=None)
    data = torch.rand(16, 1, 28, 28) * 2 - 1
    frame = train_gan(G, D, data, TrainConfig(steps=2, batch_size=4), variant=SRGANSteps(4),
                      progress=False).to_frame()
    assert len(frame) == 2 and (frame["l1"] > 0).all()
