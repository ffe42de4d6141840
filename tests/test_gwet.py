"""Gwet's AC1/AC2 against the published 4-rater example (Gwet 2014, values of irrCAC),
outputs of the irrCAC Python package on seeded random data, and an independent
brute-force implementation written with loops over items and rater pairs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats

from analysis.stats.agreement import krippendorff_alpha
from analysis.stats.gwet import gwet_ac, gwet_ac1, gwet_ac2, gwet_weights

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "gwet_4raters_12subjects.csv"
TOL3 = 0.0005 + 1e-12  # the reference prints 3 decimals


def _reference_table() -> np.ndarray:
    if not REFERENCE.is_file():
        pytest.skip(f"reference table absent: {REFERENCE}")
    return pd.read_csv(REFERENCE).set_index("subject").to_numpy(dtype=float)


# Gwet (2014), Handbook, 4th ed.: 12 subjects x 4 raters, categories 1-5. Values printed
# by irrCAC (shared/reference/README.md): weights, pa, pe, coefficient, se.
PUBLISHED = [
    (None, 0.818, 0.190, 0.775, 0.143),
    ("linear", 0.939, 0.571, 0.859, 0.117),
    ("quadratic", 0.975, 0.714, 0.914, 0.104),
    ("ordinal", 0.968, 0.685, 0.899, 0.107),
]


@pytest.mark.parametrize("weights, pa, pe, value, se", PUBLISHED)
def test_published_four_rater_example(weights, pa, pe, value, se):
    r = gwet_ac(_reference_table(), weights)
    assert abs(r.pa - pa) <= TOL3
    assert abs(r.pe - pe) <= TOL3
    assert abs(r.estimate - value) <= TOL3
    assert abs(r.se - se) <= TOL3
    assert r.n == 12 and r.n_items_paired == 11
    assert r.categories == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_published_ac1_interval_and_p_value():
    r = gwet_ac1(_reference_table())
    assert r.name == "AC1" and r.weights == "unweighted"
    assert abs(r.ci_low - 0.461) <= TOL3
    assert r.ci_high == 1.0  # 0.775 + 2.201 * 0.143 > 1: clipped
    assert abs(r.pvalue - 0.00021) <= 0.000005 + 1e-12


# Lower CI bounds of AC2 on the same table, from the irrCAC Python port's unit tests
# (afergadis/irrCAC, test/unit/irrCAC/raw/test_gwet.py); not in the README table.
@pytest.mark.parametrize("weights, lower", [("linear", 0.600), ("quadratic", 0.685), ("ordinal", 0.664)])
def test_ac2_lower_bounds_of_irrcac_python(weights, lower):
    r = gwet_ac2(_reference_table(), weights=weights)
    assert r.name == "AC2"
    assert abs(r.ci_low - lower) <= TOL3 and r.ci_high == 1.0


def test_krippendorff_alpha_on_the_same_table():
    assert abs(krippendorff_alpha(_reference_table(), "nominal") - 0.743) <= TOL3


# irrCAC 0.4.4 (Python, PyPI), CAC(pd.DataFrame(x), weights=w, digits=15).gwet(), run
# once outside the test suite on the matrices of _seeded(seed): seed, weights,
# coefficient, se, pa, pe, p-value (two-sided).
IRRCAC_PY = [
    (1, "identity", 0.026683027265354, 0.067660365181855, 0.22, 0.198616666666667, 0.69679253251776),
    (1, "linear", 0.142232669388429, 0.078251063560963, 0.653333333333333, 0.59585, 0.08162474395778174),
    (1, "quadratic", 0.275042860641685, 0.099702321004466, 0.815, 0.7448125, 0.010927602237563505),
    (1, "ordinal", 0.237373382927458, 0.092595035527032, 0.782666666666667, 0.71502, 0.017048826402886075),
    (2, "identity", 0.04416297682516, 0.059882172903637, 0.231884057971014, 0.196394444444444, 0.46796937079103573),
    (2, "linear", 0.162149624202058, 0.126813325767582, 0.655797101449275, 0.589183333333333, 0.2132477938417212),
    (2, "quadratic", 0.250671130558525, 0.201027756260827, 0.802536231884058, 0.736479166666667, 0.2244490443202931),
    (2, "ordinal", 0.225846152628512, 0.179538231470208, 0.773188405797101, 0.70702, 0.220519639593453),
    (3, "identity", -0.065983512788336, 0.058531525498887, 0.145833333333333, 0.198705555555556, 0.2707539783766548),
    (3, "linear", 0.007035860190649, 0.091212304870859, 0.598958333333333, 0.596116666666667, 0.9391538890064002),
    (3, "quadratic", 0.068435107223631, 0.158656134295666, 0.762586805555556, 0.745145833333333, 0.6700693425724458),
    (3, "ordinal", 0.051012123625065, 0.138630222344397, 0.729861111111111, 0.71534, 0.7161191704467194),
]


def _seeded(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(25, 4)).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    return x[np.isfinite(x).sum(1) >= 1]


@pytest.mark.parametrize("seed, weights, value, se, pa, pe, p", IRRCAC_PY)
def test_matches_irrcac_python_on_random_data(seed, weights, value, se, pa, pe, p):
    r = gwet_ac(_seeded(seed), None if weights == "identity" else weights)
    for ours, theirs in [(r.estimate, value), (r.se, se), (r.pa, pa), (r.pe, pe), (r.pvalue, p)]:
        assert ours == pytest.approx(theirs, abs=1e-12)


# ---------------------------------------------------------------------------------
# Independent brute force: loops over items, ordered rater pairs and categories, from
# the definitions in Gwet (2008, eq. 14-15 and 25-27) and Gwet (2014, sec. 5.3).

def _brute_weights(cats, kind):
    q = len(cats)
    w = [[0.0] * q for _ in range(q)]
    lo, hi = min(cats), max(cats)
    for k in range(q):
        for l in range(q):
            if kind is None:
                w[k][l] = 1.0 if k == l else 0.0
            elif kind == "linear":
                w[k][l] = 1 - abs(cats[k] - cats[l]) / (hi - lo)
            elif kind == "quadratic":
                w[k][l] = 1 - (cats[k] - cats[l]) ** 2 / (hi - lo) ** 2
            else:  # ordinal: number of pairs among the |k-l|+1 categories spanned
                m = math.comb(abs(k - l) + 1, 2)
                w[k][l] = 1 - m / math.comb(q, 2)
    return w


def _brute_force(x, cats, kind, confidence=0.95):
    w = _brute_weights(cats, kind)
    q = len(cats)
    items = []
    for row in x:
        labels = [cats.index(v) for v in row if not (isinstance(v, float) and math.isnan(v))]
        if labels:
            items.append(labels)
    n = len(items)
    pa_items, paired = [], []
    for labels in items:
        ri = len(labels)
        if ri < 2:
            pa_items.append(0.0)
            paired.append(False)
            continue
        s = 0.0
        for a, b in itertools.permutations(range(ri), 2):  # ordered pairs of distinct raters
            s += w[labels[a]][labels[b]]
        pa_items.append(s / (ri * (ri - 1)))
        paired.append(True)
    n2 = sum(paired)
    pa = sum(p for p, ok in zip(pa_items, paired) if ok) / n2
    pi = [sum(labels.count(k) / len(labels) for labels in items) / n for k in range(q)]
    tw = sum(sum(row) for row in w)
    pe = tw / (q * (q - 1)) * sum(p * (1 - p) for p in pi)
    ac = (pa - pe) / (1 - pe)
    dev = 0.0
    for labels, pa_i, ok in zip(items, pa_items, paired):
        ac_star = (n / n2) * (pa_i - pe) / (1 - pe) if ok else 0.0
        pe_i = tw / (q * (q - 1)) * sum(labels.count(k) / len(labels) * (1 - pi[k]) for k in range(q))
        ac_2star = ac_star - 2 * (1 - ac) * (pe_i - pe) / (1 - pe)
        dev += (ac_2star - ac) ** 2
    se = math.sqrt(dev / (n * (n - 1)))
    tq = stats.t.ppf(1 - (1 - confidence) / 2, n - 1)
    p = 2 * (1 - stats.t.cdf(abs(ac) / se, n - 1))
    return dict(estimate=ac, pa=pa, pe=pe, se=se, ci_low=ac - tq * se, ci_high=min(1.0, ac + tq * se), pvalue=p)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", [None, "linear", "quadratic", "ordinal"])
def test_matches_brute_force_with_missing_ratings(seed, kind):
    rng = np.random.default_rng(100 + seed)
    n, r = int(rng.integers(6, 40)), int(rng.integers(2, 7))
    scale = [1, 2, 3, 4, 5, 6, 7][: int(rng.integers(2, 8))]
    x = rng.choice(scale, size=(n, r)).astype(float)
    x[rng.random(x.shape) < rng.uniform(0.05, 0.5)] = np.nan
    x[0, :] = np.nan          # an item nobody rated: dropped
    x[1, :] = np.nan
    x[1, 0] = scale[0]        # an item with a single rating: enters pe and the variance only
    x[2, :2] = scale[-1]      # at least one item with a pair
    ours = gwet_ac(x, kind, categories=scale, confidence=0.9)
    ref = _brute_force(x, scale, kind, confidence=0.9)
    for key, value in ref.items():
        assert getattr(ours, key) == pytest.approx(value, rel=1e-10, abs=1e-7 if key == "pvalue" else 1e-12), key
    assert ours.n == int((~np.isnan(x)).any(axis=1).sum())


def test_full_scale_changes_pe_and_weights():
    # only 2..4 used; passing 1..5 changes q (pe) and the spacing the weights see
    x = np.array([[2, 3, 3], [3, 3, 3], [4, 4, 3], [2, 2, 2], [3, 4, 4], [4, 4, 4]], dtype=float)
    observed = gwet_ac(x, "quadratic")
    full = gwet_ac(x, "quadratic", categories=[1, 2, 3, 4, 5])
    assert observed.categories == (2.0, 3.0, 4.0) and full.categories == (1, 2, 3, 4, 5)
    for res, cats in [(observed, [2, 3, 4]), (full, [1, 2, 3, 4, 5])]:
        ref = _brute_force(x, cats, "quadratic")
        assert res.estimate == pytest.approx(ref["estimate"], abs=1e-12)
        assert res.pe == pytest.approx(ref["pe"], abs=1e-12)
    assert observed.estimate != pytest.approx(full.estimate, abs=1e-3)


def test_string_labels_and_frames():
    x = [["safe", "safe", None], ["unsafe", "safe", "unsafe"], ["safe", "safe", "safe"],
         ["unsafe", "unsafe", "unsafe"], [None, "unsure", "safe"], ["safe", None, "safe"]]
    r = gwet_ac1(x)
    assert r.categories == ("safe", "unsafe", "unsure")
    cats = ["safe", "unsafe", "unsure"]
    numeric = np.array([[np.nan if v is None else float(cats.index(v)) for v in row] for row in x])
    ref = _brute_force(numeric, [0.0, 1.0, 2.0], None)
    assert r.estimate == pytest.approx(ref["estimate"], abs=1e-12)
    assert r.se == pytest.approx(ref["se"], abs=1e-12)
    # pandas and polars frames give the same as the array
    assert gwet_ac1(pd.DataFrame(x)).estimate == pytest.approx(r.estimate, abs=1e-15)
    assert gwet_ac1(pl.DataFrame(np.array(x, dtype=object).T.tolist(), orient="col")).estimate == \
        pytest.approx(r.estimate, abs=1e-15)
    # ordinal weights on labels use their given order (positions 1..q)
    w = gwet_ac(x, "ordinal", categories=["unsafe", "unsure", "safe"])
    assert w.categories == ("unsafe", "unsure", "safe")
    np.testing.assert_allclose(gwet_weights(w.categories, "ordinal"), [[1, 2 / 3, 0], [2 / 3, 1, 2 / 3], [0, 2 / 3, 1]])


def test_invariances():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=(30, 5)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    base = gwet_ac(x, "linear")
    perm = gwet_ac(x[rng.permutation(30)][:, rng.permutation(5)], "linear")
    for key in ("estimate", "pa", "pe", "se", "ci_low", "ci_high", "pvalue"):
        assert getattr(perm, key) == pytest.approx(getattr(base, key), abs=1e-12)
    # AC1 is nominal: renaming categories changes nothing
    renamed = np.where(np.isnan(x), np.nan, 10 * (6 - x))
    assert gwet_ac1(renamed).estimate == pytest.approx(gwet_ac1(x).estimate, abs=1e-12)
    # unrated rows are dropped
    padded = np.vstack([x, np.full((3, 5), np.nan)])
    assert gwet_ac(padded, "linear").se == pytest.approx(base.se, abs=1e-15)
    # a weight matrix equal to a named scheme gives the same result
    custom = gwet_ac(x, gwet_weights([1.0, 2.0, 3.0, 4.0, 5.0], "linear"))
    assert custom.weights == "custom" and custom.estimate == pytest.approx(base.estimate, abs=1e-15)
    assert gwet_ac(x, np.eye(5)).weights == "unweighted"


def test_finite_population_correction():
    x = _seeded(1)
    n = gwet_ac(x).n
    r_inf, r_fin = gwet_ac(x), gwet_ac(x, population_size=4 * n)
    assert r_fin.se == pytest.approx(r_inf.se * math.sqrt(1 - 0.25), rel=1e-12)
    assert gwet_ac(x, population_size=n).se == 0.0


def test_perfect_agreement_and_degenerate_cases():
    x = np.array([[1, 1, 1], [2, 2, np.nan], [3, 3, 3], [1, 1, 1]])
    r = gwet_ac1(x)
    assert r.estimate == 1.0 and r.pa == 1.0 and r.se == 0.0 and r.pvalue == 0.0
    with pytest.raises(ValueError, match="not among the categories"):
        gwet_ac1(x, categories=[1, 2])
    with pytest.raises(ValueError, match="at least 2 categories"):
        gwet_ac1([[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="two or more ratings"):
        gwet_ac1([[1, np.nan], [np.nan, 2]])
    with pytest.raises(ValueError, match="every item is unrated"):
        gwet_ac1([[np.nan, np.nan]])
    with pytest.raises(ValueError, match="matrix"):
        gwet_ac1([1, 2, 3])
    with pytest.raises(ValueError, match="weights must be"):
        gwet_ac(x, "cubic")
    with pytest.raises(ValueError, match="3 x 3"):
        gwet_ac(x, np.eye(2))
    one = gwet_ac1([[1, 1], [np.nan, 2]])  # a single item rated twice: no variance estimate
    assert one.n == 2 and one.n_items_paired == 1
    single = gwet_ac1([[1, 2]])
    assert math.isnan(single.se) and math.isnan(single.pvalue)


def test_old_names_warn_and_count_tables_agree():
    x = [[1, 1, 2], [2, 2, 2], [3, 3, 3], [1, 1, None], [2, 3, 3]]
    r = gwet_ac(x, "quadratic")
    for old, new in (("coefficient", "estimate"), ("p_value", "pvalue"), ("n_items", "n")):
        with pytest.warns(DeprecationWarning, match=f"GwetResult.{old}"):
            assert getattr(r, old) == getattr(r, new)
    assert list(r.to_frame().columns[:7]) == ["estimate", "ci_low", "ci_high", "pvalue", "n", "confidence", "ci_note"]
    # the count-table form of the streaming reader equals the array form for two complete raters
    from analysis.stats.chance import contingency_table, gwet_ac_table
    rng = np.random.default_rng(3)
    a, b = rng.integers(1, 6, 60), rng.integers(1, 6, 60)
    t = contingency_table(a, b, [1, 2, 3, 4, 5])
    for w in (None, "quadratic", "linear"):
        ref = gwet_ac(np.column_stack([a, b]), w, categories=[1, 2, 3, 4, 5]).estimate
        assert gwet_ac_table(t, w, categories=[1, 2, 3, 4, 5]) == pytest.approx(ref, abs=1e-12)
        batch = gwet_ac_table(np.stack([t, t]), w, categories=[1, 2, 3, 4, 5])
        assert batch.shape == (2,) and batch == pytest.approx([ref, ref], abs=1e-12)
