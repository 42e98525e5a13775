"""Where the course runs: the quick/full profile, the device, seeding, Colab detection, data folder."""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import torch

PROFILE_ENV = "GANCOURSE_PROFILE"
SMOKE_ENV = "GANCOURSE_SMOKE"
DATA_ENV = "GANCOURSE_DATA"
VALID_PROFILES = ("quick", "full")

T = TypeVar("T")
_UNSET: Any = object()


@dataclass(frozen=True)
class Profile:
    """The size of a run: ``quick`` (offline data, CPU, minutes) or ``full`` (real data, a GPU).

    ``smoke`` (``GANCOURSE_SMOKE=1``, full profile only) is the test of the full profile's code:
    every full-profile path runs, but amounts of work shrink to their ``smoke`` values and stand-in
    data and weights are accepted. Its numbers mean nothing; CI and the GPU check use it.
    """

    name: Literal["quick", "full"]
    smoke: bool = False

    def __post_init__(self) -> None:
        if self.name not in VALID_PROFILES:
            raise ValueError(f"profile must be one of {VALID_PROFILES}, got {self.name!r}")
        if self.smoke and self.name != "full":
            raise ValueError("the smoke run tests the full profile's code: use it with the full profile "
                             f"({PROFILE_ENV}=full {SMOKE_ENV}=1), or unset {SMOKE_ENV}")

    @property
    def quick(self) -> bool:
        """True in the quick profile."""
        return self.name == "quick"

    @property
    def full(self) -> bool:
        """True in the full profile."""
        return self.name == "full"

    def pick(self, *, quick: T = _UNSET, full: T, smoke: T = _UNSET) -> T:
        """Return the value for this profile: ``P.pick(quick=300, full=20_000, smoke=4)``.

        The smoke run takes ``smoke`` where one is given, else ``full``. ``quick`` may be left out
        only in code that runs in the full profile alone.
        """
        if self.quick:
            if quick is _UNSET:
                raise ValueError("this value has no quick-profile setting: pass quick=..., or run the code "
                                 "that uses it in the full profile only (`if P.full:`)")
            return quick
        if self.smoke and smoke is not _UNSET:
            return smoke
        return full

    def __str__(self) -> str:
        return f"{self.name} (smoke run)" if self.smoke else self.name


def profile() -> Profile:
    """Return the profile chosen by ``GANCOURSE_PROFILE``; unset, ``full`` with CUDA, else ``quick``.

    ``GANCOURSE_SMOKE=1`` with the full profile gives its smoke run (see ``Profile``).
    """
    raw = os.environ.get(PROFILE_ENV)
    if raw is None or raw.strip() == "":
        name = "full" if torch.cuda.is_available() else "quick"
    else:
        name = raw.strip().lower()
    if name not in VALID_PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={raw!r} is not a profile. Valid values: {', '.join(VALID_PROFILES)} "
            f"(e.g. `export {PROFILE_ENV}=quick` for the offline CPU run), or leave it unset to pick "
            "'full' when CUDA is available and 'quick' otherwise."
        )
    smoke_raw = os.environ.get(SMOKE_ENV, "").strip()
    if smoke_raw not in ("", "0", "1"):
        raise ValueError(f"{SMOKE_ENV}={smoke_raw!r}: use 1 for the smoke run of the full profile, or 0 / unset")
    return Profile(name, smoke=smoke_raw == "1")  # type: ignore[arg-type]


def accepts_standins() -> bool:
    """True in the smoke run only: stand-in data and weight files (wrong checksums) are then accepted."""
    return profile().smoke


def device() -> torch.device:
    """Return the CUDA device when one is available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA); with ``deterministic``, also pin cuDNN and torch kernels."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matmuls on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic, warn_only=True)


def is_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def data_dir() -> Path:
    """Return the folder datasets live in: ``$GANCOURSE_DATA``, else ``~/.cache/gancourse/data``."""
    raw = os.environ.get(DATA_ENV)
    path = Path(raw).expanduser() if raw else Path.home() / ".cache" / "gancourse" / "data"
    return path
