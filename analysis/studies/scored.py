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
from analysis.stats.intervals import ci_note, with_clusters
from analysis.data.ratings import RatingMatrix, to_matrix

from analysis.data.tidy import HUMAN_MEAN  # the reserved rater name, declared once


CASES = ("available", "listwise")
"""How items missing a rater's score are handled (:func:`review_scores`): ``"available"``,
every pair of raters on the items both scored (per-judge available cases: adding a judge
never changes another judge's row); ``"listwise"``, only the items every rater scored."""


@dataclass(frozen=True)
class ReviewScores:
    """Scores of the human-reviewed responses: one row per item, one column per rater.

    ``values[:, j]`` is rater ``raters[j]``: the humans, each LLM evaluator (mean of its
    evaluation runs), ``jury`` (mean of the jury's members, if the study has a jury) and
    ``human_mean``. With ``cases="listwise"`` only items scored by every rater are kept;
    ``n_dropped`` counts the review items that were not (for Between Help and Harm: the
    16 items without a consensus label). With ``cases="available"`` an item is kept when
    any rater scored it, NaN where one did not, and every pair of raters uses the items
    both scored (:meth:`mask`); ``n_dropped`` then counts the review items nobody scored.
    ``clustered``: the study declares clusters (``matrix.clusters``), so every bootstrap
    resamples whole clusters (:meth:`clusters_of`).
    """

    matrix: RatingMatrix
    categories: tuple[str | None, ...]
    n_dropped: int
    cases: str = "listwise"
    clustered: bool = False
    n_review: int | None = None

    def column(self, rater: str) -> np.ndarray:
        return self.matrix.values[:, self.matrix.raters.index(rater)]

    def mask(self, *raters: str) -> np.ndarray:
        """Rows where every one of ``raters`` has a score."""
        return np.all([np.isfinite(self.column(r)) for r in raters], axis=0)

    def columns(self, *raters: str) -> tuple[np.ndarray, ...]:
        """The columns of ``raters`` on the rows where every one of them has a score."""
        keep = self.mask(*raters)
        return tuple(self.column(r)[keep] for r in raters)

    def clusters_of(self, mask: np.ndarray):
        """Cluster labels of the rows ``mask`` for a cluster bootstrap, ``None`` when the
        study declares no clusters (items are resampled)."""
        return np.asarray(self.matrix.clusters, dtype=object)[mask] if self.clustered else None

    def dropped(self, n: int) -> int:
        """Review items a row of ``n`` items leaves out (``n_dropped`` when listwise)."""
        return self.n_dropped if self.n_review is None else self.n_review - n

    @property
    def unit(self) -> str:
        return "clusters" if self.clustered else "items"


def review_scores(ratings: pl.DataFrame, review_set: pl.DataFrame, items: pl.DataFrame, *,
                  humans: Sequence[str], evaluators: Sequence[str], jury: Sequence[str] = (),
                  cases: str = "listwise", clustered: bool = False) -> ReviewScores:
    """The items x raters matrix of the review set (the responses the humans scored).

    Columns: ``humans``, ``evaluators``, then ``jury`` (the mean of the ``jury`` members;
    absent when ``jury`` is empty) and ``human_mean`` (the mean of the humans).
    ``cases`` (:data:`CASES`): ``"listwise"`` keeps the items every rater scored;
    ``"available"`` keeps every scored item, and then ``human_mean`` is the mean of the
    humans who scored the item and ``jury`` needs every jury member's score.
    ``clustered``: resample the items' clusters (``item_id``) in every interval.
    """
    if cases not in CASES:
        raise ValueError(f"cases must be one of {CASES}, not {cases!r}")
    reviewed = ratings.filter(pl.col("response_id").is_in(review_set["response_id"].to_list()))
    m = to_matrix(reviewed, [*humans, *evaluators], index="response_id")
    if cases == "listwise":
        complete, _ = m.complete()
    else:
        complete = m
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
    h = values[:, :len(humans)]
    if cases == "listwise":
        extra.append(h.mean(axis=1))
    else:
        scored = np.isfinite(h).sum(axis=1)
        extra.append(np.where(scored > 0, np.nansum(h, axis=1) / np.maximum(scored, 1), np.nan))
    extra_names.append(HUMAN_MEAN)
    full = RatingMatrix(values=np.column_stack([values, *extra]), index=complete.index,
                        raters=(*names, *extra_names), clusters=complete.clusters)
    cat = dict(zip(items["item_id"].to_list(), items["category"].to_list()))
    return ReviewScores(matrix=full, categories=tuple(cat.get(c) for c in full.clusters), n_dropped=dropped,
                        cases=cases, clustered=clustered,
                        n_review=review_set.height if cases == "available" else None)


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
        keep = scores.mask(a, b)
        x, y = scores.column(a)[keep], scores.column(b)[keep]
        if len(x) < 2:
            rows.append(dict(rater_a=a, rater_b=b, n=len(x)))
            continue
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


ICC_SCHEMA = {"rater_a": pl.String, "rater_b": pl.String, "type": pl.String, "icc": pl.Float64,
              "ci_low": pl.Float64, "ci_high": pl.Float64, "ci_method": pl.String, "n": pl.Int64,
              "n_valid": pl.Int64, "ci_note": pl.String, "ci_assumes": pl.String, "n_dropped": pl.Int64}


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
    score is missing: :meth:`ReviewScores.dropped`, per row with available cases). A pair
    with fewer than 3 common items has no ICC (NaN, ``ci_note`` says why). With clusters
    (:attr:`ReviewScores.clustered`) the bootstrap resamples clusters.
    """
    frames = []
    for a, b in pairs:
        keep = scores.mask(a, b)
        x = np.column_stack([scores.column(a)[keep], scores.column(b)[keep]])
        if len(x) < 3:
            frames.append(pl.DataFrame([dict(rater_a=a, rater_b=b, type=t, icc=float("nan"), ci_low=float("nan"),
                                             ci_high=float("nan"), ci_method=ci, n=len(x), n_valid=None,
                                             ci_note=f"no ICC below 3 common items ({len(x)})", ci_assumes=None,
                                             n_dropped=scores.dropped(len(x)))
                                        for ci in ("F", "BCa") for t in types], schema=ICC_SCHEMA))
            continue
        for ci in ("f", "bca"):
            res = intraclass_corr(x, ci=ci, n_boot=n_boot, seed=seed, clusters=scores.clusters_of(keep))
            frames.append(res.filter(pl.col("type").is_in(list(types))).select(
                pl.lit(a).alias("rater_a"), pl.lit(b).alias("rater_b"), "type", "icc", "ci_low", "ci_high",
                "ci_method", pl.col("n_items").alias("n"), "n_valid", "ci_note", "ci_assumes",
                pl.lit(scores.dropped(int(keep.sum())), dtype=pl.Int64).alias("n_dropped")))
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
    on every row when listwise, per row with available cases). With clusters
    (:attr:`ReviewScores.clustered`) the bootstrap resamples clusters and ``ci_note``
    says so (``resampled clusters``).
    """
    rows = []
    cats = np.asarray(scores.categories, dtype=object)
    groups = [("all", np.ones(len(cats), bool))]
    if by_category:
        groups += [(c, cats == c) for c in sorted({c for c in cats if c is not None})]
    for e, reference in ((e, r) for e in evaluators for r in references):
        pair = scores.mask(e, reference)
        dropped = scores.dropped(int(pair.sum()))  # review items the pair leaves out (every category row)
        for name, group in groups:
            mask = group & pair
            x, y = scores.column(e)[mask], scores.column(reference)[mask]
            if len(x) < 2:
                bias = float(np.mean(x - y)) if len(x) else float("nan")
                rows.append(dict(evaluator=e, reference=reference, category=name, n=len(x), bias=bias,
                                 ci_low=float("nan"), ci_high=float("nan"), n_valid=None,
                                 ci_note=ci_note(float("nan"), float("nan"), estimate=bias, n_units=len(x),
                                                 n_boot=n_boot, reasons="no interval below 2 items"),
                                 n_dropped=dropped))
                continue
            r = mean_bias(x, y, n_boot=n_boot, seed=seed, clusters=scores.clusters_of(mask))
            note = with_clusters(r.ci_note, scores.clustered)
            rows.append(dict(evaluator=e, reference=reference, category=name, n=r.n, bias=r.estimate,
                             ci_low=r.ci_low, ci_high=r.ci_high, n_valid=r.n_valid, ci_note=note,
                             n_dropped=dropped))
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
                               seed=seed, n_dropped=s.n_dropped, clusters=s.clusters if s.clustered else None,
                               means={HUMAN_MEAN: humans})
    # Which raters' gaps left items out: a reviewer can tell a judge that failed on many
    # items (listwise then drops them for every judge) from scattered exclusions.
    missing = (", missing a score of " + ", ".join(f"{r} {m:,}" for r, m in s.missing)) if s.missing else ""
    clusters = clusters_header(s.clusters.n_unique()) if s.clustered else ""
    return {
        "audit": s.audit,
        "agreement": pl.DataFrame(agreement_rows, schema={
            "rater_a": pl.String, "rater_b": pl.String, "n": pl.Int64, "mae": pl.Float64, "rmse": pl.Float64,
            "within1_pct": pl.Float64, "qwk": pl.Float64, "kripp_alpha": pl.Float64, "gwet_ac1": pl.Float64,
            "gwet_ac2_quadratic": pl.Float64}),
        "icc": icc, "bias": bias,
        "_meta": pl.DataFrame({"header": [
            f"{values.shape[0]} review items scored by every rater ({s.n_dropped} review items without a complete "
            f"set of scores left out{missing}; listwise across raters: the streaming path keeps complete items only); "
            f"{s.n_rows} rating rows read by the streaming path"
            + (" (Dask)" if engine == "dask" else "") + clusters],
            "scale": [f"bias = evaluator - reference, points on {s.study.low:g}–{s.study.high:g}"
                      + (" (integers)" if s.study.integer else "")]}),
    }


# --- the scored kind's hooks (analysis.studies.registry.KINDS) ---------------------------

def study_clustered(study) -> bool:
    """Does the study declare clusters (a user study's ``cluster`` column)? Then every
    interval resamples whole clusters. Built-in studies declare none here."""
    return "cluster" in getattr(study.data, "present", frozenset())


def clusters_header(n_clusters: int) -> str:
    """The summary header's clause for a study whose intervals resample clusters (one
    wording for the in-memory and the streamed summary)."""
    return f"; every interval resamples clusters ({n_clusters} clusters, the study's cluster column)"


def summary_tables(study, *, n_boot: int, seed: int, cases: str = "available") -> dict[str, pl.DataFrame]:
    """``summary`` of a scored study with a review set: for each evaluator (and the jury)
    against every reference and their mean: agreement, ICC(A,1)/ICC(C,1) (F and BCa
    intervals), bias = evaluator - reference mean (points) with its BCa interval; the
    planted truth where the data have one (the demo).

    ``cases`` (:data:`CASES`): ``"available"`` (default) gives every row the items its two
    raters both scored (``n`` per row; adding a judge never changes another judge's row),
    ``"listwise"`` only the items every rater scored. The header names the choice, and
    whether the intervals resample clusters (a study with a ``cluster`` column)."""
    from analysis.data.ratings import audit_summary

    spec, data = study.spec, study.data
    clustered = study_clustered(study)
    scores = review_scores(data.ratings, data.review_set, data.items, humans=spec.references,
                           evaluators=study.evaluators, jury=study.jury, cases=cases, clustered=clustered)
    humans = spec.references
    tables = {
        "audit": audit_summary(data.audit),
        "agreement": agreement_table(scores, human_pairs(study.names, humans)),
        "icc": icc_table(scores, human_pairs(study.names, humans), n_boot=n_boot, seed=seed),
        "bias": bias_table(scores, list(study.names), n_boot=n_boot, seed=seed, by_category=False),
    }
    if data.truth is not None:
        tables["truth"] = data.truth
    n_rows = scores.matrix.values.shape[0]
    if cases == "listwise":
        header = (f"{n_rows} review items scored by every rater ({scores.n_dropped} review items "
                  f"without a complete set of scores left out; listwise across raters)")
    elif np.isfinite(scores.matrix.values).all():
        # Every rater scored every kept item: available cases are the complete cases.
        header = (f"{n_rows} review items scored by every rater ({scores.n_dropped} review items "
                  f"without a complete set of scores left out)")
    else:
        header = (f"{n_rows} review items; each row on the items its two raters both scored (per-judge available "
                  f"cases, n per row; human_mean = mean of the references who scored the item; "
                  f"{scores.n_dropped} review items nobody scored left out)")
    if clustered:
        header += clusters_header(len(set(scores.matrix.clusters)))
    tables["_meta"] = pl.DataFrame({"header": [header], "scale": ["bias = evaluator - reference, points on "
                                                                 f"{spec.scale.describe()}"]})
    return tables


def export_study(study, out_dir, *, title: str) -> list:
    """``export``: every rating as a tidy file (runs, categories, clusters, sources), with
    the study's scale, references, jury and own answer models."""
    from analysis.data.tidy import tidy_from_ratings, write_study

    spec = study.spec
    tidy = tidy_from_ratings(study.data.ratings)
    return [write_study(tidy, out_dir, name=f"{spec.name}-export", title=title, references=spec.references,
                        scale=(int(spec.scale.low), int(spec.scale.high)), integer=spec.scale.integer,
                        jury=study.jury, own_source=study.own_answer_model)]


def overview_forest(study, overview: pl.DataFrame) -> dict:
    """The forest plot of the overview: ICC(A,1) and ICC(C,1) against the reference mean,
    with the reference–reference ceiling."""
    long = pl.concat([overview.select("evaluator", pl.lit(label).alias("measure"), pl.col(m).alias("estimate"),
                                      pl.col(f"{m}_ci_low").alias("ci_low"), pl.col(f"{m}_ci_high").alias("ci_high"))
                      for m, label in (("icc_a1", "ICC(A,1)"), ("icc_c1", "ICC(C,1)"))])
    # The line a judge as good as one human reaches against the mean of the humans
    # (analysis.stats.ceiling.reference_ceiling), not the human-human ICC itself.
    ceiling = overview.drop_nulls("ceiling_icc_a1") if "ceiling_icc_a1" in overview.columns else overview.clear()
    first = ceiling.row(0, named=True) if ceiling.height else None
    return dict(long=long, xlabel="ICC with the human mean (95% BCa CI)",
                reference=float(first["ceiling_icc_a1"]) if first else None,
                reference_label=(f"ceiling: one human vs the mean of {first['n_references']} "
                                 f"(human–human {first['human_icc_a1']:.2f})" if first else None),
                title=f"{study.spec.title}: evaluators against the humans")
