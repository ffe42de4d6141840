"""The command line: the demo summary (the main job of `make demo`), fetch, errors."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from analysis.data import fetch as fetch_mod
from analysis.studies.registry import repositories
from analysis.cli import main


def test_demo_summary_writes_identical_tables_for_the_same_seed(tmp_path, capsys):
    assert main(["summary", "--dataset", "demo", "--n-boot", "300", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "bias = evaluator - reference" in out and "Planted truth" in out
    assert main(["summary", "--dataset", "demo", "--n-boot", "300", "--out", str(tmp_path / "b")]) == 0
    for name in ("agreement", "icc", "bias", "audit", "truth",
                 "why_bias_models", "why_ordinal_shift", "why_stability"):
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "b" / f"{name}.csv").read_bytes()
    bias = pl.read_csv(tmp_path / "a" / "bias.csv")
    assert bias.columns == ["evaluator", "reference", "category", "n", "bias", "ci_low", "ci_high", "n_valid", "ci_note",
                            "n_dropped"]
    assert set(bias["evaluator"]) == {"gpt-4o-mini", "gpt-5-nano", "meta-llama", "jury"}


@pytest.mark.real_data
def test_real_data_summary(shared_data_root, capsys):
    assert main(["summary", "--dataset", "bhh", "--data-root", str(shared_data_root), "--n-boot", "200"]) == 0
    assert "190 review items scored by every rater (16 review items" in capsys.readouterr().out


def test_missing_data_root_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["summary", "--dataset", "bhh", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "between-help-and-harm does not exist" in err


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "analysis", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("python -m analysis 0.")


def test_fetch_clones_each_repository_and_downloads_the_export(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    downloads = []
    monkeypatch.setattr(fetch_mod.subprocess, "run", fake_run)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: downloads.append(kw))
    (tmp_path / "dialogue-safety").mkdir()
    messages = fetch_mod.fetch(tmp_path, repositories())
    assert [c[-1] for c in calls] == [str(tmp_path / "between-help-and-harm"), str(tmp_path / "mentalbench-align")]
    assert all(c[1:4] == ["clone", "--depth", "1"] for c in calls)
    assert downloads == [dict(repo_id="arnaiztech/llms-mental-health-crisis-responses", repo_type="dataset",
                              local_dir=str(tmp_path / "hf/llms-mental-health-crisis-responses"))]
    assert any("dialogue-safety exists" in m for m in messages)


def test_fetch_reports_a_failed_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_mod.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 128, "", "could not resolve host"))
    with pytest.raises(RuntimeError, match="failed \\(network\\?\\):\ncould not resolve host"):
        fetch_mod.fetch(tmp_path, repositories(), what=("repos",))
