"""Binary verdicts (analysis.stats.verdicts): diagnostic accuracy against sklearn's confusion
matrix and statsmodels' Wilson interval; the Rogan-Gladen prevalence and its interval on
simulated verdicts with known sensitivity, specificity and prevalence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix
from statsmodels.stats.proportion import proportion_confint

from analysis.stats.verdicts import corrected_prevalence, diagnostic_accuracy, rogan_gladen


def test_diagnostic_accuracy_equals_the_confusion_matrix_and_wilson():
    rng = np.random.default_rng(1)
    h = rng.random(300) < 0.3
    j = np.where(h, rng.random(300) < 0.8, rng.random(300) < 0.1)
    d = diagnostic_accuracy(j, h)
    tn, fp, fn, tp = confusion_matrix(h, j).ravel()
    assert (d.tp, d.fp, d.fn, d.tn) == (tp, fp, fn, tn)
    assert d.sensitivity.estimate == tp / (tp + fn) and d.specificity.estimate == tn / (tn + fp)
    assert d.ppv.estimate == tp / (tp + fp) and d.npv.estimate == tn / (tn + fn)
    low, high = proportion_confint(tp, tp + fn, method="wilson")
    assert (d.sensitivity.ci_low, d.sensitivity.ci_high) == pytest.approx((low, high), abs=1e-15)
    assert d.to_frame()["measure"].to_list() == ["sensitivity", "specificity", "ppv", "npv"]


def test_bad_verdicts_are_refused():
    with pytest.raises(ValueError, match="0/1 or booleans"):
        diagnostic_accuracy([0, 2], [0, 1])
    with pytest.raises(ValueError, match="differ in length"):
        diagnostic_accuracy([0, 1, 1], [0, 1])


def test_rogan_gladen_inverts_the_expected_flag_rate():
    for theta, se, sp in [(0.1, 0.9, 0.95), (0.5, 0.7, 0.6), (0.9, 0.99, 0.5)]:
        p = theta * se + (1 - theta) * (1 - sp)
        assert rogan_gladen(p, se, sp) == pytest.approx(theta, abs=1e-14)
    assert math.isnan(rogan_gladen(0.3, 0.5, 0.5))


def _simulate(rng, theta, se, sp, n, m1, m0):
    truth = rng.random(n) < theta
    flags = np.where(truth, rng.random(n) < se, rng.random(n) < 1 - sp)
    cal_h = np.r_[np.ones(m1, bool), np.zeros(m0, bool)]
    cal_j = np.where(cal_h, rng.random(m1 + m0) < se, rng.random(m1 + m0) < 1 - sp)
    return flags, cal_j, cal_h


@pytest.mark.parametrize("theta, se, sp, n, m1, m0", [(0.15, 0.85, 0.9, 2000, 150, 150),
                                                        (0.4, 0.7, 0.95, 1000, 100, 200)])
def test_the_corrected_interval_covers_the_truth_where_the_naive_one_does_not(theta, se, sp, n, m1, m0):
    rng = np.random.default_rng(20261206)
    reps, covered, naive_covered, estimates, ses = 600, 0, 0, [], []
    for _ in range(reps):
        flags, cal_j, cal_h = _simulate(rng, theta, se, sp, n, m1, m0)
        r = corrected_prevalence(flags, cal_j, cal_h)
        covered += r.ci_low <= theta <= r.ci_high
        low, high = proportion_confint(int(flags.sum()), n, method="wilson")
        naive_covered += low <= theta <= high
        estimates.append(r.estimate)
        ses.append(r.se)
    assert covered / reps >= 0.93, covered / reps
    assert naive_covered / reps <= 0.5, naive_covered / reps  # the judge's flag rate is biased
    # the delta-method SE is the spread of the estimate across replications (within 10 %)
    assert np.mean(ses) == pytest.approx(np.std(estimates, ddof=1), rel=0.10)
    assert np.mean(estimates) == pytest.approx(theta, abs=0.01)


def test_undefined_and_clipped_cases_say_why():
    chance = corrected_prevalence([1, 0, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0])
    assert math.isnan(chance.estimate) and "no better than chance" in chance.ci_note
    empty = corrected_prevalence([1, 0], [1, 1], [1, 1])
    assert math.isnan(empty.estimate) and "both classes" in empty.ci_note
    low = corrected_prevalence([1] * 5 + [0] * 95, [1] * 8 + [0] * 2 + [1] * 1 + [0] * 9, [1] * 10 + [0] * 10)
    assert low.estimate == 0.0 and "outside [0, 1], clipped" in low.ci_note and low.ci_low == 0.0
    sure = corrected_prevalence([0] * 50, [1] * 10 + [0] * 10, [1] * 10 + [0] * 10)
    assert sure.se == 0 and "degenerate" in sure.ci_note
