"""The capstone's command line: exit codes, messages, the batch CSV, and nothing ever overwritten."""

from __future__ import annotations

import csv

import pytest
import torch

from gancourse.capstone import cli, grade, load_submission, real_images
from gancourse.capstone.cli import COLUMNS, main


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "good.pt"
    torch.save(real_images(1000, 9), path)
    return path


@pytest.fixture(scope="module")
def bad(good):
    path = good.with_name("bad.pt")
    torch.save((torch.load(good, weights_only=True) + 1) / 2, path)
    return path


def test_grade_prints_the_table_and_the_tier(good, capsys):
    assert main(["grade", str(good)]) == 0
    out = capsys.readouterr().out
    assert "FD (glyph judge features)" in out and "95% CI" in out and out.strip().endswith("BOSS")


def test_an_invalid_submission_exits_2_with_the_message(bad, tmp_path, capsys):
    assert main(["grade", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "invalid submission" in err and "bad.pt" in err and "map with x * 2 - 1" in err
    assert main(["grade", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_pack_writes_a_new_zip_and_refuses_an_existing_one(good, bad, tmp_path, capsys):
    out = tmp_path / "submission.zip"
    assert main(["pack", str(good), str(out)]) == 0
    before = out.read_bytes()
    packed, original = load_submission(out), load_submission(good)
    assert (packed - original).abs().max() <= 0.5 / 127.5 + 1e-6  # PNG's 256 levels, rounded to the nearest
    assert main(["pack", str(good), str(out)]) == 2
    assert "never replaces" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["pack", str(bad), str(tmp_path / "other.zip")]) == 2
    assert not (tmp_path / "other.zip").exists()


def test_grade_all_writes_one_row_per_submission_and_never_replaces_the_csv(good, bad, tmp_path, monkeypatch):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.pt").write_bytes(good.read_bytes())
    (folder / "bob.pt").write_bytes(bad.read_bytes())
    (folder / "carol").mkdir()  # an empty folder: invalid
    (folder / "README.txt").write_text("not a submission: skipped")
    graded = []
    monkeypatch.setattr(cli, "grade", lambda path, profile: graded.append(path) or grade(path, profile=profile))
    out = tmp_path / "grades.csv"
    assert main(["grade-all", str(folder), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["submission"] for r in rows] == ["alice.pt", "bob.pt", "carol"] and list(rows[0]) == list(COLUMNS)
    assert rows[0]["tier"] == "boss" and rows[0]["error"] == "" and float(rows[0]["fd_lo"]) <= float(rows[0]["fd"])
    assert rows[1]["tier"] == "invalid" and "bob.pt" in rows[1]["error"] and "[0, 1]" in rows[1]["error"]
    assert rows[2]["tier"] == "invalid" and "missing 0.png" in rows[2]["error"]
    assert len(graded) == 3
    before = out.read_text()
    assert main(["grade-all", str(folder), "--csv", str(out)]) == 2
    assert out.read_text() == before


def test_the_full_profile_says_how_to_get_the_inception_weights_offline(good, tmp_path, monkeypatch, capsys):
    from gancourse.metrics import extractors

    monkeypatch.setattr(extractors, "data_dir", lambda: tmp_path)  # no weights here; quick env: no download
    assert main(["grade", str(good), "--profile", "full"]) == 1  # refused before the quick measures run
    err = capsys.readouterr().err
    assert "InceptionV3 FID weights are not at" in err and "download" in err
