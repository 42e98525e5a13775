"""The capstone's grader: an open, reproducible grade for 1,000 generated glyphs.

Students train a generator on ``training_set()`` (10,000 glyphs) and submit 1,000 images (a folder
of ``0.png`` ... ``999.png``, an archive of them, or a tensor file); ``grade(submission)`` returns
the Fréchet distance in the glyph judge's features with a bootstrap interval, the judge's detector
rate and class entropy, the memorisation guard's verdict, and the tier.

- ``data``: the training set, fresh glyphs, the grader's reference split;
- ``submission``: loading and checking a submission (``SubmissionError``); ``packing``: writing one (``pack``);
- ``reference``: the judge's features of the training and reference glyphs (cached);
- ``metrics``: FD and its interval, detector rate, class entropy; ``guard``: memorisation;
- ``tiers``: the one table of tier thresholds; ``grade``: all of it; ``cli``: the command line;
- the full profile (anime faces, ``grade(..., profile="full")``): ``faces`` (the folder and its
  split), ``detector`` (the anime-face cascade), ``full`` (its measures, guard and provisional tiers).
"""

from gancourse.capstone.data import real_images, reference_set, training_set
from gancourse.capstone.grade import grade
from gancourse.capstone.guard import GUARD, GuardThresholds, memorisation_guard
from gancourse.capstone.packing import pack
from gancourse.capstone.submission import SubmissionError, load_submission
from gancourse.capstone.tiers import TIER_NAMES, TIERS, Tier, tier

__all__ = ["training_set", "real_images", "reference_set", "grade", "load_submission", "SubmissionError", "pack",
           "GUARD", "GuardThresholds", "memorisation_guard", "TIERS", "TIER_NAMES", "Tier", "tier"]
