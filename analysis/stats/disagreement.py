"""Judge-human agreement split by how much the humans disagree with each other.

When to use
-----------
A single agreement number mixes items on which the humans agree (a clear right answer)
with items on which they do not (no single gold label). Elangovan et al. (2025) show
that when many items carry human disagreement, a judge can look as good as or better
than a human by aggregate correlation, and recommend stratifying the items by human
label uncertainty and reporting agreement per stratum. On clear items a good judge
should match the humans almost always; on contested items "agreement with the
majority" is partly luck. This module returns that stratified table.

Measures per item (items with a judge rating and at least two human ratings)
-------------------------------------------------------------------------------
Labels (``kind="labels"``):

* ``measure="majority"`` (default): human agreement = share of the item's human labels
  equal to its most frequent label (1 = unanimous; 2/3 for a 2-1 split of 3 humans;
  Elangovan et al.'s proportion of the majority label);
* ``measure="pairs"``: share of pairs of humans with the same label.

Per bin: ``judge_majority_agreement`` = mean over items of 1[judge = majority label],
where an item whose top count is shared by ``m`` labels counts ``1/m`` if the judge
gave one of them (the expected agreement with a majority drawn at random among the
tied labels); ``judge_human_agreement`` = mean over items of the share of humans giving
the judge's label; ``human_pair_agreement`` = mean over items of the share of agreeing
human pairs (how often two humans agree, the ceiling to compare the previous column
with).

Scores (``kind="scores"``):

* ``measure="range"`` (default): max - min of the human scores (points);
* ``measure="sd"``: their standard deviation (ddof = 1).

Per bin: ``judge_mean_abs_diff`` = mean ``|judge - human mean|`` (points) and
``judge_mean_diff`` = mean ``judge - human mean`` (the judge's bias, points).

Bins: by default one bin per distinct value of the measure (natural for a few humans
and integer scales; values equal to 12 decimals are pooled); or pass ``bins`` edges:
items fall in ``[e_j, e_{j+1})``, the last bin closed.

Reference
---------
Elangovan, A., Xu, L., Ko, J., Elyasi, M., Liu, L., Bodapati, S. & Roth, D. (2025).
Beyond correlation: the impact of human uncertainty in measuring the effectiveness of
automatic evaluation and LLM-as-a-judge. ICLR 2025; arXiv:2410.03775.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

import numpy as np
import polars as pl

LABEL_SCHEMA = {
    "bin_low": pl.Float64, "bin_high": pl.Float64, "n_items": pl.Int64, "share_of_items": pl.Float64,
    "judge_majority_agreement": pl.Float64, "judge_human_agreement": pl.Float64,
    "human_pair_agreement": pl.Float64,
}
SCORE_SCHEMA = {
    "bin_low": pl.Float64, "bin_high": pl.Float64, "n_items": pl.Int64, "share_of_items": pl.Float64,
    "judge_mean_abs_diff": pl.Float64, "judge_mean_diff": pl.Float64,
}


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def _bin_index(values: np.ndarray, bins: Sequence[float] | None) -> tuple[np.ndarray, list[tuple[float, float]]]:
    if bins is None:
        keys = np.round(values, 12)
        uniq = np.unique(keys)
        idx = np.searchsorted(uniq, keys)
        first = [float(values[idx == b][0]) for b in range(uniq.size)]
        return idx, [(v, v) for v in first]
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bins must be at least 2 increasing edges, got {list(bins)}")
    outside = (values < edges[0]) | (values > edges[-1])
    if outside.any():
        raise ValueError(f"{int(outside.sum())} item(s) have a disagreement outside the bins "
                         f"[{edges[0]}, {edges[-1]}], e.g. {values[outside][0]}")
    idx = np.minimum(np.searchsorted(edges, values, side="right") - 1, edges.size - 2)
    return idx, [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


def agreement_by_human_disagreement(judge, humans, *, kind: str = "labels", measure: str | None = None,
                                    bins: Sequence[float] | None = None) -> pl.DataFrame:
    """Judge-human agreement per bin of human-human disagreement (Elangovan et al. 2025).

    Parameters
    ----------
    judge : array_like, shape (n_items,)
        The judge's label or score; None/NaN = not rated.
    humans : array_like, shape (n_items, n_humans)
        The humans' labels or scores; None/NaN = not rated.
    kind : {"labels", "scores"}
    measure : str, optional
        ``"majority"`` (default) or ``"pairs"`` for labels; ``"range"`` (default) or
        ``"sd"`` for scores. See the module docstring.
    bins : sequence of float, optional
        Bin edges of the measure; default one bin per distinct value.

    Returns
    -------
    polars.DataFrame
        One row per non-empty bin, ordered by the measure, with ``bin_low``,
        ``bin_high``, ``n_items``, ``share_of_items`` and the agreement columns of
        ``kind``. Items without a judge rating or with fewer than 2 human ratings are
        left out.

    Examples
    --------
    >>> humans = [["a", "a", "a"], ["a", "b", "a"], ["b", "b", "b"], ["a", "b", "b"]]
    >>> t = agreement_by_human_disagreement(["a", "b", "b", "a"], humans)
    >>> t.select("bin_low", "n_items", "judge_majority_agreement", "human_pair_agreement").rows()
    [(0.6666666666666666, 2, 0.0, 0.3333333333333333), (1.0, 2, 1.0, 1.0)]
    """
    j_raw, h_raw = np.asarray(judge, dtype=object), np.asarray(humans, dtype=object)
    if h_raw.ndim != 2 or j_raw.ndim != 1 or h_raw.shape[0] != j_raw.shape[0]:
        raise ValueError(f"judge must be (n_items,) and humans (n_items, n_humans), got {j_raw.shape} and {h_raw.shape}")
    if kind not in ("labels", "scores"):
        raise ValueError(f"kind must be 'labels' or 'scores', not {kind!r}")
    measures = ("majority", "pairs") if kind == "labels" else ("range", "sd")
    measure = measures[0] if measure is None else measure
    if measure not in measures:
        raise ValueError(f"measure for {kind} must be one of {measures}, not {measure!r}")

    disagreement, rows = [], []
    for j, row in zip(j_raw.tolist(), h_raw.tolist()):
        ratings = [v for v in row if not _is_missing(v)]
        if _is_missing(j) or len(ratings) < 2:
            continue
        k = len(ratings)
        if kind == "labels":
            counts = Counter(ratings)
            top = max(counts.values())
            modes = [lab for lab, c in counts.items() if c == top]
            pairs = sum(c * (c - 1) for c in counts.values()) / (k * (k - 1))
            disagreement.append(top / k if measure == "majority" else pairs)
            rows.append(((1.0 / len(modes)) if j in modes else 0.0, counts.get(j, 0) / k, pairs))
        else:
            try:
                x, jv = np.array(ratings, dtype=float), float(j)
            except (TypeError, ValueError):
                raise ValueError("kind='scores' needs numeric ratings") from None
            disagreement.append(float(x.max() - x.min()) if measure == "range" else float(x.std(ddof=1)))
            rows.append((abs(jv - x.mean()), jv - x.mean()))
    if not rows:
        raise ValueError("no item has a judge rating and at least 2 human ratings")
    values, stats_ = np.array(disagreement), np.array(rows)
    idx, edges = _bin_index(values, bins)
    out = []
    for b, (lo, hi) in enumerate(edges):
        sel = idx == b
        if not sel.any():
            continue
        means = stats_[sel].mean(axis=0).tolist()
        out.append((lo, hi, int(sel.sum()), float(sel.mean()), *means))
    schema = LABEL_SCHEMA if kind == "labels" else SCORE_SCHEMA
    return pl.DataFrame(out, schema=schema, orient="row")
