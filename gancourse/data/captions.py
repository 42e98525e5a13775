"""Captioned glyphs for text guidance (chapter 10): a sentence that names a glyph's factors, and its image.

A caption names four of a glyph's factors: the digit, serif or sans-serif, bold or regular, and
the slant (rotated left, upright, or rotated right): ``CaptionSpec(3, serif=True, bold=True,
slant="left")`` reads, for example, "a bold serif 3, slanted left" or "the digit three in heavy
seriffed type, leaning left". The wording is drawn at random from a few templates and synonyms,
so a text encoder must learn what the words mean rather than memorise 120 strings.

The images are rendered to fit their caption with a margin: an upright glyph is turned by at most
4 degrees, a slanted one by 12 to 20 (the attribute judge calls 10 degrees or more slanted), and
only regular or bold fonts are used (italic fonts lean by design, which a caption of "upright"
would contradict), and not the typewriter face, whose slab serifs are barely visible at 28 px. Everything the caption does not name (font within its family, scale, shift,
stroke width, wobble) varies freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from gancourse import checks
from gancourse.data.glyph_fonts import FONTS, font_stroke_width
from gancourse.data.glyph_render import render

__all__ = [
    "ALL_SPECS",
    "CaptionSpec",
    "SLANTS",
    "VOCABULARY",
    "caption",
    "render_specs",
    "tokenize",
]

SLANTS = ("left", "upright", "right")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Rotation ranges (degrees, + = counter-clockwise: the top leans left) that fit each slant word
# with a margin from the attribute judge's 10-degree rule.
SLANT_ROTATION = {"left": (12.0, 20.0), "upright": (-4.0, 4.0), "right": (-20.0, -12.0)}
WEIGHT_WORDS = {True: ("bold", "heavy"), False: ("regular", "plain")}
FAMILY_WORDS = {True: ("serif", "seriffed"), False: ("sans-serif", "sans")}
SLANT_PHRASES = {"left": ("slanted left", "leaning left", "tilted to the left"),
                 "upright": ("upright", "standing straight", "not tilted"),
                 "right": ("slanted right", "leaning right", "tilted to the right")}
# A typewriter face's slab serifs are barely visible at 28 px: the attribute judge reads
# "serif" right on 61 % of Computer Modern Typewriter glyphs (91-100 % on every other font).
UNCAPTIONED_FAMILIES = ("Computer Modern Typewriter",)
TEMPLATES = ("a {weight} {family} {digit}, {slant}",
             "the digit {digit} in {weight} {family} type, {slant}",
             "{digit}: {family}, {weight}, {slant}",
             "a {slant_first} {digit} set in a {weight} {family} font")
# Adjectival forms of the slant, for the template that puts it before the digit.
SLANT_FIRST = {"left": ("left-leaning",), "upright": ("straight",), "right": ("right-leaning",)}


@dataclass(frozen=True)
class CaptionSpec:
    """What a caption says about a glyph: its digit, its font family and weight, and its slant."""

    digit: int
    serif: bool
    bold: bool
    slant: str

    def __post_init__(self) -> None:
        checks.integer("digit", self.digit, "the digit the caption names", at_least=0, at_most=9)
        checks.boolean("serif", self.serif, "True for a serif font, False for sans-serif")
        checks.boolean("bold", self.bold, "True for a bold font, False for a regular one")
        checks.one_of("slant", self.slant, SLANTS, "which way the glyph is turned")

    def __str__(self) -> str:
        weight, family = WEIGHT_WORDS[self.bold][0], FAMILY_WORDS[self.serif][0]
        return f"a {weight} {family} {self.digit}, {SLANT_PHRASES[self.slant][0]}"


ALL_SPECS: tuple[CaptionSpec, ...] = tuple(
    CaptionSpec(d, serif, bold, slant)
    for d in range(10) for serif in (False, True) for bold in (False, True) for slant in SLANTS)


def caption(spec: CaptionSpec, rng: np.random.Generator | None = None) -> str:
    """Return a sentence describing ``spec``: the canonical one, or a random wording drawn with ``rng``."""
    if not isinstance(spec, CaptionSpec):
        raise TypeError(f"spec must be a CaptionSpec, got {type(spec).__name__}")
    if rng is None:
        return str(spec)

    def pick(options: Sequence[str]) -> str:
        return options[int(rng.integers(len(options)))]

    template = pick(TEMPLATES)
    digit = str(spec.digit) if rng.random() < 0.5 else DIGIT_WORDS[spec.digit]
    return template.format(weight=pick(WEIGHT_WORDS[spec.bold]), family=pick(FAMILY_WORDS[spec.serif]),
                           digit=digit, slant=pick(SLANT_PHRASES[spec.slant]),
                           slant_first=pick(SLANT_FIRST[spec.slant]))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9-]+", text.lower())


def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set(DIGIT_WORDS) | {str(d) for d in range(10)}
    for group in (WEIGHT_WORDS, FAMILY_WORDS, SLANT_PHRASES, SLANT_FIRST):
        for options in group.values():
            for option in options:
                words.update(_words(option))
    for template in TEMPLATES:
        words.update(w for w in _words(re.sub(r"\{[a-z_]+\}", " ", template)))
    return ("<pad>", *sorted(words))


VOCABULARY: tuple[str, ...] = _vocabulary()  # index 0 pads; a caption's words are the rest
_INDEX = {w: i for i, w in enumerate(VOCABULARY)}


def tokenize(captions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(tokens, lengths)``: word indices (N, longest) padded with 0, and each caption's length.

    Words are lower-cased runs of letters, digits and hyphens; punctuation is dropped. A word
    outside ``VOCABULARY`` raises ValueError naming it (the encoder has no embedding for it).
    """
    if isinstance(captions, str):
        raise TypeError("captions must be a list of strings; wrap a single caption as [caption]")
    if len(captions) == 0:
        raise ValueError("captions is empty; pass at least one caption")
    rows = []
    for text in captions:
        if not isinstance(text, str):
            raise TypeError(f"each caption must be a str, got {type(text).__name__}")
        words = _words(text)
        if not words:
            raise ValueError(f"caption {text!r} has no words")
        unknown = sorted({w for w in words if w not in _INDEX})
        if unknown:
            raise ValueError(f"caption {text!r} uses words the encoder does not know: {unknown}; "
                             f"known words: {', '.join(VOCABULARY[1:])}")
        rows.append([_INDEX[w] for w in words])
    lengths = torch.tensor([len(r) for r in rows])
    tokens = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = torch.tensor(r)
    return tokens, lengths


def _fonts(serif: bool, bold: bool) -> list[tuple[str, str]]:
    styles = ("bold", "bold italic") if bold else ("regular", "italic")
    return [(f.family, f.style) for f in FONTS
            if f.serif == serif and f.style in styles and f.family not in UNCAPTIONED_FAMILIES]


def render_specs(specs: Sequence[CaptionSpec], seed: int) -> torch.Tensor:
    """Return one glyph per spec, (N, 1, 28, 28) in [-1, 1], fitting its caption with a margin.

    The font is drawn from the spec's family and weight, the rotation from its slant's range
    (``SLANT_ROTATION``); scale 0.8-0.95, shift within 1 px, extra stroke width 0.2-1.0 px and a
    wobble of 0.5-1.5 px vary freely. The same specs and seed give the same images.
    """
    checks.integer("seed", seed, at_least=0)
    if len(specs) == 0:
        raise ValueError("specs is empty; pass at least one CaptionSpec")
    if not all(isinstance(s, CaptionSpec) for s in specs):
        raise TypeError("specs must all be CaptionSpec objects")
    rng = np.random.default_rng(seed)
    n = len(specs)
    font, style = [], []
    for s in specs:
        options = _fonts(s.serif, s.bold)
        family, st = options[int(rng.integers(len(options)))]
        font.append(family)
        style.append(st)
    lo = np.array([SLANT_ROTATION[s.slant][0] for s in specs])
    hi = np.array([SLANT_ROTATION[s.slant][1] for s in specs])
    scale = rng.uniform(0.8, 0.95, n)
    stroke = np.array([font_stroke_width(s.digit, f, st) for s, f, st in zip(specs, font, style)])
    return render([s.digit for s in specs], font, style, rotation=lo + (hi - lo) * rng.random(n),
                  thickness=stroke * scale + rng.uniform(0.2, 1.0, n), scale=scale,
                  shift_x=rng.uniform(-1.0, 1.0, n), shift_y=rng.uniform(-1.0, 1.0, n),
                  wobble=rng.uniform(0.5, 1.5, n), wobble_seed=rng.integers(0, 2**31, n))

