"""A text encoder and an image encoder that map captions and glyphs into one space (chapter 10).

CLIP (Radford et al., 2021) in miniature: each encoder ends in a linear projection to ``dim``
numbers and an L2 normalisation, so the similarity of a caption and an image is the cosine of
their embeddings, and a learned temperature scales the cosines into logits. Trained with InfoNCE
(``gancourse.losses.info_nce``), a caption and its image end up close and mismatched pairs far.

- ``TextEncoder``: word embeddings, a bidirectional GRU over the caption (order matters: "a 3
  leaning left" and "a left-leaning 3" must land together, "bold" must attach to the glyph), the
  two final hidden states joined and projected.
- ``ImageEncoder``: ``GlyphCNN``'s three convolution blocks, then a projection. It is
  differentiable in its input, so a generator's latent can be steered towards a caption.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from gancourse.checks import number, positive_int
from gancourse.models.classifier import GlyphCNN

__all__ = ["ImageEncoder", "TextEncoder", "TextImageEncoders"]


class TextEncoder(nn.Module):
    """Captions as word indices (N, L) and lengths (N,) -> unit vectors (N, dim)."""

    def __init__(self, vocab_size: int, dim: int = 64, embed: int = 32, hidden: int = 64) -> None:
        super().__init__()
        positive_int("vocab_size", vocab_size, "the number of words, padding included")
        positive_int("dim", dim, "the size of the shared embedding space")
        self.embedding = nn.Embedding(vocab_size, positive_int("embed", embed), padding_idx=0)
        self.gru = nn.GRU(embed, positive_int("hidden", hidden), batch_first=True, bidirectional=True)
        self.project = nn.Linear(2 * hidden, dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or lengths.shape != tokens.shape[:1]:
            raise ValueError(f"tokens must be (N, L) and lengths (N,), got {tuple(tokens.shape)} and "
                             f"{tuple(lengths.shape)}; make both with gancourse.data.tokenize(captions)")
        packed = pack_padded_sequence(self.embedding(tokens), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, h = self.gru(packed)  # h: (2, N, hidden), the forward and the backward final states
        return F.normalize(self.project(torch.cat([h[0], h[1]], dim=1)), dim=1)


class ImageEncoder(nn.Module):
    """Glyphs (N, 1, 28, 28) in [-1, 1] -> unit vectors (N, dim)."""

    def __init__(self, dim: int = 64, width: int = 16) -> None:
        super().__init__()
        positive_int("dim", dim, "the size of the shared embedding space")
        w = width
        self.conv = nn.Sequential(  # GlyphCNN's blocks without its final pooling: slant is geometry
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> 7
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(),
        )
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * 49, 128), nn.ReLU(), nn.Linear(128, dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.project(self.conv(images)), dim=1)


class TextImageEncoders(nn.Module):
    """Both encoders and CLIP's learned temperature: ``logits(images, tokens, lengths)`` is (N_img, N_txt).

    The logit scale is stored as its log, starts at 1 / 0.07 (CLIP's) and is capped at 100, as
    in CLIP, so the softmax cannot become arbitrarily sharp.
    """

    MAX_SCALE = 100.0

    def __init__(self, vocab_size: int, dim: int = 64, temperature: float = 0.07) -> None:
        super().__init__()
        self.dim = positive_int("dim", dim, "the size of the shared embedding space")
        number("temperature", temperature, "the starting softmax temperature, CLIP's 0.07",
               at_least=1 / self.MAX_SCALE)
        self.text = TextEncoder(vocab_size, dim)
        self.image = ImageEncoder(dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)))

    @property
    def scale(self) -> torch.Tensor:
        return self.log_scale.clamp(max=math.log(self.MAX_SCALE)).exp()

    def logits(self, images: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.scale * self.image(images) @ self.text(tokens, lengths).T
