"""Planning a render: which notebooks run for which study and evaluator, and in which
order (longest first, as far as earlier runs tell).

Each job is one notebook of one study (scope ``study``) or of one study and evaluator
(scope ``evaluator``), as the study's registry entry (:mod:`analysis.studies.registry`)
lists them; the cross-study synthesis joins when every real benchmark is rendered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from analysis.studies.registry import SYNTHESIS, SYNTHESIS_STUDIES, get_study

STUDY_LEVEL = "(study)"
"""The evaluator column of a job rendered once per study."""


@dataclass
class Job:
    """One notebook to run: its study (folder name), evaluator (:data:`STUDY_LEVEL` for a
    notebook of scope ``study``), papermill parameters and report folder; the runner fills
    in the outcome (``ok``, ``seconds``, ``error``, the ``outputs`` it writes). A job whose
    notebook does not apply to the study (:meth:`analysis.studies.registry.Notebook.reason_skipped`)
    carries the reason in ``skipped`` and is not run."""

    study: str
    evaluator: str
    notebook: str
    params: dict
    report_dir: Path
    ok: bool | None = None
    seconds: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)
    skipped: str = ""


def plan(datasets, evaluators, *, data_root, n_boot, seed, reports_dir: Path, figures_dir: Path) -> list[Job]:
    """The jobs of a render, from the registry: each study's notebooks of scope ``study``
    once, those of scope ``evaluator`` once per chosen evaluator (default: all found); a
    notebook that does not apply to the study is planned as skipped, with its reason."""
    jobs = []
    for key in datasets:
        top = get_study(key)
        chosen = evaluators.get(key, ()) if isinstance(evaluators, dict) else evaluators
        # A multi-attribute study: its overview, then each attribute as a study of its own.
        for spec in (top, *(top.of_attribute(a) for a in top.attributes)):
            ds = spec.folder  # folder names; `spec.key` (a name or a study file) is what the notebooks get
            common = dict(study=spec.key, data_root=str(data_root) if data_root and spec.source else None,
                          n_boot=n_boot, seed=seed)
            skipped = {nb.name: nb.reason_skipped(spec, data_root) for nb in spec.notebooks}
            for nb in spec.notebooks_of("study"):
                params = common | dict(output_dir=str(reports_dir / ds), figures_dir=str(figures_dir / ds))
                jobs.append(Job(ds, STUDY_LEVEL, nb.name, params, reports_dir / ds, skipped=skipped[nb.name]))
            if not spec.notebooks_of("evaluator"):
                continue
            for ev in chosen or spec.evaluators(data_root):
                spec.check_evaluator(ev, data_root)
                report_dir = reports_dir / ds / ev
                for nb in spec.notebooks_of("evaluator"):
                    params = {spec.evaluator_parameter: ev} | common | dict(
                        output_dir=str(report_dir), figures_dir=str(figures_dir / ds / ev))
                    jobs.append(Job(ds, ev, nb.name, params, report_dir, skipped=skipped[nb.name]))
    if set(SYNTHESIS_STUDIES) <= {get_study(k).name for k in datasets}:
        # Every real benchmark in one run: the cross-study synthesis too.
        params = dict(study="all", data_root=str(data_root) if data_root else None, n_boot=n_boot, seed=seed,
                      output_dir=str(reports_dir / "synthesis"), figures_dir=str(figures_dir / "synthesis"))
        jobs.append(Job("synthesis", STUDY_LEVEL, SYNTHESIS.name, params, reports_dir / "synthesis"))
    return jobs


def longest_first(jobs: list[Job]) -> list[Job]:
    """The jobs in the order to start them: by the seconds their earlier run took (from
    its ``.run.json``), longest first, so the last jobs to finish are short ones and no
    worker idles at the end; jobs never run before keep the plan's order, ahead of the
    others, and the cross-study synthesis (the longest notebook) leads."""
    def seconds(j: Job) -> float:
        try:
            return float(json.loads((j.report_dir / f"{j.notebook}.run.json").read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return float("inf")

    known = {id(j): seconds(j) for j in jobs}
    order = sorted(range(len(jobs)), key=lambda i: (jobs[i].notebook != SYNTHESIS.name, -known[id(jobs[i])], i))
    return [jobs[i] for i in order]
