"""What every exercise check shares: a clear failure type and a uniform success message."""

from __future__ import annotations

import functools
import importlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

TIME_LIMIT_S = 60.0  # one call of a student's function; the course's own answers take well under a second


HIDDEN_TESTS_ENV = "GANCOURSE_HIDDEN_TESTS"
# A number standing alone (not part of a name such as x1 or ch05): 16, -0.7, 1e-05, 2.5e+3.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_NUMBERS_LIST = re.compile(r"\[[\s\d.,eE+\-\[\]…]*\]")  # [[1.0, 0], [0, 1]] and the like


def hidden_tests() -> bool:
    """True under nbgrader's hidden-test mode: ``GANCOURSE_HIDDEN_TESTS=1`` in the environment.

    Then every failure message still says what failed, but not the expected value: the numbers in
    it are replaced by "…" (the student's own ones too, since a message often states both).
    """
    return os.environ.get(HIDDEN_TESTS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def hide_values(message: str) -> str:
    """Return ``message`` with its numbers and lists of numbers replaced by "…"."""
    return _NUMBERS_LIST.sub("[…]", _NUMBER.sub("…", message))


def reveal(text: str) -> str:
    """Return ``text`` (a part of a message that states an expected value), or "" in hidden mode."""
    return "" if hidden_tests() else text


class ExerciseError(AssertionError):
    """Raised by a ``check_*`` function when the student's code gives a wrong answer.

    In hidden-test mode (see ``hidden_tests``) the message keeps what failed and hides the values.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        text = str(message)
        if hidden_tests():
            text = hide_values(text) + " [hidden-test mode: expected values are not shown]"
        super().__init__(text, *args)


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


Check = TypeVar("Check", bound=Callable[..., None])


def _package_function(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@contextmanager
def _refusing(fn: Any, exercise: str, originals: list[Any]) -> Iterator[None]:
    """Within the block, every name bound to one of ``originals`` (in the package's modules and in the
    student's namespace) raises ExerciseError when called; afterwards, each is restored."""
    def refusal(original: Any) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise ExerciseError(f"{exercise}: write it yourself rather than calling the package's "
                                f"{original.__module__}.{original.__name__}")
        return refuse

    replaced: list[tuple[dict[str, Any], str, Any]] = []
    namespaces = [vars(m) for name, m in list(sys.modules.items())
                  if m is not None and (name == "gancourse" or name.startswith("gancourse."))]
    student = getattr(fn, "__globals__", None)
    if isinstance(student, dict):
        namespaces.append(student)
    for original in originals:
        stand_in = refusal(original)
        for namespace in namespaces:
            for key, value in list(namespace.items()):
                if value is original:
                    replaced.append((namespace, key, value))
                    namespace[key] = stand_in
    try:
        yield
    finally:
        for namespace, key, value in reversed(replaced):
            namespace[key] = value


def refuses(*package_functions: str) -> Callable[[Check], Check]:
    """Make a check refuse a solution that calls the package's own answer (dotted names).

    While the check runs, those functions raise ExerciseError wherever they are reachable by name:
    in the package's modules and in the student's namespace (``fn.__globals__``), so neither
    ``return discriminator_loss(...)`` nor an import inside the function passes. The undecorated
    check stays available as ``check.__wrapped__`` (the tests run the package's answers through it).
    """
    def decorate(check: Check) -> Check:
        @functools.wraps(check)
        def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
            originals = [_package_function(name) for name in package_functions]
            exercise = getattr(fn, "__name__", "the function")
            if any(fn is original for original in originals):
                raise ExerciseError(f"{exercise} is the package's own version: write yours and pass it")
            with _refusing(fn, exercise, originals):
                return check(fn, *args, **kwargs)
        guarded.refused = tuple(package_functions)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]
    return decorate
