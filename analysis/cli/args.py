"""The argument checks the commands share: every argument and the data root checked before
anything runs or is written, each problem one line (``ValueError`` or
``FileNotFoundError``; :func:`analysis.cli.main.main` prints ``error: ...`` and exits
with status 2).

Light to import (the registry is imported by the checks, not with the module), so that the
commands' parsers can use it and ``--help`` imports none of the statistics or data libraries.
"""

from __future__ import annotations

from pathlib import Path

from analysis.data.paths import DATA_ROOT_ENV, data_root as resolve_data_root

ROOT_HELP = f"data root holding the real data sets (default: ${DATA_ROOT_ENV} or data/raw)"
"""The help of every command's ``--data-root``."""

STUDY_HELP = "a built-in study (python -m analysis studies lists them) or a study file (.toml)"
"""The help of a ``--study`` option: the names come from the study registry, which ``--help`` does not import."""


def check_counts(*, n_boot: int | None = None, jobs: int | None = None) -> None:
    """``--n-boot`` (bootstrap resamples) and ``--jobs`` (notebooks at a time) are whole
    numbers >= 1; a ValueError naming the option otherwise. ``None`` is not checked."""
    for name, value, what in (("--n-boot", n_boot, "bootstrap resamples"), ("--jobs", jobs, "notebooks at a time")):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1 ({what}), got {value!r}")


def check_arguments(datasets, evaluators=None, *, data_root=None, jobs: int = 2, n_boot: int = 2000) -> Path | None:
    """Check every argument of a command that reads studies before anything runs;
    returns the data root (None when no study reads real data).

    ``n_boot`` and ``jobs`` at least 1 (:func:`check_counts`), every study known, the
    data root and each study's folder present and holding data (its evaluators are
    found), every evaluator among them (``evaluators``: a list for every study, or a
    dict study -> list).

    Raises
    ------
    ValueError
        ``n_boot`` or ``jobs`` below 1, an unknown study, a study folder holding no data,
        an unknown evaluator (the message lists the ones found).
    FileNotFoundError
        A data root, or a study's folder under it, that does not exist.
    """
    from analysis.studies.registry import get_study

    check_counts(n_boot=n_boot, jobs=jobs)
    if not datasets:
        raise ValueError("no study to render")
    specs = [get_study(d) for d in datasets]
    real = [s for s in specs if s.source is not None]
    root = resolve_data_root(data_root) if real else None
    if real and not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist (pass --data-root, or set "
                                f"${DATA_ROOT_ENV}, to the folder holding {', '.join(s.source.folder + '/' for s in real)})")
    for key, spec in zip(datasets, specs):
        if spec.source is not None:
            folder = root / spec.source.folder
            if not folder.is_dir() and not _other_layout(spec, root):
                raise FileNotFoundError(f"{spec.name}: {folder} does not exist: the data root {root} lacks the study's "
                                        f"folder {spec.source.folder}/ (clone {spec.source.repository} there, or run "
                                        f"`python -m analysis fetch`)")
            if folder.is_dir() and not any(folder.iterdir()):
                raise ValueError(f"{spec.name}: {folder} is empty: no data to render")
        found = spec.evaluators(root if spec.source is not None else None)
        if not found:
            raise ValueError(f"{spec.name}: no {spec.evaluator_parameter}s found in the data"
                             + (f" under {root / spec.source.folder}" if spec.source is not None else ""))
        chosen = evaluators.get(key, ()) if isinstance(evaluators, dict) else (evaluators or ())
        for ev in chosen:
            if ev not in found:
                raise ValueError(f"{spec.name}: unknown {spec.evaluator_parameter} {ev!r}; "
                                 f"found in the data: {', '.join(found)}")
    return root


def _other_layout(spec, root: Path) -> bool:
    """A study read from another layout than its source folder (Between Help and Harm's
    Hugging Face export) is there when its evaluators are found."""
    try:
        return bool(spec.discover(root))
    except (OSError, ValueError):
        return False


def check_choice(parser, option: str, values, choices) -> None:
    """argparse's own refusal of a value outside ``choices`` (usage, then ``argument
    OPTION: invalid choice: ...``, exit status 2), for choices that are known only after
    an import ``--help`` should not pay for."""
    for value in [values] if isinstance(values, str) else values:
        if value not in choices:
            parser.error(f"argument {option}: invalid choice: {value!r} (choose from {', '.join(map(repr, choices))})")
