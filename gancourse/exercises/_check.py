"""What every exercise check shares: a clear failure type and a uniform success message."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

TIME_LIMIT_S = 60.0  # one call of a student's function; the course's own answers take well under a second


class ExerciseError(AssertionError):
    """Raised by a ``check_*`` function when the student's code gives a wrong answer."""


def call_student(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; turn a not-yet-written stub into a clear ExerciseError."""
    if not callable(fn):
        raise ExerciseError(f"expected a function, got {type(fn).__name__}: pass the function itself, not its result")
    try:
        with _time_limit(getattr(fn, "__name__", "the function")):
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(
            f"{getattr(fn, '__name__', 'the function')} is not written yet: replace "
            "`raise NotImplementedError()` with your code"
        ) from None


@contextmanager
def _time_limit(name: str) -> Iterator[None]:
    """Stop the block with ExerciseError after TIME_LIMIT_S seconds (an endless loop in a student's code).

    Uses SIGALRM, so it acts in the main thread on Unix (a notebook's kernel, pytest); elsewhere the
    call runs without a limit.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise ExerciseError(f"{name} ran for more than {TIME_LIMIT_S:g} s: is there a loop that never ends?")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def expect(condition: bool, message: str) -> None:
    """Raise ExerciseError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ExerciseError(message)


def passed(name: str) -> None:
    """Print the uniform success line of a check."""
    print(f"\N{CHECK MARK} {name}: all checks passed")
