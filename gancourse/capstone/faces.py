"""The full profile's data: a folder of anime faces (HW6's ``faces/``) or any folder of images.

Layout: one flat folder of image files (``.jpg``, ``.png`` and the other suffixes of
``gancourse.metrics.fid.IMAGE_SUFFIXES``); subfolders and files without an image suffix are
ignored. HW6's ``faces/`` holds 71,314 JPGs of 96 x 96 RGB faces named ``0.jpg`` ... . The
folder is ``faces_folder(path)``: the path given, else ``$GANCOURSE_FACES``, else
``data_dir()/faces`` (``$GANCOURSE_DATA/faces``). Nothing is downloaded: the course cannot
redistribute the faces; the instructor hands students the same folder.

Every image is read as RGB, centre-cropped to a square and resized to ``FACE_SIZE`` = 64 px with
PIL's bilinear filter (antialiased when shrinking), the size HW6 trained at and the size of a
full-profile submission. An unreadable file is an error that names it.

``face_split(folder)`` splits the files, sorted by name, with a permutation drawn from
``REFERENCE_SEED`` (the quick profile's reference seed): ``reference`` (10,000 images, or a fifth
of a smaller folder) is what the grader measures FID against, ``calibration`` (1,000, or a tenth)
stands in for an honest submission when an instructor calibrates the guard, and ``train`` (the
rest: 60,314 of HW6's faces) is what students train on. The split depends only on the file names.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from gancourse.capstone.data import REFERENCE_SEED
from gancourse.metrics.fid import IMAGE_SUFFIXES
from gancourse.runtime import data_dir

__all__ = ["FACES_ENV", "FACE_SIZE", "N_REFERENCE_FACES", "N_CALIBRATION_FACES", "MIN_FACES", "FacesError",
           "FaceSplit", "FaceImages", "faces_folder", "face_files", "face_split", "read_face", "load_faces"]

FACES_ENV = "GANCOURSE_FACES"
FACE_SIZE = 64
N_REFERENCE_FACES, N_CALIBRATION_FACES = 10_000, 1_000
MIN_FACES = 20  # below this no split leaves two images on each side


class FacesError(ValueError):
    """The faces folder is missing, empty or holds an unreadable image; the message says which and what to do."""


def faces_folder(path: str | os.PathLike | None = None) -> Path:
    """Return the faces folder: ``path``, else ``$GANCOURSE_FACES``, else ``data_dir()/faces``; it must exist."""
    if path is not None:
        folder, how = Path(path).expanduser(), "the path given"
    elif os.environ.get(FACES_ENV):
        folder, how = Path(os.environ[FACES_ENV]).expanduser(), f"${FACES_ENV}"
    else:
        folder, how = data_dir() / "faces", f"the default (no path given, ${FACES_ENV} unset)"
    if not folder.is_dir():
        raise FacesError(f"no faces folder at {folder} ({how}): pass the path of HW6's faces/ folder (71,314 JPGs) "
                         f"or of any folder of images, or set {FACES_ENV}=/path/to/faces")
    return folder


def face_files(folder: str | os.PathLike | None = None) -> tuple[Path, ...]:
    """Return the image files of the faces folder, sorted by name; an empty folder is an error."""
    folder = faces_folder(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = tuple(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FacesError(f"{folder} holds no images (looked for {', '.join(IMAGE_SUFFIXES)} directly inside it, "
                         "not in subfolders): point to the folder that holds the face files")
    return images


@dataclass(frozen=True)
class FaceSplit:
    """The files of each split, each tuple sorted by name."""

    train: tuple[Path, ...]
    reference: tuple[Path, ...]
    calibration: tuple[Path, ...]


def face_split(folder: str | os.PathLike | None = None, seed: int = REFERENCE_SEED) -> FaceSplit:
    """Return the train / reference / calibration split of the faces folder (see the module)."""
    files = face_files(folder)
    n = len(files)
    if n < MIN_FACES:
        raise FacesError(f"{files[0].parent} holds {n} images; the split needs at least {MIN_FACES} (HW6's "
                         "faces/ has 71,314)")
    n_ref, n_cal = min(N_REFERENCE_FACES, n // 5), min(N_CALIBRATION_FACES, n // 10)
    order = np.random.default_rng(seed).permutation(n)
    pick = lambda idx: tuple(files[i] for i in sorted(idx))  # noqa: E731
    return FaceSplit(train=pick(order[n_ref + n_cal:]), reference=pick(order[:n_ref]),
                     calibration=pick(order[n_ref:n_ref + n_cal]))


def read_face(path: str | os.PathLike, size: int = FACE_SIZE) -> torch.Tensor:
    """Return one image file as uint8 (3, size, size): RGB, centre-cropped square, bilinear resize."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im = im.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise FacesError(f"{path} is larger than PIL's safety limit ({err}): remove it or resize it") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise FacesError(f"{path} is not a readable image ({type(err).__name__}: {err}): remove or replace "
                         "it") from None
    w, h = im.size
    s = min(w, h)
    if (w, h) != (s, s):
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if s != size:
        im = im.resize((size, size), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1)


class FaceImages(Dataset):
    """Face files read one at a time as float (3, 64, 64) in [-1, 1]: what students train on.

    ``FaceImages(face_split(folder).train)``; a folder path takes all of its images.
    """

    def __init__(self, files: tuple[Path, ...] | str | os.PathLike | None = None, size: int = FACE_SIZE) -> None:
        self.files = tuple(files) if isinstance(files, (tuple, list)) else face_files(files)
        if not self.files:
            raise FacesError("no face files given: pass face_split(folder).train, or a folder of images")
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return read_face(self.files[i], self.size).float() / 127.5 - 1.0


def load_faces(files: tuple[Path, ...], size: int = FACE_SIZE) -> torch.Tensor:
    """Return the faces of ``files`` at once, float (N, 3, size, size) in [-1, 1] (12 KB each as uint8)."""
    if not files:
        raise FacesError("no face files given")
    return torch.stack([read_face(p, size) for p in files]).float() / 127.5 - 1.0
