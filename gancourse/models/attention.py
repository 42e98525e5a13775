"""SAGAN's self-attention block (Zhang et al., 2019) and BigGAN's conditional batch norm (Brock et al., 2019).

A convolution sees a few pixels around each position; to draw a digit whose two ends must meet,
a generator built only of them has to relay that information through many layers. Self-attention
lets every position read every other one in one step: queries, keys and values are 1 x 1
convolutions, each position's output is the softmax-weighted sum of the values over all positions.
The block returns x + gamma * attention(x) with gamma initialised to 0, so it starts as the
identity and the network learns how much non-local evidence to use.

``ConditionalBatchNorm2d``: batch norm without its own affine parameters, followed by a gain and
a bias looked up from the class (BigGAN's class-conditional batch norm; the gain starts at 1).
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.checks import positive_int

__all__ = ["SelfAttention2d", "ConditionalBatchNorm2d"]


class SelfAttention2d(nn.Module):
    """x (N, C, H, W) -> x + gamma * o, o the attention output over the H W positions (gamma starts at 0)."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        positive_int("channels", channels, "the feature maps' channels")
        positive_int("reduction", reduction, "query/key channels = channels // reduction")
        inner = max(1, channels // reduction)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """Return A (N, HW, HW): row i is the softmax over positions j of query_i · key_j (rows sum to 1)."""
        if x.ndim != 4:
            raise ValueError(f"x must be feature maps of shape (N, C, H, W), got {tuple(x.shape)}")
        q = self.query(x).flatten(2)  # (N, C', HW)
        k = self.key(x).flatten(2)
        return torch.softmax(q.transpose(1, 2) @ k, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x + gamma * (values averaged with the attention weights)."""
        attn = self.attention_map(x)
        v = self.value(x).flatten(2)  # (N, C, HW)
        o = (v @ attn.transpose(1, 2)).view_as(x)  # o_i = sum_j A[i, j] v_j
        return x + self.gamma * o


class ConditionalBatchNorm2d(nn.Module):
    """BN(x) * gain[y] + bias[y]: batch norm whose affine parameters are looked up per class."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.num_features = positive_int("num_features", num_features, "the feature maps' channels")
        self.num_classes = positive_int("num_classes", num_classes, "how many classes, e.g. 10")
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.embed = nn.Embedding(num_classes, 2 * num_features)  # [gain | bias] per class
        with torch.no_grad():
            self.embed.weight[:, :num_features].fill_(1.0)
            self.embed.weight[:, num_features:].zero_()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the normalised x with each sample's class gain and bias, x (N, C, H, W), y (N,) labels."""
        if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.is_floating_point:
            raise ValueError(f"y must hold one integer class label per sample, shape ({x.shape[0]},), "
                             f"got {tuple(y.shape)} {y.dtype}")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes}), got {int(y.min())}..{int(y.max())}")
        gain, bias = self.embed(y).chunk(2, dim=1)
        return self.bn(x) * gain[:, :, None, None] + bias[:, :, None, None]
