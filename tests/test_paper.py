"""`python -m analysis figures`: the paper set, checked for content, not existence."""

from __future__ import annotations

import re
import shutil
import subprocess

import polars as pl
import pytest

from analysis.reporting.paper import latex_table, paper_set


@pytest.fixture(scope="module")
def demo_paper(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    files = paper_set("demo", out=out, n_boot=200, seed=3)
    return out, files


def _media_box_width(pdf: bytes) -> float:
    m = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert m, "no MediaBox"
    return float(m.group(1))


def test_figures_have_the_journal_widths_and_embedded_fonts(demo_paper):
    out, _ = demo_paper
    for name, inches in (("overview_forest_column", 3.5), ("overview_forest_full", 7.0), ("bland_altman", 7.0)):
        pdf = (out / f"{name}.pdf").read_bytes()
        assert _media_box_width(pdf) == pytest.approx(72 * inches, abs=0.01), name
        assert b"/FontFile2" in pdf, f"{name}: fonts are not embedded"  # TrueType font programs
        assert b"/CreationDate" not in pdf
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(out / "overview_forest_column.pdf")], capture_output=True,
                                 text=True).stdout.splitlines()[2:]
        assert listing and all(line.split()[-5] == "yes" for line in listing), listing


def test_the_overview_table_and_its_latex_agree(demo_paper):
    out, _ = demo_paper
    overview = pl.read_csv(out / "overview.csv")
    assert overview["evaluator"].to_list() == ["gpt-4o-mini", "gpt-5-nano", "meta-llama", "jury"]
    tex = (out / "overview.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    row = overview.filter(pl.col("evaluator") == "meta-llama").row(0, named=True)
    # The LaTeX row prints the CSV's numbers rounded to 3 decimals, the interval in brackets.
    assert f"{row['icc_a1']:.3f} & [{row['icc_a1_ci_low']:.3f}, {row['icc_a1_ci_high']:.3f}]" in tex
    assert "gpt-4o-mini" in tex and r"\_" not in tex.split(r"\midrule")[1].split("\n")[1].split("&")[0]


def test_latex_escapes_and_rounds():
    t = latex_table(pl.DataFrame({"name": ["a_b & c"], "bias": [-4.3e-17], "ci_low": [0.1], "ci_high": [0.25]}),
                    caption="x%", label="tab:x")
    assert r"a\_b \& c & 0.000 & [0.100, 0.250] \\" in t and r"\caption{x\%}" in t


def test_the_figures_command(tmp_path):
    import sys

    from analysis.data.paths import PROJECT_ROOT

    proc = subprocess.run([sys.executable, "-m", "analysis", "figures", "--study", "demo", "--out", str(tmp_path),
                           "--format", "png", "--n-boot", "50"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "bland_altman.png", "category_heatmap_jury.png", "overview_forest_column.png", "overview_forest_full.png"]
    bad = subprocess.run([sys.executable, "-m", "analysis", "figures", "--study", "demo", "--format", "gif"],
                         capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert bad.returncode == 2 and "unknown format(s) ['gif']" in bad.stderr
