"""Train the conditional DCGAN that Chapter 5 ships, ``gancourse/pretrained/cgan_glyphs.*``, and measure it.

The recipe (deterministic from the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, the quick profile's training set;
- networks: ``ConditionalDCGANGenerator(z_dim=64, width=32)`` fed [z, one-hot(y)], and
  ``ConditionalDCGANDiscriminator(width=32)`` reading the label as 10 extra channels;
- non-saturating loss, batches of 64, Adam with beta = (0.5, 0.999), in two phases: PHASES[0] at a
  learning rate of 1e-3 (fast: the digits' shapes and the label's meaning), then PHASES[1] at
  2e-4 with an exponential moving average of G's weights (decay 0.999) as the model we keep. The
  raw generator's class accuracy jumps by several points between evaluations a few hundred steps
  apart; the average over the last ~1,000 steps is steadier and better.

What it measures, on the model reloaded from its float16 file, is what the notebook measures
again: the glyph classifier's accuracy on N_PER_CLASS samples of each class, drawn with EVAL_SEED.

    OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py --out-dir /tmp/cgan   # anywhere else
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from gancourse.data.glyphs import GlyphDataset
from gancourse.models import ConditionalDCGANDiscriminator, ConditionalDCGANGenerator, sample_noise
from gancourse.models.classifier import glyph_classifier
from gancourse.pretrained.shipped import HERE, load_shipped, save_shipped
from gancourse.training import TrainConfig, train_gan

NAME = "cgan_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "n_classes": 10, "image_size": 28, "channels": 1, "width": 32}
D_KWARGS = {"n_classes": 10, "image_size": 28, "channels": 1, "width": 32}
PHASES = ((1_500, 1e-3), (2_500, 2e-4))  # (generator steps, learning rate of both networks)
EMA_DECAY = 0.999
N_PER_CLASS, EVAL_SEED = 100, 2024  # the notebook's measurement: 1,000 samples, 100 per class
JUDGE_SEED = 0  # gancourse.models.classifier.glyph_classifier(0), the classifier that ships


def class_accuracy(G: torch.nn.Module, judge: torch.nn.Module, n_per_class: int = N_PER_CLASS,
                   seed: int = EVAL_SEED) -> tuple[float, list[float]]:
    """Return (overall, per-class) share of G's samples of each class that ``judge`` assigns to that class."""
    n_classes = G.n_classes
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    z = sample_noise(len(y), G.z_dim, generator=torch.Generator().manual_seed(seed))
    G.eval()
    with torch.no_grad():
        correct = (judge(G(z, y)).argmax(dim=1) == y).float()
    return correct.mean().item(), correct.view(n_classes, n_per_class).mean(dim=1).tolist()


def load_judge() -> torch.nn.Module:
    """Return the glyph digit classifier (seed 0) of gancourse.models.classifier, in eval mode."""
    return glyph_classifier(JUDGE_SEED, verbose=False).model.eval()


def train(seed: int = SEED) -> tuple[ConditionalDCGANGenerator, float]:
    """Return (the EMA generator after all phases, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    dataset = TensorDataset(data.images, data.labels)
    torch.manual_seed(seed)
    G = ConditionalDCGANGenerator(**G_KWARGS)
    D = ConditionalDCGANDiscriminator(**D_KWARGS)
    start = time.process_time()
    G_ema = None
    for i, (steps, lr) in enumerate(PHASES):
        last = i == len(PHASES) - 1
        config = TrainConfig(steps=steps, batch_size=64, lr_d=lr, lr_g=lr, seed=seed + i,
                             ema_decay=EMA_DECAY if last else None)
        history = train_gan(G, D, dataset, config, progress=False)
        late = history.to_frame().tail(200).mean()
        print(f"phase {i + 1}: {steps} steps at lr {lr:g}; last 200 steps D(x) {late.d_real:.3f}, "
              f"D(G(z)) {late.d_fake:.3f}; {time.process_time() - start:.0f} s CPU", flush=True)
        G_ema = history.ema_generator
    return G_ema, time.process_time() - start


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
    judge = load_judge()
    recipe = (f"conditional DCGAN (one-hot label joined to z in G, label channels in D), widths 32/32, z_dim 64, "
              f"{N_TRAIN} glyphs, non-saturating loss, batch 64, Adam betas (0.5, 0.999); "
              + ", then ".join(f"{s} steps at lr {lr:g}" for s, lr in PHASES)
              + f"; EMA of G (decay {EMA_DECAY}) over the last phase")
    info = {"recipe": recipe, "seed": SEED, "steps": sum(s for s, _ in PHASES), "phases": [list(p) for p in PHASES],
            "ema_decay": EMA_DECAY, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_cgan_glyphs.py",
            "n_per_class": N_PER_CLASS, "eval_seed": EVAL_SEED,
            "judge": f"gancourse.models.classifier.glyph_classifier({JUDGE_SEED})"}
    # Measure the model as it ships: float16 weights, reloaded through load_shipped.
    with tempfile.TemporaryDirectory() as tmp:
        save_shipped(NAME, G, ConditionalDCGANGenerator, G_KWARGS, info, out_dir=tmp)
        reloaded, _ = load_shipped(NAME, tmp)
    accuracy, per_class = class_accuracy(reloaded, judge)
    info.update(accuracy=round(accuracy, 4), worst_class=int(min(range(len(per_class)), key=per_class.__getitem__)),
                worst_class_accuracy=round(min(per_class), 4), per_class_accuracy=[round(a, 4) for a in per_class])
    weights = save_shipped(NAME, G, ConditionalDCGANGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"class accuracy of the shipped (float16) model: {accuracy:.1%} overall, worst class "
          f"{info['worst_class']} at {min(per_class):.0%}; per class {[f'{a:.0%}' for a in per_class]}")
    print(f"training {cpu_seconds:.0f} s CPU; wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB)")
    return info


if __name__ == "__main__":
    main()
