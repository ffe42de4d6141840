"""Seeded, vectorised, memory-bounded bootstrap with percentile and BCa intervals.

Resamples are represented by *frequency weights*: ``weights[b, i]`` is how many times
unit ``i`` was drawn in resample ``b``. A statistic written with weights (a weighted
mean, weighted sums of squares, ...) evaluated on ``weights[b]`` is exactly the
statistic of the resampled rows, but the whole batch of resamples is a matrix product
instead of a Python loop, and unequal cluster sizes need no padding.

Three resampling schemes:

* items (default): the ``n`` rows of ``data`` are drawn with replacement;
* clusters: ``clusters`` labels the rows (e.g. the responses of one conversation);
  whole clusters are drawn with replacement and every row of a drawn cluster gets
  the cluster's count (Davison & Hinkley 1997, sec. 3.8, strategy 1);
* two-stage: items are drawn, then, inside every drawn copy of an item, its runs
  (answer or evaluation runs) are drawn with replacement (Davison & Hinkley 1997,
  sec. 3.8, strategy 2). Weights then have shape ``(B, n, r)``: how often run ``j``
  of item ``i`` was drawn over all copies of item ``i``. This is exact for statistics
  that are linear in the run-level data within an item (means, proportions);
  statistics that need the run-level values of each *copy* separately cannot be
  written on pooled weights.

Reproducibility: the resamples are drawn in fixed blocks of :data:`BLOCK` resamples,
block ``j`` from ``SeedSequence(seed).spawn`` child ``j``, so the same seed gives the
same resamples whatever ``chunk_size`` is, and results are bitwise identical for
any chunk size because each resample's statistic is computed independently.

References
----------
Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397), 171-185.
Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13-14.
Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
from scipy import special

BLOCK = 64
"""Resamples per independently seeded block; fixed so results do not depend on chunking."""

_TARGET_CELLS = 4_000_000
"""Default chunk size aims at about this many weight cells (32 MB of float64) at once."""

METHODS = ("percentile", "bca")


@dataclass(frozen=True)
class BootstrapResult:
    """Result of :func:`bootstrap`.

    Attributes
    ----------
    estimate : ndarray
        The statistic on the original sample.
    ci_low, ci_high : ndarray
        Interval bounds. NaN where fewer than 2 replicates are finite, or where BCa's
        acceleration is undefined (all jackknife values equal while the replicates
        vary); ``[estimate, estimate]`` where every replicate equals the estimate.
    se : ndarray
        Standard deviation (ddof=1) of the finite replicates: the bootstrap SE.
    method : str
        ``"percentile"`` or ``"bca"``.
    confidence : float
    n_boot : int
        Resamples drawn.
    n_valid : ndarray
        Finite replicates per output element; non-finite replicates (e.g. a resample
        with zero variance) are counted here, never silently discarded.
    replicates : ndarray or None
        ``(n_boot, *out_shape)`` when ``keep_replicates=True``.
    """

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    method: str
    confidence: float
    n_boot: int
    n_valid: np.ndarray
    replicates: np.ndarray | None = None


def _block_rng(seed: int | np.random.SeedSequence | None, block: int) -> np.random.Generator:
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    child = np.random.SeedSequence(entropy=root.entropy, spawn_key=root.spawn_key + (block,))
    return np.random.default_rng(child)


def _resolve_seed(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    # A None seed is turned into fresh entropy once, so every block of one call
    # shares it (otherwise blocks would be unrelated but the call still random).
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def resample_indices(n_units: int, n_boot: int, seed: int | np.random.SeedSequence | None,
                     start: int = 0, stop: int | None = None) -> np.ndarray:
    """Indices of the units drawn in resamples ``start..stop-1`` (shape ``(stop-start, n_units)``).

    Resample ``b`` is the same array whatever ``start``/``stop`` window it is asked
    for in: this is what makes :func:`bootstrap` chunk-size invariant, and it lets a
    benchmark run another implementation on exactly the same resamples.
    """
    stop = n_boot if stop is None else min(stop, n_boot)
    seed = _resolve_seed(seed)
    out = []
    for block in range(start // BLOCK, (stop - 1) // BLOCK + 1 if stop > start else start // BLOCK):
        rng = _block_rng(seed, block)
        b0 = block * BLOCK
        size = min(BLOCK, n_boot - b0)
        idx = rng.integers(0, n_units, size=(size, n_units))
        lo, hi = max(start, b0) - b0, min(stop, b0 + size) - b0
        out.append(idx[lo:hi])
    if not out:
        return np.empty((0, n_units), dtype=np.int64)
    return np.concatenate(out, axis=0)


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """Frequency weights (B, n) from drawn indices (B, m) via one bincount."""
    b = idx.shape[0]
    flat = (idx + (np.arange(b, dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _two_stage_weights(item_idx: np.ndarray, run_counts: np.ndarray, rng_runs: np.random.Generator) -> np.ndarray:
    """Run weights (B, n, r): items drawn by ``item_idx``, then runs within every copy."""
    b, n = item_idx.shape
    r = int(run_counts.max())
    rc = run_counts[item_idx]  # runs available to each drawn copy, (B, n)
    u = rng_runs.random((b, n, r))
    run = np.minimum((u * rc[..., None]).astype(np.int64), rc[..., None] - 1)
    valid = np.arange(r)[None, None, :] < rc[..., None]
    flat = ((np.arange(b)[:, None, None] * n + item_idx[..., None]) * r + run)[valid]
    return np.bincount(flat, minlength=b * n * r).reshape(b, n, r).astype(float)


def _two_stage_chunk(n: int, n_boot: int, seed: np.random.SeedSequence, run_seed: np.random.SeedSequence,
                     run_counts: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Two-stage weights of resamples ``start..stop-1``; runs of block j use their own stream."""
    parts = []
    for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
        b0 = block * BLOCK
        size = min(BLOCK, n_boot - b0)
        idx = resample_indices(n, n_boot, seed, b0, b0 + size)
        w = _two_stage_weights(idx, run_counts, _block_rng(run_seed, block))
        parts.append(w[max(start, b0) - b0:min(stop, b0 + size) - b0])
    return np.concatenate(parts, axis=0)


def _as_tuple(data) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.asarray(a, dtype=float) for a in (data if isinstance(data, (tuple, list)) else (data,)))
    n = arrays[0].shape[0]
    for a in arrays:
        if a.shape[0] != n:
            raise ValueError(f"all data arrays must share axis 0 (units); got lengths {[x.shape[0] for x in arrays]}")
    return arrays


def _cluster_codes(clusters: Sequence, n: int) -> tuple[np.ndarray, int]:
    labels = np.asarray(clusters)
    if labels.shape != (n,):
        raise ValueError(f"clusters must label every row: expected shape ({n},), got {labels.shape}")
    _, first, codes = np.unique(labels, return_index=True, return_inverse=True)
    # Number clusters by first appearance so resamples do not depend on label sort order.
    rank = np.argsort(np.argsort(first))
    return rank[codes.ravel()], len(first)


def _default_chunk(n_cells_per_resample: int) -> int:
    return int(max(BLOCK, min(4096, _TARGET_CELLS // max(n_cells_per_resample, 1))))


def _round_to_blocks(chunk: int) -> int:
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    return -(-chunk // BLOCK) * BLOCK


def _jackknife(arrays, statistic, codes: np.ndarray, n_units: int, run_mask: np.ndarray | None,
               chunk_size: int) -> np.ndarray:
    """Leave-one-unit-out values of the statistic, (n_units, *out_shape), chunked."""
    out = []
    for s in range(0, n_units, chunk_size):
        left_out = np.arange(s, min(n_units, s + chunk_size))
        w = (codes[None, :] != left_out[:, None]).astype(float)  # (chunk, n)
        if run_mask is not None:  # two-stage: every valid run of a kept item keeps weight 1
            w = w[..., None] * run_mask[None]
        out.append(np.asarray(statistic(*arrays, weights=w), dtype=float))
    return np.concatenate(out, axis=0)


def bootstrap(
    data,
    statistic: Callable[..., np.ndarray],
    *,
    n_boot: int = 2000,
    method: str = "bca",
    confidence: float = 0.95,
    seed: int | np.random.SeedSequence | None = None,
    clusters: Sequence | None = None,
    run_counts: Sequence[int] | None = None,
    chunk_size: int | None = None,
    keep_replicates: bool = False,
) -> BootstrapResult:
    """Bootstrap confidence interval of a statistic vectorised over resamples.

    Parameters
    ----------
    data : array or tuple of arrays
        Arrays sharing axis 0, the resampling units (items, responses). For the
        two-stage scheme, axis 1 of each array holds the runs of an item.
    statistic : callable
        ``statistic(*data, weights=w)`` returning an array of shape ``(B, *out)``
        for frequency weights ``w`` of shape ``(B, n)`` (two-stage: ``(B, n, r)``).
        It is called once on ``ones((1, n))`` for the point estimate.
    n_boot : int
        Number of resamples.
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (Efron 1987) with
        the acceleration from the jackknife over the resampling units (clusters when
        given). Following :func:`scipy.stats.bootstrap`, the bias correction is
        ``z0 = Phi^-1(#{theta* < theta_hat} / B)``.
    confidence : float
        Two-sided coverage, e.g. 0.95.
    seed : int, SeedSequence or None
        Seed of the resamples (see module docstring for the block scheme).
    clusters : sequence, optional
        Cluster label of every row; whole clusters are resampled.
    run_counts : sequence of int, optional
        Two-stage scheme: number of valid runs of every item (runs must occupy the
        first ``run_counts[i]`` positions of axis 1; the rest is padding). Not
        combinable with ``clusters``.
    chunk_size : int, optional
        Resamples whose weights are held in memory at once (rounded up to a multiple
        of :data:`BLOCK`); the default keeps them near 32 MB. The statistic is always
        called on the same blocks of at most :data:`BLOCK` resamples, so results are
        bitwise identical for every chunk size.
    keep_replicates : bool
        Keep the ``(n_boot, *out)`` replicate array in the result.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Replicates that are not finite (e.g. a resample in which a variance is zero) are
    left out of the quantiles for that output element and reported in ``n_valid``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> res = bootstrap(x, lambda x, weights: weights @ x / weights.sum(-1), n_boot=999, seed=1)
    >>> bool(res.ci_low < 9.5 < res.ci_high)
    True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    arrays = _as_tuple(data)
    n = arrays[0].shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 resampling units, got {n}")
    seed = _resolve_seed(seed)

    two_stage = run_counts is not None
    if two_stage and clusters is not None:
        raise ValueError("clusters and run_counts (two-stage) cannot be combined")
    if clusters is not None:
        codes, n_units = _cluster_codes(clusters, n)
    else:
        codes, n_units = np.arange(n), n
    if two_stage:
        rc = np.asarray(run_counts, dtype=np.int64)
        if rc.shape != (n,) or (rc < 1).any():
            raise ValueError("run_counts must give at least one run for every item")
        r = arrays[0].shape[1]
        if rc.max() > r:
            raise ValueError(f"run_counts exceed the runs axis of the data ({r})")
        run_mask = (np.arange(r)[None, :] < rc[:, None]).astype(float)
        base_w = run_mask[None]
        run_seed = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (2**31,))
    else:
        run_mask = None
        base_w = np.ones((1, n))

    estimate = np.asarray(statistic(*arrays, weights=base_w), dtype=float)[0]
    cells = base_w.size  # weight cells per resample: what chunking bounds
    chunk = _round_to_blocks(chunk_size or _default_chunk(cells))

    reps = np.empty((n_boot,) + estimate.shape)
    for s in range(0, n_boot, chunk):
        e = min(n_boot, s + chunk)
        if run_mask is None:
            counts = _counts(resample_indices(n_units, n_boot, seed, s, e), n_units)
            # Clusters: a row's weight is the number of times its cluster was drawn.
            w = counts if clusters is None else counts[:, codes]
        else:
            w = _two_stage_chunk(n, n_boot, seed, run_seed, rc, s, e)
        # The statistic always sees the same blocks of BLOCK resamples, whatever the
        # chunk: BLAS kernels may sum in a different order for a different number of
        # rows, and results must be bitwise independent of chunk_size.
        for b in range(0, e - s, BLOCK):
            reps[s + b:s + min(b + BLOCK, e - s)] = np.asarray(statistic(*arrays, weights=w[b:b + BLOCK]), dtype=float)

    finite = np.isfinite(reps)
    n_valid = finite.sum(axis=0)
    masked = np.where(finite, reps, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.nanstd(masked, axis=0, ddof=1) if n_boot > 1 else np.full(estimate.shape, np.nan)
    alpha = 1 - confidence

    if method == "percentile":
        q_low = np.full(estimate.shape, alpha / 2)
        q_high = np.full(estimate.shape, 1 - alpha / 2)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            less = np.sum(np.where(finite, reps < estimate, False), axis=0)
            z0 = special.ndtri(less / np.maximum(n_valid, 1))
            jack = _jackknife(arrays, statistic, codes, n_units, run_mask, _default_chunk(cells))
            jack_mean = np.mean(jack, axis=0)
            d = jack_mean - jack
            accel = np.sum(d**3, axis=0) / (6.0 * np.sum(d**2, axis=0) ** 1.5)
            z_a = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
            adj = [z0 + (z0 + z) / (1 - accel * (z0 + z)) for z in z_a]
            q_low, q_high = special.ndtr(adj[0]), special.ndtr(adj[1])

    ci_low = _quantiles(masked, q_low, n_valid)
    ci_high = _quantiles(masked, q_high, n_valid)
    # A statistic that every resample leaves unchanged (e.g. a share of 0 %) has the
    # degenerate interval [estimate, estimate]; BCa's z0 = Phi^-1(0) would make it NaN.
    hi = np.max(np.where(finite, reps, -np.inf), axis=0)
    lo = np.min(np.where(finite, reps, np.inf), axis=0)
    constant = (n_valid >= 2) & (hi == lo)
    ci_low, ci_high = np.where(constant, lo, ci_low), np.where(constant, hi, ci_high)
    return BootstrapResult(
        estimate=estimate, ci_low=ci_low, ci_high=ci_high, se=se, method=method,
        confidence=confidence, n_boot=n_boot, n_valid=n_valid,
        replicates=reps if keep_replicates else None,
    )


def _quantiles(masked: np.ndarray, q: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """Per-element quantile ``q[...]`` of the finite replicates (linear interpolation)."""
    flat = masked.reshape(masked.shape[0], -1)
    qf = np.broadcast_to(q, masked.shape[1:]).ravel()
    out = np.full(flat.shape[1], np.nan)
    for j in range(flat.shape[1]):  # one loop per output element, not per resample
        col = flat[:, j]
        col = col[~np.isnan(col)]
        if col.size >= 2 and np.isfinite(qf[j]):
            out[j] = np.quantile(col, qf[j])
    return out.reshape(masked.shape[1:])
