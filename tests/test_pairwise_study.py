"""Pairwise studies (kind = "pairwise"): the study file and its loader, the kind's tables on a
small study whose numbers are checked by hand, and the alt-test authors' MT-Bench verdicts
read as a pairwise study (their published advantage probabilities, read from their notebook)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import polars as pl
import pytest

from analysis.data.tidy import StudyFileError, load_pairwise, read_study_file
from analysis.studies import pairwise
from analysis.studies.registry import get_study, load_study


def _write(tmp: Path, rows, toml_extra: str = "", header=("item", "system_a", "system_b", "rater", "score")) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    with open(tmp / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    (tmp / "study.toml").write_text('name = "pw"\nkind = "pairwise"\nratings = "ratings.csv"\n'
                                    'references = ["h1", "h2"]\n' + toml_extra, encoding="utf-8")
    return tmp / "study.toml"


def _small(tmp: Path) -> Path:
    """Two humans and a judge on 4 comparisons, each shown in both orders (column first)."""
    rows = []
    truth = {"c1": ("x", "y", "A"), "c2": ("x", "z", "A"), "c3": ("y", "z", "tie"), "c4": ("y", "z", "B")}
    for item, (a, b, v) in truth.items():
        for first in (a, b):
            rows.append((item, a, b, "h1", v, first))
            rows.append((item, a, b, "h2", v, first))
            # the judge prefers whichever was shown first on c2 (position bias), else agrees
            rows.append((item, a, b, "judge", ("A" if first == a else "B") if item == "c2" else v, first))
    return _write(tmp, rows, header=("item", "system_a", "system_b", "rater", "score", "first"))


def test_a_pairwise_study_file_gets_the_pairwise_kind(tmp_path):
    path = _small(tmp_path)
    spec = get_study(str(path))
    assert spec.kind == "pairwise" and spec.scale.labels == ("A", "B", "tie")
    assert [nb.name for nb in spec.notebooks] == ["12_pairwise"]
    data = load_pairwise(path)
    assert data.evaluators == ("judge",) and data.games.height == 24 and data.has_order
    assert data.ratings is None and data.has_references


def test_the_small_studys_tables_are_the_hand_counted_ones(tmp_path):
    s = load_study(str(_small(tmp_path)))
    agr = pairwise.agreement_table(s)
    judge_h1 = agr.filter((pl.col("rater") == "judge") & (pl.col("human") == "h1")).row(0, named=True)
    # 8 games; the judge disagrees once on c2 (shown z first: it says B, the humans A)
    assert (judge_h1["n"], judge_h1["agreement_with_ties"]) == (8, 7 / 8)
    assert (judge_h1["n_without_ties"], judge_h1["agreement_without_ties"]) == (6, 5 / 6)
    assert agr.filter(pl.col("kind") == "human")["agreement_with_ties"].to_list() == [1.0]
    pos = pairwise.position_table(s).filter(pl.col("rater") == "judge").row(0, named=True)
    # decided games: c1 x2, c2 x2, c4 x2; the first-shown won in c1 (x first), c2 (both), c4 (z first)
    assert (pos["decided"], pos["first_wins"]) == (6, 4 / 6)
    assert (pos["swapped_pairs"], pos["inconsistent"]) == (4, 1 / 4)
    scores = pairwise.scores_table(s, n_boot=50, seed=1)
    humans = {r["system"]: r["win_rate"] for r in scores.filter(pl.col("rater") == "humans").iter_rows(named=True)}
    # humans (pooled, 2 humans x 2 orders): x wins c1 and c2; y loses c1, ties c3, loses c4 (B: z wins);
    # z loses c2, ties c3, wins c4
    assert humans == {"x": 1.0, "y": pytest.approx((0 + 0.5 + 0) / 3), "z": pytest.approx((0 + 0.5 + 1) / 3)}


@pytest.mark.parametrize("extra, rows, match", [
    ('scale = [1, 5]\n', [("c", "x", "y", "h1", "A")], "verdicts are A, B and tie"),
    ('[verdicts]\nmodel_a = "first"\n', [("c", "x", "y", "h1", "A")], "table \\[verdicts\\]"),
])
def test_bad_pairwise_study_files_are_one_line(tmp_path, extra, rows, match):
    with pytest.raises(StudyFileError, match=match):
        read_study_file(_write(tmp_path, rows, extra))


def test_unusable_verdicts_are_excluded_with_their_reason(tmp_path):
    rows = [(f"c{i}", "x", "y", h, "model_a" if i % 2 else "tie") for i in range(4) for h in ("h1", "h2", "j")]
    rows += [("c9", "x", "x", "j", "A"), ("c8", "x", "y", "j", "maybe"), ("c7", "x", "y", "j", "")]
    data = load_pairwise(_write(tmp_path, rows, '[verdicts]\nmodel_a = "A"\n'))
    excluded = data.audit.filter(pl.col("status") == "excluded")
    assert sorted(excluded["reason"].to_list()) == sorted(
        ["system_a and system_b are the same system", "verdict not A, B, tie or a spelling mapped under [verdicts]",
         "missing score"]) or excluded.height == 3
    assert data.audit.height == len(rows) and set(data.games["verdict"]) == {"A", "tie"}


def test_a_rater_judging_a_comparison_twice_in_one_order_is_an_error(tmp_path):
    rows = [("c1", "x", "y", "h1", "A"), ("c1", "x", "y", "h1", "B"), ("c1", "x", "y", "h2", "A"),
            ("c1", "x", "y", "j", "A")]
    with pytest.raises(StudyFileError, match="more than once in one order"):
        load_pairwise(_write(tmp_path, rows))


def write_mtbench(src: Path, dst: Path) -> Path:
    """The alt-test authors' MT-Bench files as a pairwise study: item ids are
    ``<question>__<model a>__<model b>__<turn>``; the prompt (bootstrap cluster) is the question."""
    humans = json.loads((src / "human_annotations.json").read_text(encoding="utf-8"))
    llms = json.loads((src / "llm_annotations.json").read_text(encoding="utf-8"))
    rows = []
    for who, d in [*((f"h-{a}", d) for a, d in humans.items()), *llms.items()]:
        for item, v in d.items():
            q, a, b, _turn = item.split("__")
            rows.append((item, q, a, b, who, v))
    dst.mkdir(parents=True)
    with open(dst / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item", "prompt", "system_a", "system_b", "rater", "score"])
        w.writerows(rows)
    refs = ", ".join(json.dumps(f"h-{a}") for a in humans)
    (dst / "study.toml").write_text(f'name = "mtbench-pairwise"\nkind = "pairwise"\nratings = "ratings.csv"\n'
                                    f'references = [{refs}]\n\n[verdicts]\nmodel_a = "A"\nmodel_b = "B"\n',
                                    encoding="utf-8")
    return dst / "study.toml"


@pytest.mark.real_data
def test_mtbench_as_a_pairwise_study_reproduces_the_published_alt_test(alttest_dir, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("alttest_studies", Path(__file__).with_name(
        "test_alttest_studies.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    published = module.published

    expected = {llm: v for (name, llm), v in published(alttest_dir / "alt_test_example.ipynb").items()
                if name == "mtbench"}
    assert len(expected) == 6
    s = load_study(str(write_mtbench(alttest_dir / "mtbench", tmp_path / "mtbench")))
    alt = pairwise.alt_test_table(s, epsilon=0.2)
    got = {r["judge"]: (r["passed"], round(r["winning_rate"], 2), round(r["advantage_probability"], 2))
           for r in alt.iter_rows(named=True)}
    assert got == expected
    assert all(not passed for passed, *_ in got.values())
    # win rates and Bradley-Terry scores of the pooled humans: every system, finite, over 80 prompts
    scores = pairwise.scores_table(s, n_boot=100, seed=3).filter(pl.col("rater") == pairwise.HUMANS)
    assert scores.height == 6 and all(math.isfinite(v) for v in scores["bt_score"])
    assert abs(sum(scores["bt_score"])) < 1e-9
    assert scores.filter(pl.col("system") == "gpt-4")["bt_score"][0] == max(scores["bt_score"])
    games = s.data.games
    assert games["prompt"].n_unique() == 42 and pairwise.position_table(s) is None


@pytest.mark.real_data
def test_the_alt_test_command_takes_a_pairwise_study(alttest_dir, tmp_path):
    import os
    import subprocess
    import sys

    study = write_mtbench(alttest_dir / "mtbench", tmp_path / "mtbench")
    out = tmp_path / "alt.csv"
    res = subprocess.run([sys.executable, "-m", "analysis", "alt-test", "--study", str(study), "--epsilon", "0.2",
                          "--epsilon-mode", "additive", "--out", str(out)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert res.returncode == 0, res.stderr
    table = pl.read_csv(out)
    got = {r["evaluator"]: round(r["advantage_probability"], 2) for r in table.iter_rows(named=True)}
    assert got == {"gemini_flash": 0.72, "gemini_pro": 0.76, "gpt-4o": 0.77, "llama-31": 0.69, "gpt-4o-mini": 0.74,
                   "mistral-v03": 0.68}
    assert not any(table["passed"])


def test_validate_reads_a_pairwise_study_with_its_exclusions(tmp_path):
    from analysis.data.tidy import validate

    rows = [(f"c{i}", "x", "y", h, "A") for i in range(3) for h in ("h1", "h2", "j")] + [("c5", "x", "y", "j", "?")]
    problems, data = validate(_write(tmp_path, rows))
    assert data is not None and data.games.height == 9
    assert problems == ["ratings.csv row 11: verdict not A, B, tie or a spelling mapped under [verdicts] ('?'), "
                        "excluded"]
