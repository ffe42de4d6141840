"""``reports/index.html``: every study's headline results at a glance, then links.

Per study (one section per folder under ``reports/``): the overview table's headline
columns (read from ``<study>/tables/overview.csv``, formatted as in the notebooks), a
thumbnail of its forest plot (``figures/<study>/overview_forest.png``), then links to
every rendered notebook (HTML and ipynb), table and figure. Each section carries the
provenance of the run that produced it (each notebook's ``<notebook>.run.json``
written by the render: data root, seed, resamples, package version, git commit of the
project, time, status and why it failed),
so results from different runs or data roots are never presented as one run. The page
is static HTML with relative links and embedded styles: it works from ``file://`` with
no server.

Why not a site builder: Quarto and Jupyter Book 2 were weighed. Both render the
executed notebooks again (or convert them) into a site: minutes on top of the render for
~40 notebooks on two cores, and a 100+ MB toolchain (Quarto bundles Deno and Pandoc),
for a page that only needs the tables and figures the notebooks already wrote.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
from pathlib import Path

import polars as pl

from analysis.data.paths import PROJECT_ROOT

HEADLINE = {
    "scored": ("evaluator", "n", "icc_a1", "icc_a1_ci_low", "icc_a1_ci_high", "icc_c1", "icc_c1_ci_low",
               "icc_c1_ci_high", "bias", "bias_ci_low", "bias_ci_high", "human_icc_a1", "ceiling_icc_a1", "verdict"),
    "per_attribute": ("evaluator", "attribute", "icc_a1", "icc_a1_ci_low", "icc_a1_ci_high", "bias", "bias_ci_low",
                    "bias_ci_high"),
    "nominal": ("evaluator", "n", "runs", "kappa", "kappa_sd", "majority_kappa", "majority_kappa_ci_low",
                "majority_kappa_ci_high"),
    "synthesis": ("study", "evaluator", "attribute", "measure", "estimate", "ci_low", "ci_high", "human_ceiling"),
}
"""Columns of the overview shown on the index, by kind of table (the rest is in the CSV)."""

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:78em;margin:1.5em auto;padding:0 1em;
color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.prov{font-size:.85em;color:#444;background:#f6f6f6;padding:.4em .7em;border-radius:4px}
table.headline{border-collapse:collapse;font-size:.85em;margin:.6em 0}
table.headline th,table.headline td{padding:.2em .55em;border-bottom:1px solid #e3e3e3;text-align:left;
vertical-align:top}
table.headline th{background:#fafafa}
.row{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
img.thumb{max-width:34em;width:100%;border:1px solid #ddd}
.fail{color:#b00020;font-weight:600}.skip{color:#555;font-style:italic}.links{font-size:.85em;line-height:1.6}
details{margin:.3em 0}summary{cursor:pointer}
"""


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The project's git commit (with ``+dirty`` when the work tree differs), or ``unknown``."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_records(study_dir: Path) -> list[dict]:
    """The run record (``<notebook>.run.json``, written by the render) of every notebook
    under ``study_dir``, with ``notebook`` and ``evaluator`` added."""
    out = []
    for rec in sorted(study_dir.rglob("*.run.json")):
        try:
            r = json.loads(rec.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        r["notebook"] = rec.name[: -len(".run.json")]
        # The folder under the study's: an evaluator, an attribute, or attribute/evaluator.
        r["evaluator"] = None if rec.parent == study_dir else rec.parent.relative_to(study_dir).as_posix()
        out.append(r)
    return out


def provenance_html(records: list[dict]) -> str:
    """One line per distinct run among ``records`` (several lines: the section mixes runs,
    and says so), then every notebook that failed or was interrupted, with why, and every
    notebook not rendered because it does not apply to the study, with the reason."""
    if not records:
        return "<p class='prov'>no run record (rendered by an older version): provenance unknown</p>"
    keys = ("started", "data", "seed", "n_boot", "package_version", "git_commit")
    runs: dict[tuple, list[dict]] = {}
    for r in records:
        runs.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    lines = []
    for (started, data, seed, n_boot, version, commit), rs in sorted(runs.items(), key=lambda kv: str(kv[0][0])):
        ok = sum(r.get("status") == "ok" for r in rs)
        skipped = sum(r.get("status") == "skipped" for r in rs)
        lines.append(f"run of {html.escape(str(started))} UTC · data: {html.escape(str(data))} · seed {seed} · "
                     f"{n_boot} bootstrap resamples · package {html.escape(str(version or '?'))} · git "
                     f"{html.escape(str(commit or '?'))} · {ok}/{len(rs) - skipped} notebooks ok"
                     + (f" · {skipped} not applicable" if skipped else ""))
    mixed = "<br><b>this section mixes several runs</b>" if len(runs) > 1 else ""
    out = ["<p class='prov'>" + "<br>".join(lines) + mixed + "</p>"]
    not_applied: dict[tuple[str, str], list[str]] = {}
    for r in records:
        if r.get("status") == "skipped":
            not_applied.setdefault((r["notebook"], str(r.get("reason"))), []).append(r["evaluator"])
    for (notebook, reason), evaluators in not_applied.items():
        which = [e for e in evaluators if e]
        where = notebook + (f" (for {', '.join(which)})" if which else "")
        out.append(f"<p class='skip'>not rendered: {html.escape(where)}: {html.escape(reason)}</p>")
    for r in records:
        if r.get("status") not in ("ok", "skipped"):
            where = r["notebook"] + (f" / {r['evaluator']}" if r["evaluator"] else "")
            out.append(f"<p class='fail'>{html.escape(str(r.get('status')).upper())}: {html.escape(where)}: "
                       f"{html.escape(str(r.get('error')))}</p>")
    return "".join(out)


def _kind(columns: list[str]) -> str:
    if "measure" in columns and "study" in columns:
        return "synthesis"
    if "attribute" in columns:
        return "per_attribute"
    if "majority_kappa" in columns:
        return "nominal"
    return "scored"


def headline_html(overview_csv: Path) -> str:
    """The headline columns of an overview table as a small HTML table."""
    from analysis.reporting.display import tidy_for_display

    frame = pl.read_csv(overview_csv, infer_schema_length=None)
    cols = [c for c in HEADLINE[_kind(frame.columns)] if c in frame.columns]
    shown = tidy_for_display(frame.select(cols))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in shown.iter_rows())
    return f"<table class='headline'><tr>{head}</tr>{body}</table>"


def _rel(path: Path, base: Path) -> str:
    return html.escape(os.path.relpath(path, base).replace(os.sep, "/"), quote=True)


def write_index(reports_dir: Path, figures_dir: Path) -> Path:
    """Write ``reports/index.html`` from what is under ``reports/`` and ``figures/``."""
    reports_dir, figures_dir = Path(reports_dir), Path(figures_dir)
    sections = []
    study_dirs = sorted(p for p in reports_dir.iterdir() if p.is_dir()) if reports_dir.is_dir() else []
    order = {"synthesis": 0}
    for sdir in sorted(study_dirs, key=lambda p: (order.get(p.name, 1), p.name)):
        name = sdir.name
        parts = [f"<h2 id='{html.escape(name, quote=True)}'>{html.escape(name)}</h2>",
                 provenance_html(run_records(sdir))]
        overview = sdir / "tables" / ("synthesis.csv" if name == "synthesis" else "overview.csv")
        thumb = figures_dir / name / ("synthesis_forest.png" if name == "synthesis" else "overview_forest.png")
        row = []
        if overview.is_file():
            row.append(f"<div>{headline_html(overview)}<div class='links'>full table: "
                       f"<a href='{_rel(overview, reports_dir)}'>{html.escape(overview.name)}</a></div></div>")
        if thumb.is_file():
            row.append(f"<div><a href='{_rel(thumb, reports_dir)}'><img class='thumb' src='{_rel(thumb, reports_dir)}' "
                       f"alt='forest plot of {html.escape(name, quote=True)}'></a></div>")
        if row:
            parts.append("<div class='row'>" + "".join(row) + "</div>")
        records = {(r["evaluator"], r["notebook"]): r for r in run_records(sdir)}
        latest = max((str(r.get("started")) for r in records.values()), default=None)

        def age(evaluator, notebook) -> str:
            r = records.get((evaluator, notebook))
            if r is None:
                return " <i>(from an earlier run: no run record)</i>"
            if str(r.get("started")) != latest:
                return f" <i>(from an earlier run: {html.escape(str(r.get('started')))})</i>"
            return "" if r.get("status") == "ok" else f" <span class='fail'>{html.escape(str(r.get('status')).upper())}</span>"

        links = []
        # Evaluator folders, and a multi-attribute study's attribute folders with theirs.
        for folder in [sdir, *sorted(p for p in sdir.rglob("*") if p.is_dir() and "tables" not in
                                     p.relative_to(sdir).parts)]:
            label = "study" if folder == sdir else folder.relative_to(sdir).as_posix()
            nbs = sorted(folder.glob("*.html"))
            tables = sorted((folder / "tables").glob("*.csv"))
            figs = sorted((figures_dir / folder.relative_to(reports_dir)).glob("*.png"))
            if not (nbs or tables or figs):
                continue
            items = [f"<b>{html.escape(label)}</b>:"]
            ev = None if folder == sdir else label
            items += [f"<a href='{_rel(p, reports_dir)}'>{html.escape(p.stem)}</a> "
                      f"(<a href='{_rel(p.with_suffix('.ipynb'), reports_dir)}'>ipynb</a>){age(ev, p.stem)}"
                      for p in nbs]
            if tables:
                items.append("tables: " + ", ".join(f"<a href='{_rel(t, reports_dir)}'>{html.escape(t.stem)}</a>"
                                                    for t in tables))
            if figs:
                items.append("figures: " + ", ".join(
                    f"<a href='{_rel(f, reports_dir)}'>{html.escape(f.stem)}</a>"
                    f" (<a href='{_rel(f.with_suffix('.pdf'), reports_dir)}'>pdf</a>)" for f in figs))
            links.append(" ".join(items))
        if links:
            parts.append("<details><summary>every notebook, table and figure</summary><div class='links'>"
                         + "<br>".join(links) + "</div></details>")
        sections.append("\n".join(parts))
    toc = " · ".join(f"<a href='#{html.escape(p.name, quote=True)}'>{html.escape(p.name)}</a>" for p in study_dirs)
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>crisis-judge-analysis: reports</title>"
            f"<style>{STYLE}</style></head><body><h1>crisis-judge-analysis: rendered reports</h1>"
            f"<p>Studies: {toc or 'none yet'}. Each section states the run it comes from. Sign and unit: bias = "
            "evaluator − reference, points on the study's scale; ICC and κ unitless; intervals 95% bootstrap.</p>"
            + "\n".join(sections) + "</body></html>")
    from analysis.reporting.tables import write_text_atomic

    return write_text_atomic(reports_dir / "index.html", page)
