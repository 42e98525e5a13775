"""Image-to-image networks (chapter 10): pix2pix's U-Net and PatchGAN, CycleGAN's pairs, a sub-pixel upsampler.

- ``UNetGenerator``: an encoder-decoder whose decoder also reads the encoder's map of the same size
  (a skip connection), so the fine detail of the input (where the strokes are) need not squeeze
  through the bottleneck (Ronneberger et al., 2015; Isola et al., 2017).
- ``PatchDiscriminator``: a fully convolutional D that returns a map of real/fake logits, one per
  overlapping patch of the input; ``receptive_field(layers)`` gives the patch's side from the
  kernels and strides, e.g. pix2pix's 70 x 70 for three stride-2 layers.
- ``CycleGenerators``, ``CycleDiscriminators``: CycleGAN's two translators and two discriminators,
  each pair one module so that one optimiser trains each pair (as the CycleGAN code does);
  ``CycleUNets``, two U-Nets built alike, is the pair that ships.
- ``SubPixelUpsampler``: three convolutions at low resolution, then ``PixelShuffle`` rearranges
  ``r * r`` channels into an ``r``-times larger image (Shi et al., 2016).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from gancourse.checks import integer, one_of, positive_int

__all__ = ["UNetGenerator", "PatchDiscriminator", "receptive_field", "CycleGenerators",
           "CycleUNets", "CycleDiscriminators", "SubPixelUpsampler"]

NORMS = ("instance", "batch", None)


def _norm(norm: str | None, channels: int) -> nn.Module:
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Return the side in pixels of the input patch one output value sees, for (kernel, stride) layers.

    Each layer widens the patch by (kernel - 1) times the product of the strides before it:
    r = 1 + sum_l (k_l - 1) * prod_{j < l} s_j.
    """
    if not layers:
        raise ValueError("layers must hold at least one (kernel, stride) pair, e.g. [(4, 2), (4, 1)]")
    r, jump = 1, 1
    for i, pair in enumerate(layers):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"layers[{i}] must be a (kernel, stride) pair, got {pair!r}")
        k = positive_int(f"layers[{i}] kernel", pair[0], "the convolution's kernel size")
        s = positive_int(f"layers[{i}] stride", pair[1], "the convolution's stride")
        r, jump = r + (k - 1) * jump, jump * s
    return r


class UNetGenerator(nn.Module):
    """G: images (N, in_channels, H, W) in [-1, 1] -> images (N, out_channels, H, W) in [-1, 1].

    A 3 x 3 input layer, ``depth`` stride-2 convolutions (4 x 4) that halve the side and double the
    width, then as many transposed convolutions back up. With ``skips`` each decoder level reads
    the encoder's map of its size too (concatenated on the channels); ``skips=False`` gives the
    plain encoder-decoder, everything through the bottleneck. H and W must be divisible by
    2 ** depth. Translators take no noise: ``z_dim`` is 0 (pix2pix relies on dropout instead).
    """

    z_dim = 0

    def __init__(self, in_channels: int = 1, out_channels: int = 1, width: int = 16, *, depth: int = 2,
                 skips: bool = True, norm: str | None = "instance") -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels, "1 for grey images, 3 for RGB")
        self.out_channels = positive_int("out_channels", out_channels, "1 for grey images, 3 for RGB")
        self.width = positive_int("width", width, "channels of the first feature map, e.g. 16")
        self.depth = integer("depth", depth, "stride-2 levels, e.g. 2 for 28 px", at_least=1, at_most=6)
        if not isinstance(skips, bool):
            raise TypeError(f"skips must be True or False, got {skips!r}")
        self.skips = skips
        one_of("norm", norm, NORMS, "normalisation after the inner convolutions")
        widths = [width * 2 ** k for k in range(depth + 1)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(w_in, w_out, 4, 2, 1), _norm(norm, w_out), nn.LeakyReLU(0.2))
            for w_in, w_out in pairwise(widths))
        extra = 2 if skips else 1  # a level with a skip reads its own map and the encoder's
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(widths[k + 1] * (extra if k + 1 < depth else 1), widths[k], 4, 2, 1),
                          _norm(norm, widths[k]), nn.ReLU())
            for k in reversed(range(depth)))
        self.head = nn.Sequential(nn.Conv2d(width * extra, out_channels, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the translated images, the input's shape with ``out_channels`` channels."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be images of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[2] % 2 ** self.depth or x.shape[3] % 2 ** self.depth:
            raise ValueError(f"H and W must be divisible by 2 ** depth = {2 ** self.depth}, got {tuple(x.shape[2:])}")
        h = self.stem(x)
        saved = [h]
        for block in self.down:
            h = block(h)
            saved.append(h)
        saved.pop()  # the bottleneck is h itself
        for block in self.up:
            h = block(h)
            skip = saved.pop()
            if self.skips:
                h = torch.cat([h, skip], dim=1)
        return self.head(h)


class PatchDiscriminator(nn.Module):
    """D: images (N, channels, H, W) -> a map of logits (N, 1, H', W'), one per overlapping patch.

    pix2pix's PatchGAN: a 4 x 4 stride-2 convolution without normalisation, ``n_layers - 1`` more
    stride-2 convolutions doubling the width, a stride-1 convolution, and a stride-1 convolution to
    one channel; LeakyReLU(0.2) between them. Each logit sees ``receptive_field`` pixels square of
    the input (70 for ``n_layers=3``; 16 for ``n_layers=1``). For a conditional D (pix2pix), pass
    the input and the output image stacked on the channels.
    """

    def __init__(self, channels: int = 1, width: int = 16, n_layers: int = 1, *,
                 norm: str | None = "instance") -> None:
        super().__init__()
        self.channels = positive_int("channels", channels, "input channels (2 for pix2pix's stacked pair)")
        self.width = positive_int("width", width, "channels of the first layer, e.g. 16")
        self.n_layers = integer("n_layers", n_layers, "stride-2 layers, e.g. 3 for pix2pix's 70 x 70", at_least=1,
                                at_most=6)
        one_of("norm", norm, NORMS, "normalisation after the inner convolutions")
        widths = [width * 2 ** min(k, 3) for k in range(n_layers + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        for w_in, w_out in pairwise(widths[:-1]):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1), _norm(norm, w_out), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(widths[-2], widths[-1], 4, 1, 1), _norm(norm, widths[-1]), nn.LeakyReLU(0.2),
                   nn.Conv2d(widths[-1], 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Return the side of the input patch behind each logit, from the convolutions' kernels and strides."""
        convs = [m for m in self.net if isinstance(m, nn.Conv2d)]
        return receptive_field([(m.kernel_size[0], m.stride[0]) for m in convs])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the patch logits, shape (N, 1, H', W')."""
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"x must be images of shape (N, {self.channels}, H, W), got {tuple(x.shape)}")
        return self.net(x)


class CycleGenerators(nn.Module):
    """CycleGAN's two translators as one module: ``ab`` maps domain A to B, ``ba`` maps B to A.

    ``forward(a, b)`` returns (ab(a), ba(b)). ``z_dim`` is 0: the translators take no noise.
    """

    z_dim = 0

    def __init__(self, ab: nn.Module, ba: nn.Module) -> None:
        super().__init__()
        if not (isinstance(ab, nn.Module) and isinstance(ba, nn.Module)):
            raise TypeError(f"ab and ba must be nn.Modules (image translators), got {type(ab).__name__}, "
                            f"{type(ba).__name__}")
        self.ab, self.ba = ab, ba

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (A translated to B, B translated to A)."""
        return self.ab(a), self.ba(b)


class CycleUNets(CycleGenerators):
    """``CycleGenerators`` of two ``UNetGenerator``s built with the same arguments (a pair that can ship)."""

    def __init__(self, channels: int = 1, width: int = 8, *, depth: int = 2, skips: bool = True,
                 norm: str | None = "instance") -> None:
        def unet() -> UNetGenerator:
            return UNetGenerator(channels, channels, width, depth=depth, skips=skips, norm=norm)

        super().__init__(unet(), unet())


class CycleDiscriminators(nn.Module):
    """CycleGAN's two discriminators as one module: ``a`` judges domain A's images, ``b`` domain B's."""

    def __init__(self, a: nn.Module, b: nn.Module) -> None:
        super().__init__()
        if not (isinstance(a, nn.Module) and isinstance(b, nn.Module)):
            raise TypeError(f"a and b must be nn.Modules (discriminators), got {type(a).__name__}, "
                            f"{type(b).__name__}")
        self.a, self.b = a, b

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (D_A's logits of a, D_B's logits of b)."""
        return self.a(a), self.b(b)


class SubPixelUpsampler(nn.Module):
    """Images (N, channels, H, W) -> (N, channels, factor * H, factor * W): ESPCN's sub-pixel network.

    A 5 x 5 and a 3 x 3 convolution (``width`` channels, ReLU) and a 3 x 3 convolution to
    ``channels * factor ** 2`` maps, all at the low resolution; ``PixelShuffle(factor)`` then puts
    channel ``c * factor ** 2 + i * factor + j`` at offset (i, j) of each output block. It takes no
    noise: ``z_dim`` is 0.
    """

    z_dim = 0

    def __init__(self, channels: int = 1, factor: int = 2, width: int = 32) -> None:
        super().__init__()
        self.channels = positive_int("channels", channels, "1 for grey images, 3 for RGB")
        self.factor = integer("factor", factor, "the upscaling factor, e.g. 2", at_least=2, at_most=8)
        self.width = positive_int("width", width, "channels of the hidden maps, e.g. 32")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 5, 1, 2), nn.ReLU(),
            nn.Conv2d(width, width, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(width, channels * factor ** 2, 3, 1, 1),
            nn.PixelShuffle(factor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the upsampled images (no final squashing: the output is a regression)."""
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"x must be images of shape (N, {self.channels}, H, W), got {tuple(x.shape)}")
        return self.net(x)
