"""Conditional GANs: G(z, y) and D(x, y) for a class label y (Mirza & Osindero, 2014).

The label enters both networks, so D judges "is this a real image OF CLASS y?" and G must draw
the class it is asked for. Three ways to feed y, each a few lines on top of the unconditional
models of ``gancourse.models.mlp`` and ``gancourse.models.dcgan``:

1. Concatenation (MLPs and the DCGAN generator): the one-hot vector of y is appended to z (or to
   the flattened image), so the first layer simply has ``n_classes`` more inputs.
2. Extra input channels (DCGAN discriminator): y's one-hot vector is broadcast to ``n_classes``
   constant planes of the image's size and stacked onto its channels, so every filter of the
   first layer sees the label at every pixel.
3. Projection (``ProjectionDiscriminator``, Miyato & Koyama, 2018): D(x, y) = psi(phi(x)) +
   <e_y, phi(x)>, an unconditional score plus the inner product of the image's features with a
   learned embedding of its class; the label enters at the end, not the start.

Every model takes y as integer class labels of shape (N,) or as a float matrix (N, n_classes) of
one-hot (or soft, e.g. halfway between two classes) label vectors. A learned embedding is written
as a Linear layer without bias applied to the one-hot vector: for a hard label that is exactly
``nn.Embedding`` (it picks one column of the weight), and it also accepts soft labels.

Training: ``gancourse.training.train_gan`` passes the labels of each real batch to G and D when G
has an ``n_classes`` attribute (the fakes of a batch are drawn for the same labels as its real
images, so both see the data's class mix).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from gancourse.checks import image_batch, integer, positive_int
from gancourse.models.dcgan import (
    DCGANDiscriminator,
    DCGANGenerator,
    Norm,
    init_dcgan_weights_,
)
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator, _as_shape

__all__ = [
    "one_hot",
    "combine_vectors",
    "label_channels",
    "input_dims",
    "ConditionalMLPGenerator",
    "ConditionalMLPDiscriminator",
    "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
    "ProjectionDiscriminator",
]


def _check_n_classes(n_classes: object) -> int:
    return integer("n_classes", n_classes, "the number of classes, e.g. 10 digits", at_least=2)


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Return the one-hot vectors of integer ``labels`` (N,), a float32 tensor of shape (N, n_classes).

    Float, not ``F.one_hot``'s int64: the vectors are concatenated with z and multiplied by weights.
    """
    n_classes = _check_n_classes(n_classes)
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a tensor of class indices, got {type(labels).__name__}; "
                        "use torch.tensor([...])")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D integer tensor of class indices, got dtype {labels.dtype} and "
                         f"shape {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got values from {int(labels.min())} "
                         f"to {int(labels.max())}")
    return torch.nn.functional.one_hot(labels.long(), n_classes).float()


def _as_label_vectors(y: torch.Tensor, n_classes: int, n: int) -> torch.Tensor:
    """Return y as float label vectors (n, n_classes): one-hot for integer labels, as given for float ones."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"the labels y must be a tensor: class indices (N,) or label vectors (N, {n_classes}), "
                        f"got {type(y).__name__}")
    if y.dtype.is_floating_point:
        if y.ndim != 2 or y.shape[1] != n_classes:
            raise ValueError(f"float labels must be label vectors of shape (N, {n_classes}) (one-hot or soft), "
                             f"got {tuple(y.shape)}; integer class indices have shape (N,)")
        vectors = y
    else:
        vectors = one_hot(y, n_classes)
    if vectors.shape[0] != n:
        raise ValueError(f"got {vectors.shape[0]} labels for a batch of {n}: pass one label per sample")
    return vectors


def combine_vectors(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return [x, y] concatenated along dimension 1 as float32, e.g. z (N, z_dim) and a one-hot (N, K)."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows (one per sample), got {x.shape[0]} and "
                         f"{y.shape[0]}")
    return torch.cat([x.float(), y.float()], dim=1)


def label_channels(y: torch.Tensor, image_size: int) -> torch.Tensor:
    """Return label vectors (N, K) broadcast to K constant planes, shape (N, K, image_size, image_size)."""
    return y[:, :, None, None].expand(-1, -1, image_size, image_size)


def input_dims(z_dim: int, image_shape: Sequence[int], n_classes: int) -> tuple[int, int]:
    """Return (the generator's input size, the convolutional discriminator's input channels) under conditioning.

    G reads z and the one-hot label: z_dim + n_classes numbers. D reads the image's channels and one
    constant plane per class: image_shape[0] + n_classes channels (image_shape is (C, H, W)).
    """
    return z_dim + n_classes, image_shape[0] + n_classes


# ---------------------------------------------------------------------------------------------
# Fully connected: one-hot concatenation.

class ConditionalMLPGenerator(nn.Module):
    """G(z, y): an ``MLPGenerator`` fed [z, one_hot(y)], shape (N, z_dim + n_classes) -> (N, *out_shape)."""

    def __init__(self, z_dim: int, n_classes: int, out_shape: int | Sequence[int],
                 hidden: Sequence[int] = (256, 256), *, tanh: bool = True, batch_norm: bool = False) -> None:
        super().__init__()
        if isinstance(z_dim, bool) or not isinstance(z_dim, int) or z_dim < 1:
            raise ValueError(f"z_dim must be a positive int (the size of the noise vector), got {z_dim!r}")
        self.z_dim = z_dim  # the noise alone: what sample_noise draws and the trainer reads
        self.n_classes = _check_n_classes(n_classes)
        self.input_dim = z_dim + n_classes
        self.out_shape = _as_shape("out_shape", out_shape)
        self.body = MLPGenerator(self.input_dim, out_shape, hidden, tanh=tanh, batch_norm=batch_norm)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return G(z, y), shape (N, *out_shape)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"the generator expects noise of shape (N, {self.z_dim}), got {tuple(z.shape)}")
        return self.body(combine_vectors(z, _as_label_vectors(y, self.n_classes, z.shape[0])).to(z.dtype))


class ConditionalMLPDiscriminator(nn.Module):
    """D(x, y): an ``MLPDiscriminator`` fed [flatten(x), one_hot(y)]; one logit per sample, shape (N,)."""

    def __init__(self, in_shape: int | Sequence[int], n_classes: int, hidden: Sequence[int] = (256, 256), *,
                 negative_slope: float = 0.2, norm: str | None = None, spectral_norm: bool = False) -> None:
        super().__init__()
        self.in_shape = _as_shape("in_shape", in_shape)
        self.n_classes = _check_n_classes(n_classes)
        self.input_dim = math.prod(self.in_shape) + n_classes
        self.body = MLPDiscriminator(self.input_dim, hidden, negative_slope=negative_slope, norm=norm,
                                     spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the logits (or critic scores), shape (N,)."""
        if x.ndim != 1 + len(self.in_shape) or tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"the discriminator expects a batch of shape (N, {', '.join(map(str, self.in_shape))}), "
                             f"got {tuple(x.shape)}")
        y = _as_label_vectors(y, self.n_classes, x.shape[0])
        return self.body(torch.cat([x.flatten(1), y.to(x.dtype)], dim=1))


# ---------------------------------------------------------------------------------------------
# Convolutional: the label concatenated to z (or embedded), as extra channels of the image, or projected.

class ConditionalDCGANGenerator(nn.Module):
    """G(z, y): a ``DCGANGenerator`` fed [z, one_hot(y)] (or [z, embedding(y)]); images (N, C, S, S) in (-1, 1).

    ``embedding_dim=None`` appends the one-hot vector (n_classes inputs); an int appends a learned
    embedding of that size instead, initialised N(0, 1) as ``nn.Embedding`` is.
    """

    def __init__(self, z_dim: int = 100, n_classes: int = 10, image_size: int = 28, channels: int = 1,
                 width: int = 64, *, embedding_dim: int | None = None) -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.n_classes = _check_n_classes(n_classes)
        if embedding_dim is not None and (isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int)
                                          or embedding_dim < 1):
            raise ValueError(f"embedding_dim must be None (one-hot labels) or a positive int, got {embedding_dim!r}")
        self.embedding = None
        if embedding_dim is not None:
            # A Linear without bias on the one-hot vector is nn.Embedding (it selects a column of the weight).
            self.embedding = nn.Linear(n_classes, embedding_dim, bias=False)
        label_dim = n_classes if embedding_dim is None else embedding_dim
        self.body = DCGANGenerator(z_dim + label_dim, image_size, channels, width)
        if self.embedding is not None:
            nn.init.normal_(self.embedding.weight, 0.0, 1.0)  # after the body's init; the labels as strong as z
        self.input_dim = z_dim + label_dim
        self.image_size, self.channels = image_size, channels

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return G(z, y), shape (N, channels, image_size, image_size)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"the generator expects noise of shape (N, {self.z_dim}), got {tuple(z.shape)}; "
                             f"draw it with gancourse.models.sample_noise(N, {self.z_dim})")
        label = _as_label_vectors(y, self.n_classes, z.shape[0]).to(z.dtype)
        if self.embedding is not None:
            label = self.embedding(label)
        return self.body(torch.cat([z, label], dim=1))


class ConditionalDCGANDiscriminator(nn.Module):
    """D(x, y): a ``DCGANDiscriminator`` reading the image plus n_classes label planes; scores (N,)."""

    def __init__(self, n_classes: int = 10, image_size: int = 28, channels: int = 1, width: int = 64, *,
                 norm: Norm = "batch", spectral_norm: bool = False) -> None:
        super().__init__()
        self.n_classes = _check_n_classes(n_classes)
        self.image_size, self.channels = image_size, channels
        self.input_channels = channels + n_classes
        self.body = DCGANDiscriminator(image_size, self.input_channels, width, norm=norm, spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the scores, shape (N,)."""
        _check_images(x, self.channels, self.image_size)
        planes = label_channels(_as_label_vectors(y, self.n_classes, x.shape[0]).to(x.dtype), self.image_size)
        return self.body(torch.cat([x, planes], dim=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <e_y, phi(x)> (Miyato & Koyama, 2018); scores (N,).

    phi is the DCGAN discriminator's convolutional body followed by a sum over positions (the
    paper's global sum pooling), psi a Linear layer to one number, e_y the class's learned
    embedding, as wide as phi(x). ``spectral_norm=True`` (the paper's setting) normalises every
    layer, the embedding included; ``norm`` is the body's normalisation (None, as in the paper).
    """

    def __init__(self, n_classes: int = 10, image_size: int = 28, channels: int = 1, width: int = 64, *,
                 norm: Norm = None, spectral_norm: bool = True) -> None:
        super().__init__()
        self.n_classes = _check_n_classes(n_classes)
        self.image_size, self.channels = image_size, channels
        body = DCGANDiscriminator(image_size, channels, width, norm=norm, spectral_norm=spectral_norm)
        self.phi = body.net[:-1]  # everything but the last convolution: feature maps (N, features, end, end)
        self.features = body.net[-1].in_channels
        self.psi = nn.Linear(self.features, 1)
        self.embed = nn.Linear(n_classes, self.features, bias=False)  # = nn.Embedding on one-hot labels
        init_dcgan_weights_(self.psi)
        init_dcgan_weights_(self.embed)
        if spectral_norm:
            _spectral_norm(self.psi)
            _spectral_norm(self.embed)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the scores, shape (N,)."""
        _check_images(x, self.channels, self.image_size)
        h = self.phi(x).sum(dim=(2, 3))  # phi(x): (N, features)
        e_y = self.embed(_as_label_vectors(y, self.n_classes, x.shape[0]).to(h.dtype))  # (N, features)
        return self.psi(h).squeeze(1) + (e_y * h).sum(dim=1)


def _check_images(x: torch.Tensor, channels: int, image_size: int) -> None:
    image_batch("the discriminator's input", x, channels, image_size)
