"""The ``labelled`` kind's hooks (:data:`analysis.studies.registry.KINDS`): nominal labels of
every system against the first reference's label (gold), over the systems' runs.

The metrics are those of :mod:`analysis.studies.dialoguesafety` (accuracy, weighted F1,
Cohen's κ, mean and SD over runs; the majority vote's with its bootstrap interval over
items; Fleiss' κ between runs), on ``study.data.predictions``; a study whose scale names a
``safe`` label also gets the safe-vs-unsafe rows. All values are proportions (0–1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


def summary_tables(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """``summary``: per system: accuracy, weighted F1 and Cohen's kappa (mean and SD over
    runs), the majority vote's accuracy with its bootstrap CI, Fleiss' kappa between runs."""
    from analysis.data.ratings import audit_summary
    from analysis.studies.dialoguesafety import metrics_table, run_matrix

    data = study.data
    labels = study.spec.scale.labels
    rows = []
    for k, system in enumerate(study.evaluators):
        gold, runs = run_matrix(data.predictions, system)
        m = {r[0]: r[1:] for r in metrics_table(gold, runs, n_boot=n_boot, seed=int(
            np.random.SeedSequence([seed, k]).generate_state(1)[0]), labels=labels,
            safe=study.spec.scale.safe).iter_rows()}
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


def export_study(study, out_dir: str | Path, *, title: str) -> list[Path]:
    """``export``: every label as a tidy file (label names, runs, clusters, sources), with
    the study's labels, references and jury."""
    from analysis.data.tidy import tidy_from_ratings, write_study

    spec = study.spec
    tidy = tidy_from_ratings(study.data.ratings, labels=spec.scale.labels)
    return [write_study(tidy, out_dir, name=f"{spec.name}-export", title=title, references=spec.references,
                        labels=spec.scale.labels, jury=study.jury)]


def overview_forest(study, overview: pl.DataFrame) -> dict:
    """The forest plot of the overview: Cohen's κ of each system's majority vote."""
    long = overview.select("evaluator", pl.lit("Cohen's κ (majority vote)").alias("measure"),
                           pl.col("majority_kappa").alias("estimate"), pl.col("majority_kappa_ci_low").alias("ci_low"),
                           pl.col("majority_kappa_ci_high").alias("ci_high"))
    return dict(long=long, xlabel="Cohen's κ against the reference",
                title=f"{study.spec.title}: agreement with the reference")
