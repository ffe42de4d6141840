"""ICC against R psych::ICC, pingouin, and its defining properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.stats.bootstrap import resample_indices
from analysis.stats.icc import ICC_TYPES, SHROUT_FLEISS, icc_batch, intraclass_corr, mean_squares

# Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges.
SF = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)

# R 4.2.2, psych 2.2.9: psych::ICC(SF, lmer=FALSE)$results, full precision.
R_PSYCH = {
    "ICC(1,1)": dict(icc=0.16574176840547555, f=1.794678492239469, df1=5, df2=18, pval=0.16476880834463961,
                     ci_low=-0.13293232487475087, ci_high=0.72256006232812109),
    "ICC(A,1)": dict(icc=0.28976377952755922, f=11.027247956403272, df1=5, df2=15, pval=0.00013456651648433693,
                     ci_low=0.018786513374712047, ci_high=0.7610843696489531),
    "ICC(C,1)": dict(icc=0.71484071484071487, f=11.027247956403272, df1=5, df2=15, pval=0.00013456651648433693,
                     ci_low=0.34246476503392537, ci_high=0.94585825995535955),
    "ICC(1,k)": dict(icc=0.44279713367926893, f=1.794678492239469, df1=5, df2=18, pval=0.16476880834463961,
                     ci_low=-0.88444215523811898, ci_high=0.91241542034077561),
    "ICC(A,k)": dict(icc=0.62005054759898925, f=11.027247956403272, df1=5, df2=15, pval=0.00013456651648433693,
                     ci_low=0.071136815302503487, ci_high=0.92723204016772198),
    "ICC(C,k)": dict(icc=0.90931554237706946, f=11.027247956403272, df1=5, df2=15, pval=0.00013456651648433693,
                     ci_low=0.67567471381630473, ci_high=0.98589167816906231),
}


def test_matches_r_psych_to_1e10_in_every_column():
    res = intraclass_corr(SF)
    assert res["type"].to_list() == list(ICC_TYPES)
    for row in res.iter_rows(named=True):
        ref = R_PSYCH[row["type"]]
        for col, expected in ref.items():
            assert row[col] == pytest.approx(expected, abs=1e-10, rel=0), (row["type"], col)
    assert set(res["ci_method"]) == {"F"}
    assert res["n_items"][0] == 6 and res["n_raters"][0] == 4 and res["n_dropped"][0] == 0


def test_shrout_fleiss_aliases_cover_all_forms():
    assert list(SHROUT_FLEISS) == list(ICC_TYPES)
    assert list(SHROUT_FLEISS.values()) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


@pytest.mark.parametrize("seed", range(5))
def test_matches_pingouin_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 60)), int(rng.integers(2, 6))
    x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k)) + rng.normal(size=k)
    long = pd.DataFrame({"item": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "score": x.ravel()})
    ref = pg.intraclass_corr(long, targets="item", raters="rater", ratings="score").set_index("Type")
    ours = intraclass_corr(x)
    for row in ours.iter_rows(named=True):
        p = ref.loc[row["type"]]  # pingouin >= 0.7 uses the McGraw & Wong names too
        assert row["icc"] == pytest.approx(p["ICC"], abs=1e-12)
        assert row["f"] == pytest.approx(p["F"], rel=1e-12)
        assert row["df1"] == p["df1"] and row["df2"] == p["df2"]
        assert row["pval"] == pytest.approx(p["pval"], rel=1e-9, abs=1e-300)
        # pingouin rounds its CI to 2 decimals.
        assert row["ci_low"] == pytest.approx(p["CI95"][0], abs=0.005 + 1e-12)
        assert row["ci_high"] == pytest.approx(p["CI95"][1], abs=0.005 + 1e-12)


def test_batch_equals_one_at_a_time():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(3, 4, 25, 3))
    batch = icc_batch(xs)
    assert batch.shape == (3, 4, 6)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(batch[i, j], intraclass_corr(xs[i, j])["icc"].to_numpy(), atol=1e-13)


def test_frequency_weights_equal_resampled_rows():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 6, size=(40, 3)).astype(float)
    idx = resample_indices(40, 50, seed=7)
    w = np.stack([np.bincount(i, minlength=40) for i in idx]).astype(float)
    np.testing.assert_allclose(icc_batch(x, w), icc_batch(x[idx]), atol=1e-12)
    # A (B, n, k) batch with (B, n) weights takes the einsum path: same numbers.
    np.testing.assert_allclose(icc_batch(np.broadcast_to(x, (50, 40, 3)), w), icc_batch(x[idx]), atol=1e-12)


def test_missing_items_are_dropped_and_counted():
    x = SF.copy()
    x[1, 2] = np.nan
    res = intraclass_corr(x)
    assert res["n_dropped"][0] == 1 and res["n_items"][0] == 5
    np.testing.assert_allclose(res["icc"].to_numpy(), intraclass_corr(np.delete(SF, 1, axis=0))["icc"].to_numpy())
    with pytest.raises(ValueError, match="1 items have missing ratings"):
        intraclass_corr(x, nan_policy="raise")


@pytest.mark.parametrize("bad, msg", [
    (np.arange(5.0), "2-D"),
    (np.ones((5, 1)), "2 raters"),
    ([[1.0, np.nan], [2.0, 3.0]], "1 complete items"),
    ([[1.0, np.inf], [2.0, 3.0]], "infinite"),
])
def test_bad_input_gets_a_clear_error(bad, msg):
    with pytest.raises(ValueError, match=msg):
        intraclass_corr(bad)


def test_unknown_ci_method_is_refused():
    with pytest.raises(ValueError, match="ci must be one of"):
        intraclass_corr(SF, ci="normal")


def test_bootstrap_ci_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 1)) + 0.7 * rng.normal(size=(80, 3))
    a = intraclass_corr(x, ci="bca", n_boot=500, seed=11)
    b = intraclass_corr(x, ci="bca", n_boot=500, seed=11)
    assert a.equals(b)
    assert (a["ci_low"] < a["icc"]).all() and (a["icc"] < a["ci_high"]).all()
    assert set(a["ci_method"]) == {"BCa"} and a["n_boot"][0] == 500
    c = intraclass_corr(x, ci="percentile", n_boot=500, seed=12)
    assert not np.array_equal(a["ci_low"].to_numpy(), c["ci_low"].to_numpy())


def test_cluster_bootstrap_is_wider_when_clusters_are_duplicates():
    # Every item appears 3 times: treating the copies as independent items
    # understates the uncertainty; resampling the clusters does not.
    rng = np.random.default_rng(4)
    base = rng.normal(size=(30, 1)) + rng.normal(size=(30, 2))
    x = np.repeat(base, 3, axis=0)
    clusters = np.repeat(np.arange(30), 3)
    naive = intraclass_corr(x, ci="percentile", n_boot=1000, seed=1)
    clustered = intraclass_corr(x, ci="percentile", n_boot=1000, seed=1, clusters=clusters)
    def width(r):
        return (r["ci_high"] - r["ci_low"]).to_numpy()[2]

    assert width(clustered) > 1.3 * width(naive)


matrices = st.integers(3, 12).flatmap(lambda n: st.integers(2, 5).flatmap(
    lambda k: arrays(np.float64, (n, k), elements=st.integers(1, 5).map(float))))


@settings(max_examples=60, deadline=None)
@given(x=matrices, c=st.floats(0.25, 3.0), j=st.integers(0, 4))
def test_constant_shift_keeps_consistency_and_lowers_agreement(x, c, j):
    j = j % x.shape[1]
    x = x - x.mean(axis=0) + 3.0  # raters start with equal means: any shift is pure bias
    ms = mean_squares(x)
    assume(ms["msr"] > ms["mse"] * (1 + 1e-9) and ms["mse"] > 1e-9)
    shifted = x.copy()
    shifted[:, j] += c
    before, after = icc_batch(x), icc_batch(shifted)
    assert after[2] == pytest.approx(before[2], abs=1e-9)  # ICC(C,1)
    assert after[5] == pytest.approx(before[5], abs=1e-9)  # ICC(C,k)
    assert after[1] < before[1]  # ICC(A,1)
    assert after[4] < before[4]  # ICC(A,k)


@settings(max_examples=60, deadline=None)
@given(x=matrices, data=st.data())
def test_permuting_items_or_raters_changes_nothing(x, data):
    rows = data.draw(st.permutations(range(x.shape[0])))
    cols = data.draw(st.permutations(range(x.shape[1])))
    np.testing.assert_allclose(icc_batch(x[np.array(rows)][:, np.array(cols)]), icc_batch(x),
                               atol=1e-9, equal_nan=True)


# --- zero variance never crashes; documented values -------------------------------------

import warnings  # noqa: E402

import polars as pl  # noqa: E402

from analysis.stats.bootstrap import ResamplePlan  # noqa: E402
from analysis.stats.icc import F_ASSUMES, ICC_SCHEMA  # noqa: E402

S = np.random.default_rng(40).integers(1, 6, 60).astype(float)


def _quiet(x, **kw):
    """intraclass_corr with every RuntimeWarning an error (not only those of analysis.*)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return intraclass_corr(x, n_boot=kw.pop("n_boot", 400), seed=kw.pop("seed", 1), **kw)


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_identical_raters_give_one(ci):
    res = _quiet(np.column_stack([S, S, S]), ci=ci)
    assert (res["icc"] == 1.0).all()
    assert (res["ci_low"] == 1.0).all() and (res["ci_high"] == 1.0).all()
    assert res["f"].is_infinite().all() and (res["pval"] == 0.0).all()
    assert (res["ci_note"] == "degenerate").all()


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_identical_runs_of_a_temperature_0_judge(ci):
    # 4 identical evaluation runs of 60 responses to 30 conversations (cluster bootstrap).
    runs = np.repeat(np.random.default_rng(41).integers(1, 6, (60, 1)).astype(float), 4, axis=1)
    res = _quiet(runs, ci=ci, clusters=np.repeat(np.arange(30), 2) if ci != "f" else None)
    assert (res["icc"] == 1.0).all() and (res["ci_low"] == 1.0).all() and (res["ci_high"] == 1.0).all()
    assert res["n_valid"].is_null().all() if ci == "f" else (res["n_valid"] == 400).all()


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_offset_rater_is_consistent_not_in_agreement(ci):
    res = _quiet(np.column_stack([S, S + 1]), ci=ci).to_pandas().set_index("type")
    assert res.loc["ICC(C,1)", "icc"] == 1.0 and res.loc["ICC(C,k)", "icc"] == 1.0
    assert 0 < res.loc["ICC(A,1)", "icc"] < 1
    assert np.isinf(res.loc["ICC(C,1)", "f"]) and res.loc["ICC(C,1)", "pval"] == 0.0
    assert res.loc["ICC(C,1)", "ci_low"] == 1.0 and res.loc["ICC(C,1)", "ci_high"] == 1.0
    assert res.loc["ICC(A,1)", "ci_low"] < res.loc["ICC(A,1)", "icc"] < res.loc["ICC(A,1)", "ci_high"]


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_constant_judge_against_a_varying_human(ci):
    # k = 2, one rater constant: MSR = MSE exactly, so ICC(A,·) = ICC(C,·) = 0 (not 5e-16).
    res = _quiet(np.column_stack([S, np.full(60, 3.0)]), ci=ci).to_pandas().set_index("type")
    for form in ("ICC(A,1)", "ICC(C,1)", "ICC(A,k)", "ICC(C,k)"):
        assert res.loc[form, "icc"] == 0.0
    assert res.loc["ICC(C,1)", "f"] == pytest.approx(1.0, abs=1e-12)
    if ci != "f":  # every resample keeps the judge constant: the replicates are all 0
        assert res.loc["ICC(C,1)", "ci_low"] == 0.0 == res.loc["ICC(C,1)", "ci_high"]
        assert res.loc["ICC(C,1)", "ci_note"] == "degenerate"


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_every_rater_constant_is_undefined_where_0_over_0(ci):
    res = _quiet(np.column_stack([np.full(60, 2.0), np.full(60, 3.0)]), ci=ci).to_pandas().set_index("type")
    for form in ("ICC(C,1)", "ICC(C,k)", "ICC(1,k)"):  # 0/0 or x/0: MSR = 0
        assert np.isnan(res.loc[form, "icc"]) and np.isnan(res.loc[form, "ci_low"])
        assert res.loc[form, "ci_note"].startswith("ICC undefined: items do not differ (MSR = 0)")
    assert res.loc["ICC(A,1)", "icc"] == 0.0 and res.loc["ICC(1,1)", "icc"] == -1.0  # defined


@pytest.mark.parametrize("ci", ["f", "percentile", "bca"])
def test_all_ratings_equal_is_nan_with_a_reason(ci):
    res = _quiet(np.full((60, 3), 4.0), ci=ci)
    for col in ("icc", "f", "pval", "ci_low", "ci_high"):
        assert res[col].is_nan().all(), col
    assert res["ci_note"].str.starts_with("ICC undefined: all ratings equal").all()
    if ci != "f":
        assert (res["n_valid"] == 0).all() and res["ci_note"].str.ends_with("NaN replicates 100.0 %").all()


def test_cancelling_denominator_is_nan_whatever_the_row_order():
    # ICC(A,k)'s denominator MSR + (MSC - MSE)/n is exactly 0 here; rounding made it
    # +-8.6e16 depending on the order of the rows (found by hypothesis).
    x = np.array([[2, 2, 4, 1], [1, 3, 3, 4], [4, 2, 1, 4], [4, 1, 2, 2], [1, 4, 1, 4], [3, 1, 1, 5],
                  [2, 2, 5, 1], [2, 5, 1, 2], [1, 1, 4, 2]], float)
    assert np.isnan(icc_batch(x)[4]) and np.isnan(icc_batch(x[::-1])[4])
    res = _quiet(x)
    assert res["ci_note"][4] == "ICC undefined: zero denominator"


# --- CI notes, assumptions, new columns ---------------------------------------------------

OLD_COLUMNS = ["type", "icc", "f", "df1", "df2", "pval", "ci_low", "ci_high", "ci_method", "confidence", "n_items",
               "n_raters", "n_dropped", "n_boot"]


@pytest.mark.parametrize("ci", ["f", "bca"])
def test_new_columns_come_last(ci):
    res = intraclass_corr(SF, ci=ci, n_boot=200, seed=1)
    assert res.columns[:len(OLD_COLUMNS)] == OLD_COLUMNS
    assert res.columns[len(OLD_COLUMNS):] == ["n_valid", "ci_note", "ci_assumes"]
    assert dict(res.schema) == ICC_SCHEMA


def test_ci_assumes_and_notes():
    f = intraclass_corr(SF)
    assert f["ci_assumes"].to_list() == [F_ASSUMES[t] for t in ICC_TYPES]
    assert set(f.filter(pl.col("type").str.contains("(A", literal=True))["ci_assumes"]) == {"raters random"}
    assert set(f.filter(pl.col("type").str.contains("(C", literal=True))["ci_assumes"]) == {"raters fixed"}
    assert set(f["ci_method"]) == {"F"} and f["n_valid"].is_null().all() and (f["ci_note"] == "").all()
    boot = intraclass_corr(SF, ci="bca", n_boot=300, seed=1)
    assert set(boot["ci_assumes"]) == {"resampled items"}
    assert "n_boot_valid" not in boot.columns and (boot["n_valid"] <= 300).all()
    assert boot["ci_note"].str.contains("too few items").all()  # 6 items
    rng = np.random.default_rng(42)
    x = rng.normal(size=(360, 1)) + rng.normal(size=(360, 3))
    big = intraclass_corr(x, ci="percentile", n_boot=300, seed=1, clusters=np.repeat(np.arange(120), 3))
    assert set(big["ci_assumes"]) == {"resampled clusters"} and (big["ci_note"] == "").all()
    few = intraclass_corr(x, ci="percentile", n_boot=300, seed=1, clusters=np.repeat(np.arange(30), 12))
    assert (few["ci_note"] == "too few clusters").all()


def test_missing_ratings_policies():
    x = SF.copy()
    x[1, 2] = np.nan
    for ci in ("f", "percentile"):
        res = intraclass_corr(x, ci=ci, n_boot=100, seed=1)
        assert res["n_dropped"][0] == 1 and res["n_items"][0] == 5
    with pytest.raises(ValueError, match="nan_policy must be"):
        intraclass_corr(x, nan_policy="propagate")
    with pytest.raises(ValueError, match="clusters must label every row"):
        intraclass_corr(x, ci="bca", clusters=[1, 2, 3])


# --- the O(n) jackknife and the shared plan, seen from intraclass_corr ------------------------

def test_bca_equals_the_generic_o_n2_jackknife():
    from analysis.stats.bootstrap import bootstrap
    from analysis.stats.icc import icc_from_mean_squares, mean_squares_from_sums, row_statistics

    rng = np.random.default_rng(43)
    x = np.clip(np.rint(rng.normal(3, 1, (120, 1)) + rng.normal(0, .8, (120, 3))), 1, 5)
    clusters = rng.integers(0, 40, 120)
    for cl in (None, clusters):
        res = intraclass_corr(x, ci="bca", n_boot=400, seed=3, clusters=cl)
        ref = bootstrap(row_statistics(x), lambda f, weights: icc_from_mean_squares(mean_squares_from_sums(weights @ f, 3)),
                        n_boot=400, seed=3, clusters=cl)
        np.testing.assert_allclose(res["ci_low"].to_numpy(), ref.ci_low, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res["ci_high"].to_numpy(), ref.ci_high, rtol=0, atol=1e-12)


@pytest.mark.parametrize("clusters", [None, np.repeat(np.arange(40), 2)], ids=["items", "clusters"])
def test_plan_gives_the_seeded_table(clusters):
    rng = np.random.default_rng(44)
    tables = [rng.normal(size=(80, 1)) + rng.normal(size=(80, 2)) for _ in range(3)]  # 3 attributes
    plan = ResamplePlan(80, 300, seed=5, clusters=clusters)
    for x in tables:
        for ci in ("bca", "percentile"):
            assert intraclass_corr(x, ci=ci, plan=plan).equals(
                intraclass_corr(x, ci=ci, n_boot=300, seed=5, clusters=clusters))


def test_plan_must_fit_the_complete_items():
    x = SF.copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="build the plan on the complete items"):
        intraclass_corr(x, ci="bca", plan=ResamplePlan(6, 100, seed=1))
    with pytest.raises(ValueError, match="do not pass clusters"):
        intraclass_corr(SF, ci="bca", plan=ResamplePlan(6, 100, seed=1), clusters=np.arange(6))


def test_f_distribution_shortcuts_equal_scipy_stats_value_for_value():
    """_f_sf/_f_ppf replace scipy.stats.f.sf/ppf in the F intervals (50x cheaper per call):
    the same float on a grid that includes the edges (x <= 0, inf, NaN; dfs 0, negative,
    NaN, inf)."""
    from scipy import stats

    from analysis.stats.icc import _f_ppf, _f_sf

    xs = [0.0, -1.0, 1e-300, 0.5, 1.0, 3.7, 1e6, np.inf, np.nan]
    dfs = [1, 2, 2.5, 9, 99, 1e5, 0, -1, np.nan, np.inf]
    with np.errstate(all="ignore"):
        for a in dfs:
            for b in dfs:
                for x in xs:
                    assert np.array_equal(stats.f.sf(x, a, b), _f_sf(x, a, b), equal_nan=True), (x, a, b)
                for q in (0.5, 0.975, 0.995):
                    assert np.array_equal(stats.f.ppf(q, a, b), _f_ppf(q, a, b), equal_nan=True), (q, a, b)


@pytest.mark.parametrize("shape", [(2000, 7, 9, 2), (50, 6, 4), (3, 300, 3), (20, 5)])
def test_summed_row_statistics_equal_the_sum_of_row_statistics(shape):
    """The rater-major shortcut of the bootstrap's system-level ICC: the same sums to
    rounding, and the same ICCs to 1e-12 (constant and identical raters included)."""
    from analysis.stats.icc import icc_from_mean_squares, mean_squares_from_sums, row_statistics, summed_row_statistics

    x = np.rint(np.random.default_rng(sum(shape)).normal(3, 1.2, shape)).clip(1, 5)
    if len(shape) > 2:
        x[0, ...] = x[0, ..., :1]  # identical raters
        x[-1] = 4.0  # everything constant
    ref = row_statistics(x).sum(axis=-2)
    got = summed_row_statistics(np.swapaxes(x, -1, -2))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
    k = shape[-1]
    a = icc_from_mean_squares(mean_squares_from_sums(ref, k))
    b = icc_from_mean_squares(mean_squares_from_sums(got, k))
    assert np.array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b, icc_batch(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("x", [SF, np.tile(SF[:, :1], (1, 3)), np.random.default_rng(4).normal(size=(40, 2))],
                         ids=["shrout-fleiss", "identical", "random"])
def test_f_columns_are_the_f_table_bit_for_bit(x):
    from analysis.stats.icc import ICC_SCHEMA, f_columns

    columns, reasons = f_columns(x, n_dropped=3)
    table = intraclass_corr(np.vstack([x, np.full((3, x.shape[1]), np.nan)]), ci="f")
    assert pl.DataFrame(columns, schema=ICC_SCHEMA).equals(table)
    assert len(reasons) == 6
    with pytest.raises(ValueError, match="complete matrix of at least 2 items"):
        f_columns(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_polars_and_pandas_frames_are_accepted():
    x = np.asarray(SF, dtype=float)
    ref = intraclass_corr(x)
    frame = pl.DataFrame(x, schema=[f"r{j}" for j in range(x.shape[1])])
    assert intraclass_corr(frame).equals(ref)
    assert intraclass_corr(frame.to_pandas()).equals(ref)
