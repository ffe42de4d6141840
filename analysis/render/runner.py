"""Batch rendering: every notebook of a study with papermill, then HTML and an index.

:func:`render` (the ``render`` command, :mod:`analysis.cli.render`, calls it) executes the
study's notebooks as its registry entry (:mod:`analysis.studies.registry`) lists them:
a notebook of scope ``study`` once, a notebook of scope ``evaluator`` once per evaluator
found in the data. The ``.ipynb`` is the papermill input (the ``.py`` percent file is the
source it is synced from); ``jobs`` notebooks run at a time, each in its own kernel
process. It writes

* ``reports/<study>/<notebook>.ipynb`` and ``.html`` (scope ``study``) and
  ``reports/<study>/<evaluator>/<notebook>.ipynb`` and ``.html`` (scope ``evaluator``);
* ``tables/*.csv`` beside them and ``figures/<study>[/<evaluator>]/*.{pdf,svg,png}``
  (written by the notebooks);
* ``reports/index.html`` linking all of them, with the data source, seed, package
  version and time of the run.

A failing notebook does not stop the others; the run ends with a summary of what failed
and a non-zero exit status. Every file is written to a temporary name and renamed, so a
reader never sees a half-written file.

The engine is split by what it holds: :mod:`analysis.render.plan` (which notebooks, in
which order), :mod:`analysis.render.files` (the lock, temporary files, clearing previous
results), :mod:`analysis.render.records` (run records and the index), and this module,
which runs the jobs: long-lived workers (:mod:`analysis.render.worker`), each notebook in a
kernel forked from a preloaded kernel server (:mod:`analysis.render.kernels`), signals.
Its arguments are checked by the ``render`` command (:mod:`analysis.cli.render`) before
it is called.

Interrupted
-----------
SIGINT or SIGTERM stops the running notebooks (their process groups), removes every
temporary file under the reports and figures folders, marks the unfinished notebooks
"interrupted" in the index and returns 130. A rerun starts from clean folders. ``kill -9``
of a render takes its workers, kernel server and kernels with it
(:mod:`analysis.render.processes`); the next render takes over its lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from analysis.data.paths import PROJECT_ROOT, data_root as resolve_data_root
from analysis.render.files import clear_previous_results, remove_temporary_files, render_lock
from analysis.render.kernels import SERVER_ENV, KernelServer
from analysis.render.plan import Job, longest_first, plan
from analysis.render.records import record_run, write_index
from analysis.studies.registry import claim_folder, folder_owner_problem, get_study

INTERRUPTED = 130


class _Worker:
    """One :func:`worker_main` process in a session of its own (so a Ctrl-C at the
    terminal reaches the render only, which then stops it); its standard error goes to
    a log file whose tail is the error when it dies."""

    def __init__(self, env: dict[str, str]) -> None:
        import tempfile

        self.log = tempfile.TemporaryFile(mode="w+", prefix="render-worker-")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from analysis.render.worker import worker_main; worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1,
            start_new_session=True, env=os.environ | env)

    def run(self, src: Path, out: Path, params: dict, cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[bool | None, str]:
        """(ok, error) of one notebook; ok is None when the worker itself died. ``env`` is
        added to the environment of the notebook's kernel."""
        try:
            self.proc.stdin.write(json.dumps(dict(src=str(src), out=str(out), params=params, cwd=str(cwd),
                                                  env=env or {})) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.proc.wait()
            self.log.seek(0)
            return None, self.log.read()
        answer = json.loads(line)
        return answer["ok"], answer["error"]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class _Runner:
    """Runs jobs on long-lived workers and can stop them all (on SIGINT/SIGTERM)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.lock = threading.Lock()
        self.env = dict(env or {})
        self.job_env: dict[str, str] = {}  # set in each job's kernel (known after the workers started)
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.stopped = False

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            procs = [w.proc for w in (*self.busy, *self.idle)]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def start(self, n: int) -> None:
        """Start ``n`` workers now (they are otherwise started with their first job)."""
        with self.lock:
            self.idle.extend(_Worker(self.env) for _ in range(n))

    def close(self) -> None:
        """End the idle workers (after the last job)."""
        with self.lock:
            workers, self.idle = self.idle, []
        for w in workers:
            w.close()

    def run(self, job: Job, notebooks_dir: Path) -> Job:
        t0 = time.perf_counter()
        src = notebooks_dir / f"{job.notebook}.ipynb"
        out = job.report_dir / f"{job.notebook}.ipynb"
        job.outputs = [out, out.with_suffix(".html")]
        with self.lock:
            if self.stopped:
                job.ok, job.error = False, "interrupted before it started"
                return job
            worker = self.idle.pop() if self.idle else _Worker(self.env)
            self.busy.add(worker)
        ok, error = worker.run(src, out, job.params, notebooks_dir, self.job_env)
        with self.lock:
            self.busy.discard(worker)
            if ok is not None and not self.stopped:
                self.idle.append(worker)
        if ok is None:  # the worker died: its log says why; the next job gets a new one
            worker.log.close()
        job.seconds = time.perf_counter() - t0
        job.ok = bool(ok)
        if self.stopped and not job.ok:
            job.error = "interrupted"
        elif not job.ok:
            lines = [ln for ln in (error or "").strip().splitlines() if ln.strip()]
            job.error = "\n".join(lines[-15:])
        return job


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS")


def thread_limits(jobs: int) -> dict[str, str]:
    """Threads per kernel so that ``jobs`` kernels at a time use the machine's cores
    once: ``cores // jobs`` (at least 1) for BLAS, OpenMP and polars, unless the user set
    the variable. Two kernels each starting two BLAS threads on two cores make four
    threads that spin while they wait for each other (measured: the three built-in
    studies took 11 % more CPU time); tables are byte-identical either way."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    return {name: threads for name in THREAD_VARIABLES if name not in os.environ}


def load_once(datasets, root: Path | None, seed: int) -> dict[str, str]:
    """Load every built-in study of the render once, before its notebooks run: a cold
    parquet cache is filled here, once, instead of by two notebooks at a time. Returns
    the environment that hands the kernels the cache keys checked here
    (:func:`analysis.data.cache.keys_env`)."""
    from analysis.data.cache import keys_env
    from analysis.studies.registry import load_study

    studies = []
    for key in datasets:
        spec = get_study(key)
        if spec.source is not None:
            load_study(key, data_root=root, seed=seed)
            studies.append((spec.name, spec.data_root(root), spec.cache_folders))
    return keys_env(studies)


class _Interrupt(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


def _raise_interrupt(signum, frame):
    raise _Interrupt(f"signal {signum}")


def render(datasets, evaluators=None, *, data_root=None, jobs: int = 2, n_boot: int = 2000, seed: int = 20261124,
           reports_dir: Path | None = None, figures_dir: Path | None = None,
           notebooks_dir: Path | None = None, progress: bool = True, fresh_kernels: bool = False) -> int:
    """Render the notebooks of ``datasets`` (see the module docstring); 0 when every
    notebook ran, 1 when some failed, 130 when interrupted. The arguments are the
    caller's to check (:func:`analysis.cli.args.check_arguments`, as the ``render``
    command does); notebooks missing from ``notebooks_dir`` raise FileNotFoundError, and
    a concurrent render into the same folders RuntimeError, before anything is written.

    Each study's data is loaded once here first (filling the parquet cache of
    :mod:`analysis.data.cache`, so the notebooks read it from there instead of racing to
    read the sources); ``jobs`` long-lived workers then run the notebooks, longest
    first as far as earlier runs tell, each in a fresh kernel forked from a kernel
    server that imported the notebooks' modules (:mod:`analysis.render.kernels`);
    ``fresh_kernels`` starts every kernel from nothing instead."""
    from tqdm import tqdm

    root = resolve_data_root(data_root) if any(get_study(d).source is not None for d in datasets) else None
    reports_dir = Path(reports_dir or PROJECT_ROOT / "reports").resolve()
    figures_dir = Path(figures_dir or PROJECT_ROOT / "figures").resolve()
    notebooks_dir = Path(notebooks_dir or PROJECT_ROOT / "notebooks").resolve()
    missing = sorted({nb.name for d in datasets for nb in get_study(d).notebooks
                      if not (notebooks_dir / f"{nb.name}.ipynb").is_file()})
    if missing:
        raise FileNotFoundError(f"notebooks {', '.join(missing)} not found in {notebooks_dir}")
    todo = plan(datasets, evaluators, data_root=root, n_boot=n_boot, seed=seed,
                reports_dir=reports_dir, figures_dir=figures_dir)
    owners = [(base / spec.name, spec) for spec in map(get_study, datasets) for base in (reports_dir, figures_dir)]
    problems = [p for p in (folder_owner_problem(f, spec) for f, spec in owners) if p]
    if problems:
        raise ValueError(problems[0])
    skipped = [j for j in todo if j.skipped]  # notebooks that do not apply: recorded, not run
    todo = [j for j in todo if not j.skipped]
    with render_lock(reports_dir, figures_dir), contextlib.ExitStack() as stack:
        for folder, spec in owners:
            claim_folder(folder, spec)
        remove_temporary_files(reports_dir, figures_dir)
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        todo = longest_first(todo)
        limits = thread_limits(jobs)
        server = None if fresh_kernels else stack.enter_context(KernelServer(notebooks_dir, env=limits))
        # Set either way: a server address inherited from elsewhere (a render's kernel) is never used.
        runner = _Runner(limits | {SERVER_ENV: server.socket_path if server else ""})
        # The workers import papermill and nbconvert, and the data is loaded, while the
        # server imports; kernels are asked for once it is ready (a server that failed
        # leaves the shims to start ordinary kernels).
        runner.start(min(jobs, len(todo)))
        runner.job_env = load_once(datasets, root, seed)
        if server is not None:
            server.wait()
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
        interrupted = False
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            clear_previous_results(todo + skipped)
            for j in skipped:
                record_run(j, seed=seed, n_boot=n_boot, data_root=root, started=started)
            futures = [pool.submit(runner.run, j, notebooks_dir) for j in todo]
            for fut in tqdm(as_completed(futures), total=len(futures), desc="rendering", unit="notebook",
                            disable=not progress, file=sys.stderr):
                j = fut.result()
                record_run(j, seed=seed, n_boot=n_boot, data_root=root, started=started)
                if not j.ok:
                    tqdm.write(f"FAILED {j.study}/{j.evaluator}/{j.notebook}", file=sys.stderr)
        except KeyboardInterrupt:
            interrupted = True
            runner.stop()
        finally:
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            except KeyboardInterrupt:  # a second Ctrl-C while the children stop
                interrupted = True
                runner.stop()
                pool.shutdown(wait=True, cancel_futures=True)
            runner.close()
            if in_main:
                signal.signal(signal.SIGTERM, previous)
            remove_temporary_files(reports_dir, figures_dir)
        if interrupted:
            for j in todo:
                if j.ok is None or (not j.ok and not j.error):
                    j.ok, j.error = False, "interrupted"
                if not j.ok and j.error.startswith("interrupted"):
                    # A notebook cut short is no result: remove what it wrote of itself.
                    for p in j.outputs:
                        with contextlib.suppress(FileNotFoundError):
                            p.unlink()
        seconds = time.perf_counter() - t0
        index = write_index(todo + skipped, reports_dir=reports_dir, figures_dir=figures_dir, seed=seed, n_boot=n_boot,
                            data_root=root, started=started, seconds=seconds)
    failed = [j for j in todo if not j.ok]
    if interrupted:
        print(f"interrupted: {len(todo) - len(failed)}/{len(todo)} notebooks finished; no temporary file left; "
              f"rerun to render the rest; index: {index}", file=sys.stderr)
        return INTERRUPTED
    print(f"rendered {len(todo) - len(failed)}/{len(todo)} notebooks in {seconds:.1f} s "
          f"({jobs} at a time)" + (f"; {len(skipped)} not applicable (the index says why)" if skipped else "")
          + f"; index: {index}")
    for j in failed:
        print(f"\nFAILED {j.study}/{j.evaluator}/{j.notebook} ({j.report_dir / (j.notebook + '.ipynb')}):\n{j.error}")
    return 1 if failed else 0
