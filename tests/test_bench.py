"""The fast paths the bench times, against the slow paths they replace (no timing here):

* ``alignment_tables`` (one resampling plan per judge, one vectorised bootstrap of
  per-conversation sums) against a cell-by-cell bootstrap on the same plan written the
  other way (row weights, the generic jackknife that leaves each conversation out);
* the streamed summary of a large user study against the in-memory summary;
* the generator of the 10^7-row study, and ``bench all`` on tiny sizes (it prints a
  PASS/FAIL/SKIP line per target).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.checks.bench import TARGETS, write_large_study
from analysis.data.mentalalign import ATTRIBUTES
from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.icc import icc_batch, intraclass_corr
from analysis.studies.mentalalign import VARIANTS, alignment_tables, judge_pairs

PROJECT = Path(__file__).resolve().parents[1]


def _ratings(seed=3, n_conv=30, sources=("m-a", "m-b", "m-c", "m-d"), judge="judge-x"):
    """A MentalAlign-shaped ratings frame: every conversation answered by every source, a
    human and a judge rating of every attribute; a few ratings off the scale (0 or 6) and
    a few judge ratings missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_conv):
        for s in sources:
            quality = rng.normal(3.3, 0.8) + (0.3 if s == "m-a" else 0.0)
            for a in ATTRIBUTES:
                h = float(np.clip(np.rint(quality + rng.normal(0, 0.7)), 1, 5))
                j = float(np.clip(np.rint(quality + 0.4 + rng.normal(0, 0.8)), 1, 5))
                if rng.random() < 0.02:
                    h = 6.0
                if rng.random() < 0.02:
                    j = 0.0
                rows.append((f"ma-{c}", f"ma-{c}/{s}", s, a, "human", h))
                if rng.random() > 0.02:
                    rows.append((f"ma-{c}", f"ma-{c}/{s}", s, a, judge, j))
    return pl.DataFrame(rows, schema=["item_id", "response_id", "answer_model", "attribute", "rater", "score"],
                        orient="row")


def _reference_cell(p, conv_code, n_conv, n_boot, seed):
    """BCa bounds of one cell, computed on row weights (every row gets its conversation's
    count) with the generic jackknife that deletes one conversation at a time; outputs as
    alignment_tables orders them. A conversation of the judge without a pair in this cell
    is a row of weight 0 (drawn, it adds nothing), so the plan draws the same conversations."""
    missing = np.setdiff1d(np.arange(n_conv), conv_code)
    codes = np.concatenate([conv_code, missing])
    real = np.concatenate([np.ones(conv_code.size), np.zeros(missing.size)])
    order = np.argsort(codes, kind="stable")
    h = np.concatenate([p.human, np.zeros(missing.size)])[order]
    j = np.concatenate([p.judge, np.zeros(missing.size)])[order]
    src = np.concatenate([p.source, np.zeros(missing.size, int)])[order]
    codes, real = codes[order], real[order]
    plan = ResamplePlan(h.size, n_boot, seed, clusters=codes)
    assert plan.n_draw == n_conv
    n_src = len(p.sources)
    onehot = (src[:, None] == np.arange(n_src)[None, :]) * real[:, None]
    keep = real.astype(bool)

    def statistic(h, j, onehot, weights):
        w = weights * real
        cnt = w @ onehot
        means = np.stack([(w * h) @ onehot / cnt, (w * j) @ onehot / cnt], axis=-1)
        system = icc_batch(means)[..., [2, 1]]
        response = icc_batch(np.column_stack([h, j])[keep], w[..., keep])[..., [1, 2]]
        bias = (w @ (j - h) / w.sum(axis=-1))[..., None]
        by_source = ((w * (j - h)) @ onehot) / cnt
        return np.concatenate([system, response, bias, by_source], axis=-1)

    with np.errstate(invalid="ignore", divide="ignore"):
        return bootstrap((h, j, onehot), statistic, plan=plan, method="bca")


def test_alignment_tables_equal_a_cell_by_cell_bootstrap_on_the_same_plan():
    ratings, judge, n_boot, seed = _ratings(), "judge-x", 400, 11
    tables = alignment_tables(ratings, judge, n_boot=n_boot, seed=seed)
    clean = ratings.filter(pl.col("score").is_between(1, 5))
    icc, bias, by_source = tables["icc"], tables["bias"], tables["bias_by_source"]
    conversations = sorted(ratings["item_id"].unique().to_list())
    code = {c: i for i, c in enumerate(conversations)}
    for variant, frame in zip(VARIANTS, (ratings, clean)):
        for attribute in ATTRIBUTES:
            p = judge_pairs(frame, judge, attribute)
            conv = np.array([code[c] for c in p.conversation])
            ref = _reference_cell(p, conv, len(conversations), n_boot, seed)
            cell = icc.filter((pl.col("variant") == variant) & (pl.col("attribute") == attribute)
                              & (pl.col("ci_method") == "BCa"))
            got = {(lv, t): (lo, hi) for lv, t, lo, hi in cell.select("level", "type", "ci_low", "ci_high").iter_rows()}
            want = {("system", "ICC(C,1)"): 0, ("system", "ICC(A,1)"): 1, ("response", "ICC(A,1)"): 2,
                    ("response", "ICC(C,1)"): 3}
            for key, i in want.items():
                # Same resamples; sums taken in another order (row weights vs conversation
                # sums): equal to rounding, far below any printed digit.
                assert got[key] == pytest.approx((ref.ci_low[i], ref.ci_high[i]), abs=1e-12), (variant, attribute, key)
            b = bias.filter((pl.col("variant") == variant) & (pl.col("attribute") == attribute)).row(0, named=True)
            # Integer scores: both ways sum integers exactly, so the bias bounds are equal.
            assert (b["ci_low"], b["ci_high"]) == (ref.ci_low[4], ref.ci_high[4])
            assert b["bias"] == pytest.approx(float(np.mean(p.judge - p.human)), abs=0)
            rows = by_source.filter((pl.col("variant") == variant) & (pl.col("attribute") == attribute))
            assert rows["source"].to_list() == list(p.sources)
            assert rows["ci_low"].to_list() == ref.ci_low[5:].tolist()
            assert rows["ci_high"].to_list() == ref.ci_high[5:].tolist()
            # The F rows are those of intraclass_corr on the same pairs.
            f = intraclass_corr(np.column_stack([p.human, p.judge]), ci="f")
            resp_f = icc.filter((pl.col("variant") == variant) & (pl.col("attribute") == attribute)
                                & (pl.col("level") == "response") & (pl.col("ci_method") == "F"))
            assert resp_f["ci_low"].to_list() == f.filter(pl.col("type").is_in(["ICC(A,1)", "ICC(C,1)"]))[
                "ci_low"].to_list()


def test_alignment_tables_cells_are_judge_pairs():
    from analysis.studies.mentalalign import _judge_cells

    ratings = _ratings(seed=8)
    clean = ratings.filter(pl.col("score").is_between(1, 5))
    cells = _judge_cells(ratings, "judge-x")
    assert [(v, a) for v, a, _ in cells] == [(v, a) for v in VARIANTS for a in ATTRIBUTES]
    for variant, attribute, p in cells:
        q = judge_pairs(ratings if variant == "as_published" else clean, "judge-x", attribute)
        assert p.sources == q.sources and p.dropped_sources == q.dropped_sources
        for f in ("human", "judge", "source", "conversation"):
            assert getattr(p, f).tolist() == getattr(q, f).tolist(), (variant, attribute, f)
    with pytest.raises(ValueError, match="no ratings of judge"):
        alignment_tables(ratings, "nobody")


def test_streamed_summary_equals_the_in_memory_summary(tmp_path):
    from analysis.data.tidy_stream import needs_streaming
    from analysis.studies.scored import stream_summary
    from analysis.cli.summary import compute_summary

    study = write_large_study(tmp_path, n_items=300, n_evaluators=4, n_runs=2, seed=5, chunk=120, off_scale=0.01)
    assert not needs_streaming(study)  # 3,000 rows: below the threshold, compute_summary loads it whole
    assert needs_streaming(study, min_rows=3000)
    # The streaming reduction keeps the items every rater scored (listwise; its header says
    # so): the in-memory summary with the same choice is its reference.
    from analysis.studies.registry import load_study
    from analysis.studies.scored import review_scores, summary_tables

    memory = summary_tables(load_study(str(study), seed=7), n_boot=300, seed=7, cases="listwise")
    assert compute_summary(str(study), n_boot=300, seed=7)["agreement"]["n"].max() >= memory["agreement"]["n"].max()
    streamed = stream_summary(study, n_boot=300, seed=7)
    assert "listwise" in streamed["_meta"]["header"][0]
    # The header names whose missing scores left items out, counted as the in-memory matrix has them.
    study_obj = load_study(str(study), seed=7)
    avail = review_scores(study_obj.data.ratings, study_obj.data.review_set, study_obj.data.items,
                          humans=study_obj.spec.references, evaluators=study_obj.evaluators, cases="available")
    gaps = {r: int((~np.isfinite(avail.column(r))).sum()) for r in (*study_obj.spec.references, *study_obj.evaluators)}
    expected = ", ".join(f"{r} {m:,}" for r, m in gaps.items() if m)
    assert expected and f"missing a score of {expected};" in streamed["_meta"]["header"][0]
    assert streamed["audit"].select("status", "reason", "n_records").rows() == \
        memory["audit"].select("status", "reason", "n_records").rows()
    _assert_same_tables(memory, streamed)


def _assert_same_tables(memory, streamed):
    for name in ("agreement", "icc", "bias"):
        a, b = memory[name], streamed[name]
        assert a.columns == b.columns and a.height == b.height
        for col in a.columns:
            if a[col].dtype == pl.Float64:
                tol = 1e-12
                if name == "bias" and col in ("ci_low", "ci_high"):
                    # Same resamples, but the bias replicates come out of one product with
                    # every statistic's sums instead of one product per evaluator: a last-bit
                    # difference can move a replicate that ties with the estimate (scores
                    # of 1/2 and 1/6 points tie often on 300 items), and BCa counts ties as
                    # half in z0, which shifts a bound by about one order statistic.
                    tol = 0.01
                np.testing.assert_allclose(b[col].to_numpy(), a[col].to_numpy(), rtol=0, atol=tol,
                                           err_msg=f"{name}.{col}")
            else:
                assert b[col].to_list() == a[col].to_list(), f"{name}.{col}"


def test_streamed_summary_of_a_clustered_study_resamples_its_clusters(tmp_path):
    """A study with a cluster column: the streaming path's intervals resample clusters, as
    the in-memory summary's do (they resampled items before: too narrow)."""
    from analysis.studies.registry import load_study
    from analysis.studies.scored import stream_summary, summary_tables

    study = write_large_study(tmp_path, n_items=300, n_evaluators=3, n_runs=2, seed=9, chunk=150, off_scale=0.01)
    ratings = tmp_path / "ratings.parquet"
    frame = pl.read_parquet(ratings)
    # 75 conversations of 4 answers each.
    frame = frame.with_columns(("c" + (pl.col("item").str.slice(1).cast(pl.Int64) // 4).cast(pl.String))
                               .alias("cluster"))
    frame.write_parquet(ratings)
    memory = summary_tables(load_study(str(study), seed=3), n_boot=300, seed=3, cases="listwise")
    streamed = stream_summary(study, n_boot=300, seed=3)
    assert "resamples clusters (75 clusters" in streamed["_meta"]["header"][0]
    assert "resampled clusters" in memory["icc"]["ci_assumes"].to_list()
    _assert_same_tables(memory, streamed)
    assert streamed["bias"]["ci_note"].str.starts_with("resampled clusters").all()
    # Not the item bootstrap: the same study without its cluster column gives other bounds.
    frame.drop("cluster").write_parquet(ratings)
    items = stream_summary(study, n_boot=300, seed=3)
    boot = pl.col("ci_method") == "BCa"
    assert set(items["icc"].filter(boot)["ci_assumes"]) == {"resampled items"}
    assert not np.allclose(items["icc"].filter(boot)["ci_low"].to_numpy(),
                           streamed["icc"].filter(boot)["ci_low"].to_numpy())


def test_streamed_study_errors_and_exclusions(tmp_path):
    from analysis.data.tidy import StudyFileError
    from analysis.data.tidy_stream import stream_study

    study = write_large_study(tmp_path, n_items=40, n_evaluators=2, n_runs=1, seed=1, off_scale=0.0)
    frame = pl.read_parquet(tmp_path / "ratings.parquet")
    bad = frame.with_columns(pl.when(pl.int_range(pl.len()) < 3).then(9.0).otherwise(pl.col("score")).alias("score"))
    bad.write_parquet(tmp_path / "ratings.parquet")
    s = stream_study(study)
    assert dict(s.audit.select("reason", "n_records").rows()) == {None: frame.height - 3,
                                                                   "score outside the scale": 3}
    assert s.n_dropped == 3 and s.matrix.values.shape == (37, 4)
    pl.concat([frame, frame.head(1)]).write_parquet(tmp_path / "ratings.parquet")
    with pytest.raises(StudyFileError, match=r"parquet rows 1, 161: rater 'H1' rates item 'r0000000' twice in run 1"):
        stream_study(study)


def test_generator_is_seeded_and_has_the_documented_rows(tmp_path):
    a = write_large_study(tmp_path / "a", n_items=30, seed=9, chunk=7)
    b = write_large_study(tmp_path / "b", n_items=30, seed=9, chunk=7)
    fa, fb = pl.read_parquet(a.parent / "ratings.parquet"), pl.read_parquet(b.parent / "ratings.parquet")
    assert fa.height == 30 * (2 + 6 * 3) and fa.equals(fb)
    assert fa.group_by("item", "rater", "run").len()["len"].max() == 1


def test_bench_all_runs_on_tiny_sizes(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis", "bench", "all", "--tiny", "--data-root",
                           str(tmp_path / "no-data")], capture_output=True, text=True, cwd=PROJECT, timeout=600)
    lines = proc.stdout.splitlines()
    verdicts = [ln.split()[0] for ln in lines if ln.split() and ln.split()[0] in ("PASS", "FAIL", "SKIP")]
    # icc7, icc7api, mentalalign, stream, wide, dask, pingouin
    assert len(verdicts) == 7, proc.stdout + proc.stderr
    assert any(ln.startswith("SKIP  mentalalign: no data") for ln in lines)
    assert sum(ln.startswith("- target:") for ln in lines) == 7
    assert all("peak" in ln and "load average" in ln for ln in lines if ln.startswith(("PASS", "FAIL")))
    assert (proc.returncode == 0) == ("FAIL" not in verdicts)
    assert set(TARGETS) == {"icc7", "icc7api", "mentalalign", "stream", "wide", "dask", "pingouin", "render"}
