"""``render``, ``summary`` and ``audit``: bad arguments fail at once with one line;
stale results are removed; a lock keeps two renders apart; an interrupted render
leaves no temporary file and a rerun gives the tables of an uninterrupted run."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.cli import main as cli_main
from analysis.cli import audit as audit_command
from analysis.render.files import LOCK_NAME, clear_previous_results, render_lock
from analysis.render.plan import STUDY_LEVEL, Job
from analysis.render.records import write_index

PROJECT = Path(__file__).resolve().parents[2]


def _cli(argv, capsys):
    status = cli_main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--n-boot", "0"], "error: --n-boot must be a whole number >= 1 (bootstrap resamples), got 0"),
    (["--jobs", "0"], "error: --jobs must be a whole number >= 1 (notebooks at a time), got 0"),
    (["--jobs", "-3"], "error: --jobs must be a whole number >= 1 (notebooks at a time), got -3"),
    (["--evaluator", "gpt-9"], "error: demo: unknown evaluator 'gpt-9'; found in the data: gpt-4o-mini, "
                               "gpt-5-nano, meta-llama, jury"),
])
def test_bad_render_arguments_fail_once_with_one_line(tmp_path, capsys, args, message):
    status, out, err = _cli(["render", "--study", "demo", "--reports-dir", str(tmp_path / "r"),
                             "--figures-dir", str(tmp_path / "f"), *args], capsys)
    assert (status, out, err) == (2, "", message + "\n")
    assert not (tmp_path / "r").exists() and not (tmp_path / "f").exists()


def test_missing_and_empty_data_roots(tmp_path, capsys):
    status, _, err = _cli(["render", "--study", "bhh", "--data-root", str(tmp_path / "nowhere")], capsys)
    assert status == 2 and err == (f"error: data root {tmp_path / 'nowhere'} does not exist (pass --data-root, or "
                                   f"set $CRISIS_JUDGE_DATA_ROOT, to the folder holding between-help-and-harm/)\n")
    status, _, err = _cli(["render", "--study", "mentalalign", "--data-root", str(tmp_path)], capsys)
    assert status == 2 and err.startswith(f"error: mentalalign: {tmp_path / 'mentalbench-align'} does not exist: "
                                          f"the data root {tmp_path} lacks the study's folder mentalbench-align/")
    (tmp_path / "dialogue-safety").mkdir()
    status, _, err = _cli(["render", "--study", "dialoguesafety", "--data-root", str(tmp_path)], capsys)
    assert (status, err) == (2, f"error: dialoguesafety: {tmp_path / 'dialogue-safety'} is empty: no data to "
                                f"render\n")
    assert err.count("\n") == 1


def test_summary_and_audit_check_first(tmp_path, capsys):
    status, _, err = _cli(["summary", "--study", "demo", "--n-boot", "0"], capsys)
    assert (status, err) == (2, "error: --n-boot must be a whole number >= 1 (bootstrap resamples), got 0\n")
    status, _, err = _cli(["summary", "--study", "dialoguesafety", "--data-root", str(tmp_path)], capsys)
    assert status == 2 and "dialogue-safety does not exist" in err and err.count("\n") == 1
    with pytest.raises(FileNotFoundError, match=r"^bhh: .*between-help-and-harm does not exist"):
        audit_command.main(["--study", "bhh", "--data-root", str(tmp_path)])
    with pytest.raises(ValueError, match=r"^unknown study 'nosuch'"):
        audit_command.main(["--study", "nosuch"])


def test_a_second_render_into_the_same_folder_refuses(tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        reports = tmp_path / "reports"
        reports.mkdir()
        (reports / LOCK_NAME).write_text(f"{holder.pid}\n")
        status, out, err = _cli(["render", "--study", "demo", "--n-boot", "50", "--reports-dir", str(reports),
                                 "--figures-dir", str(tmp_path / "figures")], capsys)
        assert (status, out) == (2, "")
        assert err == (f"error: another render (pid {holder.pid}) is writing into {reports}; wait for it to finish, "
                       f"or remove {reports / LOCK_NAME} if that process is not a render\n")
        assert sorted(p.name for p in reports.iterdir()) == [LOCK_NAME]  # nothing written, the lock untouched
        assert (reports / LOCK_NAME).read_text() == f"{holder.pid}\n"
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / LOCK_NAME).write_text(f"{gone.pid}\n")
    with render_lock(tmp_path, tmp_path / "figures"):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        assert (tmp_path / "figures" / LOCK_NAME).is_file()
    assert not (tmp_path / LOCK_NAME).exists() and not (tmp_path / "figures" / LOCK_NAME).exists()


def test_previous_results_are_removed_and_the_index_says_why_a_notebook_failed(tmp_path):
    reports, figures = tmp_path / "reports", tmp_path / "figures"
    ev_dir, study_dir = reports / "demo" / "jury", reports / "demo"
    old = [ev_dir / "03_bias.ipynb", ev_dir / "03_bias.html", ev_dir / "tables" / "bias.csv",
           figures / "demo" / "jury" / "bland_altman.png", study_dir / "01_data_audit.html",
           study_dir / "tables" / "audit_summary.csv", figures / "demo" / "score_distribution.pdf"]
    keep = [reports / "demo" / "gpt-5-nano" / "03_bias.html", figures / "demo" / "gpt-5-nano" / "icc_forest.png"]
    for p in old + keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("an earlier run")
    jobs = [Job("demo", STUDY_LEVEL, "01_data_audit", {"figures_dir": str(figures / "demo")}, study_dir),
            Job("demo", "jury", "03_bias", {"figures_dir": str(figures / "demo" / "jury")}, ev_dir)]
    clear_previous_results(jobs)
    assert [p for p in old if p.exists()] == [] and all(p.exists() for p in keep)
    jobs[0].ok, jobs[0].outputs = True, [study_dir / "01_data_audit.ipynb", study_dir / "01_data_audit.html"]
    jobs[1].ok, jobs[1].outputs = False, [ev_dir / "03_bias.ipynb", ev_dir / "03_bias.html"]
    jobs[1].error = "Traceback (most recent call last):\n  ...\nRuntimeError: planted failure"
    index = write_index(jobs, reports_dir=reports, figures_dir=figures, seed=1, n_boot=50, data_root=None,
                        started=dt.datetime.now(dt.timezone.utc), seconds=1.0).read_text()
    assert "FAILED: 03_bias / jury: RuntimeError: planted failure" in index
    assert "demo/jury/03_bias.html" not in index  # no link to a stale result
    assert "demo/gpt-5-nano/03_bias" not in index or "from an earlier run" in index


# --- interrupted render ---------------------------------------------------------------

ARGS = ["--study", "demo", "--n-boot", "50", "--evaluator", "gpt-4o-mini", "--jobs", "2", "--seed", "7"]


def _render(root: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analysis", "render", *ARGS, "--reports-dir", str(root / "reports"),
                             "--figures-dir", str(root / "figures")], cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _tables(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in {".csv", ".pdf", ".svg", ".png"}}


@pytest.mark.slow
def test_interrupted_render_leaves_no_temporary_file_and_a_rerun_matches(tmp_path):
    interrupted, reference = tmp_path / "interrupted", tmp_path / "reference"
    proc = _render(interrupted)
    deadline = time.monotonic() + 120
    # Interrupt once the notebooks are executing (their temporary notebooks exist).
    while time.monotonic() < deadline and not list(interrupted.rglob(".*.tmp*")):
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted: ")
    assert list(interrupted.rglob(".*.tmp*")) == [] and list(interrupted.rglob(LOCK_NAME)) == []
    rerun = _render(interrupted)
    ref = _render(reference)
    for p in (rerun, ref):
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err
        done = re.search(r"rendered (\d+)/(\d+) notebooks", out)
        assert done and done[1] == done[2] and int(done[1]) >= 4, out
    assert list(tmp_path.rglob(".*.tmp*")) == []
    first, second = _tables(interrupted), _tables(reference)
    assert len(first) > 10 and first == second
