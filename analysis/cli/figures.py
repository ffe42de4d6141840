"""``python -m analysis figures``: the paper set of figures and LaTeX tables, without Jupyter
(what is written: :mod:`analysis.reporting.paper`)."""

from __future__ import annotations

from analysis.cli import args as arg_types

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = arg_types.Parser(prog="python -m analysis figures",
                                     description="The paper set of figures and tables, without Jupyter.")
    parser.add_argument("--study", required=True, metavar="STUDY",
                        help="a built-in study, a study file (.toml), or 'all' (every real study and the synthesis)")
    parser.add_argument("--data-root", default=None, help="data root of the real data sets")
    parser.add_argument("--out", default=None, help="output folder (default: figures/<study>/paper)")
    parser.add_argument("--format", default="pdf,svg,png",
                        help="comma-separated formats among pdf, svg, png (default: all three)")
    parser.add_argument("--n-boot", type=arg_types.n_boot, default=2000, help="bootstrap resamples per interval (default: 2000)")
    parser.add_argument("--seed", type=arg_types.seed, default=20261124, help="seed of every resample (default: 20261124)")
    return parser


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from analysis.reporting.paper import FORMATS, paper_set

    formats = tuple(f.strip() for f in a.format.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--format: unknown format(s) {bad}; choose among {', '.join(FORMATS)}")
    if a.out is not None:
        from analysis.cli.args import check_out_dir

        check_out_dir(a.out)
    files = paper_set(a.study, data_root=a.data_root, out=a.out, formats=formats, n_boot=a.n_boot, seed=a.seed)
    for f in files:
        print(f)
    print(f"{len(files)} files written", file=sys.stderr)
    return 0
