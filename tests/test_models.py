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


# --- discriminator options: normalisation and spectral normalisation --------------------------

def test_discriminator_layer_norm_critic_has_no_batch_norm_and_is_per_sample():
    D = MLPDiscriminator(2, hidden=(16, 8), norm="layer")
    kinds = [type(m) for m in D.modules()]
    assert kinds.count(nn.LayerNorm) == 2 and nn.BatchNorm1d not in kinds
    assert [m.normalized_shape for m in D.modules() if isinstance(m, nn.LayerNorm)] == [(16,), (8,)]
    # Per sample: a sample's score does not depend on the rest of the batch (train mode).
    x = torch.randn(5, 2)
    alone = torch.stack([D(x[i : i + 1])[0] for i in range(5)])
    torch.testing.assert_close(D(x), alone)


def test_discriminator_batch_norm_mixes_the_batch():
    D = MLPDiscriminator(2, hidden=(16,), norm="batch").train()
    assert any(isinstance(m, nn.BatchNorm1d) for m in D.modules())
    x = torch.randn(6, 2)
    # Shifting the whole batch by a constant changes nothing after batch norm (it subtracts the batch mean).
    torch.testing.assert_close(D(x), D(x + torch.tensor([3.0, -2.0])), rtol=1e-4, atol=1e-4)


def test_layer_norm_closed_form():
    # hidden=(2,): LayerNorm of two features (a, b) is (+1, -1) * sign(a - b) (up to eps), then LeakyReLU(0.2).
    D = MLPDiscriminator(2, hidden=(2,), norm="layer")
    first, last = _linears(D)
    with torch.no_grad():
        first.weight.copy_(torch.eye(2))
        first.bias.zero_()
        last.weight.copy_(torch.tensor([[1.0, 1.0]]))
        last.bias.zero_()
    out = D(torch.tensor([[3.0, 1.0], [0.0, 5.0]]))
    # row 0: (+1, -1) -> (1, -0.2) -> 0.8 ; row 1: (-1, +1) -> (-0.2, 1) -> 0.8
    torch.testing.assert_close(out, torch.tensor([0.8, 0.8]), atol=1e-4, rtol=0)


def test_spectral_norm_makes_every_layer_and_the_critic_1_lipschitz():
    torch.manual_seed(0)
    D = MLPDiscriminator(2, hidden=(64, 64), spectral_norm=True)
    with torch.no_grad():  # large weights: without the normalisation the network would be far from 1-Lipschitz
        for m in D.modules():
            if isinstance(m, nn.Linear):
                m.parametrizations.weight.original.mul_(10.0)
    D.train()
    for _ in range(30):  # one power iteration per training forward pass
        D(torch.randn(8, 2))
    D.eval()
    sigmas = [torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() for m in D.modules()
              if isinstance(m, nn.Linear)]
    assert len(sigmas) == 3 and all(abs(s - 1.0) < 1e-3 for s in sigmas), sigmas
    x = (torch.randn(2_000, 2) * 3).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x)
    assert grad.norm(dim=1).max() <= 1.0 + 1e-3  # the product of the layers' Lipschitz constants


def test_spectral_norm_off_by_default_and_keeps_the_logit_shape():
    D = MLPDiscriminator((1, 4, 4), hidden=(8,))
    assert not any(hasattr(m, "parametrizations") for m in D.modules())
    D_sn = MLPDiscriminator((1, 4, 4), hidden=(8,), spectral_norm=True, norm="layer")
    assert D_sn(torch.randn(3, 1, 4, 4)).shape == (3,)


@pytest.mark.parametrize(("kwargs", "error"), [({"norm": "instance"}, ValueError), ({"norm": "Layer"}, ValueError),
                                                ({"spectral_norm": 1}, TypeError)])
def test_discriminator_rejects_bad_options(kwargs, error):
    with pytest.raises(error):
        MLPDiscriminator(2, **kwargs)
