"""Train the unconditional DCGAN that ships as ``gancourse/pretrained/dcgan_glyphs.*``, and measure it.

Chapter 7 steers its z; the evaluation chapter scores its samples. The recipe (deterministic from
the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, the quick profile's training set;
- networks: ``DCGANGenerator(z_dim=64, width=32)`` and ``DCGANDiscriminator(width=32)`` (batch norm);
- non-saturating loss, batches of 64, Adam with beta = (0.5, 0.999); the learning rate follows
  SCHEDULE: 1e-3 for the first steps (fast: the digits' shapes), then a fifth of it, with an
  exponential moving average of G's weights (decay 0.999) from that point on as the model we keep
  (steadier than the last raw G).

The shipped file was trained by this script's earlier form, in two separate runs (phases) with a
fresh Adam and a fresh random seed for the second: its card records that recipe. Run now, the
script trains the same schedule as ONE run, so it rebuilds a model of the same recipe, not the
same bytes.

What it measures, on the model reloaded from its float16 file (``tests/test_dcgan_shipped.py``
measures it again), with the shipped glyph digit classifier as the judge, on N_EVAL samples drawn
with EVAL_SEED:

The verdict is ``gancourse.metrics.judges.judge_verdict``:

- ``confidence``: the judge's mean top-class probability (recognisable digits score high; the same
  judge on real glyphs gives ``real_confidence``, the ceiling);
- ``share_confident``: the share of samples whose top-class probability exceeds CONFIDENT;
- ``class_shares``: the share of samples the judge assigns to each digit, and ``classes_covered``:
  how many digits get at least COVERED_SHARE of the samples (10: no digit dropped, no mode collapse).

    OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py --out-dir /tmp/dcgan   # anywhere else
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics.judges import CONFIDENT, COVERED_SHARE, glyph_classifier, judge_verdict
from gancourse.models import DCGANDiscriminator, DCGANGenerator, generate
from gancourse.pretrained import HERE, as_shipped, save_shipped
from gancourse.training import PiecewiseConstant, TrainConfig, train_gan

NAME = "dcgan_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "image_size": 28, "channels": 1, "width": 32}
D_KWARGS = {"image_size": 28, "channels": 1, "width": 32}
LR = 1e-3
SCHEDULE = PiecewiseConstant((1_500, 1.0), (3_500, 0.2))  # (generator steps, multiplier of LR)
EMA_DECAY, EMA_START = 0.999, 1_500
N_EVAL, EVAL_SEED = 1_000, 2024


def judge_samples(G: torch.nn.Module, judge: torch.nn.Module, n: int = N_EVAL, seed: int = EVAL_SEED) -> dict:
    """Return the judge's verdict on n samples of G drawn with ``seed``."""
    return judge_verdict(generate(G, n, seed=seed, batch_size=n), judge)


def train(seed: int = SEED) -> tuple[DCGANGenerator, float]:
    """Return (the EMA generator, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    torch.manual_seed(seed)
    G = DCGANGenerator(**G_KWARGS)
    D = DCGANDiscriminator(**D_KWARGS)
    start = time.process_time()
    config = TrainConfig(steps=SCHEDULE.total_steps, batch_size=64, lr_d=LR, lr_g=LR, seed=seed,
                         ema_decay=EMA_DECAY, ema_start=EMA_START)
    history = train_gan(G, D, data.images, config, lr_schedule=SCHEDULE, progress=False)
    late = history.to_frame().tail(200).mean()
    print(f"{config.steps} steps; last 200 steps D(x) {late.d_real:.3f}, D(G(z)) {late.d_fake:.3f}; "
          f"{time.process_time() - start:.0f} s CPU", flush=True)
    return history.ema_generator, time.process_time() - start


def ship(G: DCGANGenerator, cpu_seconds: float, out_dir: Path = HERE) -> dict:
    """Measure G as it ships (float16, reloaded), write its weights and card to ``out_dir``; return the card's info."""
    judge = glyph_classifier().model
    recipe = (f"unconditional DCGAN (batch norm in G and D), widths 32/32, z_dim 64, {N_TRAIN} glyphs, "
              "non-saturating loss, batch 64, Adam betas (0.5, 0.999), one run: "
              + ", then ".join(f"{s} steps at lr {LR * f:g}" for s, f in SCHEDULE.pieces)
              + f"; EMA of G (decay {EMA_DECAY}) from step {EMA_START}")
    real = GlyphDataset(N_EVAL, seed=EVAL_SEED).images  # glyphs the judge never saw (it trained on 10,000+)
    info = {"recipe": recipe, "seed": SEED, "steps": SCHEDULE.total_steps, "lr": LR, "schedule": repr(SCHEDULE),
            "ema_decay": EMA_DECAY, "ema_start": EMA_START, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py",
            "n_eval": N_EVAL, "eval_seed": EVAL_SEED, "confident": CONFIDENT, "covered_share": COVERED_SHARE,
            "judge": "gancourse.metrics.judges.glyph_classifier()",
            "real_confidence": round(judge_verdict(real, judge)["confidence"], 4)}
    # Measure the model as it ships: float16 weights, reloaded through load_shipped.
    verdict = judge_samples(as_shipped(G, DCGANGenerator, G_KWARGS), judge)
    info.update(confidence=round(verdict["confidence"], 4), share_confident=round(verdict["share_confident"], 4),
                class_shares=[round(s, 4) for s in verdict["class_shares"]], classes_covered=verdict["classes_covered"])
    weights = save_shipped(NAME, G, DCGANGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"shipped (float16) model: judge confidence {verdict['confidence']:.3f} (real glyphs "
          f"{info['real_confidence']:.3f}), {verdict['share_confident']:.1%} of samples above {CONFIDENT:.0%}, "
          f"{verdict['classes_covered']}/10 digits covered; shares {[f'{s:.0%}' for s in verdict['class_shares']]}")
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
