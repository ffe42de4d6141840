"""Preloaded kernels (analysis.render.kernels) and the render's scheduling helpers.

A kernel forked from the kernel server must behave as a kernel started from nothing: a
process of its own per notebook, an empty namespace, gone when its notebook ends; a
render whose server cannot be reached still runs (ordinary kernels). A kernel slow to
answer is waited for, one that died before it answered is started once more, and every
kernel talks to its worker over IPC sockets in the worker's private folder."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis.data.paths import PROJECT_ROOT
from analysis.cli import render as render_command
from analysis.render import runner as render_module
from analysis.render import _kernel_shim
from analysis.render.kernels import SERVER_ENV, KernelDied, KernelServer, PreloadedKernelManager, notebook_imports
from analysis.render.plan import Job, longest_first
from analysis.render.processes import PRIVATE_PREFIX, private_dir
from analysis.render.runner import thread_limits
from analysis.render.worker import execute_one

PROBE = """\
import json, os, sys
print(json.dumps({"pid": os.getpid(), "names": sorted(k for k in globals() if not k.startswith("_")),
                  "polars_loaded": "polars" in sys.modules, "cwd": os.getcwd(),
                  "pdf_backend_loaded": "matplotlib.backends.backend_pdf" in sys.modules,
                  "history": str(get_ipython().history_manager.hist_file),
                  "connection": __import__("ipykernel").get_connection_file(),
                  "transport": json.load(open(__import__("ipykernel").get_connection_file()))["transport"],
                  "server_env": os.environ.get("CRISIS_JUDGE_KERNEL_SERVER"),
                  "blas": [p["num_threads"] for p in __import__("threadpoolctl").threadpool_info()
                           if p["internal_api"] == "openblas"]}))
"""


def _probe_notebook(path: Path, extra: str = "") -> Path:
    nb = new_notebook(cells=[new_code_cell(PROBE + extra)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _probe(out: Path) -> dict:
    nb = json.loads(out.read_text())
    text = "".join("".join(o["text"]) if isinstance(o["text"], list) else o["text"]
                   for o in nb["cells"][0]["outputs"] if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_each_notebook_gets_a_fresh_preloaded_kernel_process(tmp_path, monkeypatch):
    src = _probe_notebook(tmp_path / "probe.ipynb")
    with KernelServer(PROJECT_ROOT / "notebooks", env={"OPENBLAS_NUM_THREADS": "1"}) as server:
        env = server.env
        assert env and not server.failed
        monkeypatch.setenv(SERVER_ENV, env[SERVER_ENV])
        runs = []
        for k in range(2):
            execute_one(str(src), str(tmp_path / f"out{k}.ipynb"), {}, str(tmp_path))
            runs.append(_probe(tmp_path / f"out{k}.ipynb"))
    a, b = runs
    assert a["pid"] != b["pid"] and a["pid"] != os.getpid()
    # Modules are preloaded (imported, never bound): the namespace holds only what the cell bound.
    assert a["polars_loaded"] and b["polars_loaded"]
    assert a["pdf_backend_loaded"]  # what the first save_figure imports (LAZY_MODULES) is preloaded too
    assert a["history"] == ":memory:"  # no SQLite history file shared by concurrent kernels
    assert a["names"] == b["names"] == ["In", "Out", "exit", "get_ipython", "json", "open", "os", "quit", "sys"]
    assert "pl" not in a["names"] and "np" not in a["names"]
    assert Path(a["cwd"]).resolve() == tmp_path.resolve()
    assert a["blas"] and set(a["blas"]) == {1}  # the server's thread limit holds in its kernels (numpy was imported there)
    assert not _alive(a["pid"]) and not _alive(b["pid"]), "a kernel outlived its notebook"
    _assert_private_ipc(a)


def _assert_private_ipc(probe: dict) -> None:
    """The kernel's connection file is in this process's private folder and its sockets
    are IPC socket files beside it (no TCP port, nothing another render could reach);
    the kernel does not see the server's address."""
    assert probe["transport"] == "ipc"
    folder = Path(probe["connection"]).parent
    assert folder == private_dir() and folder.name.startswith(f"{PRIVATE_PREFIX}{os.getpid()}-")
    assert folder.stat().st_mode & 0o077 == 0
    assert probe["server_env"] is None


@pytest.mark.slow
def test_a_name_the_notebook_did_not_import_fails_in_a_preloaded_kernel(tmp_path, monkeypatch):
    src = _probe_notebook(tmp_path / "probe.ipynb", extra="pl.DataFrame()\n")
    with KernelServer(PROJECT_ROOT / "notebooks") as server:
        monkeypatch.setenv(SERVER_ENV, server.env[SERVER_ENV])
        with pytest.raises(Exception, match="NameError"):
            execute_one(str(src), str(tmp_path / "out.ipynb"), {}, str(tmp_path))


@pytest.mark.slow
def test_an_unreachable_server_falls_back_to_an_ordinary_kernel(tmp_path, monkeypatch):
    src = _probe_notebook(tmp_path / "probe.ipynb")
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "no-such-socket"))
    execute_one(str(src), str(tmp_path / "out.ipynb"), {}, str(tmp_path))
    fallback = _probe(tmp_path / "out.ipynb")
    assert fallback["pid"] != os.getpid()
    assert fallback["history"] == ":memory:"  # the kernel options reach the ordinary kernel too
    _assert_private_ipc(fallback)
    assert (tmp_path / "out.html").is_file()


def _ready_after_a_stall(stall: float) -> float:
    """Start a kernel, stop it (SIGSTOP) once it listens, ask whether it is ready, let it
    go on after ``stall`` s; seconds until the client was ready."""
    async def run() -> float:
        km = PreloadedKernelManager(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready()  # listening and answering
            pid = km.provisioner.process.pid
            os.kill(pid, signal.SIGSTOP)
            asyncio.get_running_loop().call_later(stall, os.kill, pid, signal.SIGCONT)
            t0 = time.monotonic()
            await kc.wait_for_ready(timeout=stall + 10)
            return time.monotonic() - t0
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    return asyncio.run(run())


def test_a_kernel_slow_to_answer_is_ready_when_it_answers():
    """A kernel that answers its first requests late (a busy machine) answers them one
    after another: the client took the reply to its latest request only, read an older
    one each time and waited until "Kernel didn't respond in 60 seconds"."""
    assert 3.0 <= _ready_after_a_stall(3.0) < 8.0


def test_a_kernel_that_dies_before_it_answers_is_started_once_more(tmp_path, monkeypatch):
    src = _probe_notebook(tmp_path / "probe.ipynb")
    ordinary = PreloadedKernelManager.format_kernel_cmd
    starts = []

    def dies_first(self, extra_arguments=None):
        starts.append(1)
        if len(starts) == 1:
            return [sys.executable, "-c", "raise SystemExit(3)"]
        return ordinary(self, extra_arguments)

    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.setattr(PreloadedKernelManager, "format_kernel_cmd", dies_first)
    execute_one(str(src), str(tmp_path / "out.ipynb"), {}, str(tmp_path))
    assert len(starts) == 2 and _probe(tmp_path / "out.ipynb")["pid"] != os.getpid()
    # A kernel that dies every time: the notebook fails, after one more start.
    monkeypatch.setattr(PreloadedKernelManager, "format_kernel_cmd",
                        lambda self, extra_arguments=None: starts.append(1) or [sys.executable, "-c", "pass"])
    with pytest.raises(KernelDied, match="Kernel died before replying to kernel_info"):
        execute_one(str(src), str(tmp_path / "again.ipynb"), {}, str(tmp_path))
    assert len(starts) == 4


def test_the_shim_knows_the_server_variable():
    assert _kernel_shim.SERVER_ENV == SERVER_ENV  # the shim imports no package: it spells it itself


def test_the_server_preloads_what_the_notebooks_import():
    found = notebook_imports(PROJECT_ROOT / "notebooks")
    assert {"polars", "matplotlib.pyplot", "analysis.reporting.notebook", "analysis.studies.overview"} <= set(found)
    assert found == sorted(found)


def test_thread_limits_share_the_cores_between_the_jobs(monkeypatch):
    for name in render_module.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert thread_limits(2) == {name: "4" for name in render_module.THREAD_VARIABLES}
    assert set(thread_limits(16).values()) == {"1"}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting is kept
    assert "OMP_NUM_THREADS" not in thread_limits(2)


def test_jobs_start_longest_first_from_their_earlier_runs(tmp_path):
    def job(name, seconds=None):
        d = tmp_path / name
        d.mkdir()
        if seconds is not None:
            (d / f"{name}.run.json").write_text(json.dumps({"seconds": seconds}))
        return Job("s", "(study)", name, {}, d)

    jobs = [job("a", 1.0), job("b", 9.0), job("new"), job("10_synthesis", 2.0), job("c", 5.0)]
    assert [j.notebook for j in longest_first(jobs)] == ["10_synthesis", "new", "b", "c", "a"]


def test_render_takes_several_studies(monkeypatch):
    seen = {}
    monkeypatch.setattr(render_module, "render", lambda datasets, evaluators, **kw: seen.update(d=datasets) or 0)
    assert render_command.main(["--study", "demo", "demo", "--n-boot", "10"]) == 0
    assert seen["d"] == ["demo"]
