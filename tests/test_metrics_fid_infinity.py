"""FID∞: the 1 / N fit is exact on exactly linear data, and beats small-N FID against a closed form."""

import numpy as np
import pytest

from gancourse.metrics.fid_infinity import default_sizes, fid_infinity, fit_inverse_n
from gancourse.metrics.stats import FeatureStats


def test_the_fit_is_exact_on_data_linear_in_one_over_n():
    sizes = (200, 250, 333, 500, 1000)
    fids = [12.5 + 3_000.0 / n for n in sizes]
    intercept, slope = fit_inverse_n(sizes, fids)
    assert intercept == pytest.approx(12.5, abs=1e-9) and slope == pytest.approx(3_000.0, rel=1e-12)


def test_the_fit_refuses_one_size_and_mismatched_lengths():
    with pytest.raises(ValueError, match="two different sizes"):
        fit_inverse_n([100, 100], [1.0, 2.0])
    with pytest.raises(ValueError, match="one value each"):
        fit_inverse_n([100, 200], [1.0])


def test_default_sizes_run_from_a_fifth_to_all_evenly_in_one_over_n():
    sizes = default_sizes(1000)
    assert sizes[0] == 200 and sizes[-1] == 1000 and len(sizes) == 5
    assert np.allclose(np.diff(1.0 / np.array(sizes)), np.diff(1.0 / np.array(sizes))[0], rtol=0.02)


def _exact(mu: np.ndarray, var: np.ndarray) -> float:
    """Fréchet distance between N(0, I) and N(mu, diag(var)), in closed form."""
    return float(mu @ mu + np.sum(1.0 + var - 2.0 * np.sqrt(var)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fid_infinity_is_nearer_the_true_distance_than_fid_at_the_smallest_n(seed):
    rng = np.random.default_rng(seed)
    d = 32
    mu = np.full(d, 0.1)
    var = np.linspace(0.5, 2.0, d)
    fake = mu + np.sqrt(var) * rng.standard_normal((2_000, d))
    truth = _exact(mu, var)
    result = fid_infinity((np.zeros(d), np.eye(d)), fake, seed=seed, repeats=4)
    smallest = result.fids[0]
    assert result.sizes[0] == 400 and smallest > truth  # the bias is upwards
    assert abs(result.value - truth) < abs(smallest - truth) / 3, (result, truth)
    assert result.slope > 0


def test_real_side_may_be_stats_or_features_and_shapes_are_checked():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((500, 4))
    fake = rng.standard_normal((100, 4)) + 0.5
    a = fid_infinity(real, fake, sizes=(20, 50, 100))
    b = fid_infinity(FeatureStats.from_features(real), fake, sizes=(20, 50, 100))
    assert a.value == pytest.approx(b.value, rel=1e-9)
    with pytest.raises(ValueError, match="one extractor"):
        fid_infinity(real, fake[:, :3])
    with pytest.raises(ValueError, match=r"lie in \[2, 100\]"):
        fid_infinity(real, fake, sizes=(50, 200))
