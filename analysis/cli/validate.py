"""``python -m analysis validate``: the checks a study file (.toml) and its ratings get
before anything is rendered; every problem with its row or key, then the audit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def print_validation(path: str | Path) -> int:
    """Print every problem of a study file (row or key named), then its audit; 0 when it
    can be analysed, 2 when it cannot."""
    import polars as pl

    from analysis.data.ratings import audit_summary
    from analysis.data.tidy import validate

    problems, data = validate(path)
    errors = [p for p in problems if not p.endswith(", excluded")]
    print(f"{path}: {len(errors)} error(s), {len(problems) - len(errors)} rating(s) excluded")
    for p in problems:
        print(f"  {'excluded' if p.endswith(', excluded') else 'error'}: {p.removesuffix(', excluded')}")
    if data is not None:
        with pl.Config(tbl_rows=200, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                       fmt_str_lengths=200, tbl_width_chars=200):
            print("\nAudit (records per file, status and reason):")
            print(audit_summary(data.audit))
            print(f"\nreferences: {', '.join(data.study.references)}; evaluators: {', '.join(data.evaluators)}"
                  + (f"; jury: {', '.join(data.study.jury)}" if data.study.jury else ""))
            absent = [c for c in ("run", "category", "cluster", "source") if c not in data.present]
            if absent:
                print(f"columns absent (their analyses are skipped): {', '.join(absent)}")
    return 2 if data is None else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis validate",
                                description="Check a study file and its ratings; print every problem and the audit.")
    p.add_argument("--study", required=True, metavar="FILE", help="the study file (.toml)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return print_validation(a.study)
