"""On Colab the install cell installs `gancourse[colab]` and nothing else: that must satisfy every notebook's imports."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    """Return the normalised distribution name of a requirement such as 'pytorch-fid>=0.3'."""
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


OPTIONAL = ("ImportError", "ModuleNotFoundError")


def _optional_imports(tree: ast.AST) -> set[ast.AST]:
    """Return the import nodes inside a ``try`` that catches ImportError: the notebook runs without them."""
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            handler.type is not None and any(
                isinstance(n, ast.Name) and n.id in OPTIONAL for n in ast.walk(handler.type))
            for handler in node.handlers
        ):
            guarded |= {n for stmt in node.body for n in ast.walk(stmt)
                        if isinstance(n, (ast.Import, ast.ImportFrom))}
    return guarded


def _notebook_imports() -> dict[str, set[str]]:
    """Return every top-level module a notebook needs, with the notebooks that import it.

    An import guarded by ``try: ... except ImportError`` is optional (e.g. MyST-NB's ``glue``, which
    only the book build has) and is not counted.
    """
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = ast.parse("".join(cell["source"]))
            optional = _optional_imports(tree)
            for node in ast.walk(tree):
                if node in optional:
                    continue
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(path.name)
    return found


def test_the_colab_extra_and_the_dependencies_cover_every_notebook_import():
    installed = {_name(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["colab"]}
    distributions = packages_distributions()
    missing = {}
    for module, notebooks in _notebook_imports().items():
        if module in sys.stdlib_module_names or module == "gancourse":
            continue
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not providers & installed:
            missing[module] = sorted(notebooks)
    assert not missing, f"imported by notebooks but not installed by `pip install gancourse[colab]`: {missing}"


def test_the_check_finds_a_missing_distribution():
    distributions = packages_distributions()
    assert "pytorch-fid" in {d.lower() for d in distributions["pytorch_fid"]}
    assert "pytorch-fid" not in {_name(r) for r in PROJECT["dependencies"]}  # so the extra is what covers it


def test_optional_imports_are_those_guarded_by_import_error():
    tree = ast.parse("try:\n    from myst_nb import glue\nexcept ImportError:\n    glue = None\n"
                     "try:\n    import seaborn\nexcept ValueError:\n    pass\nimport scipy\n")
    optional = {n.names[0].name for n in _optional_imports(tree)}
    assert optional == {"glue"}
