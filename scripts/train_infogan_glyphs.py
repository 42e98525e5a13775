"""Train the InfoGAN models that Chapter 6 ships, measure them against the glyphs' true factors, save them.

    OMP_NUM_THREADS=1 python scripts/train_infogan_glyphs.py            # all seeds, the baseline, then save
    OMP_NUM_THREADS=1 python scripts/train_infogan_glyphs.py --seeds 0  # one seed (quicker, for a look)
    OMP_NUM_THREADS=1 python scripts/train_infogan_glyphs.py --all-fonts  # the contrast: all fonts, shifted

Two models, the same DCGAN generator and InfoGAN discriminator (D and Q on one body), the same data
(glyphs of one font, centred: see FONTS), steps and learning rates; they differ only in the weight of
the mutual-information term:

- ``infogan_glyphs``: InfoGAN, lambda_cat = 1, lambda_cont = 0.1 (Chen et al., 2016). Whether the
  10-way code lands on the digit classes depends on the seed, so SEEDS are all trained and the one
  whose code matches the classes best is shipped; the card lists every seed and what it got.
- ``infogan_glyphs_baseline``: lambda = 0, a plain GAN with the same inputs. G still receives
  [noise, one_hot(c_cat), c_cont] and Q's head is still there, but no loss rewards G for making the
  codes readable, so they are just more noise dimensions.

Every number is measured on the RELOADED float16 models (what the notebook sees): the best
one-to-one matching accuracy between the categorical code given to G and the glyph classifier's
class of the generated image, and the Spearman correlation of every latent input with the rotation,
thickness and scale estimated from the generated images (the estimators are checked on real glyphs
whose factors are known; their correlations with the truth are recorded too).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import spearmanr

from gancourse.data.glyphs import GlyphDataset, GlyphFactorRanges
from gancourse.models import DCGANGenerator
from gancourse.models.classifier import glyph_classifier
from gancourse.models.infogan import InfoGANConfig, InfoGANDiscriminator, sample_latent, train_infogan
from gancourse.pretrained.shipped import load_shipped, save_shipped

NAME, BASELINE, ALL_FONTS = "infogan_glyphs", "infogan_glyphs_baseline", "infogan_glyphs_allfonts"
SEEDS = (1, 0)
N_CATEGORIES, N_CONTINUOUS = 10, 2
NOISE_DIM = 1            # almost no noise: the variation G needs must come from the codes
G_KWARGS = {"z_dim": NOISE_DIM + N_CATEGORIES + N_CONTINUOUS, "image_size": 28, "channels": 1, "width": 64}
DQ_WIDTH = 64
# (steps, lr_d, lr_g) per phase, each with fresh Adam statistics: one phase at the paper's learning rates.
PHASES = ((3_000, 2e-4, 1e-3),)
STEPS = sum(steps for steps, _, _ in PHASES)
N_IMAGES, DATA_SEED = 6_000, 0
# One font, centred: with all 17 fonts and +-1.5 px shifts, the 10-way code found font, weight and
# position clusters as readily as digits (matching 41-47 %); on glyphs whose only discrete factor
# is the digit, it finds the digits. Rotation, thickness, scale and wobble still vary.
FONTS, STYLES = ("DejaVu Sans",), ("regular",)
RANGES = GlyphFactorRanges(shift_x=(0.0, 0.0), shift_y=(0.0, 0.0))
DATA = f"GlyphDataset({N_IMAGES}, seed={DATA_SEED}, fonts={FONTS}, styles={STYLES}, ranges={RANGES})"


def infogan_data(n: int = N_IMAGES, seed: int = DATA_SEED) -> GlyphDataset:
    """Return the glyphs the shipped InfoGAN learns from: one font, centred."""
    return GlyphDataset(n, seed=seed, fonts=FONTS, styles=STYLES, ranges=RANGES)
EVAL_N, EVAL_SEED = 2_000, 123
FACTORS = ("rotation", "thickness", "scale")


# ---------------------------------------------------------------------------------------------
# Measuring a glyph's factors from its pixels (no labels needed).

def _ink(x: torch.Tensor) -> torch.Tensor:
    """Return the ink of images in [-1, 1], (N, 1, 28, 28) -> (N, 28, 28) in [0, 1]."""
    return ((x[:, 0] + 1) / 2).clamp(0, 1)


def estimate_rotation(x: torch.Tensor) -> torch.Tensor:
    """Return the slant in degrees (+ = counter-clockwise) from the ink's second moments, shape (N,).

    Regress the ink's x on its y (y pointing up): x = a y; a counter-clockwise turn moves the top left,
    so the angle is -atan(a).
    """
    ink = _ink(x)
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    cx, cy = (ink * cols).sum((1, 2)) / mass, (ink * -rows).sum((1, 2)) / mass
    dx, dy = cols - cx[:, None, None], -rows - cy[:, None, None]
    sxy, syy = (ink * dx * dy).sum((1, 2)) / mass, (ink * dy * dy).sum((1, 2)) / mass
    return -torch.rad2deg(torch.atan(sxy / syy.clamp_min(1e-6)))


def estimate_thickness(x: torch.Tensor) -> torch.Tensor:
    """Return the stroke width in pixels, 2 * ink area / outline length, shape (N,).

    A stroke of width w and length L has area w L and an outline of about 2 L; the outline's
    length is the ink's total variation (the sum of |differences| between neighbouring pixels).
    """
    ink = _ink(x)
    tv = (ink[:, 1:] - ink[:, :-1]).abs().sum((1, 2)) + (ink[:, :, 1:] - ink[:, :, :-1]).abs().sum((1, 2))
    return 2 * ink.sum((1, 2)) / tv.clamp_min(1e-6)


def estimate_scale(x: torch.Tensor) -> torch.Tensor:
    """Return the height in pixels of the ink's bounding box (pixels with ink > 0.5), shape (N,)."""
    rows = (_ink(x) > 0.5).any(dim=2)  # (N, 28): which rows hold ink
    index = torch.arange(28.0).expand_as(rows)
    top = torch.where(rows, index, torch.full_like(index, 28.0)).min(1).values
    bottom = torch.where(rows, index, torch.full_like(index, -1.0)).max(1).values
    return (bottom - top + 1).clamp_min(0)


ESTIMATORS = {"rotation": estimate_rotation, "thickness": estimate_thickness, "scale": estimate_scale}


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Return Spearman's rank correlation (0 where one side is constant)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def estimator_check(n: int = 3_000, seed: int = 5) -> dict[str, float]:
    """Return the Spearman correlation of each estimator with the true factor on n real glyphs."""
    ds = infogan_data(n, seed)
    return {f: spearman(ESTIMATORS[f](ds.images).numpy(), ds.factors[f].to_numpy()) for f in FACTORS}


# ---------------------------------------------------------------------------------------------
# Measuring a generator's codes.

def matching_accuracy(c_cat: np.ndarray, predicted: np.ndarray, k: int = N_CATEGORIES) -> tuple[float, np.ndarray]:
    """Return (best one-to-one matching accuracy, the assignment code -> class), by the Hungarian method."""
    confusion = np.zeros((k, 10), dtype=np.int64)
    np.add.at(confusion, (c_cat, predicted), 1)
    rows, cols = linear_sum_assignment(-confusion)
    assignment = np.empty(k, dtype=np.int64)
    assignment[rows] = cols
    return float(confusion[rows, cols].sum() / len(c_cat)), assignment


@torch.no_grad()
def measure(G: torch.nn.Module, classify, n: int = EVAL_N, seed: int = EVAL_SEED) -> dict:
    """Return what G's codes control: matching accuracy and Spearman rho of every input with each factor.

    ``classify(images) -> (N,)`` digit classes. rho is computed for every column of G's input:
    ``noise_k``, ``cat_k`` (the one-hot entries) and ``cont_k``; ``rho_cont`` holds the continuous codes'.
    """
    z, c_cat, c_cont = sample_latent(n, G.z_dim - N_CATEGORIES - N_CONTINUOUS, N_CATEGORIES, N_CONTINUOUS,
                                     generator=torch.Generator().manual_seed(seed))
    was_training = G.training
    G.eval()
    x = G(z)
    G.train(was_training)
    accuracy, assignment = matching_accuracy(c_cat.numpy(), np.asarray(classify(x)))
    factors = {f: ESTIMATORS[f](x).numpy() for f in FACTORS}
    noise_dim = G.z_dim - N_CATEGORIES - N_CONTINUOUS
    names = ([f"noise_{i}" for i in range(noise_dim)] + [f"cat_{i}" for i in range(N_CATEGORIES)]
             + [f"cont_{i}" for i in range(N_CONTINUOUS)])
    rho = {name: {f: spearman(z[:, j].numpy(), factors[f]) for f in FACTORS} for j, name in enumerate(names)}
    rho_cont = {f"cont_{i}": rho[f"cont_{i}"] for i in range(N_CONTINUOUS)}
    best_cont = max(abs(v) for r in rho_cont.values() for v in r.values())
    best_any = max(abs(v) for r in rho.values() for v in r.values())
    return {"matching_accuracy": accuracy, "assignment": assignment.tolist(), "rho_cont": rho_cont,
            "best_abs_rho_cont": best_cont, "best_abs_rho_any_input": best_any}


# ---------------------------------------------------------------------------------------------
# Training.

def train(seed: int, lam: float, data: torch.Tensor) -> tuple[DCGANGenerator, list[float], float]:
    """Return (G, the categorical MI lower bound every 50 steps, seconds) of one run."""
    torch.manual_seed(seed)
    G = DCGANGenerator(**G_KWARGS)
    DQ = InfoGANDiscriminator(N_CATEGORIES, N_CONTINUOUS, 28, 1, DQ_WIDTH)
    start, mi = time.perf_counter(), []
    for i, (steps, lr_d, lr_g) in enumerate(PHASES):  # each phase starts with fresh Adam statistics
        config = InfoGANConfig(steps=steps, lr_d=lr_d, lr_g=lr_g, seed=1_000 * seed + i, lambda_cat=lam,
                               lambda_cont=0.1 * lam)
        mi += train_infogan(G, DQ, data, config, progress=False).mi_cat
    seconds = time.perf_counter() - start
    mi = np.asarray(mi)
    curve = [float(mi[max(0, i - 50):i].mean()) for i in range(50, len(mi) + 1, 50)]  # mean of each 50 steps
    return G.eval(), curve, seconds


def all_fonts(seed: int, classify, save: bool) -> None:
    """Train the shipped recipe on ALL fonts, shifted (GlyphDataset's defaults); save it as ALL_FONTS."""
    G, curve, seconds = train(seed, 1.0, GlyphDataset(N_IMAGES, seed=DATA_SEED).images)
    result = measure(G, classify)
    print(f"all fonts, seed {seed}: {seconds:.0f} s, matching accuracy {result['matching_accuracy']:.3f}, best |rho| "
          f"{result['best_abs_rho_cont']:.3f}", flush=True)
    if not save:
        return
    info = {"data": f"GlyphDataset({N_IMAGES}, seed={DATA_SEED}) (all 17 fonts, shifts of +-1.5 px)", "steps": STEPS,
            "batch_size": 64, "noise_dim": NOISE_DIM, "n_categories": N_CATEGORIES, "n_continuous": N_CONTINUOUS,
            "dq_width": DQ_WIDTH, "phases_steps_lr_d_lr_g": [list(p) for p in PHASES],
            "eval": f"{EVAL_N} latents, seed {EVAL_SEED}",
            "recipe": f"InfoGAN, lambda_cat 1, lambda_cont 0.1: the recipe and seed of {NAME}, on all fonts, shifted",
            "seed": seed, "seconds": seconds, "mi_cat_every_50_steps": curve,
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_infogan_glyphs.py --all-fonts"}
    save_shipped(ALL_FONTS, G, DCGANGenerator, G_KWARGS, info)
    reloaded, _ = load_shipped(ALL_FONTS)
    info["measured"] = measure(reloaded, classify)
    save_shipped(ALL_FONTS, G, DCGANGenerator, G_KWARGS, info)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--all-fonts", action="store_true",
                        help=f"train the first seed on all fonts with shifts instead and save it as {ALL_FONTS}")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier = glyph_classifier(seed=0).model

    def classify(x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return classifier(x).argmax(1).numpy()

    if args.all_fonts:
        all_fonts(args.seeds[0], classify, save=not args.no_save)
        return

    total = time.perf_counter()
    estimators = estimator_check()
    print("estimators vs the true factors on 3,000 real glyphs (Spearman):", {k: round(v, 3) for k, v in estimators.items()})
    data = infogan_data().images
    runs = []
    for seed in args.seeds:
        G, curve, seconds = train(seed, 1.0, data)
        result = measure(G, classify)
        runs.append((seed, G, curve, seconds, result))
        print(f"InfoGAN seed {seed}: {seconds:.0f} s, matching accuracy {result['matching_accuracy']:.3f}, best |rho| "
              f"of a continuous code {result['best_abs_rho_cont']:.3f}, MI bound (last 50 steps) {curve[-1]:.3f}",
              flush=True)
    Gb, curve_b, seconds_b, = train(args.seeds[0], 0.0, data)
    result_b = measure(Gb, classify)
    print(f"baseline (lambda = 0) seed {args.seeds[0]}: {seconds_b:.0f} s, matching accuracy "
          f"{result_b['matching_accuracy']:.3f}, best |rho| continuous {result_b['best_abs_rho_cont']:.3f}, "
          f"any input {result_b['best_abs_rho_any_input']:.3f}", flush=True)
    if args.no_save:
        return
    seed, G, curve, seconds, _ = max(runs, key=lambda r: r[4]["matching_accuracy"])
    common = {"data": DATA, "steps": STEPS, "batch_size": 64,
              "noise_dim": NOISE_DIM, "n_categories": N_CATEGORIES, "n_continuous": N_CONTINUOUS,
              "dq_width": DQ_WIDTH, "phases_steps_lr_d_lr_g": [list(p) for p in PHASES], "eval": f"{EVAL_N} latents, seed {EVAL_SEED}",
              "estimators_vs_truth": estimators, "rebuild": "OMP_NUM_THREADS=1 python scripts/train_infogan_glyphs.py"}
    seeds_tried = [{"seed": s, "matching_accuracy": r["matching_accuracy"], "best_abs_rho_cont": r["best_abs_rho_cont"],
                    "seconds": t} for s, _, _, t, r in runs]
    for name, model, info in (
        (NAME, G, {**common, "recipe": "InfoGAN, lambda_cat 1, lambda_cont 0.1", "seed": seed, "seconds": seconds,
                   "seeds_tried": seeds_tried, "mi_cat_every_50_steps": curve}),
        (BASELINE, Gb, {**common, "recipe": "plain GAN: the same networks and inputs, lambda_cat = lambda_cont = 0",
                        "seed": args.seeds[0], "seconds": seconds_b, "mi_cat_every_50_steps": curve_b}),
    ):
        save_shipped(name, model, DCGANGenerator, G_KWARGS, info)
        reloaded, _ = load_shipped(name)
        measured = measure(reloaded, classify)  # the float16 model the notebook loads
        info["measured"] = measured
        save_shipped(name, model, DCGANGenerator, G_KWARGS, info)
        print(f"saved {name}: matching accuracy {measured['matching_accuracy']:.3f}, best |rho| continuous "
              f"{measured['best_abs_rho_cont']:.3f} (reloaded float16)")
    print(f"total {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
