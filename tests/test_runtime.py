"""runtime: the profile switch, seeding, the data folder."""

import random

import numpy as np
import pytest
import torch

import gancourse
from gancourse.runtime import Profile, data_dir, is_colab, profile, seed_everything


@pytest.mark.parametrize("raw, expected", [("quick", "quick"), ("full", "full"), (" FULL ", "full")])
def test_profile_reads_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("GANCOURSE_PROFILE", raw)
    assert profile().name == expected


def test_unset_profile_follows_cuda(monkeypatch):
    monkeypatch.delenv("GANCOURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert profile().name == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert profile().name == "quick"


def test_mistyped_profile_lists_the_valid_values(monkeypatch):
    monkeypatch.setenv("GANCOURSE_PROFILE", "quik")
    with pytest.raises(ValueError) as err:
        profile()
    msg = str(err.value)
    assert "'quik'" in msg and "quick" in msg and "full" in msg


def test_pick_returns_the_profile_value():
    assert Profile("quick").pick(quick=300, full=20_000) == 300
    assert Profile("full").pick(quick=300, full=20_000) == 20_000
    assert Profile("quick").quick and not Profile("quick").full


def test_seed_everything_makes_every_generator_repeat():
    seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    seed_everything(124)
    assert not torch.equal(torch.rand(3), b[2])


def test_seed_everything_deterministic_flags():
    seed_everything(0, deterministic=True)
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(0)
    assert not torch.backends.cudnn.deterministic
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((ValueError, TypeError)):
        seed_everything(bad)


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("GANCOURSE_DATA")
    assert data_dir().parts[-2:] == ("gancourse", "data")


def test_top_level_api():
    assert gancourse.profile is profile and not is_colab()
    assert gancourse.device().type in {"cpu", "cuda"}


def test_smoke_run_is_the_full_profile_at_smoke_sizes(monkeypatch):
    monkeypatch.setenv("GANCOURSE_PROFILE", "full")
    monkeypatch.setenv("GANCOURSE_SMOKE", "1")
    P = profile()
    assert P.full and P.smoke and str(P) == "full (smoke run)"
    assert P.pick(quick=300, full=20_000, smoke=4) == 4
    assert P.pick(quick=300, full=20_000) == 20_000  # no smoke value: the full one
    assert P.pick(full=(64, 128)) == (64, 128)  # full-only code may leave quick out
    monkeypatch.setenv("GANCOURSE_SMOKE", "0")
    assert profile().pick(quick=300, full=20_000, smoke=4) == 20_000 and not profile().smoke


def test_smoke_needs_the_full_profile(monkeypatch):
    monkeypatch.setenv("GANCOURSE_PROFILE", "quick")
    monkeypatch.setenv("GANCOURSE_SMOKE", "1")
    with pytest.raises(ValueError, match="GANCOURSE_PROFILE=full"):
        profile()
    monkeypatch.setenv("GANCOURSE_PROFILE", "full")
    monkeypatch.setenv("GANCOURSE_SMOKE", "yes")
    with pytest.raises(ValueError, match="GANCOURSE_SMOKE='yes'"):
        profile()


def test_quick_value_left_out_is_an_error_in_the_quick_profile():
    assert Profile("quick").pick(quick=1, full=2, smoke=3) == 1
    with pytest.raises(ValueError, match="no quick-profile setting"):
        Profile("quick").pick(full=10_000, smoke=4)
    with pytest.raises(ValueError, match="profile must be one of"):
        Profile("fast")  # type: ignore[arg-type]
