"""data.glyphs: shapes and ranges, determinism, and factors that really move the pixels, measured from the pixels."""

import numpy as np
import pandas as pd
import pytest
import torch

from gancourse.data import glyph_render, glyphs
from gancourse.data.glyphs import (
    ATTRIBUTE_NAMES,
    FONTS,
    MAX_WOBBLE,
    GlyphDataset,
    GlyphFactorRanges,
    font_stroke_width,
    render,
    render_factors,
)

FACTOR_COLUMNS = ["digit", "font", "style", "serif", "bold", "rotation", "thickness", "scale", "shift_x", "shift_y",
                  "wobble", "wobble_seed"]


@pytest.fixture(scope="module")
def ds() -> GlyphDataset:
    return GlyphDataset(2000, seed=0)


def ink(images: torch.Tensor) -> np.ndarray:
    """Ink weight in [0, 1] per pixel: background -1 -> 0, ink +1 -> 1."""
    return ((images.double() + 1) / 2).squeeze(1).numpy()


def centroid(images: torch.Tensor) -> np.ndarray:
    """(col, row) centre of the ink of each image, in pixel units."""
    w = ink(images)
    rows, cols = np.mgrid[0:28, 0:28]
    m = w.sum(axis=(1, 2))
    return np.stack([(w * cols).sum(axis=(1, 2)) / m, (w * rows).sum(axis=(1, 2)) / m], axis=1)


def orientation(images: torch.Tensor) -> np.ndarray:
    """Angle (degrees, counter-clockwise from the x axis, y up) of the ink's principal axis."""
    w = ink(images)
    rows, cols = np.mgrid[0:28, 0:28]
    x, y = cols.astype(float), -rows.astype(float)  # y up: the reader's view
    m = w.sum(axis=(1, 2))
    mx, my = (w * x).sum(axis=(1, 2)) / m, (w * y).sum(axis=(1, 2)) / m
    dx, dy = x[None] - mx[:, None, None], y[None] - my[:, None, None]
    mu20, mu02, mu11 = (w * dx * dx).sum(axis=(1, 2)), (w * dy * dy).sum(axis=(1, 2)), (w * dx * dy).sum(axis=(1, 2))
    return np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02))


def ink_height(images: torch.Tensor) -> np.ndarray:
    """Rows spanned by pixels that are more than half ink."""
    out = []
    for w in ink(images):
        rows = np.nonzero((w > 0.5).any(axis=1))[0]
        out.append(rows.max() - rows.min() + 1)
    return np.array(out)


# --- shapes, ranges, bookkeeping -----------------------------------------------------------------


def test_shapes_dtypes_and_range(ds):
    assert len(ds) == 2000
    assert ds.images.shape == (2000, 1, 28, 28) and ds.images.dtype == torch.float32
    assert ds.labels.shape == (2000,) and ds.labels.dtype == torch.int64
    assert ds.images.min().item() == -1.0 and ds.images.max().item() == 1.0
    # Background is exactly -1 and every glyph has fully inked pixels.
    assert (ds.images[:, :, 0, 0] == -1).all()
    assert (ds.images.amax(dim=(1, 2, 3)) == 1.0).all()
    assert list(ds.factors.columns) == FACTOR_COLUMNS and len(ds.factors) == 2000
    assert ds.attributes.shape == (2000, len(ATTRIBUTE_NAMES)) and ds.attributes.dtype == torch.float32
    assert set(ds.attributes.unique().tolist()) == {0.0, 1.0}
    assert tuple(ds.attribute_names) == ATTRIBUTE_NAMES
    image, label = ds[7]
    assert torch.equal(image, ds.images[7]) and int(label) == int(ds.labels[7])
    assert image.shape == (1, 28, 28)


def test_determinism_same_seed_same_bytes_other_seed_differs():
    a, b, c = GlyphDataset(300, seed=5), GlyphDataset(300, seed=5), GlyphDataset(300, seed=6)
    assert a.images.numpy().tobytes() == b.images.numpy().tobytes()
    assert torch.equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.factors, b.factors)
    assert not torch.equal(a.images, c.images)
    assert not a.factors["rotation"].equals(c.factors["rotation"])


def test_labels_match_digits_and_classes_are_balanced(ds):
    np.testing.assert_array_equal(ds.labels.numpy(), ds.factors["digit"].to_numpy())
    counts = np.bincount(ds.labels.numpy(), minlength=10)
    assert counts.min() >= 199 and counts.max() <= 201  # 2000 / 10, to within one image
    sub = GlyphDataset(301, seed=1, classes=(3, 7, 8))
    counts = pd.Series(sub.labels.numpy()).value_counts()
    assert set(counts.index) == {3, 7, 8}
    assert counts.min() == 100 and counts.max() == 101


def test_factors_lie_in_their_ranges_and_describe_the_fonts(ds):
    f, r = ds.factors, GlyphFactorRanges()
    for name in ("rotation", "scale", "shift_x", "shift_y", "wobble"):
        lo, hi = getattr(r, name)
        assert f[name].between(lo, hi).all(), name
        assert f[name].max() - f[name].min() > 0.9 * (hi - lo), f"{name} does not fill its range"
    # thickness = the font's own stroke width at this scale + a uniform extra thickness.
    own = np.array([font_stroke_width(d, fo, st) for d, fo, st in zip(f.digit, f.font, f["style"])])
    extra = f["thickness"].to_numpy() - own * f["scale"].to_numpy()
    assert extra.min() >= r.extra_thickness[0] - 1e-9 and extra.max() <= r.extra_thickness[1] + 1e-9
    serif_families = {"DejaVu Serif", "STIX", "Computer Modern Roman", "Computer Modern Typewriter"}
    np.testing.assert_array_equal(f["serif"].to_numpy(), f["font"].isin(serif_families).to_numpy())
    np.testing.assert_array_equal(f["bold"].to_numpy(), f["style"].str.startswith("bold").to_numpy())
    assert f["serif"].mean() == pytest.approx(0.5, abs=0.05)  # serif and sans equally likely
    assert f["font"].nunique() == 6 and f["style"].nunique() == 4


def test_render_factors_reproduces_the_dataset(ds):
    again = render_factors(ds.factors.iloc[:200])
    assert again.shape == (200, 1, 28, 28)
    assert (again - ds.images[:200]).abs().max().item() < 1e-4


def test_font_and_style_subsets():
    sub = GlyphDataset(200, seed=2, fonts=["STIX"], styles=["bold", "bold italic"])
    assert set(sub.factors["font"]) == {"STIX"}
    assert set(sub.factors["style"]) == {"bold", "bold italic"}
    assert sub.factors["bold"].all() and sub.attributes[:, ATTRIBUTE_NAMES.index("bold")].all()


# --- factors control the pixels -------------------------------------------------------------------


@pytest.mark.parametrize("font", ["DejaVu Sans", "Computer Modern Sans", "STIX"])
def test_rotation_turns_the_principal_axis_counter_clockwise(font):
    angles = np.array([-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0])
    imgs = render(1, font, "regular", rotation=angles, scale=0.9)
    axis = orientation(imgs)
    upright = axis[3]
    assert abs(upright - 90) < 8 or abs(upright + 90) < 8  # a '1' stands upright
    turned = (axis - upright + 90) % 180 - 90  # wrap the difference to [-90, 90)
    np.testing.assert_allclose(turned, angles, atol=2.5)
    # Counter-clockwise as the reader sees it: the top half of the '1' moves left.
    top = imgs.clone()
    top[:, :, 14:, :] = -1
    x_top = centroid(top)[:, 0]
    assert x_top[-1] < x_top[3] - 1 and x_top[0] > x_top[3] + 1


def test_thickness_raises_ink_mass_monotonically_and_in_proportion():
    t = np.linspace(1.5, 4.5, 7)
    mass = ink(render(8, "DejaVu Sans", "regular", thickness=t, scale=0.9)).sum(axis=(1, 2))
    assert np.all(np.diff(mass) > 0)
    # Ink area = stroke length x stroke width: mass per unit of thickness stays roughly constant.
    per_px = mass / t
    assert per_px.max() / per_px.min() < 1.25


def test_thickness_is_the_stroke_width_in_pixels():
    # A vertical bar: the '1' of Computer Modern Sans has no flag wider than its stem at mid-height.
    for t in (2.0, 3.0, 4.0):
        w = ink(render(1, "Computer Modern Sans", "regular", thickness=t))[0]
        assert w[12:16].sum(axis=1).mean() == pytest.approx(t, abs=0.35)


def test_shift_moves_the_ink_centroid_by_the_shift():
    s = np.array([-2.0, -1.0, 0.0, 1.5, 2.5])
    cx = centroid(render(4, "DejaVu Serif", "regular", scale=0.8, shift_x=s))
    np.testing.assert_allclose(cx[:, 0] - cx[2, 0], s, atol=0.05)
    np.testing.assert_allclose(cx[:, 1] - cx[2, 1], 0, atol=0.05)
    cy = centroid(render(4, "DejaVu Serif", "regular", scale=0.8, shift_y=s))
    np.testing.assert_allclose(cy[:, 1] - cy[2, 1], -s, atol=0.05)  # + shift_y moves the glyph up (to row 0)
    np.testing.assert_allclose(cy[:, 0] - cy[2, 0], 0, atol=0.05)


def test_scale_grows_the_ink_box():
    scales = np.array([0.6, 0.8, 1.0, 1.2])
    h = ink_height(render(1, "DejaVu Sans", "regular", scale=scales))
    assert np.all(np.diff(h) > 0)
    # At its own stroke width the glyph's outline is 18 px tall at scale 1.
    np.testing.assert_allclose(h, 18 * scales, atol=1.0)


def test_wobble_bends_the_glyph_but_moves_no_ink_further_than_its_size():
    clean = render(5, "DejaVu Sans", "regular", scale=0.9, thickness=2.5)
    assert torch.equal(render(5, "DejaVu Sans", "regular", scale=0.9, thickness=2.5, wobble=0.0, wobble_seed=9), clean)
    seeds = np.arange(12)
    a = render(5, "DejaVu Sans", "regular", scale=0.9, thickness=2.5, wobble=2.0, wobble_seed=seeds)
    b = render(5, "DejaVu Sans", "regular", scale=0.9, thickness=2.5, wobble=2.0, wobble_seed=seeds)
    assert torch.equal(a, b)  # the seed fixes the warp
    assert not torch.equal(a[0], a[1])  # and different seeds give different warps
    base = clean[0, 0].numpy() > 0
    # Grow the clean glyph by 2 px (the wobble's bound) + 1 px of anti-aliasing, in the max norm.
    grown = np.zeros_like(base)
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            grown |= np.roll(np.roll(base, dy, axis=0), dx, axis=1)
    for img in a[:, 0].numpy():
        bent = img > 0
        assert not (bent & ~grown).any()
        overlap = (bent & base).sum() / (bent | base).sum()
        assert overlap < 0.95  # it really moved the strokes
    mass = ink(a).sum(axis=(1, 2))
    assert np.allclose(mass, ink(clean).sum(), rtol=0.3)  # bent (strokes stretch and squeeze), not erased


def test_wobble_never_folds_and_is_pinned_at_the_frame_edge():
    n = 4000
    field = glyph_render._wobble_field(np.full(n, MAX_WOBBLE), np.arange(n, dtype=np.uint64)).double().numpy()
    assert np.abs(field).max() <= MAX_WOBBLE + 1e-6
    fx, fy = field[..., 0], field[..., 1]
    dfx_dv, dfx_du = np.gradient(fx, axis=(1, 2))
    dfy_dv, dfy_du = np.gradient(fy, axis=(1, 2))
    jacobian = (1 + dfx_du) * (1 + dfy_dv) - dfx_dv * dfy_du
    assert jacobian.min() > 0.05  # the map p -> p + f(p) keeps its orientation everywhere
    edge = np.concatenate([field[:, 0], field[:, -1], field[:, :, 0], field[:, :, -1]], axis=1)
    assert np.abs(edge).max() < 0.1 * MAX_WOBBLE  # pixel centres half a pixel from the edge barely move


def test_dataset_pixels_follow_their_factors_through_the_wobble(ds):
    f = ds.factors
    # Upright-font '1's: the ink's axis turns with the rotation factor, one degree per degree.
    ones = np.nonzero((f.digit == 1).to_numpy() & ~f["style"].str.contains("italic").to_numpy())[0]
    assert len(ones) > 60
    turned = (orientation(ds.images[ones]) - 90 + 90) % 180 - 90
    rotation = f.rotation.to_numpy()[ones]
    slope = np.polyfit(rotation, turned, 1)[0]
    assert 0.85 < slope < 1.15 and np.corrcoef(rotation, turned)[0, 1] > 0.9
    # Within each digit, the ink centroid follows the shift (x right, y up = towards row 0).
    c = centroid(ds.images)
    for d in range(10):
        sel = (f.digit == d).to_numpy()
        assert np.corrcoef(c[sel, 0], f.shift_x[sel])[0, 1] > 0.6, d
        assert np.corrcoef(c[sel, 1], -f.shift_y[sel])[0, 1] > 0.6, d


# --- attributes --------------------------------------------------------------------------------


def test_attributes_follow_their_thresholds(ds):
    f = ds.factors
    expected = {
        "thick": f.thickness > 3.5,
        "thin": f.thickness < 2.3,
        "bold": f.bold,
        "serif": f.serif,
        "italic": f["style"].isin(["italic", "bold italic"]),
        "slanted_left": f.rotation > 10,
        "slanted_right": f.rotation < -10,
        "large": f.scale > 0.98,
        "small": f.scale < 0.87,
        "shifted_left": f.shift_x < -0.75,
        "shifted_right": f.shift_x > 0.75,
        "shifted_up": f.shift_y > 0.75,
        "shifted_down": f.shift_y < -0.75,
    }
    assert set(expected) == set(ATTRIBUTE_NAMES)
    for j, name in enumerate(ATTRIBUTE_NAMES):
        np.testing.assert_array_equal(ds.attributes[:, j].numpy(), expected[name].to_numpy().astype(np.float32),
                                      err_msg=name)


def test_attributes_are_neither_rare_nor_universal_and_some_correlate(ds):
    prevalence = ds.attributes.mean(dim=0).numpy()
    for name, p in zip(ATTRIBUTE_NAMES, prevalence):
        assert 0.10 <= p <= 0.60, f"{name}: {p:.2f}"
    a = pd.DataFrame(ds.attributes.numpy(), columns=ATTRIBUTE_NAMES)
    assert a["bold"].corr(a["thick"]) > 0.5  # bold fonts have wider strokes
    assert a["bold"].corr(a["thin"]) < -0.2
    assert abs(a["slanted_left"].corr(a["shifted_up"])) < 0.1  # independent by construction


def test_thick_glyphs_carry_more_ink(ds):
    mass = ink(ds.images).sum(axis=(1, 2))
    thick = ds.attributes[:, ATTRIBUTE_NAMES.index("thick")].numpy() == 1
    thin = ds.attributes[:, ATTRIBUTE_NAMES.index("thin")].numpy() == 1
    assert mass[thick].mean() > 1.4 * mass[thin].mean()


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0), "n must be a positive int"),
        (dict(n=-3), "n must be a positive int"),
        (dict(n=2.5), "n must be a positive int"),
        (dict(n=10, classes=(1, 10)), "classes must be distinct ints from 0 to 9"),
        (dict(n=10, classes=(1, 1)), "classes must be distinct"),
        (dict(n=10, classes=()), "classes must be distinct"),
        (dict(n=10, fonts=["Arial"]), "fonts must be distinct names from"),
        (dict(n=10, styles=["heavy"]), "styles must be distinct names from"),
        (dict(n=10, fonts=["Computer Modern Sans"], styles=["bold"]), "no font has family"),
        (dict(n=10, ranges=GlyphFactorRanges(scale=(0.8, 1.5))), "out of the 28x28 frame"),
        (dict(n=10, ranges=GlyphFactorRanges(shift_x=(-5.0, 5.0))), "out of the 28x28 frame"),
        (dict(n=10, ranges=GlyphFactorRanges(rotation=(-60.0, 60.0))), "out of the 28x28 frame"),
        (dict(n=10, ranges=GlyphFactorRanges(extra_thickness=(-1.5, 0.5))), "break up"),
    ],
)
def test_dataset_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GlyphDataset(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rotation=(20.0, -20.0)), "min 20.0 > max -20.0"),
        (dict(scale=(0.0, 1.0)), "scale must be positive"),
        (dict(shift_x=(0.0, float("nan"))), "finite"),
        (dict(shift_y=1.0), r"\(min, max\) tuple"),
        (dict(wobble=(0.0, 4.0)), "fold strokes"),
    ],
)
def test_ranges_reject_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GlyphFactorRanges(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(digit=12), "digits must be ints from 0 to 9"),
        (dict(digit=2.5), "digits must be ints from 0 to 9"),
        (dict(digit=3, rotation="left"), "rotation must be a number"),
        (dict(digit=3, font="Comic Sans"), "unknown font"),
        (dict(digit=3, font="Computer Modern Sans", style="italic"), "has no style"),
        (dict(digit=3, shift_x=9.0), "out of the 28x28 frame"),
        (dict(digit=3, thickness=0.5), "thickness must be at least"),
        (dict(digit=[1, 2, 3], rotation=[0.0, 10.0]), "lengths must be 1 or 3"),
        (dict(digit=3, scale=-1.0), "scale must be positive"),
        (dict(digit=3, wobble=MAX_WOBBLE + 0.5), "wobble must lie in"),
        (dict(digit=3, wobble=-0.1), "wobble must lie in"),
        (dict(digit=3, wobble=1.0, wobble_seed=-2), "wobble_seed must be non-negative ints"),
    ],
)
def test_render_rejects_bad_factors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        render(**kwargs)


def test_every_font_renders_every_digit_inside_the_frame():
    digits = np.repeat(np.arange(10), len(FONTS))
    fonts = [f.family for f in FONTS] * 10
    styles = [f.style for f in FONTS] * 10
    imgs = render(digits, fonts, styles)
    w = ink(imgs)
    assert (w.sum(axis=(1, 2)) > 20).all()  # every glyph has real ink
    border = np.concatenate([w[:, 0, :], w[:, -1, :], w[:, :, 0], w[:, :, -1]], axis=1)
    assert border.max() == 0.0  # upright at scale 1, nothing touches the edge


def test_pad_glyphs_frames_with_background_and_crop_glyphs_undoes_it():
    from gancourse.data.glyphs import crop_glyphs, pad_glyphs

    images = torch.rand(3, 1, 28, 28) * 2 - 1
    framed = pad_glyphs(images)
    assert framed.shape == (3, 1, 32, 32) and torch.equal(crop_glyphs(framed), images)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert (framed[..., border] == -1).all()
    assert pad_glyphs(images, 1).shape[-1] == 30
    with pytest.raises(ValueError, match="pad"):
        pad_glyphs(images, 0)
