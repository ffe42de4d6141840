"""Command line: ``python -m analysis <command>``.

Commands
--------
summary   evaluator-vs-human reliability, agreement and bias on a data set (``demo`` by
          default: the synthetic data set generated from ``--seed``)
render    execute the notebooks for every evaluator with papermill (see :mod:`analysis.render.runner`)
bench     bootstrap speed and memory against pingouin (see :mod:`analysis.checks.bench`)
validate  check a user study file (.toml) and its ratings file before analysis
export    write a study as a tidy ratings file + study file
studies   the built-in studies (the README's table, from the study registry)
fetch     download the Hugging Face export and clone the three source repositories
          into the data root (needs internet; never run in CI)
"""

from __future__ import annotations

import argparse
import sys

import importlib

from analysis import __version__
from analysis.data.paths import DATA_ROOT_ENV
from analysis.studies.registry import STUDIES


COMMANDS: dict[str, tuple[str, str]] = {
    "alt-test": ("analysis.cli.alt_test",
                 "can a judge replace a human annotator? the alternative annotator test for every evaluator"),
    "figures": ("analysis.reporting.paper", "the paper set of figures and LaTeX tables, without Jupyter"),
    "coverage": ("analysis.checks.coverage",
                 "coverage of the package's confidence intervals by simulation (writes docs/coverage.md)"),
    "audit": ("analysis.cli.audit", "every input record of a study and what became of it"),
    "import": ("analysis.cli.importer",
               "judge and annotation files from Inspect AI, promptfoo, Label Studio or a wide table, as a study"),
    "ppi-check": ("analysis.checks.ppi_check",
                  "coverage of judge-assisted (PPI++) intervals on real data where a human rated everything"),
}
"""Commands with a parser of their own: name -> (module with ``main(argv)``, one-line help)."""


def _summary(args: argparse.Namespace) -> int:
    from analysis.cli.summary import print_summary

    return print_summary(args.dataset, data_root=args.data_root, seed=args.seed, n_boot=args.n_boot,
                         out_dir=args.out, engine=args.engine, scheduler=args.scheduler)


def _bench(args: argparse.Namespace) -> int:
    from analysis.checks.bench import main as bench_main

    return bench_main(args.rest)


def _render(args: argparse.Namespace) -> int:
    from analysis.render.runner import main as render_main

    return render_main(args.rest)


def _fetch(args: argparse.Namespace) -> int:
    from analysis.data.fetch import fetch
    from analysis.data.paths import data_root
    from analysis.studies.registry import repositories

    root = data_root(args.data_root)
    for message in fetch(root, repositories(), what=tuple(args.what)):
        print(message)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from analysis.cli.export import print_validation

    return print_validation(args.study)


def _export(args: argparse.Namespace) -> int:
    from analysis.cli.export import export_study

    for path in export_study(args.study, args.out, data_root=args.data_root, seed=args.seed):
        print(f"wrote {path} and {path.parent / 'ratings.csv'}")
    return 0


def _studies(args: argparse.Namespace) -> int:
    from analysis.studies.registry import studies_markdown

    print(studies_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Reliability of LLM judges of mental-health crisis responses.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    root_help = f"data root holding between-help-and-harm/ etc. (default: ${DATA_ROOT_ENV} or data/raw)"
    s = sub.add_parser("summary", help="reliability, agreement and bias of every evaluator against the humans")
    s.add_argument("--study", "--dataset", dest="dataset", default="demo", metavar="STUDY",
                   help=f"study: {', '.join(STUDIES)}, or a study file (.toml) (default: demo, generated from "
                        f"--seed; --dataset is an alias)")
    s.add_argument("--data-root", default=None, help=root_help)
    s.add_argument("--seed", type=int, default=20261124, help="seed of the demo data and of the bootstrap")
    s.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    s.add_argument("--out", default=None, help="also write the tables as CSV into this folder")
    s.add_argument("--engine", choices=("polars", "dask"), default="polars",
                   help="reduction of a large study file: polars on this machine (default), or Dask over partitioned "
                        "parquet (a folder or an fsspec URL) past one machine")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: a running Dask scheduler (default: a LocalCluster of this machine)")
    s.set_defaults(func=_summary)

    b = sub.add_parser("bench", help="bootstrap speed and memory against pingouin", add_help=False)
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)

    r = sub.add_parser("render", help="run a study's notebooks with papermill (python -m analysis render --help)",
                       add_help=False)
    r.add_argument("rest", nargs=argparse.REMAINDER)
    r.set_defaults(func=_render)

    v = sub.add_parser("validate", help="check a study file and its ratings; print every problem and the audit")
    v.add_argument("--study", required=True, metavar="FILE", help="the study file (.toml)")
    v.set_defaults(func=_validate)

    e = sub.add_parser("export", help="write a study as a tidy ratings file + study file (the format users bring)")
    e.add_argument("--study", "--dataset", dest="study", required=True, metavar="STUDY",
                   help=f"study to export: {', '.join(STUDIES)}")
    e.add_argument("--out", required=True, help="folder to write ratings.csv and study.toml into")
    e.add_argument("--data-root", default=None, help=root_help)
    e.add_argument("--seed", type=int, default=20261124, help="seed of the demo data")
    e.set_defaults(func=_export)

    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=f"{help_} (python -m analysis {name} --help)", add_help=False)

    st = sub.add_parser("studies", help="the built-in studies, as a markdown table (from the study registry)")
    st.set_defaults(func=_studies)

    f = sub.add_parser("fetch", help="download the data sets into the data root (needs internet)")
    f.add_argument("--data-root", default=None, help=root_help)
    f.add_argument("--what", nargs="+", choices=("hf", "repos"), default=["hf", "repos"])
    f.set_defaults(func=_fetch)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        # bench and render have parsers of their own: hand them their arguments as they are.
        if argv and argv[0] in ("bench", "render"):
            return int((_bench if argv[0] == "bench" else _render)(argparse.Namespace(rest=argv[1:])) or 0)
        if argv and argv[0] in COMMANDS:
            module, help_ = COMMANDS[argv[0]]
            return int(importlib.import_module(module).main(argv[1:]) or 0)
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        # Data problems are the user's to fix: say what and where, without a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
