"""``grade(submission, profile)``: every measure of a submission, the memorisation guard and the tier, in one dict.

The quick profile grades glyphs with the glyph judge; the full profile grades anime faces
(``capstone.full``)."""

from __future__ import annotations

import os
from functools import lru_cache

import torch
from torch import nn

from gancourse import checks
from gancourse.capstone.data import reference_set
from gancourse.capstone.detector import load_cascade
from gancourse.capstone.faces import faces_folder
from gancourse.capstone.full import grade_faces
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


@lru_cache(maxsize=1)
def _inception() -> nn.Module:
    """One InceptionFeatures per process: the faces' features are cached per extractor (``full.face_bank``)."""
    return InceptionFeatures().to(device())


def grade(submission: str | os.PathLike | torch.Tensor, *, profile: str = "quick",
          faces: str | os.PathLike | None = None, extractor: nn.Module | None = None,
          cascade: object | None = None) -> dict[str, object]:
    """Return the grade of a submission (a folder, archive, tensor file or tensor of 1,000 images).

    ``profile="full"`` grades 1,000 RGB 64 x 64 anime faces against the faces folder ``faces``
    (``capstone.faces.faces_folder``: the path, else ``$GANCOURSE_FACES``, else
    ``data_dir()/faces``) with ``capstone.full.grade_faces``: Inception FID with its interval,
    FID∞, the anime-face detector's rate, the guard in Inception features, the provisional tier.
    ``extractor`` (default ``InceptionFeatures()``) and ``cascade`` (default the checked download)
    may be given, as the tests do. Below: the quick profile (glyphs).

    Quick keys: ``fd``, ``fd_ci`` (lo, hi), ``detector_rate``, ``class_entropy``, ``class_shares``,
    ``memorised`` and the guard's numbers (``copied_share``, ``mifid_distance``, ``nn_train_share``,
    ``nn_train_share_pixels``, ``guard_reasons``), ``tier``, and ``profile``, ``bootstraps``,
    ``bootstrap_seed``. Full keys: ``fd`` (Inception FID), ``fd_ci``, ``fid_infinity``,
    ``detector_rate``, ``class_entropy`` (None), the guard's numbers, ``tier`` and ``tier_status``.
    Missing weights, detector or faces folder: a RuntimeError or FacesError that says what to do.
    Raises SubmissionError for an invalid submission.
    """
    checks.one_of("profile", profile, PROFILES, "quick (glyphs, offline) or full (anime faces, InceptionV3)")
    if profile == "full":
        # Weights, detector and folder first: offline without them, fail before the minutes of work, not after.
        extractor = _inception() if extractor is None else extractor
        cascade = load_cascade() if cascade is None else cascade
        folder = faces_folder(faces)
        return grade_faces(load_submission(submission, "full"), folder, extractor, cascade)
    images = load_submission(submission)
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
    return result
