"""The GAN training loop: D (critic) steps, then a G step (Goodfellow et al., 2014; Arjovsky et al., 2017).

Read ``train_gan`` top to bottom: it is chapter 2's loop with the switches later chapters need.
Each step updates D ``n_critic`` times, each time on a fresh real batch and fresh fakes, then
updates G once so that D scores its samples as real. ``TrainConfig.loss`` picks the pair of losses
(the original GAN's, the Wasserstein or the hinge loss), ``gp_weight`` adds the gradient penalty of
WGAN-GP and ``clip_value`` WGAN's weight clipping. What the loop measured comes back as a ``History``.

Reproducible and resumable: every random draw (real batches, noise, the penalty's alpha) comes from
torch's global RNG, seeded with ``config.seed`` inside a forked RNG state, so the caller's random
state is left alone. A checkpoint stores that RNG state with the models, the optimizers and the
position in the data, so a resumed run continues exactly as the uninterrupted one would have.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from gancourse.checkpoint import load_checkpoint, save_checkpoint
from gancourse.losses import LOSS_KINDS, clip_weights_, gradient_penalty
from gancourse.models import sample_noise
from gancourse.training_utils import (
    Callback,
    RealBatches,
    Recorder,
    ema_copy,
    frozen,
    layer_grad_norms,
    save_samples,
    update_ema_,
)

__all__ = ["TrainConfig", "History", "RealBatches", "train_gan", "batches", "layer_grad_norms", "update_ema_",
           "save_samples"]

Data = Callable[[int], torch.Tensor] | torch.Tensor | Dataset  # a sampler n -> n samples, or the samples
OPTIMIZERS = ("adam", "rmsprop")


@dataclass
class TrainConfig:
    """The hyper-parameters of a GAN run (defaults: DCGAN's Adam settings, Radford et al., 2016)."""

    steps: int = 2_000          # generator steps; each one follows n_critic D steps
    batch_size: int = 64
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam's; beta1 = 0.5 as in DCGAN, (0.0, 0.9) in WGAN-GP
    loss: str = "nonsaturating"  # or "minimax", "wasserstein", "hinge": see gancourse.losses.LOSS_KINDS
    n_critic: int = 1           # D updates per G update; WGAN and WGAN-GP use 5
    optimizer: str = "adam"     # or "rmsprop": WGAN with clipping found momentum unstable
    gp_weight: float = 0.0      # lambda of the gradient penalty (WGAN-GP: 10); 0 turns it off
    clip_value: float | None = None  # WGAN: clamp D's weights into [-c, c] after each D step (c = 0.01)
    ema_decay: float | None = None   # keep an exponential moving average of G's weights (e.g. 0.999)
    record_grad_norms: bool = False  # the norm of D's gradient per layer, at each step's last D update
    amp: bool = False           # CUDA only: float16 autocast with gradient scaling
    channels_last: bool = False  # NHWC memory layout: tensor cores on CUDA, oneDNN's faster kernels on the CPU
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "n_critic"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("lr_d", "lr_g"):
            if not _is_real(getattr(self, name)) or not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (0 freezes that network), got {getattr(self, name)!r}")
        betas = tuple(self.betas) if isinstance(self.betas, (tuple, list)) else None
        if betas is None or len(betas) != 2 or not all(_is_real(b) and 0 <= b < 1 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1) such as (0.5, 0.999), got {self.betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        if self.loss not in LOSS_KINDS:
            raise ValueError(f"loss must be one of {list(LOSS_KINDS)}, got {self.loss!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if not _is_real(self.gp_weight) or not 0 <= self.gp_weight < math.inf:
            raise ValueError(f"gp_weight must be a finite number >= 0 (WGAN-GP uses 10), got {self.gp_weight!r}")
        if self.clip_value is not None and not (_is_real(self.clip_value) and 0 < self.clip_value < math.inf):
            raise ValueError(f"clip_value must be None or a positive number (WGAN uses 0.01), got {self.clip_value!r}")
        if self.ema_decay is not None and not (_is_real(self.ema_decay) and 0 <= self.ema_decay <= 1):
            raise ValueError(f"ema_decay must be None or a number in [0, 1] (e.g. 0.999), got {self.ema_decay!r}")
        for name in ("record_grad_norms", "amp", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be an int in [0, 2**63), got {self.seed!r}")


def _is_real(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass
class History:
    """What each step measured, one entry per generator step.

    ``d_real`` and ``d_fake`` are the means of D over the real and the fake batch: probabilities
    sigmoid(logit) for the 'nonsaturating' and 'minimax' losses, raw critic scores for 'wasserstein'
    and 'hinge'. ``w_estimate`` = mean score(real) - mean score(fake) in raw scores (for a
    Lipschitz critic, WGAN's estimate of the Earth-Mover distance); ``gp`` is the gradient penalty
    before its weight (0 when unused); ``d_loss`` leaves the penalty out. With n_critic > 1 the D
    entries come from the step's last D update. ``grad_norms`` maps each layer of D to its gradient
    norms (when ``record_grad_norms``), and ``ema_generator`` is the averaged G (when ``ema_decay``).
    """

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    gp: list[float] = field(default_factory=list)
    w_estimate: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    ema_generator: nn.Module | None = field(default=None, repr=False, compare=False)

    COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake", "gp", "w_estimate")

    def append(self, step: int, d_loss: float, g_loss: float, d_real: float, d_fake: float, *,
               gp: float = 0.0, w_estimate: float = math.nan, grad_norms: dict[str, float] | None = None) -> None:
        """Record one step."""
        self.step.append(step)
        for name, value in zip(self.COLUMNS, (d_loss, g_loss, d_real, d_fake, gp, w_estimate)):
            getattr(self, name).append(value)
        for layer, norm in (grad_norms or {}).items():
            self.grad_norms.setdefault(layer, []).append(norm)

    def __len__(self) -> int:
        return len(self.step)

    def to_frame(self) -> pd.DataFrame:
        """Return the history as a DataFrame indexed by step, one column per measurement."""
        return pd.DataFrame({name: getattr(self, name) for name in self.COLUMNS},
                            index=pd.Index(self.step, name="step"))

    def grad_norm_frame(self) -> pd.DataFrame:
        """Return D's gradient norms as a DataFrame indexed by step, one column per layer (empty if not recorded)."""
        index = pd.Index(self.step if self.grad_norms else [], name="step")
        return pd.DataFrame(self.grad_norms, index=index)

    def state_dict(self) -> dict[str, Any]:
        """Return the recorded numbers (for a checkpoint)."""
        return {"step": list(self.step), **{name: list(getattr(self, name)) for name in self.COLUMNS},
                "grad_norms": {k: list(v) for k, v in self.grad_norms.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the recorded numbers with those of ``state_dict()``."""
        for name in ("step", *self.COLUMNS):
            setattr(self, name, list(state[name]))
        self.grad_norms = {k: list(v) for k, v in state["grad_norms"].items()}


def batches(data: Data, batch_size: int, *, labels: bool = False) -> RealBatches:
    """Return an endless iterator of real batches (with ``labels=True``, (images, labels) pairs)."""
    return RealBatches(data, batch_size, labels=labels)


def train_gan(
    G: nn.Module,
    D: nn.Module,
    data: Data,
    config: TrainConfig | None = None,
    *,
    callback: Callback | None = None,
    every: int = 100,
    log_dir: str | Path | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> History:
    """Train G and D in place for ``config.steps`` generator steps; return the History of every step.

    ``G`` needs a ``z_dim`` attribute (the noise size); D returns one raw score per sample. Both
    are left in train mode. ``callback(step, G, D)`` runs before the first step (step 0), after
    every ``every`` steps and after the last one: use it for snapshots (``save_samples(folder, z)``
    writes image grids; a callback may switch G to eval mode, but must switch it back). Its random
    draws stay out of the run. With ``log_dir`` the curves also go to TensorBoard. With
    ``checkpoint`` (a file path), the whole run is saved there every ``checkpoint_every`` steps and
    at the end; with ``resume=True`` a run finds the checkpoint (if the file exists), checks that
    its config matches (only ``steps`` may differ) and continues from it exactly; the callback then
    does not run at the resumed step. The EMA of G, when asked for, is ``history.ema_generator``
    (in eval mode). ``amp`` acts on CUDA only (a warning elsewhere); ``channels_last`` moves G, D
    and the image batches to the NHWC layout on any device (convolutional models only gain).
    """
    config = config or TrainConfig()
    _check_arguments(G, D, config, every, checkpoint, checkpoint_every)
    device = next(G.parameters()).device
    use_amp = _amp_on_cuda_only(config, device)
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    # float16 autocast for the forward passes, and gradient scaling so that small float16 gradients
    # do not flush to zero. One scaler per optimizer: each scale adapts to its own loss.
    autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if use_amp else contextlib.nullcontext
    scaler_d, scaler_g = (torch.amp.GradScaler("cuda", enabled=use_amp) for _ in range(2))
    if config.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    d_loss_fn, g_loss_fn = LOSS_KINDS[config.loss]
    opt_d, opt_g = _optimizer(config, D, config.lr_d), _optimizer(config, G, config.lr_g)
    G_ema = ema_copy(G) if config.ema_decay is not None else None
    # A conditional G (one with n_classes) draws its fakes for the labels of each real batch, and D
    # judges every image together with its label: G(z, y), D(x, y).
    conditional = getattr(G, "n_classes", None) is not None
    real_batches = batches(data, config.batch_size, labels=conditional)
    history = History()
    parts = {"generator": G, "discriminator": D, "opt_g": opt_g, "opt_d": opt_d, "scaler_g": scaler_g,
             "scaler_d": scaler_d, "data": real_batches, "history": history}
    if G_ema is not None:
        parts["ema_generator"] = G_ema

    def snapshot(step: int) -> None:
        if callback is not None:
            with torch.random.fork_rng(devices=cuda):  # the callback's random draws stay out of the run
                callback(step, G, D)

    G.train()
    D.train()
    with torch.random.fork_rng(devices=cuda), Recorder(history, config, log_dir, progress) as recorder:
        torch.manual_seed(config.seed)
        start = 0
        if resume and checkpoint is not None and Path(checkpoint).exists():
            start = _restore(load_checkpoint(checkpoint), parts, config, cuda)
        recorder.start(start)
        if start == 0:
            snapshot(0)
        for step in range(start + 1, config.steps + 1):
            # (1) D steps: n_critic updates, each on a fresh real batch and fresh fakes.
            for critic_step in range(config.n_critic):
                real = next(real_batches)
                real, cond = (real[0], (real[1].to(device),)) if conditional else (real, ())
                real = _to(real, device, config.channels_last)
                z = sample_noise(config.batch_size, G.z_dim, device=device)
                with autocast():
                    fake = G(z, *cond)
                    # detach(): these steps update D only; no gradient flows back into G.
                    real_scores, fake_scores = D(real, *cond), D(fake.detach(), *cond)
                    loss_d = d_loss_fn(real_scores, fake_scores)
                gp = torch.zeros((), device=device)
                if config.gp_weight > 0:
                    with torch.autocast(device.type, enabled=False):  # the penalty's double backward in float32
                        gp = gradient_penalty(D, real.float(), fake.detach().float(), *cond)
                opt_d.zero_grad(set_to_none=True)
                scaler_d.scale(loss_d + config.gp_weight * gp).backward()
                if config.record_grad_norms and critic_step == config.n_critic - 1:  # the step's last D update
                    scaler_d.unscale_(opt_d)  # the true gradients, not the loss-scaled ones
                    grad_norms = layer_grad_norms(D)
                scaler_d.step(opt_d)
                scaler_d.update()
                if config.clip_value is not None:
                    clip_weights_(D, config.clip_value)  # WGAN: keep the critic (roughly) Lipschitz

            # (2) G step: make the freshly updated D score the last fakes as real. G has not changed
            # since it drew them, so they are a fresh sample of it. frozen(D): G's loss needs gradients
            # THROUGH D, not FOR D's weights, so the backward pass skips computing those.
            with autocast(), frozen(D):
                loss_g = g_loss_fn(D(fake, *cond))
            opt_g.zero_grad(set_to_none=True)
            scaler_g.scale(loss_g).backward()
            scaler_g.step(opt_g)
            scaler_g.update()
            if G_ema is not None:
                update_ema_(G_ema, G, config.ema_decay)

            # The measurements stay on the device until the recorder flushes them: no sync per step.
            recorder.add(step, loss_d, loss_g, real_scores, fake_scores, gp,
                         grad_norms if config.record_grad_norms else None)
            if step % every == 0 or step == config.steps:
                recorder.flush()
                snapshot(step)
            if checkpoint is not None and (step == config.steps or (checkpoint_every and step % checkpoint_every == 0)):
                recorder.flush()
                _save(checkpoint, step, config, parts, cuda)
    history.ema_generator = G_ema
    return history


def _check_arguments(G: nn.Module, D: nn.Module, config: TrainConfig, every: object, checkpoint: object,
                     checkpoint_every: object) -> None:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(getattr(G, "z_dim", None), int):
        raise TypeError("G needs an int attribute `z_dim` (the size of its noise input), e.g. an MLPGenerator")
    if not isinstance(D, nn.Module) or next(D.parameters(), None) is None:
        raise TypeError("D must be an nn.Module with parameters (a discriminator or critic)")
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a positive int, got {every!r}")
    if checkpoint_every is not None:
        if not isinstance(checkpoint_every, int) or isinstance(checkpoint_every, bool) or checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be None or a positive int, got {checkpoint_every!r}")
        if checkpoint is None:
            raise ValueError("checkpoint_every needs checkpoint=<a file path> to save to")


_WARNED: set[str] = set()


def _amp_on_cuda_only(config: TrainConfig, device: torch.device) -> bool:
    """Return whether to use AMP: it needs CUDA; elsewhere it is ignored with a one-time warning."""
    if device.type == "cuda" or not config.amp:
        return config.amp
    if "amp" not in _WARNED:
        _WARNED.add("amp")
        warnings.warn(f"TrainConfig.amp=True acts on CUDA only; ignored on {device.type}", stacklevel=3)
    return False


def _optimizer(config: TrainConfig, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Return the optimizer ``config.optimizer`` names for ``model``."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=lr)
    return torch.optim.Adam(model.parameters(), lr=lr, betas=config.betas)


def _to(batch: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """Return ``batch`` on ``device``, in NHWC layout when asked and the batch is a batch of images."""
    fmt = torch.channels_last if channels_last and batch.ndim == 4 else torch.preserve_format
    return batch.to(device, memory_format=fmt)


def _rng_state(cuda: list[int]) -> dict[str, Any]:
    return {"cpu": torch.get_rng_state(), "cuda": [torch.cuda.get_rng_state(d) for d in cuda]}


def _save(path: str | Path, step: int, config: TrainConfig, parts: dict[str, Any], cuda: list[int]) -> None:
    """Write the whole run at ``step`` to ``path``: models, optimizers, scalers, data place, history, RNG."""
    save_checkpoint(path, step=step, config=asdict(config), rng=_rng_state(cuda),
                    **{name: part.state_dict() for name, part in parts.items()})


def _restore(state: dict[str, Any], parts: dict[str, Any], config: TrainConfig, cuda: list[int]) -> int:
    """Load a checkpoint into the run's parts and the RNG; return the step it was saved at."""
    saved, current = state["config"], asdict(config)
    differ = sorted(k for k in current if k != "steps" and saved.get(k) != current[k])
    if differ:
        raise ValueError(f"the checkpoint was saved with a different config: {', '.join(differ)} "
                         f"({', '.join(f'{k}={saved.get(k)!r}' for k in differ)}); only steps may change on resume")
    if state["step"] > config.steps:
        raise ValueError(f"the checkpoint is at step {state['step']}, past config.steps={config.steps}")
    for name, part in parts.items():
        if name.startswith("scaler") and not state[name]:
            continue  # saved without AMP (e.g. on the CPU): the scaler starts afresh
        part.load_state_dict(state[name])
    torch.set_rng_state(state["rng"]["cpu"])
    if len(state["rng"]["cuda"]) == len(cuda):
        for d, rng in zip(cuda, state["rng"]["cuda"]):
            torch.cuda.set_rng_state(rng, d)
    return state["step"]
