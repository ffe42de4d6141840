"""Cached loads of the built-in studies: each loader's data object kept as parquet.

Reading the source files of a built-in study is slow (MentalAlign-70k: five xlsx
workbooks, 4-18 s; DialogueSafety: 24,000 JSON files, about 7 s) and a render reads
each study in every notebook's kernel. :func:`cached_load` keeps the loader's data
object (a frozen dataclass of polars frames and plain fields) after the first load and
returns it from there while the sources are unchanged.

Where
    ``<project>/data/processed/<study>/<key>/`` (``data/`` is git-ignored): one parquet
    file per frame of the data object and ``manifest.json`` with its other fields. The
    environment variable :data:`CACHE_DIR_ENV` moves the root (``$CRISIS_JUDGE_CACHE_DIR/
    <study>/<key>/``); :data:`NO_CACHE_ENV` ``=1`` turns caching off. When the package is
    not run from a checkout (no ``pyproject.toml`` beside it) the root is
    ``~/.cache/crisis-judge-analysis/processed``. The data root itself is never
    written to (it may be shared and read-only).

Key
    SHA-256 of: the cache format (:data:`FORMAT`), the package version, the study
    name, the loader's seed, the text of the loader code (every ``analysis/data/*.py``
    and ``analysis/studies/registry.py``), and for every file under the study's data
    folders (its registry entry's ``cache_folders``; ``.git`` left out) its path relative
    to the data root, size and modification time in nanoseconds. Any edit, ``git checkout``,
    ``fetch`` or copy that rewrites a source file changes its mtime or size, so it
    invalidates the entry. Contents are not hashed: that would read the 250 MB of
    sources on every load, which is what the cache avoids. Not detected: a file
    replaced by another of the same size with its mtime set back (``cp -p``,
    ``touch -d``); delete ``data/processed/`` (or set ``CRISIS_JUDGE_NO_CACHE=1``)
    after such a change.

Within a render
    A render checks each study's sources once, at its start: the keys it computed are
    handed to its notebooks' kernels in :data:`KEYS_ENV` (:func:`keys_env`), and
    :func:`cache_key` returns them instead of walking the sources again (DialogueSafety:
    24,000 files, 0.5 s per notebook). Sources edited while a render runs are therefore
    seen by the next render, not by the notebooks of the running one.

Safety
    An entry is written into a temporary folder and renamed into place, so a reader
    never sees half an entry and two processes loading at once (``render --jobs 2``)
    both end with a complete one. A frame whose parquet schema differs from the frame's
    is not cached. An entry that cannot be read is ignored and the sources are read.
    Each study keeps its :data:`KEEP` newest entries.

Examples
--------
>>> import os
>>> from analysis.data.cache import CACHE_DIR_ENV, cache_root
>>> saved = os.environ.pop(CACHE_DIR_ENV, None)  # the tests set one of their own
>>> cache_root().name
'processed'
>>> if saved is not None:
...     os.environ[CACHE_DIR_ENV] = saved
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import polars as pl

from analysis.data.paths import PROJECT_ROOT

FORMAT = 1
"""Version of the on-disk layout; part of the key."""

CACHE_DIR_ENV = "CRISIS_JUDGE_CACHE_DIR"
NO_CACHE_ENV = "CRISIS_JUDGE_NO_CACHE"

KEEP = 2
"""Entries kept per study (e.g. the data as fetched and as edited); older ones are removed."""

MANIFEST = "manifest.json"


Folders = Callable[[Path], Sequence[Path]] | Sequence[Path]
"""The folders a loader reads: a list, or a function of the (resolved) data root giving it
(a built-in study's ``cache_folders`` in its registry entry, from its loader module)."""


def _folders(folders: Folders, root: Path) -> list[Path]:
    return list(folders(root) if callable(folders) else folders)


def cache_root() -> Path:
    """The cache root: ``$CRISIS_JUDGE_CACHE_DIR``, else ``<project>/data/processed``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "data" / "processed"
    return Path.home() / ".cache" / "crisis-judge-analysis" / "processed"


def enabled() -> bool:
    """False when ``$CRISIS_JUDGE_NO_CACHE`` is set to anything but ``""``/``0``."""
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def _code_text() -> bytes:
    package = Path(__file__).resolve().parents[1]
    files = sorted((package / "data").glob("*.py")) + [package / "studies" / "registry.py"]
    return b"".join(f.name.encode() + b"\0" + f.read_bytes() for f in files if f.is_file())


def source_signature(folders: Sequence[Path], root: Path) -> list[tuple[str, int, int]]:
    """``(path relative to root, size, mtime_ns)`` of every file under ``folders``, sorted."""
    out = []
    base = os.path.abspath(root)
    prefix = base.rstrip(os.sep) + os.sep
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        stack = [os.path.abspath(folder)]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for e in entries:
                    if e.is_dir(follow_symlinks=True):
                        if e.name != ".git":
                            stack.append(e.path)
                    elif e.is_file(follow_symlinks=True):
                        st = e.stat()
                        # Under the root (every built-in study's folders), the relative path is
                        # the rest of the normalised path: os.path.relpath's answer without its
                        # cost (DialogueSafety: 24,000 files, 0.7 s of every load).
                        rel = e.path[len(prefix):] if e.path.startswith(prefix) else os.path.relpath(e.path, base)
                        out.append((rel, st.st_size, st.st_mtime_ns))
    return sorted(out)


KEYS_ENV = "CRISIS_JUDGE_CACHE_KEYS"
"""Environment variable holding keys already computed (JSON, by :func:`keys_env`)."""


def _key_id(name: str, root: Path, seed: int | None) -> str:
    return json.dumps([name, str(root), seed])


def keys_env(studies: Sequence[tuple[str, Path | None, Folders | None]], seed: int | None = None) -> dict[str, str]:
    """``{KEYS_ENV: ...}``: the keys of ``studies`` (``(name, data root, folders)``
    triples) as their sources are now, for processes that should not check them again (a
    render's kernels). Studies without a data root or cached folders are left out."""
    keys = {}
    for name, root, folders in studies:
        if folders is not None and root is not None:
            resolved = Path(root).resolve()
            keys[_key_id(name, resolved, seed)] = cache_key(name, resolved, seed, folders=folders, fresh=True)
    return {KEYS_ENV: json.dumps(keys)} if keys else {}


def cache_key(name: str, root: Path, seed: int | None = None, *, folders: Folders | None = None,
              fresh: bool = False) -> str:
    """The key of study ``name`` read from ``folders`` under ``root`` (see the module
    docstring); the one in :data:`KEYS_ENV` if that holds it (unless ``fresh``)."""
    from analysis import __version__

    root = Path(root).resolve()
    known = os.environ.get(KEYS_ENV)
    if known and not fresh:
        key = json.loads(known).get(_key_id(name, root, seed))
        if key:
            return key
    if folders is None:
        raise ValueError(f"cache_key: no folders given for study {name!r} (and no key in ${KEYS_ENV})")
    folders = _folders(folders, root)
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, __version__, name, seed, str(root)]).encode())
    h.update(_code_text())
    for rel, size, mtime in source_signature(folders, root):
        h.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()[:32]


def _encode(value: Any) -> Any:
    """JSON with the Python types kept: tuples, frozensets and dicts are tagged."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"__frozenset__": sorted((_encode(v) for v in value), key=repr)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot cache a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_decode(v) for v in value["__tuple__"])
        if "__frozenset__" in value:
            return frozenset(_decode(v) for v in value["__frozenset__"])
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    return value


def write_entry(folder: Path, data: Any) -> bool:
    """Write ``data`` (a dataclass of frames and plain fields) into the new ``folder``.

    Returns False, writing nothing, when ``data`` cannot be cached faithfully (not a
    dataclass, a field that is neither a frame nor plain data, a frame whose parquet
    schema would differ).
    """
    if not dataclasses.is_dataclass(data) or isinstance(data, type):
        return False
    cls = type(data)
    fields: dict[str, Any] = {}
    frames: dict[str, pl.DataFrame] = {}
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if isinstance(value, pl.DataFrame):
            frames[f.name] = value
            fields[f.name] = {"frame": f"{f.name}.parquet"}
        else:
            try:
                fields[f.name] = {"value": _encode(value)}
            except TypeError:
                return False
    folder.mkdir(parents=True)
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        frame.write_parquet(path, compression="lz4", statistics=False)
        if dict(pl.read_parquet_schema(path)) != dict(frame.schema):
            return False
    manifest = {"class": f"{cls.__module__}:{cls.__qualname__}", "fields": fields, "format": FORMAT}
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return True


def read_entry(folder: Path) -> Any:
    """The data object of a complete entry (raises if it cannot be rebuilt)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"cache format {manifest.get('format')} is not {FORMAT}")
    module, qualname = manifest["class"].split(":")
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    kwargs = {name: pl.read_parquet(folder / spec["frame"]) if "frame" in spec else _decode(spec["value"])
              for name, spec in manifest["fields"].items()}
    return cls(**kwargs)


def _prune(study_dir: Path, keep: str) -> None:
    entries = [p for p in study_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != keep]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in study_dir.glob(".tmp-*"):  # left by an interrupted writer more than an hour ago
        try:
            if time.time() - tmp.stat().st_mtime > 3600:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass


def cached_load(name: str, root: Path | None, load: Callable[[Path | None], Any], *, seed: int | None = None,
                folders: Folders | None = None) -> Any:
    """``load(root)``, from the cache when study ``name``'s sources are unchanged.

    Parameters
    ----------
    name : str
        Study name (the cache's folder for it, and part of the key).
    root : Path or None
        The data root; ``None`` (generated or user studies) loads without a cache.
    load : callable
        The loader, ``load(root)``; its result is cached if it is a dataclass of polars
        frames and plain fields.
    seed : int, optional
        The loader's seed (part of the key).
    folders : sequence of Path, or a function of the data root giving them, optional
        The folders the loader reads (a built-in study's ``cache_folders``); without
        them the study is loaded without a cache.

    Returns
    -------
    The data object: the same fields, frames equal (dtypes included) to a fresh load.
    """
    if root is None or not enabled() or folders is None:
        return load(root)
    try:
        key = cache_key(name, Path(root), seed, folders=folders)
        study_dir = cache_root() / name
        entry = study_dir / key
    except OSError:
        return load(root)
    if (entry / MANIFEST).is_file():
        try:
            return read_entry(entry)
        except Exception as exc:  # a damaged entry: read the sources, replace it
            print(f"cache: ignoring unreadable {entry}: {exc}", file=sys.stderr)
            shutil.rmtree(entry, ignore_errors=True)
    data = load(root)
    tmp = study_dir / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
        if write_entry(tmp, data):
            try:
                os.rename(tmp, entry)
            except OSError:  # another process published the same entry first
                pass
            _prune(study_dir, key)
    except OSError as exc:  # read-only or full disk: the load still succeeds
        print(f"cache: not written ({exc})", file=sys.stderr)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return data


def clear(name: str | None = None) -> None:
    """Remove the cache of study ``name`` (every study when ``None``)."""
    target = cache_root() if name is None else cache_root() / name
    shutil.rmtree(target, ignore_errors=True)


__all__ = ["cached_load", "cache_key", "cache_root", "clear", "enabled", "read_entry", "source_signature",
           "write_entry", "CACHE_DIR_ENV", "NO_CACHE_ENV"]
