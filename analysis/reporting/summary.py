"""The main job of ``make demo`` until the notebooks land: a printed (and optionally CSV)
summary of how every LLM evaluator agrees with the humans on the review set.

For each evaluator (and the jury, the mean of the evaluators) against H1, H2 and the
human mean: agreement (MAE, RMSE, within-1 %, QWK, Krippendorff's alpha), ICC(A,1) and
ICC(C,1) with F-based and BCa bootstrap intervals, and the signed bias
(evaluator - human mean, points on the 1-5 scale) with its BCa interval. For the demo
data set the planted truth is printed beside the estimates.
"""

from __future__ import annotations

import time

import polars as pl

from analysis.data.ratings import audit_summary
from analysis.studies.registry import get_study, load_study
from analysis.studies.scored import agreement_table, bias_table, human_pairs, icc_table
from analysis.reporting.tables import write_table


def compute_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000) -> dict[str, pl.DataFrame]:
    spec = get_study(dataset)
    if spec.scale.kind != "ordinal" or "01_data_audit" not in {nb.name for nb in spec.notebooks}:
        raise ValueError(f"summary covers the studies with a human-scored review set "
                         f"({', '.join(s for s, v in _summary_studies().items() if v)}); "
                         f"for {spec.name}, render its notebooks: python -m analysis render --study {spec.name}")
    study = load_study(dataset, data_root=data_root, seed=seed)
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
    tables["_meta"] = pl.DataFrame({"n_review_items": [scores.matrix.values.shape[0]],
                                    "n_dropped_incomplete": [scores.n_dropped]})
    return tables


def _summary_studies() -> dict[str, bool]:
    from analysis.studies.registry import STUDIES

    return {name: s.scale.kind == "ordinal" and "01_data_audit" in {nb.name for nb in s.notebooks}
            for name, s in STUDIES.items()}


def print_summary(dataset: str, *, data_root=None, seed: int = 20261124, n_boot: int = 2000,
                  out_dir: str | None = None) -> int:
    t0 = time.perf_counter()
    tables = compute_summary(dataset, data_root=data_root, seed=seed, n_boot=n_boot)
    meta = tables.pop("_meta").row(0, named=True)
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, float_precision=4,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(f"# {dataset}: {meta['n_review_items']} review items scored by every rater "
              f"({meta['n_dropped_incomplete']} review items without a complete set of scores left out)")
        print(f"seed {seed}, {n_boot} bootstrap resamples (BCa); bias = evaluator - reference, points on 1-5\n")
        titles = {
            "audit": "Audit: input records used / excluded, by file and reason",
            "agreement": "Agreement (MAE, RMSE in points; within1_pct in %)",
            "icc": "ICC(A,1) absolute agreement and ICC(C,1) consistency, F-based and BCa CIs",
            "bias": "Bias = evaluator - human mean (points on 1-5), BCa CI",
            "truth": "Planted truth of the demo generator",
        }
        for name, frame in tables.items():
            print(f"## {titles.get(name, name)}")
            print(frame)
            print()
    if out_dir:
        for name, frame in tables.items():
            write_table(frame, name, out_dir)
        print(f"tables written to {out_dir}/")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
