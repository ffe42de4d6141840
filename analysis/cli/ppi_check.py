"""``python -m analysis ppi-check``: coverage of judge-assisted (PPI / PPI++) and human-only
intervals on studies where the reference rated every item (the check:
:mod:`analysis.checks.ppi_check`); prints the report, or writes it with ``--out``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.cli.args import check_choice


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis ppi-check",
        description="Coverage of judge-assisted (PPI/PPI++) and human-only intervals on studies where the "
                    "reference rated every item: n human ratings kept, the judge on the rest.")
    p.add_argument("--study", required=True, nargs="+", metavar="STUDY",
                   help="one or more studies where the reference rated every item (another is refused with the list)")
    p.add_argument("--data-root", default=None, help="data root holding the study's folder")
    p.add_argument("--n", type=int, nargs="+", default=None, help="human ratings kept (50 100 200 500)")
    p.add_argument("--reps", type=int, default=500, help="random subsets per n (500)")
    p.add_argument("--seed", type=int, default=20261124, help="seed of the random subsets (20261124)")
    p.add_argument("--out", default=None, help="markdown file to write (printed otherwise)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the check; exit code 0, or 2 with one line on stderr on a data or argument error."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    import polars as pl

    from analysis.checks.ppi_check import CHECK_STUDIES, DEFAULT_N, markdown, run_check

    check_choice(parser, "--study", args.study, CHECK_STUDIES)
    args.n = list(DEFAULT_N) if args.n is None else args.n
    start = time.perf_counter()
    try:
        detail = pl.concat([run_check(s, data_root=args.data_root, ns=args.n, reps=args.reps, seed=args.seed)
                            for s in args.study])
    except (ValueError, FileNotFoundError) as exc:
        print(f"ppi-check: {exc}", file=sys.stderr)
        return 2
    command = "python -m analysis ppi-check " + " ".join(
        [f"--study {' '.join(args.study)}"] + ([f"--data-root {args.data_root}"] if args.data_root else [])
        + [f"--n {' '.join(map(str, args.n))}", f"--reps {args.reps}",
         f"--seed {args.seed}"] + ([f"--out {args.out}"] if args.out else []))
    text = markdown(detail, command, reps=args.reps)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        print(f"wrote {out} ({time.perf_counter() - start:.0f} s)")
    else:
        print(text, end="")
    return 0
