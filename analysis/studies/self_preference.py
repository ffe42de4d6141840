"""Self-preference: does an evaluator favour answers written by its own model?

A raw gap (own-model answers minus other answers, as scored by the evaluator) mixes
self-preference with real quality differences: the own model may simply write better
answers. The other evaluators see the same answers, so their gap estimates the quality
difference, and the difference of the two gaps is the self-preference::

    gap_self   = mean_E(own answers) - mean_E(other answers)
    gap_others = mean over other evaluators O of [mean_O(own_E answers) - mean_O(other answers)]
    self_preference = gap_self - gap_others

in points on the 1-5 scale; positive: the evaluator scores its own model's answers
higher, relative to the other answers, than the other evaluators do. Means are over
responses (each response's score = mean of the evaluator's runs), on all 5 answer
models x 3 runs. The CI comes from a cluster bootstrap over items, so the 15 answers
to one conversation move together.

Cf. Panickssery, Bowman & Feng (2024), "LLM evaluators recognize and favor their own
generations"; Zheng et al. (2023), "Judging LLM-as-a-judge with MT-Bench and Chatbot
Arena" (self-enhancement bias).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import polars as pl

from analysis.stats.bootstrap import bootstrap
from analysis.stats.intervals import ci_note
from analysis.studies.evaluators import response_scores


def self_preference(ratings: pl.DataFrame, evaluator: str, *, evaluators: Sequence[str],
                    own_answer_model: Mapping[str, str | None], n_boot: int = 2000, seed: int = 0,
                    method: str = "bca", confidence: float = 0.95) -> pl.DataFrame:
    """Gaps and self-preference of ``evaluator`` with cluster-bootstrap CIs.

    ``evaluators`` are the study's LLM evaluators (the others' gap is averaged over all of
    them but ``evaluator``); ``own_answer_model`` maps each to the answer model of its own
    family (``None``: no answer model of that family, no self-preference).

    Returns
    -------
    polars.DataFrame
        Rows ``quantity`` in (``gap_self``, ``gap_others``, ``self_preference``) with
        ``estimate, ci_low, ci_high`` (points on 1-5), ``evaluator``, ``own_model``,
        ``n_items``, ``n_responses``, ``n_valid`` (finite bootstrap replicates) and
        ``ci_note``: the caveats of :mod:`analysis.stats.intervals` with the cluster
        rules, the items being clusters of responses (fewer than 20 items: ``too few
        clusters``). Empty for ``jury``, and for an evaluator without an own answer model.
    """
    if evaluator not in evaluators or not own_answer_model.get(evaluator):
        return pl.DataFrame(schema={"evaluator": pl.String, "own_model": pl.String, "quantity": pl.String,
                                    "estimate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                                    "n_items": pl.Int64, "n_responses": pl.Int64, "n_valid": pl.Int64,
                                    "ci_note": pl.String})
    own = own_answer_model[evaluator]
    evaluators = list(evaluators)
    others = [e for e in evaluators if e != evaluator]
    if not others:
        raise ValueError(f"self-preference of {evaluator!r} needs at least one other evaluator")
    wide = None
    for e in evaluators:
        s = response_scores(ratings, e).select("response_id", "item_id", "answer_model", pl.col("score").alias(e))
        wide = s if wide is None else wide.join(s.select("response_id", e), on="response_id", how="inner")
    wide = wide.drop_nulls().sort("response_id")
    is_own = (wide["answer_model"] == own).to_numpy()
    if not is_own.any() or is_own.all():
        raise ValueError(f"self-preference of {evaluator!r} needs answers from {own!r} and from other models")
    # Per-item sums, so the statistic is a ratio of weighted sums over items.
    items = wide["item_id"].to_numpy()
    uniq, codes = np.unique(items, return_inverse=True)
    feats = []
    for e in evaluators:
        s = wide[e].to_numpy()
        feats += [np.bincount(codes, s * is_own, len(uniq)), np.bincount(codes, s * ~is_own, len(uniq))]
    feats += [np.bincount(codes, is_own.astype(float), len(uniq)), np.bincount(codes, (~is_own).astype(float), len(uniq))]
    data = np.column_stack(feats)
    idx = {e: i for i, e in enumerate(evaluators)}

    def stat(d, weights):
        sums = weights @ d
        n_own, n_other = sums[:, -2], sums[:, -1]
        gap = {e: sums[:, 2 * i] / n_own - sums[:, 2 * i + 1] / n_other for e, i in idx.items()}
        g_self = gap[evaluator]
        g_others = np.mean([gap[o] for o in others], axis=0)
        return np.column_stack([g_self, g_others, g_self - g_others])

    res = bootstrap(data, stat, n_boot=n_boot, method=method, confidence=confidence, seed=seed)
    # A row of `data` is an item with all its responses: the resampled units are clusters.
    notes = ci_note(res.ci_low, res.ci_high, estimate=res.estimate, n_units=res.n_units, unit="clusters",
                    n_boot=res.n_boot, n_valid=res.n_valid)
    return pl.DataFrame({
        "evaluator": [evaluator] * 3, "own_model": [own] * 3,
        "quantity": ["gap_self", "gap_others", "self_preference"],
        "estimate": res.estimate.tolist(), "ci_low": res.ci_low.tolist(), "ci_high": res.ci_high.tolist(),
        "n_items": [len(uniq)] * 3, "n_responses": [len(wide)] * 3,
        "n_valid": res.n_valid.tolist(), "ci_note": notes.tolist(),
    }, schema_overrides={"n_valid": pl.Int64, "ci_note": pl.String})
