"""The tiers: one table of thresholds, one function that reads it.

PROVISIONAL until the reference runs of issue 18 (one script per tier in ``scripts/``, several
seeds) calibrate them. For now they sit between what the shipped networks and real glyphs score
(quick profile, 1,000 images, against the 10,000 reference glyphs):

| source (1,000 images) | fd | fd_ci | detector_rate | class_entropy | tier |
| --- | --- | --- | --- | --- | --- |
| fresh real glyphs, seeds 7, 8, 9, 11 | 1.1-2.2 | up to [0.04, 5.3] | 0.987-0.995 | 2.30 | boss |
| shipped cgan_glyphs, 3 noise seeds | 5.5-8.8 | up to [4.3, 15.3] | 0.929-0.938 | 2.29-2.30 | strong |
| shipped biggan_glyphs | 45-52 | up to [38, 68] | 0.994-0.999 | 2.29-2.30 | medium |
| shipped dcgan_glyphs (the "simple" reference) | 64-75 | up to [66, 85] | 0.625-0.670 | 2.24-2.25 | simple |
| shipped style_glyphs | 62-76 | up to [62, 91] | 0.667-0.679 | 2.23-2.24 | simple |
| uniform noise | 1,410 | [1404, 1416] | 0.059 | 1.05 | none |

The fd bounds of simple, medium and strong sit above the upper end of the interval of the
generator meant to pass them (100 vs 91, 80 vs 68, 20 vs 15.3); boss's 4.0 sits above every fresh
real point estimate (at most 2.2, though their intervals reach 5.3) and below every cgan_glyphs
point (at least 5.5), which also fails boss's detector rate. The detector rate separates the
DCGAN-like generators (at most 0.68) from medium (0.8).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tier", "TIERS", "TIER_NAMES", "tier"]


@dataclass(frozen=True)
class Tier:
    """Reached when ``fd`` is at most ``fd_max`` and the detector rate and class entropy are at least theirs."""

    name: str
    fd_max: float
    detector_min: float
    entropy_min: float


TIERS = (  # from the lowest to the highest; a submission gets the highest tier whose every bound it meets
    Tier("simple", fd_max=100.0, detector_min=0.5, entropy_min=2.0),
    Tier("medium", fd_max=80.0, detector_min=0.8, entropy_min=2.1),
    Tier("strong", fd_max=20.0, detector_min=0.9, entropy_min=2.2),
    Tier("boss", fd_max=4.0, detector_min=0.95, entropy_min=2.25),
)
TIER_NAMES = ("none",) + tuple(t.name for t in TIERS)


def tier(fd: float, detector_rate: float, class_entropy: float, memorised: bool) -> str:
    """Return the highest tier whose bounds the scores meet; ``"none"`` when memorised or below every tier."""
    reached = "none"
    if memorised:
        return reached
    for t in TIERS:
        if fd <= t.fd_max and detector_rate >= t.detector_min and class_entropy >= t.entropy_min:
            reached = t.name
    return reached
