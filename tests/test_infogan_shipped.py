"""The shipped InfoGAN generators of Chapter 6 load, are small, and their cards' numbers are measured again here.

The cards record what ``scripts/train_infogan_glyphs.py`` measured on the float16 models: the best
one-to-one matching accuracy between the categorical code and the glyph classifier's digit, and the
Spearman correlation of each continuous code with the rotation, thickness and scale estimated from
the generated images. Measuring the shipped files again with the package's measure (which the
script and the notebook use), the same classifier and the same latents must give the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gancourse.metrics.factors import CodeMeasurement, measure_codes
from gancourse.metrics.judges import glyph_classifier
from gancourse.models import DCGANGenerator
from gancourse.pretrained import HERE, load_shipped

NAMES = ("infogan_glyphs", "infogan_glyphs_baseline", "infogan_glyphs_allfonts")

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def classify():
    judge = glyph_classifier().model

    def fn(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return judge(x).argmax(1)

    return fn


def measure(G: torch.nn.Module, classify) -> CodeMeasurement:
    """Measure as the card says: 2,000 latents drawn with seed 123, 10 categories, 2 continuous codes."""
    return measure_codes(G, classify, 10, 2, n=2_000, seed=123)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_generator_loads_and_is_small(name):
    G, card = load_shipped(name)
    assert isinstance(G, DCGANGenerator) and G.z_dim == card["kwargs"]["z_dim"] == card["info"]["noise_dim"] + 12
    assert (Path(HERE) / f"{name}.safetensors").stat().st_size < 2_000_000
    assert "scripts/train_infogan_glyphs.py" in card["info"]["rebuild"]
    with torch.no_grad():
        x = G(torch.randn(3, G.z_dim))
    assert x.shape == (3, 1, 28, 28) and x.abs().max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_cards_numbers_are_reproduced(name, classify):
    G, card = load_shipped(name)
    recorded = card["info"]["measured"]
    assert card["info"]["eval"] == "2000 latents, seed 123"
    measured = measure(G, classify)
    # A sample or two may flip where the classifier's top two logits nearly tie (kernels, thread counts).
    assert abs(measured.matching_accuracy - recorded["matching_accuracy"]) <= 0.002
    for code, rho in recorded["rho_cont"].items():
        for factor, value in rho.items():
            assert abs(measured.rho_cont.loc[code, factor] - value) < 1e-3, (code, factor)


def test_the_card_lists_every_seed_and_ships_the_best():
    info = load_shipped(NAMES[0])[1]["info"]
    tried = info["seeds_tried"]
    assert len(tried) >= 1 and info["seed"] in [t["seed"] for t in tried]
    assert max(t["matching_accuracy"] for t in tried) == next(t for t in tried if t["seed"] == info["seed"])["matching_accuracy"]
    base = load_shipped(NAMES[1])[1]["info"]
    assert "lambda_cat = lambda_cont = 0" in base["recipe"]


def test_the_shipped_infogan_meets_the_chapter_goals_and_the_data_choice_matters(classify):
    # Issue 4's goals on the model Chapter 6 shows: the categorical code matches the digits at >= 80 %
    # and a continuous code reaches |rho| >= 0.6 with a factor; the same recipe and seed on all fonts
    # (discrete styles and shifts besides the digit) does not come close.
    shipped = measure(load_shipped("infogan_glyphs")[0], classify)
    all_fonts = measure(load_shipped("infogan_glyphs_allfonts")[0], classify)
    assert shipped.matching_accuracy >= 0.80 and shipped.best_abs_rho_cont >= 0.6, shipped.rho
    assert all_fonts.matching_accuracy < 0.6, all_fonts.matching_accuracy
    info = load_shipped("infogan_glyphs")[1]["info"]
    assert "DejaVu Sans" in info["data"] and "allfonts" not in info["data"]
