"""LaTeX tables that compile with pdflatex and fit the page.

:func:`latex_table` writes a booktabs table of a result frame as
:func:`analysis.reporting.display.tidy_for_display` shows it (rounded, intervals as
``[low, high]``, units in the headers, p-values below 0.001 as ``< 0.001``), in pure
ASCII: every LaTeX special character is escaped and every non-ASCII symbol mapped to its
LaTeX command (``Δ`` -> ``$\\Delta$``, ``–`` -> ``--``, ``−`` -> ``$-$``, ``κ`` ->
``$\\kappa$`` ...), so it needs no ``inputenc`` or font package, only ``booktabs``
(``\\usepackage{booktabs}``; ``table*`` spans both columns of a two-column paper).

It fits a width given in points: :data:`COLUMN_PT` (one column of a two-column paper:
ACL's 219 pt is the narrowest common one) or :data:`TEXT_PT` (the text width of a plain
one-column ``article``, 345 pt; NeurIPS' 397 pt, ACL's, IEEE's and a two-column
``article``'s are wider).
The width of every cell is estimated from Computer Modern's character widths at
``\\footnotesize``; long names wrap in a column of bounded width, headers wrap onto
several lines, and columns that still do not fit go into a second (third...) block of
the same table, each block repeating the identifying columns (evaluator, attribute ...).
A table taller than :data:`PAGE_PT` continues in further floats under the same number
(its caption says "continued"). Nothing is scaled down.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

COLUMN_PT = 215.0
"""Points a ``\\columnwidth`` table may take."""
TEXT_PT = 340.0
"""Points a ``\\textwidth`` (``table*``) table may take."""
FONT_PT = 8.0
"""``\\footnotesize`` of a 10 pt document."""
TABCOLSEP_PT = 4.0
"""Space either side of a column (``\\tabcolsep``)."""
PAGE_PT = 480.0
"""Points of height one float may take (a plain ``article`` on A4 or letter paper has
about 550-590; a caption and the float's separation take the rest)."""
HEADER_PT = 60.0
"""Headers wrap onto several lines only when wider than their column and than this."""
LABEL_SHARE = 0.3
"""Largest share of the width one text column (a name, a verdict) may take before it wraps."""

_TEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$", "|": r"$|$",
    "–": "--", "—": "---", "−": "$-$", "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "≠": r"$\neq$",
    "≈": r"$\approx$", "±": r"$\pm$", "·": r"$\cdot$", "∝": r"$\propto$", "∞": r"$\infty$", "→": r"$\rightarrow$",
    "²": r"$^2$", "³": r"$^3$", "°": r"$^\circ$", "…": r"\ldots{}", "‘": "`", "’": "'", "“": "``", "”": "''",
    "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$", "δ": r"$\delta$", "Δ": r"$\Delta$", "ε": r"$\varepsilon$",
    "η": r"$\eta$", "θ": r"$\theta$", "κ": r"$\kappa$", "λ": r"$\lambda$", "μ": r"$\mu$", "π": r"$\pi$",
    "ρ": r"$\rho$", "σ": r"$\sigma$", "Σ": r"$\Sigma$", "τ": r"$\tau$", "φ": r"$\phi$", "Φ": r"$\Phi$",
    "χ": r"$\chi$", "ω": r"$\omega$", "\u00a0": "~",
}
"""Characters LaTeX would misread or pdflatex cannot typeset without packages."""
_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0304": "=", "\u0327": "c",
            "\u030c": "v", "\u0306": "u", "\u030a": "r"}
"""Combining accents of Latin letters (é = e + U+0301) -> LaTeX accent commands."""

# Widths of Computer Modern Roman characters in em (cmr10's metrics, rounded).
_EM = {**dict.fromkeys("0123456789", 0.5), **dict.fromkeys("abdghknopquvxy", 0.54), **dict.fromkeys("cesz", 0.43),
       **dict.fromkeys("fjt", 0.35), **dict.fromkeys("il", 0.28), "m": 0.83, "r": 0.39, "w": 0.72,
       **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ", 0.74), "I": 0.36, "M": 0.92, "W": 1.03,
       **dict.fromkeys(".,:;!'", 0.28), **dict.fromkeys("()[]", 0.39), " ": 0.33, "-": 0.33, "–": 0.5, "—": 1.0,
       "−": 0.78, "%": 0.83, "=": 0.78, "+": 0.78, "<": 0.78, ">": 0.78, "×": 0.78, "·": 0.28, "/": 0.5, "_": 0.5,
       "Δ": 0.83, "κ": 0.58, "α": 0.64, "²": 0.35, "≤": 0.78, "≥": 0.78, "&": 0.78, "#": 0.83}


def tex_escape(text: str) -> str:
    """``text`` as LaTeX source in pure ASCII: specials escaped, symbols mapped to commands,
    accented Latin letters to accent commands, and any other character spelled
    ``[U+XXXX]`` (never passed through for pdflatex to stop on)."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            base, *marks = unicodedata.normalize("NFD", ch)
            if ord(base) < 128 and marks and all(m in _ACCENTS for m in marks):
                piece = base if base not in "ij" else "\\" + base
                for m in marks:
                    piece = f"\\{_ACCENTS[m]}{{{piece}}}"
                out.append(piece)
            else:
                out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def _number_tex(text: str) -> str:
    """Escaped ``text`` with the hyphen of a negative number typeset as a minus sign."""
    return re.sub(r"(?<![\w.])-(?=\d)", "$-$", tex_escape(text))


def text_pt(text: str, font_pt: float = FONT_PT) -> float:
    """Estimated width in points of one line of ``text`` in Computer Modern at ``font_pt``
    (cmr10's widths, plus 10% for the wider design of the 8 pt font and to spare)."""
    return 1.1 * sum(_EM.get(ch, 0.74 if ch.isupper() else 0.55) for ch in str(text)) * font_pt


def _wrap(text: str, width_pt: float) -> list[str]:
    """``text`` in lines of at most ``width_pt`` (breaking after spaces, ``_``, ``-``, ``/``)."""
    tokens = re.findall(r"[^ _/\-]*(?:[ _/\-]|$)", str(text))
    lines, line = [], ""
    for token in (t for t in tokens if t):
        if line and text_pt((line + token).rstrip()) > width_pt:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    lines.append(line.rstrip())
    return [ln for ln in lines if ln] or [""]


_NUMERIC = re.compile(r"^(< ?)?[-−+]?[\d.]+%?$|^\[[-−+\d.]+, [-−+\d.]+\]$|^–$")


def latex_table(frame: pl.DataFrame, *, caption: str, label: str, width: str = "text",
                columns: list[str] | None = None, stack_intervals: bool | None = None) -> str:
    """A booktabs table of ``frame`` that fits ``width`` (``"text"``: a ``table*`` of at
    most :data:`TEXT_PT` points; ``"column"``: a ``table`` of at most :data:`COLUMN_PT`).

    ``columns`` keeps only those columns of ``frame`` (an estimate's ``*_ci_low`` and
    ``*_ci_high`` come with it). Numbers are right-aligned; intervals ``[low, high]``
    are centred; names wrap. ``stack_intervals`` (default: for ``"column"``) prints each
    interval on a line of its own under its estimate instead of in a column beside it. An
    estimate and its interval are never split between blocks. See the module docstring
    for how the table is made to fit.
    """
    from analysis.reporting.display import tidy_for_display

    if width not in ("text", "column"):
        raise ValueError(f"width must be 'text' or 'column', not {width!r}")
    if columns is not None:
        keep = [c for c in frame.columns if c in columns or any(
            c in (f"{k}_ci_low", f"{k}_ci_high") for k in columns)
            or (c in ("ci_low", "ci_high") and frame.columns.index("ci_low") > 0
                and frame.columns[frame.columns.index("ci_low") - 1] in columns)]
        frame = frame.select(keep)
    shown = tidy_for_display(frame)
    room = COLUMN_PT if width == "column" else TEXT_PT
    cols = shown.columns
    values = {c: shown[c].to_list() for c in cols}
    numeric = {c: all(_NUMERIC.match(v) for v in values[c]) for c in cols}
    # Identifying columns: the text columns before the first number (evaluator, attribute ...).
    keys = []
    for c in cols:
        if numeric[c]:
            break
        keys.append(c)
    cap = LABEL_SHARE * room

    def narrowest(c: str) -> float:  # a column wrapped down to its longest word
        return max(text_pt(w) for v in [*values[c], c] for w in re.split(r"[ _/\-]", v) if w) + 2 * TABCOLSEP_PT

    widest = max((max(text_pt(v) for v in values[c]) + 2 * TABCOLSEP_PT for c in cols if c not in keys), default=0)
    if len(keys) > 1 and sum(narrowest(k) for k in keys) + widest > room:
        # Too many identifying columns for the width: one column, their values joined by ·.
        merged = " · ".join(keys)
        values[merged] = [" · ".join(v for v in (values[k][r] for k in keys) if v != "–") for r in range(shown.height)]
        numeric[merged] = False
        cols = [merged] + [c for c in cols if c not in keys]
        keys = [merged]
    stack = width == "column" if stack_intervals is None else stack_intervals

    # Units that stay together: an estimate and its interval, or one column.
    units: list[list[str]] = []
    i = 0
    while i < len(cols):
        c = cols[i]
        if (c not in keys and numeric[c] and i + 1 < len(cols)
                and cols[i + 1] in (c.split(" (")[0] + " 95% CI", "95% CI")):
            units.append([c, cols[i + 1]])
            i += 2
        else:
            units.append([c])
            i += 1

    def shown_columns(unit):
        return unit[:1] if stack else unit

    def measure(cap: float) -> dict[str, tuple[str, list[str], float]]:
        """Output column -> (column spec, header lines, width in points) with text wrapped at ``cap``."""
        specs = {}
        for unit in units:
            c = unit[0]
            cells = [v for u in (unit if stack else [c]) for v in values[u]]
            cell = max((text_pt(v) for v in cells), default=0.0)
            if not numeric[c] and cell > cap:
                # A wrapped text column, never narrower than its longest word (TeX would not break it).
                body = max([cap] + [text_pt(w) for v in cells for w in re.split(r"[ _/\-]", v)])
                spec = f"wrap:{body:.0f}pt"  # an l column of ragged-right paragraphs (no array package needed)
            else:
                body = cell
                spec = "r" if numeric[c] and not values[c][0].startswith("[") else ("c" if numeric[c] else "l")
            words = [w for w in re.split(r"[ _/\-]", c) if w]
            head = _wrap(_tie(c), max([body, min(HEADER_PT, text_pt(c))] + [text_pt(w) for w in words]))
            if stack and len(unit) == 2:
                head.append("[95% CI]")
            specs[c] = (spec, head, max(body, max(text_pt(h) for h in head)) + 2 * TABCOLSEP_PT)
            if not stack:
                for extra in unit[1:]:
                    cell = max((text_pt(v) for v in values[extra]), default=0.0)
                    words = [w for w in re.split(r"[ _/\-]", extra) if w]
                    head = _wrap(_tie(extra), max([cell, min(HEADER_PT, text_pt(extra))] + [text_pt(w) for w in words]))
                    specs[extra] = ("c", head, max(cell, max(text_pt(h) for h in head)) + 2 * TABCOLSEP_PT)
        return specs

    # Narrower text columns while the identifying columns and the widest unit beside them
    # would not fit (many identifying columns in one journal column).
    specs = measure(cap)
    while cap > 30 and (sum(specs[k][2] for k in keys) + max(
            (sum(specs[c][2] for c in shown_columns(u)) for u in units if u[0] not in keys), default=0) > room):
        cap *= 0.85
        specs = measure(cap)

    blocks: list[list[list[str]]] = []
    used = sum(specs[k][2] for k in keys)
    block: list[list[str]] = []
    for unit in units:
        if unit[0] in keys:
            continue
        wide = sum(specs[c][2] for c in shown_columns(unit))
        if block and used + sum(specs[c][2] for u in block for c in shown_columns(u)) + wide > room:
            blocks.append(block)
            block = []
        block.append(unit)
    if block or not blocks:
        blocks.append(block)

    env = "table*" if width == "text" else "table"
    line_pt = 9.5  # \footnotesize's baseline skip

    def lines_of(c: str, r: int) -> int:
        if specs[c][0].startswith("wrap:"):
            return max(1, -(-int(1.05 * text_pt(values[c][r])) // int(float(specs[c][0][5:-2]))))
        return 1

    # Pieces of at most PAGE_PT each: a block's header and as many of its rows as fit.
    pieces: list[tuple[list[list[str]], list[int], float]] = []
    for block in blocks:
        chosen = [[k] for k in keys] + block
        heads = [c for u in chosen for c in shown_columns(u)]
        head_pt = max(len(specs[c][1]) for c in heads) * line_pt + 8
        rows: list[int] = []
        height = head_pt
        for r in range(shown.height):
            n_lines = max([lines_of(c, r) for c in heads] + [2 if stack and any(len(u) == 2 for u in chosen) else 1])
            row_pt = n_lines * line_pt + (2 if stack else 0)
            if rows and height + row_pt > PAGE_PT - 4 * line_pt - 6:  # room for a caption
                pieces.append((chosen, rows, height))
                rows, height = [], head_pt
            rows.append(r)
            height += row_pt
        pieces.append((chosen, rows, height))

    # Floats of at most PAGE_PT (with the caption), one piece after another; the second
    # and later floats repeat the caption, "(continued)", under the same table number.
    floats: list[list[tuple[list[list[str]], list[int]]]] = [[]]
    room_left = PAGE_PT - 4 * line_pt
    for chosen, rows, height in pieces:
        if floats[-1] and height + 6 > room_left:
            floats.append([])
            room_left = PAGE_PT - 4 * line_pt
        floats[-1].append((chosen, rows))
        room_left -= height + 6

    lines: list[str] = []
    for f, parts in enumerate(floats):
        lines += [rf"\begin{{{env}}}[tp]", r"\centering", r"\footnotesize",
                  rf"\setlength{{\tabcolsep}}{{{TABCOLSEP_PT:g}pt}}"]
        if f == 0:
            lines += [rf"\caption{{{tex_escape(caption)}}}", rf"\label{{{label}}}"]
        else:
            lines += [r"\addtocounter{table}{-1}", rf"\caption{{{tex_escape(caption)} (continued)}}"]
        for b, (chosen, rows) in enumerate(parts):
            heads = [c for u in chosen for c in shown_columns(u)]
            if b:
                lines.append(r"\par\medskip")
            lines.append(rf"\begin{{tabular}}{{{''.join('l' if specs[c][0].startswith('wrap') else specs[c][0] for c in heads)}}}")
            lines.append(r"\toprule")
            lines.append(" & ".join(_header(specs[c][1], specs[c][0]) for c in heads) + r" \\")
            lines.append(r"\midrule")
            for r in rows:
                cells = []
                for u in chosen:
                    if stack and len(u) == 2:  # the estimate over its interval, top-aligned with a wrapped name
                        cells.append(r"\begin{tabular}[t]{@{}r@{}}" + _rows([_cell(values[u[0]][r], "r", True),
                                                                             _cell(values[u[1]][r], "r", True)])
                                     + r"\end{tabular}")
                    else:
                        cells += [_cell(values[c][r], specs[c][0], numeric[c]) for c in shown_columns(u)]
                lines.append(_row(cells) + (r" \\[2pt]" if stack else r" \\"))
            lines += [r"\bottomrule", r"\end{tabular}"]
        lines.append(rf"\end{{{env}}}")
    return "\n".join(lines) + "\n"


def _tie(header: str) -> str:
    """``95% CI`` kept on one line of a wrapped header (a no-break space, LaTeX's ``~``)."""
    return header.replace("95% CI", "95%\u00a0CI")


def _header(head: list[str], spec: str) -> str:
    if len(head) == 1:
        return tex_escape(head[0])
    align = "r" if spec == "r" else ("c" if spec == "c" else "l")
    return rf"\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}" + _rows(tex_escape(h) for h in head) + r"\end{tabular}"


def _rows(cells) -> str:
    """Lines joined by ``\\``, with ``{}`` before a line that starts with ``[`` (which ``\\``
    would otherwise read as its optional length)."""
    return r"\\".join(("{}" + c if c.startswith("[") else c) for c in cells)


def _row(cells: list[str]) -> str:
    line = " & ".join(cells)
    return "{}" + line if line.startswith("[") else line


def _cell(value: str, spec: str, numeric: bool) -> str:
    if numeric:
        return _number_tex(value)
    if not spec.startswith("wrap:"):
        return tex_escape(value)
    # A wrapped column: long names may also break after _ - and / (TeX breaks only at spaces).
    parts = re.split(r"([_/-])", value)
    text = "".join(tex_escape(p) + (r"\allowbreak{}" if p in ("_", "/", "-") else "") for p in parts)
    return rf"\parbox[t]{{{spec[5:]}}}{{\raggedright {text}\strut}}"  # \strut: the next row clears the last line


def headline_columns(frame: pl.DataFrame, n_estimates: int = 2) -> list[str]:
    """The columns of a one-column version of ``frame``: its identifying text columns and
    its first ``n_estimates`` estimates that have an interval (``x``, ``x_ci_low``,
    ``x_ci_high``), e.g. evaluator, ICC(A,1) and ICC(C,1) of an overview."""
    keys = []
    for c in frame.columns:
        if frame.schema[c] != pl.String:
            break
        keys.append(c)
    estimates = [c for c in frame.columns if f"{c}_ci_low" in frame.columns and f"{c}_ci_high" in frame.columns]
    if {"ci_low", "ci_high"} <= set(frame.columns) and frame.columns.index("ci_low") > 0:
        bare = frame.columns[frame.columns.index("ci_low") - 1]  # `estimate, ci_low, ci_high` (the synthesis)
        estimates = sorted({*estimates, bare}, key=frame.columns.index)
    return keys + estimates[:n_estimates]
