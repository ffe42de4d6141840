"""``python -m analysis figures``: the paper set of figures and LaTeX tables, without Jupyter
(what is written: :mod:`analysis.reporting.paper`)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis figures",
                                     description="The paper set of figures and tables, without Jupyter.")
    parser.add_argument("--study", required=True, metavar="STUDY",
                        help="a built-in study, a study file (.toml), or 'all' (every real study and the synthesis)")
    parser.add_argument("--data-root", default=None, help="data root of the real data sets")
    parser.add_argument("--out", default=None, help="output folder (default: figures/<study>/paper)")
    parser.add_argument("--format", default="pdf,svg,png",
                        help="comma-separated formats among pdf, svg, png (default: all three)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples per interval (default: 2000)")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of every resample (default: 20261124)")
    return parser


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from analysis.reporting.paper import FORMATS, paper_set

    formats = tuple(f.strip() for f in a.format.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--format: unknown format(s) {bad}; choose among {', '.join(FORMATS)}")
    if a.n_boot < 1:
        raise ValueError("--n-boot must be at least 1")
    files = paper_set(a.study, data_root=a.data_root, out=a.out, formats=formats, n_boot=a.n_boot, seed=a.seed)
    for f in files:
        print(f)
    print(f"{len(files)} files written", file=sys.stderr)
    return 0
