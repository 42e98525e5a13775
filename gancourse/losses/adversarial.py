"""The adversarial losses, computed from the discriminator's raw scores (logits or critic values).

The original GAN's losses (Goodfellow et al., 2014) take logits: with D(x) = sigmoid(l),
log D = -softplus(-l) and log(1 - D) = -softplus(l). Working in logits avoids the log(0) = -inf that
sigmoid-then-log hits once |l| exceeds about 17 in float32.

The Wasserstein losses (Arjovsky et al., 2017) take a critic's scores f(x), which are not
probabilities: the critic maximises E[f(x)] - E[f(G(z))], an estimate of the Earth-Mover distance
when f is 1-Lipschitz (``gancourse.losses.penalties`` keeps it so). The hinge losses (Lim and Ye,
2017; Miyato et al., 2018) go with spectral normalisation. The least-squares losses (Mao et al.,
2017) regress D's raw scores onto targets; CycleGAN trains with them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from gancourse.checks import float_tensor

__all__ = [
    "discriminator_loss",
    "minimax_generator_loss",
    "nonsaturating_generator_loss",
    "generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "LOSS_KINDS",
]


def _check_logits(name: str, logits: torch.Tensor) -> None:
    float_tensor(name, logits, "raw scores (logits)")


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


def least_squares_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Return ½ E[(D(x) - 1)²] + ½ E[D(G(z))²], LSGAN's D loss with targets 1 (real) and 0 (fake)."""
    _check_logits("real_scores", real_scores)
    _check_logits("fake_scores", fake_scores)
    # Mao et al. (2017) with a = 0, b = c = 1; CycleGAN's code halves D's loss the same way.
    return 0.5 * ((real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean())


def least_squares_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Return ½ E[(D(G(z)) - 1)²], LSGAN's G loss: fakes pulled toward the real target 1."""
    _check_logits("fake_scores", fake_scores)
    return 0.5 * (fake_scores - 1).pow(2).mean()


# loss kind -> (the discriminator's or critic's loss, the generator's loss); `TrainConfig.loss` names one.
LOSS_KINDS: dict[str, tuple[Callable[..., torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "nonsaturating": (discriminator_loss, nonsaturating_generator_loss),
    "minimax": (discriminator_loss, minimax_generator_loss),
    "wasserstein": (wasserstein_critic_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
}


def generator_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Return the generator loss named ``kind`` (a key of ``LOSS_KINDS``, e.g. 'nonsaturating') at ``fake_logits``."""
    if not isinstance(kind, str) or kind not in LOSS_KINDS:
        raise ValueError(f"unknown generator loss {kind!r}; choose one of {sorted(LOSS_KINDS)}")
    return LOSS_KINDS[kind][1](fake_logits)
