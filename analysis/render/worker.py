"""A render worker: one long-lived process per job slot of a render that executes
notebooks one after another (:mod:`analysis.render.runner` starts and feeds it).

Kept apart from :mod:`analysis.render.runner` so that a worker imports papermill,
nbconvert and jupyter_client and nothing of the package's statistics or studies: it runs
notebooks, it does not compute anything (2 s of imports instead of 8 s per worker).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path




class _Terminated(BaseException):
    """SIGTERM in a notebook's process: unwind (so papermill shuts its kernel down) and keep nothing."""


def _terminate(signum, frame):
    raise _Terminated(signum)


_EXPORTER: dict = {}


def execute_one(notebook_path: str, out_ipynb: str, params: dict, cwd: str) -> None:
    """Run one notebook with papermill and write it and its HTML atomically.

    A notebook that fails is kept (it shows where it failed); one that is stopped
    (SIGTERM from an interrupted render) leaves no file. Its kernel is a fresh process;
    inside a render whose kernel server runs (:mod:`analysis.render.kernels`) it is
    forked from the server with the notebooks' modules already imported. The kernel is
    waited for as long as its process runs; a kernel whose process ended before it
    answered (:class:`~analysis.render.kernels.KernelDied`) is started once more, and
    the notebook runs from its first cell in it.
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    from analysis.render.kernels import KernelDied, PreloadedKernelManager
    from analysis.reporting.tables import write_text_atomic

    out = Path(out_ipynb)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.ipynb")
    signal.signal(signal.SIGTERM, _terminate)
    stopped = False
    try:
        # Written once at the end (or where it failed), not after every cell: nobody
        # reads the temporary file while it runs, and an interrupted one is discarded.
        for attempt in (1, 2):
            try:
                pm.execute_notebook(notebook_path, str(tmp), parameters=params, cwd=cwd, progress_bar=False,
                                    kernel_name="python3", language="python", log_output=False,
                                    request_save_on_cell_execute=False,
                                    kernel_manager_class=PreloadedKernelManager)
                break
            except KernelDied:
                if attempt == 2:
                    raise
                print(f"{notebook_path}: its kernel died before it started; starting another", file=sys.stderr)
    except _Terminated:
        stopped = True
        raise
    finally:
        if tmp.exists():
            if stopped:
                tmp.unlink()
            else:
                # Keep the partially executed notebook: it shows where it failed.
                os.replace(tmp, out)
    nb = nbformat.read(out, as_version=4)
    if "html" not in _EXPORTER:  # one per worker: its templates load once (0.3 s)
        _EXPORTER["html"] = HTMLExporter()
    body, _ = _EXPORTER["html"].from_notebook_node(nb)
    write_text_atomic(out.with_suffix(".html"), body)


def _skip_iri_grammar() -> None:
    """jsonschema (under nbformat) imports the optional ``rfc3987_syntax`` when it is
    installed (JupyterLab's dependencies install it), and that module compiles an IRI
    grammar at import: 1.8 s per process. Notebook validation never checks IRI
    formats; marking the module absent makes jsonschema skip that checker."""
    sys.modules.setdefault("rfc3987_syntax", None)


def worker_main() -> None:
    """A render worker: runs the jobs it reads on stdin (one JSON object per line: the
    notebook, its output, parameters, working directory and the environment its kernel
    gets besides the worker's) one after another with :func:`execute_one` and answers
    each with one JSON line.

    One worker per job slot lives for the whole render, so papermill, nbconvert and the
    package are imported once per slot, not once per notebook (3–4 s of CPU each).
    Anything else written to standard output (kernels' banners) goes to standard error,
    so the answers stay parseable.
    """
    import traceback

    from analysis.render.processes import tie_to_parent

    # SIGTERM (below: stop the notebook, remove its temporary file) when the render is
    # gone, even killed with SIGKILL: the kernel goes with the notebook.
    tie_to_parent(os.getppid())
    _skip_iri_grammar()
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    signal.signal(signal.SIGTERM, _terminate)
    for line in sys.stdin:
        job = json.loads(line)
        os.environ.update(job.get("env") or {})  # the kernel started for the job inherits it
        try:
            execute_one(job["src"], job["out"], job["params"], job["cwd"])
            answer = {"ok": True, "error": ""}
        except Exception:  # noqa: BLE001 - the notebook's error is the job's result
            answer = {"ok": False, "error": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
