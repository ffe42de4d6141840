"""What a reviewer checks on a figure, measured on the drawn figure.

:func:`layout_problems` draws a figure with its own layout engine and returns one line
per problem a reader of the printed figure would see:

* a text (title, axis label, tick label, legend entry, annotation) whose drawn extent
  leaves the canvas, i.e. is clipped in the PDF;
* a text smaller than :data:`MIN_FONT_PT` points at the figure's own size (a figure
  ``w`` inches wide is printed ``w`` inches wide: 3.5 in for one journal column, 7 in for
  the text width);
* two texts drawn over each other (tick labels that collide, a title over a label);
* a legend that covers data: its box meets a marker, an error bar or a line of an
  axes (``Line2D``, ``PathCollection`` and ``LineCollection`` artists, in display
  coordinates), or leaves the canvas;
* a layout engine that gave up (constrained layout with no room left for the axes).

Grid lines, spans and heatmap cells are not data in this sense: a legend may sit over
them. Everything is measured with matplotlib's renderer (``get_window_extent``), so the
answer is that of the figure as saved without a tight bounding box.
"""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

MIN_FONT_PT = 6.0
"""Smallest readable text at print size, in points."""
TOLERANCE_PX = 1.0
"""Display pixels a text may touch the canvas edge or another text by (anti-aliasing)."""


def layout_problems(fig: Figure, *, min_font_pt: float = MIN_FONT_PT) -> list[str]:
    """Problems of ``fig``'s layout as printed, one line each; empty when there are none.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure as the project writes it (its size is its print size).
    min_font_pt : float
        Smallest acceptable font size in points.

    Returns
    -------
    list of str
        ``"<kind>: <what>"`` lines, e.g. ``"outside the canvas: title 'Between Help…'"``.
    """
    if not hasattr(fig.canvas, "get_renderer"):  # a closed pyplot figure: draw it with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    problems: list[str] = []
    texts = _drawn_texts(fig, problems)
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    boxes = []
    kinds = _kinds(fig)
    legend_of = {id(t): lg for lg in _legends(fig) for t in lg.get_texts() + [lg.get_title()]}
    for t in texts:
        name = _describe(t, kinds)
        box = t.get_window_extent(renderer)
        if (box.x0 < canvas.x0 - TOLERANCE_PX or box.y0 < canvas.y0 - TOLERANCE_PX
                or box.x1 > canvas.x1 + TOLERANCE_PX or box.y1 > canvas.y1 + TOLERANCE_PX):
            problems.append(f"outside the canvas: {name} (extent {_fmt_box(box, fig)}, canvas "
                            f"{fig.get_figwidth():.2f} x {fig.get_figheight():.2f} in)")
        if t.get_fontsize() < min_font_pt - 1e-9:
            problems.append(f"too small to read: {name} at {t.get_fontsize():.1f} pt (< {min_font_pt:g} pt)")
        boxes.append((t, name, box))
    for i, (a, name_a, box_a) in enumerate(boxes):
        for b, name_b, box_b in boxes[i + 1:]:
            if id(a) in legend_of and legend_of.get(id(a)) is legend_of.get(id(b)):
                continue  # a legend's own entries are laid out by the legend
            if _overlap(box_a, box_b) > TOLERANCE_PX and _rectangles_meet(_rectangle(a, box_a, renderer),
                                                                          _rectangle(b, box_b, renderer)):
                problems.append(f"texts overlap: {name_a} and {name_b}")
    for legend in _legends(fig):
        box = legend.get_window_extent(renderer)
        if not (canvas.x0 - TOLERANCE_PX <= box.x0 and box.x1 <= canvas.x1 + TOLERANCE_PX
                and canvas.y0 - TOLERANCE_PX <= box.y0 and box.y1 <= canvas.y1 + TOLERANCE_PX):
            problems.append(f"outside the canvas: legend (extent {_fmt_box(box, fig)})")
        for ax in fig.axes:
            for what in _data_over(ax, box):
                problems.append(f"legend covers data: {what} of axes {ax.get_title() or ax.get_label() or '?'!r}")
    return list(dict.fromkeys(problems))  # one line per problem, however many artists show it


def _drawn_texts(fig: Figure, drawn_problems: list[str]) -> list[Text]:
    """The texts a draw of ``fig`` puts on the page, in drawing order: ``Text.draw`` is
    watched during one draw, so tick labels outside an axis' view, texts of axes turned
    off and empty strings (which matplotlib skips) are left out exactly as the PDF leaves
    them out."""
    drawn: list[Text] = []
    original = Text.draw

    def watched(self, renderer):
        if self.get_visible() and self.get_text().strip() and self not in drawn:
            drawn.append(self)
        return original(self, renderer)

    Text.draw = watched
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
    finally:
        Text.draw = original
    for w in caught:  # e.g. "constrained_layout not applied because axes sizes collapsed to zero"
        if "layout" in str(w.message):
            drawn_problems.append(f"layout engine gave up: {str(w.message).split('.')[0]}")
    return drawn


def _legends(fig: Figure) -> list[Legend]:
    legends = [lg for lg in fig.legends if lg.get_visible()]
    legends += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None and ax.get_legend().get_visible()]
    return legends


def _kinds(fig: Figure) -> dict[int, str]:
    """What each text of ``fig`` is (title, axis label, tick label ...), by ``id``."""
    kinds: dict[int, str] = {}
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        t = getattr(fig, name, None)
        if t is not None:
            kinds[id(t)] = "figure title or label"
    for ax in fig.axes:
        for t in (ax.title, ax._left_title, ax._right_title):
            kinds[id(t)] = "title"
        for axis in (ax.xaxis, ax.yaxis):
            kinds[id(axis.label)] = "axis label"
            kinds[id(axis.offsetText)] = "axis offset"
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                kinds[id(tick.label1)] = kinds[id(tick.label2)] = "tick label"
    for legend in _legends(fig):
        for t in legend.get_texts() + [legend.get_title()]:
            kinds[id(t)] = "legend entry"
    return kinds


def _describe(t: Text, kinds: dict[int, str]) -> str:
    text = " ".join(t.get_text().split())
    short = text if len(text) <= 40 else text[:39] + "…"
    return f"{kinds.get(id(t), 'text')} {short!r}"


def _fmt_box(box: Bbox, fig: Figure) -> str:
    dpi = fig.dpi
    return f"x {box.x0 / dpi:.2f}..{box.x1 / dpi:.2f} in, y {box.y0 / dpi:.2f}..{box.y1 / dpi:.2f} in"


def _overlap(a: Bbox, b: Bbox) -> float:
    """Smaller side of the intersection of two boxes, in pixels (0 when disjoint)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, min(w, h))


def _rectangle(t: Text, box: Bbox, renderer):
    """The text's own (rotated) rectangle: centre, unit direction of its baseline and half
    its length and height, in display pixels. Rotated tick labels have axis-aligned boxes
    that overlap their neighbours' while the glyphs do not."""
    theta = np.deg2rad(t.get_rotation())
    u = np.array([np.cos(theta), np.sin(theta)])
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    c, s = abs(u[0]), abs(u[1])
    if s < 1e-6 or c < 1e-6:  # horizontal or vertical: the box is the rectangle
        w, h = (box.width, box.height) if s < 1e-6 else (box.height, box.width)
    else:
        _, line, _ = renderer.get_text_width_height_descent("lp", t.get_fontproperties(), ismath=False)
        spacing = t.get_linespacing()
        spacing = spacing if isinstance(spacing, (int, float)) else 1.2  # "normal" (matplotlib >= 3.11)
        h = min(line * spacing * len(t.get_text().split("\n")), box.height / c)
        w = (box.width - h * s) / c if c >= s else (box.height - h * c) / s
    return centre, u, max(w, 0.0) / 2, h / 2


def _rectangles_meet(a, b) -> bool:
    """Whether two rotated rectangles overlap by more than :data:`TOLERANCE_PX`
    (separating axis test)."""
    (ca, ua, wa, ha), (cb, ub, wb, hb) = a, b
    d = cb - ca
    for axis in (ua, np.array([-ua[1], ua[0]]), ub, np.array([-ub[1], ub[0]])):
        ra = wa * abs(ua @ axis) + ha * abs(ua[0] * axis[1] - ua[1] * axis[0])
        rb = wb * abs(ub @ axis) + hb * abs(ub[0] * axis[1] - ub[1] * axis[0])
        if abs(d @ axis) >= ra + rb - TOLERANCE_PX:
            return False
    return True


def _data_over(ax, box: Bbox) -> list[str]:
    """The data artists of ``ax`` that ``box`` (display coordinates) meets."""
    found = []
    clip = ax.bbox
    region = Bbox.intersection(box, clip)
    if region is None or region.width <= 0 or region.height <= 0:
        return found  # the legend is outside this axes' data area
    for line in ax.lines:
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        pts = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        pts = pts[np.isfinite(pts).all(axis=1)]
        hit = False
        if line.get_marker() not in (None, "None", "", " ", "none"):
            r = line.get_markersize() * ax.figure.dpi / 72 / 2
            hit = _points_in(pts, region, r)
        if not hit and line.get_linestyle() not in ("None", "", " ", "none") and len(pts) > 1:
            hit = _polyline_meets(pts, region)
        if hit:
            found.append(f"line {line.get_label()!r}" if not line.get_label().startswith("_") else "a line or marker")
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, LineCollection):
            trans = coll.get_transform()
            if any(len(seg) > 1 and _polyline_meets(trans.transform(np.asarray(seg, dtype=float)), region)
                   for seg in coll.get_segments()):
                found.append("an error bar or line segment")
        elif isinstance(coll, PathCollection):
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if len(offsets) == 0:
                continue
            pts = coll.get_offset_transform().transform(offsets)
            sizes = coll.get_sizes()
            r = float(np.sqrt(sizes.max()) * ax.figure.dpi / 72 / 2) if len(sizes) else 0.0
            if _points_in(pts, region, r):
                found.append("scatter points")
    return found


def _points_in(pts: np.ndarray, box: Bbox, r: float) -> bool:
    if len(pts) == 0:
        return False
    inside = ((pts[:, 0] >= box.x0 - r) & (pts[:, 0] <= box.x1 + r)
              & (pts[:, 1] >= box.y0 - r) & (pts[:, 1] <= box.y1 + r))
    return bool(inside.any())


def _polyline_meets(pts: np.ndarray, box: Bbox) -> bool:
    """Whether the polyline through ``pts`` meets the box (Liang–Barsky clipping per segment)."""
    for (x0, y0), (x1, y1) in pairwise(pts):
        if not (np.isfinite([x0, y0, x1, y1]).all()):
            continue
        dx, dy = x1 - x0, y1 - y0
        t0, t1 = 0.0, 1.0
        ok = True
        for p, q in ((-dx, x0 - box.x0), (dx, box.x1 - x0), (-dy, y0 - box.y0), (dy, box.y1 - y0)):
            if p == 0:
                if q < 0:
                    ok = False
                    break
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                ok = False
                break
        if ok:
            return True
    return False
