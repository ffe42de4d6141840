"""Intraclass correlation coefficients: all six McGraw & Wong (1996) forms.

Which form to use
-----------------
The ratings are an ``n_items x k_raters`` array (targets x judges). The forms differ in
the ANOVA model and in whether a systematic difference between raters counts as
disagreement:

=========  ======  ==========================================================  ==========
McGraw &   Shrout  model and question                                            psych
Wong name  Fleiss                                                                 ``type``
=========  ======  ==========================================================  ==========
ICC(1,1)   ICC(1,1) one-way random: each item rated by different raters;      ICC1
                    absolute agreement of a single rating
ICC(A,1)   ICC(2,1) two-way random, absolute agreement of a single rating:    ICC2
                    an evaluator that scores everything +1 point is penalised
ICC(C,1)   ICC(3,1) two-way, consistency of a single rating: a constant       ICC3
                    offset between raters is *not* penalised
ICC(1,k)   ICC(1,k) as ICC(1,1), for the mean of the k ratings                ICC1k
ICC(A,k)   ICC(2,k) as ICC(A,1), for the mean of the k ratings                ICC2k
ICC(C,k)   ICC(3,k) as ICC(C,1), for the mean of the k ratings                ICC3k
=========  ======  ==========================================================  ==========

To ask "can this LLM judge *replace* a human rater?", use ICC(A,1): a judge that is
perfectly correlated with the human but 1 point more lenient does not give the same
numbers. ICC(C,1) answers "does it rank responses the same way?"; the gap between the
two is the cost of the judge's bias (see :mod:`analysis.stats.bias`). Use the ``k`` forms only
when the mean of all k raters is what will be used in practice (e.g. an LLM jury).

Definitions (mean squares of the two-way ANOVA without replication, ``n`` items,
``k`` raters): MSR rows (items), MSC columns (raters), MSE residual, MSW within rows
(``(SSC + SSE) / (n (k - 1))``)::

    ICC(1,1) = (MSR - MSW) / (MSR + (k-1) MSW)
    ICC(A,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)
    ICC(C,1) = (MSR - MSE) / (MSR + (k-1) MSE)
    ICC(1,k) = (MSR - MSW) / MSR
    ICC(A,k) = (MSR - MSE) / (MSR + (MSC - MSE) / n)
    ICC(C,k) = (MSR - MSE) / MSR

F tests of H0: ICC = 0 and exact F-based confidence intervals follow McGraw & Wong
(1996, Tables 7-8), with Satterthwaite's degrees of freedom for the absolute-agreement
forms, exactly as R's ``psych::ICC`` (Revelle) computes them; the tests assert equality
with ``psych::ICC(x, lmer=FALSE)`` to 1e-10.

References
----------
Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
reliability. Psychological Bulletin 86(2), 420-428.
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass
correlation coefficients. Psychological Methods 1(1), 30-46 (and the 1996 correction).
Koo, T. K. & Li, M. Y. (2016). A guideline of selecting and reporting intraclass
correlation coefficients for reliability research. J Chiropr Med 15(2), 155-163.
Revelle, W. psych: Procedures for Psychological, Psychometric, and Personality
Research, function ``ICC``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl
from scipy import stats

from analysis.stats.bootstrap import bootstrap

ICC_TYPES: tuple[str, ...] = ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)")
"""McGraw & Wong names, in the order of every output."""

SHROUT_FLEISS: dict[str, str] = {
    "ICC(1,1)": "ICC1", "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3",
    "ICC(1,k)": "ICC1k", "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k",
}
"""McGraw & Wong name -> Shrout & Fleiss / psych / pingouin name."""

CI_METHODS = {"f": "F", "percentile": "percentile", "bca": "BCa"}

ICC_SCHEMA = {
    "type": pl.String, "icc": pl.Float64, "f": pl.Float64, "df1": pl.Float64, "df2": pl.Float64,
    "pval": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "ci_method": pl.String,
    "confidence": pl.Float64, "n_items": pl.Int64, "n_raters": pl.Int64, "n_dropped": pl.Int64,
    "n_boot": pl.Int64, "n_boot_valid": pl.Int64,
}


def row_statistics(ratings: np.ndarray) -> np.ndarray:
    """Per-item sufficient statistics of the two-way ANOVA: ``(..., n, k + 3)``.

    Columns: 1 (the item count), the k centred ratings, the sum of squared centred
    ratings, and the squared centred item mean. Every mean square is a function of the
    column sums, so a (weighted) sum over items, or over clusters of items, is all the
    ICC needs: :func:`mean_squares_from_sums`. Ratings are centred by their overall mean
    (one constant: every sum of squares is unchanged, and the "sum of squares minus
    N k M^2" forms lose far less to cancellation).
    """
    x = np.asarray(ratings, dtype=float)
    x = x - np.mean(x, axis=(-2, -1), keepdims=True)
    row_mean = x.mean(axis=-1)
    return np.concatenate([np.ones(x.shape[:-1] + (1,)), x, (x * x).sum(axis=-1, keepdims=True),
                           (row_mean * row_mean)[..., None]], axis=-1)


def mean_squares_from_sums(sums: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Mean squares from summed :func:`row_statistics` (last axis ``k + 3``)."""
    n, col_sum, sum_sq, row_sq = sums[..., 0], sums[..., 1:k + 1], sums[..., k + 1], sums[..., k + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = col_sum.sum(axis=-1) / (n * k)
        correction = n * k * grand * grand
        ss_total = sum_sq - correction
        ss_rows = k * row_sq - correction
        ss_cols = (col_sum * col_sum).sum(axis=-1) / n - correction
        ss_err = ss_total - ss_rows - ss_cols
        return {
            "msr": ss_rows / (n - 1),
            "msc": ss_cols / (k - 1),
            "mse": ss_err / ((n - 1) * (k - 1)),
            "msw": (ss_cols + ss_err) / (n * (k - 1)),
            "n": n,
            "k": np.asarray(k),
        }


def mean_squares(ratings: np.ndarray, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares of ``(..., n, k)`` ratings, optionally frequency-weighted.

    Parameters
    ----------
    ratings : ndarray, shape (..., n, k)
        Complete ratings (no NaN).
    weights : ndarray, shape (..., n), optional
        Frequency weights of the items (bootstrap resample counts). With
        ``ratings`` of shape ``(n, k)`` and ``weights`` of shape ``(B, n)`` all B
        resamples are computed in one matrix product. ``n`` in the formulas becomes
        ``sum(weights)``, so the result is exactly that of the resampled rows.

    Returns
    -------
    dict
        ``msr, msc, mse, msw`` (arrays of the batch shape), ``n`` (effective number of
        items) and ``k``.
    """
    x = np.asarray(ratings, dtype=float)
    feats = row_statistics(x)
    if weights is None:
        sums = feats.sum(axis=-2)
    elif x.ndim == 2:
        sums = np.asarray(weights, dtype=float) @ feats  # one BLAS product for all resamples
    else:
        sums = np.einsum("...n,...nf->...f", np.asarray(weights, dtype=float), feats)
    return mean_squares_from_sums(sums, x.shape[-1])


def icc_from_mean_squares(ms: dict[str, np.ndarray]) -> np.ndarray:
    """The six ICCs, last axis in :data:`ICC_TYPES` order, from :func:`mean_squares`."""
    msr, msc, mse, msw, n, k = ms["msr"], ms["msc"], ms["mse"], ms["msw"], ms["n"], ms["k"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([
            (msr - msw) / (msr + (k - 1) * msw),
            (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
            (msr - mse) / (msr + (k - 1) * mse),
            (msr - msw) / msr,
            (msr - mse) / (msr + (msc - mse) / n),
            (msr - mse) / msr,
        ], axis=-1)


def icc_batch(ratings: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Point estimates of the six ICCs for a batch of complete rating matrices.

    Parameters
    ----------
    ratings : ndarray, shape (..., n_items, k_raters)
        Complete ratings; every leading axis is a batch axis.
    weights : ndarray, shape (..., n_items), optional
        Item frequency weights (bootstrap counts); see :func:`mean_squares`.

    Returns
    -------
    ndarray, shape (..., 6)
        ICCs in :data:`ICC_TYPES` order. NaN where undefined (e.g. no variance).

    Examples
    --------
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...               [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    >>> np.round(icc_batch(x), 4).tolist()
    [0.1657, 0.2898, 0.7148, 0.4428, 0.6201, 0.9093]
    """
    x = np.asarray(ratings, dtype=float)
    if x.ndim < 2 or x.shape[-1] < 2 or x.shape[-2] < 2:
        raise ValueError(f"ratings must have shape (..., n_items >= 2, k_raters >= 2), got {x.shape}")
    return icc_from_mean_squares(mean_squares(x, weights))


def _f_tests(ms: dict[str, np.ndarray], n: int, k: int, confidence: float):
    """F statistics, dfs, p-values and exact F-based CIs (McGraw & Wong 1996; psych::ICC)."""
    msr, msc, mse, msw = (float(ms[key]) for key in ("msr", "msc", "mse", "msw"))
    icc = icc_from_mean_squares(ms)
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = msr / msw
        df1n, df1d = n - 1, n * (k - 1)
        f3 = msr / mse
        df3n, df3d = n - 1, (n - 1) * (k - 1)
        p1 = stats.f.sf(f1, df1n, df1d)
        p3 = stats.f.sf(f3, df3n, df3d)

        f1l = f1 / stats.f.ppf(1 - alpha / 2, df1n, df1d)
        f1u = f1 * stats.f.ppf(1 - alpha / 2, df1d, df1n)
        f3l = f3 / stats.f.ppf(1 - alpha / 2, df3n, df3d)
        f3u = f3 * stats.f.ppf(1 - alpha / 2, df3d, df3n)

        # ICC(A,1): Satterthwaite approximation (McGraw & Wong 1996, Table 7, case 2A).
        a1 = icc[1]
        fj = msc / mse
        vn = (k - 1) * (n - 1) * (k * a1 * fj + n * (1 + (k - 1) * a1) - k * a1) ** 2
        vd = (n - 1) * k**2 * a1**2 * fj**2 + (n * (1 + (k - 1) * a1) - k * a1) ** 2
        v = vn / vd
        fu = stats.f.ppf(1 - alpha / 2, n - 1, v)
        fl = stats.f.ppf(1 - alpha / 2, v, n - 1)
        la1 = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
        ua1 = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
        lak = la1 * k / (1 + la1 * (k - 1))
        uak = ua1 * k / (1 + ua1 * (k - 1))

        lows = [(f1l - 1) / (f1l + k - 1), la1, (f3l - 1) / (f3l + k - 1), 1 - 1 / f1l, lak, 1 - 1 / f3l]
        highs = [(f1u - 1) / (f1u + k - 1), ua1, (f3u - 1) / (f3u + k - 1), 1 - 1 / f1u, uak, 1 - 1 / f3u]
    f = [f1, f3, f3, f1, f3, f3]
    df1 = [df1n, df3n, df3n, df1n, df3n, df3n]
    df2 = [df1d, df3d, df3d, df1d, df3d, df3d]
    p = [p1, p3, p3, p1, p3, p3]
    return icc, f, df1, df2, p, lows, highs


def intraclass_corr(
    ratings,
    *,
    ci: str = "f",
    n_boot: int = 2000,
    seed: int | None = None,
    clusters: Sequence | None = None,
    confidence: float = 0.95,
    nan_policy: str = "omit",
) -> pl.DataFrame:
    """All six intraclass correlations with F tests and confidence intervals.

    Parameters
    ----------
    ratings : array_like, shape (n_items, k_raters)
        Scores; NaN marks a missing rating.
    ci : {"f", "percentile", "bca"}
        ``"f"``: exact F-based intervals of McGraw & Wong (1996), as ``psych::ICC``.
        ``"percentile"`` / ``"bca"``: bootstrap intervals from
        :func:`analysis.stats.bootstrap.bootstrap`, resampling items (or ``clusters``).
        Bootstrap replicates outside [0, 1] are kept (discarding them biases the
        interval upwards); replicates where an ICC is undefined are counted in
        ``n_boot_valid``.
    n_boot, seed : int
        Bootstrap resamples and seed (ignored for ``ci="f"``).
    clusters : sequence, optional
        Cluster label of every row (e.g. the conversation a response answers):
        whole clusters are resampled. Rows dropped for NaN are dropped here too.
    confidence : float
        Two-sided coverage of the intervals.
    nan_policy : {"omit", "raise"}
        ``"omit"`` (default) keeps complete items only and reports how many were
        dropped in ``n_dropped``; ``"raise"`` refuses NaN.

    Returns
    -------
    polars.DataFrame
        One row per form in :data:`ICC_TYPES` order, columns ``type, icc, f, df1, df2,
        pval, ci_low, ci_high, ci_method`` and ``confidence, n_items, n_raters,
        n_dropped, n_boot, n_boot_valid``. ``f``/``df``/``pval`` test H0: ICC = 0;
        ICC(A,·) and ICC(C,·) share the F = MSR/MSE test, ICC(1,·) uses MSR/MSW.

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets x 4 judges:

    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> res = intraclass_corr(x)
    >>> res.select("type", "icc").with_columns(pl.col("icc").round(3)).rows()
    [('ICC(1,1)', 0.166), ('ICC(A,1)', 0.29), ('ICC(C,1)', 0.715), ('ICC(1,k)', 0.443), ('ICC(A,k)', 0.62), ('ICC(C,k)', 0.909)]
    """
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {sorted(CI_METHODS)}, not {ci!r}")
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"ratings must be a 2-D (n_items, k_raters) array, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("ratings contain infinite values")
    complete = ~np.isnan(x).any(axis=1)
    n_dropped = int((~complete).sum())
    if n_dropped and nan_policy == "raise":
        raise ValueError(f"{n_dropped} items have missing ratings (nan_policy='raise')")
    if nan_policy not in ("omit", "raise"):
        raise ValueError(f"nan_policy must be 'omit' or 'raise', not {nan_policy!r}")
    x = x[complete]
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"need at least 2 complete items and 2 raters, got {n} complete items "
                         f"({n_dropped} dropped for missing ratings) and {k} raters")
    ms = mean_squares(x)
    icc, f, df1, df2, p, lows, highs = _f_tests(ms, n, k, confidence)
    boot_n, boot_valid = [0] * 6, [0] * 6
    if ci != "f":
        feats = row_statistics(x)
        if clusters is not None:
            # The ICC depends on the data only through sums of row statistics, so
            # resampling clusters of rows is resampling their per-cluster sums: the
            # same estimator, n_clusters instead of n rows per resample.
            _, codes = np.unique(np.asarray(clusters)[complete], return_inverse=True)
            feats = np.stack([np.bincount(codes, feats[:, c]) for c in range(feats.shape[1])], axis=1)
        res = bootstrap(feats, lambda f, weights: icc_from_mean_squares(mean_squares_from_sums(weights @ f, k)),
                        n_boot=n_boot, method=ci, confidence=confidence, seed=seed)
        lows, highs = res.ci_low.tolist(), res.ci_high.tolist()
        boot_n, boot_valid = [n_boot] * 6, res.n_valid.tolist()
    return pl.DataFrame(
        {
            "type": list(ICC_TYPES), "icc": icc.tolist(), "f": f, "df1": df1, "df2": df2, "pval": p,
            "ci_low": lows, "ci_high": highs, "ci_method": [CI_METHODS[ci]] * 6,
            "confidence": [confidence] * 6, "n_items": [n] * 6, "n_raters": [k] * 6,
            "n_dropped": [n_dropped] * 6, "n_boot": boot_n, "n_boot_valid": boot_valid,
        },
        schema=ICC_SCHEMA,
    )
