"""One entry point to every data set the notebooks and the CLI can analyse."""

from __future__ import annotations

DATASETS = ("demo", "bhh", "mentalalign", "dialoguesafety")
"""``demo``: synthetic, generated from the seed; ``bhh``: Between Help and Harm (real);
``mentalalign``: MentalAlign-70k (real; loaded with the off-scale ratings kept, see
:mod:`analysis.data.mentalalign`); ``dialoguesafety``: DialogueSafety (real)."""


def raters() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Data set -> (name of its notebooks' rater parameter, the valid rater names).

    The one registry of who can be analysed where: the notebooks check their parameter
    with :func:`check_rater`, and ``python -m analysis render`` renders each name.
    """
    from analysis.data.dialoguesafety import SYSTEMS
    from analysis.data.mentalalign import JUDGES
    from analysis.studies.evaluators import EVALUATORS

    return {"demo": ("evaluator", EVALUATORS), "bhh": ("evaluator", EVALUATORS),
            "mentalalign": ("judge", JUDGES), "dialoguesafety": ("system", tuple(SYSTEMS))}


def check_rater(dataset: str, name: str) -> str:
    """Fail at once, listing the valid names, on a rater the data set does not have."""
    table = raters()
    if dataset not in table:
        raise ValueError(f"unknown dataset {dataset!r}; valid: {', '.join(table)}")
    parameter, valid = table[dataset]
    if name not in valid:
        raise ValueError(f"unknown {parameter} {name!r}; valid names: {', '.join(valid)}")
    return name


def load_dataset(dataset: str, *, data_root=None, seed: int = 20261124):
    """The data object of ``dataset`` (fields ``items, responses, ratings, review_set, audit``).

    ``demo`` is generated from ``seed`` (and also has ``truth``); the real data sets are
    read from ``data_root`` (see :func:`analysis.data.paths.data_root`).
    """
    if dataset == "demo":
        from analysis.data.demo import generate_demo

        return generate_demo(seed=seed)
    if dataset == "bhh":
        from analysis.data.bhh import load_bhh

        return load_bhh(data_root or None)
    if dataset == "mentalalign":
        from analysis.data.mentalalign import load_mentalalign

        return load_mentalalign(data_root or None, keep_off_scale=True)
    if dataset == "dialoguesafety":
        from analysis.data.dialoguesafety import load_dialoguesafety

        return load_dialoguesafety(data_root or None)
    raise ValueError(f"unknown dataset {dataset!r}; valid: {', '.join(DATASETS)}")


def open_study(dataset: str, evaluator: str, *, data_root=None, seed: int = 20261124, output_dir="."):
    """What every notebook does first, after its parameters cell.

    Fails at once on an unknown evaluator (listing the valid names), sets the project's
    plotting theme and table display, loads the data set, and returns it with the
    folder its tables go to (``<output_dir>/tables``).
    """
    from pathlib import Path

    import polars as pl

    from analysis.reporting.figures import set_theme

    check_rater(dataset, evaluator)
    set_theme()
    pl.Config.set_tbl_rows(100)
    pl.Config.set_fmt_str_lengths(120)
    return load_dataset(dataset, data_root=data_root or None, seed=seed), Path(output_dir) / "tables"
