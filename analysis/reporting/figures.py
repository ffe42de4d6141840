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
    engine = fig.get_layout_engine()
    box = {"bbox": "tight"}

    def write(fmt, path):
        fig.savefig(path, format=fmt, dpi=DPI, bbox_inches=box["bbox"], metadata=_METADATA[fmt])
        if box["bbox"] == "tight":
            # The layout and the tight box of the first file are those of all three:
            # "tight" makes matplotlib lay the figure out and draw it once more just to
            # measure it, for every file (a third of the time of writing the files).
            fig.set_layout_engine("none")
            box["bbox"] = _tight_box(fig)

    try:
        paths = write_figure_files(write, name, out, FORMATS)
    except FigureError:
        plt.close(fig)  # a notebook's inline backend would draw it again, and fail again, at the cell's end
        raise
    finally:
        fig.set_layout_engine(engine)
    if "inline" in matplotlib.get_backend():
        from IPython.display import Image, display

        png = (out / f"{name}.png").read_bytes()
        width = int.from_bytes(png[16:20], "big")  # IHDR: the image's width in pixels
        display(Image(data=png, format="png", width=round(width * SCREEN_DPI / DPI)))
        plt.close(fig)
    return paths


class FigureError(RuntimeError):
    """A figure that could not be drawn or written; its message is one line naming it."""


def write_figure_files(write, name: str, out: Path, formats) -> list[Path]:
    """``<out>/<name>.<fmt>`` for each format, all or none: ``write(fmt, path)`` writes each
    to a temporary name, and only when every one is written are they renamed to their
    names. A failure leaves no temporary file and no partial set (the files of an
    earlier run, if any, stay as they were) and raises :class:`FigureError`, one line
    naming the figure and the cause."""
    out.mkdir(parents=True, exist_ok=True)
    tmps = {fmt: out / f".{name}.{fmt}.tmp" for fmt in formats}
    try:
        for fmt, tmp in tmps.items():
            write(fmt, tmp)
    except Exception as exc:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
        cause = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise FigureError(f"figure {name!r} could not be drawn ({type(exc).__name__}: {cause}); "
                          f"no file of it was written in {out}") from exc
    except BaseException:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
        raise
    paths = []
    for fmt, tmp in tmps.items():
        os.replace(tmp, out / f"{name}.{fmt}")
        paths.append(out / f"{name}.{fmt}")
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


PAPER_FONTS = {COLUMN_WIDTH: {"tick": 7.0, "label": 8.0, "title": 8.5, "legend": 7.0, "note": 7.0},
               FULL_WIDTH: {"tick": 8.0, "label": 9.0, "title": 10.0, "legend": 8.0, "note": 8.0}}
"""Font sizes (points, at print size) of a one-column and a full-width figure; narrower
figures take the column's, wider ones the full width's. Never below 6 pt, the smallest a
printed label can be read at (:data:`analysis.reporting.figure_checks.MIN_FONT_PT`)."""


def font_sizes(width: float) -> dict[str, float]:
    """The :data:`PAPER_FONTS` of a figure ``width`` inches wide."""
    return dict(PAPER_FONTS[COLUMN_WIDTH if width < (COLUMN_WIDTH + FULL_WIDTH) / 2 else FULL_WIDTH])


def _rc_fonts(sizes: dict[str, float]) -> dict[str, float]:
    return {"font.size": sizes["label"], "axes.labelsize": sizes["label"], "axes.titlesize": sizes["title"],
            "xtick.labelsize": sizes["tick"], "ytick.labelsize": sizes["tick"], "legend.fontsize": sizes["legend"],
            "legend.title_fontsize": sizes["legend"], "figure.titlesize": sizes["title"],
            "figure.labelsize": sizes["label"]}


_measure = None
"""The Agg renderer :func:`text_width` measures with (made on first use)."""


def text_width(text: str, fontsize: float) -> float:
    """Width in inches of one line of ``text`` at ``fontsize`` points in the theme's font,
    as matplotlib's Agg renderer lays it out at the screen's :data:`SCREEN_DPI` (hinted
    glyphs, a little wider than the outlines), plus 2% to spare."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    if not text:
        return 0.0
    global _measure
    if _measure is None:
        _measure = RendererAgg(1, 1, SCREEN_DPI)
    width, _, _ = _measure.get_text_width_height_descent(text, FontProperties(size=fontsize), ismath=False)
    return 1.02 * width / SCREEN_DPI


_BREAK_AFTER = " _-/·:,.@+"
"""A line may break after these characters (the space itself is dropped at a break)."""


def wrap_text(text: str, width: float, fontsize: float) -> str:
    """``text`` broken into lines no wider than ``width`` inches at ``fontsize`` points.

    Lines break after a space or one of ``_ - / · : , . @ +`` (so long model and
    category names such as ``substance_abuse_or_withdrawal`` wrap too); a single
    token wider than a line is cut where it must be. Existing line breaks are kept.
    """
    out: list[str] = []
    for paragraph in str(text).split("\n"):
        tokens, cur = [], ""
        for ch in paragraph:
            cur += ch
            if ch in _BREAK_AFTER:
                tokens.append(cur)
                cur = ""
        if cur:
            tokens.append(cur)
        line = ""
        for token in tokens:
            if text_width((line + token).rstrip(), fontsize) <= width or not line:
                line += token
            else:
                out.append(line.rstrip())
                line = token
            while text_width(line.rstrip(), fontsize) > width and len(line.rstrip()) > 1:
                cut = len(line) - 1
                while cut > 1 and text_width(line[:cut], fontsize) > width:
                    cut -= 1
                out.append(line[:cut])
                line = line[cut:]
        out.append(line.rstrip())
    return "\n".join(out)


def literal(text) -> str:
    """``text`` as drawn, character for character: every ``$`` escaped, so that a name or
    category from the data (``cost $x^{$ high``) is never read as matplotlib mathtext
    (which fails on it, or draws something else). Every text a figure function takes
    from data or from its caller goes through this, after :func:`wrap_text`."""
    return str(text).replace("$", "\\$")


def shown_text(text, width: float, fontsize: float) -> str:
    """``text`` wrapped to ``width`` inches at ``fontsize`` points (:func:`wrap_text`) and
    made :func:`literal`."""
    return literal(wrap_text(text, width, fontsize))


def _legend_chunks(n: int, ncols: int) -> list[range]:
    """The entries of each column of a legend of ``n`` entries in ``ncols`` columns, as
    matplotlib fills them (the first ``n mod ncols`` columns hold one entry more)."""
    nrows, large = divmod(n, ncols)
    sizes = [s for s in [nrows + 1] * large + [nrows] * (ncols - large) if s]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [range(a, a + k) for a, k in zip(starts, sizes)]


def _legend_columns(labels, room: float, fontsize: float) -> tuple[list[str], int]:
    """Labels wrapped to ``room`` inches less a handle, and how many columns of them fit
    (matplotlib's handle length, padding and column spacing counted)."""
    rc = plt.rcParams
    handle_in = (rc["legend.handlelength"] + rc["legend.handletextpad"]) * fontsize / 72
    gap = rc["legend.columnspacing"] * fontsize / 72
    wrapped = [wrap_text(lab, room - handle_in, fontsize) for lab in labels]
    entry = [max(text_width(line, fontsize) for line in lab.split("\n")) + handle_in for lab in wrapped]
    ncols = 1
    for n in range(len(entry), 0, -1):
        chunks = _legend_chunks(len(entry), n)
        if sum(max(entry[i] for i in c) for c in chunks) + gap * (len(chunks) - 1) <= room:
            ncols = n
            break
    return wrapped, ncols


def legend_height(labels, width: float, fontsize: float) -> float:
    """Inches a :func:`legend_below` (or :func:`legend_under_axes`) of ``labels`` takes in a
    space ``width`` inches wide (to size a figure before drawing it)."""
    if not labels:
        return 0.0
    wrapped, ncols = _legend_columns(labels, 0.94 * width, fontsize)
    lines = max(sum(wrapped[i].count("\n") + 1 for i in c) for c in _legend_chunks(len(wrapped), ncols))
    return (1.4 * lines + 0.8) * fontsize / 72


def legend_below(fig: plt.Figure, handles, labels, *, width: float, fontsize: float):
    """A figure legend under the axes (outside every data area): as many columns as its
    entries fit side by side in ``width`` inches, long entries wrapped. Needs the
    constrained layout, which keeps the axes clear of it."""
    wrapped, ncols = _legend_columns(labels, 0.94 * width, fontsize)
    return fig.legend(handles, [literal(lab) for lab in wrapped], loc="outside lower center", ncols=ncols,
                      fontsize=fontsize, frameon=False)


def legend_under_axes(ax, handles, labels, *, width: float, fontsize: float, below_pt: float):
    """A legend of one axes under it, ``below_pt`` points under the axes' bottom edge
    (clear of its tick labels and x label), entries in as many columns as fit in the axes'
    ``width`` inches. The constrained layout makes room for it."""
    from matplotlib.transforms import offset_copy

    wrapped, ncols = _legend_columns(labels, 0.94 * width, fontsize)
    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-below_pt, units="points")
    return ax.legend(handles, [literal(lab) for lab in wrapped], loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=anchor, ncols=ncols, fontsize=fontsize, frameon=False)


def _grid(n: int, width: float, panel_min: float) -> tuple[int, int]:
    """(rows, columns) of ``n`` panels at least ``panel_min`` inches wide in ``width`` inches."""
    ncols = max(1, min(n, int(width // panel_min)))
    return -(-n // ncols), ncols


def _lines(text: str | None) -> int:
    return text.count("\n") + 1 if text else 0


def forest_plot(data, *, label: str = "evaluator", measure: str = "measure", xlabel: str = "estimate",
                reference: float | None = None, reference_label: str | None = None,
                width: float = FULL_WIDTH, title: str | None = None) -> plt.Figure:
    """Estimates with their intervals, one row per ``label``, one marker per ``measure``.

    ``data`` is a polars frame with columns ``label``, ``measure``, ``estimate``,
    ``ci_low``, ``ci_high``. ``reference`` draws a vertical line (e.g. the human–human
    ceiling). Colours come from the colour-blind-safe palette of :func:`set_theme`. Sized
    for print at ``width`` inches (:func:`font_sizes`): row labels and the title wrap to
    fit, and the legend sits under the axes, never over an interval.
    """
    labels = list(dict.fromkeys(data[label].to_list()))
    measures = list(dict.fromkeys(data[measure].to_list()))
    fs = font_sizes(width)
    shown = [wrap_text(v, 0.36 * width, fs["tick"]) for v in labels]
    lines = max([v.count("\n") + 1 for v in shown] + [1])
    row = max(0.2 * max(1, len(measures)) ** 0.5 + 0.05, lines * fs["tick"] * 1.25 / 72 + 0.1)
    title = wrap_text(title, 0.96 * width, fs["title"]) if title else None
    label_width = max(text_width(line, fs["tick"]) for v in shown for line in v.split("\n")) if shown else 0.0
    xlabel = wrap_text(xlabel, width - label_width - 0.4, fs["label"])  # centred under the axes
    n_entries = len(measures) + (reference is not None and reference_label is not None)
    extra = (0.45 + (title.count("\n") + 1) * fs["title"] * 1.3 / 72 if title else 0.25)
    extra += (xlabel.count("\n") + 1) * fs["label"] * 1.3 / 72 + (1.4 * n_entries + 0.6) * fs["legend"] / 72
    with plt.rc_context(_rc_fonts(fs)):
        fig, ax = plt.subplots(figsize=(width, max(1.6, row * len(labels) + extra)), layout="constrained")
        palette = sns.color_palette("colorblind", len(measures))
        step = 0.6 / max(1, len(measures))
        for k, (m, colour) in enumerate(zip(measures, palette)):
            sub = data.filter(data[measure] == m)
            ys = [labels.index(v) + (k - (len(measures) - 1) / 2) * step for v in sub[label].to_list()]
            est, lo, hi = (sub[c].to_numpy().astype(float) for c in ("estimate", "ci_low", "ci_high"))
            ax.errorbar(est, ys, xerr=[est - lo, hi - est], fmt="o", ms=4, capsize=2.5, color=colour, label=m)
        if reference is not None:
            ax.axvline(reference, color="0.35", ls="--", lw=1, label=reference_label)
        ax.set_yticks(range(len(labels)), [literal(v) for v in shown])
        ax.tick_params(labelsize=fs["tick"])
        ax.set_ylim(len(labels) - 0.5, -0.5)  # first label on top
        ax.set_xlabel(literal(xlabel), fontsize=fs["label"])
        if title:  # over the whole figure (an axes title is centred on the axes, off to the right)
            fig.suptitle(literal(title), fontsize=fs["title"])
        handles, names = ax.get_legend_handles_labels()
        if reference is not None and reference_label is not None:  # the measures first, the reference line last
            handles, names = handles[1:] + handles[:1], names[1:] + names[:1]
        if handles:
            legend_below(fig, handles, names, width=width, fontsize=fs["legend"])
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
    ncols = ncols or min(3 if width >= 5 else 2, len(items))
    nrows = -(-len(items) // ncols)
    fs = font_sizes(width)
    panel_width = 0.92 * width / ncols
    titles = [wrap_text(title, 0.85 * panel_width, fs["note"]) for title, _ in items]
    title_lines = max(t.count("\n") + 2 for t in titles)
    distinct = [np.unique(np.column_stack([ba.means, ba.differences]), axis=0, return_counts=True) for _, ba in items]
    bubbles = [len(ba.means) > RASTERIZE_POINTS and len(points) <= MAX_BUBBLES
               for (_, ba), (points, _) in zip(items, distinct)]
    note = "panel titles: bias [95% limits of agreement]"
    if any(bubbles):
        note += "; marker area ∝ number of points there (largest: the panel's most frequent)"
    note = wrap_text(note, 0.96 * width, fs["note"])
    panel_height = min(2.4, 0.85 * panel_width + 0.4) + title_lines * fs["note"] * 1.3 / 72
    height = panel_height * nrows + 0.45 + (note.count("\n") + 1) * fs["note"] * 1.3 / 72
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharex=True, sharey=True,
                                 layout="constrained", squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, title, (_, ba), (points, counts), bubble in zip(axes.ravel(), titles, items, distinct, bubbles):
        if bubble:
            # Thousands of tied pairs (integer scores: at most 25 distinct points on a
            # 1-5 scale): one marker per distinct pair, its area proportional to the
            # count, instead of a jittered cloud that takes seconds to draw 4 times.
            ax.scatter(points[:, 0], points[:, 1], s=2 + BUBBLE_AREA * counts / counts.max(), alpha=0.5,
                       edgecolors="k", linewidths=0.3)
        else:
            # Many distinct points: jittered; above RASTERIZE_POINTS the points (only) are
            # an embedded image in PDF and SVG (vectors would make files of megabytes).
            ax.scatter(ba.means + rng.uniform(-jitter, jitter, len(ba.means)),
                       ba.differences + rng.uniform(-jitter, jitter, len(ba.differences)), s=marker_size,
                       alpha=alpha, rasterized=len(ba.means) > RASTERIZE_POINTS)
        for value, lo, hi in ((ba.estimate, ba.ci_low, ba.ci_high), (ba.loa_lower, ba.loa_lower_ci_low, ba.loa_lower_ci_high),
                              (ba.loa_upper, ba.loa_upper_ci_low, ba.loa_upper_ci_high)):
            ax.axhline(value, ls="--", color="k", lw=0.8)
            ax.axhspan(lo, hi, color="0.5", alpha=0.2, lw=0)
        ax.axhline(0, color="0.6", lw=0.5)
        # Two lines: one line overlaps the next panel's title when there are four columns.
        ax.set_title(f"{literal(title)}\n{ba.estimate:+.2f} [{ba.loa_lower:+.2f}, {ba.loa_upper:+.2f}]", fontsize=fs["note"])
        ax.tick_params(labelsize=fs["tick"])
    for ax in axes.ravel()[len(items):]:
        ax.axis("off")
    fig.supxlabel(shown_text(f"mean of evaluator and {reference} ({unit})", 0.9 * width, fs["label"]),
                  fontsize=fs["label"])
    fig.supylabel(shown_text(f"evaluator − {reference} ({unit})", 0.9 * height, fs["label"]), fontsize=fs["label"])
    fig.suptitle(note, fontsize=fs["note"])
    return fig


def heatmap(wide, *, index: str, value_label: str, vmin=None, vmax=None, center=None, fmt: str = ".2f",
            width: float = FULL_WIDTH, title: str | None = None, row_labels=None) -> plt.Figure:
    """A annotated heatmap of a wide polars frame (rows ``index``, one column per column
    label) in a colour-blind-safe, perceptually uniform map: ``cividis`` for magnitudes,
    the diverging ``vlag`` (blue–white–red, safe for red–green colour blindness) when
    ``center`` is given."""
    import numpy as np

    labels = [str(v) for v in (row_labels or wide[index].to_list())]
    fs = font_sizes(width)
    rows = [wrap_text(v, 0.3 * width, fs["tick"]) for v in labels]
    columns = [wrap_text(str(c), 0.9, fs["tick"]) for c in wide.drop(index).columns]
    frame = wide.drop(index).to_pandas().set_axis([literal(r) for r in rows]).set_axis([literal(c) for c in columns],
                                                                                        axis=1)
    title = wrap_text(title, 0.96 * width, fs["title"]) if title else None
    row_height = max(0.3, (max(r.count("\n") for r in rows) + 1) * fs["tick"] * 1.3 / 72 + 0.08) if rows else 0.3
    column_label = max(text_width(line, fs["tick"]) for c in columns for line in c.split("\n")) if columns else 0
    height = (row_height * len(frame) + 0.6 + 0.6 * column_label
              + ((title.count("\n") + 1) * fs["title"] * 1.3 / 72 if title else 0))
    # Cell values at the tick size, or smaller (not under 6 pt) where the cells are narrow.
    row_label = max((text_width(line, fs["tick"]) for r in rows for line in r.split("\n")), default=0.0)
    cell = max(0.1, width - row_label - 1.0) / max(1, frame.shape[1])  # less the colour bar and margins
    cells = frame.to_numpy(dtype=float, na_value=np.nan).ravel()
    widest = max((text_width(format(v, fmt), 7.0) for v in cells[~np.isnan(cells)]), default=0.1)
    annot_size = max(6.0, min(fs["tick"], 7.0 * 0.85 * cell / max(widest, 1e-6)))
    with plt.rc_context(_rc_fonts(fs)):
        fig, ax = plt.subplots(figsize=(width, max(1.6, height)), layout="constrained")
        sns.heatmap(frame, annot=True, fmt=fmt, vmin=vmin, vmax=vmax, center=center,
                    cmap="vlag" if center is not None else "cividis",
                    cbar_kws={"label": shown_text(value_label, 0.9 * max(1.6, height) - 0.3, fs["label"])}, ax=ax,
                    annot_kws={"fontsize": annot_size})
        ax.set(xlabel="", ylabel="")
        _slanted_xticks(ax, cell, columns, fs["tick"])
        fig.axes[-1].tick_params(labelsize=fs["tick"])  # the colour bar
        if title:
            fig.suptitle(literal(title), fontsize=fs["title"])
    return fig


def kappa_vs_humans_plot(kappas, *, humans, labellers, names=None, width: float = FULL_WIDTH) -> plt.Figure:
    """Each labeller run's Cohen's κ with each human (dots, 95 % intervals) over a grey bar:
    the range of that human's κ with the other humans. ``kappas`` as
    :func:`analysis.studies.crisis_labels.kappa_against_humans`; ``names`` gives a
    labeller's display name (e.g. the study's ``spec.display``). Sized for print at
    ``width`` inches; the legend sits under the axes."""
    import numpy as np
    import polars as pl

    names = names or str
    fs = font_sizes(width)
    title = wrap_text("Crisis labels: each LLM run's κ with each human, and the human–human range",
                      0.96 * width, fs["title"])
    entries = ["human–human κ (range)"] + [names(lab) for lab in labellers]
    slot = 0.85 * (width - 0.6) / max(1, len(humans))
    ticks = [wrap_text(h, slot, fs["tick"]) for h in humans]
    height = (min(3.2, max(2.0, 0.5 * width)) + _lines(title) * fs["title"] * 1.3 / 72
              + max(map(_lines, ticks), default=1) * fs["tick"] * 1.3 / 72 + legend_height(entries, width, fs["legend"]))
    with plt.rc_context(_rc_fonts(fs)):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        palette = dict(zip(labellers, sns.color_palette("colorblind", len(labellers))))
        handles = []
        for k, h in enumerate(humans):
            row = kappas.filter(pl.col("human") == h).row(0, named=True)
            bar = ax.add_patch(plt.Rectangle((k - 0.4, row["human_min"]), 0.8, row["human_max"] - row["human_min"],
                                             color="0.85", zorder=0))
            if k == 0:
                handles.append(bar)
            for j, lab in enumerate(labellers):
                sub = kappas.filter((pl.col("human") == h) & (pl.col("labeller") == lab)).sort("run")
                x = k - 0.25 + 0.5 * j / max(1, len(labellers) - 1) + np.linspace(-0.05, 0.05, 3)[:sub.height]
                drawn = ax.errorbar(x, sub["cohen_kappa"], yerr=[sub["cohen_kappa"] - sub["ci_low"],
                                                                 sub["ci_high"] - sub["cohen_kappa"]],
                                    fmt="o", ms=3.5, color=palette[lab])
                if k == 0:
                    handles.append(drawn)
        ax.set_xticks(range(len(humans)), [literal(t) for t in ticks])
        ax.set(xlim=(-0.6, len(humans) - 0.4), ylim=(0, 1))
        ax.set_xlabel("human", fontsize=fs["label"])
        ax.set_ylabel(wrap_text("Cohen's κ with that human", 0.8 * height, fs["label"]), fontsize=fs["label"])
        fig.suptitle(literal(title), fontsize=fs["title"])
        legend_below(fig, handles, entries, width=width, fontsize=fs["legend"])
    return fig


def _slanted_xticks(ax, cell: float, columns: list[str], fontsize: float) -> None:
    """Column labels slanted at 30°, steeper where cells ``cell`` inches wide are too
    narrow for slanted labels of this many lines to clear each other."""
    import numpy as np

    label_height = (max((c.count("\n") for c in columns), default=0) + 1) * fontsize * 1.25 / 72
    angle = next((a for a in (30, 45, 60) if cell * np.sin(np.deg2rad(a)) >= 1.1 * label_height), 90)
    ax.tick_params(axis="x", labelrotation=angle, labelsize=fontsize)
    ax.tick_params(axis="y", labelrotation=0, labelsize=fontsize)
    if angle < 90:
        plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")


def s_balanced_heatmaps(summaries, *, labels, width: float = FULL_WIDTH) -> plt.Figure:
    """One annotated heatmap of the s-balanced matrix per summary (``summaries``: name ->
    :class:`analysis.studies.crisis_labels.ConfusionSummary`), on a common viridis scale
    (one colour bar), restricted to the first ``len(labels)`` labels (the "(no label)" row
    and column, 0 by construction, left out); each panel is titled by its summary's
    ``title``. Panels side by side as far as ``width`` inches allow, else stacked."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fs = font_sizes(width)
    n = len(labels)
    nrows, ncols = _grid(len(summaries), width, 3.2)
    short = [lab.replace("_or_withdrawal", "").replace("_", " ") for lab in labels]
    rows = [wrap_text(v, 0.28 * width / ncols + 0.3, fs["tick"]) for v in short]
    row_label = max((text_width(line, fs["tick"]) for r in rows for line in r.split("\n")), default=0.0)
    panel = (width - 0.9) / ncols - (row_label + 0.15)  # the square's side: less the row labels and the colour bar
    cell = max(0.05, panel / max(1, n))
    columns = [wrap_text(v, 1.0, fs["tick"]) for v in short]
    column_label = max(text_width(line, fs["tick"]) for c in columns for line in c.split("\n"))
    titles = [wrap_text(f"s-balanced, {summ.title}", panel + row_label, fs["note"]) for summ in summaries.values()]
    height = nrows * (panel + 0.35 + 0.75 * column_label + max(map(_lines, titles)) * fs["note"] * 1.3 / 72) + 0.2
    vmax = max(float(summ.s_balanced[:n, :n].max()) for summ in summaries.values())
    widest = max(text_width(format(v, ".2f"), 7.0) for summ in summaries.values() for v in summ.s_balanced[:n, :n].ravel())
    annot_size = max(6.0, min(fs["tick"], 7.0 * 0.85 * cell / max(widest, 1e-6)))
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False)
        for ax, title, summ in zip(axes.ravel(), titles, summaries.values()):
            sns.heatmap(summ.s_balanced[:n, :n], ax=ax, cmap="viridis", vmin=0, vmax=vmax, annot=True, fmt=".2f",
                        annot_kws={"size": annot_size}, xticklabels=[literal(c) for c in columns],
                        yticklabels=[literal(r) for r in rows], cbar=False, square=True)
            ax.set_title(literal(title), fontsize=fs["note"])
            _slanted_xticks(ax, cell, columns, fs["tick"])
        for ax in axes.ravel()[len(summaries):]:
            ax.axis("off")
        bar = fig.colorbar(ScalarMappable(Normalize(0, vmax), "viridis"), ax=axes.ravel()[:len(summaries)].tolist(),
                           shrink=min(1.0, 2.5 / height) if nrows > 1 else 1.0)
        bar.set_label("s-balanced", fontsize=fs["label"])
        bar.ax.tick_params(labelsize=fs["tick"])
    return fig


def winning_rate_plot(summary, *, labellers, names=None, references=None, width: float = FULL_WIDTH) -> plt.Figure:
    """The alternative annotator test's winning rate against ε: one panel per LLM labeller
    (task ``labels``: its runs and majority) and one for the task ``scores`` (each
    evaluator and the jury) when the summary has it. Solid: additive ε; dashed:
    multiplicative; dotted: the pass line 0.5. Lines are offset vertically by up to ±0.03
    so that judges with equal winning rates stay visible. ``summary`` as
    :attr:`analysis.studies.replacement.AltTestTables.summary`; ``names`` gives a judge's
    display name; ``references`` maps a task to its human raters (panel titles). One
    legend under the panels: a colour per run (or judge), a line style per ε mode."""
    import polars as pl
    from matplotlib.lines import Line2D

    names, references = names or str, references or {}

    def versus(task):
        return ", ".join(references.get(task, ())) or "the humans"

    panels = [("labels", lab) for lab in labellers]
    if (summary["task"] == "scores").any():
        panels.append(("scores", None))
    fs = font_sizes(width)
    nrows, ncols = _grid(len(panels), width, 1.6)
    panel_width = (width - 0.5) / ncols
    titles = [wrap_text(f"{names(lab)}: labels vs {versus(task)}" if lab else f"scores vs {versus(task)}",
                        0.95 * panel_width, fs["note"]) for task, lab in panels]

    def entry(task, lab, ev, run):
        return str(run) if lab is not None else f"{names(ev)} ({run})"

    keys = []
    for task, lab in panels:
        sub = summary.filter(pl.col("task") == task)
        if lab is not None:
            sub = sub.filter(pl.col("evaluator") == lab)
        keys += [entry(task, lab, ev, run) for ev, run in sub.select("evaluator", "run").unique(maintain_order=True).rows()]
    keys = list(dict.fromkeys(keys))
    colours = dict(zip(keys, sns.color_palette("colorblind", len(keys))))
    handles = [Line2D([], [], color=colours[k], marker="o", ms=3) for k in keys]
    handles += [Line2D([], [], color="0.3", ls=ls) for ls in ("-", "--", ":")]
    entries = keys + ["additive ε", "multiplicative ε", "pass line (0.5)"]
    height = (nrows * (min(2.2, max(1.6, 0.8 * panel_width)) + max(map(_lines, titles)) * fs["note"] * 1.3 / 72)
              + legend_height(entries, width, fs["legend"]) + 0.3)
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharey=True, layout="constrained",
                                 squeeze=False)
        for ax, title, (task, lab) in zip(axes.ravel(), titles, panels):
            sub = summary.filter(pl.col("task") == task)
            if lab is not None:
                sub = sub.filter(pl.col("evaluator") == lab)
            judges = sub.select("evaluator", "run").unique(maintain_order=True).rows()
            for k, (ev, run) in enumerate(judges):
                offset = 0.03 * (k - (len(judges) - 1) / 2) / max(1, (len(judges) - 1) / 2)
                for mode, ls in (("additive", "-"), ("multiplicative", "--")):
                    line = sub.filter((pl.col("evaluator") == ev) & (pl.col("run") == run)
                                      & (pl.col("epsilon_mode") == mode))
                    ax.plot(line["epsilon"], line["winning_rate"] + offset, ls, marker="o", ms=2.5,
                            color=colours[entry(task, lab, ev, run)])
            ax.axhline(0.5, color="0.4", lw=1, ls=":")
            ax.set_title(literal(title), fontsize=fs["note"])
            ax.set_ylim(-0.08, 1.08)
            ax.set_xlabel("ε", fontsize=fs["label"])
            ax.tick_params(labelsize=fs["tick"])
        for ax in axes.ravel()[len(panels):]:
            ax.axis("off")
        fig.supylabel(wrap_text("winning rate (pass at ≥ 0.5)", 0.8 * height, fs["label"]), fontsize=fs["label"])
        legend_below(fig, handles, entries, width=width, fontsize=fs["legend"])
    return fig


def judge_assisted_forest(estimates, *, evaluator: str, study: str,
                          methods=("judge_only", "human_only", "judge_assisted"), low_label: str = "low",
                          score_label: str = "score", harmful_at: float = 2.0,
                          width: float = FULL_WIDTH) -> plt.Figure:
    """Judge-only, human-only and judge-assisted estimates with their 95 % intervals, one
    row per answer model, one panel per quantity (the mean, points; the share rated low,
    %), side by side as far as ``width`` inches allow. ``estimates``: the long rows
    (:func:`analysis.studies.judge_assisted.judge_assisted_estimates`) of one evaluator
    grouped by answer model. The axes speak the study's words: ``score_label`` is what the
    score measures ("mean appropriateness (points)"), ``low_label`` what a score
    ``<= harmful_at`` means ("% rated harmful (≤ 2)")."""
    import polars as pl
    from matplotlib.lines import Line2D

    quantity_labels = {"mean": f"mean {score_label} (points)", "pct_harmful": f"% rated {low_label} (≤ {harmful_at:g})"}
    quantities = [q for q in ("mean", "pct_harmful") if (estimates["quantity"] == q).any()] or ["mean"]
    groups = sorted(estimates["group"].unique().to_list())
    colours = dict(zip(("judge_only", "human_only", "judge_assisted"), sns.color_palette("colorblind", 3)))
    fs = font_sizes(width)
    nrows, ncols = _grid(len(quantities), width, 3.2)
    rows = [wrap_text(g, 0.3 * width / ncols + 0.4, fs["tick"]) for g in groups]
    title = wrap_text(f"{study}: {evaluator} — judge-only, human-only and judge-assisted (PPI++, cross-fitted λ)",
                      0.96 * width, fs["title"])
    row = max(0.32, max(map(_lines, rows), default=1) * fs["tick"] * 1.3 / 72 + 0.08)
    height = (nrows * (row * len(groups) + 0.55) + _lines(title) * fs["title"] * 1.3 / 72
              + legend_height(list(methods), width, fs["legend"]) + 0.2)
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharey=True, layout="constrained",
                                 squeeze=False)
        for ax, quantity in zip(axes.ravel(), quantities):
            for k, method in enumerate(methods):
                sub = estimates.filter((pl.col("quantity") == quantity) & (pl.col("method") == method))
                lookup = {r["group"]: r for r in sub.iter_rows(named=True)}
                for i, g in enumerate(groups):
                    r = lookup.get(g)
                    if r is None or r["estimate"] is None:
                        continue
                    y = i + (k - (len(methods) - 1) / 2) * 0.25
                    ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colours.get(method, "0.3"), lw=2)
                    ax.plot(r["estimate"], y, "o", ms=4, color=colours.get(method, "0.3"))
            ax.set_yticks(range(len(groups)), [literal(v) for v in rows])
            ax.set_ylim(len(groups) - 0.5, -0.5)
            ax.set_xlabel(shown_text(quantity_labels.get(quantity, quantity), 0.9 * width / ncols, fs["label"]),
                          fontsize=fs["label"])
            ax.tick_params(labelsize=fs["tick"])
        handles = [Line2D([], [], color=colours.get(m, "0.3"), marker="o", ms=4, lw=2) for m in methods]
        fig.suptitle(literal(title), fontsize=fs["title"])
        legend_below(fig, handles, list(methods), width=width, fontsize=fs["legend"])
    return fig


def budget_plan_plot(budget, *, low_label: str = "low", width: float = FULL_WIDTH) -> plt.Figure:
    """Human ratings needed for a target CI half-width (log–log), with each evaluator and
    with the humans only, one panel per quantity (titled by it), side by side as far as
    ``width`` inches allow. ``budget`` as :func:`analysis.studies.judge_assisted.budget_plan`;
    ``low_label``: what the study calls a low score (the x axis of ``pct_harmful``)."""
    import polars as pl

    quantities = budget["quantity"].unique().sort().to_list()
    evaluators = budget["evaluator"].unique(maintain_order=True).to_list()
    entries = ["humans only"] + [f"with {e}" for e in evaluators]
    colours = dict(zip(evaluators, sns.color_palette("colorblind", len(evaluators))))
    fs = font_sizes(width)
    nrows, ncols = _grid(len(quantities), width, 3.2)
    panel_width = (width - 0.6) / ncols
    words = {"mean": "of the mean (points)", "pct_harmful": f"of the % rated {low_label} (% points)"}
    labels = {q: wrap_text(f"target half-width {words.get(q, f'of {q}')}", 0.9 * panel_width, fs["label"])
              for q in quantities}
    height = (nrows * (min(2.6, max(1.8, 0.7 * panel_width)) + max(map(_lines, labels.values())) * fs["label"] * 1.3 / 72)
              + legend_height(entries, width, fs["legend"]) + 0.3)
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False)
        handles = []
        for ax, quantity in zip(axes.ravel(), quantities):
            q = budget.filter(pl.col("quantity") == quantity)
            base = q.filter(pl.col("evaluator") == q["evaluator"][0])
            (line,) = ax.plot(base["half_width"], base["n_without_judge"], "k--")
            drawn = [line]
            for e in evaluators:
                r = q.filter(pl.col("evaluator") == e)
                if r.height:
                    (line,) = ax.plot(r["half_width"], r["n_with_judge"], "o-", ms=3, color=colours[e])
                    drawn.append(line)
            handles = handles or drawn
            ax.set(xscale="log", yscale="log")
            ax.set_xlabel(literal(labels[quantity]), fontsize=fs["label"])
            ax.set_ylabel("human ratings needed", fontsize=fs["label"])
            ax.set_title(literal(quantity), fontsize=fs["title"])
            ax.tick_params(labelsize=fs["tick"])
        for ax in axes.ravel()[len(quantities):]:
            ax.axis("off")
        legend_below(fig, handles, entries[:len(handles)], width=width, fontsize=fs["legend"])
    return fig


def dstudy_plot(table, *, evaluators, runs=(1, 3, 10), target: float = 0.8, width: float = FULL_WIDTH) -> plt.Figure:
    """Φ (with 95 % intervals) of the D-study: left (or top), against the number of judges
    drawn at random for ``runs`` runs each (design ``p x (r:e)``); right (or below),
    against the number of runs of each evaluator (``runs of <evaluator>``). Dotted:
    ``target``. Each panel's legend sits under it. ``table`` as
    :attr:`analysis.studies.judge_assisted.DStudy.table`."""
    import polars as pl

    fs = font_sizes(width)
    nrows, ncols = _grid(2, width, 3.2)
    panel_width = (width - 0.5) / ncols
    nested = table.filter(pl.col("design") == "p x (r:e)")
    shown_runs = sorted(set(nested["n_runs"].to_list()) & set(runs))
    left = [f"{nr} run(s) each" for nr in shown_runs]
    right = [str(e) for e in evaluators]
    below = fs["tick"] * 1.4 + 3.5 + fs["label"] * 1.4 + 6  # tick labels, the x label and their pads (points)
    height = (nrows * (min(2.4, max(1.8, 0.65 * panel_width)) + fs["title"] * 1.3 / 72 + below / 72) + 0.2
              + sum(legend_height(e, panel_width, fs["legend"]) for e in ((left, right) if nrows > 1 else
                                                                          (max((left, right), key=len),))))
    with plt.rc_context(_rc_fonts(fs)):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", squeeze=False)
        axes = axes.ravel()
        colours = sns.color_palette("colorblind", max(len(left), len(right), 1))
        for nr, colour in zip(shown_runs, colours):
            r = nested.filter(pl.col("n_runs") == nr).sort("n_evaluators")
            axes[0].plot(r["n_evaluators"], r["phi"], "o-", ms=3, color=colour)
            axes[0].fill_between(r["n_evaluators"], r["phi_ci_low"], r["phi_ci_high"], alpha=0.2, color=colour)
        for e, colour in zip(evaluators, colours):
            r = table.filter(pl.col("design") == f"runs of {e}").sort("n_runs")
            axes[1].plot(r["n_runs"], r["phi"], "o-", ms=3, color=colour)
            axes[1].fill_between(r["n_runs"], r["phi_ci_low"], r["phi_ci_high"], alpha=0.2, color=colour)
        for ax, xlabel, title, entries in ((axes[0], "judges (random, like these)", "judges × runs, p × (r:e)", left),
                                           (axes[1], "runs of one judge", "runs of each judge (p × r, judge fixed)",
                                            right)):
            ax.axhline(target, color="grey", ls=":")
            ax.set_xlabel(xlabel, fontsize=fs["label"])
            ax.set_ylabel("Φ", fontsize=fs["label"])
            ax.set_title(shown_text(title, 0.95 * panel_width, fs["title"]), fontsize=fs["title"])
            ax.tick_params(labelsize=fs["tick"])
            if entries:
                legend_under_axes(ax, ax.get_lines()[:len(entries)], entries, width=panel_width,
                                  fontsize=fs["legend"], below_pt=below)
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
