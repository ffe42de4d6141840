"""The processes of a render: what ties them to the render, what is private to it, and
who holds a render lock.

A render is a tree of processes: the render, its workers (one per job slot), the kernel
server and, under them, one kernel per running notebook. Three things keep two renders
on one machine from meeting and keep a killed render from leaving anything behind:

Dying with the parent
    :func:`die_with_parent` asks Linux to signal a process when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``), so that ``kill -9`` of the render takes its workers
    and kernel server with it, and the server its forked kernels; elsewhere (and against
    the race of a parent that died before the call) :func:`watch_parent` polls the parent
    once a second and does the same.

A private folder per process
    :func:`private_dir` is a temporary folder of this process only (``cjk-<pid>-*``),
    removed when it exits; the kernel server's socket and each kernel's connection file
    and IPC sockets live there (:mod:`analysis.render.kernels`), so no two renders
    share a socket path or a TCP port. Folders whose process is gone (killed) are removed
    by the next render that creates one.

Who holds a lock
    :func:`lock_record` is what a render writes into its ``.render.lock``: its PID and
    the start time of its process. :func:`lock_holder` reads a lock back and says
    whether that very process still runs; a PID that was reused by another process since
    (the render was killed) does not hold the lock.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
"""``prctl`` option (linux/prctl.h): the signal this process gets when its parent dies."""

PRIVATE_PREFIX = "cjk-"


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have this process get ``sig`` when its parent dies (Linux ``PR_SET_PDEATHSIG``,
    through ctypes); True when the kernel accepted it. Call it first thing in a child;
    :func:`watch_parent` covers other systems and a parent that died before the call."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(parent: int, sig: int = signal.SIGTERM, interval: float = 1.0) -> threading.Thread:
    """Send ``sig`` to this process once its parent is no longer ``parent`` (it died; the
    process was handed to init or a subreaper), checking every ``interval`` seconds in a
    daemon thread: the portable fallback of :func:`die_with_parent`."""
    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), sig)

    thread = threading.Thread(target=poll, name="parent-watch", daemon=True)
    thread.start()
    return thread


def tie_to_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """:func:`die_with_parent` and :func:`watch_parent` together: ``sig`` reaches this
    process when ``parent`` (the process that started it) is gone, at once on Linux,
    within a second elsewhere; at once if it is gone already."""
    die_with_parent(sig)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
    watch_parent(parent, sig)


_PRIVATE: dict[int, Path] = {}


def private_dir() -> Path:
    """A temporary folder private to this process (mode 0700, short path: Unix socket
    paths are limited to about 100 bytes), created on first use and removed at exit.
    Creating it also removes the folders of processes that are gone."""
    pid = os.getpid()
    if pid not in _PRIVATE:  # keyed by PID: a forked child makes its own
        remove_stale_private_dirs()
        path = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{pid}-"))
        _PRIVATE[pid] = path
        atexit.register(_remove_private, pid)
    return _PRIVATE[pid]


def _remove_private(pid: int) -> None:
    if os.getpid() == pid and pid in _PRIVATE:
        shutil.rmtree(_PRIVATE.pop(pid), ignore_errors=True)


def remove_stale_private_dirs() -> list[Path]:
    """Remove this user's ``cjk-<pid>-*`` folders whose process is gone (a render or
    worker killed with ``kill -9`` never ran its exit handlers); returns them."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}*-*"):
        try:
            pid = int(path.name[len(PRIVATE_PREFIX):].split("-", 1)[0])
            if not path.is_dir() or path.stat().st_uid != os.getuid() or alive(pid):
                continue
        except (ValueError, OSError):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # A zombie (exited, not yet reaped) still answers kill(pid, 0).
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def start_time(pid: int) -> str | None:
    """When process ``pid`` started, as a string that differs between two processes
    that had the same PID (``/proc/<pid>/stat``'s start time in clock ticks on Linux,
    psutil's creation time elsewhere); None when it does not run."""
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    try:
        import psutil

        return f"{psutil.Process(pid).create_time():.3f}"
    except Exception:  # noqa: BLE001 - no such process, or psutil absent
        return None


def lock_record(pid: int | None = None) -> str:
    """The text of a render lock: ``"<pid> <start time>\\n"``."""
    pid = os.getpid() if pid is None else pid
    return f"{pid} {start_time(pid) or '?'}\n"


def lock_holder(text: str) -> int | None:
    """The PID of the live render that wrote lock text ``text``, or None when the lock is
    stale: its PID does not run, or runs a process started at another time than the
    render that wrote it (the PID was reused after that render was killed). A lock of
    an earlier version, holding only a PID, is held while that PID runs."""
    parts = text.split()
    try:
        pid = int(parts[0])
    except (ValueError, IndexError):
        return None
    if not alive(pid):
        return None
    if len(parts) > 1 and parts[1] != "?" and start_time(pid) != parts[1]:
        return None
    return pid
