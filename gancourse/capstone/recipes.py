"""The capstone's reference recipes, one per tier: what ``scripts/capstone_reference.py`` trains.

Each recipe is the course's own models and loop (``train_gan``) on ``training_set()``; the
defaults below (steps, rates, EMA) are what the shipped reference runs (``reference_runs.json``)
ran, one thread per run on a shared 2-core CPU:

- ``simple``: chapter 3's DCGAN at its quick length (G width 32, D width 16, batch norm,
  non-saturating loss, lr 1e-3 then a fifth of it);
- ``medium``: the same networks three times longer, with an EMA of G's weights;
- ``strong``: WGAN-GP (Gulrajani et al., 2017) as chapter 4's page on images trains it: the
  DCGAN generator at 32 pixels against ``critic()``, four convolutions with layer norm, on the
  glyphs padded from 28 to 32 pixels with the background value (``pad``); lambda = 10, two critic
  steps per G step, Adam betas (0, 0.9), an EMA of G; ``sample()`` crops the padding off;
- ``boss``: chapter 9's style-based generator against the same critic (its 28-pixel images framed
  by the same padding), with DiffAugment (translation) in front of the critic and an EMA of G.
  The style generator needs a larger learning rate than the critic. Seven settings, each 600 steps
  from seed 0 (graded like a submission): lr 1e-3 for both, FD 238-317 (with and without the
  padding and DiffAugment); 2.5e-4 for both, 964; 3e-3 and 1e-2 for both, 190 and 172; 3e-3 for G
  and 1e-3 for the critic, 143, the best (the last four without DiffAugment). At 600 steps the
  strong recipe's DCGAN generator is near 90 (the ``wgan_gp_glyphs`` card's curve, measured on
  its own evaluation set).

The learning rate drops to ``drop`` times its value after ``drop_at`` of the steps, and the EMA
(where kept) starts there, with a decay short enough to forget the weights it started from.
``--steps`` trains any recipe longer (the schedule scales with it); ``gancourse.capstone.tiers``
says what each recipe reached.

``train_recipe(name, seed, steps)`` returns the generator to sample (the EMA one where the
recipe keeps one; always 28 pixels) and the run's History; ``sample(G, n, seed)`` draws its images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from gancourse import checks
from gancourse.capstone.data import training_set
from gancourse.data.glyphs import crop_glyphs, pad_glyphs
from gancourse.models import DCGANDiscriminator, DCGANGenerator, StyleGenerator, critic, generate
from gancourse.training import DiffAugmentSteps, History, PiecewiseConstant, TrainConfig, train_gan

__all__ = ["Recipe", "RECIPES", "RECIPE_NAMES", "SAMPLE_SEED", "CroppedGenerator", "PaddedGenerator", "build",
           "train_recipe", "sample"]

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
    critic: bool = False  # D is ``critic()`` (no batch norm), as the gradient penalty needs
    n_critic: int = 1  # D steps per G step
    gp_weight: float = 0.0  # lambda of the gradient penalty; 0 turns it off
    pad: int = 0  # train on glyphs padded by this many background pixels a side; sample() crops them

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
                           n_critic=self.n_critic, gp_weight=self.gp_weight, seed=seed)


_DCGAN_G = {"z_dim": 64, "image_size": 28, "channels": 1, "width": 32}
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("simple", "chapter 3's DCGAN at its quick length", "dcgan", _DCGAN_G,
           {"image_size": 28, "channels": 1, "width": 16}, steps=900),
    Recipe("medium", "chapter 3's DCGAN three times longer, with an EMA of G", "dcgan", _DCGAN_G,
           {"image_size": 28, "channels": 1, "width": 16}, steps=2_700, ema_decay=0.995),
    Recipe("strong", "WGAN-GP: a layer-norm critic of four convolutions on padded glyphs, with an EMA of G", "dcgan",
           {**_DCGAN_G, "image_size": 32}, {"image_size": 32, "channels": 1, "width": 16, "norm": "layer"},
           steps=1_500, loss="wasserstein", betas=(0.0, 0.9), ema_decay=0.995, critic=True, n_critic=2,
           gp_weight=10.0, pad=2),
    Recipe("boss", "chapter 9's style-based generator against the strong recipe's critic, with DiffAugment "
           "(translation) and an EMA of G", "style",
           {"z_dim": 64, "w_dim": 64, "width": 24, "mapping_layers": 4, "mixing_prob": 0.9},
           {"image_size": 32, "channels": 1, "width": 16, "norm": "layer"}, steps=3_000, loss="wasserstein",
           lr_g=3e-3, lr_d=1e-3, betas=(0.0, 0.9), ema_decay=0.995, diffaugment="translation", critic=True,
           n_critic=2, gp_weight=10.0, pad=2),
)}
RECIPE_NAMES = tuple(RECIPES)


class CroppedGenerator(nn.Module):
    """G with ``pad`` pixels cut from each side of its images: a 32-pixel G made into a 28-pixel one."""

    def __init__(self, G: nn.Module, pad: int) -> None:
        super().__init__()
        self.G, self.pad = G, checks.positive_int("pad", pad, "pixels to cut from each side")
        self.z_dim = G.z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return G(z) without its outer ``pad`` pixels."""
        return crop_glyphs(self.G(z), self.pad)


class PaddedGenerator(nn.Module):
    """G with ``pad`` background pixels (-1) added on each side: a 28-pixel G shown to a 32-pixel D."""

    def __init__(self, G: nn.Module, pad: int) -> None:
        super().__init__()
        self.G, self.pad = G, checks.positive_int("pad", pad, "background pixels to add on each side")
        self.z_dim = G.z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return G(z) framed by ``pad`` pixels of -1."""
        return pad_glyphs(self.G(z), self.pad)


def build(recipe: Recipe, seed: int) -> tuple[nn.Module, nn.Module]:
    """Return a fresh (G, D) of ``recipe``, initialised from ``seed``."""
    torch.manual_seed(seed)
    G = (StyleGenerator if recipe.generator == "style" else DCGANGenerator)(**recipe.g_kwargs)
    D = (critic if recipe.critic else DCGANDiscriminator)(**recipe.d_kwargs)
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
    if recipe.pad and recipe.generator == "style":  # it draws 28 pixels: D sees them framed as the data
        G = PaddedGenerator(G, recipe.pad)
    config = recipe.config(steps, seed)
    variant = DiffAugmentSteps(recipe.diffaugment) if recipe.diffaugment else None
    images = training_set() if data is None else data
    if recipe.pad:
        images = pad_glyphs(images, recipe.pad)
    history = train_gan(G, D, images, config, variant=variant, lr_schedule=recipe.schedule(steps),
                        progress=progress)
    kept = history.ema_generator if history.ema_generator is not None else G
    if isinstance(kept, PaddedGenerator):
        kept = kept.G
    elif recipe.pad:
        kept = CroppedGenerator(kept, recipe.pad)
    return kept, history, recipe, config


def sample(G: nn.Module, n: int, seed: int) -> torch.Tensor:
    """Return ``n`` images of G, z drawn with ``seed + SAMPLE_SEED`` (the style generator's noise after it too)."""
    torch.manual_seed(seed + SAMPLE_SEED)  # the style generator's noise inputs come from the global generator
    return generate(G, n, seed=seed + SAMPLE_SEED, batch_size=n)
