"""What every exercise check shares: a clear failure type and a uniform success message."""

from __future__ import annotations

from typing import Any, Callable


class ExerciseError(AssertionError):
    """Raised by a ``check_*`` function when the student's code gives a wrong answer."""


def call_student(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; turn a not-yet-written stub into a clear ExerciseError."""
    if not callable(fn):
        raise ExerciseError(f"expected a function, got {type(fn).__name__}: pass the function itself, not its result")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(
            f"{getattr(fn, '__name__', 'the function')} is not written yet: replace "
            "`raise NotImplementedError()` with your code"
        ) from None


def expect(condition: bool, message: str) -> None:
    """Raise ExerciseError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ExerciseError(message)


def passed(name: str) -> None:
    """Print the uniform success line of a check."""
    print(f"\N{CHECK MARK} {name}: all checks passed")
