"""The shipped WGAN-GP on glyphs (Chapter 4, on images) loads, and its card's numbers are measured again.

The card records what ``scripts/train_wgan_gp_glyphs.py`` measured on the float16 EMA generator:
the Frechet distance between ``n_eval`` samples (noise drawn by ``generate(G, n, seed=eval_seed)``,
their central 28 x 28 pixels) and ``n_eval`` real glyphs of ``GlyphDataset(n_eval, seed=eval_seed)``
in the glyph judge's features, and the judge's verdict on the samples. Measuring the shipped file
again must give the same numbers; the recorded curves must have the shape the page describes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics import GlyphFeatures, frechet_distance_features
from gancourse.metrics.judges import glyph_classifier, judge_verdict
from gancourse.models import DCGANGenerator, generate
from gancourse.pretrained import HERE, load_shipped

NAME = "wgan_gp_glyphs"


@pytest.fixture(scope="module")
def shipped() -> tuple[DCGANGenerator, dict]:
    torch.set_num_threads(1)
    return load_shipped(NAME)


def test_the_shipped_model_is_a_small_32_pixel_generator(shipped):
    G, card = shipped
    assert type(G) is DCGANGenerator and G.image_size == 32 and G.z_dim == 64
    assert (Path(HERE) / f"{NAME}.safetensors").stat().st_size < 2_000_000
    info = card["info"]
    assert "scripts/train_wgan_gp_glyphs.py" in info["rebuild"]
    assert info["gp_weight"] == 10.0 and info["critic"]["norm"] == "layer"
    with torch.no_grad():
        x = G(torch.randn(4, 64, generator=torch.Generator().manual_seed(0)))
    assert x.shape == (4, 1, 32, 32) and x.abs().max() <= 1


def test_the_cards_numbers_are_reproduced(shipped):
    G, card = shipped
    info = card["info"]
    samples = generate(G, info["n_eval"], seed=info["eval_seed"], batch_size=info["n_eval"])[..., 2:30, 2:30]
    real = GlyphDataset(info["n_eval"], seed=info["eval_seed"]).images
    features = GlyphFeatures().eval()
    with torch.no_grad():
        fd = frechet_distance_features(features(real), features(samples))
    assert abs(fd - info["fd"]) < 0.01 * info["fd"]
    verdict = judge_verdict(samples, glyph_classifier().model)
    assert abs(verdict["confidence"] - info["confidence"]) < 2e-3
    assert verdict["classes_covered"] == info["classes_covered"]


def test_the_recorded_curves_fall(shipped):
    _, card = shipped
    fd = {int(k): v for k, v in card["info"]["fd_curve"].items()}
    w = {int(k): v for k, v in card["info"]["w_estimate_curve"].items()}
    steps = sorted(w)
    assert sorted(fd)[0] == 0 and steps[-1] == card["info"]["steps"] == max(fd)
    assert fd[steps[-1]] < 0.1 * fd[0] and w[steps[-1]] < 0.5 * w[steps[0]]
