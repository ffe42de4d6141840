"""``python -m analysis alt-test``: the alternative annotator test for every evaluator of a study.

Prints the table and writes it as CSV (``reports/<study>/tables/alt_test.csv`` by default,
with the per-human tests beside it as ``<name>_humans.csv``); renders nothing. Takes a
built-in study or a study file (scored, labelled, pairwise labels). See
:mod:`analysis.studies.replacement` for what is tested on which study.

Exit codes: 0 on success; 2 when the study has fewer than 2 reference raters (the test
leaves one human out, so it needs at least two), or on a data or argument error, with
one line on stderr saying why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.cli.args import STUDY_HELP
from analysis.data.paths import PROJECT_ROOT

# The choices and the default sweep are spelled here so that --help imports no statistics
# (a test checks them against analysis.stats.alt_test and analysis.studies.replacement).
EPSILON_MODES = ("additive", "multiplicative")
SCORINGS = ("accuracy", "neg_rmse")
TASKS = ("labels", "scores")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis alt-test",
        description="The alternative annotator test (Calderon, Reichart & Dror 2025): can each LLM evaluator "
                    "of a study replace one of its human annotators? One row per evaluator, run, epsilon mode "
                    "and epsilon.")
    p.add_argument("--study", "--dataset", dest="study", required=True, metavar="STUDY",
                   help=STUDY_HELP)
    p.add_argument("--data-root", default=None, help="data root holding the study's folder")
    p.add_argument("--epsilon", type=float, nargs="+", default=None, metavar="E",
                   help="margin(s) granted to the evaluator (default: the sweep 0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)")
    p.add_argument("--epsilon-mode", choices=(*EPSILON_MODES, "both"), default="both",
                   help="additive (the authors') or multiplicative (MetaEvaluator) epsilon, or both (default)")
    p.add_argument("--scoring", choices=SCORINGS, default=None,
                   help="default: accuracy for labels, neg_rmse for scores")
    p.add_argument("--task", choices=TASKS, nargs="+", default=None,
                   help="default: every task the study has (Between Help and Harm: labels and scores)")
    p.add_argument("--q", type=float, default=0.05, help="false discovery rate of Benjamini-Yekutieli (0.05)")
    p.add_argument("--out", default=None,
                   help="CSV file to write (default: reports/<study>/tables/alt_test.csv; the per-human tests "
                        "beside it as <name>_humans.csv)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code (0, or 2 with one line on stderr)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    import polars as pl

    from analysis.data.tidy import StudyFileError
    from analysis.reporting.tables import write_table
    from analysis.stats.alt_test import DEFAULT_EPSILONS
    from analysis.studies.registry import get_study, load_study
    from analysis.studies.replacement import NotEnoughReferences, check_references, study_alt_test

    spec = None
    try:
        spec = get_study(args.study)
        check_references(spec)  # before loading: a study that cannot be tested fails at once
        study = load_study(spec.key, data_root=args.data_root)
        modes = EPSILON_MODES if args.epsilon_mode == "both" else (args.epsilon_mode,)
        tables = study_alt_test(study, tasks=args.task, scoring=args.scoring,
                                epsilons=DEFAULT_EPSILONS if args.epsilon is None else tuple(args.epsilon),
                                epsilon_modes=modes, q=args.q)
    except (NotEnoughReferences, ValueError, FileNotFoundError, StudyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else PROJECT_ROOT / "reports" / spec.name / "tables" / "alt_test.csv"
    if out.suffix.lower() != ".csv":
        print(f"error: --out {out}: expected a .csv file name", file=sys.stderr)
        return 2
    if out.exists() and out.is_dir():
        print(f"error: --out {out} is a folder; give a .csv file name", file=sys.stderr)
        return 2
    path = write_table(tables.summary, out.stem, out.parent)
    humans = write_table(tables.humans, f"{out.stem}_humans", out.parent)
    with pl.Config(tbl_rows=tables.summary.height, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=40):
        print(tables.summary.drop("n_items"))
    print(f"wrote {path} and {humans}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
