"""Batch rendering: every notebook of a study with papermill, then HTML and an index.

``python -m analysis render --study NAME|all [--evaluator NAME ...] [--jobs N] [--n-boot N]
[--seed N] [--data-root PATH]`` (``--dataset`` is an alias of ``--study``) executes the
study's notebooks as its registry entry (:mod:`analysis.studies.registry`) lists them:
a notebook of scope ``study`` once, a notebook of scope ``evaluator`` once per evaluator
found in the data. The ``.ipynb`` is the papermill input (the ``.py`` percent file is the
source it is synced from); ``--jobs`` notebooks run at a time, each in its own kernel
process. It writes

* ``reports/<study>/<notebook>.ipynb`` and ``.html`` (scope ``study``) and
  ``reports/<study>/<evaluator>/<notebook>.ipynb`` and ``.html`` (scope ``evaluator``);
* ``tables/*.csv`` beside them and ``figures/<study>[/<evaluator>]/*.{pdf,svg,png}``
  (written by the notebooks);
* ``reports/index.html`` linking all of them, with the data source, seed, package
  version and time of the run.

A failing notebook does not stop the others; the run ends with a summary of what failed
and a non-zero exit status. Every file is written to a temporary name and renamed, so a
reader never sees a half-written file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__
from analysis.data.paths import PROJECT_ROOT, data_root as resolve_data_root
from analysis.studies.registry import STUDIES, get_study

STUDY_LEVEL = "(study)"
"""The evaluator column of a job rendered once per study."""


@dataclass
class Job:
    study: str
    evaluator: str
    notebook: str
    params: dict
    report_dir: Path
    ok: bool | None = None
    seconds: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def execute_one(notebook_path: str, out_ipynb: str, params: dict, cwd: str) -> None:
    """Run one notebook with papermill and write it and its HTML atomically."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    out = Path(out_ipynb)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.ipynb")
    try:
        pm.execute_notebook(notebook_path, str(tmp), parameters=params, cwd=cwd, progress_bar=False,
                            kernel_name="python3", language="python", log_output=False)
    finally:
        if tmp.exists():
            # Keep the partially executed notebook: it shows where it failed.
            os.replace(tmp, out)
    nb = nbformat.read(out, as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    _atomic_write(out.with_suffix(".html"), body)


def _run_job(job: Job, notebooks_dir: Path) -> Job:
    t0 = time.perf_counter()
    src = notebooks_dir / f"{job.notebook}.ipynb"
    out = job.report_dir / f"{job.notebook}.ipynb"
    # A separate interpreter per job: kernels, matplotlib state and memory stay isolated.
    cmd = [sys.executable, "-c",
           "import json,sys; from analysis.reporting.render import execute_one; "
           "execute_one(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])",
           str(src), str(out), __import__("json").dumps(job.params), str(notebooks_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    job.seconds = time.perf_counter() - t0
    job.ok = proc.returncode == 0
    if not job.ok:
        lines = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
        job.error = "\n".join(lines[-15:])
    job.outputs = [out, out.with_suffix(".html")]
    return job


def plan(datasets, evaluators, *, data_root, n_boot, seed, reports_dir: Path, figures_dir: Path) -> list[Job]:
    """The jobs of a render, from the registry: each study's notebooks of scope ``study``
    once, those of scope ``evaluator`` once per chosen evaluator (default: all found)."""
    jobs = []
    for key in datasets:
        spec = get_study(key)
        ds = spec.name  # folder names; `key` (a name or a study file) is what the notebooks get
        chosen = evaluators.get(key, ()) if isinstance(evaluators, dict) else evaluators
        common = dict(study=spec.key, data_root=str(data_root) if data_root and spec.source else "",
                      n_boot=n_boot, seed=seed)
        for nb in spec.notebooks_of("study"):
            params = common | dict(output_dir=str(reports_dir / ds), figures_dir=str(figures_dir / ds))
            jobs.append(Job(ds, STUDY_LEVEL, nb.name, params, reports_dir / ds))
        for ev in chosen or spec.evaluators(data_root):
            spec.check_evaluator(ev, data_root)
            report_dir = reports_dir / ds / ev
            for nb in spec.notebooks_of("evaluator"):
                params = {spec.evaluator_parameter: ev} | common | dict(
                    output_dir=str(report_dir), figures_dir=str(figures_dir / ds / ev))
                jobs.append(Job(ds, ev, nb.name, params, report_dir))
    return jobs


def write_index(jobs: list[Job], *, reports_dir: Path, figures_dir: Path, seed: int, n_boot: int,
                data_root, started: dt.datetime, seconds: float) -> Path:
    """``reports/index.html``: every rendered notebook, table and figure, with provenance."""
    def rel(p: Path) -> str:
        return html.escape(os.path.relpath(p, reports_dir))

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>crisis-judge-analysis reports</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{padding:.2em .6em;"
        "text-align:left;vertical-align:top}.fail{color:#b00}</style></head><body>",
        "<h1>crisis-judge-analysis: rendered reports</h1><ul>",
        f"<li>package version {html.escape(__version__)}</li>",
        f"<li>run started {started.isoformat(timespec='seconds')} (UTC), took {seconds:.0f} s</li>",
        f"<li>this run: seed {seed}, {n_boot} bootstrap resamples</li>",
        f"<li>data: {html.escape(str(data_root)) if data_root else 'synthetic demo data generated from the seed'}"
        "</li></ul>",
    ]
    by_key: dict[tuple[str, str], list[Job]] = {}
    for j in jobs:
        by_key.setdefault((j.study, j.evaluator), []).append(j)
    # Reports of earlier runs (another study, say) stay listed: the index covers reports/.
    earlier = [((nb.parent.name, STUDY_LEVEL), nb) for nb in reports_dir.glob("*/*.ipynb")]
    earlier += [((nb.parent.parent.name, nb.parent.name), nb) for nb in reports_dir.glob("*/*/*.ipynb")]
    for key, nb in earlier:
        if key not in by_key or not any(j.notebook == nb.stem for j in by_key[key]):
            by_key.setdefault(key, []).append(Job(key[0], key[1], nb.stem, {}, nb.parent, ok=None,
                                                  outputs=[nb, nb.with_suffix(".html")]))
    for (ds, ev), js in sorted(by_key.items()):
        parts.append(f"<h2>{html.escape(ds)} / {html.escape(ev)}</h2><table><tr><th>notebook</th><th>status</th></tr>")
        for j in sorted(js, key=lambda j: j.notebook):
            status = ("ok" if j.ok else "<span class='fail'>FAILED</span>") + f" ({j.seconds:.0f} s)" \
                if j.ok is not None else "from an earlier run"
            links = " ".join(f"<a href='{rel(p)}'>{p.suffix[1:]}</a>" for p in j.outputs if p.exists())
            parts.append(f"<tr><td>{html.escape(j.notebook)} {links}</td><td>{status}</td></tr>")
        parts.append("</table>")
        sub = () if ev == STUDY_LEVEL else (ev,)
        tables = sorted(reports_dir.joinpath(ds, *sub, "tables").glob("*.csv"))
        if tables:
            parts.append("<p>Tables: " + ", ".join(f"<a href='{rel(t)}'>{html.escape(t.name)}</a>" for t in tables) + "</p>")
        figs = sorted(figures_dir.joinpath(ds, *sub).glob("*.png"))
        if figs:
            parts.append("<p>Figures: " + ", ".join(
                f"<a href='{rel(f)}'>{html.escape(f.stem)}</a> (<a href='{rel(f.with_suffix('.pdf'))}'>pdf</a>, "
                f"<a href='{rel(f.with_suffix('.svg'))}'>svg</a>)" for f in figs) + "</p>")
    parts.append("</body></html>")
    index = reports_dir / "index.html"
    _atomic_write(index, "\n".join(parts))
    return index


def render(datasets, evaluators=None, *, data_root=None, jobs: int = 2, n_boot: int = 2000, seed: int = 20261124,
           reports_dir: Path | None = None, figures_dir: Path | None = None,
           notebooks_dir: Path | None = None, progress: bool = True) -> int:
    from tqdm import tqdm

    reports_dir = Path(reports_dir or PROJECT_ROOT / "reports").resolve()
    figures_dir = Path(figures_dir or PROJECT_ROOT / "figures").resolve()
    notebooks_dir = Path(notebooks_dir or PROJECT_ROOT / "notebooks").resolve()
    real = [d for d in datasets if get_study(d).source is not None]
    root = resolve_data_root(data_root) if real else None
    todo = plan(datasets, evaluators, data_root=root, n_boot=n_boot, seed=seed,
                reports_dir=reports_dir, figures_dir=figures_dir)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_run_job, j, notebooks_dir) for j in todo]
        for fut in tqdm(as_completed(futures), total=len(futures), desc="rendering", unit="notebook",
                        disable=not progress, file=sys.stderr):
            j = fut.result()
            if not j.ok:
                tqdm.write(f"FAILED {j.study}/{j.evaluator}/{j.notebook}", file=sys.stderr)
    seconds = time.perf_counter() - t0
    index = write_index(todo, reports_dir=reports_dir, figures_dir=figures_dir, seed=seed, n_boot=n_boot,
                        data_root=root, started=started, seconds=seconds)
    failed = [j for j in todo if not j.ok]
    print(f"rendered {len(todo) - len(failed)}/{len(todo)} notebooks in {seconds:.1f} s "
          f"({jobs} at a time); index: {index}")
    for j in failed:
        print(f"\nFAILED {j.study}/{j.evaluator}/{j.notebook} ({j.report_dir / (j.notebook + '.ipynb')}):\n{j.error}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    studies = (*STUDIES, "all")
    parser = argparse.ArgumentParser(
        prog="python -m analysis render", description=__doc__.splitlines()[0],
        epilog="Notebooks per study, and their scope, come from the study registry "
               "(analysis/studies/registry.py).")
    parser.add_argument("--study", "--dataset", dest="study", default="demo", metavar="STUDY",
                        help=f"study to render: {', '.join(studies)}, or a study file (.toml) "
                             f"(default: demo; --dataset is an alias)")
    parser.add_argument("--data-root", default=None,
                        help="data root holding the real data sets (default: $CRISIS_JUDGE_DATA_ROOT or data/raw)")
    parser.add_argument("--evaluator", nargs="+", default=None, metavar="NAME",
                        help="render only these evaluators (judges, systems); default: every one found in the data")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time (default: 2)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    parser.add_argument("--seed", type=int, default=20261124, help="seed of the bootstrap and of the demo data")
    parser.add_argument("--reports-dir", default=None, help="where reports go (default: reports/)")
    parser.add_argument("--figures-dir", default=None, help="where figures go (default: figures/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    datasets = list(STUDIES) if a.study == "all" else [get_study(a.study).key]
    evaluators = a.evaluator
    if a.evaluator and a.study == "all":
        # With every study, each name goes to the studies that have it.
        found = {ds: get_study(ds).evaluators(a.data_root) for ds in datasets}
        evaluators = {ds: [e for e in a.evaluator if e in found[ds]] for ds in datasets}
        nowhere = [e for e in a.evaluator if not any(e in v for v in evaluators.values())]
        if nowhere:
            raise ValueError(f"unknown evaluator(s) {nowhere}; found in the data: "
                             + "; ".join(f"{ds}: {', '.join(found[ds])}" for ds in datasets))
        datasets = [ds for ds in datasets if evaluators[ds]]
    elif a.evaluator:
        for ev in a.evaluator:
            get_study(a.study).check_evaluator(ev, a.data_root)
    return render(datasets, evaluators, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot, seed=a.seed,
                  reports_dir=a.reports_dir, figures_dir=a.figures_dir)
