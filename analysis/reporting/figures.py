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
SCREEN_DPI = 100
"""Pixels per inch of a figure shown in a notebook (matplotlib's default figure dpi)."""

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
    """Write ``fig`` as ``<figures_dir>/<name>.{pdf,svg,png}`` atomically; return the paths.

    In a notebook (a kernel with matplotlib's inline backend) the figure is then shown
    as the PNG just written, at :data:`SCREEN_DPI` on screen, and closed: the inline
    backend would otherwise draw it a fourth time when the cell ends (a quarter of a
    render's figure time), and what the notebook shows is byte for byte the file. A
    ``plt.show()`` after it has nothing left to show.
    """
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    engine = fig.get_layout_engine()
    bbox = "tight"
    try:
        for fmt in FORMATS:
            final = out / f"{name}.{fmt}"
            tmp = out / f".{name}.{fmt}.tmp"
            fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches=bbox, metadata=_METADATA[fmt])
            os.replace(tmp, final)
            paths.append(final)
            if bbox == "tight":
                # The layout and the tight box of the first file are those of all three:
                # "tight" makes matplotlib lay the figure out and draw it once more just to
                # measure it, for every file (a third of the time of writing the files).
                fig.set_layout_engine("none")
                bbox = _tight_box(fig)
    finally:
        fig.set_layout_engine(engine)
    if "inline" in matplotlib.get_backend():
        from IPython.display import Image, display

        png = (out / f"{name}.png").read_bytes()
        width = int.from_bytes(png[16:20], "big")  # IHDR: the image's width in pixels
        display(Image(data=png, format="png", width=round(width * SCREEN_DPI / DPI)))
        plt.close(fig)
    return paths


def _tight_box(fig: plt.Figure):
    """The box ``bbox_inches="tight"`` would cut the figure to (with the default padding),
    measured once on the laid-out figure; ``"tight"`` where the canvas cannot measure."""
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:
        return "tight"
    screen_dpi = fig.dpi
    fig.dpi = DPI  # measured at the PNG's resolution, as the PNG's own "tight" would (text extents are hinted)
    try:
        return fig.get_tightbbox(get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = screen_dpi


RASTERIZE_POINTS = 2000
"""Bland–Altman panels with more points than this draw tied points once (sized by count)
or, when they are not tied, keep their points as an embedded image in PDF and SVG."""
MAX_BUBBLES = 400
BUBBLE_AREA = 120.0
"""Marker area (points²) of a panel's most frequent (mean, difference) pair."""

COLUMN_WIDTH = 3.5
"""Inches: one journal column."""
FULL_WIDTH = 7.0
"""Inches: the full text width."""


def forest_plot(data, *, label: str = "evaluator", measure: str = "measure", xlabel: str = "estimate",
                reference: float | None = None, reference_label: str | None = None,
                width: float = FULL_WIDTH, title: str | None = None) -> plt.Figure:
    """Estimates with their intervals, one row per ``label``, one marker per ``measure``.

    ``data`` is a polars frame with columns ``label``, ``measure``, ``estimate``,
    ``ci_low``, ``ci_high``. ``reference`` draws a vertical line (e.g. the human–human
    ceiling). Colours come from the colour-blind-safe palette of :func:`set_theme`.
    """
    labels = list(dict.fromkeys(data[label].to_list()))
    measures = list(dict.fromkeys(data[measure].to_list()))
    height = max(1.6, 0.32 * len(labels) * max(1, len(measures)) ** 0.5 + 0.9)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    palette = sns.color_palette("colorblind", len(measures))
    step = 0.6 / max(1, len(measures))
    for k, (m, colour) in enumerate(zip(measures, palette)):
        sub = data.filter(data[measure] == m)
        ys = [labels.index(v) + (k - (len(measures) - 1) / 2) * step for v in sub[label].to_list()]
        est, lo, hi = (sub[c].to_numpy().astype(float) for c in ("estimate", "ci_low", "ci_high"))
        ax.errorbar(est, ys, xerr=[est - lo, hi - est], fmt="o", ms=4, capsize=2.5, color=colour, label=m)
    if reference is not None:
        ax.axvline(reference, color="0.35", ls="--", lw=1, label=reference_label)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=True)
    return fig


def bland_altman_plot(panels, *, width: float = FULL_WIDTH, ncols: int | None = None, seed: int = 0,
                      unit: str = "points", reference: str = "human mean", jitter: float = 0.04,
                      marker_size: float = 6, alpha: float = 0.5) -> plt.Figure:
    """Bland–Altman panels: ``panels`` maps a title to a
    :class:`analysis.stats.bias.BlandAltman`. x: mean of the two methods; y: evaluator −
    reference ({unit}); dashed: mean difference and 95% limits of agreement, shaded: their
    95% CIs. Points are jittered by ±``jitter`` (a seeded generator) so tied integer scores
    show; for thousands of points use a larger jitter, smaller markers and more transparency.
    A panel of more than :data:`RASTERIZE_POINTS` points with at most :data:`MAX_BUBBLES`
    distinct (mean, difference) pairs draws one marker per pair, its area proportional to
    how many points it holds (the figure's title says so)."""
    import numpy as np

    items = list(panels.items())
    ncols = ncols or min(3, len(items))
    nrows = -(-len(items) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 2.4 * nrows + 0.4), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    rng = np.random.default_rng(seed)
    bubbles = False
    for ax, (title, ba) in zip(axes.ravel(), items):
        points, counts = np.unique(np.column_stack([ba.means, ba.differences]), axis=0, return_counts=True)
        if len(ba.means) > RASTERIZE_POINTS and len(points) <= MAX_BUBBLES:
            # Thousands of tied pairs (integer scores: at most 25 distinct points on a
            # 1-5 scale): one marker per distinct pair, its area proportional to the
            # count, instead of a jittered cloud that takes seconds to draw 4 times.
            ax.scatter(points[:, 0], points[:, 1], s=2 + BUBBLE_AREA * counts / counts.max(), alpha=0.5,
                       edgecolors="k", linewidths=0.3)
            bubbles = True
        else:
            # Many distinct points: jittered; above RASTERIZE_POINTS the points (only) are
            # an embedded image in PDF and SVG (vectors would make files of megabytes).
            ax.scatter(ba.means + rng.uniform(-jitter, jitter, len(ba.means)),
                       ba.differences + rng.uniform(-jitter, jitter, len(ba.differences)), s=marker_size,
                       alpha=alpha, rasterized=len(ba.means) > RASTERIZE_POINTS)
        for value, (lo, hi) in ((ba.bias, ba.bias_ci), (ba.loa_lower, ba.loa_lower_ci), (ba.loa_upper, ba.loa_upper_ci)):
            ax.axhline(value, ls="--", color="k", lw=0.8)
            ax.axhspan(lo, hi, color="0.5", alpha=0.2, lw=0)
        ax.axhline(0, color="0.6", lw=0.5)
        # Two lines: one line overlaps the next panel's title when there are four columns.
        ax.set_title(f"{title}\n{ba.bias:+.2f} [{ba.loa_lower:+.2f}, {ba.loa_upper:+.2f}]", fontsize=8)
    for ax in axes.ravel()[len(items):]:
        ax.axis("off")
    fig.supxlabel(f"mean of evaluator and {reference} ({unit})", fontsize=9)
    fig.supylabel(f"evaluator − {reference} ({unit})", fontsize=9)
    note = "panel titles: bias [95% limits of agreement]"
    if bubbles:
        note += "; marker area ∝ number of points there (largest: the panel's most frequent)"
    fig.suptitle(note, fontsize=8)
    return fig


def heatmap(wide, *, index: str, value_label: str, vmin=None, vmax=None, center=None, fmt: str = ".2f",
            width: float = FULL_WIDTH, title: str | None = None, row_labels=None) -> plt.Figure:
    """A annotated heatmap of a wide polars frame (rows ``index``, one column per column
    label) in a colour-blind-safe, perceptually uniform map: ``cividis`` for magnitudes,
    the diverging ``vlag`` (blue–white–red, safe for red–green colour blindness) when
    ``center`` is given."""
    frame = wide.drop(index).to_pandas().set_axis(row_labels or wide[index].to_list())
    fig, ax = plt.subplots(figsize=(width, 0.38 * len(frame) + 1.4), layout="constrained")
    sns.heatmap(frame, annot=True, fmt=fmt, vmin=vmin, vmax=vmax, center=center,
                cmap="vlag" if center is not None else "cividis", cbar_kws={"label": value_label}, ax=ax,
                annot_kws={"fontsize": 7})
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="x", labelrotation=30)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def coefficient_plot(table, *, group: str = "evaluator", xlabel: str = "points", title: str | None = None,
                     width: float = FULL_WIDTH, drop_intercept: bool = True) -> plt.Figure:
    """Coefficients of a bias model with their intervals: one row per ``term``, one
    marker per ``group`` (e.g. the judge), a dashed line at 0 (no effect).

    ``table`` has the columns of :data:`analysis.stats.bias_models.COEF_SCHEMA` and
    ``group``; the random-effect rows (``sd(...)``, no interval) and, with
    ``drop_intercept``, the intercept are left out.
    """
    import polars as pl

    shown = table.filter(~pl.col("term").str.starts_with("sd(") & pl.col("ci_low").is_not_nan())
    if drop_intercept:
        shown = shown.filter(pl.col("term") != "Intercept")
    return forest_plot(shown, label="term", measure=group, xlabel=xlabel, reference=0.0, reference_label="no effect",
                       width=width, title=title)
