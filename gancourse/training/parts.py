"""The parts every training loop uses: optimisers, learning-rate schedules applied, freezing, EMA,
per-layer gradient norms and sample snapshots.

Each is small and usable alone (chapter 4 calls ``layer_grad_norms`` on its own critics); the loop
in ``gancourse.training.loop`` reads as the algorithm because these live here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from gancourse import checks
from gancourse.models.noise import generate

__all__ = ["make_optimizer", "set_learning_rate", "frozen", "layer_grad_norms", "ema_copy", "update_ema_",
           "save_samples", "Callback"]

Callback = Callable[[int, nn.Module, nn.Module], None]  # callback(step, G, D)


def make_optimizer(name: str, model: nn.Module, lr: float, betas: tuple[float, float] = (0.5, 0.999)
                   ) -> torch.optim.Optimizer:
    """Return the optimiser ``name`` ('adam' or 'rmsprop') over ``model``'s parameters."""
    checks.one_of("optimizer", name, ("adam", "rmsprop"))
    if name == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=lr)
    return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group of ``optimizer`` (a schedule's step)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


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
    checks.fraction("decay", decay, "the EMA's weight on its old value, e.g. 0.999")
    for w_ema, w in zip(G_ema.parameters(), G.parameters(), strict=True):
        # mul then add, not lerp: decay 0 and 1 then give G's and the old weights exactly.
        w_ema.mul_(decay).add_(w, alpha=1 - decay)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)


def save_samples(folder: str | Path, z: torch.Tensor, *, nrow: int = 8) -> Callback:
    """Return a ``train_gan`` callback that saves G(z) as one PNG grid, ``folder/samples_<step>.png``.

    G runs on the fixed noise ``z`` through ``generate`` (eval mode, so batch norm uses its running
    statistics, then switched back); images in [-1, 1] are mapped to [0, 1].
    """
    from torchvision.utils import save_image  # imported here: only this helper needs torchvision

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def callback(step: int, G: nn.Module, D: nn.Module) -> None:
        images = generate(G, z=z)
        if images.ndim != 4:
            raise ValueError(f"save_samples needs a generator of images (N, C, H, W); G(z) has shape "
                             f"{tuple(images.shape)}")
        save_image((images + 1) / 2, folder / f"samples_{step:06d}.png", nrow=nrow)

    return callback
