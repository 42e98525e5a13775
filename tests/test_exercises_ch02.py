"""Chapter 2's exercise checks grade both ways: solutions pass, stubs and classic mistakes fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch02 import (
    check_discriminator_step,
    check_nonsaturating_generator_loss,
    check_sample_noise,
)


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- sample_noise -----------------------------------------------------------------------------

def noise_solution(n, z_dim, generator=None):
    return torch.randn(n, z_dim, generator=generator)


NOISE_MISTAKES = {
    "stub": _stub,
    "uniform [0, 1)": lambda n, z, generator=None: torch.rand(n, z, generator=generator),
    "uniform [-1, 1)": lambda n, z, generator=None: torch.rand(n, z, generator=generator) * 2 - 1,
    "uniform with std 1": lambda n, z, generator=None: (torch.rand(n, z, generator=generator) * 2 - 1) * 3**0.5,
    "transposed": lambda n, z, generator=None: torch.randn(z, n, generator=generator),
    "float64": lambda n, z, generator=None: torch.randn(n, z, generator=generator, dtype=torch.float64),
    "ignores the generator": lambda n, z, generator=None: torch.randn(n, z),
    "std 2": lambda n, z, generator=None: 2 * torch.randn(n, z, generator=generator),
    "mean 1": lambda n, z, generator=None: 1 + torch.randn(n, z, generator=generator),
    "one number repeated per row": lambda n, z, generator=None: torch.randn(n, 1, generator=generator).repeat(1, z),
    "fixed seed inside": lambda n, z, generator=None: torch.randn(n, z, generator=torch.Generator().manual_seed(0)),
    "numpy": lambda n, z, generator=None: __import__("numpy").random.randn(n, z),
    "returns nothing": lambda n, z, generator=None: None,
}


def test_noise_solution_passes(capsys):
    check_sample_noise(noise_solution)
    assert "sample_noise: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", NOISE_MISTAKES)
def test_noise_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_sample_noise(NOISE_MISTAKES[name])


# --- nonsaturating_generator_loss -------------------------------------------------------------

def ns_solution(fake_logits):
    return F.softplus(-fake_logits).mean()


GEN_MISTAKES = {
    "stub": _stub,
    "minimax E[log(1 - D)]": lambda l: -F.softplus(l).mean(),
    "minimax with the sign flipped": lambda l: F.softplus(l).mean(),
    "sign error, E[log D]": lambda l: -F.softplus(-l).mean(),
    "sigmoid then log": lambda l: -torch.log(torch.sigmoid(l)).mean(),
    "sum instead of mean": lambda l: F.softplus(-l).sum(),
    "probabilities as logits": lambda l: -torch.log(l.clamp_min(1e-12)).mean(),
    "epsilon in the log": lambda l: -torch.log(torch.sigmoid(l) + 1e-8).mean(),
    "BCE with the fake label": lambda l: F.binary_cross_entropy_with_logits(l, torch.zeros_like(l)),
    "not differentiable": lambda l: torch.tensor(F.softplus(-l).mean().item()),
    "a float": lambda l: F.softplus(-l).mean().item(),
}


def test_generator_loss_solution_passes(capsys):
    check_nonsaturating_generator_loss(ns_solution)
    assert "all checks passed" in capsys.readouterr().out


def test_bce_with_the_real_label_is_also_right():
    check_nonsaturating_generator_loss(lambda l: F.binary_cross_entropy_with_logits(l, torch.ones_like(l)))


@pytest.mark.parametrize("name", GEN_MISTAKES)
def test_generator_loss_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_nonsaturating_generator_loss(GEN_MISTAKES[name])


# --- discriminator_step -----------------------------------------------------------------------

def _d_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def d_step_solution(D, opt_d, real, fake):
    opt_d.zero_grad()
    loss = _d_loss(D(real), D(fake.detach()))
    loss.backward()
    opt_d.step()
    return loss.item()


def _step(loss_fn, *, zero_grad=True, detach=True, step=True, ret="before"):
    """Return a discriminator step with one thing changed."""

    def fn(D, opt_d, real, fake):
        if zero_grad:
            opt_d.zero_grad()
        loss = loss_fn(D(real), D(fake.detach() if detach else fake))
        loss.backward()
        if step:
            opt_d.step()
        if ret == "after":
            with torch.no_grad():
                return _d_loss(D(real), D(fake)).item()
        return loss

    return fn


D_MISTAKES = {
    "stub": _stub,
    "no zero_grad": _step(_d_loss, zero_grad=False),
    "no detach": _step(_d_loss, detach=False),
    "no optimiser step": _step(_d_loss, step=False),
    "loss after the step": _step(_d_loss, ret="after"),
    "sign error (gradient ascent)": _step(lambda r, f: -_d_loss(r, f)),
    "forgets the fake term": _step(lambda r, f: F.softplus(-r).mean()),
    "roles swapped": _step(lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean()),
    "sigmoid then log": _step(
        lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()
    ),
    "one mean over both batches": _step(
        lambda r, f: F.binary_cross_entropy_with_logits(
            torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])
        )
    ),
    "sums over the batch": _step(lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum()),
    "returns nothing": lambda D, opt, real, fake: None,
}


def test_discriminator_step_solution_passes(capsys):
    check_discriminator_step(d_step_solution)
    assert "discriminator_step: all checks passed" in capsys.readouterr().out


def test_bce_with_labels_and_a_tensor_result_are_also_right():
    def bce(r, f):
        return (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))

    check_discriminator_step(_step(bce))  # returns the loss tensor, not a float


@pytest.mark.parametrize("name", D_MISTAKES)
def test_discriminator_step_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_discriminator_step(D_MISTAKES[name])
