"""Every training loop of the course, and the parts each one uses.

- ``loop``: ``train_gan``, THE loop: D steps, then a G step, for every GAN of the course;
- ``steps``: what a D step and a G step compute (``GANSteps``, the plain GAN), which a variant
  overrides: ``infogan`` (``InfoGANSteps``) and ``grouped`` (``GroupedSteps``, many toy GANs as one);
- ``config``: ``TrainConfig``; ``schedules``: learning-rate schedules; ``history``: ``History``;
- ``parts``: optimisers, freezing, EMA, per-layer gradient norms, sample snapshots;
- ``batches``: real batches from a sampler, a tensor or a Dataset; ``checkpoint``: save and resume;
- ``distributed``: ``train_gan(..., ranks=...)`` on many processes under torchrun (DDP): ``init_distributed``,
  ``wrap_gan``, ``ShardedBatches``, ``check_consistency`` and the ``--selftest`` command line;
- ``classifier``: the supervised loop that trains the glyph judges;
- ``augment`` (``DiffAugmentSteps``: DiffAugment and ADA) and ``regularized`` (``R1Steps``, lazy R1;
  ``OrthogonalSteps``, BigGAN's orthogonal regularisation of G);
- ``translation``: ``Pix2PixSteps``, ``CycleGANSteps`` and CycleGAN's ``ImagePool``;
- ``restoration``: ``SRGANSteps`` (super-resolution: content, perceptual and adversarial losses);
- ``contrastive``: ``train_text_image``, a caption encoder and an image encoder trained with InfoNCE
  (not a GAN: the one loop of the course that has no D step).
"""

from gancourse.training.augment import DiffAugmentSteps
from gancourse.training.batches import RealBatches, batches
from gancourse.training.checkpoint import load_checkpoint, save_checkpoint
from gancourse.training.config import TrainConfig
from gancourse.training.contrastive import TrainedEncoders, train_text_image
from gancourse.training.grouped import RECIPES, GroupedRun, GroupedSteps, ToyRecipe, train_grouped
from gancourse.training.history import History, TrainingDiverged
from gancourse.training.infogan import InfoGANConfig, InfoGANSteps, train_infogan
from gancourse.training.loop import train_gan
from gancourse.training.parts import (
    ema_copy,
    frozen,
    layer_grad_norms,
    make_optimizer,
    save_samples,
    set_learning_rate,
    update_ema_,
)
from gancourse.training.regularized import OrthogonalSteps, R1Steps
from gancourse.training.restoration import SRGANSteps, downsample
from gancourse.training.schedules import LinearDecay, PiecewiseConstant
from gancourse.training.steps import DStep, GANSteps, GStep
from gancourse.training.translation import CycleGANSteps, ImagePool, Pix2PixSteps, pair_domains, split_domains

__all__ = [
    "train_gan",
    "TrainConfig",
    "History",
    "TrainingDiverged",
    "GANSteps",
    "DStep",
    "GStep",
    "InfoGANSteps",
    "DiffAugmentSteps",
    "R1Steps",
    "OrthogonalSteps",
    "Pix2PixSteps",
    "CycleGANSteps",
    "ImagePool",
    "SRGANSteps",
    "TrainedEncoders",
    "train_text_image",
    "downsample",
    "pair_domains",
    "split_domains",
    "InfoGANConfig",
    "train_infogan",
    "GroupedSteps",
    "GroupedRun",
    "ToyRecipe",
    "RECIPES",
    "train_grouped",
    "PiecewiseConstant",
    "LinearDecay",
    "RealBatches",
    "batches",
    "make_optimizer",
    "set_learning_rate",
    "frozen",
    "ema_copy",
    "update_ema_",
    "layer_grad_norms",
    "save_samples",
    "save_checkpoint",
    "load_checkpoint",
]
