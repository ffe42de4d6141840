"""The files of a render: no stale results, no half-written files, one render at a time.

* Before the jobs run, the previous results of every planned notebook are removed
  (:func:`clear_previous_results`): its ``.ipynb``/``.html``, and the tables and figures of
  the folders the planned notebooks write (each such folder is written only by notebooks
  of this plan). A notebook that fails therefore leaves no result of an earlier run in
  its place.
* Every file is written to a temporary name and renamed; the temporary files an
  interrupted render left are removed (:func:`remove_temporary_files`) when the next one
  starts, and when a render ends, however it ends.
* A lock file (``.render.lock``, holding the PID) in the reports and figures folders
  (:func:`render_lock`) keeps two renders from writing into the same folder at once: the
  second refuses with one line. A lock whose process is gone, or whose PID now runs another
  process (the lock records the process's start time), is stale and is taken over.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from analysis.render.plan import Job
from analysis.render.processes import lock_holder, lock_record

LOCK_NAME = ".render.lock"
TMP_GLOB = ".*.tmp*"
"""Every temporary file of a render (``.<name>.tmp``, ``.<name>.tmp.ipynb``, ``.<name>.<fmt>.tmp``)."""
FIGURE_SUFFIXES = (".pdf", ".svg", ".png")


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
