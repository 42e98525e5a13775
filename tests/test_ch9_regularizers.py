"""Chapter 9's regularisers against closed forms and autograd: orthogonal, R1, path length, lazy Adam."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.losses import lazy_regularization, orthogonal_regularization, path_length_penalty, r1_penalty
from gancourse.training import OrthogonalSteps, R1Steps, TrainConfig, train_gan


@pytest.fixture(autouse=True)
def _float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_orthogonal_regularization_is_zero_for_orthogonal_rows_of_any_length():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0)))
    layer = nn.Linear(6, 4, bias=False)
    with torch.no_grad():
        layer.weight.copy_(q[:4] * torch.tensor([1.0, 2.0, 0.5, 3.0])[:, None])  # orthogonal rows, any norms
    assert orthogonal_regularization(layer).item() < 1e-24
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0, 0],
                                         [0, 0, 1.0, 0, 0, 0], [0, 0, 0, 0, 0, 2.0]]))
    # W Wᵀ off the diagonal: rows 0 and 1 have dot product 1, twice in the symmetric matrix.
    assert orthogonal_regularization(layer).item() == 2.0


def test_orthogonal_regularization_sums_every_layer_and_its_gradient_matches_the_closed_form():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU(), nn.ConvTranspose2d(5, 4, 4), nn.Flatten(),
                        nn.Linear(16, 7), nn.BatchNorm1d(7))
    total = orthogonal_regularization(net)
    weights = [net[0].weight, net[2].weight, net[4].weight]
    by_hand = 0.0
    for w in weights:
        m = w.flatten(1)
        gram = m @ m.t()
        by_hand += ((gram * (1 - torch.eye(len(m)))) ** 2).sum().item()
    assert math.isclose(total.item(), by_hand, rel_tol=1e-12)
    total.backward()
    for w in weights:
        m = w.detach().flatten(1)
        closed = 4 * ((m @ m.t()) * (1 - torch.eye(len(m)))) @ m  # d/dW ||W Wᵀ ⊙ (1 - I)||²
        assert torch.allclose(w.grad.flatten(1), closed, atol=1e-10)
    assert net[5].weight.grad is None  # batch norm's gain is not a weight matrix
    with pytest.raises(ValueError, match="no linear or convolution"):
        orthogonal_regularization(nn.ReLU())


def test_r1_of_a_linear_discriminator_is_the_squared_norm_of_its_weights():
    v = torch.randn(1, 12, generator=torch.Generator().manual_seed(2))
    D = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
    with torch.no_grad():
        D[1].weight.copy_(v)
    real = torch.randn(5, 3, 2, 2)
    penalty = r1_penalty(lambda x: D(x).flatten(), real)
    assert math.isclose(penalty.item(), float(v.pow(2).sum()), rel_tol=1e-12)  # ||v||², not ||v||
    assert not math.isclose(penalty.item(), float(v.norm()), rel_tol=1e-3)
    penalty.backward()  # differentiable in D's weights: d||v||²/dv = 2 v
    assert torch.allclose(D[1].weight.grad, 2 * v)


def test_r1_of_a_quadratic_discriminator_is_the_batch_mean():
    real = torch.randn(4, 1, 3, 3, generator=torch.Generator().manual_seed(3))
    # D(x) = ½ ||x||²: its gradient is x, so R1 = mean of ||x_i||².
    penalty = r1_penalty(lambda x: 0.5 * x.pow(2).flatten(1).sum(1), real)
    assert math.isclose(penalty.item(), float(real.pow(2).flatten(1).sum(1).mean()), rel_tol=1e-12)


def test_path_length_of_a_linear_generator():
    rng = torch.Generator().manual_seed(4)
    A = torch.randn(16, 5, generator=rng)
    ws = torch.randn(3, 5, generator=rng, requires_grad=True)
    images = (ws @ A.t()).view(3, 1, 4, 4)
    penalty, mean = path_length_penalty(images, ws, pl_mean=0.0, decay=0.5, generator=torch.Generator().manual_seed(9))
    y = torch.randn((3, 1, 4, 4), generator=torch.Generator().manual_seed(9)) / 4  # / sqrt(H W)
    lengths = (y.view(3, 16) @ A).norm(dim=1)  # ||Jᵀ y|| with J = A for every sample
    assert math.isclose(float(mean), 0.5 * float(lengths.mean()), rel_tol=1e-12)
    assert math.isclose(penalty.item(), float((lengths - mean).pow(2).mean()), rel_tol=1e-12)


def test_lazy_regularization_rescales_adam_as_stylegan2():
    lr, betas = lazy_regularization(0.002, (0.0, 0.99), 16)
    assert math.isclose(lr, 0.002 * 16 / 17) and betas[0] == 0.0 and math.isclose(betas[1], 0.99 ** (16 / 17))
    assert lazy_regularization(0.01, (0.5, 0.9), 1) == (0.005, (0.5 ** 0.5, 0.9 ** 0.5))
    with pytest.raises(ValueError, match="interval"):
        lazy_regularization(0.01, (0.5, 0.9), 0)


def test_lazy_r1_runs_every_interval_steps_with_weight_interval():
    torch.set_default_dtype(torch.float32)
    steps = R1Steps(interval=4)

    class Lin(nn.Module):
        def __init__(self):
            super().__init__()
            self.v = nn.Linear(4, 1)

        def forward(self, x):
            return self.v(x.flatten(1)).flatten()

    D = Lin()
    d = type("D", (), {"real": torch.randn(3, 1, 2, 2), "cond": ()})()
    values = [float(steps.penalty(D, d).detach()) for _ in range(8)]
    r1 = D.v.weight.pow(2).sum().item()
    assert values[0] == pytest.approx(4 * r1) and values[4] == pytest.approx(4 * r1)
    assert values[1:4] == [0.0] * 3 and values[5:8] == [0.0] * 3


class _TinyG(nn.Module):
    """A linear generator of 2 x 2 images from a 2-d z: the smallest G the loop can train."""

    z_dim = 2

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 4)

    def forward(self, z):
        return self.net(z).view(-1, 1, 2, 2)


def _tiny_d() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 1), nn.Flatten(0))


def test_r1_steps_train_in_the_loop():
    torch.set_default_dtype(torch.float32)

    history = train_gan(_TinyG(), _tiny_d(), torch.randn(64, 1, 2, 2), TrainConfig(steps=8, batch_size=8, gp_weight=5.0),
                        variant=R1Steps(interval=2), progress=False)
    gp = history.to_frame()["gp"].to_numpy()
    assert (gp[1::2] == 0).all() and (gp[0::2] > 0).all()


def test_orthogonal_steps_add_beta_times_the_penalty_to_the_generator_step():
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)

    D = _tiny_d()
    gen = _TinyG()
    steps = OrthogonalSteps(beta=0.5)
    d = steps.d_step(gen, D, torch.randn(8, 1, 2, 2), (), lambda r, f: (r - f).mean())
    g = steps.g_step(gen, D, d, lambda f: -f.mean())
    expected = orthogonal_regularization(gen)
    assert g.aux_loss.item() == pytest.approx(0.5 * expected.item())
    assert g.stats["ortho"].item() == pytest.approx(expected.item())
    g.aux_loss.backward()  # the term reaches G's weights: its gradient is beta * 4 (W W^T off-diagonal) W
    W = gen.net.weight.detach()
    closed = 0.5 * 4 * ((W @ W.T) * (1 - torch.eye(4))) @ W
    assert torch.allclose(gen.net.weight.grad, closed, atol=1e-6)
    history = train_gan(_TinyG(), D, torch.randn(64, 1, 2, 2), TrainConfig(steps=4, batch_size=8),
                        variant=OrthogonalSteps(1e-4), progress=False)
    assert (history.to_frame()["ortho"] > 0).all()
    with pytest.raises(ValueError, match="beta"):
        OrthogonalSteps(beta=0.0)
