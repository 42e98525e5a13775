"""Style-based generators (Karras et al., 2019, 2020): a mapping network, styles per layer, noise inputs.

- ``MappingNetwork``: z -> w, an MLP; W need not follow the Gaussian's fixed shape, so it can
  unfold the factors of variation (the paper's perceptual path length argument).
- ``adain(x, scale, bias)``: StyleGAN's adaptive instance norm: each sample's and channel's map is
  normalised to mean 0 and (biased) std 1, then given the style's scale and bias.
- ``NoiseInjection``: per-pixel Gaussian noise with a learned strength per channel, for the
  stochastic details (hair, pen texture) that need not come from z.
- ``style_mix(w_a, w_b, crossover, n_layers)``: the styles of w_a up to a layer, of w_b from it on.
- ``truncate(w, w_avg, psi)``: w pulled towards the mean w_avg, the truncation trick in W.
- ``StyleGenerator``: a small StyleGAN2-like generator for 28 px glyphs (modulated convolutions).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import fraction, integer, number, positive_int
from gancourse.models.modulated import ModulatedConv2d
from gancourse.models.progressive import EqualizedLinear, pixel_norm

__all__ = ["MappingNetwork", "adain", "NoiseInjection", "style_mix", "truncate", "StyleGenerator"]


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): pixel norm of z, then ``layers`` equalised linear layers with LeakyReLU."""

    def __init__(self, z_dim: int, w_dim: int, layers: int = 4, lr_mul: float = 0.01) -> None:
        super().__init__()
        positive_int("layers", layers, "linear layers, e.g. 8 in StyleGAN")
        dims = [positive_int("z_dim", z_dim)] + [positive_int("w_dim", w_dim)] * layers
        self.net = nn.ModuleList(EqualizedLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return w = f(z)."""
        x = pixel_norm(z)
        for layer in self.net:
            x = F.leaky_relu(layer(x), 0.2)
        return x


def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Return scale * (x - mean) / std + bias, each sample's and channel's map normalised (biased std).

    x has shape (N, C, H, W); scale and bias (N, C), one style per sample and channel.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be feature maps of shape (N, C, H, W), got {tuple(x.shape)}")
    for name, s in (("scale", scale), ("bias", bias)):
        if tuple(s.shape) != tuple(x.shape[:2]):
            raise ValueError(f"{name} must have shape (N, C) = {tuple(x.shape[:2])}, got {tuple(s.shape)}")
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)  # the instance's own spread, not an estimate
    return scale[:, :, None, None] * (x - mean) * torch.rsqrt(var + eps) + bias[:, :, None, None]


class NoiseInjection(nn.Module):
    """x + strength[c] * noise: one (N, 1, H, W) noise image, scaled per channel (strength starts at 0)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(positive_int("channels", channels)))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Return x with the scaled noise added."""
        return x + self.strength[None, :, None, None] * noise


def style_mix(w_a: torch.Tensor, w_b: torch.Tensor, crossover: int, n_layers: int) -> torch.Tensor:
    """Return per-layer styles (N, n_layers, w_dim): w_a for layers < crossover, w_b from it on."""
    integer("crossover", crossover, "the first layer that takes w_b", at_least=0, at_most=n_layers)
    if w_a.shape != w_b.shape or w_a.ndim != 2:
        raise ValueError(f"w_a and w_b must both have shape (N, w_dim), got {tuple(w_a.shape)} and "
                         f"{tuple(w_b.shape)}")
    take_a = (torch.arange(n_layers, device=w_a.device) < crossover)[None, :, None]
    return torch.where(take_a, w_a[:, None], w_b[:, None])


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """Return w_avg + psi (w - w_avg): psi = 1 leaves w alone, psi = 0 gives the average style."""
    number("psi", psi, "1: no truncation, 0.7 typical, 0: the mean image", at_least=0)
    # lerp: w_avg + psi (w - w_avg), computed as w - (1 - psi)(w - w_avg) for psi >= 0.5, so psi = 1 is w exactly.
    return torch.lerp(w_avg.to(w.dtype).expand_as(w), w, psi)


class StyleGenerator(nn.Module):
    """G: z (N, z_dim) -> 28 x 28 images in (-1, 1), style-based (StyleGAN2's modulated convolutions).

    A learned constant 7 x 7 map; two modulated 3 x 3 convolutions at each of 7, 14 and 28 px
    (bilinear upsampling before the first of each pair), each followed by a bias and LeakyReLU; a
    1 x 1 modulated convolution (no demodulation) makes the image. Each of these seven layers takes
    its own w (``n_layers``): layers 0-3 (7 and 14 px) are the coarse styles, 4-6 the fine ones.
    Noise enters the 28 px layers only: on a 7 px map one noise pixel is a quarter of a stroke,
    enough to turn a digit into another. In training mode, with probability ``mixing_prob`` a batch
    mixes two w's at a random layer (mixing regularisation), and the mean w is tracked (``w_avg``)
    for the truncation trick.
    """

    SIZES = (7, 7, 14, 14, 28, 28)  # the side of each convolution's output
    NOISY = (False, False, False, False, True, True)  # which convolutions get noise
    n_layers = 7
    n_coarse = 4  # the layers at 7 and 14 px

    def __init__(self, z_dim: int = 64, w_dim: int = 64, width: int = 32, mapping_layers: int = 4,
                 mixing_prob: float = 0.9) -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.w_dim = positive_int("w_dim", w_dim, "the size of a style vector")
        self.width = positive_int("width", width, "channels at 28 px (twice that at 7 and 14 px)")
        self.mixing_prob = fraction("mixing_prob", mixing_prob, "0.9 in StyleGAN2; 0 turns mixing off")
        # lr_mul 0.1, not StyleGAN's 0.01: a run of minutes, not of days, must still move the mapping.
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, lr_mul=0.1)
        chans = [2 * width] * 4 + [width] * 2
        self.const = nn.Parameter(torch.randn(1, chans[0], 7, 7))
        self.convs = nn.ModuleList(ModulatedConv2d(a, b, w_dim) for a, b in zip(chans[:1] + chans[:-1], chans))
        self.noises = nn.ModuleList(NoiseInjection(c) for c, noisy in zip(chans, self.NOISY) if noisy)
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(c)) for c in chans)
        self.to_image = ModulatedConv2d(chans[-1], 1, w_dim, kernel_size=1, demodulate=False)
        self.image_bias = nn.Parameter(torch.zeros(1))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def draw_noise(self, n: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Return one noise image per noisy convolution, shapes (n, 1, 28, 28), drawn from N(0, 1)."""
        device = self.const.device
        return [torch.randn(n, 1, s, s, generator=generator).to(device)
                for s, noisy in zip(self.SIZES, self.NOISY) if noisy]

    def synthesis(self, ws: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Return images from styles ``ws``, (N, w_dim) for all layers or (N, n_layers, w_dim) per layer."""
        if ws.ndim == 2:
            ws = ws[:, None].expand(-1, self.n_layers, -1)
        if ws.ndim != 3 or ws.shape[1:] != (self.n_layers, self.w_dim):
            raise ValueError(f"ws must have shape (N, {self.w_dim}) or (N, {self.n_layers}, {self.w_dim}), "
                             f"got {tuple(ws.shape)}")
        noise = self.draw_noise(ws.shape[0]) if noise is None else noise
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        injections = iter(zip(self.noises, noise))
        for i, (conv, bias) in enumerate(zip(self.convs, self.biases)):
            if x.shape[-1] != self.SIZES[i]:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = conv(x, ws[:, i])
            if self.NOISY[i]:
                inject, image = next(injections)
                x = inject(x, image)
            x = F.leaky_relu(x + bias[None, :, None, None], 0.2)
        return torch.tanh(self.to_image(x, ws[:, -1]) + self.image_bias)

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """Return G(z): mapped to w (truncated towards ``w_avg`` when psi < 1), then synthesised."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (N, {self.z_dim}), got {tuple(z.shape)}; draw it with "
                             f"gancourse.models.sample_noise(N, {self.z_dim})")
        w = self.mapping(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.mean(dim=0).to(self.w_avg.dtype), 0.005)  # StyleGAN's tracked mean, decay 0.995
            if self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
                w2 = self.mapping(torch.randn_like(z))
                crossover = int(torch.randint(1, self.n_layers, ()))
                return self.synthesis(style_mix(w, w2, crossover, self.n_layers))
        if psi != 1.0:
            w = truncate(w, self.w_avg, psi)
        return self.synthesis(w)
