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


def _pdflatex() -> str:
    """pdflatex's path; skips the test when it is absent (fails with CI=true, where .ci/run installs it)."""
    from conftest import on_ci

    path = shutil.which("pdflatex")
    if path is None:
        message = ("pdflatex not available: install Debian's texlive-latex-base and texlive-latex-recommended "
                   "(booktabs) to run this test")
        if on_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


def _compile(tables: list[str], folder, *, twocolumn: bool) -> list[str]:
    """pdflatex on a minimal article (booktabs only) holding ``tables``; the
    log's errors (``!`` lines), overfull boxes and floats taller than the page, empty when
    it builds and fits."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = (rf"\documentclass{'[twocolumn]' if twocolumn else ''}{{article}}" "\n"
           r"\usepackage{booktabs}" "\n" r"\begin{document}" "\n"
           + "\n".join(tables) + "\nSome text.\n" r"\end{document}" "\n")
    (folder / "doc.tex").write_text(doc, encoding="utf-8")
    proc = subprocess.run([_pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], check=False,
                          cwd=folder, capture_output=True, text=True, timeout=120)
    log = (folder / "doc.log").read_text(encoding="latin-1")
    problems = [line for line in log.splitlines() if line.startswith("!") or "Overfull \\hbox" in line
                or "Overfull \\vbox" in line or "Float too large" in line]
    if proc.returncode != 0 and not problems:
        problems.append(f"pdflatex exited {proc.returncode}")
    return problems


def test_the_pdflatex_check_finds_errors_and_overfull_tables(tmp_path):
    wide = latex_table(pl.DataFrame({f"column {i}": [0.123456] for i in range(30)}), caption="wide", label="tab:w")
    assert "[U+" not in wide and wide.isascii()
    raw = "\\begin{tabular}{" + "r" * 30 + "}\n" + " & ".join(["0.123"] * 30) + " \\\\\n\\end{tabular}\n"
    assert any("Overfull \\hbox" in p for p in _compile([raw], tmp_path / "over", twocolumn=False))
    assert any(p.startswith("! LaTeX Error") or "Unicode" in p
               for p in _compile(["Δ ICC"], tmp_path / "unicode", twocolumn=False))


def test_the_paper_tables_compile_and_fit_the_page(demo_paper, tmp_path):
    out, files = demo_paper
    assert {"overview.tex", "overview_column.tex"} <= {f.name for f in files}
    tables = [(out / name).read_text(encoding="utf-8") for name in ("overview.tex", "overview_column.tex")]
    assert all(t.isascii() for t in tables)
    assert r"\begin{table*}" in tables[0] and r"\begin{table}" in tables[1]
    for twocolumn in (False, True):
        assert _compile(tables, tmp_path / f"two{twocolumn}", twocolumn=twocolumn) == []


def test_every_symbol_and_special_character_is_typeset():
    from analysis.reporting.display import UNITS
    from analysis.reporting.latex import tex_escape

    symbols = "Δ – − × ≥ ≤ κ α ² ∞ · ± → é ü ç _ % & # $ { } ~ ^ \\ < > ’ “ ” …"
    escaped = tex_escape(symbols)
    assert escaped.isascii() and "[U+" not in escaped
    for a, b in (("Δ", r"$\Delta$"), ("–", "--"), ("−", "$-$"), ("×", r"$\times$"), ("≥", r"$\geq$"),
                 ("κ", r"$\kappa$"), ("α", r"$\alpha$"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("é", r"\'{e}")):
        assert tex_escape(a) == b, a
    assert all(tex_escape(h).isascii() and "[U+" not in tex_escape(h) for h in UNITS.values())
    assert tex_escape("😀") == "[U+1F600]"  # never passed through for pdflatex to stop on


def test_tables_of_every_kind_compile_and_fit(tmp_path):
    from analysis.reporting.latex import headline_columns

    names = ["an-evaluator-with-a-very-long-name_llama-3.1-70b-instruct-turbo", "judge_50% & co #1", "jury"]
    frame = pl.DataFrame({
        "evaluator": names, "attribute": ["Empathy", "Safety_of_the_answer", "Understanding"], "n": [190, 200, 12],
        "icc_a1": [0.707, -0.05, 0.9], "icc_a1_ci_low": [0.63, -0.2, 0.8], "icc_a1_ci_high": [0.787, 0.1, 0.95],
        "delta_icc_a1": [-0.182, 0.0, 0.1], "delta_icc_a1_ci_low": [-0.266, -0.1, 0.0],
        "delta_icc_a1_ci_high": [-0.107, 0.1, 0.2], "majority_kappa": [0.5, None, 0.1],
        "kripp_alpha": [0.4, 0.5, 0.6], "pct_le2": [12.5, 3.0, 0.0], "pvalue": [1e-12, 0.04, 0.5],
        "verdict": ["agrees with a human less well than the other human does (κ ≥ 0.6 × the ceiling)"] * 3})
    tables = [latex_table(frame, caption="Every kind: Δ, κ, α, –, −, ×, ≥, _ % & #", label="tab:all"),
              latex_table(frame, caption="The headline", label="tab:col", width="column",
                          columns=headline_columns(frame))]
    synthesis = pl.DataFrame({"study": ["Between Help and Harm", "MentalAlign-70k", "DialogueSafety"],
                              "evaluator": names, "attribute": [None, "Understanding", None],
                              "measure": ["ICC(A,1)", "ICC(A,1)", "Cohen's κ"], "estimate": [0.7, 0.3, 0.15],
                              "ci_low": [0.63, 0.25, 0.1], "ci_high": [0.78, 0.35, 0.19], "n": [190, 8906, 800],
                              "human_ceiling": [0.86, None, None]})
    assert headline_columns(synthesis) == ["study", "evaluator", "attribute", "measure", "estimate", "n"][:5]
    tables += [latex_table(synthesis, caption="Synthesis", label="tab:s"),
               latex_table(synthesis, caption="Synthesis", label="tab:sc", width="column",
                           columns=headline_columns(synthesis))]
    assert "[0.630, 0.780]" in tables[-1]  # the bare interval goes with its estimate
    long = pl.concat([synthesis.with_columns(pl.col("evaluator") + f"-{i}") for i in range(40)])  # 120 rows
    tables += [latex_table(long, caption="Long", label="tab:long"),
               latex_table(long, caption="Long", label="tab:longc", width="column", columns=headline_columns(long))]
    assert r"\caption{Long (continued)}" in tables[-1]
    assert "$<$ 0.001" in tables[0] and "0.000" not in tables[0].split(r"\midrule")[-1]
    assert r"$-$0.182" in tables[0]
    for twocolumn in (False, True):
        assert _compile(tables, tmp_path / f"two{twocolumn}", twocolumn=twocolumn) == []


def test_pvalues_print_as_a_paper_prints_them():
    from analysis.reporting.display import tidy_for_display

    shown = tidy_for_display(pl.DataFrame({"pvalue": [0.0, 1e-4, 0.000999, 0.001, 0.0123, None],
                                           "p_adjusted": [0.2, 0.0004, 1.0, 0.5, 0.05, 0.01]}))
    assert shown["pvalue"].to_list() == ["< 0.001", "< 0.001", "< 0.001", "0.001", "0.012", "–"]
    assert shown["p_adjusted"].to_list() == ["0.200", "< 0.001", "1.000", "0.500", "0.050", "0.010"]
