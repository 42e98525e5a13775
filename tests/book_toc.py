"""The book's table of contents, as the tests read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Return every file named in _toc.yml (root first, in order), without its .md/.ipynb suffix."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("root", "file") and isinstance(value, str):
                    path = Path(value)
                    found.append(str(path.with_suffix("")) if path.suffix in (".md", ".ipynb") else value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((REPO / "_toc.yml").read_text()))
    return found
