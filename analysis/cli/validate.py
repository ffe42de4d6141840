"""``python -m analysis validate``: the checks a study file (.toml) and its ratings get
before anything is rendered; every problem with its row or key, then the audit."""

from __future__ import annotations

from analysis.cli import args as arg_types

import argparse
import re
import sys
from pathlib import Path


EXCLUSION = re.compile(r"^(?P<file>.*?) (?P<where>(?:parquet )?row) (?P<row>\d+): (?P<why>.*?) \((?P<value>.*)\), excluded$")
FIRST_ROWS = 5
"""Rows named per group of repeated exclusions (every row: ``python -m analysis audit``)."""


def group_exclusions(problems) -> list[str]:
    """The exclusions among ``problems`` (``"..., excluded"``), one line per file and reason:
    a reason met once keeps its own line (row and value); a repeated one gives its count
    and the first :data:`FIRST_ROWS` rows with their values. Lines not in the exclusion
    format are kept as they are."""
    groups: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    lines = []
    for p in problems:
        if not p.endswith(", excluded"):
            continue
        m = EXCLUSION.match(p)
        if m is None:
            lines.append(p.removesuffix(", excluded"))
            continue
        key = (m["file"], m["where"], m["why"])
        if key not in groups:
            groups[key] = []
            lines.append(key)
        groups[key].append((m["row"], m["value"]))
    out = []
    for line in lines:
        if isinstance(line, str):
            out.append(line)
            continue
        file, where, why = line
        rows = groups[line]
        if len(rows) == 1:
            out.append(f"{file} {where} {rows[0][0]}: {why} ({rows[0][1]})")
            continue
        first = ", ".join(f"{r} ({v})" for r, v in rows[:FIRST_ROWS])
        more = f", ... (first {FIRST_ROWS}; every row: python -m analysis audit)" if len(rows) > FIRST_ROWS else ""
        out.append(f"{len(rows)} ratings of {file}: {why}: {where}s {first}{more}")
    return out


def print_validation(path: str | Path) -> int:
    """Print a summary of a study file first (errors, exclusions, ratings used, raters),
    then every error (row or key named) and the exclusions grouped by reason
    (:func:`group_exclusions`), then the audit; 0 when it can be analysed, 2 when it cannot."""
    import polars as pl

    from analysis.data.ratings import audit_summary
    from analysis.data.tidy import validate

    problems, data = validate(path)
    errors = [p for p in problems if not p.endswith(", excluded")]
    excluded = len(problems) - len(errors)
    summary = f"{path}: {len(errors)} error(s), {excluded} rating(s) excluded"
    if data is not None:
        used = int(data.audit.filter(pl.col("status") == "used")["n_records"].sum()) \
            if "n_records" in data.audit.columns else int((data.audit["status"] == "used").sum())
        summary += (f", {used} used; references: {', '.join(data.study.references)}; "
                    f"evaluators: {', '.join(data.evaluators)}")
    else:
        summary += "; it cannot be analysed until the errors are fixed"
    print(summary)
    for p in errors:
        print(f"  error: {p}")
    for line in group_exclusions(problems):
        print(f"  excluded: {line}")
    for note in (data.notes if data is not None else ()):
        print(f"  note: {note}")
    if data is not None:
        with pl.Config(tbl_rows=200, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                       fmt_str_lengths=200, tbl_width_chars=200):
            print("\nAudit (records per file, status and reason):")
            print(audit_summary(data.audit))
            print(f"\nreferences: {', '.join(data.study.references)}; evaluators: {', '.join(data.evaluators)}"
                  + (f"; jury: {', '.join(data.study.jury)}" if data.study.jury else ""))
            if len(data.attributes) > 1:
                print(f"attributes: {', '.join(data.attributes)} (each analysed on its own, beside a judge x "
                      f"attribute overview; select one as {path}#{data.attributes[0]})")
            for r, own in data.study.scales.items():
                print(f"rater {r}: own scale {own.describe()} onto {data.study.low:g}–{data.study.high:g}")
            absent = [c for c in ("run", "category", "cluster", "source") if c not in data.present]
            if absent:
                print(f"columns absent (their analyses are skipped): {', '.join(absent)}")
    return 2 if data is None else 0


def build_parser() -> argparse.ArgumentParser:
    p = arg_types.Parser(prog="python -m analysis validate",
                                description="Check a study file and its ratings; print every problem and the audit.")
    p.add_argument("--study", required=True, metavar="FILE", help="the study file (.toml)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return print_validation(a.study)
