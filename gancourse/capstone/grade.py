"""``grade(submission)``: every measure of a submission, the memorisation guard and the tier, in one dict."""

from __future__ import annotations

import os

import torch
from torch import nn

from gancourse import checks
from gancourse.capstone.data import reference_set
from gancourse.capstone.guard import memorisation_guard
from gancourse.capstone.metrics import BOOTSTRAP_SEED, BOOTSTRAPS, class_entropy, detector_rate, fd, fd_interval
from gancourse.capstone.reference import bank, judged
from gancourse.capstone.submission import load_submission
from gancourse.capstone.tiers import tier
from gancourse.metrics.extractors import InceptionFeatures
from gancourse.metrics.fid import fid
from gancourse.runtime import device

__all__ = ["PROFILES", "grade", "inception_fd"]

PROFILES = ("quick", "full")


def inception_fd(images: torch.Tensor, extractor: nn.Module) -> float:
    """Return the Inception FID of ``images`` against the reference glyphs (``extractor``: ``InceptionFeatures()``)."""
    return fid(reference_set(), images, extractor, device=device(), progress=False)


def grade(submission: str | os.PathLike | torch.Tensor, *, profile: str = "quick") -> dict[str, object]:
    """Return the grade of a submission (a folder, archive, tensor file or tensor of 1,000 images).

    Keys: ``fd``, ``fd_ci`` (lo, hi), ``detector_rate``, ``class_entropy``, ``class_shares``,
    ``memorised`` and the guard's numbers (``copied_share``, ``mifid_distance``, ``nn_train_share``,
    ``nn_train_share_pixels``, ``guard_reasons``), ``tier``, and ``profile``, ``bootstraps``,
    ``bootstrap_seed``. The full profile adds ``fd_inception`` (InceptionV3 weights needed: a
    RuntimeError says how to get them offline). Raises SubmissionError for an invalid submission.
    """
    checks.one_of("profile", profile, PROFILES, "quick (glyph judge) or full (also InceptionV3)")
    images = load_submission(submission)
    # The full profile's weights first: offline without them, fail before the minutes of work, not after.
    inception = InceptionFeatures() if profile == "full" else None
    ref = bank()
    seen = judged(images)
    guard = memorisation_guard(images, seen.features, ref)
    result: dict[str, object] = {
        "fd": fd(seen.features, ref),
        "fd_ci": fd_interval(seen.features, ref, BOOTSTRAPS[profile]),
        "detector_rate": detector_rate(seen.probs),
        "class_entropy": class_entropy(seen.probs),
        "class_shares": (torch.bincount(seen.probs.argmax(1), minlength=10).float() / len(images)).tolist(),
    }
    result |= {"memorised": guard.memorised, "copied_share": guard.copied_share, "mifid_distance": guard.mifid_distance,
               "nn_train_share": guard.nn_train_share, "nn_train_share_pixels": guard.nn_train_share_pixels,
               "nn_distinct": guard.nn_distinct, "nn_distinct_pixels": guard.nn_distinct_pixels,
               "guard_reasons": list(guard.reasons)}
    result["tier"] = tier(result["fd"], result["detector_rate"], result["class_entropy"], guard.memorised)
    result |= {"profile": profile, "bootstraps": BOOTSTRAPS[profile], "bootstrap_seed": BOOTSTRAP_SEED}
    if inception is not None:
        result["fd_inception"] = inception_fd(images, inception)
    return result
