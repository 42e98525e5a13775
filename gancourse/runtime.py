"""Where the course runs: the quick/full profile, the device, seeding, Colab detection, data folder."""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch

PROFILE_ENV = "GANCOURSE_PROFILE"
DATA_ENV = "GANCOURSE_DATA"
VALID_PROFILES = ("quick", "full")

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """The size of a run: ``quick`` (offline data, CPU, minutes) or ``full`` (real data, a GPU)."""

    name: Literal["quick", "full"]

    @property
    def quick(self) -> bool:
        """True in the quick profile."""
        return self.name == "quick"

    @property
    def full(self) -> bool:
        """True in the full profile."""
        return self.name == "full"

    def pick(self, *, quick: T, full: T) -> T:
        """Return the value for this profile: ``P.pick(quick=300, full=20_000)``."""
        return quick if self.quick else full

    def __str__(self) -> str:
        return self.name


def profile() -> Profile:
    """Return the profile chosen by ``GANCOURSE_PROFILE``; unset, ``full`` with CUDA, else ``quick``."""
    raw = os.environ.get(PROFILE_ENV)
    if raw is None or raw.strip() == "":
        return Profile("full" if torch.cuda.is_available() else "quick")
    name = raw.strip().lower()
    if name not in VALID_PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={raw!r} is not a profile. Valid values: {', '.join(VALID_PROFILES)} "
            f"(e.g. `export {PROFILE_ENV}=quick` for the offline CPU run), or leave it unset to pick "
            "'full' when CUDA is available and 'quick' otherwise."
        )
    return Profile(name)  # type: ignore[arg-type]


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
