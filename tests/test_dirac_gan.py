"""theory.dirac_gan_*: the Dirac-GAN's gradient play against its closed forms (Mescheder et al., 2018)."""

import math

import numpy as np
import pytest

from gancourse import theory


def value(theta, psi, gamma=0.0):
    """The discriminator's objective: V = psi * theta minus the R1 penalty (gamma / 2) psi^2."""
    return psi * theta - 0.5 * gamma * psi**2


@pytest.mark.parametrize("gamma", [0.0, 0.7])
def test_field_is_the_gradient_of_the_objective(gamma):
    eps = 1e-6
    for theta, psi in [(1.0, 0.0), (-0.3, 2.0), (0.8, -1.5)]:
        d_theta, d_psi = theory.dirac_gan_field(theta, psi, gamma)
        # The generator descends psi * theta (the penalty does not involve theta).
        fd_theta = (value(theta + eps, psi) - value(theta - eps, psi)) / (2 * eps)
        fd_psi = (value(theta, psi + eps, gamma) - value(theta, psi - eps, gamma)) / (2 * eps)
        assert d_theta == pytest.approx(-fd_theta, abs=1e-8)
        assert d_psi == pytest.approx(fd_psi, abs=1e-8)


@pytest.mark.parametrize("h", [0.05, 0.2, 1.0])
def test_simultaneous_steps_grow_the_radius_by_sqrt_1_plus_h2(h):
    # theta' = theta - h psi, psi' = psi + h theta: |z'|^2 = (1 + h^2) |z|^2 exactly.
    path = theory.dirac_gan_trajectory(1.0, 0.5, h=h, steps=40)
    radius = np.hypot(path[:, 0], path[:, 1])
    np.testing.assert_allclose(radius[1:] / radius[:-1], math.sqrt(1 + h * h), rtol=1e-12)
    assert radius[-1] == pytest.approx(radius[0] * (1 + h * h) ** 20, rel=1e-10)


@pytest.mark.parametrize("h", [0.1, 0.5, 1.5])
def test_alternating_steps_conserve_a_quadratic_form(h):
    # theta' = theta - h psi, psi' = psi + h theta' conserve theta^2 + psi^2 - h theta psi (h < 2).
    path = theory.dirac_gan_trajectory(1.0, 0.0, h=h, steps=500, method="alternating")
    q = path[:, 0] ** 2 + path[:, 1] ** 2 - h * path[:, 0] * path[:, 1]
    np.testing.assert_allclose(q, 1.0, rtol=1e-9)
    # It neither converges nor diverges: it keeps circling the equilibrium.
    radius = np.hypot(path[:, 0], path[:, 1])
    assert radius[-100:].max() > 0.9 and radius.max() < 1 / math.sqrt(1 - h / 2) + 1e-9


@pytest.mark.parametrize(("h", "gamma"), [(0.1, 1.0), (0.3, 0.5)])
def test_r1_makes_simultaneous_play_converge_at_the_eigenvalue_rate(h, gamma):
    # The step is z' = A z with A = [[1, -h], [h, 1 - h gamma]]; for gamma < 2 its eigenvalues are
    # complex with |lambda|^2 = det A = 1 - h gamma + h^2 < 1 exactly when h < gamma.
    steps = 400
    path = theory.dirac_gan_trajectory(1.0, 0.0, h=h, steps=steps, gamma=gamma)
    A = np.array([[1.0, -h], [h, 1.0 - h * gamma]])
    np.testing.assert_allclose(path[-1], np.linalg.matrix_power(A, steps) @ [1.0, 0.0], atol=1e-12)
    rate = math.sqrt(1 - h * gamma + h * h)
    # Along a left eigenvector u of A, u . z_{n+1} = lambda u . z_n: each step shrinks it by |lambda|.
    eigvals, left = np.linalg.eig(A.T)
    np.testing.assert_allclose(np.abs(eigvals), rate, rtol=1e-12)
    coord = np.abs(path @ left[:, 0])
    np.testing.assert_allclose(coord[1:] / coord[:-1], rate, rtol=1e-9)
    radius = np.hypot(path[:, 0], path[:, 1])
    assert radius[-1] < 1e-3 * radius[0]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="method"):
        theory.dirac_gan_trajectory(1.0, 0.0, h=0.1, steps=5, method="sideways")
    with pytest.raises(ValueError, match="h must be a positive"):
        theory.dirac_gan_trajectory(1.0, 0.0, h=0.0, steps=5)
    with pytest.raises(ValueError, match="gamma"):
        theory.dirac_gan_field(1.0, 0.0, gamma=-1.0)
    with pytest.raises(ValueError, match="steps"):
        theory.dirac_gan_trajectory(1.0, 0.0, h=0.1, steps=2.5)
