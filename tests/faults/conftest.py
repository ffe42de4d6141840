"""Shared corrupted-copy machinery of the fault suite.

Every case corrupts a *copy* of the data in a temporary folder and asserts one exact
outcome. Copies of the real data are hard links (fast, no disk): a file is corrupted by
unlinking it and writing a new one (:func:`replace`), never by writing through the link.
:func:`snapshot` records every file of a folder (size, mtime, inode and, for files up to
2 MB, a SHA-256) so that a case can assert its inputs are unchanged by the load, and the
session checks that the shared data are untouched at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("CRISIS_JUDGE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))

SMALL = 2_000_000


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file under ``folder``: (size, mtime_ns, inode, sha256 of files <= 2 MB)."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file():
            st = p.stat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if st.st_size <= SMALL else None
            out[p.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns, st.st_ino, digest)
    return out


def replace(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` as a new file (a hard link is unlinked first)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def edit_json(path: Path, fn) -> None:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    fn(data)
    replace(path, json.dumps(data, ensure_ascii=False))


def linked_copy(src: Path, dst: Path, ignore=None) -> Path:
    shutil.copytree(src, dst, copy_function=os.link, ignore=ignore)
    return dst


@pytest.fixture(scope="session", autouse=True)
def shared_data_untouched():
    """The shared data after the suite are what they were before it (no write went
    through a hard link)."""
    if not SHARED_DATA.is_dir():
        yield
        return
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in SHARED_DATA.rglob("*") if p.is_file()}
    yield
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in SHARED_DATA.rglob("*") if p.is_file()}
    assert after == before, "the fault suite changed the shared data"
