"""Checkpoints without pickle: tensors in a safetensors file, everything else as JSON in its header.

``save_checkpoint(path, step=10, generator=G.state_dict(), optimizer=opt.state_dict(), ...)`` takes
any nesting of dicts, lists and tuples whose leaves are tensors, numbers, strings, booleans or
None (what ``state_dict()`` of a module, an optimizer or a GradScaler holds). The tensors go into
the safetensors file; the structure and the other values go, as JSON, into the file's metadata.
``load_checkpoint(path)`` rebuilds the same structure, with every tensor on the CPU. ``save_run`` and
``restore_run`` store and restore a whole training run with them (models, optimizers, the place in
the data, the History and the random state), so that a resumed run continues exactly.

Why not ``torch.save``: it pickles, and unpickling a file can run any code in it. A safetensors
file is only tensors and a JSON header, so loading one from a stranger is safe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from dataclasses import asdict, fields
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

__all__ = ["save_checkpoint", "load_checkpoint", "save_run", "restore_run"]

FORMAT = "gancourse.checkpoint"
VERSION = "1"
# JSON stand-ins for what JSON lacks: a tensor (stored by name in the safetensors file), a tuple,
# and a dict whose keys are not all strings (an optimizer's state is keyed by parameter number).
_TENSOR, _TUPLE, _ITEMS = "__tensor__", "__tuple__", "__items__"
_MARKERS = (_TENSOR, _TUPLE, _ITEMS)


def _encode(value: Any, where: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Return ``value`` as JSON-able data, moving its tensors into ``tensors`` under their path."""
    if isinstance(value, torch.Tensor):
        if where in tensors:
            raise ValueError(f"two entries of the checkpoint map to the same name {where!r}: avoid '/' in keys")
        # A contiguous CPU copy of its own: safetensors refuses views and tensors that share memory.
        tensors[where] = value.detach().to("cpu").clone(memory_format=torch.contiguous_format)
        return {_TENSOR: where}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value  # json writes nan and inf as NaN and Infinity, and reads them back
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, f"{where}/{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}/{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        keys = list(value)
        if all(isinstance(k, str) for k in keys) and not any(k in _MARKERS for k in keys):
            return {k: _encode(v, f"{where}/{k}", tensors) for k, v in value.items()}
        for k in keys:
            if not (k is None or isinstance(k, (bool, int, float, str))):
                raise TypeError(f"checkpoint dict keys must be str, int, float, bool or None; "
                                f"{where!r} has a key of type {type(k).__name__}")
        return {_ITEMS: [[k, _encode(v, f"{where}/{k}", tensors)] for k, v in value.items()]}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        return value.item()  # a numpy scalar
    raise TypeError(f"cannot store {where!r} of type {type(value).__name__} in a checkpoint: use tensors, "
                    "numbers, strings, booleans, None, and dicts, lists or tuples of those")


def _decode(data: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Return the structure that ``_encode`` turned into ``data``, with its tensors put back."""
    if isinstance(data, list):
        return [_decode(v, tensors) for v in data]
    if isinstance(data, dict):
        if set(data) == {_TENSOR}:
            return tensors[data[_TENSOR]]
        if set(data) == {_TUPLE}:
            return tuple(_decode(v, tensors) for v in data[_TUPLE])
        if set(data) == {_ITEMS}:
            return {k: _decode(v, tensors) for k, v in data[_ITEMS]}
        return {k: _decode(v, tensors) for k, v in data.items()}
    return data


def save_checkpoint(path: str | Path, **state: Any) -> Path:
    """Write ``state`` (keyword = entry) to ``path`` as safetensors + JSON metadata; return the path.

    The file is written next to ``path`` first and then renamed over it, so an interrupted save
    never leaves half a checkpoint behind.
    """
    if not state:
        raise ValueError("nothing to save: pass the entries as keywords, e.g. save_checkpoint(path, step=3, "
                         "generator=G.state_dict())")
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    structure = {key: _encode(value, key, tensors) for key, value in state.items()}
    metadata = {"format": FORMAT, "version": VERSION, "state": json.dumps(structure)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, partial, metadata=metadata)
    os.replace(partial, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Return the entries saved by ``save_checkpoint`` at ``path``, tensors on the CPU. Never unpickles."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as err:  # safetensors raises its own error types for a file that is not one of its own
        raise ValueError(f"{path} is not a safetensors file ({err}); was it written by save_checkpoint?") from err
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is a safetensors file but not a gancourse checkpoint (no {FORMAT!r} metadata)")
    if metadata.get("version") != VERSION:
        raise ValueError(f"{path} is a checkpoint of format version {metadata.get('version')!r}; "
                         f"this gancourse reads version {VERSION}")
    return _decode(json.loads(metadata["state"]), tensors)


def _rng_state(cuda: list[int]) -> dict[str, Any]:
    return {"cpu": torch.get_rng_state(), "cuda": [torch.cuda.get_rng_state(d) for d in cuda]}


def save_run(path: str | Path, step: int, config: Any, parts: Mapping[str, Any], cuda: list[int]) -> None:
    """Write the whole run at ``step`` to ``path``: each part's state dict, the config and the RNG state.

    ``config`` is a dataclass (e.g. ``TrainConfig``); ``parts`` maps names to objects with
    ``state_dict()`` (models, optimizers, scalers, the batches, the History); ``cuda`` lists the
    CUDA devices whose random state to keep.
    """
    save_checkpoint(path, step=step, config=asdict(config), rng=_rng_state(cuda),
                    **{name: part.state_dict() for name, part in parts.items()})


def restore_run(path: str | Path, parts: Mapping[str, Any], config: Any, cuda: list[int]) -> int:
    """Load the run saved at ``path`` into ``parts`` and the RNG; return the step it was saved at.

    The saved config must equal ``config`` except for ``steps``, which may grow.
    """
    state = load_checkpoint(path)
    # A field the saved config lacks (added to the dataclass since) had its default value then.
    saved = {f.name: f.default for f in fields(config)} | state["config"]
    current = asdict(config)
    differ = sorted(k for k in current if k != "steps" and saved.get(k) != current[k])
    if differ:
        raise ValueError(f"the checkpoint was saved with a different config: {', '.join(differ)} "
                         f"({', '.join(f'{k}={saved.get(k)!r}' for k in differ)}); only steps may change on resume")
    if state["step"] > config.steps:
        raise ValueError(f"the checkpoint is at step {state['step']}, past config.steps={config.steps}")
    torch.set_rng_state(state["rng"]["cpu"])
    if len(state["rng"]["cuda"]) == len(cuda):
        for d, rng in zip(cuda, state["rng"]["cuda"]):
            torch.cuda.set_rng_state(rng, d)
    # After the RNG: a part may set it again (a distributed run's ranks, each its own random state).
    for name, part in parts.items():
        if name.startswith("scaler") and not state[name]:
            continue  # saved without AMP (e.g. on the CPU): the scaler starts afresh
        if name not in state:
            raise ValueError(f"the checkpoint has no {name!r}: was it saved by a run of another kind "
                             "(e.g. one process, resumed with ranks)?")
        part.load_state_dict(state[name])
    return state["step"]
