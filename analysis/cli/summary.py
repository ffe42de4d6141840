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
the audit's counts per file and reason.
"""

from __future__ import annotations

import time

import polars as pl

from analysis.data.ratings import audit_summary
from analysis.studies.registry import get_study, load_study
from analysis.studies.scored import agreement_table, bias_table, human_pairs, icc_table
from analysis.reporting.tables import write_table


def compute_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                    engine: str = "polars", scheduler: str | None = None) -> dict[str, pl.DataFrame]:
    """The summary tables of any study: scored studies with a review set (demo, Between
    Help and Harm, ordinal user studies), MentalAlign-70k (judge x attribute) and
    nominal studies (DialogueSafety, nominal user studies: metrics per system).

    Arguments and the data root are checked before anything is loaded
    (:func:`analysis.render.runner.check_arguments`). ``engine="dask"`` (a study file
    only): the ratings are reduced by Dask (:mod:`analysis.data.tidy_dask`) on the
    cluster at ``scheduler``, or on a LocalCluster of this machine.
    """
    from analysis.render.runner import check_arguments

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
    spec = get_study(dataset)
    study = load_study(dataset, data_root=data_root, seed=seed)
    if spec.name == "mentalalign":
        return _mentalalign_summary(study, n_boot=n_boot, seed=seed)
    if spec.scale.kind == "nominal":
        return _nominal_summary(study, n_boot=n_boot, seed=seed)
    data = study.data
    scores = study.review_scores()
    humans = spec.references
    tables = {
        "audit": audit_summary(data.audit),
        "agreement": agreement_table(scores, human_pairs(study.names, humans)),
        "icc": icc_table(scores, human_pairs(study.names, humans), n_boot=n_boot, seed=seed),
        "bias": bias_table(scores, list(study.names), n_boot=n_boot, seed=seed, by_category=False),
    }
    truth = getattr(data, "truth", None)
    if truth is not None:
        tables["truth"] = truth
    tables["_meta"] = pl.DataFrame({"header": [
        f"{scores.matrix.values.shape[0]} review items scored by every rater ({scores.n_dropped} review items "
        f"without a complete set of scores left out)"], "scale": ["bias = evaluator - reference, points on "
                                                                 f"{spec.scale.describe()}"]})
    return tables


def _mentalalign_summary(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """Judge x attribute: system-level ICC(C,1)/ICC(A,1) of the per-source means (the
    paper's cells) and bias = judge - human with its cluster-bootstrap BCa CI, on the data
    as published (off-scale ratings kept, flagged in the audit)."""
    import numpy as np

    from analysis.data.mentalalign import ATTRIBUTES
    from analysis.stats.icc import icc_batch
    from analysis.studies.mentalalign import bias_row, judge_pairs, source_means

    rows = []
    for k, judge in enumerate(study.evaluators):
        for a, attribute in enumerate(ATTRIBUTES):
            pairs = judge_pairs(study.data.ratings, judge, attribute)
            icc = icc_batch(source_means(pairs))
            b = bias_row(pairs, n_boot=n_boot, seed=int(np.random.SeedSequence([seed, k, a]).generate_state(1)[0]))
            rows.append(dict(judge=judge, attribute=attribute, n_sources=len(pairs.sources), n_pairs=b["n"],
                             icc_c1=float(icc[2]), icc_a1=float(icc[1]), human_mean=b["human_mean"],
                             judge_mean=b["judge_mean"], bias=b["bias"], ci_low=b["ci_low"], ci_high=b["ci_high"]))
    kept = study.data.audit.filter(pl.col("reason") == "off-scale kept (authors' choice)").height
    return {"audit": audit_summary(study.data.audit), "alignment": pl.DataFrame(rows),
            "_meta": pl.DataFrame({"header": [f"{len(study.evaluators)} judges x {len(ATTRIBUTES)} attributes, "
                                              f"data as published ({kept} off-scale ratings kept, see the audit)"],
                                   "scale": ["ICC of the per-source means (system level, judge's own family left "
                                             "out); bias = judge - human, points on 1-5, BCa CI over conversations"]})}


def _nominal_summary(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """Per system: accuracy, weighted F1 and Cohen's kappa (mean and SD over runs), the
    majority vote's accuracy with its bootstrap CI, Fleiss' kappa between runs."""
    import numpy as np

    from analysis.studies.dialoguesafety import metrics_table, run_matrix

    data = study.data
    labels = getattr(data, "labels", None) or study.spec.scale.labels
    safe = None if study.spec.source is None else 7  # DialogueSafety's "Safe Response"
    rows = []
    for k, system in enumerate(study.evaluators):
        gold, runs = run_matrix(data.predictions, system)
        m = {r[0]: r[1:] for r in metrics_table(gold, runs, n_boot=n_boot, seed=int(
            np.random.SeedSequence([seed, k]).generate_state(1)[0]), labels=labels, safe=safe).iter_rows()}
        rows.append(dict(system=system, n_items=int(gold.size), n_runs=int(runs.shape[1]),
                         accuracy=m["accuracy"][0], accuracy_sd=m["accuracy"][1],
                         f1_weighted=m["f1_weighted"][0], f1_weighted_sd=m["f1_weighted"][1],
                         cohen_kappa=m["cohen_kappa"][0], majority_accuracy=m["majority_accuracy"][0],
                         ci_low=m["majority_accuracy"][2], ci_high=m["majority_accuracy"][3],
                         fleiss_kappa_runs=m["fleiss_kappa_runs"][0]))
    return {"audit": audit_summary(data.audit), "metrics": pl.DataFrame(rows),
            "_meta": pl.DataFrame({"header": [f"{len(rows)} systems against {', '.join(study.spec.references)}"],
                                   "scale": ["proportions (0-1); mean and SD over runs; majority vote of the runs "
                                             "with its bootstrap CI over items"]})}


def print_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                  out_dir: str | None = None, engine: str = "polars", scheduler: str | None = None) -> int:
    t0 = time.perf_counter()
    tables = compute_summary(dataset, data_root=data_root, seed=seed, n_boot=n_boot, engine=engine,
                             scheduler=scheduler)
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
        print(f"tables written to {out_dir}/")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
