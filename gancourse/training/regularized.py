"""GAN steps with a regulariser: StyleGAN2's lazy R1 on D, BigGAN's orthogonal regularisation on G.

``R1Steps``: the GAN's steps with StyleGAN2's lazy R1 penalty in place of the gradient penalty.

The loop adds ``config.gp_weight * penalty`` to D's loss (set gp_weight = gamma / 2). With
``interval`` k > 1 the penalty is computed on every k-th D step only and multiplied by k there
(zero on the others), so its average weight is unchanged; pass Adam's rate and betas through
``gancourse.losses.lazy_regularization`` as StyleGAN2 does.

``OrthogonalSteps(beta)``: the G step adds beta * ``orthogonal_regularization(G)`` to G's loss
(BigGAN: beta = 1e-4), recorded as ``ortho`` in the history.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import number, positive_int
from gancourse.losses.regularizers import orthogonal_regularization, r1_penalty
from gancourse.training.steps import DStep, GANSteps, GLoss, GStep

__all__ = ["R1Steps", "OrthogonalSteps"]


class R1Steps(GANSteps):
    """Plain GAN steps whose penalty is interval * R1 on every interval-th D step, else 0."""

    def __init__(self, interval: int = 1) -> None:
        self.interval = positive_int("interval", interval, "D steps between penalties, 16 in StyleGAN2")
        self.calls = 0

    def penalty(self, D: nn.Module, d: DStep) -> torch.Tensor:
        """Return interval * R1 at the real batch on every interval-th call, else 0."""
        self.calls += 1
        if (self.calls - 1) % self.interval:
            return torch.zeros((), device=d.real.device)
        return self.interval * r1_penalty(D, d.real.float(), *d.cond)


class OrthogonalSteps(GANSteps):
    """Plain GAN steps whose G step also minimises beta * orthogonal_regularization(G)."""

    def __init__(self, beta: float = 1e-4) -> None:
        self.beta = number("beta", beta, "the penalty's weight, 1e-4 in BigGAN", above=0)

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Return the adversarial G step with beta * the orthogonal penalty of G as a further term."""
        step = super().g_step(G, D, d, g_loss)
        ortho = orthogonal_regularization(G)
        return GStep(step.loss, self.beta * ortho, {**step.stats, "ortho": ortho.detach()})
