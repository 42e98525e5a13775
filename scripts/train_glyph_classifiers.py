"""Rebuild the glyph classifiers shipped in gancourse/pretrained (seed 0): digits and the 13 attributes.

Run: ``OMP_NUM_THREADS=1 python scripts/train_glyph_classifiers.py`` (4 to 8 minutes on one core).
The digit classifier uses the same recipe as first-use training; the attribute classifier trains
longer on more glyphs, since its thresholds (a stroke 3.5 px wide, a 10 degree slant) are fine lines.
"""

from __future__ import annotations

import torch

from gancourse.models.classifier import PRETRAINED, save_classifier, train_attribute_classifier, train_glyph_classifier

if __name__ == "__main__":
    torch.set_num_threads(1)
    digits = train_glyph_classifier(seed=0, verbose=True)
    print(save_classifier(digits, PRETRAINED / "glyph_classifier.safetensors"), digits)
    attributes = train_attribute_classifier(seed=0, n_train=40_000, epochs=10, verbose=True)
    print(save_classifier(attributes, PRETRAINED / "glyph_attributes.safetensors"), attributes)
    for name, acc in attributes.per_attribute.items():
        print(f"  {name:14s} {acc:.3f}")
