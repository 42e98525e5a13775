"""Toy distributions with known densities and modes: 1-D Gaussians and mixtures, 2-D ring, grid, spiral.

The 2-D sets follow the mode-collapse benchmarks of VEEGAN (Srivastava et al., 2017) and PacGAN
(Lin et al., 2018): a ring of 8 Gaussians of radius 2 and a 5 x 5 grid of Gaussians 2 apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gancourse.checks import number, one_of, positive_int

__all__ = ["Gaussian1D", "Mixture1D", "Toy2D", "ring", "grid", "spiral", "toy_dataset", "TOY_DATASETS"]


def _check_n(n: int) -> None:
    positive_int("n", n, "how many samples to draw")


def _check_positive(name: str, value: float) -> None:
    number(name, value, above=0)


@dataclass(frozen=True)
class Gaussian1D:
    """A 1-D normal distribution N(mu, sigma^2) with its density."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _check_positive("sigma", self.sigma)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Return the density at ``x``."""
        x = np.asarray(x, dtype=np.float64)
        return np.exp(-0.5 * ((x - self.mu) / self.sigma) ** 2) / (self.sigma * math.sqrt(2 * math.pi))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return ``n`` samples as a float32 tensor of shape (n, 1)."""
        _check_n(n)
        return self.mu + self.sigma * torch.randn(n, 1, generator=generator)


@dataclass(frozen=True)
class Mixture1D:
    """A 1-D mixture of Gaussians: weights, means and standard deviations."""

    weights: tuple[float, ...]
    mus: tuple[float, ...]
    sigmas: tuple[float, ...]

    def __post_init__(self) -> None:
        k = len(self.weights)
        if k == 0 or len(self.mus) != k or len(self.sigmas) != k:
            raise ValueError(
                f"weights, mus and sigmas must have the same non-zero length, got "
                f"{len(self.weights)}, {len(self.mus)}, {len(self.sigmas)}"
            )
        if any(w < 0 for w in self.weights) or not math.isclose(sum(self.weights), 1.0, abs_tol=1e-9):
            raise ValueError(f"weights must be non-negative and sum to 1, got {self.weights}")
        for s in self.sigmas:
            _check_positive("every sigma", s)

    @property
    def components(self) -> list[Gaussian1D]:
        """The mixture's Gaussian components."""
        return [Gaussian1D(m, s) for m, s in zip(self.mus, self.sigmas)]

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Return the density at ``x``."""
        return sum(w * c.pdf(x) for w, c in zip(self.weights, self.components))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return ``n`` samples as a float32 tensor of shape (n, 1)."""
        _check_n(n)
        idx = torch.multinomial(torch.tensor(self.weights, dtype=torch.float64), n, replacement=True,
                                generator=generator)
        mus = torch.tensor(self.mus, dtype=torch.float32)[idx]
        sigmas = torch.tensor(self.sigmas, dtype=torch.float32)[idx]
        return (mus + sigmas * torch.randn(n, generator=generator)).unsqueeze(1)


@dataclass(frozen=True)
class Toy2D:
    """A 2-D distribution made of Gaussian modes: its ``centres`` (K, 2), their common ``sigma``."""

    name: str
    centres: torch.Tensor
    sigma: float
    weights: torch.Tensor | None = None  # None: equal weights

    def __post_init__(self) -> None:
        if self.centres.ndim != 2 or self.centres.shape[1] != 2:
            raise ValueError(f"centres must have shape (K, 2), got {tuple(self.centres.shape)}")
        _check_positive("sigma", self.sigma)

    @property
    def n_modes(self) -> int:
        """How many modes the distribution has."""
        return self.centres.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return ``n`` samples, a float32 tensor of shape (n, 2)."""
        return self.sample_with_modes(n, generator)[0]

    def sample_with_modes(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``n`` samples (n, 2) and the index of the mode each was drawn from (n,)."""
        _check_n(n)
        w = self.weights if self.weights is not None else torch.ones(self.n_modes)
        idx = torch.multinomial(w.double(), n, replacement=True, generator=generator)
        noise = torch.randn(n, 2, generator=generator) * self.sigma
        return self.centres[idx].float() + noise, idx

    def pdf(self, xy: np.ndarray) -> np.ndarray:
        """Return the density at points ``xy`` of shape (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        c = self.centres.double().numpy()
        w = (self.weights.double().numpy() if self.weights is not None else np.ones(len(c)))
        w = w / w.sum()
        d2 = ((xy[..., None, :] - c) ** 2).sum(-1)
        norm = 1.0 / (2 * math.pi * self.sigma**2)
        return (w * norm * np.exp(-0.5 * d2 / self.sigma**2)).sum(-1)

    def bounds(self, margin: float = 1.0) -> tuple[float, float, float, float]:
        """Return (xmin, xmax, ymin, ymax) enclosing every centre with ``margin`` to spare."""
        lo = self.centres.min(0).values - margin
        hi = self.centres.max(0).values + margin
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def ring(n_modes: int = 8, radius: float = 2.0, sigma: float = 0.02) -> Toy2D:
    """Return ``n_modes`` Gaussians evenly spaced on a circle (VEEGAN's ring: 8 modes, radius 2, sigma 0.02)."""
    positive_int("n_modes", n_modes, "Gaussians on the ring")
    _check_positive("radius", radius)
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return Toy2D("ring", centres.float(), float(sigma))


def grid(side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Toy2D:
    """Return a ``side`` x ``side`` grid of Gaussians ``spacing`` apart, centred on 0 (PacGAN's grid: sigma 0.05)."""
    positive_int("side", side, "Gaussians per row of the grid")
    _check_positive("spacing", spacing)
    ticks = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    return Toy2D("grid", centres.float(), float(sigma))


def spiral(n_modes: int = 20, turns: float = 1.5, radius: float = 3.0, sigma: float = 0.05) -> Toy2D:
    """Return ``n_modes`` Gaussians placed at equal arc length along an Archimedean spiral."""
    if not isinstance(n_modes, int) or n_modes < 2:
        raise ValueError(f"n_modes must be an int >= 2, got {n_modes!r}")
    _check_positive("turns", turns)
    _check_positive("radius", radius)
    # r = a * theta; place modes at equal arc length on a fine parametrisation.
    theta_max = 2 * math.pi * turns
    theta = np.linspace(0.25 * math.pi, theta_max, 20_000)
    a = radius / theta_max
    xy = np.stack([a * theta * np.cos(theta), a * theta * np.sin(theta)], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    targets = np.linspace(0.0, arc[-1], n_modes)
    idx = np.searchsorted(arc, targets).clip(0, len(arc) - 1)
    centres = torch.tensor(xy[idx], dtype=torch.float32)
    return Toy2D("spiral", centres, float(sigma))


TOY_DATASETS = {"ring": ring, "grid": grid, "spiral": spiral}


def toy_dataset(name: str) -> Toy2D:
    """Return the toy distribution called ``name`` ('ring', 'grid' or 'spiral') with its default arguments.

    The shipped toy models of Chapter 4 were trained on ``toy_dataset('ring')`` and ``toy_dataset('grid')``.
    """
    return TOY_DATASETS[one_of("name", name, TOY_DATASETS, "a toy data set")]()
