"""The losses of image translation and restoration (chapter 10): cycle consistency, identity, perceptual.

- ``cycle_consistency_loss(x, x_rec)``: CycleGAN's E|x - F(G(x))|, the mean absolute error between
  an image and its round trip through both translators (Zhu et al., 2017);
- ``identity_loss(y, G_of_y)``: E|y - G(y)|: a translator into domain B should leave an image that
  is already in B alone (CycleGAN weighs it 0.5 x lambda_cyc);
- ``perceptual_loss(features, a, b)``: the mean squared distance between a frozen network's
  features of two images (SRGAN's "VGG loss", Ledig et al., 2017; here any feature extractor).

The least-squares adversarial losses CycleGAN trains with live with the other adversarial losses
(``gancourse.losses.adversarial``, kind ``'least_squares'``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gancourse.checks import float_tensor

__all__ = ["cycle_consistency_loss", "identity_loss", "perceptual_loss"]


def _same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor, what: str) -> None:
    float_tensor(name_a, a, what)
    float_tensor(name_b, b, what)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def cycle_consistency_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """Return the mean absolute error between images ``x`` and their round trips ``x_rec`` = F(G(x))."""
    _same_shape("x", x, "x_rec", x_rec, "images")
    return (x - x_rec).abs().mean()


def identity_loss(y: torch.Tensor, G_of_y: torch.Tensor) -> torch.Tensor:
    """Return the mean absolute error between images ``y`` of G's target domain and G(y)."""
    _same_shape("y", y, "G_of_y", G_of_y, "images")
    return (y - G_of_y).abs().mean()


def perceptual_loss(features: Callable[[torch.Tensor], torch.Tensor], a: torch.Tensor,
                    b: torch.Tensor) -> torch.Tensor:
    """Return the mean over samples and features of (features(a) - features(b))².

    ``features`` is a frozen network (its weights are not trained by this loss; freeze them with
    ``requires_grad_(False)``); the gradient flows into ``a`` (and ``b``, unless detached).
    """
    if not callable(features):
        raise TypeError(f"features must be a network (images -> features), got {type(features).__name__}")
    _same_shape("a", a, "b", b, "images")
    fa, fb = features(a), features(b)
    if not isinstance(fa, torch.Tensor) or fa.shape != fb.shape or fa.shape[0] != a.shape[0]:
        raise ValueError("features must return one tensor of features per image, the same shape for a and b")
    return (fa - fb).pow(2).mean()
