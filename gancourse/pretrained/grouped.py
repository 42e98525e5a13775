"""Moved: ``GroupedMLP`` lives in ``gancourse.models.grouped``, its training in ``gancourse.training.grouped``."""

from gancourse._moved import moved

__getattr__ = moved(__name__, {"GroupedMLP": "gancourse.models.grouped",
                               **dict.fromkeys(("ToyRecipe", "GroupedRun", "train_grouped"),
                                               "gancourse.training.grouped")})
