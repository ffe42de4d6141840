"""``python -m analysis export`` and ``validate``: a study as a tidy ratings file plus a
study file, and the checks a study file gets before anything is rendered.

Exporting a built-in study and rendering the export gives the same tables as the
built-in study (tests/test_user_study.py): the export is the worked example of the
format in :mod:`analysis.data.tidy`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.data.tidy import tidy_from_ratings, validate, write_study
from analysis.studies.registry import get_study, load_study


def export_study(name: str, out_dir: str | Path, *, data_root=None, seed: int = 20261124) -> list[Path]:
    """Write the study ``name`` as ``ratings.csv`` + ``study.toml`` (one study file per
    attribute for MentalAlign-70k) into ``out_dir``; returns the study files written."""
    spec = get_study(name)
    study = load_study(name, data_root=data_root, seed=seed)
    data = study.data
    out = Path(out_dir)
    title = f"{spec.title} (exported)"
    if spec.name == "dialoguesafety":
        labels = spec.scale.labels
        pred = data.predictions.filter(pl.col("predicted") >= 0)
        gold = data.items.select(pl.col("item").cast(pl.String).alias("item"), pl.lit("gold").alias("rater"),
                                 pl.col("gold_category").alias("score"), pl.lit(1).alias("run"))
        systems = pred.select(pl.col("item").cast(pl.String).alias("item"), pl.col("system").alias("rater"),
                              pl.col("predicted").map_elements(lambda i: labels[i], return_dtype=pl.String)
                              .alias("score"), pl.col("run"))
        tidy = pl.concat([gold, systems]).sort("item", "rater", "run")
        return [write_study(tidy, out, name=f"{spec.name}-export", title=title, references=("gold",),
                            labels=labels)]
    if spec.name == "mentalalign":
        ratings = data.ratings
        tidy = ratings.select(pl.col("response_id").alias("item"), "rater", "score", pl.col("item_id").alias("cluster"),
                              pl.col("answer_model").alias("source"), "attribute").sort("attribute", "item", "rater")
        files = []
        for attribute in tidy["attribute"].unique().sort().to_list():
            sub = out / attribute
            files.append(write_study(tidy.filter(pl.col("attribute") == attribute), sub,
                                     name=f"{spec.name}-{attribute.lower()}", title=f"{title}: {attribute}",
                                     references=spec.references, scale=(1, 5), integer=True))
        return files
    tidy = tidy_from_ratings(data.ratings)
    return [write_study(tidy, out, name=f"{spec.name}-export", title=title, references=spec.references,
                        scale=(int(spec.scale.low), int(spec.scale.high)), integer=spec.scale.integer,
                        jury=study.jury, own_source=study.own_answer_model)]


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
            absent = [c for c in ("run", "category", "cluster", "source") if c not in data.present]
            if absent:
                print(f"columns absent (their analyses are skipped): {', '.join(absent)}")
    return 2 if data is None else 0
