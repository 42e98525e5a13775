"""A small BigGAN-style class-conditional generator (Brock et al., 2019; Zhang et al., 2019).

It puts chapter 9's first three mechanisms into one network that trains: class-conditional batch
norm (``ConditionalBatchNorm2d``: every layer's gain and bias depend on the class), a SAGAN
self-attention block at the middle resolution (``SelfAttention2d``, which starts as the identity),
and spectral norm on every convolution and linear layer of G as SAGAN and BigGAN use it. Train it
against ``ProjectionDiscriminator`` with the hinge loss and two time-scale rates, and add BigGAN's
orthogonal regularisation with ``gancourse.training.OrthogonalSteps``.

Layout for 28 px: z -> linear -> (2 width, 7, 7); [CBN, ReLU, upsample x2, 3 x 3 conv] to
(width, 14, 14); self-attention; [CBN, ReLU, upsample x2, 3 x 3 conv] to (width / 2, 28, 28); BN, ReLU,
3 x 3 conv to the image, tanh. Nearest-neighbour upsampling followed by a convolution, as BigGAN's
blocks do (no transposed convolutions).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from gancourse.checks import boolean, integer, positive_int
from gancourse.models.attention import ConditionalBatchNorm2d, SelfAttention2d

__all__ = ["BigGANGenerator"]


class BigGANGenerator(nn.Module):
    """G(z, y) -> (N, channels, 28, 28) in (-1, 1): conditional BN, self-attention at 14 px, spectral norm.

    The 28 px layers have half the width of the 14 px ones (the cost of a convolution grows with the
    map's area). ``attention=False`` leaves the attention block out (the same network otherwise), for equal-
    budget comparisons; ``spectral_norm=False`` leaves G's weights unnormalised.
    """

    image_size = 28

    def __init__(self, z_dim: int = 64, n_classes: int = 10, channels: int = 1, width: int = 32, *,
                 attention: bool = True, spectral_norm: bool = True) -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.n_classes = integer("n_classes", n_classes, "the number of classes, e.g. 10 digits", at_least=2)
        self.channels = positive_int("channels", channels, "1 for grey images, 3 for colour")
        self.width = positive_int("width", width, "channels at 14 px (twice that at 7 px, half at 28 px)")
        sn = _spectral_norm if boolean("spectral_norm", spectral_norm) else (lambda m: m)
        self.fc = sn(nn.Linear(z_dim, 2 * width * 7 * 7))
        self.norm1 = ConditionalBatchNorm2d(2 * width, n_classes)
        self.conv1 = sn(nn.Conv2d(2 * width, width, 3, padding=1))
        self.attention = SelfAttention2d(width) if boolean("attention", attention) else None
        self.norm2 = ConditionalBatchNorm2d(width, n_classes)
        self.conv2 = sn(nn.Conv2d(width, max(1, width // 2), 3, padding=1))
        self.norm_out = nn.BatchNorm2d(max(1, width // 2))
        self.to_image = sn(nn.Conv2d(max(1, width // 2), channels, 3, padding=1))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return G(z, y) for noise z (N, z_dim) and integer class labels y (N,)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (N, {self.z_dim}), got {tuple(z.shape)}; draw it with "
                             f"gancourse.models.sample_noise(N, {self.z_dim})")
        if y.shape != (z.shape[0],) or y.is_floating_point():
            raise ValueError(f"y must hold one integer class label per sample, shape ({z.shape[0]},), got "
                             f"{tuple(y.shape)} of {y.dtype}")
        x = self.fc(z).view(z.shape[0], 2 * self.width, 7, 7)
        x = self.conv1(F.interpolate(F.relu(self.norm1(x, y)), scale_factor=2, mode="nearest"))
        if self.attention is not None:
            x = self.attention(x)
        x = self.conv2(F.interpolate(F.relu(self.norm2(x, y)), scale_factor=2, mode="nearest"))
        return torch.tanh(self.to_image(F.relu(self.norm_out(x))))
