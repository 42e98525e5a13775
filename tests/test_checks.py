"""gancourse.checks: every error names the argument, says what was wrong and what to pass; bools are not numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gancourse import checks


@pytest.mark.parametrize("bad", [0, -1, 1.0, True, "3", None, float("nan")])
def test_positive_int_refuses_with_the_name_the_hint_and_the_value(bad):
    with pytest.raises(ValueError, match=r"batch_size must be a positive int \(samples per step\), got "):
        checks.positive_int("batch_size", bad, "samples per step")


def test_integers_accept_numpy_ints_and_return_python_ints():
    got = checks.integer("seed", np.int64(7), at_least=0)
    assert got == 7 and type(got) is int
    assert checks.integer("k", 3, at_least=2, at_most=3) == 3
    with pytest.raises(ValueError, match=r"k must be an int in \[2, 3\]"):
        checks.integer("k", 4, at_least=2, at_most=3)
    with pytest.raises(ValueError, match="k must be an int >= 2"):
        checks.integer("k", 1, at_least=2)


@pytest.mark.parametrize(("kwargs", "bad", "words"), [
    (dict(above=0), 0.0, "a positive finite number"),
    (dict(at_least=0), -1e-9, "a finite number >= 0"),
    (dict(at_least=0, below=1), 1.0, "a finite number >= 0 and < 1"),
    ({}, math.inf, "a finite number"),
    ({}, math.nan, "a finite number"),
    ({}, True, "a finite number"),
    ({}, "0.1", "a finite number"),
])
def test_number_says_which_numbers_it_takes(kwargs, bad, words):
    with pytest.raises(ValueError, match=f"lr must be {words}"):
        checks.number("lr", bad, **kwargs)


def test_number_returns_a_float_within_its_bounds():
    assert checks.number("lr", np.float32(0.5), at_least=0, at_most=1) == 0.5
    assert type(checks.number("lr", 1, above=0)) is float


def test_fraction_one_of_and_boolean():
    assert checks.fraction("p", 0) == 0.0 and checks.fraction("p", 1) == 1.0
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\]"):
        checks.fraction("p", 1.5)
    assert checks.one_of("norm", None, ("batch", None)) is None
    with pytest.raises(ValueError, match="norm must be one of 'batch', None"):
        checks.one_of("norm", "Batch", ("batch", None))
    with pytest.raises(ValueError, match="must be one of"):
        checks.one_of("n", 1.0, (1,))  # 1.0 is not the int 1 here: choices are names, compared with their type
    with pytest.raises(TypeError, match="amp must be True or False, got 1"):
        checks.boolean("amp", 1)


def test_tensor_checks_name_what_the_tensor_holds():
    with pytest.raises(TypeError, match="scores must be a torch.Tensor of logits, got list; convert it"):
        checks.float_tensor("scores", [1.0], "logits")
    with pytest.raises(ValueError, match="scores is empty"):
        checks.float_tensor("scores", torch.zeros(0), "logits")
    with pytest.raises(TypeError, match="floating-point tensor of logits, got torch.int64; convert it with .float()"):
        checks.float_tensor("scores", torch.zeros(2, dtype=torch.long), "logits")
    x = torch.zeros(3, 1, 28, 28)
    assert checks.image_batch("x", x, 1, 28) is x
    with pytest.raises(ValueError, match=r"x must be images of shape \(N, 1, 28, 28\), got \(3, 28, 28\)"):
        checks.image_batch("x", x[:, 0], 1, 28)
