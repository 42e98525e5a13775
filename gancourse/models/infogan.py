"""InfoGAN's discriminator (Chen et al., 2016): D and Q sharing one convolutional body.

G reads z = [noise, one_hot(c_cat), c_cont] (``gancourse.models.noise.sample_latent``); Q(c | x)
guesses the codes back from G's images, and the mutual-information term of
``gancourse.losses.information`` rewards G when the guess is good. Q shares D's body, so D and Q
are one module with two heads and Q costs one extra small layer. Training is the GAN loop with
the MI term added to both steps: ``gancourse.training.infogan``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from gancourse._moved import moved
from gancourse.checks import image_batch, integer, positive_int
from gancourse.models.dcgan import DCGANDiscriminator, Norm, _norm_layer

__all__ = ["InfoGANOutput", "InfoGANDiscriminator"]


# ---------------------------------------------------------------------------------------------
# D and Q: one body, two heads.

class InfoGANOutput(NamedTuple):
    """What ``InfoGANDiscriminator`` returns: D's logits (N,), and Q's guesses of the codes."""

    logits: torch.Tensor      # (N,) D's raw score: real or fake
    cat_logits: torch.Tensor  # (N, n_categories) Q's logits for the categorical code
    mu: torch.Tensor          # (N, n_continuous) mean of Q's Gaussian for each continuous code
    log_std: torch.Tensor     # (N, n_continuous) log standard deviation of that Gaussian (not log-variance)


class InfoGANDiscriminator(nn.Module):
    """D and Q sharing the DCGAN discriminator's body: images (N, C, S, S) -> ``InfoGANOutput``.

    The body is every layer of ``DCGANDiscriminator`` but the last; D's head is that last
    convolution (one logit), Q's head is a convolution over the whole final map to ``q_hidden``
    units, normalisation, LeakyReLU(0.2) and a Linear layer to the code parameters (the paper's
    FC-BN-LReLU-FC). ``score(x)`` returns D's logits alone.
    """

    def __init__(self, n_categories: int = 10, n_continuous: int = 2, image_size: int = 28, channels: int = 1,
                 width: int = 64, *, norm: Norm = "batch", q_hidden: int = 128) -> None:
        super().__init__()
        self.n_categories = integer("n_categories", n_categories, "the categorical code's number of values",
                                    at_least=2)
        self.n_continuous = integer("n_continuous", n_continuous, "how many continuous codes", at_least=0)
        positive_int("q_hidden", q_hidden, "width of Q's hidden layer")
        d = DCGANDiscriminator(image_size, channels, width, norm=norm)
        self.image_size, self.channels = image_size, channels
        self.body = d.net[:-1]
        self.d_head = d.net[-1]  # Conv2d(features, 1, end): one logit per image
        features, end = self.d_head.in_channels, self.d_head.kernel_size
        q_layers: list[nn.Module] = [nn.Conv2d(features, q_hidden, end, bias=norm is None)]
        if norm is not None:
            q_layers.append(_norm_layer(norm, q_hidden))
        q_layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(q_hidden, n_categories + 2 * n_continuous)]
        self.q_head = nn.Sequential(*q_layers)

    def forward(self, x: torch.Tensor) -> InfoGANOutput:
        """Return D's logits and Q's code parameters from ONE pass through the shared body."""
        image_batch("the InfoGANDiscriminator's input", x, self.channels, self.image_size)
        h = self.body(x)
        q = self.q_head(h)
        k, m = self.n_categories, self.n_continuous
        return InfoGANOutput(self.d_head(h).flatten(), q[:, :k], q[:, k:k + m], q[:, k + m:])

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Return D's logits alone, shape (N,) (for code that expects a plain discriminator)."""
        return self(x).logits


# Moved: the codes to gancourse.models.noise, the MI loss to gancourse.losses, training to gancourse.training.
__getattr__ = moved(__name__, {
    **dict.fromkeys(("sample_latent", "latent_input"), "gancourse.models.noise"),
    **dict.fromkeys(("categorical_code_loss", "continuous_code_nll", "mutual_information_loss",
                     "categorical_mi_lower_bound", "continuous_mi_lower_bound"), "gancourse.losses"),
    **dict.fromkeys(("InfoGANConfig", "InfoGANHistory", "infogan_step", "train_infogan"), "gancourse.training"),
})
