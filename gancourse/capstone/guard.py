"""The memorisation guard: is a submission the training set, lightly disguised?

Three views, each catching what the others miss (numbers: 1,000 images against the 10,000
training glyphs; fresh real glyphs are ``real_images(1000, 7)``, generators the four shipped
glyph GANs, measured when the thresholds were set):

- ``copied_share``: the share of images that one or two training images, shifted by at most one
  pixel, explain almost exactly. For each image and each of the 9 shifts, the 8 nearest training
  images in ink space (background 0) are candidates; the best least-squares fit by one of them or
  a pair (x ≈ a t_i + b t_j) leaves a relative residual |x - fit| / |x|. An image is a copy when
  that is below ``copy_residual`` = 0.12. Fresh real glyphs: median 0.28, smallest 0.139;
  generators: smallest 0.157 (BigGAN) to 0.233 (DCGAN). Copies, one-pixel shifts, blends and a
  one-hot lookup: 0; Gaussian noise of std 0.05: 0.05; a JPEG round trip (quality 75): 0.05.
  Flagged when the share exceeds ``copied_share_max`` = 0.02 (20 of 1,000 images; real: 0).
- ``mifid_distance`` (MiFID's d): the mean over images of the smallest cosine distance between the
  judge's features of an image and of any training image. Real 0.0047, generators 0.0041 (BigGAN)
  to 0.017 (DCGAN), copies and noisy or JPEG copies 0.0001 at most. Flagged below
  ``mifid_min`` = 0.0015.
- ``nn_train_share`` (features) and ``nn_train_share_pixels`` (ink, cosine): a two-sample
  nearest-neighbour test. Pooled with the 10,000 training glyphs, the 10,000 reference glyphs are
  an equal-sized fresh sample; an honest submission's images find their nearest pool member in the
  training half about half the time (std 0.016 for 1,000 images). Real 0.50 / 0.52, generators
  0.49-0.50 / 0.51-0.54; one-pixel shifts 0.76 (features), blends 0.86 (pixels), copies 1.0.
  Flagged above ``nn_share_max`` = 0.6.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from gancourse.capstone.reference import Bank, ink

__all__ = ["GuardThresholds", "GUARD", "GuardResult", "memorisation_guard", "copy_residuals"]


@dataclass(frozen=True)
class GuardThresholds:
    """Where the guard flags a submission; measured values in the module's docstring."""

    copy_residual: float = 0.12     # an image is a copy below this relative residual
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


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Return ink maps (N, H, W) moved by (dy, dx) pixels, empty (0) where nothing moved in."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[..., max(-dy, 0):h + min(-dy, 0),
                                                                      max(-dx, 0):w + min(-dx, 0)]
    return out


def copy_residuals(images: torch.Tensor, train_ink: torch.Tensor, *, shift: int = GUARD.shift,
                   candidates: int = GUARD.candidates) -> torch.Tensor:
    """Return, per image, the relative ink residual of its best fit by one or two (shifted) training images."""
    x = ((images + 1.0) / 2.0)[:, 0]
    t = train_ink
    t_sq = (t * t).sum(1)
    best = torch.full((len(x),), float("inf"))
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            y = _shifted(x, dy, dx).flatten(1)
            y_sq = (y * y).sum(1).clamp_min(1e-6)
            near = (t_sq - 2.0 * (y @ t.T)).topk(candidates, dim=1, largest=False).indices  # + |y|² per row
            c = t[near]                                   # (N, k, 784)
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
            best = torch.minimum(best, ((y_sq - most).clamp_min(0) / y_sq).sqrt())
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
    copied = (copy_residuals(images, bank.train_ink, shift=th.shift, candidates=th.candidates)
              < th.copy_residual).float().mean().item()
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
