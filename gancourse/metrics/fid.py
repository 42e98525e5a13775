"""FID end to end: images (tensor, dataset, folder) → features → FeatureStats → Fréchet distance.

``fid(real, fake, extractor="glyphs")`` accepts, for each side, an image tensor (N, C, H, W) in
[-1, 1], a Dataset whose items are images or (image, label) pairs, a folder of image files, a
saved .npz of statistics, or a ``FeatureStats``. Features are computed in batches under a progress
bar and folded into float64 running statistics, so memory stays O(d²) however many images.
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

__all__ = ["IMAGE_SUFFIXES", "feature_stats", "fid", "get_extractor", "load_folder"]

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


def load_folder(folder: str | Path, channels: int = 3) -> torch.Tensor:
    """Return the images of a folder as a float tensor (N, channels, H, W) in [-1, 1], sorted by file name.

    Files that are not images are skipped with a warning; a folder without images is an error.
    All images must have the same size.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder at {folder}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    images, skipped = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(path.name)
            continue
        try:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.float32)
        except (UnidentifiedImageError, OSError):
            skipped.append(path.name)
            continue
        images.append(arr)
    if skipped:
        warnings.warn(f"skipped {len(skipped)} file(s) in {folder} that are not images: "
                      f"{', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}", stacklevel=2)
    if not images:
        raise ValueError(f"{folder} holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
    shapes = {a.shape for a in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {folder} have different sizes {sorted(shapes)[:4]}: resize them to one size first")
    x = torch.from_numpy(np.stack(images))
    x = x[:, None] if channels == 1 else x.permute(0, 3, 1, 2)
    return x / 127.5 - 1.0


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
                  device: str | torch.device | None = None, progress: bool = True) -> FeatureStats:
    """Return the FeatureStats of ``source``'s features (a FeatureStats or an .npz path is returned as loaded)."""
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
    if isinstance(source, (str, Path)):
        channels = getattr(net, "channels", 3)
        source = load_folder(source, channels=channels if isinstance(channels, int) else max(channels))
    if not isinstance(source, (torch.Tensor, Dataset)):
        raise TypeError(f"cannot read images from a {type(source).__name__}: pass a tensor (N, C, H, W), a Dataset, "
                        "a folder, an .npz of statistics or a FeatureStats")
    n = source.shape[0] if isinstance(source, torch.Tensor) else len(source)  # type: ignore[arg-type]
    if n < 2:
        raise ValueError(f"{n} image(s): FID needs at least 2 on each side (thousands for a stable value)")
    device = torch.device(device) if device is not None else next(net.parameters(), torch.empty(0)).device
    net = net.to(device).eval()
    stats: FeatureStats | None = None
    with tqdm(total=n, desc="features", unit="img", disable=not progress, leave=False) as bar:
        for batch in _batches(source, batch_size):
            f = net(batch.to(device)).double().cpu()
            stats = FeatureStats(f.shape[1]) if stats is None else stats
            stats.update(f)
            bar.update(batch.shape[0])
    assert stats is not None
    return stats


def fid(real: Source, fake: Source, extractor: str | nn.Module = "glyphs", *, batch_size: int = 256,
        device: str | torch.device | None = None, progress: bool = True) -> float:
    """Return the FID between ``real`` and ``fake`` (images, datasets, folders, .npz files or FeatureStats).

    ``extractor``: ``"glyphs"`` (offline, 128-d, for 28x28 glyphs), ``"inception"`` (the standard
    2,048-d InceptionV3 pool3, for comparisons with papers), or any module mapping images to features.
    Keep ``real``'s FeatureStats to reuse its factorisation across calls.
    """
    def is_stats(side: Source) -> bool:
        return isinstance(side, FeatureStats) or (isinstance(side, (str, Path)) and Path(side).suffix == ".npz")

    # Build the extractor once, and only when a side has images (two .npz files need no network).
    net = extractor if is_stats(real) and is_stats(fake) else get_extractor(extractor)
    kw = dict(batch_size=batch_size, device=device, progress=progress)
    s_real, s_fake = feature_stats(real, net, **kw), feature_stats(fake, net, **kw)
    return s_real.frechet_distance(s_fake)
