"""Preloaded kernels for batch renders: a fresh kernel process per notebook, without
paying for the imports each time.

A notebook's kernel spends 2–3 s of CPU importing numpy, scipy, polars, matplotlib,
statsmodels, great_tables and the package before its first line of analysis runs, and
ipykernel about 1 s more to start: for the 30 notebooks of the three built-in studies
that is about half of a render. :class:`KernelServer` imports those modules once, in
a server process, and then *forks* it for every kernel a render asks for. Each
notebook still runs in a process of its own, started for it, with an empty namespace:
what it did not import itself it cannot use, and nothing one notebook does reaches
another. The only difference from a kernel started from nothing is that the modules
were already in ``sys.modules`` (imported, never used) when it started.

How a kernel is asked for
    jupyter_client starts a kernel by running the kernel spec's command;
    :class:`PreloadedKernelManager` (what the render passes to papermill) runs the shim
    ``_kernel_shim.py`` instead, which connects to the server's Unix socket and hands
    it its standard streams, working directory, environment and connection file. The
    server forks; the child takes those over and becomes the IPython kernel (the same
    ``ipykernel`` entry point ``python -m ipykernel_launcher`` uses). The shim forwards
    signals to it and exits when it exits. The notebook's kernelspec is unchanged
    (``python3``). Every kernel of a render (preloaded or not) keeps IPython's input
    history in memory (:data:`HISTORY_IN_MEMORY`), is connected to by a
    :class:`ReadyClient` (ready when the kernel is, not 0.2 s later) and is seen to exit
    within 10 ms: a one-cell notebook takes 0.3 s instead of 0.65 s.

Two renders on one machine
    Each kernel talks to its notebook's worker over ZeroMQ IPC sockets (Unix socket
    files) in the worker's private folder (:func:`~analysis.render.processes.private_dir`),
    not over TCP ports on 127.0.0.1: jupyter_client picks a TCP port by binding port 0
    and closing it, and nothing stops another process (another worker, another render)
    from being handed the same port before the kernel binds it. The server's socket is
    in the render's private folder. A kernel is waited for as long as its process lives
    (:class:`ReadyClient`); one that died before it answered is started once more
    (:func:`~analysis.render.worker.execute_one`).

What is preloaded
    ipykernel and every module the notebooks under
    the notebooks folder import at their top level (read from their source with
    :mod:`ast`, so the list follows the notebooks), and the modules they import only
    while they run (:data:`LAZY_MODULES`, :data:`WHOLE_PACKAGES`: the figure backends
    and the font subsetter, the package's own modules). Nothing is *run* in the server:
    no polars query, no figure, no RNG draw. The inline matplotlib backend is left to
    the kernel (:data:`FRESH_IN_KERNEL`).

Safety
    Forking a process that imported numpy (OpenBLAS) and polars is safe while no
    thread pool of theirs has run work (the server never does). The child resets the
    signal handlers, starts its own session, and exits when the shim's end of their
    socket closes (the shim was killed) or the server dies; the shim exits when the
    kernel's end closes or its worker dies. The server exits when its parent (the render)
    is gone: at once on Linux (``PR_SET_PDEATHSIG``, :mod:`analysis.render.processes`),
    within a second elsewhere. If the server cannot be reached, the shim starts an
    ordinary kernel instead. ``render --fresh-kernels`` turns preloading off.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from queue import Empty
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

from analysis.render.processes import die_with_parent, private_dir

SERVER_ENV = "CRISIS_JUDGE_KERNEL_SERVER"
"""Environment variable holding the server's socket path (set by the render for its workers)."""

SHIM = Path(__file__).with_name("_kernel_shim.py")

HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"
"""Kernel option: IPython's input history kept in memory, not in the profile's SQLite file."""

BASE_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython", "IPython.display",
                "IPython.core.debugger", "IPython.core.completerlib", "IPython.extensions.storemagic", "psutil",
                "sqlite3", "tornado.platform.asyncio", "tornado.queues", "great_tables")
"""Imported in the server besides the notebooks' own imports: the kernel itself, what
it imports as it initialises (its debugger, debugpy, alone 0.15 s per kernel), and what
the table display loads on first use."""

LAZY_MODULES = ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf",
                "matplotlib.backends.backend_svg", "fontTools.subset", "PIL.PngImagePlugin", "pyarrow.pandas_compat",
                "statsmodels.regression.mixed_linear_model", "threadpoolctl", "PIL.BmpImagePlugin",
                "PIL.GifImagePlugin", "PIL.JpegImagePlugin", "PIL.PpmImagePlugin", "encodings.utf_16_be",
                "encodings.utf_32_be")
"""Modules a notebook imports only when it runs: the figure backends and the font
subsetter of :func:`~analysis.reporting.figures.save_figure` (matplotlib picks a format's
backend, and the PDF's fonts are subset, on the first save), polars' conversion to
pandas, the image plugins PIL loads before its first save, the text encodings of the
font's name table, and what the package imports inside its functions. Left to the kernels they
cost 0.6 s of imports per notebook with a figure (measured: 160 modules)."""

WHOLE_PACKAGES = ("fontTools.ttLib.tables", "analysis.stats", "analysis.data", "analysis.studies")
"""Packages imported with every submodule: fontTools reads each font table through a
module of its own, imported as the table is first read, and the package's loaders and
study tables import one another inside functions."""


def _submodules(package: str) -> list[str]:
    """``package`` and every module under it (without importing them)."""
    import pkgutil

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return [package]
    return [package] + [m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, package + ".")
                        if not m.name.rsplit(".", 1)[-1].startswith("_") or package.startswith("fontTools")]

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
FRESH_IN_KERNEL = ("matplotlib_inline.backend_inline",)
"""Never kept preloaded: importing the inline backend inside the kernel is what hooks
it into the kernel's shell (figures shown under their cell); imported in the server,
without a shell, it would not be hooked and figures would not be shown."""


def notebook_imports(notebooks_dir: Path) -> list[str]:
    """Every module the percent-format notebooks in ``notebooks_dir`` import at their top
    level, sorted (``import a.b`` and ``from a.b import c`` both give ``a.b``)."""
    found: set[str] = set()
    for path in sorted(Path(notebooks_dir).glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return sorted(found)


# --- the server ------------------------------------------------------------------------

def _reap(signum, frame) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    if len(msg) < 4:
        raise ConnectionError("short request")
    size = struct.unpack("!I", msg[:4])[0]
    body = msg[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("request cut short")
        body += chunk
    return json.loads(body), fds


def _become_kernel(conn: socket.socket) -> None:
    """In the forked child: take over the shim's request and run the IPython kernel."""
    code = 1
    try:
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        die_with_parent(signal.SIGKILL)  # the server died (its render was killed): so does the kernel
        request, fds = _recv_request(conn)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        sys.argv = list(request["argv"])
        if os.environ.get("JPY_PARENT_PID"):
            # What an ordinary kernel reads from the environment when ipykernel is
            # imported (here: in the server, before the environment was the kernel's).
            sys.argv.append(f"--IPKernelApp.parent_handle={int(os.environ['JPY_PARENT_PID'])}")
        conn.sendall(f"{os.getpid()}\n".encode())

        def watch() -> None:
            # The shim holds the other end: end of file means it is gone (killed), and the
            # kernel must not outlive it.
            with contextlib.suppress(OSError):
                while conn.recv(4096):
                    pass
            os._exit(1)

        threading.Thread(target=watch, name="shim-watch", daemon=True).start()
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - a child must never return into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(socket_path: str, notebooks_dir: str, ready_fd: int | None = None, parent: int | None = None) -> None:
    """The server's main loop: preload, then fork one kernel per connection until the
    parent process (``parent``, the render) is gone (or SIGTERM)."""
    parent = os.getppid() if parent is None else parent
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # gone already
        return
    os.environ["MPLBACKEND"] = INLINE_BACKEND  # before matplotlib reads it at import
    # debugpy (under ipykernel.debugger) warns on stderr at import that Python's frozen
    # modules may hide breakpoints: true, harmless here, and it would reach the render's
    # terminal. Kernels get the environment of their request, not this one.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    failed = []
    whole = [m for package in WHOLE_PACKAGES for m in _submodules(package)]
    for name in (*BASE_MODULES, *notebook_imports(Path(notebooks_dir)), *LAZY_MODULES, *whole):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a module that fails here fails in the notebook, as it should
            failed.append(f"{name}: {exc}")
    for name in FRESH_IN_KERNEL:
        sys.modules.pop(name, None)
    import gc

    gc.collect()
    gc.freeze()  # the children share these pages: keep the collector from touching them
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(16)
    listener.settimeout(1.0)
    signal.signal(signal.SIGCHLD, _reap)
    if ready_fd is not None:
        os.write(ready_fd, (json.dumps({"failed": failed}) + "\n").encode())
        os.close(ready_fd)
    while os.getppid() == parent:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            _become_kernel(conn)
        conn.close()


# --- the render's side -----------------------------------------------------------------

class KernelServer:
    """Start the kernel server for a render; use as a context manager.

    Inside the ``with`` block, :attr:`env` holds the environment variable the workers
    need (:data:`SERVER_ENV`); on exit the server is stopped. ``env`` is added to the
    server's environment (thread limits: read by numpy and polars when they are
    imported, which is in the server). Kernels it forked run until their notebook
    ends (each belongs to its shim), or until the server ends (the render ended or was
    killed): a kernel never outlives the render that asked for it.
    """

    def __init__(self, notebooks_dir: Path, env: dict[str, str] | None = None) -> None:
        self.notebooks_dir = Path(notebooks_dir)
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.failed: list[str] = []
        self._ready: int | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def wait(self) -> bool:
        """Wait until the server has imported its modules; False if it did not start
        (shims then start ordinary kernels)."""
        if self._ready is not None:
            with os.fdopen(self._ready) as fh:
                line = fh.readline()
            self._ready = None
            if line:
                self.failed = json.loads(line)["failed"]
            else:
                self._stop()
        return self.proc is not None

    @property
    def env(self) -> dict[str, str]:
        """What the workers need to reach the server (after :meth:`wait`); empty when it
        did not start."""
        return {SERVER_ENV: self.socket_path} if self.wait() else {}

    def __enter__(self) -> "KernelServer":
        """Start the server; it imports in the background until :meth:`wait` returns.
        :attr:`socket_path` is known at once (a shim that connects before the server
        listens starts an ordinary kernel)."""
        # A short path in the render's private folder: Unix socket paths are limited to
        # about 100 bytes, and no other render may reach this server.
        self._tmp = tempfile.TemporaryDirectory(prefix="s", dir=private_dir())
        self.socket_path = os.path.join(self._tmp.name, "s")
        read, write = os.pipe()
        code = ("import sys; from analysis.render.kernels import serve; "
                "serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))")
        self.proc = subprocess.Popen([sys.executable, "-c", code, self.socket_path, str(self.notebooks_dir),
                                      str(write), str(os.getpid())], pass_fds=(write,), stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=os.environ | self.extra_env)
        os.close(write)
        self._ready = read
        return self

    def _stop(self) -> None:
        if self._ready is not None:
            os.close(self._ready)
            self._ready = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __exit__(self, *exc) -> None:
        self._stop()


class KernelDied(RuntimeError):
    """The kernel's process ended before it answered (the worker starts it once more)."""


class ReadyClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready as soon as the kernel is, and waiting for a
    kernel as long as the kernel's process lives.

    Ready means what jupyter_client's ``wait_for_ready`` means: the kernel answered a
    ``kernel_info`` request on the shell channel, and IOPub is connected (a message of
    the request arrived there). The client asks again every second until then: a
    request sent before the kernel listens, or published before IOPub is subscribed,
    may get no answer the client sees. Any of its requests' replies counts: a kernel
    slow to start (a busy machine) answers the first requests late, one after another,
    and a client that waited for the reply to its latest request only would read an
    older reply each time and never be ready. jupyter_client then drains IOPub until
    0.2 s pass without a message (0.2 s of nothing per notebook); this client reads IOPub
    only up to the idle status of one of its requests, the last message a request
    causes. Anything later on IOPub is not lost: nbclient reads a cell's output by the
    id of the cell's request.

    No fixed time limit decides whether a kernel that runs gets its notebook: the
    ``timeout`` nbclient gives (``startup_timeout``, 60 s) is applied only while
    :attr:`patient` is False. A kernel process that ended raises :class:`KernelDied`.
    """

    patient = True
    """Wait for a live kernel however long it takes to answer (the render's choice: a
    kernel that runs is never given up on)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        limit = float("inf") if timeout is None or self.patient else timeout
        t0 = time.monotonic()
        sent: set[str] = set()
        while True:
            sent.add(self.kernel_info())
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if (reply is not None and reply["msg_type"] == "kernel_info_reply"
                    and reply["parent_header"].get("msg_id") in sent and await self._iopub_idle(sent)):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise KernelDied("Kernel died before replying to kernel_info")
            if time.monotonic() - t0 > limit:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _iopub_idle(self, sent: set[str], timeout: float = 0.2) -> bool:
        """Read IOPub up to the idle status of one of the requests ``sent``; False if
        nothing came for ``timeout`` s (IOPub not connected yet: the client asks again)."""
        while True:
            try:
                msg = await self.iopub_channel.get_msg(timeout=timeout)
            except Empty:
                return False
            if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") in sent):
                return True


class PreloadedKernelManager(AsyncKernelManager):
    """A kernel manager that asks the render's kernel server for the kernel (through
    the shim) when :data:`SERVER_ENV` is set and the kernel is this Python's ipykernel;
    otherwise it starts kernels as jupyter_client always does. Its clients are
    :class:`ReadyClient`, and it sees a kernel's end within 10 ms, not 100 ms.

    Its kernels use ZeroMQ's IPC transport: the connection file and the kernel's socket
    files are in this process's private folder (:func:`~analysis.render.processes.private_dir`),
    so no TCP port is picked (picking one races with every other process on the
    machine that picks one) and no other render can reach them."""

    client_class = DottedObjectName("analysis.render.kernels.ReadyClient")
    client_factory = Type(ReadyClient, klass=AsyncKernelClient)

    async def _async_pre_start_kernel(self, **kw):
        folder = private_dir()
        if Path(self.connection_file or "").parent != folder:  # a restart keeps its files
            name = f"k{os.urandom(6).hex()}"
            self.cache_ports = False
            self.transport = "ipc"
            self.ip = str(folder / f"{name}-ipc")  # sockets <ip>-1 ... <ip>-5
            self.connection_file = str(folder / f"{name}.json")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_finish_shutdown(self, waittime=None, pollinterval=0.1, restart=False):
        # jupyter_client checks every 0.1 s whether the kernel has exited: 0.1 s per notebook.
        await super()._async_finish_shutdown(waittime=waittime, pollinterval=min(pollinterval, 0.01),
                                             restart=restart)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if "ipykernel_launcher" in cmd and HISTORY_IN_MEMORY not in cmd:  # jupyter_client may pass it back in
            # A rendered notebook's input history is in the notebook: keep IPython's
            # history database in memory (no SQLite file shared by the concurrent kernels).
            cmd = [*cmd, HISTORY_IN_MEMORY]
        server = os.environ.get(SERVER_ENV)
        if not server or "ipykernel_launcher" not in cmd or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
            return cmd
        return [sys.executable, str(SHIM), server, os.path.realpath(self.connection_file), HISTORY_IN_MEMORY]
