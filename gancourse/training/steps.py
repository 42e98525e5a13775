"""What one D step and one G step compute: the plain GAN's, which a GAN variant changes by subclassing.

``train_gan`` owns everything around the two steps (batches, optimisers, the penalty's weight,
clipping, freezing D, EMA, schedules, recording, checkpoints). What differs between GANs is what
each step's loss is, so a variant is a ``GANSteps`` subclass that overrides some of:

- ``d_step(G, D, real, cond, d_loss)``: draw fakes, score them and the real batch, return a ``DStep``;
- ``penalty(D, d)``: the gradient penalty (computed only when ``config.gp_weight > 0``);
- ``g_step(G, D, d, g_loss)``: return a ``GStep`` whose loss G minimises (D is frozen meanwhile);
- ``check(G, D)`` before the run and ``finish(G, D, G_ema)`` after it.

InfoGAN (``gancourse.training.infogan``) adds the mutual-information term to both steps; the
grouped toy GANs (``gancourse.training.grouped``) train many small GANs as one. ``d_loss`` and
``g_loss`` are the pair of losses that ``TrainConfig.loss`` names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from gancourse.losses import gradient_penalty
from gancourse.models.noise import sample_noise

__all__ = ["GANSteps", "DStep", "GStep"]

DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (real scores, fake scores) -> D's loss
GLoss = Callable[[torch.Tensor], torch.Tensor]                # fake scores -> G's loss


@dataclass
class DStep:
    """What a D step computed: its loss, the scores, and the batches (for the penalty and the G step)."""

    loss: torch.Tensor           # the adversarial loss D minimises (recorded as d_loss)
    real_scores: torch.Tensor
    fake_scores: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor           # G's samples, still attached to G's graph (the G step may reuse them)
    cond: tuple[torch.Tensor, ...] = ()   # what the fakes were drawn for: labels, or InfoGAN's codes
    aux_loss: torch.Tensor | None = None  # a further term D minimises too (InfoGAN: Q's), not in d_loss
    stats: dict[str, torch.Tensor] = field(default_factory=dict)  # more 0-d numbers to record


@dataclass
class GStep:
    """What a G step computed: the adversarial loss, a variant's further term, and numbers to record."""

    loss: torch.Tensor                    # the adversarial loss G minimises (recorded as g_loss)
    aux_loss: torch.Tensor | None = None  # a further term G minimises too (InfoGAN: the MI term)
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


class GANSteps:
    """The plain GAN's steps (Goodfellow et al., 2014), unconditional or conditional on labels."""

    def check(self, G: nn.Module, D: nn.Module) -> None:
        """Raise if G and D cannot be trained by these steps (before the first step)."""

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Score a real batch and a fresh fake batch; return D's loss on them."""
        z = sample_noise(real.shape[0], G.z_dim, device=real.device)
        fake = G(z, *cond)
        # detach(): this step updates D only; no gradient flows back into G.
        real_scores, fake_scores = D(real, *cond), D(fake.detach(), *cond)
        return DStep(d_loss(real_scores, fake_scores), real_scores, fake_scores, real, fake, cond)

    def penalty(self, D: nn.Module, d: DStep) -> torch.Tensor:
        """Return the gradient penalty at points between the D step's real and fake samples (unweighted)."""
        return gradient_penalty(D, d.real.float(), d.fake.detach().float(), *d.cond)

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Make the freshly updated D score the last fakes as real.

        G has not changed since it drew them, so they are a fresh sample of it; the loop has frozen
        D, so the backward pass computes gradients THROUGH D, not FOR its weights.
        """
        return GStep(g_loss(D(d.fake, *d.cond)))

    def finish(self, G: nn.Module, D: nn.Module, G_ema: nn.Module | None) -> None:
        """Do what the run needs after its last step (nothing, for the plain GAN)."""
