"""JupyterLab opens the paired .py notebooks as notebooks (jupytext contents manager)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_jupyterlab_serves_the_py_notebook_as_a_notebook(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
         "--ServerApp.open_browser=False", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
        for py in sorted((ROOT / "notebooks").glob("*.py")):
            for name in (py.name, py.with_suffix(".ipynb").name):
                model = _get(f"{base}/api/contents/{name}?content=1", token)
                assert model["type"] == "notebook", f"{name} must open as a notebook (jupytext)"
                assert model["content"]["metadata"]["kernelspec"]["name"] == "python3", f"{name}: no kernelspec"
                cells = model["content"]["cells"]
                tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
                assert len(tagged) == 1 and "study: str = " in "".join(tagged[0]["source"]), name
        overrides = json.loads((ROOT / "jupyter" / "overrides.json").read_text())
        viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
        assert viewers["python"] == "Jupytext Notebook"  # what `make lab` installs: .py opens as a notebook
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
