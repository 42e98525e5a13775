"""gancourse.pretrained.cards: one format for every shipped weight file, a round trip, the hash check,
and no code outside gancourse.models' networks built or unpickled."""

import hashlib
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from gancourse.models import DCGANGenerator
from gancourse.pretrained import HERE, load_shipped, save_shipped, shipped_card, shipped_names

CARD_KEYS = {"format", "name", "builder", "kwargs", "sha256", "info"}


def _generator():
    torch.manual_seed(0)
    return DCGANGenerator(z_dim=8, image_size=28, channels=1, width=8)


def test_round_trip_gives_the_same_network_up_to_float16(tmp_path, no_unpickling):
    G = _generator().eval()
    save_shipped("tiny", G, DCGANGenerator, {"z_dim": 8, "image_size": 28, "channels": 1, "width": 8},
                 {"steps": 3}, out_dir=tmp_path)
    loaded, card = load_shipped("tiny", tmp_path)
    assert card["info"] == {"steps": 3} and shipped_names(tmp_path) == ["tiny"]
    assert not any(p.requires_grad for p in loaded.parameters()) and not loaded.training
    for (k, a), (k2, b) in zip(G.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and b.dtype == a.dtype
        assert torch.equal(a.half().to(a.dtype), b) if a.is_floating_point() else torch.equal(a, b)
    z = torch.randn(4, 8)
    with torch.no_grad():
        assert torch.allclose(G(z), loaded(z), atol=2e-2)


def test_a_changed_weights_file_is_refused(tmp_path):
    save_shipped("tiny", _generator(), DCGANGenerator, {"z_dim": 8, "image_size": 28, "channels": 1, "width": 8},
                 out_dir=tmp_path)
    path = tmp_path / "tiny.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_shipped("tiny", tmp_path)


@pytest.mark.parametrize("builder", [
    "os.system",                                   # outside gancourse
    "gancourse.pretrained.cards.save_shipped",     # inside gancourse, but a function that writes files
    "gancourse.training.train_gan",                # a function of gancourse.training
    "gancourse.models.noise.generate",             # a function of gancourse.models, not a network
    "gancourse.models.dcgan.IMAGE_SIZES",          # not callable at all
    "gancourse.models.__class__",                  # a name with no network behind it
])
def test_a_card_naming_anything_but_a_network_class_is_refused(tmp_path, builder):
    save_shipped("tiny", _generator(), DCGANGenerator, {"z_dim": 8, "image_size": 28, "channels": 1, "width": 8},
                 out_dir=tmp_path)
    card = shipped_card("tiny", tmp_path)
    card["builder"] = builder
    (tmp_path / "tiny.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="only name a network class of gancourse.models"):
        load_shipped("tiny", tmp_path)


def test_only_network_classes_can_be_saved_as_builders(tmp_path):
    with pytest.raises(ValueError, match="network class of gancourse.models"):
        save_shipped("tiny", _generator(), lambda **kw: DCGANGenerator(**kw), {"z_dim": 8}, out_dir=tmp_path)
    with pytest.raises(ValueError, match="network class of gancourse.models"):
        save_shipped("tiny", nn.Linear(2, 2), nn.Linear, {"in_features": 2, "out_features": 2}, out_dir=tmp_path)


def test_names_that_leave_the_folder_are_refused(tmp_path):
    for name in ("../tiny", "a/b", "", "tiny.json"):
        with pytest.raises(ValueError, match="letters, digits"):
            shipped_card(name, tmp_path)


def test_every_shipped_weight_file_has_one_card_of_the_one_format_and_loads(no_unpickling):
    weights = sorted(p.stem for p in Path(HERE).glob("*.safetensors"))
    assert weights == sorted(shipped_names()), "every weight file has a card and every card a weight file"
    stray = {p.name for p in Path(HERE).glob("*.json")} - {f"{n}.json" for n in weights}
    assert stray <= {"wgan_gp_sweep.json"}, f"JSON files that are not cards: {stray}"  # the sweep is a record
    assert len(weights) >= 17  # 10 toy generators, 5 glyph generators, 2 judges
    for name in weights:
        card = shipped_card(name)
        assert set(card) == CARD_KEYS and card["name"] == name, name
        assert card["sha256"] == hashlib.sha256((Path(HERE) / f"{name}.safetensors").read_bytes()).hexdigest()
        assert "rebuild" in card["info"] and card["info"]["rebuild"].startswith(("python scripts/", "OMP_NUM_THREADS"))
        model, _ = load_shipped(name)
        assert isinstance(model, nn.Module) and not model.training


def test_wrong_builder_arguments_and_unknown_names_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="state-dict keys differ"):
        save_shipped("tiny", _generator(), DCGANGenerator, {"z_dim": 8, "image_size": 32, "channels": 1, "width": 8},
                     out_dir=tmp_path)
    with pytest.raises(LookupError, match="no shipped model called 'nope'"):
        load_shipped("nope", tmp_path)
