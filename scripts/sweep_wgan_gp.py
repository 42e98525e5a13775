"""Rebuild gancourse/pretrained/wgan_gp_sweep.json: WGAN-GP's penalty weight against its learning rates.

An earlier version of Chapter 4 tuned WGAN-GP alone (lambda = 1 and learning rates 20 times those
of its first version); this script measures what that tuning bought. Each variant is that earlier
recipe (``SWEEP_BASE``: batches of 256, 1,024 noise samples per G step; not the fair protocol's
``RECIPES["wgan-gp"]``) with another lambda and other learning rates, trained for a short 6,000 generator
steps on the ring and the grid at once (one grouped model, seed 0), with the same schedule (the rates
fall to 0 over the last 70 %) and the EMA generator scored on 2,500 samples, as for the shipped models.

    python scripts/sweep_wgan_gp.py                # every variant, two worker processes (about 35 min)
    python scripts/sweep_wgan_gp.py --jobs 1 --out /tmp/sweep.json

Deterministic on one machine (one thread per worker, seeded draws).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package

from gancourse.data.toy import toy_dataset  # noqa: E402
from gancourse.metrics import evaluate_toy_generator  # noqa: E402
from gancourse.pretrained.toy import DATASETS, SWEEP  # noqa: E402
from gancourse.training.grouped import ToyRecipe, train_grouped  # noqa: E402

STEPS = 6_000
# The recipe the sweep varies: Chapter 4's earlier, separately tuned WGAN-GP (its lambda and rates
# are replaced by each variant's, its steps by STEPS).
SWEEP_BASE = ToyRecipe(loss="wasserstein", lr_d=4e-3, lr_g=2e-3, betas=(0.0, 0.9), n_critic=5, gp_weight=1.0,
                       steps=20_000, batch_size=256, g_batch_size=1_024, decay_from=0.3, ema_decay=0.999, z_dim=2,
                       g_hidden=(96, 96, 96), d_hidden=(128, 128, 128), g_batch_norm=True)
N_EVAL, EVAL_SEED = 2_500, 0
# (lambda, the critic's learning rate, G's): the first recipe (the paper's lambda, a critic ten times faster
# than G) and each change that led to the shipped one, then rates and lambdas beyond it.
VARIANTS = [(10.0, 1e-3, 1e-4), (1.0, 1e-3, 1e-4), (10.0, 2e-3, 1e-3), (1.0, 2e-3, 1e-3), (10.0, 4e-3, 2e-3),
            (1.0, 4e-3, 2e-3), (0.1, 4e-3, 2e-3), (1.0, 8e-3, 4e-3)]


def run_variant(variant: tuple[float, float, float]) -> dict:
    """Train one variant on both data sets and return its entry: the settings and what each model measured."""
    torch.set_num_threads(1)
    gp_weight, lr_d, lr_g = variant
    recipe = replace(SWEEP_BASE, gp_weight=gp_weight, lr_d=lr_d, lr_g=lr_g, steps=STEPS)
    run = train_grouped(recipe, [toy_dataset(name) for name in DATASETS], [0] * len(DATASETS))
    entry = {"gp_weight": gp_weight, "lr_d": lr_d, "lr_g": lr_g, "steps": STEPS, "seconds": round(run.seconds, 1)}
    for name, G in zip(DATASETS, run.generators()):
        coverage = evaluate_toy_generator(G, name, n=N_EVAL, seed=EVAL_SEED)
        entry[name] = {"modes_covered": coverage.modes_covered, "high_quality_fraction": coverage.high_quality_fraction}
    print(f"lambda {gp_weight:>4}, lr_d {lr_d:.0e}, lr_g {lr_g:.0e}: " + ", ".join(
        f"{n} {entry[n]['modes_covered']} modes {entry[n]['high_quality_fraction']:.1%}" for n in DATASETS)
        + f" ({run.seconds:.0f} s)", flush=True)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "gancourse" / "pretrained" / SWEEP)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    start = time.perf_counter()
    with Pool(args.jobs) as pool:
        entries = pool.map(run_variant, VARIANTS, chunksize=1)
    base = {k: list(v) if isinstance(v, tuple) else v for k, v in SWEEP_BASE.to_dict().items()
            if k not in ("gp_weight", "lr_g", "lr_d", "steps")}
    result = {"format": "gancourse WGAN-GP sweep, version 1", "rebuild": "python scripts/sweep_wgan_gp.py",
              "seed": 0, "n_eval": N_EVAL, "eval_seed": EVAL_SEED, "recipe_otherwise": base,
              "built_with": {"torch": torch.__version__, "python": platform.python_version(), "threads": 1},
              "variants": entries}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.chmod(0o644)
    print(f"wrote {len(entries)} variants to {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
