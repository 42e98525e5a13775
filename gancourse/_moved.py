"""Names that moved to another module keep working from their old one, with a DeprecationWarning.

A module lists what left it and ends with ``__getattr__ = moved(__name__, {...})``: the name is
imported from its new home only when someone asks for it, so the old module never imports the new
one at import time (no import circle) and the warning tells the reader where to import it from.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def moved(module: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module-level ``__getattr__`` that finds each name of ``homes`` in its new module."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(f"{module}.{name} moved to {homes[name]}.{name}; import it from there",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(homes[name]), name)

    return __getattr__
