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

F tests of H0: ICC = 0 and F-based confidence intervals follow McGraw & Wong (1996,
Tables 7-8), exactly as R's ``psych::ICC`` (Revelle) computes them; the tests assert
equality with ``psych::ICC(x, lmer=FALSE)`` to 1e-10. What the F interval assumes
depends on the form (column ``ci_assumes`` of :func:`intraclass_corr`):

* ICC(C,·): exact under the normal two-way model with the raters *fixed* (McGraw &
  Wong case 3): ``"raters fixed"``.
* ICC(1,·): exact under the one-way random model: ``"raters random"``.
* ICC(A,·): **not exact**. It is the approximate interval of McGraw & Wong's case 2A,
  raters a *random sample* of raters, with Satterthwaite's degrees of freedom:
  ``"raters random"``. Its width is driven by the between-rater mean square, which
  has only ``k - 1`` degrees of freedom (as MSE -> 0 with MSC > 0 the Satterthwaite
  df tend to ``k - 1``), so with 2 raters the lower bound can stay low however many
  items there are. For a named judge against a named human (the raters are *fixed*: "can
  this judge replace this rater on items like these?") that random-rater interval
  answers another question; use the bootstrap over items (``ci="bca"`` or
  ``"percentile"``, ``ci_assumes`` ``"resampled items"``/``"resampled clusters"``),
  whose uncertainty comes from the items only.

Degenerate data (no exception, no warning; :func:`intraclass_corr` gives the reason
in ``ci_note``):

* sums of squares below the rounding error of their computation (at most
  :data:`SS_TOL` ``* eps * n * sum(x_c^2)``, ``x_c`` the centred ratings) are exactly 0,
  and so are the numerators MSR - MSE and MSR - MSW within that error (a constant
  judge against a varying human, k = 2, has MSR = MSE: ICC(A,1) = ICC(C,1) = 0);
* raters that agree exactly on every item whose items differ (MSE = 0 < MSR): the
  C forms are 1 (all six forms are 1 when the raters are identical, MSC = 0 too),
  ``F = MSR/MSE = inf`` and ``p = 0``; an F bound from ``F = inf`` is 1;
* a form whose denominator is 0 is NaN, never ``±inf``: all ratings equal (MSR = MSC
  = MSE = 0, every form NaN, reason "all ratings equal"), or items that do not differ
  (MSR = 0, e.g. every rater constant: the C forms and ICC(1,k) are 0/0 or x/0,
  reason "items do not differ (MSR = 0)"); its F bounds are NaN too;
* a bootstrap resample in which a form is undefined gives a NaN replicate, counted in
  ``n_valid`` and ``ci_note``.

Missing ratings: ``nan_policy="omit"`` (default) deletes incomplete items listwise and
counts them in ``n_dropped`` (callers rely on it: run-to-run reliability drops answers
with a missing run); ``nan_policy="raise"`` refuses them, like ``pingouin`` (its
default) and ``psych::ICC(lmer=FALSE)``.

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

from functools import partial
from typing import Sequence

import numpy as np
import polars as pl
from scipy import special

from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.intervals import SEPARATOR, ci_note

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
    "n_boot": pl.Int64, "n_valid": pl.Int64, "ci_note": pl.String,
    "ci_assumes": pl.String,
}
"""Output columns of :func:`intraclass_corr`; new columns are only ever appended (0.2 dropped
``n_boot_valid``, which repeated ``n_valid``)."""

SS_TOL = 4.0
"""Sums of squares at most ``SS_TOL * eps * n * sum(x_c^2)`` are rounding noise, set to 0.

The error of a sum of squares computed from sums of n items is at most of order
``n * eps * sum(x_c^2)``; for identical raters we measured at most 0.12 of that
(n = 20 ... 100,000, with and without bootstrap weights)."""

F_ASSUMES = {"ICC(1,1)": "raters random", "ICC(A,1)": "raters random", "ICC(C,1)": "raters fixed",
             "ICC(1,k)": "raters random", "ICC(A,k)": "raters random", "ICC(C,k)": "raters fixed"}
"""What the F interval of each form assumes (McGraw & Wong 1996 cases 1, 2A and 3)."""


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


def summed_row_statistics(by_rater: np.ndarray) -> np.ndarray:
    """Column sums over the items of :func:`row_statistics`, ``(..., k + 3)``, from
    ratings laid out rater by rater, ``(..., k, n)``.

    The same numbers as ``row_statistics(np.swapaxes(by_rater, -1, -2)).sum(axis=-2)``
    (to rounding: the sums are taken in another order), without the ``(..., n, k + 3)``
    intermediate and with every reduction along contiguous memory: for a batch of many
    small matrices (the bootstrap replicates of the 9-source x 2-rater matrices of
    MentalAlign's system level) it is 3x faster. Feed it to
    :func:`mean_squares_from_sums` and :func:`icc_from_mean_squares`.

    Examples
    --------
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...               [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    >>> ms = mean_squares_from_sums(summed_row_statistics(x.T), 4)
    >>> np.round(icc_from_mean_squares(ms), 4).tolist()
    [0.1657, 0.2898, 0.7148, 0.4428, 0.6201, 0.9093]
    """
    x = np.asarray(by_rater, dtype=float)
    k, n = x.shape[-2:]
    x = x - np.mean(x, axis=(-2, -1), keepdims=True)
    row_mean = x.mean(axis=-2)
    out = np.empty(x.shape[:-2] + (k + 3,))
    out[..., 0] = n
    out[..., 1:k + 1] = x.sum(axis=-1)
    out[..., k + 1] = (x * x).sum(axis=(-2, -1))
    out[..., k + 2] = (row_mean * row_mean).sum(axis=-1)
    return out


def mean_squares_from_sums(sums: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Mean squares from summed :func:`row_statistics` (last axis ``k + 3``).

    Sums of squares within :data:`SS_TOL` of zero (rounding noise) are exactly 0, so
    raters that agree exactly give ``mse == 0``, never ``±1e-17``.
    """
    n, col_sum, sum_sq, row_sq = sums[..., 0], sums[..., 1:k + 1], sums[..., k + 1], sums[..., k + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = col_sum.sum(axis=-1) / (n * k)
        correction = n * k * grand * grand
        ss_total = sum_sq - correction
        ss_rows = k * row_sq - correction
        ss_cols = (col_sum * col_sum).sum(axis=-1) / n - correction
        ss_err = ss_total - ss_rows - ss_cols
        tol = SS_TOL * np.finfo(float).eps * n * sum_sq
        ss_total, ss_rows, ss_cols, ss_err = (np.where(ss <= tol, 0.0, ss)
                                              for ss in (ss_total, ss_rows, ss_cols, ss_err))
        return {
            "msr": ss_rows / (n - 1),
            "msc": ss_cols / (k - 1),
            "mse": ss_err / ((n - 1) * (k - 1)),
            "msw": (ss_cols + ss_err) / (n * (k - 1)),
            "n": n,
            "k": np.asarray(k),
            # Rounding tolerance of a difference of two mean squares (MSR - MSE, MSR - MSW).
            "ms_tol": 2 * tol / (n - 1),
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
        items), ``k`` and ``ms_tol`` (rounding tolerance of a difference of two mean
        squares, used by :func:`icc_from_mean_squares`).
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
    """The six ICCs, last axis in :data:`ICC_TYPES` order, from :func:`mean_squares`.

    NaN where a form's denominator is 0 within rounding error (see the module
    docstring), never ``±inf``.
    """
    msr, msc, mse, msw, n, k = ms["msr"], ms["msc"], ms["mse"], ms["msw"], ms["n"], ms["k"]
    tol = ms.get("ms_tol", 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A difference of mean squares within rounding error is 0: a constant judge
        # against a varying human has MSR = MSE exactly, so ICC(C,1) = 0, not 5e-16.
        d_e = np.where(np.abs(msr - mse) <= tol, 0.0, msr - mse)
        d_w = np.where(np.abs(msr - msw) <= tol, 0.0, msr - msw)
        num = [d_w, d_e, d_e, d_w, d_e, d_e]
        den = [msr + (k - 1) * msw, msr + (k - 1) * mse + k * (msc - mse) / n, msr + (k - 1) * mse,
               msr, msr + (msc - mse) / n, msr]
        # A denominator within rounding error of 0 (ICC(A,k)'s MSR + (MSC - MSE)/n can
        # cancel) gives NaN, not +-1e17 with a sign set by the order of the rows.
        return np.stack([np.where(np.abs(d) <= tol, np.nan, a / d) for a, d in zip(num, den)], axis=-1)


def _icc_of_sums(sums: np.ndarray, k: int) -> np.ndarray:
    """The six ICCs from summed :func:`row_statistics`: the statistic of ``bootstrap(sums=True)``."""
    return icc_from_mean_squares(mean_squares_from_sums(sums, k))


def _undefined_reasons(ms: dict[str, np.ndarray]) -> list[str]:
    """Why each of the six ICCs of one rating matrix is NaN (``""`` where it is defined)."""
    icc = icc_from_mean_squares(ms)
    if float(ms["msr"]) == 0 and float(ms["msc"]) == 0 and float(ms["mse"]) == 0:
        why = "ICC undefined: all ratings equal"
    elif float(ms["msr"]) == 0:
        why = "ICC undefined: items do not differ (MSR = 0)"
    else:
        why = "ICC undefined: zero denominator"
    return [why if np.isnan(v) else "" for v in icc]


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


def _icc1_bound(f: np.ndarray, k: int) -> np.ndarray:
    """``(F - 1) / (F + k - 1)``, 1 at ``F = inf`` (raters that agree exactly)."""
    return np.where(np.isinf(f), 1.0, (f - 1) / (f + k - 1))


def _f_sf(x, dfn, dfd) -> np.float64:
    """``scipy.stats.f.sf(x, dfn, dfd)`` for scalars, value for value (the same
    ``scipy.special.fdtrc`` underneath, the same answers at the edges: 1 for x <= 0, 0 at
    x = inf, NaN for NaN or non-positive degrees of freedom) without the distribution
    object's argument handling, which costs 50x the evaluation (tested on a grid)."""
    x, dfn, dfd = np.float64(x), np.float64(dfn), np.float64(dfd)
    if not (dfn > 0 and dfd > 0) or np.isnan(x):
        return np.float64(np.nan)
    if x <= 0:
        return np.float64(1.0)
    if np.isinf(x):
        return np.float64(0.0)
    return np.float64(special.fdtrc(dfn, dfd, x))


def _f_ppf(q: float, dfn, dfd) -> np.float64:
    """``scipy.stats.f.ppf(q, dfn, dfd)`` for a scalar 0 < q < 1 (``scipy.special.fdtri``;
    NaN for NaN or non-positive degrees of freedom), as :func:`_f_sf`."""
    dfn, dfd = np.float64(dfn), np.float64(dfd)
    if not (dfn > 0 and dfd > 0):
        return np.float64(np.nan)
    return np.float64(special.fdtri(dfn, dfd, np.float64(q)))


def _f_tests(ms: dict[str, np.ndarray], n: int, k: int, confidence: float):
    """F statistics, dfs, p-values and F-based CIs (McGraw & Wong 1996; psych::ICC).

    ICC(1,·): one-way, exact. ICC(C,·): exact, raters fixed (case 3). ICC(A,·):
    Satterthwaite approximation for raters sampled at random (case 2A), not exact.
    ``F = inf``/``p = 0`` where the error mean square is 0 < MSR; bounds are NaN where
    the ICC is undefined. Nothing here raises or warns.
    """
    msr, msc, mse, msw = (np.float64(ms[key]) for key in ("msr", "msc", "mse", "msw"))
    icc = icc_from_mean_squares(ms)
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f1 = msr / msw  # numpy scalars: x/0 = inf, 0/0 = nan, no exception
        df1n, df1d = n - 1, n * (k - 1)
        f3 = msr / mse
        df3n, df3d = n - 1, (n - 1) * (k - 1)
        p1 = _f_sf(f1, df1n, df1d)
        p3 = _f_sf(f3, df3n, df3d)

        f1l = f1 / _f_ppf(1 - alpha / 2, df1n, df1d)
        f1u = f1 * _f_ppf(1 - alpha / 2, df1d, df1n)
        f3l = f3 / _f_ppf(1 - alpha / 2, df3n, df3d)
        f3u = f3 * _f_ppf(1 - alpha / 2, df3d, df3n)

        # ICC(A,1): Satterthwaite approximation (McGraw & Wong 1996, Table 7, case 2A).
        a1 = icc[1]
        if mse > 0:
            fj = msc / mse
            vn = (k - 1) * (n - 1) * (k * a1 * fj + n * (1 + (k - 1) * a1) - k * a1) ** 2
            vd = (n - 1) * k**2 * a1**2 * fj**2 + (n * (1 + (k - 1) * a1) - k * a1) ** 2
            v = vn / vd
        else:
            # MSE = 0: the limit of v as MSE -> 0 is k - 1 when MSC > 0 (the rater mean
            # square is the only variance left); with MSC = 0 too both bounds are 1 for
            # any finite v, and the limit is (k - 1)(n - 1).
            v = np.float64(k - 1) if msc > 0 else np.float64((k - 1) * (n - 1))
        fu = _f_ppf(1 - alpha / 2, n - 1, v)
        fl = _f_ppf(1 - alpha / 2, v, n - 1)
        la1 = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
        ua1 = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
        if mse == 0 and msc == 0 and msr > 0:  # identical raters: both bounds are 1 (not 1 - 1e-16)
            la1 = ua1 = np.float64(1.0)
        lak = la1 * k / (1 + la1 * (k - 1))
        uak = ua1 * k / (1 + ua1 * (k - 1))

        lows = [_icc1_bound(f1l, k), la1, _icc1_bound(f3l, k), 1 - 1 / f1l, lak, 1 - 1 / f3l]
        highs = [_icc1_bound(f1u, k), ua1, _icc1_bound(f3u, k), 1 - 1 / f1u, uak, 1 - 1 / f3u]
    defined = ~np.isnan(icc)
    lows = [float(lo) if ok else float("nan") for lo, ok in zip(lows, defined)]
    highs = [float(hi) if ok else float("nan") for hi, ok in zip(highs, defined)]
    f = [float(v) for v in (f1, f3, f3, f1, f3, f3)]
    df1 = [df1n, df3n, df3n, df1n, df3n, df3n]
    df2 = [df1d, df3d, df3d, df1d, df3d, df3d]
    p = [float(v) for v in (p1, p3, p3, p1, p3, p3)]
    return icc, f, df1, df2, p, lows, highs


def intraclass_corr(
    ratings,
    *,
    ci: str = "f",
    n_boot: int | None = None,
    seed: int | None = None,
    clusters: Sequence | None = None,
    confidence: float = 0.95,
    nan_policy: str = "omit",
    plan: ResamplePlan | None = None,
) -> pl.DataFrame:
    """All six intraclass correlations with F tests and confidence intervals.

    Parameters
    ----------
    ratings : array_like, shape (n_items, k_raters)
        Scores; NaN marks a missing rating.
    ci : {"f", "percentile", "bca"}
        ``"f"``: the F-based intervals of McGraw & Wong (1996), as ``psych::ICC``:
        exact for ICC(1,·) and ICC(C,·) (the C forms with raters fixed, case 3), but for
        ICC(A,·) the Satterthwaite approximation for raters *sampled at random* (case
        2A), not an exact interval; for a named judge against a named human (fixed
        raters) use a bootstrap interval instead (see the module docstring).
        ``"percentile"`` / ``"bca"``: bootstrap intervals from
        :func:`analysis.stats.bootstrap.bootstrap`, resampling items (or ``clusters``),
        with the O(n) jackknife of a statistic of sums. Bootstrap replicates outside
        [0, 1] are kept (discarding them biases the interval upwards); replicates where
        an ICC is undefined are counted in ``n_valid`` and ``ci_note``.
    n_boot, seed : int
        Bootstrap resamples (default 2000) and seed (ignored for ``ci="f"``).
    clusters : sequence, optional
        Cluster label of every row (e.g. the conversation a response answers):
        whole clusters are resampled. Rows dropped for NaN are dropped here too.
    confidence : float
        Two-sided coverage of the intervals.
    nan_policy : {"omit", "raise"}
        ``"omit"`` (default) keeps complete items only (listwise deletion) and reports
        how many were dropped in ``n_dropped``; ``"raise"`` refuses NaN, like
        ``pingouin.intraclass_corr`` and ``psych::ICC(lmer=FALSE)``.
    plan : ResamplePlan, optional
        Resamples shared with other statistics (bootstrap only; replaces ``n_boot``,
        ``seed`` and ``clusters``). It must be built on the complete items.

    Returns
    -------
    polars.DataFrame
        One row per form in :data:`ICC_TYPES` order, columns ``type, icc, f, df1, df2,
        pval, ci_low, ci_high, ci_method`` and ``confidence, n_items, n_raters,
        n_dropped, n_boot, n_valid, ci_note, ci_assumes`` (schema
        :data:`ICC_SCHEMA`). ``f``/``df``/``pval`` test H0: ICC = 0; ICC(A,·) and
        ICC(C,·) share the F = MSR/MSE test, ICC(1,·) uses MSR/MSW. ``ci_method`` is
        ``"F"``, ``"percentile"`` or ``"BCa"``. ``n_valid``: finite bootstrap replicates
        (null for F rows).
        ``ci_note``: caveats by the rules of :mod:`analysis.stats.intervals`, after the
        reason an ICC is undefined. ``ci_assumes``: ``"raters random"`` (F rows of the
        1 and A forms), ``"raters fixed"`` (F rows of the C forms), ``"resampled
        items"`` or ``"resampled clusters"`` (bootstrap rows).

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets x 4 judges:

    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> res = intraclass_corr(x)
    >>> res.select("type", "icc").with_columns(pl.col("icc").round(3)).rows()
    [('ICC(1,1)', 0.166), ('ICC(A,1)', 0.29), ('ICC(C,1)', 0.715), ('ICC(1,k)', 0.443), ('ICC(A,k)', 0.62), ('ICC(C,k)', 0.909)]
    >>> res["ci_assumes"].to_list()
    ['raters random', 'raters random', 'raters fixed', 'raters random', 'raters random', 'raters fixed']
    """
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {sorted(CI_METHODS)}, not {ci!r}")
    if nan_policy not in ("omit", "raise"):
        raise ValueError(f"nan_policy must be 'omit' or 'raise', not {nan_policy!r}")
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"ratings must be a 2-D (n_items, k_raters) array, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("ratings contain infinite values")
    if clusters is not None and np.asarray(clusters).shape != (x.shape[0],):
        raise ValueError(f"clusters must label every row: expected shape ({x.shape[0]},), "
                         f"got {np.asarray(clusters).shape}")
    complete = ~np.isnan(x).any(axis=1)
    n_dropped = int((~complete).sum())
    if n_dropped and nan_policy == "raise":
        raise ValueError(f"{n_dropped} items have missing ratings (nan_policy='raise')")
    x = x[complete]
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"need at least 2 complete items and 2 raters, got {n} complete items "
                         f"({n_dropped} dropped for missing ratings) and {k} raters")
    columns, reasons = f_columns(x, confidence=confidence, n_dropped=n_dropped)
    if ci != "f":
        if plan is not None:
            if clusters is not None:
                raise ValueError("with a plan, the clusters are the plan's: do not pass clusters")
            if plan.n_rows != n:
                raise ValueError(f"the plan resamples {plan.n_rows} rows but {n} items are complete "
                                 f"({n_dropped} dropped for missing ratings): build the plan on the complete items")
        # The ICC depends on the data only through sums of row statistics: resamples
        # are counts @ (per-item or per-cluster) sums, and BCa's jackknife is
        # total - per-unit sums, O(n) (bootstrap(sums=True)).
        res = bootstrap(row_statistics(x), partial(_icc_of_sums, k=k), sums=True, n_boot=n_boot, method=ci,
                        confidence=confidence, seed=seed, plan=plan,
                        clusters=None if clusters is None else np.asarray(clusters)[complete])
        columns |= {"ci_low": res.ci_low.tolist(), "ci_high": res.ci_high.tolist(),
                    "ci_method": [CI_METHODS[ci]] * 6, "n_boot": [res.n_boot] * 6,
                    "n_valid": res.n_valid.tolist(),
                    "ci_note": [SEPARATOR.join(t for t in (why, note) if t)
                                for why, note in zip(reasons, res.ci_note.tolist())],
                    "ci_assumes": [f"resampled {res.unit}"] * 6}
    return pl.DataFrame(columns, schema=ICC_SCHEMA)


def f_columns(x: np.ndarray, *, confidence: float = 0.95, n_dropped: int = 0) -> tuple[dict[str, list], list[str]]:
    """The columns of :func:`intraclass_corr` with ``ci="f"`` as plain lists, and why
    each ICC is undefined (``""`` where it is defined).

    For callers that assemble many tables (one frame at the end instead of one per
    rating matrix). ``x`` is a complete ``(n_items, k_raters)`` matrix (at least 2 x 2);
    the values are those of ``intraclass_corr(x, ci="f")``, bit for bit (the same
    functions compute them).
    """
    n, k = x.shape
    if n < 2 or k < 2 or np.isnan(x).any():
        raise ValueError(f"f_columns needs a complete matrix of at least 2 items and 2 raters, got shape {x.shape}"
                         f"{' with NaN' if np.isnan(x).any() else ''}")
    ms = mean_squares(x)
    icc, f, df1, df2, p, lows, highs = _f_tests(ms, n, k, confidence)
    reasons = _undefined_reasons(ms)
    columns = {
        "type": list(ICC_TYPES), "icc": icc.tolist(), "f": f, "df1": df1, "df2": df2, "pval": p,
        "ci_low": lows, "ci_high": highs, "ci_method": [CI_METHODS["f"]] * 6,
        "confidence": [confidence] * 6, "n_items": [n] * 6, "n_raters": [k] * 6,
        "n_dropped": [n_dropped] * 6, "n_boot": [0] * 6, "n_valid": [None] * 6,
        "ci_note": ci_note(lows, highs, estimate=icc, reasons=reasons).tolist(),
        "ci_assumes": [F_ASSUMES[t] for t in ICC_TYPES],
    }
    return columns, reasons
