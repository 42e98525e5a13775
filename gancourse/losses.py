"""GAN losses computed from the discriminator's raw scores, the gradient penalty and weight clipping.

The original GAN's losses (Goodfellow et al., 2014) take logits: with D(x) = sigmoid(l),
log D = -softplus(-l) and log(1 - D) = -softplus(l). Working in logits avoids the log(0) = -inf that
sigmoid-then-log hits once |l| exceeds about 17 in float32.

The Wasserstein losses (Arjovsky et al., 2017) take a critic's scores f(x), which are not
probabilities: the critic maximises E[f(x)] - E[f(G(z))], an estimate of the Earth-Mover distance
when f is 1-Lipschitz. Two ways to keep f (roughly) 1-Lipschitz live here: clipping every weight
into [-c, c] (``clip_weights_``, WGAN) and penalising the critic's gradient norm away from 1 at
points between real and fake samples (``gradient_penalty``, WGAN-GP, Gulrajani et al., 2017). The
hinge losses (Lim and Ye, 2017; Miyato et al., 2018) go with spectral normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
    "generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "gradient_penalty",
    "clip_weights_",
    "LOSS_KINDS",
]


def _check_logits(name: str, logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of raw scores (logits), got {type(logits).__name__}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty: pass at least one score")
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


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Return E[f(G(z))] - E[f(x)], the loss the WGAN critic f minimises (minus its Earth-Mover estimate)."""
    _check_logits("real_scores", real_scores)
    _check_logits("fake_scores", fake_scores)
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Return -E[f(G(z))], the WGAN generator loss: G raises the critic's score of its samples."""
    _check_logits("fake_scores", fake_scores)
    return -fake_scores.mean()


def hinge_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Return E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], the hinge loss of the discriminator."""
    _check_logits("real_scores", real_scores)
    _check_logits("fake_scores", fake_scores)
    # Scores already beyond the margin (real >= 1, fake <= -1) add nothing: D stops pushing them.
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Return -E[D(G(z))], the generator's side of the hinge loss (no margin: the same as WGAN's)."""
    _check_logits("fake_scores", fake_scores)
    return -fake_scores.mean()


# loss kind -> (the discriminator's or critic's loss, the generator's loss); `TrainConfig.loss` names one.
LOSS_KINDS: dict[str, tuple[Callable[..., torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "nonsaturating": (discriminator_loss, nonsaturating_generator_loss),
    "minimax": (discriminator_loss, minimax_generator_loss),
    "wasserstein": (wasserstein_critic_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def generator_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Return the generator loss named ``kind`` (a key of ``LOSS_KINDS``, e.g. 'nonsaturating') at ``fake_logits``."""
    if not isinstance(kind, str) or kind not in LOSS_KINDS:
        raise ValueError(f"unknown generator loss {kind!r}; choose one of {sorted(LOSS_KINDS)}")
    return LOSS_KINDS[kind][1](fake_logits)


def _check_samples(name: str, x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor batch of samples, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] == 0 or x.numel() == 0:
        raise ValueError(f"{name} must hold at least one sample along its first (batch) dimension, "
                         f"got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    return x


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
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c) or c <= 0:
        raise ValueError(f"the clipping bound c must be a positive finite number (WGAN uses 0.01), got {c!r}")
    for p in module.parameters():
        p.clamp_(-c, c)
