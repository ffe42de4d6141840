"""Prediction-powered inference (PPI / PPI++) for a mean or a proportion.

The setting: an LLM judge scores every item, humans rate only a subset. ``y`` are the
human ratings of the ``n`` rated items, ``yhat`` the judge's scores of the same items,
``yhat_unlabeled`` the judge's scores of the ``N`` unrated items. The estimate of the
mean human rating is (Angelopoulos et al. 2023; Angelopoulos, Duchi & Zrnic 2023)::

    theta(lam) = mean(lam * yhat_unlabeled) + mean(y - lam * yhat)

the judge's mean on the unrated items, corrected by the judge's error measured on the
rated ones (the *rectifier*). It is unbiased for every fixed ``lam`` whatever the judge's
quality; a good judge only makes it more precise. ``lam = 1`` is plain PPI, ``lam = 0``
ignores the judge (the classical mean of the human ratings), and ``lam=None`` (default)
is PPI++'s power tuning: the ``lam`` in [0, 1] that minimises the estimated variance.
A 0/1 ``y`` (e.g. "a human judged the answer harmful") makes this a proportion.

Interval (CLT, normal quantile ``z = Phi^-1(1 - alpha/2)``, ``alpha = 1 - confidence``)::

    se^2 = lam^2 * var(yhat_unlabeled) / N + var(y - lam * yhat) / n
    [theta - z se, theta + z se]

with population (``ddof=0``) variances, and the tuned ``lam`` of PPI++ for a mean::

    lam = cov(y, yhat) / ((1 + n / N) * var(yhat pooled))

``cov`` with ``ddof=0`` over the rated items, ``var`` with ``ddof=1`` over rated and
unrated judge scores pooled, clipped to [0, 1]. These are exactly the estimators of the
reference implementation ``ppi-python`` (``ppi_py.ppi_mean_ci``, ``_calc_lam_glm`` with
``clip=True``); ``tests/test_ppi.py`` asserts equality to 1e-10. Note that ``ppi_py``'s
default ``alpha`` is 0.1 (90 % intervals); here ``confidence`` is 0.95.

Effective sample size
---------------------
``n_effective = n_labeled * var_classical / var_ppi``, where ``var_classical`` is the
variance of the human-only mean estimated on the same rated items
(``var(y) / n``, ``ddof=0``; clustered: the cluster-robust version below) and
``var_ppi = se**2``. Since a CLT interval's width is proportional to
``sqrt(variance)``, ``n_effective`` human ratings alone (with the same per-rating
variance) would give the same width as the PPI interval: "the judge is worth
``n_effective - n_labeled`` extra human ratings".

Clusters (conversations)
------------------------
Several rated answers of one conversation are not independent. With ``clusters`` /
``clusters_unlabeled`` (labels in one namespace: the same label in both means the same
conversation) the variance is the cluster-robust sandwich (Liang & Zeger 1986; CR0,
no small-sample factor) of the estimator written as a sum over clusters ``c``::

    A_c = sum over unrated items of c of (yhat_unlabeled - mean(yhat_unlabeled))
    B_c = sum over rated items of c of (y - mean(y))
    C_c = sum over rated items of c of (yhat - mean(yhat))
    R_c = B_c - lam * C_c
    se^2          = sum_c (lam * A_c / N + R_c / n)^2
    var_classical = sum_c (B_c / n)^2

A conversation may have rated and unrated answers; its cross term ``2 lam A_c R_c /
(n N)`` is then included. The tuned ``lam`` keeps the PPI++ form with every (co)variance
replaced by its cluster-sum (long-run) version::

    cov_c = sum_c B_c C_c / n - sum_c A_c B_c / N
    var_c = (sum_c A'_c^2 + sum_c C'_c^2) / (n + N - 1)
    lam   = clip(cov_c / ((1 + n / N) * var_c - 2 * sum_c A_c C_c / N), 0, 1)

with ``A'_c``, ``C'_c`` the cluster sums of the judge scores centred at the pooled mean of
rated and unrated scores (the ``sum A_c ...`` terms vanish unless conversations straddle
the rated and unrated sets; they come from minimising ``se^2`` in ``lam``). With one
item per cluster every formula is term by term the unclustered one (tested to 1e-12).

Known limitation of the tuned ``lam``, and cross-fitting
--------------------------------------------------------
The tuned ``lam`` is estimated on the same small labelled sample whose variance it
minimises, so the reported variance is optimistic and tuned intervals *under-cover* at
small n. An outside check on a skewed 1-5 attribute found 89 % coverage of nominal
95 % intervals at n = 50 and 91 % at n = 200, while ``lam = 1`` gave 94-95 %. PPI++'s
guarantee is asymptotic. Options:

* ``lam=1`` (plain PPI): exact finite-sample unbiasedness and the CLT interval with no
  tuning step; loses power when the judge is poor (it can be wider than humans alone).
* ``lam="crossfit"``: ``lam`` estimated by K-fold cross-fitting on the rated items
  (``n_folds``, default 10, folds of whole clusters when clusters are given). For fold
  ``k``, ``lam_k`` is the PPI++ formula computed only from the rated items *outside*
  fold ``k`` (covariance ``ddof=0``, judge variance ``ddof=1``, with the full-sample
  ``n / N``; unrated scores are not used, so ``lam_k`` is independent of both fold
  ``k`` and the unrated items). The estimate is the size-weighted average of the
  per-fold estimates ``lam_k * mean(yhat_unlabeled) + mean_k(y - lam_k * yhat)``::

      theta = lam_bar * mean(yhat_unlabeled) + (1/n) sum_i (y_i - lam_k(i) * yhat_i)
      lam_bar = sum_k n_k lam_k / n

  Each per-fold term is exactly unbiased given ``lam_k``. The variance treats the
  ``lam_k`` as fixed and sums the influence of every item,
  ``(y_i - mean(y)) - lam_k(i) (yhat_i - mean(yhat))``, by cluster:
  ``se^2 = sum_c (lam_bar A_c / N + R_c / n)^2`` with ``R_c = B_c - lam_k(c) C_c``.
  This is the cross-fitting recipe of double/debiased machine learning
  (Chernozhukov et al. 2018) applied to the one tuning parameter, in the spirit of
  cross-prediction-powered inference (Zrnic & Candes 2024, PNAS), which cross-fits
  the *predictor* instead; ``ppi-python`` has no cross-fitted ``lam``. Folds are
  assigned deterministically: the j-th rated cluster (item), in order of first
  appearance, goes to fold ``j mod K`` (``K = min(n_folds, rated clusters)``). The
  reported ``lam`` is ``lam_bar``.

References
----------
Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I. & Zrnic, T. (2023).
Prediction-powered inference. Science 382(6671), 669-674.
Angelopoulos, A. N., Duchi, J. C. & Zrnic, T. (2023). PPI++: Efficient
prediction-powered inference. arXiv:2311.01453.
Zrnic, T. & Candes, E. J. (2024). Cross-prediction-powered inference. PNAS 121(15).
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
structural parameters. Econometrics Journal 21(1), C1-C68.
Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using generalized
linear models. Biometrika 73(1), 13-22.
Fisch, A., Maynez, J., Hofer, R. A., Dhingra, B., Globerson, A. & Cohen, W. W. (2024).
Stratified prediction-powered inference for effective hybrid evaluation of language
models. NeurIPS 2024 (arXiv:2406.04291).
Cochran, W. G. (1977). Sampling Techniques, 3rd ed., ch. 5 (stratified random sampling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl
from scipy import special

from analysis.stats.result import Result, check_confidence, deprecated_alias, resolve_confidence

__all__ = ["PPIResult", "SampleSizePlan", "ppi_mean", "ppi_mean_grouped", "ppi_mean_stratified", "ppi_sample_size",
           "ppi_variance"]

GROUPED_SCHEMA = {  # after the "group" column, which keeps the dtype of the caller's labels
    "estimate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "se": pl.Float64,
    "lam": pl.Float64, "n_labeled": pl.Int64, "n_unlabeled": pl.Int64, "n_effective": pl.Float64,
}


@dataclass(frozen=True)
class PPIResult(Result):
    """Result of :func:`ppi_mean` (the fields of :class:`~analysis.stats.result.Result`, then
    its own; ``pvalue`` is NaN: no test; ``n`` is ``n_labeled``).

    Attributes
    ----------
    estimate : float
        The PPI (PPI++) estimate of the mean human rating.
    ci_low, ci_high : float
        CLT interval at level ``confidence``.
    se : float
        Standard error of ``estimate``.
    lam : float
        The ``lam`` used (fixed, tuned, or the fold-size-weighted mean of the
        cross-fitted ``lam_k``).
    n_labeled, n_unlabeled : int
        Rated items (human + judge) and unrated items (judge only).
    n_effective : float
        Human ratings alone that would give the same CI width:
        ``n_labeled * var_classical / se**2`` (see the module docstring).
    """

    se: float = math.nan
    lam: float = math.nan
    n_labeled: int = 0
    n_unlabeled: int = 0
    n_effective: float = math.nan


def _z(confidence: float) -> float:
    alpha = 1 - confidence
    return float(special.ndtri(1 - alpha / 2))


def _vector(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those items first")
    return a


def _labels(x, n: int, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.shape != (n,):
        raise ValueError(f"{name} must label every item: expected shape ({n},), got {a.shape}")
    return a


def _lam_mode(lam) -> tuple[str, float]:
    if lam is None:
        return "tuned", math.nan
    if isinstance(lam, str):
        if lam != "crossfit":
            raise ValueError(f"lam must be None, 'crossfit' or a number, not {lam!r}")
        return "crossfit", math.nan
    value = float(lam)
    if not np.isfinite(value):
        raise ValueError(f"lam must be finite, got {lam}")
    return "fixed", value


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=size)


def _ppi_core(y, f, g_lab, c_lab, f_unl, g_unl, c_unl, n_groups, mode, lam_fixed, n_folds, z):
    """Vectorised PPI over groups; every returned array has one entry per group.

    ``g_*`` are group codes ``0..n_groups-1``; ``c_*`` are cluster codes in one
    namespace for rated and unrated items, already unique across groups.
    """
    n = np.bincount(g_lab, minlength=n_groups).astype(float)
    big_n = np.bincount(g_unl, minlength=n_groups).astype(float)
    ok = (n >= 2) & (big_n >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_bar = _sum_by(g_lab, y, n_groups) / n
        fl_bar = _sum_by(g_lab, f, n_groups) / n
        fu_bar = _sum_by(g_unl, f_unl, n_groups) / big_n
        f_all = (n * fl_bar + big_n * fu_bar) / (n + big_n)
    y_bar, fl_bar, fu_bar, f_all = (np.where(ok, a, 0.0) for a in (y_bar, fl_bar, fu_bar, f_all))
    yc = y - y_bar[g_lab]
    fc = f - fl_bar[g_lab]
    fuc = f_unl - fu_bar[g_unl]

    n_clusters = int(max(c_lab.max(initial=-1), c_unl.max(initial=-1))) + 1
    cluster_group = np.zeros(n_clusters, dtype=np.int64)
    cluster_group[c_unl] = g_unl
    cluster_group[c_lab] = g_lab
    m_lab = np.bincount(c_lab, minlength=n_clusters).astype(float)
    m_unl = np.bincount(c_unl, minlength=n_clusters).astype(float)
    b = _sum_by(c_lab, yc, n_clusters)          # B_c
    c = _sum_by(c_lab, fc, n_clusters)          # C_c
    a = _sum_by(c_unl, fuc, n_clusters)         # A_c
    n_c, big_n_c = n[cluster_group], big_n[cluster_group]

    def by_group(values):
        return _sum_by(cluster_group, values, n_groups)

    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "fixed":
            lam = np.full(n_groups, lam_fixed)
            lam_c = lam[cluster_group]
            lam_bar = lam
        elif mode == "tuned":
            cov = by_group(b * c) / n - by_group(a * b) / big_n
            a_pool = a + m_unl * (fu_bar - f_all)[cluster_group]
            c_pool = c + m_lab * (fl_bar - f_all)[cluster_group]
            var = by_group(a_pool * a_pool + c_pool * c_pool) / (n + big_n - 1)
            den = (1 + n / big_n) * var - 2 * by_group(a * c) / big_n
            lam = np.where(den > 0, np.clip(cov / den, 0.0, 1.0), 0.0)
            lam_c = lam[cluster_group]
            lam_bar = lam
        else:
            lam_c, lam_bar, ok = _crossfit(b, c, m_lab, cluster_group, c_lab, n, big_n, n_groups, n_folds, ok)
        # theta = lam_bar * fu_bar + y_bar - lam_bar * fl_bar - (1/n) sum_c (lam_c - lam_bar) C_c
        estimate = lam_bar * fu_bar + y_bar - lam_bar * fl_bar - by_group((lam_c - lam_bar[cluster_group]) * c) / n
        r = b - lam_c * c                       # R_c
        psi = lam_bar[cluster_group] * a / big_n_c + r / n_c
        var_ppi = by_group(psi * psi)
        var_classical = by_group((b / n_c) ** 2)
        se = np.sqrt(var_ppi)
        n_eff = np.where(var_ppi > 0, n * var_classical / var_ppi, np.where(var_classical > 0, np.inf, n))
    nan = np.full(n_groups, np.nan)
    estimate, se, lam_bar, n_eff = (np.where(ok, v, nan) for v in (estimate, se, lam_bar, n_eff))
    return {
        "estimate": estimate, "ci_low": estimate - z * se, "ci_high": estimate + z * se, "se": se,
        "lam": lam_bar, "n_labeled": n.astype(np.int64), "n_unlabeled": big_n.astype(np.int64),
        "n_effective": n_eff,
    }


def _crossfit(b, c, m_lab, cluster_group, c_lab, n, big_n, n_groups, n_folds, ok):
    """Cross-fitted lam per (group, fold); see the module docstring.

    Returns ``lam`` per cluster, ``lam_bar`` per group and the groups that can be
    estimated (at least 2 rated clusters).
    """
    n_clusters = b.shape[0]
    labelled = m_lab > 0
    # Rank of every rated cluster within its group, by first appearance among rated rows.
    first = np.full(n_clusters, np.iinfo(np.int64).max)
    np.minimum.at(first, c_lab, np.arange(c_lab.shape[0]))
    lab_ids = np.flatnonzero(labelled)
    order = lab_ids[np.lexsort((first[lab_ids], cluster_group[lab_ids]))]
    grp_sorted = cluster_group[order]
    n_lab_clusters = np.bincount(grp_sorted, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(n_lab_clusters)[:-1]])
    rank = np.zeros(n_clusters, dtype=np.int64)
    rank[order] = np.arange(order.shape[0]) - starts[grp_sorted]
    k_g = np.minimum(n_folds, n_lab_clusters)
    ok = ok & (n_lab_clusters >= 2)
    k_safe = np.maximum(k_g, 1)
    fold = np.where(labelled, rank % k_safe[cluster_group], 0)
    cell = cluster_group * n_folds + fold       # (group, fold) code
    size = n_groups * n_folds

    def fold_sum(values):
        return np.bincount(cell[labelled], weights=values[labelled], minlength=size).reshape(n_groups, n_folds)

    s = {"m": fold_sum(m_lab), "b": fold_sum(b), "c": fold_sum(c), "bc": fold_sum(b * c),
         "cc": fold_sum(c * c), "mb": fold_sum(m_lab * b), "mc": fold_sum(m_lab * c), "mm": fold_sum(m_lab * m_lab)}
    out = {key: v.sum(axis=1, keepdims=True) - v for key, v in s.items()}  # out-of-fold sums
    with np.errstate(divide="ignore", invalid="ignore"):
        yo, fo = out["b"] / out["m"], out["c"] / out["m"]
        sbc = out["bc"] - fo * out["mb"] - yo * out["mc"] + yo * fo * out["mm"]
        scc = out["cc"] - 2 * fo * out["mc"] + fo * fo * out["mm"]
        cov = sbc / out["m"]
        var = scc / (out["m"] - 1)
        ratio = (1 + n / big_n)[:, None]
        lam_k = np.where(var > 0, np.clip(cov / (ratio * var), 0.0, 1.0), 0.0)
        lam_k = np.where(np.isfinite(lam_k), lam_k, 0.0)
        lam_c = np.where(labelled, lam_k.ravel()[cell], 0.0)
        lam_bar = np.bincount(cluster_group, weights=lam_c * m_lab, minlength=n_groups) / n
        lam_bar = np.where(ok, lam_bar, 0.0)
    # Unrated-only clusters take lam_bar (their lam_c only multiplies C_c = 0).
    lam_c = np.where(labelled, lam_c, lam_bar[cluster_group])
    return lam_c, lam_bar, ok


def _codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(labels, return_inverse=True)
    return uniq, inverse.ravel().astype(np.int64)


def _cluster_codes(n_lab, n_unl, g_lab, g_unl, clusters, clusters_unlabeled):
    """Cluster codes unique across groups, one namespace for rated and unrated items."""
    if (clusters is None) != (clusters_unlabeled is None):
        raise ValueError("give both clusters and clusters_unlabeled (the same label = the same "
                         "conversation), or neither")
    if clusters is None:
        return np.arange(n_lab, dtype=np.int64), n_lab + np.arange(n_unl, dtype=np.int64)
    cl = _labels(clusters, n_lab, "clusters")
    cu = _labels(clusters_unlabeled, n_unl, "clusters_unlabeled")
    _, codes = _codes(np.concatenate([cl, cu]))
    n_labels = int(codes.max(initial=-1)) + 1
    groups = np.concatenate([g_lab, g_unl])
    _, key = _codes(groups * max(n_labels, 1) + codes)  # (group, cluster) pairs
    return key[:n_lab], key[n_lab:]


def _prepare(y, yhat, yhat_unlabeled):
    y = _vector(y, "y")
    f = _vector(yhat, "yhat")
    fu = _vector(yhat_unlabeled, "yhat_unlabeled")
    if y.shape != f.shape:
        raise ValueError(f"y and yhat must have the same length, got {y.shape[0]} and {f.shape[0]}")
    return y, f, fu


def ppi_mean(
    y,
    yhat,
    yhat_unlabeled,
    *,
    confidence: float = 0.95,
    lam: float | str | None = None,
    clusters: Sequence | None = None,
    clusters_unlabeled: Sequence | None = None,
    n_folds: int = 10,
    alpha: float | None = None,
) -> PPIResult:
    """Prediction-powered estimate and CLT interval of the mean human rating.

    Parameters
    ----------
    y : array_like, shape (n,)
        Human ratings of the rated items (0/1 for a proportion).
    yhat : array_like, shape (n,)
        The judge's scores of the same items, in the same order.
    yhat_unlabeled : array_like, shape (N,)
        The judge's scores of the unrated items.
    confidence : float
        The interval's coverage (default 0.95; ``ppi_py``'s ``alpha=0.1`` is 0.90).
    lam : None, float or "crossfit"
        ``None``: PPI++ power tuning, clipped to [0, 1]. A number: that ``lam``
        (``1`` = PPI, ``0`` = humans only). ``"crossfit"``: ``lam`` cross-fitted over
        ``n_folds`` folds of the rated items (better coverage at small n; module docstring).
    clusters, clusters_unlabeled : sequence, optional
        Conversation of every rated / unrated item (one label namespace; give both or
        neither): cluster-robust variance and ``lam`` (module docstring).
    n_folds : int
        Folds for ``lam="crossfit"`` (at most the number of rated clusters).
    alpha : float, optional
        Deprecated: ``confidence = 1 - alpha``.

    Returns
    -------
    PPIResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(1, 6, 1000).astype(float)
    >>> judge = np.clip(truth + rng.integers(-1, 2, 1000), 1, 5)
    >>> res = ppi_mean(truth[:100], judge[:100], judge[100:])
    >>> bool(res.ci_low < truth.mean() < res.ci_high), res.n_effective > res.n_labeled
    (True, True)
    """
    confidence = resolve_confidence(confidence, alpha, "ppi_mean")
    y, f, fu = _prepare(y, yhat, yhat_unlabeled)
    mode, lam_value = _lam_mode(lam)
    z = _z(confidence)
    if y.shape[0] < 2:
        raise ValueError(f"need at least 2 rated items, got {y.shape[0]}")
    if fu.shape[0] < 1:
        raise ValueError("need at least 1 unrated item (yhat_unlabeled is empty)")
    if mode == "crossfit" and n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    g_lab = np.zeros(y.shape[0], dtype=np.int64)
    g_unl = np.zeros(fu.shape[0], dtype=np.int64)
    c_lab, c_unl = _cluster_codes(y.shape[0], fu.shape[0], g_lab, g_unl, clusters, clusters_unlabeled)
    if mode == "crossfit" and np.unique(c_lab).shape[0] < 2:
        raise ValueError("lam='crossfit' needs at least 2 rated clusters")
    out = _ppi_core(y, f, g_lab, c_lab, fu, g_unl, c_unl, 1, mode, lam_value, n_folds, z)
    return PPIResult(
        estimate=float(out["estimate"][0]), ci_low=float(out["ci_low"][0]), ci_high=float(out["ci_high"][0]),
        n=int(out["n_labeled"][0]), confidence=confidence, se=float(out["se"][0]), lam=float(out["lam"][0]),
        n_labeled=int(out["n_labeled"][0]),
        n_unlabeled=int(out["n_unlabeled"][0]), n_effective=float(out["n_effective"][0]),
    )


def ppi_mean_grouped(
    y,
    yhat,
    groups: Sequence,
    yhat_unlabeled,
    groups_unlabeled: Sequence,
    *,
    confidence: float = 0.95,
    lam: float | str | None = None,
    clusters: Sequence | None = None,
    clusters_unlabeled: Sequence | None = None,
    n_folds: int = 10,
    alpha: float | None = None,
) -> pl.DataFrame:
    """:func:`ppi_mean` for every group (category, answer model, ...) in one vectorised pass.

    Every group is estimated from its own items only, with its own ``lam``: the result
    equals calling :func:`ppi_mean` on each group's subset (tested), but all groups are
    computed with a handful of ``bincount`` calls, whatever their number.

    Parameters
    ----------
    y, yhat, yhat_unlabeled, confidence, lam, n_folds, alpha
        As :func:`ppi_mean`.
    groups, groups_unlabeled : sequence
        Group label of every rated / unrated item.
    clusters, clusters_unlabeled : sequence, optional
        Conversation labels; clusters are taken within a group (a conversation whose
        answers fall in two groups counts as one cluster in each).

    Returns
    -------
    polars.DataFrame
        ``group, estimate, ci_low, ci_high, se, lam, n_labeled, n_unlabeled,
        n_effective``, one row per group seen in either set, sorted by group. Groups
        with fewer than 2 rated items, no unrated item (or, for ``"crossfit"``, fewer
        than 2 rated clusters) get null estimates.
    """
    confidence = resolve_confidence(confidence, alpha, "ppi_mean_grouped")
    y, f, fu = _prepare(y, yhat, yhat_unlabeled)
    mode, lam_value = _lam_mode(lam)
    z = _z(confidence)
    if mode == "crossfit" and n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    gl = _labels(groups, y.shape[0], "groups")
    gu = _labels(groups_unlabeled, fu.shape[0], "groups_unlabeled")
    names, codes = _codes(np.concatenate([gl, gu]))
    g_lab, g_unl = codes[:y.shape[0]], codes[y.shape[0]:]
    c_lab, c_unl = _cluster_codes(y.shape[0], fu.shape[0], g_lab, g_unl, clusters, clusters_unlabeled)
    out = _ppi_core(y, f, g_lab, c_lab, fu, g_unl, c_unl, names.shape[0], mode, lam_value, n_folds, z)
    frame = pl.DataFrame({"group": names.tolist()})
    return frame.with_columns(
        [pl.Series(k, v, dtype=GROUPED_SCHEMA[k]) for k, v in out.items()]
    ).with_columns(pl.col(pl.Float64).fill_nan(None))


def ppi_mean_stratified(
    y,
    yhat,
    strata: Sequence,
    yhat_unlabeled,
    strata_unlabeled: Sequence,
    *,
    weights: dict | None = None,
    confidence: float = 0.95,
    lam: float | str | None = None,
    clusters: Sequence | None = None,
    clusters_unlabeled: Sequence | None = None,
    n_folds: int = 10,
) -> PPIResult:
    """Stratified prediction-powered estimate of the population mean, for a sample that is
    random *within* strata at rates that may differ between strata.

    Stratified PPI (Fisch et al. 2024, "Stratified prediction-powered inference"; the
    stratified mean of Cochran 1977, ch. 5, applied to the PPI++ estimate of
    Angelopoulos et al. 2023): every stratum ``h`` gets its own PPI estimate
    ``theta_h`` with its own ``lam`` and standard error ``se_h``
    (:func:`ppi_mean_grouped`, strata as groups), and::

        theta = sum_h W_h theta_h,    se^2 = sum_h W_h^2 se_h^2

    with the population weights ``W_h`` (default: the stratum's share of all items,
    ``(n_h + N_h) / (n + N)``). With unequal sampling rates the plain PPI estimate
    weights the strata by their share of the *rated* items and is biased; this one is
    unbiased for each fixed ``lam``. ``n_effective`` is ``n * var_classical / se^2`` with
    ``var_classical`` the variance of the stratified human-only mean (``lam = 0``).

    Parameters
    ----------
    y, yhat, yhat_unlabeled, confidence, lam, clusters, clusters_unlabeled, n_folds
        As :func:`ppi_mean` (clusters are taken within a stratum).
    strata, strata_unlabeled : sequence
        The stratum of every rated / unrated item.
    weights : dict, optional
        Stratum -> population weight (normalised to sum 1); every stratum seen must have one.

    Returns
    -------
    PPIResult
        ``lam`` is the weighted mean of the strata's ``lam``.

    Raises
    ------
    ValueError
        A stratum with fewer than 2 rated items or no unrated item (its mean cannot be
        estimated, so neither can the population's).
    """
    confidence = check_confidence(confidence)
    per = ppi_mean_grouped(y, yhat, strata, yhat_unlabeled, strata_unlabeled, confidence=confidence, lam=lam,
                           clusters=clusters, clusters_unlabeled=clusters_unlabeled, n_folds=n_folds)
    bad = per.filter(pl.col("estimate").is_null())
    if bad.height:
        raise ValueError(f"strata {', '.join(map(str, bad['group'].to_list()))}: each stratum needs at least 2 rated "
                         f"items (clusters) and 1 unrated item")
    classical = ppi_mean_grouped(y, yhat, strata, yhat_unlabeled, strata_unlabeled, confidence=confidence, lam=0.0,
                                 clusters=clusters, clusters_unlabeled=clusters_unlabeled, n_folds=n_folds)
    size = (per["n_labeled"] + per["n_unlabeled"]).to_numpy().astype(float)
    if weights is None:
        w = size / size.sum()
    else:
        missing = [g for g in per["group"].to_list() if g not in weights]
        if missing:
            raise ValueError(f"weights: no weight for strata {', '.join(map(str, missing))}")
        w = np.array([float(weights[g]) for g in per["group"].to_list()])
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise ValueError("weights must be finite, non-negative and not all zero")
        w = w / w.sum()
    est = float(w @ per["estimate"].to_numpy())
    var = float(w * w @ per["se"].to_numpy() ** 2)
    var_classical = float(w * w @ classical["se"].to_numpy() ** 2)
    se = math.sqrt(var)
    n_lab = int(per["n_labeled"].sum())
    z = _z(confidence)
    n_eff = n_lab * var_classical / var if var > 0 else (math.inf if var_classical > 0 else float(n_lab))
    return PPIResult(estimate=est, ci_low=est - z * se, ci_high=est + z * se, n=n_lab, confidence=confidence, se=se,
                     lam=float(w @ per["lam"].to_numpy()), n_labeled=n_lab, n_unlabeled=int(per["n_unlabeled"].sum()),
                     n_effective=float(n_eff))


@dataclass(frozen=True)
class SampleSizePlan:
    """Result of :func:`ppi_sample_size`.

    Attributes
    ----------
    n_ppi, n_classical : int
        Human ratings needed with the judge (tuned ``lam``) and without it (rounded up).
    n_ppi_exact, n_classical_exact : float
        The unrounded solutions.
    lam : float
        The tuned ``lam`` at ``n_ppi_exact``.
    rho : float
        Pilot correlation of human ratings and judge scores.
    sd_human, sd_judge, cov : float
        Pilot standard deviations (``ddof=1``) and covariance.
    half_width, confidence : float
        Target half-width of the interval at level ``confidence`` (``alpha`` warns and will go).
    n_unlabeled : float
        Unrated items the judge scores (``inf`` allowed).
    """

    n_ppi: int
    n_classical: int
    n_ppi_exact: float
    n_classical_exact: float
    lam: float
    rho: float
    sd_human: float
    sd_judge: float
    cov: float
    half_width: float
    confidence: float
    n_unlabeled: float

    @property
    def alpha(self) -> float:
        deprecated_alias("SampleSizePlan.alpha", "1 - SampleSizePlan.confidence")
        return 1 - self.confidence


def ppi_variance(n, var_y: float, var_f: float, cov: float, n_unlabeled: float, lam=None):
    """Planning variance of the PPI estimate with ``n`` rated items (vectorised over ``n``).

    ``lam^2 var_f / N + (var_y - 2 lam cov + lam^2 var_f) / n`` at the given ``lam``, or,
    with ``lam=None``, at the variance-minimising ``lam`` clipped to [0, 1]:
    ``lam*(n) = cov / (var_f (1 + n / N))``.
    """
    n = np.asarray(n, dtype=float)
    inv_big_n = 0.0 if np.isinf(n_unlabeled) else 1.0 / n_unlabeled
    if lam is None:
        lam = np.clip(cov / (var_f * (1 + n * inv_big_n)), 0.0, 1.0) if var_f > 0 else np.zeros_like(n)
    return lam * lam * var_f * inv_big_n + (var_y - 2 * lam * cov + lam * lam * var_f) / n


def ppi_sample_size(
    y_pilot,
    yhat_pilot,
    n_unlabeled: float,
    half_width: float,
    *,
    confidence: float = 0.95,
    alpha: float | None = None,
) -> SampleSizePlan:
    """Human ratings needed for a CI half-width, with this judge (PPI++) and without it.

    From a pilot of rated items (human ``y_pilot`` and judge ``yhat_pilot``, ``ddof=1``
    variances ``s_y^2``, ``s_f^2``, covariance ``s_yf``, correlation ``rho``), the
    planning variance with ``n`` rated and ``N = n_unlabeled`` unrated items at the
    tuned ``lam`` (:func:`ppi_variance`) is, while ``lam*(n) <= 1``::

        V(n) = s_y^2 / n * (1 - rho^2 * N / (N + n))

    The half-width ``z sqrt(V(n))`` equals ``h`` when ``v = (h / z)^2`` solves
    ``v n^2 + (v N - s_y^2) n - s_y^2 N (1 - rho^2) = 0`` (the positive root; with
    ``N = inf``: ``n = s_y^2 (1 - rho^2) / v``). ``lam*(n)`` decreases with ``n``; if it
    exceeds 1 at that root, the solution lies where the clipped ``lam = 1`` applies:
    ``n = s_r^2 / (v - s_f^2 / N)`` with ``s_r^2 = var(y - yhat)`` (then
    ``v > s_f^2 / N`` necessarily). ``s_yf <= 0`` gives ``lam = 0``. A target is always
    reachable: ``lam`` shrinks towards 0 as ``n`` grows, and ``V(n) <= s_y^2 / n``.
    Classical: ``n = s_y^2 / v``. Both are rounded up. The test checks them against a
    numerical solution of ``z sqrt(min_lam V) = h``.

    This plans with the *asymptotic* variance: at small n the tuned interval
    under-covers (module docstring), and the pilot's variances are themselves
    uncertain, so a margin is prudent. ``N`` is held fixed as ``n`` varies.

    Parameters
    ----------
    y_pilot, yhat_pilot : array_like
        Pilot human ratings and judge scores of the same items (same order as
        :func:`ppi_mean`'s ``y, yhat``).
    n_unlabeled : float
        Unrated items the judge will score (``np.inf`` for "as many as needed").
    half_width : float
        Target half-width of the interval at level ``confidence``, in rating units.
    confidence : float
    alpha : float, optional
        Deprecated: ``confidence = 1 - alpha``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = rng.normal(3, 1, 80)
    >>> plan = ppi_sample_size(y, y + rng.normal(0, 0.5, 80), 5000, 0.1)
    >>> plan.n_ppi < plan.n_classical
    True
    """
    confidence = resolve_confidence(confidence, alpha, "ppi_sample_size")
    y, f, _ = _prepare(y_pilot, yhat_pilot, np.zeros(1))
    if y.shape[0] < 3:
        raise ValueError(f"the pilot needs at least 3 rated items, got {y.shape[0]}")
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    big_n = float(n_unlabeled)
    if not big_n > 0:
        raise ValueError(f"n_unlabeled must be positive (or inf), got {n_unlabeled}")
    z = _z(confidence)
    cov_m = np.cov(y, f, ddof=1)
    var_y, var_f, cov = float(cov_m[0, 0]), float(cov_m[1, 1]), float(cov_m[0, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = cov / math.sqrt(var_y * var_f) if var_y > 0 and var_f > 0 else 0.0
    v = (half_width / z) ** 2
    n_classical = var_y / v
    if cov <= 0 or var_f == 0:
        n_ppi, lam = n_classical, 0.0
    else:
        rho2 = rho * rho
        if np.isinf(big_n):
            n_ppi = var_y * (1 - rho2) / v
        else:
            bq = v * big_n - var_y
            cq = -var_y * big_n * (1 - rho2)
            disc = math.sqrt(bq * bq - 4 * v * cq)
            n_ppi = -2 * cq / (bq + disc) if bq >= 0 else (-bq + disc) / (2 * v)
        inv_big_n = 0.0 if np.isinf(big_n) else 1 / big_n
        lam = cov / (var_f * (1 + n_ppi * inv_big_n))
        if lam > 1:
            lam = 1.0
            var_r = var_y - 2 * cov + var_f
            n_ppi = var_r / (v - var_f * inv_big_n)  # > 0: see the docstring
    return SampleSizePlan(
        n_ppi=int(math.ceil(n_ppi)),
        n_classical=int(math.ceil(n_classical)), n_ppi_exact=float(n_ppi), n_classical_exact=float(n_classical),
        lam=float(lam), rho=float(rho), sd_human=math.sqrt(var_y), sd_judge=math.sqrt(var_f), cov=cov,
        half_width=float(half_width), confidence=float(confidence), n_unlabeled=big_n,
    )
