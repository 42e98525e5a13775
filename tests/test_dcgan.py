"""DCGAN models: shapes, the paper's guidelines in their layers, the initialisation, the critic, spectral norm."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    critic,
    init_dcgan_weights_,
    sample_noise,
    summary,
)
from gancourse.models.dcgan import IMAGE_SIZES

SIZES = (28, 32, 64)


pytestmark = pytest.mark.usefixtures("one_thread")


def _layers(model: nn.Module, kind: type | tuple[type, ...]) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, kind)]


def _sequence(model: nn.Module) -> list[str]:
    """Return the names of the layer types of model.net, in order."""
    return [type(m).__name__.replace("Parametrized", "") for m in model.net]


# --- shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(size, channels):
    G = DCGANGenerator(z_dim=16, image_size=size, channels=channels, width=8)
    D = DCGANDiscriminator(image_size=size, channels=channels, width=8)
    images = G(torch.randn(5, 16))
    assert images.shape == (5, channels, size, size)
    assert D(images).shape == (5,)
    assert critic(size, channels, 8)(images).shape == (5,)


@pytest.mark.parametrize("size", SIZES)
def test_feature_maps_halve_as_channels_double(size):
    # 28 = 7 * 2^2, 32 = 4 * 2^3, 64 = 4 * 2^4: the smallest map and the number of stride-2 layers.
    start, n_up = {28: (7, 2), 32: (4, 3), 64: (4, 4)}[size]
    w = 8
    G = DCGANGenerator(z_dim=10, image_size=size, channels=3, width=w)
    shapes = [tuple(t.shape[1:]) for t in _intermediate(G.net, torch.randn(2, 10, 1, 1), nn.ConvTranspose2d)]
    want = [(w * 2 ** (n_up - 1 - k), start * 2**k, start * 2**k) for k in range(n_up)] + [(3, size, size)]
    assert shapes == want
    D = DCGANDiscriminator(image_size=size, channels=3, width=w)
    shapes = [tuple(t.shape[1:]) for t in _intermediate(D.net, torch.randn(2, 3, size, size), nn.Conv2d)]
    want = [(w * 2**k, size // 2 ** (k + 1), size // 2 ** (k + 1)) for k in range(n_up)] + [(1, 1, 1)]
    assert shapes == want


def _intermediate(net: nn.Sequential, x: torch.Tensor, kind: type) -> list[torch.Tensor]:
    """Return the outputs of every layer of type ``kind`` in ``net``."""
    outs = []
    for layer in net:
        x = layer(x)
        if isinstance(layer, kind):
            outs.append(x)
    return outs


def test_64px_models_have_the_pytorch_example_parameter_counts():
    # PyTorch's examples/dcgan (nz=100, ngf=ndf=64, nc=3), counted by hand:
    # G: 100*512*16 + 512*256*16 + 256*128*16 + 128*64*16 + 64*3*16 + BN 2*(512+256+128+64) = 3,576,704,
    # plus the 3 biases of our output layer (the example has none).
    G = DCGANGenerator(100, 64, 3, 64)
    assert sum(p.numel() for p in G.parameters()) == 3_576_704 + 3
    # D: 3*64*16 + 64*128*16 + 128*256*16 + 256*512*16 + 512*1*16 + BN 2*(128+256+512) = 2,765,568,
    # plus the biases of our first (64) and last (1) convolutions, which no batch norm follows.
    D = DCGANDiscriminator(64, 3, 64)
    assert sum(p.numel() for p in D.parameters()) == 2_765_568 + 64 + 1


def test_generator_accepts_noise_shaped_like_the_pytorch_example():
    G = DCGANGenerator(12, 28, 1, 4).eval()
    z = torch.randn(3, 12)
    torch.testing.assert_close(G(z.view(3, 12, 1, 1)), G(z))


# --- the guidelines, in the layer structure ---------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_generator_follows_the_guidelines(size):
    n_up = {28: 2, 32: 3, 64: 4}[size]
    G = DCGANGenerator(10, size, 1, 8)
    # transposed conv + BN + ReLU for every layer but the output, which is transposed conv + tanh
    assert _sequence(G) == ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * n_up + ["ConvTranspose2d", "Tanh"]
    assert not _layers(G, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.Upsample, nn.LeakyReLU))
    convs = _layers(G, nn.ConvTranspose2d)
    assert all(c.bias is None for c in convs[:-1]) and convs[-1].bias is not None  # no bias before BN
    assert [c.stride for c in convs[1:]] == [(2, 2)] * n_up  # fractionally-strided: upsampling by 2


@pytest.mark.parametrize("size", SIZES)
def test_discriminator_follows_the_guidelines(size):
    n_down = {28: 2, 32: 3, 64: 4}[size]
    D = DCGANDiscriminator(size, 1, 8)
    # no BN on the input layer; strided conv + BN + LeakyReLU after it; a conv to one score at the end
    want = ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * (n_down - 1) + ["Conv2d"]
    assert _sequence(D) == want
    assert not _layers(D, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.Sigmoid))
    assert all(a.negative_slope == 0.2 for a in _layers(D, nn.LeakyReLU))
    convs = _layers(D, nn.Conv2d)
    assert [c.stride for c in convs[:-1]] == [(2, 2)] * n_down
    assert [c.bias is None for c in convs] == [False] + [True] * (n_down - 1) + [False]


def test_leaky_relu_generator_differs_only_in_its_activation():
    G = DCGANGenerator(10, 32, 1, 8, activation="leaky_relu")
    assert _sequence(G) == ["ConvTranspose2d", "BatchNorm2d", "LeakyReLU"] * 3 + ["ConvTranspose2d", "Tanh"]
    assert all(a.negative_slope == 0.2 for a in _layers(G, nn.LeakyReLU))


def test_first_generator_layer_is_a_matrix_product():
    # On a 1x1 input, ConvTranspose2d(z_dim, C, k) gives out[n, c, i, j] = sum_d z[n, d] W[d, c, i, j].
    G = DCGANGenerator(6, 28, 1, 4)
    first = G.net[0]
    z = torch.randn(3, 6)
    want = torch.einsum("nd,dcij->ncij", z, first.weight)
    torch.testing.assert_close(first(z[:, :, None, None]), want)


def test_generator_output_lies_in_tanh_range():
    G = DCGANGenerator(8, 28, 1, 8)
    with torch.no_grad():
        G.net[-2].weight.mul_(1000.0)  # push the output layer into saturation
    x = G(torch.randn(64, 8))
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert (x.abs() > 0.999).float().mean() > 0.5  # saturated: tanh, not a clamp of a small output


def test_discriminator_returns_raw_scores_not_probabilities():
    # All weights 0: every feature map is 0 (batch norm maps a constant 0 to its shift, 0), so the score
    # is the last layer's bias exactly. A sigmoid would return sigmoid(-3) = 0.047 instead.
    D = DCGANDiscriminator(28, 1, 8)
    with torch.no_grad():
        for conv in _layers(D, nn.Conv2d):
            conv.weight.zero_()
        D.net[-1].bias.fill_(-3.0)
    torch.testing.assert_close(D(torch.randn(4, 1, 28, 28)), torch.full((4,), -3.0))


# --- initialisation ---------------------------------------------------------------------------

def test_init_statistics_on_large_layers():
    torch.manual_seed(0)
    G = DCGANGenerator(100, 64, 3, 64)
    D = DCGANDiscriminator(64, 3, 64)
    w = G.net[0].weight.detach().double()  # 100 * 512 * 16 = 819,200 draws
    # The sample std of n normal draws has standard error sigma / sqrt(2n) = 1.6e-5 here.
    assert abs(w.std().item() - 0.02) < 2e-4
    assert abs(w.mean().item()) < 1e-4  # standard error 0.02 / sqrt(819,200) = 2.2e-5
    # Normal, not uniform with the same std: P(|w| < sigma) = erf(1 / sqrt 2) = 0.683 (uniform: 0.577).
    inside = (w.abs() < 0.02).double().mean().item()
    assert abs(inside - math.erf(1 / math.sqrt(2))) < 0.005
    v = D.net[8].weight.detach().double()  # the 256 -> 512 convolution: 2,097,152 draws
    assert v.shape == (512, 256, 4, 4)
    assert abs(v.std().item() - 0.02) < 2e-4
    scales = torch.cat([bn.weight.detach() for bn in _layers(G, nn.BatchNorm2d) + _layers(D, nn.BatchNorm2d)])
    assert scales.numel() == 960 + 896
    # mean of 1856 draws of N(1, 0.02): standard error 4.6e-4
    assert abs(scales.mean().item() - 1.0) < 3e-3 and abs(scales.std().item() - 0.02) < 3e-3
    biases = [m.bias for m in G.modules() if getattr(m, "bias", None) is not None]
    biases += [m.bias for m in D.modules() if getattr(m, "bias", None) is not None]
    assert len(biases) > 0 and all(torch.all(b == 0) for b in biases)


def test_init_overrides_pytorch_defaults_and_returns_the_model():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(64, 128, 4), nn.BatchNorm2d(128), nn.ConvTranspose2d(128, 64, 4),
                          nn.GroupNorm(1, 64), nn.Linear(300, 200))
    # PyTorch's default (Kaiming uniform) gives the Conv2d a std of 1 / sqrt(3 * 64 * 16) = 0.018 and
    # uniform, not normal, draws; make the difference unmistakable first.
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.7)
    assert init_dcgan_weights_(model) is model
    for layer in (model[0], model[2], model[4]):
        assert abs(layer.weight.std().item() - 0.02) < 0.002 and torch.all(layer.bias == 0)
    for norm in (model[1], model[3]):
        assert abs(norm.weight.mean().item() - 1.0) < 0.01 and torch.all(norm.bias == 0)


def test_init_reaches_the_raw_weight_under_spectral_norm():
    D = DCGANDiscriminator(64, 3, 64, norm=None, spectral_norm=True)
    with torch.no_grad():
        for conv in _layers(D, nn.Conv2d):
            conv.parametrizations.weight.original.fill_(0.5)
    init_dcgan_weights_(D)
    raw = D.net[6].parametrizations.weight.original  # 256 -> 512: 2M draws
    assert raw.shape == (512, 256, 4, 4)
    assert abs(raw.std().item() - 0.02) < 2e-4


def test_init_rejects_non_modules():
    with pytest.raises(TypeError):
        init_dcgan_weights_([nn.Conv2d(1, 1, 1)])


# --- the critic without batch norm ----------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("norm", ["layer", "instance", None])
def test_critic_has_no_batch_norm_anywhere(size, norm):
    model = critic(size, 3, 8, norm=norm)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                   for m in DCGANDiscriminator(size, 3, 8, norm=norm, spectral_norm=True).modules())
    if norm is not None:
        assert len([m for m in model.modules() if isinstance(m, (nn.GroupNorm, nn.InstanceNorm2d))]) == \
            {28: 1, 32: 2, 64: 3}[size]


def test_critic_scores_each_sample_on_its_own():
    # The gradient penalty needs f(x_i) to depend on x_i alone. In train mode batch norm breaks that.
    torch.manual_seed(0)
    x = torch.randn(8, 1, 28, 28)
    f = critic(28, 1, 8).train()
    torch.testing.assert_close(f(x)[:3], f(x[:3]))
    d = DCGANDiscriminator(28, 1, 8).train()
    assert not torch.allclose(d(x)[:3], d(x[:3]), atol=1e-4)


def test_layer_norm_normalises_each_sample_over_all_its_features():
    f = critic(28, 1, 8)
    norm = _layers(f, nn.GroupNorm)[0]
    h = torch.randn(4, 16, 7, 7) * 5 + 3
    out = norm(h)  # scale ~ N(1, 0.02) per channel, shift 0
    flat = (out / norm.weight[None, :, None, None]).flatten(1)
    torch.testing.assert_close(flat.mean(1), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.var(1, unbiased=False), torch.ones(4), atol=1e-3, rtol=0)


def test_critic_supports_the_double_backward_of_the_gradient_penalty():
    f = critic(32, 3, 8)
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    penalty.backward()
    # Every weight (4 convolutions, 2 layer norms) shapes the input gradient, so the penalty reaches
    # each one (a bias may not: the last layer's bias shifts f without changing its gradient).
    weights = [p for name, p in f.named_parameters() if name.endswith("weight")]
    assert len(weights) == 4 + 2 and all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


def test_critic_refuses_batch_norm():
    with pytest.raises(ValueError, match="batch norm"):
        critic(28, 1, 8, norm="batch")


# --- spectral normalisation -------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_spectral_norm_makes_each_reshaped_weight_have_largest_singular_value_one(size):
    torch.manual_seed(0)
    D = DCGANDiscriminator(size, 3, 16, norm=None, spectral_norm=True).train()
    convs = _layers(D, nn.Conv2d)
    assert all(hasattr(c, "parametrizations") for c in convs)
    raw = [torch.linalg.matrix_norm(c.parametrizations.weight.original.flatten(1), ord=2).item() for c in convs]
    assert all(abs(s - 1) > 0.05 for s in raw)  # the raw weights are far from 1: the test can fail
    x = torch.randn(2, 3, size, size)
    for _ in range(30):  # each training forward pass runs one more power iteration per layer
        D(x)
    D.eval()
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()
        assert abs(sigma - 1.0) < 1e-2, sigma


def test_spectral_norm_is_off_by_default_and_must_be_a_bool():
    assert not any(hasattr(c, "parametrizations") for c in _layers(DCGANDiscriminator(28, 1, 8), nn.Conv2d))
    with pytest.raises(TypeError):
        DCGANDiscriminator(28, 1, 8, spectral_norm="yes")


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [16, 27, 48, 128, "28", 28.0, True])
def test_bad_image_size_lists_the_valid_ones(size):
    for build in (lambda: DCGANGenerator(10, size), lambda: DCGANDiscriminator(size), lambda: critic(size)):
        with pytest.raises(ValueError, match="28, 32, 64"):
            build()
    assert IMAGE_SIZES == (28, 32, 64)


@pytest.mark.parametrize("kwargs", [{"z_dim": 0}, {"channels": 0}, {"width": -1}, {"width": 2.5},
                                    {"activation": "tanh"}])
def test_generator_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        DCGANGenerator(**kwargs)


def test_discriminator_rejects_unknown_norm():
    with pytest.raises(ValueError, match="norm must be one of"):
        DCGANDiscriminator(28, 1, 8, norm="group")


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (2, 3, 28, 28), (1, 28, 28), (2, 784)])
def test_discriminator_rejects_wrong_image_shape(shape):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        DCGANDiscriminator(28, 1, 8)(torch.randn(*shape))


@pytest.mark.parametrize("shape", [(2, 9), (2,), (2, 10, 2, 2)])
def test_generator_rejects_wrong_noise_shape(shape):
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        DCGANGenerator(10, 28, 1, 8)(torch.randn(*shape))


# --- the summary table ------------------------------------------------------------------------

def test_summary_lists_layers_shapes_and_parameter_counts():
    G = DCGANGenerator(100, 28, 1, 64)
    table = summary(G, (100,))
    assert list(table["layer"]) == ["ConvTranspose2d-1", "BatchNorm2d-2", "ReLU-3", "ConvTranspose2d-4",
                                    "BatchNorm2d-5", "ReLU-6", "ConvTranspose2d-7", "Tanh-8"]
    assert list(table["output shape"]) == [(-1, 128, 7, 7)] * 3 + [(-1, 64, 14, 14)] * 3 + [(-1, 1, 28, 28)] * 2
    # by hand: 100*128*7*7, 2*128, 0, 128*64*4*4, 2*64, 0, 64*1*4*4 + 1, 0
    assert list(table["params"]) == [627_200, 256, 0, 131_072, 128, 0, 1_025, 0]
    assert table.attrs["total_params"] == 627_200 + 256 + 131_072 + 128 + 1_025


def test_summary_counts_spectral_normed_layers_and_leaves_the_model_as_it_was():
    D = DCGANDiscriminator(28, 1, 8, norm=None, spectral_norm=True).train()
    before = {k: v.clone() for k, v in D.state_dict().items()}
    table = summary(D, (1, 28, 28))
    assert list(table["params"]) == [1 * 8 * 16 + 8, 0, 8 * 16 * 16 + 16, 0, 16 * 49 + 1]
    assert list(table["output shape"])[-1] == (-1, 1, 1, 1)
    assert D.training
    after = D.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # eval mode: no power iteration, no BN update


def test_summary_rejects_a_shape_with_the_batch_dimension_missing_values():
    with pytest.raises(ValueError):
        summary(DCGANGenerator(10, 28, 1, 4), (0, 10))
    with pytest.raises(TypeError):
        summary("G", (10,))


def test_sample_noise_feeds_the_generator():
    G = DCGANGenerator(7, 32, 3, 4)
    assert G(sample_noise(2, 7)).shape == (2, 3, 32, 32)
