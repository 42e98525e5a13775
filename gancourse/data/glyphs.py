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
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import matplotlib
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from scipy.spatial import ConvexHull
from torch.utils.data import Dataset

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
    "font_stroke_width",
    "render",
    "render_factors",
]

IMAGE_SIZE = 28
GLYPH_HEIGHT = 18.0  # outline height in output pixels at scale 1 (a stroke adds ~2 px: MNIST's 20)
MIN_THICKNESS = 1.0  # thinner strokes fall between pixel centres and break up
EDGE_RAMP = 1.0  # width in pixels of the anti-aliasing ramp across an edge
MAX_WOBBLE = 2.5  # px; beyond it the warp can fold (its Jacobian's determinant reaches 0)

_K = 4  # template pixels per output pixel
_TILE = 128  # template tile side: the glyph (72 px tall) plus a margin wider than any thickening
_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

FACTOR_NAMES = ("digit", "font", "style", "serif", "bold", "rotation", "thickness", "scale", "shift_x", "shift_y",
                "wobble", "wobble_seed")
_RENDER_ARGS = ("digit", "font", "style", "rotation", "thickness", "scale", "shift_x", "shift_y", "wobble",
                "wobble_seed")
_WOBBLE_KNOTS = 4  # control points per side of the wobble field: one bend every ~9 px, as a pen wavers
_WOBBLE_FADE = 7.0  # px from the frame edge over which the wobble fades in


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


# ---------------------------------------------------------------------------------------------
# Validation helpers.


def _check_digit(digit: int) -> int:
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit <= 9:
        raise ValueError(f"digits must be ints from 0 to 9, got {digit!r}")
    return int(digit)


def _font_index(family: str, style: str) -> int:
    if family not in FAMILIES:
        raise ValueError(f"unknown font {family!r}; choose from {list(FAMILIES)}")
    if (family, style) not in _FONT_INDEX:
        have = [f.style for f in FONTS if f.family == family]
        raise ValueError(f"font {family!r} has no style {style!r}; it has {have}")
    return _FONT_INDEX[(family, style)]


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


# ---------------------------------------------------------------------------------------------
# Rendering.


def _as_array(name: str, value: object, dtype: type) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=object if dtype is str else dtype).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number or a sequence of numbers, got {value!r}") from err
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if dtype is float and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def _broadcast(**arrays: np.ndarray) -> tuple[int, dict[str, np.ndarray]]:
    n = max(a.size for a in arrays.values())
    bad = {k: a.size for k, a in arrays.items() if a.size not in (1, n)}
    if bad:
        raise ValueError(f"factor lengths must be 1 or {n} (the longest), got {bad}")
    return n, {k: np.broadcast_to(a, (n,)) for k, a in arrays.items()}


def _out_of_frame(tidx: np.ndarray, rotation: np.ndarray, scale: np.ndarray, radius: np.ndarray,
                  shift_x: np.ndarray, shift_y: np.ndarray) -> np.ndarray:
    """Return, per image, how many pixels its glyph's edge pokes out of the 28x28 frame (<= 0: inside)."""
    hull = _hulls()[tidx]  # (n, P, 2), y down
    th = np.deg2rad(rotation)[:, None]
    c, s = np.cos(th), np.sin(th)
    # Counter-clockwise on screen with y pointing down: x' = c x + s y, y' = -s x + c y.
    x = scale[:, None] * (c * hull[:, :, 0] + s * hull[:, :, 1]) + shift_x[:, None]
    y = scale[:, None] * (-s * hull[:, :, 0] + c * hull[:, :, 1]) - shift_y[:, None]
    reach = np.maximum(np.abs(x), np.abs(y)).max(axis=1) + radius
    return reach - IMAGE_SIZE / 2


@lru_cache(maxsize=None)
def _atlas() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return every template's SDF tiled into one image (1, 1, H, W), their centres and tile origins.

    One ``grid_sample`` over the atlas renders a whole batch of mixed digits and fonts: each image
    reads only its own tile, because its sampling points are clamped to that tile first.
    """
    count = 10 * len(FONTS)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    atlas = torch.zeros(rows * _TILE, cols * _TILE)
    centre = torch.empty(count, 2)
    origin = torch.empty(count, 2)
    for t in range(count):
        tpl = _template(*divmod(t, len(FONTS)))
        r, c = divmod(t, cols)
        atlas[r * _TILE : (r + 1) * _TILE, c * _TILE : (c + 1) * _TILE] = tpl.sdf
        centre[t] = torch.tensor(tpl.centre) * (2.0 / _TILE) - 1.0  # tile-normalised [-1, 1]
        origin[t] = torch.tensor([c * _TILE, r * _TILE], dtype=torch.float32)
    return atlas[None, None], centre, origin


@lru_cache(maxsize=None)
def _base_grid() -> torch.Tensor:
    """Return the output pixel centres (x, y) in grid_sample's normalised coordinates, (784, 2).

    ``base @ A^T + b`` is the grid ``F.affine_grid([A | b], ..., align_corners=False)`` builds, at
    a fraction of its cost (affine_grid first copies the base grid once per image).
    """
    o = (torch.arange(IMAGE_SIZE, dtype=torch.float32) + 0.5) * (2.0 / IMAGE_SIZE) - 1.0
    y, x = torch.meshgrid(o, o, indexing="ij")
    return torch.stack([x, y], -1).reshape(-1, 2)


_CHUNK = 4096  # images per grid_sample call: bounds the sampling grid to ~25 MB


def _uniform_hash(seeds: np.ndarray, count: int) -> np.ndarray:
    """Return (n, count) numbers uniform in [-1, 1), a fixed function of each seed (SplitMix64)."""
    z = seeds.astype(np.uint64)[:, None] * np.uint64(count) + np.arange(count, dtype=np.uint64)[None]
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-52 - 1.0


def _wobble_field(wobble: np.ndarray, seeds: np.ndarray) -> torch.Tensor:
    """Return smooth displacements (n, 28, 28, 2) in output pixels, each within +-wobble per axis."""
    k = _WOBBLE_KNOTS
    knots = torch.from_numpy(_uniform_hash(seeds, 2 * k * k).astype(np.float32)).view(-1, 2, k, k)
    up = _bicubic_matrix()
    field = up @ knots @ up.T  # separable: the same as F.interpolate(knots, 28, mode="bicubic")
    # Bicubic interpolation can overshoot its knots a little: scale back so the bound is exact.
    peak = field.abs().amax(dim=(1, 2, 3)).clamp(min=1.0)
    field = field * (torch.from_numpy(wobble.astype(np.float32)) / peak)[:, None, None, None]
    return (field * _wobble_window()).permute(0, 2, 3, 1)


@lru_cache(maxsize=None)
def _bicubic_matrix() -> torch.Tensor:
    """Return the (28, knots) weights of 1-D bicubic upsampling (align_corners=True) of the knots."""
    k = _WOBBLE_KNOTS
    basis = torch.eye(k)[:, None, None, :]  # one unit impulse per knot, as (k, 1, 1, k) images
    up = F.interpolate(basis, size=(1, IMAGE_SIZE), mode="bicubic", align_corners=True)
    return up[:, 0, 0, :].T.contiguous()


@lru_cache(maxsize=None)
def _wobble_window() -> torch.Tensor:
    """Return (28, 28) weights that fade the wobble to 0 at the frame's edge, over _WOBBLE_FADE px.

    With the warp pinned at the edge (and never folding), it maps the frame onto itself: it
    bends the strokes but cannot push ink out of the frame, so the frame check can ignore it.
    """
    c = torch.arange(IMAGE_SIZE, dtype=torch.float32) + 0.5
    edge = torch.minimum(c, IMAGE_SIZE - c)  # distance of each pixel centre to the nearest edge
    d = torch.minimum(edge[:, None], edge[None, :]) / _WOBBLE_FADE
    d = d.clamp(max=1.0)
    return d * d * (3.0 - 2.0 * d)  # smoothstep: no kink where the fade ends


def _render_templates(tidx: np.ndarray, rotation: np.ndarray, dilation: np.ndarray, scale: np.ndarray,
                      shift_x: np.ndarray, shift_y: np.ndarray, wobble: np.ndarray,
                      wobble_seed: np.ndarray) -> torch.Tensor:
    """Return images (n, 1, 28, 28) in [-1, 1]; ``dilation`` is the outline's offset in output pixels."""
    atlas, centres, origins = _atlas()
    size = torch.tensor([atlas.shape[-1], atlas.shape[-2]], dtype=torch.float32)
    lim = 1.0 - 1.0 / _TILE  # the centres of a tile's edge pixels: 'border' padding within the tile
    # Tile-normalised g -> atlas pixels origin + T (g + 1) / 2 -> atlas-normalised: g * T / size + offset.
    tile_in_atlas = _TILE / size
    atlas_offset = (origins + _TILE / 2) * (2.0 / size) - 1.0
    n = tidx.size
    out = torch.empty(n, 1, IMAGE_SIZE, IMAGE_SIZE)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(lo + _CHUNK, n))
        t = torch.from_numpy(tidx[sl])
        th = torch.from_numpy(np.deg2rad(rotation[sl]).astype(np.float32))
        s = torch.from_numpy(scale[sl].astype(np.float32))
        shift = torch.from_numpy(np.stack([shift_x[sl], -shift_y[sl]], -1).astype(np.float32))
        dil = torch.from_numpy(dilation[sl].astype(np.float32))
        cos, sin = torch.cos(th), torch.sin(th)
        # Output pixel p (from the frame centre, y down) reads the template at centre + K R(-theta) (p - shift) / s,
        # with shift = (shift_x, -shift_y) and R(-theta) = [[c, -s], [s, c]] undoing the counter-clockwise
        # turn. In grid_sample's normalised coordinates p = 14 o and a tile point X = T (g + 1) / 2.
        a = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        a = a * ((2.0 * _K / _TILE) / s)[:, None, None]
        b = centres[t] - (a @ shift[:, :, None]).squeeze(-1)
        a = a * (IMAGE_SIZE / 2)
        points = _base_grid().expand(len(t), -1, -1)
        if np.any(wobble[sl] != 0):
            # A pixel reads the template from a point displaced by the field: the ink moves by at most it.
            points = points + _wobble_field(wobble[sl], wobble_seed[sl]).reshape(len(t), -1, 2) * (2.0 / IMAGE_SIZE)
        grid = torch.baddbmm(b[:, None, :], points, a.transpose(1, 2))  # (m, 784, 2), tile-normalised
        # Clamp to the tile ('border' padding within it), then move into the atlas: one affine map.
        grid = torch.addcmul(atlas_offset[t][:, None, :], grid.clamp_(-lim, lim), tile_in_atlas)
        sdf = F.grid_sample(atlas, grid.reshape(1, -1, IMAGE_SIZE, 2), mode="bilinear", padding_mode="border",
                            align_corners=False).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        # Distance in output pixels is sdf * s / K; ink = 1/2 + (dilation - distance) / ramp, clamped.
        gain = (-(s / _K) / EDGE_RAMP)[:, None, None, None]
        bias = (0.5 + dil / EDGE_RAMP)[:, None, None, None]
        out[sl] = torch.addcmul(bias, sdf, gain).clamp_(0.0, 1.0).mul_(2.0).sub_(1.0)
    return out


def render(digit: object, font: object = "DejaVu Sans", style: object = "regular", rotation: object = 0.0,
           thickness: object = None, scale: object = 1.0, shift_x: object = 0.0, shift_y: object = 0.0,
           wobble: object = 0.0, wobble_seed: object = 0) -> torch.Tensor:
    """Return glyphs drawn with the given factors as float32 (n, 1, 28, 28) in [-1, 1].

    Each argument is a scalar or a sequence (list, array, tensor, Series) of length n; scalars are
    repeated. ``thickness`` (mean stroke width, px) defaults to the font's own width at this scale.
    ``wobble`` (px, 0 = none) bounds a smooth warp whose shape is fixed by ``wobble_seed``.
    A glyph whose edge would leave the frame raises ValueError rather than being cut off.
    """
    digits = _as_array("digit", digit, float)
    bad = digits[(digits != np.round(digits)) | (digits < 0) | (digits > 9)]
    if bad.size:
        raise ValueError(f"digits must be ints from 0 to 9, got {bad[:5]}")
    fonts, styles = _as_array("font", font, str), _as_array("style", style, str)
    rot = _as_array("rotation", rotation, float)
    sc = _as_array("scale", scale, float)
    if np.any(sc <= 0):
        raise ValueError(f"scale must be positive, got {sc[sc <= 0][:5]}")
    sx, sy = _as_array("shift_x", shift_x, float), _as_array("shift_y", shift_y, float)
    wob, wseed = _as_array("wobble", wobble, float), _as_array("wobble_seed", wobble_seed, float)
    if np.any((wob < 0) | (wob > MAX_WOBBLE)):
        raise ValueError(f"wobble must lie in [0, {MAX_WOBBLE}] px (larger warps fold strokes over themselves), "
                         f"got {wob[(wob < 0) | (wob > MAX_WOBBLE)][:5]}")
    if np.any((wseed != np.round(wseed)) | (wseed < 0) | (wseed >= 2**53)):
        raise ValueError(f"wobble_seed must be non-negative ints, got {wseed[:5]}")
    thick = None if thickness is None else _as_array("thickness", thickness, float)
    arrays = dict(digit=digits, font=fonts, style=styles, rotation=rot, scale=sc, shift_x=sx, shift_y=sy,
                  wobble=wob, wobble_seed=wseed)
    if thick is not None:
        arrays["thickness"] = thick
    n, b = _broadcast(**arrays)
    pairs = {(f, st): _font_index(str(f), str(st)) for f, st in set(zip(b["font"], b["style"]))}
    findex = np.array([pairs[(f, st)] for f, st in zip(b["font"], b["style"])], dtype=np.int64)
    tidx = b["digit"].astype(np.int64) * len(FONTS) + findex
    stroke = _strokes()[tidx]
    thick_n = stroke * b["scale"] if thick is None else b["thickness"]
    if np.any(thick_n < MIN_THICKNESS):
        raise ValueError(f"thickness must be at least {MIN_THICKNESS} px (thinner strokes break up), got "
                         f"{np.round(thick_n[thick_n < MIN_THICKNESS][:5], 3)}")
    dilation = (thick_n - stroke * b["scale"]) / 2.0  # each side of the outline moves by half
    # The wobble is pinned at the frame's edge and never folds: it cannot push ink out, so it is left out.
    poke = _out_of_frame(tidx, b["rotation"], b["scale"], dilation, b["shift_x"], b["shift_y"])
    if np.any(poke > 0):
        i = int(np.argmax(poke))
        raise ValueError(f"glyph {i} (digit {b['digit'][i]}, rotation {b['rotation'][i]:.1f}, scale "
                         f"{b['scale'][i]:.2f}, shift ({b['shift_x'][i]:.1f}, {b['shift_y'][i]:.1f})) pokes "
                         f"{poke[i]:.2f} px out of the {IMAGE_SIZE}x{IMAGE_SIZE} frame; reduce its scale, "
                         "rotation, thickness or shift")
    f = {k: np.asarray(b[k], dtype=float) for k in ("rotation", "scale", "shift_x", "shift_y", "wobble")}
    return _render_templates(tidx, f["rotation"], dilation, f["scale"], f["shift_x"], f["shift_y"], f["wobble"],
                             np.asarray(b["wobble_seed"]).astype(np.uint64))


def render_factors(factors: pd.DataFrame) -> torch.Tensor:
    """Return the glyphs described by a factors table (as in ``GlyphDataset.factors``)."""
    missing = [c for c in _RENDER_ARGS if c not in factors.columns]
    if missing:
        raise ValueError(f"factors lacks columns {missing}; it needs {list(_RENDER_ARGS)}")
    return render(**{c: factors[c].to_numpy() for c in _RENDER_ARGS})


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
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int (how many images to draw), got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
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
