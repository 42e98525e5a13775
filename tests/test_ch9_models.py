"""Chapter 9's network parts against closed forms: attention, conditional BN, ProGAN, StyleGAN 1-3.

Each test also runs the classic mistake where there is one (the unbiased std, demodulating over the
wrong axis) and shows that the same check would catch it.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse.models import (
    BigGANGenerator,
    ConditionalBatchNorm2d,
    EqualizedConv2d,
    EqualizedLinear,
    MappingNetwork,
    ModulatedConv2d,
    NoiseInjection,
    ProgressiveGenerator,
    SelfAttention2d,
    StyleGenerator,
    ToySynthesis,
    adain,
    fourier_resample,
    fourier_shift,
    minibatch_stddev,
    modulated_conv2d,
    modulated_weight,
    pixel_norm,
    style_mix,
    truncate,
)


@pytest.fixture(autouse=True)
def _float64():
    """Every test here in float64, so that exact identities hold to 1e-10; float32 again after."""
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def _rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- SAGAN -----------------------------------------------------------------------------------

def test_attention_rows_sum_to_one_and_the_block_starts_as_the_identity():
    torch.manual_seed(0)
    block = SelfAttention2d(16)
    x = torch.randn(3, 16, 5, 6)
    attn = block.attention_map(x)
    assert attn.shape == (3, 30, 30) and (attn >= 0).all()
    assert torch.allclose(attn.sum(dim=-1), torch.ones(3, 30), atol=1e-12)
    assert float(block.gamma.detach()) == 0.0 and torch.equal(block(x), x)  # gamma = 0: exactly the identity


def test_attention_output_is_the_weighted_sum_of_values_written_out():
    torch.manual_seed(1)
    block = SelfAttention2d(8, reduction=2)
    with torch.no_grad():
        block.gamma.fill_(0.7)
    x = torch.randn(2, 8, 3, 4)
    q, k, v = (layer(x).flatten(2) for layer in (block.query, block.key, block.value))
    out = torch.empty(2, 8, 12)
    for n in range(2):
        for i in range(12):
            logits = torch.stack([q[n, :, i] @ k[n, :, j] for j in range(12)]).detach()
            weights = torch.exp(logits - logits.max())
            weights /= weights.sum()
            out[n, :, i] = (v[n] * weights).sum(dim=1)
    assert torch.allclose(block(x), x + 0.7 * out.view_as(x), atol=1e-10)
    # Softmax over the wrong axis (over queries) would not give rows summing to 1.
    wrong = torch.softmax(q.transpose(1, 2) @ k, dim=1)
    assert not torch.allclose(wrong.sum(dim=-1), torch.ones(2, 12))


def test_conditional_batch_norm_uses_each_class_gain_and_bias():
    torch.manual_seed(2)
    cbn = ConditionalBatchNorm2d(4, 3)
    x, y = torch.randn(6, 4, 5, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    mean, var = x.mean(dim=(0, 2, 3), keepdim=True), x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    normed = (x - mean) / torch.sqrt(var + cbn.bn.eps)
    assert torch.allclose(cbn(x, y), normed, atol=1e-10)  # gain 1, bias 0 at the start
    with torch.no_grad():
        cbn.embed.weight.copy_(torch.randn(3, 8))
    gain, bias = cbn.embed.weight[y, :4], cbn.embed.weight[y, 4:]
    assert torch.allclose(cbn(x, y), normed * gain[:, :, None, None] + bias[:, :, None, None], atol=1e-10)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        cbn(x, torch.tensor([0, 1, 2, 3, 0, 1]))


# --- ProGAN ----------------------------------------------------------------------------------

def test_biggan_generator_conditions_every_layer_and_its_attention_starts_as_the_identity():
    torch.manual_seed(0)
    G = BigGANGenerator(z_dim=8, width=8)
    z, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    x = G(z, y)
    assert x.shape == (6, 1, 28, 28) and x.abs().max() < 1
    # gamma = 0: the attention block changes nothing, so G equals its attention-free twin's layers.
    # (eval mode: no power iteration of spectral norm, running BN statistics, in both.)
    plain = BigGANGenerator(z_dim=8, width=8, attention=False)
    plain.load_state_dict({k: v for k, v in G.state_dict().items() if not k.startswith("attention.")})
    G.eval(), plain.eval()
    before = G(z, y)
    assert torch.allclose(plain(z, y), before, atol=1e-12)
    # Each class's gain and bias reach the image: changing class 3's embedding moves only class-3 samples.
    with torch.no_grad():
        G.norm2.embed.weight[3] += 1.0
    after = G(z, y)
    moved = (after - before).flatten(1).abs().amax(1) > 1e-6
    assert moved.tolist() == [False, False, False, True, False, False]
    # Spectral norm: every weighted layer's largest singular value is 1 (after power iterations).
    G.train()
    for _ in range(30):
        G(z, y)
    for layer in (G.fc, G.conv1, G.conv2, G.to_image):
        assert torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="integer class label"):
        G(z, y.double())
    with pytest.raises(ValueError, match="z must have shape"):
        G(torch.randn(6, 9), y)


def test_pixel_norm_gives_unit_mean_square_over_channels():
    x = torch.randn(4, 7, 3, 3, generator=_rng()) * 5 + 2
    y = pixel_norm(x)
    assert torch.allclose(y.pow(2).mean(dim=1), torch.ones(4, 3, 3), atol=1e-6)
    assert torch.allclose(y * x.pow(2).mean(dim=1, keepdim=True).sqrt(), x, atol=1e-6)
    # The norm without the square (mean |x|) is a different scale and fails the same check.
    wrong = x / x.abs().mean(dim=1, keepdim=True)
    assert not torch.allclose(wrong.pow(2).mean(dim=1), torch.ones(4, 3, 3), atol=1e-3)


def test_minibatch_stddev_of_a_known_batch():
    # Group size 2: samples (0, 2) and (1, 3). Features: constants, so the stddev is |a - b| / 2.
    x = torch.stack([torch.full((2, 3, 3), v) for v in (1.0, 5.0, 3.0, 5.0)])
    out = minibatch_stddev(x, group_size=2)
    assert out.shape == (4, 3, 3, 3) and torch.equal(out[:, :2], x)
    expected = torch.tensor([1.0, 0.0, 1.0, 0.0])  # |1 - 3| / 2 = 1 (biased), |5 - 5| / 2 = 0
    assert torch.allclose(out[:, 2], expected[:, None, None].expand(4, 3, 3), atol=1e-4)
    # The unbiased std would give sqrt(2) for the first group.
    unbiased = torch.tensor([1.0, 3.0]).std(unbiased=True)
    assert abs(float(unbiased) - 1.0) > 0.4
    # Mixed features: the mean over features and positions of the per-element biased std.
    x = torch.randn(8, 3, 2, 2, generator=_rng(3))
    out = minibatch_stddev(x, group_size=4)[:, 3, 0, 0]
    for j in range(2):
        group = x[j::2]
        assert abs(float(out[j]) - float(group.std(dim=0, unbiased=False).mean())) < 1e-6
    with pytest.raises(ValueError, match="multiple of group_size"):
        minibatch_stddev(torch.zeros(6, 1, 2, 2), group_size=4)


def test_equalized_layers_scale_their_unit_weights_at_run_time():
    layer = EqualizedLinear(50, 20)
    assert abs(float(layer.weight.detach().std()) - 1) < 0.1
    x = torch.randn(3, 50)
    assert torch.allclose(layer(x), x @ (layer.weight * math.sqrt(2 / 50)).t() + layer.bias, atol=1e-12)
    conv = EqualizedConv2d(6, 4, 3, padding=1)
    x = torch.randn(2, 6, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * math.sqrt(2 / 54), conv.bias, padding=1),
                          atol=1e-12)
    slow = EqualizedLinear(10, 10, lr_mul=0.01)
    assert torch.allclose(slow.weight * slow.scale, slow.weight * math.sqrt(2 / 10) * 0.01)


def test_fade_in_endpoints_are_exact():
    torch.manual_seed(4)
    G = ProgressiveGenerator(z_dim=8, width=8)
    z = torch.randn(5, 8)
    for stage in (1, 2):
        G.set_stage(stage - 1)
        old = G(z)
        G.set_stage(stage, alpha=0.0)
        assert torch.equal(G(z), old)  # alpha = 0: the previous stage's image, upsampled
        G.set_stage(stage, alpha=1.0)
        new = G(z)
        G.set_stage(stage, alpha=0.3)
        half = G(z)
        assert not torch.equal(new, old)
        assert torch.allclose(torch.atanh(half), 0.7 * torch.atanh(old) + 0.3 * torch.atanh(new), atol=1e-8)
    G.set_stage(0)
    low = G(z)
    assert torch.equal(low[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3), low)
    with pytest.raises(ValueError, match="alpha"):
        G.set_stage(1, alpha=1.5)


# --- StyleGAN --------------------------------------------------------------------------------

def test_adain_gives_each_map_the_styles_moments():
    x = torch.randn(3, 4, 6, 5, generator=_rng(5)) * 3 + 1
    scale, bias = torch.rand(3, 4, generator=_rng(6)) + 0.5, torch.randn(3, 4, generator=_rng(7))
    y = adain(x, scale, bias, eps=0.0)
    assert torch.allclose(y.mean(dim=(2, 3)), bias, atol=1e-10)
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), scale, atol=1e-10)
    # With the unbiased std the normalised maps would have a biased std of sqrt((n - 1) / n), not 1.
    unbiased = (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)
    assert not torch.allclose(unbiased.std(dim=(2, 3), unbiased=False), torch.ones(3, 4), atol=1e-3)
    with pytest.raises(ValueError, match="scale must have shape"):
        adain(x, scale[:, :2], bias)


def test_demodulated_weights_have_unit_norm_per_output_channel():
    weight = torch.randn(5, 3, 3, 3, generator=_rng(8))
    styles = torch.rand(4, 3, generator=_rng(9)) * 2 + 0.1
    w = modulated_weight(weight, styles)
    assert w.shape == (4, 5, 3, 3, 3)
    assert torch.allclose(w.pow(2).sum(dim=(2, 3, 4)), torch.ones(4, 5), atol=1e-10)
    raw = modulated_weight(weight, styles, demodulate=False)
    assert torch.allclose(raw, weight[None] * styles[:, None, :, None, None])
    # Demodulating over the wrong axis (the output channels) leaves the right norms far from 1.
    wrong = raw / raw.pow(2).sum(dim=(1, 3, 4), keepdim=True).sqrt()
    assert not torch.allclose(wrong.pow(2).sum(dim=(2, 3, 4)), torch.ones(4, 5), atol=1e-2)


def test_modulated_conv2d_is_one_convolution_per_sample_with_its_own_weight():
    weight = torch.randn(6, 4, 3, 3, generator=_rng(10))
    styles = torch.randn(3, 4, generator=_rng(11))
    x = torch.randn(3, 4, 7, 7, generator=_rng(12))
    for demodulate in (True, False):
        w = modulated_weight(weight, styles, demodulate)
        expected = torch.cat([F.conv2d(x[n:n + 1], w[n], padding=1) for n in range(3)])
        assert torch.allclose(modulated_conv2d(x, weight, styles, demodulate), expected, atol=1e-10)
    layer = ModulatedConv2d(4, 6, w_dim=5)
    assert layer(x, torch.randn(3, 5)).shape == (3, 6, 7, 7)


def test_noise_strength_starts_at_zero_and_scales_per_channel():
    inject = NoiseInjection(3)
    x, noise = torch.randn(2, 3, 4, 4), torch.randn(2, 1, 4, 4)
    assert torch.equal(inject(x, noise), x)
    with torch.no_grad():
        inject.strength.copy_(torch.tensor([0.0, 1.0, -2.0]))
    assert torch.allclose(inject(x, noise) - x, noise * torch.tensor([0.0, 1.0, -2.0])[None, :, None, None])


def test_truncation_and_mixing_are_exact():
    w, w_avg = torch.randn(4, 6), torch.randn(6)
    assert torch.equal(truncate(w, w_avg, 1.0), w)
    assert torch.allclose(truncate(w, w_avg, 0.0), w_avg.expand(4, 6))
    assert torch.allclose(truncate(w, w_avg, 0.5), (w + w_avg) / 2)
    w_b = torch.randn(4, 6)
    ws = style_mix(w, w_b, crossover=2, n_layers=5)
    assert torch.equal(ws[:, :2], w[:, None].expand(4, 2, 6)) and torch.equal(ws[:, 2:], w_b[:, None].expand(4, 3, 6))


def test_style_generator_shapes_mixing_and_noise():
    torch.manual_seed(13)
    G = StyleGenerator(z_dim=8, w_dim=8, width=4, mapping_layers=2).eval()
    z = torch.randn(3, 8)
    noise = G.draw_noise(3, _rng(0))
    w = G.mapping(z)
    x = G.synthesis(w, noise)
    assert x.shape == (3, 1, 28, 28) and x.abs().max() < 1
    assert torch.equal(G.synthesis(w[:, None].expand(3, G.n_layers, 8), noise), x)
    assert torch.equal(G.synthesis(style_mix(w, w, 3, G.n_layers), noise), x)  # mixing w with itself
    assert isinstance(G.mapping, MappingNetwork)
    torch.manual_seed(0)
    a = G(z)
    torch.manual_seed(0)
    assert torch.equal(G(z), a)  # eval mode: no mixing; the noise comes from the global generator
    same_noise = [n[:1].expand_as(n) for n in noise]
    mean_images = G.synthesis(truncate(w, G.w_avg, 0.0), same_noise)
    assert torch.allclose(mean_images, mean_images[:1].expand_as(mean_images))  # psi = 0: one image
    G.train()
    before = G.w_avg.clone()
    G(z)
    assert torch.allclose(G.w_avg, before + 0.005 * (G.mapping(z).mean(dim=0).detach() - before), atol=1e-6)


# --- StyleGAN3 -------------------------------------------------------------------------------

def test_fourier_shift_and_resample_are_exact_on_band_limited_maps():
    x = fourier_resample(torch.randn(2, 3, 8, 8, generator=_rng(14)), 16)  # no energy at or above 4 cycles
    assert torch.allclose(fourier_shift(x, 2.0, -3.0), torch.roll(x, (2, -3), (-2, -1)), atol=1e-10)
    assert torch.allclose(fourier_shift(fourier_shift(x, 0.3, 0.6), -0.3, -0.6), x, atol=1e-10)
    assert torch.allclose(fourier_resample(fourier_resample(x, 32), 16), x, atol=1e-10)
    assert torch.allclose(fourier_resample(x, 32)[..., ::2, ::2], x, atol=1e-10)  # interpolates the samples


@pytest.mark.parametrize("upsample", ["nearest", "transposed", "filtered"])
def test_whole_pixel_shifts_are_equivariant_for_every_upsampler(upsample):
    G = ToySynthesis(upsample)
    x = fourier_resample(torch.randn(2, 8, 8, 8, generator=_rng(15)), 16)
    assert torch.allclose(G(torch.roll(x, (1, 2), (2, 3))), torch.roll(G(x), (4, 8), (2, 3)), atol=1e-10)
