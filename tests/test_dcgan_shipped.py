"""The shipped unconditional DCGAN (Chapters 7 and later) loads, is small, and its card's numbers are measured again.

The card records what ``scripts/train_dcgan_glyphs.py`` measured on the float16 model: the glyph
digit classifier's mean top-class probability on ``n_eval`` samples drawn with ``eval_seed``, the
share of those samples above ``confident``, and each digit's share of them. Measuring the shipped
file again with the same judge and noise must give the same numbers; the judge on real glyphs must
be the ceiling the card says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.models import DCGANGenerator, sample_noise
from gancourse.metrics.judges import judge_verdict, glyph_classifier
from gancourse.pretrained import HERE, load_shipped

NAME = "dcgan_glyphs"


@pytest.fixture(scope="module")
def shipped() -> tuple[DCGANGenerator, dict]:
    torch.set_num_threads(1)
    return load_shipped(NAME)


@pytest.fixture(scope="module")
def judge() -> torch.nn.Module:
    """The judge the card names: the shipped glyph digit classifier, seed 0."""
    return glyph_classifier().model


def test_the_shipped_model_is_a_small_unconditional_generator(shipped):
    G, card = shipped
    assert type(G) is DCGANGenerator and G.z_dim == card["kwargs"]["z_dim"] and not hasattr(G, "n_classes")
    assert (Path(HERE) / f"{NAME}.safetensors").stat().st_size < 2_000_000
    info = card["info"]
    assert info["steps"] == sum(steps for steps, _ in info["phases"])  # trained in phases (see trained_with)
    assert "one run" in info["trained_with"]
    assert "scripts/train_dcgan_glyphs.py" in info["rebuild"]
    with torch.no_grad():
        x = G(sample_noise(4, G.z_dim, generator=torch.Generator().manual_seed(0)))
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1


def test_the_cards_numbers_are_reproduced(shipped, judge):
    G, card = shipped
    info = card["info"]
    assert info["judge"] == "gancourse.metrics.judges.glyph_classifier()"
    z = sample_noise(info["n_eval"], G.z_dim, generator=torch.Generator().manual_seed(info["eval_seed"]))
    with torch.no_grad():
        probs = torch.softmax(judge(G(z)), dim=1)
    top, predicted = probs.max(dim=1)
    shares = torch.bincount(predicted, minlength=10).float() / len(z)
    assert abs(top.mean().item() - info["confidence"]) < 2e-3
    # A sample or two in 1,000 may cross a threshold where the judge nearly ties (thread counts, kernels).
    assert abs((top > info["confident"]).float().mean().item() - info["share_confident"]) <= 0.003
    assert torch.allclose(shares, torch.tensor(info["class_shares"]), atol=0.0025)
    assert int((shares >= info["covered_share"]).sum()) == info["classes_covered"]
    # The package's verdict, which the script uses, computes the same numbers.
    verdict = judge_verdict(G(z), judge, confident=info["confident"], covered_share=info["covered_share"])
    assert verdict["confidence"] == top.mean().item() and verdict["class_shares"] == shares.tolist()


def test_the_card_meets_the_quality_goal(shipped):
    info = shipped[1]["info"]
    # Recognisable digits (the judge is sure of most samples) and every digit drawn, none dropped
    # (a digit is "covered" with at least 5 % of the samples; each appears at least 2 % of the time).
    assert info["classes_covered"] >= 9 and min(info["class_shares"]) >= 0.02
    assert info["confidence"] >= 0.85 and info["share_confident"] >= 0.6
    assert info["confidence"] <= info["real_confidence"]


def test_the_real_confidence_is_the_judges_on_real_glyphs(shipped, judge):
    info = shipped[1]["info"]
    real = GlyphDataset(info["n_eval"], seed=info["eval_seed"]).images
    with torch.no_grad():
        confidence = torch.softmax(judge(real), dim=1).max(dim=1).values.mean().item()
    assert abs(confidence - info["real_confidence"]) < 1e-3
