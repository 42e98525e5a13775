"""The one format of every weight file the package ships: safetensors weights plus a JSON card, no pickle.

A shipped model ``NAME`` (a generator, a judge, a toy model) is two files in this folder:

- ``NAME.safetensors``: the state dict, floating-point tensors stored as float16 to keep the
  package small (they are widened to float32 on loading). Tensors only: reading it runs no code.
- ``NAME.json``: the card. ``builder`` is the network class that builds the empty network (an
  ``nn.Module`` subclass defined in ``gancourse.models``: nothing else is ever called), ``kwargs``
  its arguments, ``sha256`` the weights file's hash, and ``info`` whatever the training script
  measured and wants to record (recipe, seed, steps, accuracy, seconds, the command that rebuilds it).

    >>> G, card = load_shipped("cgan_glyphs")          # doctest: +SKIP
    >>> card["info"]["accuracy"]                        # doctest: +SKIP

The scripts in ``scripts/`` that train these models call ``save_shipped``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import nn

__all__ = ["save_shipped", "load_shipped", "shipped_card", "shipped_names", "as_shipped"]

HERE = Path(__file__).resolve().parent
FORMAT = "gancourse shipped model, version 1"


BUILDER_PACKAGE = "gancourse.models"


def _is_network_class(obj: object) -> bool:
    return (isinstance(obj, type) and issubclass(obj, nn.Module)
            and (obj.__module__ + ".").startswith(BUILDER_PACKAGE + "."))


def _builder_name(builder: type | Any) -> str:
    """Return the dotted name of a network class defined in gancourse.models."""
    name = f"{getattr(builder, '__module__', '?')}.{getattr(builder, '__qualname__', builder)}"
    if not _is_network_class(builder):
        raise ValueError(f"a shipped model must be built by a network class of {BUILDER_PACKAGE} "
                         f"(an nn.Module subclass), got {name}")
    return name


def _resolve(name: str) -> type[nn.Module]:
    """Return the network class of gancourse.models called ``name`` (never anything else)."""
    refusal = (f"refusing to build {name!r}: a card may only name a network class of {BUILDER_PACKAGE}, "
               "such as gancourse.models.dcgan.DCGANGenerator")
    if not (isinstance(name, str) and name.startswith(BUILDER_PACKAGE + ".")
            and all(part.isidentifier() for part in name.split("."))):
        raise ValueError(refusal)
    module, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(module), attr, None)
    if not _is_network_class(obj):
        raise ValueError(refusal)
    return obj


def save_shipped(name: str, model: nn.Module, builder: type | Any, kwargs: dict[str, Any],
                 info: dict[str, Any] | None = None, *, out_dir: str | Path = HERE, half: bool = True) -> Path:
    """Write ``name``.safetensors (float16 weights) and ``name``.json (the card); return the weights path.

    ``builder(**kwargs)`` must rebuild the empty network: it is checked here, before anything is written.
    Floating-point tensors are stored as float16 unless ``half=False`` (a judge whose thresholds
    are fine lines keeps float32).
    """
    _check_name(name)
    builder_name = _builder_name(builder)
    empty = builder(**kwargs)
    state = model.state_dict()
    if set(empty.state_dict()) != set(state):
        raise ValueError(f"{builder_name}(**kwargs) does not build the same network as `model`: "
                         "its state-dict keys differ")
    json.dumps(kwargs)  # kwargs must be JSON data (tuples become lists; builders accept both)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}.safetensors"
    tensors = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
               for k, v in state.items()}
    save_file(tensors, str(weights), metadata={"format": FORMAT, "name": name})
    weights.chmod(0o644)  # safetensors writes 0600; an installed package must be readable by everyone
    card = {"format": FORMAT, "name": name, "builder": builder_name, "kwargs": kwargs,
            "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), "info": info or {}}
    card_path = out / f"{name}.json"
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    card_path.chmod(0o644)
    return weights


def shipped_names(folder: str | Path = HERE) -> list[str]:
    """Return the names of the shipped models in ``folder`` (those with a card)."""
    names = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            if json.loads(path.read_text()).get("format") == FORMAT:
                names.append(path.stem)
        except (json.JSONDecodeError, AttributeError):
            continue
    return names


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"a shipped model's name is letters, digits, '_' or '-' (e.g. 'cgan_glyphs'), got {name!r}")
    return name


def shipped_card(name: str, folder: str | Path = HERE) -> dict[str, Any]:
    """Return the card (builder, kwargs, sha256, info) of the shipped model ``name``."""
    path = Path(folder) / f"{_check_name(name)}.json"
    if not path.is_file():
        known = ", ".join(shipped_names(folder)) or "none"
        raise LookupError(f"no shipped model called {name!r} (shipped: {known}); the scripts in scripts/ "
                          "rebuild them")
    card = json.loads(path.read_text())
    if card.get("format") != FORMAT:
        raise ValueError(f"{path} is not a shipped-model card (format {card.get('format')!r})")
    return card


def load_shipped(name: str, folder: str | Path = HERE) -> tuple[nn.Module, dict[str, Any]]:
    """Return (the shipped network ``name`` in eval mode with frozen float32 weights, its card).

    The weights file's SHA-256 must match the card; every tensor must fit the network (strict).
    """
    card = shipped_card(name, folder)
    weights = Path(folder) / f"{name}.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} is missing: reinstall the package or rebuild it with the script "
                                f"named in its card ({card['info'].get('rebuild', 'see scripts/')})")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != card["sha256"]:
        raise ValueError(f"{weights.name} does not match its recorded SHA-256 (got {digest[:12]}..., want "
                         f"{card['sha256'][:12]}...): the file is damaged or was replaced")
    model = _resolve(card["builder"])(**card["kwargs"])
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False), card


def as_shipped(model: nn.Module, builder: type | Any, kwargs: dict[str, Any]) -> nn.Module:
    """Return ``model`` as ``load_shipped`` would return it once shipped: float16 weights, reloaded.

    The scripts measure this copy, so that a card records what a reader who loads the file gets.
    """
    with tempfile.TemporaryDirectory() as folder:
        save_shipped("measured", model, builder, kwargs, out_dir=folder)
        return load_shipped("measured", folder)[0]
