"""checkpoint: nested state round-trips exactly through safetensors + JSON, never through pickle."""

from __future__ import annotations

import json
import math
import pickle

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from gancourse.training.checkpoint import load_checkpoint, save_checkpoint


def _no_pickle(monkeypatch):
    """Make every way of unpickling fail, so a test proves loading does not use it."""
    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint must load without pickle / torch.load")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def test_nested_state_round_trips_exactly(tmp_path, monkeypatch):
    state = {
        "step": 7,
        "name": "wgan-gp",
        "flags": [True, False, None],
        "numbers": {"lr": 2e-4, "nan": math.nan, "inf": -math.inf, "third": 1 / 3},
        "betas": (0.0, 0.9),
        "by_index": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)}, 1: {"n": 1}},
        "tensors": [torch.arange(5), torch.tensor(True), torch.randn(4, dtype=torch.float64),
                    torch.randint(0, 255, (6,), dtype=torch.uint8), torch.randn(3).half()],
        "empty": {},
    }
    save_checkpoint(tmp_path / "ck.safetensors", **state)
    _no_pickle(monkeypatch)
    back = load_checkpoint(tmp_path / "ck.safetensors")
    assert list(back) == list(state)
    assert back["step"] == 7 and back["name"] == "wgan-gp" and back["flags"] == [True, False, None]
    assert back["numbers"]["lr"] == 2e-4 and back["numbers"]["third"] == 1 / 3
    assert math.isnan(back["numbers"]["nan"]) and back["numbers"]["inf"] == -math.inf
    assert back["betas"] == (0.0, 0.9) and isinstance(back["betas"], tuple)
    assert set(back["by_index"]) == {0, 1}  # int keys stay ints (an optimizer's state needs them)
    assert torch.equal(back["by_index"][0]["exp_avg"], state["by_index"][0]["exp_avg"])
    assert back["by_index"][0]["step"].shape == () and back["by_index"][0]["step"].item() == 3.0
    for got, want in zip(back["tensors"], state["tensors"]):
        assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want)
    assert back["empty"] == {}


def test_the_file_is_plain_safetensors_with_json_metadata(tmp_path):
    path = save_checkpoint(tmp_path / "ck.safetensors", step=3, weights={"w": torch.ones(2, 2)})
    assert path == tmp_path / "ck.safetensors"
    assert not list(tmp_path.glob("*.partial"))  # written aside, then renamed
    tensors = load_file(path)  # any safetensors reader opens it
    assert list(tensors) == ["weights/w"] and torch.equal(tensors["weights/w"], torch.ones(2, 2))
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["format"] == "gancourse.checkpoint"
    assert json.loads(meta["state"])["step"] == 3
    assert path.read_bytes()[:1] != b"\x80"  # not a pickle (protocol 2+ starts with 0x80)


def test_model_and_optimizer_resume_the_same_trajectory(tmp_path, monkeypatch):
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
        return model, torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.9))

    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()

    model, opt = make()
    train(model, opt, 3)
    save_checkpoint(tmp_path / "ck.safetensors", model=model.state_dict(), opt=opt.state_dict())
    train(model, opt, 2)

    other, other_opt = make()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)  # start elsewhere: only the checkpoint can bring it back
    _no_pickle(monkeypatch)
    state = load_checkpoint(tmp_path / "ck.safetensors")
    other.load_state_dict(state["model"])
    other_opt.load_state_dict(state["opt"])
    train(other, other_opt, 2)
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)


def test_views_and_shared_tensors_are_saved_as_copies(tmp_path):
    base = torch.arange(12.0).view(3, 4)
    save_checkpoint(tmp_path / "ck.safetensors", base=base, column=base[:, 1], same=base)
    back = load_checkpoint(tmp_path / "ck.safetensors")
    assert torch.equal(back["column"], torch.tensor([1.0, 5.0, 9.0])) and torch.equal(back["same"], base)


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="nothing to save"):
        save_checkpoint(tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="'model/thing'.*object"):
        save_checkpoint(tmp_path / "a.safetensors", model={"thing": object()})
    with pytest.raises(TypeError, match="keys"):
        save_checkpoint(tmp_path / "a.safetensors", model={(1, 2): 3})
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_checkpoint(tmp_path / "junk.safetensors")
    save_file({"w": torch.ones(1)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="not a gancourse checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")
