"""Chapter 6's exercise checks grade both ways: solutions pass, stubs and the classic InfoGAN mix-ups fail."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch06 import check_mi_loss, check_sample_codes
from gancourse.losses import mutual_information_loss
from gancourse.models import sample_latent


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- sample_codes -----------------------------------------------------------------------------

def _codes(*, cont="uniform", noise="normal", k_draw=None, order="ncc", separate_cat=False, index=True,
           shared_cont=False):
    """Return a sample_codes with one thing changed."""

    def fn(n, noise_dim, n_categories, n_continuous):
        z_noise = torch.randn(n, noise_dim) if noise == "normal" else torch.rand(n, noise_dim) * 2 - 1
        c_cat = torch.randint(k_draw or n_categories, (n,))
        rows = 1 if shared_cont else n
        if cont == "uniform":
            c_cont = torch.rand(rows, n_continuous) * 2 - 1
        elif cont == "rand":
            c_cont = torch.rand(rows, n_continuous)
        else:
            c_cont = torch.randn(rows, n_continuous)
        c_cont = c_cont.expand(n, -1)
        shown = torch.randint(n_categories, (n,)) if separate_cat else c_cat
        hot = F.one_hot(shown, n_categories).float()
        parts = {"n": z_noise, "c": hot, "k": c_cont}
        z = torch.cat([parts[p] for p in {"ncc": "nck", "cnc": "cnk"}[order]], dim=1)
        return z, (c_cat if index else F.one_hot(c_cat, n_categories)), c_cont

    return fn


def sample_codes(n, noise_dim, n_categories, n_continuous):
    return _codes()(n, noise_dim, n_categories, n_continuous)


CODE_MISTAKES = {
    "stub": _stub,
    "continuous U(0, 1)": _codes(cont="rand"),
    "continuous N(0, 1)": _codes(cont="normal"),
    "noise U(-1, 1)": _codes(noise="uniform"),
    "one category short": lambda n, d, k, m: _codes(k_draw=k - 1)(n, d, k, m),
    "one-hot first": _codes(order="cnc"),
    "one-hot of other categories": _codes(separate_cat=True),
    "c_cat as one-hot": _codes(index=False),
    "one continuous code for the batch": _codes(shared_cont=True),
    "z without the codes": lambda n, d, k, m: (torch.randn(n, d), torch.randint(k, (n,)), torch.rand(n, m) * 2 - 1),
    "returns nothing": lambda n, d, k, m: None,
}


def test_sample_codes_solution_passes(capsys):
    check_sample_codes(sample_codes)
    assert "sample_codes: all checks passed" in capsys.readouterr().out


def test_sample_latent_of_the_package_passes():
    check_sample_codes.__wrapped__(sample_latent)  # the check agrees with the package


@pytest.mark.parametrize("name", CODE_MISTAKES)
def test_sample_codes_mistakes_fail(name):
    torch.manual_seed(0)
    with pytest.raises(ExerciseError):
        check_sample_codes(CODE_MISTAKES[name])


# --- mi_loss ----------------------------------------------------------------------------------

def mi_loss(cat_logits, c_cat, mu, log_std, c_cont, lambda_cat, lambda_cont):
    cross_entropy = F.cross_entropy(cat_logits, c_cat)
    nll = log_std + 0.5 * ((c_cont - mu) / log_std.exp()) ** 2 + 0.5 * math.log(2 * math.pi)
    return lambda_cat * cross_entropy + lambda_cont * nll.sum(dim=1).mean()


def _mi(*, ce="ok", std="exp", const=True, half=True, code_reduce="sum", batch_reduce="mean", sign=1, swap=False):
    """Return an mi_loss with one thing changed."""

    def fn(cat_logits, c_cat, mu, log_std, c_cont, lambda_cat, lambda_cont):
        if ce == "ok":
            per = F.cross_entropy(cat_logits, c_cat, reduction="none")
        elif ce == "softmax twice":
            per = F.cross_entropy(torch.softmax(cat_logits, 1), c_cat, reduction="none")
        else:  # probabilities, no log
            per = -torch.softmax(cat_logits, 1).gather(1, c_cat[:, None]).squeeze(1)
        s = {"exp": log_std.exp(), "raw": log_std, "logvar": (0.5 * log_std).exp()}[std]
        log_s = torch.log(s)
        nll = log_s + (0.5 if half else 1.0) * ((c_cont - mu) / s) ** 2 + (0.5 * math.log(2 * math.pi) if const else 0)
        per_sample = nll.sum(1) if code_reduce == "sum" else nll.mean(1)
        reduce = torch.mean if batch_reduce == "mean" else torch.sum
        a, b = (lambda_cont, lambda_cat) if swap else (lambda_cat, lambda_cont)
        return sign * (a * reduce(per) + b * reduce(per_sample))

    return fn


MI_MISTAKES = {
    "stub": _stub,
    "softmax twice": _mi(ce="softmax twice"),
    "probabilities without log": _mi(ce="probabilities"),
    "log_std used as std": _mi(std="raw"),
    "log_std used as log-variance": _mi(std="logvar"),
    "no constant": _mi(const=False),
    "no 1/2 on the square": _mi(half=False),
    "mean over the codes": _mi(code_reduce="mean"),
    "sum over the batch": _mi(batch_reduce="sum"),
    "sign": _mi(sign=-1),
    "weights swapped": _mi(swap=True),
    "mse for the continuous codes": lambda cl, cc, mu, ls, c, a, b: a * F.cross_entropy(cl, cc) + b * F.mse_loss(mu, c),
    "a float": lambda *args: float(mi_loss(*args)),
    "returns nothing": lambda *args: None,
}


def test_mi_loss_solution_passes(capsys):
    check_mi_loss(mi_loss)
    assert "mi_loss: all checks passed" in capsys.readouterr().out


def test_mi_loss_with_torch_distributions_passes():
    def with_normal(cat_logits, c_cat, mu, log_std, c_cont, lambda_cat, lambda_cont):
        nll = -torch.distributions.Normal(mu, log_std.exp()).log_prob(c_cont).sum(1).mean()
        return lambda_cat * F.cross_entropy(cat_logits, c_cat) + lambda_cont * nll

    check_mi_loss(with_normal)


def test_mutual_information_loss_of_the_package_passes():
    check_mi_loss.__wrapped__(mutual_information_loss)  # the check agrees with the package


@pytest.mark.parametrize("name", MI_MISTAKES)
def test_mi_loss_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_mi_loss(MI_MISTAKES[name])
