"""Train one tier's reference recipe for the capstone, sample 1,000 glyphs, grade them, write it all down.

The recipes live in ``gancourse.capstone.recipes`` (one place; their defaults are what the shipped
reference runs ran). Writes into ``--out``:

- ``submission.zip``: the 1,000 images packed as the capstone requires (``gancourse.capstone.pack``);
- ``scores.json``: the tier, seed, steps, the recipe and its TrainConfig, the grade (FD and its
  bootstrap interval, detector rate, class entropy, the guard's verdict, the tier reached), the
  training's wall seconds, the torch version.

    OMP_NUM_THREADS=1 python scripts/capstone_reference.py --tier boss --seed 0     # into capstone_runs/boss-0
    OMP_NUM_THREADS=1 python scripts/capstone_reference.py --tier simple --seed 1 --steps 20 --out /tmp/x

``--collect capstone_runs --into FILE`` gathers the ``scores.json`` of every folder under it into one small
file (what ships as ``gancourse/capstone/reference_runs.json``, read by ``capstone.tiers``); an existing
FILE is refused unless ``--update`` is given, which replaces the rows of the runs found and keeps the rest
(how one recipe's runs are redone without rerunning the others).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

import torch

from gancourse.capstone import grade, pack
from gancourse.capstone.recipes import RECIPE_NAMES, sample, train_recipe

N_IMAGES = 1_000
KEPT = ("fd", "fd_ci", "detector_rate", "class_entropy", "memorised", "copied_share")


def collect(runs: Path, into: Path, *, update: bool = False) -> list[dict]:
    """Write the scores of every ``runs/*/scores.json`` into ``into`` (a JSON file); return its runs.

    ``into`` must be new unless ``update``: then its rows are kept except those of the (tier, seed)
    pairs found under ``runs``, which the new runs replace.
    """
    found = sorted(runs.glob("*/scores.json"))
    if not found:
        raise SystemExit(f"--collect: no */scores.json under {runs}; pass the folder whose subfolders are --out's")
    if into.exists() and not update:
        raise SystemExit(f"--into {into} exists: pass --update to replace its rows of the runs found under "
                         f"{runs} (and keep the others), or choose a new file")
    if update and not into.is_file():
        raise SystemExit(f"--update: {into} is not a file to update; leave out --update to write a new one")
    rows = []
    for path in found:
        r = json.loads(path.read_text())
        rows.append({"tier": r["tier"], "seed": r["seed"], "steps": r["steps"], "train_seconds": r["train_seconds"],
                     **{k: r["grade"][k] for k in KEPT}, "torch": r["torch"], "command": r["command"]})
    if update:
        new = {(r["tier"], r["seed"]) for r in rows}
        rows += [r for r in json.loads(into.read_text())["runs"] if (r["tier"], r["seed"]) not in new]
    rows.sort(key=lambda r: (RECIPE_NAMES.index(r["tier"]), r["seed"]))
    into.write_text(json.dumps({"about": "capstone reference runs: scripts/capstone_reference.py, one thread "
                                         "on a shared 2-core CPU; scores from gancourse.capstone.grade (quick)",
                                "runs": rows}, indent=1) + "\n")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    if argv is None:
        argv = sys.argv[1:]
    if "--collect" in argv:
        collector = argparse.ArgumentParser(description="gather reference runs into one file")
        collector.add_argument("--collect", type=Path, required=True, help="the folder of the runs' --out folders")
        collector.add_argument("--into", type=Path, required=True, help="the JSON file to write")
        collector.add_argument("--update", action="store_true",
                               help="--into exists: replace its rows of the runs found, keep the others")
        opts = collector.parse_args(argv)
        print(f"{len(collect(opts.collect, opts.into, update=opts.update))} runs written to {opts.into}")
        return 0
    parser.add_argument("--tier", required=True, choices=RECIPE_NAMES, help="whose reference recipe to train")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (the reference runs: 0, 1, 2)")
    parser.add_argument("--steps", type=int, default=None, help="generator steps (default: the recipe's)")
    parser.add_argument("--out", type=Path, default=None,
                        help="a new or empty folder for the results (default: capstone_runs/TIER-SEED)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be at least 0, got {args.seed}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be a positive number of generator steps, got {args.steps}")
    args.out = args.out or Path("capstone_runs") / f"{args.tier}-{args.seed}"
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        parser.error(f"--out {args.out} exists and is not an empty folder; choose a new folder")
    torch.set_num_threads(1)  # one thread per process: reproducible, and fair on a shared machine
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    G, history, recipe, config = train_recipe(args.tier, args.seed, args.steps, progress=not args.no_progress)
    train_seconds = time.perf_counter() - started
    images = sample(G, N_IMAGES, args.seed)
    pack(images, args.out / "submission.zip")
    scores = grade(images)
    late = history.to_frame().tail(100).mean()
    record = {
        "tier": args.tier, "seed": args.seed, "steps": config.steps, "recipe": dataclasses.asdict(recipe),
        "config": dataclasses.asdict(config), "train_seconds": round(train_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1), "torch": torch.__version__,
        "python": platform.python_version(), "threads": torch.get_num_threads(),
        "late_d_real": float(late.d_real), "late_d_fake": float(late.d_fake),
        "command": f"python scripts/capstone_reference.py --tier {args.tier} --seed {args.seed}"
                   + (f" --steps {args.steps}" if args.steps is not None else ""),
        "grade": scores,
    }
    (args.out / "scores.json").write_text(json.dumps(record, indent=1, default=list) + "\n")
    print(f"{args.tier} seed {args.seed}, {config.steps} steps in {train_seconds:.0f} s: fd {scores['fd']:.2f} "
          f"[{scores['fd_ci'][0]:.2f}, {scores['fd_ci'][1]:.2f}], detector rate {scores['detector_rate']:.3f}, "
          f"class entropy {scores['class_entropy']:.3f}, memorised {scores['memorised']}, tier {scores['tier']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
