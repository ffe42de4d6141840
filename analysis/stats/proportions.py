"""Confidence intervals of a single proportion.

Which to use: :func:`wilson_ci` (Wilson 1927) is the default for a share such as "answers
scored <= 2": its coverage stays close to nominal for small n and shares near 0 or 1
(Brown, Cai & DasGupta 2001). :func:`clopper_pearson` (Clopper & Pearson 1934) is exact
(never below nominal coverage, usually above it), what classification papers report
for accuracies. Both treat the n observations as independent; with clustered data
(several answers per conversation) use a cluster bootstrap instead.
"""

from __future__ import annotations

from statsmodels.stats.proportion import proportion_confint


def wilson_ci(count: int, nobs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion, as fractions 0-1 (Wilson 1927)."""
    if nobs == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(count, nobs, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of k successes in n trials (Clopper & Pearson 1934)."""
    from scipy import stats

    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)
