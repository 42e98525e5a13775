"""StyleGAN3's EQ-T on the toy synthesis networks: exact for linear filtered networks, and ordered."""

from __future__ import annotations

import torch

from gancourse.metrics import translation_equivariance
from gancourse.models import ToySynthesis, fourier_resample


def _maps() -> torch.Tensor:
    return fourier_resample(torch.randn(4, 8, 8, 8, generator=torch.Generator().manual_seed(0),
                                        dtype=torch.float64), 16)


def test_a_linear_filtered_network_is_equivariant_to_rounding():
    assert translation_equivariance(ToySynthesis("filtered", slope=1.0), _maps(), scale=4) > 200


def test_a_shift_free_network_scores_high_and_a_mistaken_scale_scores_low():
    net = ToySynthesis("filtered", slope=1.0)
    assert translation_equivariance(net, _maps(), scale=2) < 15  # compared with the wrong output shift


def test_filtered_upsampling_beats_nearest_which_beats_zero_stuffing():
    x = _maps()
    eq = {up: translation_equivariance(ToySynthesis(up), x, scale=4) for up in ("nearest", "transposed", "filtered")}
    assert eq["filtered"] > 40 > 20 > eq["nearest"] > eq["transposed"] + 3
