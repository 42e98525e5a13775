"""What a training run measured: ``History`` (one entry per generator step) and the ``Recorder`` that fills it.

Reading a number off a GPU (``.item()``) waits for all queued work: once per step, that stall is
a large share of a small model's step. The Recorder keeps each step's numbers on the device and
moves them to the History in one transfer every ``FLUSH_EVERY`` steps (and whenever the loop asks,
before a callback or a save). It also drives the progress bar and the TensorBoard writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["History", "Recorder", "TrainingDiverged", "FLUSH_EVERY", "PROBABILITY_LOSSES", "LOSS_LIMIT"]

FLUSH_EVERY = 50  # steps whose measurements wait on the device before one transfer to the History
LOSS_LIMIT = 1e10  # a loss beyond this (or NaN, inf) means the weights have blown up
PROBABILITY_LOSSES = ("nonsaturating", "minimax")  # D outputs the logit of a probability; a critic does not
_TAGS = {"d_loss": "loss/D", "g_loss": "loss/G", "d_real": "D/real", "d_fake": "D/fake", "gp": "loss/gp",
         "w_estimate": "D/w_estimate"}


@dataclass
class History:
    """What each step measured, one entry per generator step.

    ``d_real`` and ``d_fake`` are the means of D over the real and the fake batch: probabilities
    sigmoid(logit) for the 'nonsaturating' and 'minimax' losses, raw critic scores for 'wasserstein'
    and 'hinge'. ``w_estimate`` = mean score(real) - mean score(fake) in raw scores (for a
    Lipschitz critic, WGAN's estimate of the Earth-Mover distance); ``gp`` is the gradient penalty
    before its weight (0 when unused); ``d_loss`` and ``g_loss`` are the adversarial losses alone
    (a variant's further terms, such as InfoGAN's, are not in them). With n_critic > 1 the D
    entries come from the step's last D update. ``extra`` holds a GAN variant's own numbers, one
    list per name, also readable as attributes (``history.mi_cat``). ``grad_norms`` maps each
    layer of D to its gradient norms (when ``record_grad_norms``), ``seconds`` is the loop's wall
    time, and ``ema_generator`` is the averaged G (when ``ema_decay``).
    """

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    gp: list[float] = field(default_factory=list)
    w_estimate: list[float] = field(default_factory=list)
    extra: dict[str, list[float]] = field(default_factory=dict)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    ema_generator: nn.Module | None = field(default=None, repr=False, compare=False)

    COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake", "gp", "w_estimate")

    def __getattr__(self, name: str) -> list[float]:
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"History has no column {name!r}; it records {', '.join((*self.COLUMNS, *extra))}")

    def append(self, step: int, d_loss: float, g_loss: float, d_real: float, d_fake: float, *,
               gp: float = 0.0, w_estimate: float = math.nan, grad_norms: dict[str, float] | None = None,
               extra: dict[str, float] | None = None) -> None:
        """Record one step."""
        self.step.append(step)
        for name, value in zip(self.COLUMNS, (d_loss, g_loss, d_real, d_fake, gp, w_estimate)):
            getattr(self, name).append(value)
        for name, value in (extra or {}).items():
            self.extra.setdefault(name, []).append(value)
        for layer, norm in (grad_norms or {}).items():
            self.grad_norms.setdefault(layer, []).append(norm)

    def __len__(self) -> int:
        return len(self.step)

    def to_frame(self) -> pd.DataFrame:
        """Return the history as a DataFrame indexed by step, one column per measurement (extras last)."""
        columns = {name: getattr(self, name) for name in self.COLUMNS} | self.extra
        return pd.DataFrame(columns, index=pd.Index(self.step, name="step"))

    def grad_norm_frame(self) -> pd.DataFrame:
        """Return D's gradient norms as a DataFrame indexed by step, one column per layer (empty if not recorded)."""
        index = pd.Index(self.step if self.grad_norms else [], name="step")
        return pd.DataFrame(self.grad_norms, index=index)

    def state_dict(self) -> dict[str, Any]:
        """Return the recorded numbers (for a checkpoint)."""
        return {"step": list(self.step), **{name: list(getattr(self, name)) for name in self.COLUMNS},
                "extra": {k: list(v) for k, v in self.extra.items()},
                "grad_norms": {k: list(v) for k, v in self.grad_norms.items()}, "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the recorded numbers with those of ``state_dict()``."""
        for name in ("step", *self.COLUMNS):
            setattr(self, name, list(state[name]))
        self.extra = {k: list(v) for k, v in state.get("extra", {}).items()}
        self.grad_norms = {k: list(v) for k, v in state["grad_norms"].items()}
        self.seconds = float(state.get("seconds", 0.0))


class TrainingDiverged(FloatingPointError):
    """Raised when a run's losses become NaN, infinite or absurdly large: the run has diverged."""


class Recorder:
    """Collects each step's measurements on the device and moves them to the History in batches.

    At each transfer it checks the losses: the first step whose D or G loss is NaN, infinite or
    beyond ``LOSS_LIMIT`` stops the run with ``TrainingDiverged`` (unless ``stop_on_divergence`` is
    off), before anything of it reaches a checkpoint.
    """

    def __init__(self, history: History, loss: str, total: int, log_dir: str | Path | None, progress: bool,
                 stop_on_divergence: bool = True, hint: str = "",
                 reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.reduce = reduce  # e.g. the mean over the ranks of a distributed run, applied at each flush
        self.history, self.log_dir, self.progress, self.total = history, log_dir, progress, total
        self.stop_on_divergence, self.hint = stop_on_divergence, hint
        self.as_probability = loss in PROBABILITY_LOSSES
        self.pending: list[tuple[int, torch.Tensor, torch.Tensor | None]] = []
        self.extra: list[str] = []
        self.layers: list[str] = []
        self.writer = None
        self.bar = None

    def __enter__(self) -> Recorder:
        return self

    def start(self, step: int) -> None:
        """Open the progress bar and the TensorBoard writer at ``step`` (0, or a resumed step)."""
        self.bar = tqdm(total=self.total, initial=step, desc="GAN", disable=not self.progress)
        if self.log_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter  # imported here: TensorBoard is optional
            except ImportError as err:
                raise ImportError(f"log_dir={str(self.log_dir)!r} writes TensorBoard logs, and TensorBoard is not "
                                  "installed: pip install tensorboard (it comes with gancourse[colab]), "
                                  "or leave log_dir=None") from err

            # purge_step: on resume, drop events a crashed run wrote after its last checkpoint.
            self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=step + 1 if step else None)

    def add(self, step: int, loss_d: torch.Tensor, loss_g: torch.Tensor, real_scores: torch.Tensor,
            fake_scores: torch.Tensor, gp: torch.Tensor, grad_norms: dict[str, torch.Tensor] | None,
            extra: dict[str, torch.Tensor] | None = None) -> None:
        """Queue one step's numbers (tensors, still on the device); ``extra`` holds 0-d tensors."""
        with torch.no_grad():
            real, fake = real_scores.detach().float(), fake_scores.detach().float()
            d_real, d_fake = (torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()) if self.as_probability \
                else (real.mean(), fake.mean())
            extra = extra or {}
            self.extra = list(extra)
            stats = torch.stack([loss_d.detach().float(), loss_g.detach().float(), d_real, d_fake,
                                 gp.detach().float(), real.mean() - fake.mean(),
                                 *(v.detach().float().to(real.device) for v in extra.values())])
            norms = None
            if grad_norms is not None:
                self.layers = list(grad_norms)
                norms = torch.stack(list(grad_norms.values()))
        self.pending.append((step, stats, norms))
        self.bar.update(1)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Move the queued numbers into the History (one transfer), TensorBoard and the progress bar."""
        if not self.pending:
            return
        rows = torch.stack([stats for _, stats, _ in self.pending])
        rows = (rows if self.reduce is None else self.reduce(rows)).tolist()
        if self.stop_on_divergence:
            self._check_finite(rows)
        norms = [n.tolist() if n is not None else None for _, _, n in self.pending]
        columns = (*History.COLUMNS, *self.extra)
        for (step, _, _), row, layer_norms in zip(self.pending, rows, norms):
            grad_norms = dict(zip(self.layers, layer_norms)) if layer_norms is not None else None
            self.history.append(step, *row[:4], gp=row[4], w_estimate=row[5], grad_norms=grad_norms,
                                extra=dict(zip(self.extra, row[6:])))
            if self.writer is not None:
                for name, value in zip(columns, row):
                    self.writer.add_scalar(_TAGS.get(name, name), value, step)
                for layer, value in (grad_norms or {}).items():
                    self.writer.add_scalar(f"grad_norm/{layer}", value, step)
        self.pending.clear()
        self.bar.set_postfix(d_loss=f"{self.history.d_loss[-1]:.3f}", g_loss=f"{self.history.g_loss[-1]:.3f}",
                             refresh=False)

    def _check_finite(self, rows: list[list[float]]) -> None:
        """Raise TrainingDiverged at the first queued step whose D or G loss is not a sane number."""
        for (step, _, _), row in zip(self.pending, rows):
            d_loss, g_loss = row[0], row[1]
            if not (math.isfinite(d_loss) and math.isfinite(g_loss)) or max(abs(d_loss), abs(g_loss)) > LOSS_LIMIT:
                self.pending.clear()
                raise TrainingDiverged(
                    f"the run diverged at step {step}: d_loss = {d_loss:.4g}, g_loss = {g_loss:.4g}. Likely causes: "
                    f"a learning rate too high ({self.hint}), or NaN or inf in the data (check "
                    "torch.isfinite(data).all()). Lower the learning rate or fix the data; "
                    "TrainConfig(stop_on_divergence=False) records such a run to the end instead.")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.flush()
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
