"""Generators and discriminators, and the noise they start from."""

from __future__ import annotations

import torch

from gancourse.models.classifier import GlyphCNN, attribute_classifier, glyph_classifier
from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, critic, init_dcgan_weights_, summary
from gancourse.models.conditional import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
    ProjectionDiscriminator,
    combine_vectors,
    one_hot,
)
from gancourse.models.infogan import (
    InfoGANConfig,
    InfoGANDiscriminator,
    categorical_mi_lower_bound,
    mutual_information_loss,
    sample_latent,
    train_infogan,
)
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "critic",
    "init_dcgan_weights_",
    "summary",
    "sample_noise",
    "one_hot",
    "combine_vectors",
    "ConditionalMLPGenerator",
    "ConditionalMLPDiscriminator",
    "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
    "ProjectionDiscriminator",
    "sample_latent",
    "InfoGANDiscriminator",
    "mutual_information_loss",
    "categorical_mi_lower_bound",
    "InfoGANConfig",
    "train_infogan",
    "GlyphCNN",
    "glyph_classifier",
    "attribute_classifier",
]


def sample_noise(
    n: int,
    z_dim: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return n noise vectors z ~ N(0, I), a float32 tensor of shape (n, z_dim).

    Pass a seeded ``torch.Generator`` to draw the same z every time (e.g. a fixed z to watch G learn).
    """
    for name, value in (("n", n), ("z_dim", z_dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if device is None and generator is not None:
        device = generator.device  # a CUDA generator can only fill a CUDA tensor
    return torch.randn(n, z_dim, generator=generator, device=device)
