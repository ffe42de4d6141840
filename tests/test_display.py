"""What a reader sees of a table: long tables say how much they show and where the rest
is, in the notebooks and in ``summary``; results are shown as tables, not reprs."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from analysis.reporting.display import LONG_TABLE, format_table, table_note
from analysis.reporting.tables import bland_altman_table, write_table


def test_a_long_table_shows_its_first_rows_and_names_its_csv(tmp_path):
    df = pl.DataFrame({"rater": [f"r{i}" for i in range(130)], "bias": np.linspace(-1, 1, 130),
                       "bias_ci_low": np.linspace(-1.2, 0.8, 130), "bias_ci_high": np.linspace(-0.8, 1.2, 130)})
    assert table_note(df) == f"first {LONG_TABLE} of 130 rows (× 4 columns); the other rows are not shown"
    write_table(df, "per_rater", tmp_path / "tables")
    html = format_table(df)
    assert f"first {LONG_TABLE} of 130 rows (× 4 columns); the full table is tables/per_rater.csv" in html
    assert len(re.findall(r"<td[^>]*>r\d+</td>", html)) == LONG_TABLE and ">r49<" in html and ">r50<" not in html
    assert pl.read_csv(tmp_path / "tables" / "per_rater.csv").height == 130  # the CSV has everything
    # the columns a notebook selects from a written table point to it too; other rows do not
    assert table_note(df.select("rater", "bias")).endswith("the full table is tables/per_rater.csv")
    assert table_note(df.with_columns(pl.col("bias") + 1)).endswith("the other rows are not shown")
    assert table_note(df.head(LONG_TABLE)) == f"{LONG_TABLE} rows × 4 columns"


def test_summary_says_what_it_left_out(monkeypatch, capsys, tmp_path):
    from analysis.cli import summary

    long = pl.DataFrame({"item": [f"i{k}" for k in range(summary.PRINTED_ROWS + 37)], "x": 1.0})
    meta = pl.DataFrame({"header": ["h"], "scale": ["s"]})
    monkeypatch.setattr(summary, "compute_summary", lambda *a, **k: {"_meta": meta, "per_item": long})
    monkeypatch.setattr(summary, "why_tables", lambda *a, **k: {})
    summary.print_summary("demo", out_dir=None)
    out = capsys.readouterr().out
    assert (f"(first {summary.PRINTED_ROWS} of {long.height} rows, 37 left out; --out DIR writes every row to "
            "DIR/per_item.csv)") in out
    assert f"i{summary.PRINTED_ROWS - 1} " in out and f"i{summary.PRINTED_ROWS} " not in out
    summary.print_summary("demo", out_dir=str(tmp_path))
    assert f"37 left out; every row is in {tmp_path / 'per_item'}.csv)" in capsys.readouterr().out
    assert pl.read_csv(tmp_path / "per_item.csv").height == long.height


def test_bland_altman_is_shown_as_a_table_of_its_three_lines():
    from analysis.stats.bias import bland_altman

    rng = np.random.default_rng(0)
    human = rng.integers(1, 6, 80).astype(float)
    ba = bland_altman(np.clip(human + rng.integers(-1, 2, 80), 1, 5), human)
    t = bland_altman_table(ba, unit="points on 1–5")
    assert t.columns == ["quantity", "points on 1–5", "ci_low", "ci_high", "n"]
    assert t["points on 1–5"].to_list() == pytest.approx([ba.estimate, ba.loa_lower, ba.loa_upper])
    assert t["ci_low"].to_list() == pytest.approx([ba.ci_low, ba.loa_lower_ci_low, ba.loa_upper_ci_low])
    assert t["ci_high"].to_list() == pytest.approx([ba.ci_high, ba.loa_lower_ci_high, ba.loa_upper_ci_high])
    html = format_table(t)
    assert "BlandAltman(" not in html and "np.float64" not in html and "95% CI" in html
