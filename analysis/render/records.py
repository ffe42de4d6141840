"""Run records: ``<notebook>.run.json`` beside each report (status, seed, bootstrap
resamples, data, time, package version, git commit, why it failed), and
``reports/index.html`` from them (:mod:`analysis.reporting.index`), so the index says with
which parameters the reports of earlier runs were made.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from analysis import __version__
from analysis.render.plan import Job
from analysis.reporting.tables import write_text_atomic
from analysis.studies.registry import get_study


def _why(error: str) -> str:
    """The line of a failure that says why: the last ``SomeError: message`` line, else the last line."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    for ln in reversed(lines):
        head = ln.split(":", 1)[0]
        if ":" in ln and (head.endswith(("Error", "Exception", "Interrupt")) or head == "error"):
            return ln
    return lines[-1] if lines else "unknown error"


_COMMIT: dict[str, str] = {}


def record_run(job: Job, *, seed: int, n_boot: int, data_root, started: dt.datetime) -> None:
    from analysis.reporting.index import git_commit

    status = ("skipped" if job.skipped else "ok" if job.ok
              else ("interrupted" if job.error.startswith("interrupted") else "failed"))
    study = job.params.get("study", job.study)
    if job.params.get("data_root"):
        data = str(job.params["data_root"])
    elif str(study).endswith(".toml"):
        data = f"study file {study}"
    elif data_root and get_study(job.study).source is not None:
        data = str(data_root)
    else:
        data = "synthetic demo data generated from the seed"
    record = dict(status=status, seed=seed, n_boot=n_boot, data=data,
                  started=started.isoformat(timespec="seconds"), seconds=round(job.seconds, 1),
                  package_version=__version__, git_commit=_COMMIT.setdefault("sha", git_commit()),
                  error=_why(job.error) if not job.ok and not job.skipped else "")
    if job.skipped:
        record["reason"] = job.skipped
    if job.report_dir.is_dir() or job.ok or job.skipped:
        write_text_atomic(job.report_dir / f"{job.notebook}.run.json", json.dumps(record, indent=1))


def write_index(jobs: list[Job], *, reports_dir: Path, figures_dir: Path, seed: int, n_boot: int,
                data_root, started: dt.datetime, seconds: float) -> Path:
    """Record the run of every finished job (``<notebook>.run.json``), then write
    ``reports/index.html`` (:mod:`analysis.reporting.index`): per study the headline
    table, the forest plot, provenance per run, what failed and why, and links."""
    from analysis.reporting.index import write_index as write_study_index

    for j in jobs:
        if j.ok is not None and not j.skipped:  # skipped ones were recorded when the render began
            record_run(j, seed=seed, n_boot=n_boot, data_root=data_root, started=started)
    return write_study_index(reports_dir, figures_dir)
