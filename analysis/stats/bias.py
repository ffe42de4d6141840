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

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.result import Result, check_confidence, deprecated_alias, renamed_field

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
class BiasResult(Result):
    """Mean difference ``evaluator − reference`` (points) with CI and paired tests.

    ``estimate``: the bias in points; ``ci_low``/``ci_high``: bootstrap interval
    (``ci_method``); ``pvalue``: paired t test (``t_statistic``, ``t_df``);
    ``wilcoxon_pvalue``: Wilcoxon signed-rank test; ``n``: pairs; ``n_valid``: finite
    bootstrap replicates. Old names (``bias``, ``t_pval``, ``wilcoxon_pval``) warn and will go.
    """

    ci_method: str = ""
    t_statistic: float = math.nan
    t_df: int = 0
    wilcoxon_pvalue: float = math.nan
    n_zero_differences: int = 0
    sign: str = SIGN
    n_valid: int | None = None

    bias = renamed_field("bias", "estimate")
    t_pval = renamed_field("t_pval", "pvalue")
    wilcoxon_pval = renamed_field("wilcoxon_pval", "wilcoxon_pvalue")


def mean_bias(evaluator, reference, *, n_boot: int | None = None, method: str = "bca", confidence: float = 0.95,
              seed=None, clusters=None, plan: ResamplePlan | None = None) -> BiasResult:
    """Signed mean difference ``mean(evaluator − reference)`` with a bootstrap CI.

    Parameters
    ----------
    evaluator, reference : array_like, shape (n,)
        Scores of the same n items (numpy arrays, lists, polars or pandas series).
    n_boot, method, confidence, seed, clusters, plan
        Passed to :func:`analysis.stats.bootstrap.bootstrap` (BCa over items by default,
        2000 resamples; ``clusters`` resamples whole conversations; ``plan`` shares one
        draw of resamples with other statistics). The mean is a statistic of the
        per-unit sums ``(1, difference)``, so BCa's jackknife is O(n).

    Returns
    -------
    BiasResult
        ``estimate``: the bias in points; ``pvalue``, ``t_statistic``, ``t_df``: paired t
        test (``scipy.stats.ttest_rel``); ``wilcoxon_pvalue``: Wilcoxon signed-rank test (``zero_method="wilcox"``: the
        ``n_zero_differences`` tied pairs are dropped from that test only; NaN if all
        differences are zero); ``n_valid``: finite bootstrap replicates; ``ci_note``:
        caveats of the interval (:mod:`analysis.stats.intervals`).

    Examples
    --------
    >>> r = mean_bias([4, 5, 5, 3, 4, 5], [3, 4, 5, 2, 4, 4], n_boot=999, seed=1)
    >>> r.estimate, r.sign, r.ci_note
    (0.6666666666666666, 'evaluator − reference', 'too few items')
    """
    confidence = check_confidence(confidence)
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
    return BiasResult(estimate=float(d.mean()), ci_low=float(res.ci_low), ci_high=float(res.ci_high), pvalue=t_p,
                      n=int(d.size), confidence=confidence, ci_note=str(res.ci_note),
                      ci_method={"bca": "BCa", "percentile": "percentile"}[method], t_statistic=t_stat,
                      t_df=int(d.size - 1), wilcoxon_pvalue=w_p, n_zero_differences=zeros, n_valid=int(res.n_valid))


@dataclass(frozen=True)
class BlandAltman(Result):
    """Bland-Altman statistics; differences are ``evaluator − reference`` (points).

    ``estimate``: the bias (mean difference) with its t interval ``ci_low``/``ci_high``
    (bias +/- t * sd / sqrt(n)) and ``pvalue`` (two-sided one-sample t test of bias = 0,
    the test that interval inverts); ``n``: pairs. ``loa_lower``/``loa_upper`` = bias -/+
    z * sd with z = Phi^-1(1 - alpha/2) (1.959964 for 95%), their CIs ``loa_lower_ci_low``
    ... = limit +/- t * sqrt(3 sd^2 / n) (Bland & Altman 1999, sec. 3.1),
    t = t_{n-1, 1 - alpha/2}, alpha = 1 - confidence. Old names (``bias``, the tuples
    ``bias_ci``, ``loa_lower_ci``, ``loa_upper_ci``) warn and will go.
    """

    sd: float = math.nan
    loa_lower: float = math.nan
    loa_upper: float = math.nan
    loa_lower_ci_low: float = math.nan
    loa_lower_ci_high: float = math.nan
    loa_upper_ci_low: float = math.nan
    loa_upper_ci_high: float = math.nan
    means: np.ndarray = field(default=None, repr=False, compare=False)
    differences: np.ndarray = field(default=None, repr=False, compare=False)
    sign: str = SIGN

    bias = renamed_field("bias", "estimate")

    @property
    def bias_ci(self) -> tuple[float, float]:
        deprecated_alias("BlandAltman.bias_ci", "(BlandAltman.ci_low, BlandAltman.ci_high)")
        return (self.ci_low, self.ci_high)

    @property
    def loa_lower_ci(self) -> tuple[float, float]:
        deprecated_alias("BlandAltman.loa_lower_ci", "(loa_lower_ci_low, loa_lower_ci_high)")
        return (self.loa_lower_ci_low, self.loa_lower_ci_high)

    @property
    def loa_upper_ci(self) -> tuple[float, float]:
        deprecated_alias("BlandAltman.loa_upper_ci", "(loa_upper_ci_low, loa_upper_ci_high)")
        return (self.loa_upper_ci_low, self.loa_upper_ci_high)

    def summary(self) -> dict:
        """The scalar fields (without the plotting arrays)."""
        return self.to_dict()

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
    >>> round(ba.estimate, 4), round(ba.loa_lower, 4), round(ba.loa_upper, 4)
    (0.6667, -0.3455, 1.6788)
    """
    confidence = check_confidence(confidence)
    e, r = _differences(evaluator, reference)
    d = e - r
    n = d.size
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    alpha = 1 - confidence
    z = float(stats.norm.ppf(1 - alpha / 2))
    t = float(stats.t.ppf(1 - alpha / 2, n - 1))
    lo, hi = bias - z * sd, bias + z * sd
    se_bias, se_loa = sd / math.sqrt(n), math.sqrt(3 * sd**2 / n)
    if se_bias > 0:
        pvalue = float(2 * stats.t.sf(abs(bias / se_bias), n - 1))
    else:
        pvalue = float("nan") if bias == 0 else 0.0
    return BlandAltman(
        estimate=bias, ci_low=bias - t * se_bias, ci_high=bias + t * se_bias, pvalue=pvalue, n=n,
        confidence=confidence, sd=sd, loa_lower=lo, loa_upper=hi,
        loa_lower_ci_low=lo - t * se_loa, loa_lower_ci_high=lo + t * se_loa,
        loa_upper_ci_low=hi - t * se_loa, loa_upper_ci_high=hi + t * se_loa,
        means=(e + r) / 2, differences=d,
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
