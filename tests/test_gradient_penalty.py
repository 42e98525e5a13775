"""gradient_penalty: closed forms for linear critics, finite differences for nonlinear ones, one alpha per
sample, the L2 norm, conditioning arguments, differentiability in the critic's parameters, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.losses import gradient_penalty

DT = torch.float64


class Linear(nn.Module):
    """f(x) = w . x + b, with w of the same shape as one sample (so images use all of C, H, W)."""

    def __init__(self, w: torch.Tensor, b: float = 0.3) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(b, dtype=w.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(1) + self.b


class Recording(nn.Module):
    """Wraps a critic and keeps the inputs it was called with."""

    def __init__(self, critic: nn.Module) -> None:
        super().__init__()
        self.critic, self.inputs = critic, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        return self.critic(x)


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.Softplus(), nn.Linear(4, 1)).to(DT)


def _convnet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Softplus(), nn.Conv2d(3, 2, 3, stride=2),
                         nn.Tanh(), nn.Flatten(), nn.Linear(2 * 2 * 2, 1)).to(DT)


def _fd_input_gradient(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central finite differences of the per-sample score f(x)[i] with respect to x[i], every coordinate."""
    grad = torch.zeros_like(x)
    flat, gflat = x.view(x.shape[0], -1), grad.view(x.shape[0], -1)
    with torch.no_grad():
        for j in range(flat.shape[1]):
            plus, minus = flat.clone(), flat.clone()
            plus[:, j] += eps
            minus[:, j] -= eps
            gflat[:, j] = (f(plus.view_as(x)).flatten() - f(minus.view_as(x)).flatten()) / (2 * eps)
    return grad


def _penalty_by_fd(f, real, fake, alpha) -> float:
    """The WGAN-GP penalty from finite-difference gradients at the same interpolates."""
    a = alpha.view(-1, *([1] * (real.ndim - 1)))
    x_hat = a * real + (1 - a) * fake
    norms = _fd_input_gradient(f, x_hat).flatten(1).norm(dim=1)
    return ((norms - 1) ** 2).mean().item()


# ---------------------------------------------------------------- linear critics: (|w| - 1)^2 exactly

@pytest.mark.parametrize("shape", [(3,), (1, 4, 4), (3, 5, 2)])
@pytest.mark.parametrize("scale", [0.25, 1.0, 3.0])
def test_a_linear_critic_gives_norm_of_w_minus_one_squared(shape, scale):
    g = torch.Generator().manual_seed(1)
    w = torch.randn(*shape, generator=g, dtype=DT)
    w = scale * w / w.norm()  # |w| = scale over ALL non-batch dimensions
    real = torch.randn(6, *shape, generator=g, dtype=DT)
    fake = 5 * torch.randn(6, *shape, generator=g, dtype=DT)
    gp = gradient_penalty(Linear(w), real, fake)
    assert gp.item() == pytest.approx((scale - 1) ** 2, abs=1e-12)


def test_the_norm_is_l2_not_l1():
    # w = (0.6, 0.8): |w|_2 = 1, so the penalty is 0; the L1 norm 1.4 would give 0.16.
    w = torch.tensor([0.6, 0.8], dtype=DT)
    real, fake = torch.randn(4, 2, dtype=DT), torch.randn(4, 2, dtype=DT)
    assert gradient_penalty(Linear(w), real, fake).item() == pytest.approx(0.0, abs=1e-15)
    # And for an image, the norm is over the whole image: 16 pixels of 0.25 have L2 norm 1 (L1: 4,
    # per-row L2 norms: 0.5 each).
    w_img = torch.full((1, 4, 4), 0.25, dtype=DT)
    x = torch.randn(3, 1, 4, 4, dtype=DT)
    assert gradient_penalty(Linear(w_img), x, -x).item() == pytest.approx(0.0, abs=1e-15)


# ---------------------------------------------------------------- one alpha per sample

def test_one_alpha_per_sample_broadcast_over_pixels():
    critic = Recording(Linear(torch.full((1, 6, 6), 0.1, dtype=DT)))
    real, fake = torch.ones(64, 1, 6, 6, dtype=DT), torch.zeros(64, 1, 6, 6, dtype=DT)
    gradient_penalty(critic, real, fake)
    (x_hat,) = critic.inputs
    # x_hat = alpha * 1 + (1 - alpha) * 0 = alpha: constant within each image if alpha is per sample.
    per_sample = x_hat.flatten(1)
    assert torch.equal(per_sample, per_sample[:, :1].expand_as(per_sample))
    alphas = per_sample[:, 0]
    assert ((alphas > 0) & (alphas < 1)).all()
    assert alphas.unique().numel() == 64  # a different alpha for each sample
    assert 0.3 < alphas.mean().item() < 0.7  # U(0, 1): mean 1/2, sd of the mean 0.036


def test_alpha_per_pixel_would_change_the_penalty():
    # f(x) = sum_j c_j x_j^2 / 2 has gradient c * x: it depends on the position j. Between real = 1
    # and fake = 0, x_hat = alpha, so with one alpha per sample |grad f| = alpha_i |c| and the
    # penalty is mean_i (alpha_i |c| - 1)^2.
    c = torch.linspace(0.2, 2.0, 16, dtype=DT).view(1, 4, 4)

    def critic(x):
        return (c * x**2 / 2).flatten(1).sum(1)

    alpha = torch.tensor([0.1, 0.5, 0.9], dtype=DT)
    real, fake = torch.ones(3, 1, 4, 4, dtype=DT), torch.zeros(3, 1, 4, 4, dtype=DT)
    gp = gradient_penalty(critic, real, fake, alpha=alpha).item()
    want = ((alpha * c.norm() - 1) ** 2).mean().item()
    assert gp == pytest.approx(want, rel=1e-12)
    # The per-pixel alternative (a fresh alpha for every pixel, here a fixed pattern) gives another number.
    per_pixel = torch.linspace(0.1, 0.9, 16, dtype=DT).view(1, 4, 4)
    wrong = (((c * per_pixel).flatten().norm() - 1) ** 2).item()
    assert abs(wrong - want) > 0.1


def test_random_alpha_is_reproducible_under_a_seed():
    critic, real, fake = _mlp(), torch.randn(8, 3, dtype=DT), torch.randn(8, 3, dtype=DT)
    values = []
    for _ in range(2):
        torch.manual_seed(5)
        values.append(gradient_penalty(critic, real, fake).item())
    assert values[0] == values[1]


# ---------------------------------------------------------------- nonlinear critics vs finite differences

@pytest.mark.parametrize(("make", "shape"), [(_mlp, (3,)), (_convnet, (2, 5, 5))])
def test_nonlinear_critics_match_finite_differences(make, shape):
    critic = make()
    g = torch.Generator().manual_seed(2)
    real, fake = torch.randn(4, *shape, generator=g, dtype=DT), torch.randn(4, *shape, generator=g, dtype=DT)
    alpha = torch.rand(4, generator=g, dtype=DT)
    gp = gradient_penalty(critic, real, fake, alpha=alpha).item()
    assert gp == pytest.approx(_penalty_by_fd(critic, real, fake, alpha), rel=1e-7, abs=1e-10)
    assert gp > 1e-3  # not trivially zero: the check compares something


@pytest.mark.parametrize(("make", "shape"), [(_mlp, (3,)), (_convnet, (2, 5, 5))])
def test_the_penalty_is_differentiable_in_the_critics_parameters(make, shape):
    # create_graph=True: d penalty / d theta exists; compare it with finite differences in theta.
    critic = make()
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(3, *shape, generator=g, dtype=DT), torch.randn(3, *shape, generator=g, dtype=DT)
    alpha = torch.rand(3, generator=g, dtype=DT)
    weight = critic[0].weight
    gp = gradient_penalty(critic, real, fake, alpha=alpha)
    (grad,) = torch.autograd.grad(gp, weight)
    assert grad.abs().max() > 1e-4
    eps, flat = 1e-6, weight.data.view(-1)
    for j in range(0, flat.numel(), max(1, flat.numel() // 12)):
        old = flat[j].item()
        flat[j] = old + eps
        up = gradient_penalty(critic, real, fake, alpha=alpha).item()
        flat[j] = old - eps
        down = gradient_penalty(critic, real, fake, alpha=alpha).item()
        flat[j] = old
        assert grad.reshape(-1)[j].item() == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)


def test_gradient_reaches_the_critic_but_not_the_generator():
    critic = _mlp()
    G = nn.Linear(2, 3).to(DT)
    fake = G(torch.randn(5, 2, dtype=DT))
    gradient_penalty(critic, torch.randn(5, 3, dtype=DT), fake).backward()
    # Every weight shapes the critic's gradient; the last bias does not (it shifts f, not its slope).
    weights = [p for name, p in critic.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    assert critic[-1].bias.grad is None or critic[-1].bias.grad.abs().sum() == 0
    assert all(p.grad is None for p in G.parameters())


# ---------------------------------------------------------------- conditioning

def test_conditioning_arguments_pass_through():
    # f(x, y) = w_y . x: the penalty for sample i uses row y_i of W.
    W = torch.tensor([[0.6, 0.8], [3.0, 4.0], [0.0, 2.0]], dtype=DT)  # norms 1, 5, 2

    def critic(x, labels, *, scale=1.0):
        return scale * (W[labels] * x).sum(1)

    real, fake = torch.randn(3, 2, dtype=DT), torch.randn(3, 2, dtype=DT)
    labels = torch.tensor([0, 1, 2])
    want = ((0.0) ** 2 + 4.0**2 + 1.0**2) / 3
    assert gradient_penalty(critic, real, fake, labels).item() == pytest.approx(want, rel=1e-12)
    want_scaled = ((0.5 - 1) ** 2 + (2.5 - 1) ** 2 + (1.0 - 1) ** 2) / 3
    assert gradient_penalty(critic, real, fake, labels, scale=0.5).item() == pytest.approx(want_scaled, rel=1e-12)


def test_a_critic_returning_n_by_1_works():
    w = torch.tensor([3.0, 4.0], dtype=DT)
    lin = nn.Linear(2, 1).to(DT)
    with torch.no_grad():
        lin.weight.copy_(w)
    assert gradient_penalty(lin, torch.randn(4, 2, dtype=DT), torch.randn(4, 2, dtype=DT)).item() == \
        pytest.approx(16.0, rel=1e-12)


# ---------------------------------------------------------------- bad input

def test_bad_input_is_rejected_clearly():
    critic = _mlp()
    x = torch.randn(4, 3, dtype=DT)
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, x, torch.randn(5, 3, dtype=DT))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, x, torch.randn(4, 2, dtype=DT))
    with pytest.raises(TypeError, match="torch.Tensor"):
        gradient_penalty(critic, x.tolist(), x)
    with pytest.raises(TypeError, match="floating-point"):
        gradient_penalty(critic, x.long(), x.long())
    with pytest.raises(ValueError, match="at least one sample"):
        gradient_penalty(critic, x[:0], x[:0])
    with pytest.raises(ValueError, match="one weight per sample"):
        gradient_penalty(critic, x, x, alpha=torch.rand(4, 3, dtype=DT))
    with pytest.raises(ValueError, match="one score per sample"):
        gradient_penalty(lambda v: v.sum(), x, x)
    with pytest.raises(TypeError, match="callable"):
        gradient_penalty("critic", x, x)


def test_penalty_of_a_zero_gradient_is_one():
    # A constant critic has gradient 0 everywhere: (0 - 1)^2 = 1 (the course's classic closed form).
    w = torch.zeros(3, dtype=DT)
    assert gradient_penalty(Linear(w), torch.randn(4, 3, dtype=DT), torch.randn(4, 3, dtype=DT)).item() == 1.0
    assert math.isfinite(gradient_penalty(Linear(w), torch.randn(4, 3), torch.randn(4, 3)).item())
