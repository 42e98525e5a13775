"""The package's shape (ARCHITECTURE.md): layers that import only downwards, no import circle, small modules.

Only imports executed when a module is imported count (a function's own imports run when it is
called). Each module belongs to a layer; it may import its own package and the layers below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gancourse"
MAX_LINES = 400

# Longest prefix wins. pretrained.cards (the one card format and loader) imports nothing of gancourse
# but the checks, so every layer may load a shipped network; the rest of pretrained/ sits on top.
LAYERS = {
    "gancourse.runtime": 0, "gancourse.checks": 0, "gancourse._moved": 0, "gancourse.network": 0,
    "gancourse.pretrained.cards": 0,
    "gancourse.data": 1,
    "gancourse.models": 2, "gancourse.losses": 2, "gancourse.theory": 2,
    "gancourse.training": 3,
    "gancourse.metrics": 4, "gancourse.viz": 4, "gancourse.control": 4,
    "gancourse.pretrained": 5,
    "gancourse.exercises": 6, "gancourse.capstone": 6,
    "gancourse": 7,  # the package's __init__: it re-exports the runtime only
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> tuple[str, int]:
    """Return (the layer's prefix, its rank) of a module of gancourse."""
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return prefix, LAYERS[prefix]


def _import_time_imports(path: Path) -> set[str]:
    """Return the gancourse modules ``path`` imports when it is imported (not inside functions)."""
    module = _module_name(path)
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("gancourse"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this package
                    base = module.rsplit(".", node.level - (path.name == "__init__.py"))[0]
                    name = f"{base}.{node.module}" if node.module else base
                else:
                    name = node.module or ""
                if name.startswith("gancourse"):
                    found.add(name)
                    found.update(f"{name}.{a.name}" for a in node.names)  # `from x import y` may import x.y
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue  # annotations only
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                for extra in (getattr(node, "orelse", []), getattr(node, "finalbody", [])):
                    visit(extra)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text()).body)
    # Every submodule imports the root package first; its __init__ imports the runtime alone.
    return found - {module, "gancourse"}


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in _import_time_imports(p) if m in MODULES} for name, p in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_package_and_lower_layers(module):
    prefix, rank = _layer(module)
    upward = sorted(m for m in GRAPH[module] if _layer(m)[0] != prefix and _layer(m)[1] >= rank)
    assert not upward, f"{module} (layer {prefix}) imports {upward}, which are not below it"


def test_there_is_no_import_circle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep] if dep in path else [module, dep]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, path + [dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_one_sitting(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by idea (at most about {MAX_LINES})"


def test_the_package_never_imports_scripts_or_notebooks_and_tests_never_load_a_script():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "scripts" not in {a.split(".")[0] for a in _all_imports(text)}, path
    for path in (REPO / "tests").glob("*.py"):
        assert "spec_from_file_location" not in path.read_text() or path.name == Path(__file__).name, path


def _all_imports(text: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_module_is_described_in_the_architecture_page():
    page = (REPO / "ARCHITECTURE.md").read_text()
    missing = [m for m in MODULES if not m.endswith("__main__") and f"`{m.removeprefix('gancourse.')}" not in page
               and m != "gancourse"]
    assert not missing, f"ARCHITECTURE.md says nothing of {missing}"
