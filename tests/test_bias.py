"""Bias, Bland-Altman and the MSE decomposition against independent references: Bland &
Altman's (1986) published worked example, hand-worked arithmetic, an exact enumeration of
the Wilcoxon signed-rank distribution, statsmodels' t test and scipy's bootstrap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.weightstats import DescrStatsW

from analysis.stats.bias import SIGN, bland_altman, mean_bias, mse_decomposition

RNG = np.random.default_rng(11)
REF = RNG.integers(1, 6, 200).astype(float)
EVAL = np.clip(REF + 0.4 + RNG.normal(0, 0.9, 200), 1, 5)

# Bland, J. M. & Altman, D. G. (1986). Statistical methods for assessing agreement between
# two methods of clinical measurement. Lancet i, 307-310, Table 1: peak expiratory flow
# rate (l/min) of 17 subjects, the first reading with the Wright peak flow meter and with
# the mini Wright meter (the same values are on Bland's page
# https://www-users.york.ac.uk/~mb55/meas/repeated.htm and in R's blandr, qwraps2 `pefr`).
# Published, from d = Wright - mini: mean difference -2.1 l/min, SD 38.8 l/min, limits of
# agreement (mean -/+ 2 SD, from the rounded mean and SD) -79.7 to 75.5; "r = 0.94" for the
# same data (their fig. 1); t = 2.12 on 16 df; SE of a limit sqrt(3 s^2 / n) = 16.3 l/min,
# 95 % CI of the lower limit -114.3 to -45.1 and of the upper limit 40.9 to 110.1.
WRIGHT = np.array([494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427.0])
MINI = np.array([512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451.0])


def test_bland_altman_reproduces_the_lancet_1986_worked_example():
    ba = bland_altman(WRIGHT, MINI)
    # Printed to 1 decimal: a rounding error of at most 0.05.
    assert ba.n == 17
    assert ba.estimate == pytest.approx(-2.1, abs=0.05)
    assert ba.sd == pytest.approx(38.8, abs=0.05)
    # The paper's limits use 2 SD from the rounded mean and SD; ours use z = 1.95996.
    # Recomputed from the printed -2.1 and 38.8 the rounding allows 0.05 + 1.96 * 0.05.
    assert ba.loa_lower == pytest.approx(-2.1 - 1.96 * 38.8, abs=0.15)
    assert ba.loa_upper == pytest.approx(-2.1 + 1.96 * 38.8, abs=0.15)
    # The 2-SD limits the paper prints, from our mean and SD (rounding: 0.05 + 2 * 0.05).
    assert ba.estimate - 2 * ba.sd == pytest.approx(-79.7, abs=0.15)
    assert ba.estimate + 2 * ba.sd == pytest.approx(75.5, abs=0.15)
    # CI of a limit: half-width t * 16.3 = 2.12 * 16.3 = 34.56 in the paper, whose printed
    # interval -114.3 to -45.1 is 69.2 wide; rounding of 16.3 (0.05 * 2.12) and of t (0.005
    # * 16.3) allows 0.19 on the half-width.
    for lo, hi in ((ba.loa_lower_ci_low, ba.loa_lower_ci_high), (ba.loa_upper_ci_low, ba.loa_upper_ci_high)):
        assert (hi - lo) / 2 == pytest.approx(2.12 * 16.3, abs=0.19)
        assert hi - lo == pytest.approx(-45.1 - -114.3, abs=0.4)
        assert (hi - lo) / 2 == pytest.approx((110.1 - 40.9) / 2, abs=0.2)
    assert ba.loa_lower_ci_low < ba.loa_lower < ba.loa_lower_ci_high
    assert ba.loa_upper_ci_low < ba.loa_upper < ba.loa_upper_ci_high
    # CI of the mean difference: the one-sample t interval of the differences, from
    # scipy's t test (an implementation independent of bias.py); the paper's -2.1 -/+ 2.12
    # * 9.4 is -22.0 to 17.8.
    ref = stats.ttest_1samp(WRIGHT - MINI, 0).confidence_interval(0.95)
    assert (ba.ci_low, ba.ci_high) == pytest.approx((ref.low, ref.high), abs=1e-9)
    assert (ba.ci_low, ba.ci_high) == pytest.approx((-22.0, 17.8), abs=0.06)
    np.testing.assert_array_equal(ba.differences, WRIGHT - MINI)
    np.testing.assert_array_equal(ba.means, (WRIGHT + MINI) / 2)
    assert "means" not in ba.summary() and ba.sign == SIGN


def test_bland_altman_confidence_level_moves_z_and_t():
    # 90 %: z = 1.6449, t(16) = 1.7459 (tables); every half-width shrinks by those ratios.
    ba95, ba90 = bland_altman(WRIGHT, MINI), bland_altman(WRIGHT, MINI, confidence=0.90)
    assert (ba90.loa_upper - ba90.estimate) / ba90.sd == pytest.approx(1.6449, abs=1e-4)
    assert (ba95.loa_upper - ba95.estimate) / ba95.sd == pytest.approx(1.9600, abs=1e-4)
    half = lambda ci: (ci[1] - ci[0]) / 2  # noqa: E731
    assert half((ba90.ci_low, ba90.ci_high)) / half((ba95.ci_low, ba95.ci_high)) == pytest.approx(1.7459 / 2.1199, abs=1e-4)
    assert (half((ba90.loa_lower_ci_low, ba90.loa_lower_ci_high))
            / half((ba95.loa_lower_ci_low, ba95.loa_lower_ci_high))) == pytest.approx(1.7459 / 2.1199, abs=1e-4)


# A hand-worked set of 10 differences with one zero: evaluator = reference + D.
D = np.array([1.5, -0.5, 2.0, 0.0, 3.0, -1.0, 2.5, 0.25, 1.25, 4.0])
D_REF = np.array([3, 4, 2, 5, 1, 4, 2, 3, 3, 1.0])


def test_mean_bias_t_test_and_wilcoxon_by_hand():
    r = mean_bias(D_REF + D, D_REF, n_boot=999, seed=1)
    assert r.sign == SIGN and r.n == 10 and r.n_zero_differences == 1
    # mean = 13 / 10 = 1.3; squared deviations .04 + 3.24 + .49 + 1.69 + 2.89 + 5.29 + 1.44
    # + 1.1025 + .0025 + 7.29 = 23.475, s^2 = 23.475 / 9, t = 1.3 / sqrt(23.475 / 90).
    assert r.estimate == pytest.approx(1.3, abs=1e-12)
    assert r.t_statistic == pytest.approx(1.3 / np.sqrt(23.475 / 90), abs=1e-12)
    assert r.t_df == 9
    t_sm, p_sm, df_sm = DescrStatsW(D).ttest_mean(0)  # statsmodels, not scipy
    assert (r.t_statistic, r.pvalue, r.t_df) == pytest.approx((t_sm, p_sm, df_sm), abs=1e-12)
    # Wilcoxon, zero dropped (Wilcoxon 1945): |d| ranks .25->1 .5->2 1->3 1.25->4 1.5->5 2->6
    # 2.5->7 3->8 4->9; negatives -0.5, -1 give T- = 2 + 3 = 5. Subsets of {1..9} summing to
    # <= 5: {}, {1}, {2}, {3}, {1,2}, {4}, {1,3}, {5}, {1,4}, {2,3} = 10 of 2^9, so the exact
    # two-sided p = 2 * 10 / 512.
    assert r.wilcoxon_pvalue == pytest.approx(20 / 512, abs=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_wilcoxon_p_equals_exact_enumeration_of_signs(seed):
    # Distinct non-zero magnitudes (no ties), n = 12: the exact null distribution of T+ is
    # the 4096 equally likely sign patterns, enumerated here.
    rng = np.random.default_rng(seed)
    d = rng.permutation(np.arange(1, 13) * 0.25) * rng.choice([-1, 1], 12, p=[0.3, 0.7])
    r = mean_bias(3 + d, np.full(12, 3.0), n_boot=99, seed=1)
    t_obs = np.arange(1, 13)[np.argsort(np.argsort(np.abs(d)))][d > 0].sum()
    t_all = np.array([sum(k + 1 for k, s in enumerate(signs) if s) for signs in itertools.product((0, 1), repeat=12)])
    p = min(1.0, 2 * min((t_all <= t_obs).mean(), (t_all >= t_obs).mean()))
    assert r.wilcoxon_pvalue == pytest.approx(p, abs=1e-12)
    swapped = mean_bias(np.full(12, 3.0), 3 + d, n_boot=99, seed=1)
    assert swapped.estimate == pytest.approx(-r.estimate) and swapped.t_statistic == pytest.approx(-r.t_statistic)


@pytest.mark.parametrize("method, scipy_method", [("bca", "BCa"), ("percentile", "percentile")])
def test_mean_bias_ci_agrees_with_scipy_within_monte_carlo_error(method, scipy_method):
    ours = mean_bias(EVAL, REF, n_boot=10_000, method=method, seed=3)
    ref = stats.bootstrap((EVAL - REF,), np.mean, n_resamples=10_000, method=scipy_method, rng=4)
    tol = 0.15 * ref.standard_error
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=tol)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=tol)


def test_planted_shift_lies_in_the_interval_at_the_nominal_rate():
    rng = np.random.default_rng(12)
    covered, widths = 0, []
    for _ in range(100):
        ref = rng.normal(3, 1, 60)
        ev = ref + 0.5 + rng.normal(0, 0.8, 60)
        r = mean_bias(ev, ref, n_boot=500, seed=int(rng.integers(1 << 30)), method="percentile")
        covered += r.ci_low <= 0.5 <= r.ci_high
        widths.append(r.ci_high - r.ci_low)
    assert 88 <= covered <= 99  # 95 % nominal; binomial 99.9 % range for 100 trials
    # Expected width 2 * 1.96 * 0.8 / sqrt(60) = 0.405; the mean over 100 runs is within a
    # few percent of it (the percentile interval is slightly narrow at n = 60).
    assert np.mean(widths) == pytest.approx(2 * 1.96 * 0.8 / np.sqrt(60), rel=0.06)


def test_mse_decomposition_by_hand():
    m = mse_decomposition([4, 5, 5, 3], [3, 4, 5, 2])
    # d = 1, 1, 0, 1: MSE = 3/4. Means 17/4 and 7/2: bias^2 = (3/4)^2 = 9/16.
    # Population variances: e deviations -1/4, 3/4, 3/4, -5/4 -> 11/16; r deviations -1/2,
    # 1/2, 3/2, -3/2 -> 5/4; covariance (1/8 + 3/8 + 9/8 + 15/8) / 4 = 7/8.
    # scale = (sqrt(11)/4 - sqrt(5)/2)^2 = 11/16 + 5/4 - sqrt(55)/4 = 31/16 - sqrt(55)/4;
    # correlation = 2 (sqrt(55)/8 - 7/8) = (sqrt(55) - 7)/4; the three add up to 12/16.
    assert m.n == 4
    assert m.mse == pytest.approx(3 / 4, abs=1e-15)
    assert m.bias_sq == pytest.approx(9 / 16, abs=1e-15)
    assert m.scale == pytest.approx(31 / 16 - np.sqrt(55) / 4, abs=1e-14)
    assert m.correlation == pytest.approx((np.sqrt(55) - 7) / 4, abs=1e-14)


def test_mse_decomposition_five_values_negative_correlation_by_hand():
    m = mse_decomposition([1, 2, 3, 4, 5], [5, 3, 3, 3, 1])
    # d = -4, -1, 0, 1, 4: MSE = 34/5. Means 3 and 3: bias^2 = 0.
    # e: population variance 10/5 = 2; r: deviations 2, 0, 0, 0, -2 -> 8/5; covariance
    # (-2*2 + 0 + 0 + 0 + 2*-2) / 5 = -8/5. scale = (sqrt(2) - sqrt(8/5))^2 = 18/5 -
    # 2 sqrt(16/5) = 18/5 - 8/sqrt(5); correlation = 2 (sqrt(16/5) + 8/5) = 8/sqrt(5) + 16/5.
    assert m.mse == pytest.approx(34 / 5, abs=1e-14)
    assert m.bias_sq == pytest.approx(0, abs=1e-15)
    assert m.scale == pytest.approx(18 / 5 - 8 / np.sqrt(5), abs=1e-14)
    assert m.correlation == pytest.approx(8 / np.sqrt(5) + 16 / 5, abs=1e-14)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 5), st.floats(1, 5)), min_size=3, max_size=60))
def test_mse_decomposition_matches_theils_textbook_form(pairs):
    # Theil's form with Pearson's r from scipy: 2 s_e s_r (1 - r), computed differently
    # from the code's 2 (s_e s_r - cov); the MSE as the mean of squared differences.
    e, r = np.array(pairs).T
    m = mse_decomposition(e, r)
    assert m.mse == pytest.approx(np.mean([(a - b) ** 2 for a, b in pairs]), rel=1e-9, abs=1e-12)
    se, sr = np.std(e), np.std(r)
    if se > 1e-6 and sr > 1e-6:
        rho = stats.pearsonr(e, r).statistic
        assert m.correlation == pytest.approx(2 * se * sr * (1 - rho), rel=1e-6, abs=1e-9)
    assert m.bias_sq >= 0 and m.scale >= 0 and m.correlation >= -1e-12


@pytest.mark.parametrize("args, msg", [
    (([1, 2], [1]), "same items"),
    (([1], [1]), "at least 2"),
    (([1, np.nan], [1, 2]), "finite"),
])
def test_bad_input_gets_clear_errors(args, msg):
    with pytest.raises(ValueError, match=msg):
        mse_decomposition(*args)


def test_result_convention_old_names_warn_and_frames_are_accepted():
    import polars as pl

    r = mean_bias(D_REF + D, D_REF, n_boot=99, seed=1)
    ba = bland_altman(WRIGHT, MINI)
    for obj, old, new in ((r, "bias", "estimate"), (r, "t_pval", "pvalue"), (r, "wilcoxon_pval", "wilcoxon_pvalue"),
                          (ba, "bias", "estimate")):
        with pytest.warns(DeprecationWarning, match=f"{type(obj).__name__}.{old}"):
            assert getattr(obj, old) == getattr(obj, new)
    for old, new in (("bias_ci", ("ci_low", "ci_high")), ("loa_lower_ci", ("loa_lower_ci_low", "loa_lower_ci_high")),
                     ("loa_upper_ci", ("loa_upper_ci_low", "loa_upper_ci_high"))):
        with pytest.warns(DeprecationWarning, match=f"BlandAltman.{old}"):
            assert getattr(ba, old) == tuple(getattr(ba, k) for k in new)
    # Bland-Altman's p-value is the one-sample t test its interval inverts (scipy, independent code)
    assert ba.pvalue == pytest.approx(stats.ttest_1samp(WRIGHT - MINI, 0).pvalue, abs=1e-12)
    head = ["estimate", "ci_low", "ci_high", "pvalue", "n", "confidence", "ci_note"]
    assert r.to_frame().columns[:7] == head and ba.to_frame().columns[:7] == head
    assert "means" not in ba.to_frame().columns
    # numpy, polars and pandas input give the same result
    e, ref = D_REF + D, D_REF
    same = mean_bias(pl.Series(e), pl.Series(ref), n_boot=99, seed=1)
    assert same == r
    with pytest.raises(ValueError, match="confidence"):
        mean_bias(e, ref, n_boot=99, seed=1, confidence=95)
