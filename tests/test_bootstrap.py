"""The bootstrap against scipy.stats.bootstrap, and its reproducibility guarantees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.bootstrap import BLOCK, bootstrap, resample_indices


def wmean(x, weights):
    return weights @ x / weights.sum(-1)


def wstd(x, weights):
    """Weighted population SD: a nonlinear statistic scipy can compute too (np.std)."""
    n = weights.sum(-1)
    m = weights @ x / n
    return np.sqrt(np.maximum(weights @ (x * x) / n - m * m, 0.0))


def wcorr(x, y, weights):
    n = weights.sum(-1)
    mx, my = weights @ x / n, weights @ y / n
    sxy = weights @ (x * y) / n - mx * my
    sxx = weights @ (x * x) / n - mx * mx
    syy = weights @ (y * y) / n - my * my
    return sxy / np.sqrt(sxx * syy)


SAMPLE = np.random.default_rng(42).gamma(2.0, size=120)  # skewed: BCa and percentile differ


@pytest.mark.parametrize("method, scipy_method", [("percentile", "percentile"), ("bca", "BCa")])
@pytest.mark.parametrize("stat, np_stat", [(wmean, np.mean), (wstd, np.std)])
def test_agrees_with_scipy_within_monte_carlo_error(method, scipy_method, stat, np_stat):
    ours = bootstrap(SAMPLE, stat, n_boot=10_000, method=method, seed=1)
    ref = stats.bootstrap((SAMPLE,), np_stat, n_resamples=10_000, method=scipy_method, rng=2)
    # Monte Carlo SD of a 2.5% quantile with B = 10,000 is about 0.03 bootstrap SEs per
    # run; 0.15 SE is about 3.5 SDs of the difference of two independent runs.
    tol = 0.15 * ref.standard_error
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=tol)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=tol)
    assert ours.se == pytest.approx(ref.standard_error, rel=0.05)
    assert ours.estimate == pytest.approx(np_stat(SAMPLE), rel=1e-12)


def test_bca_paired_statistic_agrees_with_scipy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=150)
    y = 0.6 * x + 0.8 * rng.normal(size=150)
    ours = bootstrap((x, y), wcorr, n_boot=10_000, method="bca", seed=3)
    ref = stats.bootstrap((x, y), lambda a, b, axis=-1: np.array(
        [stats.pearsonr(a[..., i, :] if a.ndim > 1 else a, b[..., i, :] if b.ndim > 1 else b)[0]
         for i in range(a.shape[0])]) if a.ndim > 1 else stats.pearsonr(a, b)[0],
        paired=True, vectorized=True, n_resamples=10_000, method="BCa", rng=4)
    tol = 0.15 * ref.standard_error
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=tol)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=tol)


def test_bca_differs_from_percentile_on_skewed_data():
    p = bootstrap(SAMPLE, wstd, n_boot=4000, method="percentile", seed=9)
    b = bootstrap(SAMPLE, wstd, n_boot=4000, method="bca", seed=9)
    assert p.ci_low != b.ci_low and b.ci_high > p.ci_high


def test_same_seed_same_result_other_seed_other_result():
    a = bootstrap(SAMPLE, wmean, n_boot=777, seed=123, keep_replicates=True)
    b = bootstrap(SAMPLE, wmean, n_boot=777, seed=123, keep_replicates=True)
    c = bootstrap(SAMPLE, wmean, n_boot=777, seed=124, keep_replicates=True)
    assert np.array_equal(a.replicates, b.replicates)
    assert a.ci_low == b.ci_low and a.ci_high == b.ci_high
    assert not np.array_equal(a.replicates, c.replicates)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 700), method=st.sampled_from(["percentile", "bca"]))
def test_chunk_size_does_not_change_anything(chunk, method):
    ref = bootstrap(SAMPLE, wstd, n_boot=333, seed=5, method=method, keep_replicates=True)
    got = bootstrap(SAMPLE, wstd, n_boot=333, seed=5, method=method, chunk_size=chunk, keep_replicates=True)
    assert np.array_equal(ref.replicates, got.replicates)
    assert ref.ci_low == got.ci_low and ref.ci_high == got.ci_high


def test_resample_indices_do_not_depend_on_the_window():
    full = resample_indices(17, 300, seed=8)
    assert full.shape == (300, 17)
    for start, stop in [(0, 1), (5, 70), (BLOCK - 1, BLOCK + 1), (250, 300)]:
        assert np.array_equal(resample_indices(17, 300, seed=8, start=start, stop=stop), full[start:stop])


def test_weights_are_the_counts_of_the_drawn_rows():
    x = np.arange(10.0)
    res = bootstrap(x, lambda x, weights: weights, n_boot=50, seed=2, method="percentile", keep_replicates=True)
    idx = resample_indices(10, 50, seed=2)
    expected = np.stack([np.bincount(i, minlength=10) for i in idx])
    assert np.array_equal(res.replicates, expected)


def test_cluster_resampling_draws_whole_clusters():
    clusters = np.array(["c", "a", "a", "b", "b", "b", "c"])  # unequal sizes
    x = np.arange(7.0)
    res = bootstrap(x, lambda x, weights: weights, clusters=clusters, n_boot=200, seed=3,
                    method="percentile", keep_replicates=True)
    w = res.replicates
    for members in ([0, 6], [1, 2], [3, 4, 5]):
        assert (w[:, members] == w[:, members[:1]]).all()  # a cluster is drawn whole
    # Clusters numbered by first appearance (c, a, b): exactly the cluster draws.
    idx = resample_indices(3, 200, seed=3)
    counts = np.stack([np.bincount(i, minlength=3) for i in idx])
    assert np.array_equal(w[:, [0, 1, 3]], counts)
    assert (w[:, [0, 1, 3]].sum(axis=1) == 3).all()


def test_cluster_bootstrap_of_mean_matches_explicit_loop():
    rng = np.random.default_rng(6)
    sizes = rng.integers(1, 5, size=25)
    clusters = np.repeat(np.arange(25), sizes)
    x = rng.normal(size=clusters.size) + np.repeat(rng.normal(size=25), sizes)
    res = bootstrap(x, wmean, clusters=clusters, n_boot=300, seed=4, method="percentile", keep_replicates=True)
    idx = resample_indices(25, 300, seed=4)
    loop = np.array([np.concatenate([x[clusters == g] for g in row]).mean() for row in idx])
    np.testing.assert_allclose(res.replicates, loop, rtol=1e-12)


def test_non_finite_replicates_are_counted_not_hidden():
    x = np.array([1.0, 1.0, 1.0, 1.0, 5.0])

    def ratio(x, weights):
        with np.errstate(divide="ignore", invalid="ignore"):
            return wstd(x, weights) / wstd(x, weights)

    res = bootstrap(x, ratio, n_boot=500, seed=1, method="percentile")
    # A resample gives 0/0 exactly when it draws no 5.0 (P = 0.8^5 = 0.33): the valid ones
    # are those that draw unit 4, counted on the same seeded resamples.
    assert res.n_valid == sum(bool((row == 4).any()) for row in resample_indices(5, 500, 1))


@pytest.mark.parametrize("kwargs, msg", [
    (dict(method="normal"), "method must be one of"),
    (dict(confidence=1.5), "confidence"),
    (dict(n_boot=1), "n_boot"),
    (dict(clusters=[1, 2]), "clusters must label every row"),
])
def test_bad_arguments_get_clear_errors(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        bootstrap(SAMPLE, wmean, **kwargs)


def test_data_arrays_must_share_the_unit_axis():
    with pytest.raises(ValueError, match="share axis 0"):
        bootstrap((np.ones(5), np.ones(6)), lambda a, b, weights: weights.sum(-1))


# --- BCa exactly as scipy (ties count half), degenerate cases ---------------------------

from types import SimpleNamespace  # noqa: E402
import warnings  # noqa: E402

from scipy import special  # noqa: E402

from analysis.stats.bootstrap import ResamplePlan, bca_levels  # noqa: E402

TIED = np.random.default_rng(21).choice([-1.0, 0.0, 1.0], size=25, p=[0.25, 0.45, 0.3])  # discrete, many ties
HARMFUL = np.r_[1.0, np.zeros(19)]  # a harmful share of 1 in 20


def _scipy_on_our_replicates(data, np_stat, ours, method="BCa", confidence=0.95):
    """scipy.stats.bootstrap given OUR replicates (n_resamples=0): its own z0, jackknife,
    acceleration and quantiles on exactly the same resamples."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's own 0/0 in the acceleration
        return stats.bootstrap(data, np_stat, n_resamples=0, method=method, confidence_level=confidence,
                               bootstrap_result=SimpleNamespace(bootstrap_distribution=ours.replicates))


@pytest.mark.parametrize("x", [TIED, HARMFUL, SAMPLE], ids=["tied", "harmful-share", "continuous"])
@pytest.mark.parametrize("method", ["bca", "percentile"])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_interval_equals_scipy_on_the_same_replicates(x, method, confidence):
    ours = bootstrap(x, wmean, n_boot=4000, method=method, confidence=confidence, seed=17, keep_replicates=True)
    ref = _scipy_on_our_replicates((x,), np.mean, ours, "BCa" if method == "bca" else "percentile", confidence)
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=1e-12)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=1e-12)


def test_bca_ties_count_half_in_z0():
    reps = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0])  # 2 below, 3 tied, 3 above the estimate 1
    jack = np.array([0.9, 1.0, 1.1, 1.0])
    _, _, z0, a = bca_levels(reps, np.float64(1.0), jack, 0.95)
    assert z0 == special.ndtri((2 + 0.5 * 3) / 8)  # scipy >= 1.11; strictly-below would give ndtri(2 / 8)
    assert a == pytest.approx(0.0, abs=1e-12)  # symmetric jackknife


def test_harmful_share_of_one_in_twenty_like_scipy():
    ours = bootstrap(HARMFUL, wmean, n_boot=10_000, seed=3, keep_replicates=True)
    assert ours.ci_low == 0.0
    # Counting only replicates strictly below 0.05 (the old rule) gave an upper bound of 0.15.
    assert 0.2 <= ours.ci_high <= 0.3
    own = stats.bootstrap((HARMFUL,), np.mean, n_resamples=10_000, method="BCa", rng=4)
    # The replicates live on a grid of 1/20: independent runs agree to within one step.
    assert ours.ci_high == pytest.approx(own.confidence_interval.high, abs=0.05 + 1e-12)
    assert ours.ci_note == "too few items"


def test_tied_data_agree_with_an_independent_scipy_run_within_monte_carlo_error():
    ours = bootstrap(TIED, wmean, n_boot=20_000, seed=5)
    ref = stats.bootstrap((TIED,), np.mean, n_resamples=20_000, method="BCa", rng=6)
    # Replicates live on a grid of 1/25 = 0.04 (about 0.25 bootstrap SE); two independent
    # runs of B = 20,000 land on the same or a neighbouring grid point.
    tol = 0.04 + 1e-12
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, abs=tol)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, abs=tol)


def n_distinct_w(x, weights):
    return (weights > 0).sum(-1).astype(float)


def n_distinct(x, axis=-1):
    s = np.sort(x, axis=axis)
    return 1.0 + (np.diff(s, axis=axis) != 0).sum(axis=axis)


def test_bca_undefined_where_scipy_is_undefined():
    # Every resample has fewer distinct units than the sample (z0 = +inf) and the
    # jackknife is constant (a = 0/0): scipy's interval is NaN, ours too, and said so.
    x = np.arange(12.0)
    ours = bootstrap(x, n_distinct_w, n_boot=500, seed=1, keep_replicates=True)
    ref = _scipy_on_our_replicates((x,), n_distinct, ours)
    assert np.isnan(ref.confidence_interval.low) and np.isnan(ref.confidence_interval.high)
    assert np.isnan(ours.ci_low) and np.isnan(ours.ci_high)
    assert ours.ci_note == "too few items; interval undefined"
    assert np.isinf(ours.z0)


def test_constant_statistic_is_degenerate_not_nan():
    zeros = np.zeros(60)  # above MIN_ITEMS: only the degenerate note applies
    for method in ("bca", "percentile"):
        res = bootstrap(zeros, wmean, n_boot=300, seed=2, method=method)
        assert res.ci_low == 0.0 and res.ci_high == 0.0
        assert res.ci_note == "degenerate"


def test_nan_replicates_are_noted():
    x = np.arange(60.0)  # above MIN_ITEMS

    def nan_without_unit_0(x, weights):  # undefined in resamples that miss unit 0
        return np.where(weights[:, 0] > 0, wmean(x, weights), np.nan)

    res = bootstrap(x, nan_without_unit_0, n_boot=400, seed=1, method="percentile")
    share = 1 - res.n_valid / 400
    assert 0.25 < share < 0.5  # P(unit 0 missed) = (59/60)^60 = 0.36
    assert res.ci_note == f"NaN replicates {100 * share:.1f} %"
    small = bootstrap(x[:10], nan_without_unit_0, n_boot=400, seed=1, method="percentile")
    assert small.ci_note.startswith("too few items; NaN replicates ")


# --- statistics of sums: O(n) jackknife, same numbers as the generic path ---------------

from analysis.stats.bias import _mean_of_sums, _ratio_of_sums  # noqa: E402
from analysis.stats.icc import _icc_of_sums, icc_from_mean_squares, mean_squares_from_sums, row_statistics  # noqa: E402

RATINGS = np.clip(np.rint(np.random.default_rng(31).normal(3, 1, (150, 1)) + np.linspace(-.3, .3, 4)
                          + np.random.default_rng(32).normal(0, .8, (150, 4))), 1, 5)
CLUSTERS = np.random.default_rng(33).integers(0, 45, 150).astype(str)  # unequal cluster sizes


def _icc_generic(k):
    return lambda f, weights: icc_from_mean_squares(mean_squares_from_sums(weights @ f, k))


@pytest.mark.parametrize("clusters", [None, CLUSTERS], ids=["items", "clusters"])
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_icc_sums_path_equals_generic_path(clusters, method):
    feats = row_statistics(RATINGS)
    kw = dict(n_boot=300, seed=8, method=method, clusters=clusters, keep_replicates=True)
    generic = bootstrap(feats, _icc_generic(4), **kw)
    fast = bootstrap(feats, lambda s: _icc_of_sums(s, 4), sums=True, **kw)
    assert fast.replicates.shape == generic.replicates.shape == (300, 6)
    np.testing.assert_allclose(fast.replicates, generic.replicates, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.estimate, generic.estimate, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.ci_low, generic.ci_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.ci_high, generic.ci_high, rtol=0, atol=1e-12)
    if method == "bca":  # the O(n) jackknife gives the O(n^2) one's acceleration
        np.testing.assert_allclose(fast.acceleration, generic.acceleration, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(fast.z0, generic.z0)
    assert fast.unit == generic.unit == ("items" if clusters is None else "clusters")


@pytest.mark.parametrize("clusters", [None, CLUSTERS], ids=["items", "clusters"])
def test_bias_sums_path_equals_generic_path(clusters):
    d = RATINGS[:, 0] - RATINGS[:, 1]
    units = np.column_stack([np.ones_like(d), d])
    kw = dict(n_boot=500, seed=9, clusters=clusters, keep_replicates=True)
    generic = bootstrap(units, _ratio_of_sums, **kw)
    fast = bootstrap(units, _mean_of_sums, sums=True, **kw)
    np.testing.assert_allclose(fast.replicates, generic.replicates, rtol=0, atol=1e-12)
    assert fast.ci_low == pytest.approx(generic.ci_low, abs=1e-12)
    assert fast.ci_high == pytest.approx(generic.ci_high, abs=1e-12)
    assert fast.acceleration == pytest.approx(generic.acceleration, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("target_cells", [8, 1000, 4_000_000])
def test_statistic_of_sums_rows_do_not_depend_on_how_many_are_computed_together(monkeypatch, target_cells):
    """The sums of a block are one product each; the statistic then sees many blocks'
    sums in one call. Forcing one block per call (8 cells) or a few gives bitwise the
    replicates of one call for all resamples (the ICC, the mean and a statistic of
    several outputs per resample like the MentalAlign cells')."""
    import sys

    bs = sys.modules[bootstrap.__module__]  # the module (the package re-exports the function under its name)
    feats = row_statistics(RATINGS)
    several = lambda s: np.stack([_icc_of_sums(s[..., :7], 4)[..., 1], s[..., 1] / s[..., 0],  # noqa: E731
                                  np.sqrt(np.abs(s[..., 5]) / s[..., 0])], axis=-1)
    kw = dict(n_boot=333, seed=21, clusters=CLUSTERS, keep_replicates=True, sums=True)
    stats_ = [(feats, lambda s: _icc_of_sums(s, 4)), (feats, several),
              (np.column_stack([np.ones(150), RATINGS[:, 0] - RATINGS[:, 1]]), _mean_of_sums)]
    ref = [bootstrap(d, f, **kw) for d, f in stats_]
    monkeypatch.setattr(bs, "_TARGET_CELLS", target_cells)
    for (d, f), r in zip(stats_, ref):
        got = bootstrap(d, f, **kw)
        assert np.array_equal(got.replicates, r.replicates)
        assert np.array_equal(got.ci_low, r.ci_low) and np.array_equal(got.ci_high, r.ci_high)


def test_sums_needs_one_two_dimensional_array():
    with pytest.raises(ValueError, match="sums=True needs"):
        bootstrap(SAMPLE, lambda s: s, sums=True)


# --- a reusable resampling plan ----------------------------------------------------------

@pytest.mark.parametrize("clusters", [None, CLUSTERS], ids=["items", "clusters"])
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_plan_is_bitwise_the_seeded_call(clusters, method):
    feats = row_statistics(RATINGS)
    icc = lambda s: _icc_of_sums(s, 4)  # noqa: E731
    plan = ResamplePlan(150, 333, seed=12, clusters=clusters)
    for _ in range(2):  # the second pass reads the cached counts
        for stat, sums in [(icc, True), (_icc_generic(4), False)]:
            ref = bootstrap(feats, stat, sums=sums, n_boot=333, seed=12, clusters=clusters, method=method,
                            keep_replicates=True)
            got = bootstrap(feats, stat, sums=sums, plan=plan, method=method, keep_replicates=True)
            assert np.array_equal(got.replicates, ref.replicates)
            assert np.array_equal(got.ci_low, ref.ci_low) and np.array_equal(got.ci_high, ref.ci_high)
    uncached = ResamplePlan(150, 333, seed=12, clusters=clusters, cache_mib=0)
    assert np.array_equal(uncached.counts(), plan.counts())
    assert np.array_equal(plan.weights(5, 70), bootstrap(feats, lambda f, weights: weights, n_boot=333, seed=12,
                                                         clusters=clusters, method="percentile",
                                                         keep_replicates=True).replicates[5:70])


def test_plan_counts_are_the_resample_indices():
    plan = ResamplePlan(17, 300, seed=8)
    idx = resample_indices(17, 300, seed=8)
    assert np.array_equal(plan.counts(), np.stack([np.bincount(i, minlength=17) for i in idx]))
    assert np.array_equal(plan.counts(BLOCK - 3, BLOCK + 5), plan.counts()[BLOCK - 3:BLOCK + 5])


def test_plan_without_seed_shares_one_draw():
    plan = ResamplePlan(len(SAMPLE), 200)
    a = bootstrap(SAMPLE, wmean, plan=plan, keep_replicates=True)
    b = bootstrap(SAMPLE, wmean, plan=plan, keep_replicates=True)
    assert np.array_equal(a.replicates, b.replicates)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(seed=1), "do not pass seed"),
    (dict(clusters=np.arange(120)), "do not pass seed or clusters"),
    (dict(n_boot=999), "differs from the plan"),
])
def test_plan_conflicts_are_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        bootstrap(SAMPLE, wmean, plan=ResamplePlan(len(SAMPLE), 100, seed=1), **kwargs)


def test_plan_must_match_the_rows():
    with pytest.raises(ValueError, match="resamples 50 rows but the data have 120"):
        bootstrap(SAMPLE, wmean, plan=ResamplePlan(50, 100, seed=1))
