"""Where the real data sets live.

The data root is one folder holding ``between-help-and-harm/``, ``mentalbench-align/``
and ``dialogue-safety/`` (clones of the source repositories, as ``python -m analysis
fetch`` makes them). Resolution order: an explicit argument, then the environment
variable :data:`DATA_ROOT_ENV`, then ``data/raw/`` under the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ROOT_ENV = "CRISIS_JUDGE_DATA_ROOT"

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``explicit``, else ``$CRISIS_JUDGE_DATA_ROOT``, else ``<project>/data/raw``."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(DATA_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return PROJECT_ROOT / "data" / "raw"


def dataset_dir(folder: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<data root>/<folder>`` (one data set's folder); a clear error if it is missing."""
    path = data_root(root) / folder
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path} does not exist: clone the {folder} repository there, run "
            f"`python -m analysis fetch`, or point --data-root / ${DATA_ROOT_ENV} at a folder holding it"
        )
    return path
