"""The whole book builds, notebooks executed, with every warning an error (slow: runs last)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from book_toc import toc_files

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
TIMEOUT_S = 3600  # every notebook is executed again; each takes up to 90 s in the quick profile

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


@pytest.mark.book
def test_book_builds_without_warnings():
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
        [*JUPYTER_BOOK, "build", str(REPO), "-W", "-n", "--keep-going", "--all"],
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
