"""The shipped style-based glyph generator (Chapter 9, the capstone's baseline) loads, and its card is measured again.

The card records what ``scripts/train_style_glyphs.py`` measured on the float16 model: the glyph
judge's verdict on ``n_eval`` samples (z drawn with ``eval_seed``, the noise inputs after
``torch.manual_seed(noise_seed)``), and the shipped DCGAN's verdict measured the same way in the
same run. Measuring again must give the same numbers, and the style-based generator must beat the
DCGAN on the share of confidently judged samples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gancourse.metrics.judges import glyph_classifier, judge_verdict
from gancourse.models import StyleGenerator, generate, style_mix
from gancourse.pretrained import HERE, load_shipped

NAME = "style_glyphs"


@pytest.fixture(scope="module")
def shipped() -> tuple[StyleGenerator, dict]:
    torch.set_num_threads(1)
    return load_shipped(NAME)


@pytest.fixture(scope="module")
def judge() -> torch.nn.Module:
    return glyph_classifier().model


def _verdict(G: torch.nn.Module, judge: torch.nn.Module, info: dict) -> dict:
    torch.manual_seed(info["noise_seed"])
    return judge_verdict(generate(G, info["n_eval"], seed=info["eval_seed"], batch_size=info["n_eval"]), judge)


def test_the_shipped_model_is_a_small_style_generator(shipped):
    G, card = shipped
    assert type(G) is StyleGenerator and G.z_dim == card["kwargs"]["z_dim"]
    assert (Path(HERE) / f"{NAME}.safetensors").stat().st_size < 1_000_000
    assert "scripts/train_style_glyphs.py" in card["info"]["rebuild"]
    assert G.w_avg.abs().sum() > 0  # the tracked mean of w, for truncation, ships with the weights
    with torch.no_grad():
        x = G(torch.randn(4, G.z_dim))
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1


def test_the_cards_numbers_are_reproduced(shipped, judge):
    G, card = shipped
    info = card["info"]
    verdict = _verdict(G, judge, info)
    assert abs(verdict["confidence"] - info["confidence"]) < 2e-3
    assert abs(verdict["share_confident"] - info["share_confident"]) <= 0.003
    assert torch.allclose(torch.tensor(verdict["class_shares"]), torch.tensor(info["class_shares"]), atol=0.0025)
    assert verdict["classes_covered"] == info["classes_covered"]


def test_it_beats_the_shipped_dcgan_measured_the_same_way(shipped, judge):
    info = shipped[1]["info"]
    dcgan = _verdict(load_shipped("dcgan_glyphs")[0], judge, info)
    assert abs(dcgan["share_confident"] - info["dcgan_glyphs_same_measure"]["share_confident"]) <= 0.003
    assert info["share_confident"] > dcgan["share_confident"]
    assert info["classes_covered"] >= 9


def test_noise_keeps_the_digit_and_coarse_styles_decide_it(shipped, judge):
    G = shipped[0]
    rng = torch.Generator().manual_seed(0)
    n = 500
    with torch.no_grad():
        w_a, w_b = G.mapping(torch.randn(n, G.z_dim, generator=rng)), G.mapping(torch.randn(n, G.z_dim, generator=rng))
        noise_a, noise_b = G.draw_noise(n, rng), G.draw_noise(n, rng)
        probs_a = torch.softmax(judge(G.synthesis(w_a, noise_a)), dim=1)
        digit_a, sure_a = probs_a.argmax(1), probs_a.max(1).values >= 0.9
        new_noise = judge(G.synthesis(w_a, noise_b)).argmax(1)
        new_z = judge(G.synthesis(w_b, noise_a)).argmax(1)
        mixed = judge(G.synthesis(style_mix(w_a, w_b, G.n_coarse, G.n_layers), noise_a)).argmax(1)
    assert (new_noise != digit_a).float().mean() < 0.05
    assert (new_z != digit_a).float().mean() > 0.5
    kept = mixed == digit_a
    # Coarse styles (7 and 14 px) of A, fine ones (28 px) of B: A's digit stays for most samples,
    # and for at least 80 % of those whose A the judge is sure of.
    assert kept.float().mean() >= 0.7 and kept[sure_a].float().mean() >= 0.8
