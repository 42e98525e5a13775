"""Differentiable augmentation for GANs on little data: DiffAugment (Zhao et al., 2020) and ADA's p (Karras et al., 2020).

With a few hundred training images D memorises them: its scores on the training images and on
held-out ones drift apart, and its gradient stops telling G anything about the distribution.
Augmenting the real images alone does not help: D then learns that translated, cut-out images
are real, and G learns to draw them (the augmentation "leaks" into the samples). DiffAugment
applies the same random family of transforms to reals and fakes, in the D step and in the G step,
so that D never sees an un-augmented image and G's gradient flows through the (differentiable)
transform. ADA applies each transform with a probability p that it adapts from how sure D is
of the reals: r_t = E[sign D(x_real)] above the target 0.6 means overfitting, so p goes up.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gancourse.checks import fraction, number

__all__ = ["POLICIES", "diff_augment", "ada_overfitting", "ada_adjust"]

POLICIES = ("color", "translation", "cutout")
BACKGROUND = -1.0  # images lie in [-1, 1] with a black (-1) background: a 0 fill would be mid-grey


def _rand(n: int, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, generator=generator).to(like.device, like.dtype)[:, None, None, None]


def _color(x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    n = x.shape[0]
    x = x + (_rand(n, g, x) - 0.5)                                   # brightness: +- 0.5
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, g, x) * 2) + mean                     # saturation: x [0, 2]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, g, x) + 0.5) + mean                # contrast: x [0.5, 1.5]


def _translation(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.125) -> torch.Tensor:
    n, c, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (n,), generator=g).to(x.device)
    dx = torch.randint(-sx, sx + 1, (n,), generator=g).to(x.device)
    padded = F.pad(x, (sx, sx, sy, sy), value=BACKGROUND)
    rows = (torch.arange(h, device=x.device)[None] + sy - dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=x.device)[None] + sx - dx[:, None])[:, None, None, :]
    idx_n = torch.arange(n, device=x.device)[:, None, None, None]
    idx_c = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[idx_n, idx_c, rows, cols]  # the image moved by (dy, dx), background flowing in


def _cutout(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h - size_y + 1, (n,), generator=g).to(x.device)[:, None]
    left = torch.randint(0, w - size_x + 1, (n,), generator=g).to(x.device)[:, None]
    ys, xs = torch.arange(h, device=x.device)[None], torch.arange(w, device=x.device)[None]
    inside_y = (ys >= top) & (ys < top + size_y)
    inside_x = (xs >= left) & (xs < left + size_x)
    hole = (inside_y[:, :, None] & inside_x[:, None, :])[:, None]
    return torch.where(hole, torch.full_like(x, BACKGROUND), x)


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout",
                 generator: torch.Generator | None = None, p: float = 1.0) -> torch.Tensor:
    """Return x (N, C, H, W) in [-1, 1] transformed by the ops of ``policy``, each drawn afresh per sample.

    ``policy``: comma-separated names from POLICIES, applied in that order: color (brightness,
    saturation, contrast), translation (by up to 1/8 of the side, whole pixels), cutout (a square
    of half the side). Translation and cutout fill with the background -1. Each op acts on each
    sample with probability ``p`` (ADA's p; 1 is DiffAugment). Differentiable in x.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be images of shape (N, C, H, W), got {getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(policy, str):
        raise TypeError(f"policy must be a string such as 'color,translation,cutout', got {policy!r}")
    names = [name.strip() for name in policy.split(",") if name.strip()]
    for name in names:
        if name not in _OPS:
            raise ValueError(f"policy may name only {', '.join(POLICIES)} (comma-separated), got {name!r}")
    fraction("p", p, "the probability of each op per sample; 1 for DiffAugment")
    for name in names:
        out = _OPS[name](x, generator)
        if p < 1:
            keep = torch.rand(x.shape[0], generator=generator).to(x.device)[:, None, None, None] >= p
            out = torch.where(keep, x, out)
        x = out
    return x


def ada_overfitting(real_scores: torch.Tensor) -> float:
    """Return ADA's r_t = E[sign D(x)] over D's raw scores on training images (1: D sure of them all)."""
    return float(torch.sign(real_scores.detach()).mean())


def ada_adjust(p: float, r_t: float, batch_size: int, interval: int = 4, target: float = 0.6,
               speed_images: int = 500_000) -> float:
    """Return ADA's next p: up when r_t > target, down otherwise, by a step that would cross [0, 1] in
    ``speed_images`` images (NVlabs' ada_kimg = 500), clamped to [0, 1]."""
    fraction("p", p, "the current augmentation probability")
    number("r_t", r_t, "E[sign D(real)], in [-1, 1]", at_least=-1, at_most=1)
    step = batch_size * interval / number("speed_images", speed_images, above=0)
    sign = (r_t > target) - (r_t < target)
    return min(1.0, max(0.0, p + sign * step))
