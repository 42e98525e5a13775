"""The networks that ship inside the package, trained longer than a notebook can, loaded without pickle.

Every shipped model is a safetensors file and a JSON card in this folder, in ONE format, read by
ONE loader (``cards``): ``load_shipped(name)`` returns the network and its card. ``toy`` names the
toy generators of Chapter 4's table (``load_toy_generator('ring', 'wgan-gp')``). The judges
(glyph classifiers) are shipped models too, loaded by ``gancourse.metrics.judges``. Each card's
``info.rebuild`` names the script in ``scripts/`` that retrains it.
"""

from gancourse._moved import moved
from gancourse.pretrained.cards import HERE, as_shipped, load_shipped, save_shipped, shipped_card, shipped_names
from gancourse.pretrained.toy import (
    DATASETS,
    METHODS,
    ToyModel,
    list_toy_models,
    load_toy_generator,
    toy_model_info,
    toy_model_name,
    wgan_gp_sweep,
)

__all__ = [
    "HERE",
    "load_shipped",
    "save_shipped",
    "shipped_card",
    "shipped_names",
    "as_shipped",
    "DATASETS",
    "METHODS",
    "ToyModel",
    "toy_model_name",
    "list_toy_models",
    "toy_model_info",
    "load_toy_generator",
    "wgan_gp_sweep",
]

# Moved out of pretrained/: the data sets to data, measuring to metrics, the recipes to training.
__getattr__ = moved(__name__, {
    "toy_dataset": "gancourse.data.toy",
    "evaluate_toy_generator": "gancourse.metrics.modes",
    "RECIPES": "gancourse.training.grouped",
})
