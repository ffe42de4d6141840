"""Figures from hostile data: names and categories that look like matplotlib mathtext are
drawn as written, and a figure that cannot be written leaves no file of its set."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

from analysis.reporting import figures, paper  # noqa: E402
from analysis.reporting.figure_checks import layout_problems  # noqa: E402

MATHTEXT = "cost $x^{$ high"
"""A category that matplotlib would parse as (broken) mathtext: two unescaped dollars."""


def _drawn_texts(fig) -> list[str]:
    """Every text of ``fig`` as matplotlib shows it (its mathtext parse undone)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    out = []
    for t in fig.findobj(Text):
        shown, is_math = t._preprocess_math(t.get_text())
        assert not is_math, t.get_text()
        out.append(shown)
    return out


def test_a_mathtext_category_is_drawn_as_written_in_every_figure_kind():
    figures.set_theme()
    wide = pl.DataFrame({"category": [MATHTEXT, "plain"], "judge $a$": [0.1, -0.2], "jury": [0.0, 0.3]})
    fig = figures.heatmap(wide, index="category", value_label="judge − human ($ points)", center=0,
                          title="per $category$")
    texts = " ".join(_drawn_texts(fig)).replace("\n", "")
    assert MATHTEXT.replace(" ", "") in texts.replace(" ", "") and "judge $a$" in texts and "$category$" in texts
    assert layout_problems(fig) == []
    data = pl.DataFrame({"evaluator": [MATHTEXT, "jury"], "measure": ["$\\kappa$"] * 2, "estimate": [0.5, 0.6],
                         "ci_low": [0.4, 0.5], "ci_high": [0.6, 0.7]})
    fig = figures.forest_plot(data, title="a $title$", xlabel="$x$", reference=0.8, reference_label="$ref$")
    texts = _drawn_texts(fig)
    assert {"$\\kappa$", "$ref$", "a $title$", "$x$"} <= set(texts) and MATHTEXT in texts
    plt.close("all")


def test_a_user_study_whose_category_is_mathtext_writes_its_figures(tmp_path):
    from analysis.data.demo import generate_demo

    ratings = generate_demo(seed=5, n_items=40).ratings
    first = ratings["category"].unique().sort()[0]
    ratings.select(pl.col("response_id").alias("item"), "rater", pl.col("score").cast(pl.Int64),
                   pl.col("eval_run").alias("run"), pl.col("category").replace({first: MATHTEXT}), pl.col("answer_model").alias("source"),
                   pl.col("item_id").alias("cluster")).write_csv(tmp_path / "r.csv")
    (tmp_path / "s.toml").write_text('name = "dollars"\nratings = "r.csv"\nscale = [1, 5]\ninteger = true\n'
                                     'references = ["H1", "H2"]\njury = ["gpt-4o-mini", "gpt-5-nano", "meta-llama"]\n')
    written = paper.paper_set(str(tmp_path / "s.toml"), out=tmp_path / "out", n_boot=20, seed=3)
    names = {p.name for p in written}
    heatmaps = {n for n in names if n.startswith("category_heatmap_")}
    assert heatmaps and all(n.endswith((".pdf", ".svg", ".png")) for n in heatmaps)
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_a_figure_that_fails_midway_leaves_no_partial_set(tmp_path, monkeypatch):
    figures.set_theme()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    figures.save_figure(fig, "f", tmp_path)  # an earlier, complete set
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["f.pdf", "f.png", "f.svg"]

    fig, ax = plt.subplots()
    ax.set_title("changed")
    original = plt.Figure.savefig

    def failing(self, fname, *args, format=None, **kwargs):
        if format == "png":  # the last of the three
            raise ValueError("\nsomething deep in the renderer\n   ^")
        return original(self, fname, *args, format=format, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", failing)
    with pytest.raises(figures.FigureError) as info:
        figures.save_figure(fig, "f", tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("figure 'f' could not be drawn (ValueError: something deep")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the old set, whole; no temporary file
    with pytest.raises(figures.FigureError):
        figures.save_figure(fig, "g", tmp_path)
    assert not list(tmp_path.glob("g.*")) and not list(tmp_path.glob(".g*"))
