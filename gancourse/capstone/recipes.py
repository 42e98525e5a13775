"""The capstone's reference recipes, one per tier: what ``scripts/capstone_reference.py`` trains.

Each recipe is the course's own models and loop (``train_gan``) on ``training_set()``; the
defaults below (steps, rates, EMA) are what the shipped reference runs (``reference_runs.json``)
ran, sized so that all of them fit about 70 minutes of wall time on a shared 2-core CPU:

- ``simple``: chapter 3's DCGAN at its quick length (G width 32, D width 16, batch norm,
  non-saturating loss, lr 1e-3 then a fifth of it);
- ``medium``: the same networks with D as wide as G, several times longer, an EMA of G's weights;
- ``strong``: a spectrally normalised D (no batch norm) with the hinge loss (Miyato et al., 2018),
  an EMA of G;
- ``boss``: chapter 9's style-based generator against the batch-norm D, with DiffAugment
  (translation) in front of D, an EMA of G. A style-generator step costs several times a DCGAN
  step on a CPU, so it got 400 steps, in which it collapsed: ``gancourse.capstone.tiers`` says
  what each recipe reached. ``--steps`` trains any recipe longer (the schedule scales with it).

The learning rate drops to ``drop`` times its value after ``drop_at`` of the steps, and the EMA
(where kept) starts there, with a decay short enough to forget the weights it started from.

``train_recipe(name, seed, steps)`` returns the generator to sample (the EMA one where the
recipe keeps one) and the run's History; ``sample(G, n, seed)`` draws its images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from gancourse import checks
from gancourse.capstone.data import training_set
from gancourse.models import DCGANDiscriminator, DCGANGenerator, StyleGenerator, generate
from gancourse.training import DiffAugmentSteps, History, PiecewiseConstant, TrainConfig, train_gan

__all__ = ["Recipe", "RECIPES", "RECIPE_NAMES", "SAMPLE_SEED", "build", "train_recipe", "sample"]

SAMPLE_SEED = 1_000  # the noise of the 1,000 graded images: seed + SAMPLE_SEED


@dataclass(frozen=True)
class Recipe:
    """One tier's reference recipe: networks, loss, optimiser settings and schedule (fractions of ``steps``)."""

    name: str
    summary: str
    generator: str  # "dcgan" or "style"
    g_kwargs: dict = field(default_factory=dict)
    d_kwargs: dict = field(default_factory=dict)
    steps: int = 900
    drop_at: float = 2 / 3  # the share of steps at the full rate; then lr * drop
    drop: float = 0.2
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    loss: str = "nonsaturating"
    ema_decay: float | None = None  # the EMA starts where the rate drops
    diffaugment: str | None = None  # a DiffAugment policy, or None

    def schedule(self, steps: int) -> PiecewiseConstant:
        """Return the learning-rate schedule for a run of ``steps`` generator steps."""
        first = max(1, round(steps * self.drop_at))
        return PiecewiseConstant((first, 1.0), (steps - first, self.drop)) if steps > first else \
            PiecewiseConstant((steps, 1.0))

    def config(self, steps: int, seed: int) -> TrainConfig:
        """Return the TrainConfig of a run of ``steps`` steps from ``seed``."""
        first = self.schedule(steps).pieces[0][0]
        return TrainConfig(steps=steps, batch_size=64, lr_d=self.lr_d, lr_g=self.lr_g, betas=self.betas,
                           loss=self.loss, ema_decay=self.ema_decay, ema_start=first if self.ema_decay else 0,
                           seed=seed)


_DCGAN_G = {"z_dim": 64, "image_size": 28, "channels": 1, "width": 32}
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("simple", "chapter 3's DCGAN at its quick length", "dcgan", _DCGAN_G,
           {"image_size": 28, "channels": 1, "width": 16}, steps=900),
    Recipe("medium", "chapter 3's DCGAN three times longer, with an EMA of G", "dcgan", _DCGAN_G,
           {"image_size": 28, "channels": 1, "width": 16}, steps=2_700, ema_decay=0.995),
    Recipe("strong", "spectral norm in D (no batch norm) and the hinge loss, with an EMA of G", "dcgan", _DCGAN_G,
           {"image_size": 28, "channels": 1, "width": 32, "norm": None, "spectral_norm": True},
           steps=1_500, loss="hinge", lr_d=2e-3, lr_g=1e-3, ema_decay=0.99),
    Recipe("boss", "chapter 9's style-based generator with DiffAugment (translation), with an EMA of G", "style",
           {"z_dim": 64, "w_dim": 64, "width": 24, "mapping_layers": 4, "mixing_prob": 0.9},
           {"image_size": 28, "channels": 1, "width": 32}, steps=400, ema_decay=0.98, diffaugment="translation"),
)}
RECIPE_NAMES = tuple(RECIPES)


def build(recipe: Recipe, seed: int) -> tuple[nn.Module, nn.Module]:
    """Return a fresh (G, D) of ``recipe``, initialised from ``seed``."""
    torch.manual_seed(seed)
    G = (StyleGenerator if recipe.generator == "style" else DCGANGenerator)(**recipe.g_kwargs)
    D = DCGANDiscriminator(**recipe.d_kwargs)
    return G, D


def train_recipe(name: str, seed: int, steps: int | None = None, *, progress: bool = True,
                 data: torch.Tensor | None = None) -> tuple[nn.Module, History, Recipe, TrainConfig]:
    """Train tier ``name``'s recipe from ``seed`` for ``steps`` (default: the recipe's) on ``training_set()``.

    Return (the generator to sample: the EMA one where the recipe keeps one, the History, the
    recipe, the TrainConfig).
    """
    checks.one_of("name", name, RECIPE_NAMES, "a tier's name")
    recipe = RECIPES[name]
    steps = recipe.steps if steps is None else checks.positive_int("steps", steps, "generator steps")
    checks.integer("seed", seed, "e.g. 0, 1 or 2", at_least=0, at_most=2**31 - 1)
    G, D = build(recipe, seed)
    config = recipe.config(steps, seed)
    variant = DiffAugmentSteps(recipe.diffaugment) if recipe.diffaugment else None
    history = train_gan(G, D, training_set() if data is None else data, config, variant=variant,
                        lr_schedule=recipe.schedule(steps), progress=progress)
    return (history.ema_generator if history.ema_generator is not None else G), history, recipe, config


def sample(G: nn.Module, n: int, seed: int) -> torch.Tensor:
    """Return ``n`` images of G, z drawn with ``seed + SAMPLE_SEED`` (the style generator's noise after it too)."""
    torch.manual_seed(seed + SAMPLE_SEED)  # the style generator's noise inputs come from the global generator
    return generate(G, n, seed=seed + SAMPLE_SEED, batch_size=n)
