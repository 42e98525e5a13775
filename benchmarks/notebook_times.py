"""Time every chapter notebook, executed top to bottom as the book build runs it.

    python benchmarks/notebook_times.py                      # every notebooks/*.ipynb, quick profile
    python benchmarks/notebook_times.py notebooks/02_first_gan.ipynb --limit 60
    python benchmarks/notebook_times.py --profile full --limit 0

Prints seconds per notebook and the total; exits 1 when a notebook fails or takes longer than
--limit seconds (the quick profile promises at most 120 s per notebook on two CPU cores).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timing:
    """How one notebook ran: its path, wall-clock seconds, and the error if it failed."""

    path: Path
    seconds: float
    error: str | None


def run_notebook(path: Path, cell_timeout: int | None) -> Timing:
    """Execute the notebook at ``path`` in its own folder and return how long it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    try:
        client.execute()
    except Exception as err:  # report every failure the same way and go on to the next notebook
        return Timing(path, time.perf_counter() - started, _summary(err))
    return Timing(path, time.perf_counter() - started, None)


def _summary(err: Exception) -> str:
    """Return one line saying why a notebook failed: the cell's exception, or the timeout."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # tracebacks come with terminal colours
    lines = [line.strip() for line in text.splitlines() if set(line.strip()) - set("-")]
    if not lines:
        return type(err).__name__
    # A cell's error ends with "SomeError: message"; other failures say what happened first.
    return lines[-1] if type(err).__name__ == "CellExecutionError" else f"{type(err).__name__}: {lines[0]}"


def notebooks_from(args: Sequence[str]) -> list[Path]:
    """Return the notebooks named in ``args``, or every notebooks/*.ipynb when none are named."""
    if not args:
        found = sorted((REPO / "notebooks").glob("*.ipynb"))
        if not found:
            raise SystemExit(f"error: no notebooks in {REPO / 'notebooks'}")
        return found
    paths = [Path(a) for a in args]
    for path in paths:
        if not path.is_file() or path.suffix != ".ipynb":
            raise SystemExit(f"error: {path} is not a notebook (.ipynb file)")
    return paths


def table(timings: Sequence[Timing], limit: float) -> str:
    """Return the timings as a plain-text table with a status column and the total."""
    width = max([len(t.path.name) for t in timings] + [len("total")])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    for t in timings:
        if t.error:
            status = f"FAILED ({t.error})"
        elif limit and t.seconds > limit:
            status = f"TOO SLOW (limit {limit:g} s)"
        else:
            status = "ok"
        lines.append(f"{t.path.name:<{width}}  {t.seconds:8.1f}  {status}")
    lines.append("-" * (width + 20))
    lines.append(f"{'total':<{width}}  {sum(t.seconds for t in timings):8.1f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return 0 when every notebook ran within the limit, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to time (default: every notebooks/*.ipynb)")
    parser.add_argument("--profile", choices=("quick", "full"), default="quick",
                        help="the GANCOURSE_PROFILE the notebooks run under (default: quick)")
    parser.add_argument("--limit", type=float, default=120.0,
                        help="fail a notebook that takes longer than this many seconds; 0 for no limit (default: 120)")
    args = parser.parse_args(argv)
    if args.limit < 0:
        parser.error(f"--limit must be >= 0 seconds, got {args.limit:g}")

    paths = notebooks_from(args.notebooks)
    # The kernels inherit this environment: the chosen profile, the inline plotting backend of the
    # book build, and the package from this checkout even when it is not pip-installed.
    os.environ["GANCOURSE_PROFILE"] = args.profile
    os.environ.pop("MPLBACKEND", None)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    # A per-cell timeout a little past the limit stops a hung notebook without cutting a slow one short.
    cell_timeout = math.ceil(args.limit * 1.5) if args.limit else None

    print(f"Timing {len(paths)} notebook(s), profile {args.profile}, limit "
          f"{f'{args.limit:g} s' if args.limit else 'none'}", flush=True)
    timings = []
    for path in paths:
        timing = run_notebook(path, cell_timeout)
        print(f"  {path.name}: {timing.seconds:.1f} s{'' if timing.error is None else ' (failed)'}", flush=True)
        timings.append(timing)
    print()
    print(table(timings, args.limit))
    bad = [t for t in timings if t.error or (args.limit and t.seconds > args.limit)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
