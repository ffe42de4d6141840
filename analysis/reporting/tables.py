"""Writing result tables: atomic, deterministic CSV files (and atomic text files)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary name beside it, so a reader
    never sees half a file; the folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_table(frame: pl.DataFrame, name: str, tables_dir) -> Path:
    """Write ``<tables_dir>/<name>.csv`` atomically (a reader never sees half a table).

    Floats are written with 10 significant decimals so that the same data and seed give
    byte-identical files across runs.
    """
    out = Path(tables_dir)
    out.mkdir(parents=True, exist_ok=True)
    final, tmp = out / f"{name}.csv", out / f".{name}.csv.tmp"
    frame.write_csv(tmp, float_precision=10)
    tmp.replace(final)
    return final


def write_tables(tables: dict[str, pl.DataFrame], tables_dir) -> list[Path]:
    """:func:`write_table` for every ``name -> frame`` of ``tables``, in order; the paths."""
    return [write_table(frame, name, tables_dir) for name, frame in tables.items()]
