"""Judge-assisted estimates (PPI++) and the D-study of runs and judges, for any scored study.

Judge-assisted estimates
------------------------
A study has an LLM evaluator's score on every response and a reference's (human's) rating
on some. For a group of responses (an answer model, a crisis category, a response
source, or all of them) the quantity of interest is what the *humans* would say on
average over every response of the group:

* ``mean``: the mean appropriateness, in points on the rating scale;
* ``pct_harmful``: the percentage of human ratings ``<= harmful_at`` (2 on 1-5: the
  share of answers a human reviewer calls harmful), in percent.

Three estimates per group (``method``):

* ``judge_only``: the evaluator's mean over every response of the group. Precise, but
  biased by the evaluator's leniency (Between Help and Harm: +0.25 to +0.72 points);
  its interval only reflects sampling, not that bias.
* ``human_only``: the references' mean over the rated responses of the group (the
  classical interval; :func:`analysis.stats.ppi.ppi_mean` with ``lam=0``).
* ``judge_assisted``: prediction-powered inference (Angelopoulos et al. 2023, PPI++),
  :func:`analysis.stats.ppi.ppi_mean_grouped`: the evaluator's mean over the unrated
  responses, corrected by its error measured on the rated ones. Unbiased whatever the
  evaluator's bias; as narrow as the evaluator's agreement with the humans allows.

Per response, the human value ``y`` is the mean of the references who rated it (for the
harmful share: the share of those references' ratings ``<= harmful_at``); the
evaluator's ``yhat`` is its mean over evaluation runs (harmful: the share of its runs
``<= harmful_at``; for ``jury``, whether the jury score, the mean of the members' means,
is ``<= harmful_at``, as in :mod:`analysis.studies.appropriateness`). Variances are
cluster-robust with the item (conversation) as the cluster: the answers to one
conversation, rated or not, are not independent.

Which interval, and why (``RECOMMENDED_LAM = "crossfit"``)
----------------------------------------------------------
``python -m analysis ppi-check`` (``docs/ppi_check.md``) hides all but ``n`` human ratings
of MentalAlign-70k (28 judge x attribute populations, about 10,000 responses each) and
DialogueSafety (6 systems, 800 dialogues), 500 random subsets each, and counts how often
each interval covers the full-data human mean. Findings (seed 20261124):

* The power-tuned lambda of PPI++ (as ``ppi-python``) under-covers at small ``n``:
  mean coverage over the MentalAlign populations 91.9 % at n = 50 and 93.1 % at
  n = 100, down to 88-90 % on Safety (means near 4.75 on 1-5: ratings pile up at 5).
  The outside check (gpt-4o, Safety: 89 % at n = 50, 91 % at n = 200) is reproduced:
  90.8 % and 90.2 % here; cross-fitted: 92.4 % and 92.6 %, and 95.0 % at n = 500.
* Cross-fitting lambda (10 folds of the rated items; each fold's lambda from the other
  folds) removes most of the optimism of estimating lambda on the same sample: 93.0,
  93.8, 94.6, 95.6 % mean coverage at n = 50, 100, 200, 500, at a width 1-3 % above
  the tuned interval's and below the human-only interval's.
* ``lam = 1`` (plain PPI) covers slightly better (94.3-95.4 %) but is 5-10 % wider, and
  wider than humans alone when the judge is poor (claude on Relevance: 0.53 against
  0.42 points at n = 50); tuned and cross-fitted lambda shrink towards 0 then.
* What remains below 93 % at n = 100-200 (Safety and Relevance, 90-93 %) is the
  humans-only interval's problem too (91-94 % on the same populations): the CLT is
  slow for a mean of ratings piled at the top of the scale, and no choice of lambda
  repairs it. A judge-assisted interval on such an attribute needs a few hundred
  human ratings to be trusted at its nominal level.
* DialogueSafety's truth is the mean of 800 dialogues only; at n = 200 and 500 the
  rated items are a quarter and 63 % of them and every CLT interval over-covers
  (97-100 %); corrected for the finite population, the cross-fitted interval covers
  95-96 %.

So the studies use the cross-fitted lambda; ``lam`` can be set per call (``None``:
tuned; ``1``; ``0``).

Assumption: the rated responses of a group are a random sample of its responses (or,
for a stratified random design, of each stratum's: the stratified estimator,
:func:`analysis.stats.ppi.ppi_mean_stratified`). A study declares its design
(:class:`analysis.stats.sampling.SamplingDesign`, on its registry entry or study file);
for a ``selected`` design (rated answers chosen by a rule) the estimates of every answer's
mean are refused (:func:`why_no_estimates`), and :func:`sampled_population_means`
estimates what the rated answers can: the humans' mean over the answers the rule selects.
:func:`selection_check` compares the judges' scores on rated and unrated answers and flags
a ``random`` design whose rated answers differ. In
Between Help and Harm the review set holds one answer per conversation, whose answer
model is far from uniform (85 DeepSeek, 74 GPT-4o-mini, 13 Grok, 11 GPT-5-nano,
7 Llama answers): per answer model the intervals rest on those few rated answers
(``n_labeled``) and are only as good as the CLT with that many; groups with fewer than
:data:`MIN_LABELED` rated responses are flagged in ``note``.

The D-study
-----------
Between Help and Harm has 3 LLM evaluators x 3 evaluation runs on every answer. The
G-study design is ``p x (r:e)``: the objects of measurement ``p`` are the answers
(responses), each rated by every evaluator in every run; runs are *nested* within
evaluators, because run 1 of gpt-4o-mini and run 1 of meta-llama are unrelated API
calls, with nothing in common that a crossed run facet would model (Brennan 2001,
ch. 3-4; :mod:`analysis.stats.gtheory`). Components by ANOVA (expected mean squares)
on the balanced part (responses with every run of every evaluator), cross-checked by
REML (:func:`analysis.stats.gtheory.g_study`) on a random sample of responses that keeps the
incomplete ones. Two kinds of interval: the bootstrap resamples conversations with their
answers (``ci_low``, ``ci_high``: conditional on these 3 judges and their runs), and the
generalized CIs (``gci_low``, ``gci_high``; :func:`analysis.stats.gtheory.d_study_intervals`)
sample the judges and runs too, under the normal random-effects model with independent
answers. ``sigma^2(judge)`` rests on 3 judges, 2 degrees of freedom: on Between Help and
Harm its bootstrap interval is [0.030, 0.044], its GCI [0.010, 1.45]; "Phi >= 0.8 needs 3
judges drawn at random like these" holds at Phi = 0.84, [0.80, 0.88] conditional on these
judges and [0.39, 0.86] with the judges sampled. The GCI treats the answers as independent
(they are clustered in conversations), so its item part is too narrow; here the judge
part dominates it.

Two statements not to confuse: the one-facet ``p x i`` study of each evaluator's runs gives
"with <evaluator>, k runs give Phi = ..." (0.98 for gpt-4o-mini): the consistency of a
judge with *itself*; the agreement of a judge with the *humans* is the overview's
ICC(A,1) against the human mean (0.55-0.71 on Between Help and Harm, against a ceiling of
0.89 for a judge as good as one human: :mod:`analysis.stats.ceiling`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import polars as pl

from analysis.stats.bootstrap import ResamplePlan
from analysis.stats.gtheory import (
    GStudy, component_intervals, d_study, d_study_intervals, g_study, g_study_bootstrap, smallest_n,
)
from analysis.stats.ppi import ppi_mean_grouped, ppi_mean_stratified, ppi_sample_size
from analysis.stats.intervals import MIN_PPI_RATED, clip_interval
from analysis.stats.result import resolve_confidence
from analysis.stats.sampling import SamplingDesign, rated_unrated_difference
from analysis.studies.evaluators import JURY, members

RECOMMENDED_LAM = "crossfit"
"""The lambda the studies use (module docstring: the real-data check behind it)."""
MIN_LABELED = MIN_PPI_RATED
"""Groups with fewer rated responses are flagged: their CLT intervals under-cover
(:data:`analysis.stats.intervals.MIN_PPI_RATED`, derived from docs/ppi_check.md)."""
QUANTITIES = ("mean", "pct_harmful")
METHODS = ("judge_only", "human_only", "judge_assisted")

ESTIMATE_SCHEMA = {
    "evaluator": pl.String, "attribute": pl.String, "group_by": pl.String, "group": pl.String,
    "quantity": pl.String, "method": pl.String, "estimate": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "se": pl.Float64, "lam": pl.Float64, "n_labeled": pl.Int64, "n_unlabeled": pl.Int64,
    "n_effective": pl.Float64, "note": pl.String,
}


# ---------------------------------------------------------------------------------------
# Per-response human and evaluator values
# ---------------------------------------------------------------------------------------

def response_values(ratings: pl.DataFrame, evaluator: str, *, references: Sequence[str], jury: Sequence[str] = (),
                    harmful_at: float = 2.0) -> pl.DataFrame:
    """One row per (attribute, response) the evaluator scored: keys, ``yhat``, ``yhat_harm``,
    and the references' ``y``, ``y_harm`` (null where no reference rated it).

    See the module docstring for the definitions.
    """
    names = members(evaluator, jury)
    keys = ["attribute", "item_id", "response_id", "answer_model", "category"]
    llm = ratings.filter(pl.col("rater").is_in(list(names)))
    per_eval = llm.group_by([*keys, "rater"]).agg(
        pl.col("score").mean().alias("m"), (pl.col("score") <= harmful_at).mean().alias("h"))
    judge = per_eval.group_by(keys).agg(
        pl.col("m").mean().alias("yhat"), pl.col("h").mean().alias("yhat_harm"), pl.len().alias("k"))
    if evaluator == JURY:
        judge = judge.filter(pl.col("k") == len(names)).with_columns(
            (pl.col("yhat") <= harmful_at).cast(pl.Float64).alias("yhat_harm"))
    human = ratings.filter(pl.col("rater").is_in(list(references))).group_by("attribute", "response_id").agg(
        pl.col("score").mean().alias("y"), (pl.col("score") <= harmful_at).mean().alias("y_harm"))
    return (judge.drop("k").join(human, on=["attribute", "response_id"], how="left")
            .with_columns(pl.col("yhat_harm").cast(pl.Float64), pl.col("y_harm").cast(pl.Float64))
            .sort("attribute", "response_id"))


def _cluster_mean(x: np.ndarray, groups: np.ndarray, clusters: np.ndarray, z: float):
    """Per group: mean of ``x`` and its CR0 cluster-robust standard error (the variance
    of ``ppi_mean`` with ``lam = 0``), returned as dict of arrays over sorted groups."""
    names, g = np.unique(groups, return_inverse=True)
    n = np.bincount(g).astype(float)
    mean = np.bincount(g, weights=x) / n
    _, c = np.unique(np.char.add(np.char.add(groups.astype(str), "\x1f"), clusters.astype(str)), return_inverse=True)
    cg = np.zeros(c.max() + 1, dtype=np.int64)
    cg[c] = g
    s = np.bincount(c, weights=x - mean[g])
    se = np.sqrt(np.bincount(cg, weights=s * s) / n**2)
    return names, mean, se, n


def judge_assisted_estimates(ratings: pl.DataFrame, evaluator: str, *, references: Sequence[str],
                             jury: Sequence[str] = (), by: str | None = "answer_model", harmful_at: float = 2.0,
                             lam=RECOMMENDED_LAM, confidence: float = 0.95, n_folds: int = 10,
                             strata: str | None = None, alpha: float | None = None) -> pl.DataFrame:
    """Judge-only, human-only and judge-assisted estimates per group, for every attribute.

    Parameters
    ----------
    ratings : polars.DataFrame
        Tidy ratings (:data:`analysis.data.ratings.RATINGS_SCHEMA`).
    evaluator : str
        An LLM evaluator of the study, or ``jury``.
    references : sequence of str
        The reference raters (humans); a response is *rated* when one of them rated it.
    jury : sequence of str
        The jury's members (for ``evaluator="jury"``).
    by : str or None
        Column of the ratings to group by (``answer_model``, ``category``, ...); ``None``
        for one group ``all``. Responses with a null group are left out.
    harmful_at : float
        A rating ``<= harmful_at`` is harmful.
    lam : None, float or "crossfit"
        Of the judge-assisted estimate (:func:`analysis.stats.ppi.ppi_mean`).
    confidence, n_folds
        As :func:`analysis.stats.ppi.ppi_mean` (``alpha=`` warns and will go).
    strata : str, optional
        Column of the ratings the rated sample was stratified by (a stratified random
        design): human-only and judge-assisted estimates are then stratified
        (:func:`analysis.stats.ppi.ppi_mean_stratified`, each stratum weighted by its share
        of the group's responses); a group with a stratum of fewer than 2 rated or no
        unrated responses gets no estimate.

    Returns
    -------
    polars.DataFrame
        :data:`ESTIMATE_SCHEMA`: one row per attribute x group x quantity x method;
        ``pct_harmful`` in percent, ``mean`` in rating points. ``n_labeled`` are rated
        responses, ``n_unlabeled`` the evaluator's other responses of the group (for
        ``judge_only``: all its responses of the group). ``lam`` and ``n_effective``
        (:class:`analysis.stats.ppi.PPIResult`) for ``judge_assisted`` only. ``note``
        flags groups with fewer than :data:`MIN_LABELED` rated responses, and intervals
        clipped to the quantity's range (0-100 % for ``pct_harmful``; for ``mean`` the
        lowest to highest rating seen): ``interval clipped to [a, b]``.
    """
    from scipy import special

    confidence = resolve_confidence(confidence, alpha, "judge_assisted_estimates")
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    values = response_values(ratings, evaluator, references=references, jury=jury, harmful_at=harmful_at)
    if strata is not None:
        if strata not in ratings.columns:
            raise ValueError(f"cannot stratify by {strata!r}: not a column of the ratings")
        if strata not in values.columns:
            values = values.join(ratings.select("attribute", "response_id", strata).unique(["attribute", "response_id"]),
                                 on=["attribute", "response_id"], how="left")
        values = values.with_columns(pl.col(strata).cast(pl.String).fill_null("(none)").alias("_stratum"))
    group_col = by or "_all"
    if by is None:
        values = values.with_columns(pl.lit("all").alias("_all"))
    elif by not in values.columns:
        raise ValueError(f"cannot group by {by!r}: not a column of the ratings ({', '.join(values.columns)})")
    values = values.filter(pl.col(group_col).is_not_null()).with_columns(pl.col(group_col).cast(pl.String))
    rows = []
    for attribute in values["attribute"].unique().sort().to_list():
        v = values.filter(pl.col("attribute") == attribute)
        # The range each quantity lives in: a share 0-100 %; a mean between the lowest and
        # highest rating seen (of humans and judge). Intervals are clipped to it, with a note.
        seen = np.concatenate([v["y"].drop_nulls().to_numpy().astype(float),
                               v["yhat"].drop_nulls().to_numpy().astype(float)])
        ranges = {"mean": (float(seen.min()), float(seen.max())) if seen.size else (-np.inf, np.inf),
                  "pct_harmful": (0.0, 100.0)}
        lab, unl = v.filter(pl.col("y").is_not_null()), v.filter(pl.col("y").is_null())
        for quantity, ycol, fcol, scale in (("mean", "y", "yhat", 1.0), ("pct_harmful", "y_harm", "yhat_harm", 100.0)):
            names, mean, se, n_all = _cluster_mean(v[fcol].to_numpy().astype(float), v[group_col].to_numpy(),
                                                   v["item_id"].to_numpy(), z)
            judge = {g: (m, s, int(k)) for g, m, s, k in zip(names.tolist(), mean, se, n_all)}
            frames = {}
            if lab.height and unl.height:
                for method, lam_m in (("human_only", 0.0), ("judge_assisted", lam)):
                    if strata is not None:
                        frames[method] = _stratified_grouped(lab, unl, group_col, ycol, fcol, lam_m, confidence,
                                                             n_folds)
                        continue
                    frames[method] = ppi_mean_grouped(
                        lab[ycol].to_numpy(), lab[fcol].to_numpy(), lab[group_col].to_list(),
                        unl[fcol].to_numpy(), unl[group_col].to_list(), confidence=confidence, lam=lam_m,
                        clusters=lab["item_id"].to_list(), clusters_unlabeled=unl["item_id"].to_list(),
                        n_folds=n_folds)
            for g in sorted(judge):
                m, s, k = judge[g]
                base = dict(evaluator=evaluator, attribute=attribute, group_by=by or "all", group=g,
                            quantity=quantity)
                lo, hi, clip = clip_interval(scale * (m - z * s), scale * (m + z * s), *ranges[quantity])
                rows.append(dict(base, method="judge_only", estimate=scale * m, ci_low=lo,
                                 ci_high=hi, se=scale * s, lam=None, n_labeled=0, n_unlabeled=k,
                                 n_effective=None, note=clip or None))
                for method in ("human_only", "judge_assisted"):
                    frame = frames.get(method)
                    r = frame.filter(pl.col("group") == g).row(0, named=True) if frame is not None and \
                        g in frame["group"].to_list() else None
                    n_lab = int(r["n_labeled"]) if r else int((lab[group_col] == g).sum())
                    n_unl = int(r["n_unlabeled"]) if r else int((unl[group_col] == g).sum())
                    note = None
                    if n_lab < 2 or n_unl < 1 or r is None or r["estimate"] is None:
                        note = "too few rated or unrated responses"
                    elif n_lab < MIN_LABELED:
                        note = f"only {n_lab} rated responses (< {MIN_LABELED})"

                    def sc(key):
                        return None if r is None or r[key] is None else scale * r[key]

                    lo, hi, clip = clip_interval(sc("ci_low"), sc("ci_high"), *ranges[quantity])
                    note = "; ".join(x for x in (note, clip) if x) or None
                    rows.append(dict(base, method=method, estimate=sc("estimate"), ci_low=lo,
                                     ci_high=hi, se=sc("se"),
                                     lam=(r["lam"] if r and method == "judge_assisted" else None),
                                     n_labeled=n_lab, n_unlabeled=n_unl,
                                     n_effective=(r["n_effective"] if r and method == "judge_assisted" else None),
                                     note=note))
    return pl.DataFrame(rows, schema=ESTIMATE_SCHEMA)


def _stratified_grouped(lab: pl.DataFrame, unl: pl.DataFrame, group_col: str, ycol: str, fcol: str, lam,
                        confidence: float, n_folds: int) -> pl.DataFrame:
    """:func:`analysis.stats.ppi.ppi_mean_stratified` per group (strata in ``_stratum``), in
    the shape of :func:`analysis.stats.ppi.ppi_mean_grouped`; null where a stratum of the
    group cannot be estimated."""
    rows = []
    for g in sorted(set(lab[group_col].to_list()) | set(unl[group_col].to_list())):
        lg, ug = lab.filter(pl.col(group_col) == g), unl.filter(pl.col(group_col) == g)
        row = dict(group=g, estimate=None, ci_low=None, ci_high=None, se=None, lam=None, n_labeled=lg.height,
                   n_unlabeled=ug.height, n_effective=None)
        if lg.height >= 2 and ug.height >= 1:
            try:
                r = ppi_mean_stratified(lg[ycol].to_numpy(), lg[fcol].to_numpy(), lg["_stratum"].to_list(),
                                        ug[fcol].to_numpy(), ug["_stratum"].to_list(), confidence=confidence, lam=lam,
                                        clusters=lg["item_id"].to_list(), clusters_unlabeled=ug["item_id"].to_list(),
                                        n_folds=n_folds)
                row.update(estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high, se=r.se, lam=r.lam,
                           n_effective=r.n_effective)
            except ValueError:
                pass
        rows.append(row)
    return pl.DataFrame(rows, schema={"group": pl.String, "estimate": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "se": pl.Float64, "lam": pl.Float64,
                                      "n_labeled": pl.Int64, "n_unlabeled": pl.Int64, "n_effective": pl.Float64})


def study_estimates(ratings: pl.DataFrame, evaluators: Sequence[str], *, references: Sequence[str],
                    jury: Sequence[str] = (), by: Sequence[str | None] = ("answer_model", "category"),
                    **kwargs) -> pl.DataFrame:
    """:func:`judge_assisted_estimates` for every evaluator (add ``jury``) and grouping,
    stacked; groupings whose column the ratings lack or has only nulls are skipped."""
    frames = []
    for evaluator in evaluators:
        for col in by:
            if col is not None and (col not in ratings.columns or ratings[col].null_count() == ratings.height):
                continue
            frames.append(judge_assisted_estimates(ratings, evaluator, references=references, jury=jury, by=col,
                                                   **kwargs))
    return pl.concat(frames) if frames else pl.DataFrame(schema=ESTIMATE_SCHEMA)


def wide_estimates(estimates: pl.DataFrame) -> pl.DataFrame:
    """One row per evaluator x attribute x group x quantity, the three methods side by side
    (``<method>``, ``<method>_ci_low``, ``<method>_ci_high``), with ``n_labeled``,
    ``n_unlabeled``, ``lam``, ``n_effective`` and ``note`` of the judge-assisted row."""
    keys = ["evaluator", "attribute", "group_by", "group", "quantity"]
    parts = [estimates.filter(pl.col("method") == m).select(
        *keys, pl.col("estimate").alias(m), pl.col("ci_low").alias(f"{m}_ci_low"),
        pl.col("ci_high").alias(f"{m}_ci_high")) for m in METHODS]
    extra = estimates.filter(pl.col("method") == "judge_assisted").select(
        *keys, "n_labeled", "n_unlabeled", "lam", "n_effective", "note")
    out = parts[0]
    for p in (*parts[1:], extra):
        out = out.join(p, on=keys, how="left", nulls_equal=True)
    return out.sort(keys)


# ---------------------------------------------------------------------------------------
# MentalAlign: every response has a human rating, so the judge-assisted design is simulated
# ---------------------------------------------------------------------------------------

def mentalalign_estimates(ratings: pl.DataFrame, judge: str, *, n_conversations: int = 100, seed: int = 0,
                          lam=RECOMMENDED_LAM, confidence: float = 0.95, alpha: float | None = None) -> pl.DataFrame:
    """Judge-assisted estimates per attribute and response source on MentalAlign-70k, with
    the human ratings of only ``n_conversations`` random conversations kept (all their
    responses: about ``n_conversations`` rated responses per source), beside the truth.

    ``ratings`` should hold ratings on the scale only (the ``clean`` variant). The
    sample is drawn once (``seed``) and is the same for every attribute. ``truth`` is
    the mean (``pct_harmful``: share ``<= 2``) of all human ratings of the group over
    the responses the judge rated; ``covered`` says whether the interval contains it.
    """
    confidence = resolve_confidence(confidence, alpha, "mentalalign_estimates")
    conversations = np.array(sorted(ratings["item_id"].unique().to_list()))
    if not 2 <= n_conversations < conversations.shape[0]:
        raise ValueError(f"n_conversations must be in [2, {conversations.shape[0]}), got {n_conversations}")
    rng = np.random.default_rng(seed)
    kept = conversations[rng.choice(conversations.shape[0], n_conversations, replace=False)].tolist()
    masked = ratings.filter((pl.col("rater") != "human") | pl.col("item_id").is_in(kept))
    est = judge_assisted_estimates(masked, judge, references=("human",), by="answer_model", lam=lam,
                                   confidence=confidence)
    full = response_values(ratings, judge, references=("human",)).filter(pl.col("y").is_not_null())
    truth = pl.concat([
        full.group_by("attribute", "answer_model").agg(pl.col("y").mean().alias("truth"))
        .with_columns(pl.lit("mean").alias("quantity")),
        full.group_by("attribute", "answer_model").agg((100 * pl.col("y_harm").mean()).alias("truth"))
        .with_columns(pl.lit("pct_harmful").alias("quantity")),
    ]).rename({"answer_model": "group"})
    return est.join(truth, on=["attribute", "group", "quantity"], how="left").with_columns(
        ((pl.col("ci_low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("ci_high"))).alias("covered"))


# ---------------------------------------------------------------------------------------
# Budget planner
# ---------------------------------------------------------------------------------------

DEFAULT_HALF_WIDTHS = {"mean": (0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3),
                       "pct_harmful": (1.0, 2.0, 3.0, 5.0, 7.5, 10.0)}


def budget_plan(ratings: pl.DataFrame, evaluators: Sequence[str], *, references: Sequence[str],
                jury: Sequence[str] = (), half_widths: dict | None = None, n_unlabeled: float | None = None,
                harmful_at: float = 2.0, confidence: float = 0.95, alpha: float | None = None) -> pl.DataFrame:
    """Human ratings needed for a target CI half-width, with each evaluator and without one.

    The pilot is the study's rated responses (every group together):
    :func:`analysis.stats.ppi.ppi_sample_size` from their human and evaluator variances.
    ``n_unlabeled`` (default: the responses the evaluator scored that no reference rated)
    is what the judge scores. ``half_widths`` per quantity: ``mean`` in rating points,
    ``pct_harmful`` in percentage points. Plans with independent responses (the pilot's
    clustering is not modelled) and the asymptotic variance: add a margin.

    Returns
    -------
    polars.DataFrame
        ``evaluator, attribute, quantity, half_width, n_with_judge, n_without_judge,
        saved, saved_pct, rho, lam, n_pilot, n_unlabeled``.
    """
    confidence = resolve_confidence(confidence, alpha, "budget_plan")
    half_widths = DEFAULT_HALF_WIDTHS if half_widths is None else half_widths
    rows = []
    for evaluator in evaluators:
        v = response_values(ratings, evaluator, references=references, jury=jury, harmful_at=harmful_at)
        for attribute in v["attribute"].unique().sort().to_list():
            a = v.filter(pl.col("attribute") == attribute)
            lab = a.filter(pl.col("y").is_not_null())
            big_n = float(a.height - lab.height) if n_unlabeled is None else float(n_unlabeled)
            if lab.height < 3 or big_n <= 0:
                continue
            for quantity, ycol, fcol, scale in (("mean", "y", "yhat", 1.0), ("pct_harmful", "y_harm", "yhat_harm", 100.0)):
                for h in half_widths.get(quantity, ()):
                    p = ppi_sample_size(lab[ycol].to_numpy(), lab[fcol].to_numpy(), big_n, h / scale,
                                        confidence=confidence)
                    rows.append(dict(evaluator=evaluator, attribute=attribute, quantity=quantity, half_width=float(h),
                                     n_with_judge=p.n_ppi, n_without_judge=p.n_classical,
                                     saved=p.n_classical - p.n_ppi,
                                     saved_pct=100 * (p.n_classical - p.n_ppi) / p.n_classical, rho=p.rho,
                                     lam=p.lam, n_pilot=lab.height, n_unlabeled=big_n))
    return pl.DataFrame(rows, schema={
        "evaluator": pl.String, "attribute": pl.String, "quantity": pl.String, "half_width": pl.Float64,
        "n_with_judge": pl.Int64, "n_without_judge": pl.Int64, "saved": pl.Int64, "saved_pct": pl.Float64,
        "rho": pl.Float64, "lam": pl.Float64, "n_pilot": pl.Int64, "n_unlabeled": pl.Float64})


# ---------------------------------------------------------------------------------------
# G study and D study of evaluators x runs
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunScores:
    """Scores of every response by every evaluator in every run: ``scores[p, e, r]`` (NaN:
    missing), ``responses`` and their ``items`` (conversations), ``evaluators``, ``runs``."""

    scores: np.ndarray
    responses: tuple[str, ...]
    items: tuple[str, ...]
    evaluators: tuple[str, ...]
    runs: tuple[int, ...]

    def balanced(self) -> "RunScores":
        """The responses with every run of every evaluator."""
        keep = ~np.isnan(self.scores).any(axis=(1, 2))
        return RunScores(self.scores[keep], tuple(np.asarray(self.responses)[keep]),
                         tuple(np.asarray(self.items)[keep]), self.evaluators, self.runs)


def run_scores_array(ratings: pl.DataFrame, evaluators: Sequence[str], *, attribute: str | None = None) -> RunScores:
    """The responses x evaluators x runs array of the LLM evaluators' scores.

    Run ``j`` of an evaluator is its ``eval_run`` ``j`` (nested: runs of different
    evaluators with the same number are unrelated). ``attribute``: the one to use when the
    ratings have several (default: the only one, else an error).
    """
    sub = ratings.filter(pl.col("rater").is_in(list(evaluators)))
    attrs = sub["attribute"].unique().to_list()
    if attribute is None:
        if len(attrs) > 1:
            raise ValueError(f"the ratings have several attributes ({', '.join(sorted(map(str, attrs)))}): give one")
    else:
        sub = sub.filter(pl.col("attribute") == attribute)
    if sub.height == 0:
        raise ValueError("no scores of these evaluators")
    responses = sub.select("response_id", "item_id").unique().sort("response_id")
    runs = tuple(sorted(sub["eval_run"].unique().to_list()))
    p_idx = {r: i for i, r in enumerate(responses["response_id"].to_list())}
    e_idx = {e: i for i, e in enumerate(evaluators)}
    r_idx = {r: i for i, r in enumerate(runs)}
    x = np.full((len(p_idx), len(evaluators), len(runs)), np.nan)
    pi = np.array([p_idx[v] for v in sub["response_id"].to_list()])
    ei = np.array([e_idx[v] for v in sub["rater"].to_list()])
    ri = np.array([r_idx[v] for v in sub["eval_run"].to_list()])
    if np.unique(pi * len(evaluators) * len(runs) + ei * len(runs) + ri).shape[0] != pi.shape[0]:
        raise ValueError("a response has two scores of one evaluator in one run")
    x[pi, ei, ri] = sub["score"].to_numpy().astype(float)
    return RunScores(x, tuple(responses["response_id"].to_list()), tuple(responses["item_id"].to_list()),
                     tuple(evaluators), runs)


@dataclass(frozen=True)
class DStudy:
    """The G study and D study of a study's evaluators x runs.

    ``components``: variance components of ``p x (r:e)`` (ANOVA on the balanced part:
    ``ci_low``/``ci_high`` bootstrap over conversations, conditional on these judges and
    runs; ``gci_low``/``gci_high`` generalized CIs with the judges and runs sampled too,
    ``satterthwaite_df`` the degrees of freedom each rests on; REML rows on a random
    sample, with their REML log-likelihood ``reml_loglik``), ``table``: :data:`DSTUDY_COLUMNS` rows
    for the nested design with random evaluators and the one-facet study of each
    evaluator's runs; ``g``: the ANOVA G study; ``per_evaluator``: evaluator -> its
    ``p x i`` G study over runs; ``n_balanced``/``n_responses``: responses used/all.
    """

    components: pl.DataFrame
    table: pl.DataFrame
    g: GStudy
    per_evaluator: dict[str, GStudy]
    n_balanced: int
    n_responses: int


DSTUDY_COLUMNS = ("design", "n_evaluators", "n_runs", "g_coefficient", "g_ci_low", "g_ci_high", "phi",
                  "phi_ci_low", "phi_ci_high", "g_gci_low", "g_gci_high", "phi_gci_low", "phi_gci_high")
"""``*_ci_*``: bootstrap over conversations, conditional on these judges and runs;
``*_gci_*``: generalized CI with the judges and runs sampled too
(:func:`analysis.stats.gtheory.d_study_intervals`; for ``runs of <evaluator>`` the judge
is fixed and its runs are sampled)."""


def _boot_table(boot: pl.DataFrame, design: str, single_facet: str | None = None) -> pl.DataFrame:
    g = boot.filter(pl.col("quantity") == "g_coefficient").select(
        "n_evaluators", "n_runs", pl.col("estimate").alias("g_coefficient"), pl.col("ci_low").alias("g_ci_low"),
        pl.col("ci_high").alias("g_ci_high"))
    phi = boot.filter(pl.col("quantity") == "phi").select(
        "n_evaluators", "n_runs", pl.col("estimate").alias("phi"), pl.col("ci_low").alias("phi_ci_low"),
        pl.col("ci_high").alias("phi_ci_high"))
    out = g.join(phi, on=["n_evaluators", "n_runs"], nulls_equal=True)
    if single_facet == "runs":  # the p x i bootstrap puts the facet size in n_evaluators
        out = out.with_columns(pl.lit(1, dtype=pl.Int64).alias("n_evaluators"), pl.col("n_evaluators").alias("n_runs"))
    return out.select(pl.lit(design).alias("design"), *DSTUDY_COLUMNS[1:9])


def _with_gci(table: pl.DataFrame, gci: pl.DataFrame, single_facet: str | None = None) -> pl.DataFrame:
    """``table`` (:func:`_boot_table`) with the generalized CIs of :func:`d_study_intervals`."""
    gci = gci.select("n_evaluators", "n_runs", pl.col("g_ci_low").alias("g_gci_low"),
                     pl.col("g_ci_high").alias("g_gci_high"), pl.col("phi_ci_low").alias("phi_gci_low"),
                     pl.col("phi_ci_high").alias("phi_gci_high"))
    if single_facet == "runs":
        gci = gci.with_columns(pl.lit(1, dtype=pl.Int64).alias("n_evaluators"))
    return table.join(gci, on=["n_evaluators", "n_runs"], how="left").select(DSTUDY_COLUMNS)


def dstudy(ratings: pl.DataFrame, evaluators: Sequence[str], *, attribute: str | None = None,
           n_evaluators: Sequence[int] = (1, 2, 3, 4, 5, 6, 8, 10), n_runs: Sequence[int] = (1, 2, 3, 4, 5, 6, 8, 10),
           n_boot: int = 2000, seed: int = 0, reml_responses: int = 60) -> DStudy:
    """G study (``p x (r:e)``) and D study of the evaluators' runs, with bootstrap CIs.

    ANOVA on the responses with every run of every evaluator; REML
    (:func:`analysis.stats.gtheory.g_study`, ``method="reml"``) on ``reml_responses``
    random responses, the incomplete ones among them as drawn (0: skip). Bootstraps
    (BCa, ``n_boot``) resample conversations with all their answers; every CI uses the
    same resamples (seed ``seed``). The ``table`` has the random-evaluators nested design
    for every ``n_evaluators`` x ``n_runs``, and ``p x i`` over runs for each evaluator
    (design ``"runs of <evaluator>"``, ``n_evaluators`` 1).
    """
    full = run_scores_array(ratings, evaluators, attribute=attribute)
    bal = full.balanced()
    if len(evaluators) < 2 or len(full.runs) < 2:
        raise ValueError(f"a D study of evaluators x runs needs at least 2 evaluators with at least 2 runs each; "
                         f"got {len(evaluators)} evaluators and {len(full.runs)} runs")
    if bal.scores.shape[0] < 3:
        raise ValueError("fewer than 3 responses have every run of every evaluator")
    design = "p x (r:e)"
    g = g_study(bal.scores, design)
    plan = ResamplePlan(bal.scores.shape[0], n_boot=n_boot, seed=seed, clusters=list(bal.items))
    boot = g_study_bootstrap(bal.scores, design, n_evaluators=list(n_evaluators), n_runs=list(n_runs), plan=plan)
    facets = component_intervals(g, seed=seed).select(
        "component", pl.col("ci_low").alias("gci_low"), pl.col("ci_high").alias("gci_high"),
        pl.col("df").alias("satterthwaite_df"))
    comp = g.table().join(
        boot.filter(pl.col("quantity").str.starts_with("var(")).select(
            pl.col("quantity").str.slice(4).str.strip_chars_end(")").alias("component"), "ci_low", "ci_high"),
        on="component", how="left").join(facets, on="component", how="left").with_columns(
        pl.lit("anova").alias("method"), pl.lit(bal.scores.shape[0]).alias("n_responses"))
    frames = [comp]
    if reml_responses:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        take = np.sort(rng.choice(full.scores.shape[0], min(reml_responses, full.scores.shape[0]), replace=False))
        gr = g_study(full.scores[take], design, method="reml")
        frames.append(gr.table().select("component", "variance", "variance_raw", "percent").with_columns(
            pl.lit("reml").alias("method"), pl.lit(int(take.shape[0])).alias("n_responses"),
            pl.lit(gr.loglik).alias("reml_loglik")))
    components = pl.concat(frames, how="diagonal_relaxed").select(
        "method", "component", "variance", "variance_raw", "percent", "ci_low", "ci_high", "gci_low", "gci_high",
        "satterthwaite_df", "df", "mean_square", "n_responses",
        pl.col("reml_loglik") if reml_responses else pl.lit(None, pl.Float64).alias("reml_loglik"))
    tables = [_with_gci(_boot_table(boot, design), d_study_intervals(g, list(n_evaluators), list(n_runs), seed=seed))]
    per = {}
    for j, e in enumerate(evaluators):
        ge = g_study(bal.scores[:, j, :], "p x i", facet="runs")
        per[e] = ge
        be = g_study_bootstrap(bal.scores[:, j, :], "p x i", n_evaluators=list(n_runs), plan=plan)
        tables.append(_with_gci(_boot_table(be, f"runs of {e}", single_facet="runs"),
                                d_study_intervals(ge, n_runs=list(n_runs), seed=seed), single_facet="runs"))
    table = pl.concat(tables).with_columns(pl.col("n_evaluators").cast(pl.Int64), pl.col("n_runs").cast(pl.Int64))
    return DStudy(components=components, table=table, g=g, per_evaluator=per, n_balanced=bal.scores.shape[0],
                  n_responses=full.scores.shape[0])


def dstudy_sentence(d: DStudy, evaluator: str, *, target: float = 0.8) -> str:
    """Two statements that must not be confused: the consistency of ``evaluator`` with
    itself (its runs, the judge fixed: "k runs give Phi = ..."), and how many judges drawn
    at random like these reach ``target`` (with the interval of that Phi when the judges'
    own sampling is included, and conditional on these judges). Neither is agreement with
    the humans (the overview's ICC against the human mean)."""
    if evaluator not in d.per_evaluator:
        raise ValueError(f"no runs of {evaluator!r} in this D study: {', '.join(d.per_evaluator)}")
    k = d.g.sizes["r"]
    n_e = len(d.per_evaluator)
    row = d.table.filter((pl.col("design") == f"runs of {evaluator}") & (pl.col("n_runs") == k))
    own = d.per_evaluator[evaluator]
    phi_k = float(d_study(own, n_runs=k)["phi"][0])
    ci = f" [{row['phi_ci_low'][0]:.2f}, {row['phi_ci_high'][0]:.2f}]" if row.height else ""
    runs_needed = smallest_n(own, target, vary="runs")
    judges_1 = smallest_n(d.g, target, vary="evaluators", n_runs=1)
    judges_k = smallest_n(d.g, target, vary="evaluators", n_runs=k)

    def plural(n, word):
        return f"{n} {word}" + ("" if n == 1 else "s")

    runs_txt = (f"{plural(runs_needed, 'run')} of {evaluator}" if runs_needed is not None
                else f"more runs of {evaluator} than any feasible number")
    own_txt = (f"With {evaluator}, {k} runs give Φ = {phi_k:.2f}{ci}: the consistency of {evaluator} with itself "
               f"(the dependability of the mean of its runs, the judge fixed), not its agreement with humans; "
               f"Φ ≥ {target:g} needs {runs_txt}.")
    design_txt = f"Judges drawn at random like these {n_e} (p × (r:e), {d.n_balanced} answers)"
    if judges_1 is None:
        return f"{own_txt} {design_txt}: Φ ≥ {target:g} needs more judges than any feasible number."
    at = d.table.filter((pl.col("design") == "p x (r:e)") & (pl.col("n_evaluators") == judges_1)
                        & (pl.col("n_runs") == 1))
    if at.height:
        r = at.row(0, named=True)
    else:
        r = d_study_intervals(d.g, judges_1, 1).row(0, named=True)
        r = r | {"phi_gci_low": r["phi_ci_low"], "phi_gci_high": r["phi_ci_high"], "phi_ci_low": None}
    cond = (f", [{r['phi_ci_low']:.2f}, {r['phi_ci_high']:.2f}] conditional on these {n_e} judges"
            if r.get("phi_ci_low") is not None else "")
    return (f"{own_txt} {design_txt}: Φ ≥ {target:g} needs {plural(judges_1, 'judge')} with one run each "
            f"({judges_k} with {k} runs each); with {plural(judges_1, 'judge')}, one run each, Φ = {r['phi']:.2f} "
            f"[{r['phi_gci_low']:.2f}, {r['phi_gci_high']:.2f}] when the judges are sampled too (σ²(judge) rests "
            f"on {n_e} judges, {n_e - 1} df){cond}.")


# ---------------------------------------------------------------------------------------
# What applies to a study, and the parts of its report (notebook 09_judge_assisted)
# ---------------------------------------------------------------------------------------

GROUPINGS = ("answer_model", "category")
"""The groupings of :func:`study_estimates` in a study's report."""
DISPLAY_COLUMNS = ("evaluator", "group", "quantity", "judge_only", "human_only", "judge_assisted",
                   "judge_assisted_ci_low", "judge_assisted_ci_high", "n_labeled", "n_effective", "note")
"""The columns of :func:`wide_estimates` a reader is shown."""


@dataclass(frozen=True)
class Part:
    """One part of a study's judge-assisted report: the ``tables`` it writes (name ->
    table), what a reader is shown (``shown``: tables and lines, in order) and what its
    figure is drawn from (``data``: keyword arguments of the figure function); or, when
    the part does not apply to the study, only the one line that says why (``reason``)."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    shown: tuple[Any, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def applies(self) -> bool:
        return not self.reason


def _why_no_rated_sample(ratings: pl.DataFrame | None, evaluators: Sequence[str], references: Sequence[str],
                         what: str = "judge-assisted estimates") -> str:
    """Why the study has no sample of human-rated answers beside the evaluators' scores of
    the others ("" when it has one); ``what`` names the part that needs them (plural)."""
    if ratings is None or ratings.height == 0:
        return f"this study has no scores: {what} need an evaluator's scores and some human ratings"
    llm = ratings.filter(pl.col("rater").is_in(list(evaluators)))
    if llm.height == 0:
        return "no LLM evaluator scored any answer in this study: there is no judge to assist the humans"
    refs = ratings.filter(pl.col("rater").is_in(list(references)))
    if refs.height == 0:
        return (f"no ratings of the references ({', '.join(references)}) in this study: {what} "
                f"need some answers rated by them")
    keys = ["attribute", "response_id"]
    unrated = llm.select(keys).unique().join(refs.select(keys).unique(), on=keys, how="anti")
    if unrated.height == 0:
        return ("every answer the evaluators scored was rated by the references: no unrated answers to estimate, "
                f"so {what} do not apply")
    return ""


def why_selected(design: SamplingDesign | None, what: str = "judge-assisted (PPI++) and human-only estimates "
                                                             "of every answer's mean") -> str:
    """The one line refusing ``what`` for a ``selected`` design; ``""`` for other designs."""
    if design is None or design.kind != "selected":
        return ""
    return (f"the rated answers were selected ({design.rule}), not sampled at random: {what} would be biased; "
            f"see the mean of the selected answers (the population the humans sampled) instead")


def why_no_estimates(ratings: pl.DataFrame | None, evaluators: Sequence[str], *, references: Sequence[str],
                     design: SamplingDesign | None = None) -> str:
    """Why judge-assisted estimates do not apply to these ratings, in one line; ``""`` when
    they do: the evaluators scored answers, the references rated some of them and not all,
    the rated answers are a random sample (``design`` not ``selected``; None: assumed
    random), and the ratings have a grouping (:data:`GROUPINGS`) to estimate per."""
    reason = _why_no_rated_sample(ratings, evaluators, references) or why_selected(design)
    if reason:
        return reason
    if not any(c in ratings.columns and ratings[c].null_count() < ratings.height for c in GROUPINGS):
        return "the ratings have no answer model and no category: no groups to estimate judge-assisted means for"
    return ""


def why_no_forest(ratings: pl.DataFrame | None, evaluators: Sequence[str], *, references: Sequence[str],
                  design: SamplingDesign | None = None) -> str:
    """Why the forest plot per answer model does not apply, in one line; ``""`` when it does."""
    reason = why_no_estimates(ratings, evaluators, references=references, design=design)
    if reason:
        return reason
    if "answer_model" not in ratings.columns or ratings["answer_model"].null_count() == ratings.height:
        return "the ratings have no answer model: no forest plot per answer model"
    return ""


def why_no_budget(ratings: pl.DataFrame | None, evaluators: Sequence[str], *, references: Sequence[str],
                  design: SamplingDesign | None = None) -> str:
    """Why the budget planner does not apply, in one line; ``""`` when it does: it plans
    from a pilot of at least 3 answers rated by the references (for one attribute), with
    the judge scoring the unrated ones; the pilot must be a random sample (``design`` not
    ``selected``): selected answers' variances and correlation do not describe a random one."""
    reason = (_why_no_rated_sample(ratings, evaluators, references, what="budget plans")
              or why_selected(design, "a budget planned from their variances and correlation (a pilot for a random "
                                      "sample)"))
    if reason:
        return reason
    keys = ["attribute", "response_id"]
    scored = ratings.filter(pl.col("rater").is_in(list(evaluators))).select(keys).unique()
    rated = scored.join(ratings.filter(pl.col("rater").is_in(list(references))).select(keys).unique(), on=keys)
    most = rated.group_by("attribute").len()["len"].max()
    if most < 3:
        return (f"only {most} answer(s) of an attribute rated by the references and scored by an evaluator: "
                f"the budget planner needs a pilot of at least 3")
    return ""


def dstudy_attribute(ratings: pl.DataFrame, evaluators: Sequence[str]) -> str | None:
    """The attribute the D-study uses: ``None`` when the evaluators scored one only, else
    the first in sorted order."""
    attrs = sorted(ratings.filter(pl.col("rater").is_in(list(evaluators)))["attribute"].unique().to_list())
    return attrs[0] if len(attrs) > 1 else None


def why_no_dstudy(ratings: pl.DataFrame | None, evaluators: Sequence[str]) -> str:
    """Why the D-study of judges x runs does not apply, in one line; ``""`` when it does:
    at least 2 LLM evaluators, at least 2 evaluation runs (``eval_run``), and at least 3
    answers with every run of every evaluator."""
    if ratings is None or ratings.height == 0:
        return "this study has no scores: the D-study of runs and judges needs repeated scores"
    if len(evaluators) < 2:
        return (f"{len(evaluators)} LLM evaluator(s) in this study: the D-study of judges x runs needs at least 2 "
                f"evaluators with repeated runs")
    llm = ratings.filter(pl.col("rater").is_in(list(evaluators)))
    if "eval_run" not in ratings.columns or llm["eval_run"].drop_nulls().n_unique() < 2:
        return ("one evaluation run per rating (no eval_run, or a single one): the D-study of runs and judges needs "
                "repeated runs of each evaluator")
    n = run_scores_array(ratings, evaluators, attribute=dstudy_attribute(ratings, evaluators)).balanced().scores.shape[0]
    if n < 3:
        return f"{n} answer(s) have every run of every evaluator: the D-study needs at least 3"
    return ""


def _ratings(study) -> pl.DataFrame | None:
    return study.data.ratings  # None: the study's data are not ratings (analysis.data.study_data.StudyData)


def applicability(study) -> pl.DataFrame:
    """Which parts of the judge-assisted report apply to a loaded study: ``part``,
    ``applies``, ``reason`` (empty when it applies)."""
    ratings, refs, evaluators = _ratings(study), tuple(study.spec.references), tuple(study.evaluators)
    design = study.spec.design
    reasons = {"judge-assisted estimates": why_no_estimates(ratings, evaluators, references=refs, design=design),
               "forest plot per answer model": why_no_forest(ratings, evaluators, references=refs, design=design),
               "budget planner": why_no_budget(ratings, evaluators, references=refs, design=design),
               "mean of the selected answers": why_no_sampled_population(ratings, evaluators, references=refs,
                                                                         design=design),
               "D-study of runs and judges": why_no_dstudy(ratings, evaluators)}
    return pl.DataFrame({"part": list(reasons), "applies": [not r for r in reasons.values()],
                         "reason": list(reasons.values())})


def estimates_part(study) -> Part:
    """Judge-only, human-only and judge-assisted estimates of a loaded study: every
    evaluator and the jury, per :data:`GROUPINGS` (:func:`study_estimates`), long
    (``judge_assisted_long``) and wide (``judge_assisted``); shown: the wide rows per
    answer model, then per category (:data:`DISPLAY_COLUMNS`)."""
    ratings, refs, design = _ratings(study), tuple(study.spec.references), study.spec.design
    reason = why_no_estimates(ratings, study.evaluators, references=refs, design=design)
    if reason:
        return Part(reason=reason)
    estimates = study_estimates(ratings, study.names, references=refs, jury=study.jury, by=GROUPINGS,
                                strata=_strata_column(design))
    wide = wide_estimates(estimates)
    shown = tuple(t for t in (wide.filter(pl.col("group_by") == g).select(DISPLAY_COLUMNS) for g in GROUPINGS)
                  if t.height)
    return Part(tables={"judge_assisted_long": estimates, "judge_assisted": wide}, shown=shown)


def forest_part(study, estimates: Part) -> Part:
    """The forest plot's data: the estimates per answer model of the jury (or, without a
    jury, the first evaluator), from :func:`estimates_part`."""
    ratings, refs = _ratings(study), tuple(study.spec.references)
    reason = why_no_forest(ratings, study.evaluators, references=refs, design=study.spec.design) or estimates.reason
    if reason:
        return Part(reason=reason)
    evaluator = JURY if study.jury else study.evaluators[0]
    long = estimates.tables["judge_assisted_long"]
    sub = long.filter((pl.col("evaluator") == evaluator) & (pl.col("group_by") == "answer_model"))
    return Part(data=dict(estimates=sub, evaluator=evaluator, study=study.name, low_label=study.spec.low_label,
                          score_label=study.spec.score_label))


def vocabulary_note(spec, harmful_at: float = 2.0) -> str:
    """What the quantities mean in the study's words (its ``low_label`` and ``score_label``)."""
    return (f"mean: the mean {spec.score_label} in points on {spec.scale.describe()} (higher = better); "
            f"pct_harmful: the % of ratings ≤ {harmful_at:g}, which this study calls {spec.low_label}")


BUDGET_COLUMNS = ("evaluator", "attribute", "quantity", "half_width", "n_with_judge", "n_without_judge",
                  "saved_pct", "rho")


def budget_part(study) -> Part:
    """The budget planner of a loaded study (:func:`budget_plan`, every evaluator and the
    jury), ``budget_plan``; shown: :data:`BUDGET_COLUMNS`."""
    ratings, refs = _ratings(study), tuple(study.spec.references)
    reason = why_no_budget(ratings, study.evaluators, references=refs, design=study.spec.design)
    if reason:
        return Part(reason=reason)
    budget = budget_plan(ratings, study.names, references=refs, jury=study.jury)
    if budget.height == 0:
        return Part(reason="no evaluator has 3 rated and 1 unrated answers of one attribute: no pilot to plan from")
    return Part(tables={"budget_plan": budget}, shown=(budget.select(BUDGET_COLUMNS),),
                data=dict(budget=budget, low_label=study.spec.low_label))


def dstudy_part(study, *, n_boot: int = 2000, seed: int = 0, reml_responses: int = 60) -> Part:
    """The G study and D study of a loaded study's evaluators x runs (:func:`dstudy`):
    ``gstudy_components`` and ``dstudy``; shown: how many answers have every run, the
    components, and :func:`dstudy_sentence` for each evaluator."""
    ratings = _ratings(study)
    reason = why_no_dstudy(ratings, study.evaluators)
    if reason:
        return Part(reason=reason)
    attribute = dstudy_attribute(ratings, study.evaluators)
    d = dstudy(ratings, study.evaluators, attribute=attribute, n_boot=n_boot, seed=seed,
               reml_responses=reml_responses)
    of = f" ({attribute})" if attribute is not None else ""
    return Part(tables={"gstudy_components": d.components, "dstudy": d.table},
                shown=(f"{d.n_balanced} of {d.n_responses} answers{of} have every run of every evaluator",
                       d.components, *(dstudy_sentence(d, e) for e in study.evaluators)),
                data=dict(table=d.table, evaluators=tuple(study.evaluators)))


# ---------------------------------------------------------------------------------------
# The sampling design: are the rated answers like the others, and what they can estimate
# ---------------------------------------------------------------------------------------

STRATA_COLUMNS = {"source": "answer_model", "category": "category"}
"""A study file's ``strata`` (a standard column) -> the ratings' column."""
SELECTION_SCHEMA = {
    "evaluator": pl.String, "attribute": pl.String, "group_by": pl.String, "group": pl.String,
    "mean_rated": pl.Float64, "mean_unrated": pl.Float64, "difference": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "pvalue": pl.Float64, "n_rated": pl.Int64, "n_unrated": pl.Int64,
    "ci_assumes": pl.String, "flag": pl.String,
}

CI_ASSUMES = {"welch": "answers independent (Welch)", "cluster": "clusters of answers (cluster-robust, t with G-1 df)",
              "stratified": "strata (Cochran, normal)"}
"""What the interval of :func:`selection_check` assumes, by the method used."""


def _strata_column(design: SamplingDesign | None) -> str | None:
    if design is None or design.strata is None:
        return None
    return STRATA_COLUMNS.get(design.strata, design.strata)


def selection_check(ratings: pl.DataFrame, evaluators: Sequence[str], *, references: Sequence[str],
                    jury: Sequence[str] = (), design: SamplingDesign | None = None, by: str | None = None,
                    confidence: float = 0.95) -> pl.DataFrame:
    """Each evaluator's mean score on the rated and on the unrated answers, and their
    difference (rated - unrated, points) with its interval
    (:func:`analysis.stats.sampling.rated_unrated_difference`: Welch; cluster-robust when
    answers of one conversation (``item_id``) are compared, since they are not independent;
    stratified when ``design`` is stratified), per attribute and per group of ``by`` (None:
    all answers). ``ci_assumes`` says which.

    ``flag`` says what the difference means under the declared ``design``: for ``random``
    (declared or assumed), an interval excluding 0 says the rated answers are not a
    random sample; for ``selected``, the difference is what the rule does.
    """
    design = design or SamplingDesign("random", declared=False)
    strata = _strata_column(design)
    rows = []
    for evaluator in evaluators:
        v = response_values(ratings, evaluator, references=references, jury=jury)
        if strata is not None:
            v = v.join(ratings.select("attribute", "response_id", pl.col(strata).alias("_stratum"))
                       .unique(["attribute", "response_id"]), on=["attribute", "response_id"], how="left")
        group_col = by or "_all"
        if by is None:
            v = v.with_columns(pl.lit("all").alias("_all"))
        v = v.filter(pl.col(group_col).is_not_null()).with_columns(pl.col(group_col).cast(pl.String))
        for (attribute, group), sub in sorted(v.group_by("attribute", group_col), key=lambda kv: kv[0]):
            lab, unl = sub.filter(pl.col("y").is_not_null()), sub.filter(pl.col("y").is_null())
            base = dict(evaluator=evaluator, attribute=attribute, group_by=by or "all", group=group,
                        n_rated=lab.height, n_unrated=unl.height)
            try:
                if strata is not None:
                    kw = dict(strata=lab["_stratum"].cast(pl.String).to_list(),
                              strata_unrated=unl["_stratum"].cast(pl.String).to_list())
                elif sub["item_id"].is_duplicated().any():  # several answers of a conversation compared
                    kw = dict(clusters=lab["item_id"].cast(pl.String).to_list(),
                              clusters_unrated=unl["item_id"].cast(pl.String).to_list())
                else:
                    kw = {}
                r = rated_unrated_difference(lab["yhat"].to_numpy(), unl["yhat"].to_numpy(), confidence=confidence,
                                             **kw)
            except ValueError as exc:
                rows.append(dict(base, flag=f"no comparison: {exc}"))
                continue
            excludes = not (r.ci_low <= 0 <= r.ci_high)
            if design.kind == "selected":
                flag = "selected by rule: the rated answers differ" if excludes else "selected by rule"
            elif excludes and design.kind == "all":
                flag = "declared all rated, but the unrated answers differ: they are missing not at random"
            elif excludes:
                flag = (f"{'assumed' if not design.declared else 'declared'} random, but the rated answers differ: "
                        f"not a random sample")
            else:
                flag = ""
            rows.append(dict(base, mean_rated=r.mean_rated, mean_unrated=r.mean_unrated, difference=r.estimate,
                             ci_low=r.ci_low, ci_high=r.ci_high, pvalue=r.pvalue, ci_assumes=CI_ASSUMES[r.method],
                             flag=flag))
    return pl.DataFrame(rows, schema=SELECTION_SCHEMA)


def sampled_population_means(ratings: pl.DataFrame, *, references: Sequence[str], by: str | None = "answer_model",
                             harmful_at: float = 2.0, confidence: float = 0.95) -> pl.DataFrame:
    """The references' mean over the answers they rated, per attribute and group, with a
    cluster-robust (conversation) CLT interval: what a ``selected`` design can estimate,
    the mean over the answers the rule selects (in conversations drawn like these), not
    over every answer.

    Returns
    -------
    polars.DataFrame
        ``attribute, group_by, group, quantity, estimate, ci_low, ci_high, se, n_rated,
        n_conversations``; ``mean`` in points, ``pct_harmful`` in percent.
    """
    from scipy import special

    z = float(special.ndtri(0.5 + resolve_confidence(confidence, None, "sampled_population_means") / 2))
    group_col = by or "_all"
    human = ratings.filter(pl.col("rater").is_in(list(references)))
    keys = ["attribute", "response_id", "item_id"] + ([by] if by else [])
    per = human.group_by(keys).agg(pl.col("score").mean().alias("y"),
                                   (pl.col("score") <= harmful_at).mean().cast(pl.Float64).alias("y_harm"))
    if by is None:
        per = per.with_columns(pl.lit("all").alias("_all"))
    per = per.filter(pl.col(group_col).is_not_null()).with_columns(pl.col(group_col).cast(pl.String))
    rows = []
    for attribute in sorted(per["attribute"].unique().to_list()):
        a = per.filter(pl.col("attribute") == attribute)
        for quantity, col, scale in (("mean", "y", 1.0), ("pct_harmful", "y_harm", 100.0)):
            names, mean, se, n = _cluster_mean(a[col].to_numpy().astype(float), a[group_col].to_numpy(),
                                               a["item_id"].to_numpy(), z)
            for g, m, s_, k in zip(names.tolist(), mean, se, n):
                n_conv = a.filter(pl.col(group_col) == g)["item_id"].n_unique()
                ok = n_conv >= 2
                rows.append(dict(attribute=attribute, group_by=by or "all", group=g, quantity=quantity,
                                 estimate=scale * m, ci_low=scale * (m - z * s_) if ok else None,
                                 ci_high=scale * (m + z * s_) if ok else None, se=scale * s_ if ok else None,
                                 n_rated=int(k), n_conversations=int(n_conv)))
    return pl.DataFrame(rows, schema={"attribute": pl.String, "group_by": pl.String, "group": pl.String,
                                      "quantity": pl.String, "estimate": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "se": pl.Float64, "n_rated": pl.Int64,
                                      "n_conversations": pl.Int64})


def why_no_sampled_population(ratings: pl.DataFrame | None, evaluators: Sequence[str], *,
                              references: Sequence[str], design: SamplingDesign | None = None) -> str:
    """Why the mean of the selected answers is not shown, in one line; ``""`` when it is:
    a ``selected`` design whose references rated some answers."""
    if design is None or design.kind != "selected":
        return ("the rated answers are a random sample or all answers: the judge-assisted estimates above are of "
                "every answer, no selected population to report")
    return _why_no_rated_sample(ratings, evaluators, references, what="means of the selected answers")


def sampled_population_part(study) -> Part:
    """For a ``selected`` design: the references' mean over the answers the rule selected
    (:func:`sampled_population_means`), overall, per answer model and per category,
    ``selected_population``; named as what it is."""
    ratings, refs, design = _ratings(study), tuple(study.spec.references), study.spec.design
    reason = why_no_sampled_population(ratings, study.evaluators, references=refs, design=design)
    if reason:
        return Part(reason=reason)
    frames = [sampled_population_means(ratings, references=refs, by=by) for by in (None, *GROUPINGS)
              if by is None or (by in ratings.columns and ratings[by].null_count() < ratings.height)]
    table = pl.concat(frames)
    return Part(tables={"selected_population": table},
                shown=(f"Population estimated: the answers selected by the rule ({design.rule}), in conversations "
                       f"like these; not every answer.", table))


def selection_part(study, *, by: str | None = "answer_model") -> Part:
    """The judges' scores on rated vs unrated answers (:func:`selection_check`), overall
    and per ``by``, every evaluator and the jury: ``rated_vs_unrated``; shown: the study's
    declared design, the table, and one line on what it says."""
    ratings, refs, design = _ratings(study), tuple(study.spec.references), study.spec.design
    reason = _why_no_rated_sample(ratings, study.evaluators, refs, what="comparisons of rated and unrated answers")
    if reason:
        return Part(reason=reason)
    frames = [selection_check(ratings, study.names, references=refs, jury=study.jury, design=design)]
    if by and by in ratings.columns and ratings[by].null_count() < ratings.height:
        frames.append(selection_check(ratings, study.names, references=refs, jury=study.jury, design=design, by=by))
    table = pl.concat(frames)
    overall = table.filter(pl.col("group_by") == "all")
    differ = overall.filter(~((pl.col("ci_low") <= 0) & (pl.col("ci_high") >= 0)))
    if design.kind == "selected":
        verdict = (f"{differ.height} of {overall.height} evaluators score the selected answers differently from the "
                   f"others (95 % CI of rated − unrated excludes 0): the rated answers stand for the selected "
                   f"population only.")
    elif differ.height and design.kind == "all":
        verdict = (f"The design is {design.describe()}, but some answers have no reference rating, and {differ.height} "
                   f"of {overall.height} evaluators score them differently from the rated ones: the unrated answers "
                   f"are missing not at random, and the references' means leave out answers unlike the rated ones.")
    elif differ.height:
        verdict = (f"The design is {design.describe()}, but {differ.height} of {overall.height} evaluators score the "
                   f"rated answers differently from the others: they are not a random sample; treat every "
                   f"judge-assisted estimate as biased.")
    else:
        verdict = (f"The design is {design.describe()}; no evaluator scores the rated answers differently from the "
                   f"others (every 95 % CI of rated − unrated contains 0).")
    return Part(tables={"rated_vs_unrated": table},
                shown=(f"Sampling design: {design.describe()}. Difference = evaluator's mean on rated − unrated "
                       f"answers, points on the scale.", table, verdict))
