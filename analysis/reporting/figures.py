"""One seaborn theme for every figure, and deterministic, atomic figure files.

Every figure is written as PDF, SVG and PNG (300 dpi). Metadata that would change from
run to run (creation dates, SVG element ids) is fixed, so the same inputs and seed give
byte-identical files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    # Scripts and the CLI have no display. In a Jupyter kernel (JupyterLab, papermill) the
    # kernel's inline backend stays, so `plt.show()` puts each figure into the notebook
    # and its HTML; the files written by save_figure are the same bytes either way.
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

FORMATS = ("pdf", "svg", "png")
DPI = 300

_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    "svg": {"Date": None, "Creator": None},
    "png": {"Software": None},
}


def set_theme() -> None:
    """The project's single plotting theme (seaborn ``whitegrid``, colourblind palette)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    # Fixed salt: SVG element ids are otherwise random per run.
    plt.rcParams["svg.hashsalt"] = "crisis-judge-analysis"
    plt.rcParams["pdf.fonttype"] = 42  # editable text in papers' figure editors


def save_figure(fig: plt.Figure, name: str, figures_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``fig`` as ``<figures_dir>/<name>.{pdf,svg,png}`` atomically; return the paths."""
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        final = out / f"{name}.{fmt}"
        tmp = out / f".{name}.{fmt}.tmp"
        fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches="tight", metadata=_METADATA[fmt])
        os.replace(tmp, final)
        paths.append(final)
    return paths
