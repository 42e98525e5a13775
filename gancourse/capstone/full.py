"""The full profile's grade: 1,000 generated 64 x 64 anime faces against HW6's faces (or any folder).

Every measure is computed in InceptionV3's 2,048-d pool3 features (``InceptionFeatures``; a
stand-in extractor may be passed, as the tests do), against the split of ``faces.face_split``:

- ``fd``: the Inception FID of the 1,000 images against the reference split (10,000 faces), with
  ``fd_ci``, the bias-shifted bootstrap 95 % interval of ``capstone.metrics.fd_interval``
  (``FULL_BOOTSTRAPS`` = 200 resamples; each FID at 2,048-d costs 1 to 3 s on one CPU core, so
  the interval takes minutes per submission);
- ``fid_infinity``: FID∞ of Chong & Forsyth (``gancourse.metrics.fid_infinity``): FID of subsets
  of 200 to 1,000 images fitted against 1 / N, the intercept; the number that compares with FIDs
  of papers and across submission sizes (FID at N = 1,000 is biased upwards);
- ``detector_rate``: the share of images in which nagadomi's anime-face cascade finds a face
  (``capstone.detector``), HW6's AFD with another detector;
- no class entropy: faces have no classes. Diversity is in FID's covariance term and in the
  guard's nearest-neighbour test; the column is left empty;
- the memorisation guard in Inception features (``FullGuardThresholds``): ``copied_share``, the
  share of images whose cosine distance to the nearest training face is below ``copy_distance``;
  ``mifid_distance``, MiFID's d, the mean of those distances; ``nn_train_share``, the two-sample
  nearest-neighbour test of the quick guard with the reference split as the fresh sample and as
  many training faces (a fixed random subset), so that an honest submission scores about 0.5.

PROVISIONAL, to be calibrated on a GPU run: the guard's thresholds and ``FULL_TIERS`` could not be
measured offline (no anime faces, no Inception weights here). The tiers start from HW6's baselines
(a plain GAN FID 397 / AFD 0.085, WGAN-GP about 170 / 0.65, StyleGAN2 boss at AFD 0.671, on HW6's
own FID code and YOLOv5 detector, so only a guide). An instructor recalibrates the guard with
``calibrate_full(folder)``, which grades the held-out calibration faces (an honest submission) and
copied training faces and suggests thresholds between them, and sets the tiers from generators
trained on a GPU, as the quick profile's table in ``capstone.tiers`` was set.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from gancourse.capstone.detector import detector_rate, load_cascade
from gancourse.capstone.faces import FaceImages, face_split, faces_folder, load_faces
from gancourse.capstone.guard import _nn_flagged, _nn_train_share
from gancourse.capstone.metrics import BOOTSTRAP_SEED, fd, fd_interval
from gancourse.metrics.fid_infinity import fid_infinity
from gancourse.metrics.frechet import CovarianceRoot, covariance_root
from gancourse.runtime import device

__all__ = ["FULL_BOOTSTRAPS", "FaceBank", "FullGuardThresholds", "FULL_GUARD", "FullTier", "FULL_TIERS",
           "extract", "face_bank", "full_guard", "full_tier", "grade_faces", "calibrate_full"]

FULL_BOOTSTRAPS = 200
BATCH = 100


@torch.no_grad()
def extract(source: torch.Tensor | Dataset, extractor: nn.Module, batch_size: int = BATCH) -> torch.Tensor:
    """Return ``extractor``'s features of images (a tensor or a Dataset of images), (N, d) float32 on the CPU."""
    where = next(extractor.parameters(), torch.empty(0)).device
    n = len(source)
    out = []
    for i in range(0, n, batch_size):
        batch = source[i:i + batch_size] if isinstance(source, torch.Tensor) else torch.stack(
            [source[j] for j in range(i, min(i + batch_size, n))])
        out.append(extractor(batch.to(where)).float().cpu())
    return torch.cat(out)


@dataclass(frozen=True)
class FaceBank:
    """Features of the three splits and the reference's statistics (the names ``fd`` and ``fd_interval`` read)."""

    train_features: torch.Tensor
    reference_features: torch.Tensor
    calibration_features: torch.Tensor
    mu: np.ndarray
    sigma: np.ndarray
    root: CovarianceRoot


_BANKS: dict[tuple, tuple[nn.Module, FaceBank]] = {}  # the extractor is kept, so its id is never reused


def face_bank(folder: str | os.PathLike | None, extractor: nn.Module) -> FaceBank:
    """Return the features of the faces folder's splits (computed once per folder and extractor in a process).

    HW6's 71,314 faces through InceptionV3 take minutes on a GPU (hours on a CPU); ``grade`` keeps
    one InceptionFeatures per process, so ``grade-all`` computes them once.
    """
    split = face_split(folder)
    key = (str(faces_folder(folder).resolve()), len(split.train), id(extractor))
    if key not in _BANKS:
        ref = extract(FaceImages(split.reference), extractor)
        x = ref.double().numpy()
        sigma = np.cov(x, rowvar=False)
        _BANKS[key] = (extractor, FaceBank(extract(FaceImages(split.train), extractor), ref,
                                           extract(FaceImages(split.calibration), extractor), x.mean(axis=0),
                                           sigma, covariance_root(sigma)))
    return _BANKS[key][1]


@dataclass(frozen=True)
class FullGuardThresholds:
    """The full profile's guard (PROVISIONAL: see the module; ``calibrate_full`` suggests values)."""

    copy_distance: float = 0.02     # a copy: cosine distance (Inception) to the nearest training face below this
    copied_share_max: float = 0.02  # flagged above this share of copies
    mifid_min: float = 0.05         # flagged when MiFID's mean nearest-neighbour distance is below this
    nn_share_max: float = 0.6       # as the quick guard: nearest neighbours in the training half


FULL_GUARD = FullGuardThresholds()


def _nearest_distance(features: torch.Tensor, train: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    t = F.normalize(train.float(), dim=1)
    q = F.normalize(features.float(), dim=1)
    return torch.cat([(1.0 - (q[i:i + chunk] @ t.T).max(1).values).clamp_min(0) for i in range(0, len(q), chunk)])


def full_guard(features: torch.Tensor, bank: FaceBank, th: FullGuardThresholds = FULL_GUARD) -> dict[str, object]:
    """Return the guard's numbers for a submission's features (N, d) and ``memorised`` with its reasons."""
    dist = _nearest_distance(features, bank.train_features)
    copied = (dist < th.copy_distance).float().mean().item()
    mifid = dist.mean().item()
    # The nearest-neighbour test needs pools of equal size: as many training faces as reference ones, fixed.
    k = min(len(bank.train_features), len(bank.reference_features))
    pool = torch.randperm(len(bank.train_features), generator=torch.Generator().manual_seed(BOOTSTRAP_SEED))[:k]
    share, distinct = _nn_train_share(features.float(), bank.train_features[pool].float(),
                                      bank.reference_features[:k].float())
    reasons = []
    if copied > th.copied_share_max:
        reasons.append(f"{copied:.1%} of the images are within cosine distance {th.copy_distance} of a training "
                       f"face in Inception features (at most {th.copied_share_max:.0%} allowed)")
    if mifid < th.mifid_min:
        reasons.append(f"mean distance to the nearest training face in Inception features {mifid:.4f} < "
                       f"{th.mifid_min}")
    if _nn_flagged(share, distinct, th):  # reads nn_share_max only
        reasons.append(f"{share:.0%} of the images are nearer a training face than a reference one (honest: "
                       f"about 50 %, flagged above {th.nn_share_max:.0%})")
    return {"memorised": bool(reasons), "copied_share": copied, "mifid_distance": mifid, "nn_train_share": share,
            "nn_distinct": distinct, "guard_reasons": reasons}


@dataclass(frozen=True)
class FullTier:
    """Reached when the Inception FID is at most ``fid_max`` and the detector rate at least ``detector_min``."""

    name: str
    fid_max: float
    detector_min: float


FULL_TIERS = (  # PROVISIONAL, to be calibrated on a GPU run (see the module); lowest first
    FullTier("simple", fid_max=400.0, detector_min=0.05),
    FullTier("medium", fid_max=200.0, detector_min=0.4),
    FullTier("strong", fid_max=170.0, detector_min=0.5),
    FullTier("boss", fid_max=120.0, detector_min=0.6),
)


def full_tier(fid: float, detector_rate: float, memorised: bool, tiers: tuple[FullTier, ...] = FULL_TIERS) -> str:
    """Return the highest tier whose bounds are met; ``"none"`` when memorised or below every tier."""
    reached = "none"
    if memorised:
        return reached
    for t in tiers:
        if fid <= t.fid_max and detector_rate >= t.detector_min:
            reached = t.name
    return reached


def grade_faces(images: torch.Tensor, folder: str | os.PathLike | None, extractor: nn.Module,
                cascade: object | None = None, *, n_boot: int = FULL_BOOTSTRAPS,
                thresholds: FullGuardThresholds = FULL_GUARD, tiers: tuple[FullTier, ...] = FULL_TIERS,
                bank: FaceBank | None = None) -> dict[str, object]:
    """Return the full-profile grade of checked images (N, 3, 64, 64) in [-1, 1] (see the module for the keys).

    FID∞ needs at least 10 images (None below: only a tiny calibration split has fewer).
    """
    cascade = load_cascade() if cascade is None else cascade
    bank = face_bank(folder, extractor) if bank is None else bank
    feats = extract(images, extractor)
    inf = fid_infinity((bank.mu, bank.sigma), feats, seed=BOOTSTRAP_SEED) if len(feats) >= 10 else None
    result: dict[str, object] = {
        "fd": fd(feats, bank), "fd_ci": fd_interval(feats, bank, n_boot),
        "fid_infinity": inf and inf.value, "fid_infinity_slope": inf and inf.slope,
        "fid_infinity_sizes": inf and list(inf.sizes), "fid_infinity_fids": inf and list(inf.fids),
        "detector_rate": detector_rate(images, cascade),
        "class_entropy": None,
    }
    result |= full_guard(feats, bank, thresholds)
    result["tier"] = full_tier(result["fd"], result["detector_rate"], result["memorised"], tiers)
    result |= {"profile": "full", "bootstraps": n_boot, "bootstrap_seed": BOOTSTRAP_SEED,
               "tier_status": "provisional: to be calibrated on a GPU run"}
    return result


def calibrate_full(folder: str | os.PathLike | None = None, extractor: nn.Module | None = None,
                   cascade: object | None = None, *, n_boot: int = 20) -> dict[str, object]:
    """Grade the held-out calibration faces (honest) and as many copied training faces; suggest guard thresholds.

    Returns ``honest`` and ``copies`` (their grades) and ``suggested`` (a ``FullGuardThresholds`` as
    a dict): ``mifid_min`` and ``copy_distance`` at a third of the honest faces' mean and 1st
    percentile nearest distances (copies score 0). The honest grade's FID and detector rate are
    the ceiling real faces reach at this size: set the tiers' bounds from generators trained on a
    GPU, between them, as ``capstone.tiers`` documents for the quick profile.
    """
    if extractor is None:
        from gancourse.metrics.extractors import InceptionFeatures

        extractor = InceptionFeatures().to(device())
    split = face_split(folder)
    bank = face_bank(folder, extractor)
    honest_images = load_faces(split.calibration)
    copies = load_faces(split.train[:len(split.calibration)])
    honest = grade_faces(honest_images, folder, extractor, cascade, n_boot=n_boot, bank=bank)
    copied = grade_faces(copies, folder, extractor, cascade, n_boot=n_boot, bank=bank)
    dist = _nearest_distance(bank.calibration_features, bank.train_features)
    suggested = replace(FULL_GUARD, mifid_min=round(float(dist.mean()) / 3, 4),
                        copy_distance=round(float(torch.quantile(dist, 0.01)) / 3, 4))
    return {"honest": honest, "copies": copied, "suggested": asdict(suggested)}
