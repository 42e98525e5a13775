"""``pack(source, out)``: write a submission as one zip of ``0.png`` ... ``999.png`` under the size limit."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gancourse.capstone.submission import EXPECTED_NAMES, MAX_BYTES, SPECS, SubmissionError, load_submission

__all__ = ["pack", "to_png"]


def to_png(image: torch.Tensor) -> bytes:
    """Return one image (1 or 3, S, S) in [-1, 1] as 8-bit grey or RGB PNG bytes (pixel round((x + 1) * 127.5))."""
    pixels = ((image.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    pixels = pixels[0].numpy() if pixels.shape[0] == 1 else pixels.permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), mode="L" if pixels.ndim == 2 else "RGB").save(
        buf, format="PNG", optimize=True)
    return buf.getvalue()


def pack(source: str | os.PathLike | torch.Tensor, out: str | os.PathLike, profile: str = "quick") -> Path:
    """Check ``source`` (a folder, archive, tensor file or tensor) and write it to the new zip ``out``; return out.

    Refuses to replace an existing file, and refuses an archive over the profile's limit
    (``SPECS[profile].max_bytes``: 5 MB for glyphs, 64 MB for the full profile's faces).
    """
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise SubmissionError(f"{out}: pack writes a .zip; name the output e.g. submission.zip")
    if out.exists() or out.is_symlink():
        raise SubmissionError(f"{out}: exists, and pack never replaces a file; choose a new name or move it away")
    images = load_submission(source, profile)  # an invalid submission is never packed
    limit = MAX_BYTES if profile == "quick" else SPECS[profile].max_bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, image in zip(EXPECTED_NAMES, images):
            archive.writestr(name, to_png(image))
    data = buf.getvalue()
    if len(data) > limit:
        raise SubmissionError(f"{out}: the archive would be {len(data):,} bytes, over the limit of {limit:,}; "
                              "1,000 glyph PNGs are normally under 1 MB, 1,000 face PNGs about 10 MB")
    with open(out, "xb") as f:  # "x": fail rather than replace, even if the file appeared meanwhile
        f.write(data)
    return out
