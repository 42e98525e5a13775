"""Moved: the shipped-model cards and their loader live in ``gancourse.pretrained.cards``."""

from gancourse._moved import moved

__getattr__ = moved(__name__, dict.fromkeys(("load_shipped", "save_shipped", "shipped_card", "shipped_names",
                                             "HERE", "FORMAT"), "gancourse.pretrained.cards"))
