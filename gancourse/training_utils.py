"""The training loop's helpers: real batches, D's per-layer gradient norms, the EMA of G, sample grids,
the recorder.

Kept apart so that ``gancourse.training.train_gan`` reads as the algorithm; each helper here is
small and usable alone (the chapter-4 notebook calls ``layer_grad_norms`` on its own critics).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.data import Dataset, default_collate
from tqdm.auto import tqdm

if TYPE_CHECKING:  # annotations only: training imports this module
    from gancourse.training import History, TrainConfig

__all__ = ["RealBatches", "frozen", "layer_grad_norms", "ema_copy", "update_ema_", "save_samples", "Recorder"]

FLUSH_EVERY = 50  # steps whose measurements wait on the device before one transfer to the History
Callback = Callable[[int, nn.Module, nn.Module], None]  # callback(step, G, D)
PROBABILITY_LOSSES = ("nonsaturating", "minimax")  # D outputs the logit of a probability; a critic does not


class RealBatches:
    """An endless iterator over batches of real samples whose place can be saved and restored.

    A sampler (a function n -> tensor of n samples) is called for each batch; it must draw from
    torch's global RNG (as ``toy.sample(n)`` does) for a run to resume exactly. A tensor or a
    Dataset is read in shuffled passes, the last incomplete batch of a pass dropped; the current
    pass's order and position are the iterator's state. ``labels=True`` (a conditional GAN) yields
    (images, labels) from a Dataset of (image, label) pairs, e.g. ``GlyphDataset`` or ``TensorDataset``.
    """

    def __init__(self, data: Callable[[int], torch.Tensor] | torch.Tensor | Dataset, batch_size: int, *,
                 labels: bool = False) -> None:
        if labels and not isinstance(data, Dataset):
            raise TypeError("a conditional GAN needs labelled data: a Dataset of (image, label) pairs such as "
                            "GlyphDataset or torch.utils.data.TensorDataset(images, labels), got "
                            f"{type(data).__name__}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if isinstance(data, (torch.Tensor, Dataset)):
            n = data.shape[0] if isinstance(data, torch.Tensor) else len(data)  # type: ignore[arg-type]
            if n < batch_size:
                raise ValueError(f"the data {'tensor' if isinstance(data, torch.Tensor) else 'Dataset'} holds "
                                 f"{n} samples, fewer than batch_size={batch_size}")
        elif not callable(data):
            raise TypeError(
                "data must be a sampler (a function n -> tensor of n samples, e.g. `lambda n: ring.sample(n)`), "
                f"a tensor of samples or a torch Dataset; got {type(data).__name__}"
            )
        self.data, self.batch_size, self.labels = data, batch_size, labels
        self.order: torch.Tensor | None = None  # this pass's shuffled indices
        self.position = 0

    def __iter__(self) -> RealBatches:
        return self

    def __next__(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(self.data, (torch.Tensor, Dataset)):
            return self._sample()
        n = self.data.shape[0] if isinstance(self.data, torch.Tensor) else len(self.data)  # type: ignore[arg-type]
        if self.order is None or self.position + self.batch_size > n:
            self.order, self.position = torch.randperm(n), 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        if isinstance(self.data, torch.Tensor):
            return self.data[index]
        # What a DataLoader without workers does: fetch each item, then stack them.
        batch = default_collate([self.data[i] for i in index.tolist()])
        if self.labels:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError("a conditional GAN needs a Dataset whose items are (image, label) pairs")
            return batch[0], batch[1]
        # Labelled datasets yield (images, labels): a GAN only needs the images.
        return batch[0] if isinstance(batch, (tuple, list)) else batch

    def _sample(self) -> torch.Tensor:
        batch = self.data(self.batch_size)  # type: ignore[operator]
        if not isinstance(batch, torch.Tensor) or batch.shape[0] != self.batch_size:
            raise ValueError(
                f"the sampler must return a tensor of {self.batch_size} samples when called with {self.batch_size}, "
                f"got {type(batch).__name__} of shape {tuple(getattr(batch, 'shape', ()))}"
            )
        return batch

    def state_dict(self) -> dict[str, object]:
        """Return the place in the data: this pass's order and the position in it."""
        return {"order": self.order, "position": self.position}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Continue from a place returned by ``state_dict()``."""
        self.order, self.position = state["order"], int(state["position"])  # type: ignore[assignment,call-overload]


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Within the block, ``module``'s parameters need no gradient; afterwards each is as it was.

    Autograd decides at the forward pass which gradients the backward pass computes, so a forward
    pass inside the block leaves the module's weights out of the later backward pass.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:  # even when interrupted: a D left frozen would silently stop learning in the next run
        for p in params:
            p.requires_grad_(True)


def _layer_name(parameter_name: str) -> str:
    """Return the layer that owns a parameter: 'net.0' for 'net.0.weight' and for a spectral-normed
    'net.0.parametrizations.weight.original'."""
    parts = parameter_name.split(".")
    parts = parts[: parts.index("parametrizations")] if "parametrizations" in parts else parts[:-1]
    return ".".join(parts) or "(top)"


def layer_grad_norms(module: nn.Module) -> dict[str, torch.Tensor]:
    """Return the L2 norm of the gradient of each layer's parameters (0-d tensors), keyed by layer name.

    The layers come in the order of ``module.named_parameters()``; a layer's weight and bias make one
    vector. Parameters without a gradient count as zeros.
    """
    groups: dict[str, list[torch.Tensor]] = {}
    for name, p in module.named_parameters():
        grads = groups.setdefault(_layer_name(name), [])
        if p.grad is not None:
            grads.append(torch.linalg.vector_norm(p.grad.float()))
    device = next(module.parameters()).device
    return {layer: torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.zeros((), device=device)
            for layer, norms in groups.items()}


def ema_copy(G: nn.Module) -> nn.Module:
    """Return a frozen copy of G in eval mode, to hold the exponential moving average of its weights."""
    return copy.deepcopy(G).eval().requires_grad_(False)


@torch.no_grad()
def update_ema_(G_ema: nn.Module, G: nn.Module, decay: float) -> None:
    """Move G_ema towards G in place: w_ema <- decay * w_ema + (1 - decay) * w; buffers are copied.

    decay = 0 makes G_ema a copy of G; decay = 1 leaves it where it started. The buffers (batch
    norm's running statistics) are copied, not averaged: they describe G's current activations.
    """
    if not 0 <= decay <= 1:
        raise ValueError(f"decay must lie in [0, 1], got {decay!r}")
    for w_ema, w in zip(G_ema.parameters(), G.parameters(), strict=True):
        # mul then add, not lerp: decay 0 and 1 then give G's and the old weights exactly.
        w_ema.mul_(decay).add_(w, alpha=1 - decay)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)


def save_samples(folder: str | Path, z: torch.Tensor, *, nrow: int = 8) -> Callback:
    """Return a ``train_gan`` callback that saves G(z) as one PNG grid, ``folder/samples_<step>.png``.

    G runs in eval mode on the fixed noise ``z`` (so batch norm uses its running statistics) and is
    switched back; images in [-1, 1] are mapped to [0, 1].
    """
    from torchvision.utils import save_image  # imported here: only this helper needs torchvision

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def callback(step: int, G: nn.Module, D: nn.Module) -> None:
        was_training = G.training
        G.eval()
        with torch.no_grad():
            images = G(z.to(next(G.parameters()).device)).float().cpu()
        G.train(was_training)
        if images.ndim != 4:
            raise ValueError(f"save_samples needs a generator of images (N, C, H, W); G(z) has shape "
                             f"{tuple(images.shape)}")
        save_image((images + 1) / 2, folder / f"samples_{step:06d}.png", nrow=nrow)

    return callback


class Recorder:
    """Collects each step's measurements on the device and moves them to the History in batches.

    Reading a number off a GPU (``.item()``) waits for all queued work: once per step, that stall
    is a large share of a small model's step. Here the numbers wait on the device and cross in one
    transfer every ``FLUSH_EVERY`` steps (and whenever the loop asks, before a callback or a save).
    It also drives the progress bar and the TensorBoard writer.
    """

    def __init__(self, history: History, config: TrainConfig, log_dir: str | Path | None, progress: bool) -> None:
        self.history, self.log_dir, self.progress, self.total = history, log_dir, progress, config.steps
        self.as_probability = config.loss in PROBABILITY_LOSSES
        self.pending: list[tuple[int, torch.Tensor, torch.Tensor | None]] = []
        self.layers: list[str] = []
        self.writer = None
        self.bar = None

    def __enter__(self) -> Recorder:
        return self

    def start(self, step: int) -> None:
        """Open the progress bar and the TensorBoard writer at ``step`` (0, or a resumed step)."""
        self.bar = tqdm(total=self.total, initial=step, desc="GAN", disable=not self.progress)
        if self.log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter  # imported here: TensorBoard is optional

            # purge_step: on resume, drop events a crashed run wrote after its last checkpoint.
            self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=step + 1 if step else None)

    def add(self, step: int, loss_d: torch.Tensor, loss_g: torch.Tensor, real_scores: torch.Tensor,
            fake_scores: torch.Tensor, gp: torch.Tensor, grad_norms: dict[str, torch.Tensor] | None) -> None:
        """Queue one step's numbers (tensors, still on the device)."""
        with torch.no_grad():
            real, fake = real_scores.detach().float(), fake_scores.detach().float()
            d_real, d_fake = (torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()) if self.as_probability \
                else (real.mean(), fake.mean())
            stats = torch.stack([loss_d.detach().float(), loss_g.detach().float(), d_real, d_fake,
                                 gp.detach().float(), real.mean() - fake.mean()])
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
        rows = torch.stack([stats for _, stats, _ in self.pending]).tolist()
        norms = [n.tolist() if n is not None else None for _, _, n in self.pending]
        for (step, _, _), row, layer_norms in zip(self.pending, rows, norms):
            grad_norms = dict(zip(self.layers, layer_norms)) if layer_norms is not None else None
            self.history.append(step, *row[:4], gp=row[4], w_estimate=row[5], grad_norms=grad_norms)
            if self.writer is not None:
                for tag, value in zip(("loss/D", "loss/G", "D/real", "D/fake", "loss/gp", "D/w_estimate"), row):
                    self.writer.add_scalar(tag, value, step)
                for layer, value in (grad_norms or {}).items():
                    self.writer.add_scalar(f"grad_norm/{layer}", value, step)
        self.pending.clear()
        self.bar.set_postfix(d_loss=f"{self.history.d_loss[-1]:.3f}", g_loss=f"{self.history.g_loss[-1]:.3f}",
                             refresh=False)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.flush()
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
