"""Bias, Bland-Altman and the MSE decomposition: exact identities, scipy references,
and recovery of a planted shift."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.bias import SIGN, bland_altman, mean_bias, mse_decomposition

RNG = np.random.default_rng(11)
REF = RNG.integers(1, 6, 200).astype(float)
EVAL = np.clip(REF + 0.4 + RNG.normal(0, 0.9, 200), 1, 5)


def test_mean_bias_sign_value_and_tests():
    r = mean_bias(EVAL, REF, n_boot=2000, seed=1)
    d = EVAL - REF
    assert r.sign == SIGN == "evaluator − reference"
    assert r.bias == pytest.approx(d.mean()) and r.n == 200
    assert r.ci_low < r.bias < r.ci_high
    t = stats.ttest_rel(EVAL, REF)
    assert r.t_statistic == pytest.approx(t.statistic) and r.t_pval == pytest.approx(t.pvalue) and r.t_df == 199
    assert r.wilcoxon_pval == pytest.approx(stats.wilcoxon(d, zero_method="wilcox").pvalue)
    swapped = mean_bias(REF, EVAL, n_boot=2000, seed=1)
    assert swapped.bias == pytest.approx(-r.bias)


@pytest.mark.parametrize("method, scipy_method", [("bca", "BCa"), ("percentile", "percentile")])
def test_mean_bias_ci_agrees_with_scipy_within_monte_carlo_error(method, scipy_method):
    ours = mean_bias(EVAL, REF, n_boot=10_000, method=method, seed=3)
    ref = stats.bootstrap((EVAL - REF,), np.mean, n_resamples=10_000, method=scipy_method, rng=4)
    tol = 0.15 * ref.standard_error
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=tol)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=tol)


def test_planted_shift_lies_in_the_interval_at_the_nominal_rate():
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(100):
        ref = rng.normal(3, 1, 60)
        ev = ref + 0.5 + rng.normal(0, 0.8, 60)
        r = mean_bias(ev, ref, n_boot=500, seed=int(rng.integers(1 << 30)), method="percentile")
        covered += r.ci_low <= 0.5 <= r.ci_high
    assert 88 <= covered <= 99  # 95 % nominal; binomial 99.9 % range for 100 trials


def test_bland_altman_by_formula():
    ba = bland_altman(EVAL, REF)
    d = EVAL - REF
    sd = d.std(ddof=1)
    z, t = stats.norm.ppf(0.975), stats.t.ppf(0.975, 199)
    assert ba.bias == pytest.approx(d.mean()) and ba.sd == pytest.approx(sd)
    assert ba.loa_lower == pytest.approx(d.mean() - z * sd) and ba.loa_upper == pytest.approx(d.mean() + z * sd)
    assert ba.bias_ci[0] == pytest.approx(d.mean() - t * sd / np.sqrt(200))
    assert ba.loa_upper_ci[1] == pytest.approx(d.mean() + z * sd + t * np.sqrt(3 * sd**2 / 200))
    np.testing.assert_allclose(ba.means, (EVAL + REF) / 2)
    assert "means" not in ba.summary()


def test_mse_decomposition_by_hand():
    m = mse_decomposition([4, 5, 5, 3], [3, 4, 5, 2])
    # means 4.25, 3.5; population SDs sqrt(0.6875), sqrt(1.25); covariance 0.875
    se, sr = np.sqrt(0.6875), np.sqrt(1.25)
    assert m.mse == pytest.approx(0.75) and m.bias_sq == pytest.approx(0.5625)
    assert m.scale == pytest.approx((se - sr) ** 2)
    assert m.correlation == pytest.approx(2 * (se * sr - 0.875))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 5), st.floats(1, 5)), min_size=2, max_size=60))
def test_mse_decomposition_adds_up_exactly(pairs):
    e, r = np.array(pairs).T
    m = mse_decomposition(e, r)
    assert m.bias_sq + m.scale + m.correlation == pytest.approx(m.mse, abs=1e-12)
    assert m.bias_sq >= 0 and m.scale >= 0 and m.correlation >= -1e-12


@pytest.mark.parametrize("args, msg", [
    (([1, 2], [1]), "same items"),
    (([1], [1]), "at least 2"),
    (([1, np.nan], [1, 2]), "finite"),
])
def test_bad_input_gets_clear_errors(args, msg):
    with pytest.raises(ValueError, match=msg):
        mse_decomposition(*args)
