"""Pictures of a GAN at work: image grids, 2-D samples over D's decision surface, training curves."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from gancourse.training import History

__all__ = ["image_grid", "decision_surface", "plot_samples_2d", "plot_snapshots_2d", "plot_history"]

Bounds = tuple[float, float, float, float]
Snapshot = tuple[int, torch.Tensor, nn.Module]  # (step, samples (N, 2), discriminator at that step)


def _to_numpy(name: str, x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Return ``x`` as a float numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float32).numpy()
    if isinstance(x, np.ndarray):
        return x.astype(np.float32, copy=False)
    raise TypeError(f"{name} must be a torch tensor or a numpy array, got {type(x).__name__}")


def image_grid(
    images: torch.Tensor | np.ndarray,
    nrow: int = 8,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    padding: int = 2,
) -> Figure:
    """Return a figure showing images (N, C, H, W) with values in [-1, 1] as a grid, ``nrow`` images per row.

    C is 1 (grey) or 3 (RGB). Values outside [-1, 1] raise ValueError rather than being clipped.
    """
    x = _to_numpy("images", images)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.shape[0] == 0:
        raise ValueError(f"images must have shape (N, C, H, W) with C = 1 or 3 and N >= 1, got {x.shape}")
    if not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow must be a positive int (images per row), got {nrow!r}")
    if not np.isfinite(x).all():
        raise ValueError("images hold NaN or inf values (a diverged generator?); pass finite pixels in [-1, 1]")
    if x.min() < -1 or x.max() > 1:
        raise ValueError(
            f"images must lie in [-1, 1] (got min {x.min():.3g}, max {x.max():.3g}), as a tanh generator's "
            "output does; rescale images in [0, 1] with x * 2 - 1"
        )
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    # One canvas, images separated by `padding` pixels of white (+1), like torchvision's make_grid.
    canvas = np.ones((c, rows * (h + padding) + padding, cols * (w + padding) + padding), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        canvas[:, top : top + h, left : left + w] = x[i]
    canvas = (canvas + 1) / 2  # [-1, 1] -> [0, 1] for imshow
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.6 * cols + 0.4, 0.6 * rows + 0.6))
    else:
        fig = ax.figure
    if c == 1:
        ax.imshow(canvas[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(canvas.transpose(1, 2, 0), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def decision_surface(
    discriminator: nn.Module, bounds: Bounds, resolution: int = 120
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (xx, yy, D) on a resolution x resolution grid over bounds: D = sigmoid(logit), the probability "real"."""
    xmin, xmax, ymin, ymax = bounds
    if not (xmin < xmax and ymin < ymax):
        raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax, got {bounds}")
    xs = np.linspace(xmin, xmax, resolution, dtype=np.float32)
    ys = np.linspace(ymin, ymax, resolution, dtype=np.float32)
    xx, yy = np.meshgrid(xs, ys)
    param = next(discriminator.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    grid = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1)).to(device)
    was_training = discriminator.training
    discriminator.eval()
    with torch.no_grad():
        prob = torch.sigmoid(discriminator(grid)).cpu().numpy().reshape(xx.shape)
    discriminator.train(was_training)
    return xx, yy, prob


def plot_samples_2d(
    samples: torch.Tensor | np.ndarray,
    real: torch.Tensor | np.ndarray | None = None,
    discriminator: nn.Module | None = None,
    *,
    ax: Axes | None = None,
    bounds: Bounds | None = None,
    title: str | None = None,
    colorbar: bool = False,
) -> Axes:
    """Return the axes with generated 2-D samples drawn over real ones and over D's decision surface.

    The surface is D(x) = sigmoid(logit) as a filled contour from 0 (surely fake) to 1 (surely real).
    Without ``bounds`` the view fits the real samples (or the generated ones) with a margin.
    """
    fake = _to_numpy("samples", samples)
    if fake.ndim != 2 or fake.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2), got {fake.shape}")
    true = None if real is None else _to_numpy("real", real)
    if true is not None and (true.ndim != 2 or true.shape[1] != 2):
        raise ValueError(f"real must have shape (N, 2), got {true.shape}")
    if bounds is None:
        ref = true if true is not None else fake
        lo, hi = ref.min(0), ref.max(0)
        pad = 0.25 * float((hi - lo).max()) + 0.1
        bounds = (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    if discriminator is not None:
        xx, yy, prob = decision_surface(discriminator, bounds)
        filled = ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu", vmin=0, vmax=1, alpha=0.8)
        if colorbar:
            ax.figure.colorbar(filled, ax=ax, label="D(x)")
    if true is not None:
        ax.scatter(true[:, 0], true[:, 1], s=4, c="black", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="darkorange", alpha=0.6, label="generated")
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_snapshots_2d(
    snapshots: Sequence[Snapshot],
    real: torch.Tensor | np.ndarray | None = None,
    *,
    bounds: Bounds | None = None,
    panel_size: float = 3.0,
) -> Figure:
    """Return a one-row figure, one panel per (step, samples, discriminator) snapshot, with a shared D(x) colour bar."""
    if len(snapshots) == 0:
        raise ValueError("snapshots is empty: collect (step, samples, discriminator) tuples during training")
    fig, axes = plt.subplots(1, len(snapshots), figsize=(panel_size * len(snapshots) + 0.8, panel_size + 0.4),
                             squeeze=False, layout="constrained")
    for ax, (step, samples, disc) in zip(axes[0], snapshots):
        plot_samples_2d(samples, real, disc, ax=ax, bounds=bounds, title=f"step {step}")
        ax.label_outer()
    mappable = plt.cm.ScalarMappable(cmap="RdBu", norm=plt.Normalize(0, 1))
    fig.colorbar(mappable, ax=axes[0].tolist(), label="D(x)", shrink=0.8)
    return fig


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Return the running mean of ``values`` over ``window`` steps (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(history: History, *, smooth: int = 25, title: str | None = None) -> Figure:
    """Return a two-panel figure: the D and G losses, and mean D(x) and D(G(z)), against the step.

    Curves are running means over ``smooth`` steps (1: raw); the dashed lines mark the equilibrium of
    the game, D = 1/2 and D loss = 2 log 2 (Goodfellow et al., 2014).
    """
    if len(history) == 0:
        raise ValueError("history is empty: train for at least one step")
    if not isinstance(smooth, int) or smooth < 1:
        raise ValueError(f"smooth must be a positive int (steps to average over), got {smooth!r}")
    steps = np.asarray(history.step)
    fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    ax_loss.plot(steps, _smooth(history.d_loss, smooth), label="D loss")
    ax_loss.plot(steps, _smooth(history.g_loss, smooth), label="G loss")
    ax_loss.axhline(2 * math.log(2), ls="--", c="grey", lw=1, label="2 log 2")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("Losses")
    ax_loss.legend()
    ax_d.plot(steps, _smooth(history.d_real, smooth), label="D(x), real")
    ax_d.plot(steps, _smooth(history.d_fake, smooth), label="D(G(z)), generated")
    ax_d.axhline(0.5, ls="--", c="grey", lw=1, label="1/2")
    ax_d.set_ylim(-0.02, 1.02)
    ax_d.set_xlabel("step")
    ax_d.set_ylabel("mean D output")
    ax_d.set_title("What D says")
    ax_d.legend()
    if title:
        fig.suptitle(title)
    return fig
