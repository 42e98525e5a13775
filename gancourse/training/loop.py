"""The GAN training loop: D (critic) steps, then a G step (Goodfellow et al., 2014; Arjovsky et al., 2017).

Read ``train_gan`` top to bottom: it is chapter 2's loop with the switches later chapters need.
Each step updates D ``n_critic`` times, each time on a fresh real batch and fresh fakes, then
updates G once so that D scores its samples as real. ``TrainConfig.loss`` picks the pair of losses
(the original GAN's, the Wasserstein or the hinge loss), ``gp_weight`` adds the gradient penalty of
WGAN-GP and ``clip_value`` WGAN's weight clipping. What each step's loss IS comes from ``variant``
(``gancourse.training.steps.GANSteps``: the plain GAN by default, InfoGAN or the grouped toy GANs
otherwise); this loop is the same for all of them. What it measured comes back as a ``History``.
Under torchrun the same loop runs on every rank (``ranks=``, see ``gancourse.training.distributed``).

Reproducible and resumable: every random draw (real batches, noise, the penalty's alpha) comes from
torch's global RNG, seeded with ``config.seed`` inside a forked RNG state, so the caller's random
state is left alone. A checkpoint stores that RNG state with the models, the optimizers and the
position in the data, so a resumed run continues exactly as the uninterrupted one would have.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from gancourse import checks
from gancourse.losses import LOSS_KINDS, clip_weights_
from gancourse.training.batches import Data, batches
from gancourse.training.checkpoint import restore_run, save_run
from gancourse.training.config import TrainConfig
from gancourse.training.history import History, Recorder
from gancourse.training.parts import (
    Callback,
    ema_copy,
    frozen,
    layer_grad_norms,
    make_optimizer,
    set_learning_rate,
    update_ema_,
)
from gancourse.training.steps import GANSteps

if TYPE_CHECKING:
    from gancourse.training.distributed import Ranks

__all__ = ["train_gan"]


def train_gan(
    G: nn.Module,
    D: nn.Module,
    data: Data,
    config: TrainConfig | None = None,
    *,
    variant: GANSteps | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    callback: Callback | None = None,
    every: int = 100,
    log_dir: str | Path | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    ranks: Ranks | None = None,
) -> History:
    """Train G and D in place for ``config.steps`` generator steps; return the History of every step.

    ``G`` needs a ``z_dim`` attribute (the noise size); D returns one raw score per sample. Both
    are left in train mode. ``variant`` supplies what the D step and the G step compute (default:
    the plain GAN, ``GANSteps()``). ``lr_schedule(step)`` multiplies both learning rates at each
    generator step (``gancourse.training.schedules``; default: constant). ``callback(step, G, D)``
    runs before the first step (step 0), after every ``every`` steps and after the last one: use it
    for snapshots (``save_samples(folder, z)`` writes image grids; a callback may switch G to eval
    mode, but must switch it back). Its random draws stay out of the run. With ``log_dir`` the
    curves also go to TensorBoard. With ``checkpoint`` (a file path), the whole run is saved there
    every ``checkpoint_every`` steps and at the end; with ``resume=True`` a run finds the checkpoint
    (if the file exists), checks that its config matches (only ``steps`` may differ) and continues
    from it exactly (pass the same variant and schedule); the callback then does not run at the
    resumed step. The EMA of G, when asked for, is ``history.ema_generator`` (in eval mode).
    ``amp`` acts on CUDA only (a warning elsewhere); ``channels_last`` moves G, D and the image
    batches to the NHWC layout on any device (convolutional models only gain).

    ``ranks`` (from ``gancourse.training.distributed.init_distributed``, under torchrun) runs this
    process as one rank of a distributed run: G and D wrapped by ``wrap_gan``, ``config.batch_size``
    per rank, noise seeded with ``config.seed + rank``, this rank's shard of the data, losses averaged
    over the ranks, and the callback, logs and checkpoints on rank 0 only, after a barrier.
    """
    # Imported here: `python -m gancourse.training.distributed` must not find it imported already.
    from gancourse.training.distributed import (
        RankRandomState,
        check_ddp,
        sharded_batches,
        unwrap,
    )

    config = config or TrainConfig()
    variant = variant or GANSteps()
    _check_arguments(G, D, config, variant, lr_schedule, every, checkpoint, checkpoint_every)
    if ranks is not None:
        check_ddp(G, D, penalty=config.gp_weight > 0, variant=variant)
    variant.check(unwrap(G), unwrap(D))
    device, dtype = next(G.parameters()).device, next(D.parameters()).dtype
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
    opt_d = make_optimizer(config.optimizer, D, config.lr_d, config.betas)
    opt_g = make_optimizer(config.optimizer, G, config.lr_g, config.betas)
    G_ema = ema_copy(unwrap(G)) if config.ema_decay is not None else None
    # A conditional G (one with n_classes) draws its fakes for the labels of each real batch, and D
    # judges every image together with its label: G(z, y), D(x, y).
    conditional = getattr(G, "n_classes", None) is not None
    if ranks is None:
        real_batches = batches(data, config.batch_size, labels=conditional)
    else:
        real_batches = sharded_batches(data, config.batch_size, ranks, labels=conditional, seed=config.seed)
    main = ranks is None or ranks.is_main
    history = History()
    # The bare modules: a distributed run's saved G and D load into one process (a resume needs as many ranks).
    parts = {"generator": unwrap(G), "discriminator": unwrap(D), "opt_g": opt_g, "opt_d": opt_d,
             "scaler_g": scaler_g, "scaler_d": scaler_d, "data": real_batches, "history": history}
    if G_ema is not None:
        parts["ema_generator"] = G_ema
    if ranks is not None:
        parts["rank_rng"] = RankRandomState(ranks)

    def snapshot(step: int) -> None:
        if callback is None:
            return
        if ranks is not None:
            ranks.barrier()
        if main:  # the bare modules: a DDP forward on one rank alone would wait for the others forever
            with torch.random.fork_rng(devices=cuda):  # the callback's random draws stay out of the run
                callback(step, unwrap(G), unwrap(D))

    G.train()
    D.train()
    started = time.perf_counter()
    hint = f"lr_d = {config.lr_d:g}, lr_g = {config.lr_g:g}"
    with torch.random.fork_rng(devices=cuda), Recorder(
            history, config.loss, config.steps, log_dir if main else None, progress and main,
            config.stop_on_divergence, hint, reduce=ranks.mean if ranks is not None else None) as recorder:
        torch.manual_seed(config.seed + (ranks.rank if ranks is not None else 0))  # each rank its own noise
        start = 0
        if resume and checkpoint is not None and Path(checkpoint).exists():
            start = restore_run(checkpoint, parts, config, cuda)  # with ranks: each its own random state
        started -= history.seconds  # a resumed run's clock continues
        recorder.start(start)
        if start == 0:
            snapshot(0)
        for step in range(start + 1, config.steps + 1):
            if lr_schedule is not None:
                factor = lr_schedule(step)
                set_learning_rate(opt_d, config.lr_d * factor)
                set_learning_rate(opt_g, config.lr_g * factor)

            # (1) D steps: n_critic updates, each on a fresh real batch and fresh fakes.
            for critic_step in range(config.n_critic):
                real = next(real_batches)
                real, cond = (real[0], (real[1].to(device),)) if conditional else (real, ())
                real = _to(real, device, config.channels_last, dtype)
                with autocast():
                    d = variant.d_step(G, D, real, cond, d_loss_fn)
                loss_d = d.loss if d.aux_loss is None else d.loss + d.aux_loss
                gp = torch.zeros((), device=device)
                if config.gp_weight > 0:
                    with torch.autocast(device.type, enabled=False):  # the penalty's double backward in float32
                        gp = variant.penalty(D, d)
                opt_d.zero_grad(set_to_none=True)
                scaler_d.scale(loss_d + config.gp_weight * gp).backward()
                if config.record_grad_norms and critic_step == config.n_critic - 1:  # the step's last D update
                    scaler_d.unscale_(opt_d)  # the true gradients, not the loss-scaled ones
                    grad_norms = layer_grad_norms(D)
                scaler_d.step(opt_d)
                scaler_d.update()
                if config.clip_value is not None:
                    clip_weights_(D, config.clip_value)  # WGAN: keep the critic (roughly) Lipschitz

            # (2) G step: make the freshly updated D score G's samples as real. frozen(D): G's loss
            # needs gradients THROUGH D, not FOR D's weights, so the backward pass skips those.
            with autocast(), frozen(D):
                g = variant.g_step(G, D, d, g_loss_fn)
            loss_g = g.loss if g.aux_loss is None else g.loss + g.aux_loss
            opt_g.zero_grad(set_to_none=True)
            scaler_g.scale(loss_g).backward()
            scaler_g.step(opt_g)
            scaler_g.update()
            if ranks is not None:  # BatchNorm's running statistics: rank 0's on every rank (as DDP's forward does)
                ranks.sync_buffers(unwrap(G))
            if G_ema is not None:  # before ema_start, decay 0 makes the EMA an exact copy of G
                update_ema_(G_ema, unwrap(G), config.ema_decay if step > config.ema_start else 0.0)

            # The measurements stay on the device until the recorder flushes them: no sync per step.
            recorder.add(step, d.loss, g.loss, d.real_scores, d.fake_scores, gp,
                         grad_norms if config.record_grad_norms else None, {**d.stats, **g.stats})
            if step % every == 0 or step == config.steps:
                recorder.flush()
                snapshot(step)
            if checkpoint is not None and (step == config.steps or (checkpoint_every and step % checkpoint_every == 0)):
                recorder.flush()
                history.seconds = time.perf_counter() - started
                if ranks is not None:
                    parts["rank_rng"].gather()  # a collective: every rank takes part
                if main:
                    save_run(checkpoint, step, config, parts, cuda)
                if ranks is not None:
                    ranks.barrier()  # no rank runs on (or resumes) before the file is complete
        variant.finish(G, D, G_ema)
    history.seconds = time.perf_counter() - started
    history.ema_generator = G_ema
    return history


def _check_arguments(G: nn.Module, D: nn.Module, config: TrainConfig, variant: object, lr_schedule: object,
                     every: object, checkpoint: object, checkpoint_every: object) -> None:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(variant, GANSteps):
        raise TypeError(f"variant must be a GANSteps (e.g. InfoGANSteps()), got {type(variant).__name__}")
    if lr_schedule is not None and not callable(lr_schedule):
        raise TypeError(f"lr_schedule must be a function of the step that returns a multiplier (e.g. "
                        f"LinearDecay(...)), got {type(lr_schedule).__name__}")
    if not isinstance(getattr(G, "z_dim", None), int):
        raise TypeError("G needs an int attribute `z_dim` (the size of its noise input), e.g. an MLPGenerator")
    if not isinstance(D, nn.Module) or next(D.parameters(), None) is None:
        raise TypeError("D must be an nn.Module with parameters (a discriminator or critic)")
    checks.positive_int("every", every, "steps between callbacks")
    if checkpoint is not None and Path(checkpoint).is_dir():  # found now, not after the whole run
        raise ValueError(f"checkpoint must be a file path, but {checkpoint} is a folder: pass e.g. "
                         f"{Path(checkpoint) / 'run.safetensors'}")
    if checkpoint_every is not None:
        checks.positive_int("checkpoint_every", checkpoint_every, "None, or steps between saves")
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


def _to(batch: torch.Tensor, device: torch.device, channels_last: bool, dtype: torch.dtype) -> torch.Tensor:
    """Return ``batch`` on ``device`` in the models' floating dtype (float64 or float16 data converted at the
    door, not deep inside a convolution), in NHWC layout when asked and the batch is a batch of images."""
    fmt = torch.channels_last if channels_last and batch.ndim == 4 else torch.preserve_format
    return batch.to(device, dtype=dtype if batch.is_floating_point() else None, memory_format=fmt)
