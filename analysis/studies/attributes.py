"""Several attributes rated in one study: each judge against the reference, attribute by attribute.

A study whose raters score several attributes of each response (MentalAlign-70k's seven:
guidance, informativeness, relevance, safety, empathy, helpfulness, understanding; a
user's file with an ``attribute`` column) is analysed whole: every attribute is a study
of its own (its tables, its reports in ``reports/<study>/<attribute>/``), and one table
puts every judge × attribute side by side (:func:`cross_attribute_table`): which
attributes can the judge be trusted on? (MentalBench-Align, Badawi et al. 2025, Table 4.)

Each cell is response level: the (reference, judge) pairs of one attribute, the judge's
own model family left out (``own_family``), responses with only one of the two ratings
left out (pairwise deletion, counted in ``n_dropped``):

* ``icc_a1`` / ``icc_c1``: ICC(A,1) and ICC(C,1) (McGraw & Wong 1996) of the pairs, with
  BCa intervals from a bootstrap over clusters (conversations: the responses to one
  conversation are not independent);
* ``bias`` = judge − reference, points on the study scale, with its BCa interval over
  the same resamples;
* ``verdict``: the Koo & Li (2016) reliability band of the ICC(A,1) interval's two
  bounds (``"good"``, ``"poor to moderate"``, ...), as Koo & Li recommend.

With several references the reference is their mean per response (``human_mean``); a
judge with several runs enters with the mean of its runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.data.tidy import HUMAN_MEAN
from analysis.stats.icc import intraclass_corr


@dataclass(frozen=True)
class JudgePairs:
    """Responses rated by both the human and the judge on one attribute."""

    human: np.ndarray
    judge: np.ndarray
    source: np.ndarray  # source code per pair, into ``sources``
    conversation: np.ndarray  # conversation id per pair
    sources: tuple[str, ...]
    dropped_sources: tuple[str, ...] = ()  # answer model of every response left out for a missing rating

    @property
    def n_dropped(self) -> int:
        """Responses with only one of the two ratings (pairwise deletion)."""
        return len(self.dropped_sources)


def pairs_of(ratings: pl.DataFrame, judge: str, attribute: str, *, reference: str = "human",
             own_family: dict | None = None) -> JudgePairs:
    """The (reference, judge) score pairs of one attribute, sorted by response.

    ``own_family`` (judge -> answer model of its own family) leaves out the responses of
    the judge's own model family; a judge without an entry keeps every source. Responses
    with only one of the two ratings are left out and listed by source in
    ``dropped_sources``. ``ratings`` hold one rating per response, rater and attribute.
    """
    own = (own_family or {}).get(judge)
    if judge not in ratings["rater"].unique().to_list():
        raise ValueError(f"no ratings of judge {judge!r}; judges in the data: "
                         f"{', '.join(sorted(set(ratings['rater'].unique().to_list()) - {reference}))}")
    sub = ratings.filter((pl.col("attribute") == attribute) & pl.col("rater").is_in([reference, judge]))
    if own:
        sub = sub.filter(pl.col("answer_model") != own)
    pivoted = sub.pivot(on="rater", index=["response_id", "item_id", "answer_model"], values="score")
    wide = pivoted.drop_nulls([c for c in (reference, judge) if c in pivoted.columns]).sort("response_id")
    if reference not in wide.columns or judge not in wide.columns or wide.height == 0:
        raise ValueError(f"no response has both a {reference} and a {judge} rating of {attribute}")
    sources = tuple(sorted(wide["answer_model"].unique().to_list()))
    code = {s: i for i, s in enumerate(sources)}
    return JudgePairs(human=wide[reference].to_numpy().astype(float), judge=wide[judge].to_numpy().astype(float),
                      source=np.array([code[s] for s in wide["answer_model"]]),
                      conversation=wide["item_id"].to_numpy(), sources=sources,
                      dropped_sources=tuple(pivoted.filter(pl.any_horizontal(pl.col(reference, judge).is_null()))
                                            .sort("response_id")["answer_model"].to_list()))


def bias_row(p: JudgePairs, *, n_boot: int = 2000, seed: int = 0, plan=None) -> dict:
    """Human mean, judge mean, bias = judge − human (points) with a cluster-bootstrap BCa
    CI over conversations, MSE and its decomposition, on the pairs ``p``; ``n_valid``
    and ``ci_note`` of the interval, and ``n_dropped`` (responses with one rating only).
    ``plan`` (a :class:`~analysis.stats.bootstrap.ResamplePlan` over ``p.conversation``)
    reuses resamples already drawn; the result is bitwise the same."""
    from analysis.stats.bias import mean_bias, mse_decomposition

    if plan is not None:
        b = mean_bias(p.judge, p.human, plan=plan)
    else:
        b = mean_bias(p.judge, p.human, n_boot=n_boot, seed=seed, clusters=p.conversation)
    d = mse_decomposition(p.judge, p.human)
    return dict(human_mean=float(p.human.mean()), judge_mean=float(p.judge.mean()), bias=b.estimate, ci_low=b.ci_low,
                ci_high=b.ci_high, mse=d.mse, bias_sq=d.bias_sq, scale=d.scale, correlation=d.correlation,
                n=int(p.human.size), n_valid=b.n_valid, ci_note=b.ci_note, n_dropped=p.n_dropped)


KOO_LI_BANDS = ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (float("inf"), "excellent"))
"""Koo & Li (2016): ICC < 0.5 poor, 0.5-0.75 moderate, 0.75-0.9 good, > 0.9 excellent."""


def koo_li_band(icc: float) -> str:
    if not np.isfinite(icc):
        return "undetermined"
    return next(name for bound, name in KOO_LI_BANDS if icc < bound)


def koo_li_category(ci_low: float, ci_high: float) -> str:
    """Reliability category from the CI bounds, as Koo & Li (2016) recommend: the band of
    each bound, e.g. ``"moderate"`` or ``"poor to good"`` when the CI spans bands."""
    lo, hi = koo_li_band(ci_low), koo_li_band(ci_high)
    return lo if lo == hi else f"{lo} to {hi}"


def cross_attribute_table(ratings: pl.DataFrame, judges, attributes, *, reference: str = "human",
                          own_family: dict | None = None, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """One row per judge × attribute (see the module docstring): ``evaluator, attribute,
    n, icc_a1 (+ _ci_low, _ci_high), icc_c1 (...), bias, bias_ci_low, bias_ci_high,
    verdict``. ``ratings``: one rating per response, rater and attribute (the
    :data:`~analysis.data.ratings.RATINGS_SCHEMA` columns ``rater, attribute,
    response_id, item_id, answer_model, score``), on the scale the table is read on.
    Every interval of a cell comes from one cluster bootstrap of ``n_boot`` resamples
    seeded by ``seed``."""
    from analysis.stats.bootstrap import ResamplePlan

    rows = []
    # One draw per run of cells with the same conversations (a judge's attributes share
    # them): the intervals are bitwise those of a draw per cell, at a fraction of the cost.
    plan, drawn_for = None, None
    for judge in judges:
        for attribute in attributes:
            p = pairs_of(ratings, judge, attribute, reference=reference, own_family=own_family)
            x = np.column_stack([p.judge, p.human])
            if drawn_for is None or not np.array_equal(p.conversation, drawn_for):
                plan, drawn_for = ResamplePlan(len(x), n_boot, seed, clusters=p.conversation), p.conversation
            res = intraclass_corr(x, ci="bca", plan=plan)
            row = {"evaluator": judge, "attribute": attribute, "n": x.shape[0]}
            for form, name in (("ICC(A,1)", "icc_a1"), ("ICC(C,1)", "icc_c1")):
                r = res.filter(pl.col("type") == form).row(0, named=True)
                row |= {name: r["icc"], f"{name}_ci_low": r["ci_low"], f"{name}_ci_high": r["ci_high"]}
            b = bias_row(p, plan=plan)
            row |= {"bias": b["bias"], "bias_ci_low": b["ci_low"], "bias_ci_high": b["ci_high"],
                    "verdict": koo_li_category(row["icc_a1_ci_low"], row["icc_a1_ci_high"])}
            rows.append(row)
    return pl.DataFrame(rows)


def one_rating_each(ratings: pl.DataFrame, references) -> tuple[pl.DataFrame, str]:
    """The ratings with one rating per response, rater and attribute, and the reference's
    name: a judge's runs averaged; several references replaced by their mean
    (:data:`~analysis.data.tidy.HUMAN_MEAN`). Unchanged when each is one rating already."""
    references = list(references)
    keys = ["attribute", "response_id", "item_id", "answer_model"]
    one_run = ratings.select(pl.struct("attribute", "response_id", "rater").is_duplicated().any()).item() is False
    if one_run and len(references) == 1:
        return ratings, references[0]
    cols = [*keys, "rater", "score"]
    judged = (ratings.filter(~pl.col("rater").is_in(references)).group_by([*keys, "rater"], maintain_order=True)
              .agg(pl.col("score").mean()).select(cols))
    refs = ratings.filter(pl.col("rater").is_in(references))
    if len(references) == 1:
        reference = references[0]
        refs = refs.group_by([*keys, "rater"], maintain_order=True).agg(pl.col("score").mean()).select(cols)
    else:
        reference = HUMAN_MEAN
        refs = (refs.group_by([*keys, "rater"], maintain_order=True).agg(pl.col("score").mean())
                .group_by(keys, maintain_order=True).agg(pl.col("score").mean())
                .with_columns(pl.lit(HUMAN_MEAN).alias("rater")).select(cols))
    return pl.concat([refs, judged]), reference


# --- the hooks of a multi-attribute user study (analysis.studies.registry.MULTI_ATTRIBUTE_HOOKS)

def attribute_overview(study, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """The overview of a multi-attribute study: :func:`cross_attribute_table` of every
    evaluator × attribute against the references (their mean when several), the judges'
    own families (``own_source``) left out."""
    ratings, reference = one_rating_each(study.data.ratings, study.spec.references)
    return cross_attribute_table(ratings, study.evaluators, study.data.attributes, reference=reference,
                                 own_family=study.own_answer_model, n_boot=n_boot, seed=seed)


def summary_tables(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """``summary`` of a multi-attribute study: the judge × attribute table
    (``attributes``), then each table of every attribute's own summary, keyed by
    attribute (first column ``attribute``)."""
    from analysis.studies.registry import load_study

    tables = {"attributes": attribute_overview(study, n_boot=n_boot, seed=seed)}
    per: dict[str, list[pl.DataFrame]] = {}
    for attribute in study.spec.attributes:
        sub = load_study(study.spec.of_attribute(attribute).key, seed=seed)
        for name, table in sub.spec.hooks.summary(sub, n_boot=n_boot, seed=seed).items():
            if name != "_meta":
                per.setdefault(name, []).append(table.select(pl.lit(attribute).alias("attribute"), pl.all()))
    tables |= {name: pl.concat(parts, how="diagonal_relaxed") for name, parts in per.items()}
    tables["_meta"] = pl.DataFrame({
        "header": [f"{len(study.evaluators)} evaluators x {len(study.spec.attributes)} attributes "
                   f"({', '.join(study.spec.attributes)}); each attribute's tables below, keyed by attribute"],
        "scale": [f"attributes: response-level ICC with BCa CI over clusters, judge's own family left out; "
                  f"bias = evaluator - reference, points on {study.spec.scale.describe()}"]})
    return tables


def overview_forest(study, overview: pl.DataFrame) -> dict:
    """The forest plot of the judge × attribute overview: response-level ICC(A,1) per cell."""
    long = overview.select((pl.col("evaluator") + " · " + pl.col("attribute")).alias("evaluator"),
                           pl.lit("ICC(A,1)").alias("measure"), pl.col("icc_a1").alias("estimate"),
                           pl.col("icc_a1_ci_low").alias("ci_low"), pl.col("icc_a1_ci_high").alias("ci_high"))
    return dict(long=long, xlabel="ICC(A,1), judge vs human (response level)",
                title=f"{study.spec.title}: every judge and attribute")


def overview_heatmap_data(overview: pl.DataFrame, measure: str = "icc_a1") -> pl.DataFrame:
    """The overview as a judge × attribute grid of ``measure`` (rows: evaluators)."""
    return overview.pivot(on="attribute", index="evaluator", values=measure)
