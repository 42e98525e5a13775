"""Feature extractors: images in, one feature vector per image out (the first third of FID).

- ``InceptionFeatures``: InceptionV3's 2,048-d pool3 with the TensorFlow-ported FID weights,
  pytorch-fid's network and weight file; the file is downloaded once (full profile, or when asked),
  its SHA-256 checked, and cached under ``gancourse.runtime.data_dir()``.
- ``GlyphFeatures``: the course's glyph classifier, its 128-d penultimate layer; offline, seconds.
- ``ClassifierFeatures(model, layer)``: any network's activations at a named layer, through a
  forward hook: the "replace ``fc`` by ``Identity``" trick without editing the model.

Every extractor takes images as float tensors (N, C, H, W) in [-1, 1] (what a tanh generator makes
and what ``GlyphDataset`` holds) and checks them first: a wrong range, channel count, shape, NaN or
Inf raises a ValueError that says what to fix.
"""

from __future__ import annotations

import hashlib
import unittest.mock
import urllib.request
import warnings
from pathlib import Path

import torch
from torch import nn

from gancourse.network import network_timeout
from gancourse.runtime import accepts_standins, data_dir, profile

__all__ = ["ClassifierFeatures", "GlyphFeatures", "InceptionFeatures", "check_images", "inception_weights"]

INCEPTION_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                 "pt_inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
# torch.hub's convention: the hex in the file name is the start of the file's SHA-256.
INCEPTION_SHA256_PREFIX = "6726825d"
RANGE_SLACK = 1e-3  # interpolation can overshoot [-1, 1] by a hair; more than this is a wrong range


def check_images(x: object, channels: int | tuple[int, ...], size: int | None = None,
                 value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """Return ``x`` as a float tensor (N, C, H, W) after checking shape, channels, size, finiteness and range."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(x.shape)}"
                         + (": add the channel axis with x.unsqueeze(1)" if x.ndim == 3 else ""))
    allowed = (channels,) if isinstance(channels, int) else tuple(channels)
    if x.shape[1] not in allowed:
        raise ValueError(f"images have {x.shape[1]} channels; this extractor takes {' or '.join(map(str, allowed))}")
    if size is not None and tuple(x.shape[2:]) != (size, size):
        raise ValueError(f"images are {x.shape[2]}x{x.shape[3]}; this extractor takes {size}x{size}")
    if x.shape[0] == 0:
        raise ValueError("no images: the batch is empty")
    if not x.is_floating_point():
        raise ValueError(f"images must be float in [{value_range[0]}, {value_range[1]}], got dtype {x.dtype} "
                         "(uint8 images: x.float() / 127.5 - 1)")
    if x.dtype != torch.float32:
        x = x.float()  # float16, bfloat16 and float64 images: the extractors' weights are float32
    if not torch.isfinite(x).all():
        raise ValueError("images contain NaN or Inf: the generator diverged, or the data has holes")
    lo, hi = float(x.min()), float(x.max())
    if lo < value_range[0] - RANGE_SLACK or hi > value_range[1] + RANGE_SLACK:
        hint = " (for images in [0, 1] use 2 * x - 1)" if value_range == (-1.0, 1.0) else ""
        raise ValueError(f"images span [{lo:.3g}, {hi:.3g}] but must lie in [{value_range[0]}, {value_range[1]}]"
                         + hint)
    return x


class ClassifierFeatures(nn.Module):
    """Features of any network at ``layer`` (a submodule's name, e.g. ``"fc"`` or ``"features.6"``), shape (N, -1).

    ``take="output"`` returns what the layer outputs; ``take="input"`` what goes into it, so
    ``ClassifierFeatures(resnet, "fc", take="input")`` is resnet with ``fc = Identity``.
    """

    def __init__(self, model: nn.Module, layer: str, take: str = "output") -> None:
        super().__init__()
        modules = dict(model.named_modules())
        if layer not in modules or layer == "":
            names = [n for n in modules if n]
            raise ValueError(f"model has no layer {layer!r}; its layers are {names[:20]}{' ...' if len(names) > 20 else ''}")
        if take not in ("output", "input"):
            raise ValueError(f"take must be 'output' or 'input', got {take!r}")
        self.model, self.layer, self.take = model, layer, take
        self._target = modules[layer]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the layer's activations for ``x``, flattened to (N, features)."""
        caught: list[torch.Tensor] = []

        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            caught.append(inputs[0] if self.take == "input" else output)

        handle = self._target.register_forward_hook(hook)
        try:
            self.model(x)
        finally:
            handle.remove()
        if not caught:
            raise RuntimeError(f"layer {self.layer!r} did not run in the model's forward pass")
        return caught[-1].flatten(1)


class GlyphFeatures(nn.Module):
    """The glyph classifier's 128-d penultimate features of glyph images (N, 1, 28, 28) in [-1, 1]."""

    channels, size, dim = 1, 28, 128

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        from gancourse.metrics.judges import glyph_classifier  # loads the shipped weights: only when asked

        self.classifier = glyph_classifier(seed).model.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return features, shape (N, 128)."""
        x = check_images(x, self.channels, self.size)
        return self.classifier.features(x)


def inception_weights(download: bool | None = None) -> Path:
    """Return the path of pytorch-fid's InceptionV3 weights, downloading and hash-checking them if allowed.

    ``download`` None: allowed in the full profile only (the quick profile never touches the network).
    """
    path = data_dir() / "inception" / INCEPTION_FILE
    if path.is_file():
        return path
    allowed = profile().full if download is None else download
    how = (f"download it once with gancourse.metrics.extractors.inception_weights(download=True) (91 MB), or put "
           f"{INCEPTION_URL} at {path}; offline, use the glyph extractor (extractor='glyphs') instead")
    if not allowed:
        raise RuntimeError(f"InceptionV3 FID weights are not at {path}: {how}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with network_timeout() as seconds:
            urllib.request.urlretrieve(INCEPTION_URL, partial)
    except OSError as err:  # a stall too: a server that sends nothing for `seconds` raises a timeout
        partial.unlink(missing_ok=True)
        stalled = f" (no data for {seconds:g} s)" if "timed out" in str(err) else ""
        raise RuntimeError(f"could not download the InceptionV3 FID weights{stalled} ({err}): {how}") from err
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    if not digest.startswith(INCEPTION_SHA256_PREFIX):
        partial.unlink()
        raise RuntimeError(f"the downloaded InceptionV3 weights have SHA-256 {digest[:16]}..., not "
                           f"{INCEPTION_SHA256_PREFIX}...: a broken or wrong download; {how}")
    partial.replace(path)
    return path


class InceptionFeatures(nn.Module):
    """InceptionV3 pool3 features (N, 2048) for FID: pytorch-fid's network and its TF-ported weights.

    Takes RGB or grayscale images (grayscale is repeated to 3 channels) of any size in [-1, 1];
    pytorch-fid resizes them to 299 x 299 bilinearly (align_corners=False).
    """

    channels, size, dim = (1, 3), None, 2048

    def __init__(self, download: bool | None = None) -> None:
        super().__init__()
        try:
            import pytorch_fid.inception as fid_inception
        except ImportError as err:
            raise RuntimeError("the Inception extractor needs pytorch-fid: pip install pytorch-fid==0.3.0") from err
        path = inception_weights(download)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if not digest.startswith(INCEPTION_SHA256_PREFIX):
            if not accepts_standins():
                raise RuntimeError(f"{path} does not have the expected SHA-256 ({digest[:16]}...): delete it and "
                                   "download it again with inception_weights(download=True)")
            warnings.warn(f"smoke run: {path} is a stand-in (SHA-256 {digest[:16]}...), not the FID weights; "
                          "its features and FIDs mean nothing", stacklevel=2)
        # weights_only: the restricted unpickler that loads tensors and never runs code from the file.
        state = torch.load(path, map_location="cpu", weights_only=True)
        # pytorch-fid downloads the file itself; hand it ours instead (already checked) so nothing goes online.
        with unittest.mock.patch.object(fid_inception, "load_state_dict_from_url", lambda *a, **k: state):
            self.net = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]],
                                                 resize_input=True, normalize_input=False)
        self.net.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return pool3 features, shape (N, 2048)."""
        x = check_images(x, self.channels)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        # Already in [-1, 1], the range pytorch-fid's normalize_input would map [0, 1] to.
        return self.net(x)[0].flatten(1)
