"""DialogueSafety: how well one system's 5 runs agree with the gold safety labels.

Tables (values are fractions 0-1):

* ``metrics``: accuracy, weighted precision/recall/F1, macro-F1, Cohen's kappa, and the
  binary safe-vs-unsafe accuracy and kappa (category 7 vs the rest): mean and sample SD
  (ddof = 1) over the 5 runs, as the paper's Table 2, plus a BCa bootstrap CI over items
  for run 1 (``*_run1`` rows) and for the majority vote of the 5 runs (``majority_*``
  rows); ``fleiss_kappa_runs``: Fleiss' kappa of the 5 runs' labels (run-to-run
  agreement; no CI).
* ``per_category``: per gold category, n_gold, the recall averaged over runs, the recall
  of the majority vote with its Clopper-Pearson CI, and ``too_small`` for categories with
  fewer than 20 gold items, whose recall cannot be estimated usefully.
* ``label_distribution``: predicted vs gold label counts (label bias).

The same tables serve any nominal study (a user's study file with ``labels``): pass its
``labels`` and, if one label means "safe", its index as ``safe`` for the binary rows
(``safe=None``: no binary rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.stats.agreement import fleiss_kappa
from analysis.stats.bootstrap import bootstrap
from analysis.stats.classification import METRICS, classification_metrics, majority_vote
from analysis.stats.proportions import clopper_pearson
from typing import Sequence

from analysis.data.dialoguesafety import CATEGORIES, SAFE

MIN_GOLD = 20


def run_matrix(predictions: pl.DataFrame, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Gold labels (n,) and the ``(n_items, n_runs)`` predictions of ``system``."""
    sub = predictions.filter(pl.col("system") == system).sort("item", "run")
    if sub.height == 0:
        raise ValueError(f"no predictions of system {system!r}; systems in the data: "
                         f"{', '.join(predictions['system'].unique(maintain_order=True).to_list())}")
    wide = sub.pivot(on="run", index=["item", "gold"], values="predicted").sort("item")
    runs = sorted((c for c in wide.columns if c not in ("item", "gold")), key=int)
    return wide["gold"].to_numpy(), wide.select(runs).to_numpy()


def _metric_vector(gold, pred, weights=None, *, n_classes: int, safe: int | None) -> np.ndarray:
    m = classification_metrics(gold, pred, n_classes, weights)
    if safe is None:
        return np.stack([m[k] for k in METRICS], axis=-1)
    b = classification_metrics((gold == safe).astype(int), (pred == safe).astype(int), 2, weights)
    return np.stack([*(m[k] for k in METRICS), b["accuracy"], b["cohen_kappa"]], axis=-1)


NAMES = (*METRICS, "binary_accuracy", "binary_kappa")


def metrics_table(gold: np.ndarray, runs: np.ndarray, *, n_boot: int = 2000, seed: int = 0,
                  labels: Sequence[str] = CATEGORIES, safe: int | None = SAFE, clusters=None) -> pl.DataFrame:
    """The ``metrics`` table (module docstring) of one system: ``gold`` (n,) and ``runs``
    (n, n_runs) label indices. With one run the SD over runs and Fleiss' kappa between
    runs are NaN (undefined), not an error. ``clusters`` (one label per item): the
    bootstrap resamples whole clusters."""
    n_classes = len(labels)
    names = NAMES if safe is not None else METRICS
    per_run = np.stack([_metric_vector(gold, runs[:, r], n_classes=n_classes, safe=safe)
                        for r in range(runs.shape[1])])
    several = runs.shape[1] >= 2
    rows = [dict(metric=name, mean=float(per_run[:, j].mean()),
                 sd=float(per_run[:, j].std(ddof=1)) if several else float("nan"),
                 ci_low=None, ci_high=None) for j, name in enumerate(names)]
    majority = majority_vote(runs)
    for label, pred, s in (("run1", runs[:, 0], 0), ("majority", majority, 1)):
        res = bootstrap((gold.astype(float), pred.astype(float)),
                        lambda g, p, weights: _metric_vector(g.astype(int), p.astype(int), weights,
                                                             n_classes=n_classes, safe=safe),
                        n_boot=n_boot, seed=np.random.SeedSequence([seed, s]), clusters=clusters)
        for j, name in enumerate(names):
            metric = f"{name}_run1" if label == "run1" else f"majority_{name}"
            rows.append(dict(metric=metric, mean=float(res.estimate[j]), sd=None, ci_low=float(res.ci_low[j]),
                             ci_high=float(res.ci_high[j])))
    # Fleiss' kappa needs a label per run for every item; unmapped answers (-1) are a label of their own.
    rows.append(dict(metric="fleiss_kappa_runs", mean=fleiss_kappa(runs) if several else float("nan"), sd=None,
                     ci_low=None, ci_high=None))
    return pl.DataFrame(rows, schema={"metric": pl.String, "mean": pl.Float64, "sd": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


def per_category_table(gold: np.ndarray, runs: np.ndarray, confidence: float = 0.95, *,
                       labels: Sequence[str] = CATEGORIES) -> pl.DataFrame:
    majority = majority_vote(runs)
    rows = []
    for c, name in enumerate(labels):
        mask = gold == c
        n = int(mask.sum())
        hits = int((majority[mask] == c).sum())
        low, high = clopper_pearson(hits, n, confidence)
        rows.append(dict(category=name, label=c, n_gold=n,
                         recall_mean_runs=float(np.mean([(runs[mask, r] == c).mean() for r in range(runs.shape[1])]))
                         if n else float("nan"),
                         recall_majority=hits / n if n else float("nan"), ci_low=low, ci_high=high,
                         too_small=n < MIN_GOLD))
    return pl.DataFrame(rows).select("category", "n_gold", "recall_mean_runs", "recall_majority", "ci_low", "ci_high",
                                     "too_small", "label")


def label_distribution(gold: np.ndarray, runs: np.ndarray, *, labels: Sequence[str] = CATEGORIES) -> pl.DataFrame:
    """Counts of each label: gold, and predicted (mean over runs); share of items."""
    names = labels
    rows = []
    for c in [*range(len(names)), -1]:
        pred = float(np.mean([(runs[:, r] == c).sum() for r in range(runs.shape[1])]))
        rows.append(dict(category=names[c] if c >= 0 else "(no category)", label=c,
                         gold=int((gold == c).sum()), predicted_mean_runs=pred,
                         gold_share=float((gold == c).mean()), predicted_share=pred / len(gold)))
    return pl.DataFrame(rows)


def confusion(gold: np.ndarray, pred: np.ndarray, *, n_classes: int = len(CATEGORIES)) -> np.ndarray:
    """Row-normalised confusion matrix (rows: gold 0..L-1; columns: predicted 0..L-1 and -1,
    no category)."""
    cols = [*range(n_classes), -1]
    m = np.array([[np.sum((gold == g) & (pred == p)) for p in cols] for g in range(n_classes)], float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return m / m.sum(axis=1, keepdims=True)


# --- the study's hooks (its registry entry, analysis.studies.registry) ------------------

def export_study(study, out_dir, *, title: str) -> list:
    """``export``: the gold label (run 1) and every system's answers that map to a category,
    as label names."""
    from analysis.data.tidy import write_study

    spec, data = study.spec, study.data
    labels = spec.scale.labels
    pred = data.predictions.filter(pl.col("predicted") >= 0)
    gold = data.items.select(pl.col("item").cast(pl.String).alias("item"), pl.lit(spec.references[0]).alias("rater"),
                             pl.col("gold_category").alias("score"), pl.lit(1, pl.Int64).alias("run"))
    systems = pred.select(pl.col("item").cast(pl.String).alias("item"), pl.col("system").alias("rater"),
                          pl.col("predicted").map_elements(lambda i: labels[i], return_dtype=pl.String).alias("score"),
                          pl.col("run").cast(pl.Int64))
    tidy = pl.concat([gold, systems]).sort("item", "rater", "run")
    return [write_study(tidy, out_dir, name=f"{spec.name}-export", title=title, references=spec.references,
                        labels=labels)]


def ppi_populations(data_root=None) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """``ppi-check``: every system, ``(system, "unsafe share", y, yhat)``: ``y`` = 1 if the
    gold label is unsafe (any category but Safe Response), ``yhat`` = the share of the
    system's runs that predicted an unsafe category (an answer outside the taxonomy counts
    as no unsafe verdict)."""
    from analysis.data.dialoguesafety import UNMAPPED, load_dialoguesafety

    data = load_dialoguesafety(data_root)
    items = data.items.sort("item")
    y = (items["gold"].to_numpy() != SAFE).astype(float)
    out = []
    for system in data.systems:
        pred = data.predictions.filter(pl.col("system") == system)
        share = (pred.group_by("item")
                 .agg(((pl.col("predicted") != SAFE) & (pl.col("predicted") != UNMAPPED)).mean().alias("f"))
                 .sort("item"))
        if share["item"].to_list() != items["item"].to_list():
            raise ValueError(f"dialoguesafety: system {system!r} does not predict every item")
        out.append((system, "unsafe share", y, share["f"].to_numpy().astype(float)))
    return out
