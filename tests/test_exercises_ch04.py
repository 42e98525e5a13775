"""Chapter 4's exercise checks grade both ways: solutions pass, stubs and the classic WGAN-GP bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch04 import (
    check_critic_gradient,
    check_critic_loss,
    check_gradient_penalty,
    check_wasserstein_generator_loss,
)


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- critic_gradient --------------------------------------------------------------------------

def critic_gradient_solution(critic, x):
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad


def _grad_with(*, reduce="sum", create_graph=True, flatten=False, backward=False):
    """Return a critic_gradient with one thing changed."""

    def fn(critic, x):
        x = x.detach().requires_grad_(True)
        scores = critic(x)
        total = scores.sum() if reduce == "sum" else scores.mean()
        if backward:
            total.backward(create_graph=create_graph)
            grad = x.grad
        else:
            (grad,) = torch.autograd.grad(total, x, create_graph=create_graph)
        return grad.flatten(1) if flatten else grad

    return fn


GRAD_MISTAKES = {
    "stub": _stub,
    "mean of the scores": _grad_with(reduce="mean"),
    "no create_graph": _grad_with(create_graph=False),
    "flattens the gradient": _grad_with(flatten=True),
    "backward() fills the critic's .grad": _grad_with(backward=True),
    "one gradient for the batch": lambda critic, x: critic_gradient_solution(critic, x).sum(0),
    "the scores, not their gradient": lambda critic, x: critic(x),
    "returns nothing": lambda critic, x: None,
}


def test_critic_gradient_solution_passes(capsys):
    check_critic_gradient(critic_gradient_solution)
    assert "critic_gradient: all checks passed" in capsys.readouterr().out


def test_critic_gradient_with_requires_grad_in_place_also_passes():
    def in_place(critic, x):
        x.requires_grad_(True)
        return torch.autograd.grad(critic(x).sum(), x, create_graph=True)[0]

    check_critic_gradient(in_place)


@pytest.mark.parametrize("name", GRAD_MISTAKES)
def test_critic_gradient_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_critic_gradient(GRAD_MISTAKES[name])


# --- gradient_penalty -------------------------------------------------------------------------

def _penalty(*, alpha="sample", norm=2, square=True, reduce="mean", create_graph=True, weight=1.0,
             one_sided=False, norm_dim="all", minus_one=True):
    """Return a gradient_penalty with one thing changed."""

    def fn(critic, real, fake):
        n = real.shape[0]
        if alpha == "sample":
            a = torch.rand(n, *([1] * (real.ndim - 1)), dtype=real.dtype)
        elif alpha == "pixel":
            a = torch.rand_like(real)
        elif alpha == "batch":
            a = torch.rand(1, dtype=real.dtype)
        else:
            a = torch.full((n, *([1] * (real.ndim - 1))), float(alpha), dtype=real.dtype)
        x_hat = (a * real + (1 - a) * fake).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
        if norm_dim == "all":
            size = g.flatten(1).norm(norm, dim=1)
        else:
            size = g.norm(norm, dim=norm_dim)
        d = size - 1 if minus_one else size
        if one_sided:
            d = d.clamp_min(0)
        per_sample = d**2 if square else d
        total = per_sample.mean() if reduce == "mean" else per_sample.sum()
        return weight * total

    return fn


def penalty_solution(critic, real, fake):
    return _penalty()(critic, real, fake)


def _squared_norm_penalty(critic, real, fake):
    a = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), dtype=real.dtype)
    x_hat = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).pow(2).sum(1) - 1) ** 2).mean()


PENALTY_MISTAKES = {
    "stub": _stub,
    "L1 norm": _penalty(norm=1),
    "alpha per pixel": _penalty(alpha="pixel"),
    "one alpha for the whole batch": _penalty(alpha="batch"),
    "alpha fixed at 1/2": _penalty(alpha=0.5),
    "alpha outside [0, 1]": _penalty(alpha=1.5),
    "missing square": _penalty(square=False),
    "sum instead of mean": _penalty(reduce="sum"),
    "includes lambda = 10": _penalty(weight=10.0),
    "no create_graph": _penalty(create_graph=False),
    "one-sided penalty": _penalty(one_sided=True),
    "norm over the last dimension only": _penalty(norm_dim=-1),
    "norm over the channel dimension only": _penalty(norm_dim=1),
    "penalises |grad|^2": _penalty(minus_one=False),
    "squared norm in place of the norm": _squared_norm_penalty,
    "returns nothing": lambda critic, real, fake: None,
}


def test_gradient_penalty_solution_passes(capsys):
    check_gradient_penalty(penalty_solution)
    assert "gradient_penalty: all checks passed" in capsys.readouterr().out


def test_gradient_penalty_of_the_package_passes():
    from gancourse.losses import gradient_penalty

    check_gradient_penalty.__wrapped__(gradient_penalty)  # the check agrees with the package


@pytest.mark.parametrize("name", PENALTY_MISTAKES)
def test_gradient_penalty_mistakes_fail(name):
    torch.manual_seed(0)
    with pytest.raises(ExerciseError):
        check_gradient_penalty(PENALTY_MISTAKES[name])


# --- critic_loss ------------------------------------------------------------------------------

def critic_loss_solution(real_scores, fake_scores, gp, gp_weight):
    return fake_scores.mean() - real_scores.mean() + gp_weight * gp


CRITIC_MISTAKES = {
    "stub": _stub,
    "roles swapped": lambda r, f, gp, w: r.mean() - f.mean() + w * gp,
    "penalty subtracted": lambda r, f, gp, w: f.mean() - r.mean() - w * gp,
    "lambda on everything": lambda r, f, gp, w: w * (f.mean() - r.mean() + gp),
    "lambda on the wrong term": lambda r, f, gp, w: w * (f.mean() - r.mean()) + gp,
    "sums": lambda r, f, gp, w: f.sum() - r.sum() + w * gp,
    "one mean over both batches": lambda r, f, gp, w: torch.cat([-r, f]).mean() + w * gp,
    "forgets the penalty": lambda r, f, gp, w: f.mean() - r.mean(),
    "BCE on logits": lambda r, f, gp, w: F.softplus(-r).mean() + F.softplus(f).mean() + w * gp,
    "a float": lambda r, f, gp, w: (f.mean() - r.mean() + w * gp).item(),
    "returns nothing": lambda r, f, gp, w: None,
}


def test_critic_loss_solution_passes(capsys):
    check_critic_loss(critic_loss_solution)
    assert "critic_loss: all checks passed" in capsys.readouterr().out


def test_critic_loss_from_the_package_passes():
    from gancourse.losses import wasserstein_critic_loss

    check_critic_loss(lambda r, f, gp, w: wasserstein_critic_loss(r, f) + w * gp)


@pytest.mark.parametrize("name", CRITIC_MISTAKES)
def test_critic_loss_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_critic_loss(CRITIC_MISTAKES[name])


# --- wasserstein_generator_loss ---------------------------------------------------------------

GEN_MISTAKES = {
    "stub": _stub,
    "sign": lambda f: f.mean(),
    "sum": lambda f: -f.sum(),
    "non-saturating loss on scores": lambda f: F.softplus(-f).mean(),
    "minimax loss on scores": lambda f: -F.softplus(f).mean(),
    "clamped scores": lambda f: -f.clamp(-10, 10).mean(),
    "a float": lambda f: -f.mean().item(),
    "returns nothing": lambda f: None,
}


def test_generator_loss_solution_passes(capsys):
    check_wasserstein_generator_loss(lambda f: -f.mean())
    assert "wasserstein_generator_loss: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", GEN_MISTAKES)
def test_generator_loss_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_wasserstein_generator_loss(GEN_MISTAKES[name])
