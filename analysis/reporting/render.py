"""Batch rendering: every notebook x evaluator with papermill, then HTML and an index.

``python -m analysis render --dataset {demo,bhh,all} [--evaluator NAME ...] [--jobs N]
[--n-boot N] [--seed N] [--data-root PATH]`` executes each paired notebook of
``notebooks/`` (the ``.ipynb`` is the papermill input; the ``.py`` percent file is the
source it is synced from) once per evaluator, ``--jobs`` at a time, each in its own
kernel process, and writes

* ``reports/<dataset>/<evaluator>/<notebook>.ipynb`` and ``.html``;
* ``reports/<dataset>/<evaluator>/tables/*.csv`` and
  ``figures/<dataset>/<evaluator>/*.{pdf,svg,png}`` (written by the notebooks);
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
from analysis.studies.registry import check_rater, raters
from analysis.data.paths import PROJECT_ROOT, data_root as resolve_data_root


DATASET_NOTEBOOKS = {
    "demo": ("01_data_audit", "02_reliability", "03_bias", "04_category_appropriateness"),
    "bhh": ("01_data_audit", "02_reliability", "03_bias", "04_category_appropriateness"),
    "mentalalign": ("05_judge_alignment",),
    "dialoguesafety": ("06_dialogue_safety",),
}



@dataclass
class Job:
    dataset: str
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
    jobs = []
    for ds in datasets:
        parameter, valid = raters()[ds]
        chosen = evaluators.get(ds, ()) if isinstance(evaluators, dict) else evaluators
        for ev in chosen or valid:
            check_rater(ds, ev)
            report_dir = reports_dir / ds / ev
            for nb in DATASET_NOTEBOOKS[ds]:
                params = {parameter: ev}
                params |= dict(dataset=ds, data_root=str(data_root) if data_root else "",
                              n_boot=n_boot, seed=seed, output_dir=str(report_dir),
                              figures_dir=str(figures_dir / ds / ev))
                jobs.append(Job(ds, ev, nb, params, report_dir))
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
        by_key.setdefault((j.dataset, j.evaluator), []).append(j)
    # Reports of earlier runs (another data set, say) stay listed: the index covers reports/.
    for nb in reports_dir.glob("*/*/*.ipynb"):
        key = (nb.parent.parent.name, nb.parent.name)
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
        tables = sorted((reports_dir / ds / ev / "tables").glob("*.csv"))
        if tables:
            parts.append("<p>Tables: " + ", ".join(f"<a href='{rel(t)}'>{html.escape(t.name)}</a>" for t in tables) + "</p>")
        figs = sorted((figures_dir / ds / ev).glob("*.png"))
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
    real = [d for d in datasets if d != "demo"]
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
                tqdm.write(f"FAILED {j.dataset}/{j.evaluator}/{j.notebook}", file=sys.stderr)
    seconds = time.perf_counter() - t0
    index = write_index(todo, reports_dir=reports_dir, figures_dir=figures_dir, seed=seed, n_boot=n_boot,
                        data_root=root, started=started, seconds=seconds)
    failed = [j for j in todo if not j.ok]
    print(f"rendered {len(todo) - len(failed)}/{len(todo)} notebooks in {seconds:.1f} s "
          f"({jobs} at a time); index: {index}")
    for j in failed:
        print(f"\nFAILED {j.dataset}/{j.evaluator}/{j.notebook} ({j.report_dir / (j.notebook + '.ipynb')}):\n{j.error}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis render", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=(*DATASET_NOTEBOOKS, "all"), default="demo")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--evaluator", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--reports-dir", default=None)
    parser.add_argument("--figures-dir", default=None)
    a = parser.parse_args(argv)
    datasets = list(DATASET_NOTEBOOKS) if a.dataset == "all" else [a.dataset]
    evaluators = a.evaluator
    if a.evaluator and a.dataset == "all":
        # With every data set, each name goes to the data sets that have it.
        evaluators = {ds: [e for e in a.evaluator if e in raters()[ds][1]] for ds in datasets}
        nowhere = [e for e in a.evaluator if not any(e in v for v in evaluators.values())]
        if nowhere:
            raise ValueError(f"unknown evaluator(s) {nowhere}; valid names: "
                             + "; ".join(f"{ds}: {', '.join(raters()[ds][1])}" for ds in datasets))
        datasets = [ds for ds in datasets if evaluators[ds]]
    elif a.evaluator:
        for ev in a.evaluator:
            check_rater(a.dataset, ev)
    return render(datasets, evaluators, data_root=a.data_root, jobs=a.jobs, n_boot=a.n_boot, seed=a.seed,
                  reports_dir=a.reports_dir, figures_dir=a.figures_dir)
