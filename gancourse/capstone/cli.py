"""The grader's command line: ``python -m gancourse.capstone grade | pack | grade-all``.

- ``grade SUBMISSION [--profile quick|full] [--faces FOLDER]``: prints a table and the tier; exit 2 on an
  invalid submission. ``--profile full`` grades 1,000 RGB 64 x 64 anime faces against FOLDER (HW6's
  ``faces/``; default ``$GANCOURSE_FACES``, else ``data_dir()/faces``): Inception FID, FID∞, the
  anime-face detector's rate, the guard in Inception features; its tiers are provisional;
- ``pack SRC OUT.zip [--profile full]``: checks SRC (a folder, archive, tensor file) and writes the zip to submit;
- ``grade-all FOLDER --csv OUT.csv``: grades every submission in FOLDER (its entries: folders,
  archives, tensor files), one CSV row each; an invalid one gets its error in the row.
Nothing is ever overwritten: an existing OUT.zip or OUT.csv is an error (exit 2).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from gancourse.capstone.faces import FacesError
from gancourse.capstone.grade import PROFILES, grade
from gancourse.capstone.packing import pack
from gancourse.capstone.submission import ARCHIVES, TENSORS, SubmissionError

__all__ = ["main", "format_grade", "COLUMNS"]

COLUMNS = ("submission", "tier", "fd", "fd_lo", "fd_hi", "fid_infinity", "detector_rate", "class_entropy", "memorised",
           "copied_share", "mifid_distance", "nn_train_share", "nn_train_share_pixels", "error")


def _format_full(result: dict[str, object], boot: str) -> list[tuple[str, str]]:
    lo, hi = result["fd_ci"]
    sizes, inf = result["fid_infinity_sizes"] or [0], result["fid_infinity"]
    return [("FID (InceptionV3, 1,000 images)", f"{result['fd']:.2f}  95% CI [{lo:.2f}, {hi:.2f}] ({boot})"),
            (f"FID∞ (fit over N = {sizes[0]}..{sizes[-1]})", "n/a" if inf is None else f"{inf:.2f}"),
            ("anime-face detector rate", f"{result['detector_rate']:.3f}"),
            ("class entropy", "not defined for faces (diversity: FID's covariance, the NN test)"),
            ("near copies of training faces", f"{result['copied_share']:.1%}"),
            ("MiFID distance to training set", f"{result['mifid_distance']:.4f}"),
            ("NN in training half (Inception)", f"{result['nn_train_share']:.3f}"),
            ("memorised", "YES: " + "; ".join(result["guard_reasons"]) if result["memorised"] else "no"),
            ("tiers", str(result["tier_status"]))]


def format_grade(result: dict[str, object]) -> str:
    """Return a grade as a small text table, the tier last."""
    lo, hi = result["fd_ci"]
    boot = f"bootstrap B={result['bootstraps']}, seed {result['bootstrap_seed']}"
    if result.get("profile") == "full":
        rows = _format_full(result, boot)
        width = max(len(k) for k, _ in rows)
        return "\n".join([*(f"{k:<{width}}  {v}" for k, v in rows), f"{'tier':<{width}}  {result['tier'].upper()}"])
    rows = [("FD (glyph judge features)", f"{result['fd']:.2f}  95% CI [{lo:.2f}, {hi:.2f}] ({boot})"),
            ("detector rate (judge >= 0.9)", f"{result['detector_rate']:.3f}"),
            ("class entropy (nats, max 2.303)", f"{result['class_entropy']:.3f}"),
            ("copies of training images", f"{result['copied_share']:.1%}"),
            ("MiFID distance to training set", f"{result['mifid_distance']:.4f}"),
            ("NN in training half (features / pixels)",
             f"{result['nn_train_share']:.3f} / {result['nn_train_share_pixels']:.3f}"),
            ("memorised", "YES: " + "; ".join(result["guard_reasons"]) if result["memorised"] else "no")]
    width = max(len(k) for k, _ in rows)
    return "\n".join([*(f"{k:<{width}}  {v}" for k, v in rows), f"{'tier':<{width}}  {result['tier'].upper()}"])


def _row(path: Path, profile: str, faces: str | None = None) -> dict[str, object]:
    try:
        r = grade(path, profile=profile, **({"faces": faces} if profile == "full" else {}))
    except SubmissionError as err:
        return {"submission": path.name, "tier": "invalid", "error": str(err)}
    keep = {k: r[k] for k in COLUMNS if k in r}
    return {**keep, "submission": path.name, "fd_lo": r["fd_ci"][0], "fd_hi": r["fd_ci"][1], "error": ""}


def _grade_all(folder: Path, out: Path, profile: str, faces: str | None = None) -> int:
    if not folder.is_dir():
        print(f"error: {folder} is not a folder of submissions", file=sys.stderr)
        return 2
    entries = sorted(p for p in folder.iterdir() if p.is_dir() or p.name.lower().endswith(ARCHIVES + TENSORS))
    with open(out, "x", newline="") as f:  # "x": never replace an existing CSV
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for path in entries:
            row = _row(path, profile, faces)
            writer.writerow(row)
            f.flush()
            print(f"{path.name}: {row['tier']}" + (f" ({row['error']})" if row["error"] else ""))
    print(f"wrote {len(entries)} rows to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 fine, 2 an invalid submission or a refused output)."""
    parser = argparse.ArgumentParser(prog="python -m gancourse.capstone", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one submission: a folder, an archive or a tensor file")
    g.add_argument("submission")
    g.add_argument("--profile", choices=PROFILES, default="quick")
    g.add_argument("--faces", help="full profile: the anime-face folder (default $GANCOURSE_FACES)")
    p = sub.add_parser("pack", help="check a submission and write it as one zip")
    p.add_argument("source", help="a folder of 0.png ... 999.png, an archive or a tensor file")
    p.add_argument("out", help="the zip to write (a new file)")
    p.add_argument("--profile", choices=PROFILES, default="quick", help="full: 1,000 RGB 64x64 faces")
    a = sub.add_parser("grade-all", help="grade every submission in a folder into a CSV")
    a.add_argument("folder")
    a.add_argument("--csv", required=True, metavar="OUT.csv")
    a.add_argument("--profile", choices=PROFILES, default="quick")
    a.add_argument("--faces", help="full profile: the anime-face folder (default $GANCOURSE_FACES)")
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            print(f"wrote {pack(args.source, args.out, args.profile)}")
            return 0
        if args.command == "grade-all":
            out = Path(args.csv)
            if out.exists():
                print(f"error: {out} exists; grade-all never replaces a file: choose a new name", file=sys.stderr)
                return 2
            return _grade_all(Path(args.folder), out, args.profile, args.faces)
        extra = {"faces": args.faces} if args.profile == "full" else {}
        print(format_grade(grade(args.submission, profile=args.profile, **extra)))
        return 0
    except SubmissionError as err:
        print(f"error: invalid submission: {err}", file=sys.stderr)
        return 2
    except (RuntimeError, FileExistsError, FacesError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
