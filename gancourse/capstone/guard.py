"""The memorisation guard: is a submission the training set, lightly disguised?

Three views, each catching what the others miss. Numbers: 1,000 images against the 10,000
training glyphs; fresh real glyphs are ``real_images(1000, seed)`` for seeds 7 to 14, generators
the four shipped glyph GANs (noise seed 5), cheats built from training images (see
tests/test_capstone_grade.py); measured when the thresholds were set.

- ``copied_share``: the share of images that one or two training images explain almost exactly.
  For each image, shifted by up to one pixel (9 shifts), and once more with image and training
  set moved to centre their ink (which undoes any whole-pixel shift of a copy), the 8 nearest
  training images in ink space (background 0) are candidates; the best least-squares fit by one of
  them or a pair (x ≈ a t_i + b t_j) leaves a relative residual |x - fit| / |x|. An image is a copy
  below ``copy_residual`` = 0.10. Fresh real glyphs: median 0.27, smallest 0.109 over 8,000 (3
  below 0.12, none below 0.10); generators: smallest 0.157 (BigGAN) to 0.215 (StyleGAN-like).
  Copies, shifts by 1 to 3 pixels, blends and a one-hot lookup: 0; Gaussian noise of std 0.05 and
  a JPEG round trip (quality 75): about 0.05; noise of std 0.1: 0.10. Flagged when the share
  exceeds ``copied_share_max`` = 0.02 (20 of 1,000 images; real glyphs: at most 0.000, so 30
  copies hidden among 970 fresh glyphs are caught).
- ``mifid_distance`` (MiFID's d): the mean over images of the smallest cosine distance between the
  judge's features of an image and of any training image. Real 0.0047, generators 0.0041 (BigGAN)
  to 0.017 (DCGAN), copies and noisy or JPEG copies 0.0002 at most, noise of std 0.2 0.0014.
  Flagged below ``mifid_min`` = 0.0015.
- ``nn_train_share`` (judge features) and ``nn_train_share_pixels`` (ink, cosine): a two-sample
  nearest-neighbour test. Pooled with the 10,000 training glyphs, the 10,000 reference glyphs are
  an equal-sized fresh sample; each distinct nearest neighbour of the submission's images counts
  once (images that all share one, like noise, are one vote), and for honest images about half of
  them are training images. Real 0.49 / 0.53, generators 0.48-0.51 / 0.50-0.54; one-pixel shifts
  0.72 (features), blends 0.86 (pixels), copies 1.0, blurred copies 1.0 (pixels), 5-degree
  rotations 0.89 / 0.995. Flagged above ``nn_share_max`` = 0.6 when that is also 4 binomial
  standard errors above 0.5 for the number of distinct neighbours.
Every cheat measured is flagged by at least one test; disguises not measured (sub-pixel
resampling combined with noise, say) may pass. The guard is a deterrent with stated limits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from gancourse.capstone.reference import Bank, centred, ink, shifted

__all__ = ["GuardThresholds", "GUARD", "GuardResult", "memorisation_guard", "copy_residuals"]


@dataclass(frozen=True)
class GuardThresholds:
    """Where the guard flags a submission; measured values in the module's docstring."""

    copy_residual: float = 0.10     # an image is a copy below this relative residual
    copied_share_max: float = 0.02  # ... and a submission memorised above this share of copies
    mifid_min: float = 0.0015       # mean nearest-neighbour cosine distance (judge features) below this
    nn_share_max: float = 0.6       # share of nearest neighbours in the training half above this
    shift: int = 1                  # copies may be shifted by up to this many pixels
    candidates: int = 8             # nearest training images tried per image and shift


GUARD = GuardThresholds()


@dataclass(frozen=True)
class GuardResult:
    """The guard's numbers and verdict; ``reasons`` says which tests flagged the submission."""

    memorised: bool
    copied_share: float
    mifid_distance: float
    nn_train_share: float
    nn_train_share_pixels: float
    nn_distinct: int
    nn_distinct_pixels: int
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Return the result as a plain dict (reasons as a list)."""
        return {**asdict(self), "reasons": list(self.reasons)}


def _fit_residual(y: torch.Tensor, t: torch.Tensor, t_sq: torch.Tensor, candidates: int) -> torch.Tensor:
    """Return |y - fit| / |y| per row of ``y`` (N, D), the fit by one or two of its ``candidates`` nearest rows of t."""
    y_sq = (y * y).sum(1).clamp_min(1e-6)
    near = (t_sq - 2.0 * (y @ t.T)).topk(candidates, dim=1, largest=False).indices  # + |y|² per row
    c = t[near]                                   # (N, k, D)
    gram = c @ c.transpose(1, 2)                  # (N, k, k)
    proj = (c @ y[:, :, None])[..., 0]            # (N, k)
    diag = gram.diagonal(dim1=1, dim2=2).clamp_min(1e-6)
    explained = proj.square() / diag              # one image: |proj|² / |t|²
    i, j = torch.triu_indices(candidates, candidates, offset=1)
    gii, gjj, gij = diag[:, i], diag[:, j], gram[:, i, j]
    pi, pj = proj[:, i], proj[:, j]
    det = gii * gjj - gij.square()
    # Two images: the normal equations' solution, explained energy pᵀ G⁻¹ p.
    pair = torch.where(det > 1e-6 * gii * gjj, (gjj * pi.square() - 2 * gij * pi * pj + gii * pj.square())
                       / det.clamp_min(1e-12), torch.zeros_like(det))
    most = torch.maximum(explained.max(1).values, pair.max(1).values)
    return ((y_sq - most).clamp_min(0) / y_sq).sqrt()


def copy_residuals(images: torch.Tensor, train_ink: torch.Tensor, *, shift: int = GUARD.shift,
                   candidates: int = GUARD.candidates, train_centred: torch.Tensor | None = None) -> torch.Tensor:
    """Return, per image, the relative ink residual of its best fit by one or two (shifted) training images.

    ``train_centred``: the training ink maps after ``centred`` (N, 784); given, the images are
    centred too and compared once more, which catches a copy moved by any number of whole pixels.
    """
    x = ((images + 1.0) / 2.0)[:, 0]
    t_sq = (train_ink * train_ink).sum(1)
    best = torch.full((len(x),), float("inf"))
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            best = torch.minimum(best, _fit_residual(shifted(x, dy, dx).flatten(1), train_ink, t_sq, candidates))
    if train_centred is not None:
        c_sq = (train_centred * train_centred).sum(1)
        best = torch.minimum(best, _fit_residual(centred(x).flatten(1), train_centred, c_sq, candidates))
    return best


def _nn_train_share(query: torch.Tensor, train: torch.Tensor, fresh: torch.Tensor) -> tuple[float, int]:
    """Return the share of training images among the distinct cosine-nearest rows of train ∪ fresh, and their count.

    Counting each nearest neighbour once keeps images that all share one neighbour (noise, a
    collapsed generator) from counting as a thousand votes.
    """
    q = F.normalize(query, dim=1)
    near_train = (q @ F.normalize(train, dim=1).T).max(1)
    near_fresh = (q @ F.normalize(fresh, dim=1).T).max(1)
    in_train = near_train.values > near_fresh.values
    distinct_train = near_train.indices[in_train].unique().numel()
    distinct = distinct_train + near_fresh.indices[~in_train].unique().numel()
    return distinct_train / distinct, distinct


def _nn_flagged(share: float, distinct: int, th: GuardThresholds) -> bool:
    """True when the share exceeds ``nn_share_max`` and 0.5 by 4 binomial standard errors of ``distinct`` draws."""
    return share > max(th.nn_share_max, 0.5 + 4 * 0.5 / distinct ** 0.5)


def memorisation_guard(images: torch.Tensor, features: torch.Tensor, bank: Bank,
                       thresholds: GuardThresholds = GUARD) -> GuardResult:
    """Return the guard's numbers for ``images`` (N, 1, 28, 28) with judge ``features`` (N, 128) and its verdict."""
    th = thresholds
    residuals = copy_residuals(images, bank.train_ink, shift=th.shift, candidates=th.candidates,
                               train_centred=bank.train_centred)
    copied = (residuals < th.copy_residual).float().mean().item()
    cosine = F.normalize(features, dim=1) @ F.normalize(bank.train_features, dim=1).T
    mifid = (1.0 - cosine.max(1).values).clamp_min(0).mean().item()
    share_f, distinct_f = _nn_train_share(features, bank.train_features, bank.reference_features)
    share_p, distinct_p = _nn_train_share(ink(images), bank.train_ink, bank.reference_ink)
    reasons = []
    if copied > th.copied_share_max:
        reasons.append(f"{copied:.1%} of the images are (near) copies or blends of training images "
                       f"(at most {th.copied_share_max:.0%} allowed)")
    if mifid < th.mifid_min:
        reasons.append(f"mean distance to the nearest training image in the judge's features {mifid:.4f} < "
                       f"{th.mifid_min}")
    for name, share, distinct in (("judge features", share_f, distinct_f), ("pixels", share_p, distinct_p)):
        if _nn_flagged(share, distinct, th):
            reasons.append(f"{share:.0%} of the images are nearer a training image than a fresh one in {name} "
                           f"(honest: about 50 %, flagged above {th.nn_share_max:.0%})")
    return GuardResult(bool(reasons), copied, mifid, share_f, share_p, distinct_f, distinct_p, tuple(reasons))
