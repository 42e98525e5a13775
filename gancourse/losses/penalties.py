"""Keeping a critic (roughly) 1-Lipschitz: the gradient penalty of WGAN-GP and WGAN's weight clipping.

The Wasserstein losses estimate the Earth-Mover distance only when the critic f is 1-Lipschitz.
WGAN (Arjovsky et al., 2017) clips every weight into [-c, c] (``clip_weights_``); WGAN-GP
(Gulrajani et al., 2017) penalises the critic's gradient norm away from 1 at points between real
and fake samples (``gradient_penalty``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gancourse.checks import float_tensor, number

__all__ = ["gradient_penalty", "clip_weights_"]


def _check_samples(name: str, x: object) -> torch.Tensor:
    if isinstance(x, torch.Tensor) and (x.ndim < 1 or x.numel() == 0):
        raise ValueError(f"{name} must hold at least one sample along its first (batch) dimension, "
                         f"got shape {tuple(x.shape)}")
    return float_tensor(name, x, "samples, batch first")


def gradient_penalty(
    critic: Callable[..., torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *critic_args: object,
    alpha: torch.Tensor | None = None,
    **critic_kwargs: object,
) -> torch.Tensor:
    """Return E[(||grad f(x_hat)||_2 - 1)^2], the WGAN-GP penalty WITHOUT its weight lambda.

    x_hat = alpha * real + (1 - alpha) * fake with ONE alpha ~ U(0, 1) per sample, the same for all
    of that sample's pixels: x_hat then lies on the straight line between a real and a fake sample,
    where the optimal critic has gradient norm 1. The norm is the L2 norm over all non-batch
    dimensions (the whole image), one per sample. ``critic_args`` and ``critic_kwargs`` pass through
    to the critic, e.g. the labels of a conditional critic: ``gradient_penalty(f, x, G(z, y), y)``.
    ``alpha`` (shape (N,)) fixes the interpolation weights instead of drawing them (for tests and
    worked examples). The penalty is differentiable with respect to the critic's parameters
    (``create_graph=True``); ``real`` and ``fake`` are detached, so it never reaches G.
    The critic must treat each sample alone (no batch norm): the penalty is per sample.
    """
    if not callable(critic):
        raise TypeError(f"critic must be a callable (a module returning one score per sample), "
                        f"got {type(critic).__name__}")
    real, fake = _check_samples("real", real), _check_samples("fake", fake)
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape to interpolate between them, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}; draw as many fakes as real samples")
    n = real.shape[0]
    if alpha is None:
        alpha = torch.rand(n, device=real.device, dtype=real.dtype)
    elif not isinstance(alpha, torch.Tensor) or alpha.shape != (n,):
        raise ValueError(f"alpha must be a tensor of shape ({n},): one weight per sample, "
                         f"got {tuple(getattr(alpha, 'shape', ())) or type(alpha).__name__}")
    alpha = alpha.to(real.device, real.dtype).view(n, *([1] * (real.ndim - 1)))  # broadcast over the pixels
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat, *critic_args, **critic_kwargs)
    if not isinstance(scores, torch.Tensor) or scores.ndim == 0 or scores.shape[0] != n or scores.numel() != n:
        raise ValueError(f"the critic must return one score per sample, shape ({n},) or ({n}, 1); "
                         f"got {tuple(getattr(scores, 'shape', ())) or type(scores).__name__}")
    # The sum's gradient w.r.t. x_hat[i] is the gradient of score i alone: the samples do not interact.
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    grad = grad.flatten(1)
    if grad.dtype in (torch.float16, torch.bfloat16):
        grad = grad.float()  # a sum of many squares overflows half precision
    norm = torch.linalg.vector_norm(grad, ord=2, dim=1)
    return ((norm - 1) ** 2).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` into [-c, c] in place (WGAN's crude Lipschitz constraint)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"clip_weights_ takes an nn.Module (the critic), got {type(module).__name__}")
    c = number("the clipping bound c", c, "WGAN uses 0.01", above=0)
    for p in module.parameters():
        p.clamp_(-c, c)
