"""Names that readers' code imports from their old homes keep working, and say where they live now."""

from __future__ import annotations

import importlib

import pytest

# (old module, name, new module): every name that left a module a chapter's published code imports from.
MOVED = [
    ("gancourse.models", "glyph_classifier", "gancourse.metrics.judges"),
    ("gancourse.models", "attribute_classifier", "gancourse.metrics.judges"),
    ("gancourse.models", "mutual_information_loss", "gancourse.losses"),
    ("gancourse.models", "categorical_mi_lower_bound", "gancourse.losses"),
    ("gancourse.models", "InfoGANConfig", "gancourse.training"),
    ("gancourse.models", "train_infogan", "gancourse.training"),
    ("gancourse.models.classifier", "glyph_classifier", "gancourse.metrics.judges"),
    ("gancourse.models.classifier", "attribute_classifier", "gancourse.metrics.judges"),
    ("gancourse.models.classifier", "TrainedClassifier", "gancourse.metrics.judges"),
    ("gancourse.models.classifier", "train_glyph_classifier", "gancourse.training.classifier"),
    ("gancourse.models.infogan", "sample_latent", "gancourse.models.noise"),
    ("gancourse.models.infogan", "latent_input", "gancourse.models.noise"),
    ("gancourse.models.infogan", "mutual_information_loss", "gancourse.losses"),
    ("gancourse.models.infogan", "continuous_code_nll", "gancourse.losses"),
    ("gancourse.models.infogan", "InfoGANConfig", "gancourse.training"),
    ("gancourse.models.infogan", "train_infogan", "gancourse.training"),
    ("gancourse.pretrained", "toy_dataset", "gancourse.data.toy"),
    ("gancourse.pretrained", "evaluate_toy_generator", "gancourse.metrics.modes"),
    ("gancourse.pretrained", "RECIPES", "gancourse.training.grouped"),
    ("gancourse.pretrained.shipped", "load_shipped", "gancourse.pretrained.cards"),
    ("gancourse.pretrained.shipped", "shipped_names", "gancourse.pretrained.cards"),
    ("gancourse.pretrained.grouped", "GroupedMLP", "gancourse.models.grouped"),
    ("gancourse.pretrained.grouped", "ToyRecipe", "gancourse.training.grouped"),
    ("gancourse.pretrained.grouped", "train_grouped", "gancourse.training.grouped"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=[f"{o}.{n}" for o, n, _ in MOVED])
def test_a_moved_name_still_imports_and_says_where_it_lives(old, name, new):
    with pytest.warns(DeprecationWarning, match=f"{old}.{name} moved to {new}.{name}"):
        got = getattr(importlib.import_module(old), name)
    assert got is getattr(importlib.import_module(new), name)


def test_the_names_the_issue_promises_import_without_a_warning(recwarn):
    import gancourse
    from gancourse.data.glyphs import GlyphDataset  # noqa: F401
    from gancourse.data.toy import grid, ring  # noqa: F401
    from gancourse.losses import gradient_penalty, hinge_discriminator_loss, wasserstein_critic_loss  # noqa: F401
    from gancourse.metrics import (  # noqa: F401
        FeatureStats,
        fid,
        frechet_distance,
        inception_score,
        kid,
        mode_coverage,
        precision_recall,
    )
    from gancourse.pretrained import load_shipped, load_toy_generator, toy_model_info  # noqa: F401
    from gancourse.training import TrainConfig, train_gan  # noqa: F401

    assert callable(gancourse.profile) and callable(gancourse.seed_everything)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        importlib.import_module("gancourse.models").nope
