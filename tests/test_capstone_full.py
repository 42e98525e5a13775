"""The capstone's full profile, offline: a tiny synthetic faces folder through loader, split, submission
checks and grade with a stand-in extractor; the anime-face detector's hash check and offline message.

tests/fixtures/lbpcascade_animeface.xml is nagadomi's cascade (MIT licence, in the file's header),
copied from github.com/nagadomi/lbpcascade_animeface so that no test goes online.
"""

import hashlib
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gancourse.capstone import detector, faces, full
from gancourse.capstone.cli import format_grade, main
from gancourse.capstone.grade import grade
from gancourse.capstone.packing import pack
from gancourse.capstone.submission import SubmissionError, load_submission

FIXTURE = Path(__file__).parent / "fixtures" / "lbpcascade_animeface.xml"


class PoolFeatures(nn.Module):
    """A stand-in for InceptionFeatures: 4 x 4 average-pooled RGB, 48-d, no weights to download."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)


class BrightCascade:
    """A stand-in cascade: "finds a face" in images whose top half is brighter than the bottom (after equalising)."""

    def detect_multi_scale(self, img, **kw):
        h = len(img) // 2
        return [{"r": 0, "c": 0, "width": 8, "height": 8}] if img[:h].mean() > img[h:].mean() + 0.3 else []


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """60 random 96 x 96 RGB JPGs (smooth blobs of colour) and a text file the loader must skip."""
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i in range(60):
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        Image.fromarray(small).resize((96, 96), Image.Resampling.BICUBIC).save(root / f"{i}.jpg", quality=90)
    (root / "README.txt").write_text("not an image")
    return root


def test_the_loader_reads_rgb_64px_and_the_split_is_disjoint_complete_and_deterministic(folder, monkeypatch):
    split = faces.face_split(folder)
    assert (len(split.train), len(split.reference), len(split.calibration)) == (42, 12, 6)
    every = set(split.train) | set(split.reference) | set(split.calibration)
    assert len(every) == 60 and all(p.suffix == ".jpg" for p in every)
    assert faces.face_split(folder) == split
    monkeypatch.setenv(faces.FACES_ENV, str(folder))
    assert faces.face_split() == split  # the folder from $GANCOURSE_FACES
    x = faces.load_faces(split.train[:3])
    assert x.shape == (3, 3, 64, 64) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
    assert torch.equal(faces.FaceImages(split.train[:3])[1], x[1])


def test_a_non_square_image_is_centre_cropped(tmp_path):
    a = np.zeros((50, 100, 3), np.uint8)
    a[:, 25:75] = 255  # the centre square is white, the sides black
    Image.fromarray(a).save(tmp_path / "wide.png")
    face = faces.read_face(tmp_path / "wide.png")
    assert face.shape == (3, 64, 64) and face.float().mean() > 250


def test_missing_empty_and_unreadable_folders_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv(faces.FACES_ENV, raising=False)
    with pytest.raises(faces.FacesError, match="no faces folder at .*GANCOURSE_FACES"):
        faces.face_split(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(faces.FacesError, match="holds no images"):
        faces.face_split(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "7.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(faces.FacesError, match=r"7\.jpg is not a readable image"):
        faces.read_face(bad / "7.jpg")
    with pytest.raises(faces.FacesError, match="needs at least 20"):
        faces.face_split(bad)


def test_full_submissions_are_rgb_64px_and_glyphs_are_refused_there(tmp_path):
    images = torch.rand(1000, 3, 64, 64) * 2 - 1
    assert load_submission(images, "full").shape == (1000, 3, 64, 64)
    with pytest.raises(SubmissionError, match=r"not \(1000, 3, 64, 64\)"):
        load_submission(torch.rand(1000, 1, 28, 28) * 2 - 1, "full")
    with pytest.raises(SubmissionError, match="channels come first"):
        load_submission(torch.rand(1000, 64, 64, 3) * 2 - 1, "full")
    out = pack(images, tmp_path / "faces.zip", profile="full")
    back = load_submission(out, "full")
    assert (back - images).abs().max() <= 1 / 127.5 + 1e-6  # 8-bit PNGs round to the nearest level
    with pytest.raises(SubmissionError, match="5 MB limit"):
        load_submission(out)  # the quick profile's limit: noise faces zip to about 12 MB
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(1000):
        Image.new("L" if i == 3 else "RGB", (64, 64)).save(folder / f"{i}.png")
    with pytest.raises(SubmissionError, match=r"3\.png: has one grey channel, not 8-bit RGB"):
        load_submission(folder, "full")


def test_grade_full_measures_fid_its_interval_fid_infinity_detector_and_guard(folder):
    split = faces.face_split(folder)
    honest = torch.rand(1000, 3, 64, 64) * 2 - 1
    r = grade(honest, profile="full", faces=folder, extractor=PoolFeatures(), cascade=BrightCascade())
    lo, hi = r["fd_ci"]
    assert r["profile"] == "full" and r["class_entropy"] is None and lo <= r["fd"] <= hi
    assert r["fid_infinity_sizes"] == [200, 250, 333, 500, 1000] and r["detector_rate"] == 0.0
    assert not r["memorised"] and r["tier"] in ("none", "simple") and "provisional" in r["tier_status"]
    table = format_grade(r)
    assert "FID∞" in table and "not defined for faces" in table and "anime-face detector rate" in table
    copies = faces.load_faces(split.train).repeat(24, 1, 1, 1)[:1000]
    c = grade(copies, profile="full", faces=folder, extractor=PoolFeatures(), cascade=BrightCascade())
    assert c["memorised"] and c["copied_share"] == 1.0 and c["mifid_distance"] < 1e-6 and c["tier"] == "none"
    bright = honest.clone()
    bright[:, :, :32] = bright[:, :, :32] * 0.1 + 0.9  # a bright top half: the stand-in's "face"
    assert grade(bright, profile="full", faces=folder, extractor=PoolFeatures(),
                 cascade=BrightCascade())["detector_rate"] == 1.0


def test_the_tiers_take_the_highest_whose_bounds_are_met():
    assert full.full_tier(180.0, 0.55, False) == "medium"
    assert full.full_tier(150.0, 0.45, False) == "medium"
    assert full.full_tier(150.0, 0.55, False) == "strong"
    assert full.full_tier(100.0, 0.9, False) == "boss"
    assert full.full_tier(100.0, 0.9, True) == "none"
    assert full.full_tier(1_000.0, 0.9, False) == "none"


def test_calibration_suggests_guard_thresholds_between_honest_and_copied_faces(folder):
    cal = full.calibrate_full(folder, PoolFeatures(), BrightCascade(), n_boot=5)
    assert cal["copies"]["memorised"] and cal["copies"]["mifid_distance"] < 1e-6
    assert 0 < cal["suggested"]["mifid_min"] < cal["honest"]["mifid_distance"]


def _cascade_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(detector, "data_dir", lambda: tmp_path)
    return tmp_path / "detectors" / "lbpcascade_animeface.xml"


def test_the_fixture_is_the_pinned_file_and_a_present_file_is_used_offline(tmp_path, monkeypatch):
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == detector.CASCADE_SHA256
    assert FIXTURE.stat().st_size == detector.CASCADE_BYTES
    where = _cascade_dir(tmp_path, monkeypatch)
    where.parent.mkdir(parents=True)
    shutil.copy(FIXTURE, where)
    monkeypatch.setattr(urllib.request, "urlretrieve", lambda *a, **k: pytest.fail("went online"))
    assert detector.cascade_path() == where
    cascade = detector.load_cascade()
    noise = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    found = detector.detect_faces(noise, cascade)
    assert len(found) == 3 and detector.detector_rate(noise, cascade) == sum(map(bool, found)) / 3


def test_a_tampered_cascade_is_refused_and_deleted(tmp_path, monkeypatch):
    where = _cascade_dir(tmp_path, monkeypatch)
    where.parent.mkdir(parents=True)
    where.write_bytes(FIXTURE.read_bytes().replace(b"<stages>", b"<stages> ", 1))
    with pytest.raises(RuntimeError, match="altered file, now deleted"):
        detector.cascade_path()
    assert not where.exists()


def test_offline_the_message_says_where_to_put_the_file(tmp_path, monkeypatch):
    where = _cascade_dir(tmp_path, monkeypatch)
    with pytest.raises(RuntimeError, match="quick profile never downloads") as err:
        detector.cascade_path()  # quick profile: no download
    assert str(where) in str(err.value) and detector.CASCADE_URL in str(err.value)

    def offline(url, filename):
        Path(filename).write_bytes(b"half a file")
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    with pytest.raises(RuntimeError, match="could not download the anime-face detector") as err:
        detector.cascade_path(download=True)
    assert str(where) in str(err.value) and not list(where.parent.iterdir())  # no partial file left

    def wrong(url, filename):
        Path(filename).write_bytes(b"<html>captive portal</html>")

    monkeypatch.setattr(urllib.request, "urlretrieve", wrong)
    with pytest.raises(RuntimeError, match="broken or changed download"):
        detector.cascade_path(download=True)
    assert not list(where.parent.iterdir())


def test_the_cli_grades_the_full_profile_and_names_a_missing_faces_folder(folder, tmp_path, monkeypatch, capsys):
    import importlib

    grade_module = importlib.import_module("gancourse.capstone.grade")

    images = torch.rand(1000, 3, 64, 64) * 2 - 1
    torch.save(images, tmp_path / "sub.pt")
    real = grade_module.grade_faces
    monkeypatch.setattr(grade_module, "_inception", PoolFeatures)
    monkeypatch.setattr(grade_module, "load_cascade", BrightCascade)
    monkeypatch.setattr(grade_module, "grade_faces", lambda im, fo, ex, ca: real(im, fo, ex, ca, n_boot=10))
    assert main(["grade", str(tmp_path / "sub.pt"), "--profile", "full", "--faces", str(folder)]) == 0
    assert "FID (InceptionV3, 1,000 images)" in capsys.readouterr().out
    assert main(["grade", str(tmp_path / "sub.pt"), "--profile", "full", "--faces", str(tmp_path / "no")]) == 1
    assert "no faces folder at" in capsys.readouterr().err
