"""Can an LLM replace a human annotator? The alternative annotator test on a study.

:func:`alt_test_table` runs the alt-test (Calderon, Reichart & Dror 2025;
:mod:`analysis.stats.alt_test`) for every evaluator of any study that has at least two
reference raters, from a tidy table of ratings (one row per item and rater), over a
sweep of ``epsilon`` in both the additive mode of the authors and the multiplicative
mode of MetaEvaluator. It returns two tables:

* ``summary`` (``alt_test.csv``): one row per evaluator, run, epsilon mode and epsilon:
  ``n_humans`` tested, ``winning_rate`` (share of humans the evaluator beats, after
  Benjamini-Yekutieli at ``q``), ``advantage_probability`` (probability that the
  evaluator is at least as close to the remaining humans as a left-out human is; it
  does not depend on epsilon) and ``passed`` (winning rate >= 0.5);
* ``humans`` (``alt_test_humans.csv``): one row per left-out human of each of those:
  its items ``n``, both advantage probabilities, the one-sided t test (``t_statistic``,
  ``pvalue``), the BY-adjusted p-value and whether its null was ``rejected``.

Between Help and Harm has two tasks:

* ``labels``: the crisis labels. Judges: each LLM labeller's each run and its majority
  label over the runs (:func:`analysis.studies.crisis_labels.majority_labels`), against
  the 4 humans H1-H4 on all 206 items, accuracy scoring (the share of the remaining 3
  humans giving the judge's label). A run that returned no label (``""`` in the
  authors' files) is scored as a label no human gave, i.e. wrong, as in the authors'
  agreement rates; ``empty_as_error=False`` drops those items for that judge instead.
* ``scores``: the 1-5 appropriateness scores of the review answers. Judges: each LLM
  evaluator (the mean of its evaluation runs) and the jury (the mean of the three),
  against H1 and H2 on the review items every rater scored, negative-RMSE scoring.
  With two humans, leaving one out leaves a single human: each human is compared with
  the judge against the *other human alone*, so the test asks "is the judge as close
  to H2 as H1 is?" and the reverse, and a winning rate can only be 0, 0.5 or 1.

References
----------
Calderon, N., Reichart, R. & Dror, R. (2025). The Alternative Annotator Test for
LLM-as-a-Judge: How to Statistically Justify Replacing Human Annotators with LLMs.
ACL 2025; arXiv:2501.10970.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import polars as pl

from analysis.stats.alt_test import (DEFAULT_EPSILONS, EPSILON_MODES, alt_test_from_indicators,
                                     alt_test_indicators)
from analysis.studies import crisis_labels as cl

TASKS: tuple[str, ...] = ("labels", "scores")
DEFAULT_SCORING = {"labels": "accuracy", "scores": "neg_rmse"}

SUMMARY_SCHEMA = {
    "task": pl.String, "evaluator": pl.String, "run": pl.String, "epsilon_mode": pl.String, "epsilon": pl.Float64,
    "scoring": pl.String, "n_humans": pl.Int64, "n_items": pl.Int64, "winning_rate": pl.Float64,
    "advantage_probability": pl.Float64, "passed": pl.Boolean,
}
HUMANS_SCHEMA = {
    "task": pl.String, "evaluator": pl.String, "run": pl.String, "epsilon_mode": pl.String, "epsilon": pl.Float64,
    "human": pl.String, "n": pl.Int64, "advantage_probability": pl.Float64,
    "human_advantage_probability": pl.Float64, "t_statistic": pl.Float64, "pvalue": pl.Float64,
    "p_adjusted": pl.Float64, "rejected": pl.Boolean,
}


class NotEnoughReferences(ValueError):
    """The study has fewer than 2 reference raters: the alt-test cannot leave one out."""


@dataclass(frozen=True)
class AltTestTables:
    """``summary``: one row per evaluator x run x epsilon mode x epsilon; ``humans``: one
    row per left-out human of each (see the module docstring)."""

    summary: pl.DataFrame
    humans: pl.DataFrame

    @staticmethod
    def concat(parts: Sequence["AltTestTables"]) -> "AltTestTables":
        return AltTestTables(summary=pl.concat([p.summary for p in parts]),
                             humans=pl.concat([p.humans for p in parts]))


def split_rater(name: str) -> tuple[str, str]:
    """``"gpt-4o-mini/run1"`` -> ``("gpt-4o-mini", "run1")``; a name without ``/`` has run ``""``."""
    evaluator, _, run = str(name).partition("/")
    return evaluator, run


def _wide(ratings: pl.DataFrame, raters: Sequence[str], item: str, rater: str, score: str) -> np.ndarray:
    missing = [c for c in (item, rater, score) if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings has no column(s) {missing}; columns are {ratings.columns}")
    df = ratings.select(pl.col(item).alias("item"), pl.col(rater).cast(pl.String).alias("rater"),
                        pl.col(score).alias("score")).filter(pl.col("rater").is_in(list(raters)))
    if df.schema["score"].is_float():
        df = df.with_columns(pl.col("score").fill_nan(None))
    df = df.drop_nulls("score")
    absent = [r for r in raters if r not in set(df["rater"].unique().to_list())]
    if absent:
        raise ValueError(f"raters {absent} have no ratings")
    dup = df.filter(pl.struct("item", "rater").is_duplicated())
    if dup.height:
        first = dup.row(0, named=True)
        raise ValueError(f"{dup.height} duplicated (item, rater) ratings, e.g. item {first['item']!r} by "
                         f"{first['rater']!r}: keep one rating per item and rater")
    wide = df.pivot(on="rater", index="item", values="score").sort("item")
    cols = [wide[r] for r in raters]
    if df.schema["score"].is_numeric():
        return np.column_stack([c.cast(pl.Float64).fill_null(float("nan")).to_numpy() for c in cols])
    return np.array([c.to_list() for c in cols], dtype=object).T.reshape(wide.height, len(raters))


def alt_test_table(ratings: pl.DataFrame, references: Sequence[str], evaluators: Sequence[str], *,
                   task: str = "", scoring: str | Callable[[Any, list], float] = "accuracy",
                   epsilons: Sequence[float] = DEFAULT_EPSILONS, epsilon_modes: Sequence[str] = EPSILON_MODES,
                   q: float = 0.05, min_items_per_human: int = 30, min_humans_per_item: int = 2,
                   item: str = "item", rater: str = "rater", score: str = "score",
                   names: Mapping[str, tuple[str, str]] | None = None) -> AltTestTables:
    """The alt-test of every evaluator against the references, for every epsilon and mode.

    Works on any study: ``ratings`` is a tidy polars frame with one row per (item,
    rater) (columns ``item``, ``rater``, ``score``, names configurable; null/NaN = not
    rated); labels for ``scoring="accuracy"``, numbers for ``"neg_rmse"``.

    Parameters
    ----------
    references : sequence of str
        The human raters (at least 2), left out one at a time.
    evaluators : sequence of str
        The raters tested as replacements, each on its own.
    task : str
        Written in the ``task`` column.
    names : mapping, optional
        Rater -> ``(evaluator, run)`` for the output columns; default
        :func:`split_rater` (``"gpt-4o-mini/run1"`` -> ``gpt-4o-mini``, ``run1``).
    epsilons, epsilon_modes, scoring, q, min_items_per_human, min_humans_per_item
        As in :func:`analysis.stats.alt_test.alt_test`; the win indicators of an
        evaluator are computed once and tested at every epsilon.

    Raises
    ------
    NotEnoughReferences
        Fewer than 2 references.
    """
    references, evaluators = [str(r) for r in references], [str(e) for e in evaluators]
    if len(references) < 2:
        raise NotEnoughReferences(f"the alternative annotator test needs at least 2 reference raters to leave one "
                                  f"out, got {len(references)} ({', '.join(references) or 'none'})")
    if not evaluators:
        raise ValueError("no evaluator to test")
    clash = sorted(set(references) & set(evaluators))
    if clash:
        raise ValueError(f"{clash} are both references and evaluators")
    names = dict(names or {})
    m = _wide(ratings, [*references, *evaluators], item, rater, score)
    humans = m[:, :len(references)]
    summary, per_human = [], []
    for k, ev in enumerate(evaluators):
        evaluator, run = names.get(ev, split_rater(ev))
        ind = alt_test_indicators(m[:, len(references) + k], humans, human_names=references, scoring=scoring,
                                  min_items_per_human=min_items_per_human, min_humans_per_item=min_humans_per_item)
        for mode in epsilon_modes:
            for eps in epsilons:
                r = alt_test_from_indicators(ind, epsilon=float(eps), q=q, epsilon_mode=mode)
                key = (task, evaluator, run, mode, float(eps))
                summary.append((*key, r.scoring, r.n_humans, r.n_items, r.winning_rate, r.advantage_probability,
                                r.passed))
                per_human += [(*key, *row) for row in r.per_human.rows()]
    return AltTestTables(summary=pl.DataFrame(summary, schema=SUMMARY_SCHEMA, orient="row"),
                         humans=pl.DataFrame(per_human, schema=HUMANS_SCHEMA, orient="row"))


# ---------------------------------------------------------------------------------
# Between Help and Harm

def crisis_label_ratings(crisis_labels: pl.DataFrame, *, empty_as_error: bool = True) -> pl.DataFrame:
    """The crisis labels as a tidy ``item, rater, score`` table, with every labeller's
    majority label added (:func:`analysis.studies.crisis_labels.majority_labels`).

    ``empty_as_error``: a missing LLM label (an empty run, or no majority over the
    runs) becomes ``""``, a label no human gives, so the judge is wrong on that item;
    with ``False`` it stays missing and the item is not among the judge's items.
    """
    labels = pl.concat([crisis_labels.filter(~pl.col("rater").str.ends_with("/majority")),
                        cl.majority_labels(crisis_labels)])
    llm = ~pl.col("rater").is_in(["consensus", *cl.HUMANS])
    score = pl.when(llm & pl.col("label").is_null()).then(pl.lit(cl.EMPTY)).otherwise(pl.col("label")) \
        if empty_as_error else pl.col("label")
    return labels.filter(pl.col("rater") != "consensus").select(
        pl.col("item_id").alias("item"), "rater", score.alias("score"))


def crisis_judges(labellers: Sequence[str] = cl.LABELLERS, n_runs: int = cl.N_RUNS) -> list[str]:
    """Each labeller's runs, then its majority: ``gpt-4o-mini/run1`` ... ``meta-llama/majority``."""
    return [f"{lab}/{r}" for lab in labellers for r in (*(f"run{k}" for k in range(1, n_runs + 1)), "majority")]


def crisis_alt_test(crisis_labels: pl.DataFrame, *, judges: Sequence[str] | None = None,
                    humans: Sequence[str] = cl.HUMANS, scoring: str = "accuracy",
                    epsilons: Sequence[float] = DEFAULT_EPSILONS, epsilon_modes: Sequence[str] = EPSILON_MODES,
                    empty_as_error: bool = True, q: float = 0.05) -> AltTestTables:
    """The alt-test of the crisis labellers (task ``labels``) against H1-H4."""
    return alt_test_table(crisis_label_ratings(crisis_labels, empty_as_error=empty_as_error), humans,
                          crisis_judges() if judges is None else judges, task="labels", scoring=scoring,
                          epsilons=epsilons, epsilon_modes=epsilon_modes, q=q)


def review_score_ratings(scores, raters: Sequence[str]) -> pl.DataFrame:
    """A :class:`analysis.studies.scored.ReviewScores` matrix as a tidy ``item, rater, score`` table."""
    index = [str(i) for i in scores.matrix.index]
    return pl.concat([pl.DataFrame({"item": index, "rater": r, "score": scores.column(r).astype(float)})
                      for r in raters])


def appropriateness_alt_test(study, *, evaluators: Sequence[str] | None = None, scoring: str = "neg_rmse",
                             epsilons: Sequence[float] = DEFAULT_EPSILONS,
                             epsilon_modes: Sequence[str] = EPSILON_MODES, q: float = 0.05) -> AltTestTables:
    """The alt-test of the LLM evaluators (mean of their runs) and the jury on the review
    set's appropriateness scores (task ``scores``) against the study's references.

    ``study`` is a loaded :class:`analysis.studies.registry.Study` with a review set.
    Run column: ``mean`` (of the evaluation runs; the jury: of the three evaluators).
    """
    refs = list(study.spec.references)
    if len(refs) < 2:
        raise NotEnoughReferences(f"study {study.name} has {len(refs)} reference rater(s) ({', '.join(refs)}); "
                                  f"the alternative annotator test needs at least 2")
    scores = study.review_scores()
    evaluators = list(study.names if evaluators is None else evaluators)
    ratings = review_score_ratings(scores, [*refs, *evaluators])
    names = {e: (e, "mean") for e in evaluators}
    return alt_test_table(ratings, refs, evaluators, task="scores", scoring=scoring, epsilons=epsilons,
                          epsilon_modes=epsilon_modes, q=q, names=names)


def task_references(spec) -> dict[str, tuple[str, ...]]:
    """Task -> reference raters, from a study's registry entry alone (no data loaded):
    ``labels`` for a study whose data carry crisis labels of several humans (its
    ``label_raters``; its ``references`` are the raters of its scores), ``scores`` for an
    ordinal scale. The alt-test can run on the tasks with at least 2 references."""
    out = {}
    if spec.label_raters:
        out["labels"] = tuple(spec.label_raters)
    elif spec.scale.kind == "nominal":
        out["labels"] = tuple(spec.references)
    if spec.scale.kind == "ordinal":
        out["scores"] = tuple(spec.references)
    return out


def check_references(spec) -> tuple[str, ...]:
    """The tasks of ``spec`` with at least 2 references; :class:`NotEnoughReferences` if none."""
    refs = task_references(spec)
    ok = tuple(t for t, r in refs.items() if len(r) >= 2)
    if not ok:
        have = ", ".join(spec.references)
        raise NotEnoughReferences(f"study {spec.name} has {len(spec.references)} reference rater(s) ({have}); "
                                  f"the alternative annotator test needs at least 2")
    return ok


def _is_user_study(study) -> bool:
    from analysis.data.tidy import PairwiseData, TidyData

    return isinstance(study.data, (TidyData, PairwiseData))


def tidy_ratings(study) -> tuple[pl.DataFrame, list[str], dict[str, tuple[str, str]]]:
    """A user study's ratings as the alt-test reads them: one row per item and rater, every
    rating kept (items rated by some of the humans only stay, as in the authors' data).

    Scores: each rater's mean over its runs (run ``mean``; ``1`` for a single run).
    Labels: the label text; an evaluator with several runs is tested once per run
    (``run1``, ...), a reference with several runs by its first. Returns the ratings, the
    evaluator columns and their ``(evaluator, run)`` names.
    """
    data = study.data
    if data.ratings is None:  # a pairwise study: its verdicts (A, B, tie) are the labels
        from analysis.studies.pairwise import alt_test_ratings

        return alt_test_ratings(study)
    refs = list(study.spec.references)
    r = data.ratings.select(pl.col("response_id").alias("item"), "rater", "eval_run", "score")
    if not data.study.nominal:
        runs = r.group_by("rater").agg(pl.col("eval_run").n_unique().alias("k"))
        multi = set(runs.filter(pl.col("k") > 1)["rater"].to_list())
        means = r.group_by("item", "rater").agg(pl.col("score").mean()).sort("item", "rater")
        evaluators = [e for e in data.evaluators]
        names = {e: (e, "mean" if e in multi else "1") for e in evaluators}
        return means, evaluators, names
    labels = list(data.labels)
    text = pl.col("score").cast(pl.Int64).map_elements(lambda i: labels[i], return_dtype=pl.String)
    r = r.with_columns(text.alias("score"))
    parts = [r.filter(pl.col("rater").is_in(refs)).sort("eval_run").group_by("item", "rater", maintain_order=True)
             .agg(pl.col("score").first())]
    evaluators, names = [], {}
    for e in data.evaluators:
        mine = r.filter(pl.col("rater") == e)
        runs = sorted(mine["eval_run"].unique().to_list())
        for k in runs:
            col = e if len(runs) == 1 else f"{e}/run{k}"
            parts.append(mine.filter(pl.col("eval_run") == k).select("item", pl.lit(col).alias("rater"), "score"))
            evaluators.append(col)
            names[col] = (e, "1" if len(runs) == 1 else f"run{k}")
    return pl.concat([p.select("item", "rater", "score") for p in parts]), evaluators, names


def study_tasks(study) -> tuple[str, ...]:
    """The alt-test tasks a loaded study supports: ``labels`` with crisis labels of at least
    2 humans, ``scores`` with a review set and at least 2 references; a user study: its
    kind (``labels`` for a nominal study, ``scores`` otherwise) with at least 2 references."""
    if _is_user_study(study):
        if len(study.spec.references) < 2:
            return ()
        return ("labels",) if study.data.study.nominal else ("scores",)
    tasks = []
    labels = study.data.crisis_labels
    if labels is not None and len(set(labels["rater"].to_list()) & set(cl.HUMANS)) >= 2:
        tasks.append("labels")
    if study.data.review_set is not None and len(study.spec.references) >= 2:
        tasks.append("scores")
    return tuple(tasks)


def study_alt_test(study, *, tasks: Sequence[str] | None = None, scoring: str | None = None,
                   epsilons: Sequence[float] = DEFAULT_EPSILONS, epsilon_modes: Sequence[str] = EPSILON_MODES,
                   q: float = 0.05) -> AltTestTables:
    """Every evaluator of a loaded study, for each of its tasks (default: all it supports).

    ``scoring`` defaults to accuracy for labels and negative RMSE for scores.
    """
    supported = study_tasks(study)
    if not supported:
        raise NotEnoughReferences(f"study {study.name} has {len(study.spec.references)} reference rater(s) "
                                  f"({', '.join(study.spec.references)}); the alternative annotator test needs "
                                  f"at least 2")
    tasks = supported if tasks is None else tuple(tasks)
    for t in tasks:
        if t not in supported:
            raise ValueError(f"study {study.name} has no task {t!r}; its tasks: {', '.join(supported)}")
    parts = []
    for t in tasks:
        sc = scoring or DEFAULT_SCORING[t]
        if _is_user_study(study):
            ratings, evaluators, names = tidy_ratings(study)
            parts.append(alt_test_table(ratings, study.spec.references, evaluators, task=t, scoring=sc,
                                        epsilons=epsilons, epsilon_modes=epsilon_modes, q=q, names=names))
        elif t == "labels":
            parts.append(crisis_alt_test(study.data.crisis_labels, scoring=sc, epsilons=epsilons,
                                         epsilon_modes=epsilon_modes, q=q))
        else:
            parts.append(appropriateness_alt_test(study, scoring=sc, epsilons=epsilons,
                                                  epsilon_modes=epsilon_modes, q=q))
    return AltTestTables.concat(parts)



def winning_rates(summary: pl.DataFrame, epsilons: Sequence[float] = (0.1, 0.15, 0.2), *,
                  epsilon_mode: str = "additive") -> pl.DataFrame:
    """The winning rate of every judge (one row per task, evaluator, run, with its
    ``advantage_probability``) at each of ``epsilons`` (one column each), from
    :attr:`AltTestTables.summary`; the authors suggest ε = 0.2 (experts), 0.15 (skilled
    annotators), 0.1 (crowd workers)."""
    return summary.filter((pl.col("epsilon_mode") == epsilon_mode) & pl.col("epsilon").is_in(list(epsilons))).pivot(
        on="epsilon", index=["task", "evaluator", "run", "advantage_probability"], values="winning_rate")


def per_left_out_human(humans: pl.DataFrame, epsilon: float = 0.2, *, epsilon_mode: str = "additive") -> pl.DataFrame:
    """The rows of :attr:`AltTestTables.humans` at one ε (the ε columns dropped)."""
    return humans.filter((pl.col("epsilon_mode") == epsilon_mode) & (pl.col("epsilon") == epsilon)).drop(
        "epsilon_mode", "epsilon")
