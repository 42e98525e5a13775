"""``DiffAugmentSteps``: the GAN's steps with differentiable augmentation (DiffAugment, ADA).

D sees only augmented images, real and fake alike, in the D step; G's loss is D's score of its
augmented samples, so G's gradient passes through the transform (``gancourse.data.augment``).
``reals_only=True`` is the mistake the method avoids: the reals are augmented and the fakes are
not, so D learns that augmented-looking images are real, and G learns to draw them (the leak).
With ``ada_target`` the probability p of each op adapts as in ADA (Karras et al., 2020): every
``ada_interval`` D steps, p moves up when r_t = E[sign D(real)] exceeds the target, else down.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import boolean, fraction, number, positive_int
from gancourse.data.augment import ada_adjust, ada_overfitting, diff_augment
from gancourse.models.noise import sample_noise
from gancourse.training.steps import DLoss, DStep, GANSteps, GLoss, GStep

__all__ = ["DiffAugmentSteps"]


class DiffAugmentSteps(GANSteps):
    """The plain GAN's steps with ``diff_augment(·, policy, p=p)`` in front of D (unconditional G)."""

    def __init__(self, policy: str = "color,translation,cutout", *, reals_only: bool = False, p: float = 1.0,
                 ada_target: float | None = None, ada_interval: int = 4, ada_speed_images: int = 20_000) -> None:
        diff_augment(torch.zeros(1, 1, 8, 8), policy)  # a bad policy fails now, not at the first step
        self.policy = policy
        self.reals_only = boolean("reals_only", reals_only, "True only to show the leak")
        self.p = fraction("p", p, "the probability of each op; 1 for DiffAugment")
        self.ada_target = None if ada_target is None else number("ada_target", ada_target, "ADA's 0.6",
                                                                 above=-1, below=1)
        self.ada_interval = positive_int("ada_interval", ada_interval)
        self.ada_speed_images = positive_int("ada_speed_images", ada_speed_images,
                                             "images over which p could cross [0, 1]")
        self._signs: list[float] = []

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy, p=self.p) if self.p > 0 else x

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Score the augmented real batch and the (unless reals_only) augmented fakes."""
        fake = G(sample_noise(real.shape[0], G.z_dim, device=real.device), *cond)
        shown = fake.detach() if self.reals_only else self._augment(fake.detach())
        real_scores, fake_scores = D(self._augment(real), *cond), D(shown, *cond)
        r_t = ada_overfitting(real_scores)
        stats = {"p": torch.tensor(self.p), "r_t": torch.tensor(r_t)}  # p as used in this step
        if self.ada_target is not None:
            self._signs.append(r_t)
            if len(self._signs) == self.ada_interval:
                r_t = sum(self._signs) / len(self._signs)
                self.p = ada_adjust(self.p, r_t, real.shape[0], self.ada_interval, self.ada_target,
                                    self.ada_speed_images)
                self._signs.clear()
        return DStep(d_loss(real_scores, fake_scores), real_scores, fake_scores, real, fake, cond, stats=stats)

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """G's loss on D's score of its augmented samples (un-augmented with reals_only)."""
        shown = d.fake if self.reals_only else self._augment(d.fake)
        return GStep(g_loss(D(shown, *d.cond)))
