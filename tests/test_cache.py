"""The parquet cache of loaded studies (analysis.data.cache): a cached load equals a fresh
one (frames with their dtypes, plain fields with their Python types), a changed source
file, version or seed invalidates it, and anything it cannot keep faithfully is loaded
every time."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest

from analysis.data import cache
from analysis.data.mentalalign import MentalAlignData


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)
    return tmp_path / "cache"


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "root"
    (root / "study" / "sub").mkdir(parents=True)
    (root / "study" / "sub" / "a.json").write_text('{"x": 1}')
    (root / "study" / ".git").mkdir()
    (root / "study" / ".git" / "HEAD").write_text("ref")
    return root


class Loader:
    """Counts its calls; its result depends on the source file, as a real loader's does."""

    def __init__(self, root):
        self.root, self.calls = root, 0

    def __call__(self, root):
        self.calls += 1
        text = (self.root / "study" / "sub" / "a.json").read_text()
        ratings = pl.DataFrame({"response_id": ["r1", "r2", "r3"], "score": [1.0, 4.5, None],
                                "eval_run": pl.Series([1, 2, 1], dtype=pl.Int32), "text": [text, "é", None]})
        audit = pl.DataFrame({"reason": [None, "off"], "n": pl.Series([2, 1], dtype=pl.UInt32)})
        return MentalAlignData(ratings=ratings, audit=audit, keep_off_scale=True, judges=("claude", "o4-mini"))


def _load(loader, root, **kw):
    return cache.cached_load("fake", root, loader, folders=[root / "study"], **kw)


def test_second_load_comes_from_the_cache_and_equals_the_first(source, cache_dir):
    loader = Loader(source)
    first = _load(loader, source)
    second = _load(loader, source)
    assert loader.calls == 1
    assert type(second) is MentalAlignData
    for name in ("ratings", "audit"):
        assert getattr(second, name).schema == getattr(first, name).schema  # dtypes kept (Int32, UInt32, String)
        assert getattr(second, name).equals(getattr(first, name))
    assert second.judges == ("claude", "o4-mini") and isinstance(second.judges, tuple)
    assert second.keep_off_scale is True
    # One entry, published under the key; no temporary folder left behind.
    entries = list((cache_dir / "fake").iterdir())
    assert [e.name for e in entries] == [cache.cache_key("fake", source, None, folders=[source / "study"])]


@pytest.mark.parametrize("change", ["content", "mtime", "new file"])
def test_a_changed_source_file_invalidates_the_entry(source, change):
    loader = Loader(source)
    _load(loader, source)
    f = source / "study" / "sub" / "a.json"
    if change == "content":
        f.write_text('{"x": 22}')
    elif change == "mtime":
        st = f.stat()
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    else:
        (source / "study" / "b.json").write_text("{}")
    again = _load(loader, source)
    assert loader.calls == 2
    assert again.ratings["text"][0] == f.read_text()


def test_files_under_git_are_not_part_of_the_key(source):
    before = cache.cache_key("fake", source, None, folders=[source / "study"])
    (source / "study" / ".git" / "HEAD").write_text("another ref")
    assert cache.cache_key("fake", source, None, folders=[source / "study"]) == before


def test_version_and_seed_are_part_of_the_key(source, monkeypatch):
    import analysis

    key = cache.cache_key("fake", source, 1, folders=[source / "study"])
    assert cache.cache_key("fake", source, 2, folders=[source / "study"]) != key
    monkeypatch.setattr(analysis, "__version__", "999.0")
    assert cache.cache_key("fake", source, 1, folders=[source / "study"]) != key


def test_disabled_by_the_environment(source, cache_dir, monkeypatch):
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    loader = Loader(source)
    _load(loader, source)
    _load(loader, source)
    assert loader.calls == 2 and not cache_dir.exists()


def test_generated_and_user_studies_are_not_cached(cache_dir):
    calls = []
    assert cache.cached_load("demo", None, lambda root: calls.append(root) or "data") == "data"
    assert cache.cached_load("not-a-built-in", cache_dir, lambda root: calls.append(root) or "data") == "data"
    assert len(calls) == 2 and not cache_dir.exists()


@dataclass(frozen=True)
class WithArray:
    values: np.ndarray


def test_an_object_it_cannot_keep_faithfully_is_loaded_every_time(source, cache_dir):
    calls = []

    def load(root):
        calls.append(1)
        return WithArray(np.arange(3))

    _load(load, source)
    out = _load(load, source)
    assert len(calls) == 2 and out.values.tolist() == [0, 1, 2]
    assert not any(p.name != ".tmp" for p in (cache_dir / "fake").iterdir())  # nothing published


def test_a_damaged_entry_is_replaced(source, cache_dir, capsys):
    loader = Loader(source)
    _load(loader, source)
    entry = next((cache_dir / "fake").iterdir())
    (entry / "ratings.parquet").write_bytes(b"not parquet")
    again = _load(loader, source)
    assert loader.calls == 2 and again.ratings.height == 3
    assert "ignoring unreadable" in capsys.readouterr().err
    assert _load(loader, source).ratings.height == 3 and loader.calls == 2  # rewritten, read back


def test_old_entries_are_pruned(source, cache_dir):
    loader = Loader(source)
    f = source / "study" / "sub" / "a.json"
    for i in range(4):
        f.write_text("{" + " " * i + "}")
        _load(loader, source)
    assert len([p for p in (cache_dir / "fake").iterdir() if not p.name.startswith(".")]) == cache.KEEP


@pytest.mark.real_data
def test_cached_mentalalign_equals_the_fresh_load(shared_data_root):
    from analysis.studies.registry import get_study

    spec = get_study("mentalalign")
    fresh = []

    def load(root):
        fresh.append(spec.load(root, 0))
        return fresh[-1]

    cache.cached_load(spec.name, shared_data_root, load, seed=0, folders=spec.cache_folders)
    cached = cache.cached_load(spec.name, shared_data_root, load, seed=0, folders=spec.cache_folders)
    assert len(fresh) == 1
    for name in ("ratings", "audit"):
        assert getattr(cached, name).schema == getattr(fresh[0], name).schema
        assert getattr(cached, name).equals(getattr(fresh[0], name))
    assert cached.judges == fresh[0].judges and cached.keep_off_scale == fresh[0].keep_off_scale


def test_keys_checked_by_a_render_are_not_checked_again_in_its_kernels(source, monkeypatch):
    """render hands its kernels the keys it computed (cache.KEYS_ENV): they use them
    without walking the sources (DialogueSafety: 24,000 files per notebook)."""
    def folders(root):
        return [root / "study"]

    env = cache.keys_env([("fake", source, folders), ("demo-not-cached", None, None)])
    assert list(env) == [cache.KEYS_ENV]
    checked = cache.cache_key("fake", source, folders=folders)
    (source / "study" / "b.json").write_text("{}")  # a source changes while the render runs
    changed = cache.cache_key("fake", source, folders=folders)
    assert changed != checked
    monkeypatch.setenv(cache.KEYS_ENV, env[cache.KEYS_ENV])
    calls = []
    monkeypatch.setattr(cache, "source_signature", lambda *a: calls.append(a) or [])
    assert cache.cache_key("fake", source, folders=folders) == checked and not calls  # the render's key
    assert cache.cache_key("fake", source, seed=3, folders=folders) != checked and calls  # another key: computed
    assert cache.cache_key("fake", source / "study" / "..", folders=folders) == checked  # the same root, spelt otherwise
    with pytest.raises(ValueError, match="no folders given for study 'other'"):
        cache.cache_key("other", source)
