"""Numerical companions of the minimax game: the optimal discriminator, KL and JS divergences, V(D, G).

Everything works on 1-D densities, given as callables ``x -> p(x)`` (e.g. ``Gaussian1D(0, 1).pdf``)
or as objects with a ``.pdf`` method, integrated with the trapezoidal rule on a grid ``x``. Without a
grid, :func:`default_grid` builds one from the distributions' means and standard deviations.

Conventions (Goodfellow et al., 2014; Arjovsky & Bottou, 2017):
- natural logarithms throughout: divergences are in nats, so JSD <= log 2 and V(D*, G) >= -log 4;
- 0 * log 0 = 0: a point where a density is 0 adds nothing to an integral against that density;
- KL(p || q) = inf as soon as p > 0 at a grid point where q = 0.

Gaussian1D and Mixture1D (or their ``.pdf``) are evaluated through their exact log-density, so
their far tails never underflow to 0: KL(N(0, 1) || N(50, 1)) is 1250, not inf, and D* keeps its
true value far from both means. Any other callable is evaluated as given, in float64, where a
density below about 1e-308 is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
from scipy.special import logsumexp

from gancourse import checks
from gancourse.data.toy import Gaussian1D, Mixture1D

__all__ = [
    "OptimalDiscriminator",
    "optimal_discriminator",
    "default_grid",
    "expectation",
    "kl_divergence",
    "js_divergence",
    "value_function",
    "dirac_gan_field",
    "dirac_gan_trajectory",
]

Density = Union[Callable[[np.ndarray], Any], Gaussian1D, Mixture1D]

# A density must integrate to 1 within this tolerance on the grid; beyond it the grid misses mass.
MASS_TOL = 1e-3
MAX_GRID_POINTS = 1_000_001


# --------------------------------------------------------------------------------------------
# grids and densities
# --------------------------------------------------------------------------------------------

def _owner(p: Any) -> Gaussian1D | Mixture1D | None:
    """Return the Gaussian1D/Mixture1D behind ``p`` (the object or its bound ``.pdf``), else None."""
    if isinstance(p, (Gaussian1D, Mixture1D)):
        return p
    owner = getattr(p, "__self__", None)
    if isinstance(owner, (Gaussian1D, Mixture1D)) and getattr(p, "__name__", "") == "pdf":
        return owner
    return None


def default_grid(*dists: Density, n_sigmas: float = 12.0, points_per_sigma: int = 25) -> np.ndarray:
    """Return a uniform grid covering every component of ``dists`` to ``n_sigmas`` standard deviations.

    ``dists`` are Gaussian1D or Mixture1D objects or their ``.pdf`` methods. The step is the smallest
    sigma divided by ``points_per_sigma``: the trapezoidal rule is then exact to rounding for Gaussians.
    """
    if not dists:
        raise ValueError("default_grid needs at least one distribution (Gaussian1D or Mixture1D)")
    if not (math.isfinite(n_sigmas) and n_sigmas > 0):
        raise ValueError(f"n_sigmas must be a positive finite number, got {n_sigmas!r}")
    if not isinstance(points_per_sigma, int) or points_per_sigma < 2:
        raise ValueError(f"points_per_sigma must be an int >= 2, got {points_per_sigma!r}")
    lo, hi, step = math.inf, -math.inf, math.inf
    for d in dists:
        owner = _owner(d)
        if owner is None:
            raise TypeError(
                f"cannot tell where {d!r} has its mass: default_grid knows Gaussian1D and Mixture1D "
                "(or their .pdf); for any other density pass a grid, e.g. x=np.linspace(-10, 10, 20001)"
            )
        comps = [owner] if isinstance(owner, Gaussian1D) else owner.components
        for c in comps:
            lo = min(lo, c.mu - n_sigmas * c.sigma)
            hi = max(hi, c.mu + n_sigmas * c.sigma)
            step = min(step, c.sigma / points_per_sigma)
    n = int(math.ceil((hi - lo) / step)) + 1
    if n > MAX_GRID_POINTS:
        raise ValueError(
            f"a uniform grid over [{lo:g}, {hi:g}] with step {step:g} needs {n} points (> {MAX_GRID_POINTS}): "
            "the distributions are too far apart for their widths; pass a grid x of your own"
        )
    return np.linspace(lo, hi, n)


def _resolve_grid(x: np.ndarray | None, *dists: Any) -> np.ndarray:
    """Return ``x`` checked (1-D, finite, strictly increasing), or the default grid of ``dists``."""
    if x is None:
        return default_grid(*dists)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"the grid x must be a 1-D array of at least 3 points, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the grid x contains NaN or inf: pass finite points")
    if not np.all(np.diff(x) > 0):
        raise ValueError("the grid x must be strictly increasing (e.g. np.linspace(a, b, n))")
    return x


def _evaluate(name: str, p: Any, x: np.ndarray) -> np.ndarray:
    """Return the density ``p`` at ``x`` as float64, after checking it is finite and non-negative."""
    fn = p if callable(p) else getattr(p, "pdf", None)
    if not callable(fn):
        raise TypeError(
            f"{name} must be a density: a callable x -> p(x) or an object with .pdf, got {type(p).__name__}"
        )
    values = np.asarray(fn(x), dtype=np.float64)
    if values.shape != x.shape:
        raise ValueError(f"{name}(x) must return one value per point: shape {x.shape} expected, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name}(x) returned NaN or inf: a density must be finite")
    if np.any(values < 0):
        raise ValueError(f"{name}(x) is negative at x = {x[values < 0][0]:g}: a density is >= 0")
    return values


def _log_evaluate(name: str, p: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (p(x), log p(x)); exact logs for Gaussian1D/Mixture1D, whose tails would underflow in p(x)."""
    values = _evaluate(name, p, x)
    owner = _owner(p)
    if owner is None:
        with np.errstate(divide="ignore"):
            return values, np.log(values)
    comps = [owner] if isinstance(owner, Gaussian1D) else owner.components
    weights = [1.0] if isinstance(owner, Gaussian1D) else list(owner.weights)
    logs = np.stack([-0.5 * ((x - c.mu) / c.sigma) ** 2 - math.log(c.sigma * math.sqrt(2 * math.pi)) for c in comps])
    b = np.asarray(weights).reshape((-1,) + (1,) * x.ndim)
    return values, logsumexp(logs, axis=0, b=b)


def _density_on_grid(name: str, p: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (p, log p) on ``x`` rescaled to integrate to exactly 1, after checking p does to MASS_TOL."""
    values, logs = _log_evaluate(name, p, x)
    mass = float(np.trapezoid(values, x))
    if abs(mass - 1.0) > MASS_TOL:
        raise ValueError(
            f"{name} integrates to {mass:.6g} on the grid [{x[0]:g}, {x[-1]:g}], not 1: widen or refine "
            "the grid so it covers the density's mass, or pass a normalised density"
        )
    # The rescaling removes the quadrature's own error on the mass (at most MASS_TOL), so that
    # identities such as JSD(disjoint) = log 2 hold to rounding instead of to the grid step.
    return values / mass, logs - math.log(mass)


def expectation(f: Callable[[np.ndarray], Any], p: Density, x: np.ndarray | None = None) -> float:
    """Return E_p[f] = integral of p(x) f(x) dx on the grid; points where p = 0 add nothing, even if f is infinite."""
    x = _resolve_grid(x, p)
    pv, _ = _density_on_grid("p", p, x)
    fv = np.asarray(f(x), dtype=np.float64)
    if fv.shape != x.shape:
        raise ValueError(f"f(x) must return one value per point: shape {x.shape} expected, got {fv.shape}")
    if np.any(np.isnan(fv) & (pv > 0)):
        raise ValueError("f(x) is NaN where p > 0: the expectation is undefined")
    with np.errstate(invalid="ignore"):
        integrand = np.where(pv > 0, pv * fv, 0.0)
    return float(np.trapezoid(integrand, x))


# --------------------------------------------------------------------------------------------
# divergences
# --------------------------------------------------------------------------------------------

def kl_divergence(p: Density, q: Density, x: np.ndarray | None = None) -> float:
    """Return KL(p || q) = integral of p log(p / q) in nats; inf when p > 0 at a point where q = 0."""
    x = _resolve_grid(x, p, q)
    pv, log_p = _density_on_grid("p", p, x)
    _, log_q = _density_on_grid("q", q, x)
    pos = pv > 0
    if np.any(log_q[pos] == -np.inf):
        return math.inf
    integrand = np.zeros_like(pv)
    integrand[pos] = pv[pos] * (log_p[pos] - log_q[pos])
    return float(np.trapezoid(integrand, x))


def js_divergence(p: Density, q: Density, x: np.ndarray | None = None) -> float:
    """Return JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, in nats (0 <= JSD <= log 2)."""
    x = _resolve_grid(x, p, q)
    pv, log_p = _density_on_grid("p", p, x)
    qv, log_q = _density_on_grid("q", q, x)
    log_m = np.logaddexp(log_p, log_q) - math.log(2.0)
    integrand = np.zeros_like(pv)
    # m > 0 wherever p > 0 or q > 0, so both logs below are finite: the JSD never needs inf.
    for v, log_v in ((pv, log_p), (qv, log_q)):
        pos = v > 0
        integrand[pos] += 0.5 * v[pos] * (log_v[pos] - log_m[pos])
    return float(np.trapezoid(integrand, x))


# --------------------------------------------------------------------------------------------
# the discriminator and the value function
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OptimalDiscriminator:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), the discriminator that maximises V(D, G) for a fixed G.

    Where both densities are 0, V does not depend on D(x), so every value is optimal there; we
    return 1/2, the answer of a discriminator that cannot tell (and the value D* takes everywhere
    at the global optimum p_g = p_data). It is a convention, not a limit: nothing downstream
    depends on it, since those points carry no probability. Gaussians and mixtures never hit it:
    their exact log-densities give D* its true value arbitrarily far out in the tails.
    """

    p_data: Density
    p_g: Density

    def logit(self, x: np.ndarray | float) -> np.ndarray:
        """Return log p_data(x) - log p_g(x), the logit of D*: +-inf where one density is 0, 0 where both are."""
        x = np.asarray(x, dtype=np.float64)
        _, log_pd = _log_evaluate("p_data", self.p_data, x)
        _, log_pg = _log_evaluate("p_g", self.p_g, x)
        both_zero = (log_pd == -np.inf) & (log_pg == -np.inf)
        with np.errstate(invalid="ignore"):
            return np.where(both_zero, 0.0, log_pd - log_pg)

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Return D*(x), the probability that x is real, in [0, 1]."""
        # sigmoid(logit) = p_data / (p_data + p_g), computed without 0/0 or overflow.
        return np.exp(-np.logaddexp(0.0, -self.logit(x)))


def optimal_discriminator(p_data: Density, p_g: Density) -> OptimalDiscriminator:
    """Return the optimal discriminator D* = p_data / (p_data + p_g) as a function of x (1/2 where both vanish)."""
    for name, p in (("p_data", p_data), ("p_g", p_g)):
        if not callable(p) and not hasattr(p, "pdf"):
            raise TypeError(
                f"{name} must be a density: a callable x -> p(x) or an object with .pdf, got {type(p).__name__}"
            )
    return OptimalDiscriminator(p_data, p_g)


def value_function(
    D: Callable[[np.ndarray], Any],
    p_data: Density,
    p_g: Density,
    x: np.ndarray | None = None,
    *,
    logits: bool = False,
) -> float:
    """Return V(D, G) = E_{p_data}[log D] + E_{p_g}[log(1 - D)] in nats, by integration on the grid.

    ``D`` returns probabilities in [0, 1], or logits when ``logits=True`` (then log D = -softplus(-l)
    and log(1 - D) = -softplus(l), exact for any logit: use it for a network's output). An
    :class:`OptimalDiscriminator` is evaluated through its exact logit, so V(D*, G) stays finite
    where D* rounds to 0 or 1 in float64. A point where a density is 0 adds nothing whatever D says.
    """
    x = _resolve_grid(x, p_data, p_g)
    pd, _ = _density_on_grid("p_data", p_data, x)
    pg, _ = _density_on_grid("p_g", p_g, x)
    if isinstance(D, OptimalDiscriminator):
        D, logits = D.logit, True
    if not callable(D):
        raise TypeError(f"D must be a callable x -> D(x), got {type(D).__name__}")
    out = np.asarray(D(x), dtype=np.float64)
    if out.shape != x.shape:
        raise ValueError(f"D(x) must return one value per point: shape {x.shape} expected, got {out.shape}")
    if np.any(np.isnan(out)):
        raise ValueError("D(x) returned NaN")
    if logits:
        log_d, log_1m_d = -np.logaddexp(0.0, -out), -np.logaddexp(0.0, out)
    else:
        if np.any((out < 0) | (out > 1)):
            bad = out[(out < 0) | (out > 1)][0]
            raise ValueError(
                f"D(x) = {bad:g} is not a probability: D must return values in [0, 1] "
                "(pass logits=True if it returns logits)"
            )
        with np.errstate(divide="ignore"):
            log_d, log_1m_d = np.log(out), np.log1p(-out)
    # 0 * log 0 = 0: where a density vanishes its term is 0 even if D makes the log infinite.
    with np.errstate(invalid="ignore"):
        integrand = np.where(pd > 0, pd * log_d, 0.0) + np.where(pg > 0, pg * log_1m_d, 0.0)
    return float(np.trapezoid(integrand, x))


# --------------------------------------------------------------------------------------------
# the Dirac-GAN: gradient play on V(theta, psi) = psi * theta (Mescheder et al., 2018)
# --------------------------------------------------------------------------------------------

DIRAC_METHODS = ("simultaneous", "alternating")


def dirac_gan_field(theta: Any, psi: Any, gamma: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return the gradient-play field (-dV/dtheta, dV/dpsi - gamma * psi) of the Dirac-GAN.

    The data are a point mass at 0, the generator a point mass at theta, the discriminator
    D(x) = psi * x, and with the linear (Wasserstein) loss V(theta, psi) = psi * theta:
    the generator descends V, the discriminator ascends it. ``gamma`` > 0 adds the R1 penalty
    (gamma / 2) * |dD/dx|^2 = (gamma / 2) * psi^2 to the discriminator's loss.
    """
    gamma = checks.number("gamma", gamma, "the R1 weight; 0 for none", at_least=0)
    theta, psi = np.asarray(theta, dtype=np.float64), np.asarray(psi, dtype=np.float64)
    return -psi, theta - gamma * psi


def dirac_gan_trajectory(
    theta0: float,
    psi0: float,
    *,
    h: float,
    steps: int,
    method: str = "simultaneous",
    gamma: float = 0.0,
) -> np.ndarray:
    """Return the (steps + 1, 2) array of (theta, psi) visited by gradient play with step h.

    ``"simultaneous"``: both players step from the same point. ``"alternating"``: the generator
    steps first and the discriminator answers at the generator's new position.
    """
    theta = checks.number("theta0", theta0, "the generator's starting point")
    psi = checks.number("psi0", psi0, "the discriminator's starting slope")
    h = checks.number("h", h, "the step size", above=0)
    steps = checks.integer("steps", steps, "the number of updates", at_least=0)
    method = checks.one_of("method", method, DIRAC_METHODS)
    gamma = checks.number("gamma", gamma, "the R1 weight; 0 for none", at_least=0)
    path = np.empty((steps + 1, 2))
    path[0] = theta, psi
    for k in range(1, steps + 1):
        d_theta, d_psi = dirac_gan_field(theta, psi, gamma)
        theta = theta + h * float(d_theta)
        if method == "alternating":  # the discriminator sees the generator's new position
            d_psi = dirac_gan_field(theta, psi, gamma)[1]
        psi = psi + h * float(d_psi)
        path[k] = theta, psi
    return path
