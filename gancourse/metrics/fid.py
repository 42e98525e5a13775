"""FID end to end: images (tensor, dataset, folder) → features → FeatureStats → Fréchet distance.

``fid(real, fake, extractor="glyphs")`` accepts, for each side, an image tensor (N, C, H, W) in
[-1, 1], a Dataset whose items are images or (image, label) pairs, a folder of image files, a
saved .npz of statistics, or a ``FeatureStats``. Features are computed in batches under a progress
bar and folded into float64 running statistics, so memory stays O(batch + d²) however many images
(a folder is read one batch of files at a time).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterator, Union

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from gancourse.metrics.stats import FeatureStats

__all__ = ["IMAGE_SUFFIXES", "ImageFiles", "feature_stats", "fid", "get_extractor", "load_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
Source = Union[torch.Tensor, Dataset, str, Path, FeatureStats]


def get_extractor(extractor: str | nn.Module) -> nn.Module:
    """Return an extractor module: ``"glyphs"``, ``"inception"``, or a module you pass (returned as is)."""
    if isinstance(extractor, nn.Module):
        return extractor
    from gancourse.metrics.extractors import GlyphFeatures, InceptionFeatures

    if extractor == "glyphs":
        return GlyphFeatures()
    if extractor == "inception":
        return InceptionFeatures()
    raise ValueError(f"extractor must be 'glyphs', 'inception' or an nn.Module, got {extractor!r}")


def _read_image(path: Path, channels: int) -> np.ndarray:
    """Return one image file as float32 (H, W) or (H, W, 3) in [0, 255], 16-bit files scaled, not clipped."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                    # 16-bit grey: PIL's convert("L") would clip every value above 255 to white.
                    arr = np.asarray(im, dtype=np.float64)
                    if im.mode.startswith("I;16") or arr.max() > 255:
                        arr = arr * (255.0 / 65535.0)
                    arr = arr.astype(np.float32)
                    return arr if channels == 1 else np.repeat(arr[:, :, None], 3, axis=2)
                if im.mode == "F":
                    raise ValueError(f"{path.name} holds floating-point pixels, whose range is unknown: save it "
                                     "as an 8- or 16-bit image")
                return np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.float32)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError(f"{path.name} is larger than PIL's safety limit ({err}); a decompression bomb, or an "
                         "image far too large for FID: resize it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"{path} is not a readable image ({type(err).__name__}: {err}): remove or replace it")


class ImageFiles(Dataset):
    """The images of a folder, sorted by name, read one at a time: (C, H, W) float32 in [-1, 1].

    Reading lazily keeps FID over a folder at O(batch + d²) memory however many images it holds.
    Files without an image suffix are skipped with a warning; every image must have the first one's size.
    """

    def __init__(self, folder: str | Path, channels: int = 3) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"no folder at {self.folder}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
        self.channels = channels
        files = sorted(p for p in self.folder.iterdir() if p.is_file())
        self.paths = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        skipped = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
        if skipped:
            warnings.warn(f"skipped {len(skipped)} file(s) in {self.folder} that are not images: "
                          f"{', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}", stacklevel=2)
        if not self.paths:
            raise ValueError(f"{self.folder} holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
        self.shape = _read_image(self.paths[0], channels).shape

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        arr = _read_image(self.paths[i], self.channels)
        if arr.shape != self.shape:
            raise ValueError(f"images in {self.folder} have different sizes ({self.paths[0].name}: "
                             f"{self.shape[:2]}, {self.paths[i].name}: {arr.shape[:2]}): resize them to one size first")
        x = torch.from_numpy(arr)
        x = x[None] if self.channels == 1 else x.permute(2, 0, 1)
        return x / 127.5 - 1.0


def load_folder(folder: str | Path, channels: int = 3) -> torch.Tensor:
    """Return the images of a folder as a float tensor (N, channels, H, W) in [-1, 1], sorted by file name.

    All at once: for FID over a large folder, pass the folder itself, which is read in batches.
    """
    files = ImageFiles(folder, channels)
    return torch.stack([files[i] for i in range(len(files))])


def _batches(source: torch.Tensor | Dataset, batch_size: int) -> Iterator[torch.Tensor]:
    if isinstance(source, torch.Tensor):
        for i in range(0, source.shape[0], batch_size):
            yield source[i:i + batch_size]
        return
    n = len(source)  # type: ignore[arg-type]
    for i in range(0, n, batch_size):
        items = [source[j] for j in range(i, min(i + batch_size, n))]
        yield torch.stack([it[0] if isinstance(it, (tuple, list)) else it for it in items])


@torch.no_grad()
def feature_stats(source: Source, extractor: str | nn.Module = "glyphs", *, batch_size: int = 256,
                  device: str | torch.device | None = None, progress: bool = True,
                  check_range: bool = True) -> FeatureStats:
    """Return the FeatureStats of ``source``'s features (a FeatureStats or an .npz path is returned as loaded).

    Images in a tensor or a Dataset must lie in [-1, 1]; with ``check_range`` a set with no pixel
    below 0 (images in [0, 1], most likely) is refused rather than measured wrongly.
    """
    if isinstance(source, FeatureStats):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix == ".npz":
            return FeatureStats.load(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is neither a folder of images nor a saved .npz of statistics")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    net = get_extractor(extractor)
    scaled_by_us = isinstance(source, (str, Path))
    if scaled_by_us:
        channels = getattr(net, "channels", 3)
        source = ImageFiles(source, channels=channels if isinstance(channels, int) else max(channels))
    if not isinstance(source, (torch.Tensor, Dataset)):
        raise TypeError(f"cannot read images from a {type(source).__name__}: pass a tensor (N, C, H, W), a Dataset, "
                        "a folder, an .npz of statistics or a FeatureStats")
    n = source.shape[0] if isinstance(source, torch.Tensor) else len(source)  # type: ignore[arg-type]
    if n < 2:
        raise ValueError(f"{n} image(s): FID needs at least 2 on each side (thousands for a stable value)")
    device = torch.device(device) if device is not None else next(net.parameters(), torch.empty(0)).device
    net = net.to(device).eval()
    stats: FeatureStats | None = None
    lowest = float("inf")
    with tqdm(total=n, desc="features", unit="img", disable=not progress, leave=False) as bar:
        for batch in _batches(source, batch_size):
            if batch.is_floating_point():
                lowest = min(lowest, float(batch.min()))
            f = net(batch.to(device)).double().cpu()
            stats = FeatureStats(f.shape[1]) if stats is None else stats
            stats.update(f)
            bar.update(batch.shape[0])
    assert stats is not None
    if check_range and not scaled_by_us and lowest >= 0.0:
        raise ValueError(f"every pixel of the {n} images is >= 0: they look like images in [0, 1], but the "
                         "extractors expect [-1, 1] (where 0 is mid-grey): pass 2 * x - 1. If they really are "
                         "bright images in [-1, 1], pass check_range=False")
    return stats


def fid(real: Source, fake: Source, extractor: str | nn.Module = "glyphs", *, batch_size: int = 256,
        device: str | torch.device | None = None, progress: bool = True, check_range: bool = True) -> float:
    """Return the FID between ``real`` and ``fake`` (images, datasets, folders, .npz files or FeatureStats).

    ``extractor``: ``"glyphs"`` (offline, 128-d, for 28x28 glyphs), ``"inception"`` (the standard
    2,048-d InceptionV3 pool3, for comparisons with papers), or any module mapping images to features.
    Keep ``real``'s FeatureStats to reuse its factorisation across calls.
    """
    def is_stats(side: Source) -> bool:
        return isinstance(side, FeatureStats) or (isinstance(side, (str, Path)) and Path(side).suffix == ".npz")

    # Build the extractor once, and only when a side has images (two .npz files need no network).
    net = extractor if is_stats(real) and is_stats(fake) else get_extractor(extractor)
    kw = dict(batch_size=batch_size, device=device, progress=progress, check_range=check_range)
    s_real, s_fake = feature_stats(real, net, **kw), feature_stats(fake, net, **kw)
    return s_real.frechet_distance(s_fake)
