"""Training the glyph classifiers that the course uses as judges (digit class, 13 attributes).

A plain supervised loop: Adam with a one-cycle learning rate, batches of 128, a one-pixel random
shift for the digit task (generated digits are never centred as exactly as rendered ones). The
trained networks ship in ``gancourse/pretrained`` (``scripts/train_glyph_classifiers.py``) and
``gancourse.metrics.judges`` loads them; loading never trains.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gancourse import checks
from gancourse.data.glyphs import ATTRIBUTE_NAMES, GlyphDataset
from gancourse.models.classifier import GlyphCNN

__all__ = ["TrainedClassifier", "TASKS", "fit_classifier", "train_classifier", "train_glyph_classifier",
           "train_attribute_classifier"]

TASKS = ("digits", "attributes")
N_TRAIN, N_TEST, EPOCHS, BATCH, LR = 12_000, 2_000, 4, 128, 3e-3


@dataclass
class TrainedClassifier:
    """A trained ``GlyphCNN`` with what it was trained for and how well it does on held-out glyphs."""

    model: GlyphCNN
    task: str  # "digits" or "attributes"
    accuracy: float  # held-out accuracy: of the digit, or the mean over attributes
    per_attribute: dict[str, float] = field(default_factory=dict)  # held-out accuracy per attribute
    seed: int = 0
    n_train: int = N_TRAIN
    epochs: int = EPOCHS

    def __repr__(self) -> str:
        return f"TrainedClassifier(task={self.task!r}, seed={self.seed}, held-out accuracy={self.accuracy:.4f})"


def _data(n: int, seed: int, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    ds = GlyphDataset(n, seed=seed)
    return ds.images, (ds.labels if task == "digits" else ds.attributes)


def train_classifier(task: str, seed: int = 0, *, n_train: int = N_TRAIN, epochs: int = EPOCHS,
                     verbose: bool = False) -> TrainedClassifier:
    """Return a ``GlyphCNN`` trained for ``task`` ('digits' or 'attributes') from ``seed``, with its held-out accuracy.

    Training and held-out glyphs come from different ``GlyphDataset`` seeds, so no image is in both.
    """
    checks.one_of("task", task, TASKS)
    checks.integer("seed", seed, at_least=0)
    checks.positive_int("n_train", n_train, "training glyphs")
    checks.positive_int("epochs", epochs, "passes over the training glyphs")
    start = time.perf_counter()
    torch.manual_seed(seed)
    x, y = _data(n_train, 10_000 + 2 * seed, task)
    x_test, y_test = _data(N_TEST, 10_001 + 2 * seed, task)
    model = GlyphCNN(1, 10 if task == "digits" else len(ATTRIBUTE_NAMES))
    # Attributes include the shift itself, so they are trained without it.
    fit_classifier(model, x, y, epochs=epochs, seed=seed, shift=task == "digits",
                   multi_label=task == "attributes", verbose=verbose)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i:i + 500]) for i in range(0, N_TEST, 500)])
    per_attribute: dict[str, float] = {}
    if task == "digits":
        accuracy = float((logits.argmax(1) == y_test).float().mean())
    else:
        hits = ((logits > 0).float() == y_test).float().mean(0)
        per_attribute = {name: float(h) for name, h in zip(ATTRIBUTE_NAMES, hits)}
        accuracy = float(hits.mean())
    if verbose:
        print(f"{task}: held-out accuracy {accuracy:.4f} ({time.perf_counter() - start:.1f} s)")
    return TrainedClassifier(model, task, accuracy, per_attribute, seed, n_train, epochs)


def fit_classifier(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, *, epochs: int = EPOCHS,
                   seed: int = 0, shift: bool = True, multi_label: bool = False, verbose: bool = False) -> nn.Module:
    """Train ``model`` in place on (images, targets): Adam with a one-cycle rate, batches of 128; return it in eval mode.

    ``shift`` moves each batch by a random pixel (generated digits are never centred as exactly as
    rendered ones); ``multi_label`` trains one binary logit per target column instead of classes.
    The batches' order and shifts come from a generator seeded with ``seed``.
    """
    checks.positive_int("epochs", epochs, "passes over the images")
    n = len(images)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=epochs * ((n + BATCH - 1) // BATCH))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH):
            idx = order[i:i + BATCH]
            xb = images[idx]
            if shift:
                dx, dy = torch.randint(-1, 2, (2,), generator=gen).tolist()
                xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            logits = model(xb)
            loss = (F.binary_cross_entropy_with_logits(logits, targets[idx]) if multi_label
                    else F.cross_entropy(logits, targets[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}")
    return model.eval()


def train_glyph_classifier(seed: int = 0, *, n_train: int = N_TRAIN, epochs: int = EPOCHS,
                           verbose: bool = False) -> TrainedClassifier:
    """Return a digit classifier trained on fresh glyphs from ``seed`` (reproducible), with its held-out accuracy."""
    return train_classifier("digits", seed, n_train=n_train, epochs=epochs, verbose=verbose)


def train_attribute_classifier(seed: int = 0, *, n_train: int = N_TRAIN, epochs: int = EPOCHS,
                               verbose: bool = False) -> TrainedClassifier:
    """Return a 13-attribute glyph classifier (multi-label logits) trained from ``seed``, with per-attribute accuracy."""
    return train_classifier("attributes", seed, n_train=n_train, epochs=epochs, verbose=verbose)
