"""Rebuild the glyph classifiers shipped in gancourse/pretrained (seed 0): digits and the 13 attributes.

Run: ``OMP_NUM_THREADS=1 python scripts/train_glyph_classifiers.py`` (4 to 8 minutes on one core).
The digit classifier uses ``gancourse.training.classifier``'s default recipe; the attribute
classifier trains longer on more glyphs, since its thresholds (a stroke 3.5 px wide, a 10 degree
slant) are fine lines. Both ship in float32 (``gancourse.metrics.judges`` loads them).

    OMP_NUM_THREADS=1 python scripts/train_glyph_classifiers.py --out-dir /tmp/judges   # anywhere else
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import torch

from gancourse.metrics.judges import JUDGES
from gancourse.models.classifier import GlyphCNN
from gancourse.pretrained import HERE, save_shipped
from gancourse.training.classifier import TrainedClassifier, train_classifier

REBUILD = "OMP_NUM_THREADS=1 python scripts/train_glyph_classifiers.py"
RECIPES = {"digits": {}, "attributes": {"n_train": 40_000, "epochs": 10}}  # beyond the defaults


def ship(trained: TrainedClassifier, out_dir: Path) -> Path:
    """Write ``trained`` as the shipped judge of its task; return the weights path."""
    m = trained.model
    info = {f.name: getattr(trained, f.name) for f in fields(trained) if f.name != "model"}
    info.update(stored_dtype="float32", rebuild=REBUILD)
    kwargs = {"in_channels": m.in_channels, "n_outputs": m.n_outputs, "width": m.width}
    return save_shipped(JUDGES[trained.task], m, GlyphCNN, kwargs, info, out_dir=out_dir, half=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the cards")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for task, recipe in RECIPES.items():
        trained = train_classifier(task, seed=0, verbose=True, **recipe)
        print(ship(trained, args.out_dir), trained)
        for name, acc in trained.per_attribute.items():
            print(f"  {name:14s} {acc:.3f}")


if __name__ == "__main__":
    main()
