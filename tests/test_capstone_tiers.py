"""The capstone's tiers against the shipped reference runs, the recipes, and the reference script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gancourse.capstone import TIER_NAMES, TIERS, tier
from gancourse.capstone.recipes import (
    RECIPE_NAMES,
    RECIPES,
    CroppedGenerator,
    PaddedGenerator,
    sample,
    train_recipe,
)
from gancourse.capstone.tiers import RUNS_FILE, REACHES, reference_runs, rule_violations

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "capstone_reference.py"


@pytest.fixture(scope="module")
def runs():
    return reference_runs()


def test_every_tier_has_a_recipe_and_seeded_reference_runs(runs):
    assert RECIPE_NAMES == tuple(t.name for t in TIERS) == TIER_NAMES[1:]
    rank = TIER_NAMES.index
    assert set(REACHES) == set(RECIPE_NAMES) and all(rank(REACHES[n]) <= rank(n) for n in RECIPE_NAMES)
    assert REACHES[RECIPE_NAMES[0]] == RECIPE_NAMES[0]  # the lowest tier at least is calibrated
    for name in RECIPE_NAMES:
        mine = [r for r in runs if r["tier"] == name]
        seeds = sorted(r["seed"] for r in mine)
        assert seeds == list(range(len(seeds))) and 1 <= len(seeds) <= 3, (name, seeds)  # seeds 0, 1, 2 at most
        assert all(r["steps"] == RECIPES[name].steps for r in mine), (name, RECIPES[name].steps)
        assert all(r["command"].endswith(f"--tier {name} --seed {r['seed']}") for r in mine)


def test_the_tier_rule_holds_on_the_shipped_reference_runs(runs):
    assert rule_violations(runs) == []
    rank = TIER_NAMES.index
    for r in runs:
        reached = tier(r["fd"], r["detector_rate"], r["class_entropy"], r["memorised"])
        assert not r["memorised"] and r["fd_ci"][0] <= r["fd"] <= r["fd_ci"][1]
        # Its own tier, or the lower one its recipe measurably reached; never a higher one.
        assert reached == REACHES[r["tier"]] and rank(reached) <= rank(r["tier"]), r


def test_the_rule_catches_a_run_in_the_wrong_tier_or_without_margin(runs):
    lowest = TIERS[0]
    run = next(r for r in runs if r["tier"] == lowest.name)
    lifted = {**run, "fd": 0.0, "fd_ci": [0.0, 0.1], "detector_rate": 1.0, "class_entropy": 2.3}
    assert any("gets tier boss" in p for p in rule_violations(runs + [lifted]))
    edge = {**run, "fd": lowest.fd_max, "fd_ci": [lowest.fd_max - 1, lowest.fd_max + 1]}
    assert any("interval reaches" in p for p in rule_violations([*runs, edge]))
    missing = [r for r in runs if r["tier"] != TIERS[-1].name]
    assert rule_violations(missing) == [f"no reference run of tier {TIERS[-1].name}"]
    demoted = {**REACHES, "medium": "simple", "strong": "medium"}
    assert "tier medium is reached by another recipe but not by its own" in rule_violations(runs, reaches=demoted)


@pytest.mark.parametrize("name", RECIPE_NAMES)
def test_each_recipe_trains_with_the_course_loop_and_samples_reproducibly(name):
    data = torch.rand(128, 1, 28, 28) * 2 - 1
    recipe = RECIPES[name]
    G, history, got, config = train_recipe(name, 0, 2, progress=False, data=data)
    assert got is recipe and len(history) == 2 and config.steps == 2
    assert config.loss == recipe.loss and (config.ema_decay is None) == (recipe.ema_decay is None)
    schedule = recipe.schedule(recipe.steps)
    first = schedule.pieces[0][0]
    assert schedule.total_steps == recipe.steps and recipe.config(recipe.steps, 0).ema_start in (0, first)
    a, b = sample(G, 8, 3), sample(G, 8, 3)
    assert a.shape == (8, 1, 28, 28) and torch.equal(a, b) and a.abs().max() <= 1


def test_padding_frames_a_generator_with_background_and_cropping_takes_it_off():
    class Fixed(torch.nn.Module):
        z_dim = 4

        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, z):
            return torch.tanh(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 28, 28) * self.scale

    G, z = Fixed(), torch.randn(3, 4)
    framed = PaddedGenerator(G, 2)(z)
    assert framed.shape == (3, 1, 32, 32)
    assert (framed[..., :2, :] == -1).all() and (framed[..., :, -2:] == -1).all()
    assert torch.equal(CroppedGenerator(PaddedGenerator(G, 2), 2)(z), G(z))
    assert PaddedGenerator(G, 2).z_dim == CroppedGenerator(G, 1).z_dim == 4
    with pytest.raises(ValueError, match="pad"):
        PaddedGenerator(G, 0)


def test_a_bad_tier_or_step_count_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="name"):
        train_recipe("legendary", 0)
    with pytest.raises(ValueError, match="steps"):
        train_recipe("simple", 0, 0)


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_script_trains_samples_grades_and_writes_its_json(tmp_path):
    out = tmp_path / "runs" / "simple-0"
    done = _script("--tier", "simple", "--seed", "0", "--steps", "3", "--out", str(out), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "scores.json").read_text())
    assert record["tier"] == "simple" and record["seed"] == 0 and record["steps"] == 3
    assert record["config"]["steps"] == 3 and record["recipe"]["name"] == "simple"
    assert record["torch"] == torch.__version__ and record["seconds"] >= record["train_seconds"] > 0
    grade = record["grade"]
    assert grade["tier"] == "none" and grade["fd"] > TIERS[0].fd_max and len(grade["fd_ci"]) == 2
    assert (out / "submission.zip").stat().st_size > 10_000
    into = tmp_path / "runs.json"
    assert _script("--collect", str(tmp_path / "runs"), "--into", str(into), cwd=tmp_path).returncode == 0
    (row,) = json.loads(into.read_text())["runs"]
    assert row["fd"] == grade["fd"] and row["command"].endswith("--steps 3")
    before = into.read_text()
    refused = _script("--collect", str(tmp_path / "runs"), "--into", str(into), cwd=tmp_path)
    assert refused.returncode != 0 and "--update" in refused.stderr and into.read_text() == before
    other = {**row, "tier": "boss", "seed": 2, "fd": 1.5}
    into.write_text(json.dumps({"runs": [{**row, "fd": -1.0}, other]}))  # a stale row and another recipe's
    updated = _script("--collect", str(tmp_path / "runs"), "--into", str(into), "--update", cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(into.read_text())["runs"] == [row, other]  # the stale row replaced, the other kept
    again = _script("--tier", "simple", "--seed", "0", "--out", str(out), cwd=tmp_path)
    assert again.returncode == 2 and "not an empty folder" in again.stderr  # never writes over a run
    bad = _script("--tier", "epic", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert bad.returncode == 2 and "--tier" in bad.stderr


def test_the_shipped_file_is_small_and_installed_with_the_package():
    assert RUNS_FILE.stat().st_size < 50_000
    text = (ROOT / "pyproject.toml").read_text()
    assert '"capstone/*.json"' in text


def test_the_docs_show_the_shipped_runs_as_runs_table_writes_them():
    from gancourse.capstone import tiers

    table = tiers.runs_table(reference_runs())
    assert table.count("\n") == 1 + len(RECIPE_NAMES)  # a header, a rule and a row per recipe
    assert table in tiers.__doc__
    assert table in (ROOT / "book" / "instructors.md").read_text()
