"""StyleGAN2's modulated convolution (Karras et al., 2020): the style scales the weights, not the activations.

AdaIN normalises each feature map's statistics away, and StyleGAN's generator learned to hide
information in spikes of activation that survive it (the "droplet" artefacts). StyleGAN2 moves
the style into the convolution: the weight w[o, i] of each sample is scaled by that sample's style
s[i] for input channel i (modulation), then each output channel o of the result is rescaled to unit
L2 norm over (i, ky, kx) (demodulation), which normalises the expected output statistics without
looking at the activations themselves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import boolean, integer, positive_int
from gancourse.models.progressive import EqualizedLinear

__all__ = ["modulated_weight", "modulated_conv2d", "ModulatedConv2d"]


def modulated_weight(weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     eps: float = 1e-8) -> torch.Tensor:
    """Return each sample's effective weight, shape (N, out, in, k, k): W * s_i, then (optionally) unit norm.

    With ``demodulate``, every output channel of every sample's weight is divided by its L2 norm
    over the input channels and the kernel (dims 2, 3, 4), sqrt(sum + eps).
    """
    if weight.ndim != 4:
        raise ValueError(f"weight must have shape (out, in, k, k), got {tuple(weight.shape)}")
    if styles.ndim != 2 or styles.shape[1] != weight.shape[1]:
        raise ValueError(f"styles must have shape (N, in) = (N, {weight.shape[1]}), one scale per input "
                         f"channel and sample, got {tuple(styles.shape)}")
    w = weight[None] * styles[:, None, :, None, None]
    if boolean("demodulate", demodulate):
        w = w * torch.rsqrt(w.pow(2).sum(dim=(2, 3, 4), keepdim=True) + eps)
    return w


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     padding: int | None = None) -> torch.Tensor:
    """Return the convolution of each sample of x (N, in, H, W) with its own modulated weight.

    ``padding`` defaults to k // 2 (the output keeps the input's size for odd k). Computed without
    building N weights: scaling input channel i by s_i before a shared convolution is the same as
    scaling the weight, and demodulation is one factor per sample and output channel afterwards
    (StyleGAN2's non-fused route; ``modulated_weight`` is the per-sample weight it equals).
    """
    if x.ndim != 4 or x.shape[1] != weight.shape[1] or x.shape[0] != styles.shape[0]:
        raise ValueError(f"x must have shape (N, in, H, W) with in = {weight.shape[1]} and N = "
                         f"{styles.shape[0]} (one style per sample), got {tuple(x.shape)}")
    if styles.ndim != 2 or styles.shape[1] != weight.shape[1]:
        raise ValueError(f"styles must have shape (N, in) = (N, {weight.shape[1]}), got {tuple(styles.shape)}")
    pad = weight.shape[-1] // 2 if padding is None else integer("padding", padding, at_least=0)
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=pad)
    if boolean("demodulate", demodulate):
        # |W[o] * s|^2 summed over (in, ky, kx) = sum_i s_i^2 sum_k W[o, i, k]^2: one (N, out) matmul.
        norm2 = styles.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t()
        out = out * torch.rsqrt(norm2 + 1e-8)[:, :, None, None]
    return out

class ModulatedConv2d(nn.Module):
    """A k x k modulated convolution whose styles come from w by a learned affine map (bias 1: s starts at 1)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 3,
                 demodulate: bool = True) -> None:
        super().__init__()
        positive_int("kernel_size", kernel_size)
        self.weight = nn.Parameter(torch.randn(out_channels, positive_int("in_channels", in_channels),
                                               kernel_size, kernel_size))
        self.affine = EqualizedLinear(positive_int("w_dim", w_dim), in_channels, bias_init=1.0, gain=1.0)
        self.demodulate = boolean("demodulate", demodulate)
        self.scale = 1 / (in_channels * kernel_size ** 2) ** 0.5  # equalised lr (irrelevant once demodulated)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Return the convolution of x (N, in, H, W) modulated by the style of w (N, w_dim)."""
        return modulated_conv2d(x, self.weight * self.scale, self.affine(w), self.demodulate)
