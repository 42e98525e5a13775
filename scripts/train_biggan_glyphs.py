"""Train the BigGAN-style glyph generator that ships as ``gancourse/pretrained/biggan_glyphs.*``, and measure it.

Chapter 9 shows its class-conditional samples, what its self-attention learned, and how it
truncates. The recipe (deterministic from the seed, on the CPU, one thread):

- data: 10,000 labelled glyphs, ``GlyphDataset(10_000, seed=0)``, as for ``cgan_glyphs``;
- networks: ``BigGANGenerator(width=32)`` (conditional batch norm, self-attention at 14 px,
  spectral norm) against ``ProjectionDiscriminator(width=32)`` with spectral norm (SAGAN and
  BigGAN's pairing);
- hinge loss, batches of 64, Adam with betas (0, 0.9), BigGAN's orthogonal regularisation of G
  with beta 1e-4 (``OrthogonalSteps``), and an EMA of G's weights (decay 0.999) from step
  EMA_START on as the model we keep;
- learning rates: 1e-3 for both. SAGAN's two time-scale rates (1e-4 for G, 4e-4 for D) are made for
  runs of days; in an 800-step probe (5,000 glyphs, no EMA) they left the class accuracy near
  chance (13 %), and a full run of this script with 4e-4 for both reached 75.7 % (worst digit 9 %)
  against 99.9 % with 1e-3.

It measures the shipped (float16, reloaded) model as ``scripts/train_cgan_glyphs.py`` measures
the conditional DCGAN: the glyph classifier's accuracy on N_PER_CLASS samples of each class drawn
with EVAL_SEED, and, as the style-based generator's card does, the share of samples the judge is
sure of. ``tests/test_biggan_shipped.py`` measures it again.

    OMP_NUM_THREADS=1 python scripts/train_biggan_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_biggan_glyphs.py --out-dir /tmp/biggan
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics.judges import CONFIDENT, class_accuracy, glyph_classifier, judge_verdict
from gancourse.models import BigGANGenerator, ProjectionDiscriminator
from gancourse.pretrained import HERE, as_shipped, save_shipped
from gancourse.training import OrthogonalSteps, TrainConfig, train_gan

NAME = "biggan_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "n_classes": 10, "channels": 1, "width": 32, "attention": True, "spectral_norm": True}
D_KWARGS = {"n_classes": 10, "image_size": 28, "channels": 1, "width": 32, "spectral_norm": True}
STEPS = 4_000
LR_G, LR_D = 1e-3, 1e-3
ORTHO_BETA = 1e-4
EMA_DECAY, EMA_START = 0.999, 2_000
N_PER_CLASS, EVAL_SEED = 100, 2024


def train(seed: int = SEED) -> tuple[BigGANGenerator, float]:
    """Return (the EMA generator, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    dataset = TensorDataset(data.images, data.labels)
    torch.manual_seed(seed)
    G = BigGANGenerator(**G_KWARGS)
    D = ProjectionDiscriminator(**D_KWARGS)
    start = time.process_time()
    config = TrainConfig(steps=STEPS, batch_size=64, lr_d=LR_D, lr_g=LR_G, betas=(0.0, 0.9), loss="hinge",
                         seed=seed, ema_decay=EMA_DECAY, ema_start=EMA_START)
    history = train_gan(G, D, dataset, config, variant=OrthogonalSteps(ORTHO_BETA), progress=False)
    late = history.to_frame().tail(200).mean()
    print(f"{STEPS} steps; last 200 steps D(x) {late.d_real:.3f}, D(G(z)) {late.d_fake:.3f}, orthogonal "
          f"penalty {late.ortho:.2f}; {time.process_time() - start:.0f} s CPU", flush=True)
    return history.ema_generator, time.process_time() - start


def ship(G: BigGANGenerator, cpu_seconds: float, out_dir: Path = HERE) -> dict:
    """Measure G as it ships (float16, reloaded), write its weights and card to ``out_dir``; return the card's info."""
    judge = glyph_classifier().model
    recipe = (f"BigGAN-style conditional generator (BigGANGenerator, width {G_KWARGS['width']}: conditional batch "
              "norm, self-attention at 14 px, spectral norm) against a spectrally normalised projection "
              f"discriminator (width 32), {N_TRAIN} glyphs, hinge loss, batch 64, Adam betas (0, 0.9), lr "
              f"{LR_G:g} (G) / {LR_D:g} (D), orthogonal regularisation of G (beta {ORTHO_BETA:g}), {STEPS} steps; "
              f"EMA of G (decay {EMA_DECAY}) from step {EMA_START}")
    shipped = as_shipped(G, BigGANGenerator, G_KWARGS)
    accuracy, per_class, images = class_accuracy(shipped, judge, N_PER_CLASS, EVAL_SEED)
    verdict = judge_verdict(images, judge)
    per_class = per_class.tolist()
    info = {"recipe": recipe, "seed": SEED, "steps": STEPS, "lr_g": LR_G, "lr_d": LR_D, "ortho_beta": ORTHO_BETA,
            "ema_decay": EMA_DECAY, "ema_start": EMA_START, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_biggan_glyphs.py",
            "n_per_class": N_PER_CLASS, "eval_seed": EVAL_SEED, "confident": CONFIDENT,
            "judge": "gancourse.metrics.judges.glyph_classifier()",
            "accuracy": round(accuracy, 4), "per_class_accuracy": [round(a, 4) for a in per_class],
            "share_confident": round(verdict["share_confident"], 4),
            "attention_gamma": round(float(shipped.attention.gamma), 4)}
    weights = save_shipped(NAME, G, BigGANGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"shipped (float16) model: class accuracy {accuracy:.1%} (worst class {min(per_class):.0%}), "
          f"{verdict['share_confident']:.1%} of samples above {CONFIDENT:.0%}; attention gamma "
          f"{info['attention_gamma']}")
    print(f"training {cpu_seconds:.0f} s CPU; wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB)")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the card")
    args = parser.parse_args()
    torch.set_num_threads(1)  # reproducible timings, and deterministic CPU kernels on one thread

    wall = time.perf_counter()
    G, cpu_seconds = train(SEED)
    ship(G, cpu_seconds, args.out_dir)
    print(f"{time.perf_counter() - wall:.0f} s wall in all")


if __name__ == "__main__":
    main()
