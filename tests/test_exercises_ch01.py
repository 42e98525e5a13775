"""Chapter 1 exercise checks: each passes the solution and rejects the stub and the classic mistakes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch01 import (
    check_discriminator_loss_from_logits,
    check_js_divergence_discrete,
    check_kl_divergence_discrete,
    check_optimal_discriminator_value,
)


def stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------- optimal discriminator

def d_star(p_data_x, p_g_x):
    total = p_data_x + p_g_x
    return np.where(total > 0, p_data_x / np.where(total > 0, total, 1.0), 0.5)


def d_star_swapped(p_data_x, p_g_x):
    total = p_data_x + p_g_x
    return np.where(total > 0, p_g_x / np.where(total > 0, total, 1.0), 0.5)


def d_star_ratio(p_data_x, p_g_x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return p_data_x / p_g_x


def d_star_nan_when_both_zero(p_data_x, p_g_x):
    with np.errstate(invalid="ignore"):
        return p_data_x / (p_data_x + p_g_x)


def d_star_epsilon(p_data_x, p_g_x):
    return p_data_x / (p_data_x + p_g_x + 1e-12)


def d_star_scalar(p_data_x, p_g_x):
    return float(np.mean(d_star(p_data_x, p_g_x)))


def d_star_zero_convention(p_data_x, p_g_x):
    total = p_data_x + p_g_x
    return np.where(total > 0, p_data_x / np.where(total > 0, total, 1.0), 0.0)


def test_optimal_discriminator_solution_passes(capsys):
    check_optimal_discriminator_value(d_star)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [stub, d_star_swapped, d_star_ratio, d_star_nan_when_both_zero, d_star_epsilon,
                                   d_star_scalar, d_star_zero_convention, lambda a, b: None])
def test_optimal_discriminator_rejects(wrong):
    with pytest.raises(ExerciseError):
        check_optimal_discriminator_value(wrong)


def test_swapped_discriminator_gets_a_hint():
    with pytest.raises(ExerciseError, match="probability that x is REAL"):
        check_optimal_discriminator_value(d_star_swapped)


def test_stub_gets_the_not_written_message():
    with pytest.raises(ExerciseError, match="not written yet"):
        check_optimal_discriminator_value(stub)


# ---------------------------------------------------------------- JS divergence

def _kl_to(a, m, log=np.log):
    pos = a > 0
    return np.sum(a[pos] * log(a[pos] / m[pos]))


def jsd(p, q):
    m = 0.5 * (p + q)
    return 0.5 * _kl_to(p, m) + 0.5 * _kl_to(q, m)


def jsd_base2(p, q):
    m = 0.5 * (p + q)
    return 0.5 * _kl_to(p, m, np.log2) + 0.5 * _kl_to(q, m, np.log2)


def jsd_no_half_mixture(p, q):
    m = p + q
    return 0.5 * _kl_to(p, m) + 0.5 * _kl_to(q, m)


def jsd_sum_not_average(p, q):
    m = 0.5 * (p + q)
    return _kl_to(p, m) + _kl_to(q, m)


def jsd_naive_zero_log_zero(p, q):
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))


def jsd_is_kl(p, q):
    pos = p > 0
    with np.errstate(divide="ignore"):
        return np.sum(p[pos] * np.log(p[pos] / q[pos]))


def jsd_one_sided(p, q):
    m = 0.5 * (p + q)
    return _kl_to(p, m)


def test_js_solution_passes():
    check_js_divergence_discrete(jsd)


@pytest.mark.parametrize("wrong", [stub, jsd_base2, jsd_no_half_mixture, jsd_sum_not_average, jsd_naive_zero_log_zero,
                                   jsd_is_kl, jsd_one_sided, lambda p, q: np.array([0.0, 0.0])])
def test_js_rejects(wrong):
    with pytest.raises(ExerciseError):
        check_js_divergence_discrete(wrong)


def test_mixture_without_its_half_gets_a_hint():
    with pytest.raises(ExerciseError, match=r"m = \(p \+ q\) / 2"):
        check_js_divergence_discrete(jsd_no_half_mixture)


def test_concatenated_batch_gets_a_hint():
    with pytest.raises(ExerciseError, match="sum of two means"):
        check_discriminator_loss_from_logits(d_loss_concatenated)


def test_js_base2_gets_a_hint():
    with pytest.raises(ExerciseError, match="natural log"):
        check_js_divergence_discrete(jsd_base2)


# ---------------------------------------------------------------- discriminator loss from logits

def d_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def d_loss_sigmoid_then_log(real_logits, fake_logits):
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()


def d_loss_epsilon(real_logits, fake_logits):
    eps = 1e-8
    return -torch.log(torch.sigmoid(real_logits) + eps).mean() - torch.log(1 - torch.sigmoid(fake_logits) + eps).mean()


def d_loss_concatenated(real_logits, fake_logits):
    logits = torch.cat([real_logits, fake_logits])
    targets = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])
    return F.binary_cross_entropy_with_logits(logits, targets)


def d_loss_swapped_labels(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()


def d_loss_item(real_logits, fake_logits):
    return torch.tensor(d_loss(real_logits, fake_logits).item())


def d_loss_float(real_logits, fake_logits):
    return d_loss(real_logits, fake_logits).item()


def d_loss_sum(real_logits, fake_logits):
    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()


def d_loss_value_not_loss(real_logits, fake_logits):
    return -d_loss(real_logits, fake_logits)


def test_discriminator_loss_solution_passes():
    check_discriminator_loss_from_logits(d_loss)


@pytest.mark.parametrize("wrong", [stub, d_loss_sigmoid_then_log, d_loss_epsilon, d_loss_concatenated,
                                   d_loss_swapped_labels, d_loss_item, d_loss_float, d_loss_sum, d_loss_value_not_loss])
def test_discriminator_loss_rejects(wrong):
    with pytest.raises(ExerciseError):
        check_discriminator_loss_from_logits(wrong)


def test_sigmoid_then_log_gets_the_softplus_hint():
    with pytest.raises(ExerciseError, match="softplus"):
        check_discriminator_loss_from_logits(d_loss_sigmoid_then_log)


def test_the_library_loss_passes_the_check():
    from gancourse.losses import discriminator_loss

    check_discriminator_loss_from_logits.__wrapped__(discriminator_loss)  # the check agrees with the package


# ---------------------------------------------------------------- KL divergence

def kl(p, q):
    pos = p > 0
    if np.any(q[pos] == 0):
        return math.inf
    return float(np.sum(p[pos] * np.log(p[pos] / q[pos])))


def kl_swapped(p, q):
    return kl(q, p)


def kl_base2(p, q):
    return kl(p, q) / math.log(2)


def kl_naive(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(p * np.log(p / q))


def kl_nan_instead_of_inf(p, q):
    pos = (p > 0) & (q > 0)
    value = np.sum(p[pos] * np.log(p[pos] / q[pos]))
    return value if np.all(q[p > 0] > 0) else math.nan


def kl_skips_q_zero(p, q):
    pos = (p > 0) & (q > 0)
    return np.sum(p[pos] * np.log(p[pos] / q[pos]))


def kl_epsilon(p, q):
    eps = 1e-10
    return np.sum(p * np.log((p + eps) / (q + eps)))


def test_kl_solution_passes():
    check_kl_divergence_discrete(kl)


@pytest.mark.parametrize("wrong", [stub, kl_swapped, kl_base2, kl_naive, kl_nan_instead_of_inf, kl_skips_q_zero,
                                   kl_epsilon, jsd])
def test_kl_rejects(wrong):
    with pytest.raises(ExerciseError):
        check_kl_divergence_discrete(wrong)


def test_checks_reject_a_non_function():
    with pytest.raises(ExerciseError, match="expected a function"):
        check_kl_divergence_discrete(kl(np.array([1.0]), np.array([1.0])))
