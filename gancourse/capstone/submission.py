"""Reading a submission: 1,000 images from a folder, an archive, a tensor file or a tensor.

``load_submission(source, profile)`` returns the images as one float tensor in [-1, 1], or raises
``SubmissionError`` (a ValueError) whose message names the file and says what to do. What the
images are depends on the profile (``SPECS``): the quick profile's glyphs are 8-bit grey 28 x 28
PNGs, tensors (1000, 1, 28, 28), files up to 5 MB; the full profile's anime faces are 8-bit RGB
64 x 64 PNGs (HW6's size), tensors (1000, 3, 64, 64), files up to 64 MB (a float32 tensor is
48 MB). The rules below are the quick profile's; the full one's differ only in those numbers.

- A folder holds exactly ``0.png`` ... ``999.png`` and nothing else.
- A ``.zip``, ``.tar``, ``.tar.gz`` or ``.tgz`` archive holds the same files, at its root or in one
  folder. Members are read into memory, never extracted: paths with ``..`` or a leading ``/``,
  links, devices, more than ``MAX_MEMBERS`` members and declared or actual sizes above the caps are
  refused before anything is decompressed past the cap (a decompression bomb stops at the cap).
- A ``.pt`` (``torch.load(weights_only=True)``, no code runs) or ``.safetensors`` file holds one
  tensor (1000, 1, 28, 28): float in [-1, 1], or uint8 in [0, 255] (mapped as PNGs are).
- A PNG is 8-bit grey (mode ``L``), 28 x 28; pixel p becomes p / 127.5 - 1.
Every file is at most ``MAX_BYTES`` (5 MB); ``python -m gancourse.capstone pack`` writes a zip well under it.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

__all__ = ["SubmissionError", "Spec", "SPECS", "N_IMAGES", "SIZE", "MAX_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES",
           "MAX_TOTAL_BYTES", "EXPECTED_NAMES", "load_submission", "check_tensor", "decode_png"]

N_IMAGES, SIZE = 1_000, 28
MAX_BYTES = 5 * 2**20  # a submission file (archive or tensor); 1,000 glyph PNGs zip to about 0.5 MB
MAX_MEMBERS = 2 * N_IMAGES  # archive entries, folders included, checked before any is read
MAX_MEMBER_BYTES = 64 * 2**10  # a 28 x 28 grey PNG is under 1 KB, a 64 x 64 RGB one under 13 KB, even uncompressed
MAX_TOTAL_BYTES = 32 * 2**20  # all members together, uncompressed (tar headers included)
EXPECTED_NAMES = tuple(f"{i}.png" for i in range(N_IMAGES))


@dataclass(frozen=True)
class Spec:
    """What one profile's submission holds: ``N_IMAGES`` images of ``channels`` x ``size`` x ``size``."""

    profile: str
    size: int
    channels: int
    max_bytes: int  # a submission file (archive or tensor)

    @property
    def mode(self) -> str:
        """PIL's mode of a submitted PNG."""
        return "L" if self.channels == 1 else "RGB"

    @property
    def what(self) -> str:
        """The images in words, for messages."""
        return f"{'grayscale' if self.channels == 1 else 'RGB'} {self.size}x{self.size}"


SPECS = {"quick": Spec("quick", SIZE, 1, MAX_BYTES),
         "full": Spec("full", 64, 3, 64 * 2**20)}  # 1,000 face PNGs zip to about 10 MB
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz")
TENSORS = (".pt", ".pth", ".safetensors")
JUNK = ("__MACOSX/", ".DS_Store")  # what macOS's "Compress" adds; skipped


class SubmissionError(ValueError):
    """An invalid submission; the message names the file and says what to do."""


def _fail(where: object, what: str) -> SubmissionError:
    return SubmissionError(f"{where}: {what}")


def _list(names: list[str], k: int = 5) -> str:
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def check_tensor(x: torch.Tensor, where: str = "the tensor", spec: Spec = SPECS["quick"]) -> torch.Tensor:
    """Return ``x`` as float32 (1000, C, S, S) in [-1, 1] after checking it; uint8 is mapped as PNG pixels."""
    want = (N_IMAGES, spec.channels, spec.size, spec.size)
    if not isinstance(x, torch.Tensor):
        raise _fail(where, f"holds a {type(x).__name__}, not a tensor: save the images as one tensor "
                           f"{want} with torch.save(images, path)")
    shape = tuple(x.shape)
    if shape != want:
        hint = "add the channel axis with x.unsqueeze(1)" if shape == (N_IMAGES, spec.size, spec.size) else (
            f"submit exactly {N_IMAGES} {spec.what} images")
        if spec.channels == 3 and shape == (N_IMAGES, spec.size, spec.size, 3):
            hint = "channels come first: x.permute(0, 3, 1, 2)"
        raise _fail(where, f"has shape {shape}, not {want}: {hint}")
    if x.dtype == torch.uint8:
        return x.detach().cpu().float() / 127.5 - 1.0
    if not x.is_floating_point():
        raise _fail(where, f"has dtype {x.dtype}: save float images in [-1, 1] (or uint8 pixels in [0, 255])")
    x = x.detach().to("cpu", torch.float32)
    bad = ~torch.isfinite(x)
    if bad.any():
        first = int(bad.flatten(1).any(1).nonzero()[0])
        raise _fail(where, f"{int(bad.flatten(1).any(1).sum())} images hold NaN or Inf pixels (the first: image "
                           f"{first}): the generator diverged; fix it and sample again")
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0.0:
        raise _fail(where, f"pixels span [{lo:.3g}, {hi:.3g}]: this looks like [0, 1]; map with x * 2 - 1")
    if lo < -1.001 or hi > 1.001:
        raise _fail(where, f"pixels span [{lo:.3g}, {hi:.3g}], outside [-1, 1]: end the generator with tanh, "
                           "or clamp(-1, 1)")
    return x.clamp(-1.0, 1.0)


def decode_png(data: bytes, where: str, spec: Spec = SPECS["quick"]) -> torch.Tensor:
    """Return one PNG's pixels as (C, S, S) in [-1, 1], or raise SubmissionError naming ``where``."""
    size = spec.size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as im:  # reads the header only
                if im.size != (size, size):
                    raise _fail(where, f"is {im.size[0]}x{im.size[1]}, not {size}x{size}: resize or regenerate it")
                if im.mode != spec.mode:
                    what = {"RGB": "3 channels (RGB)", "RGBA": "4 channels (RGBA)", "LA": "grey with alpha",
                            "P": "a colour palette", "L": "one grey channel"}.get(im.mode, f"mode {im.mode}")
                    want = "8-bit grey" if spec.mode == "L" else "8-bit RGB"
                    raise _fail(where, f"has {what}, not {want}: save it with "
                                       f"Image.fromarray(uint8_array, mode='{spec.mode}') or convert('{spec.mode}')")
                im.load()
                pixels = np.asarray(im, dtype=np.float32)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise _fail(where, f"declares far too many pixels ({err}): a decompression bomb; submit {spec.what} "
                           "PNGs") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        if isinstance(err, SubmissionError):
            raise
        raise _fail(where, f"is not a readable PNG ({type(err).__name__}): write it with PIL's save(..., 'PNG') or "
                           "torchvision.utils.save_image") from None
    x = torch.from_numpy(pixels.copy())
    return (x[None] if spec.channels == 1 else x.permute(2, 0, 1)) / 127.5 - 1.0


def _strip_root(names: list[str]) -> dict[str, str]:
    """Map each member to its name relative to the archive's root, or to the one folder holding all files."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = tops.pop() + "/"
        return {n[len(prefix):]: n for n in names}
    return {n: n for n in names}


def _images_from(files: dict[str, bytes], where: str, spec: Spec) -> torch.Tensor:
    """Decode the 1,000 PNGs of ``files`` (name -> bytes), in order 0 ... 999, after checking the names."""
    extra = sorted(set(files) - set(EXPECTED_NAMES))
    missing = [n for n in EXPECTED_NAMES if n not in files]
    if missing or extra:
        parts = [f"holds {len(files)} files, needs exactly {N_IMAGES} named 0.png ... {N_IMAGES - 1}.png"]
        if missing:
            parts.append(f"missing {_list(missing)}")
        if extra:
            parts.append(f"unexpected {_list(extra)} (remove them; an image's name is its index)")
        raise _fail(where, "; ".join(parts))
    return torch.stack([decode_png(files[n], f"{where}: {n}", spec) for n in EXPECTED_NAMES])


def _check_member_name(name: str, where: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise _fail(where, f"member {name!r} points outside the archive (absolute path or '..'): pack the images "
                           "with `python -m gancourse.capstone pack FOLDER OUT.zip`")


def _is_junk(name: str) -> bool:
    return name.startswith(JUNK[0]) or name.rsplit("/", 1)[-1] == JUNK[1]


def _too_many(count: int, where: str) -> SubmissionError:
    return _fail(where, f"has {count} members (more than {MAX_MEMBERS}); submit exactly {N_IMAGES} PNGs")


def _read_zip(data: bytes, where: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise _fail(where, f"is not a readable zip ({err}): pack it again") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _too_many(len(infos), where)
        total, files = 0, {}
        for info in infos:  # names, kinds and declared sizes first, before any member is decompressed
            _check_member_name(info.filename, where)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _fail(where, f"member {info.filename!r} is a symbolic link: pack the image files themselves")
            if not info.is_dir() and info.file_size > MAX_MEMBER_BYTES:
                raise _fail(where, f"member {info.filename!r} declares {info.file_size:,} bytes uncompressed (more "
                                   f"than {MAX_MEMBER_BYTES:,}): not a submission PNG, or a decompression bomb")
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _fail(where, f"declares {total:,} bytes uncompressed (more than {MAX_TOTAL_BYTES:,}): a "
                               "decompression bomb, or not what pack writes")
        for info in infos:
            if info.is_dir() or _is_junk(info.filename):
                continue
            try:
                with archive.open(info) as f:
                    body = f.read(MAX_MEMBER_BYTES + 1)  # a lying header stops here too
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError) as err:
                raise _fail(where, f"member {info.filename!r} cannot be read ({err}): pack it again") from None
            if len(body) > MAX_MEMBER_BYTES:
                raise _fail(where, f"member {info.filename!r} holds more than {MAX_MEMBER_BYTES:,} bytes: a "
                                   "decompression bomb, or not a submission PNG")
            files[info.filename] = body
    return files


def _gunzip(data: bytes, where: str) -> bytes:
    """Decompress gzip ``data`` up to MAX_TOTAL_BYTES; more is a decompression bomb."""
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_TOTAL_BYTES + 1)
    except zlib.error as err:
        raise _fail(where, f"is not a readable gzip file ({err}): pack it again") from None
    if len(out) > MAX_TOTAL_BYTES or d.unconsumed_tail:
        raise _fail(where, f"unpacks to more than {MAX_TOTAL_BYTES:,} bytes: a decompression bomb, or not what "
                           "pack writes")
    return out


def _read_tar(data: bytes, where: str) -> dict[str, bytes]:
    if where.lower().endswith((".gz", ".tgz")):
        data = _gunzip(data, where)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            return _tar_members(archive, where)
    except tarfile.TarError as err:
        raise _fail(where, f"is not a readable tar archive ({err}): pack it again") from None


def _tar_members(archive: tarfile.TarFile, where: str) -> dict[str, bytes]:
    members = archive.getmembers()  # headers only; the data is in memory and at most MAX_TOTAL_BYTES
    if len(members) > MAX_MEMBERS:
        raise _too_many(len(members), where)
    for m in members:  # every name and kind first, then the data
        _check_member_name(m.name, where)
        if m.issym() or m.islnk():
            raise _fail(where, f"member {m.name!r} is a link: pack the image files themselves")
        if not (m.isfile() or m.isdir()):
            raise _fail(where, f"member {m.name!r} is not a regular file: pack the image files only")
        if m.size > MAX_MEMBER_BYTES:
            raise _fail(where, f"member {m.name!r} holds {m.size:,} bytes (more than {MAX_MEMBER_BYTES:,}): not a "
                               "submission PNG")
    return {m.name: archive.extractfile(m).read(MAX_MEMBER_BYTES + 1) for m in members
            if m.isfile() and not _is_junk(m.name)}


def _read_folder(folder: Path) -> dict[str, bytes]:
    files = {}
    with os.scandir(folder) as entries:
        for count, entry in enumerate(entries, 1):
            if count > MAX_MEMBERS:
                raise _too_many(count, folder)
            if entry.is_symlink():
                raise _fail(folder, f"{entry.name} is a symbolic link: copy the image itself there")
            if entry.name == JUNK[1]:
                continue
            if not entry.is_file():
                raise _fail(folder, f"{entry.name} is not a file: the folder holds only 0.png ... 999.png")
            size = entry.stat().st_size
            if size > MAX_MEMBER_BYTES:
                raise _fail(folder, f"{entry.name} holds {size:,} bytes (more than {MAX_MEMBER_BYTES:,}): not a "
                                    "submission PNG")
            files[entry.name] = b""  # read below, once the names are known to be right
    if set(files) == set(EXPECTED_NAMES):
        files = {n: (folder / n).read_bytes() for n in EXPECTED_NAMES}
    return files


def _read_tensor_file(data: bytes, where: str, spec: Spec) -> torch.Tensor:
    if where.lower().endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load

        try:
            tensors = load(data)
        except (SafetensorError, ValueError, RuntimeError) as err:
            raise _fail(where, f"is not a readable safetensors file ({err}): save it with "
                               "safetensors.torch.save_file({'images': images}, path)") from None
    else:
        try:
            loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - the restricted unpickler raises many kinds; all mean "not ours"
            raise _fail(where, f"is not a tensor file torch.load(weights_only=True) accepts ({type(err).__name__}): "
                               "save one tensor with torch.save(images, path)") from None
        tensors = loaded if isinstance(loaded, dict) else {"images": loaded}
    if len(tensors) != 1:
        raise _fail(where, f"holds {len(tensors)} entries ({_list(sorted(map(str, tensors)))}); save exactly one "
                           "tensor of images")
    return check_tensor(next(iter(tensors.values())), where, spec)


def load_submission(source: str | os.PathLike | torch.Tensor, profile: str = "quick") -> torch.Tensor:
    """Return a submission's images (1000, C, S, S) float32 in [-1, 1]; raise SubmissionError if it is invalid.

    ``profile``: ``"quick"`` (grey 28 x 28 glyphs) or ``"full"`` (RGB 64 x 64 faces); see ``SPECS``.
    """
    if profile not in SPECS:
        raise ValueError(f"profile must be one of {tuple(SPECS)}, got {profile!r}")
    spec = SPECS[profile]
    if isinstance(source, torch.Tensor):
        return check_tensor(source, spec=spec)
    if not isinstance(source, (str, os.PathLike)):
        raise SubmissionError(f"a submission is a path (folder, archive, tensor file) or a tensor, got "
                              f"{type(source).__name__}")
    path = Path(source)
    if path.is_symlink():
        raise _fail(path, "is a symbolic link: submit the file or folder itself")
    if path.is_dir():
        return _images_from(_read_folder(path), str(path), spec)
    if not path.is_file():
        raise _fail(path, "does not exist: give the folder, archive or tensor file to grade")
    name = path.name.lower()
    if not name.endswith(ARCHIVES + TENSORS):
        raise _fail(path, f"is not a submission: give a folder of PNGs, an archive ({', '.join(ARCHIVES)}) or a "
                          f"tensor file ({', '.join(TENSORS)})")
    size = path.stat().st_size
    if size > spec.max_bytes:
        raise _fail(path, f"is {size / 2**20:.1f} MB, more than the {spec.max_bytes / 2**20:.0f} MB limit: pack the "
                          "PNGs with `python -m gancourse.capstone pack`, or save the tensor as float32")
    data = path.read_bytes()[:spec.max_bytes + 1]
    if name.endswith(TENSORS):
        return _read_tensor_file(data, str(path), spec)
    files = _read_zip(data, str(path)) if name.endswith(".zip") else _read_tar(data, str(path))
    return _images_from({short: files[full] for short, full in _strip_root(list(files)).items()}, str(path), spec)
