"""SRGAN's steps for THE loop (chapter 10): super-resolution with a content loss and an adversarial one.

The real batches are high-resolution images; each step makes their low-resolution versions itself
(``downsample``: the mean of each ``factor`` x ``factor`` block, as a camera's larger pixels would
record), so that any image set trains a super-resolution network. G maps the low-resolution images
back up (``gancourse.models.SubPixelUpsampler``); D tells real high-resolution images from G's.

``SRGANSteps`` (Ledig et al., 2017): G minimises ``adversarial_weight`` times the GAN loss plus a
content loss, ``l1_weight`` times the L1 distance to the real image and ``perceptual_weight`` times
``perceptual_loss(features, G(x_lr), x)``. With ``adversarial_weight=0`` and ``perceptual_weight=0``
it is plain L1 regression (D trained but ignored, for an equal budget). The History gains ``l1``
and ``perceptual``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gancourse import checks
from gancourse.losses import perceptual_loss
from gancourse.training.steps import DLoss, DStep, GANSteps, GLoss, GStep

__all__ = ["SRGANSteps", "downsample"]


def downsample(images: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Return ``images`` (N, C, H, W) reduced ``factor`` times: the mean of each factor x factor block."""
    checks.integer("factor", factor, "the downsampling factor, e.g. 2", at_least=1)
    if images.ndim != 4 or images.shape[2] % factor or images.shape[3] % factor:
        raise ValueError(f"images must be (N, C, H, W) with H and W divisible by {factor}, got {tuple(images.shape)}")
    return F.avg_pool2d(images, factor)


class SRGANSteps(GANSteps):
    """SRGAN: D judges high-resolution images; G pays the GAN loss and a content loss to the real image."""

    def __init__(self, factor: int = 2, *, l1_weight: float = 1.0, perceptual_weight: float = 0.0,
                 adversarial_weight: float = 1e-3,
                 features: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.factor = checks.integer("factor", factor, "the upscaling factor, e.g. 2", at_least=2)
        self.l1_weight = checks.number("l1_weight", l1_weight, "the L1 content loss's weight", at_least=0)
        self.perceptual_weight = checks.number("perceptual_weight", perceptual_weight,
                                               "the perceptual loss's weight (needs features)", at_least=0)
        self.adversarial_weight = checks.number("adversarial_weight", adversarial_weight,
                                                "SRGAN: 1e-3; 0 for content losses alone", at_least=0)
        if self.perceptual_weight > 0 and not callable(features):
            raise ValueError("perceptual_weight > 0 needs features: a frozen network, images -> features")
        self.features = features

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Upsample the batch's low-resolution versions; D scores the real images against them."""
        fake = G(downsample(real, self.factor))
        real_scores, fake_scores = D(real), D(fake.detach())
        return DStep(d_loss(real_scores, fake_scores), real_scores, fake_scores, real, fake)

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Return the weighted GAN loss and, as the further term, the weighted content losses."""
        l1 = (d.fake - d.real).abs().mean()
        aux = self.l1_weight * l1
        stats = {"l1": l1.detach()}
        if self.perceptual_weight > 0:
            perceptual = perceptual_loss(self.features, d.fake, d.real)
            aux = aux + self.perceptual_weight * perceptual
            stats["perceptual"] = perceptual.detach()
        return GStep(self.adversarial_weight * g_loss(D(d.fake)), aux, stats)
