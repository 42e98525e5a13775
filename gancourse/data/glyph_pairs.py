"""Paired glyphs for image translation (chapter 10): the same glyphs drawn again with one factor changed.

A ``GlyphDataset``'s factors table describes every image exactly, so a paired data set is free:
``restyle(ds.factors, "bold")`` keeps each glyph's digit, font family, rotation, scale, shift and
wobble and changes only the style. Thickness is the font's own stroke width at the glyph's scale
plus an extra width; the extra width is kept, or drawn afresh from a range (``extra_thickness``),
so that the input does not tell the output's exact weight (a one-to-many task, as photographs
to maps or sketches to shoes are).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from gancourse import checks
from gancourse.data.glyph_fonts import FONTS, STYLES, font_stroke_width
from gancourse.data.glyph_render import render_factors

__all__ = ["restyle", "restyled_images"]


def restyle(factors: pd.DataFrame, style: str, *, font: str | None = None,
            extra_thickness: tuple[float, float] | None = None, seed: int = 0) -> pd.DataFrame:
    """Return a copy of ``factors`` with each glyph in ``style`` of its own font family (or of ``font``).

    The new thickness is the new font's stroke width times the glyph's scale plus an extra width:
    the glyph's own (``extra_thickness=None``) or one drawn uniformly from ``extra_thickness``
    (min, max) px with ``seed``. A family without ``style`` raises ValueError.
    """
    checks.one_of("style", style, STYLES, "a font style")
    families = factors["font"] if font is None else pd.Series([font] * len(factors), index=factors.index)
    missing = sorted({f for f in families if not any(g.family == f and g.style == style for g in FONTS)})
    if missing:
        raise ValueError(f"the fonts {missing} have no {style!r} style; choose glyphs of fonts that have one")
    old = np.array([font_stroke_width(int(d), f, s) for d, f, s in
                    zip(factors["digit"], factors["font"], factors["style"])])
    new = np.array([font_stroke_width(int(d), f, style) for d, f in zip(factors["digit"], families)])
    scale = factors["scale"].to_numpy()
    extra = factors["thickness"].to_numpy() - old * scale
    if extra_thickness is not None:
        lo, hi = (checks.number("extra_thickness", v, "a (min, max) range in px") for v in extra_thickness)
        if lo > hi:
            raise ValueError(f"extra_thickness has min {lo} > max {hi}; write it as ({hi}, {lo})")
        checks.integer("seed", seed, at_least=0)
        u = torch.rand(len(factors), generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()
        extra = lo + (hi - lo) * u
    out = factors.copy()
    out["font"] = families.to_numpy()
    out["style"] = style
    out["serif"] = [next(g.serif for g in FONTS if g.family == f) for f in families]
    out["bold"] = "bold" in style
    out["thickness"] = new * scale + extra
    return out


def restyled_images(factors: pd.DataFrame, style: str, *, font: str | None = None,
                    extra_thickness: tuple[float, float] | None = None, seed: int = 0) -> torch.Tensor:
    """Return the glyphs of ``restyle(factors, style, ...)`` as (n, 1, 28, 28) images in [-1, 1]."""
    return render_factors(restyle(factors, style, font=font, extra_thickness=extra_thickness, seed=seed))
