"""Category-level appropriateness of the answer models, as an evaluator scores them.

For each crisis category x answer model: the mean appropriateness (points on 1-5) with
a cluster-bootstrap CI, and the share of harmful answers (score <= 2, and score = 1)
with Wilson CIs.

Why a cluster bootstrap: every item (conversation) contributes 3 answer runs x 3
evaluation runs of the same model, which are correlated; resampling the items with
everything nested inside them (Davison & Hinkley 1997, sec. 3.8) keeps that
correlation, where treating the 9 scores as independent would make the CI too narrow.
The Wilson interval (Wilson 1927; Brown, Cai & DasGupta 2001) of the harmful share
treats scores as independent and is reported as asked for comparability; the notebook
shows its cluster-bootstrap counterpart beside it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl

from analysis.stats.bootstrap import bootstrap
from analysis.stats.intervals import ci_note
from analysis.stats.proportions import wilson_ci
from analysis.studies.evaluators import JURY, run_scores, response_scores

CATEGORY_SCHEMA = {
    "category": pl.String, "answer_model": pl.String, "n_items": pl.Int64, "n_scores": pl.Int64,
    "mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "pct_le2": pl.Float64, "pct_le2_ci_low": pl.Float64, "pct_le2_ci_high": pl.Float64,
    "pct_eq1": pl.Float64, "pct_eq1_ci_low": pl.Float64, "pct_eq1_ci_high": pl.Float64,
    "pct_le2_cluster_ci_low": pl.Float64, "pct_le2_cluster_ci_high": pl.Float64,
    "n_valid": pl.Int64, "ci_note": pl.String, "pct_le2_cluster_ci_note": pl.String,
}


def _weighted_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    # values: (n, m) per-score indicators/scores; weights: (B, n) cluster counts per score.
    return (weights @ values) / weights.sum(axis=-1, keepdims=True)


def category_appropriateness(ratings: pl.DataFrame, evaluator: str, *, jury: Sequence[str] = (),
                             n_boot: int = 2000, seed: int = 0, method: str = "bca",
                             confidence: float = 0.95) -> pl.DataFrame:
    """Mean score and harmful shares per crisis category x answer model.

    Parameters
    ----------
    ratings
        Tidy ratings (:data:`analysis.data.ratings.RATINGS_SCHEMA`).
    evaluator
        An LLM evaluator (each evaluation run is one score) or ``jury`` (one score per
        response: the mean of the ``jury`` members' means; a jury score <= 2 is a
        response the jury as a whole finds harmful).
    jury
        The jury's members, when ``evaluator`` is ``jury``.
    n_boot, seed, method, confidence
        Cluster bootstrap over items (every score of a drawn item comes along).
        Cell ``j`` (in output order) uses seed ``SeedSequence([seed, j])``.

    Returns
    -------
    polars.DataFrame
        ``category, answer_model, n_items, n_scores, mean, ci_low, ci_high`` (points on
        1-5), ``pct_le2``/``pct_eq1`` (percent of scores <= 2 / == 1) with Wilson CIs
        (percent), and the cluster-bootstrap CI of ``pct_le2``. Items without a
        category (no consensus label) are left out. ``n_valid`` (finite bootstrap
        replicates), ``ci_note`` (caveats of the cluster-bootstrap CI of the mean, by
        the rules of :mod:`analysis.stats.intervals`: ``too few clusters`` below 20
        items) and ``pct_le2_cluster_ci_note`` (the same for the share; a share of 0 %
        gives the ``degenerate`` interval [0, 0], read Wilson's then).
    """
    scores = response_scores(ratings, evaluator, jury=jury) if evaluator == JURY else run_scores(ratings, evaluator)
    scores = scores.filter(pl.col("category").is_not_null())
    rows = []
    cells = scores.select("category", "answer_model").unique().sort(["category", "answer_model"])
    for j, (cat, model) in enumerate(cells.iter_rows()):
        cell = scores.filter((pl.col("category") == cat) & (pl.col("answer_model") == model)).sort(
            ["item_id", "response_id"])
        s = cell["score"].to_numpy().astype(float)
        items = cell["item_id"].to_numpy()
        n_items = len(np.unique(items))
        le2, eq1 = int((s <= 2).sum()), int((s == 1).sum())
        feats = np.column_stack([s, (s <= 2).astype(float)])
        if n_items >= 2:
            res = bootstrap(feats, _weighted_means, n_boot=n_boot, method=method, confidence=confidence,
                            seed=np.random.SeedSequence([seed, j]), clusters=items)
            lo, hi, n_valid, notes = res.ci_low, res.ci_high, int(res.n_valid[0]), res.ci_note.tolist()
        else:
            lo = hi = np.full(2, np.nan)
            n_valid = None
            notes = ci_note(lo, hi, estimate=[float(s.mean()), le2 / len(s)], n_units=n_items, unit="clusters",
                            n_boot=n_boot, reasons="no interval below 2 items").tolist()
        w_le2, w_eq1 = wilson_ci(le2, len(s), confidence), wilson_ci(eq1, len(s), confidence)
        rows.append(dict(
            category=cat, answer_model=model, n_items=n_items, n_scores=len(s), mean=float(s.mean()),
            ci_low=float(lo[0]), ci_high=float(hi[0]),
            pct_le2=100 * le2 / len(s), pct_le2_ci_low=100 * w_le2[0], pct_le2_ci_high=100 * w_le2[1],
            pct_eq1=100 * eq1 / len(s), pct_eq1_ci_low=100 * w_eq1[0], pct_eq1_ci_high=100 * w_eq1[1],
            pct_le2_cluster_ci_low=100 * float(lo[1]), pct_le2_cluster_ci_high=100 * float(hi[1]),
            n_valid=n_valid, ci_note=notes[0], pct_le2_cluster_ci_note=notes[1],
        ))
    return pl.DataFrame(rows, schema=CATEGORY_SCHEMA)
