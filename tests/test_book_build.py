"""The whole book builds with every warning an error, rendering the notebooks nbval executed (slow: runs last).

Each notebook runs once per test session. When nbval ran the notebooks in this session (``make
test`` collects ``notebooks/``), the book is built from a staged copy of the sources whose
notebooks hold nbval's outputs, with execution off (``tests/executed_notebooks.py``). A notebook
nbval did not run in this session (``pytest tests -m book`` alone) is executed by the build itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from book_toc import toc_files
from html_site import broken_links, external_loads

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
STAGED = REPO / "_build" / "staged"  # the book's sources, notebooks with their outputs
TIMEOUT_S = 3600  # a notebook nbval did not run is executed by the build: up to 120 s each

# `python -m jupyter_book.cli.main` imports the module and exits 0 without building anything (the
# module has no __main__ guard), so call its click entry point the way the console script does.
JUPYTER_BOOK = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]


def _report(log: str) -> str:
    """Return the build's warnings, the cells that failed to execute, then the tail of its log."""
    lines = log.splitlines()
    warnings = [line for line in lines if "WARNING" in line and "IPKernelApp" not in line]
    failed_cells = []
    for start, line in enumerate(lines):
        if "An error occurred while executing the following cell" in line:
            block = []
            for following in lines[start:start + 80]:
                if following.startswith("The above exception was the direct cause"):
                    break
                block.append(following)
            failed_cells.append("\n".join(block))
    return ("warnings:\n" + ("\n".join(warnings[-60:]) or "(none)")
            + "\n\ncells that failed:\n" + ("\n\n".join(failed_cells) or "(none)")
            + "\n\n--- last lines of the log ---\n" + log[-4000:])


def stage_sources(executed: dict[Path, nbformat.NotebookNode | None], target: Path = STAGED) -> list[str]:
    """Copy the book's sources to ``target`` with execution off; return the notebooks left to the build.

    A notebook nbval ran is written with its outputs; any other one is copied as it is, marked for
    the build to execute (MyST-NB's notebook-level ``execution_mode: force``).
    """
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(REPO / "_toc.yml", target / "_toc.yml")
    shutil.copytree(REPO / "book", target / "book")
    (target / "notebooks").mkdir()
    left_to_the_build = []
    for source in sorted((REPO / "notebooks").glob("*.ipynb")):
        notebook = executed.get(source.resolve())
        if notebook is None:
            notebook = nbformat.read(source, as_version=4)
            notebook.metadata["mystnb"] = {"execution_mode": "force"}
            left_to_the_build.append(source.name)
        nbformat.validate(notebook)
        nbformat.write(notebook, target / "notebooks" / source.name)
    return left_to_the_build


@pytest.mark.book
def test_book_builds_without_warnings(executed_notebooks: dict[Path, nbformat.NotebookNode | None]):
    executed = {path.resolve(): nb for path, nb in executed_notebooks.items()}
    failed = sorted(path.name for path, nb in executed.items() if nb is None)
    if failed:
        pytest.fail(f"nbval failed on {', '.join(failed)}: their pages cannot be built (see the failures above)",
                    pytrace=False)
    left_to_the_build = stage_sources(executed)
    env = dict(os.environ, GANCOURSE_PROFILE="quick")
    # The kernels run in notebooks/: let them import the package from this checkout even when it
    # was not pip-installed; the checkout comes first on the path either way.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # Kernels must pick Jupyter's inline backend, as in `make book`; an inherited MPLBACKEND=agg
    # would build pages without their figures.
    env.pop("MPLBACKEND", None)
    started = time.time()
    # --all: an incremental build would not re-report the warnings of pages that did not change.
    done = subprocess.run(
        [*JUPYTER_BOOK, "build", str(STAGED), "--path-output", str(REPO), "-W", "-n", "--keep-going", "--all"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + "\n" + done.stderr)  # drop terminal colours
    if done.returncode != 0:
        pytest.fail(f"jupyter-book build failed (exit {done.returncode})\n{_report(log)}", pytrace=False)

    # index.html only redirects to the root page, and is written once (when missing), so it may be
    # older than this build; the pages themselves are all rewritten by an --all build.
    assert (HTML / "index.html").is_file(), f"no {HTML / 'index.html'} after the build\n{_report(log)}"
    pages = {f: HTML / f"{f}.html" for f in toc_files()}
    missing = [f for f, page in pages.items() if not page.is_file()]
    assert not missing, f"pages listed in _toc.yml without HTML output: {missing}\n{_report(log)}"
    stale = [f for f, page in pages.items() if page.stat().st_mtime < started - 1]
    assert not stale, f"pages the build did not rewrite (left from an earlier build): {stale}"
    # Every notebook page shows what its run produced: at least one figure, rendered from outputs.
    for name in (f for f in toc_files() if f.startswith("notebooks/")):
        html = pages[name].read_text()
        assert "<img" in html and "cell_output" in html, f"{name}: no executed outputs on the page"
    # Readers behind a firewall get the whole page: nothing is fetched from another host (MathJax,
    # the Colab badge and the theme's assets are served with the book), and every link resolves.
    outside = external_loads(HTML)
    assert not outside, "pages that fetch from another host:\n" + "\n".join(outside[:20])
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not served with the book"
    broken = broken_links(HTML)
    assert not broken, "internal links or images that do not resolve:\n" + "\n".join(broken[:20])
    print(f"book built; notebooks executed by nbval: {len(executed)}, by the build: {len(left_to_the_build)}")
