"""``python -m analysis import --from TOOL FILE... --out DIR``: judge and annotation files
from Inspect AI, promptfoo, Label Studio or a wide table, as a study (tidy ``ratings.csv``,
a ``study.toml`` to edit, and ``import_audit.csv`` with one row per source record).

Import the judges and the humans into one folder (``--append`` for the second tool), name
the references, then ``validate`` and ``render`` the study as usual::

    python -m analysis import --from labelstudio export.json --out my-study --name crisis
    python -m analysis import --from inspect logs/*.eval --out my-study --append
    python -m analysis validate --study my-study/study.toml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TOOLS = ("inspect", "promptfoo", "labelstudio", "wide")
HUMAN_TOOLS = ("labelstudio",)
"""Tools whose raters are people: their raters become the study's references by default."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis import", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="tool", required=True, choices=TOOLS, help="the tool that wrote the files")
    p.add_argument("files", nargs="+", help="the files to import (Inspect .eval/.json logs, promptfoo results.json, "
                                            "Label Studio JSON exports, or CSV tables with one column per rater)")
    p.add_argument("--out", required=True, help="the study folder to write (ratings.csv, study.toml, import_audit.csv)")
    p.add_argument("--append", action="store_true",
                   help="add to the ratings already in --out (e.g. the judges after the humans)")
    p.add_argument("--name", help="the study's name (default: the --out folder's name)")
    p.add_argument("--references", nargs="+", metavar="RATER",
                   help="the human or gold raters (default: the raters of Label Studio imports)")
    p.add_argument("--rater", help="inspect: the rater name (default: the evaluated model's name)")
    p.add_argument("--promptfoo-value", choices=("score", "pass"), default="score",
                   help="promptfoo: import each assertion's score (0-1) or its pass/fail verdict")
    p.add_argument("--item-field", help="promptfoo variable / Label Studio data field / wide column naming the item")
    return p


def _study_toml(name: str, ratings, references: list[str], guess: dict) -> str:
    import json

    def q(s):
        return json.dumps(str(s), ensure_ascii=False)

    attrs = sorted(a for a in ratings["attribute"].unique().to_list() if a is not None)
    lines = [f"name = {q(name)}", 'ratings = "ratings.csv"']
    if "labels" in guess:
        lines.append(f"labels = [{', '.join(q(x) for x in guess['labels'])}]")
    else:
        lines.append(f"scale = [{guess['scale'][0]}, {guess['scale'][1]}]   # the range found in the data: widen it "
                     f"to the rubric's")
        lines.append(f"integer = {'true' if guess['integer'] else 'false'}")
    if references:
        lines.append(f"references = [{', '.join(q(r) for r in references)}]")
    else:
        raters = sorted(ratings["rater"].unique().to_list())
        lines.append(f"# name the human or gold raters among: {', '.join(raters)}")
        lines.append("references = []")
    if len(attrs) > 1:
        lines.append(f"# attributes in the data: {', '.join(attrs)}; a study analyses one at a time")
        lines.append(f"attribute = {q(attrs[0])}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import polars as pl

    from analysis.data.importers import READERS, scale_guess
    from analysis.data.ratings import DataError
    from analysis.data.tidy import _safe

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"error: --out {out} is a file, not a folder", file=sys.stderr)
        return 2
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"error: {missing[0]}: file not found" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
              file=sys.stderr)
        return 2
    ratings_path, audit_path, study_path = out / "ratings.csv", out / "import_audit.csv", out / "study.toml"
    if ratings_path.exists() and not args.append:
        print(f"error: {ratings_path} exists; add --append to add to it, or choose another --out", file=sys.stderr)
        return 2
    name = args.name or out.resolve().name
    if not _safe(name):
        print(f"error: --name {name!r} is not a safe name (letters, digits, _ . + @ -)", file=sys.stderr)
        return 2
    kwargs = {"inspect": {"rater": args.rater}, "promptfoo": {"value": args.promptfoo_value,
                                                              "item_var": args.item_field},
              "labelstudio": {"item_field": args.item_field}, "wide": {"item_column": args.item_field or "item"}}
    try:
        imported = READERS[args.tool](args.files, **kwargs[args.tool])
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    new_raters = sorted(imported.ratings["rater"].unique().to_list())
    audit = imported.audit.with_columns(pl.lit(args.tool).alias("tool"))
    ratings = imported.ratings
    references = list(args.references or [])
    if args.append and ratings_path.exists():
        before = pl.read_csv(ratings_path, schema_overrides={c: pl.String for c in ("item", "rater", "score")},
                             infer_schema=False).with_columns(pl.col("run").cast(pl.Int64))
        clash = sorted(set(before["rater"].unique().to_list()) & set(new_raters))
        if clash:
            print(f"error: raters {', '.join(clash)} are already in {ratings_path}; import each rater once",
                  file=sys.stderr)
            return 2
        before = before.with_columns([pl.lit(None, pl.String).alias(c) for c in ratings.columns
                                      if c not in before.columns])
        ratings = pl.concat([before.select(ratings.columns).cast(ratings.schema), ratings])
        if audit_path.exists():
            audit = pl.concat([pl.read_csv(audit_path, infer_schema=False), audit.cast(pl.String)])
        if not references and study_path.exists():
            import tomllib

            try:
                references = list(tomllib.loads(study_path.read_text(encoding="utf-8")).get("references", []))
            except tomllib.TOMLDecodeError:
                references = []
    if not references and args.tool in HUMAN_TOOLS:
        references = new_raters
    unknown = [r for r in references if r not in set(ratings["rater"].to_list())]
    if unknown:
        print(f"error: --references {', '.join(unknown)}: no such rater (raters: "
              f"{', '.join(sorted(set(ratings['rater'].to_list())))})", file=sys.stderr)
        return 2
    if ratings.height == 0:
        print(f"error: no rating in {len(args.files)} file(s); every record was excluded:", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    keep = [c for c in ratings.columns if c in ("item", "rater", "score", "run", "attribute")
            or ratings[c].drop_nulls().len() > 0]
    ratings.select(keep).write_csv(ratings_path)
    audit.cast(pl.String).write_csv(audit_path)
    study_path.write_text(_study_toml(name, ratings, references, scale_guess(ratings["score"])), encoding="utf-8")

    used, excluded = imported.counts()["used"], imported.counts()["excluded"]
    print(f"{args.tool}: {len(args.files)} file(s), {used + excluded:,} records: {used:,} ratings used, "
          f"{excluded:,} excluded")
    if excluded:
        reasons = imported.audit.filter(pl.col("status") == "excluded").group_by("reason").len().sort("reason")
        for reason, n in reasons.iter_rows():
            print(f"  excluded: {reason}: {n:,}")
    print(f"raters: {', '.join(new_raters)}")
    print(f"wrote {ratings_path} ({ratings.height:,} ratings), {study_path}, {audit_path}")
    if not references:
        print(f"next: name the references in {study_path}, then python -m analysis validate --study {study_path}")
    else:
        print(f"next: python -m analysis validate --study {study_path}")
    return 0 if ratings.height else 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
