"""``python -m analysis bench``: speed and memory of the package's methods (the work is
:mod:`analysis.checks.bench`).

* ``bench [options]``: the bootstrap of the six ICCs against pingouin on the same
  resamples; exits non-zero if they disagree or the bootstrap misses its time target;
* ``bench all [options]``: every target of the README's performance table, each line in its
  own process, PASS/FAIL (``bench _line NAME`` runs one line; internal);
* ``bench STUDY [options]``: the whole analysis of the study whose registry entry has a
  ``bench`` hook (MentalAlign-70k), timed.
"""

from __future__ import annotations

from analysis.cli import args as arg_types

import argparse
import sys
import textwrap

from analysis.cli.args import ROOT_HELP

ALL = ("every target of the performance table (README), each line in its own process: figure, wall and CPU "
       "time, peak memory, PASS/FAIL; non-zero exit on a miss")
SCALING = ("the streaming summary at three sizes each of items, raters, runs and resamples (how its cost grows), "
           "each in its own process")
STUDY_LINE = ("the whole analysis of the study whose registry entry has a bench hook (read, 28 cells, both "
              "levels, per-source bias), timed against the paper's 51 s")
EPILOG = ("subcommands (python -m analysis bench SUBCOMMAND --help):\n"
          + textwrap.fill(ALL, 88, initial_indent=f"  {'all':<13}", subsequent_indent=" " * 15) + "\n"
          + textwrap.fill(SCALING, 88, initial_indent=f"  {'scaling':<13}", subsequent_indent=" " * 15) + "\n"
          # The study's name is spelled in this text so that --help need not import the registry
          # (a test checks it against analysis.checks.bench.BENCH_STUDY).
          + textwrap.fill(STUDY_LINE, 88, initial_indent="  mentalalign  ", subsequent_indent=" " * 15))
"""``bench``'s subcommands (besides the default ICC benchmark) and what they do."""

SEED = 20261124


def build_parser() -> argparse.ArgumentParser:
    """``bench`` without a subcommand: the ICC bootstrap against pingouin."""
    p = arg_types.Parser(
        prog="python -m analysis bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Benchmark: bootstrap of the six ICCs, vectorised here versus pingouin in a loop.",
        epilog=EPILOG)
    p.add_argument("--n-items", type=int, default=1000, help="items of the synthetic ratings (default: 1000)")
    p.add_argument("--k-raters", type=int, default=4, help="raters of the synthetic ratings (default: 4)")
    p.add_argument("--n-boot", type=arg_types.n_boot, default=2000, help="bootstrap resamples (default: 2000)")
    p.add_argument("--seed", type=arg_types.seed, default=SEED, help=f"seed of the ratings and the resamples (default: {SEED})")
    p.add_argument("--pingouin-resamples", type=int, default=200,
                   help="resamples run through pingouin (timed, then extrapolated; default: 200)")
    p.add_argument("--target-seconds", type=float, default=1.0,
                   help="time target of the slowest bootstrap, in seconds (default: 1.0)")
    return p


def all_parser(line: bool = False) -> argparse.ArgumentParser:
    """``bench all`` (and ``bench _line NAME``, one of its lines in this process)."""
    name = "_line" if line else "all"
    p = arg_types.Parser(prog=f"python -m analysis bench {name}",
                                description="every target of the performance table, PASS/FAIL")
    if line:
        from analysis.checks.bench import TARGETS

        p.add_argument("name", choices=sorted(TARGETS), help="the line to run")
    p.add_argument("--data-root", default=None, help=ROOT_HELP)
    p.add_argument("--seed", type=arg_types.seed, default=SEED, help=f"seed of the generated data (default: {SEED})")
    p.add_argument("--tiny", action="store_true", help="small sizes (a smoke test of the bench itself)")
    p.add_argument("--render", action="store_true",
                   help="time the render of the three studies with --tiny too (it is always timed otherwise)")
    p.add_argument("--workdir", default=None, help="where the large studies are generated and kept for the next run "
                                                   "(default: temporary folders)")
    p.add_argument("--only", default=None, help="comma-separated lines to run (default: all)")
    return p


def study_parser(name: str) -> argparse.ArgumentParser:
    """``bench NAME``: the whole analysis of the study ``name`` (the registry's bench study)."""
    p = arg_types.Parser(prog=f"python -m analysis bench {name}", description=STUDY_LINE)
    p.add_argument("--data-root", default=None, help=ROOT_HELP)
    p.add_argument("--n-boot", type=arg_types.n_boot, default=2000, help="bootstrap resamples (default: 2000)")
    p.add_argument("--seed", type=arg_types.seed, default=SEED, help=f"seed of the resamples (default: {SEED})")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["scaling"]:
        p = arg_types.Parser(prog="python -m analysis bench scaling", description=SCALING)
        p.add_argument("--workdir", default=None, help="where the studies are generated (default: temporary folders)")
        p.add_argument("--seed", type=arg_types.seed, default=SEED, help=f"seed of the generated data (default: {SEED})")
        a = p.parse_args(argv[1:])
        from analysis.checks.bench import run_scaling

        return run_scaling(a.workdir, a.seed)
    if argv[:1] and argv[0] not in ("all", "_line") and not argv[0].startswith("-"):
        a = study_parser(argv[0]).parse_args(argv[1:])  # --help before the registry is imported
        from analysis.checks.bench import BENCH_STUDY, run_mentalalign

        if argv[0] != BENCH_STUDY:
            build_parser().error(f"unknown subcommand {argv[0]!r}; choose from all, {BENCH_STUDY}")
        return run_mentalalign(a.data_root, a.n_boot, a.seed)
    if argv[:1] in (["all"], ["_line"]):
        a = all_parser(line=argv[0] == "_line").parse_args(argv[1:])
        from analysis.checks import bench

        if argv[0] == "_line":
            bench.run_line(a.name, a.data_root, a.tiny, a.seed, a.workdir)
            return 0
        return bench.run_all(data_root=a.data_root, tiny=a.tiny, render=a.render, seed=a.seed, workdir=a.workdir,
                             only=a.only.split(",") if a.only else None)
    a = build_parser().parse_args(argv)
    from analysis.checks.bench import run

    return run(a.n_items, a.k_raters, a.n_boot, a.seed, a.pingouin_resamples, a.target_seconds)
