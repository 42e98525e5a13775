"""Train the WGAN-GP that ships as ``gancourse/pretrained/wgan_gp_glyphs.*``, and measure it on the way.

Chapter 4's page on images shows it (``notebooks/04_wgan_on_images.ipynb``). The recipe
(deterministic from the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, padded from 28 to 32 pixels with the
  background value -1 (``pad_to_32``), so that the critic has four convolutions (at 28 pixels
  ``critic()`` has three);
- networks: ``DCGANGenerator(z_dim=64, image_size=32, width=32)`` (batch norm in G) and
  ``critic(image_size=32, width=16, norm="layer")``: four convolutions, layer norm, no batch norm;
- the Wasserstein loss with the gradient penalty, lambda = 10, two critic steps per generator
  step, batches of 64, Adam with beta = (0, 0.9); the learning rate follows SCHEDULE (1e-3, then a
  fifth of it), with an exponential moving average of G's weights over the second phase as the
  model we keep.

Every EVERY generator steps it records the Frechet distance between N_EVAL samples of G (the
raw G, not the average) and N_EVAL real glyphs the judge never saw, in the features of the shipped
glyph classifier (``gancourse.metrics.GlyphFeatures``, on the samples' central 28 x 28 pixels),
and the critic's estimate of W1 averaged over those steps (``w_estimate`` in the History). The card
keeps both curves: the page plots them against each other.

    OMP_NUM_THREADS=1 python scripts/train_wgan_gp_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_wgan_gp_glyphs.py --out-dir /tmp/wgan   # anywhere else
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gancourse.data.glyphs import GlyphDataset, crop_glyphs, pad_glyphs
from gancourse.metrics import GlyphFeatures, frechet_distance_features
from gancourse.metrics.judges import glyph_classifier, judge_verdict
from gancourse.models import DCGANGenerator, critic, generate
from gancourse.pretrained import HERE, as_shipped, save_shipped
from gancourse.training import PiecewiseConstant, TrainConfig, train_gan

NAME = "wgan_gp_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "image_size": 32, "channels": 1, "width": 32}
CRITIC_KWARGS = {"image_size": 32, "channels": 1, "width": 16, "norm": "layer"}
LR = 1e-3
SCHEDULE = PiecewiseConstant((1_000, 1.0), (500, 0.2))  # (generator steps, multiplier of LR)
EMA_DECAY, EMA_START = 0.999, 1_000
N_CRITIC, GP_WEIGHT = 2, 10.0
N_EVAL, EVAL_SEED, EVERY = 1_000, 2024, 100


def pad_to_32(images: torch.Tensor) -> torch.Tensor:
    """Return 28 x 28 images padded to 32 x 32 with the background value -1."""
    return pad_glyphs(images, 2)


def crop_to_28(images: torch.Tensor) -> torch.Tensor:
    """Return the central 28 x 28 pixels of 32 x 32 images (what the glyph judge reads)."""
    return crop_glyphs(images, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the card")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wall = time.perf_counter()

    data = pad_to_32(GlyphDataset(N_TRAIN, seed=0).images)
    features = GlyphFeatures().eval()
    with torch.no_grad():
        f_real = features(GlyphDataset(N_EVAL, seed=EVAL_SEED).images)
    fd_curve: dict[int, float] = {}

    def measure(step: int, G: torch.nn.Module, D: torch.nn.Module) -> None:
        with torch.no_grad():
            f_fake = features(crop_to_28(generate(G, N_EVAL, seed=EVAL_SEED, batch_size=N_EVAL)))
        fd_curve[step] = round(frechet_distance_features(f_real, f_fake), 3)
        print(f"step {step}: FD {fd_curve[step]:.1f} ({time.perf_counter() - wall:.0f} s)", flush=True)

    torch.manual_seed(SEED)
    G = DCGANGenerator(**G_KWARGS)
    D = critic(**CRITIC_KWARGS)
    config = TrainConfig(steps=SCHEDULE.total_steps, batch_size=64, loss="wasserstein", n_critic=N_CRITIC,
                         gp_weight=GP_WEIGHT, lr_d=LR, lr_g=LR, betas=(0.0, 0.9), seed=SEED,
                         ema_decay=EMA_DECAY, ema_start=EMA_START, channels_last=True)
    start = time.process_time()
    history = train_gan(G, D, data, config, lr_schedule=SCHEDULE, callback=measure, every=EVERY,
                        progress=False)
    cpu_seconds = time.process_time() - start
    frame = history.to_frame()
    # The critic's estimate of W1 (mean critic score on real minus on fake), averaged over each
    # stretch of EVERY steps that ends at a measured step.
    w_curve = {step: round(float(frame["w_estimate"].loc[max(1, step - EVERY + 1):step].mean()), 4)
               for step in fd_curve if step > 0}

    G_ema = history.ema_generator
    shipped = as_shipped(G_ema, DCGANGenerator, G_KWARGS)
    samples = crop_to_28(generate(shipped, N_EVAL, seed=EVAL_SEED, batch_size=N_EVAL))
    with torch.no_grad():
        fd = frechet_distance_features(f_real, features(samples))
    verdict = judge_verdict(samples, glyph_classifier().model)
    recipe = (f"WGAN-GP: DCGAN generator (batch norm) width 32, z_dim 64, 32 x 32 (glyphs padded with -1); "
              f"critic() width 16, layer norm, four convolutions; {N_TRAIN} glyphs; lambda {GP_WEIGHT:g}, "
              f"n_critic {N_CRITIC}, batch 64, Adam betas (0, 0.9); "
              + ", then ".join(f"{s} steps at lr {LR * f:g}" for s, f in SCHEDULE.pieces)
              + f"; EMA of G (decay {EMA_DECAY}) from step {EMA_START}")
    info = {"recipe": recipe, "seed": SEED, "steps": SCHEDULE.total_steps, "n_critic": N_CRITIC,
            "gp_weight": GP_WEIGHT, "critic": CRITIC_KWARGS, "lr": LR, "schedule": repr(SCHEDULE),
            "ema_decay": EMA_DECAY, "ema_start": EMA_START, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_wgan_gp_glyphs.py",
            "n_eval": N_EVAL, "eval_seed": EVAL_SEED,
            "features": "gancourse.metrics.GlyphFeatures() on the central 28 x 28 pixels",
            "fd": round(fd, 3), "confidence": round(verdict["confidence"], 4),
            "share_confident": round(verdict["share_confident"], 4),
            "classes_covered": verdict["classes_covered"],
            "fd_curve": {str(k): v for k, v in fd_curve.items()},
            "w_estimate_curve": {str(k): v for k, v in w_curve.items()}}
    weights = save_shipped(NAME, G_ema, DCGANGenerator, G_KWARGS, info, out_dir=args.out_dir)
    print(f"shipped (float16) EMA generator: FD {fd:.1f}, judge confidence {verdict['confidence']:.3f}, "
          f"{verdict['classes_covered']}/10 digits covered; {cpu_seconds:.0f} s CPU, "
          f"{time.perf_counter() - wall:.0f} s wall; wrote {weights}")


if __name__ == "__main__":
    main()
