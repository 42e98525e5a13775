"""Every judge of what a generator learned: FID and its parts, IS, KID, precision/recall, mode coverage,
the glyph classifiers and what they measure, InfoGAN's factor estimators.

FID is split as in pytorch-fid, each part testable alone: an extractor (images → features),
``FeatureStats`` (features → mean and covariance, streamed in float64) and ``frechet_distance``
(statistics → a number). ``fid(real, fake)`` runs all three.

- ``extractors``, ``stats``, ``frechet``, ``fid``: FID; ``scores``: IS, KID, precision/recall;
- ``modes``: mode coverage on the toy mixtures; ``judges``: the shipped glyph classifiers, class
  accuracy and a judge's verdict; ``factors``: InfoGAN's codes against the glyphs' factors;
- ``image_quality``: PSNR, the share of grey pixels (blur), a receptive field measured by the gradient;
- ``retrieval``: text -> image retrieval ranks and top-k accuracy.
"""

from gancourse.metrics.equivariance import translation_equivariance
from gancourse.metrics.extractors import ClassifierFeatures, GlyphFeatures, InceptionFeatures, check_images
from gancourse.metrics.fid import feature_stats, fid, load_folder
from gancourse.metrics.frechet import (
    CovarianceRoot,
    covariance_root,
    frechet_distance,
    frechet_distance_features,
    trace_sqrt_product,
)
from gancourse.metrics.factors import CodeMeasurement, matching_accuracy, measure_codes
from gancourse.metrics.image_quality import grey_share, measured_receptive_field, psnr
from gancourse.metrics.judges import (
    attribute_classifier,
    attribute_share,
    caption_agreement,
    class_accuracy,
    glyph_classifier,
    judge_verdict,
    labels_kept,
)
from gancourse.metrics.modes import (
    PACGAN_MIN_SHARE,
    ModeCoverage,
    evaluate_toy_generator,
    mode_counts,
    mode_coverage,
)
from gancourse.metrics.retrieval import retrieval_ranks, top_k_accuracy
from gancourse.metrics.scores import KID, InceptionScore, PrecisionRecall, inception_score, kid, precision_recall
from gancourse.metrics.stats import FeatureStats

__all__ = [
    "translation_equivariance",
    "glyph_classifier",
    "attribute_classifier",
    "class_accuracy",
    "judge_verdict",
    "attribute_share",
    "labels_kept",
    "caption_agreement",
    "retrieval_ranks",
    "top_k_accuracy",
    "psnr",
    "grey_share",
    "measured_receptive_field",
    "matching_accuracy",
    "measure_codes",
    "CodeMeasurement",
    "evaluate_toy_generator",
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
