"""The bibliography: every entry links to its paper, and its label matches the author-year citations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pybtex.database import parse_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "book" / "_ext"))

from author_year_labels import AuthorYearLabels, author_year  # noqa: E402

BIB = parse_file(str(REPO / "book" / "references.bib"))


@pytest.mark.parametrize("key", sorted(BIB.entries))
def test_every_entry_has_a_doi_or_url(key: str) -> None:
    fields = BIB.entries[key].fields
    assert "doi" in fields or "url" in fields, f"{key}: add a doi = {{...}} or url = {{...}} field"
    if "url" in fields:
        assert fields["url"].startswith("https://"), f"{key}: the url should be https: {fields['url']}"


def test_labels_are_author_year_and_unique() -> None:
    entries = sorted(BIB.entries.values(), key=lambda e: e.key)
    labels = list(AuthorYearLabels().format_labels(entries))
    assert len(set(labels)) == len(labels), "two entries share a label"
    assert author_year(BIB.entries["goodfellow2014"]) == "Goodfellow et al., 2014"
    assert author_year(BIB.entries["arjovsky2017principled"]) == "Arjovsky and Bottou, 2017"
    assert author_year(BIB.entries["goodfellow2016tutorial"]) == "Goodfellow, 2016"
    assert author_year(BIB.entries["kynkaanniemi2019"]).startswith("Kynkäänniemi et al.")
    karras_2020 = [label for label in labels if label.startswith("Karras et al., 2020")]
    assert sorted(karras_2020) == ["Karras et al., 2020a", "Karras et al., 2020b"]


def test_titles_keep_their_capitals() -> None:
    """Sentence-casing lowers unprotected capitals: acronyms must sit in braces."""
    from pybtex.richtext import Text

    for key, expected in [("miyato2018projection", "cGANs"), ("nowozin2016fgan", "f-GAN"),
                          ("ronneberger2015unet", "U-Net")]:
        title = Text.from_latex(BIB.entries[key].fields["title"]).capfirst().lower().render_as("text")
        assert expected in title, f"{key}: {title!r}"
