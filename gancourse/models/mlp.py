"""Fully connected generator and discriminator: the networks of the first GAN (Goodfellow et al., 2014).

Both are plain stacks of ``Linear`` layers. The generator maps noise z of shape (N, z_dim) to
samples of shape (N, *out_shape); the discriminator maps samples of shape (N, *in_shape) to one
LOGIT per sample, shape (N,). Logits, not probabilities: the losses in ``gancourse.losses`` take
logits because log(sigmoid(l)) computed as one step stays finite for any l.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from gancourse.checks import boolean, positive_int

__all__ = ["MLPGenerator", "MLPDiscriminator"]


def _as_shape(name: str, shape: int | Sequence[int]) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of positive ints (an int n becomes (n,))."""
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(dims) == 0 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(
            f"{name} must be a positive int or a tuple of positive ints such as (1, 28, 28), got {shape!r}"
        )
    return dims


def _as_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    """Return the hidden widths as a tuple of positive ints (empty: no hidden layer)."""
    if isinstance(hidden, int):
        raise TypeError(f"hidden must be a sequence of layer widths such as (256, 256), got the int {hidden}")
    widths = tuple(hidden)
    if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
        raise ValueError(f"hidden must hold positive ints (one width per hidden layer), got {hidden!r}")
    return widths


class MLPGenerator(nn.Module):
    """G: z of shape (N, z_dim) -> samples of shape (N, *out_shape), through ReLU hidden layers.

    ``tanh=True`` squashes the output into (-1, 1), the range images are scaled to; 2-D toy data
    lives on an unbounded plane and needs ``tanh=False`` (a linear output). ``batch_norm`` adds
    BatchNorm1d after each hidden Linear, which helps an MLP generator on images (as in DCGAN,
    Radford et al., 2016).
    """

    def __init__(
        self,
        z_dim: int,
        out_shape: int | Sequence[int],
        hidden: Sequence[int] = (256, 256),
        *,
        tanh: bool = True,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.out_shape = _as_shape("out_shape", out_shape)
        widths = (z_dim, *_as_hidden(hidden))
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers.append(nn.Linear(w_in, w_out))
            if batch_norm:
                layers.append(nn.BatchNorm1d(w_out))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(widths[-1], math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return G(z), shape (N, *out_shape)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(
                f"the generator expects noise of shape (N, {self.z_dim}), got {tuple(z.shape)}; "
                f"draw it with gancourse.models.sample_noise(N, {self.z_dim})"
            )
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """D: samples of shape (N, *in_shape) -> one logit per sample, shape (N,); LeakyReLU(0.2) hidden layers.

    D(x) = sigmoid(logit) is the probability that x is real. LeakyReLU keeps a gradient for
    negative pre-activations, so the generator still gets a signal where D is confident. The same
    network serves as a Wasserstein *critic*: its raw score is then f(x), not a logit.

    ``norm`` adds a normalisation after each hidden Linear: ``'layer'`` (LayerNorm, per sample, the
    choice for a critic trained with a gradient penalty, Gulrajani et al., 2017) or ``'batch'``
    (BatchNorm1d, which mixes the samples of a batch: a critic's gradient with respect to one input
    then depends on the others, and the per-sample penalty no longer constrains what it should).
    ``spectral_norm=True`` divides every Linear weight by its largest singular value, estimated by
    one power iteration per training forward pass (Miyato et al., 2018).
    """

    NORMS = (None, "layer", "batch")

    def __init__(
        self,
        in_shape: int | Sequence[int],
        hidden: Sequence[int] = (256, 256),
        *,
        negative_slope: float = 0.2,
        norm: str | None = None,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_shape = _as_shape("in_shape", in_shape)
        if norm not in self.NORMS:
            raise ValueError(
                f"norm must be None, 'layer' or 'batch', got {norm!r}; a critic trained with a gradient "
                "penalty should use 'layer' (or None), never 'batch'"
            )
        boolean("spectral_norm", spectral_norm)
        self.norm = norm
        self.spectral_norm = spectral_norm
        widths = (math.prod(self.in_shape), *_as_hidden(hidden))
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers.append(self._linear(w_in, w_out))
            if norm == "layer":
                layers.append(nn.LayerNorm(w_out))
            elif norm == "batch":
                layers.append(nn.BatchNorm1d(w_out))
            layers.append(nn.LeakyReLU(negative_slope))
        layers.append(self._linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def _linear(self, w_in: int, w_out: int) -> nn.Module:
        """Return a Linear layer, spectrally normalised when the discriminator asks for it."""
        layer = nn.Linear(w_in, w_out)
        return nn.utils.parametrizations.spectral_norm(layer) if self.spectral_norm else layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits (or critic scores), shape (N,)."""
        if x.ndim != 1 + len(self.in_shape) or tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(
                f"the discriminator expects a batch of shape (N, {', '.join(map(str, self.in_shape))}), "
                f"got {tuple(x.shape)}; its trailing shape must equal in_shape={self.in_shape}"
            )
        return self.net(x.flatten(1)).squeeze(1)
