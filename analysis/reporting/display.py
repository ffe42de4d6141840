"""How tables look in the notebooks and their HTML: formatted, not printed text.

:func:`enable` (called by :func:`analysis.reporting.notebook.open_study`) makes every
polars DataFrame shown as a cell's result render through :func:`format_table`:
numbers rounded as a paper prints them (3 decimals; percentages 1; p-values below 0.001
as ``< 0.001``), each interval
``*ci_low``/``*ci_high`` merged into one ``[low, high]`` column beside its estimate,
units in the headers (``bias (points)``), missing values as ``–``, and no dtype rows or
``shape:`` lines. A table longer than :data:`LONG_TABLE` rows shows its first
:data:`LONG_TABLE` and says so: "first 50 of 312 rows; the full table is
tables/<name>.csv" (the CSV file written by :func:`analysis.reporting.tables.write_table`,
which keeps every row and digit).
"""

from __future__ import annotations

import math

import polars as pl

DECIMALS = 3
PCT_DECIMALS = 1
LONG_TABLE = 50
"""Tables with more rows than this show their first rows and say where all of them are."""

UNITS = {
    "bias": "bias (points)", "mae": "MAE (points)", "rmse": "RMSE (points)", "within1_pct": "within 1 point (%)",
    "mse": "MSD (points²)", "bias_sq": "bias² (points²)", "scale": "scale (points²)",
    "correlation": "correlation term (points²)", "human_mean": "human mean (points)",
    "judge_mean": "judge mean (points)", "mean": "mean", "n": "n", "n_items": "items", "n_records": "records",
    "agreement_pct": "agreement (%)", "pct_le2": "score ≤ 2 (%)", "pct_eq1": "score = 1 (%)",
    "icc_a1": "ICC(A,1)", "icc_c1": "ICC(C,1)", "human_icc_a1": "human–human ICC(A,1)",
    "ceiling_icc_a1": "ceiling ICC(A,1) vs the human mean", "ceiling_icc_c1": "ceiling ICC(C,1) vs the human mean",
    "delta_icc_a1": "Δ ICC(A,1) vs the other human", "run_icc_a1": "run-to-run ICC(A,1)",
    "majority_kappa": "κ (majority vote)", "kappa": "κ (mean of runs)", "kappa_sd": "κ SD",
    "cohen_kappa": "Cohen's κ", "gwet_ac1": "Gwet AC1", "gwet_ac2_quadratic": "Gwet AC2 (quadratic)",
    "kripp_alpha": "Krippendorff α", "qwk": "QWK",
}
"""Column -> header with its unit; columns not listed keep their names."""

PVALUE_COLUMNS = frozenset({"pvalue", "pval", "p_value", "p_adjusted"})
"""Columns holding p-values: shown as ``< 0.001`` below 0.001, not as ``0.000``."""
P_FLOOR = 0.001



def _fmt(x, decimals: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        text = f"{x:.{decimals}f}"
        # -0.000 is a zero that rounding made negative: print it as 0.
        return text[1:] if text.startswith("-") and float(text) == 0 else text
    return str(x)


def _fmt_p(x) -> str:
    """A p-value as a paper prints it: 3 decimals, ``< 0.001`` below :data:`P_FLOOR`."""
    if isinstance(x, float) and not math.isnan(x) and x < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return _fmt(x, DECIMALS)


def _is_pvalue(name: str) -> bool:
    return name in PVALUE_COLUMNS or name.endswith("_pvalue")


def _decimals(name: str) -> int:
    return PCT_DECIMALS if "pct" in name or name.endswith("_share") else DECIMALS


def tidy_for_display(df: pl.DataFrame) -> pl.DataFrame:
    """The table as shown: intervals merged into ``[low, high]`` columns, numbers rounded to
    text, units in the headers. Every value is a string."""
    cols = df.columns
    out: dict[str, list[str]] = {}
    skip = set()
    for c in cols:
        if c in skip:
            continue
        if c.endswith("ci_low") and c[: -len("ci_low")] + "ci_high" in cols:
            prefix = c[: -len("ci_low")]
            hi = prefix + "ci_high"
            d = _decimals(prefix)
            name = prefix.rstrip("_")
            short = UNITS.get(name, name.replace("_", " ")).split(" (")[0] if name else ""
            out[f"{short + ' ' if short else ''}95% CI"] = [
                "–" if a is None or b is None or (isinstance(a, float) and math.isnan(a))
                else f"[{_fmt(a, d)}, {_fmt(b, d)}]" for a, b in zip(df[c].to_list(), df[hi].to_list())]
            skip.add(hi)
            continue
        values = df[c].to_list()
        d = _decimals(c)
        fmt = _fmt_p if _is_pvalue(c) else (lambda v, d=d: _fmt(v, d))
        out[UNITS.get(c, c)] = [fmt(v) if not isinstance(v, bool) else ("yes" if v else "no") for v in values]
    return pl.DataFrame(out, schema={k: pl.String for k in out}) if out else pl.DataFrame()


def format_table(df: pl.DataFrame, *, title: str | None = None) -> str:
    """HTML of ``df`` as a paper prints it (see the module docstring); a table of more than
    :data:`LONG_TABLE` rows shows its first :data:`LONG_TABLE` and says where all are."""
    from great_tables import GT

    shown = tidy_for_display(df.head(LONG_TABLE))
    gt = GT(shown).sub_missing(missing_text="–").tab_options(table_font_size="13px", data_row_padding="2px")
    if title:
        gt = gt.tab_header(title=title)
    return gt.tab_source_note(table_note(df)).as_raw_html()


def table_note(df: pl.DataFrame) -> str:
    """``12 rows × 5 columns``, or for a long table ``first 50 of 312 rows (× 5 columns);
    the full table is tables/<name>.csv``."""
    from analysis.reporting.tables import written_as

    if df.height <= LONG_TABLE:
        return f"{df.height} rows × {df.width} columns"
    path = written_as(df)
    where = f"the full table is {path}" if path else "the other rows are not shown"
    return f"first {LONG_TABLE} of {df.height} rows (× {df.width} columns); {where}"


def enable() -> None:
    """Show polars DataFrames through :func:`format_table` in this IPython kernel (no-op
    outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks extra
        return
    ip = get_ipython()
    if ip is None:
        return
    ip.display_formatter.formatters["text/html"].for_type(pl.DataFrame, lambda df: format_table(df))
    # The plain-text form is what papermill logs and what `print` shows: keep it readable.
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
