"""Evaluation runs of the LLM evaluators of a scored study, and the jury built from them.

``jury`` is not a model: it is the mean of the jury's members, which the study names
explicitly (Between Help and Harm: the paper's three evaluators), so that adding an
evaluator to the data never changes the jury that is compared with the paper's.
Per response, the jury score is the mean of the members' scores, each the mean of that
member's evaluation runs (the authors' ``evaluation`` field). For run-to-run analyses,
jury run ``r`` is the mean of the members' run ``r``, defined only where all of them have
run ``r``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl

from analysis.data.tidy import JURY  # noqa: F401 (defined once, in the data layer)

_RESPONSE_KEYS = ["response_id", "item_id", "answer_model", "answer_run", "category"]


def members(evaluator: str, jury: Sequence[str]) -> tuple[str, ...]:
    """The raters behind ``evaluator``: its jury members for ``jury``, else itself."""
    if evaluator != JURY:
        return (evaluator,)
    if not jury:
        raise ValueError("evaluator 'jury' needs the jury's members (this study has no jury)")
    return tuple(jury)


def run_scores(ratings: pl.DataFrame, evaluator: str, *, jury: Sequence[str] = ()) -> pl.DataFrame:
    """One row per (response, evaluation run) of ``evaluator``: keys, ``eval_run``, ``score``.

    For ``jury``, run ``r`` is the mean of the members' run ``r`` where all of them have
    it (a response missing a run of one member has no jury run ``r``).
    """
    names = members(evaluator, jury)
    cols = [*_RESPONSE_KEYS, "eval_run", "score"]
    if evaluator != JURY:
        return ratings.filter(pl.col("rater") == evaluator).select(cols).sort(["response_id", "eval_run"])
    llm = ratings.filter(pl.col("rater").is_in(list(names)))
    return (
        llm.group_by([*_RESPONSE_KEYS, "eval_run"])
        .agg(pl.col("score").mean(), pl.col("rater").n_unique().alias("n_evaluators"))
        .filter(pl.col("n_evaluators") == len(names))
        .select(cols)
        .sort(["response_id", "eval_run"])
    )


def response_scores(ratings: pl.DataFrame, evaluator: str, *, jury: Sequence[str] = ()) -> pl.DataFrame:
    """One row per response: keys, ``score`` (mean over runs; jury: mean of member means), ``n_runs``."""
    names = members(evaluator, jury)
    per_eval = (
        ratings.filter(pl.col("rater").is_in(list(names)))
        .group_by([*_RESPONSE_KEYS, "rater"])
        .agg(pl.col("score").mean(), pl.len().alias("n_runs"))
    )
    # Sorted, and aggregated in that order: the jury's mean then adds its members in one
    # fixed order, so the same data give the same bits (a hash group-by's row order varies
    # from run to run, and floating-point sums depend on the order).
    out = per_eval.sort([*_RESPONSE_KEYS, "rater"]).group_by(_RESPONSE_KEYS, maintain_order=True).agg(
        pl.col("score").mean(), pl.col("n_runs").sum(), pl.col("rater").n_unique().alias("n_evaluators"))
    if evaluator == JURY:
        out = out.filter(pl.col("n_evaluators") == len(names))
    return out.drop("n_evaluators").sort("response_id")


def run_reliability(ratings: pl.DataFrame, evaluator: str, *, jury: Sequence[str] = (), n_boot: int = 2000,
                    seed: int = 0, ci: str = "bca") -> pl.DataFrame:
    """Run-to-run reliability: ICCs of the ``responses x evaluation runs`` matrix.

    Responses with fewer runs than the most common number are left out (counted in
    ``n_dropped``). ICC(A,1) is the reliability of one run, ICC(A,k) of the mean of the
    k runs (what the paper's merged ``evaluation`` is). The bootstrap resamples items
    (conversations), the responses of one item moving together.

    The columns are those of :func:`analysis.stats.icc.intraclass_corr` after
    ``evaluator``, with ``n_valid``, ``ci_note`` and ``ci_assumes``. Runs *are* a random
    sample of the evaluator's runs, so the F interval's ``"raters random"`` fits them;
    but it treats the responses as independent, which they are not when an item has
    several responses: its ``ci_assumes`` then reads ``"...; responses independent"``
    and the cluster bootstrap (``"resampled clusters"``) is the interval to read.
    """
    from analysis.stats.icc import intraclass_corr

    runs = run_scores(ratings, evaluator, jury=jury)
    wide = runs.pivot(on="eval_run", index=["response_id", "item_id"], values="score").sort("response_id")
    run_cols = sorted((c for c in wide.columns if c not in ("response_id", "item_id")), key=int)
    x = wide.select(run_cols).to_numpy().astype(float)
    # Clustering only matters among the complete responses the ICC uses.
    complete = ~np.isnan(x).any(axis=1)
    clustered = wide.filter(pl.Series(complete))["item_id"].is_duplicated().any()
    frames = []
    for method in ("f", ci):
        res = intraclass_corr(x, ci=method, n_boot=n_boot, seed=seed, clusters=wide["item_id"].to_list())
        if method == "f" and clustered:
            res = res.with_columns((pl.col("ci_assumes") + "; responses independent").alias("ci_assumes"))
        frames.append(res.with_columns(pl.lit(evaluator).alias("evaluator")))
    return pl.concat(frames).select("evaluator", pl.exclude("evaluator"))
