"""The LLM evaluators of the Between Help and Harm design, and the jury built from them.

``jury`` is not a model: it is the mean of the three LLM evaluators, as in the paper.
Per response, the jury score is the mean of the three evaluators' scores, each the
mean of that evaluator's evaluation runs (the authors' ``evaluation`` field). For
run-to-run analyses, jury run ``r`` is the mean of the three evaluators' run ``r``,
defined only where all three have run ``r``.
"""

from __future__ import annotations

import polars as pl

LLM_EVALUATORS: tuple[str, ...] = ("gpt-4o-mini", "gpt-5-nano", "meta-llama")
JURY = "jury"
EVALUATORS: tuple[str, ...] = (*LLM_EVALUATORS, JURY)

OWN_ANSWER_MODEL: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini",
    "gpt-5-nano": "gpt-5-nano",
    "meta-llama": "meta-llama",  # Llama-4-Scout-17B-16E-Instruct evaluates its own answers
}
"""Answer model of the same family as each evaluator (for self-preference)."""

_RESPONSE_KEYS = ["response_id", "item_id", "answer_model", "answer_run", "category"]


def check_evaluator(evaluator: str) -> str:
    """Fail at once, listing the valid names, on an unknown evaluator."""
    if evaluator not in EVALUATORS:
        raise ValueError(f"unknown evaluator {evaluator!r}; valid names: {', '.join(EVALUATORS)}")
    return evaluator


def run_scores(ratings: pl.DataFrame, evaluator: str) -> pl.DataFrame:
    """One row per (response, evaluation run) of ``evaluator``: keys, ``eval_run``, ``score``.

    For ``jury``, run ``r`` is the mean of the LLM evaluators' run ``r`` where all of
    them have it (a response missing a run of one evaluator has no jury run ``r``).
    """
    check_evaluator(evaluator)
    cols = [*_RESPONSE_KEYS, "eval_run", "score"]
    if evaluator != JURY:
        return ratings.filter(pl.col("rater") == evaluator).select(cols).sort(["response_id", "eval_run"])
    llm = ratings.filter(pl.col("rater").is_in(list(LLM_EVALUATORS)))
    return (
        llm.group_by([*_RESPONSE_KEYS, "eval_run"])
        .agg(pl.col("score").mean(), pl.col("rater").n_unique().alias("n_evaluators"))
        .filter(pl.col("n_evaluators") == len(LLM_EVALUATORS))
        .select(cols)
        .sort(["response_id", "eval_run"])
    )


def response_scores(ratings: pl.DataFrame, evaluator: str) -> pl.DataFrame:
    """One row per response: keys, ``score`` (mean over runs; jury: mean of evaluator means), ``n_runs``."""
    check_evaluator(evaluator)
    names = LLM_EVALUATORS if evaluator == JURY else (evaluator,)
    per_eval = (
        ratings.filter(pl.col("rater").is_in(list(names)))
        .group_by([*_RESPONSE_KEYS, "rater"])
        .agg(pl.col("score").mean(), pl.len().alias("n_runs"))
    )
    out = per_eval.group_by(_RESPONSE_KEYS).agg(
        pl.col("score").mean(), pl.col("n_runs").sum(), pl.col("rater").n_unique().alias("n_evaluators"))
    if evaluator == JURY:
        out = out.filter(pl.col("n_evaluators") == len(LLM_EVALUATORS))
    return out.drop("n_evaluators").sort("response_id")


def run_reliability(ratings: pl.DataFrame, evaluator: str, *, n_boot: int = 2000, seed: int = 0,
                    ci: str = "bca") -> pl.DataFrame:
    """Run-to-run reliability: ICCs of the ``responses x evaluation runs`` matrix.

    Responses with fewer runs than the most common number are left out (counted in
    ``n_dropped``). ICC(A,1) is the reliability of one run, ICC(A,k) of the mean of the
    k runs (what the paper's merged ``evaluation`` is). The bootstrap resamples items
    (conversations), the responses of one item moving together.
    """
    from analysis.stats.icc import intraclass_corr

    runs = run_scores(ratings, evaluator)
    wide = runs.pivot(on="eval_run", index=["response_id", "item_id"], values="score").sort("response_id")
    run_cols = sorted((c for c in wide.columns if c not in ("response_id", "item_id")), key=int)
    x = wide.select(run_cols).to_numpy().astype(float)
    frames = []
    for method in ("f", ci):
        res = intraclass_corr(x, ci=method, n_boot=n_boot, seed=seed, clusters=wide["item_id"].to_list())
        frames.append(res.with_columns(pl.lit(evaluator).alias("evaluator")))
    return pl.concat(frames).select("evaluator", pl.exclude("evaluator"))
