"""StyleGAN3's argument in miniature (Karras et al., 2021): upsampling that aliases breaks translation.

A generator should treat its feature maps as samples of continuous signals. Then moving the input
by a sub-pixel amount would move the output by the same amount, and details would move with the
object ("equivariance"). Nearest-neighbour upsampling and transposed convolutions (zeros stuffed
between pixels) leave images of the spectrum above the old Nyquist frequency, and a pointwise
nonlinearity creates new high frequencies that fold back (alias): details then stick to the pixel
grid, StyleGAN2's "texture sticking". StyleGAN3 upsamples with a low-pass filter and applies each
nonlinearity at a higher rate followed by a low-pass filter back to the grid.

Here every map is periodic (circular padding, FFT filters), so that the only error left is aliasing:
- ``fourier_resample(x, size)``: the ideal band-limited resampling (frequencies |k| < size / 2 kept);
- ``fourier_shift(x, dy, dx)``: the ideal sub-pixel translation of a periodic map;
- ``ToySynthesis(upsample)``: a few (upsample, 3 x 3 convolution, LeakyReLU) layers with random
  weights, upsampling by ``'nearest'``, ``'transposed'`` (zero stuffing, then the convolution) or
  ``'filtered'`` (ideal upsampling, and the nonlinearity at twice the rate, then low-passed).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks import one_of, positive_int

__all__ = ["fourier_resample", "fourier_shift", "ToySynthesis", "UPSAMPLERS"]

UPSAMPLERS = ("nearest", "transposed", "filtered")


def _freqs(n: int, device: torch.device) -> torch.Tensor:
    return torch.fft.fftfreq(n, d=1.0 / n, device=device).round().long()  # 0, 1, ..., -1 (integers)


def fourier_resample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Return the periodic maps x (..., n, n) resampled to (..., size, size) by an ideal low-pass filter.

    Keeps the frequencies |k| < min(n, size) / 2 (the Nyquist frequency itself is dropped, so the
    result is real and symmetric), scaled so that values, not sums, are preserved.
    """
    n = x.shape[-1]
    positive_int("size", size, "the new side in pixels")
    spectrum = torch.fft.fft2(x.to(torch.float64))
    k_in = _freqs(n, x.device)
    limit = min(n, size) / 2
    keep_in = k_in[k_in.abs() < limit]
    rows_in, rows_out = keep_in % n, keep_in % size
    out = spectrum.new_zeros(*x.shape[:-2], size, size)
    out[..., rows_out[:, None], rows_out[None, :]] = spectrum[..., rows_in[:, None], rows_in[None, :]]
    return (torch.fft.ifft2(out).real * (size / n) ** 2).to(x.dtype)


def fourier_shift(x: torch.Tensor, dy: float, dx: float) -> torch.Tensor:
    """Return the periodic maps x (..., n, m) moved by (dy, dx) pixels (sub-pixel amounts allowed), ideally.

    The band-limited interpolation: each frequency's phase turns by 2 pi k d / n; the Nyquist
    frequency (whose shift is not real) is dropped.
    """
    n, m = x.shape[-2:]
    ky, kx = _freqs(n, x.device).double(), _freqs(m, x.device).double()
    phase = torch.exp(-2j * torch.pi * (ky[:, None] * dy / n + kx[None, :] * dx / m))
    nyquist = (ky.abs()[:, None] == n / 2) | (kx.abs()[None, :] == m / 2)
    phase = torch.where(nyquist, torch.zeros_like(phase), phase)
    return torch.fft.ifft2(torch.fft.fft2(x.to(torch.float64)) * phase).real.to(x.dtype)


class ToySynthesis(nn.Module):
    """Feature maps (N, C, n, n) -> (N, C, n 2^L, n 2^L): L random (upsample x2, conv 3 x 3, LeakyReLU) layers.

    The convolutions pad circularly, so a whole-pixel shift of the input moves the output exactly
    (by 2^L pixels per input pixel) whatever the upsampling; only sub-pixel shifts tell them apart.
    """

    def __init__(self, upsample: str, channels: int = 8, layers: int = 2, seed: int = 0,
                 slope: float = 0.2) -> None:
        super().__init__()
        self.upsample = one_of("upsample", upsample, UPSAMPLERS)
        self.layers = positive_int("layers", layers)
        self.slope = slope
        rng = torch.Generator().manual_seed(seed)  # the same weights for every upsampler
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(channels, channels, 3, 3, generator=rng, dtype=torch.float64)
                         * (2 / (9 * channels)) ** 0.5, requires_grad=False)
            for _ in range(layers))

    def _up(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if self.upsample == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.upsample == "transposed":  # a stride-2 transposed convolution = zeros between pixels, then a conv
            out = x.new_zeros(*x.shape[:-2], 2 * n, 2 * n)
            out[..., ::2, ::2] = 4 * x
            return out
        return fourier_resample(x, 2 * n)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample != "filtered":
            return F.leaky_relu(x, self.slope)
        n = x.shape[-1]  # the nonlinearity at twice the rate, then back through the low-pass filter
        return fourier_resample(F.leaky_relu(fourier_resample(x, 2 * n), self.slope), n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the output maps (float64)."""
        x = x.to(torch.float64)
        for w in self.weights:
            x = F.conv2d(F.pad(self._up(x), (1, 1, 1, 1), mode="circular"), w)
            x = self._act(x)
        return x
