"""Input checks used across the package: one wording for every error.

Each check returns the value it accepted (converted where that is safe, e.g. a tuple of floats)
and otherwise raises with the argument's name, what was wrong with it, and what to pass instead:

    >>> positive_int("batch_size", 0, "samples per step, e.g. 64")
    Traceback (most recent call last):
    ValueError: batch_size must be a positive int (samples per step, e.g. 64), got 0

A bool is never accepted as a number (``True`` is an int to Python, never to a user).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, TypeVar

import torch

__all__ = [
    "integer",
    "positive_int",
    "number",
    "fraction",
    "one_of",
    "boolean",
    "float_tensor",
    "image_batch",
]

T = TypeVar("T")


def _hint(hint: str) -> str:
    return f" ({hint})" if hint else ""


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(name: str, value: object, hint: str = "", *, at_least: int | None = None,
            at_most: int | None = None) -> int:
    """Return ``value`` as an int if it is one within [at_least, at_most], else raise ValueError."""
    if not _is_int(value) or (at_least is not None and value < at_least) or (
            at_most is not None and value > at_most):
        if at_least is not None and at_most is not None:
            want = f"an int in [{at_least}, {at_most}]"
        elif at_least is not None:
            want = "a positive int" if at_least == 1 else f"an int >= {at_least}"
        elif at_most is not None:
            want = f"an int <= {at_most}"
        else:
            want = "an int"
        raise ValueError(f"{name} must be {want}{_hint(hint)}, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def positive_int(name: str, value: object, hint: str = "") -> int:
    """Return ``value`` if it is an int >= 1, else raise ValueError."""
    return integer(name, value, hint, at_least=1)


def number(name: str, value: object, hint: str = "", *, at_least: float | None = None,
           above: float | None = None, at_most: float | None = None, below: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite real number within the given bounds, else raise."""
    bounds = [(at_least, ">=", lambda v, b: v >= b), (above, ">", lambda v, b: v > b),
              (at_most, "<=", lambda v, b: v <= b), (below, "<", lambda v, b: v < b)]
    ok = _is_real(value) and math.isfinite(value)  # type: ignore[arg-type]
    ok = ok and all(bound is None or test(value, bound) for bound, _, test in bounds)
    if not ok:
        given = [(op, bound) for bound, op, _ in bounds if bound is not None]
        if given == [(">", 0)]:
            want = "a positive finite number"
        else:
            want = "a finite number" + "".join(f" {'and ' if i else ''}{op} {b:g}" for i, (op, b) in enumerate(given))
        raise ValueError(f"{name} must be {want}{_hint(hint)}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def fraction(name: str, value: object, hint: str = "") -> float:
    """Return ``value`` as a float if it lies in [0, 1], else raise ValueError."""
    if not (_is_real(value) and 0 <= value <= 1):  # type: ignore[operator]
        raise ValueError(f"{name} must be a number in [0, 1]{_hint(hint)}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def one_of(name: str, value: T, choices: Iterable[Any], hint: str = "") -> T:
    """Return ``value`` if it is one of ``choices``, else raise ValueError listing them."""
    choices = tuple(choices)
    if not any(value == c and type(value) is type(c) for c in choices):
        listed = ", ".join(map(repr, choices))
        raise ValueError(f"{name} must be one of {listed}{_hint(hint)}, got {value!r}")
    return value


def boolean(name: str, value: object, hint: str = "") -> bool:
    """Return ``value`` if it is True or False, else raise TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False{_hint(hint)}, got {value!r}")
    return value


def float_tensor(name: str, value: object, what: str = "values") -> torch.Tensor:
    """Return ``value`` if it is a non-empty floating-point tensor, else raise naming ``what`` it holds."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of {what}, got {type(value).__name__}; "
                        "convert it with torch.as_tensor(...)")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty: pass at least one of its {what}")
    if not torch.is_floating_point(value):
        raise TypeError(f"{name} must be a floating-point tensor of {what}, got {value.dtype}; "
                        "convert it with .float()")
    return value


def image_batch(name: str, value: object, channels: int, size: int) -> torch.Tensor:
    """Return ``value`` if it is a batch of images of shape (N, channels, size, size), else raise."""
    want = (channels, size, size)
    if not isinstance(value, torch.Tensor) or value.ndim != 4 or tuple(value.shape[1:]) != want:
        raise ValueError(f"{name} must be images of shape (N, {', '.join(map(str, want))}), got "
                         f"{tuple(getattr(value, 'shape', ())) or type(value).__name__}")
    return value
