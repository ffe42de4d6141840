"""``python -m analysis fetch``: download the Hugging Face export and clone the source
repositories of the built-in studies into the data root (needs internet and git; never
run in CI). The work is :func:`analysis.data.fetch.fetch`; the repositories come from the
study registry."""

from __future__ import annotations

import argparse
import sys

from analysis.cli.args import ROOT_HELP

WHAT = ("hf", "repos")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis fetch",
                                description="Download the data sets into the data root (needs internet).")
    p.add_argument("--data-root", default=None, help=ROOT_HELP)
    p.add_argument("--what", nargs="+", choices=WHAT, default=list(WHAT),
                   help="hf: the Hugging Face export of Between Help and Harm; repos: clone the source "
                        "repositories (default: both)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from analysis.data.fetch import fetch
    from analysis.data.paths import data_root
    from analysis.studies.registry import repositories

    for message in fetch(data_root(a.data_root), repositories(), what=tuple(a.what)):
        print(message)
    return 0
