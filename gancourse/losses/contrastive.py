"""InfoNCE, the contrastive loss that trains a text encoder and an image encoder together (chapter 10).

Given N matching (image, caption) pairs, ``logits[i, j]`` scores image i against caption j. Each
image must pick out its own caption among the N (a softmax over row i, cross-entropy with target
i), and each caption its own image (the same over column j); the loss is the mean of the two
directions (van den Oord et al., 2018; CLIP, Radford et al., 2021). Minimising it maximises a
lower bound on the mutual information between images and captions: log N - loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["info_nce"]


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """Return the symmetric InfoNCE loss of square ``logits`` (N, N) whose diagonal holds the true pairs.

    ``logits[i, j]`` = scale * cos(image_i, caption_j). The mean of cross-entropy over rows
    (image -> caption) and over columns (caption -> image), each with target ``i`` for row ``i``.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != logits.shape[1]:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a square (N, N) tensor of image-caption scores, got {shape}")
    if logits.shape[0] < 2:
        raise ValueError("InfoNCE needs at least 2 pairs: with one, there is nothing to tell apart")
    target = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
