"""A printed (and optionally CSV) summary of every study (``python -m analysis summary``).

Scored studies with a review set (demo, Between Help and Harm, ordinal user studies):
how every LLM evaluator agrees with the humans on the review set.

For each evaluator (and the jury, the mean of the evaluators) against H1, H2 and the
human mean: agreement (MAE, RMSE, within-1 %, QWK, Krippendorff's alpha), ICC(A,1) and
ICC(C,1) with F-based and BCa bootstrap intervals, and the signed bias
(evaluator - human mean, points on the 1-5 scale) with its BCa interval. For the demo
data set the planted truth is printed beside the estimates. MentalAlign-70k: one row per
judge x attribute (system-level ICC(C,1)/ICC(A,1) as the paper, bias with its CI).
DialogueSafety and nominal user studies: one row of metrics per system. Every study:
the audit's counts per file and reason. With ``--out``, the studies that have the
notebook ``11_why_judges_disagree`` also get its tables (``why_*.csv``: the bias models,
the ordinal shift, the stability card), which are not printed.
"""

from __future__ import annotations

from analysis.cli import args as arg_types

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.cli.args import ROOT_HELP, STUDY_HELP, check_arguments, check_out_dir

if TYPE_CHECKING:
    import polars as pl


def compute_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                    engine: str = "polars", scheduler: str | None = None) -> dict[str, pl.DataFrame]:
    """The summary tables of any study, as its registry entry says (``spec.hooks.summary``):
    scored studies with a review set (demo, Between Help and Harm, ordinal user studies:
    :func:`analysis.studies.scored.summary_tables`), MentalAlign-70k (judge x attribute:
    :func:`analysis.studies.mentalalign.summary_tables`) and labelled studies
    (DialogueSafety, nominal user studies, metrics per system:
    :func:`analysis.studies.labelled.summary_tables`).

    Arguments and the data root are checked before anything is loaded
    (:func:`analysis.cli.args.check_arguments`).
    ``engine="dask"`` (a study file only): the ratings are reduced by Dask
    (:mod:`analysis.data.tidy_dask`) on the cluster at ``scheduler``, or on a LocalCluster
    of this machine.
    """
    from analysis.studies.registry import load_study

    if engine not in ("polars", "dask"):
        raise ValueError(f"engine must be 'polars' or 'dask', not {engine!r}")
    if engine == "dask" or scheduler:
        if not str(dataset).endswith(".toml"):
            raise ValueError("--engine dask reduces a study file (--study FILE.toml); built-in studies are small")
        from analysis.studies.scored import stream_summary

        return stream_summary(dataset, n_boot=n_boot, seed=seed, engine="dask", scheduler=scheduler)

    if str(dataset).endswith(".toml"):
        from analysis.data.tidy_stream import needs_streaming
        from analysis.studies.scored import stream_summary

        # An ordinal user study of >= 1,000,000 rating rows (tidy_stream.STREAM_MIN_ROWS) is
        # reduced by polars' streaming engine, never loaded whole (analysis.data.tidy_stream).
        if needs_streaming(dataset):
            return stream_summary(dataset, n_boot=n_boot, seed=seed)
    check_arguments([dataset], None, data_root=data_root, jobs=1, n_boot=n_boot)
    study = load_study(dataset, data_root=data_root, seed=seed)
    return study.spec.hooks.summary(study, n_boot=n_boot, seed=seed)


WHY_NOTEBOOK = "11_why_judges_disagree"


def why_tables(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000) -> dict[str, pl.DataFrame]:
    """The tables of the notebook ``11_why_judges_disagree`` (bias models, ordinal shift,
    stability card: :func:`analysis.studies.why.why_tables`) for a study that has it in
    the registry, else none; written by ``summary --out`` as ``why_<table>.csv``."""
    from analysis.studies import why
    from analysis.studies.registry import get_study, load_study

    if str(dataset).endswith(".toml"):
        from analysis.data.tidy_stream import needs_streaming

        if needs_streaming(dataset):
            return {}  # too large to load whole: the models need every rating in memory
    spec = get_study(dataset)
    if not any(nb.name == WHY_NOTEBOOK for nb in spec.notebooks):
        return {}
    study = load_study(dataset, data_root=data_root, seed=seed)
    return why.why_tables(study, n_boot=n_boot, seed=seed)


PRINTED_ROWS = 200
"""Rows of a table that ``summary`` prints; a longer table says how many it left out and
where all of them are."""


def print_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                  out_dir: str | None = None, engine: str = "polars", scheduler: str | None = None) -> int:
    """Print the summary tables of ``dataset`` (and write them as CSV into ``out_dir``); 0."""
    import polars as pl

    from analysis.reporting.tables import write_table

    t0 = time.perf_counter()
    tables = compute_summary(dataset, data_root=data_root, seed=seed, n_boot=n_boot, engine=engine,
                             scheduler=scheduler)
    meta = tables.pop("_meta").row(0, named=True)
    with pl.Config(tbl_rows=PRINTED_ROWS, tbl_cols=20, tbl_width_chars=250, float_precision=4, fmt_str_lengths=250,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(f"# {dataset}: {meta['header']}")
        print(f"seed {seed}, {n_boot} bootstrap resamples; {meta['scale']}\n")
        titles = {
            "audit": "Audit: input records by status and reason (per file and record: python -m analysis audit)",
            "agreement": "Agreement (MAE, RMSE in points; within1_pct in %)",
            "icc": "ICC(A,1) absolute agreement and ICC(C,1) consistency, F-based and BCa CIs",
            "bias": "Bias = evaluator - human mean (points on 1-5), BCa CI",
            "truth": "Planted truth of the demo generator",
            "alignment": "Judge x attribute: system-level ICC(C,1)/ICC(A,1), bias = judge - human (BCa CI)",
            "metrics": "Per system: accuracy, weighted F1, kappa over runs; majority-vote accuracy (CI)",
        }
        for name, frame in tables.items():
            print(f"## {titles.get(name, name)}")
            if name == "audit":
                frame = (frame.group_by("status", "reason").agg(pl.col("source_file").n_unique().alias("n_files"),
                                                                pl.col("n_records").sum())
                         .sort("status", "reason", nulls_last=False))
            if frame.height > PRINTED_ROWS:
                where = (f"every row is in {Path(out_dir) / name}.csv" if out_dir
                         else "--out DIR writes every row to DIR/" + f"{name}.csv")
                print(frame.head(PRINTED_ROWS))
                print(f"(first {PRINTED_ROWS} of {frame.height} rows, {frame.height - PRINTED_ROWS} left out; {where})")
            else:
                print(frame)
            print()
    if out_dir:
        for name, frame in tables.items():
            write_table(frame, name, out_dir)
        for name, frame in why_tables(dataset, data_root=data_root, seed=seed, n_boot=n_boot).items():
            write_table(frame, f"why_{name}", out_dir)
        print(f"tables written to {out_dir}/")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = arg_types.Parser(prog="python -m analysis summary",
                                description="Reliability, agreement and bias of every evaluator against the humans.")
    p.add_argument("--study", "--dataset", dest="dataset", default=None, metavar="STUDY",
                   help=f"{STUDY_HELP} (default: the synthetic demo study, generated from --seed; --dataset is an "
                        f"alias)")
    p.add_argument("--data-root", default=None, help=ROOT_HELP)
    p.add_argument("--seed", type=arg_types.seed, default=20261124, help="seed of the demo data and of the bootstrap")
    p.add_argument("--n-boot", type=arg_types.n_boot, default=2000, help="bootstrap resamples")
    p.add_argument("--out", default=None, help="also write the tables as CSV into this folder")
    p.add_argument("--engine", choices=("polars", "dask"), default="polars",
                   help="reduction of a large study file: polars on this machine (default), or Dask over partitioned "
                        "parquet (a folder or an fsspec URL) past one machine")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: a running Dask scheduler (default: a LocalCluster of this machine)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if a.dataset is None:
        from analysis.studies.registry import DEFAULT_STUDY

        a.dataset = DEFAULT_STUDY
    if a.out is not None:
        check_out_dir(a.out)
    return print_summary(a.dataset, data_root=a.data_root, seed=a.seed, n_boot=a.n_boot, out_dir=a.out,
                         engine=a.engine, scheduler=a.scheduler)
