"""The process jupyter_client starts as "the kernel" when a render uses preloaded kernels.

Run as a script (``python _kernel_shim.py SERVER CONNECTION_FILE [KERNEL_OPTION ...]``), so it imports
nothing but the standard library and starts in milliseconds. It asks the kernel
server (:mod:`analysis.render.kernels`) for a kernel: the server forks a process
that already imported the notebooks' modules, hands it this process's standard streams
and the connection file, and that process becomes the IPython kernel. The shim then
stands in for it towards jupyter_client: it forwards SIGINT/SIGTERM/SIGHUP to the
kernel, exits when the kernel exits (the socket they share reaches end of file), and
stops the kernel when its own parent (the papermill worker) is gone: at once on Linux
(``PR_SET_PDEATHSIG``), within a second elsewhere. The kernel's environment is the
shim's without the server's address (a kernel never asks the server for anything).

When the server cannot be reached, the shim replaces itself with an ordinary kernel
(``python -m ipykernel_launcher -f CONNECTION_FILE``): a render never fails for want of
the preloaded kernels, it is only slower.
"""

import json
import os
import signal
import socket
import struct
import sys


SERVER_ENV = "CRISIS_JUDGE_KERNEL_SERVER"  # analysis.render.kernels.SERVER_ENV (this script imports no package)


def _die_with_parent(sig: int) -> None:
    """``prctl(PR_SET_PDEATHSIG, sig)`` on Linux (analysis.render.processes.die_with_parent)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, int(sig), 0, 0, 0)
        except (OSError, AttributeError):
            pass


def main(server: str, connection_file: str, *options: str) -> None:
    parent = os.getppid()
    _die_with_parent(signal.SIGTERM)  # forwarded to the kernel below
    os.environ.pop(SERVER_ENV, None)
    argv = ["ipykernel_launcher", "-f", connection_file, *options]
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(server)
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(sock, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(64)
            if not chunk:
                raise ConnectionError("kernel server closed the connection")
            reply += chunk
        pid = int(reply)
    except (OSError, ValueError):
        os.execv(sys.executable, [sys.executable, "-m", *argv])

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)
    sock.settimeout(1.0)
    while True:
        try:
            if not sock.recv(4096):
                break  # end of file: the kernel process is gone
        except socket.timeout:
            if os.getppid() != parent:  # the worker died without shutting its kernel down
                forward(signal.SIGTERM, None)
                break
    sys.exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
