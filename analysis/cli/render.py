"""Batch rendering: every notebook of a study with papermill, then HTML and an index.

``python -m analysis render --study NAME|all [--evaluator NAME ...] [--jobs N] [--n-boot N]
[--seed N] [--data-root PATH]`` (``--dataset`` is an alias of ``--study``) checks its
arguments, then hands them to the engine, :func:`analysis.render.runner.render` (what it
writes and how: :mod:`analysis.render.runner`).

Check first, fail once
----------------------
Before any notebook starts, :func:`analysis.cli.args.check_arguments` checks every
argument and the data root: ``--n-boot`` and ``--jobs`` at least 1, every study known,
the data root and each study's folder present and holding data (its evaluators are
found), every ``--evaluator`` among them. A problem is one line (``ValueError`` or
``FileNotFoundError``; the CLI prints ``error: ...`` and exits with status 2).
"""

from __future__ import annotations

import argparse
import sys

from analysis.cli.args import ROOT_HELP, STUDY_HELP, check_arguments, check_counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis render", description=__doc__.splitlines()[0],
        epilog="Notebooks per study, and their scope, come from the study registry "
               "(analysis/studies/registry.py).")
    parser.add_argument("--study", "--dataset", dest="study", nargs="+", default=None, metavar="STUDY",
                        help=f"studies to render: {STUDY_HELP}, or all (every built-in study); several may be "
                             f"given (default: the synthetic demo study; --dataset is an alias)")
    parser.add_argument("--data-root", default=None, help=ROOT_HELP)
    parser.add_argument("--evaluator", nargs="+", default=None, metavar="NAME",
                        help="render only these evaluators (judges, systems); default: every one found in the data")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time (default: 2)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the bootstrap and of the demo data")
    parser.add_argument("--reports-dir", default=None, help="where reports go (default: reports/)")
    parser.add_argument("--figures-dir", default=None, help="where figures go (default: figures/)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="start every notebook's kernel from nothing, as JupyterLab does, instead of forking "
                             "it from a kernel server that imported the notebooks' modules (slower; same results)")
    return parser


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    # Cheap checks first, so a bad number never waits for the data to be scanned.
    check_counts(jobs=a.jobs, n_boot=a.n_boot)
    from analysis.render import runner
    from analysis.studies.registry import DEFAULT_STUDY, STUDIES, get_study

    datasets = list(dict.fromkeys(k for name in a.study or [DEFAULT_STUDY]
                                  for k in (STUDIES if name == "all" else [get_study(name).key])))
    evaluators = a.evaluator
    if a.evaluator and len(datasets) > 1:
        # With several studies, each name goes to the studies that have it.
        found = {ds: get_study(ds).evaluators(a.data_root) for ds in datasets}
        evaluators = {ds: [e for e in a.evaluator if e in found[ds]] for ds in datasets}
        nowhere = [e for e in a.evaluator if not any(e in v for v in evaluators.values())]
        if nowhere:
            raise ValueError(f"unknown evaluator(s) {nowhere}; found in the data: "
                             + "; ".join(f"{ds}: {', '.join(found[ds])}" for ds in datasets))
        datasets = [ds for ds in datasets if evaluators[ds]]
    check_arguments(datasets, evaluators, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot)
    return runner.render(datasets, evaluators, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot, seed=a.seed,
                         reports_dir=a.reports_dir, figures_dir=a.figures_dir, fresh_kernels=a.fresh_kernels)
