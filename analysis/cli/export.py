"""``python -m analysis export``: a study as a tidy ratings file plus a study file (the
checks a study file gets before anything is rendered: ``validate``, :mod:`analysis.cli.validate`).

Exporting a built-in study and rendering the export gives the same tables as the
built-in study (tests/test_user_study.py): the export is the worked example of the
format in :mod:`analysis.data.tidy`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.cli.args import ROOT_HELP, STUDY_HELP


def export_study(name: str, out_dir: str | Path, *, data_root=None, seed: int = 20261124) -> list[Path]:
    """Write the study ``name`` as ``ratings.csv`` + ``study.toml`` (one study file per
    attribute for MentalAlign-70k) into ``out_dir``; returns the study files written."""
    import polars as pl

    from analysis.data.tidy import tidy_from_ratings, write_study
    from analysis.studies.registry import get_study, load_study

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis export",
                                description="Write a study as a tidy ratings file + study file (the format users "
                                            "bring).")
    p.add_argument("--study", "--dataset", dest="study", required=True, metavar="STUDY",
                   help=f"study to export: {STUDY_HELP}")
    p.add_argument("--out", required=True, help="folder to write ratings.csv and study.toml into")
    p.add_argument("--data-root", default=None, help=ROOT_HELP)
    p.add_argument("--seed", type=int, default=20261124, help="seed of the demo data")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    for path in export_study(a.study, a.out, data_root=a.data_root, seed=a.seed):
        print(f"wrote {path} and {path.parent / 'ratings.csv'}")
    return 0
