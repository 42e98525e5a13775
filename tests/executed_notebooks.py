"""Each notebook runs once per test session: nbval executes it, and the book renders what nbval ran.

nbval runs every code cell of a notebook in one kernel and keeps each cell's outputs (display data,
streams, errors) on the test item. This plugin writes them back into the notebook, and once every
cell of a notebook has passed, the executed notebook is kept for the session. The book build
(``tests/test_book_build.py``) then renders those notebooks with execution off, instead of running
every notebook a second time.

The kernels start without ``MPLBACKEND`` (the test session sets it to 'agg' for itself), so that
they pick Jupyter's inline backend and their figures are outputs, as in ``make book``.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

EXECUTED = pytest.StashKey[dict]()  # notebook path -> executed notebook (None once a cell failed)


def _is_notebook_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "cell")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[EXECUTED] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Start each notebook's kernel (nbval does it in the first cell's setup) without MPLBACKEND."""
    saved = os.environ.pop("MPLBACKEND", None) if _is_notebook_cell(item) else None
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Write each cell's outputs into its notebook; keep the notebook once its last cell has passed."""
    outcome = yield
    if not _is_notebook_cell(item) or call.when != "call":
        return
    report = outcome.get_result()
    executed = item.config.stash[EXECUTED]
    path = Path(str(item.parent.fspath))
    notebook = item.parent.nb
    if item.cell_num == 0:
        executed[path] = notebook
        counter = 0
    else:
        counter = getattr(item.parent, "_executed_count", 0)
    if report.skipped:  # a cell tagged nbval-skip (e.g. an exercise the student runs): shown without outputs
        item.cell.outputs, item.cell.execution_count = [], None
        return
    if report.passed and executed.get(path) is not None:
        counter += 1
        item.cell.outputs = [_output(out, counter) for out in (item.test_outputs or [])]
        item.cell.execution_count = counter
        item.parent._executed_count = counter
    else:
        executed[path] = None  # a cell failed: this notebook is not rendered from nbval


def _output(out: dict, count: int) -> nbformat.NotebookNode:
    """Return one output of nbval's as a valid nbformat output."""
    out = dict(out)
    if out["output_type"] == "execute_result":
        out["execution_count"] = count
    return nbformat.from_dict(out)


@pytest.fixture
def executed_notebooks(request: pytest.FixtureRequest) -> dict[Path, nbformat.NotebookNode | None]:
    """The notebooks nbval ran in this session: path -> the executed notebook, or None if a cell failed."""
    return request.config.stash[EXECUTED]
