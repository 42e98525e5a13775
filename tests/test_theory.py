"""theory: divergences, the optimal discriminator and V(D, G) against closed forms and independent quadrature."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from gancourse import theory
from gancourse.data.toy import Gaussian1D, Mixture1D

LOG2, LOG4 = math.log(2.0), math.log(4.0)

PAIRS = [
    (Gaussian1D(0.0, 1.0), Gaussian1D(1.0, 1.0)),
    (Gaussian1D(0.0, 1.0), Gaussian1D(4.0, 0.5)),
    (Mixture1D((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5)), Gaussian1D(0.5, 1.5)),
    (Mixture1D((0.3, 0.7), (-3.0, 1.0), (1.0, 0.3)), Gaussian1D(-1.0, 2.0)),
]


def box(a, b):
    """The density of U(a, b)."""
    return lambda x: np.where((x >= a) & (x <= b), 1.0 / (b - a), 0.0)


def kl_gauss(m1, s1, m2, s2):
    """Closed-form KL(N(m1, s1^2) || N(m2, s2^2))."""
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


# ---------------------------------------------------------------- KL

@pytest.mark.parametrize("m1,s1,m2,s2", [(0, 1, 0, 1), (0, 1, 1, 1), (0, 1, 1, 2), (-2, 0.3, 1, 1.7), (3, 2, -1, 0.5)])
def test_kl_of_gaussians_matches_closed_form(m1, s1, m2, s2):
    p, q = Gaussian1D(m1, s1), Gaussian1D(m2, s2)
    assert theory.kl_divergence(p.pdf, q.pdf) == pytest.approx(kl_gauss(m1, s1, m2, s2), rel=1e-9, abs=1e-12)


def test_kl_is_not_symmetric():
    p, q = Gaussian1D(0, 1), Gaussian1D(1, 2)
    assert theory.kl_divergence(p, q) == pytest.approx(kl_gauss(0, 1, 1, 2), rel=1e-9)
    assert theory.kl_divergence(q, p) == pytest.approx(kl_gauss(1, 2, 0, 1), rel=1e-9)
    assert kl_gauss(0, 1, 1, 2) != pytest.approx(kl_gauss(1, 2, 0, 1), rel=1e-3)


def test_kl_of_mixture_matches_quad():
    p, q = PAIRS[2]
    want = integrate.quad(lambda t: p.pdf(t) * math.log(p.pdf(t) / q.pdf(t)), -15, 15, points=[-2, 2], limit=200)[0]
    assert theory.kl_divergence(p.pdf, q.pdf) == pytest.approx(want, rel=1e-7)


def test_kl_is_infinite_where_q_vanishes_and_finite_the_other_way():
    x = np.linspace(-1.0, 3.0, 40_001)
    narrow, wide = box(0.0, 1.0), box(0.0, 2.0)
    assert theory.kl_divergence(wide, narrow, x) == math.inf
    # KL(U(0,1) || U(0,2)) = log 2; the box edges cost one grid cell, renormalised away.
    assert theory.kl_divergence(narrow, wide, x) == pytest.approx(LOG2, abs=1e-3)


def test_kl_of_far_gaussians_uses_exact_log_densities():
    # Closed form 50^2 / 2 = 1250, although N(50, 1).pdf underflows to 0 wherever N(0, 1) has mass.
    p, q = Gaussian1D(0, 1), Gaussian1D(50, 1)
    x = np.linspace(-15, 65, 8001)
    assert theory.kl_divergence(p, q, x) == pytest.approx(1250.0, rel=1e-9)
    # A plain callable is taken as given: its underflowed zeros make the KL infinite, as documented.
    assert theory.kl_divergence(lambda t: p.pdf(t), lambda t: q.pdf(t), x) == math.inf


# ---------------------------------------------------------------- JSD

@pytest.mark.parametrize("p", [Gaussian1D(0, 1), Gaussian1D(3, 0.2), PAIRS[2][0], PAIRS[3][0]])
def test_jsd_of_a_distribution_with_itself_is_zero(p):
    assert theory.js_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


def test_jsd_of_disjoint_supports_is_log2():
    x = np.linspace(-2.0, 6.0, 8001)
    assert theory.js_divergence(box(-1.0, 1.0), box(3.0, 5.0), x) == pytest.approx(LOG2, abs=1e-12)


def test_jsd_of_far_gaussians_is_log2():
    assert theory.js_divergence(Gaussian1D(0, 1), Gaussian1D(60, 1)) == pytest.approx(LOG2, abs=1e-12)


@pytest.mark.parametrize("shift", [0.5, 1.0, 1.5])
def test_jsd_of_overlapping_boxes_closed_form(shift):
    # U(0,2) vs U(shift, shift+2): where both are 1/2 the integrand is 0; elsewhere it is (1/2) p log 2.
    x = np.linspace(-1.0, 5.0, 600_001)  # the box edges sit on grid points
    want = LOG2 * shift / 2.0
    assert theory.js_divergence(box(0.0, 2.0), box(shift, shift + 2.0), x) == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("p,q", PAIRS)
def test_jsd_matches_quad_and_is_symmetric_and_bounded(p, q):
    def integrand(t):
        a, b = p.pdf(t), q.pdf(t)
        m = 0.5 * (a + b)
        return 0.5 * (a * math.log(a / m) if a > 0 else 0.0) + 0.5 * (b * math.log(b / m) if b > 0 else 0.0)

    want = integrate.quad(integrand, -20, 20, points=[-3, -2, 0, 1, 2, 4], limit=400)[0]
    got = theory.js_divergence(p, q)
    assert got == pytest.approx(want, rel=1e-7)
    assert theory.js_divergence(q, p) == pytest.approx(got, rel=1e-12)
    assert 0.0 < got < LOG2


def test_jsd_is_at_most_half_of_either_kl_bound():
    # JSD <= (KL(p||q) + KL(q||p)) / 4 follows from the convexity of KL in its second argument.
    p, q = Gaussian1D(0, 1), Gaussian1D(1, 2)
    assert theory.js_divergence(p, q) <= (kl_gauss(0, 1, 1, 2) + kl_gauss(1, 2, 0, 1)) / 4


# ---------------------------------------------------------------- optimal discriminator

def test_optimal_discriminator_of_two_unit_gaussians_is_a_logistic():
    # log N(x; 0, 1) - log N(x; 1, 1) = 1/2 - x, so D*(x) = sigmoid(1/2 - x).
    d = theory.optimal_discriminator(Gaussian1D(0, 1).pdf, Gaussian1D(1, 1).pdf)
    x = np.linspace(-10, 10, 101)
    assert np.allclose(d(x), 1 / (1 + np.exp(x - 0.5)), rtol=1e-12, atol=0)
    assert np.allclose(d.logit(x), 0.5 - x, rtol=0, atol=1e-10)
    # Far out, where both pdfs underflow to 0, the exact log-densities still give the true D*.
    far = np.array([40.0, 60.0, -60.0])
    assert d.logit(far).tolist() == pytest.approx([-39.5, -59.5, 60.5], abs=1e-9)
    assert d(far)[0] == pytest.approx(1 / (1 + math.exp(39.5)), rel=1e-9)
    # Plain callables underflow there: both are 0 and the convention 1/2 applies.
    d_plain = theory.optimal_discriminator(lambda t: Gaussian1D(0, 1).pdf(t), lambda t: Gaussian1D(1, 1).pdf(t))
    assert d_plain(np.array([60.0]))[0] == 0.5


def test_optimal_discriminator_formula_and_conventions():
    pd, pg = box(0.0, 2.0), box(1.0, 5.0)  # densities 1/2 and 1/4
    d = theory.optimal_discriminator(pd, pg)
    got = d(np.array([0.5, 1.5, 3.0, 10.0]))
    assert got.tolist() == pytest.approx([1.0, (1 / 2) / (1 / 2 + 1 / 4), 0.0, 0.5])
    assert d.logit(np.array([0.5, 3.0, 10.0])).tolist() == [math.inf, -math.inf, 0.0]


def test_optimal_discriminator_is_one_half_at_the_global_optimum():
    p = PAIRS[3][0]
    x = theory.default_grid(p)
    assert np.all(theory.optimal_discriminator(p, p)(x) == 0.5)


def test_optimal_discriminator_maximises_the_pointwise_objective():
    # At each x, D*(x) = a / (a + b) maximises a log y + b log(1 - y) with a = p_data(x), b = p_g(x).
    p_data, p_g = PAIRS[2]
    d = theory.optimal_discriminator(p_data, p_g)
    for x in (-2.5, -1.0, 0.0, 0.7, 3.0):
        a, b = float(p_data.pdf(x)), float(p_g.pdf(x))
        res = optimize.minimize_scalar(lambda y: -(a * math.log(y) + b * math.log(1 - y)),
                                       bounds=(1e-12, 1 - 1e-12), method="bounded", options={"xatol": 1e-12})
        assert float(d(x)) == pytest.approx(res.x, abs=1e-6)


def test_optimal_discriminator_rejects_non_densities():
    with pytest.raises(TypeError, match="density"):
        theory.optimal_discriminator(3.0, Gaussian1D())
    d = theory.optimal_discriminator(lambda x: -np.ones_like(x), Gaussian1D().pdf)
    with pytest.raises(ValueError, match="negative"):
        d(np.zeros(3))


# ---------------------------------------------------------------- value function

@pytest.mark.parametrize("p_data,p_g", PAIRS)
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_2jsd(p_data, p_g):
    d = theory.optimal_discriminator(p_data.pdf, p_g.pdf)
    v = theory.value_function(d, p_data, p_g)
    assert v == pytest.approx(-LOG4 + 2 * theory.js_divergence(p_data, p_g), abs=1e-10)


@pytest.mark.parametrize("p", [Gaussian1D(0, 1), PAIRS[2][0]])
def test_value_at_the_global_optimum_is_minus_log4(p):
    assert theory.value_function(theory.optimal_discriminator(p, p), p, p) == pytest.approx(-LOG4, abs=1e-12)


@pytest.mark.parametrize("p_data,p_g", PAIRS)
def test_an_undecided_discriminator_scores_minus_log4(p_data, p_g):
    # D = 1/2 everywhere: V = log(1/2) + log(1/2) whatever the densities.
    assert theory.value_function(lambda x: np.full_like(x, 0.5), p_data, p_g) == pytest.approx(-LOG4, abs=1e-12)


def test_the_optimal_discriminator_beats_perturbed_ones():
    p_data, p_g = PAIRS[2]
    d = theory.optimal_discriminator(p_data, p_g)
    best = theory.value_function(d, p_data, p_g)
    for eps in (0.5, 0.1, 0.01):
        v = theory.value_function(lambda x: d.logit(x) + eps * np.sin(3 * x), p_data, p_g, logits=True)
        assert v < best
    # Second order in the perturbation: a tenth of the perturbation, about a hundredth of the loss.
    loss = [best - theory.value_function(lambda x: d.logit(x) + e * np.sin(3 * x), p_data, p_g, logits=True)
            for e in (0.1, 0.01)]
    assert loss[1] / loss[0] == pytest.approx(0.01, rel=0.05)


def test_value_function_with_probabilities_matches_logits():
    p_data, p_g = PAIRS[0]
    v_prob = theory.value_function(lambda x: 1 / (1 + np.exp(-0.3 * x)), p_data, p_g)
    v_logit = theory.value_function(lambda x: 0.3 * x, p_data, p_g, logits=True)
    assert v_prob == pytest.approx(v_logit, rel=1e-12)


def test_value_function_closed_form_for_a_logistic_discriminator():
    # D(x) = sigmoid(l(x)) with l(x) = -x: V = E_N(0,1)[-softplus(x)] + E_N(1,1)[-softplus(-x)].
    p_data, p_g = PAIRS[0]
    sp = lambda t: math.log1p(math.exp(-abs(t))) + max(t, 0.0)  # noqa: E731
    want = -integrate.quad(lambda t: p_data.pdf(t) * sp(t), -15, 15)[0] \
        - integrate.quad(lambda t: p_g.pdf(t) * sp(-t), -15, 15)[0]
    assert theory.value_function(lambda x: -x, p_data, p_g, logits=True) == pytest.approx(want, rel=1e-9)


def test_value_function_is_minus_infinity_for_a_certain_wrong_discriminator():
    p_data, p_g = PAIRS[0]
    assert theory.value_function(lambda x: np.ones_like(x), p_data, p_g) == -math.inf


def test_value_function_ignores_d_where_densities_vanish():
    x = np.linspace(-1.0, 4.0, 50_001)
    pd, pg = box(0.0, 1.0), box(2.0, 3.0)
    perfect = lambda t: np.where(t < 1.5, 1.0, 0.0)  # noqa: E731  log D = 0 on p_data, log(1-D) = 0 on p_g
    assert theory.value_function(perfect, pd, pg, x) == 0.0


def test_value_function_rejects_bad_discriminators():
    p_data, p_g = PAIRS[0]
    with pytest.raises(ValueError, match="not a probability"):
        theory.value_function(lambda x: 2 * np.ones_like(x), p_data, p_g)
    with pytest.raises(ValueError, match="one value per point"):
        theory.value_function(lambda x: 0.5, p_data, p_g)
    with pytest.raises(ValueError, match="NaN"):
        theory.value_function(lambda x: np.full_like(x, np.nan), p_data, p_g, logits=True)
    with pytest.raises(TypeError, match="callable"):
        theory.value_function(0.5, p_data, p_g)


# ---------------------------------------------------------------- the -log D trick

@pytest.mark.parametrize("p_data,p_g", PAIRS)
def test_minus_log_d_identity(p_data, p_g):
    # E_pg[-log D*] = KL(p_g || p_data) - 2 JSD(p_data || p_g) + log 4 + E_pdata[log D*]  (Arjovsky & Bottou 2017)
    d = theory.optimal_discriminator(p_data, p_g)
    x = theory.default_grid(p_data, p_g)  # one grid for all four integrals: D* varies on p_data's scale too
    log_d = lambda t: -np.logaddexp(0.0, -d.logit(t))  # noqa: E731
    lhs = theory.expectation(lambda t: -log_d(t), p_g, x)
    rhs = theory.kl_divergence(p_g, p_data, x) - 2 * theory.js_divergence(p_data, p_g, x) + LOG4 \
        + theory.expectation(log_d, p_data, x)
    assert lhs == pytest.approx(rhs, abs=1e-9)


def test_minus_log_d_gradient_is_that_of_kl_minus_2jsd():
    # With D* frozen at theta0, d/dtheta E_{p_theta}[-log D*] = d/dtheta [KL(p_theta||p_data) - 2 JSD(p_data||p_theta)].
    p_data, theta0, s, h = PAIRS[2][0], 0.7, 1.2, 1e-4
    x = np.linspace(-20, 20, 40_001)
    d = theory.optimal_discriminator(p_data, Gaussian1D(theta0, s))
    minus_log_d = lambda t: np.logaddexp(0.0, -d.logit(t))  # noqa: E731

    def f(theta):
        return theory.expectation(minus_log_d, Gaussian1D(theta, s), x)

    def r(theta):
        g = Gaussian1D(theta, s)
        return theory.kl_divergence(g, p_data, x) - 2 * theory.js_divergence(p_data, g, x)

    lhs = (f(theta0 + h) - f(theta0 - h)) / (2 * h)
    rhs = (r(theta0 + h) - r(theta0 - h)) / (2 * h)
    assert abs(lhs) > 0.01  # a real gradient, not 0 = 0
    assert lhs == pytest.approx(rhs, rel=1e-5)


# ---------------------------------------------------------------- helpers and errors

def test_expectation_of_moments():
    g = Gaussian1D(1.5, 0.7)
    assert theory.expectation(lambda x: x, g) == pytest.approx(1.5, rel=1e-12)
    assert theory.expectation(lambda x: x**2, g) == pytest.approx(1.5**2 + 0.7**2, rel=1e-12)


def test_expectation_ignores_infinite_f_where_p_vanishes():
    x = np.linspace(-1, 3, 40_001)
    with np.errstate(divide="ignore"):  # log t = -inf at t = 0 and NaN below, where the box is 0
        f = lambda t: np.log(np.where(t >= 0, t, 0.0))  # noqa: E731
        assert theory.expectation(f, box(1.0, 2.0), x) == pytest.approx(2 * math.log(2) - 1, abs=1e-4)


def test_default_grid_covers_every_component():
    m = Mixture1D((0.5, 0.5), (-10.0, 5.0), (0.1, 2.0))
    x = theory.default_grid(m.pdf, Gaussian1D(20, 1))
    assert x[0] <= -10 - 12 * 0.1 and x[-1] >= 20 + 12
    assert np.diff(x).max() <= 0.1 / 25 + 1e-12


def test_unknown_density_needs_a_grid():
    with pytest.raises(TypeError, match="pass a grid"):
        theory.js_divergence(box(0, 1), box(0, 1))


def test_grid_and_density_errors():
    g = Gaussian1D()
    with pytest.raises(ValueError, match="increasing"):
        theory.js_divergence(g, g, np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        theory.js_divergence(g, g, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="integrates to"):
        theory.js_divergence(g, g, np.linspace(0, 5, 101))  # misses half the mass
    with pytest.raises(ValueError, match="integrates to"):
        theory.kl_divergence(lambda x: 2 * g.pdf(x), g, np.linspace(-10, 10, 2001))
    with pytest.raises(ValueError, match="NaN or inf"):
        theory.kl_divergence(lambda x: np.full_like(x, np.nan), g, np.linspace(-10, 10, 2001))
    with pytest.raises(ValueError, match="one value per point"):
        theory.kl_divergence(lambda x: 1.0, g, np.linspace(-10, 10, 2001))
    with pytest.raises(ValueError, match="too far apart"):
        theory.default_grid(Gaussian1D(0, 1e-3), Gaussian1D(1e4, 1))
