"""``python -m analysis audit``: every input record of a study, and what became of it.

``python -m analysis audit --study NAME|FILE [--data-root PATH] [--out FILE.csv]`` loads
a built-in study (from the data root) or a user study file, then

* prints the counts per file, status and reason, with whole file names; files whose
  records were all used as read are counted per folder, every other file is listed;
* with ``--out``, writes every record as CSV: ``source_file, record, rater, status,
  reason, detail`` (one row per record read, one per file ignored).

Statuses: ``used`` (reason null, or the rule it was used by, e.g. "off-scale kept
(authors' choice)"), ``excluded`` (with the reason), ``ignored`` (a file in a folder the
loader reads that is not part of the study). A record that can be neither used nor
excluded safely stops the load with an error naming the file and record (exit status 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.cli.args import ROOT_HELP, STUDY_HELP, check_arguments

if TYPE_CHECKING:
    import polars as pl

COLUMNS = ("source_file", "record", "rater", "status", "reason", "detail")


def study_audit(study: str, *, data_root=None) -> pl.DataFrame:
    """The audit of ``study`` (a built-in name or a study file), checked arguments first."""
    from analysis.studies.registry import load_study

    check_arguments([study], None, data_root=data_root, jobs=1, n_boot=1)
    loaded = load_study(study, data_root=data_root)
    return loaded.data.audit


def format_counts(audit: pl.DataFrame) -> list[str]:
    """Lines: totals per status and reason, then per file (whole names). Files whose
    every record was used as read are summed per folder; other files are listed one by one
    with their counts per status and reason."""
    import polars as pl

    from analysis.data.ratings import STATUSES

    lines = []
    n_files = audit["source_file"].n_unique()
    lines.append(f"{audit.height} records in {n_files} files")
    totals = (audit.group_by("status", "reason").agg(pl.len().alias("n"), pl.col("source_file").n_unique()
                                                     .alias("files"))
              .with_columns(pl.col("status").replace_strict({s: i for i, s in enumerate(STATUSES)}, default=9)
                            .alias("_o")).sort("_o", "reason", nulls_last=False))
    for status, reason, n, files, _ in totals.iter_rows():
        lines.append(f"  {n:>8}  {status:<8}  {reason or '-'}  ({files} files)")
    per_file = audit.group_by("source_file", "status", "reason").agg(pl.len().alias("n"))
    plain = (per_file.group_by("source_file").agg(
        ((pl.col("status") == "used") & pl.col("reason").is_null()).all().alias("plain"), pl.col("n").sum()))
    plain_files = plain.filter(pl.col("plain"))
    if plain_files.height:
        lines.append("")
        lines.append("files whose records were all used as read, per folder:")
        folders = plain_files.with_columns(pl.col("source_file").map_elements(
            lambda f: f.rsplit("/", 1)[0] + "/" if "/" in f else "./", return_dtype=pl.String).alias("folder"))
        for folder, files, n in (folders.group_by("folder").agg(pl.len().alias("files"), pl.col("n").sum())
                                 .sort("folder").iter_rows()):
            lines.append(f"  {n:>8}  used  in {files} files under {folder}")
    others = per_file.join(plain_files.select("source_file"), on="source_file", how="anti")
    if others.height:
        lines.append("")
        lines.append("every other file, by status and reason:")
        order = {s: i for i, s in enumerate(STATUSES)}
        for (name,), group in others.sort("source_file").group_by("source_file", maintain_order=True):
            lines.append(f"{name}")
            for _, status, reason, n in sorted(group.iter_rows(), key=lambda r: (order.get(r[1], 9), r[2] or "")):
                lines.append(f"  {n:>8}  {status:<8}  {reason or '-'}")
    return lines


def write_records(audit: pl.DataFrame, out: str | os.PathLike[str]) -> Path:
    """Every record as CSV (:data:`COLUMNS`), written atomically."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    audit.select(list(COLUMNS)).write_csv(tmp)
    os.replace(tmp, path)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis audit", description=__doc__.splitlines()[0])
    parser.add_argument("--study", "--dataset", dest="study", required=True, metavar="STUDY",
                        help=f"study: {STUDY_HELP}")
    parser.add_argument("--data-root", default=None, help=ROOT_HELP)
    parser.add_argument("--out", default=None, metavar="FILE.csv", help="write every record to this CSV file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print the counts (and write the records); 0 on success. Bad arguments and data that
    cannot be read raise ValueError / FileNotFoundError (one line; the CLI exits with 2)."""
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if a.out is not None and Path(a.out).suffix.lower() != ".csv":
        raise ValueError(f"--out must name a .csv file, got {a.out!r}")
    from analysis.studies.registry import get_study

    audit = study_audit(a.study, data_root=a.data_root)
    print(f"# audit of {get_study(a.study).name}")
    print("\n".join(format_counts(audit)))
    if a.out:
        print(f"\n{audit.height} records written to {write_records(audit, a.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
