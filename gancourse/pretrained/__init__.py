"""Small toy generators trained longer than a notebook can, shipped with the package, loaded without pickle.

Each shipped model is the generator of a GAN trained on one of the 2-D mode-counting benchmarks
(``gancourse.data.toy.ring()`` or ``grid()``, their default widths) with one of the methods of
Chapter 4. ``scripts/train_toy_models.py`` rebuilds every one of them. A model is two files'
worth of information: its weights in ``toy_<dataset>_<method>.safetensors`` (tensors only: loading
it cannot run code, unlike a pickled ``torch.save`` file) and one entry of ``toy_models.json``
with its architecture, training recipe, seed, number of steps, the SHA-256 of the weights file,
and the mode coverage measured when it was made.

    >>> from gancourse.pretrained import load_toy_generator, toy_model_info
    >>> G = load_toy_generator("ring", "wgan-gp")
    >>> toy_model_info("ring", "wgan-gp").modes_covered
    8
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from gancourse.data.toy import Toy2D, grid, ring
from gancourse.metrics import ModeCoverage, mode_coverage
from gancourse.models import MLPGenerator
from gancourse.pretrained.recipes import RECIPES

__all__ = [
    "DATASETS",
    "METHODS",
    "RECIPES",
    "ToyModel",
    "list_toy_models",
    "toy_model_info",
    "load_toy_generator",
    "generator_from_file",
    "toy_dataset",
    "evaluate_toy_generator",
    "wgan_gp_sweep",
]

HERE = Path(__file__).resolve().parent
INDEX = "toy_models.json"
SWEEP = "wgan_gp_sweep.json"  # scripts/sweep_wgan_gp.py: WGAN-GP's lambda against its learning rates
DATASETS = ("ring", "grid")
# The methods of Chapter 4's table, in its order.
METHODS = ("gan", "nsgan", "wgan", "wgan-gp", "sn-hinge")


@dataclass(frozen=True)
class ToyModel:
    """One shipped generator: where its weights are, how it was built and trained, what it measured."""

    dataset: str            # 'ring' or 'grid' (gancourse.data.toy, default arguments)
    method: str             # one of METHODS
    file: str               # the safetensors file, in this folder
    sha256: str             # of that file
    architecture: dict[str, Any]  # MLPGenerator arguments: z_dim, out_shape, hidden, tanh, batch_norm
    config: dict[str, Any]  # the training recipe (losses, optimiser, steps, schedule, ...)
    seed: int               # initialises G and D and seeds the training draws
    steps: int              # generator steps trained
    modes_covered: int      # measured on n_eval samples from eval_seed (gancourse.metrics.mode_coverage)
    high_quality_fraction: float
    n_eval: int
    eval_seed: int
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the other seeds' numbers, the training time

    @property
    def path(self) -> Path:
        """The weights file."""
        return HERE / self.file


def _check_name(kind: str, value: object, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; choose one of {', '.join(map(repr, valid))}")
    return value  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _index() -> tuple[ToyModel, ...]:
    """Return every entry of toy_models.json (read once)."""
    path = HERE / INDEX
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the shipped toy models are not installed. Rebuild them with "
            "`python scripts/train_toy_models.py` from the repository root"
        )
    entries = json.loads(path.read_text())["models"]
    return tuple(ToyModel(**entry) for entry in entries)


def list_toy_models() -> list[ToyModel]:
    """Return every shipped toy model's description, in (dataset, method) order."""
    order = {(d, m): i for i, (d, m) in enumerate((d, m) for d in DATASETS for m in METHODS)}
    return sorted(_index(), key=lambda e: order.get((e.dataset, e.method), len(order)))


def toy_model_info(dataset: str, method: str) -> ToyModel:
    """Return the description of the shipped generator for ``dataset`` ('ring', 'grid') and ``method``."""
    _check_name("dataset", dataset, DATASETS)
    _check_name("method", method, METHODS)
    for entry in _index():
        if (entry.dataset, entry.method) == (dataset, method):
            return entry
    shipped = ", ".join(f"{e.dataset}/{e.method}" for e in _index())
    raise LookupError(f"no shipped model for {dataset}/{method}; shipped: {shipped}")


def load_toy_generator(dataset: str, method: str) -> MLPGenerator:
    """Return the shipped generator for ``dataset`` and ``method``, in eval mode, on the CPU.

    The weights are read with safetensors (no pickle) after checking the file's SHA-256 against
    the index, into an ``MLPGenerator`` built from the recorded architecture; every tensor must
    match (``strict=True``).
    """
    info = toy_model_info(dataset, method)
    data = info.path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != info.sha256:
        raise ValueError(f"{info.path.name} does not match its recorded SHA-256 (got {digest[:12]}..., "
                         f"want {info.sha256[:12]}...): the file is damaged or was replaced; reinstall the "
                         "package or rebuild it with scripts/train_toy_models.py")
    return generator_from_file(info.path, info.architecture)


def generator_from_file(path: str | Path, architecture: dict[str, Any]) -> MLPGenerator:
    """Return an MLPGenerator built from ``architecture`` with the weights of the safetensors file ``path``.

    The file may store the weights in float16 (the shipped files do, to stay small); they are
    widened to float32. Every tensor must be present and no other (``strict=True``). Eval mode, frozen.
    """
    arch = architecture
    G = MLPGenerator(arch["z_dim"], tuple(arch["out_shape"]), tuple(arch["hidden"]), tanh=arch["tanh"],
                     batch_norm=arch.get("batch_norm", False))
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    G.load_state_dict(state, strict=True)
    return G.eval().requires_grad_(False)


def toy_dataset(name: str) -> Toy2D:
    """Return the toy distribution the shipped models were trained on: ``ring()`` or ``grid()`` (defaults)."""
    _check_name("dataset", name, DATASETS)
    return ring() if name == "ring" else grid()


def evaluate_toy_generator(G: torch.nn.Module, dataset: str, n: int = 2_500, seed: int = 0) -> ModeCoverage:
    """Return (modes covered, high-quality share) of ``n`` samples of G from noise seeded with ``seed``."""
    toy = toy_dataset(dataset)
    z_dim = getattr(G, "z_dim", None)
    if not isinstance(z_dim, int):
        raise TypeError("G needs an int attribute `z_dim` (the size of its noise input), e.g. an MLPGenerator")
    device = next(G.parameters()).device
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    was_training = G.training
    G.eval()
    with torch.no_grad():
        samples = G(z).cpu()
    G.train(was_training)
    return mode_coverage(samples, toy.centres, toy.sigma)


def wgan_gp_sweep() -> list[dict[str, Any]]:
    """Return the variants of WGAN-GP's recipe that ``scripts/sweep_wgan_gp.py`` trained and measured.

    Each is a dict: ``gp_weight``, ``lr_d``, ``lr_g``, ``steps``, ``seconds`` and, for each data set
    ('ring', 'grid'), its ``modes_covered`` and ``high_quality_fraction`` (2,500 samples, seed 0).
    """
    path = HERE / SWEEP
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; rebuild it with `python scripts/sweep_wgan_gp.py` "
                                "from the repository root")
    return json.loads(path.read_text())["variants"]
