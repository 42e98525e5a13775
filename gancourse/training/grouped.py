"""Many small toy GANs trained at once as one grouped model, through the one training loop.

``GroupedMLP`` (``gancourse.models.grouped``) evaluates M small MLPs of one architecture as one
network on inputs of shape (M, batch, features). ``GroupedSteps`` are the GAN's steps for such a
group: every loss is the SUM over members of each member's own loss (the package's losses average
over all M * B scores, so they are multiplied by M), so each member gets exactly the gradient it
would get alone, and ``train_gan`` trains M ordinary runs at once, up to float rounding, only
faster. ``train_grouped`` runs one ``ToyRecipe`` (a method of Chapter 4, ``RECIPES``) on several
(dataset, seed) pairs; ``GroupedRun.generators()`` returns each member as a plain ``MLPGenerator``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from gancourse import checks
from gancourse.data.toy import Toy2D
from gancourse.models.grouped import GroupedMLP
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator
from gancourse.training.config import TrainConfig
from gancourse.training.history import History
from gancourse.training.loop import train_gan
from gancourse.training.schedules import LinearDecay
from gancourse.training.steps import DLoss, DStep, GANSteps, GLoss, GStep

__all__ = ["ToyRecipe", "FAIR_STEPS", "RECIPES", "GroupedSteps", "GroupedRun", "train_grouped"]


@dataclass(frozen=True)
class ToyRecipe:
    """How one method of Chapter 4 trains a toy 2-D GAN (the same recipe for the ring and the grid)."""

    loss: str                               # a key of gancourse.losses.LOSS_KINDS
    lr_d: float                             # D's (the critic's) learning rate
    lr_g: float                             # G's learning rate
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"                 # or "rmsprop" (WGAN with clipping)
    n_critic: int = 1
    gp_weight: float = 0.0                  # WGAN-GP's lambda
    clip_value: float | None = None         # WGAN's c
    spectral_norm: bool = False             # on D's layers
    d_norm: str | None = None               # None or "layer": LayerNorm after each hidden layer of D
    steps: int = 5_000                      # generator steps
    batch_size: int = 256                   # real and fake samples per critic step
    g_batch_size: int | None = None         # noise samples per generator step (None: batch_size)
    decay_from: float = 1.0                 # the lr falls linearly to 0 over the last (1 - decay_from) of the steps
    ema_decay: float | None = None          # keep an EMA of G (the shipped G is the EMA when set)
    z_dim: int = 2
    g_hidden: tuple[int, ...] = (128, 128, 128)
    g_batch_norm: bool = False              # BatchNorm1d after each hidden layer of G
    d_hidden: tuple[int, ...] = (128, 128, 128)

    def __post_init__(self) -> None:
        checks.integer("batch_size", self.batch_size, "batch norm needs two samples", at_least=2)
        if self.g_batch_size is not None:
            checks.integer("g_batch_size", self.g_batch_size, "batch norm needs two samples", at_least=2)
        checks.one_of("d_norm", self.d_norm, (None, "layer"), "batch norm breaks a penalised critic")
        checks.fraction("decay_from", self.decay_from, "the share of the steps before the lr starts to fall")
        self.train_config(0)  # checks the fields it shares with TrainConfig

    def train_config(self, seed: int) -> TrainConfig:
        """Return the TrainConfig of this recipe's loop, its random draws seeded with ``seed``."""
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, lr_d=self.lr_d, lr_g=self.lr_g,
                           betas=self.betas, loss=self.loss, n_critic=self.n_critic, optimizer=self.optimizer,
                           gp_weight=self.gp_weight, clip_value=self.clip_value, ema_decay=self.ema_decay,
                           seed=seed)

    def lr_schedule(self) -> LinearDecay | None:
        """Return the learning-rate schedule: constant (None), or a linear fall from ``decay_from``."""
        return None if self.decay_from >= 1 else LinearDecay(self.steps, self.decay_from)

    def to_dict(self) -> dict:
        """Return the recipe as JSON-able data."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


# The fair protocol of Chapter 4: every method trains the same networks for the same number of
# generator steps, on the same batches, under the same learning-rate schedule (constant, then a
# linear fall to 0 over the last 70 % of the steps) and the same EMA of G. Each method keeps its
# own paper's published defaults (loss, optimiser, rates, critic steps, clipping or penalty) and
# no method is tuned on these data sets: no sweep for anyone. 3,000 steps is what training five
# methods x two data sets x three seeds fits in an hour of one CPU core.
FAIR_STEPS = 3_000
_SHARED = dict(steps=FAIR_STEPS, batch_size=128, decay_from=0.3, ema_decay=0.999, z_dim=2,
               g_hidden=(96, 96, 96), d_hidden=(128, 128, 128), g_batch_norm=True)

RECIPES: dict[str, ToyRecipe] = {
    # The original game (Goodfellow et al., 2014), saturating G loss, with the Adam settings of
    # DCGAN (Radford et al., 2016), the default for GANs without a recipe of their own.
    "gan": ToyRecipe(loss="minimax", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999), **_SHARED),
    # The same game with the non-saturating G loss, the same settings.
    "nsgan": ToyRecipe(loss="nonsaturating", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999), **_SHARED),
    # WGAN (Arjovsky et al., 2017, Algorithm 1): clipping c = 0.01, RMSProp 5e-5, 5 critic steps.
    "wgan": ToyRecipe(loss="wasserstein", optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, n_critic=5,
                      clip_value=0.01, **_SHARED),
    # WGAN-GP (Gulrajani et al., 2017, Algorithm 1): lambda = 10, Adam 1e-4 with
    # beta = (0, 0.9), 5 critic steps.
    "wgan-gp": ToyRecipe(loss="wasserstein", lr_d=1e-4, lr_g=1e-4, betas=(0.0, 0.9), n_critic=5,
                         gp_weight=10.0, **_SHARED),
    # Spectral normalisation with the hinge loss (Miyato et al., 2018, setting C): Adam 2e-4,
    # beta = (0.5, 0.999), one D step per G step.
    "sn-hinge": ToyRecipe(loss="hinge", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999),
                          spectral_norm=True, **_SHARED),
}


class GroupedSteps(GANSteps):
    """The GAN's steps for M members at once: real batches (B, M, 2), every loss summed over the members.

    The G step draws ``g_batch_size`` fresh noise samples per member rather than reusing the D
    step's fakes; ``finish`` re-estimates the EMA generator's batch-norm statistics.
    """

    def __init__(self, g_batch_size: int | None = None) -> None:
        if g_batch_size is not None:
            checks.integer("g_batch_size", g_batch_size, "batch norm needs two samples", at_least=2)
        self.g_batch_size = g_batch_size

    def check(self, G: nn.Module, D: nn.Module) -> None:
        """Raise unless G and D are GroupedMLPs of the same number of members."""
        if not (isinstance(G, GroupedMLP) and isinstance(D, GroupedMLP) and G.members == D.members):
            raise TypeError("GroupedSteps trains a GroupedMLP generator and a GroupedMLP critic with as many members")

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Score each member's real batch and a fresh fake batch; return the members' summed loss."""
        real = real.transpose(0, 1).contiguous()                          # (B, M, 2) -> (M, B, 2)
        M, B = real.shape[:2]
        with torch.no_grad():
            fake = G(torch.randn(M, B, G.z_dim, device=real.device))
        real_scores, fake_scores = D(real)[..., 0], D(fake)[..., 0]       # (M, B)
        per_member_gap = real_scores.detach().mean(1) - fake_scores.detach().mean(1)
        stats = {f"w_estimate_{m}": gap for m, gap in enumerate(per_member_gap)}
        return DStep(M * d_loss(real_scores, fake_scores), real_scores, fake_scores, real, fake, stats=stats)

    def penalty(self, D: nn.Module, d: DStep) -> torch.Tensor:
        """Return the sum over members of each member's gradient penalty (one alpha per sample)."""
        M, B = d.real.shape[:2]
        alpha = torch.rand(M, B, 1, device=d.real.device)
        x_hat = alpha * d.real + (1 - alpha) * d.fake
        if D.layer_norm:
            x_hat.requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        else:                                                             # the same, with less work
            grad = D.input_gradient(x_hat)
        return ((grad.norm(dim=2) - 1) ** 2).mean(dim=1).sum()          # each member's penalty, summed

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Score fresh fakes of every member (``g_batch_size`` each) and return the summed G loss."""
        M, B = d.real.shape[:2]
        z = torch.randn(M, self.g_batch_size or B, G.z_dim, device=d.real.device)
        return GStep(M * g_loss(D(G(z))[..., 0]))

    def finish(self, G: nn.Module, D: nn.Module, G_ema: nn.Module | None) -> None:
        """Re-estimate the EMA generator's batch-norm statistics for its averaged weights.

        The running statistics the EMA copied from G belong to G's weights: 50 batches of 1,024
        (with momentum 0.1 the old estimate keeps a weight of 0.9^50 = 0.5 %).
        """
        if G_ema is None or not G_ema.batch_norm:
            return
        G_ema.train()
        with torch.no_grad():
            for _ in range(50):
                G_ema(torch.randn(G_ema.members, 1024, G_ema.z_dim))
        G_ema.eval()


@dataclass
class GroupedRun:
    """What ``train_grouped`` returns: the trained members and what the loop measured."""

    generator: GroupedMLP                   # the trained generators
    ema_generator: GroupedMLP | None        # their EMA, when the recipe asks for one
    critic: GroupedMLP                      # the trained discriminators or critics
    history: History = field(default_factory=History)

    @property
    def seconds(self) -> float:
        """Wall-clock training time."""
        return self.history.seconds

    @property
    def w_estimate(self) -> list[list[float]]:
        """Per step: mean f(real) - mean f(fake) of each member's critic."""
        columns = [self.history.extra[f"w_estimate_{m}"] for m in range(self.critic.members)]
        return [list(row) for row in zip(*columns)]

    def generators(self) -> list[MLPGenerator]:
        """Return each member's final generator (the EMA one when there is one) as a plain MLPGenerator."""
        source = self.ema_generator if self.ema_generator is not None else self.generator
        return [source.member(m) for m in range(source.members)]


def train_grouped(recipe: ToyRecipe, datasets: Sequence[Toy2D], seeds: Sequence[int], *,
                  steps: int | None = None, every: int | None = None,
                  callback: Callable[[int, GroupedRun], None] | None = None) -> GroupedRun:
    """Train one GAN per (dataset, seed) pair with ``recipe``, all at once; return the trained group.

    Member m's G and D start from ``MLPGenerator``/``MLPDiscriminator`` initialised after
    ``torch.manual_seed(seeds[m])``, so a member starts exactly where a single run with that seed
    would; the training draws are seeded with ``seeds[0] + 10_007``. ``steps`` overrides the
    recipe's (a short live run of the same recipe). Every ``every`` steps and after the last,
    ``callback(step, run)`` is called (e.g. to measure the generators). The global RNG is forked:
    the caller's random state is left as it was.
    """
    if len(datasets) != len(seeds) or not datasets:
        raise ValueError(f"pass one seed per dataset (got {len(datasets)} datasets and {len(seeds)} seeds)")
    if steps is not None:
        recipe = ToyRecipe(**{**asdict(recipe), "steps": steps})
    with torch.random.fork_rng():
        generators, critics = [], []
        for seed in seeds:
            torch.manual_seed(seed)
            generators.append(MLPGenerator(recipe.z_dim, 2, recipe.g_hidden, tanh=False,
                                           batch_norm=recipe.g_batch_norm))
            critics.append(MLPDiscriminator(2, recipe.d_hidden, norm=recipe.d_norm))
        # Inside the fork: spectral norm's power iteration starts from a random vector.
        run = GroupedRun(GroupedMLP(generators), None, GroupedMLP(critics, spectral_norm=recipe.spectral_norm))
    started = time.perf_counter()

    def report(step: int, G: nn.Module, D: nn.Module) -> None:
        if callback is not None and step > 0:
            run.history.seconds = time.perf_counter() - started
            callback(step, run)

    def sample(n: int) -> torch.Tensor:  # n points of every member's data set: (n, M, 2)
        return torch.stack([toy.sample(n) for toy in datasets], dim=1)

    run.history = train_gan(run.generator, run.critic, sample, recipe.train_config(seeds[0] + 10_007),
                            variant=GroupedSteps(recipe.g_batch_size), lr_schedule=recipe.lr_schedule(),
                            callback=report, every=every or recipe.steps, progress=False)
    run.ema_generator = run.history.ema_generator
    run.generator.eval()
    return run
