"""Batch rendering: every notebook of a study with papermill, then HTML and an index.

``python -m analysis render --study NAME|all [--evaluator NAME ...] [--jobs N] [--n-boot N]
[--seed N] [--data-root PATH]`` (``--dataset`` is an alias of ``--study``) executes the
study's notebooks as its registry entry (:mod:`analysis.studies.registry`) lists them:
a notebook of scope ``study`` once, a notebook of scope ``evaluator`` once per evaluator
found in the data. The ``.ipynb`` is the papermill input (the ``.py`` percent file is the
source it is synced from); ``--jobs`` notebooks run at a time, each in its own kernel
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

Check first, fail once
----------------------
Before any notebook starts, :func:`check_arguments` checks every argument and the data
root: ``--n-boot`` and ``--jobs`` at least 1, every study known, the data root and each
study's folder present and holding data (its evaluators are found), every
``--evaluator`` among them. A problem is one line (``ValueError`` or
``FileNotFoundError``; the CLI prints ``error: ...`` and exits with status 2).

No stale results, no half-written files, one render at a time
-------------------------------------------------------------
* Before the jobs run, the previous results of every planned notebook are removed: its
  ``.ipynb``/``.html``, and the tables and figures of the folders the planned notebooks
  write (each such folder is written only by notebooks of this plan). A notebook that
  fails therefore leaves no result of an earlier run in its place; the index marks it
  FAILED with the error's last line.
* Each report gets a ``<notebook>.run.json`` beside it (status, seed, bootstrap
  resamples, data, time), so the index says with which parameters reports of earlier
  runs were made.
* SIGINT or SIGTERM stops the running notebooks (their process groups), removes every
  temporary file under the reports and figures folders, marks the unfinished notebooks
  "interrupted" in the index and returns 130. Temporary files an earlier, killed render
  left are removed when the next one starts. A rerun starts from clean folders.
* A lock file (``.render.lock``, holding the PID) in the reports and figures folders
  keeps two renders from writing into the same folder at once: the second refuses
  with one line. A lock whose process is gone, or whose PID now runs another process
  (the lock records the process's start time), is stale and is taken over.
* ``kill -9`` of a render takes its workers, kernel server and kernels with it
  (:mod:`analysis.render.processes`); the next render takes over its lock.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__
from analysis.data.paths import DATA_ROOT_ENV, PROJECT_ROOT, data_root as resolve_data_root
from analysis.render.kernels import SERVER_ENV, KernelServer
from analysis.render.processes import lock_holder, lock_record
from analysis.render.worker import execute_one  # noqa: F401 (re-exported: render's public entry)
from analysis.reporting.tables import write_text_atomic
from analysis.studies.registry import (DEFAULT_STUDY, STUDIES, SYNTHESIS, SYNTHESIS_STUDIES, claim_folder,
                                       folder_owner_problem, get_study)

STUDY_LEVEL = "(study)"
"""The evaluator column of a job rendered once per study."""

LOCK_NAME = ".render.lock"
TMP_GLOB = ".*.tmp*"
"""Every temporary file of a render (``.<name>.tmp``, ``.<name>.tmp.ipynb``, ``.<name>.<fmt>.tmp``)."""
FIGURE_SUFFIXES = (".pdf", ".svg", ".png")
INTERRUPTED = 130


@dataclass
class Job:
    study: str
    evaluator: str
    notebook: str
    params: dict
    report_dir: Path
    ok: bool | None = None
    seconds: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)


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


def plan(datasets, evaluators, *, data_root, n_boot, seed, reports_dir: Path, figures_dir: Path) -> list[Job]:
    """The jobs of a render, from the registry: each study's notebooks of scope ``study``
    once, those of scope ``evaluator`` once per chosen evaluator (default: all found)."""
    jobs = []
    for key in datasets:
        top = get_study(key)
        chosen = evaluators.get(key, ()) if isinstance(evaluators, dict) else evaluators
        # A multi-attribute study: its overview, then each attribute as a study of its own.
        for spec in (top, *(top.of_attribute(a) for a in top.attributes)):
            ds = spec.folder  # folder names; `spec.key` (a name or a study file) is what the notebooks get
            common = dict(study=spec.key, data_root=str(data_root) if data_root and spec.source else None,
                          n_boot=n_boot, seed=seed)
            for nb in spec.notebooks_of("study"):
                params = common | dict(output_dir=str(reports_dir / ds), figures_dir=str(figures_dir / ds))
                jobs.append(Job(ds, STUDY_LEVEL, nb.name, params, reports_dir / ds))
            if not spec.notebooks_of("evaluator"):
                continue
            for ev in chosen or spec.evaluators(data_root):
                spec.check_evaluator(ev, data_root)
                report_dir = reports_dir / ds / ev
                for nb in spec.notebooks_of("evaluator"):
                    params = {spec.evaluator_parameter: ev} | common | dict(
                        output_dir=str(report_dir), figures_dir=str(figures_dir / ds / ev))
                    jobs.append(Job(ds, ev, nb.name, params, report_dir))
    if set(SYNTHESIS_STUDIES) <= {get_study(k).name for k in datasets}:
        # Every real benchmark in one run: the cross-study synthesis too.
        params = dict(study="all", data_root=str(data_root) if data_root else None, n_boot=n_boot, seed=seed,
                      output_dir=str(reports_dir / "synthesis"), figures_dir=str(figures_dir / "synthesis"))
        jobs.append(Job("synthesis", STUDY_LEVEL, SYNTHESIS.name, params, reports_dir / "synthesis"))
    return jobs


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS")


def thread_limits(jobs: int) -> dict[str, str]:
    """Threads per kernel so that ``jobs`` kernels at a time use the machine's cores
    once: ``cores // jobs`` (at least 1) for BLAS, OpenMP and polars, unless the user set
    the variable. Two kernels each starting two BLAS threads on two cores make four
    threads that spin while they wait for each other (measured: the three built-in
    studies took 11 % more CPU time); tables are byte-identical either way."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    return {name: threads for name in THREAD_VARIABLES if name not in os.environ}


def longest_first(jobs: list[Job]) -> list[Job]:
    """The jobs in the order to start them: by the seconds their earlier run took (from
    its ``.run.json``), longest first, so the last jobs to finish are short ones and no
    worker idles at the end; jobs never run before keep the plan's order, ahead of the
    others, and the cross-study synthesis (the longest notebook) leads."""
    def seconds(j: Job) -> float:
        try:
            return float(json.loads((j.report_dir / f"{j.notebook}.run.json").read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return float("inf")

    known = {id(j): seconds(j) for j in jobs}
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].notebook != SYNTHESIS.name, -known[id(jobs[i])], i))
    return [jobs[i] for i in order]


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


def check_arguments(datasets, evaluators=None, *, data_root=None, jobs: int = 2, n_boot: int = 2000) -> Path | None:
    """Check every argument of a render before anything runs; returns the data root
    (None when no study reads real data).

    Raises
    ------
    ValueError
        ``n_boot`` or ``jobs`` below 1, an unknown study, a study folder holding no data,
        an unknown evaluator (the message lists the ones found).
    FileNotFoundError
        A data root, or a study's folder under it, that does not exist.
    """
    for name, value, what in (("--n-boot", n_boot, "bootstrap resamples"), ("--jobs", jobs, "notebooks at a time")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1 ({what}), got {value!r}")
    if not datasets:
        raise ValueError("no study to render")
    specs = [get_study(d) for d in datasets]
    real = [s for s in specs if s.source is not None]
    root = resolve_data_root(data_root) if real else None
    if real and not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist (pass --data-root, or set "
                                f"${DATA_ROOT_ENV}, to the folder holding {', '.join(s.source.folder + '/' for s in real)})")
    for key, spec in zip(datasets, specs):
        if spec.source is not None:
            folder = root / spec.source.folder
            if not folder.is_dir() and not _other_layout(spec, root):
                raise FileNotFoundError(f"{spec.name}: {folder} does not exist: the data root {root} lacks the study's "
                                        f"folder {spec.source.folder}/ (clone {spec.source.repository} there, or run "
                                        f"`python -m analysis fetch`)")
            if folder.is_dir() and not any(folder.iterdir()):
                raise ValueError(f"{spec.name}: {folder} is empty: no data to render")
        found = spec.evaluators(root if spec.source is not None else None)
        if not found:
            raise ValueError(f"{spec.name}: no {spec.evaluator_parameter}s found in the data"
                             + (f" under {root / spec.source.folder}" if spec.source is not None else ""))
        chosen = evaluators.get(key, ()) if isinstance(evaluators, dict) else (evaluators or ())
        for ev in chosen:
            if ev not in found:
                raise ValueError(f"{spec.name}: unknown {spec.evaluator_parameter} {ev!r}; "
                                 f"found in the data: {', '.join(found)}")
    return root


def _other_layout(spec, root: Path) -> bool:
    """A study read from another layout than its source folder (Between Help and Harm's
    Hugging Face export) is there when its evaluators are found."""
    try:
        return bool(spec.discover(root))
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def render_lock(*folders: Path):
    """Hold ``.render.lock`` (with this process's PID) in each folder; refuse with one line
    (RuntimeError) when a live render holds one. A lock whose render is gone is stale and taken
    over (:func:`~analysis.render.processes.lock_holder`)."""
    taken: list[Path] = []
    try:
        for folder in dict.fromkeys(Path(f).resolve() for f in folders):
            folder.mkdir(parents=True, exist_ok=True)
            lock = folder / LOCK_NAME
            for _ in range(2):
                try:
                    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    pid = None
                    with contextlib.suppress(OSError):
                        pid = lock_holder(lock.read_text())
                    if pid is not None and pid != os.getpid():
                        raise RuntimeError(f"another render (pid {pid}) is writing into {folder}; wait for it to "
                                           f"finish, or remove {lock} if that process is not a render") from None
                    with contextlib.suppress(FileNotFoundError):
                        lock.unlink()  # stale: its render is gone
                    continue
                with os.fdopen(fd, "w") as fh:
                    fh.write(lock_record())
                taken.append(lock)
                break
            else:
                raise RuntimeError(f"could not take the render lock {lock}")
        yield
    finally:
        for lock in taken:
            if _lock_pid(lock) == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def remove_temporary_files(*folders: Path) -> list[Path]:
    """Delete every temporary file of a render under ``folders`` (an interrupted render's
    leftovers); returns what was removed."""
    removed = []
    for folder in folders:
        if Path(folder).is_dir():
            for p in Path(folder).rglob(TMP_GLOB):
                if p.is_file():
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                        removed.append(p)
    return removed


def clear_previous_results(jobs: list[Job]) -> None:
    """Remove the earlier results of every planned job: its notebook, HTML and run record,
    and the tables and figures of the folders the plan's notebooks write (each folder is
    written only by notebooks of one scope, all of which are planned together)."""
    tables, figures = set(), set()
    for j in jobs:
        for suffix in (".ipynb", ".html", ".run.json"):
            with contextlib.suppress(FileNotFoundError):
                (j.report_dir / f"{j.notebook}{suffix}").unlink()
        tables.add(j.report_dir / "tables")
        if j.params.get("figures_dir"):
            figures.add(Path(j.params["figures_dir"]))
    for folder in tables:
        for p in folder.glob("*.csv") if folder.is_dir() else ():
            p.unlink()
    for folder in figures:
        for p in folder.iterdir() if folder.is_dir() else ():
            if p.is_file() and p.suffix in FIGURE_SUFFIXES:
                p.unlink()


def _why(error: str) -> str:
    """The line of a failure that says why: the last ``SomeError: message`` line, else the last line."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    for ln in reversed(lines):
        head = ln.split(":", 1)[0]
        if ":" in ln and (head.endswith(("Error", "Exception", "Interrupt")) or head == "error"):
            return ln
    return lines[-1] if lines else "unknown error"


_COMMIT: dict[str, str] = {}


def _record_run(job: Job, *, seed: int, n_boot: int, data_root, started: dt.datetime) -> None:
    from analysis.reporting.index import git_commit

    status = "ok" if job.ok else ("interrupted" if job.error.startswith("interrupted") else "failed")
    study = job.params.get("study", job.study)
    if job.params.get("data_root"):
        data = str(job.params["data_root"])
    elif str(study).endswith(".toml"):
        data = f"study file {study}"
    elif data_root and get_study(job.study).source is not None:
        data = str(data_root)
    else:
        data = "synthetic demo data generated from the seed"
    record = dict(status=status, seed=seed, n_boot=n_boot, data=data,
                  started=started.isoformat(timespec="seconds"), seconds=round(job.seconds, 1),
                  package_version=__version__, git_commit=_COMMIT.setdefault("sha", git_commit()),
                  error=_why(job.error) if not job.ok else "")
    if job.report_dir.is_dir() or job.ok:
        write_text_atomic(job.report_dir / f"{job.notebook}.run.json", json.dumps(record, indent=1))


def write_index(jobs: list[Job], *, reports_dir: Path, figures_dir: Path, seed: int, n_boot: int,
                data_root, started: dt.datetime, seconds: float) -> Path:
    """Record the run of every finished job (``<notebook>.run.json``), then write
    ``reports/index.html`` (:mod:`analysis.reporting.index`): per study the headline
    table, the forest plot, provenance per run, what failed and why, and links."""
    from analysis.reporting.index import write_index as write_study_index

    for j in jobs:
        if j.ok is not None:
            _record_run(j, seed=seed, n_boot=n_boot, data_root=data_root, started=started)
    return write_study_index(reports_dir, figures_dir)


class _Interrupt(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


def _raise_interrupt(signum, frame):
    raise _Interrupt(f"signal {signum}")


def render(datasets, evaluators=None, *, data_root=None, jobs: int = 2, n_boot: int = 2000, seed: int = 20261124,
           reports_dir: Path | None = None, figures_dir: Path | None = None,
           notebooks_dir: Path | None = None, progress: bool = True, fresh_kernels: bool = False) -> int:
    """Render the notebooks of ``datasets`` (see the module docstring); 0 when every
    notebook ran, 1 when some failed, 130 when interrupted. Bad arguments raise before
    anything is written (:func:`check_arguments`); a concurrent render into the same
    folders raises RuntimeError.

    Each study's data is loaded once here first (filling the parquet cache of
    :mod:`analysis.data.cache`, so the notebooks read it from there instead of racing to
    read the sources); ``jobs`` long-lived workers then run the notebooks, longest
    first as far as earlier runs tell, each in a fresh kernel forked from a kernel
    server that imported the notebooks' modules (:mod:`analysis.render.kernels`);
    ``fresh_kernels`` starts every kernel from nothing instead."""
    from tqdm import tqdm

    root = check_arguments(datasets, evaluators, data_root=data_root, jobs=jobs, n_boot=n_boot)
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
            clear_previous_results(todo)
            futures = [pool.submit(runner.run, j, notebooks_dir) for j in todo]
            for fut in tqdm(as_completed(futures), total=len(futures), desc="rendering", unit="notebook",
                            disable=not progress, file=sys.stderr):
                j = fut.result()
                _record_run(j, seed=seed, n_boot=n_boot, data_root=root, started=started)
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
        index = write_index(todo, reports_dir=reports_dir, figures_dir=figures_dir, seed=seed, n_boot=n_boot,
                            data_root=root, started=started, seconds=seconds)
    failed = [j for j in todo if not j.ok]
    if interrupted:
        print(f"interrupted: {len(todo) - len(failed)}/{len(todo)} notebooks finished; no temporary file left; "
              f"rerun to render the rest; index: {index}", file=sys.stderr)
        return INTERRUPTED
    print(f"rendered {len(todo) - len(failed)}/{len(todo)} notebooks in {seconds:.1f} s "
          f"({jobs} at a time); index: {index}")
    for j in failed:
        print(f"\nFAILED {j.study}/{j.evaluator}/{j.notebook} ({j.report_dir / (j.notebook + '.ipynb')}):\n{j.error}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    studies = (*STUDIES, "all")
    parser = argparse.ArgumentParser(
        prog="python -m analysis render", description=__doc__.splitlines()[0],
        epilog="Notebooks per study, and their scope, come from the study registry "
               "(analysis/studies/registry.py).")
    parser.add_argument("--study", "--dataset", dest="study", nargs="+", default=[DEFAULT_STUDY], metavar="STUDY",
                        help=f"studies to render: {', '.join(studies)}, or study files (.toml); several may be "
                             f"given (default: demo; --dataset is an alias)")
    parser.add_argument("--data-root", default=None,
                        help="data root holding the real data sets (default: $CRISIS_JUDGE_DATA_ROOT or data/raw)")
    parser.add_argument("--evaluator", nargs="+", default=None, metavar="NAME",
                        help="render only these evaluators (judges, systems); default: every one found in the data")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time (default: 2)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the bootstrap and of the demo data")
    parser.add_argument("--reports-dir", default=None, help="where reports go (default: reports/)")
    parser.add_argument("--figures-dir", default=None, help="where figures go (default: figures/)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="start every notebook's kernel from nothing, as JupyterLab does, instead of forking "
                             "it from a kernel server that imported the notebooks' modules (slower; same results)")
    return parser


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    # Cheap checks first, so a bad number never waits for the data to be scanned.
    check_arguments([DEFAULT_STUDY], None, jobs=a.jobs, n_boot=a.n_boot)
    datasets = list(dict.fromkeys(k for name in a.study
                                  for k in (STUDIES if name == "all" else [get_study(name).key])))
    evaluators = a.evaluator
    if a.evaluator and len(datasets) > 1:
        # With several studies, each name goes to the studies that have it.
        found = {ds: get_study(ds).evaluators(a.data_root) for ds in datasets}
        evaluators = {ds: [e for e in a.evaluator if e in found[ds]] for ds in datasets}
        nowhere = [e for e in a.evaluator if not any(e in v for v in evaluators.values())]
        if nowhere:
            raise ValueError(f"unknown evaluator(s) {nowhere}; found in the data: "
                             + "; ".join(f"{ds}: {', '.join(found[ds])}" for ds in datasets))
        datasets = [ds for ds in datasets if evaluators[ds]]
    elif a.evaluator:
        check_arguments(datasets, None, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot)
        for ev in a.evaluator:
            get_study(datasets[0]).check_evaluator(ev, a.data_root)
    return render(datasets, evaluators, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot, seed=a.seed,
                  reports_dir=a.reports_dir, figures_dir=a.figures_dir, fresh_kernels=a.fresh_kernels)
