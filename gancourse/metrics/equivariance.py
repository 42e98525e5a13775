"""StyleGAN3's translation-equivariance measure (Karras et al., 2021): EQ-T, in decibels.

Move the input by a sub-pixel amount t, run the network, and compare with the network's output
moved by the same amount (t times the network's upsampling factor, in output pixels). Moves are
ideal band-limited translations of periodic maps (``gancourse.models.aliasing.fourier_shift``).
The score is 10 log10(mean square of the output / mean square of the difference): higher is more
equivariant; StyleGAN3 reports it with the image's peak in place of the output's mean square.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import positive_int
from gancourse.models.aliasing import fourier_shift

__all__ = ["translation_equivariance"]


@torch.no_grad()
def translation_equivariance(network: nn.Module, x: torch.Tensor, scale: int, n_shifts: int = 8,
                             seed: int = 0) -> float:
    """Return EQ-T in dB of ``network`` on periodic maps x, averaged (as errors) over random shifts.

    ``scale`` is the network's upsampling factor (output side / input side); each shift (dy, dx) is
    drawn uniformly from [0, 1)^2 input pixels with ``seed``.
    """
    positive_int("scale", scale, "output side / input side, e.g. 4")
    rng = torch.Generator().manual_seed(seed)
    y = network(x).double()
    errors = []
    for dy, dx in torch.rand(positive_int("n_shifts", n_shifts), 2, generator=rng, dtype=torch.float64).tolist():
        moved_then_run = network(fourier_shift(x, dy, dx)).double()
        run_then_moved = fourier_shift(y, dy * scale, dx * scale)
        errors.append((moved_then_run - run_then_moved).pow(2).mean())
    return float(10 * torch.log10(y.pow(2).mean() / torch.stack(errors).mean()))
