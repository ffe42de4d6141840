"""Pairwise preferences (analysis.stats.pairwise): Bradley-Terry against a logistic
regression fitted by statsmodels, win rates against counting, Kendall's tau against scipy,
position bias and agreement on hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.stats.pairwise import (bradley_terry, bradley_terry_counts, pairwise_agreement, position_bias,
                                     ranking_agreement, win_rates)


def _simulate(rng, beta, n_games, tie_share=0.15):
    s = len(beta)
    a = rng.integers(0, s, n_games)
    b = (a + rng.integers(1, s, n_games)) % s
    p = 1 / (1 + np.exp(beta[b] - beta[a]))
    u = rng.random(n_games)
    v = np.where(u < tie_share, "tie", np.where(rng.random(n_games) < p, "A", "B"))
    names = np.array([f"m{k}" for k in range(s)])
    return names[a], names[b], v, rng.integers(0, n_games // 3, n_games)


def test_bradley_terry_equals_a_logistic_regression_fitted_by_statsmodels():
    rng = np.random.default_rng(7)
    beta = np.array([0.0, 0.4, -0.3, 1.0, -0.8])
    a, b, v, prompts = _simulate(rng, beta, 1500)
    names = sorted(set(a) | set(b))
    col = {n: k for k, n in enumerate(names)}
    rows, y, w = [], [], []
    for x1, x2, vd in zip(a, b, v):
        x = np.zeros(len(names))
        x[col[x1]], x[col[x2]] = 1.0, -1.0
        for outcome, weight in ((1.0, {"A": 1.0, "B": 0.0, "tie": 0.5}[vd]), (0.0, {"A": 0.0, "B": 1.0, "tie": 0.5}[vd])):
            if weight:
                rows.append(x[1:])  # the first system is the reference (score 0)
                y.append(outcome)
                w.append(weight)
    fit = sm.GLM(np.array(y), np.array(rows), family=sm.families.Binomial(), var_weights=np.array(w)).fit(tol=1e-14)
    ref = np.r_[0.0, fit.params]
    ref -= ref.mean()
    got = bradley_terry(a, b, v, prompts=prompts, n_boot=200, seed=1)
    assert [got[n].estimate for n in names] == pytest.approx(ref.tolist(), abs=1e-8)
    assert all(got[n].ci_low < got[n].estimate < got[n].ci_high for n in names)


def test_bradley_terry_recovers_planted_strengths_within_its_intervals():
    rng = np.random.default_rng(11)
    beta = np.array([0.0, 0.5, -0.5, 1.0])
    covered = checked = 0
    for rep in range(40):
        a, b, v, prompts = _simulate(rng, beta, 800, tie_share=0.0)
        got = bradley_terry(a, b, v, prompts=prompts, n_boot=300, seed=rep)
        for k in range(4):
            checked += 1
            covered += got[f"m{k}"].ci_low <= beta[k] - beta.mean() <= got[f"m{k}"].ci_high
    assert checked == 160 and covered / checked >= 0.88, covered / checked


def test_never_lost_has_no_finite_score():
    r = bradley_terry(["x", "x", "y"], ["y", "z", "z"], ["A", "A", "A"], n_boot=50, seed=1)
    assert r["x"].estimate == math.inf and "never lost" in r["x"].ci_note
    assert r["z"].estimate == -math.inf
    assert np.isnan(bradley_terry_counts(np.zeros((3, 3)))).all()


def test_win_rates_count_ties_as_half():
    a = ["x", "y", "x", "z", "y"]
    b = ["y", "x", "z", "x", "z"]
    v = ["A", "tie", "B", "A", "tie"]
    r = win_rates(a, b, v, n_boot=100, seed=1)
    assert r["x"].estimate == pytest.approx((1 + 0.5 + 0 + 0) / 4)
    assert r["y"].estimate == pytest.approx((0 + 0.5 + 0.5) / 3)
    assert r["z"].estimate == pytest.approx((1 + 1 + 0.5) / 3)
    assert r["x"].n == 4


def test_ranking_agreement_is_scipys_kendall_tau():
    x, y = [0.3, 0.1, 0.9, -0.2, 0.5], [0.2, 0.3, 0.8, -0.1, 0.4]
    r = ranking_agreement(x, y, replicates_x=np.array([x, y, x]), replicates_y=np.array([y, y, x]))
    ref = stats.kendalltau(x, y)
    assert (r.estimate, r.pvalue, r.n) == (ref.statistic, ref.pvalue, 5)
    taus = [stats.kendalltau(x, y).statistic, 1.0, 1.0]
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(np.quantile(taus, [0.025, 0.975])), abs=1e-12)


def test_position_bias_counts_first_wins_and_flipped_winners():
    pair = ["p1", "p1", "p2", "p2", "p3", "p3", "p4"]
    first = ["x", "y", "x", "z", "y", "z", "x"]
    second = ["y", "x", "z", "x", "z", "y", "y"]
    verdict = ["A", "A", "B", "B", "tie", "A", "A"]
    pb = position_bias(pair, first, second, verdict)
    # decided games: 6, won by the first shown: A, A, A, A -> 4
    assert (pb.first_wins.estimate, pb.first_wins.n) == (4 / 6, 6)
    # p1: x then y win -> inconsistent; p2: z then x ... B means second: z wins, then x wins? second of (z, x) is x
    # -> p2 winners z and x: inconsistent; p3: tie vs z -> inconsistent; p4 has one order only
    assert (pb.inconsistent.estimate, pb.inconsistent.n) == (1.0, 3)


def test_agreement_with_and_without_ties():
    j = ["A", "B", "tie", "A", "B"]
    h = ["A", "A", "tie", "tie", "B"]
    assert pairwise_agreement(j, h).estimate == 3 / 5
    assert pairwise_agreement(j, h, ties="exclude").estimate == 2 / 3
    with pytest.raises(ValueError, match="ties must be"):
        pairwise_agreement(j, h, ties="half")


def test_bad_games_are_refused():
    with pytest.raises(ValueError, match="verdicts must be one of"):
        win_rates(["x"], ["y"], ["model_a"])
    with pytest.raises(ValueError, match="cannot play itself"):
        bradley_terry(["x"], ["x"], ["A"])


def test_rater_ranking_agreement_is_tau_of_both_raters_bradley_terry_scores():
    from scipy.stats import kendalltau

    from analysis.stats.pairwise import rater_ranking_agreement

    rng = np.random.default_rng(5)
    systems = ["s0", "s1", "s2", "s3", "s4"]
    strength = {"j": np.array([0.0, 0.5, 1.0, 1.5, 2.0]), "h": np.array([0.0, 1.0, 0.5, 2.0, 1.5])}
    rows = []
    for prompt in range(60):
        for rater in ("j", "h"):
            a, b = rng.choice(5, 2, replace=False)
            p = 1 / (1 + np.exp(strength[rater][b] - strength[rater][a]))
            u = rng.random()
            rows.append((systems[a], systems[b], "A" if u < p - 0.05 else "tie" if u < p + 0.05 else "B", rater,
                         prompt))
    a, b, v, who, prompts = (list(c) for c in zip(*rows))
    r = rater_ranking_agreement(a, b, v, who, prompts, x="j", y="h", n_boot=300, seed=2)
    pick = lambda w: [k for k, x in enumerate(who) if x == w]  # noqa: E731
    bt = {w: bradley_terry([a[k] for k in pick(w)], [b[k] for k in pick(w)], [v[k] for k in pick(w)], n_boot=10,
                           seed=1) for w in ("j", "h")}
    expected = kendalltau([bt["j"][s].estimate for s in systems], [bt["h"][s].estimate for s in systems])
    assert r.estimate == pytest.approx(expected.statistic, abs=1e-12) and r.pvalue == pytest.approx(expected.pvalue)
    assert r.n == 5 and -1 <= r.ci_low <= r.ci_high <= 1
    with pytest.raises(ValueError, match="both raters need games"):
        rater_ranking_agreement(a, b, v, who, prompts, x="j", y="nobody")
