"""Glyphs: an offline, MNIST-like set of 28x28 digits rendered from fonts, with ground-truth factors.

Every image is a digit 0-9 drawn from one of the fonts that ship with matplotlib (DejaVu Sans and
Serif, STIX, Computer Modern), then thickened or thinned, scaled, rotated, shifted, and bent by a
smooth random "wobble" that makes the typeset digit look handwritten. Because we chose every
factor, we know them exactly: a later chapter can ask a generator for "a thick 7 rotated 15
degrees" and measure whether it got one.

How it is fast: each (digit, font) pair is rasterised once at 4x resolution and turned into a
signed distance field (SDF: distance to the glyph's outline, negative inside). Thickening a
stroke by ``e`` pixels is then a threshold of the SDF at ``e / 2`` instead of a morphological
dilation, and rotation, scale and shift are one affine sampling grid per image, read by a single
``grid_sample`` over an atlas of all the SDFs straight into the 28x28 frame (the wobble is a
smooth displacement added to that grid). Distances interpolate smoothly, so a linear ramp of one
pixel around the threshold anti-aliases the edges.

Conventions (the reader's view, not the array's): ``rotation`` in degrees, positive turns the
glyph counter-clockwise; ``shift_x`` positive moves it right, ``shift_y`` positive moves it UP
(towards row 0); ``thickness`` is the mean stroke width in pixels of the 28x28 image; ``scale`` 1
makes the digit's outline 18 px tall (about 21 px with its stroke), and the default scales of
0.8-1.05 give MNIST's ~20 px tall digits (LeCun et al., 1998), centred by their bounding box;
``wobble`` is the largest displacement in pixels of the warp, whose shape ``wobble_seed`` fixes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from gancourse import checks
from gancourse.data.glyph_fonts import (
    FAMILIES,
    FONTS,
    IMAGE_SIZE,
    STYLES,
    GlyphFont,
    _hulls,
    _strokes,
    font_stroke_width,
)
from gancourse.data.glyph_render import MAX_WOBBLE, MIN_THICKNESS, _render_templates, render, render_factors

__all__ = [
    "ATTRIBUTE_NAMES",
    "ATTRIBUTE_RULES",
    "FAMILIES",
    "FONTS",
    "FACTOR_NAMES",
    "GlyphDataset",
    "GlyphFactorRanges",
    "GlyphFont",
    "IMAGE_SIZE",
    "MAX_WOBBLE",
    "STYLES",
    "attributes_from_factors",
    "crop_glyphs",
    "font_stroke_width",
    "pad_glyphs",
    "render",
    "render_factors",
]

FACTOR_NAMES = ("digit", "font", "style", "serif", "bold", "rotation", "thickness", "scale", "shift_x", "shift_y",
                "wobble", "wobble_seed")

# Binary attributes, each a rule on the factors (name -> (column, test, threshold)). The
# thresholds give every attribute a prevalence between 10% and 60% under the default ranges, and
# some are correlated by construction: bold fonts have wider strokes (bold -> thick) and a larger
# glyph has wider strokes too (large -> thick, small -> thin), as CelebA's attributes correlate.
ATTRIBUTE_RULES: dict[str, tuple[str, str, float | bool]] = {
    "thick": ("thickness", ">", 3.5),  # mean stroke wider than 3.5 px
    "thin": ("thickness", "<", 2.3),  # mean stroke narrower than 2.3 px
    "bold": ("bold", "==", True),
    "serif": ("serif", "==", True),
    "italic": ("italic", "==", True),
    "slanted_left": ("rotation", ">", 10.0),  # turned counter-clockwise: the top leans left
    "slanted_right": ("rotation", "<", -10.0),  # turned clockwise: the top leans right
    "large": ("scale", ">", 0.98),
    "small": ("scale", "<", 0.87),
    "shifted_left": ("shift_x", "<", -0.75),  # pixels
    "shifted_right": ("shift_x", ">", 0.75),
    "shifted_up": ("shift_y", ">", 0.75),
    "shifted_down": ("shift_y", "<", -0.75),
}
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(ATTRIBUTE_RULES)


def pad_glyphs(images: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """Return glyphs framed by ``pad`` background pixels (-1) on each side: 28 x 28 to 32 x 32 by default."""
    return torch.nn.functional.pad(images, (checks.positive_int("pad", pad, "pixels to add on each side"),) * 4,
                                   value=-1.0)


def crop_glyphs(images: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """Return images without their outer ``pad`` pixels on each side (undoes ``pad_glyphs``)."""
    p = checks.positive_int("pad", pad, "pixels to cut from each side")
    return images[..., p:-p, p:-p]


def _check_range(name: str, value: tuple[float, float]) -> None:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise ValueError(f"{name} must be a (min, max) tuple, got {value!r}")
    lo, hi = value
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise ValueError(f"{name} must hold two finite numbers, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} has min {lo} > max {hi}; write it as ({hi}, {lo})")


@dataclass(frozen=True)
class GlyphFactorRanges:
    """Uniform sampling ranges (min, max) of the continuous factors, chosen to look like MNIST.

    ``rotation`` in degrees (+ = counter-clockwise); ``scale`` relative to an 18 px outline;
    ``extra_thickness`` in pixels added to the font's own stroke width (negative thins it), so
    ``thickness = font_stroke_width * scale + extra_thickness`` and bold fonts stay thicker;
    ``shift_x`` / ``shift_y`` in pixels (+ = right / up); ``wobble``: the largest displacement in
    pixels of a smooth random warp that makes the typeset digit look handwritten (an elastic
    distortion in the spirit of Simard et al., 2003, but bounded). Rotation stays within +-90.
    """

    rotation: tuple[float, float] = (-20.0, 20.0)
    scale: tuple[float, float] = (0.8, 1.05)
    extra_thickness: tuple[float, float] = (0.2, 1.6)
    shift_x: tuple[float, float] = (-1.5, 1.5)
    shift_y: tuple[float, float] = (-1.5, 1.5)
    wobble: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(f.name, getattr(self, f.name))
        if self.scale[0] <= 0:
            raise ValueError(f"scale must be positive, got min {self.scale[0]}; use e.g. (0.85, 1.15)")
        if self.wobble[0] < 0 or self.wobble[1] > MAX_WOBBLE:
            raise ValueError(f"wobble must lie in [0, {MAX_WOBBLE}] px (larger warps fold strokes over "
                             f"themselves), got {self.wobble}")
        if abs(self.rotation[0]) > 90 or abs(self.rotation[1]) > 90:
            raise ValueError(f"rotation must stay within [-90, 90] degrees, got {self.rotation}")


def attributes_from_factors(factors: pd.DataFrame) -> np.ndarray:
    """Return the binary attributes (n, len(ATTRIBUTE_NAMES)) as float32 0/1, by ``ATTRIBUTE_RULES``."""
    cols = dict(factors.items())
    if "italic" not in cols and "style" in cols:
        cols["italic"] = factors["style"].str.contains("italic")
    tests = {">": np.greater, "<": np.less, "==": np.equal}
    out = [tests[op](np.asarray(cols[col]), thr) for col, op, thr in ATTRIBUTE_RULES.values()]
    return np.stack(out, axis=1).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# The dataset.


def _check_choice(name: str, values: Sequence[str] | None, valid: tuple[str, ...]) -> tuple[str, ...]:
    if values is None:
        return valid
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    unknown = [v for v in values if v not in valid]
    if unknown or not values or len(set(values)) != len(values):
        raise ValueError(f"{name} must be distinct names from {list(valid)}, got {list(values)}")
    return values


class GlyphDataset(Dataset):
    """n glyph images with their labels, ground-truth factors and binary attributes.

    ``classes``: the digits to draw (labels are the digits themselves), balanced to within one
    image. ``fonts`` / ``styles``: the families and styles to draw from (default: all). Serif and
    sans-serif fonts are equally likely, and fonts within each group are equally likely. The
    continuous factors are uniform within ``ranges``; ranges whose extreme combination would push
    a glyph out of the frame are refused with ValueError. ``factors`` holds the contract's columns
    (digit, font, style, serif, bold, rotation, thickness, scale, shift_x, shift_y) plus wobble and
    wobble_seed, so ``render_factors(ds.factors)`` redraws every image exactly.

    Attributes (``ATTRIBUTE_NAMES``, rules in ``ATTRIBUTE_RULES``; prevalence under the defaults,
    measured on 20,000 images): thick (thickness > 3.5 px, 31%), thin (thickness < 2.3 px, 16%),
    bold (41%), serif (50%), italic (41%), slanted_left (rotation > +10 deg, 25%), slanted_right
    (rotation < -10 deg, 25%), large (scale > 0.98, 28%), small (scale < 0.87, 28%), shifted_left /
    shifted_right (shift_x < -0.75 / > +0.75 px, 25% each), shifted_up / shifted_down
    (shift_y > +0.75 / < -0.75 px, 25% each). Correlated by construction: thick with bold
    (r = 0.76), thin with serif, thick with large.
    """

    def __init__(self, n: int, seed: int = 0, *, classes: Sequence[int] = tuple(range(10)),
                 fonts: Sequence[str] | None = None, styles: Sequence[str] | None = None,
                 ranges: GlyphFactorRanges = GlyphFactorRanges()) -> None:
        checks.positive_int("n", n, "how many images to draw")
        checks.integer("seed", seed, at_least=0, at_most=2**63 - 1)
        classes = tuple(classes)
        if not classes or len(set(classes)) != len(classes) or not all(
                isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c <= 9 for c in classes):
            raise ValueError(f"classes must be distinct ints from 0 to 9, e.g. (0, 1, 7); got {classes!r}")
        families = _check_choice("fonts", fonts, FAMILIES)
        style_set = _check_choice("styles", styles, STYLES)
        if not isinstance(ranges, GlyphFactorRanges):
            raise TypeError(f"ranges must be a GlyphFactorRanges, got {type(ranges).__name__}")
        pool = [i for i, f in enumerate(FONTS) if f.family in families and f.style in style_set]
        if not pool:
            raise ValueError(f"no font has family in {list(families)} and style in {list(style_set)}; "
                             f"available: {[(f.family, f.style) for f in FONTS]}")
        self.n, self.seed, self.classes, self.ranges = int(n), int(seed), tuple(int(c) for c in classes), ranges
        self._check_ranges_fit(pool)

        gen = torch.Generator().manual_seed(int(seed))
        k = len(self.classes)
        balanced = torch.arange(self.n) % k
        labels = torch.tensor(self.classes)[balanced[torch.randperm(self.n, generator=gen)]]
        # Serif and sans-serif equally likely (when both are allowed), then a font within the group.
        groups = [[i for i in pool if FONTS[i].serif == flag] for flag in (False, True)]
        groups = [g for g in groups if g]
        pick_group = torch.randint(len(groups), (self.n,), generator=gen).numpy()
        u = torch.rand(self.n, generator=gen).numpy()
        findex = np.empty(self.n, dtype=np.int64)
        for gi, g in enumerate(groups):
            sel = pick_group == gi
            findex[sel] = np.asarray(g)[np.minimum((u[sel] * len(g)).astype(np.int64), len(g) - 1)]

        def uniform(lo_hi: tuple[float, float]) -> np.ndarray:
            lo, hi = lo_hi
            return (lo + (hi - lo) * torch.rand(self.n, generator=gen, dtype=torch.float64)).numpy()

        rotation, scale, extra = uniform(ranges.rotation), uniform(ranges.scale), uniform(ranges.extra_thickness)
        shift_x, shift_y = uniform(ranges.shift_x), uniform(ranges.shift_y)
        wobble = uniform(ranges.wobble)
        wobble_seed = torch.randint(0, 2**31, (self.n,), generator=gen).numpy()
        digits = labels.numpy().astype(np.int64)
        tidx = digits * len(FONTS) + findex
        thickness = _strokes()[tidx] * scale + extra

        self.labels = labels.to(torch.int64)
        self.factors = pd.DataFrame({
            "digit": digits,
            "font": [FONTS[i].family for i in findex],
            "style": [FONTS[i].style for i in findex],
            "serif": [FONTS[i].serif for i in findex],
            "bold": [FONTS[i].bold for i in findex],
            "rotation": rotation,
            "thickness": thickness,
            "scale": scale,
            "shift_x": shift_x,
            "shift_y": shift_y,
            "wobble": wobble,
            "wobble_seed": wobble_seed,
        })
        self.attribute_names = ATTRIBUTE_NAMES
        self.attributes = torch.from_numpy(attributes_from_factors(self.factors))
        self.images = _render_templates(tidx, rotation, extra / 2.0, scale, shift_x, shift_y, wobble,
                                        wobble_seed.astype(np.uint64))

    def _check_ranges_fit(self, pool: list[int]) -> None:
        """Raise ValueError when the ranges' extreme combination would thin a stroke away or leave the frame."""
        r = self.ranges
        tidx = np.array([d * len(FONTS) + f for d in self.classes for f in pool])
        strokes = _strokes()[tidx]
        thinnest = float((strokes * r.scale[0]).min() + r.extra_thickness[0])
        if thinnest < MIN_THICKNESS:
            raise ValueError(f"ranges allow strokes {thinnest:.2f} px wide (< {MIN_THICKNESS} px: they break up); "
                             "raise extra_thickness[0] or scale[0]")
        # Worst case: rotation on a fine grid, scale and shift at their ends (the reach is linear in
        # each, so its maximum sits at an end), the widest extra thickness.
        angles = np.unique(np.r_[np.linspace(*r.rotation, 41), np.clip(0.0, *r.rotation)])
        hull = _hulls()[tidx][:, None]  # (T, 1, P, 2), y down
        th = np.deg2rad(angles)[None, :, None]
        c, sn = np.cos(th), np.sin(th)
        x = c * hull[..., 0] + sn * hull[..., 1]  # (T, A, P), counter-clockwise on screen
        y = -sn * hull[..., 0] + c * hull[..., 1]
        worst, where = -np.inf, None
        for sc in r.scale:
            sides = np.stack([sc * x.max(-1) + r.shift_x[1], -sc * x.min(-1) - r.shift_x[0],
                              sc * y.max(-1) - r.shift_y[0], -sc * y.min(-1) + r.shift_y[1]])
            poke = sides.max(axis=0) + r.extra_thickness[1] / 2 - IMAGE_SIZE / 2  # (T, A)
            if poke.max() > worst:
                worst, where = float(poke.max()), (*np.unravel_index(np.argmax(poke), poke.shape), sc)
        if worst > 0:
            t, a, sc = where
            digit, fi = divmod(int(tidx[t]), len(FONTS))
            raise ValueError(
                f"ranges can push a glyph {worst:.2f} px out of the {IMAGE_SIZE}x{IMAGE_SIZE} frame (digit {digit}, "
                f"{FONTS[fi].family} {FONTS[fi].style}, rotation {angles[a]:.0f}, scale {sc:.2f}, shift at its "
                "limits); narrow the scale, rotation, shift or extra_thickness ranges")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (image (1, 28, 28), label) of image ``i``."""
        return self.images[i], self.labels[i]

    def __repr__(self) -> str:
        return f"GlyphDataset(n={self.n}, seed={self.seed}, classes={self.classes})"
