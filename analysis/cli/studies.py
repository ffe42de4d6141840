"""``python -m analysis studies``: the built-in studies as a markdown table (the README's
table, from the study registry)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="python -m analysis studies",
                                   description="The built-in studies, as a markdown table (from the study registry).")


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from analysis.studies.registry import studies_markdown

    print(studies_markdown())
    return 0
