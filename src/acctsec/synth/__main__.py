"""Command line of the example-data generator: `python -m acctsec.synth --out DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m acctsec.synth", description=__doc__)
    ap.add_argument("--out", type=Path, required=True, help="folder for the five tables")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--accounts", type=int, default=None,
                    help="number of accounts (default 300; scale mode when --events is given)")
    ap.add_argument("--events", type=int, default=None,
                    help="scale mode: about this many login events, streamed in chunks")
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv",
                    help="scale mode output format")
    ap.add_argument("--truth", type=Path, default=None,
                    help="ground truth file (default: truth.csv beside --out)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.events is not None:
        from acctsec.synth.scale import generate_scale

        generate_scale(args.out, seed=args.seed, accounts=args.accounts or 100_000,
                       events=args.events, fmt=args.format, truth_path=args.truth)
        return 0
    from acctsec.synth.generate import generate

    truth = generate(args.out, seed=args.seed, accounts=args.accounts or 300,
                     truth_path=args.truth)
    print(f"wrote {args.out} and {truth}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
