"""The shipped BigGAN-style glyph generator (Chapter 9) loads, and its card is measured again.

The card records what ``scripts/train_biggan_glyphs.py`` measured on the float16 model: the glyph
judge's class accuracy on ``n_per_class`` samples of each digit (noise from ``eval_seed``), the
share of those samples it is sure of, and the attention block's learned gain. Measuring again must
give the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gancourse.metrics.judges import class_accuracy, glyph_classifier, judge_verdict
from gancourse.models import BigGANGenerator
from gancourse.pretrained import HERE, load_shipped

NAME = "biggan_glyphs"


@pytest.fixture(scope="module")
def shipped() -> tuple[BigGANGenerator, dict]:
    torch.set_num_threads(1)
    return load_shipped(NAME)


def test_the_shipped_model_is_a_small_conditional_generator_with_attention(shipped):
    G, card = shipped
    assert type(G) is BigGANGenerator and G.attention is not None and G.n_classes == 10
    assert (Path(HERE) / f"{NAME}.safetensors").stat().st_size < 1_000_000
    assert "scripts/train_biggan_glyphs.py" in card["info"]["rebuild"]
    assert float(G.attention.gamma) == pytest.approx(card["info"]["attention_gamma"], abs=1e-4)
    with torch.no_grad():
        x = G(torch.randn(4, G.z_dim), torch.tensor([0, 3, 7, 9]))
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1


def test_the_cards_numbers_are_reproduced(shipped):
    G, card = shipped
    info = card["info"]
    judge = glyph_classifier().model
    accuracy, per_class, images = class_accuracy(G, judge, info["n_per_class"], info["eval_seed"])
    assert abs(accuracy - info["accuracy"]) <= 0.003
    assert torch.allclose(per_class, torch.tensor(info["per_class_accuracy"]), atol=0.011)
    assert abs(judge_verdict(images, judge)["share_confident"] - info["share_confident"]) <= 0.003
