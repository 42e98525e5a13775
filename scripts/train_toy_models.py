"""Rebuild the toy generators shipped in gancourse/pretrained/ (Chapter 4's table).

For each method of ``gancourse.pretrained.RECIPES`` it trains one GAN on the ring of 8 and one on
the grid of 25 Gaussians (``gancourse.data.toy`` defaults), both at once as one grouped model
(``gancourse.pretrained.grouped``), then writes each generator's weights as safetensors and the
index ``toy_models.json``: architecture, recipe, seed, steps, the file's SHA-256 and the mode
coverage measured on 2,500 samples. It also times grouping against training the same two runs one
after the other (a short run) and records the ratio.

    python scripts/train_toy_models.py              # everything (WGAN-GP: about 16 min per data set on one core)
    python scripts/train_toy_models.py --methods wgan-gp --out /tmp/toy   # one method, elsewhere
    python scripts/train_toy_models.py --methods wgan-gp --datasets ring &   # one group per data set, in
    python scripts/train_toy_models.py --methods wgan-gp --datasets grid     # two processes (two cores)

A group's runs draw their training batches from one random stream, so a run trained in a group of
one differs from the same run trained beside another: each entry records the group it was trained
in (``extra.group``) and the command that rebuilds it (``extra.rebuild``). The index is updated
under a file lock, so processes training different groups can share it.

Deterministic on one machine: seeds fix every draw (torch.set_num_threads(1) fixes the order of
the float sums as well).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package

from gancourse.pretrained import (  # noqa: E402
    DATASETS,
    INDEX,
    METHODS,
    evaluate_toy_generator,
    generator_from_file,
    toy_dataset,
)
from gancourse.pretrained.grouped import train_grouped  # noqa: E402
from gancourse.pretrained.recipes import RECIPES  # noqa: E402

EVAL_SEED = 0
N_EVAL = 2_500  # PacGAN's evaluation size
SPEED_STEPS = 200


def rebuild_command(method: str, group: list[str], seed: int) -> str:
    """Return the command line that trains ``method`` on ``group`` exactly as this run did."""
    command = f"python scripts/train_toy_models.py --methods {method}"
    if list(group) != list(DATASETS):
        command += " --datasets " + " ".join(group)
    return command + (f" --seed {seed}" if seed != 0 else "")


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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "gancourse" / "pretrained")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS),
                        help="the data sets trained together as one group (default: both)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-speed", action="store_true", help="skip timing grouping against one run at a time")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    index_path = args.out / INDEX
    group = [name for name in DATASETS if name in args.datasets]
    entries = {}
    start = time.perf_counter()
    timings = {}
    for method in args.methods:
        recipe = RECIPES[method]
        run = train_grouped(recipe, [toy_dataset(name) for name in group], [args.seed] * len(group))
        timings[method] = round(run.seconds, 1)
        for name, G in zip(group, run.generators()):
            file = f"toy_{name}_{method}.safetensors"
            # float16 halves the files; the numbers recorded are measured on the stored weights, reloaded.
            state = {k: (v.half() if v.is_floating_point() else v).detach().contiguous()
                     for k, v in G.state_dict().items()}
            save_file(state, str(args.out / file), metadata={"format": "gancourse.toy_generator",
                                                              "dataset": name, "method": method})
            (args.out / file).chmod(0o644)  # safetensors writes 0600; an installed package must be readable
            architecture = {"class": "MLPGenerator", "z_dim": G.z_dim, "out_shape": list(G.out_shape),
                            "hidden": list(recipe.g_hidden), "tanh": False, "batch_norm": recipe.g_batch_norm}
            stored = generator_from_file(args.out / file, architecture)
            coverage = evaluate_toy_generator(stored, name, n=N_EVAL, seed=EVAL_SEED)
            full = evaluate_toy_generator(G, name, n=N_EVAL, seed=EVAL_SEED)
            entries[name, method] = {
                "dataset": name,
                "method": method,
                "file": file,
                "sha256": hashlib.sha256((args.out / file).read_bytes()).hexdigest(),
                "architecture": architecture,
                "config": recipe.to_dict(),
                "seed": args.seed,
                "steps": recipe.steps,
                "modes_covered": coverage.modes_covered,
                "high_quality_fraction": coverage.high_quality_fraction,
                "n_eval": N_EVAL,
                "eval_seed": EVAL_SEED,
                "extra": {"train_seconds_group": timings[method], "group": group, "stored_dtype": "float16",
                          "float32_modes_covered": full.modes_covered,
                          "float32_high_quality_fraction": full.high_quality_fraction,
                          "rebuild": rebuild_command(method, group, args.seed)},
            }
            print(f"{name:>4} {method:>8}: {coverage.modes_covered:2d} modes, "
                  f"{coverage.high_quality_fraction:6.1%} high quality ({run.seconds:.0f} s for the group)",
                  flush=True)
    speed = None if args.no_speed else grouping_speedup("wgan-gp")
    total = time.perf_counter() - start
    if speed is not None:
        print(f"grouping, {SPEED_STEPS} WGAN-GP steps: ring then grid {speed['one_after_the_other_s']:.2f} s, "
              f"grouped {speed['grouped_s']:.2f} s: {speed['speedup']:.2f}x")
    print(f"total {total:.0f} s")
    lock = os.open(args.out, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # on the folder: another process may be writing its own group's entries
        old = json.loads(index_path.read_text()) if index_path.exists() else {"models": [], "built_with": {}}
        merged = {(e["dataset"], e["method"]): e for e in old["models"]}  # entries not retrained stay
        merged.update(entries)
        built = old.get("built_with", {})
        seconds = {**built.get("train_seconds", {}), **{f"{m} ({'+'.join(group)})": t for m, t in timings.items()}}
        index = {
            "format": "gancourse toy models, version 1",
            "rebuild": "python scripts/train_toy_models.py",
            "built_with": {"torch": torch.__version__, "python": platform.python_version(),
                           "threads": args.threads, "train_seconds": seconds,
                           "grouping": speed if speed is not None else built.get("grouping")},
            "models": [merged[key] for key in [(d, m) for d in DATASETS for m in METHODS] if key in merged],
        }
        index_path.write_text(json.dumps(index, indent=1) + "\n")
        index_path.chmod(0o644)
    finally:
        os.close(lock)  # releases the lock
    size = sum((args.out / e["file"]).stat().st_size for e in index["models"])
    print(f"wrote {len(entries)} models; the index lists {len(index['models'])} ({size / 1024:.0f} KiB): {index_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
