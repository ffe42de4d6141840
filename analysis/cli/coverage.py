"""``python -m analysis coverage``: the coverage of the package's confidence intervals by
simulation (the simulation and its models: :mod:`analysis.checks.coverage`); prints the
report, or writes it with ``--out`` (``docs/coverage.md``)."""

from __future__ import annotations

import argparse
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    # The sizes and the seed are spelled here so that --help imports no simulation (a test
    # checks them against analysis.checks.coverage).
    parser = argparse.ArgumentParser(prog="python -m analysis coverage",
                                     description="Coverage of the package's confidence intervals by simulation.")
    parser.add_argument("--quick", action="store_true",
                        help="n in (30, 190) only, 200 replications, 500 resamples (under a minute)")
    parser.add_argument("--reps", type=int, default=None, help="replications per cell (default 1000; quick 200)")
    parser.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples (default 1000; quick 500)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the simulation (default 20261125)")
    parser.add_argument("--sizes", default=None, metavar="N,N",
                        help="numbers of items, comma-separated (default 10,15,30,50,100,190,500; quick 30,190); "
                             "multiples of 5")
    parser.add_argument("--out", default=None, metavar="FILE.md", help="write the report (markdown) here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the simulation, print the report, write ``--out``."""
    parser = build_parser()
    a = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    from analysis.checks.coverage import CLUSTER_SIZE, DEFAULT_SEED, QUICK_SIZES, SIZES, run, to_markdown

    seed = DEFAULT_SEED if a.seed is None else a.seed
    reps = a.reps if a.reps is not None else (200 if a.quick else 1000)
    n_boot = a.n_boot if a.n_boot is not None else (500 if a.quick else 1000)
    if reps < 2 or n_boot < 2:
        parser.error("--reps and --n-boot must be at least 2")
    try:
        sizes = (tuple(int(s) for s in a.sizes.split(",")) if a.sizes else QUICK_SIZES if a.quick else SIZES)
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {a.sizes!r}")
    if any(s < 2 * CLUSTER_SIZE or s % CLUSTER_SIZE for s in sizes):
        parser.error(f"--sizes must be multiples of {CLUSTER_SIZE} (the conversation size), at least {2 * CLUSTER_SIZE}")
    command = "python -m analysis coverage" + (" --quick" if a.quick else "") + (
        f" --reps {reps} --n-boot {n_boot} --seed {seed}") + (
        f" --sizes {','.join(map(str, sizes))}" if a.sizes else "") + (f" --out {a.out}" if a.out else "")
    t0 = time.perf_counter()
    rows = run(sizes=sizes, reps=reps, n_boot=n_boot, seed=seed,
               progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    text = to_markdown(rows, command=command, reps=reps, n_boot=n_boot, seed=seed,
                       seconds=time.perf_counter() - t0)
    if a.out:
        from pathlib import Path

        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")
        print(f"wrote {a.out}", file=sys.stderr)
    else:
        print(text)
    return 0
