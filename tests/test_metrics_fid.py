"""Extractors, fid() end to end, the command line, and the glyph classifiers' accuracy."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics import (
    ClassifierFeatures,
    FeatureStats,
    GlyphFeatures,
    check_images,
    feature_stats,
    fid,
    load_folder,
)
from gancourse.metrics.__main__ import main as cli
from gancourse.metrics.extractors import InceptionFeatures, inception_weights
from gancourse.metrics.judges import attribute_classifier, glyph_classifier
from gancourse.models import GlyphCNN


@pytest.fixture(scope="module")
def glyphs():
    return GlyphDataset(400, seed=123)


def test_glyph_classifier_accuracy_on_held_out_glyphs(glyphs):
    clf = glyph_classifier()
    assert clf.accuracy >= 0.98  # as recorded at training time
    with torch.no_grad():
        acc = (clf.model(glyphs.images).argmax(1) == glyphs.labels).float().mean().item()
    assert acc >= 0.98  # and measured here, on glyphs from a seed it never saw


def test_attribute_classifier_reports_per_attribute_accuracy(glyphs):
    clf = attribute_classifier()
    assert set(clf.per_attribute) == set(glyphs.attribute_names)
    with torch.no_grad():
        hits = ((clf.model(glyphs.images) > 0).float() == glyphs.attributes).float().mean(0)
    assert hits.mean().item() > 0.8
    assert GlyphCNN(in_channels=3, n_outputs=40)(torch.zeros(2, 3, 64, 64)).shape == (2, 40)  # CelebA's shape


def test_classifier_features_equals_the_identity_trick():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(5, 4)
    hooked = ClassifierFeatures(net, "2", take="input")(x)
    torch.testing.assert_close(hooked, net[1](net[0](x)))
    torch.testing.assert_close(ClassifierFeatures(net, "0")(x), net[0](x))
    with pytest.raises(ValueError, match="no layer"):
        ClassifierFeatures(net, "fc")


def test_image_checks_name_the_problem():
    with pytest.raises(ValueError, match=r"\[0, 1\]|lie in"):
        check_images(torch.rand(2, 1, 28, 28) * 255, 1, 28)
    with pytest.raises(ValueError, match="channels"):
        check_images(torch.zeros(2, 3, 28, 28), 1, 28)
    with pytest.raises(ValueError, match="unsqueeze"):
        check_images(torch.zeros(2, 28, 28), 1, 28)
    with pytest.raises(ValueError, match="28x28"):
        check_images(torch.zeros(2, 1, 32, 32), 1, 28)
    with pytest.raises(ValueError, match="NaN"):
        check_images(torch.full((2, 1, 28, 28), float("nan")), 1, 28)
    with pytest.raises(TypeError):
        check_images(np.zeros((2, 1, 28, 28)), 1, 28)


def test_fid_of_glyphs_small_for_same_distribution_larger_for_another(glyphs):
    other = GlyphDataset(400, seed=7)
    thick = GlyphDataset(400, seed=8, classes=(1, 7))
    net = GlyphFeatures()
    real = feature_stats(glyphs, net, progress=False)
    assert isinstance(real, FeatureStats) and real.dim == 128
    same = fid(real, other.images, net, progress=False)
    different = fid(real, thick, net, progress=False)
    assert 0 <= same < different / 3


def test_inception_offline_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path))
    monkeypatch.setenv("GANCOURSE_PROFILE", "quick")
    with pytest.raises(RuntimeError, match="download=True"):
        inception_weights()
    with pytest.raises(RuntimeError, match="glyph"):
        InceptionFeatures()


def _write_pngs(folder, images):
    folder.mkdir()
    for i, img in enumerate(images):
        arr = ((img[0].numpy() + 1) * 127.5).round().astype(np.uint8)
        Image.fromarray(arr).save(folder / f"{i:03d}.png")


def test_cli_on_png_folders(tmp_path, glyphs, capsys):
    _write_pngs(tmp_path / "a", glyphs.images[:60])
    _write_pngs(tmp_path / "b", GlyphDataset(60, seed=9).images)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    out = tmp_path / "a.npz"
    with pytest.warns(UserWarning, match="notes.txt"):
        status = cli(["fid", str(tmp_path / "a"), str(tmp_path / "b"), "--extractor", "glyphs", "--batch-size", "16",
                      "--device", "cpu", "--save-stats", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    value = float(printed.strip().splitlines()[-1].split()[-1])
    # The saved statistics give the same FID as the folder they came from (no extractor needed for two .npz).
    assert out.is_file()
    b_stats = feature_stats(tmp_path / "b", "glyphs", progress=False).save(tmp_path / "b.npz")
    assert cli(["fid", str(out), str(b_stats)]) == 0
    assert float(capsys.readouterr().out.split()[-1]) == pytest.approx(value, rel=1e-5)


def test_cli_empty_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "b").mkdir()
    assert cli(["fid", str(tmp_path / "empty"), str(tmp_path / "b"), "--extractor", "glyphs"]) == 2
    assert "no images" in capsys.readouterr().err


# --- bad input: a clear error, and nothing lost -------------------------------------------------

def test_save_stats_never_replaces_a_file(tmp_path, glyphs, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    feature_stats(glyphs.images[:50], "glyphs", progress=False).save(a)
    feature_stats(GlyphDataset(50, seed=9).images, "glyphs", progress=False).save(b)
    before = b.read_bytes()
    assert cli(["fid", str(a), str(b), "--save-stats", str(b)]) == 2  # the reference, given as the output
    assert "refusing to write the statistics" in capsys.readouterr().err and b.read_bytes() == before
    assert cli(["fid", str(a), str(b)]) == 0
    assert float(capsys.readouterr().out.split()[-1]) > 0  # b still holds its own statistics
    assert cli(["fid", str(a), str(b), "--save-stats", str(tmp_path / "new.npz")]) == 0


def test_sixteen_bit_pngs_are_scaled_not_clipped(tmp_path, glyphs):
    images = glyphs.images[:40]
    eight, sixteen = tmp_path / "eight", tmp_path / "sixteen"
    _write_pngs(eight, images)
    sixteen.mkdir()
    for i, img in enumerate(images):
        arr = ((img[0].numpy() + 1) / 2 * 65535).round().astype(np.uint16)
        Image.fromarray(arr).save(sixteen / f"{i:03d}.png")  # a 16-bit greyscale PNG
    assert Image.open(sixteen / "000.png").mode.startswith("I")
    x8, x16 = load_folder(eight, channels=1), load_folder(sixteen, channels=1)
    assert (x16 > 0.99).float().mean() < 0.5  # not a white page
    torch.testing.assert_close(x16, x8, atol=1 / 127.5, rtol=0)  # the same picture, to 8-bit rounding


def test_a_decompression_bomb_and_a_broken_file_are_clear_errors(tmp_path, monkeypatch):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("L", (64, 64)).save(folder / "000.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64 x 64 = 4,096 pixels: "too large" now
    with pytest.raises(ValueError, match="safety limit"):
        load_folder(folder, channels=1)
    monkeypatch.undo()
    (folder / "001.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ValueError, match="001.png is not a readable image"):
        load_folder(folder, channels=1)


def test_a_folder_is_read_lazily_a_batch_at_a_time(tmp_path, glyphs, monkeypatch):
    fid_module = importlib.import_module("gancourse.metrics.fid")  # the module, not the fid() it exports

    _write_pngs(tmp_path / "a", glyphs.images[:30])
    reads = []
    real_read = fid_module._read_image
    monkeypatch.setattr(fid_module, "_read_image", lambda path, c: reads.append(path.name) or real_read(path, c))
    files = fid_module.ImageFiles(tmp_path / "a", channels=1)
    assert reads == ["000.png"]  # only the first, for its size
    stats = feature_stats(tmp_path / "a", "glyphs", batch_size=8, progress=False)
    want = feature_stats(load_folder(tmp_path / "a", channels=1), "glyphs", batch_size=8, progress=False)
    assert len(files) == 30 and np.allclose(stats.sigma, want.sigma) and np.allclose(stats.mu, want.mu)


def test_images_in_zero_one_are_refused_and_other_float_dtypes_converted(glyphs):
    x = glyphs.images[:64]
    with pytest.raises(ValueError, match=r"look like images in \[0, 1\].*2 \* x - 1"):
        feature_stats((x + 1) / 2, "glyphs", progress=False)
    assert feature_stats((x + 1) / 2, "glyphs", progress=False, check_range=False).n == 64  # when meant
    base = feature_stats(x, "glyphs", progress=False)
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        other = feature_stats(x.to(dtype), "glyphs", progress=False)
        assert np.allclose(other.mu, base.mu, atol=0.05 if dtype != torch.float64 else 1e-6)
