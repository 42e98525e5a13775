"""No notebook hands a student the answer before the exercise: the package's version of an exercise's
answer (what its check refuses) and the solution's own name are imported or reached only after the
check cell that grades the exercise."""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

import gancourse.exercises as exercises

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@dataclass
class Check:
    cell: int
    line: int
    name: str          # the check_* function
    solution: str      # the student's function passed to it
    refused: tuple[Any, ...]  # the package's answers that the check refuses


def _parse(source: str) -> ast.Module | None:
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def exercise_checks(nb: nbformat.NotebookNode) -> list[Check]:
    """Every call ``check_x(solution)`` of a code cell, with what that check refuses."""
    found = []
    for index, cell in enumerate(nb.cells):
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else ():
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id.startswith("check_") and hasattr(exercises, node.func.id)
                    and node.args and isinstance(node.args[0], ast.Name)):
                check = getattr(exercises, node.func.id)
                refused = tuple(_resolve(name) for name in getattr(check, "refused", ()))
                found.append(Check(index, node.lineno, node.func.id, node.args[0].id, refused))
    return found


def early_uses(nb: nbformat.NotebookNode, check: Check) -> list[str]:
    """What reaches the exercise's answer before its check: imports of a refused object or of the
    solution's name, and attributes of imported modules that are refused objects."""
    problems = []
    for index, cell in enumerate(nb.cells[: check.cell + 1]):
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        if tree is None:
            continue
        modules: dict[str, ModuleType] = {}
        for node in ast.walk(tree):
            if index == check.cell and getattr(node, "lineno", 0) >= check.line:
                continue
            where = f"cell {index} (line {getattr(node, 'lineno', '?')}), before {check.name}"
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    bound = alias.asname or alias.name
                    try:
                        obj = getattr(importlib.import_module(node.module), alias.name)
                    except (ImportError, AttributeError):
                        try:
                            obj = importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            obj = None
                    if isinstance(obj, ModuleType):
                        modules[bound] = obj
                    if bound == check.solution or any(obj is r for r in check.refused):
                        problems.append(f"{where}: imports {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        modules[alias.asname] = importlib.import_module(alias.name)
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in modules):
                obj = getattr(modules[node.value.id], node.attr, None)
                if any(obj is r for r in check.refused):
                    problems.append(f"{where}: uses {node.value.id}.{node.attr}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_answer_is_imported_before_its_exercise(path):
    nb = nbformat.read(path, as_version=4)
    problems = [p for check in exercise_checks(nb) for p in early_uses(nb, check)]
    assert not problems, (f"{path.name} gives the exercise's answer away before its check; import it "
                          "after the check cell instead:\n" + "\n".join(problems))


def test_the_chapters_with_refusing_checks_are_scanned():
    checked: dict[str, list] = {}
    for p in NOTEBOOKS:  # a chapter may span several pages (04_wgan, 04_wgan_on_images, ...)
        checked.setdefault(p.stem[:2], []).extend(exercise_checks(nbformat.read(p, as_version=4)))
    for chapter in ("01", "02", "03", "04", "05", "06", "07", "08"):
        assert any(c.refused for c in checked[chapter]), f"chapter {chapter}: no refusing check found"


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


SOLUTION = "def gradient_penalty(critic, real, fake):\n    return 0\n"
CHECK = "check_gradient_penalty(gradient_penalty)"


@pytest.mark.parametrize("early", [
    "from gancourse.losses import gradient_penalty",
    "from gancourse.losses import gradient_penalty as gp",
    "from gancourse.losses.penalties import gradient_penalty",
    "from gancourse import losses\nlosses.gradient_penalty",
    "import gancourse.losses.penalties as pen\npen.gradient_penalty",
])
def test_an_early_import_is_found(early):
    nb = _notebook(early, SOLUTION, CHECK)
    [check] = exercise_checks(nb)
    assert early_uses(nb, check)
    # In the check cell itself, before the call, it is found too; after the call, it is allowed.
    same_cell = _notebook(SOLUTION, early + "\n" + CHECK)
    assert early_uses(same_cell, exercise_checks(same_cell)[0])
    late = _notebook(SOLUTION, CHECK + "\n" + early)
    assert not early_uses(late, exercise_checks(late)[0])


def test_importing_the_solutions_own_name_early_is_found():
    nb = _notebook("from gancourse.models.conditional import combine_vectors",
                   "def combine_vectors(x, y):\n    return x\n", "check_conditional_d_step(combine_vectors)")
    assert early_uses(nb, exercise_checks(nb)[0])


def test_unrelated_imports_pass():
    nb = _notebook("from gancourse.losses import discriminator_loss\nfrom gancourse import losses\n"
                   "losses.discriminator_loss", SOLUTION, CHECK)
    assert not early_uses(nb, exercise_checks(nb)[0])
