"""How fast GlyphDataset renders: images per second for n = 20,000 (the target is >= 5,000/s).

Run: ``python benchmarks/glyphs_speed.py [n] [repeats]``. The first dataset also builds the font
templates (once per process); it is reported apart from the warm runs that follow.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from gancourse.data import glyphs

TARGET = 5_000  # images per second on a 2-core CPU


def time_dataset(n: int, seed: int) -> float:
    """Return the seconds it takes to build GlyphDataset(n, seed)."""
    start = time.perf_counter()
    glyphs.GlyphDataset(n, seed=seed)
    return time.perf_counter() - start


def main(n: int = 20_000, repeats: int = 5) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, n = {n:,}")
    cold = time_dataset(n, seed=0)
    print(f"cold (templates built too): {n / cold:10,.0f} images/s  ({cold:.2f} s)")
    warm = [time_dataset(n, seed=1 + r) for r in range(repeats)]
    best, median = min(warm), statistics.median(warm)
    print(f"warm, median of {repeats}:      {n / median:10,.0f} images/s  ({median:.2f} s)")
    print(f"warm, best of {repeats}:        {n / best:10,.0f} images/s  ({best:.2f} s)")
    print(f"target {TARGET:,} images/s: {'met' if n / median >= TARGET else 'MISSED'} "
          f"({n / median / TARGET:.1f}x)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
