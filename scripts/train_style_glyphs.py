"""Train the style-based glyph generator that ships as ``gancourse/pretrained/style_glyphs.*``, and measure it.

Chapter 9 mixes its styles, resamples its noise and truncates it in W; it is the capstone's
strongest glyph baseline. The recipe (deterministic from the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, as for ``dcgan_glyphs``;
- networks: ``StyleGenerator(width=24)`` (mapping network of 4 layers, 7 modulated convolutions,
  noise at 28 px, mixing regularisation with probability 0.9) against the same batch-norm
  ``DCGANDiscriminator(width=32)`` as the shipped DCGAN;
- non-saturating loss, batches of 64, Adam with betas (0.5, 0.999), lr 1e-3 for the first 3,000
  steps, then a fifth of it for 5,000 more, with an EMA of G's weights (decay 0.999) from step
  3,000 on as the model we keep.

It measures the shipped (float16, reloaded) model as ``scripts/train_dcgan_glyphs.py`` measures the
DCGAN: the glyph judge's verdict on N_EVAL samples drawn with EVAL_SEED (the noise inputs drawn
after ``torch.manual_seed(NOISE_SEED)``), and the shipped DCGAN's verdict in the same run, so that
the two can be compared. ``tests/test_style_shipped.py`` measures it again.

    OMP_NUM_THREADS=1 python scripts/train_style_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_style_glyphs.py --out-dir /tmp/style
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.metrics.judges import CONFIDENT, COVERED_SHARE, glyph_classifier, judge_verdict
from gancourse.models import DCGANDiscriminator, StyleGenerator, generate
from gancourse.pretrained import HERE, as_shipped, load_shipped, save_shipped
from gancourse.training import PiecewiseConstant, TrainConfig, train_gan

NAME = "style_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "w_dim": 64, "width": 24, "mapping_layers": 4, "mixing_prob": 0.9}
D_KWARGS = {"image_size": 28, "channels": 1, "width": 32}
LR = 1e-3
SCHEDULE = PiecewiseConstant((3_000, 1.0), (5_000, 0.2))  # (generator steps, multiplier of LR)
EMA_DECAY, EMA_START = 0.999, 3_000
N_EVAL, EVAL_SEED, NOISE_SEED = 1_000, 2024, 1


def judge_samples(G: torch.nn.Module, judge: torch.nn.Module) -> dict:
    """Return the judge's verdict on N_EVAL samples of G (z from EVAL_SEED, noise after NOISE_SEED)."""
    torch.manual_seed(NOISE_SEED)  # the style generator's noise inputs come from the global generator
    return judge_verdict(generate(G, N_EVAL, seed=EVAL_SEED, batch_size=N_EVAL), judge)


def train(seed: int = SEED) -> tuple[StyleGenerator, float]:
    """Return (the EMA generator, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    torch.manual_seed(seed)
    G = StyleGenerator(**G_KWARGS)
    D = DCGANDiscriminator(**D_KWARGS)
    start = time.process_time()
    config = TrainConfig(steps=SCHEDULE.total_steps, batch_size=64, lr_d=LR, lr_g=LR, seed=seed,
                         ema_decay=EMA_DECAY, ema_start=EMA_START)
    history = train_gan(G, D, data.images, config, lr_schedule=SCHEDULE, progress=False)
    late = history.to_frame().tail(200).mean()
    print(f"{config.steps} steps; last 200 steps D(x) {late.d_real:.3f}, D(G(z)) {late.d_fake:.3f}; "
          f"{time.process_time() - start:.0f} s CPU", flush=True)
    return history.ema_generator, time.process_time() - start


def ship(G: StyleGenerator, cpu_seconds: float, out_dir: Path = HERE, trained_with: str | None = None) -> dict:
    """Measure G as it ships (float16, reloaded) beside the shipped DCGAN; write weights and card.

    ``trained_with`` records how the weights were made when it was not by ``main()`` itself.
    """
    judge = glyph_classifier().model
    recipe = (f"style-based generator (StyleGenerator, width {G_KWARGS['width']}, mapping 4 layers, mixing "
              f"{G_KWARGS['mixing_prob']}) against a batch-norm DCGAN discriminator (width 32), {N_TRAIN} glyphs, "
              "non-saturating loss, batch 64, Adam betas (0.5, 0.999), one run: "
              + ", then ".join(f"{s} steps at lr {LR * f:g}" for s, f in SCHEDULE.pieces)
              + f"; EMA of G (decay {EMA_DECAY}) from step {EMA_START}")
    shipped = as_shipped(G, StyleGenerator, G_KWARGS)
    verdict = judge_samples(shipped, judge)
    dcgan = judge_samples(load_shipped("dcgan_glyphs")[0], judge)
    info = {"recipe": recipe, "seed": SEED, "steps": SCHEDULE.total_steps, "lr": LR, "schedule": repr(SCHEDULE),
            "ema_decay": EMA_DECAY, "ema_start": EMA_START, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_style_glyphs.py",
            "n_eval": N_EVAL, "eval_seed": EVAL_SEED, "noise_seed": NOISE_SEED, "confident": CONFIDENT,
            "covered_share": COVERED_SHARE, "judge": "gancourse.metrics.judges.glyph_classifier()",
            "confidence": round(verdict["confidence"], 4), "share_confident": round(verdict["share_confident"], 4),
            "class_shares": [round(s, 4) for s in verdict["class_shares"]],
            "classes_covered": verdict["classes_covered"],
            "dcgan_glyphs_same_measure": {"confidence": round(dcgan["confidence"], 4),
                                          "share_confident": round(dcgan["share_confident"], 4)}}
    if trained_with:
        info["trained_with"] = trained_with
    weights = save_shipped(NAME, G, StyleGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"shipped (float16) model: judge confidence {verdict['confidence']:.3f}, "
          f"{verdict['share_confident']:.1%} of samples above {CONFIDENT:.0%} (dcgan_glyphs, same measure: "
          f"{dcgan['share_confident']:.1%}), {verdict['classes_covered']}/10 digits covered")
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
