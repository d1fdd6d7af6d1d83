#!/usr/bin/env python3
"""Write a corpus of labelled test calls, like `ivr synth`.

Usage: python tools/make_test_calls.py --out out/calls [--sample | --count N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.errors import IvrError
from ivr.synth.corpus import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sample", action="store_true", help="the fixed sample corpus (default)")
    which.add_argument("--count", type=int, help="N random calls instead")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.seed < 0:
        parser.error("--seed must be >= 0")

    def report(path: Path, entry: dict) -> None:
        print(f"wrote {path}  {entry['situation']}, {entry['channel']}, {entry['duration_s']} s")

    try:
        manifest = generate(args.out, count=args.count, seed=args.seed, on_written=report)
    except (IvrError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"manifest {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
