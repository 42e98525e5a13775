"""Measures of what a generator learned: mode coverage on toy mixtures (FID and friends come later)."""

from gancourse.metrics.modes import PACGAN_MIN_SHARE, ModeCoverage, mode_counts, mode_coverage

__all__ = ["mode_coverage", "mode_counts", "ModeCoverage", "PACGAN_MIN_SHARE"]
