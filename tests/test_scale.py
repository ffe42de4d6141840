"""Scaling with the number of items: the lean bootstrap of sums, the plans kept between
calls, and the Dask engine of the streaming summary (equal to the polars engine)."""

from __future__ import annotations

import importlib

import numpy as np
import polars as pl
import pytest

from analysis.checks.bench import write_large_study
from analysis.stats.bootstrap import ResamplePlan, bootstrap, clear_shared_plans, resample_indices, shared_plan
from analysis.stats.icc import _icc_of_sums, intraclass_corr, row_statistics


def test_plan_pieces_draw_the_same_integers():
    plan = ResamplePlan(1001, 150, 4)
    for block in range(plan.n_blocks):
        pieces = np.concatenate([idx for _, idx in plan.block_pieces(block, 5)])
        np.testing.assert_array_equal(pieces, resample_indices(1001, 150, 4, block * 64, block * 64 + 64))


def test_lean_and_pattern_sums_equal_the_block_product():
    rng = np.random.default_rng(1)
    x = np.clip(np.rint(rng.normal(3, 1, (4000, 1)) + rng.normal(0, 0.7, (4000, 3))), 1, 5)
    stats = row_statistics(x)
    f = lambda s: _icc_of_sums(s, k=3)  # noqa: E731
    ref = bootstrap(stats, f, sums=True, n_boot=300, seed=2, method="bca", keep_replicates=True)
    lean = bootstrap(stats, f, sums=True, n_boot=300, seed=2, method="bca", lean=True, keep_replicates=True)
    _, first, pattern = np.unique(x, axis=0, return_index=True, return_inverse=True)
    assert first.size < 125  # at most 5^3 distinct rows
    comp = bootstrap(stats[first], f, sums=True, n_boot=300, seed=2, method="bca", pattern=pattern.ravel(),
                     keep_replicates=True)
    for res in (lean, comp):
        np.testing.assert_allclose(res.replicates, ref.replicates, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.estimate, ref.estimate, rtol=0, atol=1e-13)
        np.testing.assert_allclose(res.acceleration, ref.acceleration, rtol=0, atol=1e-10)
        np.testing.assert_allclose(res.ci_low, ref.ci_low, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.ci_high, ref.ci_high, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="pattern"):
        bootstrap(stats[first], f, sums=True, n_boot=300, seed=2, pattern=pattern.ravel() + 10**6)


def test_lean_blocks_on_threads_are_bitwise_one_thread(monkeypatch):
    boot = importlib.import_module("analysis.stats.bootstrap")

    rng = np.random.default_rng(4)
    x = np.clip(np.rint(rng.normal(3, 1, (3000, 1)) + rng.normal(0, 0.7, (3000, 3))), 1, 5)
    stats = row_statistics(x)
    f = lambda s: _icc_of_sums(s, k=3)  # noqa: E731
    runs = {}
    for threads in (1, 3):
        monkeypatch.setattr(boot, "LEAN_THREADS", threads)
        assert boot.lean_threads() <= threads
        runs[threads] = bootstrap(stats, f, sums=True, n_boot=320, seed=5, method="bca", lean=True,
                                  keep_replicates=True)
    assert runs[1].replicates.shape == (320, 6)  # 5 blocks of 64 shared between the threads
    np.testing.assert_array_equal(runs[3].replicates, runs[1].replicates)
    np.testing.assert_array_equal(runs[3].ci_low, runs[1].ci_low)


@pytest.mark.parametrize("with_pattern", [False, True])
def test_acceleration_in_chunks_equals_the_whole_jackknife(monkeypatch, with_pattern):
    boot = importlib.import_module("analysis.stats.bootstrap")

    rng = np.random.default_rng(6)
    x = np.clip(np.rint(rng.normal(3, 1, (2500, 1)) + rng.normal(0, 0.8, (2500, 3))), 1, 5)
    stats = row_statistics(x)
    f = lambda s: _icc_of_sums(s, k=3)  # noqa: E731
    kw = dict(sums=True, n_boot=200, seed=7, method="bca", keep_replicates=True)
    if with_pattern:
        _, first, pattern = np.unique(x, axis=0, return_index=True, return_inverse=True)
        stats, kw = stats[first], dict(kw, pattern=pattern.ravel())
    whole = bootstrap(stats, f, **kw)
    monkeypatch.setattr(boot, "JACKKNIFE_ROWS", 16)  # thousands of units, or 100-odd distinct rows: chunked,
    monkeypatch.setattr(boot, "ACCELERATION_ROWS", 16)  # 16 at a time
    chunked = bootstrap(stats, f, **kw)
    assert stats.shape[0] > 16 * 3
    np.testing.assert_array_equal(chunked.replicates, whole.replicates)
    np.testing.assert_allclose(chunked.acceleration, whole.acceleration, rtol=1e-7, atol=1e-15)  # a ~ 3e-4: 1e-13
    np.testing.assert_allclose(chunked.ci_low, whole.ci_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(chunked.ci_high, whole.ci_high, rtol=0, atol=1e-12)
    assert np.abs(whole.acceleration).max() > 1e-4  # a real acceleration, not zeros compared with zeros


def test_calls_without_a_plan_reuse_the_draw_bit_for_bit():
    clear_shared_plans()
    rng = np.random.default_rng(3)
    xs = [np.clip(np.rint(rng.normal(3, 1, (500, 1)) + rng.normal(0, 0.7, (500, 4))), 1, 5) for _ in range(3)]
    first = [intraclass_corr(x, ci="bca", n_boot=200, seed=11) for x in xs]
    assert shared_plan(500, 200, 11) is shared_plan(500, 200, 11)  # kept, not drawn again
    clear_shared_plans()
    again = [intraclass_corr(x, ci="bca", n_boot=200, seed=11) for x in xs]
    plan = ResamplePlan(500, 200, 11)
    shared = [intraclass_corr(x, ci="bca", plan=plan) for x in xs]
    for a, b, c in zip(first, again, shared):
        assert a.equals(b) and a.equals(c)
    assert shared_plan(500, 200, None) is not shared_plan(500, 200, None)  # fresh entropy: never kept
    clusters = np.repeat(np.arange(250), 2)
    a = intraclass_corr(xs[0], ci="bca", n_boot=200, seed=11, clusters=clusters)
    clear_shared_plans()
    assert a.equals(intraclass_corr(xs[0], ci="bca", n_boot=200, seed=11, clusters=clusters))
    assert not a.equals(first[0])


def test_dask_engine_equals_the_polars_engine(tmp_path):
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    from analysis.studies.scored import stream_summary

    study = write_large_study(tmp_path, n_items=600, n_evaluators=3, n_runs=2, seed=5, chunk=100, off_scale=0.01,
                              files=3)
    assert (tmp_path / "ratings.parquet").is_dir()
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        for clustered in (False, True):
            if clustered:  # the same study in 150 clusters of 4 items: both engines resample them
                for part in sorted((tmp_path / "ratings.parquet").glob("*.parquet")):
                    pl.read_parquet(part).with_columns(
                        ("c" + (pl.col("item").str.slice(1).cast(pl.Int64) // 4).cast(pl.String)).alias("cluster")
                    ).write_parquet(part)
            polars_tables = stream_summary(study, n_boot=200, seed=7)
            dask_tables = stream_summary(study, n_boot=200, seed=7, engine="dask", client=client)
            for name in ("audit", "agreement", "icc", "bias"):
                # byte for byte: scores on the integer grid
                assert dask_tables[name].equals(polars_tables[name]), (name, clustered)
            assert ("resampled clusters" in dask_tables["icc"]["ci_assumes"].to_list()) == clustered
            assert ("150 clusters" in dask_tables["_meta"]["header"][0]) == clustered


def test_dask_engine_reports_errors_with_rows_of_the_data_set(tmp_path):
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    from analysis.data.tidy import StudyFileError
    from analysis.data.tidy_dask import dask_study
    from analysis.data.tidy_stream import stream_study

    study = write_large_study(tmp_path, n_items=40, n_evaluators=2, n_runs=1, seed=1, off_scale=0.0, chunk=20,
                              files=2)
    part = tmp_path / "ratings.parquet" / "part-00001.parquet"
    frame = pl.read_parquet(part)
    pl.concat([frame, frame.head(1)]).write_parquet(part)
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(StudyFileError, match=r"parquet rows 81, 161: rater 'H1' rates item 'r0000020' twice"):
            dask_study(study, client=client)
    with pytest.raises(StudyFileError, match=r"parquet rows 81, 161: rater 'H1' rates item 'r0000020' twice"):
        stream_study(study)


def test_the_per_item_pass_in_parts_equals_one_pass(tmp_path, monkeypatch):
    from analysis.data import tidy_stream

    study = write_large_study(tmp_path, n_items=300, n_evaluators=3, n_runs=2, seed=8, chunk=100, off_scale=0.01)
    whole = tidy_stream.stream_study(study)
    monkeypatch.setattr(tidy_stream, "PASS2_ROWS", 500)  # 2,400 rows: 5 parts
    parts = tidy_stream.stream_study(study)
    np.testing.assert_array_equal(parts.values, whole.values)
    assert parts.items.equals(whole.items) and parts.audit.equals(whole.audit) and parts.n_dropped == whole.n_dropped
