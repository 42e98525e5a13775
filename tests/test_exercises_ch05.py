"""Chapter 5's exercise checks grade both ways: solutions pass, stubs and typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch05 import check_combine_vectors, check_input_dimensions, check_one_hot_labels
from gancourse.models.conditional import combine_vectors, input_dims, one_hot


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- one_hot_labels ---------------------------------------------------------------------------

def one_hot_labels(labels, n_classes):
    return F.one_hot(labels, n_classes).float()


ONE_HOT_MISTAKES = {
    "stub": _stub,
    "int64 (F.one_hot as is)": lambda labels, n: F.one_hot(labels, n),
    "n_classes from the batch": lambda labels, n: F.one_hot(labels).float(),
    "transposed": lambda labels, n: F.one_hot(labels, n).float().T,
    "zero at the label": lambda labels, n: 1 - F.one_hot(labels, n).float(),
    "off by one": lambda labels, n: torch.eye(n + 1)[labels + 1][:, :n],
    "the labels themselves": lambda labels, n: labels.float(),
    "returns nothing": lambda labels, n: None,
}


def test_one_hot_solution_passes(capsys):
    check_one_hot_labels(one_hot_labels)
    assert "one_hot_labels: all checks passed" in capsys.readouterr().out


def test_one_hot_of_the_package_passes():
    check_one_hot_labels.__wrapped__(one_hot)  # the check agrees with the package


@pytest.mark.parametrize("name", ONE_HOT_MISTAKES)
def test_one_hot_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_one_hot_labels(ONE_HOT_MISTAKES[name])


# --- combine_vectors --------------------------------------------------------------------------

def combine_vectors_solution(x, y):
    return torch.cat([x.float(), y.float()], dim=1)


COMBINE_MISTAKES = {
    "stub": _stub,
    "dim 0": lambda x, y: torch.cat([x.float(), y.float()], dim=0),
    "stack": lambda x, y: torch.stack([x.float(), y.float()], dim=1),
    "added": lambda x, y: x.float() + y.float(),
    "swapped": lambda x, y: torch.cat([y.float(), x.float()], dim=1),
    "no float": lambda x, y: torch.cat([x, y], dim=1),
    "detached": lambda x, y: torch.cat([x.detach().float(), y.float()], dim=1),
    "returns nothing": lambda x, y: None,
}


def test_combine_solution_passes(capsys):
    check_combine_vectors(combine_vectors_solution)
    assert "combine_vectors: all checks passed" in capsys.readouterr().out


def test_combine_of_the_package_passes():
    check_combine_vectors.__wrapped__(combine_vectors)  # the check agrees with the package


@pytest.mark.parametrize("name", COMBINE_MISTAKES)
def test_combine_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_combine_vectors(COMBINE_MISTAKES[name])


# --- get_input_dimensions ---------------------------------------------------------------------

def get_input_dimensions(z_dim, image_shape, n_classes):
    return z_dim + n_classes, image_shape[0] + n_classes


DIMS_MISTAKES = {
    "stub": _stub,
    "swapped": lambda z, s, k: (s[0] + k, z + k),
    "G without the label": lambda z, s, k: (z, s[0] + k),
    "D without the label": lambda z, s, k: (z + k, s[0]),
    "height for channels": lambda z, s, k: (z + k, s[1] + k),
    "flattened image (an MLP's input)": lambda z, s, k: (z + k, s[0] * s[1] * s[2] + k),
    "D reads z": lambda z, s, k: (z + k, z + k),
    "product": lambda z, s, k: (z * k, s[0] + k),
    "floats": lambda z, s, k: (float(z + k), float(s[0] + k)),
    "one number": lambda z, s, k: z + k,
    "returns nothing": lambda z, s, k: None,
}


def test_input_dimensions_solution_passes(capsys):
    check_input_dimensions(get_input_dimensions)
    assert "get_input_dimensions: all checks passed" in capsys.readouterr().out


def test_input_dimensions_of_the_package_pass():
    check_input_dimensions(input_dims)


@pytest.mark.parametrize("name", DIMS_MISTAKES)
def test_input_dimensions_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_input_dimensions(DIMS_MISTAKES[name])
