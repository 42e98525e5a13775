"""Real image sets for the full profile: MNIST, Fashion-MNIST, CelebA (40 attributes), a folder of images.

Each loader returns a torch Dataset of ``(image, target)`` with images in [-1, 1] (``ToTensor``
then ``Normalize(0.5, 0.5)``), the range a tanh generator produces. Files live under
``gancourse.data_dir()`` (``$GANCOURSE_DATA``, else ``~/.cache/gancourse/data``):

    $GANCOURSE_DATA/MNIST/raw/         train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
    $GANCOURSE_DATA/FashionMNIST/raw/  t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]
    $GANCOURSE_DATA/celeba/            img_align_celeba.zip (or its folder img_align_celeba/),
                                       list_attr_celeba.txt, identity_CelebA.txt, list_bbox_celeba.txt,
                                       list_landmarks_align_celeba.txt, list_eval_partition.txt

Files already there load without the network. Missing files are downloaded by torchvision when
the host answers within a few seconds; offline, the loaders fail at once and say how to run the
course without them (``GANCOURSE_PROFILE=quick``) or where to put the files by hand. A broken
download (Google Drive's "quota exceeded" HTML page saved as the CelebA zip, a checksum mismatch)
is reported with the file's name and is never retried in a loop.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import threading
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import datasets, transforms
from torchvision.datasets.utils import check_integrity

from gancourse.checks import positive_int
from gancourse.network import network_timeout
from gancourse.runtime import DATA_ENV, PROFILE_ENV, accepts_standins, data_dir

__all__ = [
    "CELEBA_ATTRIBUTES",
    "DataUnavailableError",
    "ImageFolderDataset",
    "celeba",
    "fashion_mnist",
    "image_folder",
    "looks_like_html",
    "mnist",
]

# The 40 binary attributes of CelebA (Liu et al., 2015), in the column order of list_attr_celeba.txt.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)

REACH_TIMEOUT_S = 3.0  # how long we wait for a download host to answer before calling it offline
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")
CELEBA_SPLITS = ("train", "valid", "test", "all")
CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"


class DataUnavailableError(RuntimeError):
    """A real dataset is neither on disk nor downloadable: the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Helpers: reachability, corrupt-file detection, transforms.


def _reachable(host: str, port: int = 443, timeout: float = REACH_TIMEOUT_S) -> bool:
    """Return True when a TCP connection to host:port opens within ``timeout`` seconds.

    The attempt runs in a daemon thread so that a slow DNS lookup (which ignores socket
    timeouts) cannot hang the caller either.
    """
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def looks_like_html(path: str | Path) -> bool:
    """Return True when the file starts like a web page (a quota or login page saved in place of data)."""
    with open(path, "rb") as f:
        head = f.read(1024)
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()  # UTF-8 BOM and blank lines first
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<?xml")) or b"<html" in head


def _file_problem(path: Path, md5: str | None = None) -> str | None:
    """Return what is wrong with a downloaded file, or None when it looks sound."""
    if not path.is_file():
        return None
    if looks_like_html(path):
        return (f"{path} is a web page, not data (for CelebA usually Google Drive's 'quota exceeded' "
                "page); delete it")
    if path.suffix == ".zip" and not zipfile.is_zipfile(path):
        return f"{path} is not a valid zip archive (BadZipFile: a truncated or failed download); delete it"
    if md5 is not None and not check_integrity(str(path), md5):
        return f"{path} has the wrong MD5 checksum (expected {md5}: corrupt or incomplete); delete it"
    return None


_IDX_ITEM_BYTES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}  # the idx format's data types


def _idx_problem(path: Path) -> str | None:
    """Return what is wrong with an unpacked idx file (MNIST's format), or None when its size fits its header."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_ITEM_BYTES:
            return f"{path.name} is not an idx file (its first bytes are {head!r})"
        dims_bytes = f.read(4 * head[3])
    if len(dims_bytes) < 4 * head[3]:
        return f"{path.name} is truncated inside its header"
    dims = [int.from_bytes(dims_bytes[i:i + 4], "big") for i in range(0, len(dims_bytes), 4)]
    expected = 4 + 4 * len(dims) + _IDX_ITEM_BYTES[head[2]] * int(np.prod(dims, dtype=np.int64))
    if size != expected:
        return f"{path.name} is {size:,} bytes but its header says {expected:,} ({'x'.join(map(str, dims))}): truncated"
    return None


def _check_image_size(image_size: int) -> int:
    return positive_int("image_size", image_size, "pixels per side")


def _to_unit_range(channels: int) -> list[Callable]:
    return [transforms.ToTensor(), transforms.Normalize((0.5,) * channels, (0.5,) * channels)]


def _root(root: str | Path | None) -> Path:
    return Path(root).expanduser() if root is not None else data_dir()


def _offline_message(name: str, base: Path, folder: Path, files: list[str], host: str) -> str:
    listed = ", ".join(files)
    return (
        f"{name} is not on disk and {host} cannot be reached (no network?). Either run the course "
        f"offline with `{PROFILE_ENV}=quick` (it uses the procedurally rendered glyphs instead), or "
        f"download the files by hand and put them in {folder} ({listed}); set {DATA_ENV} to choose "
        f"another data folder (now {base})."
    )


# ---------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST.

_MNIST_HOSTS = {"MNIST": ("ossci-datasets.s3.amazonaws.com", 443),
                "FashionMNIST": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80)}


def _mnist_like(cls: type[datasets.MNIST], root: str | Path | None, train: bool, download: bool,
                image_size: int) -> datasets.MNIST:
    """Return torchvision's ``cls`` with images in [-1, 1], loading local files first."""
    image_size = _check_image_size(image_size)
    if not isinstance(train, bool):
        raise TypeError(f"train must be True or False, got {train!r}")
    name = cls.__name__
    base = _root(root)
    raw = base / name / "raw"
    files = [Path(url).name for url, _ in cls.resources]  # the .gz names
    steps = ([transforms.Resize(image_size)] if image_size != 28 else []) + _to_unit_range(1)
    tf = transforms.Compose(steps)

    # Files placed by hand as .gz: check them, then unpack what torchvision reads.
    for gz, md5 in cls.resources:
        gz_path, plain = raw / gz, raw / gz[: -len(".gz")]
        if not plain.is_file() and gz_path.is_file():
            problem = _file_problem(gz_path, md5)
            if problem:
                raise DataUnavailableError(f"{name}: {problem}, then download it again or copy a good copy to {raw}.")
            with gzip.open(gz_path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
    if all((raw / f[: -len(".gz")]).is_file() for f in files):
        problems = [p for f in files if (p := _idx_problem(raw / f[: -len(".gz")]))]
        if problems:
            raise DataUnavailableError(f"{name}: {'; '.join(problems)}. Delete the file(s) and download them again, "
                                       f"or copy good copies to {raw}.")
        return cls(str(base), train=train, transform=tf, download=False)

    missing = [f for f in files if not (raw / f).is_file() and not (raw / f[: -len(".gz")]).is_file()]
    if not download:
        raise DataUnavailableError(f"{name} is missing {missing} in {raw}; call with download=True on a machine "
                                   f"with network, copy the files there, or use {PROFILE_ENV}=quick.")
    host, port = _MNIST_HOSTS.get(name, _MNIST_HOSTS["MNIST"])
    if not _reachable(host, port):
        raise DataUnavailableError(_offline_message(name, base, raw, [f"{f[:-3]}[.gz]" for f in files], host))
    try:
        with network_timeout():
            return cls(str(base), train=train, transform=tf, download=True)
    except Exception as err:  # one attempt only: report what is on disk, never retry
        problems = [p for gz, md5 in cls.resources if (p := _file_problem(raw / gz, md5))]
        detail = "; ".join(problems) if problems else f"{type(err).__name__}: {err}"
        raise DataUnavailableError(
            f"{name} download failed: {detail}. Download the files by hand into {raw} ({', '.join(files)}), "
            f"or use {PROFILE_ENV}=quick."
        ) from err


def mnist(root: str | Path | None = None, train: bool = True, download: bool = True,
          image_size: int = 28) -> datasets.MNIST:
    """Return MNIST (LeCun et al., 1998) as (image (1, s, s) in [-1, 1], digit) pairs."""
    return _mnist_like(datasets.MNIST, root, train, download, image_size)


def fashion_mnist(root: str | Path | None = None, train: bool = True, download: bool = True,
                  image_size: int = 28) -> datasets.FashionMNIST:
    """Return Fashion-MNIST (Xiao et al., 2017) as (image (1, s, s) in [-1, 1], class) pairs."""
    return _mnist_like(datasets.FashionMNIST, root, train, download, image_size)


# ---------------------------------------------------------------------------------------------
# CelebA.

_CELEBA_ZIP = "img_align_celeba.zip"
_CELEBA_IMAGES = "img_align_celeba"


def _celeba_files() -> dict[str, str]:
    """Return {file name: md5} of the files torchvision's CelebA expects."""
    return {name: md5 for _, md5, name in datasets.CelebA.file_list}


class _CelebA(datasets.CelebA):
    """torchvision's CelebA; in the smoke run (stand-in files) without its MD5 check of the text files."""

    def _check_integrity(self) -> bool:
        if accepts_standins():
            return _celeba_ready(Path(self.root) / self.base_folder)
        return super()._check_integrity()


def _celeba_ready(folder: Path) -> bool:
    texts = [n for n in _celeba_files() if n != _CELEBA_ZIP]
    return (folder / _CELEBA_IMAGES).is_dir() and all((folder / n).is_file() for n in texts)


def _celeba_failure(folder: Path, what: str, err: BaseException | None = None) -> DataUnavailableError:
    problems = [p for n, md5 in _celeba_files().items() if (p := _file_problem(folder / n, md5))]
    detail = "; ".join(problems) if problems else (f"{type(err).__name__}: {err}" if err else "files missing")
    files = ", ".join(f"{_CELEBA_ZIP} (or the extracted {_CELEBA_IMAGES}/ folder)" if n == _CELEBA_ZIP else n
                      for n in _celeba_files())
    return DataUnavailableError(
        f"CelebA {what}: {detail}. Google Drive often refuses (daily quota) and serves a web page instead. "
        f"Download the files by hand from {CELEBA_PAGE} (Align&Cropped images and the annotations) and put "
        f"them in {folder}: {files}. Set {DATA_ENV} to choose another data folder (now {folder.parent}), "
        f"or use {PROFILE_ENV}=quick to run without CelebA."
    )


def celeba(root: str | Path | None = None, split: str = "train", image_size: int = 64,
           download: bool = True) -> datasets.CelebA:
    """Return CelebA (Liu et al., 2015) as (image (3, s, s) in [-1, 1], 40 attributes of 0/1) pairs.

    Images are resized (short side) and centre-cropped to ``image_size``; the attribute columns
    follow ``CELEBA_ATTRIBUTES``. ``split``: 'train', 'valid', 'test' or 'all'.
    """
    image_size = _check_image_size(image_size)
    if split not in CELEBA_SPLITS:
        raise ValueError(f"split must be one of {CELEBA_SPLITS}, got {split!r}")
    base = _root(root)
    folder = base / datasets.CelebA.base_folder
    tf = transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size), *_to_unit_range(3)])

    # A zip put there by hand (or left by an earlier download): check it, then unpack it ourselves.
    zip_path = folder / _CELEBA_ZIP
    if zip_path.is_file() and not (folder / _CELEBA_IMAGES).is_dir():
        problem = _file_problem(zip_path)
        if problem:
            raise _celeba_failure(folder, "cannot be read")
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)

    if _celeba_ready(folder):
        try:
            ds = _CelebA(str(base), split=split, target_type="attr", transform=tf, download=False)
        except RuntimeError as err:  # torchvision: "Dataset not found or corrupted" (an MD5 mismatch)
            raise _celeba_failure(folder, "files are corrupt", err) from err
    else:
        if not download:
            raise _celeba_failure(folder, "is not on disk and download=False")
        if not _reachable("drive.google.com", 443):
            raise DataUnavailableError(
                _offline_message("CelebA", base, folder, list(_celeba_files()), "drive.google.com"))
        try:
            with network_timeout():
                ds = _CelebA(str(base), split=split, target_type="attr", transform=tf, download=True)
        except Exception as err:  # one attempt only: gdown, quota pages, BadZipFile, MD5 mismatch, a stall
            raise _celeba_failure(folder, "download failed", err) from err
    names = tuple(n for n in ds.attr_names if n)
    if names != CELEBA_ATTRIBUTES:
        raise DataUnavailableError(f"{folder / 'list_attr_celeba.txt'} has attribute columns {list(names)[:5]}..., "
                                   f"not CelebA's 40 ({list(CELEBA_ATTRIBUTES)[:5]}...); replace the file.")
    return ds


# ---------------------------------------------------------------------------------------------
# A folder of images (e.g. anime faces).


class ImageFolderDataset(Dataset):
    """Every image under a folder (searched recursively), as (image (3, s, s) in [-1, 1], 0) pairs."""

    def __init__(self, path: str | Path, image_size: int = 64) -> None:
        self.root = Path(path).expanduser()
        self.image_size = _check_image_size(image_size)
        if not self.root.is_dir():
            raise DataUnavailableError(f"image folder {self.root} does not exist; put the images there "
                                       f"(any of {', '.join(IMAGE_EXTENSIONS)}) or pass the right path.")
        self.files = sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not self.files:
            raise DataUnavailableError(f"image folder {self.root} holds no images (looked for "
                                       f"{', '.join(IMAGE_EXTENSIONS)}, in subfolders too); add some or fix the path.")
        self.transform = transforms.Compose(
            [transforms.Resize(image_size), transforms.CenterCrop(image_size), *_to_unit_range(3)])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        """Return image ``i`` as RGB (3, s, s) in [-1, 1], with label 0 (the folder has no classes)."""
        with Image.open(self.files[i]) as img:
            return self.transform(img.convert("RGB")), 0


def image_folder(path: str | Path, image_size: int = 64) -> ImageFolderDataset:
    """Return every image under ``path``, resized and centre-cropped to ``image_size``, in [-1, 1]."""
    return ImageFolderDataset(path, image_size)
