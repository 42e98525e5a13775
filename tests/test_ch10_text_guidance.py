"""Chapter 10's text guidance: captions, InfoNCE, retrieval ranks, caption agreement and steering towards a caption."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse.control import steer_to_caption
from gancourse.data.captions import ALL_SPECS, DIGIT_WORDS, VOCABULARY, CaptionSpec, caption, render_specs, tokenize
from gancourse.data.glyphs import ATTRIBUTE_NAMES
from gancourse.losses import info_nce
from gancourse.metrics import caption_agreement, retrieval_ranks, top_k_accuracy
from gancourse.metrics.judges import attribute_classifier, glyph_classifier
from gancourse.models import TextEncoder, TextImageEncoders
from gancourse.training import train_text_image

# --- captions ---------------------------------------------------------------------------------


def test_there_are_120_distinct_specs_and_bad_specs_are_refused():
    assert len(ALL_SPECS) == len(set(ALL_SPECS)) == 120
    for bad in [dict(digit=10), dict(digit=True), dict(serif=1), dict(slant="down")]:
        args = dict(digit=3, serif=True, bold=False, slant="left") | bad
        with pytest.raises((ValueError, TypeError)):
            CaptionSpec(**args)


def test_every_random_wording_names_the_digit_and_tokenizes():
    rng = np.random.default_rng(0)
    for spec in ALL_SPECS:
        texts = [caption(spec, rng) for _ in range(8)]
        for text in texts:
            words = text.replace(",", " ").replace(":", " ").split()
            assert str(spec.digit) in words or DIGIT_WORDS[spec.digit] in words, text
        tokens, lengths = tokenize(texts)
        assert tokens.shape[0] == 8 and (tokens[torch.arange(8), lengths - 1] > 0).all()
    assert len({caption(ALL_SPECS[0], rng) for _ in range(200)}) > 20  # the wording really varies


def test_tokenize_pads_with_zero_and_names_unknown_words():
    tokens, lengths = tokenize(["a bold serif 3, upright", "3"])
    assert lengths.tolist() == [5, 1] and tokens[1, 1:].eq(0).all()
    assert VOCABULARY[tokens[0, 1]] == "bold"
    with pytest.raises(ValueError, match="'purple'"):
        tokenize(["a purple 3"])
    with pytest.raises(TypeError, match="list"):
        tokenize("a bold 3")


def test_rendered_glyphs_fit_their_captions_by_the_shipped_judges():
    """The judges, trained on glyphs in general, read what the captions say (a ceiling for steering)."""
    specs = list(ALL_SPECS) * 5
    images = render_specs(specs, seed=3)
    assert torch.equal(images, render_specs(specs, seed=3))
    table = caption_agreement(images, specs, glyph_classifier().model.eval(), attribute_classifier().model.eval())
    means = table.mean()
    assert means["digit"] > 0.98 and means["weight"] > 0.93 and means["family"] > 0.9 and means["slant"] > 0.9
    assert means["all"] > 0.75


# --- InfoNCE and retrieval ranks --------------------------------------------------------------


def test_info_nce_matches_its_closed_forms():
    n, c = 6, 3.0
    # Diagonal c, zeros elsewhere: each row's loss is log(1 + (N - 1) exp(-c)), both directions alike.
    assert info_nce(c * torch.eye(n)).item() == pytest.approx(math.log(1 + (n - 1) * math.exp(-c)), rel=1e-6)
    assert info_nce(torch.zeros(n, n)).item() == pytest.approx(math.log(n), rel=1e-6)


def test_info_nce_averages_the_two_directions():
    logits = torch.randn(5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = -(logits.diagonal() - logits.logsumexp(dim=1)).mean()
    cols = -(logits.diagonal() - logits.logsumexp(dim=0)).mean()
    assert rows.item() != pytest.approx(cols.item())
    assert info_nce(logits).item() == pytest.approx(((rows + cols) / 2).item(), rel=1e-12)
    with pytest.raises(ValueError, match="square"):
        info_nce(torch.zeros(3, 4))


def test_retrieval_ranks_count_the_better_candidates_and_ties_count_against():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    c = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8]])
    # query 0 ties its candidate (1.0) with candidate 1: rank 1; queries 1 and 2 score two others higher.
    assert retrieval_ranks(q, c).tolist() == [1, 2, 2]
    eye = torch.eye(4)
    assert retrieval_ranks(eye, eye).tolist() == [0, 0, 0, 0]
    assert top_k_accuracy(torch.tensor([0, 1, 2, 0])) == 0.5
    assert top_k_accuracy(torch.tensor([0, 1, 2, 0]), k=2) == 0.75
    with pytest.raises(ValueError, match="same shape"):
        retrieval_ranks(eye, eye[:3])


# --- encoders and training --------------------------------------------------------------------


def test_a_caption_embeds_the_same_alone_and_padded_in_a_batch():
    torch.manual_seed(0)
    enc = TextEncoder(len(VOCABULARY)).eval()
    alone = enc(*tokenize(["a bold serif 3, upright"]))
    batch = enc(*tokenize(["the digit three in heavy seriffed type, tilted to the left", "a bold serif 3, upright"]))
    assert torch.allclose(alone[0], batch[1], atol=1e-6)
    assert torch.allclose(batch.norm(dim=1), torch.ones(2))
    # Order matters to a GRU: the same words in another order embed differently.
    a, b = enc(*tokenize(["bold 3 serif", "serif 3 bold"]))
    assert not torch.allclose(a, b, atol=1e-3)


def test_a_short_contrastive_run_beats_chance_and_refuses_repeated_specs():
    run = train_text_image(100, lr=3e-3, pool_size=2, progress=False, seed=0)  # all 120 specs per batch
    assert run.history["loss"].iloc[-5:].mean() < math.log(120) - 0.5  # log N: the loss of guessing
    assert run.history["accuracy"].iloc[-10:].mean() > 3 / 120
    assert (run.history["mi_bound"] == math.log(120) - run.history["loss"]).all()
    with pytest.raises(ValueError, match="distinct"):
        train_text_image(1, specs=[ALL_SPECS[0], ALL_SPECS[0]], progress=False)


# --- caption agreement ------------------------------------------------------------------------


class _FixedJudge(nn.Module):
    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits


def test_caption_agreement_reads_slant_as_left_right_or_upright():
    specs = [CaptionSpec(1, True, False, "left"), CaptionSpec(2, False, True, "upright"),
             CaptionSpec(3, False, False, "right"), CaptionSpec(4, True, True, "upright")]
    digit_logits = F.one_hot(torch.tensor([1, 2, 5, 4]), 10).float()
    attr = torch.full((4, len(ATTRIBUTE_NAMES)), -1.0)

    def on(i: int, name: str) -> None:
        attr[i, ATTRIBUTE_NAMES.index(name)] = 1.0

    on(0, "serif"), on(0, "slanted_left")          # all right
    on(1, "bold")                                   # all right (upright: neither slant)
    on(2, "slanted_right"), on(2, "bold")           # wrong digit, wrong weight
    on(3, "serif"), on(3, "bold"), on(3, "slanted_left"), on(3, "slanted_right")  # both slants: not upright
    table = caption_agreement(torch.zeros(4, 1, 28, 28), specs, _FixedJudge(digit_logits), _FixedJudge(attr))
    assert table["all"].tolist() == [True, True, False, False]
    assert table["digit"].tolist() == [True, True, False, True]
    assert table["weight"].tolist() == [True, True, False, True]
    assert table["slant"].tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="one caption spec per image"):
        caption_agreement(torch.zeros(3, 1, 28, 28), specs, _FixedJudge(digit_logits), _FixedJudge(attr))


# --- steering towards a caption ---------------------------------------------------------------


def test_steering_raises_the_cosine_keeps_z_on_its_sphere_and_starts_from_the_best_candidate():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(8, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28))).eval().requires_grad_(False)
    encoders = TextImageEncoders(len(VOCABULARY))
    text = F.normalize(torch.randn(5, encoders.dim), dim=1)
    res = steer_to_caption(G, 8, encoders.image, text, n_candidates=6, steps=30, lr=0.3, shift=0, seed=1)
    assert res.similarity.shape == (31, 5) and res.candidate_similarity.shape == (6, 5)
    assert torch.allclose(res.similarity[0], res.candidate_similarity.max(dim=0).values, atol=1e-5)
    assert (res.similarity[-1] > res.similarity[0] + 0.005).all()
    assert torch.allclose(res.z.norm(dim=1), torch.full((5,), math.sqrt(8)), atol=1e-4)
    assert torch.allclose(res.images, G(res.z), atol=1e-6)
    assert all(p.requires_grad for p in encoders.image.parameters())  # frozen only during the call
    none = steer_to_caption(G, 8, encoders.image, text, n_candidates=1, steps=0, seed=1)
    assert torch.equal(none.z, none.z_start)
