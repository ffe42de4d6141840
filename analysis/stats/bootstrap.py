"""Seeded, vectorised, memory-bounded bootstrap with percentile and BCa intervals.

Resamples are represented by *frequency weights*: ``weights[b, i]`` is how many times
unit ``i`` was drawn in resample ``b``. A statistic written with weights (a weighted
mean, weighted sums of squares, ...) evaluated on ``weights[b]`` is exactly the
statistic of the resampled rows, but the whole batch of resamples is a matrix product
instead of a Python loop, and unequal cluster sizes need no padding.

Two resampling schemes:

* items (default): the ``n`` rows of ``data`` are drawn with replacement;
* clusters: ``clusters`` labels the rows (e.g. the responses of one conversation);
  whole clusters are drawn with replacement and every row of a drawn cluster gets
  the cluster's count (Davison & Hinkley 1997, sec. 3.8, strategy 1). Resampling only
  the top level is what they recommend: also resampling the runs inside each drawn
  item (their strategy 2) adds the within-item variance a second time.

Statistics of sums (``sums=True``)
----------------------------------
Means, proportions, mean differences and every ICC depend on the data only through
sums over units of a few per-unit numbers (their *sufficient statistics*): a mean
through ``(count, sum)``, the ICCs through :func:`analysis.stats.icc.row_statistics`.
Such a statistic is declared with ``bootstrap(per_unit, f, sums=True)``: ``per_unit``
is the ``(n, m)`` array of per-row sufficient statistics and ``f(S)`` maps summed
vectors ``S`` of shape ``(..., m)`` to the statistic ``(..., *out)``. Then

* a resample is ``S = counts @ per_unit`` (per cluster sums when ``clusters`` are
  given, so the product has one column per cluster, not per row), and
* the jackknife of BCa is ``f(total - per_unit)``: every leave-one-unit-out sum in
  O(n m), instead of the O(n^2 m) of evaluating ``n`` leave-one-out weight vectors.

Any other statistic takes the generic path, ``statistic(*data, weights=w)``.

Reproducibility and shared draws
--------------------------------
The resamples are drawn in fixed blocks of :data:`BLOCK` resamples, block ``j`` from
``SeedSequence(seed).spawn`` child ``j``, so the same seed gives the same resamples
whatever ``chunk_size`` is, and results are bitwise identical for any chunk size
because each block's resample weights (or sums, one matrix product per block) are
computed on their own. A statistic of sums is then evaluated on many blocks' sums in
one call: it must act row by row along its first axis (elementwise operations and
reductions over the trailing axes, as every statistic here), which makes its rows
independent of how many are computed together (tested). A :class:`ResamplePlan` is
that draw as an object: pass it as ``plan=`` to evaluate many statistics (all the
attributes, sources and rater pairs of a table) on the *same* resamples, drawn once
and cached; the results are bitwise those of ``bootstrap(..., seed=plan's seed)``.

BCa, exactly as :func:`scipy.stats.bootstrap`
--------------------------------------------
:func:`bca_levels` follows scipy's ``_bca_interval`` (scipy >= 1.11) line by line:
``z0 = Phi^-1((#{theta* < theta_hat} + #{theta* <= theta_hat}) / (2 B))`` (ties count
half), acceleration ``a = sum(U^3) / n^3 / (6 (sum(U^2) / n^2)^1.5)`` with jackknife
``U_i = (n - 1)(mean_j theta_(j) - theta_(i))``, levels
``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` with ``z = Phi^-1(alpha/2)`` and its
negative, and the interval is read off with the "linear" (Hyndman & Fan type 7)
quantile, indices clipped to the sample, as ``scipy.stats.quantile``. Given the same
replicates and jackknife values the interval equals scipy's to rounding (tested to
1e-12). Two documented departures, both about non-finite input:

* non-finite replicates (e.g. a resample with zero variance) are left out (``B`` is
  the number of finite ones, reported in ``n_valid`` and in ``ci_note``), where scipy
  returns a NaN interval for the whole statistic;
* a statistic every resample leaves unchanged gets ``[value, value]`` (``ci_note``
  "degenerate"), where scipy returns NaN when the jackknife is constant as well.

Where scipy's formula itself is undefined the bound is NaN here too (``ci_note``
"interval undefined"): the jackknife values are all equal while the replicates vary
(``a = 0/0``), or no finite replicate lies on one side of the estimate (``z0`` infinite).

References
----------
Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397), 171-185.
Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13-14.
Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application.
Hyndman, R. J. & Fan, Y. (1996). Sample quantiles in statistical packages. The
American Statistician 50(4), 361-365.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import special

from analysis.stats.intervals import ci_note as _ci_note
from analysis.stats.threads import one_blas_thread, usable_cores

BLOCK = 64
"""Resamples per independently seeded block; fixed so results do not depend on chunking."""

_TARGET_CELLS = 4_000_000
"""The generic jackknife evaluates about this many weight cells (32 MB of float64) at once."""

DEFAULT_N_BOOT = 2000
"""Resamples drawn when neither ``n_boot`` nor a ``plan`` is given."""

PLAN_CACHE_MIB = 256
"""Default memory a :class:`ResamplePlan` may use to keep its drawn counts (compact integers)."""

LEAN_THREADS = 4
"""At most this many threads draw and sum blocks of resamples at once in the lean path."""

JACKKNIFE_ROWS = 65_536
"""Leave-one-out values of a statistic of sums are computed this many units at a time;
with more units BCa's acceleration is summed chunk by chunk (:func:`_acceleration_sums`),
never holding ``n x out`` jackknife values."""

ACCELERATION_ROWS = 8_192
"""Units per chunk of :func:`_acceleration_sums` (a chunk of 65,536 items cost 0.38 GiB
inside the statistic of 22 rater pairs; 8,192 cost 0.05 GiB, at the same speed)."""

METHODS = ("percentile", "bca")


@dataclass(frozen=True)
class BootstrapResult:
    """Result of :func:`bootstrap`.

    Attributes
    ----------
    estimate : ndarray
        The statistic on the original sample.
    ci_low, ci_high : ndarray
        Interval bounds. NaN where fewer than 2 replicates are finite, or where the BCa
        formula is undefined (see the module docstring); ``[value, value]`` where every
        finite replicate has the same value.
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
    ci_note : str or ndarray of str
        Warnings about the interval from :func:`analysis.stats.intervals.ci_note`
        ("too few items", "NaN replicates 2.5 %", ...; ``""`` when none apply). A
        ``str`` for a scalar statistic, else an object array of the output shape.
    n_units : int
        Resampling units: items, or clusters when ``clusters`` were given.
    unit : str
        ``"items"`` or ``"clusters"``.
    z0, acceleration : ndarray or None
        BCa's bias correction and acceleration (``None`` for the percentile method).
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
    ci_note: str | np.ndarray = ""
    n_units: int = 0
    unit: str = "items"
    z0: np.ndarray | None = None
    acceleration: np.ndarray | None = None


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
    return out[0] if len(out) == 1 else np.concatenate(out, axis=0)  # one block: no copy


def _counts(idx: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """Frequency weights (B, n) (float) from drawn indices (B, m): one bincount per resample
    (a row of counts stays in cache; one flat bincount over B n cells is 2-3x slower)."""
    out = np.empty((idx.shape[0], n)) if out is None else out[:idx.shape[0]]
    for row, drawn in zip(out, idx):
        row[:] = np.bincount(drawn, minlength=n)
    return out


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


def _group_sums(per_row: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-cluster column sums ``(n_groups, m)`` of per-row statistics ``(n, m)``."""
    return np.stack([np.bincount(codes, per_row[:, c], minlength=n_groups) for c in range(per_row.shape[1])],
                    axis=1)


def _default_chunk(n_cells_per_resample: int) -> int:
    return int(max(BLOCK, min(4096, _TARGET_CELLS // max(n_cells_per_resample, 1))))


def _round_to_blocks(chunk: int) -> int:
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    return -(-chunk // BLOCK) * BLOCK


class ResamplePlan:
    """One seeded draw of bootstrap resamples, reusable by any number of statistics.

    ``bootstrap(data, f, plan=ResamplePlan(n, n_boot, seed, clusters))`` gives bitwise
    the result of ``bootstrap(data, f, n_boot=n_boot, seed=seed, clusters=clusters)``;
    the point of the plan is that every statistic given the same plan is computed on
    the *same* resamples (one draw for all attributes, sources and rater pairs of a
    table, so their intervals are jointly consistent and differences between them can
    be bootstrapped from the replicates), and that the draw is made once: the counts of
    every block are kept, as the smallest unsigned integer type that holds them, as
    long as they fit in ``cache_mib`` (``cache_mib=0`` re-draws every time, bitwise
    the same). A ``seed`` of ``None`` is resolved to fresh entropy once, at creation.

    Parameters
    ----------
    n_units : int
        Rows of the data the plan resamples (axis 0 of ``data``). With ``clusters``,
        the rows that the cluster labels refer to.
    n_boot : int
        Resamples.
    seed : int, SeedSequence or None
    clusters : sequence, optional
        Cluster label of every row; whole clusters are drawn (numbered by first
        appearance, as in :func:`bootstrap`).
    cache_mib : float
        Memory the kept counts may take.

    Attributes
    ----------
    n_rows : int
        ``n_units`` as given (rows of the data).
    n_draw : int
        Units actually drawn: clusters, or rows.
    codes : ndarray or None
        Cluster number (0..n_draw-1) of every row; ``None`` without clusters.

    Examples
    --------
    >>> plan = ResamplePlan(20, n_boot=500, seed=3)
    >>> x = np.arange(20.0)
    >>> mean = lambda x, weights: weights @ x / weights.sum(-1)
    >>> a = bootstrap(x, mean, plan=plan)
    >>> b = bootstrap(x, mean, n_boot=500, seed=3)
    >>> bool(a.ci_low == b.ci_low and a.ci_high == b.ci_high)
    True
    """

    def __init__(self, n_units: int, n_boot: int = DEFAULT_N_BOOT, seed: int | np.random.SeedSequence | None = None,
                 clusters: Sequence | None = None, *, cache_mib: float = PLAN_CACHE_MIB):
        n_units, n_boot = int(n_units), int(n_boot)
        if n_boot < 2:
            raise ValueError(f"n_boot must be at least 2, got {n_boot}")
        if n_units < 2:
            raise ValueError(f"need at least 2 resampling units, got {n_units}")
        self.n_rows = n_units
        self.n_boot = n_boot
        self.seed = _resolve_seed(seed)
        if clusters is not None:
            self.codes, self.n_draw = _cluster_codes(clusters, n_units)
        else:
            self.codes, self.n_draw = None, n_units
        self._cache: dict[int, np.ndarray] = {}
        self._cache_left = float(cache_mib) * 2**20

    @property
    def unit(self) -> str:
        """``"clusters"`` or ``"items"``: what a resample draws."""
        return "items" if self.codes is None else "clusters"

    @property
    def n_blocks(self) -> int:
        return -(-self.n_boot // BLOCK)

    def block_counts(self, block: int, out: np.ndarray | None = None) -> np.ndarray:
        """Counts ``(size, n_draw)`` (float) of block ``block``: resamples ``block*BLOCK`` onwards.

        ``out``: a ``(BLOCK, n_draw)`` float buffer to write into (the result is a view
        of it), saving an allocation per block.
        """
        b0 = block * BLOCK
        size = min(BLOCK, self.n_boot - b0)
        cached = self._cache.get(block)
        if cached is not None:
            if out is None:
                return cached.astype(float)
            np.copyto(out[:size], cached)
            return out[:size]
        counts = _counts(resample_indices(self.n_draw, self.n_boot, self.seed, b0, b0 + size), self.n_draw, out)
        top = counts.max(initial=0.0)
        dtype = np.uint8 if top <= np.iinfo(np.uint8).max else np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
        nbytes = counts.size * np.dtype(dtype).itemsize
        if nbytes <= self._cache_left:
            self._cache[block] = counts.astype(dtype)
            self._cache_left -= nbytes
        return counts

    def block_pieces(self, block: int, rows: int):
        """The drawn indices of block ``block``, ``rows`` resamples at a time: yields
        ``(offset, indices)`` with ``indices`` of shape ``(r, n_draw)``. The same integers
        as :func:`resample_indices` (the generator's stream does not depend on how many
        are asked for at once, tested), in pieces small enough for millions of units."""
        b0 = block * BLOCK
        size = min(BLOCK, self.n_boot - b0)
        rng = _block_rng(self.seed, block)
        for s in range(0, size, rows):
            yield s, rng.integers(0, self.n_draw, size=(min(rows, size - s), self.n_draw))

    def counts(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Counts ``(stop-start, n_draw)`` of the drawn units in resamples ``start..stop-1``."""
        stop = self.n_boot if stop is None else min(stop, self.n_boot)
        if stop <= start:
            return np.empty((0, self.n_draw))
        parts = []
        for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            b0 = block * BLOCK
            parts.append(self.block_counts(block)[max(start, b0) - b0:stop - b0])
        return np.concatenate(parts, axis=0)

    def weights(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Row weights ``(stop-start, n_rows)``: a row gets the count of its cluster."""
        c = self.counts(start, stop)
        return c if self.codes is None else c[:, self.codes]

    def __repr__(self) -> str:
        clusters = f", {self.n_draw} clusters" if self.codes is not None else ""
        return f"ResamplePlan({self.n_rows} rows{clusters}, n_boot={self.n_boot}, seed entropy={self.seed.entropy})"


SHARED_PLAN_MIB = 256
"""Memory the plans drawn for calls without a ``plan`` may keep, all together (:func:`shared_plan`)."""

_SHARED_PLANS: dict[tuple, ResamplePlan] = {}


def shared_plan(n_units: int, n_boot: int, seed: int | np.random.SeedSequence | None,
                clusters: Sequence | None = None) -> ResamplePlan:
    """The :class:`ResamplePlan` a call without ``plan=`` uses: kept and reused by later
    calls with the same units, ``n_boot``, seed and clusters.

    A draw is a pure function of those four, so reusing it changes no result (bitwise,
    tested); it spares the draw, which is most of the cost of a bootstrap of sums: seven
    ``intraclass_corr(x, ci="bca", n_boot=1000, seed=s)`` calls on 100,000 items, one
    per attribute, draw once, as if they shared a plan. The kept plans hold their counts
    in compact integers, at most :data:`SHARED_PLAN_MIB` together (the least recently
    used plan is dropped first); a draw larger than that, or a ``seed`` of ``None``
    (fresh entropy: nothing to reuse), is made for the call and not kept.
    :func:`clear_shared_plans` frees them.
    """
    n_units, n_boot = int(n_units), int(n_boot)
    if seed is None:
        return ResamplePlan(n_units, n_boot, seed, clusters, cache_mib=0)
    ss = _resolve_seed(seed)
    codes_key = None
    if clusters is not None:
        codes, _ = _cluster_codes(clusters, n_units)
        codes_key = hashlib.blake2b(codes.astype(np.int64).tobytes(), digest_size=16).hexdigest()
    key = (n_units, n_boot, repr(ss.entropy), tuple(ss.spawn_key), ss.pool_size, codes_key)
    plan = _SHARED_PLANS.pop(key, None)
    if plan is None:
        plan = ResamplePlan(n_units, n_boot, ss, clusters, cache_mib=0)
        need = plan.n_draw * n_boot / 2**20  # uint8 counts (the common case)
        if need > SHARED_PLAN_MIB:
            return plan
        while _SHARED_PLANS and need + sum(a.nbytes for p in _SHARED_PLANS.values()
                                           for a in p._cache.values()) / 2**20 > SHARED_PLAN_MIB:
            _SHARED_PLANS.pop(next(iter(_SHARED_PLANS)))  # least recently used first
        plan._cache_left = need * 2**20 * 2  # room for uint16 counts of a few clusters drawn often
    _SHARED_PLANS[key] = plan  # most recently used last
    return plan


def clear_shared_plans() -> None:
    """Forget the plans kept by :func:`shared_plan`."""
    _SHARED_PLANS.clear()


def _resampled_sums_statistic(per_unit: np.ndarray, statistic, plan: "ResamplePlan", out: np.ndarray) -> None:
    """Write ``statistic(counts @ per_unit)`` of every resample of ``plan`` into ``out``
    (``(n_boot, *shape)``).

    The sums of each block of :data:`BLOCK` resamples are one matrix product of their
    own (a BLAS kernel may add in another order for another number of rows, and the
    results must not depend on how the work is split); the statistic, elementwise along
    its first axis, is then called on as many blocks at once as fit in about
    :data:`_TARGET_CELLS` cells of sums: one call instead of one per block (for the
    MentalAlign tables, 32 calls of small array operations become 1).
    """
    n_boot, m = plan.n_boot, per_unit.shape[1]
    rows = min(n_boot, max(BLOCK, _TARGET_CELLS // max(m, 1) // BLOCK * BLOCK))
    counts = np.empty((min(BLOCK, n_boot), plan.n_draw))  # reused: never seen by the caller
    sums = np.empty((rows, m))  # reused: the statistic's values are copied out before the next chunk
    for s in range(0, n_boot, rows):
        e = min(n_boot, s + rows)
        for b in range(s, e, BLOCK):
            np.matmul(plan.block_counts(b // BLOCK, counts), per_unit, out=sums[b - s:min(e, b + BLOCK) - s])
        out[s:e] = np.asarray(statistic(sums[:e - s]), dtype=float)


def lean_threads() -> int:
    """Threads :func:`_resampled_sums_lean` spreads its blocks over: the cores this process
    may use, at most :data:`LEAN_THREADS` (each block is drawn from its own seed and summed
    on its own, so the result does not depend on the number)."""
    return max(1, min(LEAN_THREADS, usable_cores()))


def _resampled_sums_lean(per_row: np.ndarray, statistic, plan: "ResamplePlan", out: np.ndarray,
                         pattern: np.ndarray | None) -> None:
    """:func:`_resampled_sums_statistic` in memory ``O(n_draw)`` per piece: each block of
    resamples is drawn in pieces of at most :data:`_TARGET_CELLS` indices, each resample's
    counts are taken per row of ``per_row`` (``pattern[i]`` is the row of unit ``i``;
    without ``pattern``, row ``i``) and multiplied out piece by piece. The resamples are
    the plan's; the sums equal :func:`_resampled_sums_statistic`'s to rounding (another
    order of addition), and do not depend on anything but the data and the plan.

    Blocks are independent (own seed, own rows of the sums), so :func:`lean_threads`
    threads work on different blocks at once: numpy's generator, indexing and matrix
    products release the GIL (2 cores: 1.5x on 2,000,000 items, measured). BLAS runs on
    one thread (:func:`~analysis.stats.threads.one_blas_thread`), so the result is bitwise
    the same for any number of threads."""
    n_boot, (p, m) = plan.n_boot, per_row.shape
    rows = max(1, min(BLOCK, _TARGET_CELLS // max(plan.n_draw, p, 1)))
    code = None if pattern is None else pattern.astype(np.int32 if p > np.iinfo(np.int16).max else np.int16)
    sums = np.empty((n_boot, m))

    def run_block(block: int) -> None:
        counts = np.empty((rows, p))
        for s, idx in plan.block_pieces(block, rows):
            b = block * BLOCK + s
            for row, drawn in zip(counts, idx if code is None else code[idx]):
                row[:] = np.bincount(drawn, minlength=p)
            np.matmul(counts[:idx.shape[0]], per_row, out=sums[b:b + idx.shape[0]])
            del idx

    threads = min(lean_threads(), plan.n_blocks)
    with one_blas_thread():
        if threads == 1:
            for block in range(plan.n_blocks):
                run_block(block)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                for _ in pool.map(run_block, range(plan.n_blocks)):
                    pass  # re-raises a block's error here
    step = max(1, _TARGET_CELLS // max(m, 1))
    for s in range(0, n_boot, step):
        out[s:s + step] = np.asarray(statistic(sums[s:s + step]), dtype=float)


def _jackknife(arrays, statistic, codes: np.ndarray, n_units: int, chunk_size: int) -> np.ndarray:
    """Leave-one-unit-out values of the statistic, (n_units, *out_shape), chunked: O(n^2)."""
    out = []
    for s in range(0, n_units, chunk_size):
        left_out = np.arange(s, min(n_units, s + chunk_size))
        w = (codes[None, :] != left_out[:, None]).astype(float)  # (chunk, n)
        out.append(np.asarray(statistic(*arrays, weights=w), dtype=float))
    return np.concatenate(out, axis=0)


def _jackknife_sums(per_unit: np.ndarray, total: np.ndarray, statistic, chunk: int = JACKKNIFE_ROWS) -> np.ndarray:
    """Leave-one-unit-out values of a statistic of sums: ``f(total - per_unit[i])``, O(n m)."""
    return np.concatenate([np.asarray(statistic(total[None, :] - per_unit[s:s + chunk]), dtype=float)
                           for s in range(0, per_unit.shape[0], chunk)], axis=0)


def _acceleration_sums(per_unit: np.ndarray, total: np.ndarray, statistic, estimate: np.ndarray,
                       counts: np.ndarray | None = None, chunk: int | None = None) -> np.ndarray:
    """BCa's acceleration (:func:`bca_levels`' formula) from the leave-one-out values
    ``f(total - per_unit[i])``, ``chunk`` units at a time in one pass, so memory is
    ``chunk x out``, not ``n x out`` (500,000 items x 51 outputs: 0.2 GiB per array, and
    the formula holds four). ``counts``: units per row (distinct rows, see ``pattern``).

    The sums are of ``d_i = theta_(i) - theta_hat`` (shifted by the ``estimate``, from
    which the leave-one-out values differ by O(1/n)): with ``S_k = sum w d^k`` and
    ``delta = S_1 / n``, ``sum U^2 = (n-1)^2 (S_2 - n delta^2)`` and
    ``sum U^3 = -(n-1)^3 (S_3 - 3 delta S_2 + 2 n delta^3)``, the central sums without
    cancellation (delta is O(1/n^2)). Equal to :func:`bca_levels`' two-pass acceleration
    to rounding (tested)."""
    chunk = ACCELERATION_ROWS if chunk is None else chunk
    rows = per_unit.shape[0]
    w = None if counts is None else np.asarray(counts, dtype=float)
    n = float(rows if w is None else w.sum())
    s1 = s2 = s3 = 0.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for s in range(0, rows, chunk):
            d = np.asarray(statistic(total[None, :] - per_unit[s:s + chunk]), dtype=float) - estimate
            d2 = d * d
            if w is None:
                s1, s2, s3 = s1 + d.sum(axis=0), s2 + d2.sum(axis=0), s3 + (d2 * d).sum(axis=0)
            else:
                ws = w[s:s + chunk]
                s1 = s1 + np.tensordot(ws, d, axes=(0, 0))
                s2 = s2 + np.tensordot(ws, d2, axes=(0, 0))
                s3 = s3 + np.tensordot(ws, d2 * d, axes=(0, 0))
        delta = s1 / n
        sum_u2 = (n - 1) ** 2 * (s2 - n * delta**2)
        sum_u3 = -((n - 1) ** 3) * (s3 - 3 * delta * s2 + 2 * n * delta**3)
        return 1 / 6 * (sum_u3 / n**3) / (sum_u2 / n**2) ** (3 / 2)


def bca_levels(replicates: np.ndarray, estimate: np.ndarray, jackknife: np.ndarray | None, confidence: float,
               jackknife_counts: np.ndarray | None = None, acceleration: np.ndarray | None = None):
    """BCa quantile levels as ``scipy.stats._resampling._bca_interval`` computes them.

    Parameters
    ----------
    replicates : ndarray, shape (B, *out)
        Bootstrap replicates; non-finite ones are left out (``B`` is then the count of
        finite ones per element, see the module docstring).
    estimate : ndarray, shape out
    jackknife : ndarray, shape (n, *out)
        Leave-one-unit-out values.
    confidence : float
        Two-sided coverage.
    jackknife_counts : ndarray, shape (n,), optional
        How many units share each row of ``jackknife`` (units with the same per-unit
        statistics have the same leave-one-out value): the sums over units of the
        acceleration are then weighted sums over the rows.
    acceleration : ndarray, shape out, optional
        The acceleration computed elsewhere (:func:`_acceleration_sums`, chunk by chunk);
        ``jackknife`` is then not used.

    Returns
    -------
    alpha_1, alpha_2, z0, acceleration : ndarray
        Quantile levels of the lower and upper bound, bias correction, acceleration.
        NaN where scipy's formula is undefined (``z0`` infinite, or ``0/0`` in ``a``).
    """
    reps = np.asarray(replicates, dtype=float)
    theta_hat = np.asarray(estimate, dtype=float)
    finite = np.isfinite(reps)
    b = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # scipy: percentile = (#(theta* < theta) + #(theta* <= theta)) / (2 B): ties count half.
        nonzeros = np.sum(finite & (reps < theta_hat), axis=0) + np.sum(finite & (reps <= theta_hat), axis=0)
        z0 = special.ndtri(nonzeros.astype(float) / (2 * b))
        if acceleration is not None:
            a_hat = np.asarray(acceleration, dtype=float)
        elif jackknife_counts is None:
            jack = np.asarray(jackknife, dtype=float)
            n = float(jack.shape[0])
            u = (n - 1) * (np.mean(jack, axis=0) - jack)
            num = np.sum(u**3, axis=0) / n**3
            den = np.sum(u**2, axis=0) / n**2
        else:
            jack = np.asarray(jackknife, dtype=float)
            w = np.asarray(jackknife_counts, dtype=float)
            n = float(w.sum())
            u = (n - 1) * (np.tensordot(w, jack, axes=(0, 0)) / n - jack)
            num = np.tensordot(w, u**3, axes=(0, 0)) / n**3
            den = np.tensordot(w, u**2, axes=(0, 0)) / n**2
        if acceleration is None:
            a_hat = 1 / 6 * num / den ** (3 / 2)
        z_alpha = float(special.ndtri((1 - confidence) / 2))
        z_1alpha = -z_alpha
        num1 = z0 + z_alpha
        alpha_1 = special.ndtr(z0 + num1 / (1 - a_hat * num1))
        num2 = z0 + z_1alpha
        alpha_2 = special.ndtr(z0 + num2 / (1 - a_hat * num2))
    return alpha_1, alpha_2, z0, a_hat


def quantile_linear(replicates: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-element quantile of the finite replicates, as ``scipy.stats.quantile(method="linear")``.

    ``replicates`` is ``(B, *out)``, ``q`` broadcasts to ``out``. Hyndman & Fan type 7:
    ``j = floor(q n + 1 - q) - 1``, ``g`` its fractional part, indices clipped to
    ``0..n-1``; ``n`` is the number of finite replicates of the element. NaN where ``q``
    is NaN or outside [0, 1], or fewer than 2 replicates are finite.
    """
    reps = np.asarray(replicates, dtype=float)
    y = np.sort(np.where(np.isfinite(reps), reps, np.nan), axis=0)  # NaN sorts last
    n = np.isfinite(reps).sum(axis=0).astype(float)
    p = np.broadcast_to(np.asarray(q, dtype=float), reps.shape[1:])
    bad = ~((p >= 0) & (p <= 1)) | (n < 2)
    p = np.where(bad, 0.5, p)
    n_safe = np.maximum(n, 1)
    jg = p * n_safe + (1 - p)
    jp1 = jg // 1
    j = jp1 - 1
    g = jg % 1
    g = np.where(j < 0, 0.0, g)
    j = np.clip(j, 0, n_safe - 1).astype(np.int64)
    jp1 = np.clip(jp1, 0, n_safe - 1).astype(np.int64)
    lo = np.take_along_axis(y, j[None], axis=0)[0]
    hi = np.take_along_axis(y, jp1[None], axis=0)[0]
    out = (1 - g) * lo + g * hi
    return np.where(bad, np.nan, out)


def bootstrap(
    data,
    statistic: Callable[..., np.ndarray],
    *,
    n_boot: int | None = None,
    method: str = "bca",
    confidence: float = 0.95,
    seed: int | np.random.SeedSequence | None = None,
    clusters: Sequence | None = None,
    chunk_size: int | None = None,
    keep_replicates: bool = False,
    sums: bool = False,
    plan: ResamplePlan | None = None,
    lean: bool = False,
    pattern: np.ndarray | None = None,
) -> BootstrapResult:
    """Bootstrap confidence interval of a statistic vectorised over resamples.

    Parameters
    ----------
    data : array or tuple of arrays
        Arrays sharing axis 0, the resampling units (items, responses). With
        ``sums=True``: one ``(n, m)`` array of per-row sufficient statistics.
    statistic : callable
        Generic path: ``statistic(*data, weights=w)`` returning an array of shape
        ``(B, *out)`` for frequency weights ``w`` of shape ``(B, n)``; it is called once on ``ones((1, n))`` for the point estimate.
        With ``sums=True``: ``statistic(S)`` for summed sufficient statistics ``S`` of
        shape ``(B, m)``, returning ``(B, *out)`` (see the module docstring).
    n_boot : int, optional
        Number of resamples (default :data:`DEFAULT_N_BOOT`, or the plan's).
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (Efron 1987) with
        the acceleration from the jackknife over the resampling units (clusters when
        given), computed exactly as :func:`scipy.stats.bootstrap` does (ties between
        replicates and the estimate count half in ``z0``; see :func:`bca_levels`).
    confidence : float
        Two-sided coverage, e.g. 0.95.
    seed : int, SeedSequence or None
        Seed of the resamples (see module docstring for the block scheme).
    clusters : sequence, optional
        Cluster label of every row; whole clusters are resampled.
    chunk_size : int, optional
        Kept for backward compatibility. Resamples are generated and evaluated in the
        fixed blocks of :data:`BLOCK` resamples (which also bounds memory at
        ``BLOCK x n`` weight cells), so results are bitwise identical for every
        chunk size; it must still be positive.
    keep_replicates : bool
        Keep the ``(n_boot, *out)`` replicate array in the result.
    sums : bool
        Declare ``statistic`` a function of summed per-unit sufficient statistics:
        resamples are ``counts @ data`` and BCa's jackknife is ``total - data[i]``,
        O(n m) instead of O(n^2 m).
    plan : ResamplePlan, optional
        Use this plan's resamples (then ``seed`` and ``clusters`` must not be given,
        and ``n_boot`` only if equal to the plan's). Results are bitwise those of the
        same call with the plan's ``n_boot``, seed and clusters.
    lean : bool
        With ``sums=True``, for millions of units: draw each block of resamples in
        pieces and multiply out piece by piece, so the memory is the ``(n, m)`` table
        and a piece of :data:`_TARGET_CELLS` counts, never ``BLOCK x n`` weights. Same
        resamples; the sums are added in another order, so results equal those of
        ``lean=False`` to rounding (1e-12 tested), not bitwise. Blocks are spread over
        :func:`lean_threads` threads (bitwise the same result on any number).
    pattern : ndarray of int, shape (n_units,), optional
        With ``sums=True`` (implies ``lean``): ``data`` holds the *distinct* per-unit
        rows and unit ``i`` has row ``data[pattern[i]]`` (items with the same scores
        have the same statistics: 2,000,000 items of 5 raters on a 1-5 grid have at
        most 5^5 distinct rows). Resample sums are then counts per distinct row times
        the rows, and the jackknife has one value per distinct row, weighted by how
        many units share it. Not with clusters.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Replicates that are not finite (e.g. a resample in which a variance is zero) are
    left out of the quantiles for that output element, counted in ``n_valid`` and
    reported in ``ci_note`` (rules in :mod:`analysis.stats.intervals`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> res = bootstrap(x, lambda x, weights: weights @ x / weights.sum(-1), n_boot=999, seed=1)
    >>> bool(res.ci_low < 9.5 < res.ci_high)
    True

    The same mean as a statistic of the per-item sums ``(1, x)``:

    >>> res2 = bootstrap(np.column_stack([np.ones(20), x]), lambda s: s[..., 1] / s[..., 0],
    ...                  n_boot=999, seed=1, sums=True)
    >>> bool(abs(res2.ci_low - res.ci_low) < 1e-12)
    True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if plan is not None:
        if n_boot is not None and n_boot != plan.n_boot:
            raise ValueError(f"n_boot={n_boot} differs from the plan's n_boot={plan.n_boot}")
        if seed is not None or clusters is not None:
            raise ValueError("with a plan, the seed and the clusters are the plan's: do not pass seed or clusters")
        n_boot = plan.n_boot
    n_boot = DEFAULT_N_BOOT if n_boot is None else int(n_boot)
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if chunk_size is not None:
        _round_to_blocks(chunk_size)  # validated; blocks of BLOCK resamples are used regardless
    arrays = _as_tuple(data)
    n = arrays[0].shape[0]
    if pattern is not None:
        if not sums or clusters is not None or (plan is not None and plan.codes is not None):
            raise ValueError("pattern needs sums=True and no clusters")
        pattern = np.asarray(pattern)
        if pattern.ndim != 1 or (pattern.size and (pattern.min() < 0 or pattern.max() >= n)):
            raise ValueError(f"pattern must give every unit a row of data (0..{n - 1})")
        lean, n = True, pattern.size
    if n < 2:
        raise ValueError(f"need at least 2 resampling units, got {n}")

    if sums and (len(arrays) != 1 or arrays[0].ndim != 2):
        raise ValueError("sums=True needs data to be one (n, m) array of per-row sufficient statistics")
    if plan is None:
        plan = shared_plan(n, n_boot, seed, clusters)
    elif plan is not None and plan.n_rows != n:
        raise ValueError(f"the plan resamples {plan.n_rows} rows but the data have {n}")

    codes = plan.codes if plan.codes is not None else np.arange(n)
    n_units, unit = plan.n_draw, plan.unit

    multiplicity = None if pattern is None else np.bincount(pattern, minlength=arrays[0].shape[0]).astype(float)
    if sums:
        per_unit = arrays[0] if plan.codes is None else _group_sums(arrays[0], plan.codes, plan.n_draw)
        total_row = (np.ones((1, per_unit.shape[0])) if multiplicity is None else multiplicity[None]) @ per_unit
        estimate = np.asarray(statistic(total_row), dtype=float)[0]
    else:
        estimate = np.asarray(statistic(*arrays, weights=np.ones((1, n))), dtype=float)[0]

    # Every block of BLOCK resamples is drawn (and, for sums, multiplied out) on its own:
    # BLAS kernels may sum in a different order for a different number of rows, and
    # results must be bitwise independent of how the work is split.
    reps = np.empty((n_boot,) + estimate.shape)
    if sums and lean:
        _resampled_sums_lean(per_unit, statistic, plan, reps, pattern)
    elif sums:
        _resampled_sums_statistic(per_unit, statistic, plan, out=reps)
    else:
        for s in range(0, n_boot, BLOCK):
            e = min(n_boot, s + BLOCK)
            reps[s:e] = np.asarray(statistic(*arrays, weights=plan.weights(s, e)), dtype=float)

    finite = np.isfinite(reps)
    n_valid = finite.sum(axis=0)
    masked = np.where(finite, reps, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # two-pass SD of the finite replicates
        mean = np.where(finite, reps, 0.0).sum(axis=0) / n_valid
        se = np.sqrt(np.where(finite, (reps - mean) ** 2, 0.0).sum(axis=0) / (n_valid - 1))
    se = np.where(n_valid >= 2, se, np.nan)
    alpha = 1 - confidence

    z0 = accel = None
    if method == "percentile":
        q_low = np.full(estimate.shape, alpha / 2)
        q_high = np.full(estimate.shape, 1 - alpha / 2)
    else:
        accel = None
        if sums and per_unit.shape[0] > JACKKNIFE_ROWS:  # chunk by chunk; fewer units: bitwise as before
            jack, accel = None, _acceleration_sums(per_unit, total_row[0], statistic, estimate, multiplicity)
        elif sums:
            jack = _jackknife_sums(per_unit, total_row[0], statistic)
        else:
            jack = _jackknife(arrays, statistic, codes, n_units, _default_chunk(n))
        q_low, q_high, z0, accel = bca_levels(reps, estimate, jack, confidence, multiplicity, acceleration=accel)

    ci_low = quantile_linear(masked, q_low)
    ci_high = quantile_linear(masked, q_high)
    # A statistic that every resample leaves unchanged (e.g. a share of 0 %) has the
    # degenerate interval [value, value]; BCa's formula would make it NaN.
    hi = np.max(np.where(finite, reps, -np.inf), axis=0)
    lo = np.min(np.where(finite, reps, np.inf), axis=0)
    constant = (n_valid >= 2) & (hi == lo)
    ci_low, ci_high = np.where(constant, lo, ci_low), np.where(constant, hi, ci_high)
    note = _ci_note(ci_low, ci_high, estimate=estimate, n_units=n_units, unit=unit, n_boot=n_boot,
                    n_valid=n_valid, constant=constant)
    return BootstrapResult(
        estimate=estimate, ci_low=ci_low, ci_high=ci_high, se=se, method=method,
        confidence=confidence, n_boot=n_boot, n_valid=n_valid,
        replicates=reps if keep_replicates else None, ci_note=note, n_units=int(n_units), unit=unit,
        z0=z0, acceleration=accel,
    )
