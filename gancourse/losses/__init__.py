"""Every loss and penalty of the course, each a plain function of tensors.

- ``adversarial``: the GAN, non-saturating, Wasserstein and hinge losses, and ``LOSS_KINDS``, the
  (D loss, G loss) pairs that ``TrainConfig.loss`` names;
- ``penalties``: WGAN-GP's gradient penalty and WGAN's weight clipping;
- ``information``: InfoGAN's mutual-information term and its lower bound;
- ``regularizers``: BigGAN's orthogonal regularisation, R1, StyleGAN2's path length and lazy
  regularisation;
- ``translation``: CycleGAN's cycle-consistency and identity losses, SRGAN's perceptual loss (the
  least-squares GAN losses are in ``adversarial``);
- ``contrastive``: InfoNCE, which trains a text encoder and an image encoder together.
"""

from gancourse.losses.adversarial import (
    LOSS_KINDS,
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_generator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gancourse.losses.contrastive import info_nce
from gancourse.losses.information import (
    categorical_code_loss,
    categorical_mi_lower_bound,
    continuous_code_nll,
    continuous_mi_lower_bound,
    mutual_information_loss,
)
from gancourse.losses.penalties import clip_weights_, gradient_penalty
from gancourse.losses.regularizers import (
    lazy_regularization,
    orthogonal_regularization,
    path_length_penalty,
    r1_penalty,
)
from gancourse.losses.translation import (
    cycle_consistency_loss,
    identity_loss,
    perceptual_loss,
)

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
    "gradient_penalty",
    "clip_weights_",
    "categorical_code_loss",
    "continuous_code_nll",
    "mutual_information_loss",
    "categorical_mi_lower_bound",
    "continuous_mi_lower_bound",
    "orthogonal_regularization",
    "r1_penalty",
    "path_length_penalty",
    "lazy_regularization",
    "cycle_consistency_loss",
    "identity_loss",
    "perceptual_loss",
    "info_nce",
]
