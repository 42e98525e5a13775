"""The course's judges: shipped glyph classifiers, and what they measure about a generator's samples.

Later chapters ask "did the conditional GAN draw the 7 it was asked for?", "does InfoGAN's code
control thickness?", "do these samples look like digits at all?". A classifier trained on real
glyphs answers: ``glyph_classifier()`` (10 digits) and ``attribute_classifier()`` (the 13 binary
attributes of ``gancourse.data.glyphs.ATTRIBUTE_NAMES``) load the networks shipped in
``gancourse/pretrained`` (through the one card loader; ``scripts/train_glyph_classifiers.py``
rebuilds them). Loading a judge never trains one: a missing or damaged file is an error that says
how to rebuild it.

- ``class_accuracy(G, judge)``: the share of a conditional G's samples of each class that the
  judge assigns to that class (chapter 5);
- ``judge_verdict(images, judge)``: the judge's confidence and the share of samples per class (how
  digit-like, and how many digits covered: the shipped DCGAN's card);
- ``attribute_share(images, judge, name)`` and ``labels_kept(images, labels, judge)``: how many
  translated glyphs have an attribute (bold), and how many kept their digit (chapter 10);
- ``caption_agreement(images, specs, digit_judge, attribute_judge)``: whether each image shows
  what its caption says (digit, weight, family, slant), for text guidance (chapter 10).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from gancourse import checks
from gancourse.data.captions import CaptionSpec
from gancourse.data.glyphs import ATTRIBUTE_NAMES
from gancourse.models.noise import generate, sample_noise
from gancourse.pretrained.cards import load_shipped
from gancourse.training.classifier import TrainedClassifier

__all__ = ["TrainedClassifier", "glyph_classifier", "attribute_classifier", "ClassAccuracy", "class_accuracy",
           "judge_verdict", "attribute_share", "labels_kept", "caption_agreement", "JUDGES", "CONFIDENT", "COVERED_SHARE"]

JUDGES = {"digits": "glyph_classifier", "attributes": "glyph_attributes"}  # task -> shipped model
SHIPPED_SEED = 0
CONFIDENT = 0.9  # a sample "looks like one digit" when the judge gives that digit more than 90 %
COVERED_SHARE = 0.05  # a digit is covered when at least 5 % of the samples (half its fair 10 %) show it


def _load(task: str, seed: int) -> TrainedClassifier:
    checks.integer("seed", seed, f"the shipped judge's seed is {SHIPPED_SEED}", at_least=0)
    if seed != SHIPPED_SEED:
        raise ValueError(f"only the {task} judge of seed {SHIPPED_SEED} ships; train another with "
                         f"gancourse.training.classifier.train_classifier({task!r}, seed={seed}) (about a minute "
                         "on a CPU) and use its .model")
    try:
        model, card = load_shipped(JUDGES[task])
    except (LookupError, FileNotFoundError) as err:
        raise FileNotFoundError(f"the shipped {task} judge is missing ({err}); rebuild it with "
                                "`OMP_NUM_THREADS=1 python scripts/train_glyph_classifiers.py` or reinstall gancourse"
                                ) from err
    info = card["info"]
    return TrainedClassifier(model, info["task"], info["accuracy"], info["per_attribute"], info["seed"],
                             info["n_train"], info["epochs"])


def glyph_classifier(seed: int = SHIPPED_SEED, *, verbose: bool = False) -> TrainedClassifier:
    """Return the shipped digit classifier (its ``model`` in eval mode, frozen) and its held-out accuracy.

    ``verbose`` is accepted for older code; loading reports nothing.
    """
    return _load("digits", seed)


def attribute_classifier(seed: int = SHIPPED_SEED, *, verbose: bool = False) -> TrainedClassifier:
    """Return the shipped 13-attribute classifier (multi-label logits) and its per-attribute accuracy.

    ``verbose`` is accepted for older code; loading reports nothing.
    """
    return _load("attributes", seed)


class ClassAccuracy(NamedTuple):
    """How often the judge reads a conditional G's samples as the class they were drawn for."""

    overall: float               # over all samples
    per_class: torch.Tensor      # (n_classes,)
    images: torch.Tensor         # the samples, n_per_class of each class in turn


def class_accuracy(G: nn.Module, judge: nn.Module, n_per_class: int = 100, seed: int = 2024) -> ClassAccuracy:
    """Return the share of ``n_per_class`` samples of each class that ``judge`` assigns to that class.

    The noise is drawn from ``seed``; G runs in eval mode (restored afterwards); ``judge(images)``
    returns class logits.
    """
    checks.positive_int("n_per_class", n_per_class, "samples drawn for each class")
    n_classes = checks.integer("G.n_classes", getattr(G, "n_classes", None), "a conditional generator", at_least=2)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    z = sample_noise(len(y), G.z_dim, generator=torch.Generator().manual_seed(seed))
    images = generate(G, z=z, labels=y, batch_size=len(y))
    with torch.no_grad():
        correct = (judge(images).argmax(dim=1).cpu() == y).float()
    return ClassAccuracy(correct.mean().item(), correct.view(n_classes, n_per_class).mean(dim=1), images)


def judge_verdict(images: torch.Tensor, judge: nn.Module, *, confident: float = CONFIDENT,
                  covered_share: float = COVERED_SHARE) -> dict[str, float | int | list[float]]:
    """Return the judge's verdict on ``images``: ``confidence`` (mean top-class probability),
    ``share_confident`` (top probability above ``confident``), ``class_shares`` (share of samples per
    class) and ``classes_covered`` (classes with at least ``covered_share`` of the samples).
    """
    checks.fraction("confident", confident, "a probability")
    checks.fraction("covered_share", covered_share, "a share of the samples")
    with torch.no_grad():
        probs = torch.softmax(judge(images), dim=1)
    top, predicted = probs.max(dim=1)
    shares = torch.bincount(predicted, minlength=probs.shape[1]).float() / len(images)
    return {"confidence": top.mean().item(), "share_confident": (top > confident).float().mean().item(),
            "class_shares": shares.tolist(), "classes_covered": int((shares >= covered_share).sum())}


def attribute_share(images: torch.Tensor, judge: nn.Module, name: str) -> float:
    """Return the share of ``images`` whose attribute ``name`` (e.g. 'bold') the attribute judge says is present.

    ``judge(images)`` returns one logit per attribute of ``ATTRIBUTE_NAMES`` (the shipped
    ``attribute_classifier().model``); present means a logit above 0 (probability above 1/2).
    """
    checks.one_of("name", name, ATTRIBUTE_NAMES, "an attribute of gancourse.data.glyphs.ATTRIBUTE_NAMES")
    with torch.no_grad():
        logits = judge(images)
    return (logits[:, ATTRIBUTE_NAMES.index(name)] > 0).float().mean().item()


def labels_kept(images: torch.Tensor, labels: torch.Tensor, judge: nn.Module) -> float:
    """Return the share of ``images`` that the digit judge assigns to their ``labels`` (e.g. the inputs' digits)."""
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a tensor of one label per image, shape ({len(images)},), got "
                         f"{tuple(getattr(labels, 'shape', ())) or type(labels).__name__}")
    with torch.no_grad():
        predicted = judge(images).argmax(dim=1).cpu()
    return (predicted == labels.cpu()).float().mean().item()


def caption_agreement(images: torch.Tensor, specs: Sequence[CaptionSpec], digit_judge: nn.Module,
                      attribute_judge: nn.Module) -> pd.DataFrame:
    """Return, per image, whether the judges read what its caption says: one row per image.

    Columns (bool): ``digit`` (the digit judge's class), ``weight`` (bold or not), ``family`` (serif
    or not) and ``slant`` (left if the judge says slanted_left, right if slanted_right, else
    upright), and ``all`` (all four). Attribute present = logit above 0.
    """
    if len(specs) != len(images):
        raise ValueError(f"one caption spec per image: got {len(specs)} specs for {len(images)} images")
    if not all(isinstance(s, CaptionSpec) for s in specs):
        raise TypeError("specs must be CaptionSpec objects (gancourse.data.captions)")
    with torch.no_grad():
        digit = digit_judge(images).argmax(dim=1).cpu().numpy()
        present = (attribute_judge(images) > 0).cpu().numpy()

    def has(name: str) -> np.ndarray:
        return present[:, ATTRIBUTE_NAMES.index(name)]

    left, right = has("slanted_left"), has("slanted_right")
    slant = np.where(left & ~right, "left", np.where(right & ~left, "right", np.where(left, "both", "upright")))
    table = pd.DataFrame({
        "digit": digit == np.array([s.digit for s in specs]),
        "weight": has("bold") == np.array([s.bold for s in specs]),
        "family": has("serif") == np.array([s.serif for s in specs]),
        "slant": slant == np.array([s.slant for s in specs]),
    })
    table["all"] = table.all(axis=1)
    return table
