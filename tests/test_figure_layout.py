"""Figures as a reviewer sees them, measured on the drawn figure.

* ``layout_problems`` finds a clipped title, a legend over the data and text too small
  to print, and nothing on a clean figure (so the checks below can fail).
* Every figure function (forest plot, Bland–Altman panels, heatmap, the paper set's
  overview and synthesis forests) at 3.5 in and 7 in, for the demo, for a user study
  with 60-character evaluator names and (real data) for the three benchmarks: nothing
  outside the canvas, no legend over markers or error bars, every text at least 6 pt,
  no two texts drawn over each other; their LaTeX tables compile and fit (pdflatex).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

from analysis.reporting import figures  # noqa: E402
from analysis.reporting import paper  # noqa: E402
from analysis.reporting.figure_checks import layout_problems  # noqa: E402
from analysis.reporting.figures import COLUMN_WIDTH, FULL_WIDTH, forest_plot, set_theme, wrap_text  # noqa: E402

WIDTHS = (COLUMN_WIDTH, FULL_WIDTH)
LONG = ["an-evaluator-with-a-very-long-name_llama-3.1-70b-instruct-turbo",
        "another.evaluator.whose.name.runs.to.sixty.characters.v2.1",
        "a_third_evaluator_named_in_snake_case_by_its_own_pipeline_x"]
"""Rater names of 58-63 characters, as safe as a study file allows (letters, digits, _ . + @ -)."""


@pytest.fixture(autouse=True)
def _theme():
    set_theme()
    yield
    plt.close("all")


def test_the_checker_sees_what_a_reviewer_sees():
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.5), layout="constrained")
    ax.errorbar([0.62, 0.7], [0, 1], xerr=[[0.05, 0.05], [0.1, 0.1]], fmt="o", label="ICC(A,1)")
    ax.axvline(0.86, ls="--", label="human–human ICC(A,1) (one human vs the other)")
    ax.set_yticks([0, 1], ["gpt-4o-mini", "jury"])
    ax.invert_yaxis()
    ax.set_title("Between Help and Harm: evaluators against the humans, every one of them", fontsize=10)
    ax.set_xlabel("ICC", fontsize=4)
    ax.legend(loc="upper left")
    problems = layout_problems(fig)
    assert any(p.startswith("outside the canvas: title 'Between Help") for p in problems), problems
    assert any(p.startswith("legend covers data") for p in problems), problems
    assert any(p.startswith("too small to read: axis label 'ICC' at 4.0 pt") for p in problems), problems
    assert any(p.startswith("layout engine gave up: constrained_layout not applied") for p in problems), problems
    # The same content laid out by forest_plot: nothing to report.
    data = pl.DataFrame({"evaluator": ["gpt-4o-mini", "jury"], "measure": ["ICC(A,1)"] * 2,
                         "estimate": [0.62, 0.7], "ci_low": [0.57, 0.6], "ci_high": [0.67, 0.8]})
    for width in WIDTHS:
        fig = forest_plot(data, reference=0.86, reference_label="human–human ICC(A,1) (one human vs the other)",
                          title="Between Help and Harm: evaluators against the humans, every one of them",
                          xlabel="ICC with the human mean (95% BCa CI)", width=width)
        assert layout_problems(fig) == [], width


def test_overlapping_tick_labels_are_found_and_rotated_ones_are_not_mistaken():
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2), layout="constrained")
    ax.plot(range(8), range(8))
    ax.set_xticks(range(8), [f"model-number-{i}" for i in range(8)])
    assert any(p.startswith("texts overlap: tick label 'model-number-0'") for p in layout_problems(fig))
    ax.tick_params(axis="x", labelrotation=45)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    assert [p for p in layout_problems(fig) if p.startswith("texts overlap")] == []


def test_wrap_text_fits_the_width_and_keeps_every_character():
    for text in LONG + ["substance_abuse_or_withdrawal (n=16)", "a judge with spaces in its name", "x" * 80]:
        for width in (0.8, 1.5):
            wrapped = wrap_text(text, width, 7)
            assert all(figures.text_width(line, 7) <= width + 1e-9 for line in wrapped.split("\n")), wrapped
            assert wrapped.replace("\n", "").replace(" ", "") == text.replace(" ", "")


def _checked(monkeypatch) -> dict[str, list[str]]:
    """Make the paper set check every figure it draws instead of writing it, and draw the
    Bland–Altman panels and the heatmap (written at 7 in only) at 3.5 in as well."""
    found: dict[str, list[str]] = {}

    def check(fig, name):
        found[f"{name} at {fig.get_figwidth():g} in"] = layout_problems(fig)
        plt.close(fig)

    def save(fig, name, out, formats):
        check(fig, name)
        return []

    monkeypatch.setattr(paper, "_save", save)
    for fn in ("bland_altman_plot", "heatmap"):
        original = getattr(figures, fn)

        def both(*args, _original=original, _fn=fn, **kwargs):
            check(_original(*args, **{**kwargs, "width": COLUMN_WIDTH}), _fn)
            return _original(*args, **kwargs)

        monkeypatch.setattr(figures, fn, both)
    return found


def _assert_clean(found: dict[str, list[str]], expected: set[str]):
    assert expected <= set(found), sorted(found)  # the figures were drawn and checked
    bad = {name: problems for name, problems in found.items() if problems}
    assert not bad, "\n".join(f"{name}: {p}" for name, problems in bad.items() for p in problems)


SCORED = {"overview_forest_column at 3.5 in", "overview_forest_full at 7 in", "bland_altman at 7 in",
          "bland_altman_plot at 3.5 in", "heatmap at 3.5 in", "category_heatmap_jury at 7 in"}


def test_the_demo_paper_set_lays_out_at_both_widths(monkeypatch, tmp_path):
    found = _checked(monkeypatch)
    paper.paper_set("demo", out=tmp_path, n_boot=30, seed=3)
    _assert_clean(found, SCORED)


def test_a_user_study_with_long_evaluator_names_lays_out(monkeypatch, tmp_path):
    from analysis.data.demo import generate_demo

    ratings = generate_demo(seed=5, n_items=60).ratings
    names = dict(zip(["gpt-4o-mini", "gpt-5-nano", "meta-llama"], LONG))
    ratings.select(pl.col("response_id").alias("item"), pl.col("rater").replace(names), pl.col("score").cast(pl.Int64),
                   pl.col("eval_run").alias("run"), "category", pl.col("answer_model").alias("source"),
                   pl.col("item_id").alias("cluster")).write_csv(tmp_path / "r.csv")
    jury = ", ".join(f'"{n}"' for n in LONG)
    (tmp_path / "s.toml").write_text(f'name = "long-names"\nratings = "r.csv"\nscale = [1, 5]\ninteger = true\n'
                                     f'references = ["H1", "H2"]\njury = [{jury}]\n')
    found = _checked(monkeypatch)
    paper.paper_set(str(tmp_path / "s.toml"), out=tmp_path / "out", n_boot=30, seed=3)
    _assert_clean(found, SCORED)


def test_forest_plots_of_many_rows_measures_and_long_labels(monkeypatch):
    rng = np.random.default_rng(1)
    rows = [f"{study}: {name}" for study in ("Between Help and Harm", "MentalAlign-70k") for name in LONG]
    est = rng.uniform(0.2, 0.9, len(rows) * 3)
    data = pl.DataFrame({"pair": [r for r in rows for _ in range(3)], "measure": ["ICC(A,1)", "ICC(C,1)", "κ"] * len(rows),
                         "estimate": est, "ci_low": est - 0.1, "ci_high": est + 0.08})
    for width in WIDTHS:
        fig = forest_plot(data, label="pair", xlabel="ICC (95% CI)", width=width, reference=0.86,
                          reference_label="human–human ICC(A,1), Between Help and Harm",
                          title="Every judge against the humans on every benchmark, one row per judge and study")
        assert layout_problems(fig) == [], width
    synthesis = pl.DataFrame({"study": ["Between Help and Harm"] * 3 + ["DialogueSafety"] * 3,
                              "evaluator": LONG * 2, "attribute": [None, "Empathy", None] * 2,
                              "measure": ["ICC(A,1)"] * 3 + ["Cohen's κ"] * 3, "estimate": est[:6],
                              "ci_low": est[:6] - 0.1, "ci_high": est[:6] + 0.1, "human_ceiling": [0.86] + [None] * 5})
    for width in WIDTHS:
        assert layout_problems(paper.synthesis_forest(synthesis, width=width)) == [], width


def test_bland_altman_and_heatmaps_as_the_notebooks_draw_them():
    from analysis.stats.bias import bland_altman

    rng = np.random.default_rng(2)
    human = rng.integers(1, 6, 300).astype(float)
    panels = {name: bland_altman(np.clip(human + rng.integers(-1, 2, 300), 1, 5), human) for name in LONG + ["jury"]}
    for width in WIDTHS:
        for kwargs in ({}, {"ncols": 4} if width == FULL_WIDTH else {"ncols": 2}):
            fig = figures.bland_altman_plot(panels, width=width, unit="points, 1–5", reference="human", **kwargs)
            assert layout_problems(fig) == [], (width, kwargs)
    fig = figures.bland_altman_plot({"demo: gpt-4o-mini vs human mean": panels["jury"]}, width=COLUMN_WIDTH * 1.6,
                                    ncols=1)
    assert layout_problems(fig) == []
    wide = pl.DataFrame({"gold": ["casual", "needs_caution", "needs_intervention", "possibly_needs_caution"],
                         **{f"predicted {k}": rng.uniform(0, 1, 4) for k in ("casual", "caution", "intervention",
                                                                           "possibly caution", "probably caution")}})
    for width in WIDTHS:
        fig = figures.heatmap(wide, index="gold", value_label="share of the gold items", vmin=0, vmax=1, width=width,
                              title="DialogueSafety: what each gold label is predicted as (share of the gold items)")
        assert layout_problems(fig) == [], width
        fig = figures.heatmap(wide, index="gold", value_label="judge − human (points)", center=0, fmt="+.2f",
                              width=width, row_labels=LONG + ["jury"])
        assert layout_problems(fig) == [], width


@pytest.mark.real_data
@pytest.mark.parametrize("study, expected", [
    ("bhh", SCORED), ("dialoguesafety", {"overview_forest_column at 3.5 in", "overview_forest_full at 7 in"}),
    ("mentalalign", {"overview_forest_column at 3.5 in", "overview_forest_full at 7 in", "overview_attributes at 7 in",
                     "heatmap at 3.5 in"})])
def test_the_benchmarks_paper_sets_lay_out_at_both_widths(study, expected, shared_data_root, monkeypatch, tmp_path):
    from test_paper import _compile  # pdflatex on a minimal article; skips without pdflatex (fails on CI)

    found = _checked(monkeypatch)
    paper.paper_set(study, data_root=shared_data_root, out=tmp_path, n_boot=30, seed=3)
    _assert_clean(found, expected)
    tables = [(tmp_path / name).read_text(encoding="utf-8") for name in ("overview.tex", "overview_column.tex")]
    for twocolumn in (False, True):
        assert _compile(tables, tmp_path / f"latex{twocolumn}", twocolumn=twocolumn) == [], (study, twocolumn)


def _clean_at_both_widths(draw, **kwargs):
    """Draw ``draw(**kwargs, width=w)`` at 3.5 and 7 in; assert nothing to report."""
    for width in WIDTHS:
        fig = draw(**kwargs, width=width)
        assert fig.get_figwidth() == pytest.approx(width)
        assert layout_problems(fig) == [], (draw.__name__, width)
        plt.close(fig)


@pytest.fixture(scope="module")
def demo_random():
    """The demo declared a random sample, so that every judge-assisted part applies."""
    from dataclasses import replace

    from analysis.stats.sampling import SamplingDesign
    from analysis.studies.registry import load_study

    demo = load_study("demo", seed=20261124)
    return replace(demo, spec=replace(demo.spec, design=SamplingDesign("random")))


def test_the_judge_assisted_figures_lay_out_at_both_widths(demo_random):
    from analysis.studies import judge_assisted as ja

    estimates = ja.estimates_part(demo_random)
    forest = ja.forest_part(demo_random, estimates).data
    _clean_at_both_widths(figures.judge_assisted_forest, **forest)
    long_groups = forest["estimates"].with_columns(pl.col("group").replace(dict(zip(
        sorted(forest["estimates"]["group"].unique().to_list()), LONG))))
    _clean_at_both_widths(figures.judge_assisted_forest, **{**forest, "estimates": long_groups, "evaluator": LONG[0]})
    _clean_at_both_widths(figures.budget_plan_plot, **ja.budget_part(demo_random).data)
    d = ja.dstudy_part(demo_random, n_boot=20, seed=3, reml_responses=0).data
    _clean_at_both_widths(figures.dstudy_plot, **d)
    long_names = dict(zip(d["evaluators"], LONG))
    table = d["table"].with_columns(pl.col("design").str.replace_many([f"runs of {e}" for e in long_names],
                                                                      [f"runs of {n}" for n in long_names.values()]))
    _clean_at_both_widths(figures.dstudy_plot, table=table, evaluators=tuple(long_names.values()))


def _random_crisis_labels(n_items=60, seed=4):
    """Crisis labels of the four humans and the three labellers' three runs, drawn at random
    from the authors' labels (the figures' mechanics without the real data)."""
    from analysis.studies import crisis_labels as cl

    rng = np.random.default_rng(seed)
    cats = list(cl.LABELS)
    rows = [(f"i{i:03d}", ls.name, cats[rng.integers(0, len(cats))] if rng.random() > 0.05 else None, "f")
            for i in range(n_items) for ls in cl.label_sets()]
    return pl.DataFrame(rows, schema={"item_id": pl.String, "rater": pl.String, "label": pl.String,
                                      "source_file": pl.String}, orient="row")


def test_the_crisis_label_figures_lay_out_at_both_widths():
    from analysis.studies import crisis_labels as cl
    from analysis.studies import replacement as rp

    labels = _random_crisis_labels()
    kappas = cl.kappa_against_humans(cl.pairwise_agreement(labels, n_boot=20, seed=1))
    display = {"meta-llama": "Llama-4-Scout"}
    _clean_at_both_widths(figures.kappa_vs_humans_plot, kappas=kappas, humans=cl.HUMANS, labellers=cl.LABELLERS,
                          names=lambda n: display.get(n, n))
    _clean_at_both_widths(figures.kappa_vs_humans_plot, kappas=kappas, humans=cl.HUMANS, labellers=cl.LABELLERS,
                          names=dict(zip(cl.LABELLERS, LONG)).get)
    _clean_at_both_widths(figures.s_balanced_heatmaps, summaries=cl.confusion_summaries(labels), labels=cl.LABELS)
    alt = rp.crisis_alt_test(labels)
    _clean_at_both_widths(figures.winning_rate_plot, summary=alt.summary, labellers=cl.LABELLERS,
                          references={"labels": cl.HUMANS})
    scores = alt.summary.filter(pl.col("evaluator") == cl.LABELLERS[0]).with_columns(
        pl.lit("scores").alias("task"), pl.col("run").cast(pl.String).replace({"majority": "mean of runs"}))
    _clean_at_both_widths(figures.winning_rate_plot, summary=pl.concat([alt.summary, scores], how="vertical_relaxed"),
                          labellers=cl.LABELLERS, names=dict(zip(cl.LABELLERS, LONG)).get,
                          references={"labels": cl.HUMANS, "scores": ("H1", "H2")})


def test_the_bias_model_coefficients_lay_out_at_both_widths():
    from analysis.studies import why
    from analysis.studies.registry import load_study

    tables = why.why_tables(load_study("demo", seed=20261124), n_boot=20, seed=3)
    models = tables["bias_models"]
    for model in models["model"].unique(maintain_order=True).to_list():
        _clean_at_both_widths(figures.coefficient_plot, table=models.filter(pl.col("model") == model),
                              group="evaluator", xlabel="points on 1–5 (95 % CI)", title=f"Bias model {model}")


@pytest.mark.real_data
def test_the_real_crisis_label_figures_lay_out_at_both_widths(bhh_dir):
    from analysis.data.bhh import load_bhh
    from analysis.studies import crisis_labels as cl
    from analysis.studies import replacement as rp

    labels = load_bhh(bhh_dir).crisis_labels
    kappas = cl.kappa_against_humans(cl.pairwise_agreement(labels, n_boot=20, seed=1))
    _clean_at_both_widths(figures.kappa_vs_humans_plot, kappas=kappas, humans=cl.HUMANS, labellers=cl.LABELLERS)
    _clean_at_both_widths(figures.s_balanced_heatmaps, summaries=cl.confusion_summaries(labels), labels=cl.LABELS)
    _clean_at_both_widths(figures.winning_rate_plot, summary=rp.crisis_alt_test(labels).summary,
                          labellers=cl.LABELLERS, references={"labels": cl.HUMANS})


CHECKED = {"forest_plot", "bland_altman_plot", "heatmap", "budget_plan_plot", "dstudy_plot", "judge_assisted_forest",
           "kappa_vs_humans_plot", "s_balanced_heatmaps", "winning_rate_plot", "coefficient_plot"}
"""The figure functions of analysis/reporting/figures.py that the tests above draw and check."""


def test_every_figure_function_is_checked():
    import inspect

    functions = {name for name, f in inspect.getmembers(figures, inspect.isfunction)
                 if f.__module__ == figures.__name__ and not name.startswith("_")
                 and "Figure" in str(inspect.signature(f).return_annotation)}
    assert {"forest_plot", "bland_altman_plot", "heatmap"} <= functions
    assert functions <= CHECKED, (f"figure function(s) {sorted(functions - CHECKED)} are not drawn and checked with "
                                  "layout_problems at 3.5 and 7 in: add a test here and name them in CHECKED")
