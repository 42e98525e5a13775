"""Chapter 9's exercise checks grade both ways: solutions pass, stubs and the classic mistakes fail."""

from __future__ import annotations

import pytest
import torch

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch09 import check_adain, check_demodulated_weight, check_minibatch_stddev, check_r1_penalty


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- adain -----------------------------------------------------------------------------------

def _adain_with(*, unbiased=False, dims=(2, 3), swap=False, power=0.5, center=True):
    def fn(x, scale, bias, eps=1e-5):
        if swap:
            scale, bias = bias, scale
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
        centred = x - mean if center else x
        return scale[:, :, None, None] * centred / (var + eps) ** power + bias[:, :, None, None]
    return fn


ADAIN_MISTAKES = {
    "stub": _stub,
    "unbiased std": _adain_with(unbiased=True),
    "batch norm's statistics": _adain_with(dims=(0, 2, 3)),
    "layer norm's statistics": _adain_with(dims=(1, 2, 3)),
    "scale and bias swapped": _adain_with(swap=True),
    "divided by the variance": _adain_with(power=1.0),
    "mean not removed": _adain_with(center=False),
    "returns nothing": lambda x, s, b: None,
    "returns x": lambda x, s, b: x,
}


def test_adain_solution_and_the_packages_pass(capsys):
    from gancourse.models import adain

    check_adain(_adain_with())
    assert "adain: all checks passed" in capsys.readouterr().out
    check_adain(adain)


@pytest.mark.parametrize("name", ADAIN_MISTAKES)
def test_adain_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_adain(ADAIN_MISTAKES[name])


def test_adain_unbiased_std_is_named():
    with pytest.raises(ExerciseError, match="UNBIASED"):
        check_adain(ADAIN_MISTAKES["unbiased std"])


# --- demodulated_weight ----------------------------------------------------------------------

def _demod_with(*, dims=(2, 3, 4), root=True, modulate=True):
    def fn(weight, styles, eps=1e-8):
        if modulate:
            w = weight[None] * styles[:, None, :, None, None]
        else:
            w = weight[None].expand(styles.shape[0], *weight.shape)
        sq = w.pow(2).sum(dim=dims, keepdim=True) + eps
        return w / (sq.sqrt() if root else sq)
    return fn


DEMOD_MISTAKES = {
    "stub": _stub,
    "normalised over the output channels": _demod_with(dims=(1, 3, 4)),
    "normalised over everything": _demod_with(dims=(1, 2, 3, 4)),
    "sum of squares without the root": _demod_with(root=False),
    "no modulation": _demod_with(modulate=False),
    "no demodulation": lambda w, s, eps=1e-8: w[None] * s[:, None, :, None, None],
}


def test_demodulated_weight_solution_and_the_packages_pass():
    from gancourse.models import modulated_weight

    check_demodulated_weight(_demod_with())
    check_demodulated_weight(modulated_weight)


@pytest.mark.parametrize("name", DEMOD_MISTAKES)
def test_demodulated_weight_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_demodulated_weight(DEMOD_MISTAKES[name])


def test_demodulating_over_the_wrong_axis_is_named():
    with pytest.raises(ExerciseError, match="OUTPUT channels"):
        check_demodulated_weight(DEMOD_MISTAKES["normalised over the output channels"])


# --- minibatch_stddev ------------------------------------------------------------------------

def _mbstd_with(*, unbiased=False, consecutive=False, variance=False, replace=False):
    def fn(x, group_size=4):
        n, c, h, w = x.shape
        g = min(group_size, n)
        y = x.reshape(n // g, g, c, h, w).transpose(0, 1) if consecutive else x.reshape(g, n // g, c, h, w)
        var = y.var(dim=0, unbiased=unbiased)
        stat = (var if variance else torch.sqrt(var + 1e-8)).mean(dim=(1, 2, 3))
        per_sample = stat.repeat_interleave(g) if consecutive else stat.repeat(g)
        channel = per_sample[:, None, None, None].expand(n, 1, h, w)
        return channel.expand(n, c + 1, h, w) if replace else torch.cat([x, channel], dim=1)
    return fn


MBSTD_MISTAKES = {
    "stub": _stub,
    "unbiased std": _mbstd_with(unbiased=True),
    "consecutive groups": _mbstd_with(consecutive=True),
    "mean of variances": _mbstd_with(variance=True),
    "x replaced": _mbstd_with(replace=True),
    "no extra channel": lambda x, group_size=4: x,
}


def test_minibatch_stddev_solution_and_the_packages_pass():
    from gancourse.models import minibatch_stddev

    check_minibatch_stddev(_mbstd_with())
    check_minibatch_stddev(minibatch_stddev)


@pytest.mark.parametrize("name", MBSTD_MISTAKES)
def test_minibatch_stddev_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_minibatch_stddev(MBSTD_MISTAKES[name])


def test_minibatch_stddev_unbiased_is_named():
    with pytest.raises(ExerciseError, match="UNBIASED"):
        check_minibatch_stddev(MBSTD_MISTAKES["unbiased std"])


# --- r1_penalty ------------------------------------------------------------------------------

def _r1_with(*, square=True, reduce="mean", create_graph=True, per_pixel=False, half=False):
    def fn(D, real):
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=create_graph)
        sq = grad.pow(2).flatten(1)
        per = sq.mean(dim=1) if per_pixel else sq.sum(dim=1)
        per = per if square else per.sqrt()
        out = per.mean() if reduce == "mean" else per.sum()
        return out / 2 if half else out
    return fn


R1_MISTAKES = {
    "stub": _stub,
    "the norm without the square": _r1_with(square=False),
    "summed over the batch": _r1_with(reduce="sum"),
    "averaged over pixels": _r1_with(per_pixel=True),
    "gamma / 2 inside": _r1_with(half=True),
    "not differentiable": _r1_with(create_graph=False),
    "a float": lambda D, real: 9.25,
}


def test_r1_solution_and_the_packages_pass():
    from gancourse.losses import r1_penalty

    check_r1_penalty(_r1_with())
    check_r1_penalty(r1_penalty)


@pytest.mark.parametrize("name", R1_MISTAKES)
def test_r1_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_r1_penalty(R1_MISTAKES[name])


def test_r1_without_the_square_is_named():
    with pytest.raises(ExerciseError, match="SQUARED"):
        check_r1_penalty(R1_MISTAKES["the norm without the square"])
