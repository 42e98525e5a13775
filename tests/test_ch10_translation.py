"""Chapter 10's networks and steps: U-Net skips, PatchGAN receptive fields, the sub-pixel shuffle, the
image pool's draws, and pix2pix's and CycleGAN's losses against the algorithm written out by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.losses import (
    cycle_consistency_loss,
    identity_loss,
    least_squares_generator_loss,
)
from gancourse.metrics import measured_receptive_field
from gancourse.models import (
    CycleDiscriminators,
    CycleGenerators,
    CycleUNets,
    PatchDiscriminator,
    SubPixelUpsampler,
    UNetGenerator,
    receptive_field,
)
from gancourse.training import (
    CycleGANSteps,
    ImagePool,
    Pix2PixSteps,
    TrainConfig,
    pair_domains,
    train_gan,
)
from gancourse.training.steps import DStep


def _images(n: int, seed: int, size: int = 28, channels: int = 1) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- receptive fields ------------------------------------------------------------------------

def test_receptive_field_closed_forms():
    assert receptive_field([(3, 1)] * 3) == 7  # three 3 x 3 convolutions: 1 + 2 + 2 + 2
    assert receptive_field([(4, 2)] * 3 + [(4, 1)] * 2) == 70  # pix2pix's 70 x 70 PatchGAN
    assert receptive_field([(4, 2), (4, 1), (4, 1)]) == 16
    assert PatchDiscriminator(n_layers=3).receptive_field == 70
    assert PatchDiscriminator(n_layers=1).receptive_field == 16
    assert PatchDiscriminator(n_layers=2).receptive_field == 34


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_the_patchgans_field_is_what_the_gradient_sees(n_layers):
    torch.manual_seed(0)
    D = PatchDiscriminator(width=4, n_layers=n_layers, norm=None)
    assert measured_receptive_field(D, size=128) == D.receptive_field


def test_a_strided_stack_measured_by_its_gradient():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(2, 2, 3, 2, 1), nn.LeakyReLU(0.2),
                        nn.Conv2d(2, 1, 3, 1, 1))
    assert measured_receptive_field(net, size=32) == receptive_field([(3, 1), (3, 2), (3, 1)]) == 9


def test_bad_layers_and_a_field_wider_than_the_input_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        receptive_field([])
    with pytest.raises(ValueError, match="kernel"):
        receptive_field([(0, 1)])
    with pytest.raises(ValueError, match="border"):
        measured_receptive_field(PatchDiscriminator(n_layers=3, norm=None), size=48)


# --- the U-Net -------------------------------------------------------------------------------

def test_unet_keeps_the_shape_and_the_range():
    G = UNetGenerator(width=4)
    out = G(_images(3, 0))
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1
    assert UNetGenerator(1, 3, width=4, depth=3)(_images(2, 1, size=64)).shape == (2, 3, 64, 64)


@pytest.mark.parametrize("skips", [True, False])
def test_the_skips_carry_the_input_past_a_dead_bottleneck(skips):
    torch.manual_seed(0)
    G = UNetGenerator(width=4, skips=skips)
    with torch.no_grad():  # the bottleneck's convolution outputs a constant: nothing passes through it
        G.down[-1][0].weight.zero_()
    x = _images(2, 2).requires_grad_(True)
    G(x).sum().backward()
    moved = x.grad.abs().sum().item()
    assert (moved > 0) if skips else (moved == 0)


def test_unet_refuses_wrong_inputs():
    with pytest.raises(ValueError, match="divisible"):
        UNetGenerator(width=4, depth=3)(_images(1, 0))
    with pytest.raises(ValueError, match="shape"):
        UNetGenerator(width=4)(_images(1, 0, channels=3))
    with pytest.raises(ValueError, match="norm"):
        UNetGenerator(norm="layer")


# --- the sub-pixel upsampler -----------------------------------------------------------------

def test_pixel_shuffle_puts_channel_c_r2_plus_i_r_plus_j_at_offset_i_j():
    torch.manual_seed(0)
    up = SubPixelUpsampler(channels=2, factor=3, width=4)
    before = {}
    up.net[-2].register_forward_hook(lambda m, i, o: before.update(maps=o))
    out = up(_images(2, 3, size=5, channels=2))
    assert out.shape == (2, 2, 15, 15)
    maps = before["maps"]
    for c, i, j in [(0, 0, 0), (1, 2, 1), (0, 1, 2)]:
        assert torch.equal(out[:, c, i::3, j::3], maps[:, c * 9 + i * 3 + j])


# --- the image pool --------------------------------------------------------------------------

def test_the_pool_fills_up_then_swaps_with_probability_one_half():
    images = torch.arange(9.0).view(9, 1, 1, 1)
    pool = ImagePool(size=4, generator=torch.Generator().manual_seed(5))
    out = pool.query(images)
    replay, stored, want = torch.Generator().manual_seed(5), list(images[:4]), list(images[:4])
    for image in images[4:]:  # the CycleGAN rule, written out with the same draws
        if torch.rand((), generator=replay).item() < 0.5:
            want.append(image)
        else:
            slot = int(torch.randint(4, (), generator=replay))
            want.append(stored[slot])
            stored[slot] = image
    assert torch.equal(out, torch.stack(want)) and len(pool) == 4
    assert torch.equal(torch.stack(pool.images), torch.stack(stored))


def test_the_pool_returns_about_half_new_images_and_size_zero_is_off():
    pool = ImagePool(size=10, generator=torch.Generator().manual_seed(0))
    pool.query(torch.full((10, 1, 1, 1), -1.0))
    new = torch.arange(1.0, 2001.0).view(-1, 1, 1, 1)
    out = pool.query(new)
    share_new = (out == new).all(dim=(1, 2, 3)).float().mean().item()
    assert 0.45 < share_new < 0.55 and len(pool) == 10
    with pytest.raises(ValueError, match="shape"):
        pool.query(torch.zeros(2, 1, 2, 2))
    x = _images(3, 0)
    assert ImagePool(size=0).query(x) is x
    with pytest.raises(TypeError, match="Generator"):
        ImagePool(5, generator=0)


# --- the steps, against the losses written by hand ---------------------------------------------

def _cycle_nets():
    torch.manual_seed(0)
    G = CycleUNets(width=4)
    D = CycleDiscriminators(PatchDiscriminator(width=4), PatchDiscriminator(width=4))
    return G, D


def test_cyclegan_g_step_is_both_adversarial_losses_plus_weighted_cycle_and_identity():
    G, D = _cycle_nets()
    a, b = _images(4, 1), _images(4, 2)
    steps = CycleGANSteps(lambda_cyc=10.0, lambda_id=0.5, pool_size=0)
    lsgan = least_squares_generator_loss
    d = steps.d_step(G, D, pair_domains(a, b), (), lambda r, f: r.mean() - f.mean())
    g = steps.g_step(G, D, d, lsgan)
    fake_b, fake_a = G.ab(a), G.ba(b)
    adversarial = lsgan(D.a(fake_a)) + lsgan(D.b(fake_b))
    cycle = cycle_consistency_loss(a, G.ba(fake_b)) + cycle_consistency_loss(b, G.ab(fake_a))
    identity = identity_loss(b, G.ab(b)) + identity_loss(a, G.ba(a))
    assert torch.allclose(g.loss, adversarial)
    assert torch.allclose(g.aux_loss, 10 * cycle + 0.5 * 10 * identity)
    assert torch.allclose(g.stats["cycle"], cycle / 2)


def test_cyclegan_d_step_scores_pooled_fakes_and_refuses_other_networks():
    G, D = _cycle_nets()
    a, b = _images(4, 1), _images(4, 2)
    steps = CycleGANSteps(pool_size=2)
    d = steps.d_step(G, D, pair_domains(a, b), (), lambda r, f: (r - 1).pow(2).mean() + f.pow(2).mean())
    assert isinstance(d, DStep) and len(steps.pools["a"]) == 2 and len(steps.pools["b"]) == 2
    with pytest.raises(TypeError, match="CycleGenerators"):
        steps.check(UNetGenerator(), D)


def test_pix2pix_g_step_is_the_gan_loss_plus_weighted_l1_to_the_target():
    torch.manual_seed(0)
    G, D = UNetGenerator(width=4), PatchDiscriminator(channels=2, width=4)
    source, target = _images(3, 4), _images(3, 5)
    steps = Pix2PixSteps(l1_weight=100.0, adversarial_weight=0.5)
    d = steps.d_step(G, D, pair_domains(source, target), (), lambda r, f: r.mean() - f.mean())
    g = steps.g_step(G, D, d, least_squares_generator_loss)
    fake = G(source)
    assert torch.allclose(g.loss, 0.5 * least_squares_generator_loss(D(torch.cat([source, fake], 1))))
    assert torch.allclose(g.aux_loss, 100 * (fake - target).abs().mean())
    l2 = Pix2PixSteps(distance="l2").g_step(G, D, d, least_squares_generator_loss)
    assert torch.allclose(l2.aux_loss, 100 * (fake - target).pow(2).mean())


def test_a_short_cyclegan_run_records_the_cycle_loss():
    G, D = _cycle_nets()
    data = pair_domains(_images(32, 6), _images(32, 7))
    history = train_gan(G, D, data, TrainConfig(steps=3, batch_size=4, loss="least_squares"),
                        variant=CycleGANSteps(pool_size=4), progress=False)
    frame = history.to_frame()
    assert len(frame) == 3 and (frame["cycle"] > 0).all() and (frame["identity"] > 0).all()
    with pytest.raises(ValueError, match="gradient penalty"):
        train_gan(G, D, data, TrainConfig(steps=1, batch_size=4, gp_weight=1.0), variant=CycleGANSteps(),
                  progress=False)


def test_the_pairs_refuse_what_is_not_a_network():
    with pytest.raises(TypeError, match="nn.Modules"):
        CycleGenerators(UNetGenerator(), "ba")
    with pytest.raises(TypeError, match="nn.Modules"):
        CycleDiscriminators(None, PatchDiscriminator())
