"""The ``labelled`` kind's hooks (:data:`analysis.studies.registry.KINDS`): nominal labels of
every system against every reference's label (and their majority), over the systems' runs.

The metrics are those of :mod:`analysis.studies.dialoguesafety` (accuracy, weighted F1,
Cohen's κ, mean and SD over runs; the majority vote's with its bootstrap interval over
items; Fleiss' κ between runs), on ``study.data.predictions``; a study whose scale names a
``safe`` label also gets the safe-vs-unsafe rows. All values are proportions (0–1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


MAJORITY = "majority"
"""The consensus reference of a study with two or more references: on each item, the label
most of the references who labelled it gave; an item where two or more labels tie for the
most votes has no majority label and is left out of the majority rows (counted in the
header)."""


def _first_labels(ratings: pl.DataFrame, rater: str) -> pl.DataFrame:
    """``response_id, item_id, gold``: ``rater``'s label of each item (its first run)."""
    return (ratings.filter(pl.col("rater") == rater).sort("response_id", "eval_run")
            .group_by("response_id", maintain_order=True)
            .agg(pl.col("item_id").first(), pl.col("score").first().cast(pl.Int64).alias("gold")))


def majority_labels(ratings: pl.DataFrame, references) -> tuple[pl.DataFrame, int]:
    """The :data:`MAJORITY` reference: ``response_id, item_id, gold`` for the items with a
    single most frequent label among the references who labelled them, and the number of
    items left out because labels tied."""
    votes = pl.concat([_first_labels(ratings, r) for r in references])
    counts = votes.group_by("response_id", "item_id", "gold").len()
    top = counts.with_columns(pl.col("len").max().over("response_id").alias("top")).filter(pl.col("len") == pl.col("top"))
    n_top = top.group_by("response_id").len().rename({"len": "n_top"})
    top = top.join(n_top, on="response_id")
    ties = top.filter(pl.col("n_top") > 1)["response_id"].n_unique()
    return top.filter(pl.col("n_top") == 1).select("response_id", "item_id", "gold").sort("response_id"), int(ties)


def _pair(gold: pl.DataFrame, ratings: pl.DataFrame, system: str):
    """Items both ``gold`` and ``system`` labelled (every run of the system present):
    gold labels (n,), the system's runs (n, n_runs) and the items' clusters."""
    sub = ratings.filter(pl.col("rater") == system)
    wide = sub.pivot(on="eval_run", index="response_id", values="score", aggregate_function="first")
    runs = sorted((c for c in wide.columns if c != "response_id"), key=int)
    both = gold.join(wide, on="response_id", how="inner").drop_nulls(runs).sort("response_id")
    return (both["gold"].to_numpy().astype(int), both.select(runs).to_numpy().astype(int),
            both["item_id"].to_numpy())


def summary_tables(study, *, n_boot: int, seed: int, consensus: bool = True) -> dict[str, pl.DataFrame]:
    """``summary``: every system against every reference (one row per system x reference,
    each on the items both labelled, ``n_items`` per row), then each reference against
    each later one (the human–human rows, one run) and, with ``consensus`` and two or more
    references, every system against the :data:`MAJORITY` label of the references.

    Per row: accuracy, weighted F1 and Cohen's kappa (mean and SD over the system's runs;
    SD NaN with one run), the majority vote of the runs' accuracy with its bootstrap CI
    over items (over clusters when the study declares them: ``ci_note`` says
    ``resampled clusters``), Fleiss' kappa between runs (NaN with one run). A study
    without per-reference labels (DialogueSafety: one gold label) has one reference."""
    from analysis.data.ratings import audit_summary
    from analysis.stats.intervals import ci_note
    from analysis.studies.dialoguesafety import metrics_table, run_matrix
    from analysis.studies.scored import study_clustered

    data, spec = study.data, study.spec
    labels = spec.scale.labels
    refs = list(spec.references)
    ratings = getattr(data, "ratings", None)
    clustered = ratings is not None and study_clustered(study)
    jobs = []  # (system, reference, seed key, (gold, runs, clusters))
    ties = None
    if ratings is None:  # gold labels only (DialogueSafety): the first reference
        for k, system in enumerate(study.evaluators):
            jobs.append((system, refs[0], [seed, k], (*run_matrix(data.predictions, system), None)))
    else:
        golds = {r: _first_labels(ratings, r) for r in refs}
        for j, ref in enumerate(refs):
            for k, system in enumerate(study.evaluators):
                jobs.append((system, ref, [seed, k] if j == 0 else [seed, k, j], _pair(golds[ref], ratings, system)))
        for i, a in enumerate(refs):
            for j in range(i + 1, len(refs)):
                jobs.append((refs[j], a, [seed, len(study.evaluators), i, j], _pair(golds[a], ratings, refs[j])))
        if consensus and len(refs) >= 2:
            majority, ties = majority_labels(ratings, refs)
            for k, system in enumerate(study.evaluators):
                jobs.append((system, MAJORITY, [seed, k, len(refs)], _pair(majority, ratings, system)))
    rows = []
    for system, ref, key, (gold, runs, clusters) in jobs:
        n = int(gold.size)
        row = dict(system=system, reference=ref, n_items=n, n_runs=int(runs.shape[1]))
        if n < 2:
            rows.append({**row, "ci_note": f"no metrics below 2 common items ({n})"})
            continue
        m = {r[0]: r[1:] for r in metrics_table(
            gold, runs, n_boot=n_boot, seed=int(np.random.SeedSequence(key).generate_state(1)[0]), labels=labels,
            safe=spec.scale.safe, clusters=clusters if clustered else None).iter_rows()}
        lo, hi = m["majority_accuracy"][2], m["majority_accuracy"][3]
        n_units = len(set(clusters.tolist())) if clustered else n
        note = ci_note(lo, hi, estimate=m["majority_accuracy"][0], n_units=n_units,
                       unit="clusters" if clustered else "items", n_boot=n_boot,
                       reasons="resampled clusters" if clustered else None)
        rows.append({**row, "accuracy": m["accuracy"][0], "accuracy_sd": m["accuracy"][1],
                     "f1_weighted": m["f1_weighted"][0], "f1_weighted_sd": m["f1_weighted"][1],
                     "cohen_kappa": m["cohen_kappa"][0], "majority_accuracy": m["majority_accuracy"][0],
                     "ci_low": lo, "ci_high": hi, "fleiss_kappa_runs": m["fleiss_kappa_runs"][0], "ci_note": note})
    schema = {"system": pl.String, "reference": pl.String, "n_items": pl.Int64, "n_runs": pl.Int64,
              "accuracy": pl.Float64, "accuracy_sd": pl.Float64, "f1_weighted": pl.Float64,
              "f1_weighted_sd": pl.Float64, "cohen_kappa": pl.Float64, "majority_accuracy": pl.Float64,
              "ci_low": pl.Float64, "ci_high": pl.Float64, "fleiss_kappa_runs": pl.Float64, "ci_note": pl.String}
    header = (f"{len(study.evaluators)} systems against each of {', '.join(refs)}"
              + (" (and each reference against the others)" if len(refs) >= 2 else "")
              + "; each row on the items both labelled")
    if ties is not None:
        header += (f"; {MAJORITY}: the label most references gave ({ties} items where labels tie for the most "
                   f"votes left out)")
    if clustered:
        header += "; every interval resamples clusters (the study's cluster column)"
    return {"audit": audit_summary(data.audit), "metrics": pl.DataFrame(rows, schema=schema),
            "_meta": pl.DataFrame({"header": [header],
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
