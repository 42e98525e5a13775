"""Checks for the exercises of Chapter 2 (a first GAN), each against closed forms.

The three pieces a student writes before using ``gancourse.training``: the noise sampler, the
non-saturating generator loss, and one discriminator update. Every expected value below is worked
out by hand in a comment; none depends on a random seed the student's code could change.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_sample_noise", "check_nonsaturating_generator_loss", "check_discriminator_step", "check_ring_coverage"]

LOG2 = math.log(2.0)


def _number(result: Any, fname: str) -> float:
    """Return the student's one-number result (tensor or float) as a float, or raise ExerciseError."""
    expect(result is not None, f"{fname} returned None: did you forget `return`?")
    if isinstance(result, torch.Tensor):
        expect(result.numel() == 1, f"{fname} must return one number, got a tensor of shape {tuple(result.shape)}")
        return float(result.detach())
    expect(isinstance(result, (int, float)) and not isinstance(result, bool),
           f"{fname} must return a number or a one-element tensor, got {type(result).__name__}")
    return float(result)


def _close(a: float, b: float, tol: float = 1e-5) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def _softplus(v: float) -> float:
    """Return log(1 + e^v) exactly for any float."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


# --------------------------------------------------------------------------------------------

@refuses("gancourse.models.noise.sample_noise")
def check_sample_noise(fn: Callable[..., Any]) -> None:
    """Check sample_noise(n, z_dim, generator=None): shape, dtype, N(0, I) statistics, reproducibility."""
    name = "sample_noise"
    z = call_student(fn, 5, 3)
    expect(isinstance(z, torch.Tensor), f"{name} must return a torch tensor, got {type(z).__name__}")
    if tuple(z.shape) == (3, 5):
        raise ExerciseError(f"{name}(5, 3) returned shape (3, 5): one ROW per sample, shape (n, z_dim)")
    expect(tuple(z.shape) == (5, 3), f"{name}(5, 3) must return shape (5, 3), got {tuple(z.shape)}")
    expect(z.dtype == torch.float32, f"{name} must return float32 (torch's default), got {z.dtype}")

    # A large seeded draw: the statistics of N(0, 1) hold to within many standard errors.
    n, d = 50_000, 4
    z = call_student(fn, n, d, generator=torch.Generator().manual_seed(0))
    expect(isinstance(z, torch.Tensor) and tuple(z.shape) == (n, d),
           f"{name}({n}, {d}, generator=g) must return shape ({n}, {d}), got {tuple(getattr(z, 'shape', ()))}")
    z = z.detach().double()
    mean, std = z.mean().item(), z.std().item()
    if abs(mean - 0.5) < 0.02:
        raise ExerciseError(f"{name}: the mean is {mean:.3f}, about 1/2: torch.rand draws uniform noise on [0, 1); "
                            "a GAN's z is standard normal, torch.randn")
    expect(abs(mean) < 0.02, f"{name}: z ~ N(0, I) has mean 0, got {mean:.4f}")
    if abs(std - 1 / math.sqrt(3)) < 0.02:
        raise ExerciseError(f"{name}: the standard deviation is {std:.3f} = 1/sqrt(3), that of uniform noise on "
                            "[-1, 1]: use torch.randn")
    expect(abs(std - 1.0) < 0.02, f"{name}: z ~ N(0, I) has standard deviation 1, got {std:.4f}")
    # P(|z| < 1) = erf(1 / sqrt 2) = 0.6827 for a normal; 1/sqrt(3) = 0.577 for a rescaled uniform.
    inside = (z.abs() < 1).double().mean().item()
    want = math.erf(1 / math.sqrt(2))
    expect(abs(inside - want) < 0.01,
           f"{name}: {inside:.3f} of the values lie in (-1, 1) where a standard normal puts {want:.4f}: "
           "the values have mean 0 and std 1 but are not normal; use torch.randn")
    corr = torch.corrcoef(z[:, :2].T)[0, 1].item()
    expect(abs(corr) < 0.02, f"{name}: the coordinates of z must be independent, but columns 0 and 1 have "
                             f"correlation {corr:.3f}; draw n * z_dim independent numbers")

    # Reproducibility: the generator decides the draw.
    a = call_student(fn, 4, 2, generator=torch.Generator().manual_seed(123))
    b = call_student(fn, 4, 2, generator=torch.Generator().manual_seed(123))
    c = call_student(fn, 4, 2, generator=torch.Generator().manual_seed(124))
    expect(torch.equal(a, b), f"{name}: two calls with generators seeded alike must return the same z; "
                              "pass `generator=generator` on to torch.randn")
    expect(not torch.equal(a, c), f"{name}: generators with different seeds gave the same z")
    expect(not torch.equal(call_student(fn, 4, 2), call_student(fn, 4, 2)),
           f"{name}: two calls without a generator returned the same z; draw fresh noise on every call")
    passed(name)


@refuses("gancourse.losses.adversarial.nonsaturating_generator_loss", "gancourse.losses.adversarial.generator_loss")
def check_nonsaturating_generator_loss(fn: Callable[[torch.Tensor], Any]) -> None:
    """Check -E[log D(G(z))] from the logits of D on generated samples: values, stability, gradients."""
    name = "nonsaturating_generator_loss"

    def run(logits: list[float]) -> float:
        out = call_student(fn, torch.tensor(logits, dtype=torch.float32))
        expect(isinstance(out, torch.Tensor),
               f"{name} must return a torch tensor (so that it can be backpropagated), got {type(out).__name__}")
        return _number(out, name)

    # D = 1/2 everywhere: -log(1/2) = log 2.
    got = run([0.0, 0.0, 0.0])
    if _close(got, 3 * LOG2):
        raise ExerciseError(f"{name}: with three logits 0 you returned 3 log 2: you summed over the batch; "
                            "take the mean (an expectation)")
    if _close(got, -LOG2):
        raise ExerciseError(f"{name}: with every logit 0 you returned -log 2. The generator MINIMISES "
                            "-E[log D(G(z))] (= log 2 here); E[log D] or E[log(1 - D)] have the wrong sign or "
                            "are the saturating minimax loss")
    expect(_close(got, LOG2), f"with every logit 0 (D = 1/2) the loss is log 2 = {LOG2:.6f}, got {got}")

    # -log sigmoid(l) = softplus(-l); mean over the batch.
    logits = [1.0, -2.0, 3.0]
    want = sum(_softplus(-v) for v in logits) / len(logits)
    minimax = -sum(_softplus(v) for v in logits) / len(logits)
    got = run(logits)
    if _close(got, minimax) or _close(got, -minimax):
        raise ExerciseError(f"{name}: you computed the minimax loss +/-E[log(1 - D(G(z)))]; the non-saturating "
                            "loss is -E[log D(G(z))]")
    if _close(got, want * len(logits)):
        raise ExerciseError(f"{name}: you summed over the batch; take the mean (an expectation)")
    expect(_close(got, want), f"{name}({logits}) should be {want:.6f}, got {got}")

    # D sure that the fakes are fake (logit -200): the loss is 200, finite; sigmoid(-200) is 0 in float32.
    got = run([-200.0])
    expect(math.isfinite(got),
           f"{name}([-200]) is {got}: sigmoid(-200) rounds to 0 and log 0 = -inf. Work with logits: "
           "-log D = softplus(-logit) (torch.nn.functional.softplus)")
    expect(_close(got, 200.0), f"{name}([-200]) should be 200, got {got}: don't clamp or add an epsilon; "
                               "use softplus on the logits")
    got = run([200.0])
    expect(math.isfinite(got) and abs(got) < 1e-6, f"{name}([200]) should be ~0 (D is fooled), got {got}")

    # The point of the loss: d/dl softplus(-l) = -sigmoid(-l), close to -1 where D rejects the fake (l = -10),
    # whereas the minimax loss's gradient there is sigmoid(-10) = 4.5e-5: it saturates.
    lg = torch.tensor([-10.0, 0.0, 10.0], dtype=torch.float64, requires_grad=True)
    out = call_student(fn, lg)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           f"{name} must stay differentiable: build it from torch operations on the logits (no .item(), no numpy)")
    out.backward()
    expect(lg.grad is not None, f"{name}: no gradient reached the logits")
    want_grad = torch.tensor([-_sigmoid(10.0), -0.5, -_sigmoid(-10.0)], dtype=torch.float64) / 3
    expect(torch.allclose(lg.grad, want_grad, atol=1e-10),
           f"gradients w.r.t. the logits [-10, 0, 10] should be {want_grad.tolist()}, got {lg.grad.tolist()}")
    passed(name)


class _LinearCritic(nn.Module):
    """D(x) = sigmoid(w . x + b) on 2-D inputs, returning the logits (N,)."""

    def __init__(self, w: tuple[float, float], b: float) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor(b, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w + self.b


def check_discriminator_step(fn: Callable[..., Any]) -> None:
    """Check discriminator_step(D, opt_d, real, fake): the loss it returns and the update it makes."""
    name = "discriminator_step"

    # A linear D with w = 0, b = 0 says 1/2 everywhere, so the loss is 2 log 2. Its gradient:
    # dL/dw = -mean_real[sigmoid(-l) x] + mean_fake[sigmoid(l) x] = -x_real_mean / 2 + x_fake_mean / 2,
    # dL/db = -1/2 + 1/2 = 0. With SGD(lr=1): w <- -dL/dw = (x_real_mean - x_fake_mean) / 2.
    D = _LinearCritic((0.0, 0.0), 0.0)
    opt = torch.optim.SGD(D.parameters(), lr=1.0)
    # Stale gradients from an earlier step: a D step must clear them before backpropagating.
    D.w.grad = torch.tensor([100.0, -100.0])
    D.b.grad = torch.tensor(100.0)
    real = torch.tensor([[1.0, 0.0], [3.0, 0.0]])                 # mean (2, 0)
    theta = nn.Parameter(torch.tensor(1.0))                         # a one-parameter "generator"
    fake = theta * torch.tensor([[0.0, 1.0], [0.0, -3.0]])          # mean (0, -1), attached to theta
    got = _number(call_student(fn, D, opt, real, fake), name)
    w, b = D.w.detach(), float(D.b.detach())
    want_w = torch.tensor([1.0, 0.5])  # ((2, 0) - (0, -1)) / 2
    if torch.allclose(w, torch.tensor([1.0, 0.0]), atol=1e-5):
        raise ExerciseError(f"{name}: D moved only towards the real batch: the loss needs the fake term "
                            "-E[log(1 - D(G(z)))] too")
    if _close(got, 4 * LOG2) or torch.allclose(w, 2 * want_w, atol=1e-5):
        raise ExerciseError(f"{name}: you summed over the batches (loss {got:.4f} = 4 log 2 on two samples each); "
                            "take the mean of each term (an expectation)")
    if _close(got, LOG2):
        raise ExerciseError(f"{name}: the loss at D = 1/2 is 2 log 2 = {2 * LOG2:.6f}, you returned log 2: it is "
                            "a sum of two means, -E_real[log D] - E_fake[log(1 - D)], not one mean over both batches")
    if torch.allclose(w, -want_w, atol=1e-5):
        raise ExerciseError(f"{name}: D moved the wrong way (w = {w.tolist()}): D MINIMISES "
                            "-log D(x) - log(1 - D(G(z))); check the signs of the loss")
    if torch.allclose(w, want_w - 100 * torch.tensor([1.0, -1.0]), atol=1e-3) or abs(b + 100) < 1e-3:
        raise ExerciseError(f"{name}: the stale gradients D held before the step went into the update: call "
                            "opt_d.zero_grad() before loss.backward()")
    expect(_close(got, 2 * LOG2), f"{name} should return the loss before the update, 2 log 2 = {2 * LOG2:.6f} "
                                  f"here (D = 1/2 everywhere), got {got}")
    expect(torch.allclose(w, want_w, atol=1e-5) and abs(b) < 1e-5,
           f"after one SGD(lr=1) step from w = 0, b = 0, D should have w = {want_w.tolist()}, b = 0; got "
           f"w = {w.tolist()}, b = {b}. Did you call opt_d.step() once, after loss.backward()?")
    expect(theta.grad is None, f"{name}: gradients flowed into the generator: use D(fake.detach()) in D's step, "
                               "so that D's update does not touch G")

    # D sure that everything is fake (b = -200): loss = softplus(200) + softplus(-200) = 200 in float32,
    # where -log(sigmoid(-200)) = -log(0) = inf.
    D = _LinearCritic((0.0, 0.0), -200.0)
    opt = torch.optim.SGD(D.parameters(), lr=1.0)
    got = _number(call_student(fn, D, opt, real, fake.detach()), name)
    expect(math.isfinite(got),
           f"{name} returned {got} when D's logits are -200: sigmoid then log overflows. Compute the loss from "
           "logits: -log D = softplus(-l), -log(1 - D) = softplus(l)")
    expect(_close(got, 200.0), f"{name} with every logit -200 should return 200, got {got}")
    # dL/db = -sigmoid(200) + sigmoid(-200) = -1: the step moves b from -200 to -199.
    expect(abs(float(D.b.detach()) + 199.0) < 1e-4, f"after the step b should be -199, got {float(D.b.detach())}")
    passed(name)


# -- Experiment: a toy GAN of your own that covers the ring -------------------------------------

def check_ring_coverage(generator: nn.Module, min_modes: int = 6, min_quality: float = 0.5) -> None:
    """Grade a generator trained on the ring of 8 Gaussians (``gancourse.data.toy.ring``).

    Draws 2,500 samples from a fixed seed and counts the modes covered and the share of
    high-quality samples (within 3 standard deviations of a centre), as Chapter 2 does.
    """
    from gancourse.metrics import evaluate_toy_generator

    name = "ring_coverage"
    expect(isinstance(generator, nn.Module) and isinstance(getattr(generator, "z_dim", None), int),
           f"{name}: pass the generator itself, an nn.Module with a z_dim attribute (such as MLPGenerator)")
    modes, quality = evaluate_toy_generator(generator, "ring", n=2_500, seed=0)
    expect(quality >= min_quality,
           f"{name}: only {quality:.0%} of the samples lie within 3 standard deviations of a mode (at least "
           f"{min_quality:.0%} asked): train longer, or check that it learned the ring, not another set")
    expect(modes >= min_modes,
           f"{name}: the samples cover {modes} of the 8 modes (at least {min_modes} asked): that is mode "
           "collapse; try the non-saturating loss, a smaller learning rate, or another seed")
    print(f"modes covered: {modes} of 8; high-quality samples: {quality:.0%}")
    passed(name)
