"""Bibliography labels that match the author-year citations in the text.

Sphinx extension, loaded by ``_config.yml`` (``sphinx.local_extensions``). It registers the pybtex
formatting style ``author_year_plain``: pybtex's ``plain`` (sorted by author, year, title), with
labels such as "Goodfellow et al., 2014", "Arjovsky and Bottou, 2017" or "Goodfellow, 2016"
instead of numbers. Two works that would share a label get "a", "b", ... after the year, in the
order of the list.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Iterator

from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    """Return a person's last name(s) as plain text, LaTeX accents resolved."""
    latex = " ".join(person.prelast_names + person.last_names)
    return Text.from_latex(latex).render_as("text")


def author_year(entry: Entry) -> str:
    """Return the label without its disambiguating letter, e.g. "Goodfellow et al., 2014"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        return f"{entry.fields.get('title', entry.key)}, {year}"
    if len(people) == 1:
        names = _surname(people[0])
    elif len(people) == 2:
        names = f"{_surname(people[0])} and {_surname(people[1])}"
    else:
        names = f"{_surname(people[0])} et al."
    return f"{names}, {year}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-year labels, made unique with a letter after the year."""

    def format_labels(self, sorted_entries: Iterable[Entry]) -> Iterator[str]:
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        counts, used = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                used[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[used[label] - 1]
            yield label


class AuthorYearPlainStyle(PlainStyle):
    """pybtex's plain style with author-year labels."""

    default_label_style = AuthorYearLabels


def setup(app) -> dict:
    register_plugin("pybtex.style.formatting", "author_year_plain", AuthorYearPlainStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
