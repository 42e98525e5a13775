"""Draw the course's learning path (book/figures/learning_path.png) from the chapter plan.

Run from anywhere, offline: ``python book/figures/make_learning_path.py``. A chapter is drawn as
available when _toc.yml lists its notebook, so rerun this script whenever a chapter lands.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("agg")  # a file, never a window

import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("learning_path.png")

# (number, notebook stem, title, what you build, part)
CHAPTERS = [
    (1, "01_adversarial_game", "The adversarial game", "minimax, optimal D, JSD", 0),
    (2, "02_first_gan", "A first GAN", "MLP GAN on toy data and digits", 0),
    (3, "03_dcgan", "DCGAN", "convolutional G and D", 1),
    (4, "04_wgan", "WGAN and WGAN-GP", "critic, clipping, gradient penalty", 1),
    (5, "05_conditional_gan", "Conditional GAN", "digits on demand", 2),
    (6, "06_infogan", "InfoGAN", "codes learned without labels", 2),
    (7, "07_controllable_generation", "Controllable generation", "steer z with a classifier", 2),
    (8, "08_evaluation", "Evaluation", "FID, IS, KID, precision/recall", 3),
    (9, "09_from_dcgan_to_stylegan", "DCGAN to StyleGAN", "SAGAN, BigGAN, ProGAN, StyleGAN", 3),
    (10, "10_translation", "Translate, restore", "pix2pix, CycleGAN, SRGAN, text", 3),
    (11, "11_capstone", "The capstone", "your GAN, graded openly", 4),
    (12, "12_many_gpus", "Many GPUs", "DDP under torchrun", 5),
]
PARTS = ["Foundations", "Convolutional and Wasserstein GANs", "Conditioning and control", "Evaluation and beyond",
         "Capstone", "Appendix"]
COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#8172B3", "#C44E52", "#937860"]  # seaborn's "deep", one per part

# Reading order on a 3-column grid, snaking so that each arrow is short: rows 2 and 4 run right to left.
POSITIONS = [(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1), (0, 2), (1, 2), (2, 2), (2, 3), (1, 3), (0, 3)]
BOX_W, BOX_H = 1.02, 0.5
COLUMN_STEP, ROW_STEP = 1.25, 0.8


def available_chapters() -> set[str]:
    """Return the notebook stems that _toc.yml lists: those chapters are available."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "file" and isinstance(value, str) and value.startswith("notebooks/"):
                    found.add(Path(value).stem)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def centre(position: tuple[int, int]) -> tuple[float, float]:
    """Return the plot coordinates of a grid cell's centre (row 0 at the top)."""
    column, row = position
    return column * COLUMN_STEP, -row * ROW_STEP


def draw(path: Path = OUT) -> Path:
    """Draw the learning path and return the path of the PNG written."""
    ready = available_chapters()
    fig, ax = plt.subplots(figsize=(10, 7.4))
    for (number, stem, title, build, part), position in zip(CHAPTERS, POSITIONS):
        x, y = centre(position)
        is_ready = stem in ready
        ax.add_patch(FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0.02,rounding_size=0.06",
            facecolor=COLOURS[part] if is_ready else "white", edgecolor=COLOURS[part],
            linewidth=2.0, linestyle="-" if is_ready else "--",
        ))
        ink = "white" if is_ready else "#222222"
        ax.text(x, y + 0.12, f"{number}. {title}", ha="center", va="center", fontsize=10,
                fontweight="bold", color=ink)
        ax.text(x, y - 0.03, build, ha="center", va="center", fontsize=8.5, color=ink)
        ax.text(x, y - 0.17, "available" if is_ready else "in preparation", ha="center", va="center",
                fontsize=8, style="italic", color=ink)
    for start, end in zip(POSITIONS, POSITIONS[1:]):
        (x0, y0), (x1, y1) = centre(start), centre(end)
        if y0 == y1:  # same row: from side to side
            step = BOX_W / 2 if x1 > x0 else -BOX_W / 2
            tail, head = (x0 + step, y0), (x1 - step, y1)
        else:  # next row: from bottom to top
            tail, head = (x0, y0 - BOX_H / 2), (x1, y1 + BOX_H / 2)
        ax.add_patch(FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=16, color="#555555",
                                     linewidth=1.5, shrinkA=3, shrinkB=3))
    legend = [Patch(facecolor=c, edgecolor=c, label=p) for c, p in zip(COLOURS, PARTS)]
    legend.append(Patch(facecolor="white", edgecolor="#555555", linestyle="--", label="in preparation"))
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, frameon=False,
              fontsize=9)
    ax.set_title("GAN Course: the learning path", fontsize=14, fontweight="bold")
    ax.set_xlim(-BOX_W / 2 - 0.05, 2 * COLUMN_STEP + BOX_W / 2 + 0.05)
    ax.set_ylim(-2.7, 0.35)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    # No software/date metadata: the same plan gives the same bytes, so the PNG diffs only when it changes.
    fig.savefig(path, dpi=130, metadata={"Software": None})
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(f"wrote {draw()}")
