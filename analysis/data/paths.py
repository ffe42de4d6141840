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

DATASET_DIRS = {
    "bhh": "between-help-and-harm",
    "mentalalign": "mentalbench-align",
    "dialoguesafety": "dialogue-safety",
}

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``explicit``, else ``$CRISIS_JUDGE_DATA_ROOT``, else ``<project>/data/raw``."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(DATA_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return PROJECT_ROOT / "data" / "raw"


def dataset_dir(dataset: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The folder of one data set under the data root; a clear error if it is missing."""
    if dataset not in DATASET_DIRS:
        raise ValueError(f"unknown data set {dataset!r}; valid: {sorted(DATASET_DIRS)}")
    path = data_root(root) / DATASET_DIRS[dataset]
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path} does not exist: clone the {DATASET_DIRS[dataset]} repository there, run "
            f"`python -m analysis fetch`, or point --data-root / ${DATA_ROOT_ENV} at a folder holding it"
        )
    return path
