"""``render``, ``summary`` and ``audit``: bad arguments fail at once with one line;
stale results are removed; a lock keeps two renders apart; an interrupted render
leaves no temporary file and a rerun gives the tables of an uninterrupted run; two
renders at once on a busy machine both complete; ``kill -9`` of a render takes its
workers, kernel server and kernels with it and the next render takes over its lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from analysis.cli import main as cli_main
from analysis.cli import audit as audit_command
from analysis.checks.render_stress import concurrent_renders, outputs
from analysis.render.files import LOCK_NAME, clear_previous_results, render_lock
from analysis.render.plan import STUDY_LEVEL, Job
from analysis.render.processes import PRIVATE_PREFIX, lock_holder, lock_record
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
        (reports / LOCK_NAME).write_text(lock_record(holder.pid))
        status, out, err = _cli(["render", "--study", "demo", "--n-boot", "50", "--reports-dir", str(reports),
                                 "--figures-dir", str(tmp_path / "figures")], capsys)
        assert (status, out) == (2, "")
        assert err == (f"error: another render (pid {holder.pid}) is writing into {reports}; wait for it to finish, "
                       f"or remove {reports / LOCK_NAME} if that process is not a render\n")
        assert sorted(p.name for p in reports.iterdir()) == [LOCK_NAME]  # nothing written, the lock untouched
        assert (reports / LOCK_NAME).read_text() == lock_record(holder.pid)
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / LOCK_NAME).write_text(f"{gone.pid}\n")
    with render_lock(tmp_path, tmp_path / "figures"):
        assert (tmp_path / LOCK_NAME).read_text() == lock_record()
        assert (tmp_path / "figures" / LOCK_NAME).is_file()
    assert not (tmp_path / LOCK_NAME).exists() and not (tmp_path / "figures" / LOCK_NAME).exists()


def test_a_lock_whose_pid_now_runs_another_process_is_stale(tmp_path):
    """A render killed with kill -9 leaves its lock; its PID may run another process by
    the time the next render starts. The lock holds the render's start time too."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid, started = lock_record(other.pid).split()
        assert lock_holder(f"{pid} {started}\n") == other.pid  # that very process: held
        assert lock_holder(f"{pid} {int(started) + 1}\n") is None  # same PID, another process: stale
        assert lock_holder(f"{pid}\n") == other.pid  # a lock of the earlier format: held while the PID runs
        (tmp_path / LOCK_NAME).write_text(f"{pid} {int(started) + 1}\n")
        with render_lock(tmp_path):
            assert (tmp_path / LOCK_NAME).read_text() == lock_record()
    finally:
        other.kill()
        other.wait()
    assert lock_holder(f"{other.pid} {started}\n") is None and lock_holder("garbage") is None


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


# --- a busy machine, two renders, kill -9 ----------------------------------------------

@pytest.mark.slow
def test_two_renders_at_once_beside_four_busy_processes_both_complete(tmp_path):
    """The machine of a new user running `make demo` while a test run renders too: two
    renders of the whole demo at the same time, beside four CPU-bound processes. Kernels
    slow to start are waited for (no 60 s limit decides), and the two renders share no
    socket, port or lock. `python -m analysis.checks.render_stress` repeats this."""
    results = concurrent_renders(tmp_path, renders=2, busy=4, n_boot=50, seed=7)
    for r in results:
        assert r.ok, r.tail
        assert r.planned >= 10 and "Kernel didn't respond" not in r.tail
    first, second = (outputs(r.folder) for r in results)
    assert len(first) > 20 and first == second


def _descendants(pid: int) -> list:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(pid).children(recursive=True)
    return []


SUBREAPER = """\
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans are handed here, not to init
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.1)
"""
"""Runs a command as the child of a subreaper, as a desktop session (``systemd --user``)
or a container's init (``tini -s``) does: the orphans of a killed process go to the
subreaper, not to PID 1, so a process that waits for its parent to become PID 1
(ipykernel's parent poller) waits for ever."""


def _hanging_render(root: Path, notebooks: Path) -> subprocess.Popen:
    """The render of ``_render`` on copies of the notebooks that end by sleeping for ten
    minutes, under a subreaper (:data:`SUBREAPER`, which prints the render's PID):
    killed, its workers and kernels would run on unless they end with it."""
    import json
    import shutil

    shutil.copytree(PROJECT / "notebooks", notebooks)
    for path in notebooks.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "import time\ntime.sleep(600)",
                            "outputs": [], "execution_count": None})
        path.write_text(json.dumps(nb))
    code = ("import sys; from pathlib import Path; from analysis.render.runner import render; "
            "sys.exit(render(['demo'], ['gpt-4o-mini'], n_boot=50, seed=7, jobs=2, progress=False, "
            "reports_dir=Path(sys.argv[1]), figures_dir=Path(sys.argv[2]), notebooks_dir=Path(sys.argv[3])))")
    return subprocess.Popen([sys.executable, "-c", SUBREAPER, sys.executable, "-c", code, str(root / "reports"),
                             str(root / "figures"), str(notebooks)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the subreaper of this test is Linux's")
def test_kill_9_of_a_render_takes_its_kernels_and_workers_and_the_rerun_takes_over_the_lock(tmp_path):
    import psutil

    root = tmp_path / "killed"
    reaper = _hanging_render(root, tmp_path / "notebooks")
    try:
        proc = psutil.Process(int(reaper.stdout.readline()))
        _kill_and_rerun(root, proc)
    finally:
        reaper.kill()
        reaper.wait()


def _kill_and_rerun(root: Path, proc) -> None:
    deadline = time.monotonic() + 300
    # Kill it once notebooks execute (their temporary notebooks exist) in kernels.
    kernels: list = []
    while time.monotonic() < deadline and not (list(root.rglob(".*.tmp*")) and kernels):
        time.sleep(0.5)
        kernels = [p for p in _descendants(proc.pid) if "ipykernel" in " ".join(_cmdline(p))
                   or "_kernel_shim" in " ".join(_cmdline(p))]
    assert kernels, "no kernel started"
    time.sleep(2)
    family = _descendants(proc.pid)
    roles = {_role(p, proc.pid) for p in family}
    assert {"worker", "server", "kernel"} <= roles, roles
    proc.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_running(p) for p in family):
        time.sleep(0.2)
    left = [(p.pid, _role(p, proc.pid)) for p in family if _running(p)]
    assert left == [], f"processes of the killed render still run: {left}"
    assert (root / "reports" / LOCK_NAME).read_text().split()[0] == str(proc.pid)  # its lock is left behind
    private = list(Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}{proc.pid}-*"))
    rerun = _render(root)  # the real notebooks, into the same folders
    out, err = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, err
    done = re.search(r"rendered (\d+)/(\d+) notebooks", out)
    assert done and done[1] == done[2], out
    assert list(root.rglob(".*.tmp*")) == [] and list(root.rglob(LOCK_NAME)) == []
    assert private and not any(p.exists() for p in private)  # the killed render's private folder is removed


def _cmdline(p) -> list[str]:
    import psutil

    with contextlib.suppress(psutil.Error):
        return p.cmdline()
    return []


def _role(p, render: int) -> str:
    """What a process of a render is: its worker, its kernel server, or a kernel (a shim,
    an ordinary kernel, or a kernel forked from the server, whose command line is the server's)."""
    import psutil

    cmd = " ".join(_cmdline(p))
    if "worker_main" in cmd:
        return "worker"
    if "kernels import serve" in cmd:
        with contextlib.suppress(psutil.Error):
            return "server" if p.ppid() == render else "kernel"
    if "ipykernel" in cmd or "_kernel_shim" in cmd:
        return "kernel"
    return cmd or "?"


def _running(p) -> bool:
    import psutil

    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
