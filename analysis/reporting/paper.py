"""The paper set of figures and tables, without Jupyter (``python -m analysis figures``,
:mod:`analysis.cli.figures`).

For a study it writes, into ``--out`` (default ``figures/<study>/paper``):

* ``overview_forest_{column,full}``: every evaluator against the references (ICC(A,1),
  ICC(C,1) with BCa intervals; κ for labelled studies), one journal column (3.5 in) and
  full width (7 in);
* scored studies with categories: ``category_heatmap_<evaluator>``: mean score per
  category × answer model as the evaluator (default: the jury) scores it;
* scored studies: ``bland_altman``: every evaluator against the human mean;
* ``--study all``: also ``synthesis_forest`` across the three benchmarks;
* ``overview.csv``, ``overview.tex`` (every column, a ``table*`` that fits the text
  width) and ``overview_column.tex`` (the evaluators and their first two estimates, a
  ``table`` that fits one column): LaTeX with booktabs in pure ASCII, numbers rounded
  as a paper prints them, CIs in brackets (:mod:`analysis.reporting.latex`); the same
  for the synthesis.

Every figure is written in each ``--format`` (pdf, svg, png); PDFs embed their fonts
(TrueType, ``pdf.fonttype`` 42) and carry no creation date, so files are byte-identical
across runs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.data.paths import PROJECT_ROOT
from analysis.reporting.latex import headline_columns, latex_table

FORMATS = ("pdf", "svg", "png")


def _save(fig, name: str, out: Path, formats) -> list[Path]:
    import matplotlib.pyplot as plt

    from analysis.reporting.figures import DPI, _METADATA, write_figure_files

    try:
        # No tight bounding box: the page is exactly the figure's size (3.5 or 7 in wide);
        # constrained layout keeps the labels inside it.
        return write_figure_files(lambda fmt, path: fig.savefig(path, format=fmt, dpi=DPI, metadata=_METADATA[fmt]),
                                  name, out, formats)
    finally:
        plt.close(fig)


def _write(frame: pl.DataFrame, name: str, out: Path, *, caption: str) -> list[Path]:
    from analysis.reporting.tables import write_table

    csv = write_table(frame, name, out)
    tex = out / f"{name}.tex"
    tex.write_text(latex_table(frame, caption=caption, label=f"tab:{name}"), encoding="utf-8")
    column = out / f"{name}_column.tex"
    column.write_text(latex_table(frame, caption=caption, label=f"tab:{name}_column", width="column",
                                  columns=headline_columns(frame)), encoding="utf-8")
    return [csv, tex, column]


def overview_forest(study, overview: pl.DataFrame, *, width: float):
    """The overview's forest plot: ICC(A,1) and ICC(C,1) against the human mean with the
    ceiling for an evaluator as good as one human against that mean (``ceiling_icc_a1``,
    Spearman–Brown from the human–human ICC(A,1); scored studies with 2+ references), response-level ICC(A,1) per judge × attribute
    (MentalAlign-70k), or κ of the majority vote (nominal studies)."""
    from analysis.reporting.figures import forest_plot

    args = dict(study.spec.hooks.forest(study, overview))  # the study's hook: what to draw
    return forest_plot(args.pop("long"), width=width, **args)


def attribute_heatmap(study, overview: pl.DataFrame, *, width: float):
    """Studies with several attributes (an ``attribute`` column in the overview): the
    judge × attribute grid of response-level ICC(A,1) against the reference, 0 to 1 (which
    attributes can each judge be trusted on?); None for a study of one attribute."""
    from analysis.reporting.figures import heatmap

    if "attribute" not in overview.columns or overview["attribute"].n_unique() < 2:
        return None
    wide = overview.pivot(on="attribute", index="evaluator", values="icc_a1")
    return heatmap(wide, index="evaluator", value_label="ICC(A,1), judge vs reference", vmin=0, vmax=1, width=width,
                   title=f"{study.spec.title}: ICC(A,1) of every judge and attribute")


def synthesis_forest(table: pl.DataFrame, *, width: float):
    """The synthesis table as one forest plot (one row per study × evaluator × attribute)."""
    from analysis.reporting.figures import forest_plot

    rows = table.with_columns((pl.col("study") + ": " + pl.col("evaluator") + pl.when(
        pl.col("attribute").is_not_null()).then(" · " + pl.col("attribute")).otherwise(pl.lit(""))).alias("evaluator"))
    ceiling = table.filter(pl.col("measure") == "ICC(A,1)")["human_ceiling"].drop_nulls()
    return forest_plot(rows.select("evaluator", "measure", "estimate", "ci_low", "ci_high"), width=width,
                       xlabel="agreement with the human reference (ICC or Cohen's κ)",
                       reference=float(ceiling[0]) if ceiling.len() else None,
                       reference_label="ceiling: one human vs the human mean, Between Help and Harm",
                       title="LLM judges against humans, three benchmarks")


def paper_set(study: str, *, data_root=None, out=None, formats=FORMATS, n_boot: int = 2000,
              seed: int = 20261124) -> list[Path]:
    """Write the paper set of ``study`` (or of every real study and the synthesis, for
    ``all``); returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    from analysis.reporting.figures import COLUMN_WIDTH, FULL_WIDTH, bland_altman_plot, heatmap, set_theme
    from analysis.stats.bias import bland_altman
    from analysis.studies.overview import SYNTHESIS_STUDIES, study_overview, synthesis_table
    from analysis.studies.registry import claim_folder, get_study, load_study
    from analysis.studies.scored import HUMAN_MEAN

    set_theme()
    written: list[Path] = []
    if study == "all":
        studies = [load_study(name, data_root=data_root, seed=seed) for name in SYNTHESIS_STUDIES]
        base = Path(out) if out else PROJECT_ROOT / "figures" / "synthesis" / "paper"
        table = synthesis_table(studies, n_boot=n_boot, seed=seed)
        written += _write(table, "synthesis", base, caption="LLM judges against human references on three "
                          "benchmarks: ICC(A,1), ICC(C,1) and Cohen's kappa with 95% bootstrap intervals.")
        fig = synthesis_forest(table, width=FULL_WIDTH)
        written += _save(fig, "synthesis_forest", base, formats)
        for name in SYNTHESIS_STUDIES:
            written += paper_set(name, data_root=data_root, out=None, formats=formats, n_boot=n_boot, seed=seed)
        return written

    spec = get_study(study)
    s = load_study(study, data_root=data_root, seed=seed)
    base = Path(out) if out else PROJECT_ROOT / "figures" / spec.folder / "paper"
    if not out:
        claim_folder(PROJECT_ROOT / "figures" / spec.name, spec)  # refuses another study's folder
    overview = study_overview(s, n_boot=n_boot, seed=seed)
    written += _write(overview, "overview", base, caption=f"{spec.title}: every evaluator against the references "
                      "(95% bootstrap intervals in brackets).")
    for suffix, width in (("column", COLUMN_WIDTH), ("full", FULL_WIDTH)):
        written += _save(overview_forest(s, overview, width=width), f"overview_forest_{suffix}", base, formats)
    grid = attribute_heatmap(s, overview, width=FULL_WIDTH)
    if grid is not None:
        written += _save(grid, "overview_attributes", base, formats)
    if spec.hooks.review_figures:
        scores = s.review_scores()
        panels = {e: bland_altman(scores.column(e), scores.column(HUMAN_MEAN)) for e in s.names}
        written += _save(bland_altman_plot(panels, seed=seed, unit=f"points on {spec.scale.low:g}–{spec.scale.high:g}"),
                         "bland_altman", base, formats)
        ratings = s.data.ratings
        if ratings["category"].drop_nulls().len() and ratings["answer_model"].drop_nulls().len():
            from analysis.studies.appropriateness import category_appropriateness

            evaluator = "jury" if s.jury else s.evaluators[0]
            cells = category_appropriateness(ratings, evaluator, jury=s.jury, n_boot=n_boot, seed=seed)
            n_items = dict(cells.group_by("category").agg(pl.col("n_items").max()).iter_rows())
            wide = cells.pivot(on="answer_model", index="category", values="mean").sort("category")
            fig = heatmap(wide, index="category", value_label=f"mean score ({spec.scale.describe()})",
                          vmin=spec.scale.low, vmax=spec.scale.high,
                          row_labels=[f"{c} (n={n_items[c]})" for c in wide["category"]],
                          title=f"{spec.title}: {spec.score_label} as {evaluator} scores it")
            written += _save(fig, f"category_heatmap_{evaluator}", base, formats)
    for attribute in spec.attributes:  # a multi-attribute study: each attribute's own paper set
        written += paper_set(spec.of_attribute(attribute).key, data_root=data_root,
                             out=Path(out) / attribute if out else None, formats=formats, n_boot=n_boot, seed=seed)
    return written
