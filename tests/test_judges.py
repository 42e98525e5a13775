"""The judges load the shipped classifiers and never train; a missing file is a clear error."""

from __future__ import annotations

import pytest

import gancourse.metrics.judges as judges
import gancourse.training.classifier as classifier_training
from gancourse.models import GlyphCNN
from gancourse.pretrained import load_shipped


@pytest.fixture
def no_training(monkeypatch):
    """Make any classifier training fail: a judge must come from its shipped file."""
    def refuse(*args, **kwargs):
        raise AssertionError("loading a judge must never train one")

    monkeypatch.setattr(classifier_training, "train_classifier", refuse)


def test_the_shipped_judges_load_with_what_their_cards_measured(no_training, no_unpickling):
    digits, attributes = judges.glyph_classifier(), judges.attribute_classifier()
    assert isinstance(digits.model, GlyphCNN) and digits.model.n_outputs == 10 and not digits.model.training
    assert attributes.model.n_outputs == 13 and len(attributes.per_attribute) == 13
    assert digits.accuracy == load_shipped("glyph_classifier")[1]["info"]["accuracy"] > 0.99


def test_a_missing_judge_is_an_error_that_says_how_to_rebuild_it(tmp_path, monkeypatch, no_training):
    monkeypatch.setattr(judges, "load_shipped", lambda name: load_shipped(name, tmp_path))
    with pytest.raises(FileNotFoundError, match="scripts/train_glyph_classifiers.py"):
        judges.glyph_classifier()


def test_another_seed_is_refused_with_the_way_to_train_it(no_training):
    with pytest.raises(ValueError, match=r"train_classifier\('digits', seed=3\)"):
        judges.glyph_classifier(3)
