"""The notebooks keep the course's conventions, and every exercise's check grades both ways.

For each exercise (a code cell with ``### BEGIN SOLUTION``) the imports cell, the solution cell and
the check cell run in a fresh namespace: the solution must pass, and its student version (the
solution replaced by the nbgrader stub) must raise ``ExerciseError``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest
import yaml
from book_toc import toc_files

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.student import BEGIN_SOLUTION, strip_solutions

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
BOOK_PAGES = sorted((REPO / "book").glob("*.md"))
BIB = REPO / "book" / "references.bib"

# The contract's install cell, verbatim: it must stay harmless everywhere but Colab.
INSTALL_CELL = '''\
# On Colab, install the course package; anywhere else this cell does nothing.
import subprocess, sys
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "gancourse[colab] @ git+https://github.com/gan-course/gan-course"],
                   check=True)'''
COLAB_BADGE = "../book/figures/colab-badge.svg"  # served with the book: a reader offline still sees it
NO_NOTEBOOKS = "no notebooks in notebooks/ yet"


def _notebook_params() -> list[Any]:
    """Return one pytest param per notebook, or a single skipped one while the folder is empty."""
    if not NOTEBOOKS:
        return [pytest.param(None, id="no-notebooks", marks=pytest.mark.skip(reason=NO_NOTEBOOKS))]
    return [pytest.param(path, id=path.name) for path in NOTEBOOKS]


def _read(path: Path) -> nbformat.NotebookNode:
    """Return the notebook at ``path`` as nbformat 4."""
    return nbformat.read(path, as_version=4)


def _calls(source: str) -> list[str]:
    """Return the dotted names of every function called in ``source`` (``gancourse.profile``, ``check_x``)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            try:
                names.append(ast.unparse(node.func))
            except Exception:  # a call on an expression too complex to name: not what we look for
                continue
    return names


def _repository() -> tuple[str, str]:
    """Return (``owner/name``, branch) of the GitHub repository named in _config.yml."""
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+/[^/]+)", url)
    assert match, f"_config.yml repository.url {url!r} is not a https://github.com/OWNER/NAME address"
    return match.group(1), config["repository"].get("branch", "master")




# Headings: ATX headings outside fenced blocks (code fences, ```{directive}, :::, $$ math).
_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,}|\$\$)")
_HEADING = re.compile(r"^(#{1,6})\s+\S")


def _headings(markdown: str) -> list[tuple[int, str]]:
    """Return (level, line) for every ATX heading of ``markdown`` outside fenced blocks."""
    found: list[tuple[int, str]] = []
    fence: str | None = None  # the opening fence while inside a fenced block
    for line in markdown.split("\n"):
        stripped = line.strip()
        if fence is None:
            opener = _FENCE.match(line)
            if opener:
                fence = opener.group(1)
                if fence == "$$" and len(stripped) > 2 and stripped.endswith("$$"):
                    fence = None  # a one-line $$...$$ display
                continue
            match = _HEADING.match(line)
            if match:
                found.append((len(match.group(1)), stripped))
        elif fence == "$$":
            if stripped.endswith("$$"):
                fence = None
        elif stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            fence = None
    return found


def _heading_problems(headings: list[tuple[int, str]]) -> list[str]:
    """Return what breaks 'one # title first, then no skipped levels' in ``headings``."""
    problems = []
    if not headings or headings[0][0] != 1:
        problems.append("the first heading must be the page's `#` title")
    titles = [line for level, line in headings if level == 1]
    if len(titles) != 1:
        problems.append(f"exactly one `#` heading expected, found {len(titles)}: {titles}")
    for (previous, _), (level, line) in zip(headings, headings[1:]):
        if level > previous + 1:
            problems.append(f"heading level skipped at {line!r} (after a level-{previous} heading)")
    return problems


_CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")


def _cited_keys(text: str) -> set[str]:
    """Return the keys cited with {cite}`a,b` (or {cite:p}, {cite:t}, ...) in ``text``."""
    return {key.strip() for group in _CITE.findall(text) for key in group.split(",") if key.strip()}


def _bib_keys() -> set[str]:
    """Return the entry keys of references.bib."""
    return set(re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(), flags=re.MULTILINE))


# --- one notebook at a time ------------------------------------------------------------------

@pytest.mark.parametrize("path", _notebook_params())
def test_stored_without_outputs(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), f"{path.name}: name notebooks NN_slug.ipynb"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} are stored with outputs or execution counts; clear them"


@pytest.mark.parametrize("path", _notebook_params())
def test_title_and_colab_badge(path: Path):
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be markdown (title, badge)"
    lines = [line for line in first.source.split("\n") if line.strip()]
    number = int(path.name[:2])
    assert lines and re.fullmatch(rf"# Chapter {number}: \S.*", lines[0]), (
        f"{path.name}: the first line must be '# Chapter {number}: Title', got {lines[:1]}"
    )
    repo, branch = _repository()
    link = f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{path.name}"
    assert f"[![Open in Colab]({COLAB_BADGE})]({link})" in first.source, (
        f"{path.name}: the first cell needs the Colab badge linking to its own path:\n"
        f"[![Open in Colab]({COLAB_BADGE})]({link})"
    )
    assert (path.parent / COLAB_BADGE).is_file()


@pytest.mark.parametrize("path", _notebook_params())
def test_headings(path: Path):
    nb = _read(path)
    headings = [h for cell in nb.cells if cell.cell_type == "markdown" for h in _headings(cell.source)]
    assert not _heading_problems(headings), f"{path.name}: {_heading_problems(headings)}"


@pytest.mark.parametrize("path", _notebook_params())
def test_install_cell(path: Path):
    cell = _read(path).cells[1]
    assert cell.cell_type == "code", f"{path.name}: the second cell must be the install code cell"
    assert cell.source.strip() == INSTALL_CELL, (
        f"{path.name}: the second cell must be exactly the install cell:\n{INSTALL_CELL}\n--- found:\n{cell.source}"
    )
    assert "remove-cell" in cell.metadata.get("tags", []), (
        f"{path.name}: tag the install cell remove-cell: it is scaffolding, not part of the page"
    )


@pytest.mark.parametrize("path", _notebook_params())
def test_imports_cell_sets_profile_and_seed(path: Path):
    cell = _read(path).cells[2]
    assert cell.cell_type == "code", f"{path.name}: the third cell must be the imports code cell"
    calls = _calls(_python(cell.source))
    imports_profile = re.search(r"from\s+gancourse\s+import\s+[^\n]*\bprofile\b", cell.source)
    assert "gancourse.profile" in calls or ("profile" in calls and imports_profile), (
        f"{path.name}: the imports cell must set `P = gancourse.profile()`"
    )
    assert any(name.split(".")[-1] == "seed_everything" for name in calls), (
        f"{path.name}: the imports cell must call seed_everything(...)"
    )


CODE_COLUMNS = 88  # the book's code column: longer lines scroll out of sight on the page


@pytest.mark.parametrize("path", _notebook_params())
def test_code_fits_the_page(path: Path):
    """Every code line fits the rendered code column."""
    long_lines = [
        f"cell {cell.get('id')}: {len(line)} columns: {line[:60]}..."
        for cell in _read(path).cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMNS
    ]
    assert not long_lines, (
        f"{path.name}: code lines longer than {CODE_COLUMNS} columns (wrap them, e.g. "
        "`ruff format --line-length 88`):\n" + "\n".join(long_lines)
    )


@pytest.mark.parametrize("path", _notebook_params())
def test_solutions_behind_a_toggle(path: Path):
    """A solution cell is collapsed on the page (hide-input), so readers try the exercise first."""
    open_solutions = [
        cell.get("id")
        for cell in _read(path).cells
        if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source
        and not {"hide-input", "remove-input"} & set(cell.metadata.get("tags", []))
    ]
    assert not open_solutions, f"{path.name}: tag these solution cells hide-input: {open_solutions}"


@pytest.mark.parametrize("path", _notebook_params())
def test_listed_in_toc(path: Path):
    entry = f"notebooks/{path.stem}"
    assert entry in set(toc_files()), f"{path.name} is not in _toc.yml: add `- file: {entry}` to a part"


# --- the toc, citations and the book's pages --------------------------------------------------

def test_toc_entries_exist():
    missing = [f for f in sorted(set(toc_files()))
               if not any((REPO / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


def _cite_sources() -> list[Any]:
    """Return a param per text that may cite: the book's pages and the notebooks."""
    return [pytest.param(p, id=str(p.relative_to(REPO))) for p in BOOK_PAGES + NOTEBOOKS]


def _text(path: Path) -> str:
    """Return the markdown of a page, or of a notebook's markdown cells."""
    if path.suffix == ".ipynb":
        return "\n\n".join(c.source for c in _read(path).cells if c.cell_type == "markdown")
    return path.read_text()


@pytest.mark.parametrize("path", _cite_sources())
def test_citations_exist(path: Path):
    unknown = sorted(_cited_keys(_text(path)) - _bib_keys())
    assert not unknown, f"{path.relative_to(REPO)} cites keys missing from book/references.bib: {unknown}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in BOOK_PAGES])
def test_book_page_headings(path: Path):
    problems = _heading_problems(_headings(path.read_text()))
    assert not problems, f"{path.relative_to(REPO)}: {problems}"


def test_cite_pattern_and_bib_parsing():
    """The helpers above can fail: they see every cite form and every bib key."""
    text = "See {cite}`goodfellow2014` and {cite:p}`a, b` or {cite:t}`c`; not `cite` alone."
    assert _cited_keys(text) == {"goodfellow2014", "a", "b", "c"}
    assert {"goodfellow2014", "gulrajani2017", "heusel2017"} <= _bib_keys()
    assert _heading_problems([(1, "# T"), (3, "### x")]) and _heading_problems([(1, "# T"), (1, "# U")])
    assert _headings("# T\n```python\n# comment\n```\n## S\n$$\n# no\n$$") == [(1, "# T"), (2, "## S")]
    assert _headings("# T\n````md\n```{note}\n# no\n```\n# no\n````\n## S") == [(1, "# T"), (2, "## S")]


# --- exercises ------------------------------------------------------------------------------

def _exercises() -> Iterator[Any]:
    """Yield a param (notebook, solution cell index) per exercise in the notebooks."""
    for path in NOTEBOOKS:
        try:
            nb = _read(path)
        except Exception:  # unreadable: test_stored_without_outputs reports it
            continue
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and any(line.strip() == BEGIN_SOLUTION for line in cell.source.split("\n")):
                yield pytest.param(path, index, id=f"{path.stem}-cell{index}")


def _exercise_params() -> list[Any]:
    """Return the exercise params, or one skipped param while there are none."""
    params = list(_exercises())
    reason = NO_NOTEBOOKS if not NOTEBOOKS else "no exercises in the notebooks yet"
    return params or [pytest.param(None, None, id="no-exercises", marks=pytest.mark.skip(reason=reason))]


def _check_cell(nb: nbformat.NotebookNode, index: int) -> tuple[int, str]:
    """Return (index, source) of the first code cell after cell ``index``."""
    for later in range(index + 1, len(nb.cells)):
        if nb.cells[later].cell_type == "code":
            return later, nb.cells[later].source
    raise AssertionError(f"cell {index} is an exercise but no code cell follows it")


def _python(source: str) -> str:
    """Return ``source`` as plain Python (IPython magics become get_ipython() calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _NoIPython:
    """Stands in for ``get_ipython()`` outside a kernel: ``%matplotlib`` is harmless, other magics are not."""

    def run_line_magic(self, name: str, line: str) -> None:
        if name != "matplotlib":
            raise RuntimeError(f"%{name} needs IPython; exercise, imports and check cells must be plain Python")

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        raise RuntimeError(f"%%{name} needs IPython; exercise, imports and check cells must be plain Python")

    def system(self, command: str) -> None:
        raise RuntimeError(f"!{command} needs IPython; exercise, imports and check cells must be plain Python")

    getoutput = system


def _run_cells(cells: list[tuple[str, str]]) -> None:
    """Execute (label, source) cells in order in one fresh namespace, as a kernel would."""
    from IPython.display import display

    namespace: dict[str, Any] = {"__name__": "__main__", "get_ipython": _NoIPython, "display": display}
    for label, source in cells:
        exec(compile(_python(source), label, "exec"), namespace)


@pytest.fixture
def notebook_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run like the notebooks do under test: repo root, quick profile, no display; close figures after."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("GANCOURSE_PROFILE", "quick")
    monkeypatch.setenv("MPLBACKEND", "agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _exercise_cells(path: Path, index: int, student: bool) -> list[tuple[str, str]]:
    """Return the imports cell, the (solution or student) exercise cell and its check cell."""
    nb = _read(path)
    check_index, check = _check_cell(nb, index)
    exercise = nb.cells[index].source
    return [
        (f"<{path.name} cell 2 (imports)>", nb.cells[2].source),
        (f"<{path.name} cell {index} ({'student' if student else 'solution'})>",
         strip_solutions(exercise) if student else exercise),
        (f"<{path.name} cell {check_index} (check)>", check),
    ]


@pytest.mark.parametrize(("path", "index"), _exercise_params())
def test_exercise_followed_by_check(path: Path, index: int):
    nb = _read(path)
    assert index > 2, f"{path.name}: cell {index} holds a solution but cells 0-2 are title, install, imports"
    check_index, check = _check_cell(nb, index)
    called = [name for name in _calls(_python(check)) if name.split(".")[-1].startswith("check_")]
    assert called, f"{path.name}: cell {check_index}, after exercise cell {index}, must call a check_ function"


@pytest.mark.parametrize(("path", "index"), _exercise_params())
def test_exercise_solution_passes(path: Path, index: int, notebook_env: None):
    _run_cells(_exercise_cells(path, index, student=False))


@pytest.mark.parametrize(("path", "index"), _exercise_params())
def test_exercise_student_version_fails(path: Path, index: int, notebook_env: None):
    with pytest.raises(ExerciseError):
        _run_cells(_exercise_cells(path, index, student=True))
