"""data.toy: densities integrate to one, samples follow them, modes sit where the papers put them."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from gancourse.data.toy import Gaussian1D, Mixture1D, grid, ring, spiral


def test_gaussian_pdf_closed_form_and_mass():
    g = Gaussian1D(1.0, 2.0)
    assert g.pdf(1.0) == pytest.approx(1 / (2 * math.sqrt(2 * math.pi)))
    assert integrate.quad(g.pdf, -np.inf, np.inf)[0] == pytest.approx(1.0, abs=1e-9)


def test_gaussian_samples_match_moments():
    x = Gaussian1D(-3.0, 0.5).sample(200_000, torch.Generator().manual_seed(0))
    assert x.shape == (200_000, 1)
    assert x.mean().item() == pytest.approx(-3.0, abs=0.01)
    assert x.std().item() == pytest.approx(0.5, abs=0.01)


def test_mixture_pdf_and_samples():
    m = Mixture1D((0.25, 0.75), (-2.0, 2.0), (0.5, 0.5))
    assert integrate.quad(m.pdf, -12, 12, points=[-2, 2])[0] == pytest.approx(1.0, abs=1e-9)
    x = m.sample(100_000, torch.Generator().manual_seed(1))
    assert (x < 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert x.mean().item() == pytest.approx(0.25 * -2 + 0.75 * 2, abs=0.02)


@pytest.mark.parametrize(
    "kwargs", [dict(weights=(0.5, 0.6), mus=(0, 1), sigmas=(1, 1)), dict(weights=(1.0,), mus=(0, 1), sigmas=(1,)),
               dict(weights=(1.0,), mus=(0,), sigmas=(0,))]
)
def test_mixture_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        Mixture1D(**kwargs)


def test_ring_centres_lie_on_the_circle():
    r = ring()
    assert r.n_modes == 8 and r.sigma == 0.02
    assert torch.allclose(r.centres.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    assert torch.allclose(r.centres[0], torch.tensor([2.0, 0.0]))
    assert torch.allclose(r.centres[2], torch.tensor([0.0, 2.0]), atol=1e-6)


def test_grid_centres_are_the_5x5_lattice():
    g = grid()
    assert g.n_modes == 25 and g.sigma == 0.05
    assert sorted(set(g.centres[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_samples_stay_near_their_modes():
    r = ring(sigma=0.1)
    x, modes = r.sample_with_modes(50_000, torch.Generator().manual_seed(0))
    d = (x - r.centres[modes]).norm(dim=1)
    # |noise| of a 2-D isotropic Gaussian is Rayleigh(sigma): mean sigma * sqrt(pi / 2).
    assert d.mean().item() == pytest.approx(0.1 * math.sqrt(math.pi / 2), rel=0.02)
    assert torch.bincount(modes, minlength=8).float().div(50_000).sub(1 / 8).abs().max() < 0.01


def test_2d_pdf_integrates_to_one():
    r = ring(sigma=0.2)
    xs = np.linspace(-3.5, 3.5, 701)
    xx, yy = np.meshgrid(xs, xs)
    mass = r.pdf(np.stack([xx, yy], -1)).sum() * (xs[1] - xs[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_spiral_modes_are_evenly_spaced():
    s = spiral(n_modes=12)
    gaps = (s.centres[1:] - s.centres[:-1]).norm(dim=1)
    assert gaps.max() / gaps.min() < 1.3  # chords of equal arcs on a gently curving spiral


@pytest.mark.parametrize("make", [lambda: ring(n_modes=0), lambda: ring(sigma=-1.0), lambda: grid(side=0),
                                  lambda: grid(spacing=0.0), lambda: spiral(n_modes=1)])
def test_bad_toy_options_raise(make):
    with pytest.raises(ValueError):
        make()


def test_bad_sample_count_raises():
    with pytest.raises(ValueError, match="positive int"):
        ring().sample(0)
