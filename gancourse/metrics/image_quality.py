"""How close and how crisp an image is (chapter 10): PSNR, the share of grey pixels, a receptive field measured.

- ``psnr(a, b, data_range)``: per image, 10 log10(range² / MSE) in decibels: the distortion a
  restoration network minimises (L2) or nearly so (L1);
- ``grey_share(images)``: per image, the share of pixels far from both ink (+1) and paper (-1).
  A rendered glyph is almost black and white (only a one-pixel anti-aliased edge is grey); an
  image that hedges between several possible outputs is grey where it hedges: a blur measure;
- ``measured_receptive_field(net, size)``: the side of the input patch that moves the centre
  output, found by the gradient (compare ``gancourse.models.receptive_field``, the closed form).
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import float_tensor, integer, number

__all__ = ["psnr", "grey_share", "measured_receptive_field"]


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float) -> torch.Tensor:
    """Return the peak signal-to-noise ratio in dB of each image pair, shape (N,); inf where a == b.

    ``data_range`` is the span of the pixel values: 2 for images in [-1, 1], 1 for [0, 1], 255 for bytes.
    """
    float_tensor("a", a, "images")
    float_tensor("b", b, "images")
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must be image batches of one shape (N, ...), got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    span = number("data_range", data_range, "2 for images in [-1, 1], 1 for [0, 1]", above=0)
    mse = (a.double() - b.double()).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(span ** 2 / mse)


def grey_share(images: torch.Tensor, tolerance: float = 0.2) -> torch.Tensor:
    """Return the share of each image's pixels (N,) that lie more than ``tolerance`` inside (-1, 1)."""
    float_tensor("images", images, "images in [-1, 1]")
    tol = number("tolerance", tolerance, "distance from -1 and +1 still counted as paper or ink", above=0,
                 below=1)
    inside = (images > -1 + tol) & (images < 1 - tol)
    return inside.flatten(1).float().mean(dim=1)


def measured_receptive_field(net: nn.Module, size: int = 64, channels: int = 1, seed: int = 0) -> int:
    """Return the side of the square of input pixels whose gradient on the centre output is non-zero.

    ``net`` maps (1, channels, size, size) to a map (1, C', H', W'); the input is random
    (``seed``), so that no activation is switched off everywhere. Normalisation over the whole map
    (instance or batch norm) makes every output depend on every pixel: measure a copy without it.
    """
    integer("size", size, "side of the test input, larger than the field", at_least=4)
    integer("channels", channels, "the net's input channels", at_least=1)
    x = torch.randn(1, channels, size, size, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    out = net(x)
    if out.ndim != 4:
        raise ValueError(f"net must return a map (N, C, H, W), got shape {tuple(out.shape)}")
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    moved = x.grad[0].abs().sum(dim=0) > 0
    rows, cols = moved.any(dim=1).nonzero(), moved.any(dim=0).nonzero()
    if len(rows) == 0:
        raise ValueError("the centre output does not depend on the input at all")
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == size - 1 or cols[-1] == size - 1:
        raise ValueError(f"the field reaches the border of a {size} px input: measure with a larger size")
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0])) + 1
