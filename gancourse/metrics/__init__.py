"""Measures of what a generator learned: FID and its parts, IS, KID, precision/recall, mode coverage.

FID is split as in pytorch-fid, each part testable alone: an extractor (images → features),
``FeatureStats`` (features → mean and covariance, streamed in float64) and ``frechet_distance``
(statistics → a number). ``fid(real, fake)`` runs all three.
"""

from gancourse.metrics.extractors import ClassifierFeatures, GlyphFeatures, InceptionFeatures, check_images
from gancourse.metrics.fid import feature_stats, fid, load_folder
from gancourse.metrics.frechet import (
    CovarianceRoot,
    covariance_root,
    frechet_distance,
    frechet_distance_features,
    trace_sqrt_product,
)
from gancourse.metrics.modes import PACGAN_MIN_SHARE, ModeCoverage, mode_counts, mode_coverage
from gancourse.metrics.scores import KID, InceptionScore, PrecisionRecall, inception_score, kid, precision_recall
from gancourse.metrics.stats import FeatureStats

__all__ = [
    "mode_coverage",
    "mode_counts",
    "ModeCoverage",
    "PACGAN_MIN_SHARE",
    "FeatureStats",
    "frechet_distance",
    "frechet_distance_features",
    "trace_sqrt_product",
    "covariance_root",
    "CovarianceRoot",
    "fid",
    "feature_stats",
    "load_folder",
    "inception_score",
    "kid",
    "precision_recall",
    "InceptionScore",
    "KID",
    "PrecisionRecall",
    "ClassifierFeatures",
    "GlyphFeatures",
    "InceptionFeatures",
    "check_images",
]
