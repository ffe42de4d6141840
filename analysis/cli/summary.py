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

import time

import polars as pl

from analysis.studies.registry import get_study, load_study
from analysis.reporting.tables import write_table


def compute_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000) -> dict[str, pl.DataFrame]:
    """The summary tables of any study, as its registry entry says (``spec.hooks.summary``):
    scored studies with a review set (demo, Between Help and Harm, ordinal user studies:
    :func:`analysis.studies.scored.summary_tables`), MentalAlign-70k (judge x attribute:
    :func:`analysis.studies.mentalalign.summary_tables`) and labelled studies
    (DialogueSafety, nominal user studies, metrics per system:
    :func:`analysis.studies.labelled.summary_tables`).

    Arguments and the data root are checked before anything is loaded
    (:func:`analysis.render.runner.check_arguments`).
    """
    from analysis.render.runner import check_arguments

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

    if str(dataset).endswith(".toml"):
        from analysis.data.tidy_stream import needs_streaming

        if needs_streaming(dataset):
            return {}  # too large to load whole: the models need every rating in memory
    spec = get_study(dataset)
    if not any(nb.name == WHY_NOTEBOOK for nb in spec.notebooks):
        return {}
    study = load_study(dataset, data_root=data_root, seed=seed)
    return why.why_tables(study, n_boot=n_boot, seed=seed)


def print_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                  out_dir: str | None = None) -> int:
    t0 = time.perf_counter()
    tables = compute_summary(dataset, data_root=data_root, seed=seed, n_boot=n_boot)
    meta = tables.pop("_meta").row(0, named=True)
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=250, float_precision=4, fmt_str_lengths=250,
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
