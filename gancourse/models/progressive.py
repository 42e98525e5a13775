"""ProGAN's parts (Karras et al., 2018): pixel norm, minibatch stddev, equalised learning rate, growing.

- ``pixel_norm(x)``: each pixel's feature vector divided by its root mean square over channels,
  so G's activations cannot escalate (the paper's replacement for batch norm in G).
- ``minibatch_stddev(x, group_size)``: one extra channel for D holding how much the samples of a
  group differ; a collapsed G (identical samples) shows up there as 0, a cue D can use.
- ``EqualizedLinear``, ``EqualizedConv2d``: weights drawn from N(0, 1) and multiplied at run time by
  He's constant sqrt(2 / fan_in). Adam's step is about the same size for every weight, so the
  scaling makes every layer learn at the same speed whatever its fan-in.
- ``ProgressiveGenerator``: 7 -> 14 -> 28 pixels; a new resolution fades in with ``alpha``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import fraction, integer, number, positive_int

__all__ = ["pixel_norm", "minibatch_stddev", "EqualizedLinear", "EqualizedConv2d",
           "ProgressiveGenerator"]


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Return x / sqrt(mean over channels (dim 1) of x^2 + eps): unit mean square per pixel."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Return x (N, C, H, W) with one channel more: the stddev of its group, the same for all its members.

    Group j holds samples j, j + N/G, j + 2N/G, ... (the official layout, G = ``group_size``);
    within a group, each feature at each position has a BIASED standard
    deviation over the group's members; their mean over features and positions is one number per
    group, appended as a constant channel to each of its members.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be feature maps of shape (N, C, H, W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    g = min(positive_int("group_size", group_size, "samples per group, e.g. 4"), n)
    if n % g:
        raise ValueError(f"the batch size ({n}) must be a multiple of group_size ({g}), or smaller than it")
    y = x.reshape(g, n // g, c, h, w)                     # member, group, C, H, W
    y = (y - y.mean(dim=0)).pow(2).mean(dim=0)           # biased variance over the members
    y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))            # one number per group
    y = y.repeat(g)[:, None, None, None].expand(n, 1, h, w)  # back to every member of the group
    return torch.cat([x, y.to(x.dtype)], dim=1)


class EqualizedLinear(nn.Module):
    """A linear layer with equalised learning rate: W ~ N(0, 1) / lr_mul, used as W * sqrt(2 / fan_in) * lr_mul.

    ``lr_mul`` < 1 slows the layer down (StyleGAN's mapping network uses 0.01); ``gain`` replaces
    He's sqrt(2) (1 for a layer followed by no ReLU-like activation).
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        positive_int("in_features", in_features)
        positive_int("out_features", out_features)
        self.lr_mul = number("lr_mul", lr_mul, "1, or e.g. 0.01 for StyleGAN's mapping network", above=0)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / self.lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / self.lr_mul)) if bias else None
        self.scale = gain / math.sqrt(in_features) * self.lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x Wᵀ * scale + b * lr_mul."""
        bias = None if self.bias is None else self.bias * self.lr_mul
        return F.linear(x, self.weight * self.scale, bias)


class EqualizedConv2d(nn.Module):
    """A convolution with equalised learning rate: W ~ N(0, 1), used as W * sqrt(2 / (in * k * k))."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0,
                 bias: bool = True, gain: float = math.sqrt(2)) -> None:
        super().__init__()
        positive_int("in_channels", in_channels)
        positive_int("out_channels", out_channels)
        positive_int("kernel_size", kernel_size)
        self.padding = integer("padding", padding, at_least=0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the convolution of x with W * scale."""
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class ProgressiveGenerator(nn.Module):
    """G: z (N, z_dim) -> 28 x 28 images, grown 7 -> 14 -> 28 with a fade-in (ProGAN's generator).

    ``stage`` 0, 1, 2 makes 7, 14 or 28 px images (returned upsampled by nearest neighbour to 28 so
    that one discriminator sees them all); while a stage is new, ``alpha`` in [0, 1] blends
    the upsampled image of the previous stage (weight 1 - alpha) with the new block's (alpha).
    Pixel norm after every convolution, equalised learning rate everywhere.
    """

    SIZES = (7, 14, 28)

    def __init__(self, z_dim: int = 64, width: int = 64) -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.width = positive_int("width", width, "channels of every feature map")
        self.stage, self.alpha = 2, 1.0
        self.project = EqualizedLinear(z_dim, width * 7 * 7, gain=math.sqrt(2) / 4)
        # One convolution at 7 px, two at each later resolution.
        self.blocks = nn.ModuleList(
            nn.ModuleList(EqualizedConv2d(width, width, 3, padding=1) for _ in range(1 if s == 0 else 2))
            for s in range(len(self.SIZES)))
        self.to_image = nn.ModuleList([EqualizedConv2d(width, 1, 1, gain=1.0) for _ in self.SIZES])

    def set_stage(self, stage: int, alpha: float = 1.0) -> None:
        """Make 7, 14 or 28 px images (stage 0, 1, 2), the newest block faded in by ``alpha``."""
        self.stage = integer("stage", stage, "0, 1 or 2 for 7, 14 or 28 px", at_least=0, at_most=2)
        self.alpha = fraction("alpha", alpha, "0: the previous stage's image, 1: the new block's")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return the images of the current stage and fade-in, upsampled to (N, 1, 28, 28)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (N, {self.z_dim}), got {tuple(z.shape)}")
        x = self.project(pixel_norm(z)).view(-1, self.width, 7, 7)
        x = pixel_norm(F.leaky_relu(x, 0.2))
        previous = None
        for s in range(self.stage + 1):
            if s > 0:
                previous = x
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            for conv in self.blocks[s]:
                x = pixel_norm(F.leaky_relu(conv(x), 0.2))
        image = self.to_image[self.stage](x)
        if previous is not None and self.alpha < 1:
            # The fade-in: the old resolution's image, upsampled, blended with the new block's.
            old = F.interpolate(self.to_image[self.stage - 1](previous), scale_factor=2, mode="nearest")
            image = (1 - self.alpha) * old + self.alpha * image
        scale = 28 // self.SIZES[self.stage]
        return torch.tanh(F.interpolate(image, scale_factor=scale, mode="nearest") if scale > 1 else image)

