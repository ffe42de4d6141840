"""Benchmark: bootstrap of the six ICCs, vectorised here versus pingouin in a loop.

``python -m analysis bench`` (or ``make bench``) prints wall time and peak memory of
:func:`analysis.stats.icc.intraclass_corr` with ``ci="bca"`` and ``"percentile"`` on
``n_items x k_raters`` synthetic ratings, then runs ``pingouin.intraclass_corr`` on the
*same* resamples (the first ``--pingouin-resamples`` of them, timed and extrapolated to
all of them) and checks that both give the same six ICCs on every resample. It exits
non-zero if they disagree by more than 1e-9 or if the vectorised bootstrap misses its
time target. Speed is checked here, never in a timed unit test.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import polars as pl

from analysis.stats.bootstrap import bootstrap, resample_indices
from analysis.stats.icc import ICC_TYPES, icc_batch, intraclass_corr


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


def run_mentalalign(data_root, n_boot: int = 2000, seed: int = 20261124, paper_seconds: float = 51.0) -> int:
    """Time the whole MentalAlign-70k analysis: read the 5 xlsx files, then for all 28
    judge x attribute cells both levels (system and response) and the bias with
    ``n_boot`` resamples, once for the clean variant and once for both variants.
    Target: 10x faster than the authors' script (51-66 s for the system level alone)."""
    from analysis.data.mentalalign import ATTRIBUTES, load_mentalalign
    from analysis.studies.mentalalign import alignment_tables, bias_row, judge_pairs, response_level_icc, system_level_icc

    t0 = time.perf_counter()
    data = load_mentalalign(data_root, keep_off_scale=True)
    t_load = time.perf_counter() - t0
    clean = data.ratings.filter(pl.col("score").is_between(1, 5))
    t1 = time.perf_counter()
    for judge in data.judges:
        for a, attribute in enumerate(ATTRIBUTES):
            p = judge_pairs(clean, judge, attribute)
            system_level_icc(p, n_boot=n_boot, seed=seed)
            response_level_icc(p, n_boot=n_boot, seed=seed)
            bias_row(p, n_boot=n_boot, seed=seed)
    t_clean = time.perf_counter() - t1
    t2 = time.perf_counter()
    for judge in data.judges:
        alignment_tables(data.ratings, judge, n_boot=n_boot, seed=seed)
    t_both = time.perf_counter() - t2
    print(f"MentalAlign-70k: 28 judge x attribute cells, both levels + bias, {n_boot} resamples")
    print(f"{'what':<58}{'seconds':>10}")
    print(f"{'read the 5 xlsx files (350,000 cell x attribute records)':<58}{t_load:>10.2f}")
    print(f"{'analysis, clean variant':<58}{t_clean:>10.2f}")
    print(f"{'analysis, both variants (as_published + clean)':<58}{t_both:>10.2f}")
    total = t_load + t_clean
    print(f"{'total (read + clean variant)':<58}{total:>10.2f}")
    print(f"{'total (read + both variants)':<58}{t_load + t_both:>10.2f}")
    verdict = "PASS" if total * 10 <= paper_seconds else "FAIL"
    print(f"{verdict}: read + clean analysis {total:.2f} s = {paper_seconds / total:.1f}x faster than the paper's "
          f"{paper_seconds:g} s for the system level alone (target >= 10x)")
    return 0 if verdict == "PASS" else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    if argv[:1] == ["mentalalign"]:
        sub = argparse.ArgumentParser(prog="python -m analysis bench mentalalign")
        sub.add_argument("--data-root", default=None)
        sub.add_argument("--n-boot", type=int, default=2000)
        sub.add_argument("--seed", type=int, default=20261124)
        a = sub.parse_args(argv[1:])
        return run_mentalalign(a.data_root, a.n_boot, a.seed)
    parser = argparse.ArgumentParser(prog="python -m analysis bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n-items", type=int, default=1000)
    parser.add_argument("--k-raters", type=int, default=4)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--pingouin-resamples", type=int, default=200,
                        help="resamples run through pingouin (timed, then extrapolated)")
    parser.add_argument("--target-seconds", type=float, default=1.0)
    a = parser.parse_args(argv)
    return run(a.n_items, a.k_raters, a.n_boot, a.seed, a.pingouin_resamples, a.target_seconds)


if __name__ == "__main__":
    sys.exit(main())
