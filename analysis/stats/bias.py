"""Systematic differences between an evaluator and a reference (a human, or the human mean).

Sign and unit, everywhere: ``difference = evaluator - reference``, in points on the
rating scale (1-5 here). A positive bias means the evaluator rates answers as more
appropriate than the reference does (lenient); negative, harsher.

* :func:`mean_bias`: the mean difference with a bootstrap CI (over items, or clusters)
  and two paired tests (t test; Wilcoxon signed-rank).
* :func:`bland_altman`: limits of agreement, the range holding 95% of the differences
  for a single answer, with their CIs (Bland & Altman 1986, 1999).
* :func:`mse_decomposition`: mean squared difference = bias^2 + scale + correlation
  parts, which add up exactly (Kobayashi & Salam 2000; Theil 1966).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from analysis.stats.bootstrap import ResamplePlan, bootstrap

SIGN = "evaluator − reference"


def _differences(evaluator, reference) -> tuple[np.ndarray, np.ndarray]:
    e, r = np.asarray(evaluator, dtype=float).ravel(), np.asarray(reference, dtype=float).ravel()
    if e.shape != r.shape:
        raise ValueError(f"evaluator and reference must score the same items: {e.size} vs {r.size} scores")
    if e.size < 2:
        raise ValueError(f"need at least 2 paired scores, got {e.size}")
    if not (np.isfinite(e).all() and np.isfinite(r).all()):
        raise ValueError("scores must be finite: drop items missing either score first")
    return e, r


def _ratio_of_sums(units: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean difference of a resample from per-unit (count, sum) pairs (generic path)."""
    sums = weights @ units
    return sums[:, 1] / sums[:, 0]


def _mean_of_sums(sums: np.ndarray) -> np.ndarray:
    """Mean difference from summed (count, sum of differences): ``bootstrap(sums=True)``."""
    return sums[..., 1] / sums[..., 0]


@dataclass(frozen=True)
class BiasResult:
    """Mean difference ``evaluator − reference`` (points) with CI and paired tests."""

    n: int
    bias: float
    ci_low: float
    ci_high: float
    ci_method: str
    confidence: float
    t_statistic: float
    t_df: int
    t_pval: float
    wilcoxon_pval: float
    n_zero_differences: int
    sign: str = SIGN
    n_valid: int | None = None
    ci_note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def mean_bias(evaluator, reference, *, n_boot: int | None = None, method: str = "bca", confidence: float = 0.95,
              seed=None, clusters=None, plan: ResamplePlan | None = None) -> BiasResult:
    """Signed mean difference ``mean(evaluator − reference)`` with a bootstrap CI.

    Parameters
    ----------
    evaluator, reference : array_like, shape (n,)
        Scores of the same n items.
    n_boot, method, confidence, seed, clusters, plan
        Passed to :func:`analysis.stats.bootstrap.bootstrap` (BCa over items by default,
        2000 resamples; ``clusters`` resamples whole conversations; ``plan`` shares one
        draw of resamples with other statistics). The mean is a statistic of the
        per-unit sums ``(1, difference)``, so BCa's jackknife is O(n).

    Returns
    -------
    BiasResult
        ``bias`` in points; ``t_*``: paired t test (``scipy.stats.ttest_rel``);
        ``wilcoxon_pval``: Wilcoxon signed-rank test (``zero_method="wilcox"``: the
        ``n_zero_differences`` tied pairs are dropped from that test only; NaN if all
        differences are zero); ``n_valid``: finite bootstrap replicates; ``ci_note``:
        caveats of the interval (:mod:`analysis.stats.intervals`).

    Examples
    --------
    >>> r = mean_bias([4, 5, 5, 3, 4, 5], [3, 4, 5, 2, 4, 4], n_boot=999, seed=1)
    >>> r.bias, r.sign, r.ci_note
    (0.6666666666666666, 'evaluator − reference', 'too few items')
    """
    e, r = _differences(evaluator, reference)
    d = e - r
    # Per-unit (count, sum of differences): a resample is counts @ units (per cluster
    # when clusters are given), the jackknife total - units[i].
    units = np.column_stack([np.ones_like(d), d])
    res = bootstrap(units, _mean_of_sums, sums=True, n_boot=n_boot, method=method, confidence=confidence,
                    seed=seed, clusters=clusters, plan=plan)
    zeros = int((d == 0).sum())
    if np.all(d == d[0]):
        t_stat, t_p = (float("nan"), float("nan"))
    else:
        t = stats.ttest_rel(e, r)
        t_stat, t_p = float(t.statistic), float(t.pvalue)
    w_p = float(stats.wilcoxon(d, zero_method="wilcox").pvalue) if zeros < d.size else float("nan")
    return BiasResult(n=int(d.size), bias=float(d.mean()), ci_low=float(res.ci_low), ci_high=float(res.ci_high),
                      ci_method={"bca": "BCa", "percentile": "percentile"}[method], confidence=confidence,
                      t_statistic=t_stat, t_df=int(d.size - 1), t_pval=t_p, wilcoxon_pval=w_p,
                      n_zero_differences=zeros, n_valid=int(res.n_valid), ci_note=str(res.ci_note))


@dataclass(frozen=True)
class BlandAltman:
    """Bland-Altman statistics; differences are ``evaluator − reference`` (points).

    ``loa_lower``/``loa_upper`` = bias -/+ z * sd with z = Phi^-1(1 - alpha/2) (1.959964
    for 95%). CIs: bias +/- t * sd / sqrt(n); limits +/- t * sqrt(3 sd^2 / n)
    (Bland & Altman 1999, sec. 3.1), t = t_{n-1, 1 - alpha/2}.
    """

    n: int
    bias: float
    sd: float
    loa_lower: float
    loa_upper: float
    bias_ci: tuple[float, float]
    loa_lower_ci: tuple[float, float]
    loa_upper_ci: tuple[float, float]
    confidence: float
    means: np.ndarray
    differences: np.ndarray
    sign: str = SIGN

    def summary(self) -> dict:
        """The scalar fields (without the plotting arrays)."""
        return {k: v for k, v in asdict(self).items() if k not in ("means", "differences")}

    def __repr__(self) -> str:
        return f"BlandAltman({self.summary()})"


def bland_altman(evaluator, reference, confidence: float = 0.95) -> BlandAltman:
    """Bland-Altman limits of agreement with their confidence intervals.

    References
    ----------
    Bland, J. M. & Altman, D. G. (1986). Statistical methods for assessing agreement
    between two methods of clinical measurement. Lancet i, 307-310.
    Bland, J. M. & Altman, D. G. (1999). Measuring agreement in method comparison
    studies. Statistical Methods in Medical Research 8, 135-160.

    Examples
    --------
    >>> ba = bland_altman([4, 5, 5, 3, 4, 5], [3, 4, 5, 2, 4, 4])
    >>> round(ba.bias, 4), round(ba.loa_lower, 4), round(ba.loa_upper, 4)
    (0.6667, -0.3455, 1.6788)
    """
    e, r = _differences(evaluator, reference)
    d = e - r
    n = d.size
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    alpha = 1 - confidence
    z = float(stats.norm.ppf(1 - alpha / 2))
    t = float(stats.t.ppf(1 - alpha / 2, n - 1))
    lo, hi = bias - z * sd, bias + z * sd
    se_bias, se_loa = sd / np.sqrt(n), np.sqrt(3 * sd**2 / n)
    return BlandAltman(
        n=n, bias=bias, sd=sd, loa_lower=lo, loa_upper=hi,
        bias_ci=(bias - t * se_bias, bias + t * se_bias),
        loa_lower_ci=(lo - t * se_loa, lo + t * se_loa), loa_upper_ci=(hi - t * se_loa, hi + t * se_loa),
        confidence=confidence, means=(e + r) / 2, differences=d,
    )


@dataclass(frozen=True)
class MSEDecomposition:
    """``mse = bias_sq + scale + correlation`` (points squared), exactly.

    bias_sq = (mean_e - mean_r)^2; scale = (sd_e - sd_r)^2;
    correlation = 2 sd_e sd_r (1 - r_er), population SDs (divisor n).
    """

    n: int
    mse: float
    bias_sq: float
    scale: float
    correlation: float

    def to_dict(self) -> dict:
        return asdict(self)


def mse_decomposition(evaluator, reference) -> MSEDecomposition:
    """Split the mean squared difference into bias, scale and correlation parts.

    ``mean((e - r)^2) = (mean e - mean r)^2 + (s_e - s_r)^2 + 2 s_e s_r (1 - r)`` with
    population SDs ``s`` and Pearson's ``r``; the parts are computed so that they add
    up to the MSE to floating-point precision (``2 s_e s_r (1 - r)`` as
    ``2 (s_e s_r - cov)``, defined even when an SD is zero).

    References
    ----------
    Kobayashi, K. & Salam, M. U. (2000). Comparing simulated and measured values using
    mean squared deviation and its components. Agronomy Journal 92, 345-352.
    Theil, H. (1966). Applied Economic Forecasting.

    Examples
    --------
    >>> m = mse_decomposition([4, 5, 5, 3], [3, 4, 5, 2])
    >>> m.mse, round(m.bias_sq + m.scale + m.correlation, 12)
    (0.75, 0.75)
    """
    e, r = _differences(evaluator, reference)
    se, sr = e.std(), r.std()
    cov = float(np.mean((e - e.mean()) * (r - r.mean())))
    return MSEDecomposition(
        n=int(e.size), mse=float(np.mean((e - r) ** 2)), bias_sq=float((e.mean() - r.mean()) ** 2),
        scale=float((se - sr) ** 2), correlation=float(2 * (se * sr - cov)),
    )
