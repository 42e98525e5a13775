"""Student versions of the course notebooks: solutions between nbgrader's markers become stubs.

    python -m gancourse.exercises make-student notebooks student

Inside every code cell, the lines from one that strips to exactly ``### BEGIN SOLUTION`` to one that
strips to exactly ``### END SOLUTION`` (markers included) are replaced by nbgrader's stub,
``# YOUR CODE HERE`` and ``raise NotImplementedError()``, at the indentation of the BEGIN marker.
Outputs and execution counts are cleared. The result is what ``nbgrader generate_assignment``
would write for these cells, without needing nbgrader or its cell metadata.

A line that looks like a marker but is not one exactly (``###BEGIN SOLUTION``, ``## END
SOLUTION``, ``### Begin Solution``) is an error naming its cell: left alone, it would ship the
solution. A student copy that already exists is replaced only when it is unchanged (what this tool
would write again); one that differs, a student's answers perhaps, is never overwritten unless
``--overwrite`` asks for it.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat
from nbformat import NotebookNode

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")
# Anything a person may have meant as a marker: hashes, BEGIN or END, SOLUTION(S), any case and spacing.
NEAR_MARKER = re.compile(r"#+\s*(begin|end)[\s_-]*solutions?\W*", re.IGNORECASE)


class SolutionMarkerError(ValueError):
    """Raised when solution markers are unbalanced or nested."""


def _strip(source: str) -> tuple[str, int]:
    """Return ``source`` with every solution block replaced by the stub, and the number of blocks."""
    out: list[str] = []
    begin_line: int | None = None  # 1-based line of the open BEGIN marker, None outside a block
    indent = ""
    blocks = 0
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker not in (BEGIN_SOLUTION, END_SOLUTION) and NEAR_MARKER.fullmatch(marker):
            exact = BEGIN_SOLUTION if "begin" in marker.lower() else END_SOLUTION
            raise SolutionMarkerError(
                f"line {number}: `{marker}` looks like a solution marker but is not one; write it exactly "
                f"`{exact}` (otherwise the solution ships in the student copy)"
            )
        if marker == BEGIN_SOLUTION:
            if begin_line is not None:
                raise SolutionMarkerError(
                    f"line {number}: `{BEGIN_SOLUTION}` inside the solution block opened on line "
                    f"{begin_line}; solution blocks cannot be nested: close the first with `{END_SOLUTION}`"
                )
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
        elif marker == END_SOLUTION:
            if begin_line is None:
                raise SolutionMarkerError(
                    f"line {number}: `{END_SOLUTION}` without a matching `{BEGIN_SOLUTION}` before it"
                )
            out.extend(indent + stub for stub in STUB_LINES)
            begin_line = None
            blocks += 1
        elif begin_line is None:
            out.append(line)
        # Lines inside a block are the solution: dropped.
    if begin_line is not None:
        raise SolutionMarkerError(
            f"line {begin_line}: `{BEGIN_SOLUTION}` is never closed: add `{END_SOLUTION}` after the solution"
        )
    return "\n".join(out), blocks


def strip_solutions(source: str) -> str:
    """Return ``source`` with each solution block replaced by ``# YOUR CODE HERE`` / ``raise NotImplementedError()``."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str (a cell's source), got {type(source).__name__}")
    return _strip(source)[0]


def count_solutions(source: str) -> int:
    """Return the number of solution blocks in ``source`` (raises SolutionMarkerError if unbalanced)."""
    return _strip(source)[1]


def make_student_notebook(nb: NotebookNode, *, name: str = "notebook") -> NotebookNode:
    """Return a copy of ``nb`` with solutions stubbed out and all outputs and execution counts cleared."""
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        try:
            cell.source = strip_solutions(cell.source)
        except SolutionMarkerError as err:
            raise SolutionMarkerError(f"{name}: cell {index}: {err}") from None
        cell.outputs = []
        cell.execution_count = None
        # Timing metadata written by nbclient / JupyterLab says when the instructor ran the cell.
        cell.metadata.pop("execution", None)
    return student


def count_exercises(nb: NotebookNode, *, name: str = "notebook") -> int:
    """Return the number of solution blocks in the code cells of ``nb``."""
    total = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            try:
                total += count_solutions(cell.source)
            except SolutionMarkerError as err:
                raise SolutionMarkerError(f"{name}: cell {index}: {err}") from None
    return total


@dataclass(frozen=True)
class _Job:
    """One notebook to convert: where it comes from and where its student copy goes."""

    src: Path
    dest: Path


def _is_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _plan(src: Path, dest: Path) -> list[_Job]:
    """Return the conversions to do, refusing any that could overwrite a solution notebook."""
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist: give a notebook or a folder of notebooks")
    if src.is_dir():
        if dest.exists() and not dest.is_dir():
            raise ValueError(f"{src} is a folder, so DEST must be a folder too, but {dest} is a file")
        if _is_inside(dest, src):
            raise ValueError(
                f"refusing to write student copies to {dest}: it is the source folder {src} or lies "
                "inside it, where they could replace the solutions and would be taken for course "
                "notebooks. Choose a folder outside it, e.g. `student`."
            )
        sources = sorted(src.glob("*.ipynb"))
        if not sources:
            raise ValueError(f"no *.ipynb notebooks in {src} (the folder is not searched recursively)")
        jobs = [_Job(s, dest / s.name) for s in sources]
    else:
        if src.suffix != ".ipynb":
            raise ValueError(f"{src} is not a notebook: SRC must be an .ipynb file or a folder of them")
        if dest.is_dir():
            dest = dest / src.name
        elif dest.suffix != ".ipynb":
            raise ValueError(
                f"DEST {dest} must be an .ipynb file or an existing folder when SRC is a single notebook"
            )
        if dest.resolve() == src.resolve():
            raise ValueError(f"refusing to overwrite {src} with its own student version: choose another DEST")
        jobs = [_Job(src, dest)]
    for job in jobs:
        _refuse_overwriting_solutions(job.dest)
    return jobs


def _refuse_overwriting_solutions(dest: Path) -> None:
    """Raise if ``dest`` is an existing notebook that still holds solutions (a source, not a student copy)."""
    if not dest.is_file():
        return
    try:
        existing = nbformat.read(dest, as_version=4)
        holds_solutions = count_exercises(existing, name=str(dest)) > 0
    except SolutionMarkerError:
        holds_solutions = True
    except Exception as err:  # unreadable: we cannot tell what it is, so we do not overwrite it
        raise ValueError(f"refusing to overwrite {dest}: it exists and is not a readable notebook ({err})") from None
    if holds_solutions:
        raise ValueError(
            f"refusing to overwrite {dest}: it contains `{BEGIN_SOLUTION}` blocks, so it is a solution "
            "notebook, not a student copy. Choose another DEST."
        )


def _changed_copies(converted: list[tuple[_Job, NotebookNode, int]]) -> list[Path]:
    """Return the destinations that exist and differ from the student copy about to be written there."""
    changed = []
    for job, student, _ in converted:
        if job.dest.is_file():
            try:
                same = nbformat.read(job.dest, as_version=4) == student
            except Exception:  # unreadable: not ours to replace
                same = False
            if not same:
                changed.append(job.dest)
    return changed


def make_student(src: Path, dest: Path, *, overwrite: bool = False) -> list[tuple[Path, Path, int]]:
    """Write student versions of ``src`` (a notebook or a folder) to ``dest``; return (src, dest, exercises) each.

    An existing student copy that differs from the one this would write (a student's answers, or
    an older version) is replaced only with ``overwrite=True``; nothing is written otherwise.
    """
    jobs = _plan(Path(src), Path(dest))
    # Convert everything before writing anything: a marker error leaves no half-written folder.
    converted = []
    for job in jobs:
        nb = nbformat.read(job.src, as_version=4)
        n_exercises = count_exercises(nb, name=str(job.src))
        converted.append((job, make_student_notebook(nb, name=str(job.src)), n_exercises))
    changed = _changed_copies(converted)
    if changed and not overwrite:
        listed = "\n  ".join(map(str, changed))
        raise FileExistsError(
            f"refusing to overwrite {len(changed)} existing notebook(s) that differ from a fresh student copy "
            f"(a student's answers, or an older version):\n  {listed}\nMove them away, choose another DEST, or "
            "pass --overwrite to replace them."
        )
    report = []
    for job, student, n_exercises in converted:
        job.dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, job.dest)
        report.append((job.src, job.dest, n_exercises))
    return report


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``python -m gancourse.exercises``."""
    parser = argparse.ArgumentParser(
        prog="python -m gancourse.exercises",
        description="Tools for the course's exercises.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    make = commands.add_parser(
        "make-student",
        help="write student versions of notebooks (solutions replaced by stubs)",
        description=(
            "Write student versions of course notebooks. In every code cell, the lines from "
            f"`{BEGIN_SOLUTION}` to `{END_SOLUTION}` are replaced by `# YOUR CODE HERE` and "
            "`raise NotImplementedError()` at the marker's indentation; outputs and execution "
            "counts are cleared. The sources are never modified."
        ),
        epilog="Example: python -m gancourse.exercises make-student notebooks student",
    )
    make.add_argument("src", metavar="SRC", type=Path,
                      help="a notebook, or a folder whose *.ipynb files are converted (not recursive)")
    make.add_argument("dest", metavar="DEST", type=Path,
                      help="the student notebook (or an existing folder) for one notebook; a folder, "
                           "created if needed and outside SRC, for a folder")
    make.add_argument("--overwrite", action="store_true",
                      help="replace existing student copies even when they differ from a fresh one "
                           "(a student's answers would be lost)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 on an error)."""
    args = build_parser().parse_args(argv)
    if args.command == "make-student":
        try:
            report = make_student(args.src, args.dest, overwrite=args.overwrite)
        except (OSError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        for src, dest, n_exercises in report:
            noun = "exercise" if n_exercises == 1 else "exercises"
            print(f"{src} -> {dest}: {n_exercises} {noun} stripped")
        total = sum(n for _, _, n in report)
        noun = "notebook" if len(report) == 1 else "notebooks"
        print(f"Wrote {len(report)} student {noun} ({total} exercises stripped).")
        return 0
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse already rejects others
