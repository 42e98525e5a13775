"""A small CNN that reads glyphs (or CelebA): class or attribute logits, and a 128-d feature vector.

The course's judges are this network with trained weights: ``gancourse.metrics.judges`` loads the
shipped digit and attribute classifiers, ``gancourse.training.classifier`` trains them, and its
penultimate activations (``features``) are the offline stand-in for Inception's pool3 in the FID
of ``gancourse.metrics``. The same network reads CelebA (3 x 64 x 64, 40 attributes):
``GlyphCNN(in_channels=3, n_outputs=40)``.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse._moved import moved
from gancourse.checks import positive_int

__all__ = ["GlyphCNN", "FEATURE_DIM"]

FEATURE_DIM = 128


class GlyphCNN(nn.Module):
    """Three conv blocks, then a 128-d penultimate layer (``features``) and one logit per output."""

    def __init__(self, in_channels: int = 1, n_outputs: int = 10, width: int = 16) -> None:
        super().__init__()
        positive_int("in_channels", in_channels, "1 for grey images, 3 for RGB")
        positive_int("n_outputs", n_outputs, "classes, or one logit per attribute")
        positive_int("width", width, "channels of the first convolution")
        self.in_channels, self.n_outputs, self.width = in_channels, n_outputs, width
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14 (64 -> 32)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> 7 (16)
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(3),  # any input size -> 3 x 3, so CelebA's 64 px works too
        )
        self.penultimate = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * 9, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, n_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the penultimate activations, shape (N, 128): the features for FID-like metrics."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected images of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self.penultimate(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits, shape (N, n_outputs): class scores, or one attribute logit each."""
        return self.head(self.features(x))


# Moved: loading a judge to gancourse.metrics.judges, training one to gancourse.training.classifier.
__getattr__ = moved(__name__, {
    **dict.fromkeys(("glyph_classifier", "attribute_classifier", "TrainedClassifier"), "gancourse.metrics.judges"),
    **dict.fromkeys(("train_glyph_classifier", "train_attribute_classifier"), "gancourse.training.classifier"),
})
