"""Shared fixtures. Real-data tests need ../shared/data (present on CI and on the
developers' machines, absent in a user's fresh clone).

* Without ``CI`` in the environment a missing data set skips the tests that need it,
  with a message saying what is absent and how to get it (a user's fresh clone).
* With ``CI=true`` (what CI services set) a missing data set fails those tests with the
  same message, and the run ends with one line saying why: on CI, skipped real-data
  tests would make a green run that checked nothing.
* A test that uses a real-data fixture must carry ``@pytest.mark.real_data`` (or a
  module-level ``pytestmark``); one that does not fails, naming the fixture, so the
  marker (and ``-m "not real_data"``) cannot silently drift from what tests read.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CRISIS_JUDGE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))

REAL_DATA_FIXTURES = frozenset({"shared_data_root", "alttest_dir", "bhh_dir", "mentalalign_dir", "dialoguesafety_dir",
                                "real_data_copy", "authors_pairwise"})
"""Fixtures that read the real data; a test using any of them needs the ``real_data`` marker."""

_missing: set[Path] = set()


def on_ci() -> bool:
    """``CI`` set to a true value (GitHub Actions, GitLab CI and most services set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _require(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        _missing.add(path)
        message = (f"real data not available: {path} is absent (clone the source repositories into "
                   f"../shared/data, or set CRISIS_JUDGE_SHARED_DATA, to run this test)")
        if on_ci():
            pytest.fail(f"CI=true and the {message}", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """The real data root (../shared/data); skips the test when it is absent (fails on CI)."""
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


@pytest.fixture(scope="session")
def alttest_dir() -> Path:
    """The alt-test authors' six annotation studies and their executed example notebook."""
    return _require("alttest")


@pytest.fixture(scope="session")
def real_data_copy(shared_data_root, tmp_path_factory) -> Callable[..., Path]:
    """Factory of hard-linked copies of a real data set: ``real_data_copy("mentalbench-align")``
    returns ``<fresh tmp>/mentalbench-align``, a copy whose files are hard links to the
    shared ones (no disk, milliseconds). Corrupt a file by unlinking it and writing a new
    one (``path.unlink(); path.write_bytes(...)``), never by writing through the link.
    ``ignore`` is passed to :func:`shutil.copytree` (e.g. ``shutil.ignore_patterns("image")``).
    The parent of the returned folder is a data root for the loaders."""

    def make(name: str, *, ignore=None) -> Path:
        src = _require(name)
        dst = tmp_path_factory.mktemp(name.replace("-", "_")) / name
        shutil.copytree(src, dst, copy_function=os.link, ignore=ignore)
        return dst

    return make


@pytest.fixture(scope="session")
def authors_pairwise(bhh_dir) -> dict[str, dict[tuple[str, str], float]]:
    """The Between Help and Harm authors' pairwise agreement tables, parsed once:
    ``{"mae" | "rmse" | "within1": {(rater_a, rater_b): value}}`` (both orders)."""
    out = {}
    for metric in ("mae", "rmse", "within1"):
        path = bhh_dir / "outputs" / "appropriateness_agreement" / f"pairwise_{metric}.csv"
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        out[metric] = {(r[0], c): float(v) for r in rows[1:] for c, v in zip(rows[0][1:], r[1:])}
    return out


_UNMARKED = pytest.StashKey[list]()


_CACHE_ENV = "CRISIS_JUDGE_CACHE_DIR"
_cache_dir: list[str] = []


def pytest_configure(config):
    """The tests' loads go to a parquet cache of their own (removed at the end), never to
    the developer's ``data/processed``: tests load copies of the data sets, and every new
    copy is a new cache entry that would push the developer's entries out (each study
    keeps two)."""
    import tempfile

    _cache_dir.append(tempfile.mkdtemp(prefix="crisis-judge-test-cache-"))
    os.environ[_CACHE_ENV] = _cache_dir[0]


def pytest_unconfigure(config):
    if _cache_dir:
        shutil.rmtree(_cache_dir.pop(), ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = sorted(REAL_DATA_FIXTURES.intersection(getattr(item, "fixturenames", ())))
        if used and item.get_closest_marker("real_data") is None:
            item.stash[_UNMARKED] = used


def pytest_runtest_setup(item):
    # Before any fixture: the check holds whether or not the data are present.
    used = item.stash.get(_UNMARKED, None)
    if used:
        pytest.fail(f"{item.nodeid} uses the real-data fixture(s) {', '.join(used)} but has no "
                    f"@pytest.mark.real_data marker (add it, or a module-level pytestmark)", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _missing:
        where = ", ".join(sorted(str(p) for p in _missing))
        if on_ci():
            terminalreporter.write_line(f"CI=true: real-data tests FAILED because the real data are absent ({where})",
                                        red=True, bold=True)
        else:
            terminalreporter.write_line(f"real-data tests skipped: {where} absent (CI=true would fail them)",
                                        yellow=True)
