"""Confidence intervals of a single proportion.

Which to use: :func:`wilson_ci` (Wilson 1927) is the default for a share such as "answers
scored <= 2": its coverage stays close to nominal for small n and shares near 0 or 1
(Brown, Cai & DasGupta 2001). :func:`clopper_pearson` (Clopper & Pearson 1934) is exact
(never below nominal coverage, usually above it), what classification papers report
for accuracies. Both treat the n observations as independent; with clustered data
(several answers per conversation) use a cluster bootstrap instead.

Both take ``(k, n, confidence=0.95)`` (successes, trials, level) and return the bounds
``(ci_low, ci_high)``; ``k > n`` or a negative count is refused.
"""

from __future__ import annotations

from statsmodels.stats.proportion import proportion_confint

from analysis.stats.result import check_confidence, renamed_keywords

__all__ = ["clopper_pearson", "wilson_ci"]


def _k_n(k, n, where: str) -> tuple[int, int]:
    k, n = int(k), int(n)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"{where}: need 0 <= k <= n, got k={k}, n={n}")
    return k, n


@renamed_keywords(count="k", nobs="n")
def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval ``(ci_low, ci_high)`` of ``k`` successes in ``n`` trials, as
    fractions 0-1 (Wilson 1927; ``statsmodels`` ``proportion_confint(method="wilson")``).
    NaN for ``n = 0``. ``count=``/``nobs=`` are the old names of ``k``/``n`` (they warn).

    Examples
    --------
    >>> [round(v, 4) for v in wilson_ci(3, 10)]
    [0.1078, 0.6032]
    """
    k, n = _k_n(k, n, "wilson_ci")
    confidence = check_confidence(confidence)
    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval ``(ci_low, ci_high)`` of ``k`` successes in ``n`` trials
    (Clopper & Pearson 1934; ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``).
    NaN for ``n = 0``.

    Examples
    --------
    >>> [round(v, 4) for v in clopper_pearson(3, 10)]
    [0.0667, 0.6525]
    """
    from scipy import stats

    k, n = _k_n(k, n, "clopper_pearson")
    confidence = check_confidence(confidence)
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)
