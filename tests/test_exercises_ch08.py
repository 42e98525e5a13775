"""Chapter 8's exercise checks grade both ways: solutions pass, stubs and the classic FID / IS bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch08 import check_fid_from_features, check_frechet_distance, check_inception_score


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- frechet_distance -------------------------------------------------------------------------

def frechet_solution(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_eigen_solution(mu1, sigma1, mu2, sigma2):
    """Another right answer: the square roots of the eigenvalues of S1 S2 (torchmetrics' route), in torch."""
    m1, s1, m2, s2 = (torch.as_tensor(a) for a in (mu1, sigma1, mu2, sigma2))
    root_trace = torch.linalg.eigvals(s1 @ s2).sqrt().real.sum()
    return (m1 - m2).pow(2).sum() + s1.trace() + s2.trace() - 2 * root_trace


def _frechet_with(*, root="matrix", factor=2.0, mean="squared", sign=-1.0):
    """Return a frechet_distance with one thing changed."""

    def fn(mu1, sigma1, mu2, sigma2):
        diff = mu1 - mu2
        if root == "matrix":
            cross = np.trace(scipy.linalg.sqrtm(sigma1 @ sigma2).real)
        elif root == "elementwise":
            with np.errstate(invalid="ignore"):
                cross = np.trace(np.sqrt(sigma1 @ sigma2))
        elif root == "sum":
            cross = np.trace(scipy.linalg.sqrtm(sigma1 + sigma2).real)
        elif root == "product of roots":
            cross = np.trace(scipy.linalg.sqrtm(sigma1).real @ scipy.linalg.sqrtm(sigma2).real)
        elif root == "roots separately":
            cross = np.trace(np.sqrt(sigma1) @ np.sqrt(sigma2))
        elif root == "sqrt of the trace":
            cross = np.sqrt(np.trace(sigma1 @ sigma2))
        else:
            raise AssertionError(root)
        m = {"squared": diff @ diff, "norm": np.linalg.norm(diff), "sum squared": diff.sum() ** 2, "none": 0.0}[mean]
        return float(m + np.trace(sigma1) + np.trace(sigma2) + sign * factor * cross)

    return fn


def _complex_frechet(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(scipy.linalg.sqrtm(sigma1 @ sigma2)) + 1e-3j


def _in_place_frechet(mu1, sigma1, mu2, sigma2):
    mu1 -= mu2
    return float(mu1 @ mu1 + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * np.trace(scipy.linalg.sqrtm(sigma1 @ sigma2).real))


FRECHET_MISTAKES = {
    "stub": _stub,
    "element-wise square root (the seeds' FID)": _frechet_with(root="elementwise"),
    "missing factor 2 of the trace term": _frechet_with(factor=1.0),
    "missing trace term": _frechet_with(factor=0.0),
    "sqrtm of a sum": _frechet_with(root="sum"),
    "product of square roots": _frechet_with(root="product of roots"),
    "element-wise roots separately": _frechet_with(root="roots separately"),
    "square root of the trace": _frechet_with(root="sqrt of the trace"),
    "plus sign": _frechet_with(sign=1.0),
    "mean norm not squared": _frechet_with(mean="norm"),
    "square of the summed difference": _frechet_with(mean="sum squared"),
    "no mean term": _frechet_with(mean="none"),
    "complex result": _complex_frechet,
    "changes its inputs": _in_place_frechet,
    "a vector": lambda m1, s1, m2, s2: np.diag(s1 + s2),
    "returns nothing": lambda m1, s1, m2, s2: None,
}


def test_frechet_solution_passes(capsys):
    check_frechet_distance(frechet_solution)
    assert "frechet_distance: all checks passed" in capsys.readouterr().out


def test_frechet_eigenvalue_route_in_torch_passes():
    check_frechet_distance(frechet_eigen_solution)


def test_frechet_of_the_package_passes():
    from gancourse.metrics import frechet_distance

    check_frechet_distance.__wrapped__(frechet_distance)  # the check agrees with the package


def test_frechet_of_pytorch_fid_passes():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    check_frechet_distance(fid_score.calculate_frechet_distance)


@pytest.mark.parametrize("name", FRECHET_MISTAKES)
def test_frechet_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_frechet_distance(FRECHET_MISTAKES[name])


# --- fid_from_features ------------------------------------------------------------------------

def fid_solution(real, fake):
    mu1, mu2 = real.mean(axis=0), fake.mean(axis=0)
    sigma1, sigma2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    return frechet_solution(mu1, sigma1, mu2, sigma2)


def _fid_with(*, ddof_real=1, ddof_fake=1, root="matrix", rowvar=False):
    """Return a fid_from_features with one thing changed."""
    frechet = _frechet_with(root=root)

    def fn(real, fake):
        if rowvar:  # features as columns: np.cov's default, one variable per ROW
            s1, s2 = np.atleast_2d(np.cov(real, ddof=ddof_real)), np.atleast_2d(np.cov(fake, ddof=ddof_fake))
            m1, m2 = real.mean(axis=1), fake.mean(axis=1)
        else:
            s1, s2 = np.cov(real, rowvar=False, ddof=ddof_real), np.cov(fake, rowvar=False, ddof=ddof_fake)
            m1, m2 = real.mean(axis=0), fake.mean(axis=0)
        return frechet(m1, s1, m2, s2)

    return fn


def _fid_in_place(real, fake):
    real -= real.mean(axis=0)
    return fid_solution(real, fake)


FID_MISTAKES = {
    "stub": _stub,
    "ddof = 0 both": _fid_with(ddof_real=0, ddof_fake=0),
    "ddof = 0 for the real side": _fid_with(ddof_real=0),
    "ddof = 0 for the fake side": _fid_with(ddof_fake=0),
    "element-wise square root": _fid_with(root="elementwise"),
    "sqrtm of a sum": _fid_with(root="sum"),
    "rowvar left at True": _fid_with(rowvar=True),
    "changes its inputs": _fid_in_place,
    "returns nothing": lambda real, fake: None,
}


def test_fid_solution_passes(capsys):
    check_fid_from_features(fid_solution)
    assert "fid_from_features: all checks passed" in capsys.readouterr().out


def test_fid_with_the_package_passes():
    from gancourse.metrics import frechet_distance_features

    check_fid_from_features(frechet_distance_features)


def test_fid_in_torch_passes():
    def torch_fid(real, fake):
        a, b = torch.as_tensor(real), torch.as_tensor(fake)
        return frechet_eigen_solution(a.mean(0), torch.cov(a.T), b.mean(0), torch.cov(b.T))

    check_fid_from_features(torch_fid)


@pytest.mark.parametrize("name", FID_MISTAKES)
def test_fid_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_fid_from_features(FID_MISTAKES[name])


# --- inception_score --------------------------------------------------------------------------

def is_solution(probs):
    marginal = probs.mean(dim=0, keepdim=True)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)
    return float(torch.exp(kl.mean()))


def is_eps_solution(probs):
    """The common eps form: right to rounding."""
    eps = 1e-16
    p_y = probs.mean(0, keepdim=True)
    return torch.exp((probs * (torch.log(probs + eps) - torch.log(p_y + eps))).sum(1).mean())


def _seed_is(probs):
    """Seed 001's formula: log(p - p_y), weighted by p_y, no exponential."""
    p_y = probs.mean(0)
    return float(torch.mean(torch.sum(p_y * torch.log(probs - p_y), dim=1)))


def _is_with(*, softmax_dim=None, marginal_dim=0, exp="of mean", reverse=False):
    """Return an inception_score with one thing changed."""

    def fn(probs):
        p = probs if softmax_dim is None else torch.softmax(probs, dim=softmax_dim)
        m = p.mean(dim=marginal_dim, keepdim=True)
        if reverse:
            kl = (m * (torch.log(m) - torch.log(p))).sum(1)
        else:
            kl = (torch.xlogy(p, p) - torch.xlogy(p, m)).sum(1)
        if exp == "of mean":
            return float(torch.exp(kl.mean()))
        if exp == "mean of":
            return float(torch.exp(kl).mean())
        return float(kl.mean())

    return fn


IS_MISTAKES = {
    "stub": _stub,
    "seed 001: log(p - p_y)": _seed_is,
    "log(p - p_y) with the right weights": lambda p: float(torch.exp(
        (p * torch.log(p - p.mean(0, keepdim=True))).sum(1).mean())),
    "softmax applied again (on the input)": _is_with(softmax_dim=1),
    "softmax over the batch": _is_with(softmax_dim=0),
    "marginal over classes": _is_with(marginal_dim=1),
    "no exponential": _is_with(exp="none"),
    "mean of exp": _is_with(exp="mean of"),
    "reversed KL": _is_with(reverse=True),
    "0 log 0 not handled": lambda p: float(torch.exp(
        (p * (torch.log(p) - torch.log(p.mean(0, keepdim=True)))).sum(1).mean())),
    "returns nothing": lambda p: None,
}


def test_is_solution_passes(capsys):
    check_inception_score(is_solution)
    assert "inception_score: all checks passed" in capsys.readouterr().out


def test_is_eps_form_passes():
    check_inception_score(is_eps_solution)


def test_is_of_the_package_passes():
    from gancourse.metrics import inception_score

    check_inception_score(lambda p: inception_score(p, splits=1).mean)


@pytest.mark.parametrize("name", IS_MISTAKES)
def test_is_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_inception_score(IS_MISTAKES[name])
