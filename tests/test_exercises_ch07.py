"""Chapter 7's exercise checks grade both ways: solutions pass, stubs and typical mistakes fail."""

from __future__ import annotations

import pytest
import torch

from gancourse.control import noise_update, score_with_penalty
from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch07 import check_noise_update, check_score_with_penalty


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- noise_update -----------------------------------------------------------------------------

def noise_update_solution(z, grad, lr):
    return z + lr * grad


def _in_place(z, grad, lr):
    z += lr * grad
    return z


UPDATE_MISTAKES = {
    "stub": _stub,
    "descent": lambda z, g, lr: z - lr * g,
    "no lr": lambda z, g, lr: z + g,
    "step only": lambda z, g, lr: lr * g,
    "lr twice": lambda z, g, lr: z + lr * lr * g,
    "lr on z": lambda z, g, lr: lr * z + g,
    "in place": _in_place,
    "normalised gradient": lambda z, g, lr: z + lr * g / g.norm(dim=1, keepdim=True),
    "returns nothing": lambda z, g, lr: None,
}


def test_noise_update_solution_passes(capsys):
    check_noise_update(noise_update_solution)
    assert "noise_update: all checks passed" in capsys.readouterr().out


def test_noise_update_of_the_package_passes():
    check_noise_update.__wrapped__(noise_update)  # the check agrees with the package


@pytest.mark.parametrize("name", UPDATE_MISTAKES)
def test_noise_update_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_noise_update(UPDATE_MISTAKES[name])


# --- score_with_penalty -----------------------------------------------------------------------

def _score(*, include_target=False, norm="square", sign=-1, weight=True, reduce="sum", target_from="current",
           batch_mean=False):
    """Return a score_with_penalty with one thing changed."""

    def fn(logits, original_logits, target, penalty_weight):
        cols = [j for j in range(logits.shape[1]) if include_target or j != target]
        change = logits[:, cols] - original_logits[:, cols]
        if norm == "square":
            per = change**2
            penalty = per.sum(1) if reduce == "sum" else per.mean(1)
        elif norm == "l2":
            penalty = change.norm(dim=1)
        else:
            penalty = change.abs().sum(1)
        t = logits[:, target] if target_from == "current" else original_logits[:, target]
        score = t + sign * (penalty_weight if weight else 1.0) * penalty
        return score.mean() if batch_mean else score

    return fn


def score_solution(logits, original_logits, target, penalty_weight):
    others = [j for j in range(logits.shape[1]) if j != target]
    change = logits[:, others] - original_logits[:, others]
    return logits[:, target] - penalty_weight * (change**2).sum(dim=1)


SCORE_MISTAKES = {
    "stub": _stub,
    "penalises the target": _score(include_target=True),
    "L2 norm, not squared": _score(norm="l2"),
    "L1": _score(norm="l1"),
    "penalty added": _score(sign=+1),
    "no weight": _score(weight=False),
    "mean over the others": _score(reduce="mean"),
    "original target logit": _score(target_from="original"),
    "mean over the batch": _score(batch_mean=True),
    "detached": lambda *args: score_solution(*args).detach(),
    "returns nothing": lambda *args: None,
}


def test_score_solution_passes(capsys):
    check_score_with_penalty(score_solution)
    assert "score_with_penalty: all checks passed" in capsys.readouterr().out


def test_score_of_the_package_passes():
    check_score_with_penalty.__wrapped__(score_with_penalty)  # the check agrees with the package


@pytest.mark.parametrize("name", SCORE_MISTAKES)
def test_score_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_score_with_penalty(SCORE_MISTAKES[name])
