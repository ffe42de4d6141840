"""Intervals of a single proportion against Newcombe's (1998) published table and against
their definitions solved numerically (Wilson's quadratic; Clopper-Pearson's binomial tails)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from analysis.stats.proportions import clopper_pearson, wilson_ci

# Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
# comparison of seven methods. Statistics in Medicine 17, 857-872, Table I: 95 % intervals
# for four examples; method 3 (Wilson score, no continuity correction) and method 5
# (Clopper-Pearson "exact"), printed to 4 decimals.
NEWCOMBE = [
    # k, n, Wilson (method 3), Clopper-Pearson (method 5)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("k, n, wilson, exact", NEWCOMBE)
def test_newcombe_1998_table_1(k, n, wilson, exact):
    # Printed to 4 decimals: at most 5e-5 of rounding.
    assert wilson_ci(k, n) == pytest.approx(wilson, abs=5e-5)
    assert clopper_pearson(k, n) == pytest.approx(exact, abs=5e-5)


def _wilson_by_quadratic(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson (1927): the p with (p_hat - p)^2 = z^2 p (1 - p) / n, the two roots of
    (1 + z^2/n) p^2 - (2 p_hat + z^2/n) p + p_hat^2 = 0."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    ph = k / n
    a, b, c = 1 + z * z / n, -(2 * ph + z * z / n), ph * ph
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


def _clopper_pearson_by_tails(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Clopper & Pearson (1934): the p at which the binomial tail beyond k is alpha/2,
    found by root search on the binomial distribution (not the beta quantiles)."""
    half = (1 - confidence) / 2
    lo = 0.0 if k == 0 else optimize.brentq(lambda p: stats.binom.sf(k - 1, n, p) - half, 1e-12, 1 - 1e-12,
                                            xtol=1e-14)
    hi = 1.0 if k == n else optimize.brentq(lambda p: stats.binom.cdf(k, n, p) - half, 1e-12, 1 - 1e-12,
                                            xtol=1e-14)
    return lo, hi


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (0, 7), (3, 7), (7, 7), (12, 40), (39, 40), (250, 1000)])
def test_definitions_solved_numerically(k, n, confidence):
    assert wilson_ci(k, n, confidence) == pytest.approx(_wilson_by_quadratic(k, n, confidence), abs=1e-12)
    assert clopper_pearson(k, n, confidence) == pytest.approx(_clopper_pearson_by_tails(k, n, confidence), abs=1e-9)


def test_exact_interval_never_covers_less_than_nominal():
    # Clopper-Pearson guarantees coverage >= 95 % at every p; Wilson's oscillates around it
    # (Brown, Cai & DasGupta 2001, fig. 5). Exact coverage at n = 30 over a grid of p.
    n, ks = 30, np.arange(31)
    cp = np.array([clopper_pearson(int(k), n) for k in ks])
    wi = np.array([wilson_ci(int(k), n) for k in ks])
    cov_cp, cov_wi = [], []
    for p in np.linspace(0.02, 0.98, 97):
        pmf = stats.binom.pmf(ks, n, p)
        cov_cp.append(pmf[(cp[:, 0] <= p) & (p <= cp[:, 1])].sum())
        cov_wi.append(pmf[(wi[:, 0] <= p) & (p <= wi[:, 1])].sum())
    assert min(cov_cp) >= 0.95 - 1e-12
    assert min(cov_wi) < 0.95 < max(cov_wi) and np.mean(cov_wi) == pytest.approx(0.95, abs=0.01)


def test_no_observations_give_nan():
    assert all(math.isnan(v) for v in wilson_ci(0, 0)) and all(math.isnan(v) for v in clopper_pearson(0, 0))


def test_one_signature_and_the_old_keywords_warn():
    assert wilson_ci(k=3, n=10, confidence=0.9) == wilson_ci(3, 10, 0.9)
    assert clopper_pearson(k=3, n=10, confidence=0.9) == clopper_pearson(3, 10, 0.9)
    with pytest.warns(DeprecationWarning, match=r"wilson_ci\(count=\)"):
        old = wilson_ci(count=3, nobs=10)
    assert old == wilson_ci(3, 10)
    for bad in ((11, 10), (-1, 10)):
        with pytest.raises(ValueError, match="k <= n"):
            wilson_ci(*bad)
        with pytest.raises(ValueError, match="k <= n"):
            clopper_pearson(*bad)
    with pytest.raises(ValueError, match="confidence"):
        wilson_ci(3, 10, 95)
