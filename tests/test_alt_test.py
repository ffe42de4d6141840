"""The alt-test against hand-worked designs (counts derived on paper, t-test p-values
from the incomplete beta function), plain-loop recomputations, statsmodels' BY
procedure, and a re-implementation of the authors' dictionary-based function."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import special
from scipy.stats import ttest_1samp
from statsmodels.stats.multitest import multipletests

from analysis.stats.alt_test import (
    DEFAULT_EPSILONS, alt_test, alt_test_arrays, alt_test_indicators, alt_test_sweep, benjamini_yekutieli,
    benjamini_yekutieli_adjusted,
)


def _p_less(d, popmean):
    """One-sided one-sample t test p-value P(T_{n-1} <= t), written out:
    t = (mean - popmean) / (s / sqrt(n)); the t CDF through the regularized incomplete
    beta function, F(t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0."""
    d = [float(v) for v in d]
    n = len(d)
    mean = sum(d) / n
    s2 = sum((v - mean) ** 2 for v in d) / (n - 1)
    t = (mean - popmean) / math.sqrt(s2 / n)
    df = n - 1
    tail = 0.5 * special.betainc(df / 2, 0.5, df / (df + t * t))
    return tail if t < 0 else 1 - tail


def _tidy(rows):
    return pl.DataFrame(rows, schema=["item", "rater", "score"], orient="row")


# ---------------------------------------------------------------------------------
# Benjamini-Yekutieli

@pytest.mark.parametrize("seed", range(25))
def test_by_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    p = rng.uniform(0, 1, m) ** rng.uniform(1, 8)  # many small p-values
    if seed % 3 == 0:
        p[: m // 2] = p[0]  # ties
    q = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
    reject, adjusted, _, _ = multipletests(p, alpha=q, method="fdr_by")
    np.testing.assert_array_equal(benjamini_yekutieli(p, q), reject)
    np.testing.assert_allclose(benjamini_yekutieli_adjusted(p), adjusted, rtol=1e-12, atol=0)


def test_by_by_hand_and_nan():
    # m = 3, c(3) = 11/6, thresholds i/3 * 0.05 / (11/6) = 0.00909, 0.01818, 0.02727
    assert benjamini_yekutieli([0.02, 0.009, 0.027], 0.05).tolist() == [True, True, True]
    assert benjamini_yekutieli([0.02, 0.0095, 0.028], 0.05).tolist() == [False, False, False]
    # step-up: the 2nd passes although the 1st alone would not
    assert benjamini_yekutieli([0.0095, 0.018, 0.5], 0.05).tolist() == [True, True, False]
    # NaN: never rejected, counted in m (thresholds of m = 3, not 2)
    assert benjamini_yekutieli([0.0095, np.nan, 0.018], 0.05).tolist() == [True, False, True]
    assert benjamini_yekutieli([0.0095, np.nan, 0.0185], 0.05).tolist() == [False, False, False]
    adj = benjamini_yekutieli_adjusted([0.01, np.nan, 0.02])
    # ranks 1, 2 of m = 3: 0.01 * 3 * (11/6) / 1 = 0.055 and 0.02 * 3 * (11/6) / 2 = 0.055
    assert math.isnan(adj[1]) and adj[[0, 2]].tolist() == pytest.approx([0.055, 0.055], abs=1e-15)
    assert benjamini_yekutieli([], 0.05).size == 0
    with pytest.raises(ValueError, match="q must be"):
        benjamini_yekutieli([0.1], 1.5)


# ---------------------------------------------------------------------------------
# A design worked out on paper (accuracy): truth_i = i mod 2; human k (a, b, c) flips
# the label on items with i mod 6 == k, the judge on items with i mod 6 in {3, 4}.
# Leaving out human a, per block of 6 items: i%6 == 0: a wrong, others right, judge
# right -> W_J = 1, W_h = 0; i%6 in {1, 2}: one other human wrong, a and judge right ->
# tie (1, 1); i%6 in {3, 4}: judge wrong, a right -> (0, 1); i%6 == 5: tie. Over 120
# items: sum W_J = 80, sum W_h = 100, d = W_h - W_J: 20 x (-1), 40 x (+1), 60 x 0.
# The same for b and c by symmetry.

def _design(n_items=120):
    rows = [(i, h, (i + (i % 6 == k)) % 2) for i in range(n_items) for k, h in enumerate("abc")]
    rows += [(i, "llm", (i + (i % 6 in (3, 4))) % 2) for i in range(n_items)]
    return _tidy(rows)


D_DESIGN = [-1.0] * 20 + [1.0] * 40 + [0.0] * 60


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.2, 0.25, 0.3])
def test_hand_design_additive(epsilon):
    r = alt_test(_design(), "llm", epsilon=epsilon)
    p = _p_less(D_DESIGN, epsilon)
    assert r.n_humans == 3 and r.n_items == 120 and r.scoring == "accuracy"
    assert r.per_human["human"].to_list() == ["a", "b", "c"]
    assert r.per_human["n"].to_list() == [120] * 3
    assert r.per_human["advantage_probability"].to_list() == pytest.approx([80 / 120] * 3, abs=1e-15)
    assert r.per_human["human_advantage_probability"].to_list() == pytest.approx([100 / 120] * 3, abs=1e-15)
    assert r.per_human["pvalue"].to_list() == pytest.approx([p] * 3, rel=1e-10)
    # three equal p-values: all rejected iff p <= 3/3 * 0.05 / (11/6)
    expected = 1.0 if p <= 0.05 / (11 / 6) else 0.0
    assert r.winning_rate == expected and r.passed == (expected >= 0.5)
    assert r.advantage_probability == pytest.approx(2 / 3, abs=1e-15)


def test_hand_design_values():
    # mean(d) = 1/6, s^2 = (60 - 120/36) / 119; at epsilon 0.3, t = (1/6 - 0.3) / sqrt(s^2/120)
    s2 = (60 - 120 / 36) / 119
    t = (1 / 6 - 0.3) / math.sqrt(s2 / 120)
    assert t == pytest.approx(-2.1166, abs=1e-4)
    r = alt_test(_design(), "llm", epsilon=0.3)
    assert r.per_human["t_statistic"].to_list() == pytest.approx([t] * 3, rel=1e-12)
    assert r.winning_rate == 1.0 and r.passed
    assert alt_test(_design(), "llm", epsilon=0.2).winning_rate == 0.0


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.2, 0.3])
def test_hand_design_multiplicative(epsilon):
    # d_i = W_h - W_J / (1 - eps): 20 x (0 - 1/(1-eps)), 40 x (1 - 0), 60 x (1 - 1/(1-eps)), tested against 0
    k = 1 / (1 - epsilon)
    d = [-k] * 20 + [1.0] * 40 + [1 - k] * 60
    r = alt_test(_design(), "llm", epsilon=epsilon, epsilon_mode="multiplicative")
    assert r.epsilon_mode == "multiplicative"
    assert r.per_human["pvalue"].to_list() == pytest.approx([_p_less(d, 0.0)] * 3, rel=1e-10)
    if epsilon == 0.0:
        assert r.per_human["pvalue"].to_list() == pytest.approx(
            alt_test(_design(), "llm", epsilon=0.0).per_human["pvalue"].to_list(), rel=1e-12)


# ---------------------------------------------------------------------------------
# Plain-loop recomputation of the indicators on deterministic unbalanced designs

def _loop_indicators(table, judge, humans, score_fn, min_items=30, min_humans=2):
    rating = {(i, r): s for i, r, s in table.iter_rows()}
    items = sorted({i for i, _, _ in table.iter_rows()})
    out = {}
    for h in humans:
        wj, wh = [], []
        for i in items:
            raters = [g for g in humans if (i, g) in rating]
            if (i, judge) not in rating or len(raters) < min_humans or (i, h) not in rating:
                continue
            rest = [rating[(i, g)] for g in raters if g != h]
            sj, sh = score_fn(rating[(i, judge)], rest), score_fn(rating[(i, h)], rest)
            wj.append(int(sj >= sh))
            wh.append(int(sh >= sj))
        if len(wj) >= min_items:
            out[h] = (wj, wh)
    return out


def _acc(pred, rest):
    return sum(pred == r for r in rest) / len(rest)


def _neg_rmse(pred, rest):
    return -math.sqrt(sum((pred - r) ** 2 for r in rest) / len(rest))


def _by_loop(p, q=0.05):
    m = len(p)
    c = sum(1 / j for j in range(1, m + 1))
    order = sorted(range(m), key=lambda k: p[k])
    last = max([r for r in range(m) if p[order[r]] <= (r + 1) / m * q / c], default=-1)
    return {order[r] for r in range(last + 1)}


def _check_against_loops(table, judge, humans, score_fn, scoring, epsilon, mode="additive"):
    ind = _loop_indicators(table, judge, humans, score_fn)
    res = alt_test(table, judge, humans, epsilon=epsilon, scoring=scoring, epsilon_mode=mode)
    tested = list(ind)
    assert res.per_human["human"].to_list() == tested
    p = []
    for h in tested:
        wj, wh = ind[h]
        if mode == "additive":
            p.append(_p_less([b - a for a, b in zip(wj, wh)], epsilon))
        else:
            p.append(_p_less([b - a / (1 - epsilon) for a, b in zip(wj, wh)], 0.0))
    rejected = _by_loop(p)
    assert res.per_human["n"].to_list() == [len(ind[h][0]) for h in tested]
    assert res.per_human["advantage_probability"].to_list() == pytest.approx(
        [sum(ind[h][0]) / len(ind[h][0]) for h in tested], abs=1e-15)
    assert res.per_human["pvalue"].to_list() == pytest.approx(p, rel=1e-9)
    assert res.per_human["rejected"].to_list() == [k in rejected for k in range(len(tested))]
    assert res.winning_rate == len(rejected) / len(tested)
    assert res.advantage_probability == pytest.approx(
        sum(sum(ind[h][0]) / len(ind[h][0]) for h in tested) / len(tested), abs=1e-15)
    return res, ind


def _unbalanced_labels():
    """4 humans on 40 items, a 5th ('e') on 12 items only; labels x/y/z; the judge says
    'w' (a label no human used) on every 7th item and skips item 39."""
    labels = "xyz"
    rows = []
    for i in range(40):
        truth = labels[(i * 5) % 3]
        for k, h in enumerate("abcd"):
            if h == "d" and i % 8 == 0:
                continue  # d skips some items
            wrong = (i * (k + 3) + k) % 7 == 0
            rows.append((i, h, labels[(labels.index(truth) + 1) % 3] if wrong else truth))
        if i < 12:
            rows.append((i, "e", labels[(i * 2) % 3]))
        if i != 39:
            rows.append((i, "llm", "w" if i % 7 == 3 else labels[(labels.index(truth) + (i % 5 == 0)) % 3]))
    return _tidy(rows)


@pytest.mark.parametrize("epsilon", [0.0, 0.15, 0.3])
def test_unbalanced_labels_against_loops(epsilon):
    table = _unbalanced_labels()
    res, ind = _check_against_loops(table, "llm", list("abcde"), _acc, "accuracy", epsilon)
    # e (12 items) is skipped, but still one of the "remaining humans" of the others
    assert res.skipped_humans == (("e", 12),)
    assert res.n_humans == 4 and "e" not in ind
    without_e = alt_test(table.filter(pl.col("rater") != "e"), "llm", epsilon=epsilon)
    assert without_e.per_human["advantage_probability"].to_list() != \
        res.per_human["advantage_probability"].to_list()
    # the judge's label 'w' never matches: on those items the human wins unless it matches no one either
    ind_w = alt_test_indicators(*_arrays(table, "llm", list("abcde")), human_names=list("abcde"), scoring="accuracy")
    assert ind_w.humans == ("a", "b", "c", "d")


def _arrays(table, judge, humans):
    items = sorted(set(table["item"].to_list()))
    cols = [judge, *humans]
    m = np.full((len(items), len(cols)), None, dtype=object)
    for i, r, s in table.iter_rows():
        if r in cols:
            m[items.index(i), cols.index(r)] = s
    return m[:, 0], m[:, 1:]


def _unbalanced_scores():
    rows = []
    for i in range(45):
        base = 1 + (i * 7) % 5
        for k, h in enumerate("abc"):
            if h == "c" and i % 9 == 4:
                continue
            rows.append((i, h, float(min(5, max(1, base + ((i + k) % 4 == 0) - ((i * k) % 5 == 1))))))
        rows.append((i, "llm", float(min(5, max(1, base + (i % 6 == 0) - (i % 10 == 3))))))
    rows.append((45, "a", 3.0))  # an item with one human only: dropped
    rows.append((45, "llm", 3.0))
    rows.append((46, "a", None))  # a null rating is no rating
    return _tidy(rows)


@pytest.mark.parametrize("mode", ["additive", "multiplicative"])
@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.2])
def test_neg_rmse_against_loops(epsilon, mode):
    res, _ = _check_against_loops(_unbalanced_scores(), "llm", list("abc"), _neg_rmse, "neg_rmse", epsilon, mode)
    assert res.scoring == "neg_rmse" and res.n_items == 45


def test_callable_scoring_receives_a_list():
    seen = []

    def neg_mae(pred, others):
        seen.append(type(others))
        return -sum(abs(pred - o) for o in others) / len(others)

    res, _ = _check_against_loops(_unbalanced_scores(), "llm", list("abc"), neg_mae, neg_mae, 0.1)
    assert res.scoring == "neg_mae" and set(seen) == {list}


# ---------------------------------------------------------------------------------
# The authors' function, re-implemented in its dictionary form from the logic of
# `alt_test` and `by_procedure` in github.com/nitaytech/AltTest, alt_test_example.ipynb
# (commit 13eada2); `multiplicative` follows MetaEvaluator's AltTestScorer
# (github.com/govtech-responsibleai/meta-evaluator, scores/metrics/agreement/alt_test.py).

def _authors_alt_test(llm_annotations, humans_annotations, scoring_function="accuracy", epsilon=0.2, q_fdr=0.05,
                      min_humans_per_instance=2, min_instances_per_human=30, multiplicative=False):
    if scoring_function == "accuracy":
        def scoring_function(pred, annotations):
            return float(np.mean([pred == ann for ann in annotations]))
    elif scoring_function == "neg_rmse":
        def scoring_function(pred, annotations):
            return -1 * float(np.sqrt(np.mean([(pred - ann) ** 2 for ann in annotations])))
    humans_of = {}
    for h, anns in humans_annotations.items():
        for i in anns:
            humans_of.setdefault(i, []).append(h)
    kept = {i for i in humans_of if len(humans_of[i]) >= min_humans_per_instance and i in llm_annotations}
    p_values, advantage_probs, tested = [], [], []
    for excluded in humans_annotations:
        instances = [i for i in humans_annotations[excluded] if i in kept and i in llm_annotations]
        if len(instances) < min_instances_per_human:
            continue
        llm_ind, exc_ind = [], []
        for i in instances:
            remaining = [humans_annotations[h][i] for h in humans_of[i] if h != excluded]
            human_score = scoring_function(humans_annotations[excluded][i], remaining)
            llm_score = scoring_function(llm_annotations[i], remaining)
            llm_ind.append(1 if llm_score >= human_score else 0)
            exc_ind.append(1 if human_score >= llm_score else 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if multiplicative:
                p = ttest_1samp([e - l / (1 - epsilon) for e, l in zip(exc_ind, llm_ind)], 0,
                                alternative="less").pvalue
            else:
                p = ttest_1samp([e - l for e, l in zip(exc_ind, llm_ind)], epsilon, alternative="less").pvalue
        p_values.append(p)
        advantage_probs.append(float(np.mean(llm_ind)))
        tested.append(excluded)
    p_arr = np.array(p_values, dtype=float)
    m = len(p_arr)
    order = np.argsort(p_arr)
    with np.errstate(divide="ignore", invalid="ignore"):  # m = 0 ends in ZeroDivisionError below
        thresholds = (np.arange(1, m + 1) / m) * (q_fdr / np.sum(1.0 / np.arange(1, m + 1)))
    max_i = -1
    for k in range(m):
        if p_arr[order][k] <= thresholds[k]:
            max_i = k
    rejected = list(order[: max_i + 1])
    return len(rejected) / len(tested), float(np.mean(advantage_probs)), dict(zip(tested, p_values))


def _random_annotations(seed, numeric):
    rng = np.random.default_rng(seed)
    n_items, n_humans = int(rng.integers(35, 90)), int(rng.integers(2, 6))
    cats = [1, 2, 3, 4, 5] if numeric else ["x", "y", "z"]
    truth = rng.integers(0, len(cats), n_items)
    humans = {}
    for k in range(n_humans):
        p_rate = 0.25 if k == n_humans - 1 and seed % 2 else rng.uniform(0.6, 1.0)  # sometimes one sparse human
        noise = rng.uniform(0.1, 0.5)
        humans[f"h{k}"] = {f"i{i}": cats[int(rng.integers(0, len(cats))) if rng.random() < noise else truth[i]]
                           for i in range(n_items) if rng.random() < p_rate}
    judge_noise = rng.uniform(0.05, 0.5)
    llm = {}
    for i in range(n_items):
        if rng.random() < 0.05:
            continue  # the judge skipped it
        if not numeric and rng.random() < 0.05:
            llm[f"i{i}"] = "w"  # a label no human used
        else:
            llm[f"i{i}"] = cats[int(rng.integers(0, len(cats))) if rng.random() < judge_noise else truth[i]]
    return llm, humans


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("mode", ["additive", "multiplicative"])
def test_equals_authors_function_on_random_data(seed, mode):
    numeric = seed % 3 == 0
    scoring = "neg_rmse" if numeric else "accuracy"
    llm, humans = _random_annotations(seed, numeric)
    rows = [(i, h, v) for h, anns in humans.items() for i, v in anns.items()] + [(i, "llm", v) for i, v in llm.items()]
    table = _tidy(rows)
    for epsilon in (0.0, 0.1, 0.2, 0.3):
        try:
            wr, ap, p = _authors_alt_test(llm, humans, scoring, epsilon, multiplicative=mode == "multiplicative")
        except ZeroDivisionError:  # nobody has 30 items: the authors' code divides by zero
            with pytest.raises(ValueError, match="no human has enough items"):
                alt_test(table, "llm", epsilon=epsilon, scoring=scoring, epsilon_mode=mode)
            continue
        res = alt_test(table, "llm", epsilon=epsilon, scoring=scoring, epsilon_mode=mode)
        assert res.winning_rate == wr
        assert res.advantage_probability == pytest.approx(ap, abs=1e-14)
        assert dict(zip(res.per_human["human"], res.per_human["pvalue"])) == pytest.approx(p, rel=1e-9, abs=1e-300)


# ---------------------------------------------------------------------------------
# Edge cases

def test_constant_differences_follow_scipy():
    # a human identical to the judge: every item a tie, d = 0 on every item
    rows = [(i, h, (i + (h == "b" and i % 4 == 0)) % 3) for i in range(40) for h in "abc"]
    rows += [(i, "llm", i % 3) for i in range(40)]
    t = _tidy(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scipy_p0 = ttest_1samp(np.zeros(40), 0.0, alternative="less").pvalue
        scipy_p1 = ttest_1samp(np.zeros(40), 0.1, alternative="less").pvalue
    assert math.isnan(scipy_p0) and scipy_p1 == 0.0
    r0 = alt_test(t, "llm", epsilon=0.0).per_human.row(by_predicate=pl.col("human") == "a", named=True)
    assert math.isnan(r0["pvalue"]) and r0["rejected"] is False and r0["advantage_probability"] == 1.0
    r1 = alt_test(t, "llm", epsilon=0.1).per_human.row(by_predicate=pl.col("human") == "a", named=True)
    assert r1["pvalue"] == 0.0 and r1["t_statistic"] == -math.inf and r1["rejected"] is True
    # NaN p-value: not rejected but counted among the tested humans
    res0 = alt_test(t, "llm", epsilon=0.0)
    assert res0.n_humans == 3 and res0.winning_rate == res0.per_human["rejected"].sum() / 3
    # multiplicative: constant d = 1 - 1/(1 - eps) < 0 -> p = 0
    rm = alt_test(t, "llm", epsilon=0.2, epsilon_mode="multiplicative")
    assert rm.per_human.row(by_predicate=pl.col("human") == "a", named=True)["pvalue"] == 0.0


def test_sweep_matches_single_runs_and_is_monotone():
    for seed in range(8):
        llm, humans = _random_annotations(100 + seed, numeric=False)
        rows = [(i, h, v) for h, a in humans.items() for i, v in a.items()] + [(i, "llm", v) for i, v in llm.items()]
        t = _tidy(rows)
        try:
            sweep = alt_test_sweep(t, "llm")
        except ValueError:
            continue
        assert sweep.columns == ["epsilon", "scoring", "n_humans", "winning_rate", "advantage_probability", "passed"]
        assert sweep["epsilon"].to_list() == list(DEFAULT_EPSILONS)
        wr = sweep["winning_rate"].to_list()
        assert all(a <= b for a, b in zip(wr, wr[1:]))
        assert sweep["advantage_probability"].n_unique() == 1
        for e, w in zip(DEFAULT_EPSILONS, wr):
            single = alt_test(t, "llm", epsilon=e)
            assert single.winning_rate == w and single.passed == (w >= 0.5)
    d = alt_test_sweep(_design(), "llm")
    # the design: t = (1/6 - eps) / 0.0630 is -1.32 at eps = 0.25 (p = 0.094 > 3/3 * 0.05 / (11/6) = 0.027)
    # and -2.12 at eps = 0.30 (p = 0.018): only the last epsilon passes
    assert d["winning_rate"].to_list() == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_array_api_pandas_and_validation():
    t = _design()
    res = alt_test(t, "llm", epsilon=0.3)
    res_pd = alt_test(pd.DataFrame(t.to_dict(as_series=False)), "llm", epsilon=0.3)
    assert res_pd.per_human.equals(res.per_human)
    renamed = t.rename({"item": "id", "rater": "who", "score": "label"})
    assert alt_test(renamed, "llm", epsilon=0.3, item="id", rater="who", score="label").per_human.equals(res.per_human)
    j, h = _arrays(t, "llm", list("abc"))
    assert alt_test_arrays(j, h, human_names=list("abc"), epsilon=0.3).per_human.equals(res.per_human)
    # humans= restricts the comparison: with a and b only, the others of a are b alone
    assert alt_test(t, "llm", ["a", "b"], epsilon=0.3).per_human["human"].to_list() == ["a", "b"]
    with pytest.raises(ValueError, match="duplicated"):
        alt_test(pl.concat([t, t.head(1)]), "llm")
    with pytest.raises(ValueError, match="judge 'gpt' has no ratings"):
        alt_test(t, "gpt")
    with pytest.raises(ValueError, match="cannot also be one of the humans"):
        alt_test(t, "llm", ["a", "llm"])
    with pytest.raises(ValueError, match="no column"):
        alt_test(t, "llm", score="value")
    with pytest.raises(ValueError, match="no human has enough items"):
        alt_test(t, "llm", min_items_per_human=500)
    with pytest.raises(ValueError, match="min_humans_per_item"):
        alt_test(t, "llm", min_humans_per_item=1)
    with pytest.raises(ValueError, match="epsilon must be"):
        alt_test(t, "llm", epsilon=1.0, epsilon_mode="multiplicative")
    with pytest.raises(ValueError, match="epsilon_mode"):
        alt_test(t, "llm", epsilon_mode="relative")
    with pytest.raises(ValueError, match="scoring must be"):
        alt_test(t, "llm", scoring="f1")
    labels = t.with_columns(pl.col("score").cast(pl.String))
    with pytest.raises(ValueError, match="numeric"):
        alt_test(labels, "llm", scoring="neg_rmse")
    with pytest.raises(TypeError):
        alt_test({"item": [1]}, "llm")
