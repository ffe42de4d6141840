"""Benchmark: bootstrap of the six ICCs, vectorised here versus pingouin in a loop.

``python -m analysis bench`` (or ``make bench``) prints wall time and peak memory of
:func:`analysis.stats.icc.intraclass_corr` with ``ci="bca"`` and ``"percentile"`` on
``n_items x k_raters`` synthetic ratings, then runs ``pingouin.intraclass_corr`` on the
*same* resamples (the first ``--pingouin-resamples`` of them, timed and extrapolated to
all of them) and checks that both give the same six ICCs on every resample. It exits
non-zero if they disagree by more than 1e-9 or if the vectorised bootstrap misses its
time target. Speed is checked here, never in a timed unit test.

``python -m analysis bench all`` prints every target of the performance table (README,
"Performance") with its figure, wall and CPU time, the peak memory and PASS/FAIL, and
exits non-zero on a miss. Each line runs in its own Python process (``bench _line``), so
its peak resident memory (``resource.getrusage``: the process and its children) is its
own. The last line renders the three built-in studies (about 90 s); ``--tiny`` runs every
line on small sizes and leaves the render out unless ``--render`` is given (what the
tests use).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.stats.bootstrap import bootstrap, resample_indices
from analysis.stats.icc import ICC_TYPES, icc_batch, intraclass_corr
from analysis.studies.registry import STUDIES, SYNTHESIS_STUDIES


def _ratings(n_items: int, k_raters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    latent = rng.normal(3.0, 1.0, size=(n_items, 1))
    bias = np.linspace(-0.4, 0.4, k_raters)
    return np.clip(np.rint(latent + bias + rng.normal(0, 0.7, size=(n_items, k_raters))), 1, 5)


def _timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def _pingouin_icc(x: np.ndarray) -> np.ndarray:
    import pingouin as pg

    n, k = x.shape
    # pingouin needs unique target labels: a resampled item drawn twice is a new target.
    long = pd.DataFrame({"item": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "score": x.ravel()})
    res = pg.intraclass_corr(long, targets="item", raters="rater", ratings="score").set_index("Type")
    return res.loc[list(ICC_TYPES), "ICC"].to_numpy(dtype=float)


def run(n_items: int = 1000, k_raters: int = 4, n_boot: int = 2000, seed: int = 20261124,
        pingouin_resamples: int = 200, target_seconds: float = 1.0) -> int:
    x = _ratings(n_items, k_raters, seed)
    print(f"Bootstrap of the six ICCs: {n_items} items x {k_raters} raters, {n_boot} resamples, seed {seed}")
    print(f"{'what':<46}{'seconds':>10}{'peak MiB':>10}")
    intraclass_corr(x[:50], ci="percentile", n_boot=64, seed=seed)  # warm-up (imports, BLAS threads)
    rows = []
    for method in ("percentile", "bca"):
        _, sec, mib = _timed(lambda: intraclass_corr(x, ci=method, n_boot=n_boot, seed=seed))
        rows.append((f"analysis intraclass_corr(ci={method!r})", sec, mib))
    res, sec, mib = _timed(lambda: bootstrap(x, lambda a, weights: icc_batch(a, weights), n_boot=n_boot,
                                             method="percentile", seed=seed, keep_replicates=True))
    rows.append(("analysis replicates only (percentile)", sec, mib))
    for name, s, m in rows:
        print(f"{name:<46}{s:>10.3f}{m:>10.1f}")

    m = min(pingouin_resamples, n_boot)
    idx = resample_indices(n_items, n_boot, seed, 0, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin's pandas deprecation warnings
        ref, sec, mib = _timed(lambda: np.stack([_pingouin_icc(x[i]) for i in idx]))
    per_call = sec / m
    print(f"{f'pingouin.intraclass_corr loop ({m} resamples)':<46}{sec:>10.3f}{mib:>10.1f}")
    print(f"{f'pingouin extrapolated to {n_boot} resamples':<46}{per_call * n_boot:>10.1f}")
    ours = res.replicates[:m]
    diff = float(np.max(np.abs(ours - ref)))
    fastest = min(r[1] for r in rows[:2])
    print(f"max |analysis - pingouin| over {m} resamples x 6 forms: {diff:.3e}")
    print(f"speed-up of intraclass_corr(ci='bca') over the pingouin loop: {per_call * n_boot / rows[1][1]:.0f}x")
    ok = True
    if not diff < 1e-9:
        print("FAIL: the vectorised ICCs disagree with pingouin on the same resamples")
        ok = False
    slowest = max(r[1] for r in rows[:2])
    verdict = "PASS" if slowest < target_seconds else "FAIL"
    print(f"{verdict}: slowest bootstrap {slowest:.3f} s (target < {target_seconds:g} s; fastest {fastest:.3f} s)")
    return 0 if ok and verdict == "PASS" else 1


def run_mentalalign(data_root, n_boot: int = 2000, seed: int = 20261124) -> int:
    """``bench mentalalign``: the MentalAlign line of ``bench all`` (read through the
    parquet cache, the 4 judges' ``alignment_tables``: 28 cells, both levels, both
    variants, per-source bias, ``n_boot`` resamples) with its parts, and for comparison
    the read from the five xlsx workbooks without the cache. Target: 20x the paper's
    printed 51 s, i.e. <= 2.55 s."""
    from analysis.data.mentalalign import load_mentalalign  # the loader itself: no cache

    out = _line_mentalalign(data_root, False, seed, n_boot=n_boot)
    t0, c0 = time.perf_counter(), time.process_time()
    load_mentalalign(data_root, keep_off_scale=True)
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    verdict = "PASS" if out["ok"] else "FAIL"
    print(f"{verdict}  {out['figure']}")
    print(f"      for comparison, reading the five xlsx workbooks without the cache: {cold:.1f} s (CPU {cold_cpu:.1f} s)")
    return 0 if out["ok"] else 1


# --- bench all: every target of the performance table, each line in its own process ----

BENCH_STUDY = next(name for name, spec in STUDIES.items() if spec.hooks.bench is not None)
"""The study whose registry entry has a ``bench`` hook (MentalAlign-70k: the whole analysis
the paper timed); its line of ``bench all`` and ``bench <it>`` carry its name."""

TARGETS = {
    "icc7": "100,000 items x 5 raters x 7 attributes, six ICCs, BCa, 1,000 resamples: <= 10 s, <= 1 GiB, "
            "BCa <= 2x percentile",
    BENCH_STUDY: "MentalAlign whole analysis (read, 28 cells, both levels, both variants, per-source bias, "
                 "2,000 resamples): >= 20x faster than the paper's 51 s, i.e. <= 2.55 s",
    "stream": "user study of 10^7 rating rows (parquet) as 500,000 items x 20 ratings, summary: <= 30 s, <= 1 GiB",
    "wide": "user study of 10^7 rating rows (parquet) as 2,000,000 items x 5 raters, summary: <= 60 s, <= 1.5 GiB",
    "icc7api": "7 x intraclass_corr(100,000 x 5, ci='bca', n_boot=1000, seed=s), the public API without a plan: "
               "<= 5 s",
    "dask": "10^8 rating rows (53 parquet files), summary --engine dask on a LocalCluster of 2 workers of this "
            "machine: completes, <= 2 GiB per worker, tables = the polars engine's on a 10^7-row subset",
    "pingouin": "six ICCs, 1,000 x 4, 2,000 resamples, vs the pingouin loop: >= 1,000x",
    "render": "render of the three built-in studies, --jobs 2: <= 90 s",
}
PAPER_SECONDS = 51.0
BUILT_IN = SYNTHESIS_STUDIES
"""The three benchmarks whose render is timed (the demo is not one of them)."""
GIB = 2**30


def write_large_study(out_dir, *, n_items: int = 500_000, n_evaluators: int = 6, n_runs: int = 3,
                      seed: int = 20261124, chunk: int = 50_000, off_scale: float = 1e-4,
                      files: int = 1) -> Path:
    """Write a seeded scored user study: ``ratings.parquet`` and ``study.toml`` in ``out_dir``.

    ``n_items`` responses (``r0000000``...), each rated once by the references H1 and H2
    and ``n_runs`` times by each of ``n_evaluators`` judges (``judge-1``...; the jury is
    the first three, when there are three): ``n_items * (2 + n_evaluators * n_runs)`` rows, 10^7 with the
    defaults. Scores are a latent 1-5 quality plus a rater offset and noise, rounded and
    clipped; a share ``off_scale`` of them is set to 0 or 6 (excluded and counted).
    Written in chunks of ``chunk`` items, so generating never holds the whole table.
    ``files > 1``: ``ratings.parquet`` is a folder of that many files (a partitioned
    data set, as Spark and Dask write them; items do not span files). The first ``m``
    items of a study are those of a smaller study of ``m`` items (a multiple of
    ``chunk``) with the same seed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    raters = ["H1", "H2"] + [f"judge-{i + 1}" for i in range(n_evaluators)]
    runs = [1, 1] + [n_runs] * n_evaluators
    offset = np.array([0.0, 0.1] + list(np.linspace(-0.5, 0.5, n_evaluators)))
    noise = np.array([0.6, 0.6] + list(np.linspace(0.5, 0.9, n_evaluators)))
    categories = np.array(["suicidal_ideation", "self_harm", "anxiety", "substance_use", "no_crisis"])
    writer = None
    n_chunks = -(-n_items // chunk)
    per_file = -(-n_chunks // max(1, files))
    if files > 1:
        (out / "ratings.parquet").mkdir(exist_ok=True)
    try:
        for start in range(0, n_items, chunk):
            if files > 1 and (start // chunk) % per_file == 0 and writer is not None:
                writer.close()
                writer = None
            m = min(chunk, n_items - start)
            latent = rng.normal(3.2, 1.0, size=m)
            items = np.char.add("r", np.char.zfill(np.arange(start, start + m).astype(str), 7))
            cat = categories[rng.integers(0, len(categories), m)]
            parts = [(name, run, np.clip(np.rint(latent + offset[r] + rng.normal(0, noise[r], m)), 1, 5))
                     for r, (name, n_run) in enumerate(zip(raters, runs)) for run in range(1, n_run + 1)]
            score = np.concatenate([s for _, _, s in parts])
            bad = rng.random(score.size) < off_scale
            score[bad] = np.where(rng.random(int(bad.sum())) < 0.5, 0.0, 6.0)
            table = pa.table({"item": np.concatenate([items] * len(parts)),
                              "rater": np.concatenate([np.full(m, name) for name, _, _ in parts]),
                              "run": np.concatenate([np.full(m, run, dtype=np.int32) for _, run, _ in parts]),
                              "score": score, "category": np.concatenate([cat] * len(parts))})
            if writer is None:
                target = out / "ratings.parquet" if files <= 1 else \
                    out / "ratings.parquet" / f"part-{start // chunk // per_file:05d}.parquet"
                writer = pq.ParquetWriter(target, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=1_000_000)
    finally:
        if writer is not None:
            writer.close()
    jury = 'jury = ["judge-1", "judge-2", "judge-3"]\n' if n_evaluators >= 3 else ""
    (out / "study.toml").write_text(
        'name = "large-synthetic"\nratings = "ratings.parquet"\nscale = [1, 5]\ninteger = true\n'
        'references = ["H1", "H2"]\n' + jury, encoding="utf-8")
    return out / "study.toml"


def _line_icc7(tiny: bool, seed: int) -> dict:
    from analysis.stats.bootstrap import ResamplePlan

    n, k, n_attr, n_boot = (2_000, 5, 7, 200) if tiny else (100_000, 5, 7, 1_000)
    xs = [_ratings(n, k, seed + a) for a in range(n_attr)]
    out = {}
    for method in ("percentile", "bca"):
        t0, c0 = time.perf_counter(), time.process_time()
        plan = ResamplePlan(n, n_boot, seed)  # one draw shared by the 7 attributes
        for x in xs:
            intraclass_corr(x, ci=method, plan=plan)
        out[method] = (time.perf_counter() - t0, time.process_time() - c0)
    wall, cpu = out["bca"]
    ratio = wall / out["percentile"][0]
    return dict(wall=wall, cpu=cpu, ok=wall <= 10 and ratio <= 2, peak_limit=GIB,
                figure=f"{n:,} x {k} x {n_attr} attributes, {n_boot} resamples: BCa {wall:.2f} s (CPU {cpu:.2f} s), "
                       f"percentile {out['percentile'][0]:.2f} s, BCa/percentile {ratio:.2f}")


def _line_mentalalign(data_root, tiny: bool, seed: int, n_boot: int | None = None) -> dict:
    from analysis.studies.registry import load_study

    n_boot = n_boot or (200 if tiny else 2000)
    load_study(BENCH_STUDY, data_root=data_root)  # fills the parquet cache if it is cold (not timed)
    t0, c0 = time.perf_counter(), time.process_time()
    study = load_study(BENCH_STUDY, data_root=data_root)
    t_read = time.perf_counter() - t0
    study.spec.hooks.bench(study, n_boot=n_boot, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(wall=wall, cpu=cpu, ok=wall <= PAPER_SECONDS / 20,
                figure=f"{len(study.evaluators)} judges x 7 attributes x 2 variants, {n_boot} resamples: read "
                       f"(parquet cache) {t_read:.2f} s + analysis {wall - t_read:.2f} s = {wall:.2f} s (CPU "
                       f"{cpu:.2f} s), {PAPER_SECONDS / wall:.1f}x the paper's printed {PAPER_SECONDS:g} s. The "
                       f"paper's reference is printed, not run: the authors' script cannot ship (it needs CSVs "
                       f"its repository does not contain)")


def _study_dir(workdir: str | None, name: str, **params):
    """A generated study (:func:`write_large_study` in a child process: its memory is not
    the line's): in a temporary folder, or under ``workdir``, kept and reused while its
    parameters are the same (the generator is seeded)."""
    import contextlib
    import json
    import subprocess
    import tempfile

    @contextlib.contextmanager
    def made():
        with (contextlib.nullcontext(str(Path(workdir) / name)) if workdir
              else tempfile.TemporaryDirectory()) as tmp:
            stamp = Path(tmp) / "params.json"
            if not (stamp.is_file() and json.loads(stamp.read_text()) == params):
                Path(tmp).mkdir(parents=True, exist_ok=True)
                args = ", ".join(f"{k}={v!r}" for k, v in params.items())
                subprocess.run([sys.executable, "-c", "import sys; from analysis.checks.bench import "
                                f"write_large_study; write_large_study(sys.argv[1], {args})", tmp], check=True)
                stamp.write_text(json.dumps(params))
            yield Path(tmp) / "study.toml"
    return made()


def _line_stream(tiny: bool, seed: int, workdir: str | None, *, wide: bool = False) -> dict:
    from analysis.data.tidy_stream import count_rows
    from analysis.studies.scored import stream_summary

    shape = dict(n_evaluators=3, n_runs=1) if wide else {}
    n_items = (4_000 if wide else 2_000) if tiny else (2_000_000 if wide else 500_000)
    limit, peak = (60, 1.5 * GIB) if wide else (30, GIB)
    with _study_dir(workdir, "wide" if wide else "deep", n_items=n_items, seed=seed, **shape) as study:
        rows = count_rows(study.parent / "ratings.parquet")
        t0, c0 = time.perf_counter(), time.process_time()
        tables = stream_summary(study, n_boot=200 if tiny else 2000, seed=seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = int(tables["agreement"]["n"][0])
    return dict(wall=wall, cpu=cpu, ok=wall <= limit, peak_limit=peak, own_peak_only=True,
                figure=f"{rows:,} rating rows, {n:,} complete review items x {len(tables['bias']) + 2} raters, "
                       f"{tables['icc'].height // 4} rater pairs, {200 if tiny else 2000} resamples: {wall:.1f} s "
                       f"(CPU {cpu:.1f} s)")


def _line_icc7api(tiny: bool, seed: int) -> dict:
    from analysis.stats.bootstrap import clear_shared_plans

    n, k, n_attr, n_boot = (2_000, 5, 7, 200) if tiny else (100_000, 5, 7, 1_000)
    xs = [_ratings(n, k, seed + a) for a in range(7)]
    out = {}
    for method in ("percentile", "bca"):
        clear_shared_plans()  # each method draws its resamples once, as a notebook's first call does
        t0, c0 = time.perf_counter(), time.process_time()
        for x in xs:
            intraclass_corr(x, ci=method, n_boot=n_boot, seed=seed)
        out[method] = (time.perf_counter() - t0, time.process_time() - c0)
    wall, cpu = out["bca"]
    return dict(wall=wall, cpu=cpu, ok=wall <= 5, peak_limit=GIB,
                figure=f"{n:,} x {k} x {n_attr} attributes, {n_boot} resamples, no plan given: BCa {wall:.2f} s "
                       f"(CPU {cpu:.2f} s), percentile {out['percentile'][0]:.2f} s")


def _worker_peak() -> tuple[float, float]:
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_maxrss * 1024, use.ru_utime + use.ru_stime


def _line_dask(tiny: bool, seed: int, workdir: str | None) -> dict:
    from distributed import Client, LocalCluster

    from analysis.data.tidy_dask import WORKER_MEMORY
    from analysis.data.tidy_stream import count_rows
    from analysis.studies.scored import stream_summary

    n_big, n_sub, chunk = (6_000, 1_200, 300) if tiny else (2_650_000, 300_000, 50_000)
    n_boot_big = 100 if tiny else 200
    shape = dict(n_runs=6, seed=seed, chunk=chunk)
    with (_study_dir(workdir, "sub", n_items=n_sub, files=n_sub // chunk, **shape) as sub,
          _study_dir(workdir, "big", n_items=n_big, files=n_big // chunk, **shape) as big,
          LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=WORKER_MEMORY, dashboard_address=None)
          as cluster, Client(cluster) as client):
        rows_sub, rows = count_rows(sub.parent / "ratings.parquet"), count_rows(big.parent / "ratings.parquet")
        a = stream_summary(sub, n_boot=200, seed=seed)
        b = stream_summary(sub, n_boot=200, seed=seed, engine="dask", client=client)
        equal = all(a[t].equals(b[t]) for t in ("audit", "agreement", "icc", "bias"))
        t0, c0 = time.perf_counter(), time.process_time()
        w0 = client.run(_worker_peak)
        tables = stream_summary(big, n_boot=n_boot_big, seed=seed, engine="dask", client=client)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        workers = client.run(_worker_peak)
    peaks = [p for p, _ in workers.values()]
    w_cpu = sum(c for _, c in workers.values()) - sum(c for _, c in w0.values())
    n = int(tables["agreement"]["n"][0])
    return dict(wall=wall, cpu=cpu + w_cpu, ok=equal and max(peaks) <= 2 * GIB, own_peak_only=True,
                peak_label="client peak (the whole line, the polars comparison included)",
                figure=f"{rows:,} rating rows, {n:,} items, {n_boot_big} resamples: {wall:.0f} s (CPU: client "
                       f"{cpu:.0f} s + workers {w_cpu:.0f} s); worker peaks "
                       f"{', '.join(f'{p / 2**20:,.0f}' for p in peaks)} MiB (limit 2 GiB each); tables "
                       f"{'=' if equal else 'DIFFER from'} the polars engine's on the first {rows_sub:,} rows")


def _line_pingouin(tiny: bool, seed: int) -> dict:
    import contextlib
    import io
    import re

    buf = io.StringIO()
    n, k, n_boot, m = (200, 4, 256, 20) if tiny else (1000, 4, 2000, 200)
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(buf):
        run(n, k, n_boot, seed, m, target_seconds=float("inf"))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    speed = float(re.search(r"over the pingouin loop: (\d+)x", buf.getvalue()).group(1))
    agree = "disagree" not in buf.getvalue()
    return dict(wall=wall, cpu=cpu, ok=speed >= 1000 and agree,
                figure=f"{n} x {k}, {n_boot} resamples: {speed:,.0f}x faster than the pingouin loop"
                       + ("" if agree else "; ICCs DISAGREE with pingouin"))


def _line_render(data_root, tiny: bool, seed: int) -> dict:
    import subprocess
    import tempfile

    args = [sys.executable, "-m", "analysis", "render", "--study", *BUILT_IN, "--jobs", "2", "--seed", str(seed)]
    if data_root:
        args += ["--data-root", str(data_root)]
    if tiny:
        args += ["--n-boot", "50"]
    from analysis.studies.registry import load_study

    for key in BUILT_IN:  # fills the parquet cache if it is cold (not timed; a first render reads the sources)
        load_study(key, data_root=data_root)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(args + ["--reports-dir", f"{tmp}/reports", "--figures-dir", f"{tmp}/figures"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
    import resource

    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    ok = proc.returncode == 0
    return dict(wall=wall, cpu=ch.ru_utime + ch.ru_stime, ok=ok and wall <= 90,
                figure=f"render --study {' '.join(BUILT_IN)} --jobs 2: {wall:.0f} s" + ("" if ok else
                                                                          f"; render failed: {proc.stderr[-300:]}"))


SCALING = {
    "items": [dict(n_items=n, n_evaluators=3, n_runs=1) for n in (500_000, 1_000_000, 2_000_000)],
    "raters": [dict(n_items=200_000, n_evaluators=e, n_runs=1) for e in (1, 3, 6)],
    "runs": [dict(n_items=200_000, n_evaluators=3, n_runs=r) for r in (1, 3, 6)],
    "resamples": [dict(n_items=200_000, n_evaluators=3, n_runs=1, n_boot=b) for b in (500, 1000, 2000)],
}
"""``bench scaling``: three sizes of each thing the streaming summary's cost grows with."""


def run_scaling(workdir: str | None = None, seed: int = 20261124) -> int:
    """``python -m analysis bench scaling``: the streaming summary (polars engine) at three
    sizes of items, raters, runs and resamples, each in its own process: rows, wall and
    CPU seconds, peak resident memory, and the load average."""
    import json
    import os
    import subprocess

    print(f"{'grows with':<10}{'items':>9}{'raters':>7}{'runs':>5}{'resamples':>10}{'rows':>12}{'wall s':>8}"
          f"{'CPU s':>7}{'peak MiB':>10}{'load':>6}")
    for what, configs in SCALING.items():
        for config in configs:
            shape = {k: v for k, v in config.items() if k != "n_boot"}
            n_boot = config.get("n_boot", 2000)
            name = "scale-" + "-".join(f"{v}" for v in shape.values())
            with _study_dir(workdir, name, seed=seed, **shape) as study:
                code = ("import json, resource, sys, time; from analysis.studies.scored import stream_summary; "
                        "t0, c0 = time.perf_counter(), time.process_time(); "
                        f"t = stream_summary(sys.argv[1], n_boot={n_boot}, seed={seed}); "
                        "print(json.dumps([time.perf_counter() - t0, time.process_time() - c0, "
                        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))")
                proc = subprocess.run([sys.executable, "-c", code, str(study)], capture_output=True, text=True,
                                      check=True)
                wall, cpu, peak = json.loads(proc.stdout.strip().splitlines()[-1])
            raters = 2 + shape["n_evaluators"]
            rows = shape["n_items"] * (2 + shape["n_evaluators"] * shape["n_runs"])
            print(f"{what:<10}{shape['n_items']:>9,}{raters:>7}{shape['n_runs']:>5}{n_boot:>10}{rows:>12,}"
                  f"{wall:>8.1f}{cpu:>7.1f}{peak / 2**20:>10,.0f}{os.getloadavg()[0]:>6.1f}", flush=True)
    return 0


def run_line(name: str, data_root, tiny: bool, seed: int, workdir: str | None) -> dict:
    """One line, in this process; reports its peak resident memory (self and children)."""
    import json
    import resource

    if name == "icc7":
        out = _line_icc7(tiny, seed)
    elif name == BENCH_STUDY:
        out = _line_mentalalign(data_root, tiny, seed)
    elif name == "stream":
        out = _line_stream(tiny, seed, workdir)
    elif name == "wide":
        out = _line_stream(tiny, seed, workdir, wide=True)
    elif name == "icc7api":
        out = _line_icc7api(tiny, seed)
    elif name == "dask":
        out = _line_dask(tiny, seed, workdir)
    elif name == "pingouin":
        out = _line_pingouin(tiny, seed)
    elif name == "render":
        out = _line_render(data_root, tiny, seed)
    else:
        raise ValueError(f"unknown bench line {name!r}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out["peak"] = own if out.get("own_peak_only") else max(own, kids)
    print(json.dumps(out))
    return out


def _mentalalign_available(data_root) -> tuple[bool, str]:
    from analysis.data.paths import data_root as resolve

    folder = resolve(data_root) / STUDIES[BENCH_STUDY].source.folder
    return folder.is_dir(), str(folder)


def _built_in_available(data_root) -> tuple[bool, str]:
    from analysis.data.paths import data_root as resolve
    from analysis.studies.registry import get_study

    root = resolve(data_root)
    missing = [str(root / get_study(k).source.folder) for k in BUILT_IN
               if not (root / get_study(k).source.folder).is_dir()]
    return not missing, ", ".join(missing) or str(root)


def run_all(*, data_root=None, tiny: bool = False, render: bool = False, seed: int = 20261124,
            workdir: str | None = None, only: list[str] | None = None) -> int:
    """Print every target line: figure, peak memory, PASS/FAIL (SKIP without data); 1 on a miss."""
    import json
    import os
    import subprocess

    # The render (about 90 s) is a line of its own unless the sizes are tiny (the tests).
    names = ["icc7", "icc7api", BENCH_STUDY, "stream", "wide", "pingouin"] + (["render"] if render or not tiny else [])
    try:
        import distributed  # noqa: F401

        names.insert(5, "dask")
    except ImportError:
        print("SKIP  dask: not installed (pip install 'crisis-judge-analysis[dask]')")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench all{' (tiny sizes)' if tiny else ''}: {os.cpu_count()} cores, load average {load:.1f} at the start; "
          f"each line in its own process; wall and CPU seconds, peak resident memory")
    failed = False
    for name in names if only is None else [n for n in names if n in only]:
        print(f"- target: {TARGETS[name]}")
        if name in (BENCH_STUDY, "render"):
            ok, where = _mentalalign_available(data_root) if name == BENCH_STUDY else _built_in_available(data_root)
            if not ok:
                print(f"SKIP  {name}: no data at {where} (give --data-root)")
                continue
        cmd = [sys.executable, "-m", "analysis", "bench", "_line", name, "--seed", str(seed)]
        cmd += ["--tiny"] if tiny else []
        cmd += ["--data-root", str(data_root)] if data_root else []
        cmd += ["--workdir", workdir] if workdir else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not proc.stdout.strip():
            print(f"FAIL  {name}: the line crashed: {proc.stderr.strip()[-500:]}")
            failed = True
            continue
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        limit = out.get("peak_limit")
        mem_ok = limit is None or out["peak"] <= limit
        verdict = "PASS" if out["ok"] and mem_ok else "FAIL"
        failed |= verdict == "FAIL"
        mem = f"{out.get('peak_label', 'peak')} {out['peak'] / 2**20:,.0f} MiB" + (f" (limit {limit / 2**30:g} GiB)" if limit else "")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{verdict}  {name}: {out['figure']}; {mem}; load average {load:.1f} after the line")
    return 1 if failed else 0
