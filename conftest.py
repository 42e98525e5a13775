"""Session-wide test settings: the quick profile, a headless Matplotlib, and the book build last."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
pytest_plugins = ["tests.executed_notebooks"]  # nbval's executed notebooks, kept for the book build

# Before anything imports matplotlib or starts a kernel: notebooks run by nbval inherit these too.
os.environ.setdefault("GANCOURSE_PROFILE", "quick")
os.environ.setdefault("MPLBACKEND", "agg")
# Kernels start in notebooks/: make them import the gancourse of the tree under test, whatever
# checkout an editable install last pointed at.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)


@pytest.fixture
def one_thread():
    """Run torch on one thread: small layers gain nothing from a second, which stalls on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the suite uses."""
    config.addinivalue_line(
        "markers", "book: builds the whole Jupyter Book (slow; runs last; deselect with -m 'not book')"
    )
    config.addinivalue_line(
        "markers", "colab: installs the course in a fresh virtual environment and runs every notebook's full "
        "profile at smoke sizes (slow; runs before the book; deselect with -m 'not colab')"
    )


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the book build after every other item, the notebooks collected by nbval included, and the Colab run
    just before it.

    The build executes every notebook again; run last, it only starts once the unit tests and
    nbval have passed or failed, so their failures are reported first and read more clearly.
    """
    def rank(item: pytest.Item) -> int:
        return 2 if item.get_closest_marker("book") else 1 if item.get_closest_marker("colab") else 0

    items.sort(key=rank)  # stable: keeps the relative order within each group


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make every way of unpickling fail (torch.load, pickle), so a test proves a loader does not use it."""
    import pickle

    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("this must load without pickle / torch.load")

    for module, name in ((torch, "load"), (pickle, "load"), (pickle, "loads")):
        monkeypatch.setattr(module, name, refuse)
