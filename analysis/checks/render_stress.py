"""Two renders at once on a busy machine: both must complete.

``python -m analysis.checks.render_stress [--runs 5] [--renders 2] [--busy 4] [--n-boot 200]
[--seed N] [--study NAME] [--evaluator NAME ...] [--jobs 2]``

Each run starts ``--busy`` CPU-bound processes (``while True`` loops; each ends when this
command ends, even killed), then ``--renders`` renders of the same study (default: the
study generated from the seed, no data needed) at the same time, each with its own
reports and figures folders, as two users or a test run beside a render would; it
waits for them and stops the loops. A run passes when every render exits 0 having
rendered every notebook, and the renders' tables and figures are byte-identical (same
seed). One line per run (seconds, notebooks, status); exit status 1 when a run failed,
with the failed render's last lines.

This is the check of the README's reliability row "two renders at the same time on a
busy machine"; ``tests/faults/test_render_faults.py`` runs one such run.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from analysis.data.paths import PROJECT_ROOT

BUSY_LOOP = ("import ctypes, os, sys\n"
             "if sys.platform.startswith('linux'): ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"
             "parent = os.getppid()\n"
             "while os.getppid() == parent:\n"
             "    pass\n")
"""A CPU-bound process that ends with the process that started it (SIGKILL on Linux's
parent death signal; elsewhere the loop itself sees its parent change)."""


def synthetic_study() -> str:
    """The registry's study generated from the seed (the one needing no data)."""
    from analysis.studies.registry import STUDIES

    return next(name for name, spec in STUDIES.items() if spec.source is None)


@dataclass(frozen=True)
class RenderOutcome:
    folder: Path
    returncode: int
    rendered: int
    planned: int
    seconds: float
    tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.planned > 0 and self.rendered == self.planned


def outputs(folder: Path) -> dict[str, str]:
    """SHA-256 of every table and figure a render wrote under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.suffix in {".csv", ".pdf", ".svg", ".png"}}


def busy_processes(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait()


def concurrent_renders(root: Path, *, renders: int = 2, busy: int = 4, study: str | None = None,
                       evaluators: list[str] | None = None, n_boot: int = 200, seed: int = 20261124,
                       jobs: int = 2) -> list[RenderOutcome]:
    """One run: ``busy`` CPU-bound processes, and ``renders`` renders of ``study`` started
    at the same time into ``root/r<k>/{reports,figures}``; the outcome of each render."""
    study = study or synthetic_study()
    args = ["--study", study, "--n-boot", str(n_boot), "--seed", str(seed), "--jobs", str(jobs)]
    if evaluators:
        args += ["--evaluator", *evaluators]
    loops = busy_processes(busy)
    procs = []
    try:
        t0 = time.perf_counter()
        for k in range(renders):
            folder = Path(root) / f"r{k}"
            procs.append((folder, subprocess.Popen(
                [sys.executable, "-m", "analysis", "render", *args, "--reports-dir", str(folder / "reports"),
                 "--figures-dir", str(folder / "figures")], cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        results = []
        for folder, proc in procs:
            out, _ = proc.communicate()
            done = re.search(r"rendered (\d+)/(\d+) notebooks", out)
            results.append(RenderOutcome(folder, proc.returncode, int(done[1]) if done else 0,
                                         int(done[2]) if done else 0, time.perf_counter() - t0,
                                         "\n".join(out.strip().splitlines()[-25:])))
        return results
    finally:
        stop([p for _, p in procs])
        stop(loops)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.checks.render_stress", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs in a row (default: 5)")
    parser.add_argument("--renders", type=int, default=2, help="renders at the same time (default: 2)")
    parser.add_argument("--busy", type=int, default=4, help="CPU-bound processes beside them (default: 4)")
    parser.add_argument("--study", default=None, help="study to render (default: the one generated from the seed)")
    parser.add_argument("--evaluator", nargs="+", default=None, help="only these evaluators (default: all)")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples (default: 200)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at a time in each render (default: 2)")
    a = parser.parse_args(argv)
    failed = 0
    for run in range(1, a.runs + 1):
        with tempfile.TemporaryDirectory(prefix="render-stress-") as tmp:
            results = concurrent_renders(Path(tmp), renders=a.renders, busy=a.busy, study=a.study,
                                         evaluators=a.evaluator, n_boot=a.n_boot, seed=a.seed, jobs=a.jobs)
            tables = [outputs(r.folder) for r in results]
            same = bool(tables[0]) and all(t == tables[0] for t in tables)
            ok = all(r.ok for r in results) and same
            failed += not ok
            print(f"run {run}/{a.runs}: {a.renders} renders beside {a.busy} busy processes: "
                  + ", ".join(f"{r.rendered}/{r.planned} notebooks in {r.seconds:.0f} s (exit {r.returncode})"
                              for r in results)
                  + f"; outputs {'identical' if same else 'DIFFER'} ({len(tables[0])} files): {'PASS' if ok else 'FAIL'}",
                  flush=True)
            for r in results:
                if not r.ok:
                    print(f"--- {r.folder}:\n{r.tail}", flush=True)
    print(f"{a.runs - failed}/{a.runs} runs passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
