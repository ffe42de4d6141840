"""Human versus LLM-judge alignment on MentalAlign-70k, at the system and response level.

System level (as the MentalBench-Align authors): for one judge and attribute, the
``n_sources x 2`` matrix of per-source mean scores (human, judge), the judge's own model
family left out, and its ICC(C,1) / ICC(A,1). The means use the responses both the human
and the judge rated (pairwise deletion), which is what reproduces the published tables.

Response level (not in the paper): the ICCs of the ~9,000 individual (human, judge)
pairs, with a cluster bootstrap over conversations (the 9 responses to one conversation
are not independent).

Bias: ``judge − human`` on the same pairs, in points on the 1-5 scale, with its
cluster-bootstrap CI, the mean squared difference and its decomposition
(:func:`analysis.bias.mse_decomposition`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.bootstrap import bootstrap
from analysis.datasets.mentalalign import OWN_FAMILY
from analysis.icc import icc_batch, intraclass_corr

_A1, _C1 = 1, 2  # positions of ICC(A,1) and ICC(C,1) in analysis.icc.ICC_TYPES


@dataclass(frozen=True)
class Pairs:
    """Responses rated by both the human and the judge on one attribute."""

    human: np.ndarray
    judge: np.ndarray
    source: np.ndarray  # source code per pair, into ``sources``
    conversation: np.ndarray  # conversation id per pair
    sources: tuple[str, ...]


def pairs(ratings: pl.DataFrame, judge: str, attribute: str, *, exclude_own_family: bool = True) -> Pairs:
    """The (human, judge) score pairs of one attribute, sorted by response."""
    if judge not in OWN_FAMILY:
        raise ValueError(f"unknown judge {judge!r}; valid: {', '.join(OWN_FAMILY)}")
    sub = ratings.filter((pl.col("attribute") == attribute) & pl.col("rater").is_in(["human", judge]))
    if exclude_own_family:
        sub = sub.filter(pl.col("answer_model") != OWN_FAMILY[judge])
    wide = (sub.pivot(on="rater", index=["response_id", "item_id", "answer_model"], values="score")
            .drop_nulls([c for c in ("human", judge)]).sort("response_id"))
    if "human" not in wide.columns or judge not in wide.columns or wide.height == 0:
        raise ValueError(f"no response has both a human and a {judge} rating of {attribute}")
    sources = tuple(sorted(wide["answer_model"].unique().to_list()))
    code = {s: i for i, s in enumerate(sources)}
    return Pairs(human=wide["human"].to_numpy().astype(float), judge=wide[judge].to_numpy().astype(float),
                 source=np.array([code[s] for s in wide["answer_model"]]),
                 conversation=wide["item_id"].to_numpy(), sources=sources)


def source_means(p: Pairs, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-source mean (human, judge): shape ``(..., n_sources, 2)``; weights over pairs."""
    onehot = (p.source[:, None] == np.arange(len(p.sources))[None, :]).astype(float)  # (n, S)
    w = np.ones((1, p.human.size)) if weights is None else weights
    counts = w @ onehot  # (B, S)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = (w * p.human) @ onehot / counts
        j = (w * p.judge) @ onehot / counts
    out = np.stack([h, j], axis=-1)
    return out[0] if weights is None else out


def system_level_icc(p: Pairs, *, n_boot: int = 2000, seed: int = 0, method: str = "bca") -> pl.DataFrame:
    """ICC(C,1) and ICC(A,1) of the per-source means, F-based and bootstrap intervals.

    The bootstrap resamples conversations (all the pairs of a drawn conversation come
    along) and recomputes the source means and their ICC, keeping every replicate:
    replicates outside [0, 1] are legitimate values of the estimator, and dropping them
    (as the paper's script does) shifts the interval upwards.
    """
    means = source_means(p)
    f = intraclass_corr(means, ci="f").filter(pl.col("type").is_in(["ICC(C,1)", "ICC(A,1)"]))

    def stat(h, j, s, weights):
        m = source_means(Pairs(h, j, s.astype(int), p.conversation, p.sources), weights)
        return icc_batch(m)[..., [_C1, _A1]]

    res = bootstrap((p.human, p.judge, p.source.astype(float)), stat, n_boot=n_boot, method=method, seed=seed,
                    clusters=p.conversation)
    boot = pl.DataFrame({"type": ["ICC(C,1)", "ICC(A,1)"], "icc": res.estimate.tolist(),
                         "ci_low": res.ci_low.tolist(), "ci_high": res.ci_high.tolist(),
                         "ci_method": [{"bca": "BCa", "percentile": "percentile"}[method]] * 2})
    return pl.concat([f.select("type", "icc", "ci_low", "ci_high", "ci_method"), boot]).with_columns(
        pl.lit("system").alias("level"), pl.lit(means.shape[0]).alias("n"))


def response_level_icc(p: Pairs, *, n_boot: int = 2000, seed: int = 0, method: str = "bca") -> pl.DataFrame:
    """ICC(C,1) and ICC(A,1) of the individual pairs; cluster bootstrap over conversations."""
    x = np.column_stack([p.human, p.judge])
    frames = []
    for ci in ("f", method):
        res = intraclass_corr(x, ci=ci, n_boot=n_boot, seed=seed, clusters=p.conversation if ci != "f" else None)
        frames.append(res.filter(pl.col("type").is_in(["ICC(C,1)", "ICC(A,1)"])).select(
            "type", "icc", "ci_low", "ci_high", "ci_method"))
    return pl.concat(frames).with_columns(pl.lit("response").alias("level"), pl.lit(x.shape[0]).alias("n"))


def bias_row(p: Pairs, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """Human mean, judge mean, bias = judge − human (points) with a cluster-bootstrap BCa
    CI over conversations, MSE and its decomposition, on the pairs ``p``."""
    from analysis.bias import mean_bias, mse_decomposition

    b = mean_bias(p.judge, p.human, n_boot=n_boot, seed=seed, clusters=p.conversation)
    d = mse_decomposition(p.judge, p.human)
    return dict(human_mean=float(p.human.mean()), judge_mean=float(p.judge.mean()), bias=b.bias, ci_low=b.ci_low,
                ci_high=b.ci_high, mse=d.mse, bias_sq=d.bias_sq, scale=d.scale, correlation=d.correlation,
                n=int(p.human.size))


def human_table(ratings: pl.DataFrame) -> pl.DataFrame:
    """Mean human score per response source x attribute (points on 1-5), and their mean."""
    from analysis.datasets.mentalalign import ATTRIBUTES, SOURCES

    h = ratings.filter(pl.col("rater") == "human")
    wide = h.group_by("answer_model", "attribute").agg(pl.col("score").mean()).pivot(
        on="attribute", index="answer_model", values="score").select("answer_model", *ATTRIBUTES)
    return (wide.with_columns(pl.mean_horizontal(*ATTRIBUTES).alias("Avg"),
                              pl.col("answer_model").replace_strict(SOURCES).alias("model"))
            .select("answer_model", "model", *ATTRIBUTES, "Avg").sort("Avg", descending=True))
