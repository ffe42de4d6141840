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
With ``k >= 3`` references each human in turn is compared with the mean of the *other*
``k - 1``, and so is the evaluator (:func:`human_ceiling` with more reference columns);
with two this is the comparison above.

The ceiling of ICC(evaluator, mean of m humans)
-----------------------------------------------
The human–human ICC is the agreement of *one* human with *one* other. An evaluator is
usually compared with the *mean* of the humans, which is more reliable than one human,
so a judge exactly as good as one human scores higher against the mean than one human
scores against another: the human–human ICC is the wrong reference line. Model
(random raters, McGraw & Wong 1996, case 2A): ``x_ij = mu + T_i + b_j + e_ij`` with
``var T = s_T``, rater effects ``var b = s_b`` and ``var e = s_e``; the human–human
ICC(A,1) is ``rho_A = s_T / (s_T + s_b + s_e)`` and ICC(C,1) ``rho_C = s_T / (s_T + s_e)``.
An evaluator *exchangeable* with the humans (drawn like one of them) against the mean
``Hbar`` of ``m`` others has ``cov = s_T``, ``var J = s_T + s_e``,
``var Hbar = s_T + s_e / m`` and an expected squared mean difference
``E(b_J - bbar)^2 = s_b (1 + 1/m)``. The population two-column ICCs (McGraw & Wong's
definitions with ``n -> inf``) are ``ICC(C,1) = 2 cov / (var_1 + var_2)`` and
``ICC(A,1) = 2 cov / (var_1 + var_2 + (mu_1 - mu_2)^2)``, so both give the same function
of the corresponding human–human ICC ``rho``::

    C(rho, m) = 2 rho / (1 + rho + (1 - rho) / m) = 2 m rho / (m + 1 + (m - 1) rho)
              = 2 rho rho_m / (rho + rho_m),   rho_m = m rho / (1 + (m - 1) rho)

the harmonic mean of one rater's reliability ``rho`` and the Spearman–Brown reliability
``rho_m`` of the mean of ``m`` (Spearman 1910; Brown 1910). ``C(rho, 1) = rho``; at
``rho = 0.86`` and ``m = 2``, ``C = 0.891``; as ``m -> inf``, ``C -> 2 rho / (1 + rho)``.
The Pearson correlation of the evaluator with the mean is the geometric mean instead,
``sqrt(rho rho_m) = rho sqrt(m / (1 + (m - 1) rho))`` (Spearman's 1904 attenuation
formula): :func:`ceiling_correlation`. For ICC(C,1) and the one-way ICC(1,1) the
formula is what the sample ICCs estimate (to order ``1/n``). For ICC(A,1) it is a ratio
of expectations over the draw of the raters' effects, and the ICC(A,1) of two particular
raters is a convex function of their squared difference in means, so the average
sample ICC is a little above it (0.611 against 0.588 for one rater against another at
``s_b = 0.3``, ``s_e = 0.4``, ``s_T = 1``). The human–human ICC(A,1) plugged into the
formula carries the same excess, and the plug-in ceiling ``C(ICC_hh, m)`` was within
0.005 of the judge's average ICC(A,1) against the mean of ``m = 2, 3, 5`` humans in
that simulation (``tests/test_ceiling.py``, 4,000 studies of 300 items each).

References as slots (``references_are="slots"``): when the "H1" and "H2" of an item are
whichever two raters of a pool rated it (they differ from item to item), the columns
are interchangeable and the rater effect is part of the error: the one-way model
(McGraw & Wong case 1), ``rho_1 = ICC(1,1)`` of the references, and an evaluator
exchangeable with a slot scores ``C(rho_1, m)`` in one-way ICC(1,1) against their mean.
:func:`reference_ceiling` gives ``C`` with a bootstrap interval from any number of
references (the mean pairwise ICC for named raters; ICC(1,1) of all slots).

References
----------
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass
correlation coefficients. Psychological Methods 1(1), 30-46.
Spearman, C. (1904). The proof and measurement of association between two things.
American Journal of Psychology 15, 72-101.
Spearman, C. (1910). Correlation calculated from faulty data. British Journal of
Psychology 3, 271-295. Brown, W. (1910). Some experimental results in the correlation
of mental abilities. British Journal of Psychology 3, 296-322.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.stats.bootstrap import bootstrap
from analysis.stats.icc import ICC_TYPES, icc_batch
from analysis.stats.result import Result, check_confidence

__all__ = ["Ceiling", "ceiling_correlation", "ceiling_icc", "human_ceiling", "reference_ceiling"]

_ICC_A1 = 1  # position of ICC(A,1) in analysis.stats.icc.ICC_TYPES
REFERENCES_ARE = ("raters", "slots")


def _comparisons(k: int) -> list[tuple[int, list[int]]]:
    """``(compared human, reference humans)`` column pairs (columns 1..k are the humans):
    with two, each human is the other's reference (rows H1, H2); with more, each human
    is compared with the mean of the others."""
    if k == 2:
        return [(2, [1]), (1, [2])]
    return [(j, [i for i in range(1, k + 1) if i != j]) for j in range(1, k + 1)]


def _with_reference(x: np.ndarray, refs: list[int]) -> np.ndarray:
    """``x`` with the reference (the mean of the columns ``refs``; the column itself when
    there is one) as its last column."""
    ref = x[:, refs[0]] if len(refs) == 1 else x[:, refs].mean(axis=1)
    return np.column_stack([x, ref])


def _deltas(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """x: (n, 1 + k) columns evaluator, H1..Hk -> (B, 2 (k' + 1)) deltas for ICC(A,1) and MAE
    (one per comparison of :func:`_comparisons`, then their mean)."""
    comps = _comparisons(x.shape[1] - 1)
    d_icc, d_mae = [], []
    total = weights.sum(axis=-1)
    for c, refs in comps:
        y = _with_reference(x, refs)
        d_icc.append(icc_batch(y[:, [0, -1]], weights)[..., _ICC_A1] - icc_batch(y[:, [c, -1]], weights)[..., _ICC_A1])
        d_mae.append(weights @ np.abs(y[:, 0] - y[:, -1]) / total - weights @ np.abs(y[:, c] - y[:, -1]) / total)
    d_icc, d_mae = np.stack(d_icc, axis=-1), np.stack(d_mae, axis=-1)
    return np.concatenate([d_icc, d_icc.mean(axis=-1, keepdims=True),
                           d_mae, d_mae.mean(axis=-1, keepdims=True)], axis=-1)


def human_ceiling(evaluator: np.ndarray, *references: np.ndarray, n_boot: int = 2000, seed: int = 0,
                  method: str = "bca", confidence: float = 0.95, clusters=None, names=None) -> pl.DataFrame:
    """Leave-one-human-out deltas with bootstrap CIs, and the verdict.

    Parameters
    ----------
    evaluator : array_like, shape (n,)
    *references : array_like, shape (n,)
        Two or more humans' scores of the same n items (complete).
    n_boot, seed, method, confidence, clusters
        Passed to :func:`analysis.stats.bootstrap.bootstrap`.
    names : sequence of str, optional
        The references' names (default ``H1``, ``H2``, ...).

    Returns
    -------
    polars.DataFrame
        Rows ``metric`` in (``icc_a1``, ``mae``) x ``reference``: with two humans ``H1``,
        ``H2`` (the human used as the reference; the other human is compared with it)
        and ``mean``; with ``k >= 3``, ``mean of all but <name>`` (that human and the
        evaluator are each compared with the mean of the others) and ``mean``.
        Columns ``evaluator_vs_ref`` (A(E, ref); for ``mean`` the average over the
        references), ``human_vs_ref`` (the human's), ``delta`` = evaluator − human,
        ``ci_low``, ``ci_high``, ``n``, ``ci_method``, ``verdict`` on the ICC(A,1)
        ``mean`` row, then ``n_valid`` (finite bootstrap replicates) and ``ci_note``
        (caveats of :mod:`analysis.stats.intervals`, e.g. ``too few items`` below 30
        items: the verdict then rests on an optimistic interval).

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
    if len(references) < 2:
        raise ValueError(f"human_ceiling needs at least two references, got {len(references)}")
    k = len(references)
    names = [f"H{j + 1}" for j in range(k)] if names is None else [str(v) for v in names]
    if len(names) != k:
        raise ValueError(f"{len(names)} names for {k} references")
    x = np.column_stack([np.asarray(evaluator, float)] + [np.asarray(r, float) for r in references])
    if np.isnan(x).any():
        raise ValueError("human_ceiling needs complete scores (no NaN) for the evaluator and every human")
    res = bootstrap(x, _deltas, n_boot=n_boot, method=method, confidence=confidence, seed=seed, clusters=clusters)
    ones = np.ones((1, len(x)))
    comps = _comparisons(k)
    labels = [names[refs[0] - 1] if k == 2 else f"mean of all but {names[c - 1]}" for c, refs in comps] + ["mean"]
    e_vs, h_vs, e_mae, h_mae = [], [], [], []
    for c, refs in comps:
        y = _with_reference(x, refs)
        e_vs.append(icc_batch(y[:, [0, -1]], ones)[0, _ICC_A1])
        h_vs.append(icc_batch(y[:, [c, -1]], ones)[0, _ICC_A1])
        e_mae.append(float(np.mean(np.abs(y[:, 0] - y[:, -1]))))
        h_mae.append(float(np.mean(np.abs(y[:, c] - y[:, -1]))))
    rows = []
    width = len(comps) + 1
    for m, (ev, hv) in enumerate([(e_vs, h_vs), (e_mae, h_mae)]):
        metric = ("icc_a1", "mae")[m]
        for r, ref in enumerate(labels):
            j = width * m + r
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


# ---------------------------------------------------------------------------------------
# The ceiling of ICC(evaluator, mean of m references)
# ---------------------------------------------------------------------------------------

def ceiling_icc(rho, n_references):
    """Expected ICC(·,1) of an evaluator exchangeable with the references against the mean of
    ``n_references`` of them: ``2 m rho / (m + 1 + (m - 1) rho)`` (module docstring).

    ``rho`` is the references' own single-rater ICC of the same form: ICC(A,1) for absolute
    agreement, ICC(C,1) for consistency, ICC(1,1) for slots. Arrays broadcast.

    >>> round(float(ceiling_icc(0.86, 2)), 3), float(ceiling_icc(0.86, 1))
    (0.891, 0.86)
    """
    rho = np.asarray(rho, dtype=float)
    m = np.asarray(n_references, dtype=float)
    if np.any(m < 1):
        raise ValueError(f"n_references must be >= 1, got {n_references}")
    return 2 * m * rho / (m + 1 + (m - 1) * rho)


def ceiling_correlation(rho, n_references):
    """Expected Pearson correlation of an evaluator exchangeable with the references with the
    mean of ``n_references`` of them: ``rho sqrt(m / (1 + (m - 1) rho))`` (Spearman 1904;
    ``rho`` the references' correlation with one another).

    >>> round(float(ceiling_correlation(0.86, 2)), 3)
    0.892
    """
    rho = np.asarray(rho, dtype=float)
    m = np.asarray(n_references, dtype=float)
    if np.any(m < 1):
        raise ValueError(f"n_references must be >= 1, got {n_references}")
    with np.errstate(invalid="ignore"):
        return rho * np.sqrt(m / (1 + (m - 1) * rho))


_FORMS = {("raters", "absolute"): "ICC(A,1)", ("raters", "consistency"): "ICC(C,1)",
          ("slots", "absolute"): "ICC(1,1)", ("slots", "consistency"): "ICC(1,1)"}


@dataclass(frozen=True)
class Ceiling(Result):
    """The ceiling of ICC(evaluator, mean of the references) (:func:`reference_ceiling`).

    ``estimate`` (with ``ci_low``, ``ci_high``) is :func:`ceiling_icc` at the references'
    ICC; ``human_icc`` (with its interval) is that ICC: the mean over pairs of references
    (``raters``) or ICC(1,1) of all of them (``slots``); ``form`` names it;
    ``n_references`` is ``m``; ``n`` the items; ``pairwise`` the ICC of every pair
    (``raters``; ``((i, j), icc)``).
    """

    human_icc: float = math.nan
    human_icc_ci_low: float = math.nan
    human_icc_ci_high: float = math.nan
    n_references: int = 0
    form: str = ""
    references_are: str = "raters"
    pairwise: tuple = ()


def reference_ceiling(references, *, agreement: str = "absolute", references_are: str = "raters",
                      n_boot: int = 2000, seed: int = 0, method: str = "bca", confidence: float = 0.95,
                      clusters=None) -> Ceiling:
    """What an evaluator as good as one reference would score against the references' mean.

    Parameters
    ----------
    references : array_like, shape (n, k)
        Scores of ``k >= 2`` references on the same ``n`` items (complete). The evaluator
        is compared with the mean of all ``k``.
    agreement : {"absolute", "consistency"}
        ICC(A,1) or ICC(C,1) (``references_are="raters"``); ignored for slots.
    references_are : {"raters", "slots"}
        ``"raters"``: column ``j`` is the same person on every item (two-way model; the
        references' ICC is the mean of the ``k (k - 1) / 2`` pairwise ICCs). ``"slots"``:
        column ``j`` is whoever filled slot ``j`` of the item, different people on
        different items (one-way model, ICC(1,1) of all ``k`` columns; compare the
        evaluator by the one-way ICC(1,1) against the mean).
    n_boot, seed, method, confidence, clusters
        The interval of the references' ICC: :func:`analysis.stats.bootstrap.bootstrap`
        over items (clusters); the ceiling's interval is it mapped through
        :func:`ceiling_icc` (increasing in ``rho``).

    Returns
    -------
    Ceiling

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.normal(0, 1, (300, 1))
    >>> h = t + rng.normal(0, 0.4, (300, 3))          # three humans
    >>> c = reference_ceiling(h, n_boot=200)
    >>> c.n_references, c.form, round(c.human_icc, 2), round(c.estimate, 2)
    (3, 'ICC(A,1)', 0.88, 0.92)
    """
    check_confidence(confidence)
    if references_are not in REFERENCES_ARE:
        raise ValueError(f"references_are must be one of {REFERENCES_ARE}, not {references_are!r}")
    if agreement not in ("absolute", "consistency"):
        raise ValueError(f"agreement must be 'absolute' or 'consistency', not {agreement!r}")
    x = np.asarray(references, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"references must be an (n_items, k >= 2) array, got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError("reference_ceiling needs complete scores (no NaN) for every reference")
    k = x.shape[1]
    form = _FORMS[(references_are, agreement)]
    col = ICC_TYPES.index(form)
    pairs = list(itertools.combinations(range(k), 2))

    def statistic(data, weights):
        if references_are == "slots":
            rho = icc_batch(data, weights)[..., col]
        else:
            rho = np.mean([icc_batch(data[:, list(p)], weights)[..., col] for p in pairs], axis=0)
        return rho[..., None]

    res = bootstrap(x, statistic, n_boot=n_boot, method=method, confidence=confidence, seed=seed,
                    clusters=clusters)
    ones = np.ones((1, x.shape[0]))
    pairwise = () if references_are == "slots" else tuple(
        (p, float(icc_batch(x[:, list(p)], ones)[0, col])) for p in pairs)
    rho, low, high = (float(v[0]) for v in (res.estimate, res.ci_low, res.ci_high))
    return Ceiling(estimate=float(ceiling_icc(rho, k)), ci_low=float(ceiling_icc(low, k)),
                   ci_high=float(ceiling_icc(high, k)), n=int(x.shape[0]), confidence=float(confidence),
                   ci_note=str(res.ci_note[0]), human_icc=rho, human_icc_ci_low=low, human_icc_ci_high=high,
                   n_references=k, form=form,
                   references_are=references_are, pairwise=pairwise)
