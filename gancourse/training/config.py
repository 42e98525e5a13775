"""``TrainConfig``: the hyper-parameters of a GAN run, checked when the config is made."""

from __future__ import annotations

from dataclasses import dataclass

from gancourse import checks
from gancourse.losses import LOSS_KINDS

__all__ = ["TrainConfig", "OPTIMIZERS"]

OPTIMIZERS = ("adam", "rmsprop")


@dataclass
class TrainConfig:
    """The hyper-parameters of a GAN run (defaults: DCGAN's Adam settings, Radford et al., 2016)."""

    steps: int = 2_000          # generator steps; each one follows n_critic D steps
    batch_size: int = 64
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam's; beta1 = 0.5 as in DCGAN, (0.0, 0.9) in WGAN-GP
    loss: str = "nonsaturating"  # or "minimax", "wasserstein", "hinge", "least_squares": see gancourse.losses.LOSS_KINDS
    n_critic: int = 1           # D updates per G update; WGAN and WGAN-GP use 5
    optimizer: str = "adam"     # or "rmsprop": WGAN with clipping found momentum unstable
    gp_weight: float = 0.0      # lambda of the gradient penalty (WGAN-GP: 10); 0 turns it off
    clip_value: float | None = None  # WGAN: clamp D's weights into [-c, c] after each D step (c = 0.01)
    ema_decay: float | None = None   # keep an exponential moving average of G's weights (e.g. 0.999)
    ema_start: int = 0          # the EMA copies G until this step, then averages (BigGAN's ema_start)
    record_grad_norms: bool = False  # the norm of D's gradient per layer, at each step's last D update
    amp: bool = False           # CUDA only: float16 autocast with gradient scaling
    channels_last: bool = False  # NHWC memory layout: tensor cores on CUDA, oneDNN's faster kernels on the CPU
    stop_on_divergence: bool = True  # stop at the first NaN, inf or absurdly large loss (checked every 50 steps)
    seed: int = 0

    def __post_init__(self) -> None:
        checks.positive_int("steps", self.steps, "generator steps")
        checks.positive_int("batch_size", self.batch_size, "samples per batch, e.g. 64")
        checks.positive_int("n_critic", self.n_critic, "D updates per G update: 1, or 5 for WGAN")
        for name in ("lr_d", "lr_g"):
            checks.number(name, getattr(self, name), "0 freezes that network", at_least=0)
        betas = tuple(self.betas) if isinstance(self.betas, (tuple, list)) else ()
        if len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1) such as (0.5, 0.999), got {self.betas!r}")
        self.betas = tuple(checks.number(f"betas[{i}]", b, "Adam's beta, e.g. 0.5 or 0.999", at_least=0, below=1)
                           for i, b in enumerate(betas))  # type: ignore[assignment]
        checks.one_of("loss", self.loss, LOSS_KINDS, "see gancourse.losses.LOSS_KINDS")
        checks.one_of("optimizer", self.optimizer, OPTIMIZERS)
        checks.number("gp_weight", self.gp_weight, "WGAN-GP uses 10; 0 turns the penalty off", at_least=0)
        if self.clip_value is not None:
            checks.number("clip_value", self.clip_value, "None, or WGAN's 0.01", above=0)
        if self.ema_decay is not None:
            checks.fraction("ema_decay", self.ema_decay, "None, or e.g. 0.999")
        checks.integer("ema_start", self.ema_start, "the step the EMA starts averaging at", at_least=0)
        for name in ("record_grad_norms", "amp", "channels_last", "stop_on_divergence"):
            checks.boolean(name, getattr(self, name))
        checks.integer("seed", self.seed, at_least=0, at_most=2**63 - 1)
