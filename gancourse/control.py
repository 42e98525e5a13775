"""Controllable generation: move z so that a classifier sees more of an attribute in G(z).

A trained generator is left as it is; what changes is its input. With a differentiable classifier
C mapping images to one logit per attribute, the target attribute's logit l_t(G(z)) is a
differentiable function of z, so gradient ASCENT on z raises it:

    z <- z + lr * d score / d z                                     (``noise_update``)

The plain score is the target logit. Attributes are correlated in the data (thick strokes with bold
fonts, beards with "male"), and G's z-space inherits the correlation, so pushing one logit drags
others along. The penalised score keeps the other attributes where they started:

    score(z) = l_t(G(z)) - penalty_weight * sum_{j != t} (l_j(G(z)) - l_j(G(z_0)))^2
                                                                    (``score_with_penalty``)

a squared L2 distance between the other attributes' LOGITS now and at the starting z_0. Logits,
not probabilities: a probability saturates near 0 and 1, where its change (and its gradient) says
little about how far the attribute really moved. The square makes the penalty smooth with zero
gradient at z_0: the first step is pure ascent, and the penalty pulls back only once the others drift.

Scores are per sample (shape (N,)) and the gradient is taken of their SUM, so each z_i moves by
the gradient of its own score (a mean would shrink every step by 1/N).

A second, gradient-free way to find a direction: the mean z of samples with the attribute minus
the mean z of samples without it (``mean_difference_direction``).

Text instead of a classifier (``steer_to_caption``): with a text encoder and an image encoder
trained together (``gancourse.training.train_text_image``), the score is the cosine between the
caption's embedding and the image's. Two guards keep the ascent from fooling the image encoder
with a non-glyph: each step scores a randomly shifted copy of the image (a fooling pattern rarely
survives a shift, a real stroke does), and z is put back on the sphere of radius sqrt(z_dim)
where nearly all of N(0, I)'s mass lies, so G only ever sees noise like its training noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Literal

import pandas as pd
import torch
from torch import nn

from gancourse import checks

__all__ = [
    "noise_update",
    "score_with_penalty",
    "target_gradient",
    "steer",
    "SteeringResult",
    "mean_difference_direction",
    "frozen_eval",
    "CaptionSteering",
    "steer_to_caption",
]


def noise_update(z: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """Return z + lr * grad, one step of gradient ascent on z (a new tensor; z is left unchanged)."""
    if z.shape != grad.shape:
        raise ValueError(f"grad must have z's shape {tuple(z.shape)}, got {tuple(grad.shape)}")
    return z + lr * grad


def _other_indices(n_attributes: int, target: int, others: Sequence[int] | None) -> list[int]:
    """Return the attributes the penalty covers: ``others``, or every attribute but the target."""
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < n_attributes:
        raise ValueError(f"target must be an attribute index in 0..{n_attributes - 1}, got {target!r}")
    if others is None:
        return [j for j in range(n_attributes) if j != target]
    others = list(others)
    if target in others or len(set(others)) != len(others) or not all(
            isinstance(j, int) and not isinstance(j, bool) and 0 <= j < n_attributes for j in others):
        raise ValueError(f"others must be distinct attribute indices in 0..{n_attributes - 1} without the target "
                         f"{target}, got {others!r}")
    return others


def score_with_penalty(logits: torch.Tensor, original_logits: torch.Tensor, target: int, penalty_weight: float,
                       others: Sequence[int] | None = None,
                       penalty: Literal["squared", "norm"] = "squared") -> torch.Tensor:
    """Return each sample's score, shape (N,): its target logit minus penalty_weight times the squared L2
    change of the other attributes' logits from ``original_logits`` (those at the starting z).

    ``others``: the attributes to hold still (default: all but the target).
    ``penalty="norm"``: the unsquared L2 norm of the change instead (seed 003's form), whose gradient
    has length penalty_weight * |d change/dz applied to a unit vector| however small the change is,
    and which is not differentiable at no change (PyTorch uses the subgradient 0 there).
    """
    if logits.ndim != 2 or logits.shape != original_logits.shape:
        raise ValueError(f"logits and original_logits must both be (N, n_attributes), got {tuple(logits.shape)} "
                         f"and {tuple(original_logits.shape)}")
    if isinstance(penalty_weight, bool) or not isinstance(penalty_weight, (int, float)) or not (
            0 <= penalty_weight < math.inf):
        raise ValueError(f"penalty_weight must be a finite number >= 0 (0: no penalty), got {penalty_weight!r}")
    if penalty not in ("squared", "norm"):
        raise ValueError(f"penalty must be 'squared' (sum of squared changes) or 'norm' (their L2 norm), "
                         f"got {penalty!r}")
    other = _other_indices(logits.shape[1], target, others)
    change = logits[:, other] - original_logits[:, other].detach()
    if penalty == "norm":
        return logits[:, target] - penalty_weight * torch.linalg.vector_norm(change, dim=1)
    return logits[:, target] - penalty_weight * (change**2).sum(dim=1)


@contextmanager
def frozen_eval(*modules: nn.Module) -> Iterator[None]:
    """Within the block, each module is in eval mode with no parameter requiring grad; afterwards as before.

    Eval mode: batch norm uses its running statistics, so each sample's image depends on its own z
    only. requires_grad off: gradients reach z THROUGH the networks without being stored in them.
    """
    saved = [(m, m.training, [(p, p.requires_grad) for p in m.parameters()]) for m in modules]
    for m in modules:
        m.eval()
        m.requires_grad_(False)
    try:
        yield
    finally:
        for m, training, flags in saved:
            m.train(training)
            for p, flag in flags:
                p.requires_grad_(flag)


def _logits(classifier: nn.Module, images: torch.Tensor) -> torch.Tensor:
    logits = classifier(images)
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != images.shape[0]:
        raise ValueError(f"the classifier must map N images to logits of shape (N, n_attributes), got "
                         f"{tuple(getattr(logits, 'shape', ())) or type(logits).__name__}")
    return logits


def target_gradient(G: nn.Module, classifier: nn.Module, z: torch.Tensor, target: int) -> torch.Tensor:
    """Return d l_target(G(z)) / dz for each sample, shape like z (G and the classifier frozen in eval mode)."""
    with frozen_eval(G, classifier):
        z = z.detach().requires_grad_(True)
        logits = _logits(classifier, G(z))
        _other_indices(logits.shape[1], target, None)
        (grad,) = torch.autograd.grad(logits[:, target].sum(), z)
    return grad


@dataclass
class SteeringResult:
    """The trajectory of ``steer``: index 0 is the starting z, index k the z after k updates."""

    z: torch.Tensor                    # (steps + 1, N, z_dim)
    logits: torch.Tensor               # (steps + 1, N, n_attributes): the classifier's logits of G(z)
    probabilities: torch.Tensor        # (steps + 1, N, n_attributes): sigmoid or softmax of the logits
    target_probability: torch.Tensor   # (steps + 1, N)
    other_change: torch.Tensor         # (steps + 1, N): L2 norm of the other logits' change from step 0
    other_probability_change: torch.Tensor  # (steps + 1, N): mean |change| of the other probabilities
    target: int
    others: list[int]

    def to_frame(self) -> pd.DataFrame:
        """Return the means over the samples per step: target probability and the two off-target changes."""
        return pd.DataFrame({
            "target_probability": self.target_probability.mean(1).numpy(),
            "other_change": self.other_change.mean(1).numpy(),
            "other_probability_change": self.other_probability_change.mean(1).numpy(),
        }, index=pd.RangeIndex(len(self.z), name="step"))


def steer(G: nn.Module, classifier: nn.Module, z: torch.Tensor, target: int, *, steps: int = 10, lr: float = 0.1,
          penalty_weight: float = 0.0, others: Sequence[int] | None = None,
          activation: Literal["sigmoid", "softmax"] = "sigmoid",
          penalty: Literal["squared", "norm"] = "squared") -> SteeringResult:
    """Return the trajectory of ``steps`` gradient-ascent updates of z on ``score_with_penalty``.

    G and the classifier are frozen in eval mode during the run and restored afterwards; z is not
    modified. ``penalty_weight=0`` ascends the target logit alone; ``penalty`` picks the squared
    (default) or the unsquared L2 change of the other logits (see ``score_with_penalty``). ``activation`` turns logits into
    the reported probabilities: 'sigmoid' for independent binary attributes (multi-label), 'softmax'
    for one class out of many. Everything returned is detached and on the CPU.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
        raise ValueError(f"lr must be a finite number (the step size of gradient ascent), got {lr!r}")
    if activation not in ("sigmoid", "softmax"):
        raise ValueError(f"activation must be 'sigmoid' (binary attributes) or 'softmax' (classes), got {activation!r}")
    if penalty not in ("squared", "norm"):
        raise ValueError(f"penalty must be 'squared' or 'norm', got {penalty!r}")
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        raise ValueError(f"z must be a batch of noise vectors, shape (N, z_dim), got {tuple(getattr(z, 'shape', ()))}")
    zs, all_logits = [], []
    with frozen_eval(G, classifier):
        z = z.detach().clone()
        with torch.no_grad():
            original = _logits(classifier, G(z))
        other = _other_indices(original.shape[1], target, others)
        for step in range(steps + 1):
            z.requires_grad_(True)
            logits = _logits(classifier, G(z))
            zs.append(z.detach().cpu())
            all_logits.append(logits.detach().cpu())
            if step == steps:
                break
            score = score_with_penalty(logits, original, target, penalty_weight, other, penalty)
            # The sum: each z_i gets the gradient of its own score (the samples do not interact in eval mode).
            (grad,) = torch.autograd.grad(score.sum(), z)
            z = noise_update(z.detach(), grad, lr)
    logits = torch.stack(all_logits)
    probs = torch.sigmoid(logits) if activation == "sigmoid" else torch.softmax(logits, dim=-1)
    return SteeringResult(
        z=torch.stack(zs),
        logits=logits,
        probabilities=probs,
        target_probability=probs[:, :, target],
        other_change=torch.linalg.vector_norm(logits[:, :, other] - logits[:1, :, other], dim=-1),
        other_probability_change=(probs[:, :, other] - probs[:1, :, other]).abs().mean(-1),
        target=target,
        others=other,
    )


def mean_difference_direction(z: torch.Tensor, has_attribute: torch.Tensor) -> torch.Tensor:
    """Return mean(z | attribute) - mean(z | no attribute), shape (z_dim,): a direction in z that adds it.

    ``has_attribute`` is a boolean (or 0/1) tensor of shape (N,), e.g. a classifier's verdict on G(z).
    """
    if z.ndim != 2 or has_attribute.shape != z.shape[:1]:
        raise ValueError(f"z must be (N, z_dim) and has_attribute (N,), got {tuple(z.shape)} and "
                         f"{tuple(has_attribute.shape)}")
    if has_attribute.dtype != torch.bool:
        if not ((has_attribute == 0) | (has_attribute == 1)).all():
            raise ValueError("has_attribute must be boolean or 0/1; threshold probabilities first (p > 0.5)")
        has_attribute = has_attribute.bool()
    n_with = int(has_attribute.sum())
    if n_with == 0 or n_with == len(has_attribute):
        raise ValueError(f"both groups need samples: {n_with} of {len(has_attribute)} have the attribute; "
                         "draw more samples or pick a less rare attribute")
    return z[has_attribute].mean(0) - z[~has_attribute].mean(0)


@dataclass
class CaptionSteering:
    """What ``steer_to_caption`` did: the latents and images before and after, and the cosine per step."""

    z_start: torch.Tensor  # (N, z_dim): the best of the candidates drawn for each caption
    z: torch.Tensor  # (N, z_dim) after the ascent
    start_images: torch.Tensor
    images: torch.Tensor
    similarity: torch.Tensor  # (steps + 1, N): cosine(caption, G(z)) without a shift, per step
    candidate_similarity: torch.Tensor  # (n_candidates, N): the cosine of every candidate drawn


def _shifted(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    if shift == 0:
        return x
    dx, dy = (torch.randint(-shift, shift + 1, (2,), generator=generator)).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def steer_to_caption(generate: Callable[[torch.Tensor], torch.Tensor], z_dim: int, image_encoder: nn.Module,
                     text_embeddings: torch.Tensor, *, n_candidates: int = 16, steps: int = 100, lr: float = 0.1,
                     shift: int = 2, seed: int = 0) -> CaptionSteering:
    """Return latents whose images ``generate(z)`` match the captions' ``text_embeddings`` (N, d), one per caption.

    First the best of ``n_candidates`` random z per caption by cosine (re-ranking, as DALL-E
    re-ranked with CLIP); then ``steps`` Adam steps (``lr``) of ascent on the cosine of a copy
    shifted by up to ``shift`` px, z projected back onto the sphere of radius sqrt(z_dim) after
    each. ``generate`` must be frozen (wrap G in ``frozen_eval``); for a conditional G pass
    ``lambda z: G(z, y)``.
    """
    n_candidates = int(checks.positive_int("n_candidates", n_candidates, "random starts per caption, e.g. 16"))
    steps = checks.integer("steps", steps, "Adam steps on z", at_least=0)
    checks.number("lr", lr, "Adam's step size on z, e.g. 0.1", at_least=0.0)
    shift = checks.integer("shift", shift, "the largest random shift in px, 0 for none", at_least=0)
    if not isinstance(text_embeddings, torch.Tensor) or text_embeddings.ndim != 2:
        raise ValueError("text_embeddings must be (N, d): one embedded caption per sample")
    t = text_embeddings.detach()
    n, radius = len(t), math.sqrt(z_dim)
    gen = torch.Generator().manual_seed(checks.integer("seed", seed, at_least=0))
    with frozen_eval(image_encoder), torch.no_grad():
        zs = torch.randn(n_candidates, n, z_dim, generator=gen)
        cand = torch.stack([(image_encoder(generate(zc)) * t).sum(dim=1) for zc in zs])
        z_start = zs[cand.argmax(dim=0), torch.arange(n)]
        z = z_start.clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        sims = []
        for step in range(steps + 1):
            with torch.enable_grad():
                images = generate(z)
                sims.append((image_encoder(images.detach()) * t).sum(dim=1))
                if step == steps:
                    break
                loss = -(image_encoder(_shifted(images, shift, gen)) * t).sum(dim=1).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            z.mul_(radius / z.norm(dim=1, keepdim=True))
        start_images = generate(z_start)
    return CaptionSteering(z_start, z.detach(), start_images, images.detach(), torch.stack(sims), cand)
