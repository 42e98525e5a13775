"""The regularisers of BigGAN and StyleGAN2: orthogonality, R1, path length, lazy regularisation.

- ``orthogonal_regularization(module)``: BigGAN's (Brock et al., 2019) penalty on the cosine
  similarity between the rows of every weight, not on their norms; it makes G smooth enough that
  the truncation trick keeps working. The caller multiplies by beta (1e-4 in BigGAN).
- ``r1_penalty(D, real)``: the squared norm of D's gradient at the real images (Mescheder et al.,
  2018); StyleGAN2 adds gamma / 2 times it to D's loss.
- ``path_length_penalty``: StyleGAN2's: a fixed-size step in W should move the image by a fixed
  amount in every direction; the penalty is the spread of that amount around its running mean.
- ``lazy_regularization(lr, betas, interval)``: Adam's settings when a penalty runs every
  ``interval`` minibatches only (weighted by ``interval``), as StyleGAN2's code rescales them.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import number, positive_int

__all__ = ["orthogonal_regularization", "r1_penalty", "path_length_penalty", "lazy_regularization"]

_WEIGHTED = (nn.Linear, nn.modules.conv._ConvNd)


def orthogonal_regularization(module: nn.Module) -> torch.Tensor:
    """Return the sum over every linear and convolution weight W of ||W Wᵀ ⊙ (1 - I)||²_F.

    Each W is reshaped to (W.shape[0], rest), one row per output unit (BigGAN's reshape, also for
    transposed convolutions). The diagonal (each row's squared norm) is not penalised, so the
    value is 0 exactly when the rows are orthogonal, whatever their lengths. Its gradient is
    4 (W Wᵀ ⊙ (1 - I)) W; BigGAN's code adds half of that, the gradient of half this sum.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module (a network or a layer), got {type(module).__name__}")
    total = None
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED):
            w = layer.weight.flatten(1)
            gram = w @ w.t()
            term = (gram - torch.diag_embed(gram.diagonal())).pow(2).sum()
            total = term if total is None else total + term
    if total is None:
        raise ValueError(f"{type(module).__name__} has no linear or convolution layer to regularise")
    return total


def r1_penalty(discriminator: nn.Module, real: torch.Tensor, *cond: torch.Tensor) -> torch.Tensor:
    """Return the batch mean of ||∇ₓ D(x)||² at the real images x (the gamma / 2 factor is the caller's).

    Differentiable (``create_graph=True``), so D's loss can include it; ``cond`` (e.g. labels) is
    passed on to D.
    """
    x = real.detach().requires_grad_(True)
    scores = discriminator(x, *cond)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(dim=1).mean()


def path_length_penalty(images: torch.Tensor, ws: torch.Tensor, pl_mean: torch.Tensor | float,
                        decay: float = 0.01, generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (the penalty, the updated running mean of the path lengths), StyleGAN2's regulariser.

    ``images`` (N, C, H, W) must have been made from ``ws`` (N, w_dim) or (N, layers, w_dim) with the
    graph kept. With y ~ N(0, I) / sqrt(H W), the length for sample i is ||J_iᵀ y||, J_i = ∂g(w_i)/∂w_i
    (per layer, squared norms summed over w_dim and averaged over layers); the penalty is the
    batch mean of (length - pl_mean)², pl_mean moving towards the batch mean with ``decay``.
    """
    number("decay", decay, "0.01 in StyleGAN2", at_least=0, at_most=1)
    if not ws.requires_grad:
        raise ValueError("ws must require grad and images must be computed from it (keep the graph)")
    h, w = images.shape[-2:]
    y = torch.randn(images.shape, generator=generator).to(images) / (h * w) ** 0.5
    (grad,) = torch.autograd.grad((images * y).sum(), ws, create_graph=True)
    lengths = grad.pow(2).sum(dim=-1)
    lengths = (lengths.mean(dim=1) if lengths.ndim == 2 else lengths).sqrt()
    pl_mean = torch.as_tensor(pl_mean, dtype=lengths.dtype, device=lengths.device)
    new_mean = (pl_mean + decay * (lengths.mean().detach() - pl_mean)).detach()
    return (lengths - new_mean).pow(2).mean(), new_mean


def lazy_regularization(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Return (lr, betas) for Adam when a penalty runs only every ``interval`` minibatches.

    With c = interval / (interval + 1): lr * c and each beta ** c, as StyleGAN2's code does (the
    regularised network takes interval + 1 optimiser steps' worth of updates per interval
    minibatches). The penalty itself is then multiplied by ``interval`` on the steps it runs.
    """
    k = positive_int("interval", interval, "minibatches between penalty steps, e.g. 16 for R1")
    c = k / (k + 1)
    number("lr", lr, "Adam's learning rate", above=0)
    b1, b2 = (number(f"betas[{i}]", b, "Adam's beta", at_least=0, below=1) for i, b in enumerate(betas))
    return lr * c, (b1 ** c, b2 ** c)
