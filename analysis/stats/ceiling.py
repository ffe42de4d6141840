"""Does an evaluator agree with a human as well as the other human does?

Leave-one-human-out comparison: with two humans H1, H2 and an evaluator E, each human
in turn is the reference, and the evaluator's agreement with it is compared with the
other human's agreement with it::

    delta_H1 = A(E, H1) - A(H2, H1)
    delta_H2 = A(E, H2) - A(H1, H2)
    delta    = (delta_H1 + delta_H2) / 2

where ``A`` is ICC(A,1) (absolute agreement; higher is better) or MAE (points on the
1-5 scale; lower is better, so for MAE a *positive* delta means the evaluator is
*worse*). The human-human agreement is the ceiling: an evaluator cannot be expected to
agree with a human better than another trained human does. The uncertainty of
``delta`` comes from one bootstrap over items, resampling the evaluator and both humans
together, so the correlation between the two agreements is kept.

The verdict reads the CI of ``delta`` for ICC(A,1): entirely below 0 -> the evaluator
agrees with a human *less* well than the other human does; containing 0 -> the data
cannot tell them apart; entirely above 0 -> better than the other human.

This is the "alternative annotator test" idea of Calderon, Reichart & Dror (2025,
"The Alt-Test") and of comparing to inter-human agreement as an upper bound
(e.g. Chiang & Lee 2023), made quantitative with a paired bootstrap (Efron 1987).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.stats.bootstrap import bootstrap
from analysis.stats.icc import icc_batch

_ICC_A1 = 1  # position of ICC(A,1) in analysis.stats.icc.ICC_TYPES


def _deltas(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """x: (n, 3) columns evaluator, H1, H2 -> (B, 6) deltas for ICC(A,1) and MAE."""
    e, h1, h2 = 0, 1, 2

    def icc(a, b):
        return icc_batch(x[:, [a, b]], weights)[..., _ICC_A1]

    def mae(a, b):
        return weights @ np.abs(x[:, a] - x[:, b]) / weights.sum(axis=-1)

    d_icc = np.stack([icc(e, h1) - icc(h2, h1), icc(e, h2) - icc(h1, h2)], axis=-1)
    d_mae = np.stack([mae(e, h1) - mae(h2, h1), mae(e, h2) - mae(h1, h2)], axis=-1)
    return np.concatenate([d_icc, d_icc.mean(axis=-1, keepdims=True),
                           d_mae, d_mae.mean(axis=-1, keepdims=True)], axis=-1)


def human_ceiling(evaluator: np.ndarray, h1: np.ndarray, h2: np.ndarray, *, n_boot: int = 2000,
                  seed: int = 0, method: str = "bca", confidence: float = 0.95,
                  clusters=None) -> pl.DataFrame:
    """Leave-one-human-out deltas with bootstrap CIs, and the verdict.

    Parameters
    ----------
    evaluator, h1, h2 : array_like, shape (n,)
        Scores of the same n items (complete).
    n_boot, seed, method, confidence, clusters
        Passed to :func:`analysis.stats.bootstrap.bootstrap`.

    Returns
    -------
    polars.DataFrame
        Rows ``metric`` in (``icc_a1``, ``mae``) x ``reference`` in (``H1``, ``H2``,
        ``mean``): ``evaluator_vs_ref`` (A(E, ref); for ``mean`` the average over the
        two references), ``human_vs_ref`` (the other human's), ``delta`` =
        evaluator − human, ``ci_low``, ``ci_high``, ``n``, ``ci_method``, ``verdict`` on
        the ICC(A,1) ``mean`` row, then ``n_valid`` (finite bootstrap replicates) and
        ``ci_note`` (caveats of :mod:`analysis.stats.intervals`, e.g. ``too few items``
        below 30 items: the verdict then rests on an optimistic interval).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(1, 6, 200).astype(float)
    >>> h1, h2 = truth + rng.normal(0, .5, 200), truth + rng.normal(0, .5, 200)
    >>> ev = truth + 1.0 + rng.normal(0, .5, 200)   # as consistent, but 1 point lenient
    >>> res = human_ceiling(ev, h1, h2, n_boot=500, seed=1)
    >>> res.filter(pl.col("metric") == "icc_a1")["verdict"][2]
    'agrees with a human less well than the other human does'
    """
    x = np.column_stack([np.asarray(evaluator, float), np.asarray(h1, float), np.asarray(h2, float)])
    if np.isnan(x).any():
        raise ValueError("human_ceiling needs complete scores (no NaN) for the evaluator and both humans")
    res = bootstrap(x, _deltas, n_boot=n_boot, method=method, confidence=confidence, seed=seed, clusters=clusters)
    ones = np.ones((1, len(x)))
    e_vs = [icc_batch(x[:, [0, 1]], ones)[0, _ICC_A1], icc_batch(x[:, [0, 2]], ones)[0, _ICC_A1]]
    h_vs = [icc_batch(x[:, [2, 1]], ones)[0, _ICC_A1]] * 2
    mae = lambda a, b: float(np.mean(np.abs(x[:, a] - x[:, b])))  # noqa: E731
    e_mae, h_mae = [mae(0, 1), mae(0, 2)], [mae(1, 2)] * 2
    rows = []
    for m, (ev, hv) in enumerate([(e_vs, h_vs), (e_mae, h_mae)]):
        metric = ("icc_a1", "mae")[m]
        for r, ref in enumerate(("H1", "H2", "mean")):
            j = 3 * m + r
            evr = float(np.mean(ev)) if ref == "mean" else float(ev[r])
            hvr = float(np.mean(hv)) if ref == "mean" else float(hv[r])
            rows.append(dict(metric=metric, reference=ref, evaluator_vs_ref=evr, human_vs_ref=hvr,
                             delta=float(res.estimate[j]), ci_low=float(res.ci_low[j]),
                             ci_high=float(res.ci_high[j]), n=len(x), ci_method=method,
                             verdict=_verdict(metric, res.ci_low[j], res.ci_high[j]) if ref == "mean" else None,
                             n_valid=int(res.n_valid[j]), ci_note=str(res.ci_note[j])))
    return pl.DataFrame(rows)


def _verdict(metric: str, low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "undetermined (interval not defined)"
    worse = high < 0 if metric == "icc_a1" else low > 0
    better = low > 0 if metric == "icc_a1" else high < 0
    if worse:
        return "agrees with a human less well than the other human does"
    if better:
        return "agrees with a human better than the other human does"
    return "cannot be told apart from the other human at this sample size"
