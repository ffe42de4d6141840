"""Shared fixtures. Real-data tests need ../shared/data (present on CI and on the
developers' machines, absent in a user's fresh clone): they skip with a message
saying so, and run when it is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CRISIS_JUDGE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def _require(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        pytest.skip(f"real data not available: {path} is absent (clone the source repositories "
                    f"into ../shared/data, or set CRISIS_JUDGE_SHARED_DATA, to run this test)")
    return path


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """The real data root (../shared/data); skips the test when it is absent."""
    _require("")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bhh_dir() -> Path:
    return _require("between-help-and-harm")


@pytest.fixture(scope="session")
def mentalalign_dir() -> Path:
    return _require("mentalbench-align")


@pytest.fixture(scope="session")
def dialoguesafety_dir() -> Path:
    return _require("dialogue-safety")
