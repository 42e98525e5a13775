"""Drawing glyphs: rotation, scale, shift, thickness and a smooth "wobble" applied to the font templates.

Rotation, scale and shift are one affine sampling grid per image, read by a single
``grid_sample`` over an atlas of all the templates' signed distance fields straight into the
28x28 frame; the wobble is a smooth displacement added to that grid. A linear ramp of one pixel
around the outline anti-aliases the edges. See ``gancourse.data.glyphs`` for the conventions.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from gancourse.data.glyph_fonts import _K, _TILE, FONTS, IMAGE_SIZE, _font_index, _hulls, _strokes, _template

__all__ = ["MIN_THICKNESS", "EDGE_RAMP", "MAX_WOBBLE", "RENDER_ARGS", "render", "render_factors"]

MIN_THICKNESS = 1.0  # thinner strokes fall between pixel centres and break up
EDGE_RAMP = 1.0  # width in pixels of the anti-aliasing ramp across an edge
MAX_WOBBLE = 2.5  # px; beyond it the warp can fold (its Jacobian's determinant reaches 0)
RENDER_ARGS = ("digit", "font", "style", "rotation", "thickness", "scale", "shift_x", "shift_y", "wobble",
               "wobble_seed")
_WOBBLE_KNOTS = 4  # control points per side of the wobble field: one bend every ~9 px, as a pen wavers
_WOBBLE_FADE = 7.0  # px from the frame edge over which the wobble fades in


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
    missing = [c for c in RENDER_ARGS if c not in factors.columns]
    if missing:
        raise ValueError(f"factors lacks columns {missing}; it needs {list(RENDER_ARGS)}")
    return render(**{c: factors[c].to_numpy() for c in RENDER_ARGS})
