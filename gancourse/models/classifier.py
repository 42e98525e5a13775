"""Small CNN classifiers that measure generated images: which digit, which attributes, and their features.

Later chapters ask "did the conditional GAN draw the 7 it was asked for?", "does InfoGAN's code
control thickness?", "how far are generated glyphs from real ones in feature space?". A classifier
trained on the real glyphs answers all three: its predicted class, its attribute logits, and its
penultimate activations (``features``), the course's offline stand-in for Inception's pool3.

``glyph_classifier()`` (10 digits) and ``attribute_classifier()`` (the 13 binary attributes of
``gancourse.data.glyphs.ATTRIBUTE_NAMES``) load the weights shipped in ``gancourse/pretrained``
(rebuilt by ``scripts/train_glyph_classifiers.py``); another seed is trained on first use and cached
under ``gancourse.runtime.data_dir()`` as safetensors + JSON. The same network reads CelebA
(3 x 64 x 64, 40 attributes): ``GlyphCNN(in_channels=3, n_outputs=40)``, trained by your own loop.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from gancourse.runtime import data_dir

__all__ = [
    "GlyphCNN",
    "TrainedClassifier",
    "save_classifier",
    "load_classifier",
    "train_glyph_classifier",
    "train_attribute_classifier",
    "glyph_classifier",
    "attribute_classifier",
]

_N_TRAIN_DEFAULT = 12_000
PRETRAINED = Path(__file__).resolve().parent.parent / "pretrained"
FEATURE_DIM = 128


class GlyphCNN(nn.Module):
    """Three conv blocks, then a 128-d penultimate layer (``features``) and one logit per output."""

    def __init__(self, in_channels: int = 1, n_outputs: int = 10, width: int = 16) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("n_outputs", n_outputs), ("width", width)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_channels, self.n_outputs, self.width = in_channels, n_outputs, width
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14 (64 -> 32)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> 7 (16)
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(3),  # any input size -> 3 x 3, so CelebA's 64 px works too
        )
        self.penultimate = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * 9, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, n_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the penultimate activations, shape (N, 128): the features for FID-like metrics."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected images of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self.penultimate(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits, shape (N, n_outputs): class scores, or one attribute logit each."""
        return self.head(self.features(x))


@dataclass
class TrainedClassifier:
    """A trained ``GlyphCNN`` with what it was trained for and how well it does on held-out glyphs."""

    model: GlyphCNN
    task: str  # "digits" or "attributes"
    accuracy: float  # held-out accuracy: of the digit, or the mean over attributes
    per_attribute: dict[str, float]  # held-out accuracy per attribute (empty for digits)
    seed: int
    n_train: int = _N_TRAIN_DEFAULT
    epochs: int = 4

    def __repr__(self) -> str:
        return f"TrainedClassifier(task={self.task!r}, seed={self.seed}, held-out accuracy={self.accuracy:.4f})"


# ---------------------------------------------------------------------------------------------
# Training.

_N_TRAIN, _N_TEST, _EPOCHS, _BATCH, _LR = _N_TRAIN_DEFAULT, 2_000, 4, 128, 3e-3


def _data(n: int, seed: int, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    from gancourse.data.glyphs import GlyphDataset

    ds = GlyphDataset(n, seed=seed)
    return ds.images, (ds.labels if task == "digits" else ds.attributes)


def _train(task: str, seed: int, n_train: int, epochs: int, verbose: bool) -> TrainedClassifier:
    from gancourse.data.glyphs import ATTRIBUTE_NAMES

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    start = time.perf_counter()
    torch.manual_seed(seed)
    # Training and held-out glyphs come from different GlyphDataset seeds, so no image is in both.
    x, y = _data(n_train, 10_000 + 2 * seed, task)
    x_test, y_test = _data(_N_TEST, 10_001 + 2 * seed, task)
    n_out = 10 if task == "digits" else len(ATTRIBUTE_NAMES)
    model = GlyphCNN(1, n_out)
    opt = torch.optim.Adam(model.parameters(), lr=_LR)
    steps = epochs * ((n_train + _BATCH - 1) // _BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=_LR, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n_train, generator=gen)
        for i in range(0, n_train, _BATCH):
            idx = order[i:i + _BATCH]
            xb = x[idx]
            # A one-pixel random shift: generated digits are never centred as exactly as rendered ones.
            # (Attributes include the shift itself, so they are trained without it.)
            if task == "digits":
                dx, dy = torch.randint(-1, 2, (2,), generator=gen).tolist()
                xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            logits = model(xb)
            loss = (F.cross_entropy(logits, y[idx]) if task == "digits"
                    else F.binary_cross_entropy_with_logits(logits, y[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i:i + 500]) for i in range(0, _N_TEST, 500)])
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


def train_glyph_classifier(seed: int = 0, *, n_train: int = _N_TRAIN, epochs: int = _EPOCHS,
                           verbose: bool = False) -> TrainedClassifier:
    """Return a digit classifier trained on fresh glyphs from ``seed`` (reproducible), with its held-out accuracy."""
    return _train("digits", seed, n_train, epochs, verbose)


def train_attribute_classifier(seed: int = 0, *, n_train: int = _N_TRAIN, epochs: int = _EPOCHS,
                               verbose: bool = False) -> TrainedClassifier:
    """Return a 13-attribute glyph classifier (multi-label logits) trained from ``seed``, with per-attribute accuracy."""
    return _train("attributes", seed, n_train, epochs, verbose)


# ---------------------------------------------------------------------------------------------
# Saving and loading (safetensors + JSON, never pickle).

_NAMES = {"digits": "glyph_classifier", "attributes": "glyph_attributes"}


def save_classifier(trained: TrainedClassifier, path: str | Path) -> Path:
    """Write the weights to ``path`` (.safetensors) and what they are to the .json beside it; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    m = trained.model
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(path))
    meta = {"task": trained.task, "seed": trained.seed, "accuracy": trained.accuracy,
            "per_attribute": trained.per_attribute, "in_channels": m.in_channels, "n_outputs": m.n_outputs,
            "width": m.width, "n_train": trained.n_train, "epochs": trained.epochs}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return path


def load_classifier(path: str | Path) -> TrainedClassifier:
    """Return the classifier saved at ``path`` by ``save_classifier``, in eval mode."""
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    model = GlyphCNN(meta["in_channels"], meta["n_outputs"], meta["width"])
    model.load_state_dict(load_file(str(path)))
    model.eval()
    return TrainedClassifier(model, meta["task"], meta["accuracy"], meta["per_attribute"], meta["seed"],
                             meta["n_train"], meta["epochs"])


def _get(task: str, seed: int, verbose: bool) -> TrainedClassifier:
    name = _NAMES[task]
    shipped = PRETRAINED / f"{name}.safetensors"
    if shipped.is_file() and shipped.with_suffix(".json").is_file():
        meta = json.loads(shipped.with_suffix(".json").read_text())
        if meta.get("seed") == seed:
            return load_classifier(shipped)
    cached = data_dir() / "classifiers" / f"{name}_seed{seed}.safetensors"
    if cached.is_file() and cached.with_suffix(".json").is_file():
        return load_classifier(cached)
    if verbose:
        print(f"training the {task} classifier (seed {seed}) once; it is cached at {cached}")
    trained = _train(task, seed, _N_TRAIN, _EPOCHS, verbose)
    save_classifier(trained, cached)
    return trained


def glyph_classifier(seed: int = 0, *, verbose: bool = True) -> TrainedClassifier:
    """Return the digit classifier for ``seed``: shipped (seed 0), cached, or trained now (~30 s) and cached."""
    return _get("digits", seed, verbose)


def attribute_classifier(seed: int = 0, *, verbose: bool = True) -> TrainedClassifier:
    """Return the 13-attribute classifier for ``seed``: shipped (seed 0), cached, or trained now and cached."""
    return _get("attributes", seed, verbose)
