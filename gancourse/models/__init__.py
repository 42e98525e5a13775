"""Networks only: generators, discriminators and critics, the judges' CNN, and the noise they start from.

- ``mlp``: fully connected G and D (chapter 2); ``dcgan``: convolutional G, D and critics (chapters 3-4);
- ``conditional``: G(z, y) and D(x, y), the projection discriminator (chapter 5);
- ``infogan``: D and Q on one body (chapter 6); ``grouped``: many small MLPs evaluated as one;
- ``classifier``: ``GlyphCNN``, the network behind the judges of ``gancourse.metrics``;
- ``noise``: z ~ N(0, I), InfoGAN's codes, and ``generate(G, n)``;
- chapter 9's later architectures: ``attention`` (SAGAN's self-attention, BigGAN's conditional
  batch norm), ``biggan`` (both in one conditional generator), ``progressive`` (ProGAN),
  ``modulated`` (StyleGAN2's convolution), ``style`` (mapping network, AdaIN, noise, mixing,
  truncation, ``StyleGenerator``), ``aliasing`` (StyleGAN3);
- chapter 10's ``translation``: pix2pix's U-Net and PatchGAN, CycleGAN's pairs, a sub-pixel upsampler;
  ``text_image``: a caption encoder and an image encoder into one space (CLIP in miniature).
"""

from gancourse._moved import moved
from gancourse.models.aliasing import ToySynthesis, fourier_resample, fourier_shift
from gancourse.models.attention import ConditionalBatchNorm2d, SelfAttention2d
from gancourse.models.biggan import BigGANGenerator
from gancourse.models.classifier import GlyphCNN
from gancourse.models.conditional import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
    ProjectionDiscriminator,
    combine_vectors,
    one_hot,
)
from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator, critic, init_dcgan_weights_, summary
from gancourse.models.grouped import GroupedMLP
from gancourse.models.infogan import InfoGANDiscriminator, InfoGANOutput
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator
from gancourse.models.modulated import ModulatedConv2d, modulated_conv2d, modulated_weight
from gancourse.models.noise import generate, latent_input, sample_latent, sample_noise
from gancourse.models.progressive import (
    EqualizedConv2d,
    EqualizedLinear,
    ProgressiveGenerator,
    minibatch_stddev,
    pixel_norm,
)
from gancourse.models.style import MappingNetwork, NoiseInjection, StyleGenerator, adain, style_mix, truncate
from gancourse.models.text_image import ImageEncoder, TextEncoder, TextImageEncoders
from gancourse.models.translation import (
    CycleDiscriminators,
    CycleGenerators,
    CycleUNets,
    PatchDiscriminator,
    SubPixelUpsampler,
    UNetGenerator,
    receptive_field,
)

__all__ = [
    "TextEncoder",
    "ImageEncoder",
    "TextImageEncoders",
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "critic",
    "init_dcgan_weights_",
    "summary",
    "one_hot",
    "combine_vectors",
    "ConditionalMLPGenerator",
    "ConditionalMLPDiscriminator",
    "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
    "ProjectionDiscriminator",
    "InfoGANDiscriminator",
    "InfoGANOutput",
    "GroupedMLP",
    "GlyphCNN",
    "sample_noise",
    "sample_latent",
    "latent_input",
    "generate",
    "SelfAttention2d",
    "ConditionalBatchNorm2d",
    "BigGANGenerator",
    "pixel_norm",
    "minibatch_stddev",
    "EqualizedLinear",
    "EqualizedConv2d",
    "ProgressiveGenerator",
    "modulated_weight",
    "modulated_conv2d",
    "ModulatedConv2d",
    "MappingNetwork",
    "adain",
    "NoiseInjection",
    "style_mix",
    "truncate",
    "StyleGenerator",
    "fourier_resample",
    "fourier_shift",
    "ToySynthesis",
    "UNetGenerator",
    "PatchDiscriminator",
    "receptive_field",
    "CycleGenerators",
    "CycleUNets",
    "CycleDiscriminators",
    "SubPixelUpsampler",
]

# Moved out of models/: judges to metrics, InfoGAN's loss to losses, its training to training.
__getattr__ = moved(__name__, {
    **dict.fromkeys(("glyph_classifier", "attribute_classifier"), "gancourse.metrics.judges"),
    **dict.fromkeys(("mutual_information_loss", "categorical_mi_lower_bound"), "gancourse.losses"),
    **dict.fromkeys(("InfoGANConfig", "train_infogan"), "gancourse.training"),
})
