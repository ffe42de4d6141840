"""Agreement measures against sklearn, statsmodels, the krippendorff package,
Krippendorff's (2011) and Bland & Altman's (1986) published examples, a published Spearman
example, and Lin's CCC in exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from analysis.stats import agreement as ag

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders
# x 12 units with missing values; published alpha nominal 0.743, interval 0.849,
# ordinal 0.815.
K2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]).T


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("interval", 0.849), ("ordinal", 0.815)])
def test_krippendorff_alpha_published_example(level, published):
    ours = ag.krippendorff_alpha(K2011, level)
    assert ours == pytest.approx(published, abs=5e-4)
    assert ours == pytest.approx(krippendorff.alpha(reliability_data=K2011.T, level_of_measurement=level), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", ["interval", "ordinal", "nominal"])
def test_krippendorff_alpha_matches_package_with_missing_values(seed, level):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(int(rng.integers(10, 80)), int(rng.integers(2, 5)))).astype(float)
    if seed % 2:  # non-integer values, as means of evaluation runs are
        x = np.round(x + rng.choice([0, 1 / 3, 2 / 3], size=x.shape), 10)
    x[rng.random(x.shape) < 0.15] = np.nan
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert ag.krippendorff_alpha(x, level) == pytest.approx(ref, abs=1e-10)


def test_mae_rmse_within_one_by_hand():
    x, y = np.array([1, 2, 3, 4, 5.0]), np.array([2, 2, 5, 4, 1.0])
    assert ag.mae(x, y) == pytest.approx((1 + 0 + 2 + 0 + 4) / 5)
    assert ag.rmse(x, y) == pytest.approx(np.sqrt((1 + 0 + 4 + 0 + 16) / 5))
    assert ag.within_one_pct(x, y) == pytest.approx(60.0)


def test_within_one_float_tolerance():
    a, b = np.array([14 / 3, 3.0]), np.array([11 / 3, 3.0])
    assert abs(a[0] - b[0]) > 1  # the float difference lands just above 1
    assert ag.within_one_pct(a, b) == 50.0
    assert ag.within_one_pct(a, b, float_tolerance=ag.FLOAT_TOLERANCE) == 100.0


@pytest.mark.parametrize("seed", range(4))
def test_quadratic_weighted_kappa_matches_sklearn_after_half_up_rounding(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(3, 16, 150) / 3  # 1, 1.33, ..., 5
    y = np.clip(x + rng.normal(0, 0.8, 150), 1, 5)
    expected = cohen_kappa_score(np.floor(x + 0.5).astype(int), np.floor(y + 0.5).astype(int), weights="quadratic",
                                 labels=[1, 2, 3, 4, 5])
    assert ag.quadratic_weighted_kappa(x, y) == pytest.approx(expected, abs=1e-12)


def test_round_half_up_is_not_bankers_rounding():
    assert ag.round_half_up([2.5, 3.5, 4.5, 0.2, 7]).tolist() == [3, 4, 5, 1, 5]


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(weights):
    rng = np.random.default_rng(3)
    a = rng.choice(["safe", "nonsense", "preachment", "toxic"], 200)
    b = np.where(rng.random(200) < 0.6, a, rng.choice(["safe", "nonsense", "preachment", "toxic"], 200))
    labels = ["nonsense", "preachment", "safe", "toxic"]
    assert ag.cohen_kappa(a, b, labels=labels, weights=weights) == pytest.approx(
        cohen_kappa_score(a, b, labels=labels, weights=weights), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_kappa_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 8, 120)
    labels = np.where(rng.random((120, 5)) < 0.7, truth[:, None], rng.integers(0, 8, (120, 5)))
    assert ag.fleiss_kappa(labels) == pytest.approx(sm_fleiss(aggregate_raters(labels)[0]), abs=1e-12)


def test_fleiss_kappa_refuses_missing_labels():
    with pytest.raises(ValueError, match="no missing labels"):
        ag.fleiss_kappa([[1, None], [2, 2]])


# Bland & Altman (1986, Lancet i, 307-310), Table 1: PEFR (l/min), first reading with the
# Wright and the mini Wright meter; the paper prints r = 0.94 for these pairs (fig. 1).
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_pearson_published_and_by_hand():
    assert ag.pearson(WRIGHT, MINI) == pytest.approx(0.94, abs=0.005)  # printed to 2 decimals
    # x deviations -2..2, y = 2, 1, 4, 3, 5 deviations -1, -2, 1, 0, 2: sum of products 8,
    # sums of squares 10 and 10, r = 8 / 10.
    assert ag.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8, abs=1e-15)
    assert np.isnan(ag.pearson([1, 2, 3], [2, 2, 2]))


def test_spearman_published_example_and_ties_by_hand():
    # Wikipedia, "Spearman's rank correlation coefficient", worked example (IQ against hours
    # of television a week, 10 people, no ties): sum d^2 = 194, rho = 1 - 6*194/(10*99)
    # = -29/165.
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert ag.spearman(iq, tv) == pytest.approx(-29 / 165, abs=1e-15)
    # Ties get average ranks: x ranks 1, 2.5, 2.5, 4 and y ranks 1, 3, 2, 4; Pearson of the
    # ranks = 4.5 / sqrt(4.5 * 5) = sqrt(0.9).
    assert ag.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(np.sqrt(0.9), abs=1e-15)


def _ccc_exact(x, y) -> Fraction:
    """Lin (1989), eq. 3 written as 1 - (mean squared difference) / (its value under
    independence), in exact rational arithmetic from sums of powers."""
    n = len(x)
    sx, sy = sum(map(Fraction, x)), sum(map(Fraction, y))
    sxx, syy = sum(Fraction(a) ** 2 for a in x), sum(Fraction(b) ** 2 for b in y)
    msd = sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(x, y)) / n
    vx, vy = sxx / n - (sx / n) ** 2, syy / n - (sy / n) ** 2
    return 1 - msd / (vx + vy + (sx / n - sy / n) ** 2)


def test_lin_ccc_by_hand_and_exact_arithmetic():
    # y = x + 1 on 1..4: s_xy = s_x^2 = s_y^2 = 5/4, (mean shift)^2 = 1: 2.5 / 3.5 = 5/7.
    assert ag.lin_ccc([1, 2, 3, 4], [2, 3, 4, 5]) == pytest.approx(5 / 7, abs=1e-15)
    # y = 2x: s_x^2 = 5/4, s_y^2 = 5, s_xy = 5/2, means 2.5 and 5: 5 / (5/4 + 5 + 25/4) = 0.4.
    assert ag.lin_ccc([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(0.4, abs=1e-15)
    # The PEFR data: exact rational value 0.94274...; Lin's C_b form r * 2 / (v + 1/v + u^2)
    # (Lin 1989, p. 258; v = s_x / s_y, u = (mean_x - mean_y) / sqrt(s_x s_y)) agrees.
    exact = float(_ccc_exact(WRIGHT, MINI))
    assert ag.lin_ccc(WRIGHT, MINI) == pytest.approx(exact, abs=1e-12)
    x, y = np.array(WRIGHT, float), np.array(MINI, float)
    v, u = x.std() / y.std(), (x.mean() - y.mean()) / np.sqrt(x.std() * y.std())
    assert exact == pytest.approx(stats.pearsonr(x, y).statistic * 2 / (v + 1 / v + u**2), abs=1e-12)
    assert exact < 0.9433  # below Pearson's 0.9433: the location and scale shifts cost agreement
    rng = np.random.default_rng(5)
    for _ in range(5):
        a = rng.integers(1, 6, 40).tolist()
        b = rng.integers(1, 6, 40).tolist()
        assert ag.lin_ccc(a, b) == pytest.approx(float(_ccc_exact(a, b)), abs=1e-12)


def test_agreement_summary_has_every_measure():
    rng = np.random.default_rng(6)
    x = rng.integers(1, 6, 50).astype(float)
    y = np.clip(x + rng.integers(-1, 2, 50), 1, 5)
    t = ag.agreement_summary(x, y).to_dict()
    assert t["n"] == 50 and t["mae"] == ag.mae(x, y) and t["qwk"] == ag.quadratic_weighted_kappa(x, y)
    assert set(t) == {"n", "mae", "rmse", "within1_pct", "qwk", "kripp_alpha_interval", "kripp_alpha_ordinal",
                      "ccc", "pearson", "spearman"}


@pytest.mark.parametrize("bad, msg", [
    (([1, 2], [1, 2, 3]), "same length"),
    (([1, np.nan], [1, 2]), "finite"),
    (([], []), "no pairs"),
])
def test_bad_input_gets_clear_errors(bad, msg):
    with pytest.raises(ValueError, match=msg):
        ag.mae(*bad)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=3, max_size=40), st.data())
def test_symmetry_and_self_agreement(x, data):
    y = data.draw(st.lists(st.integers(1, 5), min_size=len(x), max_size=len(x)))
    x, y = np.array(x, float), np.array(y, float)
    assert ag.mae(x, y) == ag.mae(y, x)
    assert ag.within_one_pct(x, y) == ag.within_one_pct(y, x)
    assert ag.mae(x, x) == 0 and ag.within_one_pct(x, x) == 100
    qwk_xy, qwk_yx = ag.quadratic_weighted_kappa(x, y), ag.quadratic_weighted_kappa(y, x)
    assert qwk_xy == pytest.approx(qwk_yx, nan_ok=True)
