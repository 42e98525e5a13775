"""Train the conditional DCGAN that Chapter 5 ships, ``gancourse/pretrained/cgan_glyphs.*``, and measure it.

The recipe (deterministic from the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, the quick profile's training set;
- networks: ``ConditionalDCGANGenerator(z_dim=64, width=32)`` fed [z, one-hot(y)], and
  ``ConditionalDCGANDiscriminator(width=32)`` reading the label as 10 extra channels;
- non-saturating loss, batches of 64, Adam with beta = (0.5, 0.999); the learning rate follows
  SCHEDULE: 1e-3 for the first steps (fast: the digits' shapes and the label's meaning), then a
  fifth of it, with an exponential moving average of G's weights (decay 0.999) from that point on
  as the model we keep. The raw generator's class accuracy jumps by several points between
  evaluations a few hundred steps apart; the average over the last ~1,000 steps is steadier and better.

The shipped file was trained by this script's earlier form, in two separate runs (phases) with a
fresh Adam and a fresh random seed for the second: its card records that recipe. Run now, the
script trains the same schedule as ONE run, so it rebuilds a model of the same recipe, not the
same bytes.

What it measures, on the model reloaded from its float16 file, is what the notebook measures
again: the glyph classifier's accuracy on N_PER_CLASS samples of each class, drawn with EVAL_SEED.

    OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py --out-dir /tmp/cgan   # anywhere else
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics.judges import class_accuracy, glyph_classifier
from gancourse.models import ConditionalDCGANDiscriminator, ConditionalDCGANGenerator
from gancourse.pretrained import HERE, as_shipped, save_shipped
from gancourse.training import PiecewiseConstant, TrainConfig, train_gan

NAME = "cgan_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "n_classes": 10, "image_size": 28, "channels": 1, "width": 32}
D_KWARGS = {"n_classes": 10, "image_size": 28, "channels": 1, "width": 32}
LR = 1e-3
SCHEDULE = PiecewiseConstant((1_500, 1.0), (2_500, 0.2))  # (generator steps, multiplier of LR)
EMA_DECAY, EMA_START = 0.999, 1_500
N_PER_CLASS, EVAL_SEED = 100, 2024  # the notebook's measurement: 1,000 samples, 100 per class


def train(seed: int = SEED) -> tuple[ConditionalDCGANGenerator, float]:
    """Return (the EMA generator, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    dataset = TensorDataset(data.images, data.labels)
    torch.manual_seed(seed)
    G = ConditionalDCGANGenerator(**G_KWARGS)
    D = ConditionalDCGANDiscriminator(**D_KWARGS)
    start = time.process_time()
    config = TrainConfig(steps=SCHEDULE.total_steps, batch_size=64, lr_d=LR, lr_g=LR, seed=seed,
                         ema_decay=EMA_DECAY, ema_start=EMA_START)
    history = train_gan(G, D, dataset, config, lr_schedule=SCHEDULE, progress=False)
    late = history.to_frame().tail(200).mean()
    print(f"{config.steps} steps; last 200 steps D(x) {late.d_real:.3f}, D(G(z)) {late.d_fake:.3f}; "
          f"{time.process_time() - start:.0f} s CPU", flush=True)
    return history.ema_generator, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the card")
    args = parser.parse_args()
    torch.set_num_threads(1)  # reproducible timings, and deterministic CPU kernels on one thread

    wall = time.perf_counter()
    G, cpu_seconds = train(SEED)
    ship(G, cpu_seconds, args.out_dir)
    print(f"{time.perf_counter() - wall:.0f} s wall in all")


def ship(G: ConditionalDCGANGenerator, cpu_seconds: float, out_dir: Path = HERE) -> dict:
    """Measure G as it ships (float16, reloaded), write its weights and card to ``out_dir``; return the card's info."""
    judge = glyph_classifier().model
    recipe = (f"conditional DCGAN (one-hot label joined to z in G, label channels in D), widths 32/32, z_dim 64, "
              f"{N_TRAIN} glyphs, non-saturating loss, batch 64, Adam betas (0.5, 0.999), one run: "
              + ", then ".join(f"{s} steps at lr {LR * f:g}" for s, f in SCHEDULE.pieces)
              + f"; EMA of G (decay {EMA_DECAY}) from step {EMA_START}")
    info = {"recipe": recipe, "seed": SEED, "steps": SCHEDULE.total_steps, "lr": LR, "schedule": repr(SCHEDULE),
            "ema_decay": EMA_DECAY, "ema_start": EMA_START, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py",
            "n_per_class": N_PER_CLASS, "eval_seed": EVAL_SEED, "judge": "gancourse.metrics.judges.glyph_classifier()"}
    # Measure the model as it ships: float16 weights, reloaded through load_shipped.
    accuracy, per_class, _ = class_accuracy(as_shipped(G, ConditionalDCGANGenerator, G_KWARGS), judge, N_PER_CLASS,
                                            EVAL_SEED)
    per_class = per_class.tolist()
    info.update(accuracy=round(accuracy, 4), worst_class=int(min(range(len(per_class)), key=per_class.__getitem__)),
                worst_class_accuracy=round(min(per_class), 4), per_class_accuracy=[round(a, 4) for a in per_class])
    weights = save_shipped(NAME, G, ConditionalDCGANGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"class accuracy of the shipped (float16) model: {accuracy:.1%} overall, worst class "
          f"{info['worst_class']} at {min(per_class):.0%}; per class {[f'{a:.0%}' for a in per_class]}")
    print(f"training {cpu_seconds:.0f} s CPU; wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB)")
    return info


if __name__ == "__main__":
    main()
