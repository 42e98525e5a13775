"""Mode coverage and high-quality share (VEEGAN, PacGAN) on hand-built samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gancourse.data.toy import ring
from gancourse.metrics import PACGAN_MIN_SHARE, ModeCoverage, mode_counts, mode_coverage

SIGMA = 0.1
CENTRES = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def _at(counts: list[int], offset: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """Return counts[k] samples at centre k, each shifted by ``offset``."""
    return torch.cat([CENTRES[k].expand(c, 2) + torch.tensor(offset) for k, c in enumerate(counts) if c])


def test_pacgan_share_is_20_of_2500():
    assert PACGAN_MIN_SHARE == pytest.approx(0.008)


def test_every_sample_on_a_centre_covers_every_mode():
    result = mode_coverage(_at([25, 25, 25, 25]), CENTRES, SIGMA)
    assert isinstance(result, ModeCoverage)
    assert result == (4, 1.0)
    assert result.modes_covered == 4 and result.high_quality_fraction == 1.0


def test_samples_at_four_sigma_are_not_high_quality():
    result = mode_coverage(_at([25, 25, 25, 25], offset=(4 * SIGMA, 0.0)), CENTRES, SIGMA)
    assert result == (0, 0.0)


def test_three_sigma_is_the_boundary():
    just_inside = _at([10, 10, 10, 10], offset=(2.1 * SIGMA, 2.1 * SIGMA))  # distance 2.97 sigma
    just_outside = _at([10, 10, 10, 10], offset=(2.2 * SIGMA, 2.2 * SIGMA))  # distance 3.11 sigma
    assert mode_coverage(just_inside, CENTRES, SIGMA) == (4, 1.0)
    assert mode_coverage(just_outside, CENTRES, SIGMA) == (0, 0.0)
    # n_sigma moves the boundary: at 2 sigma, 2.9 sigma is too far.
    at_2_9 = _at([10, 10, 10, 10], offset=(0.0, 2.9 * SIGMA))
    assert mode_coverage(at_2_9, CENTRES, SIGMA) == (4, 1.0)
    assert mode_coverage(at_2_9, CENTRES, SIGMA, n_sigma=2.0) == (0, 0.0)


def test_high_quality_share_by_hand():
    # 30 samples on centres, 10 at 5 sigma from every centre: share 30 / 40.
    on = _at([10, 10, 10, 0])
    off = torch.full((10, 2), 5.0)
    assert mode_coverage(torch.cat([on, off]), CENTRES, SIGMA) == (3, 0.75)


def test_pacgan_rule_with_2500_samples():
    # PacGAN: a mode with fewer than 20 of 2,500 high-quality samples is lost; 20 is enough.
    assert mode_coverage(_at([19, 827, 827, 827]), CENTRES, SIGMA).modes_covered == 3
    assert mode_coverage(_at([20, 827, 827, 826]), CENTRES, SIGMA).modes_covered == 4


def test_rule_scales_with_the_number_of_samples():
    # N = 250: 0.8 % is 2 samples. N = 25,000: 200 samples.
    assert mode_coverage(_at([1, 83, 83, 83]), CENTRES, SIGMA).modes_covered == 3
    assert mode_coverage(_at([2, 83, 83, 82]), CENTRES, SIGMA).modes_covered == 4
    assert mode_coverage(_at([199, 8267, 8267, 8267]), CENTRES, SIGMA).modes_covered == 3
    assert mode_coverage(_at([200, 8267, 8267, 8266]), CENTRES, SIGMA).modes_covered == 4


def test_min_share_keyword():
    samples = _at([1, 83, 83, 83])
    assert mode_coverage(samples, CENTRES, SIGMA, min_share=0).modes_covered == 4  # one sample suffices
    assert mode_coverage(samples, CENTRES, SIGMA, min_share=0.3).modes_covered == 3  # 83 >= 75, 1 < 75
    assert mode_coverage(samples, CENTRES, SIGMA, min_share=0.34).modes_covered == 0  # 83 < 85
    # A mode never counts as covered without a single high-quality sample, however small min_share is.
    assert mode_coverage(_at([0, 5, 5, 5]), CENTRES, SIGMA, min_share=1e-6).modes_covered == 3


def test_low_quality_samples_near_a_mode_do_not_cover_it():
    # 100 samples at 4 sigma from mode 0 and 300 on the others: mode 0 is lost, share 300 / 400.
    near = CENTRES[0].expand(100, 2) + torch.tensor([4 * SIGMA, 0.0])
    assert mode_coverage(torch.cat([near, _at([0, 100, 100, 100])]), CENTRES, SIGMA) == (3, 0.75)


def test_mode_counts_assign_each_sample_to_its_nearest_centre():
    # 3 sigma = 0.3. Distances to the nearest centre: 0.1 (mode 0), 0.1 (mode 1), 0.5 (mode 1, too far),
    # 7.07 (between modes), 0 (mode 2), sqrt(0.08) = 0.28 (mode 2).
    samples = torch.tensor([[0.1, 0.0], [9.9, 0.0], [10.0, 0.5], [5.0, 5.0], [0.0, 10.0], [0.2, 9.8]])
    assert mode_counts(samples, CENTRES, SIGMA).tolist() == [1, 1, 2, 0]


def test_numpy_input_and_other_dimensions():
    centres = np.eye(3) * 5.0
    samples = np.repeat(centres, 10, axis=0)
    assert mode_coverage(samples, centres, 0.5) == (3, 1.0)


def test_real_ring_samples_match_the_chi_square_closed_form():
    # For a 2-D Gaussian, |x - mu|^2 / sigma^2 ~ chi^2 with 2 degrees of freedom: P(within 3 sigma) = 1 - e^(-9/2).
    toy = ring(sigma=0.02)
    samples = toy.sample(20_000, generator=torch.Generator().manual_seed(0))
    covered, hq = mode_coverage(samples, toy.centres, toy.sigma)
    assert covered == 8
    assert hq == pytest.approx(1 - math.exp(-4.5), abs=0.005)  # standard error 0.0007


@pytest.mark.parametrize(
    ("samples", "centres", "sigma"),
    [
        (torch.zeros(5), CENTRES, SIGMA),                    # samples not (N, d)
        (torch.zeros(0, 2), CENTRES, SIGMA),                 # no samples
        (torch.zeros(5, 3), CENTRES, SIGMA),                 # dimension mismatch
        (torch.zeros(5, 2), torch.zeros(2), SIGMA),          # centres not (K, d)
        (torch.tensor([[0.0, float("nan")]]), CENTRES, SIGMA),
        (torch.tensor([[0.0, float("inf")]]), CENTRES, SIGMA),
        (torch.zeros(5, 2), CENTRES, 0.0),
        (torch.zeros(5, 2), CENTRES, -1.0),
        (torch.zeros(5, 2), CENTRES, float("nan")),
    ],
)
def test_bad_input_raises_value_error(samples, centres, sigma):
    with pytest.raises(ValueError):
        mode_coverage(samples, centres, sigma)


@pytest.mark.parametrize("kwargs", [{"min_share": -0.1}, {"min_share": 1.5}, {"n_sigma": 0.0}])
def test_bad_keywords_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        mode_coverage(_at([1, 1, 1, 1]), CENTRES, SIGMA, **kwargs)


def test_non_tensor_input_raises_type_error():
    with pytest.raises(TypeError):
        mode_coverage([[0.0, 0.0]], CENTRES, SIGMA)
