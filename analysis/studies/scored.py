"""Evaluator-versus-human result tables, shared by the CLI summary and the notebooks.

All tables are polars frames with fixed column order, sorted deterministically, so the
same data and seed give byte-identical CSV files.

Sign and units: ``bias = evaluator - reference``, in points on the 1-5 appropriateness
scale (positive: the evaluator is more lenient than the reference). MAE and RMSE are in
points; ``within1_pct`` is a percentage (0-100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl

from analysis.stats import agreement, chance
from analysis.stats.bias import mean_bias
from analysis.stats.gwet import gwet_ac1, gwet_ac2
from analysis.studies.evaluators import JURY
from analysis.stats.icc import intraclass_corr
from analysis.stats.intervals import ci_note
from analysis.data.ratings import RatingMatrix, to_matrix

from analysis.data.tidy import HUMAN_MEAN  # the reserved rater name, declared once


@dataclass(frozen=True)
class ReviewScores:
    """Scores of the human-reviewed responses: one row per item, one column per rater.

    ``values[:, j]`` is rater ``raters[j]``: the humans, each LLM evaluator (mean of its
    evaluation runs), ``jury`` (mean of the jury's members, if the study has a jury) and
    ``human_mean``. Only
    items scored by every rater are kept; ``n_dropped`` counts the review items that were
    not (for Between Help and Harm: the 16 items without a consensus label).
    """

    matrix: RatingMatrix
    categories: tuple[str | None, ...]
    n_dropped: int

    def column(self, rater: str) -> np.ndarray:
        return self.matrix.values[:, self.matrix.raters.index(rater)]


def review_scores(ratings: pl.DataFrame, review_set: pl.DataFrame, items: pl.DataFrame, *,
                  humans: Sequence[str], evaluators: Sequence[str], jury: Sequence[str] = ()) -> ReviewScores:
    """The items x raters matrix of the review set (the responses the humans scored).

    Columns: ``humans``, ``evaluators``, then ``jury`` (the mean of the ``jury`` members;
    absent when ``jury`` is empty) and ``human_mean`` (the mean of the humans).
    """
    reviewed = ratings.filter(pl.col("response_id").is_in(review_set["response_id"].to_list()))
    m = to_matrix(reviewed, [*humans, *evaluators], index="response_id")
    complete, _ = m.complete()
    # Review items with no rating at all are not rows of m: count them as left out too.
    dropped = review_set.height - complete.values.shape[0]
    values = complete.values
    names = complete.raters
    extra, extra_names = [], []
    if jury:
        absent = [j for j in jury if j not in evaluators]
        if absent:
            raise ValueError(f"jury members {absent} are not among the evaluators {list(evaluators)}")
        extra.append(values[:, [names.index(j) for j in jury]].mean(axis=1))
        extra_names.append(JURY)
    extra.append(values[:, :len(humans)].mean(axis=1))
    extra_names.append(HUMAN_MEAN)
    full = RatingMatrix(values=np.column_stack([values, *extra]), index=complete.index,
                        raters=(*names, *extra_names), clusters=complete.clusters)
    cat = dict(zip(items["item_id"].to_list(), items["category"].to_list()))
    return ReviewScores(matrix=full, categories=tuple(cat.get(c) for c in full.clusters), n_dropped=dropped)


def human_pairs(evaluators: Sequence[str], humans: Sequence[str]) -> list[tuple[str, str]]:
    """Each evaluator (include ``jury`` to have it) against each human and the human mean,
    then human vs human."""
    refs = [*humans, HUMAN_MEAN]
    pairs = [(e, h) for e in evaluators for h in refs]
    pairs += [(humans[i], humans[j]) for i in range(len(humans)) for j in range(i + 1, len(humans))]
    return pairs


def evaluator_pairs(scores: ReviewScores, evaluator: str, humans: Sequence[str]) -> list[tuple[str, str]]:
    """``evaluator`` against every other rater of ``scores``, then the human-human ceiling."""
    return [(evaluator, r) for r in scores.matrix.raters if r != evaluator] + [
        (humans[i], humans[j]) for i in range(len(humans)) for j in range(i + 1, len(humans))]


def agreement_table(scores: ReviewScores, pairs: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """MAE, RMSE (points), within-1 (%), QWK, Krippendorff's alpha (interval), Gwet's AC1 and
    AC2 (quadratic weights) per pair.

    QWK, ``gwet_ac1`` and ``gwet_ac2_quadratic`` are computed on the scores rounded half up
    to the 1-5 grid (an LLM evaluator's mean of runs, 3.5, counts as 4), with all five
    points as categories; MAE, RMSE, within-1 and alpha use the scores as they are.
    """
    grid = list(range(1, 6))
    rows = []
    for a, b in pairs:
        x, y = scores.column(a), scores.column(b)
        rounded = np.column_stack([agreement.round_half_up(x, grid), agreement.round_half_up(y, grid)])
        rows.append(dict(
            rater_a=a, rater_b=b, n=len(x), mae=agreement.mae(x, y), rmse=agreement.rmse(x, y),
            within1_pct=agreement.within_one_pct(x, y), qwk=agreement.quadratic_weighted_kappa(x, y),
            kripp_alpha=agreement.krippendorff_alpha(np.column_stack([x, y]), level="interval"),
            gwet_ac1=gwet_ac1(rounded, categories=grid).estimate,
            gwet_ac2_quadratic=gwet_ac2(rounded, weights="quadratic", categories=grid).estimate,
        ))
    return pl.DataFrame(rows, schema={"rater_a": pl.String, "rater_b": pl.String, "n": pl.Int64, "mae": pl.Float64,
                                      "rmse": pl.Float64, "within1_pct": pl.Float64, "qwk": pl.Float64,
                                      "kripp_alpha": pl.Float64, "gwet_ac1": pl.Float64,
                                      "gwet_ac2_quadratic": pl.Float64})


def icc_table(scores: ReviewScores, pairs: Sequence[tuple[str, str]], *, n_boot: int = 2000, seed: int = 0,
              types: Sequence[str] = ("ICC(A,1)", "ICC(C,1)")) -> pl.DataFrame:
    """ICC per pair of raters: the F-based interval and the BCa bootstrap over items, side by side.

    Which interval to read: for a named evaluator against a named human the two raters
    are *fixed*, and the BCa row (``ci_assumes`` ``"resampled items"``) is the interval
    of that question. The F row of ICC(A,1) assumes raters sampled at random
    (``"raters random"``, McGraw & Wong 1996 case 2A): with a lenient evaluator it
    stays wide however many items there are (``docs/coverage.md``). The F row of
    ICC(C,1) is exact for fixed raters under the normal model (``"raters fixed"``).

    Columns: ``rater_a, rater_b, type, icc, ci_low, ci_high, ci_method, n``, then
    ``n_valid`` (finite bootstrap replicates; null for F rows), ``ci_note`` (caveats by
    the rules of :mod:`analysis.stats.intervals`, e.g. ``too few items`` below 30
    items), ``ci_assumes`` and ``n_dropped`` (review items left out because a rater's
    score is missing: :attr:`ReviewScores.n_dropped`, the same on every row).
    """
    frames = []
    for a, b in pairs:
        x = np.column_stack([scores.column(a), scores.column(b)])
        for ci in ("f", "bca"):
            res = intraclass_corr(x, ci=ci, n_boot=n_boot, seed=seed)
            frames.append(res.filter(pl.col("type").is_in(list(types))).select(
                pl.lit(a).alias("rater_a"), pl.lit(b).alias("rater_b"), "type", "icc", "ci_low", "ci_high",
                "ci_method", pl.col("n_items").alias("n"), "n_valid", "ci_note", "ci_assumes",
                pl.lit(scores.n_dropped, dtype=pl.Int64).alias("n_dropped")))
    return pl.concat(frames)


def bias_table(scores: ReviewScores, evaluators: Sequence[str], *, references: Sequence[str] = (HUMAN_MEAN,),
               n_boot: int = 2000, seed: int = 0, by_category: bool = True) -> pl.DataFrame:
    """Signed bias (evaluator - reference, points on 1-5) with BCa CI, overall (category
    ``all``) and per crisis category. ``evaluators`` are used as given (add ``jury``).

    ``n_valid`` counts the finite bootstrap replicates and ``ci_note`` carries the
    caveats of :mod:`analysis.stats.intervals`: a category with fewer than 30 items is
    flagged ``too few items`` (its BCa interval is too narrow, ``docs/coverage.md``),
    one with fewer than 2 items has no interval (``no interval below 2 items``).
    ``n_dropped``: review items left out because a rater's score is missing (the same
    on every row).
    """
    rows = []
    cats = np.asarray(scores.categories, dtype=object)
    groups = [("all", np.ones(len(cats), bool))]
    if by_category:
        groups += [(c, cats == c) for c in sorted({c for c in cats if c is not None})]
    for e, reference in ((e, r) for e in evaluators for r in references):
        for name, mask in groups:
            x, y = scores.column(e)[mask], scores.column(reference)[mask]
            if len(x) < 2:
                bias = float(np.mean(x - y)) if len(x) else float("nan")
                rows.append(dict(evaluator=e, reference=reference, category=name, n=len(x), bias=bias,
                                 ci_low=float("nan"), ci_high=float("nan"), n_valid=None,
                                 ci_note=ci_note(float("nan"), float("nan"), estimate=bias, n_units=len(x),
                                                 n_boot=n_boot, reasons="no interval below 2 items"),
                                 n_dropped=scores.n_dropped))
                continue
            r = mean_bias(x, y, n_boot=n_boot, seed=seed)
            rows.append(dict(evaluator=e, reference=reference, category=name, n=r.n, bias=r.estimate,
                             ci_low=r.ci_low, ci_high=r.ci_high, n_valid=r.n_valid, ci_note=r.ci_note,
                             n_dropped=scores.n_dropped))
    return pl.DataFrame(rows, schema={"evaluator": pl.String, "reference": pl.String, "category": pl.String,
                                      "n": pl.Int64, "bias": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "n_valid": pl.Int64, "ci_note": pl.String,
                                      "n_dropped": pl.Int64})


# ---------------------------------------------------------------------------------
# Large user studies: the same tables from the streaming reader's reductions

def agreement_row(x: np.ndarray, y: np.ndarray) -> dict:
    """One row of :func:`agreement_table` in O(n) for a pair of complete score columns:
    MAE, RMSE and within-1 from the scores, QWK and Gwet's AC1/AC2 from the 5 x 5 table of
    the scores rounded half up, Krippendorff's interval alpha from the table of the
    distinct values (:func:`analysis.data.tidy_stream.pair_tables`; the coefficients are
    :mod:`analysis.stats.chance`'s, equal to :func:`agreement_table`'s to rounding, tested)."""
    from analysis.data.tidy_stream import GRID, pair_tables

    rounded, distinct, values = pair_tables(x, y)
    return dict(n=len(x), mae=agreement.mae(x, y), rmse=agreement.rmse(x, y),
                within1_pct=agreement.within_one_pct(x, y), qwk=chance.cohen_kappa_table(rounded, "quadratic"),
                kripp_alpha=chance.krippendorff_alpha_table(distinct, values, "interval"),
                gwet_ac1=chance.gwet_ac_table(rounded, None, categories=GRID),
                gwet_ac2_quadratic=chance.gwet_ac_table(rounded, "quadratic", categories=GRID))


def stream_summary(study_path, *, n_boot: int = 2000, seed: int = 20261124, engine: str = "polars",
                   scheduler: str | None = None, client=None) -> dict[str, pl.DataFrame]:
    """The tables of ``python -m analysis summary --study FILE`` (``audit``, ``agreement``,
    ``icc``, ``bias``, ``_meta``) for a large ordinal study, from the reductions of
    :mod:`analysis.data.tidy_stream` (the file is never loaded whole).

    ``engine="dask"``: the per-item table is computed by Dask over partitioned parquet
    (:func:`analysis.data.tidy_dask.dask_study`; ``scheduler`` the address of a running
    cluster, or ``client`` a ``distributed.Client``; neither: a LocalCluster of this
    machine), gathered and bootstrapped here: the same tables as the polars engine."""
    from analysis.data.tidy_stream import pair_intervals, review_columns, stream_study

    if engine == "dask":
        from analysis.data.tidy_dask import dask_study

        s = dask_study(study_path, scheduler=scheduler, client=client)
    elif engine == "polars":
        s = stream_study(study_path)
    else:
        raise ValueError(f"engine must be 'polars' or 'dask', not {engine!r}")
    values, names = review_columns(s)
    humans = s.study.references
    refs = [*humans, HUMAN_MEAN]
    pairs = [(e, h) for e in s.names for h in refs]
    pairs += [(humans[i], humans[j]) for i in range(len(humans)) for j in range(i + 1, len(humans))]
    col = {r: i for i, r in enumerate(names)}
    agreement_rows = [dict(rater_a=a, rater_b=b, **agreement_row(values[:, col[a]], values[:, col[b]]))
                      for a, b in pairs]
    icc, bias = pair_intervals(values, names, pairs, [(e, HUMAN_MEAN) for e in s.names], n_boot=n_boot,
                               seed=seed, n_dropped=s.n_dropped)
    return {
        "audit": s.audit,
        "agreement": pl.DataFrame(agreement_rows, schema={
            "rater_a": pl.String, "rater_b": pl.String, "n": pl.Int64, "mae": pl.Float64, "rmse": pl.Float64,
            "within1_pct": pl.Float64, "qwk": pl.Float64, "kripp_alpha": pl.Float64, "gwet_ac1": pl.Float64,
            "gwet_ac2_quadratic": pl.Float64}),
        "icc": icc, "bias": bias,
        "_meta": pl.DataFrame({"header": [
            f"{values.shape[0]} review items scored by every rater ({s.n_dropped} review items without a complete "
            f"set of scores left out); {s.n_rows} rating rows read by the streaming path"
            + (" (Dask)" if engine == "dask" else "")],
            "scale": [f"bias = evaluator - reference, points on {s.study.low:g}–{s.study.high:g}"
                      + (" (integers)" if s.study.integer else "")]}),
    }
