"""The ``binary`` kind's hooks (:data:`analysis.studies.registry.KINDS`): one yes/no verdict per
response (the study file's ``positive`` label, e.g. "unsafe", is a positive), every judge
against the humans.

The humans' verdict of an item is the majority of the references that judged it (items
they split evenly on are left out, and counted); a judge's verdict is its first run's.

* **Diagnostic accuracy** (:func:`diagnostic_table`): sensitivity (flagged among the
  humans' positives), specificity (cleared among their negatives), PPV and NPV with Wilson
  intervals (:func:`analysis.stats.verdicts.diagnostic_accuracy`), overall and per category.
* **Prevalence** (:func:`prevalence_table`): the share of positives among the items no
  human judged (the *test* set), from the judge's flags on them and its errors on the
  items the humans judged (the *calibration* set). Three estimates side by side: the
  naive flag rate (biased by the judge's errors), the Rogan-Gladen correction with the
  Lee et al. (2025) delta-method interval (:func:`analysis.stats.verdicts.corrected_prevalence`),
  and prediction-powered inference (PPI++, :func:`analysis.stats.ppi.ppi_mean`).

**When each applies.** The Rogan-Gladen correction assumes the judge errs at the same rates
(Se, Sp) on the test set as on the calibration set, and that calibration items are a
random sample *within* each human class (a calibration set drawn elsewhere, or enriched
with positives, is fine); it needs Se + Sp > 1. PPI assumes the calibration items are a
uniform random sample of the *same* population as the test items, and nothing about the
judge; with such a sample it is the safer choice, and when the sample was drawn by class
or from elsewhere only the correction applies.

All values are proportions (0-1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from analysis.stats.ppi import ppi_mean
from analysis.stats.proportions import wilson_ci
from analysis.stats.verdicts import corrected_prevalence, diagnostic_accuracy

ALL = "all"
"""The category of the rows over every item."""

WHEN_EACH_APPLIES = (
    "Rogan–Gladen assumes the judge's sensitivity and specificity are the same on the unjudged items as on the "
    "human-judged ones and that the human-judged items are a random sample within each human class (Se + Sp > 1); "
    "PPI assumes the human-judged items are a uniform random sample of the same population, and nothing about "
    "the judge.")


def verdicts(study) -> pl.DataFrame:
    """One row per item: ``human`` (the references' majority: True = positive; null when
    no reference judged it or they split evenly), ``split`` (an even split), ``category``,
    and one boolean column per judge (its first run; null when it did not judge the item)."""
    data = study.data
    clash = sorted(set(study.evaluators) & {"response_id", "category", "human", "split"})
    if clash:
        raise ValueError(f"{study.spec.name}: judge name(s) {clash} collide with the verdict table's columns; "
                         f"rename the rater(s) in the ratings file")
    labels = study.spec.scale.labels
    positive = float(labels.index(data.study.positive))
    r = data.ratings.with_columns((pl.col("score") == positive).alias("flag"))
    refs = (r.filter(pl.col("rater").is_in(list(study.spec.references))).group_by("response_id")
            .agg(pl.col("flag").sum().alias("pos"), pl.len().alias("k")))
    refs = refs.with_columns(pl.when(2 * pl.col("pos") > pl.col("k")).then(True)
                             .when(2 * pl.col("pos") < pl.col("k")).then(False).otherwise(None).alias("human"),
                             (2 * pl.col("pos") == pl.col("k")).alias("split"))
    out = r.group_by("response_id").agg(pl.col("category").drop_nulls().first()).join(
        refs.select("response_id", "human", "split"), on="response_id", how="left")
    first = r.filter(pl.col("rater").is_in(list(study.evaluators)))
    first = first.filter(pl.col("eval_run") == pl.col("eval_run").min().over("rater", "response_id"))
    wide = first.pivot(on="rater", index="response_id", values="flag")
    out = out.join(wide, on="response_id", how="left").with_columns(pl.col("split").fill_null(False))
    return out.sort("response_id")


def _groups(v: pl.DataFrame):
    yield ALL, v
    for c in sorted(v["category"].drop_nulls().unique().to_list()):
        yield c, v.filter(pl.col("category") == c)


def diagnostic_table(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """Per judge and category (``all`` first): the confusion counts against the humans'
    verdicts and sensitivity, specificity, PPV, NPV with Wilson intervals."""
    v = verdicts(study)
    rows = []
    for judge in study.evaluators:
        for cat, g in _groups(v):
            both = g.filter(pl.col("human").is_not_null() & pl.col(judge).is_not_null())
            d = diagnostic_accuracy(both[judge].to_numpy().astype(bool), both["human"].to_numpy().astype(bool),
                                    confidence=confidence)
            row = dict(judge=judge, category=cat, n=both.height, tp=d.tp, fp=d.fp, fn=d.fn, tn=d.tn)
            for m in ("sensitivity", "specificity", "ppv", "npv"):
                res = getattr(d, m)
                row |= {m: res.estimate, f"{m}_ci_low": res.ci_low, f"{m}_ci_high": res.ci_high}
            rows.append(row)
    return pl.DataFrame(rows)


def prevalence_row(test_flags, cal_judge, cal_human, *, confidence: float = 0.95) -> dict:
    """The naive, Rogan-Gladen and PPI++ estimates of the share of positives for one judge
    and one set of items (:func:`prevalence_table`); ``note`` says why one is missing."""
    t, cj, ch = (np.asarray(x, dtype=bool) for x in (test_flags, cal_judge, cal_human))
    row = dict(n_test=int(t.size), n_calibration=int(ch.size), m1=int(ch.sum()), m0=int((~ch).sum()))
    k = int(t.sum())
    low, high = wilson_ci(k, t.size, confidence) if t.size else (math.nan, math.nan)
    row |= dict(naive=k / t.size if t.size else math.nan, naive_ci_low=low, naive_ci_high=high)
    rg = corrected_prevalence(t, cj, ch, confidence=confidence) if t.size else None
    notes = []
    if rg is None:
        notes.append("no test item (every item has a human verdict: their share is the prevalence)")
    elif rg.ci_note:
        notes.append(f"Rogan–Gladen: {rg.ci_note}")
    row |= dict(sensitivity=rg.sensitivity if rg else math.nan, specificity=rg.specificity if rg else math.nan,
                corrected=rg.estimate if rg else math.nan, corrected_ci_low=rg.ci_low if rg else math.nan,
                corrected_ci_high=rg.ci_high if rg else math.nan)
    ppi = dict(ppi=math.nan, ppi_ci_low=math.nan, ppi_ci_high=math.nan)
    if t.size and ch.size >= 2:
        p = ppi_mean(ch.astype(float), cj.astype(float), t.astype(float), confidence=confidence)
        ppi = dict(ppi=p.estimate, ppi_ci_low=p.ci_low, ppi_ci_high=p.ci_high)
    elif t.size:
        notes.append("PPI: fewer than 2 calibration items")
    return row | ppi | {"note": "; ".join(notes)}


def prevalence_table(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """Per judge and category (``all`` first): the share of positives among the items no
    human judged: the judge's flag rate (naive, Wilson CI), the Rogan-Gladen correction
    with its delta-method interval, and PPI++; Se and Sp from the human-judged items of the
    same category. Items the humans split on are in neither set."""
    v = verdicts(study)
    rows = []
    for judge in study.evaluators:
        for cat, g in _groups(v):
            g = g.filter(pl.col(judge).is_not_null() & ~pl.col("split"))
            cal = g.filter(pl.col("human").is_not_null())
            test = g.filter(pl.col("human").is_null())
            rows.append(dict(judge=judge, category=cat) | prevalence_row(
                test[judge].to_numpy(), cal[judge].to_numpy(), cal["human"].to_numpy(), confidence=confidence))
    return pl.DataFrame(rows)


def split_count(study) -> int:
    """Items the references split evenly on (left out of every table)."""
    return int(verdicts(study)["split"].sum())


def overview_table(study, *, n_boot: int, seed: int) -> pl.DataFrame:
    """One row per judge (all categories): sensitivity and specificity with their Wilson
    intervals, PPV, NPV, and the naive, corrected and PPI prevalence."""
    d = diagnostic_table(study).filter(pl.col("category") == ALL).drop("category")
    p = prevalence_table(study).filter(pl.col("category") == ALL).select(
        "judge", "naive", "corrected", "corrected_ci_low", "corrected_ci_high", "ppi", "ppi_ci_low", "ppi_ci_high")
    return d.join(p, on="judge", how="left").rename({"judge": "evaluator"})


def summary_tables(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """``summary``: audit, diagnostic accuracy and prevalence per judge and category."""
    from analysis.data.ratings import audit_summary

    return {"audit": audit_summary(study.data.audit), "binary_diagnostic": diagnostic_table(study),
            "binary_prevalence": prevalence_table(study),
            "_meta": pl.DataFrame({"header": [f"{len(study.evaluators)} judges against "
                                              f"{', '.join(study.spec.references)}; positive = "
                                              f"{study.data.study.positive!r}"],
                                   "scale": ["proportions (0-1); Wilson intervals; prevalence of the items no "
                                             "human judged"]})}


def overview_forest(study, overview: pl.DataFrame) -> dict:
    """The forest plot of the overview: each judge's sensitivity and specificity."""
    long = pl.concat([overview.select("evaluator", pl.lit(name).alias("measure"), pl.col(m).alias("estimate"),
                                      pl.col(f"{m}_ci_low").alias("ci_low"), pl.col(f"{m}_ci_high").alias("ci_high"))
                      for m, name in (("sensitivity", "sensitivity"), ("specificity", "specificity"))])
    return dict(long=long, xlabel="share (0–1) against the humans' verdicts, Wilson 95% CI",
                title=f"{study.spec.title}: the judges' error rates")


def prevalence_forest(study, prevalence: pl.DataFrame) -> dict:
    """Arguments of :func:`analysis.reporting.figures.forest_plot`: the naive, corrected and
    PPI prevalence per judge (all categories)."""
    p = prevalence.filter(pl.col("category") == ALL)
    long = pl.concat([p.select("judge", pl.lit(name).alias("measure"), pl.col(m).alias("estimate"),
                               pl.col(f"{m}_ci_low").alias("ci_low"), pl.col(f"{m}_ci_high").alias("ci_high"))
                      for m, name in (("naive", "naive flag rate"), ("corrected", "Rogan–Gladen"), ("ppi", "PPI++"))])
    return dict(data=long.filter(pl.col("estimate").is_not_nan()), label="judge", measure="measure",
                xlabel=f"share of {study.data.study.positive!r} among the items no human judged (0–1), 95% CI",
                title=f"{study.spec.title}: prevalence, naive and corrected")


def export_study(study, out_dir: str | Path, *, title: str) -> list[Path]:
    """``export``: the labelled kind's export, declared ``kind = "binary"`` with its positive label."""
    from analysis.studies.labelled import export_study as labelled_export

    paths = labelled_export(study, out_dir, title=title)
    with open(paths[0], "a", encoding="utf-8") as fh:
        fh.write(f'kind = "binary"\npositive = "{study.data.study.positive}"\n')
    return paths
