"""Train the CycleGAN glyph translators (regular <-> bold) that ship for chapter 10, and their ablations.

Chapter 10 measures a CycleGAN that turns regular glyphs bold without paired examples, and the same
recipe without its cycle loss. Training one takes about two minutes on one CPU thread, too long for
the notebook's budget, so both ship (``cycle_glyphs_bold``, ``cycle_glyphs_bold_nocycle``), and
this script also trains the identity-loss and no-pool variants over three seeds and records every
measurement in the main card's ``info.ablation``. The recipe (deterministic from the seed, CPU, one
thread):

- data: domain A, 2,000 regular glyphs (``GlyphDataset(2_000, seed=1, fonts=FAMILIES_WITH_BOLD,
  styles="regular")``); domain B, 2,000 bold glyphs drawn independently (seed 2): unpaired;
- networks: ``CycleUNets(width=8)`` (two U-Nets of depth 2, instance norm) against two
  ``PatchDiscriminator(width=16, n_layers=1)`` (16 x 16 patches);
- least-squares GAN losses, lambda_cyc = 10, batch 16, Adam betas (0.5, 0.999), lr 1e-3,
  STEPS steps; the variants change one thing: lambda_cyc = 0 ("no cycle"), lambda_id = 0.5
  ("identity"), pool size 0 ("no pool"); the main recipe has no identity loss and a pool of 50.

Measured on N_EVAL held-out regular glyphs (seed 3), as the notebook measures: the share the
shipped attribute judge calls bold, the share the digit judge reads as the input's digit, and the
cycle L1, mean |x - G_BA(G_AB(x))|. ``tests/test_cycle_shipped.py`` measures the shipped pairs again.

``--pair serif`` trains the same recipe (seed 0, with the cycle loss) on a harder pair, regular
sans-serif glyphs (DejaVu Sans, Computer Modern Sans) to regular serif ones (DejaVu Serif, STIX,
Computer Modern Roman), judged by the attribute judge's ``serif``, and ships it as
``cycle_glyphs_serif``.

    OMP_NUM_THREADS=1 python scripts/train_cycle_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_cycle_glyphs.py --out-dir /tmp/cycle --seeds 1
    OMP_NUM_THREADS=1 python scripts/train_cycle_glyphs.py --pair serif   # the harder pair, sans -> serif
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.losses import cycle_consistency_loss
from gancourse.metrics.judges import (
    attribute_classifier,
    attribute_share,
    glyph_classifier,
    labels_kept,
)
from gancourse.models import CycleDiscriminators, CycleUNets, PatchDiscriminator
from gancourse.pretrained import HERE, as_shipped, save_shipped
from gancourse.training import CycleGANSteps, TrainConfig, pair_domains, train_gan

FAMILIES_WITH_BOLD = ("DejaVu Sans", "DejaVu Serif", "STIX", "Computer Modern Roman")
SANS, SERIF = ("DejaVu Sans", "Computer Modern Sans"), ("DejaVu Serif", "STIX", "Computer Modern Roman")
# pair -> (domain A's GlyphDataset arguments, domain B's, the attribute judged in A -> B, shipped name)
PAIRS = {"bold": ({"fonts": FAMILIES_WITH_BOLD, "styles": "regular"},
                  {"fonts": FAMILIES_WITH_BOLD, "styles": "bold"}, "bold", "cycle_glyphs_bold"),
         "serif": ({"fonts": SANS, "styles": "regular"}, {"fonts": SERIF, "styles": "regular"}, "serif",
                   "cycle_glyphs_serif")}
N_TRAIN, STEPS, LR, BATCH = 2_000, 1_500, 1e-3, 16
G_KWARGS = {"channels": 1, "width": 8, "depth": 2}
VARIANTS = {  # name -> CycleGANSteps arguments
    "cycle": {"lambda_cyc": 10.0, "lambda_id": 0.0, "pool_size": 50},
    "no cycle": {"lambda_cyc": 0.0, "lambda_id": 0.0, "pool_size": 50},
    "identity": {"lambda_cyc": 10.0, "lambda_id": 0.5, "pool_size": 50},
    "no pool": {"lambda_cyc": 10.0, "lambda_id": 0.0, "pool_size": 0},
}
SHIPPED = {"cycle": "cycle_glyphs_bold", "no cycle": "cycle_glyphs_bold_nocycle"}  # seed 0 of these ships
N_EVAL, EVAL_SEED = 1_000, 3


def domains(pair: str = "bold") -> torch.Tensor:
    """Return the unpaired training set: domain A's glyphs and domain B's, drawn apart, stacked on the channels."""
    a_args, b_args, _, _ = PAIRS[pair]
    return pair_domains(GlyphDataset(N_TRAIN, seed=1, **a_args).images, GlyphDataset(N_TRAIN, seed=2, **b_args).images)


def measure(G: CycleUNets, pair: str = "bold") -> dict[str, float]:
    """Return the judged share of B's attribute, digits kept and cycle L1 of G on N_EVAL held-out A glyphs."""
    a_args, _, attribute, _ = PAIRS[pair]
    test = GlyphDataset(N_EVAL, seed=EVAL_SEED, **a_args)
    with torch.no_grad():
        out = G.ab(test.images)
        back = G.ba(out)
    return {attribute: attribute_share(out, attribute_classifier().model, attribute),
            "kept": labels_kept(out, test.labels, glyph_classifier().model),
            "cycle_l1": cycle_consistency_loss(test.images, back).item()}


def train(variant: str, seed: int, data: torch.Tensor) -> tuple[CycleUNets, float]:
    """Return (the trained pair in eval mode, the training's CPU seconds)."""
    torch.manual_seed(seed)
    G = CycleUNets(**G_KWARGS)
    D = CycleDiscriminators(PatchDiscriminator(width=16, n_layers=1), PatchDiscriminator(width=16, n_layers=1))
    config = TrainConfig(steps=STEPS, batch_size=BATCH, lr_d=LR, lr_g=LR, loss="least_squares", seed=seed)
    start = time.process_time()
    train_gan(G, D, data, config, variant=CycleGANSteps(**VARIANTS[variant], seed=seed), progress=False)
    return G.eval(), time.process_time() - start


def ship_serif(out_dir: Path) -> None:
    """Train the main recipe on the harder pair, sans-serif -> serif glyphs (seed 0), and ship it."""
    G, seconds = train("cycle", 0, domains("serif"))
    G = as_shipped(G, CycleUNets, G_KWARGS)
    a_args, b_args, attribute, name = PAIRS["serif"]
    info = {"recipe": (f"CycleGAN sans-serif -> serif glyphs (regular styles): the recipe of cycle_glyphs_bold, "
                       f"{STEPS} steps, {N_TRAIN} + {N_TRAIN} unpaired glyphs"),
            "steps": STEPS, "lr": LR, "batch_size": BATCH, "n_train": N_TRAIN, "families_a": list(a_args["fonts"]),
            "families_b": list(b_args["fonts"]), "styles": "regular", "attribute": attribute, "n_eval": N_EVAL,
            "eval_seed": EVAL_SEED, "variant": "cycle", "steps_args": VARIANTS["cycle"], "seed": 0,
            "cpu_seconds": round(seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_cycle_glyphs.py --pair serif",
            **{k: round(v, 4) for k, v in measure(G, "serif").items()}}
    save_shipped(name, G, CycleUNets, G_KWARGS, info, out_dir=out_dir)
    print(f"wrote {name}: {info[attribute]:.3f} {attribute}, {info['kept']:.3f} kept, cycle L1 {info['cycle_l1']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the cards")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of each variant (seed 0 of two ships)")
    parser.add_argument("--pair", choices=sorted(PAIRS), default="bold",
                        help="bold: the main pair, its ablation and seeds; serif: the harder pair, seed 0 only")
    args = parser.parse_args()
    torch.set_num_threads(1)  # deterministic CPU kernels on one thread
    if args.pair == "serif":
        ship_serif(args.out_dir)
        return

    data = domains()
    rows, shipped = [], {}
    for seed in range(args.seeds):
        for variant in VARIANTS:
            G, seconds = train(variant, seed, data)
            if seed == 0 and variant in SHIPPED:
                G = as_shipped(G, CycleUNets, G_KWARGS)  # measure what a reader loads: float16 weights
                shipped[variant] = (G, seconds)
            row = {"variant": variant, "seed": seed, **{k: round(v, 4) for k, v in measure(G).items()},
                   "cpu_seconds": round(seconds)}
            rows.append(row)
            print(row, flush=True)
    recipe = (f"CycleGAN regular -> bold glyphs: CycleUNets(width {G_KWARGS['width']}) against two PatchGANs "
              f"(width 16, 16 px patches), least squares, batch {BATCH}, Adam (0.5, 0.999) lr {LR:g}, {STEPS} "
              f"steps, {N_TRAIN} + {N_TRAIN} unpaired glyphs")
    common = {"recipe": recipe, "steps": STEPS, "lr": LR, "batch_size": BATCH, "n_train": N_TRAIN,
              "families": list(FAMILIES_WITH_BOLD), "n_eval": N_EVAL, "eval_seed": EVAL_SEED,
              "rebuild": "OMP_NUM_THREADS=1 python scripts/train_cycle_glyphs.py"}
    for variant, name in SHIPPED.items():
        G, seconds = shipped[variant]
        info = {**common, "variant": variant, "steps_args": VARIANTS[variant], "seed": 0,
                "cpu_seconds": round(seconds), **{k: round(v, 4) for k, v in measure(G).items()}}
        if variant == "cycle":
            info["ablation"] = rows
        save_shipped(name, G, CycleUNets, G_KWARGS, info, out_dir=args.out_dir)
        print(f"wrote {name}: {info['bold']:.3f} bold, {info['kept']:.3f} kept, cycle L1 {info['cycle_l1']:.4f}")


if __name__ == "__main__":
    main()
