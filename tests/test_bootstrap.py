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


def test_two_stage_resamples_items_then_runs():
    rng = np.random.default_rng(7)
    n, r = 30, 3
    y = rng.normal(size=(n, r))
    run_counts = np.full(n, 3)
    run_counts[:4] = 2
    y[:4, 2] = np.nan  # padding beyond an item's runs is never drawn

    def weights_out(y, weights):
        return weights.reshape(weights.shape[0], -1)

    res = bootstrap(y, weights_out, run_counts=run_counts, n_boot=400, seed=5, method="percentile",
                    keep_replicates=True)
    w = res.replicates.reshape(400, n, r)
    assert (w[:, :4, 2] == 0).all()
    idx = resample_indices(n, 400, seed=5)
    item_counts = np.stack([np.bincount(i, minlength=n) for i in idx])
    # Every drawn copy of item i draws run_counts[i] runs.
    assert np.array_equal(w.sum(axis=2), item_counts * run_counts)
    # Runs within items are really resampled (not all copies take every run once).
    assert (w[item_counts == 1] != 1).any()


def test_two_stage_mean_ci_is_seeded_and_chunk_invariant():
    rng = np.random.default_rng(8)
    y = rng.normal(size=(40, 3)) + rng.normal(size=(40, 1))
    run_counts = np.full(40, 3)

    def mean(y, weights):
        return np.einsum("bnr,nr->b", weights, y) / weights.sum(axis=(1, 2))

    a = bootstrap(y, mean, run_counts=run_counts, n_boot=500, seed=1)
    b = bootstrap(y, mean, run_counts=run_counts, n_boot=500, seed=1, chunk_size=37)
    assert a.ci_low == b.ci_low and a.ci_high == b.ci_high
    assert a.estimate == pytest.approx(y.mean())
    assert a.ci_low < y.mean() < a.ci_high


def test_non_finite_replicates_are_counted_not_hidden():
    x = np.array([1.0, 1.0, 1.0, 1.0, 5.0])

    def ratio(x, weights):
        with np.errstate(divide="ignore", invalid="ignore"):
            return wstd(x, weights) / wstd(x, weights)

    res = bootstrap(x, ratio, n_boot=500, seed=1, method="percentile")
    # P(no 5.0 drawn) = 0.8^5 = 0.33: those resamples give 0/0.
    assert 250 < res.n_valid < 400


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
