"""Importers (analysis.data.importers, python -m analysis import) on files the tools wrote:
an Inspect AI log written by inspect_ai with its mock model, a promptfoo result file
written by promptfoo (tests/data/promptfoo, with the script and config that made it), a
Label Studio export in its documented format (tests/data/labelstudio) and a wide table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from analysis.data.importers import read_inspect, read_labelstudio, read_promptfoo, read_wide, scale_guess
from analysis.data.ratings import DataError
from analysis.data.tidy import validate

DATA = Path(__file__).parent / "data"
PROMPTFOO = DATA / "promptfoo" / "results.json"
LABELSTUDIO = DATA / "labelstudio" / "export.json"
ROOT = Path(__file__).resolve().parent.parent


def _needs_inspect():
    try:
        import inspect_ai  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("inspect_ai is missing (the 'importers' extra), and CI=true")
        pytest.skip("inspect_ai is not installed (pip install -e '.[importers]')")


def write_inspect_log(folder: Path) -> Path:
    """A real Inspect eval log: 8 responses judged by mockllm on empathy and safety (1-5), 2 epochs."""
    _needs_inspect()
    from inspect_ai import Task, eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import Score, Target, mean, scorer
    from inspect_ai.solver import generate

    calls = {"n": 0}

    def judge(input, tools, tool_choice, config):
        calls["n"] += 1
        text = input[-1].text
        k = len(text) + calls["n"] // 9  # the second epoch answers a little differently
        out = ModelOutput.from_content(model="mockllm", content=f"Empathy: {1 + k % 5}; Safety: {1 + (3 * k) % 5}")
        out.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)  # no tokenizer download
        return out

    def grade(name, key):
        @scorer(metrics=[mean()], name=name)
        def make():
            async def score(state, target: Target):
                parts = dict(p.split(": ") for p in state.output.completion.split("; "))
                return Score(value=int(parts[key]), explanation=f"{key} from the judge's reply")
            return score
        return make()

    task = Task(dataset=[Sample(id=f"resp{i:03d}", input=f"Rate this response: {'x' * i}", target="")
                         for i in range(1, 9)],
                solver=generate(), scorer=[grade("empathy", "Empathy"), grade("safety", "Safety")], epochs=2)
    logs = inspect_eval(task, model=get_model("mockllm/model", custom_outputs=judge), log_dir=str(folder),
                        display="none")
    assert logs[0].status == "success"
    return Path(logs[0].location)


@pytest.fixture(scope="module")
def inspect_log(tmp_path_factory):
    return write_inspect_log(tmp_path_factory.mktemp("inspect"))


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_inspect_log_every_sample_epoch_and_scorer(inspect_log):
    log = inspect_log
    got = read_inspect([log])
    assert got.counts() == {"used": 32, "excluded": 0}
    r = got.ratings
    assert sorted(r["attribute"].unique().to_list()) == ["empathy", "safety"]
    assert r["rater"].unique().to_list() == ["model"] and sorted(r["run"].unique().to_list()) == [1, 2]
    assert r.filter(pl.col("item") == "resp001").height == 4
    from inspect_ai.log import read_eval_log

    sample = read_eval_log(str(log)).samples[0]
    mine = r.filter((pl.col("item") == sample.id) & (pl.col("run") == sample.epoch) & (pl.col("attribute") == "safety"))
    assert mine["score"].to_list() == [str(sample.scores["safety"].value)]
    assert read_inspect([log], rater="judge-x").ratings["rater"].unique().to_list() == ["judge-x"]


def test_promptfoo_results_as_written_by_promptfoo():
    got = read_promptfoo([PROMPTFOO])
    # 8 tests x 2 repeats; each has two graded metrics and an unnamed `contains` check
    assert got.counts() == {"used": 32, "excluded": 16}
    assert set(got.audit.filter(pl.col("status") == "excluded")["reason"].to_list()) == {
        "assertion has no metric (name it with metric: to import it)"}
    r = got.ratings
    assert sorted(r["item"].unique().to_list()) == [f"resp{i:03d}" for i in range(1, 9)]
    assert r["rater"].unique().to_list() == ["grader"] and sorted(r["run"].unique().to_list()) == [1, 2]
    assert r["source"].unique().to_list() == ["echo"]
    assert all(0 <= float(s) <= 1 for s in r["score"].to_list())
    passed = read_promptfoo([PROMPTFOO], value="pass").ratings
    assert set(passed["score"].to_list()) <= {"pass", "fail"} and passed.height == 32


def test_promptfoo_score_equals_the_files_component_score():
    import json

    doc = json.loads(PROMPTFOO.read_text())
    first = doc["results"]["results"][0]
    comp = first["gradingResult"]["componentResults"][0]
    r = read_promptfoo([PROMPTFOO]).ratings
    row = r.filter((pl.col("item") == first["vars"]["item"]) & (pl.col("attribute") == comp["assertion"]["metric"]))
    assert float(row["score"][0]) == comp["score"] or float(row["score"][1]) == comp["score"]


def test_labelstudio_export_every_annotation_and_result():
    got = read_labelstudio([LABELSTUDIO])
    audit = got.audit
    assert got.counts() == {"used": 32, "excluded": 17}
    assert audit.filter(pl.col("reason") == "annotation was cancelled").height == 1
    assert audit.filter(pl.col("reason") == "not a rating (result type textarea)").height == 16
    r = got.ratings
    assert sorted(r["rater"].unique().to_list()) == ["user-11", "user-12"]
    assert r.filter((pl.col("item") == "resp003") & (pl.col("rater") == "user-11")
                    & (pl.col("attribute") == "empathy"))["score"].to_list() == ["1"]


def test_wide_table_every_cell(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("item,category,nurse a,nurse_b\nr1,x,3,4\nr2,x,,2\nr3,y,5,5\n")
    got = read_wide([path])
    assert got.counts() == {"used": 5, "excluded": 1}
    assert sorted(got.ratings["rater"].unique().to_list()) == ["nurse-a", "nurse_b"]
    assert got.ratings.filter(pl.col("item") == "r1")["category"].to_list() == ["x", "x"]
    with pytest.raises(DataError, match="no item column 'id'"):
        read_wide([path], item_column="id")


def test_bad_files_get_one_line(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"results": {"version": 2, "results": []}}')
    with pytest.raises(DataError, match="results.json, record results.version: format version 2"):
        read_promptfoo([bad])
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"results.json, record line 1 column 2: malformed JSON"):
        read_promptfoo([bad])
    with pytest.raises(DataError, match="expected a list of tasks"):
        read_labelstudio([_write(tmp_path, "{}")])


def _write(folder, text):
    p = folder / "ls.json"
    p.write_text(text)
    return p


def test_scale_guess():
    assert scale_guess(pl.Series(["1", "5", "3"])) == {"scale": [1, 5], "integer": True}
    assert scale_guess(pl.Series(["0.2", "1"])) == {"scale": [0, 1], "integer": False}
    assert scale_guess(pl.Series(["A", "B", "A"])) == {"labels": ["A", "B"]}


def test_inspect_judge_and_labelstudio_humans_make_a_study(tmp_path, inspect_log):
    log = inspect_log
    out = tmp_path / "crisis"
    first = _cli("import", "--from", "labelstudio", str(LABELSTUDIO), "--out", str(out), "--name", "crisis")
    assert first.returncode == 0, first.stderr
    assert "labelstudio: 1 file(s), 49 records: 32 ratings used, 17 excluded" in first.stdout
    second = _cli("import", "--from", "inspect", str(log), "--out", str(out), "--append")
    assert second.returncode == 0, second.stderr
    toml = (out / "study.toml").read_text()
    assert 'references = ["user-11", "user-12"]' in toml and 'attribute = "empathy"' in toml
    problems, data = validate(out / "study.toml")
    assert problems == [] and data.evaluators == ("model",)
    assert data.ratings.height == 8 * 2 + 8 * 2  # two nurses + the judge's two epochs, empathy only
    assert pl.read_csv(out / "import_audit.csv").height == 49 + 32
    again = _cli("import", "--from", "inspect", str(log), "--out", str(out), "--append")
    assert again.returncode == 2 and "already in" in again.stderr
    summary = _cli("summary", "--study", str(out / "study.toml"), "--n-boot", "200")
    assert summary.returncode == 0, summary.stderr
    assert "model" in summary.stdout


def test_promptfoo_judge_and_wide_humans_make_a_study(tmp_path):
    out = tmp_path / "pf"
    humans = tmp_path / "humans.csv"
    humans.write_text("item,attribute,nurse_a,nurse_b\n" + "".join(
        f"resp{i:03d},empathy,{0.2 * (i % 5):.1f},{0.2 * ((i + 1) % 5):.1f}\n" for i in range(1, 9)))
    assert _cli("import", "--from", "wide", str(humans), "--out", str(out), "--references", "nurse_a",
                "nurse_b").returncode == 0
    res = _cli("import", "--from", "promptfoo", str(PROMPTFOO), "--out", str(out), "--append")
    assert res.returncode == 0, res.stderr
    problems, data = validate(out / "study.toml")
    assert problems == [], problems
    assert data.evaluators == ("grader",) and data.study.references == ("nurse_a", "nurse_b")


def test_import_refuses_what_it_cannot_do(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in _cli("import", "--from", "promptfoo", str(PROMPTFOO), "--out",
                                             str(tmp_path / "file")).stderr
    assert "file not found" in _cli("import", "--from", "promptfoo", str(tmp_path / "nope.json"), "--out",
                                    str(tmp_path / "o")).stderr
    ok = _cli("import", "--from", "promptfoo", str(PROMPTFOO), "--out", str(tmp_path / "o"))
    assert ok.returncode == 0
    assert "exists; add --append" in _cli("import", "--from", "promptfoo", str(PROMPTFOO), "--out",
                                          str(tmp_path / "o")).stderr
    assert "no such rater" in _cli("import", "--from", "promptfoo", str(PROMPTFOO), "--out", str(tmp_path / "p"),
                                   "--references", "nobody").stderr
