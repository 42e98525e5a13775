"""The toy generators of Chapter 4's table: one shipped model per (data set, method), read from its card.

Each is the generator of a GAN trained on one of the 2-D mode-counting benchmarks
(``gancourse.data.toy.ring()`` or ``grid()``, their default widths) with one of the methods of
``gancourse.training.grouped.RECIPES``; ``scripts/train_toy_models.py`` rebuilds them. A model is
an ordinary shipped model (``toy_<dataset>_<method>_s<seed>``: weights + card); its card's ``info`` holds the
recipe, the seed, the steps and the mode coverage measured when it was made.

    >>> from gancourse.pretrained import load_toy_generator, toy_model_info
    >>> G = load_toy_generator("ring", "wgan-gp", seed=1)
    >>> toy_model_info("ring", "wgan-gp", seed=1).steps
    3000
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gancourse import checks
from gancourse.models.mlp import MLPGenerator
from gancourse.pretrained.cards import HERE, load_shipped, shipped_card

__all__ = ["DATASETS", "METHODS", "SEEDS", "ToyModel", "toy_model_name", "list_toy_models", "toy_model_info",
           "load_toy_generator", "wgan_gp_sweep"]

SWEEP = "wgan_gp_sweep.json"  # scripts/sweep_wgan_gp.py: WGAN-GP's lambda against its learning rates
DATASETS = ("ring", "grid")
SEEDS = (0, 1, 2)  # every (data set, method) is trained from three seeds (Chapter 4's fair protocol)
# The methods of Chapter 4's table, in its order.
METHODS = ("gan", "nsgan", "wgan", "wgan-gp", "sn-hinge")


@dataclass(frozen=True)
class ToyModel:
    """One shipped toy generator: its card's name, how it was built and trained, and what it measured."""

    dataset: str            # 'ring' or 'grid' (gancourse.data.toy, default arguments)
    method: str             # one of METHODS
    name: str               # the shipped model's name: toy_<dataset>_<method>
    architecture: dict[str, Any]  # MLPGenerator arguments: z_dim, out_shape, hidden, tanh, batch_norm
    config: dict[str, Any]  # the training recipe (losses, optimiser, steps, schedule, ...)
    seed: int               # initialises G and D and seeds the training draws
    steps: int              # generator steps trained
    modes_covered: int      # measured on n_eval samples from eval_seed (gancourse.metrics.mode_coverage)
    high_quality_fraction: float
    n_eval: int
    eval_seed: int
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the float32 numbers, the training time

    @property
    def path(self) -> Path:
        """The weights file."""
        return HERE / f"{self.name}.safetensors"


def toy_model_name(dataset: str, method: str, seed: int = 0) -> str:
    """Return the shipped model's name for ``dataset``, ``method`` and ``seed``: 'toy_ring_wgan-gp_s0'."""
    checks.one_of("dataset", dataset, DATASETS)
    checks.one_of("method", method, METHODS)
    checks.one_of("seed", seed, SEEDS, "the seeds the toy generators were trained from")
    return f"toy_{dataset}_{method}_s{seed}"


def toy_model_info(dataset: str, method: str, seed: int = 0) -> ToyModel:
    """Return the description of the shipped generator for ``dataset``, ``method`` and ``seed``."""
    name = toy_model_name(dataset, method, seed)
    card = shipped_card(name)
    info = card["info"]
    return ToyModel(dataset, method, name, card["kwargs"], info["config"], info["seed"], info["steps"],
                    info["modes_covered"], info["high_quality_fraction"], info["n_eval"], info["eval_seed"],
                    info.get("extra", {}))


def list_toy_models() -> list[ToyModel]:
    """Return every shipped toy model's description, in (dataset, method, seed) order."""
    return [toy_model_info(d, m, s) for d in DATASETS for m in METHODS for s in SEEDS]


def load_toy_generator(dataset: str, method: str, seed: int = 0) -> MLPGenerator:
    """Return the shipped generator for ``dataset``, ``method`` and ``seed``, in eval mode, on the CPU.

    Loaded by ``load_shipped``: the file's SHA-256 checked against its card, the weights read with
    safetensors (no pickle) into the recorded ``MLPGenerator``, every tensor matched (strict).
    """
    G, _ = load_shipped(toy_model_name(dataset, method, seed))
    return G


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
