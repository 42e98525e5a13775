"""Where a generator's input comes from, and drawing samples from a trained generator.

``sample_noise`` draws z ~ N(0, I); ``sample_latent`` draws InfoGAN's input [noise, one_hot(c_cat),
c_cont] and ``latent_input`` builds it from codes you choose. ``generate(G, n)`` returns n samples
of any generator, batched, without gradients, with G's train/eval mode restored afterwards.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import integer, positive_int
from gancourse.models.conditional import one_hot

__all__ = ["sample_noise", "latent_input", "sample_latent", "generate"]


def sample_noise(
    n: int,
    z_dim: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return n noise vectors z ~ N(0, I), a float32 tensor of shape (n, z_dim).

    Pass a seeded ``torch.Generator`` to draw the same z every time (e.g. a fixed z to watch G learn).
    """
    positive_int("n", n, "how many noise vectors")
    positive_int("z_dim", z_dim, "the size of one noise vector")
    if device is None and generator is not None:
        device = generator.device  # a CUDA generator can only fill a CUDA tensor
    return torch.randn(n, z_dim, generator=generator, device=device)


def latent_input(noise: torch.Tensor, c_cat: torch.Tensor, c_cont: torch.Tensor, n_categories: int) -> torch.Tensor:
    """Return G's input [noise, one_hot(c_cat), c_cont], shape (N, noise_dim + n_categories + n_continuous).

    Use it to choose the codes yourself, e.g. one category per row and a continuous code swept from
    -1 to 1 (a latent traversal grid).
    """
    if noise.ndim != 2 or c_cont.ndim != 2 or not noise.shape[0] == c_cat.shape[0] == c_cont.shape[0]:
        raise ValueError(f"noise (N, noise_dim), c_cat (N,) and c_cont (N, n_continuous) must have one row per "
                         f"sample; got {tuple(noise.shape)}, {tuple(c_cat.shape)} and {tuple(c_cont.shape)}")
    return torch.cat([noise, one_hot(c_cat, n_categories).to(noise), c_cont.to(noise)], dim=1)


def sample_latent(
    n: int,
    noise_dim: int,
    n_categories: int = 10,
    n_continuous: int = 2,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (z, c_cat, c_cont): G's input (N, noise_dim + n_categories + n_continuous), the category
    indices (N,) int64 and the continuous codes (N, n_continuous).

    noise ~ N(0, I), c_cat uniform on {0, ..., n_categories - 1}, c_cont ~ U(-1, 1) per code; z is
    ``latent_input(noise, c_cat, c_cont, n_categories)``.
    """
    positive_int("n", n, "how many samples")
    positive_int("noise_dim", noise_dim, "the size of the incompressible noise")
    integer("n_categories", n_categories, "the categorical code's number of values", at_least=2)
    integer("n_continuous", n_continuous, "how many continuous codes", at_least=0)
    if device is None and generator is not None:
        device = generator.device
    noise = torch.randn(n, noise_dim, generator=generator, device=device)
    c_cat = torch.randint(n_categories, (n,), generator=generator, device=device)
    c_cont = torch.rand(n, n_continuous, generator=generator, device=device) * 2 - 1  # U(0, 1) -> U(-1, 1)
    return latent_input(noise, c_cat, c_cont, n_categories), c_cat, c_cont


@torch.no_grad()
def generate(G: nn.Module, n: int | None = None, *, z: torch.Tensor | None = None,
             labels: torch.Tensor | None = None, seed: int | None = None, batch_size: int = 1_000) -> torch.Tensor:
    """Return samples of G in eval mode, on the CPU: G(z) for ``n`` fresh z ~ N(0, I), or for the given ``z``.

    ``seed`` draws the noise from its own ``torch.Generator`` (the same samples every time, the
    global random state untouched); ``labels`` (N,) go to a conditional G as G(z, y). G runs in
    batches of ``batch_size`` on its own device and is left in the mode it was in.
    """
    if (n is None) == (z is None):
        raise ValueError("pass either n (how many samples to draw) or z (the inputs to use), not both")
    positive_int("batch_size", batch_size, "samples per forward pass")
    device = next(G.parameters()).device
    if z is None:
        z_dim = getattr(G, "z_dim", None)
        if not isinstance(z_dim, int):
            raise TypeError("G needs an int attribute `z_dim` to draw its noise; pass z=... instead")
        rng = torch.Generator().manual_seed(integer("seed", seed, at_least=0)) if seed is not None else None
        z = sample_noise(positive_int("n", n, "how many samples"), z_dim, generator=rng)
    elif seed is not None:
        raise ValueError("seed draws the noise: pass it with n, not with z")
    if labels is not None and labels.shape[0] != z.shape[0]:
        raise ValueError(f"labels must hold one label per sample: {z.shape[0]} inputs, {labels.shape[0]} labels")
    was_training = G.training
    G.eval()
    try:
        out = []
        for i in range(0, z.shape[0], batch_size):
            cond = () if labels is None else (labels[i:i + batch_size].to(device),)
            out.append(G(z[i:i + batch_size].to(device), *cond).float().cpu())
    finally:
        G.train(was_training)
    return torch.cat(out)
