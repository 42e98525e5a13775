"""MLP generator and discriminator, and the noise sampler: shapes, closed-form outputs, clear errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.models import MLPDiscriminator, MLPGenerator, sample_noise


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


# --- generator --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("out_shape", "want"), [(2, (2,)), ((2,), (2,)), ((1, 28, 28), (1, 28, 28)), ((3, 4, 5), (3, 4, 5))]
)
def test_generator_output_shape(out_shape, want):
    G = MLPGenerator(8, out_shape, hidden=(16,))
    out = G(torch.randn(5, 8))
    assert tuple(out.shape) == (5, *want)
    assert G.out_shape == want and G.z_dim == 8


def test_generator_without_hidden_layer_is_affine_then_tanh():
    # hidden=(): one Linear layer, so G(z) = tanh(W z + b) exactly.
    G = MLPGenerator(2, 3, hidden=(), tanh=True)
    (lin,) = _linears(G)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, -1.0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.5, -1.0]))
    z = torch.tensor([[1.0, 2.0]])
    want = torch.tanh(torch.tensor([[1.0, 4.5, -2.0]]))
    torch.testing.assert_close(G(z), want)


def test_generator_linear_output_is_unbounded_and_tanh_output_is_bounded():
    G_lin = MLPGenerator(2, 2, hidden=(), tanh=False)
    G_tanh = MLPGenerator(2, 2, hidden=(), tanh=True)
    for G in (G_lin, G_tanh):
        with torch.no_grad():
            _linears(G)[0].weight.fill_(10.0)
            _linears(G)[0].bias.zero_()
    z = torch.ones(1, 2)
    assert torch.allclose(G_lin(z), torch.full((1, 2), 20.0))
    out = G_tanh(z)
    assert torch.all(out <= 1.0) and torch.all(out > 0.99)


def test_generator_hidden_layers_and_batch_norm():
    G = MLPGenerator(4, 6, hidden=(8, 16), batch_norm=True)
    shapes = [(m.in_features, m.out_features) for m in _linears(G)]
    assert shapes == [(4, 8), (8, 16), (16, 6)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == 2
    assert sum(isinstance(m, nn.ReLU) for m in G.modules()) == 2
    assert not any(isinstance(m, nn.BatchNorm1d) for m in MLPGenerator(4, 6, hidden=(8,)).modules())


@pytest.mark.parametrize("z_shape", [(5, 7), (5,), (5, 8, 1)])
def test_generator_rejects_wrong_noise_shape(z_shape):
    G = MLPGenerator(8, 2)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        G(torch.randn(*z_shape))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"z_dim": 0, "out_shape": 2}, ValueError),
        ({"z_dim": 2.0, "out_shape": 2}, ValueError),
        ({"z_dim": 2, "out_shape": (1, 0, 28)}, ValueError),
        ({"z_dim": 2, "out_shape": ()}, ValueError),
        ({"z_dim": 2, "out_shape": 2, "hidden": 256}, TypeError),
        ({"z_dim": 2, "out_shape": 2, "hidden": (256, -1)}, ValueError),
    ],
)
def test_generator_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        MLPGenerator(**kwargs)


# --- discriminator ----------------------------------------------------------------------------

@pytest.mark.parametrize(("in_shape", "x_shape"), [(2, (7, 2)), ((2,), (7, 2)), ((1, 28, 28), (7, 1, 28, 28))])
def test_discriminator_returns_one_logit_per_sample(in_shape, x_shape):
    D = MLPDiscriminator(in_shape, hidden=(16, 8))
    logits = D(torch.randn(*x_shape))
    assert logits.shape == (7,)


def test_discriminator_closed_form_with_leaky_relu():
    # hidden=(2,): logit = v . leaky(W x + b) + c with slope 0.2, checked by hand.
    D = MLPDiscriminator(2, hidden=(2,))
    first, last = _linears(D)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        first.bias.zero_()
        last.weight.copy_(torch.tensor([[1.0, 2.0]]))
        last.bias.copy_(torch.tensor([0.5]))
    x = torch.tensor([[-1.0, 3.0], [2.0, -5.0]])
    # row 0: leaky(-1) = -0.2, leaky(3) = 3 -> -0.2 + 6 + 0.5 = 6.3
    # row 1: leaky(2) = 2, leaky(-5) = -1 -> 2 - 2 + 0.5 = 0.5
    torch.testing.assert_close(D(x), torch.tensor([6.3, 0.5]))


def test_discriminator_is_differentiable_in_its_input():
    D = MLPDiscriminator(3, hidden=())
    (lin,) = _linears(D)
    x = torch.randn(4, 3, requires_grad=True)
    D(x).sum().backward()
    # logit = w . x + b, so d(sum of logits)/dx = w for every row.
    torch.testing.assert_close(x.grad, lin.weight.detach().expand(4, 3))


@pytest.mark.parametrize(
    ("in_shape", "x_shape"),
    [
        (2, (7, 3)),
        ((1, 28, 28), (7, 784)),        # flattened images: pass them as (N, 1, 28, 28)
        ((1, 28, 28), (7, 1, 28)),
        ((1, 28, 28), (1, 28, 28)),     # one image without its batch dimension
        ((1, 28, 28), (7, 1, 28, 27)),
    ],
)
def test_discriminator_rejects_wrong_trailing_shape(in_shape, x_shape):
    D = MLPDiscriminator(in_shape, hidden=(4,))
    with pytest.raises(ValueError, match="trailing shape"):
        D(torch.randn(*x_shape))


def test_discriminator_rejects_bad_arguments():
    with pytest.raises(ValueError):
        MLPDiscriminator(0)
    with pytest.raises(TypeError):
        MLPDiscriminator(2, hidden=128)


# --- noise ------------------------------------------------------------------------------------

def test_sample_noise_shape_dtype_and_statistics():
    z = sample_noise(40_000, 5, generator=torch.Generator().manual_seed(0))
    assert z.shape == (40_000, 5) and z.dtype == torch.float32
    # Standard errors: mean 1/sqrt(200k) = 0.0022, std about 0.0016; tolerances are > 6 of them.
    assert abs(z.mean().item()) < 0.015
    assert abs(z.std().item() - 1.0) < 0.01
    inside = (z.abs() < 1).float().mean().item()
    assert abs(inside - math.erf(1 / math.sqrt(2))) < 0.01


def test_sample_noise_respects_the_generator():
    a = sample_noise(3, 2, generator=torch.Generator().manual_seed(7))
    b = sample_noise(3, 2, generator=torch.Generator().manual_seed(7))
    c = sample_noise(3, 2, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(sample_noise(3, 2), sample_noise(3, 2))


@pytest.mark.parametrize(("n", "z_dim"), [(0, 2), (2, 0), (2.5, 2), (True, 2)])
def test_sample_noise_rejects_bad_sizes(n, z_dim):
    with pytest.raises(ValueError):
        sample_noise(n, z_dim)
