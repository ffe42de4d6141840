"""``summary`` holds for every study shape: labelled studies against every reference (and the
references' majority), raters who each scored a subset of the items (per-judge available
cases), studies with one run per system, and user studies that declare clusters.

The real-data test writes the alt-test authors' six annotation studies as user studies
(tests/test_alttest_studies.py::write_study) and recomputes a few numbers from their JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.cli.summary import compute_summary

from test_alttest_studies import STUDIES, write_study


def _write_study(tmp_path: Path, name: str, columns: list[str], rows: list[tuple], kind: str, references: str,
                 *, clusters: bool) -> Path:
    """``ratings.csv`` (``columns``, plus ``cluster`` = each row's last value when
    ``clusters``) and ``study.toml`` in ``tmp_path / name``."""
    folder = tmp_path / name
    folder.mkdir()
    width = len(columns)
    lines = [",".join(columns + (["cluster"] if clusters else []))]
    lines += [",".join(str(v) for v in (r if clusters else r[:width])) for r in rows]
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "study.toml").write_text(f'name = "{name}"\nratings = "ratings.csv"\n{kind}\nreferences = {references}\n',
                                       encoding="utf-8")
    return folder / "study.toml"


def _scored_study(tmp_path: Path, rows: list[tuple], *, clusters: bool = False, name: str = "s") -> Path:
    return _write_study(tmp_path, name, ["item", "rater", "score"], rows, "scale = [1, 5]", '["H1", "H2"]',
                        clusters=clusters)


def _ratings(seed: int, n: int = 120, *, judge_missing: int = 0, extra_judge: bool = False,
             cluster_size: int = 10) -> list[tuple]:
    """Two humans and judge A on every item; judge B (``extra_judge``) misses the first
    ``judge_missing`` items. Item i is in cluster i // cluster_size, whose shared offset moves
    the judges' scores (so clusters matter for the intervals)."""
    rng, rng_b = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    offsets = rng.normal(0, 1.0, n // cluster_size + 1)
    rows = []
    for i in range(n):
        truth = rng.integers(1, 6)
        c = i // cluster_size
        for h in ("H1", "H2"):
            rows.append((f"i{i:03d}", h, int(np.clip(truth + rng.integers(-1, 2), 1, 5)), f"c{c:02d}"))
        rows.append((f"i{i:03d}", "A", int(np.clip(round(truth + offsets[c] + rng.normal(0, 0.5)), 1, 5)),
                     f"c{c:02d}"))
        if extra_judge and i >= judge_missing:
            rows.append((f"i{i:03d}", "B", int(np.clip(truth + rng_b.integers(-2, 3), 1, 5)), f"c{c:02d}"))
    return rows


def _rows_of(tables: dict, judge: str) -> dict[str, pl.DataFrame]:
    return {"agreement": tables["agreement"].filter(pl.col("rater_a") == judge),
            "icc": tables["icc"].filter(pl.col("rater_a") == judge),
            "bias": tables["bias"].filter(pl.col("evaluator") == judge)}


def test_adding_a_judge_never_changes_another_judges_row(tmp_path):
    """Per-judge available cases (the default): judge B, who misses 30 items, leaves judge A's
    rows as they were without B; listwise (the option) drops those 30 items for A too."""
    alone = compute_summary(str(_scored_study(tmp_path, _ratings(1), name="alone")), n_boot=200, seed=3)
    with_b = _scored_study(tmp_path, _ratings(1, judge_missing=30, extra_judge=True), name="with-b")
    both = compute_summary(str(with_b), n_boot=200, seed=3)
    for name, frame in _rows_of(alone, "A").items():
        assert frame.equals(_rows_of(both, "A")[name]), name
    assert set(_rows_of(both, "B")["bias"]["n"]) == {90}
    assert set(_rows_of(both, "A")["bias"]["n"]) == {120}
    assert "per-judge available cases" in both["_meta"]["header"][0]

    from analysis.studies.registry import load_study
    from analysis.studies.scored import summary_tables

    listwise = summary_tables(load_study(str(with_b)), n_boot=200, seed=3, cases="listwise")
    assert set(_rows_of(listwise, "A")["bias"]["n"]) == {90}
    assert not _rows_of(listwise, "A")["bias"].equals(_rows_of(alone, "A")["bias"])
    assert "listwise" in listwise["_meta"]["header"][0]


def test_a_study_with_clusters_resamples_them_and_says_so(tmp_path):
    """The same ratings with and without the cluster column: with it every bootstrap interval
    resamples the 12 clusters (wider here, where the clusters share an offset) and the
    tables say so; the estimates are the same."""
    rows = _ratings(7)
    plain = compute_summary(str(_scored_study(tmp_path, rows, name="plain")), n_boot=400, seed=5)
    clustered = compute_summary(str(_scored_study(tmp_path, rows, clusters=True, name="clustered")), n_boot=400,
                                seed=5)
    for table in ("bias", "icc"):
        assert plain[table]["icc" if table == "icc" else "bias"].equals(
            clustered[table]["icc" if table == "icc" else "bias"])
    width = {k: (t["bias"]["ci_high"] - t["bias"]["ci_low"]).to_numpy() for k, t in (("p", plain), ("c", clustered))}
    assert (width["c"] > width["p"]).all(), width
    assert all("resampled clusters" in n for n in clustered["bias"]["ci_note"])
    assert not any("resampled clusters" in n for n in plain["bias"]["ci_note"])
    boot = clustered["icc"].filter(pl.col("ci_method") == "BCa")
    assert set(boot["ci_assumes"]) == {"resampled clusters"}
    assert "resamples clusters (12 clusters" in clustered["_meta"]["header"][0]
    assert "clusters" not in plain["_meta"]["header"][0]


@pytest.mark.real_data
def test_summary_works_on_the_six_alttest_studies(alttest_dir, tmp_path):
    """Each of the authors' six studies gets its summary (today's failures: MT-Bench, WAX and
    LGBTeen had one run per system; CEBaB's ten humans each rated a subset, so no item had a
    complete set of scores). Numbers recomputed from the JSON: accuracy of every LLM against
    every human of MT-Bench, the human-human accuracy, and the majority of the humans."""
    for name, (scoring, _) in STUDIES.items():
        path = write_study(alttest_dir / name, tmp_path / name, name, scoring)
        tables = compute_summary(str(path), n_boot=50, seed=1)
        humans = json.loads((alttest_dir / name / "human_annotations.json").read_text(encoding="utf-8"))
        llms = json.loads((alttest_dir / name / "llm_annotations.json").read_text(encoding="utf-8"))
        if scoring == "accuracy":
            m = tables["metrics"]
            refs = [f"h-{h}" for h in humans]
            assert m.height == len(llms) * len(refs) + len(refs) * (len(refs) - 1) // 2 + len(llms)
            if name != "mtbench":
                continue
            labels = sorted({str(v) for d in [*humans.values(), *llms.values()] for v in d.values()})
            for h, hd in humans.items():
                for llm, ld in llms.items():
                    common = [i for i in hd if i in ld]
                    row = m.filter((pl.col("system") == llm) & (pl.col("reference") == f"h-{h}")).row(0, named=True)
                    assert row["n_items"] == len(common)
                    assert row["accuracy"] == pytest.approx(np.mean([hd[i] == ld[i] for i in common]), abs=1e-12)
            a, b = list(humans)[:2]
            common = [i for i in humans[a] if i in humans[b]]
            row = m.filter((pl.col("system") == f"h-{b}") & (pl.col("reference") == f"h-{a}")).row(0, named=True)
            assert row["n_items"] == len(common) and row["accuracy"] == pytest.approx(
                np.mean([humans[a][i] == humans[b][i] for i in common]))
            majority, ties = {}, 0
            for i in {i for d in humans.values() for i in d}:
                votes = [d[i] for d in humans.values() if i in d]
                top = max(votes.count(v) for v in set(votes))
                winners = {v for v in set(votes) if votes.count(v) == top}
                if len(winners) > 1:
                    ties += 1
                else:
                    majority[i] = winners.pop()
            assert f"({ties} items where labels tie" in tables["_meta"]["header"][0]
            llm, ld = next(iter(llms.items()))
            common = [i for i in majority if i in ld]
            row = m.filter((pl.col("system") == llm) & (pl.col("reference") == "majority")).row(0, named=True)
            assert row["n_items"] == len(common)
            assert row["accuracy"] == pytest.approx(np.mean([majority[i] == ld[i] for i in common]))
            assert labels  # the study's labels are every label of the files
        else:
            bias = tables["bias"]
            assert bias.height == len(llms) and bias["bias"].is_finite().all()
            for llm, ld in llms.items():
                # human_mean: the mean of the humans who scored the item (available cases)
                diffs = []
                for i, v in ld.items():
                    hs = [float(d[i]) for d in humans.values() if i in d and d[i] is not None]
                    if hs and v is not None:
                        diffs.append(float(v) - np.mean(hs))
                row = bias.filter(pl.col("evaluator") == llm).row(0, named=True)
                assert row["n"] == len(diffs) and row["bias"] == pytest.approx(np.mean(diffs), abs=1e-10)


def test_a_labelled_study_with_runs_and_clusters(tmp_path):
    """Two references, a system with two runs, items in clusters: one row per system x
    reference, the human-human row and the majority rows; Fleiss' kappa between the two
    runs; the majority vote's interval resamples clusters and says so (wider than the
    same study without the cluster column)."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(150):
        c = i // 15
        truth = int(rng.integers(0, 3))
        a = truth if rng.random() < 0.8 else int(rng.integers(0, 3))
        b = truth if rng.random() < 0.7 else int(rng.integers(0, 3))
        rows += [(f"i{i:03d}", "nurse_a", "xyz"[a], "", f"c{c}"), (f"i{i:03d}", "nurse_b", "xyz"[b], "", f"c{c}")]
        wrong = rng.random() < (0.6 if c % 2 else 0.1)  # clusters differ: the judge fails half of them
        for run in (1, 2):
            label = (truth + 1) % 3 if wrong and rng.random() < 0.9 else truth
            rows.append((f"i{i:03d}", "judge", "xyz"[label], run, f"c{c}"))
    out = {}
    for name, clusters in (("plain", False), ("clustered", True)):
        path = _write_study(tmp_path, name, ["item", "rater", "score", "run"], rows, 'labels = ["x", "y", "z"]',
                            '["nurse_a", "nurse_b"]', clusters=clusters)
        out[name] = compute_summary(str(path), n_boot=300, seed=2)
    m = out["clustered"]["metrics"]
    assert m.select("system", "reference").rows() == [("judge", "nurse_a"), ("judge", "nurse_b"),
                                                      ("nurse_b", "nurse_a"), ("judge", "majority")]
    assert m["n_runs"].to_list() == [2, 2, 1, 2] and np.isfinite(m["fleiss_kappa_runs"][0])
    assert np.isnan(m["fleiss_kappa_runs"][2])  # one run: undefined, not an error
    assert all("resampled clusters" in n for n in m.drop_nulls("ci_low")["ci_note"])
    plain = out["plain"]["metrics"]
    assert plain["accuracy"].equals(m["accuracy"])
    wide = (m["ci_high"] - m["ci_low"]).to_numpy()[[0, 1, 3]]
    narrow = (plain["ci_high"] - plain["ci_low"]).to_numpy()[[0, 1, 3]]
    assert (wide > narrow).all(), (wide, narrow)
    assert "every interval resamples clusters" in out["clustered"]["_meta"]["header"][0]
