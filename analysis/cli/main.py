"""Command line: ``python -m analysis <command>``.

Commands
--------
summary   evaluator-vs-human reliability, agreement and bias on a data set (``demo`` by
          default: the synthetic data set generated from ``--seed``)
bench     bootstrap speed and memory against pingouin (see :mod:`analysis.checks.bench`)
render    execute the notebooks for every evaluator with papermill (see :mod:`analysis.render.runner`)
validate  check a user study file (.toml) and its ratings file before analysis
export    write a study as a tidy ratings file + study file
alt-test  the alternative annotator test for every evaluator of a study
figures   the paper set of figures and LaTeX tables, without Jupyter
coverage  coverage of the package's confidence intervals by simulation
audit     every input record of a study and what became of it
import    judge and annotation files from Inspect AI, promptfoo, Label Studio or a wide table, as a study
ppi-check coverage of judge-assisted (PPI++) intervals on real data
studies   the built-in studies (the README's table, from the study registry)
fetch     download the Hugging Face export and clone the three source repositories
          into the data root (needs internet; never run in CI)

Each command is a module of :mod:`analysis.cli` with ``build_parser()`` and
``main(argv)``; this module only dispatches. A command's module imports what its work needs
inside ``main``, after its arguments are parsed, so that ``--help`` is immediate.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from analysis import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("analysis.cli.summary", "reliability, agreement and bias of every evaluator against the humans"),
    "bench": ("analysis.cli.bench", "bootstrap speed and memory against pingouin"),
    "render": ("analysis.cli.render", "run a study's notebooks with papermill"),
    "validate": ("analysis.cli.validate",
                 "check a study file and its ratings; print every problem and the audit"),
    "export": ("analysis.cli.export", "write a study as a tidy ratings file + study file (the format users bring)"),
    "alt-test": ("analysis.cli.alt_test",
                 "can a judge replace a human annotator? the alternative annotator test for every evaluator"),
    "figures": ("analysis.cli.figures", "the paper set of figures and LaTeX tables, without Jupyter"),
    "coverage": ("analysis.cli.coverage",
                 "coverage of the package's confidence intervals by simulation (writes docs/coverage.md)"),
    "audit": ("analysis.cli.audit", "every input record of a study and what became of it"),
    "import": ("analysis.cli.importer",
               "judge and annotation files from Inspect AI, promptfoo, Label Studio or a wide table, as a study"),
    "ppi-check": ("analysis.cli.ppi_check",
                  "coverage of judge-assisted (PPI++) intervals on real data where a human rated everything"),
    "studies": ("analysis.cli.studies", "the built-in studies, as a markdown table (from the study registry)"),
    "fetch": ("analysis.cli.fetch", "download the data sets into the data root (needs internet)"),
}
"""Every command: name -> (its module, with ``build_parser()`` and ``main(argv)``; one-line help)."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``--version``, ``--help`` and the list of commands (each
    command parses its own arguments)."""
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Reliability of LLM judges of mental-health crisis responses.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in COMMANDS:
            return int(importlib.import_module(COMMANDS[argv[0]][0]).main(argv[1:]) or 0)
        build_parser().parse_args(argv)  # --help, --version, or a usage error: argparse exits
        raise AssertionError("unreachable: every command is dispatched above")
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        # Data problems are the user's to fix: say what and where, without a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
