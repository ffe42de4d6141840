"""One table per study: every evaluator against the references, side by side.

For a scored study (demo, Between Help and Harm, a user's scored study) each row is one
evaluator (and the jury) against the mean of the references (``human_mean``, the mean of
the references who scored the item) on the items the evaluator and a reference scored
(per-judge available cases, ``n`` per row: adding a judge never changes another's row;
the ceiling columns use the items every reference scored). A user study that declares
clusters resamples them in every interval and says so in ``ci_resamples``:

* ``icc_a1`` (absolute agreement: can it replace a human rater?) and ``icc_c1``
  (consistency: does it rank the answers the same way?), each with a BCa bootstrap
  interval over items (fixed, named raters: see :mod:`analysis.stats.icc`);
* ``bias`` = evaluator − reference mean, points on the scale, with its BCa interval;
* ``mae`` in points;
* ``human_icc_a1``: the references' own ICC(A,1) (the mean over pairs of references,
  with its BCa interval), and ``ceiling_icc_a1`` / ``ceiling_icc_c1``: what an
  evaluator exactly as good as one reference would score in ICC(A,1) / ICC(C,1)
  against the mean of the ``n_references`` references (Spearman–Brown:
  :func:`analysis.stats.ceiling.ceiling_icc`; 0.89 for a human–human 0.86 and two
  references): the line to read ``icc_a1`` against, not the human–human ICC;
* the leave-one-human-out verdict (:func:`analysis.stats.ceiling.human_ceiling`; with
  three or more references each is compared with the mean of the others);
* ``run_icc_a1``: run-to-run ICC(A,1) of the evaluator (one run against another).

The columns come from :data:`COLUMNS`, a list of functions ``f(context, evaluator) ->
dict``; a new column (the alternative annotator test's verdict, a judge-assisted
estimate, a D-study coefficient) is one more function in that list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import polars as pl

from analysis.stats.agreement import mae
from analysis.stats.bias import mean_bias
from analysis.stats.ceiling import human_ceiling, reference_ceiling
from analysis.stats.icc import intraclass_corr
from analysis.studies.evaluators import run_reliability
from analysis.studies.registry import SYNTHESIS_STUDIES  # noqa: F401 (the notebooks import it from here)
from analysis.studies.scored import HUMAN_MEAN, ReviewScores


@dataclass(frozen=True)
class Context:
    """What every column function sees: the loaded study, its review matrix, and the
    bootstrap settings (each column seeds its own resamples from ``seed``)."""

    study: object
    scores: ReviewScores
    n_boot: int
    seed: int


def _icc(ctx: Context, evaluator: str) -> dict:
    keep = ctx.scores.mask(evaluator, HUMAN_MEAN)
    x = np.column_stack([ctx.scores.column(evaluator)[keep], ctx.scores.column(HUMAN_MEAN)[keep]])
    res = intraclass_corr(x, ci="bca", n_boot=ctx.n_boot, seed=ctx.seed, clusters=ctx.scores.clusters_of(keep))
    out = {"n": x.shape[0]}
    for form, name in (("ICC(A,1)", "icc_a1"), ("ICC(C,1)", "icc_c1")):
        row = res.filter(pl.col("type") == form).row(0, named=True)
        out |= {name: row["icc"], f"{name}_ci_low": row["ci_low"], f"{name}_ci_high": row["ci_high"]}
    return out


def _bias(ctx: Context, evaluator: str) -> dict:
    keep = ctx.scores.mask(evaluator, HUMAN_MEAN)
    x, y = ctx.scores.column(evaluator)[keep], ctx.scores.column(HUMAN_MEAN)[keep]
    r = mean_bias(x, y, n_boot=ctx.n_boot, seed=ctx.seed, clusters=ctx.scores.clusters_of(keep))
    return {"bias": r.estimate, "bias_ci_low": r.ci_low, "bias_ci_high": r.ci_high, "mae": mae(x, y)}


_CEILING_KEYS = ("human_icc_a1", "human_icc_a1_ci_low", "human_icc_a1_ci_high", "n_references", "ceiling_icc_a1",
                 "ceiling_icc_a1_ci_low", "ceiling_icc_a1_ci_high", "ceiling_icc_c1", "delta_icc_a1",
                 "delta_icc_a1_ci_low", "delta_icc_a1_ci_high", "verdict")


def _ceiling(ctx: Context, evaluator: str) -> dict:
    """The humans' own ICC(A,1) (mean over pairs), the ceiling of ICC(evaluator, human
    mean) for an evaluator as good as one human (:func:`analysis.stats.ceiling.reference_ceiling`,
    ICC(A,1) and ICC(C,1)) and the leave-one-human-out comparison; null with fewer than two
    references."""
    refs = list(ctx.study.spec.references)
    if len(refs) < 2:
        return dict.fromkeys(_CEILING_KEYS)
    # The ceiling needs every reference's score: the items all references (and the
    # evaluator, for the comparison) scored; listwise within this column.
    keep = ctx.scores.mask(*refs)
    if ctx.scores.mask(evaluator, *refs).sum() < 3:
        # e.g. ten humans who each scored a subset, no item by all of them: no ceiling
        return dict.fromkeys(_CEILING_KEYS)
    h = np.column_stack([ctx.scores.column(r)[keep] for r in refs])
    clusters = ctx.scores.clusters_of(keep)
    slots = ctx.study.spec.references_are
    ca = reference_ceiling(h, references_are=slots, n_boot=ctx.n_boot, seed=ctx.seed, clusters=clusters)
    cc = reference_ceiling(h, agreement="consistency", references_are=slots, n_boot=ctx.n_boot, seed=ctx.seed,
                           clusters=clusters)
    both = ctx.scores.mask(evaluator, *refs)
    hb = np.column_stack([ctx.scores.column(r)[both] for r in refs])
    c = human_ceiling(ctx.scores.column(evaluator)[both], *hb.T, n_boot=ctx.n_boot, seed=ctx.seed, names=refs,
                      clusters=ctx.scores.clusters_of(both))
    row = c.filter((pl.col("metric") == "icc_a1") & (pl.col("reference") == "mean")).row(0, named=True)
    return {"human_icc_a1": ca.human_icc, "human_icc_a1_ci_low": ca.human_icc_ci_low,
            "human_icc_a1_ci_high": ca.human_icc_ci_high, "n_references": ca.n_references,
            "ceiling_icc_a1": ca.estimate, "ceiling_icc_a1_ci_low": ca.ci_low, "ceiling_icc_a1_ci_high": ca.ci_high,
            "ceiling_icc_c1": cc.estimate, "delta_icc_a1": row["delta"], "delta_icc_a1_ci_low": row["ci_low"],
            "delta_icc_a1_ci_high": row["ci_high"], "verdict": row["verdict"]}


def _runs(ctx: Context, evaluator: str) -> dict:
    ratings = ctx.study.data.ratings
    runs = ratings.filter(pl.col("rater").is_in(list(ctx.study.evaluators)))["eval_run"]
    if runs.len() == 0 or runs.max() < 2:
        return {"run_icc_a1": None, "run_icc_a1_ci_low": None, "run_icc_a1_ci_high": None}
    rel = run_reliability(ratings, evaluator, jury=ctx.study.jury, n_boot=ctx.n_boot, seed=ctx.seed, ci="bca")
    row = rel.filter((pl.col("type") == "ICC(A,1)") & (pl.col("ci_method") == "BCa")).row(0, named=True)
    return {"run_icc_a1": row["icc"], "run_icc_a1_ci_low": row["ci_low"], "run_icc_a1_ci_high": row["ci_high"]}


COLUMNS: list[Callable[[Context, str], dict]] = [_icc, _bias, _ceiling, _runs]
"""The overview's column groups, in order; append a function to add columns."""


def overview_table(study, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """One row per evaluator (and the jury) of a scored study; see the module docstring."""
    ctx = Context(study=study, scores=study.review_scores(cases="available"), n_boot=n_boot, seed=seed)
    rows = []
    for e in study.names:
        row = {"evaluator": e}
        for column in COLUMNS:
            row |= column(ctx, e)
        if ctx.scores.clustered:  # said only where it applies: the built-in tables keep their columns
            row["ci_resamples"] = f"clusters ({len(set(ctx.scores.matrix.clusters))}, the study's cluster column)"
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def forest_data(table: pl.DataFrame) -> pl.DataFrame:
    """The overview in long form for the forest plot: evaluator, measure, estimate, CI."""
    parts = []
    for m, label in (("icc_a1", "ICC(A,1)"), ("icc_c1", "ICC(C,1)")):
        parts.append(table.select("evaluator", pl.lit(label).alias("measure"), pl.col(m).alias("estimate"),
                                  pl.col(f"{m}_ci_low").alias("ci_low"), pl.col(f"{m}_ci_high").alias("ci_high")))
    return pl.concat(parts)


def classification_overview(study, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """A nominal study (DialogueSafety, a user's labelled study): one row per system:
    Cohen's κ and accuracy against the reference (mean and SD over runs), and κ of the
    majority vote with its BCa interval over items."""
    from analysis.studies.dialoguesafety import metrics_table, run_matrix

    labels = study.spec.scale.labels
    safe = study.spec.scale.safe
    rows = []
    for system in study.evaluators:
        gold, runs = run_matrix(study.data.predictions, system)
        m = metrics_table(gold, runs, n_boot=n_boot, seed=seed, labels=labels, safe=safe)
        get = {r["metric"]: r for r in m.iter_rows(named=True)}
        rows.append({"evaluator": system, "n": int(len(gold)), "runs": int(runs.shape[1]),
                     "kappa": get["cohen_kappa"]["mean"], "kappa_sd": get["cohen_kappa"]["sd"],
                     "accuracy": get["accuracy"]["mean"], "accuracy_sd": get["accuracy"]["sd"],
                     "majority_kappa": get["majority_cohen_kappa"]["mean"],
                     "majority_kappa_ci_low": get["majority_cohen_kappa"]["ci_low"],
                     "majority_kappa_ci_high": get["majority_cohen_kappa"]["ci_high"]})
    return pl.DataFrame(rows)


def study_overview(study, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """The overview table of any study, as its registry entry says (``spec.hooks.overview``:
    :func:`overview_table` for a scored study with a review set,
    :func:`classification_overview` for a labelled one, MentalAlign-70k's judge × attribute
    table, :func:`analysis.studies.mentalalign.alignment_overview`)."""
    return study.spec.hooks.overview(study, n_boot=n_boot, seed=seed)


def synthesis_table(studies, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """How far LLM judges agree with humans on each built-in benchmark, in comparable terms.

    One row per study × evaluator (× attribute for MentalAlign-70k) × measure: ICC(A,1)
    and ICC(C,1) against the human reference for scored studies (Between Help and Harm:
    against the mean of H1 and H2 on the review set; MentalAlign-70k: against the one
    human expert, response level, clean variant, per attribute), Cohen's κ of the
    majority vote against gold for labelled studies, each with its bootstrap interval;
    ``human_ceiling`` is the ceiling of the same measure where the study has two or more
    humans: what an evaluator exactly as good as one human would score against their
    mean (``ceiling_icc_a1``, ``ceiling_icc_c1`` of :func:`overview_table`), else null.
    """
    parts = []
    for study in studies:
        table = study_overview(study, n_boot=n_boot, seed=seed)
        title = study.spec.title
        if study.spec.scale.kind == "nominal":
            parts.append(table.select(pl.lit(title).alias("study"), "evaluator", pl.lit(None, pl.String).alias("attribute"),
                                      pl.lit("Cohen's κ").alias("measure"), pl.col("majority_kappa").alias("estimate"),
                                      pl.col("majority_kappa_ci_low").alias("ci_low"),
                                      pl.col("majority_kappa_ci_high").alias("ci_high"), "n",
                                      pl.lit(None, pl.Float64).alias("human_ceiling")))
            continue
        attribute = pl.col("attribute") if "attribute" in table.columns else pl.lit(None, pl.String)
        for m, label in (("icc_a1", "ICC(A,1)"), ("icc_c1", "ICC(C,1)")):
            ceiling = pl.col(f"ceiling_{m}") if f"ceiling_{m}" in table.columns else pl.lit(None, pl.Float64)
            parts.append(table.select(pl.lit(title).alias("study"), "evaluator", attribute.alias("attribute"),
                                      pl.lit(label).alias("measure"), pl.col(m).alias("estimate"),
                                      pl.col(f"{m}_ci_low").alias("ci_low"), pl.col(f"{m}_ci_high").alias("ci_high"),
                                      "n", ceiling.cast(pl.Float64).alias("human_ceiling")))
    return pl.concat(parts, how="vertical_relaxed")
