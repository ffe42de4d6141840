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
    width = lambda r: (r["ci_high"] - r["ci_low"]).to_numpy()[2]
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
