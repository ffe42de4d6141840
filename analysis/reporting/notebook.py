"""The first step of every notebook: check the parameters, set the display, load the study."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.reporting.display import enable as enable_table_display
from analysis.reporting.figures import set_theme
from analysis.studies.registry import Study, get_study, load_study


PARAMETERS: dict[str, tuple[str, str]] = {
    "study": ("str", "a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)"),
    "evaluator": ("str", "an LLM evaluator found in the study's data, or jury (the mean of the study's jury)"),
    "judge": ("str", "a MentalAlign-70k judge found in the data (claude, gemini, gpt-4o, o4-mini, ...)"),
    "system": ("str", "a system found in the data (e.g. chatgpt-0301-zero, bert-base, roberta-large)"),
    "data_root": ("Optional[str]", "folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw"),
    "n_boot": ("int", "bootstrap resamples per interval"),
    "seed": ("int", "seed of every resample (and of the demo data)"),
    "output_dir": ("str", "where the report goes; tables are written to <output_dir>/tables"),
    "figures_dir": ("str", "where figures are written (PDF, SVG, PNG)"),
}
"""Every notebook parameter: its type and one line of help, as the parameters cells state
them (``name: type = value  # help``; papermill --help-notebook and JupyterLab show them);
tests/test_notebooks.py keeps the cells equal to this."""


def open_study(study: str, evaluator: str | None = None, *, data_root=None, seed: int = 20261124,
               output_dir=".") -> Study:
    """What every notebook does after its parameters cell.

    Fails at once on an unknown study or evaluator (listing the ones in the data), sets
    the project's plotting theme and table display (formatted HTML tables,
    :mod:`analysis.reporting.display`), loads the study, and returns it with
    the folder its tables go to (``<output_dir>/tables``). ``evaluator`` is ``None`` for
    notebooks rendered once per study.
    """
    spec = get_study(study)
    if evaluator is not None:
        spec.check_evaluator(evaluator, data_root or None)
    set_theme()
    enable_table_display()
    pl.Config.set_tbl_rows(100)
    pl.Config.set_fmt_str_lengths(120)
    loaded = load_study(study, data_root=data_root or None, seed=seed)
    loaded.tables_dir = Path(output_dir) / "tables"
    return loaded


def show_part(part, tables_dir) -> None:
    """Write a study part's tables (:func:`analysis.reporting.tables.write_tables`) and show
    what it shows, in order (tables displayed, lines printed); for a part that does not
    apply (``part.applies`` false), print the one line saying why, and write nothing."""
    from IPython.display import display

    from analysis.reporting.tables import write_tables

    if not part.applies:
        print(f"does not apply: {part.reason}")
        return
    write_tables(part.tables, tables_dir)
    for item in part.shown:
        if isinstance(item, str):
            print(item)
        else:
            display(item)


def show_figure(part, draw, name: str, figures_dir) -> None:
    """Draw a study part's figure (``draw(**part.data)``), then save and show it
    (:func:`analysis.reporting.figures.save_figure`); for a part that does not apply,
    print the one line saying why and draw nothing."""
    from analysis.reporting.figures import save_figure

    if not part.applies:
        print(f"no figure: {part.reason}")
        return
    save_figure(draw(**part.data), name, figures_dir)
