"""The full profile's face detector: nagadomi's LBP anime-face cascade, downloaded once and hash-checked.

HW6 counted the share of generated faces an anime-face detector accepts (AFD). The course uses
``lbpcascade_animeface.xml`` (nagadomi, MIT licence, 2011), an OpenCV LBP cascade trained on anime
faces, evaluated with scikit-image's ``skimage.feature.Cascade`` (which reads OpenCV's LBP cascade
XML), so neither OpenCV nor a GPU is needed.

- ``cascade_path(download=None)``: the XML under ``data_dir()/detectors/``. Absent, it is
  downloaded from ``CASCADE_URL`` (full profile, or ``download=True``) under the course's network
  timeout, once, no retries; its SHA-256 must be ``CASCADE_SHA256`` (a mismatch deletes it and
  says so). Offline, the error says where to put the file by hand. A file already there is
  checked too, every time it is loaded.
- ``detector_rate(images)``: the share of images (N, 3, H, W) in [-1, 1] in which the cascade finds
  at least one face. Each image is turned grey (ITU-R 601 luma), histogram-equalised (as
  nagadomi's example does), and upscaled to ``UPSCALE`` = 128 px (bilinear): the cascade's window
  is 24 x 24 and a 64 px face with a 24 px minimum leaves it few scales. Windows from
  ``MIN_SIZE`` = 32 px to the whole image, scale factor ``SCALE_FACTOR`` = 1.1, step ratio 1, at
  least ``MIN_NEIGHBOURS`` = 2 overlapping detections. Provisional: to be checked on real anime
  faces (none are available offline), together with the tiers.

What could be measured offline (no anime faces here), with these settings, 64 px inputs: skimage's
16 sample photographs (astronaut, cat, coffee, text, ...) 0 of 16 detected; 200 images of uniform
noise 1 (0.005); LFW's 100 human faces 2 (0.02) and 100 non-faces 0. The evaluator itself works:
the frontal human-face LBP cascade shipped with scikit-image finds 92 of LFW's 100 faces and 11
of its 100 non-faces. scikit-image is not OpenCV: on 600 random 128 px crops of those photographs
OpenCV 4.x's ``CascadeClassifier`` accepts 0.8 % and ``skimage.feature.Cascade`` 3.7 % with the
same file and settings (agreeing on 97.2 % of crops), so rates here are not HW6's AFD numbers.
About 0.1 s per image on one CPU core (1,000 images: under two minutes).
"""

from __future__ import annotations

import hashlib
import urllib.request
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gancourse.network import network_timeout
from gancourse.runtime import data_dir, profile

__all__ = ["CASCADE_URL", "CASCADE_SHA256", "CASCADE_BYTES", "cascade_path", "load_cascade", "detect_faces",
           "detector_rate", "UPSCALE", "MIN_SIZE", "SCALE_FACTOR", "MIN_NEIGHBOURS"]

CASCADE_URL = "https://raw.githubusercontent.com/nagadomi/lbpcascade_animeface/master/lbpcascade_animeface.xml"
CASCADE_FILE = "lbpcascade_animeface.xml"
CASCADE_SHA256 = "9376d30ac38db6bda2a68b88b3b76bbd7e6aa33af47f7f5c76bc88ca75f1ce30"
CASCADE_BYTES = 246_945
UPSCALE, MIN_SIZE, SCALE_FACTOR, MIN_NEIGHBOURS = 128, 32, 1.1, 2


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _by_hand(path: Path) -> str:
    return (f"download {CASCADE_URL} ({CASCADE_BYTES:,} bytes, SHA-256 {CASCADE_SHA256[:16]}...) on a machine "
            f"with internet and put it at {path}, or call "
            "gancourse.capstone.detector.cascade_path(download=True) once online")


def cascade_path(download: bool | None = None, folder: Path | None = None) -> Path:
    """Return the path of the checked cascade XML, downloading it first if absent and allowed.

    ``download`` None: allowed in the full profile only. ``folder``: where the file lives (default
    ``data_dir()/detectors``). Raises RuntimeError offline or on a hash mismatch, saying what to do.
    """
    path = (data_dir() / "detectors" if folder is None else Path(folder)) / CASCADE_FILE
    if path.is_file():
        digest = _sha256(path)
        if digest != CASCADE_SHA256:
            path.unlink()
            raise RuntimeError(f"{path} has SHA-256 {digest[:16]}..., not {CASCADE_SHA256[:16]}...: a broken or "
                               f"altered file, now deleted; {_by_hand(path)}")
        return path
    allowed = profile().full if download is None else download
    if not allowed:
        raise RuntimeError(f"the anime-face detector is not at {path} (the quick profile never downloads): "
                           f"{_by_hand(path)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with network_timeout() as seconds:
            urllib.request.urlretrieve(CASCADE_URL, partial)
    except OSError as err:  # offline, refused, or stalled for `seconds`: one try, never a loop
        partial.unlink(missing_ok=True)
        stalled = f" (no data for {seconds:g} s)" if "timed out" in str(err) else ""
        raise RuntimeError(f"could not download the anime-face detector{stalled} ({err}): {_by_hand(path)}") from err
    digest = _sha256(partial)
    if digest != CASCADE_SHA256:
        partial.unlink()
        raise RuntimeError(f"the downloaded anime-face detector has SHA-256 {digest[:16]}..., not "
                           f"{CASCADE_SHA256[:16]}...: a broken or changed download, deleted; {_by_hand(path)}")
    partial.replace(path)
    return path


@lru_cache(maxsize=4)
def _cascade(path: str, digest: str) -> object:
    try:
        from skimage.feature import Cascade
    except ImportError as err:
        raise RuntimeError("the face detector needs scikit-image: pip install scikit-image (or the course's "
                           "full extra: pip install 'gancourse[full]')") from err
    return Cascade(path)


def load_cascade(download: bool | None = None, folder: Path | None = None) -> object:
    """Return the ``skimage.feature.Cascade`` of the checked XML (see ``cascade_path``)."""
    path = cascade_path(download, folder)
    return _cascade(str(path), CASCADE_SHA256)


def _prepare(images: torch.Tensor, size: int) -> np.ndarray:
    """Return images (N, C, H, W) in [-1, 1] as equalised grey (N, size, size) float arrays in [0, 1]."""
    from skimage.exposure import equalize_hist

    x = (images.detach().float().cpu().clamp(-1, 1) + 1.0) / 2.0
    if x.shape[1] == 3:
        x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    grey = x[:, 0].numpy().astype(np.float64)
    return np.stack([equalize_hist(g) if g.max() > g.min() else g for g in grey])


def detect_faces(images: torch.Tensor, cascade: object | None = None, *, upscale: int = UPSCALE,
                 min_size: int = MIN_SIZE, scale_factor: float = SCALE_FACTOR,
                 min_neighbours: int = MIN_NEIGHBOURS) -> list[list[dict[str, int]]]:
    """Return, per image (N, C, H, W) in [-1, 1], the faces found: dicts r, c, width, height (upscaled pixels)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor (N, 3, H, W) or (N, 1, H, W) in [-1, 1], got {got}")
    cascade = load_cascade() if cascade is None else cascade
    return [cascade.detect_multi_scale(img=g, scale_factor=scale_factor, step_ratio=1, min_size=(min_size, min_size),
                                       max_size=(upscale, upscale), min_neighbor_number=min_neighbours)
            for g in _prepare(images, upscale)]


def detector_rate(images: torch.Tensor, cascade: object | None = None, **options: object) -> float:
    """Return the share of ``images`` in which the cascade finds at least one face (options: ``detect_faces``'s)."""
    found = detect_faces(images, cascade, **options)
    return sum(1 for faces in found if faces) / len(found)
