"""Batch rendering, checked for content: the tables a rendered notebook writes equal the
package's functions on the same data, every notebook shows its figures, the index shows
the headline table and a thumbnail per study, one notebook renders byte-identically twice,
failures are isolated, and the real-data tables reproduce the authors' numbers."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess

import polars as pl
import pytest

from analysis.data.paths import PROJECT_ROOT
from analysis.cli.render import main as render_main
from analysis.render.runner import render
from analysis.render.worker import execute_one
from analysis.reporting.tables import write_table
from analysis.studies.registry import get_study, load_study
from analysis.studies.scored import HUMAN_MEAN, bias_table, evaluator_pairs, icc_table

pytestmark = pytest.mark.slow

DEMO = get_study("demo")
N_BOOT, SEED, EVALUATOR = 120, 11, "jury"


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in {".csv", ".pdf", ".svg", ".png"}}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's study notebooks and one evaluator's notebooks, rendered once."""
    root = tmp_path_factory.mktemp("render")
    status = render(["demo"], [EVALUATOR], jobs=2, n_boot=N_BOOT, seed=SEED, reports_dir=root / "reports",
                    figures_dir=root / "figures", progress=False)
    return root, status


def _rendered(root):
    reports = root / "reports" / "demo"
    return [reports / f"{nb.name}.ipynb" for nb in DEMO.notebooks_of("study")] + \
        [reports / EVALUATOR / f"{nb.name}.ipynb" for nb in DEMO.notebooks_of("evaluator")]


def _figure_calls(source: str) -> int:
    """Calls of save_figure/show_figure that run when the cell runs (not inside a def)."""
    import ast

    def calls(node) -> int:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return 0
        own = (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id in ("save_figure", "show_figure"))
        return int(own) + sum(calls(child) for child in ast.iter_child_nodes(node))

    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return calls(ast.parse("\n".join(lines)))


def test_every_rendered_notebook_shows_its_figures(demo_run):
    root, status = demo_run
    assert status == 0
    for path in _rendered(root):
        nb = json.loads(path.read_text())
        # Every cell that saves a figure shows it inline, or (a figure that does not apply to
        # this study, e.g. the judge x attribute grid of a one-attribute study) prints why.
        saved = images = 0
        for c in nb["cells"]:
            if c["cell_type"] != "code":
                continue
            source = "".join(c["source"])
            calls = _figure_calls(source)
            if not calls:
                continue
            shown = sum("image/png" in o.get("data", {}) for o in c.get("outputs", []))
            said = any(o.get("output_type") == "stream" and o.get("text") for o in c.get("outputs", []))
            assert shown >= 1 or said, f"{path.name}: a figure cell shows no figure and says nothing:\n{source}"
            saved += calls if shown else 0
            images += shown
        assert images >= 1 and images >= min(saved, images), f"{path.name}: {images} inline images"
        html = path.with_suffix(".html").read_text()
        assert html.count("data:image/png;base64") >= images, f"{path.name}: figures missing from the HTML"
        # Tables are formatted HTML, not printed polars text.
        assert "shape: (" not in html and "┌" not in html, f"{path.name}: a table printed as text"


def test_rendered_tables_equal_the_package_on_the_same_data(demo_run, tmp_path):
    root, _ = demo_run
    tables = root / "reports" / "demo" / EVALUATOR / "tables"
    study = load_study("demo", seed=SEED)
    scores = study.review_scores()
    refs = list(study.spec.references)
    pairs = evaluator_pairs(scores, EVALUATOR, refs)
    icc_pairs = [(EVALUATOR, r) for r in [*refs, HUMAN_MEAN]] + [p for p in pairs if p[0] in refs]
    expected = {
        "icc": icc_table(scores, icc_pairs, n_boot=N_BOOT, seed=SEED),
        "bias": bias_table(scores, [EVALUATOR], references=(*refs, HUMAN_MEAN), n_boot=N_BOOT, seed=SEED),
    }
    for name, frame in expected.items():
        assert (tables / f"{name}.csv").read_bytes() == write_table(frame, name, tmp_path).read_bytes(), name
    icc = pl.read_csv(tables / "icc.csv")
    assert set(icc["ci_method"]) == {"F", "BCa"}
    a_forms = icc.filter(pl.col("type") == "ICC(A,1)")
    assert set(a_forms.filter(pl.col("ci_method") == "F")["ci_assumes"]) == {"raters random"}
    assert set(a_forms.filter(pl.col("ci_method") == "BCa")["ci_assumes"]) == {"resampled items"}


def test_the_overview_names_every_evaluator(demo_run):
    root, _ = demo_run
    overview = pl.read_csv(root / "reports" / "demo" / "tables" / "overview.csv")
    assert overview["evaluator"].to_list() == list(DEMO.evaluators())
    assert ((overview["icc_a1_ci_low"] <= overview["icc_a1"]) & (overview["icc_a1"] <= overview["icc_a1_ci_high"])).all()


def test_index_shows_the_headline_table_and_a_thumbnail(demo_run):
    root, _ = demo_run
    index = (root / "reports" / "index.html").read_text()
    overview = pl.read_csv(root / "reports" / "demo" / "tables" / "overview.csv")
    jury = overview.filter(pl.col("evaluator") == "jury").row(0, named=True)
    assert f"<td>{jury['icc_a1']:.3f}</td>" in index, "the headline ICC(A,1) is on the index"
    assert "<img class='thumb' src='../figures/demo/overview_forest.png'" in index
    assert f"seed {SEED}" in index and f"{N_BOOT} bootstrap resamples" in index and "package 0." in index
    assert "synthetic demo data generated from the seed" in index
    for path in _rendered(root):
        assert path.with_suffix(".html").relative_to(root / "reports").as_posix() in index


def test_one_notebook_renders_byte_identically(demo_run, tmp_path):
    root, _ = demo_run
    first = root / "reports" / "demo" / EVALUATOR / "02_reliability.ipynb"
    params = {"evaluator": EVALUATOR, "study": "demo", "data_root": None, "n_boot": N_BOOT, "seed": SEED,
              "output_dir": str(tmp_path / "reports"), "figures_dir": str(tmp_path / "figures")}
    execute_one(str(PROJECT_ROOT / "notebooks" / "02_reliability.ipynb"), str(tmp_path / "reports" / first.name),
                params, str(PROJECT_ROOT / "notebooks"))
    again = _digests(tmp_path / "reports") | {f"fig/{k}": v for k, v in _digests(tmp_path / "figures").items()}
    before = {k: v for k, v in _digests(first.parent).items() if k.startswith("tables/") and
              k.split("/")[-1] in {"agreement.csv", "icc.csv", "human_ceiling.csv"}}
    before |= {f"fig/{k}": v for k, v in _digests(root / "figures" / "demo" / EVALUATOR).items()
               if k.startswith("icc_forest")}
    assert before and all(again[k] == v for k, v in before.items())


def test_a_failing_notebook_does_not_stop_the_others(tmp_path, capsys):
    nbs = tmp_path / "notebooks"
    shutil.copytree(PROJECT_ROOT / "notebooks", nbs)
    broken = json.loads((nbs / "03_bias.ipynb").read_text())
    broken["cells"].append({"cell_type": "code", "metadata": {}, "source": "raise RuntimeError('planted failure')",
                            "outputs": [], "execution_count": None})
    (nbs / "03_bias.ipynb").write_text(json.dumps(broken))
    status = render(["demo"], ["jury"], jobs=2, n_boot=30, seed=1, reports_dir=tmp_path / "reports",
                    figures_dir=tmp_path / "figures", notebooks_dir=nbs, progress=False)
    out = capsys.readouterr().out
    n = len(DEMO.notebooks_of("study")) + len(DEMO.notebooks_of("evaluator"))
    assert status == 1
    assert f"rendered {n - 1}/{n} notebooks" in out and "FAILED demo/jury/03_bias" in out and "planted failure" in out
    assert (tmp_path / "reports" / "demo" / "jury" / "04_category_appropriateness.html").is_file()
    assert "FAILED: 03_bias / jury: RuntimeError: planted failure" in (tmp_path / "reports" / "index.html").read_text()


def test_unknown_evaluator_fails_at_once():
    with pytest.raises(ValueError, match="unknown evaluator 'gpt-9'; found in the data: gpt-4o-mini, gpt-5-nano"):
        render_main(["--dataset", "demo", "--evaluator", "gpt-9"])


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless Chromium here (Debian package chromium)")
def test_the_index_in_a_real_browser(demo_run, tmp_path):
    """Chromium opens the index from file:// (no server) and draws the table and the thumbnail."""
    import matplotlib.image as mpimg
    import numpy as np

    root, _ = demo_run
    shot = tmp_path / "index.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1400", f"--screenshot={shot}",
                    (root / "reports" / "index.html").as_uri()], capture_output=True, timeout=120)
    assert shot.is_file()
    img = mpimg.imread(shot)[..., :3]
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom",
                          (root / "reports" / "index.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<table class=\"headline\">" in dom and "overview_forest.png" in dom
    # The thumbnail is a colour plot: blue and orange markers of the colour-blind palette
    # appear in the page only if the image loaded.
    colourful = (np.abs(img[..., 0] - img[..., 2]) > 0.3).sum()
    assert colourful > 200, "no coloured pixels: the forest-plot thumbnail did not load"


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
    crisis = pl.read_csv(study_tables / "crisis_agreement.csv")
    assert crisis.height == 78


@pytest.mark.real_data
def test_mentalalign_notebooks_render_their_tables(shared_data_root, tmp_path):
    status = render(["mentalalign"], ["gpt-4o"], data_root=shared_data_root, jobs=2, n_boot=N_BOOT, seed=5,
                    reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "mentalalign" / "gpt-4o" / "tables"
    icc = pl.read_csv(tables / "icc.csv")
    cell = icc.filter((pl.col("variant") == "as_published") & (pl.col("level") == "system")
                      & (pl.col("attribute") == "Empathy") & (pl.col("ci_method") == "F"))
    got = dict(cell.select("type", "icc").iter_rows())
    # The paper's gpt-4o / Empathy cell: ICC(C,1) 0.835, ICC(A,1) 0.288 (printed to 3 decimals); the
    # reproduction's explained gaps (tests/test_mentalalign.py) allow 0.004 and 0.0025.
    assert got["ICC(C,1)"] == pytest.approx(0.835, abs=0.004) and got["ICC(A,1)"] == pytest.approx(0.288, abs=0.0025)
    assert set(icc["level"]) == {"system", "response"} and set(icc["variant"]) == {"as_published", "clean"}
    by_source = pl.read_csv(tables / "bias_by_source.csv")
    assert by_source.height == 2 * 7 * 9
    assert (by_source["ci_low"] <= by_source["bias"]).all() and (by_source["bias"] <= by_source["ci_high"]).all()
    study_tables = tmp_path / "reports" / "mentalalign" / "tables"
    human = pl.read_csv(study_tables / "human_table.csv")
    assert human.height >= 10
    overview = pl.read_csv(study_tables / "overview.csv")
    assert overview.height == 4 * 7 and set(overview["evaluator"]) == {"claude", "gemini", "gpt-4o", "o4-mini"}


@pytest.mark.real_data
def test_unknown_judge_fails_at_once(shared_data_root):
    with pytest.raises(ValueError, match="unknown judge 'gpt-9'; found in the data: claude, gemini, gpt-4o, o4-mini"):
        render_main(["--dataset", "mentalalign", "--evaluator", "gpt-9", "--data-root", str(shared_data_root)])


@pytest.mark.real_data
def test_dialoguesafety_notebook_renders_its_tables(shared_data_root, tmp_path):
    status = render(["dialoguesafety"], ["roberta-large"], data_root=shared_data_root, jobs=2, n_boot=N_BOOT,
                    seed=5, reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "dialoguesafety" / "roberta-large" / "tables"
    metrics = pl.read_csv(tables / "metrics.csv")
    acc = metrics.filter(pl.col("metric") == "accuracy").row(0, named=True)
    # The paper's Table 2, RoBERTa-large: accuracy 70.4 (SD 3.6) over 5 seeds.
    assert 100 * acc["mean"] == pytest.approx(70.4, abs=0.05) and 100 * acc["sd"] == pytest.approx(3.6, abs=0.05)
    per = pl.read_csv(tables / "per_category.csv")
    assert per["n_gold"].sum() == 800
