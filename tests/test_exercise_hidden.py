"""Hidden-test mode (GANCOURSE_HIDDEN_TESTS=1): a failure still says what failed, never the expected value."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from gancourse.exercises import ch01, ch04, ch05, ch08
from gancourse.exercises._check import HIDDEN_TESTS_ENV, ExerciseError, hide_values, hidden_tests

NUMBER = re.compile(r"(?<![\w.])[-+]?\d")  # a number standing alone, not a digit inside a name


def _message(check, fn) -> str:
    with pytest.raises(ExerciseError) as error:
        check(fn)
    return str(error.value)


def _wrong_loss(*args):
    return torch.tensor(0.25)


def _d_step_wrong_targets(G, D, opt_d, real, labels):
    fake = G(torch.randn(len(real), G.z_dim), labels).detach()
    r, f = D(real, labels), D(fake, labels)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    loss = bce(r, torch.full_like(r, 0.9)) + bce(f, torch.zeros_like(f))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss


CASES = {
    "critic loss": (ch04.check_critic_loss, _wrong_loss, "-0.7"),
    "D loss from logits": (ch01.check_discriminator_loss_from_logits, _wrong_loss, None),
    "Frechet distance": (ch08.check_frechet_distance, lambda *a: 0.25, None),
    "conditional D step": (ch05.check_conditional_d_step, _d_step_wrong_targets, None),
    "optimal D": (ch01.check_optimal_discriminator_value, lambda p, q: np.full_like(p, 0.3), None),
}


@pytest.mark.parametrize("name", CASES)
def test_hidden_mode_hides_the_values_but_says_what_failed(name, monkeypatch):
    check, wrong, value = CASES[name]
    monkeypatch.delenv(HIDDEN_TESTS_ENV, raising=False)
    shown = _message(check, wrong)
    assert NUMBER.search(shown), shown  # the ordinary message states numbers
    if value:
        assert value in shown
    monkeypatch.setenv(HIDDEN_TESTS_ENV, "1")
    assert hidden_tests()
    hidden = _message(check, wrong)
    assert not NUMBER.search(hidden), hidden
    assert "hidden-test mode" in hidden
    # What failed is still said: the exercise's name and the message's words.
    words = [w for w in re.findall(r"[a-z_]{5,}", shown) if not w.startswith("tensor")]
    assert words and all(w in hidden for w in words[:5]), (shown, hidden)


def test_off_unless_set_to_something_true(monkeypatch):
    for value, hidden in (("", False), ("0", False), ("false", False), ("1", True), ("yes", True)):
        monkeypatch.setenv(HIDDEN_TESTS_ENV, value)
        assert hidden_tests() is hidden
    monkeypatch.delenv(HIDDEN_TESTS_ENV)
    assert not hidden_tests()


def test_hide_values_keeps_names_and_hides_numbers_and_lists():
    text = "f(x) = 3 x1 + 4 x2: expected 16, got -1.5e-03; want [[1.0, 0], [0, 1]] (ch05)"
    hidden = hide_values(text)
    assert "x1" in hidden and "x2" in hidden and "ch05" in hidden and "f(x)" in hidden
    assert not NUMBER.search(hidden), hidden


def test_passing_is_unchanged_in_hidden_mode(monkeypatch, capsys):
    monkeypatch.setenv(HIDDEN_TESTS_ENV, "1")
    ch04.check_critic_loss(lambda r, f, gp, w: f.mean() - r.mean() + w * gp)
    assert "critic_loss: all checks passed" in capsys.readouterr().out
