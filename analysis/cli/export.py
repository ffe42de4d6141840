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
    attribute for MentalAlign-70k) into ``out_dir``, as its registry entry says
    (``spec.hooks.export``); returns the study files written."""
    from analysis.studies.registry import load_study

    study = load_study(name, data_root=data_root, seed=seed)
    return study.spec.hooks.export(study, Path(out_dir), title=f"{study.spec.title} (exported)")


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
