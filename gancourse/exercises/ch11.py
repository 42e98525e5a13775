"""Checks for the capstone's exercise (report question b): per-layer gradient norms of a WGAN critic.

The expected values are closed forms on a linear critic f(x) = <w, x> + b: the critic loss
L = mean f(fake) - mean f(real) has dL/dw = mean(fake) - mean(real), and the gradient penalty
(|grad_x f| - 1)^2 = (|w| - 1)^2 for every interpolate, with d/dw = 2 lambda (|w| - 1) w / |w|.
Reference solution, with the name and signature the check calls (``import torch``; the course's
``gradient_penalty`` and ``layer_grad_norms`` are the building blocks):

    def layer_norms_after_step(critic, real, fake, gp_weight=0.0):
        ### BEGIN SOLUTION
        critic.zero_grad()
        loss = critic(fake).mean() - critic(real).mean()
        if gp_weight > 0:
            loss = loss + gp_weight * gradient_penalty(critic, real, fake)
        loss.backward()
        return [norm.item() for norm in layer_grad_norms(critic).values()]
        ### END SOLUTION
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gancourse.exercises._check import ExerciseError, call_student, expect, passed

__all__ = ["check_layer_norms_after_step"]


def _linear_critic() -> nn.Module:
    critic = nn.Sequential(nn.Linear(2, 1))
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[1.2, 1.6]]))  # |w| = 2
        critic[0].bias.fill_(0.5)
    return critic


def check_layer_norms_after_step(fn: Callable[..., Any]) -> None:
    """Check layer_norms_after_step(critic, real, fake, gp_weight): one gradient norm per layer of the critic loss."""
    name = "layer_norms_after_step"
    real = torch.tensor([[1.0, 2.0], [3.0, 0.0]])  # mean (2, 1)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # mean (1, 1)
    critic = _linear_critic()
    plain = call_student(fn, critic, real, fake, 0.0)
    expect(plain is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(plain, list) and len(plain) == 1,
           f"{name} must return a list with one norm per layer (this critic has 1 Linear layer), got {plain!r}")
    twice = call_student(fn, critic, real, fake, 0.0)
    if abs(twice[0] - 2.0) < 1e-4 and abs(plain[0] - 1.0) < 1e-4:
        raise ExerciseError(f"{name}: a second call doubled the norm: zero the old gradients first "
                            "(critic.zero_grad())")
    # dL/dw = mean(fake) - mean(real) = (-1, 0); dL/db = 0.
    expect(abs(plain[0] - 1.0) < 1e-4,
           f"{name}: without the penalty the weight's gradient is mean(fake) - mean(real) = (-1, 0), norm 1, "
           f"for L = mean f(fake) - mean f(real); got {plain[0]:.4g}")
    penalised = call_student(fn, _linear_critic(), real, fake, 10.0)
    # GP = (|w| - 1)^2 for any interpolate: d/dw = 2 * 10 * (2 - 1) * w / 2 = (12, 16);
    # dL/dw = (-1, 0) + (12, 16) = (11, 16), norm sqrt(377).
    want = math.sqrt(377)
    expect(isinstance(penalised, list) and len(penalised) == 1 and abs(penalised[0] - want) < 1e-3 * want,
           f"{name}: with gp_weight 10 the weight's gradient is (-1, 0) + 10 * 2 (|w| - 1) w / |w| = (11, 16), "
           f"norm sqrt(377) = {want:.4g}; got {penalised!r}: add gp_weight * GP to the loss")
    torch.manual_seed(0)
    deep = nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.2), nn.Linear(4, 4), nn.LeakyReLU(0.2),
                         nn.Linear(4, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    norms = call_student(fn, deep, real, fake, 10.0)
    expect(isinstance(norms, list) and len(norms) == 4 and all(isinstance(v, float) and v > 0 for v in norms),
           f"{name}: a critic with 4 Linear layers needs 4 positive floats, one per layer, got {norms!r}")
    passed(name)
