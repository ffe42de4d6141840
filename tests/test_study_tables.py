"""Study tables against brute force: the category table, the human ceiling, the MentalAlign
system- and response-level ICCs and the scored-study builders, each recomputed here from
explicit resamples (drawn with the package's documented seeds) with Python loops, textbook
formulas and reference packages (pingouin, sklearn, krippendorff) instead of the package's
vectorised sums."""

from __future__ import annotations

import math
from collections import defaultdict

import krippendorff
import numpy as np
import pandas as pd
import pingouin as pg
import polars as pl
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from analysis.data.ratings import RatingMatrix, make_ratings
from analysis.stats.bootstrap import resample_indices
from analysis.stats.ceiling import human_ceiling
from analysis.stats.gwet import gwet_ac1, gwet_ac2
from analysis.stats.intervals import MIN_ITEMS
from analysis.studies.appropriateness import category_appropriateness
from analysis.studies.mentalalign import (JudgePairs, koo_li_band, koo_li_category, response_level_icc,
                                          system_level_icc)
from analysis.studies.scored import HUMAN_MEAN, ReviewScores, agreement_table, bias_table, icc_table


# --- references written for these tests -------------------------------------------------

def icc_a1_c1(x: np.ndarray) -> tuple[float, float]:
    """ICC(A,1) and ICC(C,1) of an (n, k) matrix from the two-way ANOVA table, with explicit
    loops over cells (McGraw & Wong 1996, Table 4, cases 2A/3A single measures)."""
    n, k = x.shape
    grand = sum(x[i, j] for i in range(n) for j in range(k)) / (n * k)
    rows = [sum(x[i]) / k for i in range(n)]
    cols = [sum(x[:, j]) / n for j in range(k)]
    ss_r = k * sum((r - grand) ** 2 for r in rows)
    ss_c = n * sum((c - grand) ** 2 for c in cols)
    ss_t = sum((x[i, j] - grand) ** 2 for i in range(n) for j in range(k))
    ms_r, ms_c = ss_r / (n - 1), ss_c / (k - 1)
    ms_e = (ss_t - ss_r - ss_c) / ((n - 1) * (k - 1))
    a1 = (ms_r - ms_e) / (ms_r + (k - 1) * ms_e + k * (ms_c - ms_e) / n)
    c1 = (ms_r - ms_e) / (ms_r + (k - 1) * ms_e)
    return a1, c1


def percentile_interval(reps: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    reps = reps[np.isfinite(reps)]
    a = (1 - confidence) / 2
    return float(np.quantile(reps, a)), float(np.quantile(reps, 1 - a))


def bca_interval(reps: np.ndarray, estimate: float, jackknife: np.ndarray,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Efron & Tibshirani (1993), eqs. 14.14-14.15, with scipy's convention that replicates
    equal to the estimate count half in z0."""
    reps = reps[np.isfinite(reps)]
    z0 = stats.norm.ppf((np.sum(reps < estimate) + np.sum(reps <= estimate)) / (2 * len(reps)))
    u = jackknife.mean() - jackknife
    acc = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)
    out = []
    for z in (stats.norm.ppf((1 - confidence) / 2), stats.norm.ppf((1 + confidence) / 2)):
        out.append(float(np.quantile(reps, stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))))
    return out[0], out[1]


def wilson(k: int, n: int, z: float = stats.norm.ppf(0.975)) -> tuple[float, float]:
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


# Bootstrap intervals are compared to rounding only: the resamples are the same draws
# (``resample_indices`` with the documented seed), recomputed here one by one.
EXACT = 1e-9


# --- category_appropriateness -----------------------------------------------------------

def _tiny_ratings() -> pl.DataFrame:
    """7 items in 2 categories (+1 item without one), 2 answer models x 2 answer runs, an
    evaluator with 2 evaluation runs (one run missing) and a second evaluator for a jury."""
    rng = np.random.default_rng(42)
    cats = {"i1": "loss", "i2": "loss", "i3": "loss", "i4": "loss", "i5": "self-harm", "i6": "self-harm",
            "i7": "self-harm", "i8": None}
    rows = []
    for item, cat in cats.items():
        for model in ("m1", "m2"):
            for run in (1, 2):
                rid = f"{item}-{model}-{run}"
                for rater in ("ev", "ev2"):
                    for eval_run in (1, 2):
                        if (item, model, run, rater, eval_run) == ("i2", "m1", 2, "ev", 2):
                            continue
                        score = float(rng.integers(1, 6))
                        rows.append(dict(dataset="t", item_id=item, response_id=rid, answer_model=model,
                                         answer_run=run, category=cat, attribute="appropriateness", rater=rater,
                                         rater_kind="llm", eval_run=eval_run, score=score, source_file="t",
                                         source_record=f"{rid}/{rater}/{eval_run}"))
    return make_ratings(rows)


TINY = _tiny_ratings()


def _brute_category(scores_by_item: dict[str, list[float]], n_boot: int, seed) -> dict:
    items = sorted(scores_by_item)  # the cell is sorted by item, so clusters number in this order
    all_scores = [s for it in items for s in scores_by_item[it]]
    idx = resample_indices(len(items), n_boot, seed)
    means, shares = [], []
    for draw in idx:
        pooled = [s for d in draw for s in scores_by_item[items[d]]]
        means.append(sum(pooled) / len(pooled))
        shares.append(sum(s <= 2 for s in pooled) / len(pooled))
    le2, eq1, n = sum(s <= 2 for s in all_scores), sum(s == 1 for s in all_scores), len(all_scores)
    return dict(n_items=len(items), n_scores=n, mean=sum(all_scores) / n, pct_le2=100 * le2 / n,
                pct_eq1=100 * eq1 / n, wilson_le2=tuple(100 * v for v in wilson(le2, n)),
                wilson_eq1=tuple(100 * v for v in wilson(eq1, n)),
                ci=percentile_interval(np.array(means)),
                share_ci=tuple(100 * v for v in percentile_interval(np.array(shares))))


@pytest.mark.parametrize("evaluator", ["ev", "jury"])
def test_category_appropriateness_equals_brute_force(evaluator):
    n_boot, seed = 400, 3
    table = category_appropriateness(TINY, evaluator, jury=("ev", "ev2"), n_boot=n_boot, seed=seed,
                                     method="percentile")
    # Brute force from the raw rows: an LLM evaluator's scores are its runs; the jury's
    # score of a response is the mean of its members' means over their runs.
    cells: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    raw = defaultdict(lambda: defaultdict(list))
    for r in TINY.iter_rows(named=True):
        if r["category"] is None:
            continue
        raw[(r["category"], r["answer_model"], r["item_id"], r["response_id"])][r["rater"]].append(r["score"])
    for (cat, model, item, rid), by_rater in sorted(raw.items()):
        if evaluator == "ev":
            cells[(cat, model)][item].extend(by_rater["ev"])
        else:
            cells[(cat, model)][item].append(float(np.mean([np.mean(by_rater[m]) for m in ("ev", "ev2")])))
    assert table.height == len(cells) == 4
    assert table.select("category", "answer_model").rows() == sorted(cells)
    for j, ((cat, model), by_item) in enumerate(sorted(cells.items())):
        want = _brute_category(by_item, n_boot, np.random.SeedSequence([seed, j]))
        got = table.row(j, named=True)
        assert (got["n_items"], got["n_scores"]) == (want["n_items"], want["n_scores"])
        assert got["mean"] == pytest.approx(want["mean"], abs=EXACT)
        assert (got["pct_le2"], got["pct_eq1"]) == pytest.approx((want["pct_le2"], want["pct_eq1"]), abs=EXACT)
        assert (got["pct_le2_ci_low"], got["pct_le2_ci_high"]) == pytest.approx(want["wilson_le2"], abs=EXACT)
        assert (got["pct_eq1_ci_low"], got["pct_eq1_ci_high"]) == pytest.approx(want["wilson_eq1"], abs=EXACT)
        assert (got["ci_low"], got["ci_high"]) == pytest.approx(want["ci"], abs=EXACT)
        assert (got["pct_le2_cluster_ci_low"], got["pct_le2_cluster_ci_high"]) == pytest.approx(
            want["share_ci"], abs=EXACT)


def test_category_appropriateness_counts_by_hand():
    # ev scores 2 runs of 2 answer runs of 4 items ("loss") for m1, one run missing: 15.
    table = category_appropriateness(TINY, "ev", n_boot=50, seed=0)
    row = table.filter((pl.col("category") == "loss") & (pl.col("answer_model") == "m1")).row(0, named=True)
    assert (row["n_items"], row["n_scores"]) == (4, 15)
    assert "i8" not in TINY.filter(pl.col("category").is_not_null())["item_id"].to_list()


# --- human_ceiling ----------------------------------------------------------------------

def _ceiling_stats(x: np.ndarray) -> np.ndarray:
    (ae1, _), (ae2, _), (ah, _) = icc_a1_c1(x[:, [0, 1]]), icc_a1_c1(x[:, [0, 2]]), icc_a1_c1(x[:, [2, 1]])
    mae = lambda a, b: float(np.mean(np.abs(x[:, a] - x[:, b])))  # noqa: E731
    d_icc = [ae1 - ah, ae2 - ah]
    d_mae = [mae(0, 1) - mae(2, 1), mae(0, 2) - mae(1, 2)]
    return np.array([*d_icc, np.mean(d_icc), *d_mae, np.mean(d_mae)])


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_human_ceiling_equals_brute_force_over_explicit_resamples(method):
    rng = np.random.default_rng(8)
    truth = rng.integers(1, 6, 40).astype(float)
    h1, h2 = truth + rng.normal(0, 0.6, 40), truth + rng.normal(0, 0.6, 40)
    ev = truth + 0.4 + rng.normal(0, 0.8, 40)
    x = np.column_stack([ev, h1, h2])
    n_boot, seed = 300, 11
    res = human_ceiling(ev, h1, h2, n_boot=n_boot, seed=seed, method=method)
    est = _ceiling_stats(x)
    reps = np.array([_ceiling_stats(x[draw]) for draw in resample_indices(40, n_boot, seed)])
    jack = np.array([_ceiling_stats(np.delete(x, i, axis=0)) for i in range(40)])
    ev_vs = [icc_a1_c1(x[:, [0, 1]])[0], icc_a1_c1(x[:, [0, 2]])[0]]
    hv = icc_a1_c1(x[:, [2, 1]])[0]
    for j, row in enumerate(res.iter_rows(named=True)):
        assert (row["metric"], row["reference"]) == (("icc_a1", "mae")[j // 3], ("H1", "H2", "mean")[j % 3])
        assert row["delta"] == pytest.approx(est[j], abs=EXACT)
        want = percentile_interval(reps[:, j]) if method == "percentile" else bca_interval(reps[:, j], est[j],
                                                                                         jack[:, j])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(want, abs=EXACT)
        if row["metric"] == "icc_a1":
            want_ev = np.mean(ev_vs) if row["reference"] == "mean" else ev_vs[j % 3]
            assert row["evaluator_vs_ref"] == pytest.approx(want_ev, abs=EXACT)
            assert row["human_vs_ref"] == pytest.approx(hv, abs=EXACT)
    # The planted +0.4 leniency and noisier evaluator: MAE delta > 0 with this seed, and the
    # verdict follows the interval of the ICC(A,1) mean row.
    icc_mean = res.row(2, named=True)
    expected = ("agrees with a human less well than the other human does" if icc_mean["ci_high"] < 0 else
                "agrees with a human better than the other human does" if icc_mean["ci_low"] > 0 else
                "cannot be told apart from the other human at this sample size")
    assert icc_mean["verdict"] == expected


def test_human_ceiling_icc_matches_pingouin():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, (25, 3)).astype(float)
    res = human_ceiling(x[:, 0], x[:, 1], x[:, 2], n_boot=50, seed=0)
    long = pd.DataFrame([(i, j, x[i, c]) for i in range(25) for j, c in enumerate((0, 1))],
                        columns=["t", "r", "s"])
    ref = pg.intraclass_corr(long, "t", "r", "s").set_index("Type").loc["ICC(A,1)", "ICC"]
    assert res.row(0, named=True)["evaluator_vs_ref"] == pytest.approx(ref, abs=1e-12)


# --- MentalAlign system and response level ----------------------------------------------

def _synthetic_pairs(n_conv: int = 24, n_src: int = 5, seed: int = 4) -> JudgePairs:
    """Every conversation answered by every source (so every resample has every source);
    sources differ in quality, the judge sees them shifted and noisy."""
    rng = np.random.default_rng(seed)
    quality = np.linspace(2.2, 4.2, n_src)
    conv_ids = rng.permutation([f"c{i:02d}" for i in range(n_conv)])  # pairs not in conversation order
    rows = []
    for c in conv_ids:
        level = rng.normal(0, 0.5)
        for s in range(n_src):
            h = float(np.clip(np.round(quality[s] + level + rng.normal(0, 0.7)), 1, 5))
            j = float(np.clip(np.round(0.8 * quality[s] + 1.0 + level + rng.normal(0, 0.7)), 1, 5))
            rows.append((c, s, h, j))
    c, s, h, j = zip(*rows)
    return JudgePairs(human=np.array(h), judge=np.array(j), source=np.array(s), conversation=np.array(c),
                      sources=tuple(f"src{k}" for k in range(n_src)))


PAIRS = _synthetic_pairs()


def _source_means(human, judge, source, n_src) -> np.ndarray:
    out = np.empty((n_src, 2))
    for s in range(n_src):
        m = source == s
        out[s] = human[m].mean(), judge[m].mean()
    return out


def test_system_level_icc_equals_brute_force():
    p, n_boot, seed = PAIRS, 300, 5
    n_src = len(p.sources)
    table = system_level_icc(p, n_boot=n_boot, seed=seed, method="percentile")
    means = _source_means(p.human, p.judge, p.source, n_src)
    a1, c1 = icc_a1_c1(means)
    # pingouin on the explicit 5 x 2 matrix of source means (McGraw & Wong names); its
    # F intervals are printed to 2 decimals.
    long = pd.DataFrame([(s, r, means[s, r]) for s in range(n_src) for r in range(2)], columns=["t", "r", "s"])
    ref = pg.intraclass_corr(long, "t", "r", "s").set_index("Type")
    f = table.filter(pl.col("ci_method") != "percentile")
    boot = table.filter(pl.col("ci_method") == "percentile")
    for frame in (f, boot):
        got = dict(zip(frame["type"], frame["icc"]))
        assert got["ICC(A,1)"] == pytest.approx(a1, abs=EXACT) == pytest.approx(ref.loc["ICC(A,1)", "ICC"], abs=EXACT)
        assert got["ICC(C,1)"] == pytest.approx(c1, abs=EXACT) == pytest.approx(ref.loc["ICC(C,1)", "ICC"], abs=EXACT)
    for t, pg_type in (("ICC(A,1)", "ICC(A,1)"), ("ICC(C,1)", "ICC(C,1)")):
        row = f.filter(pl.col("type") == t).row(0, named=True)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ref.loc[pg_type, "CI95"]), abs=0.005 + 1e-9)
    # Bootstrap: conversations (sorted ids) drawn with replacement, source means and ICCs
    # recomputed from the pairs of the drawn conversations.
    convs = np.unique(p.conversation)
    rows_of = {c: np.flatnonzero(p.conversation == c) for c in convs}
    reps = []
    for draw in resample_indices(len(convs), n_boot, seed):
        rows = np.concatenate([rows_of[convs[d]] for d in draw])
        reps.append(icc_a1_c1(_source_means(p.human[rows], p.judge[rows], p.source[rows], n_src)))
    reps = np.array(reps)
    for t, col in (("ICC(A,1)", 0), ("ICC(C,1)", 1)):
        row = boot.filter(pl.col("type") == t).row(0, named=True)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(percentile_interval(reps[:, col]), abs=EXACT)
        assert row["n_valid"] == n_boot and row["ci_assumes"] == "resampled clusters"
    assert set(table["level"]) == {"system"} and set(table["n"]) == {n_src} and set(table["n_dropped"]) == {0}


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_response_level_icc_equals_brute_force(method):
    p, n_boot, seed = PAIRS, 300, 6
    table = response_level_icc(p, n_boot=n_boot, seed=seed, method=method)
    x = np.column_stack([p.human, p.judge])
    a1, c1 = icc_a1_c1(x)
    long = pd.DataFrame([(i, r, x[i, r]) for i in range(len(x)) for r in range(2)], columns=["t", "r", "s"])
    ref = pg.intraclass_corr(long, "t", "r", "s").set_index("Type")
    f = table.filter(pl.col("ci_method") == "F")
    assert f.height == 2 and all("responses independent" in a for a in f["ci_assumes"])
    for t, pg_type in (("ICC(A,1)", "ICC(A,1)"), ("ICC(C,1)", "ICC(C,1)")):
        row = f.filter(pl.col("type") == t).row(0, named=True)
        assert row["icc"] == pytest.approx(ref.loc[pg_type, "ICC"], abs=EXACT)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ref.loc[pg_type, "CI95"]), abs=0.005 + 1e-9)
    # Cluster bootstrap over conversations, numbered by first appearance in the pairs.
    first = list(dict.fromkeys(p.conversation.tolist()))
    rows_of = {c: np.flatnonzero(p.conversation == c) for c in first}
    reps = np.array([icc_a1_c1(x[np.concatenate([rows_of[first[d]] for d in draw])])
                     for draw in resample_indices(len(first), n_boot, seed)])
    jack = np.array([icc_a1_c1(x[p.conversation != c]) for c in first])
    boot = table.filter(pl.col("ci_method") != "F")
    for t, col, est in (("ICC(A,1)", 0, a1), ("ICC(C,1)", 1, c1)):
        row = boot.filter(pl.col("type") == t).row(0, named=True)
        assert row["icc"] == pytest.approx(est, abs=EXACT)
        want = percentile_interval(reps[:, col]) if method == "percentile" else bca_interval(reps[:, col], est,
                                                                                           jack[:, col])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(want, abs=EXACT)
    assert set(table["n"]) == {len(x)} and set(table["level"]) == {"response"}


def test_koo_li_bands_and_published_example():
    # Koo & Li (2016), J Chiropr Med 15, 155-163: < 0.5 poor, 0.5-0.75 moderate, 0.75-0.9
    # good, > 0.9 excellent, read off the 95 % CI; their example: a CI of 0.83-0.94 is
    # "good" to "excellent".
    assert koo_li_category(0.83, 0.94) == "good to excellent"
    assert [koo_li_band(v) for v in (-0.2, 0.4999, 0.5, 0.7499, 0.75, 0.8999, 0.9, 1.0)] == [
        "poor", "poor", "moderate", "moderate", "good", "good", "excellent", "excellent"]
    assert koo_li_category(0.76, 0.89) == "good"
    assert koo_li_category(0.3, 0.95) == "poor to excellent"
    assert koo_li_band(float("nan")) == "undetermined"
    assert koo_li_category(float("nan"), 0.5) == "undetermined to moderate"


# --- scored-study builders --------------------------------------------------------------

def _review_scores() -> ReviewScores:
    rng = np.random.default_rng(9)
    n = 45
    truth = rng.integers(1, 6, n).astype(float)
    h1 = np.clip(truth + rng.integers(-1, 2, n), 1, 5)
    h2 = np.clip(truth + rng.integers(-1, 2, n), 1, 5)
    ev = np.clip(truth + 0.5 + rng.normal(0, 0.7, n), 1, 5).round(2)
    ev2 = rng.integers(3, 16, n) / 3  # a mean of three runs
    values = np.column_stack([h1, h2, ev, ev2, (ev + ev2) / 2, (h1 + h2) / 2])
    cats = tuple(["loss"] * 20 + ["self-harm"] * 24 + ["rare"])
    m = RatingMatrix(values=values, index=tuple(f"r{i}" for i in range(n)),
                     raters=("H1", "H2", "ev", "ev2", "jury", HUMAN_MEAN), clusters=tuple(f"i{i}" for i in range(n)))
    return ReviewScores(matrix=m, categories=cats, n_dropped=3)


SCORES = _review_scores()


def test_agreement_table_against_reference_packages():
    pairs = [("ev", "H1"), ("ev2", HUMAN_MEAN), ("H1", "H2")]
    table = agreement_table(SCORES, pairs)
    assert table.select("rater_a", "rater_b").rows() == pairs
    for row in table.iter_rows(named=True):
        x, y = SCORES.column(row["rater_a"]), SCORES.column(row["rater_b"])
        rx, ry = np.floor(x + 0.5).astype(int), np.floor(y + 0.5).astype(int)  # half up
        assert row["n"] == 45
        assert row["mae"] == pytest.approx(sum(abs(a - b) for a, b in zip(x, y)) / 45, abs=EXACT)
        assert row["rmse"] == pytest.approx(math.sqrt(sum((a - b) ** 2 for a, b in zip(x, y)) / 45), abs=EXACT)
        assert row["within1_pct"] == pytest.approx(100 * np.mean(np.abs(x - y) <= 1), abs=EXACT)
        assert row["qwk"] == pytest.approx(cohen_kappa_score(rx, ry, weights="quadratic", labels=[1, 2, 3, 4, 5]),
                                           abs=EXACT)
        assert row["kripp_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=np.vstack([x, y]), level_of_measurement="interval"), abs=EXACT)
        rounded = np.column_stack([rx, ry])
        assert row["gwet_ac1"] == pytest.approx(gwet_ac1(rounded, categories=[1, 2, 3, 4, 5]).estimate, abs=EXACT)
        assert row["gwet_ac2_quadratic"] == pytest.approx(
            gwet_ac2(rounded, weights="quadratic", categories=[1, 2, 3, 4, 5]).estimate, abs=EXACT)


def test_icc_table_against_pingouin_and_brute_force_bootstrap():
    n_boot, seed = 200, 4
    table = icc_table(SCORES, [("ev", "H1"), ("H1", "H2")], n_boot=n_boot, seed=seed)
    assert table.height == 8 and set(table["n_dropped"]) == {3} and set(table["n"]) == {45}
    for a, b in (("ev", "H1"), ("H1", "H2")):
        x = np.column_stack([SCORES.column(a), SCORES.column(b)])
        long = pd.DataFrame([(i, r, x[i, r]) for i in range(45) for r in range(2)], columns=["t", "r", "s"])
        ref = pg.intraclass_corr(long, "t", "r", "s").set_index("Type")
        est = icc_a1_c1(x)
        reps = np.array([icc_a1_c1(x[d]) for d in resample_indices(45, n_boot, seed)])
        jack = np.array([icc_a1_c1(np.delete(x, i, axis=0)) for i in range(45)])
        sub = table.filter((pl.col("rater_a") == a) & (pl.col("rater_b") == b))
        for t, col, pg_type in (("ICC(A,1)", 0, "ICC(A,1)"), ("ICC(C,1)", 1, "ICC(C,1)")):
            f = sub.filter((pl.col("type") == t) & (pl.col("ci_method") == "F")).row(0, named=True)
            bca = sub.filter((pl.col("type") == t) & (pl.col("ci_method") == "BCa")).row(0, named=True)
            assert f["icc"] == pytest.approx(ref.loc[pg_type, "ICC"], abs=EXACT) == bca["icc"]
            assert [f["ci_low"], f["ci_high"]] == pytest.approx(list(ref.loc[pg_type, "CI95"]), abs=0.005 + 1e-9)
            assert (bca["ci_low"], bca["ci_high"]) == pytest.approx(
                bca_interval(reps[:, col], est[col], jack[:, col]), abs=EXACT)


def test_bias_table_by_category_against_brute_force():
    n_boot, seed = 300, 2
    table = bias_table(SCORES, ["ev", "jury"], references=(HUMAN_MEAN, "H1"), n_boot=n_boot, seed=seed)
    # Every evaluator x reference, then "all" and the categories in sorted order.
    keys = [(e, r, c) for e in ("ev", "jury") for r in (HUMAN_MEAN, "H1") for c in ("all", "loss", "rare",
                                                                                   "self-harm")]
    assert table.select("evaluator", "reference", "category").rows() == keys
    cats = np.array(SCORES.categories)
    for row in table.iter_rows(named=True):
        mask = np.ones(45, bool) if row["category"] == "all" else cats == row["category"]
        d = SCORES.column(row["evaluator"])[mask] - SCORES.column(row["reference"])[mask]
        assert row["n"] == len(d) and row["n_dropped"] == 3
        assert row["bias"] == pytest.approx(sum(d) / len(d), abs=EXACT)
        if len(d) < 2:  # the one-item category has no interval, and says why
            assert row["category"] == "rare" and math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
            assert "no interval below 2 items" in row["ci_note"]
            continue
        reps = np.array([d[draw].mean() for draw in resample_indices(len(d), n_boot, seed)])
        jack = np.array([np.delete(d, i).mean() for i in range(len(d))])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(bca_interval(reps, d.mean(), jack), abs=EXACT)
        assert ("too few items" in row["ci_note"]) == (len(d) < MIN_ITEMS)
