"""Prose that renders as written: display math set off by blank lines, no wrapped line read as a list.

Two slips garble a page without any warning from the build: a ``$$`` block glued to the sentence
before it runs inline (and the text after it turns into italics), and a wrapped line of prose that
starts with ``+ ``, ``- ``, ``* `` or ``1. `` becomes a list item in the middle of a sentence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIST_START = re.compile(r"^([-+*]|1[.)])\s")
LIST_ITEM = re.compile(r"^\s*([-+*]|\d+[.)])\s")


def garbled(text: str) -> list[str]:
    """Return one message per garbling slip in the Markdown ``text``: a line number and what is wrong."""
    found, lines = [], text.split("\n")
    in_math = in_fence = False
    paragraph_start: str | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(("```", ":::")):
            in_fence, paragraph_start = not in_fence, None
            continue
        if in_fence:
            continue
        if stripped.startswith("$$"):
            if not in_math and number > 1 and lines[number - 2].strip():
                found.append(f"line {number}: $$ with no blank line before it (the equation runs inline)")
            if not in_math and number < len(lines) and stripped.endswith("$$") and len(stripped) > 2:
                pass  # a one-line display
            elif in_math and number < len(lines) and lines[number].strip():
                found.append(f"line {number}: $$ with no blank line after it")
            if not (len(stripped) > 2 and stripped.endswith("$$")):
                in_math = not in_math
            paragraph_start = None
            continue
        if in_math:
            continue
        if not stripped:
            paragraph_start = None
        elif paragraph_start is None:
            paragraph_start = line
        elif (LIST_START.match(line) and not LIST_ITEM.match(paragraph_start)
              and not paragraph_start.startswith(("#", "|", ">", " ", "<"))):
            found.append(f"line {number}: a wrapped line of prose starts with {line[:2]!r} (read as a list item)")
    return found


def _markdown_sources() -> list[tuple[str, str]]:
    sources = [(path.name, path.read_text()) for path in sorted((REPO / "book").glob("*.md"))]
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                sources.append((f"{path.name} cell {index}", "".join(cell["source"])))
    return sources


def test_every_page_and_markdown_cell_renders_its_math_and_prose_as_written():
    problems = [f"{where}: {message}" for where, text in _markdown_sources() for message in garbled(text)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("text", "expected"), [
    ("so the loss\n$$\nL = 1\n$$\n", "no blank line before"),
    ("so the loss\n\n$$\nL = 1\n$$\nand more", "no blank line after"),
    ("a sum $a = b\n+ c$ of two", "starts with '+ '"),
    ("the norm is\n1. Drawing", "starts with '1.'"),
])
def test_the_checker_finds_each_slip(text, expected):
    assert any(expected in message for message in garbled(text)), garbled(text)


def test_the_checker_accepts_lists_and_well_set_math():
    text = ("Steps:\n\n1. first\n   continued\n2. second\n\n- item\n  + nested\n\nprose\n\n$$\nx\n$$\n\n"
            "after, and a one-liner:\n\n$$ y $$\n")
    assert garbled(text) == []
