"""Command line, like pytorch-fid's: ``python -m gancourse.metrics fid PATH_A PATH_B [options]``.

A path is a folder of images or an .npz of saved statistics (ours or pytorch-fid's).
``--save-stats OUT.npz`` also writes PATH_A's statistics, to reuse them as the reference next time
(to a new file only: an existing one, the reference statistics above all, is never replaced).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gancourse.metrics.fid import feature_stats, get_extractor


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m gancourse.metrics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fid", help="the FID between two image folders or saved statistics")
    p.add_argument("path_a", help="folder of images or .npz statistics (the reference)")
    p.add_argument("path_b", help="folder of images or .npz statistics")
    p.add_argument("--extractor", choices=("inception", "glyphs"), default="inception",
                   help="inception: 2,048-d InceptionV3 pool3 (standard FID); glyphs: the course's glyph classifier")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--device", default=None, help="e.g. cpu or cuda:0 (default: the extractor's)")
    p.add_argument("--save-stats", metavar="OUT.npz", default=None, help="write PATH_A's statistics here")
    args = parser.parse_args(argv)

    if args.save_stats:
        out = Path(args.save_stats)
        if out.exists():
            kind = "an input of this command" if out.resolve() in {Path(x).resolve() for x in
                                                                   (args.path_a, args.path_b)} else "a file"
            print(f"error: refusing to write the statistics to {out}: it exists ({kind}) and would be replaced; "
                  "choose a new file name", file=sys.stderr)
            return 2
    try:
        paths = (args.path_a, args.path_b)
        need = any(not str(x).endswith(".npz") for x in paths)
        net = get_extractor(args.extractor) if need else args.extractor
        kw = dict(batch_size=args.batch_size, device=args.device)
        s_a, s_b = (feature_stats(x, net, **kw) for x in paths)
        if args.save_stats:
            print(f"saved the statistics of {args.path_a} to {s_a.save(args.save_stats)}")
        value = s_a.frechet_distance(s_b)
    except (ValueError, FileNotFoundError, RuntimeError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"FID: {value:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
