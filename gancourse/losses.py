"""GAN losses computed from the discriminator's logits, stable for any logit.

With D(x) = sigmoid(l): log D = -softplus(-l) and log(1 - D) = -softplus(l). Working in logits
avoids the log(0) = -inf that sigmoid-then-log hits once |l| exceeds about 17 in float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
    "generator_loss",
]


def _check_logits(name: str, logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of logits, got {type(logits).__name__}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty: pass at least one logit")
    if not torch.is_floating_point(logits):
        raise TypeError(f"{name} must be a floating-point tensor, got {logits.dtype}")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Return -E[log D(x)] - E[log(1 - D(G(z)))], the binary cross-entropy the discriminator minimises."""
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Return E[log(1 - D(G(z)))], the saturating loss G minimises in the original minimax game."""
    _check_logits("fake_logits", fake_logits)
    return -F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Return -E[log D(G(z))], the non-saturating ("-log D trick") generator loss."""
    _check_logits("fake_logits", fake_logits)
    return F.softplus(-fake_logits).mean()


_GENERATOR_LOSSES = {"minimax": minimax_generator_loss, "nonsaturating": nonsaturating_generator_loss}


def generator_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Return the generator loss named ``kind`` ('minimax' or 'nonsaturating') at ``fake_logits``."""
    if not isinstance(kind, str) or kind not in _GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {kind!r}; choose one of {sorted(_GENERATOR_LOSSES)}")
    return _GENERATOR_LOSSES[kind](fake_logits)
