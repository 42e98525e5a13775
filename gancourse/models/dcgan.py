"""DCGAN: the convolutional generator and discriminator of Radford et al. (2016), for 28, 32 and 64 px.

The paper's guidelines, and where each one lives below:

1. No pooling: the discriminator downsamples with stride-2 convolutions (``nn.Conv2d``, kernel 4,
   stride 2, padding 1), the generator upsamples with fractionally-strided (transposed) ones
   (``nn.ConvTranspose2d``, the same kernel, stride and padding).
2. Batch norm in both networks, except the generator's output layer and the discriminator's input
   layer: those two are built apart from the loops that add the hidden layers.
3. No fully connected hidden layers: z enters as a (z_dim, 1, 1) "image" whose first transposed
   convolution is a matrix product reshaped into the first feature map; the discriminator's last
   layer is a convolution over the whole final map that leaves one number per image.
4. ReLU in the generator (tanh at the output, the range of images scaled to [-1, 1]); LeakyReLU with
   slope 0.2 in the discriminator.
5. Weights drawn from N(0, 0.02) (``init_dcgan_weights_``); Adam with lr 2e-4 and beta1 = 0.5 is
   ``gancourse.training.TrainConfig``'s default.

The feature maps double in channels each time they halve in size; ``width`` is the channel count
of the largest map (the paper's and PyTorch's example's ``ngf``/``ndf``). The discriminator returns
raw scores (logits for the GAN losses, critic values for the Wasserstein losses), shape (N,).

Batch norm couples the samples of a batch, which the gradient penalty of WGAN-GP (Gulrajani et al.,
2017) forbids, since it penalises the critic's gradient for each input alone: ``critic()`` builds
the discriminator with layer norm instead. ``spectral_norm=True`` divides every weight by its
largest singular value (Miyato et al., 2018).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from gancourse.checks import positive_int

__all__ = [
    "IMAGE_SIZES",
    "NORMS",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "critic",
    "init_dcgan_weights_",
    "summary",
]

# image size -> (side of the smallest feature map, number of stride-2 layers between it and the image).
# 28 = 7 * 2 * 2 (MNIST's size); 32 = 4 * 2**3; 64 = 4 * 2**4 (the paper's LSUN and faces models).
_LAYOUT: dict[int, tuple[int, int]] = {28: (7, 2), 32: (4, 3), 64: (4, 4)}
IMAGE_SIZES: tuple[int, ...] = tuple(_LAYOUT)
NORMS: tuple[str | None, ...] = ("batch", "layer", "instance", None)
ACTIVATIONS = ("relu", "leaky_relu")
Norm = Literal["batch", "layer", "instance"] | None

_NORM_TYPES = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)
_CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)


def _layout(image_size: object) -> tuple[int, int]:
    """Return (smallest map side, number of stride-2 layers) for ``image_size``, or raise ValueError."""
    if type(image_size) is not int or image_size not in _LAYOUT:
        raise ValueError(
            f"image_size must be one of {list(IMAGE_SIZES)} (pixels per side), got {image_size!r}; "
            "resize the images to one of these sizes"
        )
    return _LAYOUT[image_size]  # type: ignore[index]


def _norm_layer(norm: Norm, channels: int) -> nn.Module:
    """Return the normalisation layer named ``norm`` for feature maps with ``channels`` channels."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        # Layer norm over (C, H, W) of each sample, with a scale and shift per channel: GroupNorm with
        # one group computes exactly that, and needs no spatial size.
        return nn.GroupNorm(1, channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    raise ValueError(f"norm must be one of {list(NORMS)}, got {norm!r}")


class DCGANGenerator(nn.Module):
    """G: z of shape (N, z_dim) -> images (N, channels, image_size, image_size) in (-1, 1).

    A stack of transposed convolutions, each followed by batch norm and ReLU except the last,
    which is followed by tanh. For image_size 64 and width 64 this is the generator of PyTorch's
    DCGAN example: z -> 512 x 4 x 4 -> 256 x 8 x 8 -> 128 x 16 x 16 -> 64 x 32 x 32 -> 3 x 64 x 64.
    ``activation='leaky_relu'`` swaps ReLU for LeakyReLU(0.2), to compare against the guideline.
    """

    def __init__(self, z_dim: int = 100, image_size: int = 28, channels: int = 1, width: int = 64, *,
                 activation: Literal["relu", "leaky_relu"] = "relu") -> None:
        super().__init__()
        self.z_dim = positive_int("z_dim", z_dim, "the size of the noise vector")
        self.channels = positive_int("channels", channels, "1 for grey images, 3 for RGB")
        self.width = positive_int("width", width, "channels of the largest feature map")
        self.image_size = image_size
        start, n_up = _layout(image_size)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
        self.activation = activation

        def act() -> nn.Module:
            return nn.ReLU() if activation == "relu" else nn.LeakyReLU(0.2)

        widths = [width * 2 ** k for k in reversed(range(n_up))]  # e.g. 28 px: [2w, w]
        # Project z to the smallest map: a transposed convolution with a start x start kernel on a
        # 1 x 1 input, i.e. a matrix product reshaped into (widths[0], start, start).
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], start, 1, 0, bias=False),  # no bias: BN's shift replaces it
            nn.BatchNorm2d(widths[0]),
            act(),
        ]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            # kernel 4, stride 2, padding 1 doubles the side exactly: (s - 1) * 2 - 2 + 4 = 2 s.
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), act()]
        # The output layer: no batch norm (the paper: it made samples oscillate), tanh to reach [-1, 1].
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return G(z), shape (N, channels, image_size, image_size)."""
        if z.ndim == 4 and tuple(z.shape[1:]) == (self.z_dim, 1, 1):
            z = z.flatten(1)  # PyTorch's DCGAN example draws z as (N, z_dim, 1, 1): accept it
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(
                f"the generator expects noise of shape (N, {self.z_dim}), got {tuple(z.shape)}; "
                f"draw it with gancourse.models.sample_noise(N, {self.z_dim})"
            )
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """D: images (N, channels, image_size, image_size) -> one raw score per image, shape (N,).

    Stride-2 convolutions with LeakyReLU(0.2); ``norm`` ('batch', 'layer', 'instance' or None)
    after every convolution but the first and the last. No sigmoid: the score is a logit for the
    GAN losses and a critic value for the Wasserstein ones. ``spectral_norm=True`` wraps every
    convolution in torch's spectral normalisation (usually with ``norm=None``, as in SN-GAN).
    """

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64, *, norm: Norm = "batch",
                 spectral_norm: bool = False) -> None:
        super().__init__()
        self.channels = positive_int("channels", channels, "1 for grey images, 3 for RGB")
        self.width = positive_int("width", width, "channels of the largest feature map")
        self.image_size = image_size
        end, n_down = _layout(image_size)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {list(NORMS)}, got {norm!r}; "
                             "use 'layer' (or None) for a critic trained with the gradient penalty")
        if not isinstance(spectral_norm, bool):
            raise TypeError(f"spectral_norm must be True or False, got {spectral_norm!r}")
        self.norm = norm
        self.spectral_norm = spectral_norm
        widths = [width * 2 ** k for k in range(n_down)]  # e.g. 28 px: [w, 2w]
        # The input layer: no normalisation (the paper: normalising the input layer made samples oscillate).
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            # kernel 4, stride 2, padding 1 halves the side: (s + 2 - 4) / 2 + 1 = s / 2.
            block: list[nn.Module] = [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=norm is None)]
            if norm is not None:
                block.append(_norm_layer(norm, w_out))
            layers += [*block, nn.LeakyReLU(0.2)]
        # One convolution over the whole end x end map: one score per image, no fully connected layer.
        layers.append(nn.Conv2d(widths[-1], 1, end, 1, 0))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights_(self)
        if spectral_norm:
            for module in self.net:
                if isinstance(module, nn.Conv2d):
                    _spectral_norm(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the scores, shape (N,)."""
        want = (self.channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(
                f"the discriminator expects images of shape (N, {', '.join(map(str, want))}), got "
                f"{tuple(x.shape)}; pass a batch of {self.channels}-channel {self.image_size}x{self.image_size} images"
            )
        return self.net(x).flatten()


def critic(image_size: int = 28, channels: int = 1, width: int = 64, *, norm: Norm = "layer",
           spectral_norm: bool = False) -> DCGANDiscriminator:
    """Return a DCGAN discriminator without batch norm (layer norm by default): a critic for WGAN-GP."""
    if norm == "batch":
        raise ValueError("a critic for the gradient penalty must not use batch norm: it mixes the samples of a "
                         "batch, so the gradient for one input depends on the others; use norm='layer', "
                         "'instance' or None")
    return DCGANDiscriminator(image_size, channels, width, norm=norm, spectral_norm=spectral_norm)


def _weight_of(module: nn.Module) -> torch.Tensor | None:
    """Return the tensor to initialise as ``module``'s weight: the raw one under spectral norm."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return getattr(module, "weight", None)


@torch.no_grad()
def init_dcgan_weights_(model: nn.Module) -> nn.Module:
    """Initialise ``model`` in place as DCGAN does and return it.

    Convolution weights ~ N(0, 0.02), normalisation scales ~ N(1, 0.02), every bias 0.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"init_dcgan_weights_ takes an nn.Module (e.g. a generator), got {type(model).__name__}")
    for module in model.modules():
        weight = _weight_of(module)
        if isinstance(module, (*_CONV_TYPES, nn.Linear)) and weight is not None:
            nn.init.normal_(weight, 0.0, 0.02)
        elif isinstance(module, _NORM_TYPES) and weight is not None:
            nn.init.normal_(weight, 1.0, 0.02)
        else:
            continue
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    return model


def summary(model: nn.Module, input_size: tuple[int, ...], *, batch_size: int = 2) -> pd.DataFrame:
    """Return a table of ``model``'s layers in call order: output shape and parameter count of each.

    ``input_size`` is the shape of ONE input without the batch dimension, e.g. (100,) for a
    generator with z_dim 100 or (1, 28, 28) for a discriminator. Output shapes are printed with -1
    for the batch dimension, as torchsummary does; the frame's ``attrs['total_params']`` holds the
    total. The model runs once on zeros in eval mode and is returned to its former mode.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary takes an nn.Module, got {type(model).__name__}")
    dims = (input_size,) if isinstance(input_size, int) else tuple(input_size)
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(f"input_size must be the shape of one input without the batch, e.g. (1, 28, 28); "
                         f"got {input_size!r}")
    rows: list[dict[str, object]] = []

    def hook(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        rows.append({
            "layer": f"{type(module).__name__}-{len(rows) + 1}",
            "output shape": (-1, *output.shape[1:]) if isinstance(output, torch.Tensor) else None,
            # recurse=True picks up a parametrised weight's original tensor (spectral norm)
            "params": sum(p.numel() for p in module.parameters()),
        })

    # Layers only: modules without children of their own (containers would count their layers twice). A
    # spectral-normed convolution's one child is its `parametrizations` holder: it still counts as a layer.
    layers = [m for name, m in model.named_modules() if "parametrizations" not in name.split(".")
              and all(child == "parametrizations" for child, _ in m.named_children())]
    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = model.training
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(batch_size, *dims, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    frame = pd.DataFrame(rows, columns=["layer", "output shape", "params"])
    frame.attrs["total_params"] = sum(p.numel() for p in model.parameters())
    return frame
