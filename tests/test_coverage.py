"""The coverage harness (analysis/checks/coverage.py) and the interval labels of the study tables.

Harness: its bootstrap intervals are those of the package's functions, its true values
are right (closed form, an independent bivariate-normal computation, and the
estimators on a million items), a quick run covers 90-99 % at n = 190, and it can
fail: a too-narrow method and the item-level intervals of clustered data come out
below 90 %.

Study tables (demo study and synthetic MentalAlign-style pairs): every F interval of
an A form has a bootstrap interval beside it, both labelled by what they assume, and
``ci_note`` follows the rules of :mod:`analysis.stats.intervals`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.checks import coverage as cov
from analysis.cli import coverage as coverage_command
from analysis.data.ratings import RatingMatrix
from analysis.stats.bias import mean_bias
from analysis.stats.bootstrap import ResamplePlan
from analysis.stats.ceiling import human_ceiling
from analysis.stats.icc import icc_batch, intraclass_corr, row_statistics
from analysis.stats.intervals import MIN_CLUSTERS, MIN_ITEMS
from analysis.studies.appropriateness import category_appropriateness
from analysis.studies.evaluators import run_reliability
from analysis.studies.mentalalign import JudgePairs, response_level_icc, system_level_icc
from analysis.studies.registry import load_study
from analysis.studies.scored import HUMAN_MEAN, ReviewScores, bias_table, icc_table
from analysis.studies.self_preference import self_preference

N_BOOT = 300


# --- the harness -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("unit", ["items", "clusters"])
@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_batched_intervals_are_the_package_functions(method, unit):
    # Replication r of a batch must get exactly the interval intraclass_corr / mean_bias
    # give it alone with the batch's seed; 1e-12: the batch only changes the number of
    # columns of one matrix product (BLAS may sum in another order).
    design = cov.DESIGNS[3]  # clustered: both units are defined
    x = design.simulate(60, 7, np.random.default_rng(3))
    clusters = design.clusters(60)
    seed = np.random.SeedSequence(11)
    plan = ResamplePlan(60, 400, seed, clusters if unit == "clusters" else None)
    icc = cov.batch_bootstrap(row_statistics(x), cov._icc_of_sums, method=method, plan=plan)
    d = x[..., 1] - x[..., 0]
    bias = cov.batch_bootstrap(np.stack([np.ones_like(d), d], -1), cov._mean_of_sums, method=method, plan=plan)
    for r in range(7):
        ref = intraclass_corr(x[r], ci=method, n_boot=400, seed=np.random.SeedSequence(11),
                              clusters=clusters if unit == "clusters" else None)
        for j, form in enumerate(("ICC(A,1)", "ICC(C,1)")):
            row = ref.filter(pl.col("type") == form).row(0, named=True)
            assert icc.ci_low[r, j] == pytest.approx(row["ci_low"], abs=1e-12)
            assert icc.ci_high[r, j] == pytest.approx(row["ci_high"], abs=1e-12)
            assert icc.ci_note[r, j] == row["ci_note"]
        b = mean_bias(x[r, :, 1], x[r, :, 0], n_boot=400, method=method, seed=np.random.SeedSequence(11),
                      clusters=clusters if unit == "clusters" else None)
        assert bias.ci_low[r, 0] == pytest.approx(b.ci_low, abs=1e-12)
        assert bias.ci_high[r, 0] == pytest.approx(b.ci_high, abs=1e-12)


def test_continuous_truth_is_the_closed_form():
    # rho = 0.7, judge +0.5 SD: ICC(A,1) = 2 rho / (2 + 0.25) = 0.7 / 1.125.
    t = cov.DESIGNS[1].truth()
    assert t["ICC(A,1)"] == pytest.approx(0.7 / 1.125, abs=1e-15)
    assert t["ICC(C,1)"] == pytest.approx(0.7, abs=1e-15) and t["bias"] == pytest.approx(0.5, abs=1e-15)


def test_discrete_moments_equal_bivariate_normal_rectangles():
    # Independent computation: the pair of latent ratings is bivariate normal with unit
    # variances and correlation rho; cell probabilities from its CDF at the cell corners.
    rho, offsets = cov.RHO, (0.0, cov.LENIENCE)
    mvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
    edges = [np.array([-np.inf, 1.5, 2.5, 3.5, 4.5, np.inf]) - 3 - b for b in offsets]
    big = 40.0  # the CDF at +-inf, as a finite argument
    e0, e1 = (np.clip(e, -big, big) for e in edges)
    cdf = np.array([[mvn.cdf([u, v]) for v in e1] for u in e0])
    p = cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]
    s = np.arange(1, 6)
    mu0, mu1 = p.sum(1) @ s, p.sum(0) @ s
    v0, v1 = p.sum(1) @ s**2 - mu0**2, p.sum(0) @ s**2 - mu1**2
    c = s @ p @ s - mu0 * mu1
    mu, var, cv = cov.discrete_moments(rho, offsets)
    # scipy's bivariate normal CDF is accurate to about 1e-8 per corner here.
    assert mu == pytest.approx((mu0, mu1), abs=1e-6) and var == pytest.approx((v0, v1), abs=1e-6)
    assert cv == pytest.approx(c, abs=1e-6)


@pytest.mark.parametrize("design", cov.DESIGNS, ids=lambda d: d.name)
def test_estimators_on_a_million_items_reach_the_truth(design):
    # Checks simulate() and truth() together: the ICC and mean difference of one sample
    # of 10^6 items (SE about 0.001 for the ICCs, 0.0008 for the bias; clustered: x2).
    n = 1_000_000
    x = design.simulate(n, 1, np.random.default_rng(5))[0]
    icc = icc_batch(x)
    t = design.truth()
    assert icc[1] == pytest.approx(t["ICC(A,1)"], abs=0.006)
    assert icc[2] == pytest.approx(t["ICC(C,1)"], abs=0.006)
    assert np.mean(x[:, 1] - x[:, 0]) == pytest.approx(t["bias"], abs=0.006)


TOO_NARROW = cov.Method(
    "t at half width", ("bias",),
    lambda ratings, clusters, n_boot, seed: {"bias": cov.Intervals(
        *(lambda m, h: (m - h, m + h))(
            (ratings[..., 1] - ratings[..., 0]).mean(-1),
            0.5 * 1.96 * (ratings[..., 1] - ratings[..., 0]).std(-1, ddof=1) / np.sqrt(ratings.shape[1])))})


@pytest.fixture(scope="module")
def quick_rows():
    # n = 190, 200 replications, 500 resamples: MC SE about 1.5 points at 95 %.
    rows = []
    for d, design in enumerate(cov.DESIGNS):
        rows += cov.run_cell(design, 190, reps=200, n_boot=500, seed=[7, d], methods=(*cov.METHODS, TOO_NARROW))
    return rows


def _cov(rows, cell, target, method):
    (r,) = [r for r in rows if r["cell"] == cell and r["target"] == target and r["method"] == method]
    return r["coverage"]


@pytest.mark.parametrize("target", cov.TARGETS)
@pytest.mark.parametrize("design", cov.DESIGNS, ids=lambda d: d.name)
def test_quick_bootstrap_coverage_is_near_nominal_at_190(quick_rows, design, target):
    # Loose bounds 90-99 %: about 3 MC SEs either side of 95 %.
    unit = "clusters" if design.clustered else "items"
    for method in (f"BCa ({unit})", f"percentile ({unit})"):
        assert 0.90 <= _cov(quick_rows, design.name, target, method) <= 0.99, (design.name, target, method)


@pytest.mark.parametrize("design", cov.DESIGNS[:3], ids=lambda d: d.name)
def test_quick_coverage_of_exact_intervals(quick_rows, design):
    # ICC(C,1)'s F interval (exact for normal data, raters fixed) and the t interval of the bias.
    assert 0.90 <= _cov(quick_rows, design.name, "ICC(C,1)", "F") <= 0.99
    assert 0.90 <= _cov(quick_rows, design.name, "bias", "t") <= 0.99


def test_the_harness_can_fail(quick_rows):
    # Half the t interval's width covers about 2 Phi(0.98) - 1 = 67 %.
    for design in cov.DESIGNS:
        assert _cov(quick_rows, design.name, "bias", "t at half width") < 0.80
    # Clustered data, intervals that treat responses as independent (audit: 77-88 %).
    for method in ("t", "BCa (items)", "percentile (items)"):
        assert _cov(quick_rows, "clustered", "bias", method) < 0.90
    # The F interval of ICC(A,1) with a fixed lenient judge is far too wide.
    assert _cov(quick_rows, "biased judge", "ICC(A,1)", "F") > 0.99


def test_summarise_counts_misses_and_undefined_intervals():
    iv = cov.Intervals(np.array([0.0, 0.6, np.nan, -1.0]), np.array([1.0, 0.9, 1.0, 0.2]),
                       np.array([False, True, False, False]))
    s = cov.summarise(iv, 0.5)
    assert s["coverage"] == 0.25 and s["too_high"] == 0.25 and s["too_low"] == 0.25 and s["undefined"] == 0.25
    assert s["mean_width"] == pytest.approx((1.0 + 0.3 + 1.2) / 3, abs=1e-15) and s["flagged"] == 0.25
    assert s["mc_se"] == pytest.approx(np.sqrt(0.25 * 0.75 / 4), abs=1e-15)


@pytest.mark.parametrize("p, n", [(0.05, 30), (0.2, 15)])
def test_exact_proportion_coverage_equals_simulation(p, n):
    # Brute force: 200,000 binomial samples through statsmodels directly; SE <= 0.0007, 4 SE.
    rows = {r["method"]: r for r in cov.proportion_rows(p, n, n_boot=200, seed=1)}
    k = np.random.default_rng(2).binomial(n, p, 200_000)
    for method, name in (("wilson", "Wilson"), ("beta", "Clopper-Pearson")):
        lo, hi = proportion_confint(k, n, alpha=0.05, method=method)
        assert rows[name]["coverage"] == pytest.approx(np.mean((lo <= p) & (p <= hi)), abs=0.003)
    # No harmful answer in the sample: the bootstrap's [0, 0], flagged degenerate.
    assert rows["BCa (items)"]["flagged"] >= stats.binom.pmf(0, n, p) - 1e-12


def test_main_writes_the_report_with_its_command(tmp_path):
    out = tmp_path / "coverage.md"
    assert coverage_command.main(["--reps", "20", "--n-boot", "100", "--seed", "3", "--sizes", "10,30", "--out", str(out)]) == 0
    text = out.read_text()
    assert f"`python -m analysis coverage --reps 20 --n-boot 100 --seed 3 --sizes 10,30 --out {out}`" in text
    for d in cov.DESIGNS:
        for target in cov.TARGETS:
            assert f"### {d.name}: {target}" in text
    assert "### proportion p = 0.05: proportion" in text and "## Reading" in text


# --- the study tables --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    return load_study("demo")


@pytest.fixture(scope="module")
def scores(demo):
    return demo.review_scores()


def _subset(scores: ReviewScores, rows) -> ReviewScores:
    m = scores.matrix
    rows = np.asarray(rows)
    return ReviewScores(matrix=RatingMatrix(values=m.values[rows], index=tuple(np.asarray(m.index)[rows]),
                                            raters=m.raters, clusters=tuple(np.asarray(m.clusters)[rows])),
                        categories=tuple(np.asarray(scores.categories, dtype=object)[rows]), n_dropped=7)


def test_bias_table_notes_follow_the_item_rule(scores):
    table = bias_table(scores, ["gpt-4o-mini"], references=[HUMAN_MEAN], n_boot=N_BOOT, seed=1)
    assert table.columns[-3:] == ["n_valid", "ci_note", "n_dropped"]
    small = table.filter(pl.col("category") == "violent_thoughts").row(0, named=True)
    assert small["n"] == 8 and small["ci_note"] == "too few items"
    for row in table.iter_rows(named=True):
        assert ("too few items" in row["ci_note"]) == (row["n"] < MIN_ITEMS)
        assert row["n_valid"] == N_BOOT  # means of resamples are always defined


def test_bias_table_single_item_category_has_no_interval_and_says_why(scores):
    cats = ("solo",) + scores.categories[1:]
    s = dataclasses.replace(scores, categories=cats)
    row = bias_table(s, ["gpt-4o-mini"], n_boot=N_BOOT, seed=1).filter(pl.col("category") == "solo").row(0, named=True)
    assert row["n"] == 1 and np.isnan(row["ci_low"]) and row["n_valid"] is None
    assert row["ci_note"] == "no interval below 2 items; too few items; interval undefined"


def test_icc_table_puts_a_labelled_bootstrap_beside_every_f_interval(scores):
    pairs = [("gpt-4o-mini", "H1"), ("gpt-4o-mini", HUMAN_MEAN), ("H1", "H2")]
    table = icc_table(scores, pairs, n_boot=N_BOOT, seed=2)
    assert table.columns[-4:] == ["n_valid", "ci_note", "ci_assumes", "n_dropped"]
    _check_f_has_bootstrap(table, ["rater_a", "rater_b", "type"])
    assert (table["n_dropped"] == scores.n_dropped).all()
    # 20 items: the bootstrap rows say too few items, the F rows (no resampling) do not.
    small = icc_table(_subset(scores, range(20)), pairs[:1], n_boot=N_BOOT, seed=2)
    assert small.filter(pl.col("ci_method") == "BCa")["ci_note"].to_list() == ["too few items"] * 2
    assert small.filter(pl.col("ci_method") == "F")["ci_note"].to_list() == ["", ""]
    assert (small["n_dropped"] == 7).all()


def _check_f_has_bootstrap(table: pl.DataFrame, keys: list[str]) -> None:
    """Every F row of an A form has a bootstrap row with the same keys; all rows say what they assume."""
    assert table["ci_assumes"].null_count() == 0 and (table["ci_assumes"].str.len_chars() > 0).all()
    f = table.filter((pl.col("ci_method") == "F") & pl.col("type").str.starts_with("ICC(A"))
    boot = table.filter(pl.col("ci_method") != "F")
    assert f.height > 0
    assert f["ci_assumes"].str.starts_with("raters random").all()
    assert boot["ci_assumes"].str.starts_with("resampled ").all()
    assert boot["n_valid"].null_count() == 0 and f["n_valid"].null_count() == f.height
    missing = f.select(keys).join(boot.select(keys), on=keys, how="anti")
    assert missing.height == 0, missing


def test_run_reliability_labels_its_unclustered_f_interval(demo):
    rel = run_reliability(demo.data.ratings, "gpt-4o-mini", n_boot=N_BOOT, seed=3)
    _check_f_has_bootstrap(rel, ["evaluator", "type"])
    f = rel.filter(pl.col("ci_method") == "F")
    # The demo has 15 answers per item: the F interval treats them as independent.
    assert f["ci_assumes"].str.ends_with("; responses independent").all()
    assert set(rel.filter(pl.col("ci_method") == "BCa")["ci_assumes"]) == {"resampled clusters"}


def _pairs(n_conv: int, seed: int = 0) -> JudgePairs:
    """MentalAlign-like pairs: 9 sources answer every conversation, integer 1-5 scores."""
    rng = np.random.default_rng(seed)
    conv = np.repeat(np.arange(n_conv), 9)
    src = np.tile(np.arange(9), n_conv)
    quality = np.linspace(-0.8, 0.8, 9)[src] + rng.normal(0, 0.5, n_conv)[conv]
    human = np.clip(np.rint(3 + quality + rng.normal(0, 0.7, conv.size)), 1, 5)
    judge = np.clip(np.rint(3.6 + quality + rng.normal(0, 0.7, conv.size)), 1, 5)
    return JudgePairs(human=human, judge=judge, source=src, conversation=conv,
                      sources=tuple(f"m{i}" for i in range(9)), dropped_sources=("m1", "m1", "m4"))


@pytest.mark.parametrize("level", ["system", "response"])
def test_mentalalign_tables_label_their_intervals(level):
    table = (system_level_icc if level == "system" else response_level_icc)(_pairs(MIN_CLUSTERS), n_boot=N_BOOT, seed=4)
    _check_f_has_bootstrap(table, ["type"])
    assert table.columns[-3:] == ["level", "n", "n_dropped"] and (table["n_dropped"] == 3).all()
    f = table.filter(pl.col("ci_method") == "F")
    assert f["ci_assumes"].str.ends_with("responses independent").all() == (level == "response")
    assert table.filter(pl.col("ci_method") == "BCa")["ci_note"].to_list() == ["", ""]
    # 12 conversations: below the cluster minimum, whatever the number of responses (108).
    few = (system_level_icc if level == "system" else response_level_icc)(_pairs(12), n_boot=N_BOOT, seed=4)
    notes = few.filter(pl.col("ci_method") == "BCa")["ci_note"].to_list()
    assert 12 < MIN_CLUSTERS and all(n.startswith("too few clusters") for n in notes)


def test_self_preference_uses_the_cluster_rule(demo):
    sp = self_preference(demo.data.ratings, "gpt-4o-mini", evaluators=demo.evaluators,
                         own_answer_model=demo.own_answer_model, n_boot=N_BOOT, seed=5)
    assert sp.columns[-2:] == ["n_valid", "ci_note"]
    assert sp["n_items"][0] >= MIN_CLUSTERS and sp["ci_note"].to_list() == [""] * 3
    assert (sp["n_valid"] == N_BOOT).all()


def test_category_cells_are_flagged_below_the_cluster_minimum(demo):
    cells = category_appropriateness(demo.data.ratings, "gpt-4o-mini", n_boot=200, seed=6)
    assert cells.columns[-3:] == ["n_valid", "ci_note", "pct_le2_cluster_ci_note"]
    for row in cells.iter_rows(named=True):
        assert ("too few clusters" in row["ci_note"]) == (row["n_items"] < MIN_CLUSTERS)
        assert ("too few clusters" in row["pct_le2_cluster_ci_note"]) == (row["n_items"] < MIN_CLUSTERS)
        # A share of 0 % is the same in every resample: [0, 0], flagged, never silent.
        assert ("degenerate" in row["pct_le2_cluster_ci_note"]) == (row["pct_le2"] in (0.0, 100.0))
    assert cells.filter(pl.col("n_items") < MIN_CLUSTERS).height > 0


def test_human_ceiling_carries_the_notes(scores):
    e, h1, h2 = (scores.column(c) for c in ("gpt-4o-mini", "H1", "H2"))
    full = human_ceiling(e, h1, h2, n_boot=N_BOOT, seed=7)
    assert full.columns[-2:] == ["n_valid", "ci_note"] and full["ci_note"].to_list() == [""] * 6
    small = human_ceiling(e[:25], h1[:25], h2[:25], n_boot=N_BOOT, seed=7)
    assert all(n.startswith("too few items") for n in small["ci_note"])
