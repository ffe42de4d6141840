"""Batch rendering: every notebook x evaluator under papermill, byte-identical tables
and figures for the same seed, failures isolated and reported, real-data tables that
reproduce the authors' numbers."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import polars as pl
import pytest

from analysis.reporting.render import main as render_main, render
from analysis.studies.registry import get_study

DEMO = get_study("demo")
EVALUATORS = DEMO.evaluators()

N_BOOT = 200


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in {".csv", ".pdf", ".svg", ".png"}}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    status = render(["demo"], None, jobs=2, n_boot=N_BOOT, seed=11, reports_dir=root / "reports",
                    figures_dir=root / "figures", progress=False)
    return root, status


def test_every_notebook_runs_for_every_evaluator(demo_run):
    root, status = demo_run
    assert status == 0
    for nb in DEMO.notebooks_of("study"):
        for ext in (".ipynb", ".html"):
            assert (root / "reports" / "demo" / f"{nb.name}{ext}").stat().st_size > 0
    for ext in ("pdf", "svg", "png"):
        assert (root / "figures" / "demo" / f"score_distribution.{ext}").is_file()
    for ev in EVALUATORS:
        for nb in DEMO.notebooks_of("evaluator"):
            for ext in (".ipynb", ".html"):
                assert (root / "reports" / "demo" / ev / f"{nb.name}{ext}").stat().st_size > 0
        tables = root / "reports" / "demo" / ev / "tables"
        for name in ("agreement", "icc", "bias", "category_appropriateness"):
            assert (tables / f"{name}.csv").is_file(), (ev, name)
        for fig in ("icc_forest", "bland_altman", "category_heatmap"):
            for ext in ("pdf", "svg", "png"):
                assert (root / "figures" / "demo" / ev / f"{fig}.{ext}").is_file()
    assert not list(root.rglob(".*.tmp*")), "no temporary files are left behind"


def test_tables_have_the_documented_columns(demo_run):
    tables = demo_run[0] / "reports" / "demo" / "gpt-5-nano" / "tables"
    cols = {name: pl.read_csv(tables / f"{name}.csv").columns for name in
            ("agreement", "icc", "bias", "category_appropriateness")}
    assert cols["agreement"] == ["rater_a", "rater_b", "n", "mae", "rmse", "within1_pct", "qwk", "kripp_alpha",
                                 "gwet_ac1", "gwet_ac2_quadratic"]
    assert cols["icc"] == ["rater_a", "rater_b", "type", "icc", "ci_low", "ci_high", "ci_method", "n", "n_valid",
                           "ci_note", "ci_assumes", "n_dropped"]
    assert cols["bias"] == ["evaluator", "reference", "category", "n", "bias", "ci_low", "ci_high", "n_valid",
                            "ci_note", "n_dropped"]
    assert cols["category_appropriateness"][:9] == ["category", "answer_model", "n_items", "n_scores", "mean",
                                                    "ci_low", "ci_high", "pct_le2", "pct_le2_ci_low"]
    bias = pl.read_csv(tables / "bias.csv")
    assert "all" in bias["category"].to_list()


def test_index_links_everything_with_provenance(demo_run):
    index = (demo_run[0] / "reports" / "index.html").read_text()
    assert "seed 11" in index and f"{N_BOOT} bootstrap resamples" in index and "package version" in index
    assert "synthetic demo data" in index
    for ev in EVALUATORS:
        assert f"demo/{ev}/02_reliability.html" in index and f"demo/{ev}/tables/icc.csv" in index
    assert "../figures/demo/jury/category_heatmap.png" in index


def test_rendering_twice_gives_identical_tables_and_figures(demo_run, tmp_path):
    root, _ = demo_run
    assert render(["demo"], None, jobs=2, n_boot=N_BOOT, seed=11, reports_dir=tmp_path / "reports",
                  figures_dir=tmp_path / "figures", progress=False) == 0
    first = _digests(root / "reports") | _digests(root / "figures")
    second = _digests(tmp_path / "reports") | _digests(tmp_path / "figures")
    assert len(first) > 4 * 15 and first == second


def test_unknown_evaluator_fails_at_once_with_the_valid_names(capsys):
    with pytest.raises(ValueError, match="unknown evaluator 'gpt-9'; found in the data: gpt-4o-mini, gpt-5-nano"):
        render_main(["--dataset", "demo", "--evaluator", "gpt-9"])


def test_a_failing_notebook_does_not_stop_the_others(tmp_path, capsys):
    nbs = tmp_path / "notebooks"
    shutil.copytree(demo_run_notebooks(), nbs)
    broken = json.loads((nbs / "03_bias.ipynb").read_text())
    broken["cells"].append({"cell_type": "code", "metadata": {}, "source": "raise RuntimeError('planted failure')",
                            "outputs": [], "execution_count": None})
    (nbs / "03_bias.ipynb").write_text(json.dumps(broken))
    status = render(["demo"], ["jury"], jobs=2, n_boot=50, seed=1, reports_dir=tmp_path / "reports",
                    figures_dir=tmp_path / "figures", notebooks_dir=nbs, progress=False)
    out = capsys.readouterr().out
    assert status == 1
    assert "rendered 3/4 notebooks" in out and "FAILED demo/jury/03_bias" in out and "planted failure" in out
    assert (tmp_path / "reports" / "demo" / "jury" / "04_category_appropriateness.html").is_file()
    assert "FAILED" in (tmp_path / "reports" / "index.html").read_text()


def demo_run_notebooks():
    from analysis.data.paths import PROJECT_ROOT

    return PROJECT_ROOT / "notebooks"


@pytest.mark.real_data
def test_real_data_tables_reproduce_the_authors(shared_data_root, tmp_path):
    status = render(["bhh"], ["gpt-4o-mini"], data_root=shared_data_root, jobs=2, n_boot=N_BOOT, seed=3,
                    reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "bhh" / "gpt-4o-mini" / "tables"
    study_tables = tmp_path / "reports" / "bhh" / "tables"
    agree = {(a, b): row for a, b, *row in pl.read_csv(tables / "agreement.csv").select(
        "rater_a", "rater_b", "n", "mae", "rmse", "within1_pct").iter_rows()}
    names = {"jury": "LLM-Jury"}
    ref = {}
    for metric in ("mae", "rmse", "within1"):
        path = shared_data_root / "between-help-and-harm/outputs/appropriateness_agreement" / f"pairwise_{metric}.csv"
        rows = list(csv.reader(path.open()))
        ref[metric] = {(r[0], c): float(v) for r in rows[1:] for c, v in zip(rows[0][1:], r[1:])}
    checked = 0
    for (a, b), (n, mae, rmse, within1) in agree.items():
        key = (names.get(a, a), names.get(b, b))
        if key not in ref["mae"]:
            continue  # the human mean is ours, not the authors'
        assert n == 190
        assert mae == pytest.approx(ref["mae"][key], abs=1e-9)
        assert rmse == pytest.approx(ref["rmse"][key], abs=1e-9)
        assert within1 == pytest.approx(ref["within1"][key], abs=1e-9)
        checked += 1
    assert checked == 6  # gpt-4o-mini with the 5 others, and H1 vs H2
    means = {(c, r): m for c, r, _, m in pl.read_csv(study_tables / "review_category_means.csv").iter_rows()}
    assert means[("self-harm", "H1")] == pytest.approx(1.6667, abs=5e-5)
    assert means[("suicidal_ideation", "H1")] == pytest.approx(1.7059, abs=5e-5)
    assert means[("no_crisis", "gpt-4o-mini")] == pytest.approx(4.6170, abs=5e-5)


@pytest.mark.real_data
def test_mentalalign_notebook_renders_its_tables(shared_data_root, tmp_path):
    status = render(["mentalalign"], ["gpt-4o"], data_root=shared_data_root, jobs=1, n_boot=N_BOOT, seed=5,
                    reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "mentalalign" / "gpt-4o" / "tables"
    icc = pl.read_csv(tables / "icc.csv")
    assert icc.columns == ["variant", "level", "attribute", "type", "icc", "ci_low", "ci_high", "ci_method", "n",
                           "category_koo_li", "authors_label", "n_valid", "ci_note", "ci_assumes", "n_dropped"]
    cell = icc.filter((pl.col("variant") == "as_published") & (pl.col("level") == "system")
                      & (pl.col("attribute") == "Empathy") & (pl.col("ci_method") == "F"))
    got = dict(cell.select("type", "icc").iter_rows())
    assert got["ICC(C,1)"] == pytest.approx(0.835, abs=0.005) and got["ICC(A,1)"] == pytest.approx(0.288, abs=0.005)
    assert set(icc["level"]) == {"system", "response"} and set(icc["variant"]) == {"as_published", "clean"}
    bias = pl.read_csv(tables / "bias.csv")
    assert bias.columns[:9] == ["variant", "attribute", "human_mean", "judge_mean", "bias", "ci_low", "ci_high",
                                "mse", "n"]
    assert (tmp_path / "reports" / "mentalalign" / "tables" / "human_table.csv").is_file()
    assert (tmp_path / "figures" / "mentalalign" / "bias_heatmap.pdf").is_file()
    by_source = pl.read_csv(tables / "bias_by_source.csv")
    assert by_source.height == 2 * 7 * 9 and {"bias", "ci_low", "ci_high", "mse"} <= set(by_source.columns)
    assert (by_source["ci_low"] <= by_source["bias"]).all() and (by_source["bias"] <= by_source["ci_high"]).all()
    for fig in ("icc_forest", "bland_altman"):
        assert (tmp_path / "figures" / "mentalalign" / "gpt-4o" / f"{fig}.pdf").is_file()


@pytest.mark.real_data
def test_unknown_judge_fails_at_once(shared_data_root):
    with pytest.raises(ValueError, match="unknown judge 'gpt-9'; found in the data: claude, gemini, gpt-4o, o4-mini"):
        render_main(["--dataset", "mentalalign", "--evaluator", "gpt-9", "--data-root", str(shared_data_root)])


@pytest.mark.real_data
def test_dialoguesafety_notebook_renders_its_tables(shared_data_root, tmp_path):
    status = render(["dialoguesafety"], ["roberta-large"], data_root=shared_data_root, jobs=1, n_boot=N_BOOT,
                    seed=5, reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "dialoguesafety" / "roberta-large" / "tables"
    metrics = pl.read_csv(tables / "metrics.csv")
    assert metrics.columns == ["metric", "mean", "sd", "ci_low", "ci_high"]
    acc = metrics.filter(pl.col("metric") == "accuracy").row(0, named=True)
    assert 100 * acc["mean"] == pytest.approx(70.4, abs=0.1) and 100 * acc["sd"] == pytest.approx(3.6, abs=0.1)
    per = pl.read_csv(tables / "per_category.csv")
    assert per.columns[:7] == ["category", "n_gold", "recall_mean_runs", "recall_majority", "ci_low", "ci_high",
                               "too_small"]
    assert (tmp_path / "figures" / "dialoguesafety" / "roberta-large" / "confusion_matrix.png").is_file()


def test_index_keeps_reports_of_earlier_runs(demo_run):
    import datetime as dt

    from analysis.reporting.render import write_index

    root = demo_run[0]
    index = write_index([], reports_dir=root / "reports", figures_dir=root / "figures", seed=1, n_boot=10,
                        data_root=None, started=dt.datetime.now(dt.timezone.utc), seconds=0.0).read_text()
    assert "demo/gpt-5-nano/03_bias.html" in index and "from an earlier run" in index
