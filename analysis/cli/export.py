"""``python -m analysis export`` and ``validate``: a study as a tidy ratings file plus a
study file, and the checks a study file gets before anything is rendered.

Exporting a built-in study and rendering the export gives the same tables as the
built-in study (tests/test_user_study.py): the export is the worked example of the
format in :mod:`analysis.data.tidy`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.data.tidy import validate
from analysis.studies.registry import load_study


def export_study(name: str, out_dir: str | Path, *, data_root=None, seed: int = 20261124) -> list[Path]:
    """Write the study ``name`` as ``ratings.csv`` + ``study.toml`` (in the shape it has:
    several attributes as one multi-attribute study) into ``out_dir``, as its registry entry says
    (``spec.hooks.export``); returns the study files written."""
    study = load_study(name, data_root=data_root, seed=seed)
    return study.spec.hooks.export(study, Path(out_dir), title=f"{study.spec.title} (exported)")


def print_validation(path: str | Path) -> int:
    """Print every problem of a study file (row or key named), then its audit; 0 when it
    can be analysed, 2 when it cannot."""
    from analysis.data.ratings import audit_summary

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
            if len(data.attributes) > 1:
                print(f"attributes: {', '.join(data.attributes)} (each analysed on its own, beside a judge x "
                      f"attribute overview; select one as {path}#{data.attributes[0]})")
            for r, own in data.study.scales.items():
                print(f"rater {r}: own scale {own.describe()} onto {data.study.low:g}–{data.study.high:g}")
            absent = [c for c in ("run", "category", "cluster", "source") if c not in data.present]
            if absent:
                print(f"columns absent (their analyses are skipped): {', '.join(absent)}")
    return 2 if data is None else 0
