"""gancourse.pretrained.shipped: a round trip, the hash check, and no code outside gancourse built or unpickled."""

import json
import pytest
import torch

from gancourse.models import DCGANGenerator
from gancourse.pretrained.shipped import load_shipped, save_shipped, shipped_card, shipped_names


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


def test_a_card_naming_code_outside_gancourse_is_refused(tmp_path):
    save_shipped("tiny", _generator(), DCGANGenerator, {"z_dim": 8, "image_size": 28, "channels": 1, "width": 8},
                 out_dir=tmp_path)
    card = shipped_card("tiny", tmp_path)
    card["builder"] = "os.system"
    (tmp_path / "tiny.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="only name a class or function of gancourse"):
        load_shipped("tiny", tmp_path)


def test_wrong_builder_arguments_and_unknown_names_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="state-dict keys differ"):
        save_shipped("tiny", _generator(), DCGANGenerator, {"z_dim": 8, "image_size": 32, "channels": 1, "width": 8},
                     out_dir=tmp_path)
    with pytest.raises(LookupError, match="no shipped model called 'nope'"):
        load_shipped("nope", tmp_path)
