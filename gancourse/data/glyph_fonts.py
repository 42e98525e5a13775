"""The glyphs' fonts and templates: each (digit, font) rasterised once at 4x and turned into a signed distance field.

A signed distance field (SDF: the distance to the glyph's outline, negative inside) makes every
later step cheap: thickening a stroke by ``e`` pixels is a threshold of the SDF at ``e / 2``, and
distances interpolate smoothly under rotation and scaling. ``gancourse.data.glyph_render`` draws
from these templates; ``gancourse.data.glyphs`` is the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from scipy.spatial import ConvexHull

from gancourse import checks

__all__ = ["IMAGE_SIZE", "GLYPH_HEIGHT", "GlyphFont", "FONTS", "FAMILIES", "STYLES", "font_stroke_width"]

IMAGE_SIZE = 28
GLYPH_HEIGHT = 18.0  # outline height in output pixels at scale 1 (a stroke adds ~2 px: MNIST's 20)
_K = 4  # template pixels per output pixel
_TILE = 128  # template tile side: the glyph (72 px tall) plus a margin wider than any thickening
_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass(frozen=True)
class GlyphFont:
    """One font file: its family, style ('regular', 'bold', 'italic', 'bold italic') and traits."""

    family: str
    style: str
    file: str
    serif: bool

    @property
    def bold(self) -> bool:
        """True for the bold and bold italic styles."""
        return "bold" in self.style

    @property
    def italic(self) -> bool:
        """True for italic and oblique styles."""
        return "italic" in self.style


def _four(family: str, serif: bool, regular: str, bold: str, italic: str, bold_italic: str) -> list[GlyphFont]:
    files = {"regular": regular, "bold": bold, "italic": italic, "bold italic": bold_italic}
    return [GlyphFont(family, style, f, serif) for style, f in files.items()]


# DejaVu Sans Mono is left out: its zero has a dot inside that reads as an 8 at 28 px.
# cmmi10 is left out too: its digits are old-style figures of different heights.
FONTS: tuple[GlyphFont, ...] = tuple(
    _four("DejaVu Sans", False, "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
          "DejaVuSans-BoldOblique.ttf")
    + [GlyphFont("Computer Modern Sans", "regular", "cmss10.ttf", False)]
    + _four("DejaVu Serif", True, "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
            "DejaVuSerif-BoldItalic.ttf")
    + _four("STIX", True, "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
            "STIXGeneralBolIta.ttf")
    + [
        GlyphFont("Computer Modern Roman", "regular", "cmr10.ttf", True),
        GlyphFont("Computer Modern Roman", "bold", "cmb10.ttf", True),
        GlyphFont("Computer Modern Roman", "italic", "cmti10.ttf", True),
        GlyphFont("Computer Modern Typewriter", "regular", "cmtt10.ttf", True),  # slab serifs
    ]
)
_FONT_INDEX = {(f.family, f.style): i for i, f in enumerate(FONTS)}
FAMILIES = tuple(dict.fromkeys(f.family for f in FONTS))
STYLES = ("regular", "bold", "italic", "bold italic")


# ---------------------------------------------------------------------------------------------
# Templates: one signed distance field per (digit, font), built once.


@dataclass(frozen=True)
class _Template:
    sdf: torch.Tensor  # (TILE, TILE) float32, template pixels, negative inside the ink
    centre: tuple[float, float]  # centre (x, y) of the ink's bounding box, continuous tile coordinates
    stroke: float  # mean stroke width in output pixels at scale 1
    hull: np.ndarray  # (P, 2) ink outline points (x right, y down), output pixels at scale 1, from the centre


def _rasterise(digit: int, font: GlyphFont, height: float) -> np.ndarray:
    """Return the digit as a binary ink mask whose ink is ``height`` template pixels tall."""
    path = str(_FONT_DIR / font.file)

    def draw(size: float) -> np.ndarray:
        face = ImageFont.truetype(path, size)
        canvas = Image.new("L", (4 * int(size) + 16, 4 * int(size) + 16), 0)
        ImageDraw.Draw(canvas).text((8, 8), str(digit), fill=255, font=face)
        mask = np.asarray(canvas) >= 128
        rows, cols = np.nonzero(mask)
        return mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]

    probe = draw(100.0)
    return draw(100.0 * height / probe.shape[0])  # ink height scales linearly with the font size


@lru_cache(maxsize=None)
def _template(digit: int, font_index: int) -> _Template:
    """Return the cached template of ``digit`` in ``FONTS[font_index]``."""
    ink = _rasterise(digit, FONTS[font_index], GLYPH_HEIGHT * _K)
    h, w = ink.shape
    # Centre the ink's bounding box, not its centre of mass as MNIST does: a 7's mass sits high, and
    # centring it would push its foot out of the frame as soon as it is rotated or shifted.
    top, left = (_TILE - h) // 2, (_TILE - w) // 2
    if top < 0 or left < 0:
        raise RuntimeError(f"digit {digit} of {FONTS[font_index]} does not fit the {_TILE}px template tile")
    mask = np.zeros((_TILE, _TILE), dtype=bool)
    mask[top : top + h, left : left + w] = ink
    centre = (left + w / 2, top + h / 2)
    # distance_transform_edt measures centre to centre; half a pixel puts the outline between them.
    inside = ndimage.distance_transform_edt(mask) - 0.5
    outside = ndimage.distance_transform_edt(~mask) - 0.5
    sdf = np.where(mask, -inside, outside).astype(np.float32)
    # For a straight stroke of width w, ink depth is uniform on [0, w/2]: mean depth = w / 4.
    stroke = 4.0 * float(inside[mask].mean()) / _K
    edge = mask & ~ndimage.binary_erosion(mask)
    er, ec = np.nonzero(edge)
    points = np.stack([(ec + 0.5 - centre[0]) / _K, (er + 0.5 - centre[1]) / _K], axis=1)
    hull = points[ConvexHull(points).vertices]  # the farthest reach in any direction is a hull vertex
    return _Template(torch.from_numpy(sdf), centre, stroke, hull)


@lru_cache(maxsize=None)
def _hulls() -> np.ndarray:
    """Return every template's hull as (10 * len(FONTS), P, 2), padded by repeating a vertex."""
    hulls = [_template(*divmod(t, len(FONTS))).hull for t in range(10 * len(FONTS))]
    p = max(len(h) for h in hulls)
    return np.stack([np.concatenate([h, np.repeat(h[:1], p - len(h), axis=0)]) for h in hulls])


@lru_cache(maxsize=None)
def _strokes() -> np.ndarray:
    """Return every template's stroke width, indexed by digit * len(FONTS) + font index."""
    return np.array([_template(*divmod(t, len(FONTS))).stroke for t in range(10 * len(FONTS))])


def font_stroke_width(digit: int, font: str = "DejaVu Sans", style: str = "regular") -> float:
    """Return the mean stroke width in pixels of ``digit`` in this font at scale 1, before thickening."""
    return _template(_check_digit(digit), _font_index(font, style)).stroke


def _check_digit(digit: int) -> int:
    return checks.integer("digit", digit, "the digit to draw", at_least=0, at_most=9)


def _font_index(family: str, style: str) -> int:
    if family not in FAMILIES:
        raise ValueError(f"unknown font {family!r}; choose from {list(FAMILIES)}")
    if (family, style) not in _FONT_INDEX:
        have = [f.style for f in FONTS if f.family == family]
        raise ValueError(f"font {family!r} has no style {style!r}; it has {have}")
    return _FONT_INDEX[(family, style)]
