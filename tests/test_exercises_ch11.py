"""The capstone's exercise check grades both ways: the solution passes, stubs and the classic mistakes fail."""

from __future__ import annotations

import pytest

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch11 import check_layer_norms_after_step
from gancourse.losses import gradient_penalty
from gancourse.training import layer_grad_norms


def _norms_with(*, zero=True, sign=1, penalty=True, penalty_sign=1, as_list=True):
    def fn(critic, real, fake, gp_weight=0.0):
        if zero:
            critic.zero_grad()
        loss = sign * (critic(fake).mean() - critic(real).mean())
        if gp_weight > 0 and penalty:
            loss = loss + penalty_sign * gp_weight * gradient_penalty(critic, real, fake)
        loss.backward()
        norms = [n.item() for n in layer_grad_norms(critic).values()]
        return norms if as_list else sum(norms)
    return fn


def _stub(*args, **kwargs):
    raise NotImplementedError()


MISTAKES = {
    "stub": _stub,
    "gradients never zeroed": _norms_with(zero=False),
    "penalty left out": _norms_with(penalty=False),
    "penalty subtracted": _norms_with(penalty_sign=-1),
    "critic loss reversed": _norms_with(sign=-1),  # the norm alone is 1 either way; with the penalty it is not
    "one number, not one per layer": _norms_with(as_list=False),
    "returns nothing": lambda *args: None,
}


def test_the_solution_passes(capsys):
    check_layer_norms_after_step(_norms_with())
    assert "layer_norms_after_step: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", MISTAKES)
def test_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_layer_norms_after_step(MISTAKES[name])
