"""What a study's sampling design does to the comparisons of judges with the references.

Every comparison of an evaluator with the humans (agreement, bias, the leniency order of
the judges) is made on the *review set*, the answers the references rated. When those
were selected by a rule (:class:`analysis.stats.sampling.SamplingDesign` ``selected``),
the review set is not every answer: a rule that picks the answer one judge scored lowest
lowers that judge's mean on the review set more than the others', and can reorder the
judges. :func:`leniency_table` shows each judge's mean on every answer beside its mean on
the review set, with the leniency order on each; :func:`design_note` says, from the
study's declared design, what this means for the notebook's comparisons.
"""

from __future__ import annotations

import polars as pl

from analysis.studies.evaluators import JURY
from analysis.studies.judge_assisted import Part, response_values

LENIENCY_SCHEMA = {
    "attribute": pl.String, "evaluator": pl.String, "mean_all": pl.Float64, "rank_all": pl.Int64,
    "mean_review": pl.Float64, "rank_review": pl.Int64, "review_minus_all": pl.Float64, "n_all": pl.Int64,
    "n_review": pl.Int64,
}


def leniency_table(ratings: pl.DataFrame, evaluators, *, references, jury=()) -> pl.DataFrame:
    """Each evaluator's mean score over every answer it scored and over the review set
    (the answers a reference rated), per attribute, with the leniency rank on each
    (1 = most lenient, the highest mean) and ``review_minus_all`` (points).

    An answer's score is the evaluator's mean over its runs (the jury: the mean of its
    members' means), as in :func:`analysis.studies.judge_assisted.response_values`.
    """
    rows = []
    for evaluator in evaluators:
        v = response_values(ratings, evaluator, references=references, jury=jury)
        for (attribute,), sub in sorted(v.group_by("attribute"), key=lambda kv: kv[0]):
            rev = sub.filter(pl.col("y").is_not_null())
            rows.append(dict(attribute=attribute, evaluator=evaluator, mean_all=sub["yhat"].mean(),
                             mean_review=rev["yhat"].mean() if rev.height else None, n_all=sub.height,
                             n_review=rev.height))
    table = pl.DataFrame(rows, schema={k: v for k, v in LENIENCY_SCHEMA.items() if not k.startswith("rank")
                                       and k != "review_minus_all"})
    return table.with_columns(
        pl.col("mean_all").rank("min", descending=True).over("attribute").cast(pl.Int64).alias("rank_all"),
        pl.col("mean_review").rank("min", descending=True).over("attribute").cast(pl.Int64).alias("rank_review"),
        (pl.col("mean_review") - pl.col("mean_all")).alias("review_minus_all"),
    ).select(list(LENIENCY_SCHEMA))


def _order(table: pl.DataFrame, column: str) -> str:
    return " > ".join(table.sort(column, descending=True)["evaluator"].to_list())


def design_note(design, table: pl.DataFrame) -> str:
    """What the declared ``design`` means for the comparisons of judges with the references,
    in a few sentences, with the numbers of ``table`` (:func:`leniency_table`, one attribute)."""
    judges = table.filter(pl.col("evaluator") != JURY)
    if design.kind == "all":
        return ("The study declares that the references rated every answer (design `all`): the review set is all "
                "answers, and every comparison below describes the judges on all of them (answers a reference did "
                "not rate after all are compared with the rated ones in notebook 09 where it applies).")
    if design.kind == "random":
        return (f"The rated answers are a {design.describe()} sample of the answers: comparisons on the review set "
                f"stand for all answers up to sampling error. The judges' means on both are below; a large "
                f"difference would say the sample is not random (notebook 09 tests it).")
    drops = ", ".join(f"{r['evaluator']} {r['mean_all']:.3f} → {r['mean_review']:.3f} ({r['review_minus_all']:+.2f})"
                      for r in judges.sort("review_minus_all").iter_rows(named=True) if r["mean_review"] is not None)
    order_all, order_review = _order(judges, "mean_all"), _order(judges.drop_nulls("mean_review"), "mean_review")
    same = order_all == order_review
    return (f"The references rated only answers selected by a rule ({design.rule}), not a random sample. The "
            f"selection lowers the judges' means on the review set unequally: {drops} (points on the scale, all "
            f"answers → review set). Leniency order on all answers: {order_all}; on the review set: {order_review}"
            f"{' (the same)' if same else ' (it changes)'}. Every comparison with the references in this notebook "
            f"(agreement, bias, which judge is more lenient) describes the judges on the answers the rule selects, "
            f"not on all answers.")


def design_part(study) -> Part:
    """The judges on all answers and on the review set (:func:`leniency_table`, every
    evaluator and the jury), ``leniency_all_vs_review``; shown: :func:`design_note` for
    each attribute, then the table (for a design rating ``all`` answers: the note only).
    Does not apply to a study without scores or ratings."""
    ratings = getattr(study.data, "ratings", None)
    refs = tuple(study.spec.references)
    if ratings is None or ratings.height == 0 or not study.evaluators:
        return Part(reason="this study has no evaluator scores: no judges to compare on all answers and the review set")
    if ratings.filter(pl.col("rater").is_in(list(refs))).height == 0:
        return Part(reason=f"no ratings of the references ({', '.join(refs)}): no review set")
    if study.spec.design.kind == "all":  # the review set is every answer: nothing to put side by side
        return Part(shown=(design_note(study.spec.design, pl.DataFrame(schema=LENIENCY_SCHEMA)),))
    table = leniency_table(ratings, study.names, references=refs, jury=study.jury)
    notes = tuple(design_note(study.spec.design, table.filter(pl.col("attribute") == a))
                  for a in table["attribute"].unique(maintain_order=True).to_list())
    return Part(tables={"leniency_all_vs_review": table}, shown=(*notes, table))
