"""Download the data sets into the data root (``python -m analysis fetch``).

Clones the three source repositories into ``<root>/between-help-and-harm``,
``<root>/mentalbench-align`` and ``<root>/dialogue-safety``, and downloads the Hugging
Face export of Between Help and Harm into ``<root>/hf/llms-mental-health-crisis-responses``.
Needs internet and ``git``; never run in CI (the tests there use ../shared/data).
An existing folder is left alone, so running it twice is harmless.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from analysis.data.bhh_hf import HF_DIR, HF_REPO

def fetch(root: str | Path, repositories: dict[str, str], *, what: tuple[str, ...] = ("hf", "repos")) -> list[str]:
    """Fetch ``what`` (``"repos"``, ``"hf"``) into ``root``; returns one message per step.

    ``repositories`` maps a folder under ``root`` to the git URL cloned into it (the
    study registry's :func:`analysis.studies.registry.repositories`).

    Raises
    ------
    RuntimeError
        ``git`` or ``huggingface_hub`` missing, or a download that failed (with its output).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    messages = []
    if "repos" in what:
        git = shutil.which("git")
        if git is None:
            raise RuntimeError("git is not installed: it is needed to clone the source repositories")
        for folder, url in repositories.items():
            dest = root / folder
            if dest.exists():
                messages.append(f"{dest} exists, left as it is")
                continue
            proc = subprocess.run([git, "clone", "--depth", "1", url, str(dest)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"git clone {url} failed (network?):\n{proc.stderr.strip()}")
            messages.append(f"cloned {url} into {dest}")
    if "hf" in what:
        dest = root / HF_DIR
        if dest.exists():
            messages.append(f"{dest} exists, left as it is")
        else:
            try:
                from huggingface_hub import snapshot_download
            except ImportError as exc:
                raise RuntimeError("huggingface_hub is not installed: pip install -e '.[fetch]'") from exc
            try:
                snapshot_download(repo_id=HF_REPO, repo_type="dataset", local_dir=str(dest))
            except Exception as exc:  # network and hub errors come in many types
                raise RuntimeError(f"download of {HF_REPO} failed: {exc}") from exc
            messages.append(f"downloaded {HF_REPO} into {dest}")
    return messages
