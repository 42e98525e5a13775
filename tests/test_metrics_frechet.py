"""Fréchet distance and FeatureStats: against pytorch-fid, torchmetrics, closed forms and high precision."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import torch

from gancourse.metrics import FeatureStats, frechet_distance, frechet_distance_features, trace_sqrt_product

pytorch_fid = pytest.importorskip("pytorch_fid.fid_score")


def _pfid(mu1, s1, mu2, s2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy 1.17 deprecates sqrtm's disp argument, which pytorch-fid passes
        return float(pytorch_fid.calculate_frechet_distance(mu1, s1, mu2, s2))


def _random_stats(rng, d, n):
    x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.standard_normal(d)
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.mark.parametrize("d", [8, 64, 200])
def test_matches_pytorch_fid_on_full_rank_statistics(d):
    rng = np.random.default_rng(d)
    mu1, s1 = _random_stats(rng, d, 3 * d)
    mu2, s2 = _random_stats(rng, d, 3 * d)
    ref = _pfid(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(0)
    mu, s = _random_stats(rng, 50, 200)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-8 * np.trace(s)


def test_diagonal_covariances_closed_form():
    a, b = np.array([1.0, 4.0, 9.0, 0.5]), np.array([4.0, 1.0, 0.25, 2.0])
    mu1, mu2 = np.array([0.0, 1, 2, 3]), np.array([1.0, 1, 0, 3])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_seed_000_correlated_case_is_4_minus_2_sqrt3():
    got = frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.array([[2.0, -1.0], [-1.0, 2.0]]))
    assert got == pytest.approx(4 - 2 * np.sqrt(3), rel=1e-12)


def _mp_trace_sqrt(f, g):
    """tr (F Fᵀ G Gᵀ)^{1/2} = sum of singular values of Fᵀ G, in 40-digit arithmetic from the exact factors."""
    mpmath.mp.dps = 40
    k = mpmath.matrix(f.T.tolist()) * mpmath.matrix(g.tolist())
    return float(sum(mpmath.svd_r(k, compute_uv=False)))


@pytest.mark.parametrize("r1,r2", [(6, 40), (10, 7), (40, 3)])
def test_rank_deficient_statistics_against_high_precision(r1, r2):
    rng = np.random.default_rng(r1 * 100 + r2)
    d = 40
    f, g = rng.standard_normal((d, r1)), rng.standard_normal((d, r2))
    s1, s2 = f @ f.T, g @ g.T  # rank r1 and r2 (< d unless 40)
    exact = _mp_trace_sqrt(f, g)
    assert trace_sqrt_product(s1, s2) == pytest.approx(exact, rel=1e-7)
    mu = np.zeros(d)
    expected = np.trace(s1) + np.trace(s2) - 2 * exact
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-7)


def test_features_route_n_below_d_matches_covariance_route_and_high_precision():
    rng = np.random.default_rng(3)
    d = 60
    x1, x2 = rng.standard_normal((20, d)) * 2 + 1, rng.standard_normal((15, d)) @ rng.standard_normal((d, d)) / 8
    c1, c2 = x1 - x1.mean(0), x2 - x2.mean(0)
    exact = _mp_trace_sqrt(c1.T / np.sqrt(19), c2.T / np.sqrt(14))
    diff = x1.mean(0) - x2.mean(0)
    expected = diff @ diff + np.trace(np.cov(x1, rowvar=False)) + np.trace(np.cov(x2, rowvar=False)) - 2 * exact
    assert frechet_distance_features(x1, x2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(x1.mean(0), np.cov(x1, rowvar=False), x2.mean(0),
                            np.cov(x2, rowvar=False)) == pytest.approx(expected, rel=1e-7)
    # One side small, the other with more samples than features: the A Σ₂ Aᵀ route.
    x3 = rng.standard_normal((200, d))
    ref = _pfid(x1.mean(0), np.cov(x1, rowvar=False), x3.mean(0), np.cov(x3, rowvar=False))
    assert frechet_distance_features(x1, x3) == pytest.approx(ref, rel=1e-6)
    # Both large: the covariance route.
    x4 = rng.standard_normal((150, d)) + 0.3
    ref = _pfid(x4.mean(0), np.cov(x4, rowvar=False), x3.mean(0), np.cov(x3, rowvar=False))
    assert frechet_distance_features(x4, x3) == pytest.approx(ref, rel=1e-6)


def test_kept_reference_root_gives_the_same_value():
    rng = np.random.default_rng(5)
    real = FeatureStats.from_features(rng.standard_normal((300, 30)))
    fake = FeatureStats.from_features(rng.standard_normal((300, 30)) * 1.5)
    ref = _pfid(real.mu, real.sigma, fake.mu, fake.sigma)
    assert real.frechet_distance(fake) == pytest.approx(ref, rel=1e-6)
    assert real.frechet_distance(fake) == pytest.approx(ref, rel=1e-6)  # second call: the kept factor


def test_kept_reference_with_blocks_of_uneven_size_saved_stats_and_a_singular_reference(tmp_path):
    # d = 203 cuts into 8 uneven slabs for the blocked M = Rᵀ Σ₂ R; the other side is read back from
    # a pytorch-fid file (no sample count: its covariance is used as it is).
    rng = np.random.default_rng(6)
    d = 203
    real = FeatureStats.from_features(rng.standard_normal((900, d)) @ rng.standard_normal((d, d)) / 10)
    fake_x = rng.standard_normal((700, d)) * 1.3 + 0.2
    np.savez(tmp_path / "fake.npz", mu=fake_x.mean(0), sigma=np.cov(fake_x, rowvar=False))
    for fake in (FeatureStats.from_features(fake_x), FeatureStats.load(tmp_path / "fake.npz")):
        ref = _pfid(real.mu, real.sigma, fake.mu, fake.sigma)
        assert real.frechet_distance(fake) == pytest.approx(ref, rel=1e-9)
        assert real.root().cholesky
    # A reference with fewer samples than features has no Cholesky factor: the eigen route, same answer.
    small = FeatureStats.from_features(rng.standard_normal((50, d)))
    fake = FeatureStats.from_features(fake_x)
    assert not small.root().cholesky and small.root().rank == 49
    assert small.frechet_distance(fake) == pytest.approx(frechet_distance(small.mu, small.sigma, fake.mu, fake.sigma),
                                                         rel=1e-9)


def test_asymmetry_and_inf_are_caught_far_from_the_diagonal():
    # The symmetry check compares tiles of the lower triangle with the mirrored upper ones: put the
    # defect in a corner tile, away from the diagonal tiles.
    s = np.eye(300)
    s[290, 5] = 0.5
    with pytest.raises(ValueError, match="symmetric"):
        frechet_distance(np.zeros(300), s, np.zeros(300), np.eye(300))
    s[5, 290] = 0.5
    assert frechet_distance(np.zeros(300), s, np.zeros(300), s) == pytest.approx(0.0, abs=1e-8)
    s[7, 299] = s[299, 7] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        frechet_distance(np.zeros(300), np.eye(300), np.zeros(300), s)
    nan_stats = FeatureStats.from_features(np.random.default_rng(0).standard_normal((20, 4)))
    nan_stats._scatter[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        FeatureStats.from_features(np.eye(4)).frechet_distance(nan_stats)


def test_never_imaginary_on_a_singular_product():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 30))
    s = np.cov(x, rowvar=False)  # rank 4 of 30
    value = frechet_distance(x.mean(0), s, x.mean(0) + 1, s)
    assert isinstance(value, float) and value == pytest.approx(30.0, rel=1e-6)


def test_matches_torchmetrics_fid_with_the_same_feature_network():
    tm = pytest.importorskip("torchmetrics.image.fid")
    torch.manual_seed(0)

    class Features(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(3 * 8 * 8, 16)

        def forward(self, x):
            # Pooled to 8x8 first: torchmetrics probes the module with a 299x299 dummy image.
            x = torch.nn.functional.adaptive_avg_pool2d(x.float() / 255.0, 8)
            return torch.tanh(self.proj(x.flatten(1)))

    net = Features().eval()
    real = torch.randint(0, 256, (120, 3, 8, 8), dtype=torch.uint8)
    fake = (real.float() * 0.7 + 40).clamp(0, 255).to(torch.uint8)
    metric = tm.FrechetInceptionDistance(feature=net, normalize=False)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    expected = float(metric.compute())
    with torch.no_grad():
        ours = frechet_distance_features(net(real).double(), net(fake).double())
    assert ours == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------------------------------
# FeatureStats.


def test_streaming_equals_numpy_cov_and_merge_equals_all_at_once(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((257, 12)) * 3 + 1000.0  # a large mean: the naive Σxxᵀ − Nμμᵀ would lose digits
    s = FeatureStats(12)
    for i in range(0, 257, 50):
        s.update(x[i:i + 50])
    assert s.n == 257
    np.testing.assert_allclose(s.mu, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)
    merged = FeatureStats.from_features(x[:100]).merge(FeatureStats.from_features(torch.from_numpy(x[100:])))
    np.testing.assert_allclose(merged.sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)
    path = s.save(tmp_path / "stats.npz")
    back = FeatureStats.load(path)
    assert back.n == 257
    np.testing.assert_array_equal(back.mu, s.mu)
    np.testing.assert_allclose(back.sigma, s.sigma, rtol=1e-15)
    with np.load(path) as data:  # pytorch-fid's keys
        assert {"mu", "sigma"} <= set(data.files)


def test_pytorch_fid_style_file_without_n_loads_but_does_not_merge(tmp_path):
    path = tmp_path / "ref.npz"
    np.savez(path, mu=np.zeros(3), sigma=np.eye(3))
    s = FeatureStats.load(path)
    np.testing.assert_array_equal(s.sigma, np.eye(3))
    with pytest.raises(ValueError, match="sample count"):
        s.merge(s)


# ---------------------------------------------------------------------------------------------
# Bad input.


def test_bad_input_raises_clear_errors(tmp_path):
    mu, s = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="1-D"):
        frechet_distance(np.zeros((3, 1)), s, mu, s)
    with pytest.raises(ValueError, match="square"):
        frechet_distance(mu, np.ones((3, 2)), mu, s)
    with pytest.raises(ValueError, match="different|same extractor"):
        frechet_distance(np.zeros(4), np.eye(4), mu, s)
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(mu, np.full((3, 3), np.nan), mu, s)
    with pytest.raises(ValueError, match="symmetric"):
        frechet_distance(mu, np.array([[1.0, 2, 0], [0, 1, 0], [0, 0, 1]]), mu, s)
    with pytest.raises(ValueError, match="semi-definite"):
        frechet_distance(mu, -np.eye(3), mu, s)
    # ... on either side: the second covariance is checked as carefully as the first.
    with pytest.raises(ValueError, match="semi-definite"):
        frechet_distance(mu, s, mu, -np.eye(3))
    not_psd = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # eigenvalues 3, 1, -1; diagonal fine
    for first, second in ((not_psd, s), (s, not_psd)):
        with pytest.raises(ValueError, match="semi-definite"):
            frechet_distance(mu, first, mu, second)
    with pytest.raises(ValueError, match="semi-definite"):
        FeatureStats.from_features(np.random.default_rng(0).normal(size=(50, 3))).frechet_distance(
            _stats_with(mu, -np.eye(3)))
    np.savez(tmp_path / "truncated.npz", mu=mu, sigma=s)
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "truncated.npz").read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable .npz"):
        FeatureStats.load(tmp_path / "truncated.npz")
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance_features(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        frechet_distance_features(np.full((4, 3), np.inf), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same extractor"):
        frechet_distance_features(np.zeros((4, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats(3).update(np.zeros((1, 3))).sigma
    with pytest.raises(ValueError, match="dimensions"):
        FeatureStats(3).update(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        FeatureStats(3).update(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="same extractor"):
        FeatureStats.from_features(np.eye(3)).frechet_distance(FeatureStats.from_features(np.eye(4)))
    np.savez(tmp_path / "bad.npz", mean=np.zeros(3))
    with pytest.raises(ValueError, match="mu"):
        FeatureStats.load(tmp_path / "bad.npz")


def _stats_with(mu: np.ndarray, sigma: np.ndarray) -> FeatureStats:
    """Return FeatureStats holding a given mean and covariance (as a loaded pytorch-fid file would)."""
    stats = FeatureStats(mu.size)
    stats._mean, stats.n, stats._scatter = mu.astype(np.float64), -1, sigma.astype(np.float64)
    return stats


@pytest.mark.parametrize("seed", range(8))
def test_identical_statistics_give_zero_up_to_round_off_and_never_below_it(seed):
    x = np.random.default_rng(seed).normal(size=(300, 40))
    ref = FeatureStats.from_features(x)
    for value in (ref.frechet_distance(FeatureStats.from_features(x)), frechet_distance_features(x, x),
                  frechet_distance(ref.mu, ref.sigma, ref.mu, ref.sigma)):
        assert 0.0 <= value < 1e-9 and np.copysign(1.0, value) == 1.0, value  # no "-0.000000"
