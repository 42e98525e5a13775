"""Checks for the exercises of Chapter 7 (controllable generation): the noise update and the penalised score.

Both against closed forms: a linear classifier's gradient is its weight vector, and a score built
from ones and zeros has a penalty one can count. Reference solutions, with the names and
signatures the checks call:

    def noise_update(z, grad, lr):
        ### BEGIN SOLUTION
        return z + lr * grad
        ### END SOLUTION

    def score_with_penalty(logits, original_logits, target, penalty_weight):
        ### BEGIN SOLUTION
        others = [j for j in range(logits.shape[1]) if j != target]
        change = logits[:, others] - original_logits[:, others]
        return logits[:, target] - penalty_weight * (change ** 2).sum(dim=1)
        ### END SOLUTION

The package's versions: ``gancourse.control.noise_update`` and ``score_with_penalty``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_noise_update", "check_score_with_penalty", "check_steering"]


@refuses("gancourse.control.noise_update")
def check_noise_update(fn: Callable[..., Any]) -> None:
    """Check noise_update(z, grad, lr) = z + lr * grad (gradient ASCENT), without modifying z."""
    name = "noise_update"
    z = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    grad = torch.tensor([[0.5, -1.0], [2.0, 0.0]])
    z_before = z.clone()
    got = call_student(fn, z, grad, 0.1)
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(got, torch.Tensor) and got.shape == z.shape,
           f"{name} must return a tensor shaped like z, {tuple(z.shape)}, got {tuple(getattr(got, 'shape', ()))}")
    got = got.detach()
    want = torch.tensor([[1.05, 1.9], [3.2, 4.0]])
    mistakes = [
        (torch.tensor([[0.95, 2.1], [2.8, 4.0]]), "you stepped DOWN the gradient; raising the score is gradient "
                                                  "ASCENT: z + lr * grad"),
        (z + grad, "the step ignores lr: z + lr * grad"),
        (0.1 * grad, "you returned only the step lr * grad; add it to z"),
        (z + 0.01 * grad, "you multiplied by lr twice"),
        (0.1 * z + grad, "lr scales the gradient, not z: z + lr * grad"),
    ]
    for value, why in mistakes:
        if torch.allclose(got, value):
            raise ExerciseError(f"{name}(z, grad, lr=0.1) should be [[1.05, 1.9], [3.2, 4.0]]: {why}")
    expect(torch.equal(z, z_before), f"{name} changed z in place: return a new tensor (z + lr * grad), so that "
                                     "the starting z (and every z of a trajectory) stays as it was")
    unit = z + 0.1 * grad / grad.norm(dim=1, keepdim=True)
    if torch.allclose(got, unit) or torch.allclose(got, z + 0.1 * grad / grad.norm()):
        raise ExerciseError(f"{name}: you normalised the gradient; the plain update is z + lr * grad")
    expect(torch.allclose(got, want), f"{name}(z, grad, lr=0.1) should be [[1.05, 1.9], [3.2, 4.0]], got {got.tolist()}")

    # With a linear logit l(z) = w . z, the gradient is w at every z: one step moves z by exactly lr * w.
    w = torch.tensor([3.0, -4.0, 0.5])
    z = torch.tensor([[0.0, 1.0, -2.0], [1.0, 1.0, 1.0]], requires_grad=True)
    (g,) = torch.autograd.grad((z @ w).sum(), z)
    got = call_student(fn, z.detach(), g, 0.5)
    expect(isinstance(got, torch.Tensor) and torch.allclose(got.detach(), z.detach() + 0.5 * w),
           f"{name}: for the logit l(z) = w . z with w = (3, -4, 0.5), one step of lr 0.5 moves z by 0.5 w = "
           f"(1.5, -2, 0.25), got {getattr(got, 'tolist', lambda: got)()}")
    passed(name)


@refuses("gancourse.control.score_with_penalty")
def check_score_with_penalty(fn: Callable[..., Any]) -> None:
    """Check score_with_penalty(logits, original_logits, target, penalty_weight): per-sample target logit minus
    penalty_weight * sum over the other attributes of their squared change."""
    name = "score_with_penalty"

    def run(logits: torch.Tensor, original: torch.Tensor, target: int, weight: float) -> torch.Tensor:
        got = call_student(fn, logits, original, target, weight)
        expect(got is not None, f"{name} returned None: did you forget `return`?")
        expect(isinstance(got, torch.Tensor), f"{name} must return a tensor, got {type(got).__name__}")
        expect(tuple(got.shape) != (), f"{name} returned one number for the batch; return one score PER SAMPLE, "
                                       f"shape (N,) = ({logits.shape[0]},), so that each z gets its own gradient")
        expect(tuple(got.shape) == (logits.shape[0],), f"{name} must return one score per sample, shape "
                                                       f"({logits.shape[0]},), got {tuple(got.shape)}")
        return got

    # Ones and zeros: 3 samples, 5 attributes, every logit moved from 0 to 1, target 2, weight 0.5.
    # Target logit 1; the 4 others each changed by 1: squared change 4; score 1 - 0.5 * 4 = -1.
    got = run(torch.ones(3, 5), torch.zeros(3, 5), 2, 0.5).detach()
    mistakes = {
        -1.5: "the penalty counts the target too (5 squared changes); penalise only the OTHER attributes",
        0.0: "you penalised the L2 norm of the change (2) instead of its square (4)",
        3.0: "the penalty is subtracted: the score is target - weight * penalty",
        -3.0: "the penalty weight is missing: target - penalty_weight * penalty",
        0.5: "you averaged the squared changes over the other attributes; sum them",
        -2.0: "the target term is missing or reads the ORIGINAL target logit (0); the score adds the current one",
    }
    for value, why in mistakes.items():
        if torch.allclose(got, torch.full((3,), value)):
            raise ExerciseError(f"{name}(ones, zeros, target 2, weight 0.5) should be -1 per sample, got {value}: {why}")
    expect(torch.allclose(got, torch.full((3,), -1.0)),
           f"{name}(ones, zeros, target 2, weight 0.5): target 1 minus 0.5 * (4 others, each changed by 1) = -1, "
           f"got {got.tolist()}")

    # Uneven changes: row 0's others change by (0, 2, -2): squared 8, L1 4, L2 2.83; score 2 - 0.1 * 8 = 1.2.
    # Row 1 did not move: score = its target logit, 0.7.
    logits = torch.tensor([[2.0, 0.5, 3.0, -1.0], [0.7, 1.0, 1.0, 1.0]])
    original = torch.tensor([[0.0, 0.5, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    got = run(logits, original, 0, 0.1).detach()
    if torch.allclose(got, torch.tensor([1.6, 0.7])):
        raise ExerciseError(f"{name}: you penalised the absolute (L1) change; square each change and sum")
    if torch.allclose(got[0], torch.tensor(2 - 0.1 * 8**0.5)):
        raise ExerciseError(f"{name}: you penalised the L2 norm of the change; penalise its SQUARE (a sum of squares)")
    expect(torch.allclose(got, torch.tensor([1.2, 0.7])),
           f"{name}: logits {logits.tolist()} from {original.tolist()} with target 0, weight 0.1 should score "
           f"[2 - 0.1 * (0 + 4 + 4), 0.7] = [1.2, 0.7], got {got.tolist()}")

    # Differentiable in the current logits: d score_i / d l_it = 1, d score_i / d l_ij = -2 w (l_ij - l0_ij).
    logits = logits.clone().requires_grad_(True)
    out = run(logits, original, 0, 0.1)
    expect(out.requires_grad, f"{name} must stay differentiable in the logits: the gradient w.r.t. z flows through it")
    out.sum().backward()
    want = torch.tensor([[1.0, 0.0, -0.4, 0.4], [1.0, 0.0, 0.0, 0.0]])
    expect(logits.grad is not None and torch.allclose(logits.grad, want),
           f"{name}: its gradient in the logits should be {want.tolist()} (1 for the target, -2 w change for the "
           f"others), got {None if logits.grad is None else logits.grad.tolist()}")
    passed(name)


# -- Experiment: steer one attribute, hold the others --------------------------------------------

def check_steering(before: torch.Tensor, after: torch.Tensor, target: int, min_gain: float = 1.0,
                   max_leak: float = 0.5) -> None:
    """Grade a steering run from the attribute judge's logits before and after it, shape (N, A).

    The target's logit must rise by at least ``min_gain`` on average, and the other attributes'
    logits must move, on average, by at most ``max_leak`` times that gain.
    """
    name = "steering"
    for what, t in (("before", before), ("after", after)):
        expect(isinstance(t, torch.Tensor) and t.ndim == 2,
               f"{name}: {what} must be the judge's logits, a tensor of shape (N, attributes)")
    expect(before.shape == after.shape, f"{name}: before {tuple(before.shape)} and after {tuple(after.shape)} "
                                        "must be the logits of the same N samples")
    n_attr = before.shape[1]
    expect(isinstance(target, int) and 0 <= target < n_attr, f"{name}: target must be an attribute index "
                                                             f"in 0..{n_attr - 1}")
    delta = (after - before).detach().double()
    gain = delta[:, target].mean().item()
    others = [i for i in range(n_attr) if i != target]
    leak = delta[:, others].abs().mean().item() if others else 0.0
    expect(gain >= min_gain, f"{name}: the target's logit rose by {gain:.2f} on average (at least {min_gain} "
                             "asked): take more steps or a larger step size")
    expect(leak <= max_leak * gain,
           f"{name}: the other attributes moved by {leak:.2f} on average, more than {max_leak} x the gain "
           f"({gain:.2f}): add the penalty that holds them still (score_with_penalty) or raise its weight")
    print(f"target gain {gain:.2f}; the others moved {leak:.2f} on average ({leak / gain:.2f} x the gain)")
    passed(name)
