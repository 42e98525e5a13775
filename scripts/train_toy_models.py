"""Rebuild the toy generators shipped in gancourse/pretrained/ (Chapter 4's fair comparison).

For each method of ``gancourse.training.grouped.RECIPES`` (the fair protocol: the same steps,
batches, schedule and EMA for every method, each with its paper's defaults, no tuning) it trains
one GAN per (data set, seed): the ring of 8 and the grid of 25 Gaussians (``gancourse.data.toy``
defaults), seeds 0, 1 and 2, all six at once as one grouped model (``gancourse.training.grouped``),
then ships each generator as ``toy_<dataset>_<method>_s<seed>``: float16 safetensors weights and a
card (``gancourse.pretrained.save_shipped``) with the recipe, seed, steps and the mode coverage
measured on 2,500 samples of the reloaded file. The methods train cheapest first, and each
method's cards are written as soon as its group is trained.

    python scripts/train_toy_models.py --no-speed   # everything (about 45 min on one busy core)
    python scripts/train_toy_models.py --methods wgan-gp --out /tmp/toy   # one method, elsewhere
    python scripts/train_toy_models.py --methods wgan --datasets ring --seeds 1   # one run

A group's runs draw their training batches from one random stream, so a run trained in a group of
one differs from the same run trained beside others: each card records the group it was trained
in (``extra.group``, (data set, seed) pairs) and the command that rebuilds it (``rebuild``). Each model has its own card,
so processes training different groups never write the same file.

Deterministic on one machine: seeds fix every draw (torch.set_num_threads(1) fixes the order of
the float sums as well).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package

from gancourse.data.toy import toy_dataset  # noqa: E402
from gancourse.metrics import evaluate_toy_generator  # noqa: E402
from gancourse.models import MLPGenerator  # noqa: E402
from gancourse.pretrained import DATASETS, METHODS, as_shipped, save_shipped, toy_model_name  # noqa: E402
from gancourse.pretrained.toy import SEEDS  # noqa: E402
from gancourse.training.grouped import RECIPES, train_grouped  # noqa: E402

EVAL_SEED = 0
N_EVAL = 2_500  # PacGAN's evaluation size
SPEED_STEPS = 200


def rebuild_command(method: str, datasets: list[str], seeds: list[int]) -> str:
    """Return the command line that trains ``method`` on ``datasets`` x ``seeds`` as this run did."""
    command = f"python scripts/train_toy_models.py --no-speed --methods {method}"
    if list(datasets) != list(DATASETS):
        command += " --datasets " + " ".join(datasets)
    if list(seeds) != list(SEEDS):
        command += " --seeds " + " ".join(map(str, seeds))
    return command


def grouping_speedup(method: str) -> dict[str, float]:
    """Return the seconds of SPEED_STEPS steps of ``method``: ring then grid alone, and both grouped."""
    recipe, toys = RECIPES[method], [toy_dataset(name) for name in DATASETS]
    alone = sum(train_grouped(recipe, [toy], [0], steps=SPEED_STEPS).seconds for toy in toys)
    together = train_grouped(recipe, toys, [0, 0], steps=SPEED_STEPS).seconds
    return {"steps": SPEED_STEPS, "one_after_the_other_s": round(alone, 3), "grouped_s": round(together, 3),
            "speedup": round(alone / together, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, choices=SEEDS, default=list(SEEDS))
    parser.add_argument("--out", type=Path, default=REPO / "gancourse" / "pretrained")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS),
                        help="the data sets trained together as one group (default: both)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-speed", action="store_true",
                        help="skip timing grouping against one run at a time")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    datasets = [name for name in DATASETS if name in args.datasets]
    seeds = [seed for seed in SEEDS if seed in args.seeds]
    members = [(name, seed) for name in datasets for seed in seeds]
    start = time.perf_counter()
    speed = None if args.no_speed else grouping_speedup("wgan-gp")
    if speed is not None:
        print(f"grouping, {SPEED_STEPS} WGAN-GP steps: ring then grid "
              f"{speed['one_after_the_other_s']:.2f} s, grouped {speed['grouped_s']:.2f} s: "
              f"{speed['speedup']:.2f}x")
    built_with = {"torch": torch.__version__, "python": platform.python_version(),
                  "threads": args.threads}
    if speed is not None:
        built_with["grouping_speedup_wgan_gp"] = speed
    # Cheapest first (one critic step per G step before five), so a cut-short run ships the most.
    order = sorted(args.methods, key=lambda m: (RECIPES[m].n_critic, METHODS.index(m)))
    for method in order:
        recipe = RECIPES[method]
        toys = [toy_dataset(name) for name, _ in members]
        run = train_grouped(recipe, toys, [seed for _, seed in members])
        command = rebuild_command(method, datasets, seeds)
        for (name, seed), G in zip(members, run.generators()):
            kwargs = {"z_dim": G.z_dim, "out_shape": list(G.out_shape),
                      "hidden": list(recipe.g_hidden), "tanh": False,
                      "batch_norm": recipe.g_batch_norm}
            # float16 halves the files; the numbers recorded are measured on the stored
            # weights, reloaded.
            shipped = as_shipped(G, MLPGenerator, kwargs)
            coverage = evaluate_toy_generator(shipped, name, n=N_EVAL, seed=EVAL_SEED)
            full = evaluate_toy_generator(G, name, n=N_EVAL, seed=EVAL_SEED)
            extra = {"train_seconds_group": round(run.seconds, 1),
                     "group": [list(member) for member in members],
                     "stored_dtype": "float16", "float32_modes_covered": full.modes_covered,
                     "float32_high_quality_fraction": full.high_quality_fraction,
                     "rebuild": command}
            info = {"dataset": name, "method": method, "config": recipe.to_dict(), "seed": seed,
                    "steps": recipe.steps, "modes_covered": coverage.modes_covered,
                    "high_quality_fraction": coverage.high_quality_fraction, "n_eval": N_EVAL,
                    "eval_seed": EVAL_SEED, "extra": extra, "built_with": built_with,
                    "rebuild": command}
            weights = save_shipped(toy_model_name(name, method, seed), G, MLPGenerator, kwargs,
                                   info, out_dir=args.out)
            print(f"{name:>4} {method:>8} s{seed}: {coverage.modes_covered:2d} modes, "
                  f"{coverage.high_quality_fraction:6.1%} high quality "
                  f"({run.seconds:.0f} s for the group): {weights}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
