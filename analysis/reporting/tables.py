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
    _WRITTEN.append((frame, f"{out.name}/{name}.csv"))
    del _WRITTEN[:-WRITTEN_KEPT]
    return final


WRITTEN_KEPT = 100
_WRITTEN: list[tuple[pl.DataFrame, str]] = []
"""The last tables written in this process, with their files (``tables/<name>.csv``)."""


def written_as(frame: pl.DataFrame) -> str | None:
    """The file (``tables/<name>.csv``, relative to the report) that holds every row of
    ``frame``: the last table written that is ``frame``, or of which ``frame`` is a choice
    of columns with the same rows; ``None`` when no such table was written here."""
    for written, path in reversed(_WRITTEN):
        if written is frame:
            return path
    for written, path in reversed(_WRITTEN):
        if (written.height == frame.height and set(frame.columns) <= set(written.columns)
                and written.select(frame.columns).equals(frame)):
            return path
    return None


def write_tables(tables: dict[str, pl.DataFrame], tables_dir) -> list[Path]:
    """:func:`write_table` for every ``name -> frame`` of ``tables``, in order; the paths."""
    return [write_table(frame, name, tables_dir) for name, frame in tables.items()]


def bland_altman_table(ba, *, unit: str = "points") -> pl.DataFrame:
    """A :class:`analysis.stats.bias.BlandAltman` as a table to show and write: one row each
    for the bias and the two 95 % limits of agreement, the value in ``unit`` with its
    interval, and the number of pairs ``n``."""
    return pl.DataFrame({
        "quantity": [f"bias ({ba.sign})", "lower limit of agreement (bias − 1.96 SD)",
                     "upper limit of agreement (bias + 1.96 SD)"],
        unit: [ba.estimate, ba.loa_lower, ba.loa_upper],
        "ci_low": [ba.ci_low, ba.loa_lower_ci_low, ba.loa_upper_ci_low],
        "ci_high": [ba.ci_high, ba.loa_lower_ci_high, ba.loa_upper_ci_high],
        "n": [ba.n] * 3,
    })

