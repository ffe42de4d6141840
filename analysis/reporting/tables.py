"""Writing result tables: atomic, deterministic CSV files."""

from __future__ import annotations

from pathlib import Path

import polars as pl


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
