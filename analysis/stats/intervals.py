"""Notes on confidence intervals: when an interval needs a caveat, and which.

Every CI result of :mod:`analysis.stats` (:class:`~analysis.stats.bootstrap.BootstrapResult`,
:class:`~analysis.stats.bias.BiasResult`, the table of
:func:`~analysis.stats.icc.intraclass_corr`) carries ``n_valid`` (finite bootstrap
replicates) and ``ci_note``, a short string built by :func:`ci_note` from the rules
below, joined by ``"; "`` in this order, ``""`` when none applies:

=====================  =================================================================
note                   rule
=====================  =================================================================
(caller's reasons)     e.g. ``"ICC undefined: all ratings equal"``: why the estimate
                       itself is NaN, given by the caller
``too few items``      bootstrap over items with fewer than :data:`MIN_ITEMS` items
``too few clusters``   bootstrap over clusters with fewer than :data:`MIN_CLUSTERS`
``NaN replicates x %`` a share ``x`` > 0 of the bootstrap replicates is not finite
                       (``x`` with one decimal; ``<0.1`` below 0.05 %)
``degenerate``         ``ci_low == ci_high``, or every finite replicate is equal
``interval undefined`` the estimate is finite but a bound is NaN (e.g. BCa's formula
                       is undefined, or fewer than 2 replicates are finite)
=====================  =================================================================

Why these rules
---------------
* The flag thresholds come from the package's own coverage simulations, by one rule
  (:func:`coverage_threshold`, checked against the documents by tests/test_intervals.py):
  the smallest sample size of the simulated grid from which *every* cell's coverage of
  the interval the tables report is at least 93 % (the lower edge of the 93-97 % band
  the documents use) minus that cell's Monte Carlo SE, at that size and all larger ones.
  Below it the flag is set. Bootstrap intervals are too narrow in small samples: the
  bootstrap SE is the plug-in SE, biased down by ``sqrt((n - 1) / n)`` for a mean, and
  the resampling distribution of a few (often tied) scores is coarse (Hesterberg 2015,
  sec. 4-5; Efron & Tibshirani 1993, ch. 13-14).
* :data:`MIN_ITEMS` = 50. docs/coverage.md, BCa over items (unclustered cells, ICC(A,1),
  ICC(C,1) and bias): n = 30: 91.4-94.1 % (worst 91.4, MC SE 0.9: below 92.1); n = 50:
  92.7-95.4 %; n = 100: 92.8-95.3 %; n = 190: 93.8-95.6 %; n = 500: 93.8-95.2 %. From
  n = 50 on every cell clears its bar; 50 and 100 differ by nothing the simulation can
  see (a shortfall of about 2 points at the worst cell remains up to n = 100, unflagged:
  read docs/coverage.md's "Unflagged undercoverage"). The grid has no n between 30 and
  50: the threshold is the first grid size that passes, not a measured step.
* :data:`MIN_CLUSTERS` = 100. docs/coverage.md, BCa over clusters (conversations):
  20 clusters 91.5-92.7 %, 38 clusters 91.7-93.5 % (worst 91.7, MC SE 0.9: below 92.1),
  100 clusters 93.6-95.3 %. The grid has nothing between 38 and 100, so 100 is the first
  size shown to pass; Cameron & Miller (2015) put "few" clusters at roughly 20-50.
* :data:`MIN_PPI_RATED` = 200 rated answers per group for the judge-assisted (PPI++,
  ``crossfit``) and human-only CLT intervals. docs/ppi_check.md, ``crossfit`` coverage
  over populations (500 subsets per row, MC SE about 1 point): MentalAlign-70k n = 50:
  88.8-96.2 %, n = 100: 90.4-95.6 %, n = 200: 92.2-96.4 %, n = 500: 93.4-97.6 %;
  DialogueSafety n = 50: 93.0-96.4 %, n = 100 and larger: 95.4 % and above. n = 100 fails
  (90.4 < 92.0), n = 200 passes.
* ``NaN replicates``: replicates where the statistic is undefined (e.g. a resample
  without variance) are left out, so the interval describes the resamples where it is
  defined; if such resamples are common the interval is conditional on a selection.
  Any share above 0 is reported, so that nothing is dropped silently.
* ``degenerate``: an interval of width 0 (a share of 0 %, an ICC of 1 from identical
  raters) says that no resample changed the statistic, not that it is known exactly:
  e.g. 0 harmful answers out of n still leaves a binomial upper bound of about 3 / n.
* ``interval undefined``: a NaN bound next to a finite estimate is easy to overlook in
  a table; the note says it is not a missing computation.

References
----------
Hesterberg, T. C. (2015). What teachers should know about the bootstrap: resampling in
the undergraduate statistics curriculum. The American Statistician 69(4), 371-386.
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust
inference. Journal of Human Resources 50(2), 317-372.
Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap.
"""

from __future__ import annotations

import numpy as np

MIN_ITEMS = 50
"""Bootstrap over fewer items than this gets the note ``too few items`` (derived from
docs/coverage.md by :func:`coverage_threshold`, module docstring)."""

MIN_CLUSTERS = 100
"""Bootstrap over fewer clusters than this gets the note ``too few clusters`` (derived
from docs/coverage.md by :func:`coverage_threshold`, module docstring)."""

MIN_PPI_RATED = 200
"""A judge-assisted or human-only (CLT) estimate of a group with fewer rated answers than
this is flagged (derived from docs/ppi_check.md by :func:`coverage_threshold`)."""

COVERAGE_FLOOR = 93.0
"""Lower edge (%) of the coverage band the simulations call acceptable for 95 % intervals."""


def coverage_threshold(cells, floor: float = COVERAGE_FLOOR) -> int | None:
    """The flag threshold a coverage simulation supports.

    Parameters
    ----------
    cells : iterable of (n, coverage_pct, mc_se_pct)
        One entry per simulated cell (sample size, coverage in %, its Monte Carlo SE).
    floor : float
        Lowest acceptable coverage (%), :data:`COVERAGE_FLOOR`.

    Returns
    -------
    int or None
        The smallest simulated ``n`` such that every cell at that ``n`` and at every
        larger ``n`` covers at least ``floor - mc_se``; ``None`` when no size passes.

    Examples
    --------
    >>> coverage_threshold([(30, 91.4, 0.9), (50, 92.7, 0.8), (100, 92.8, 0.8)])
    50
    """
    by_n: dict[int, bool] = {}
    for n, cov, se in cells:
        by_n[int(n)] = by_n.get(int(n), True) and float(cov) >= floor - float(se)
    threshold = None
    for n in sorted(by_n, reverse=True):
        if not by_n[n]:
            break
        threshold = n
    return threshold


def thresholds_text() -> str:
    """The flag thresholds in one sentence, for the notebooks' text (which never spells the
    numbers itself)."""
    return (f"Interval flags (analysis/stats/intervals.py, derived from docs/coverage.md and docs/ppi_check.md): "
            f"`too few items` below {MIN_ITEMS} items, `too few clusters` below {MIN_CLUSTERS} clusters, "
            f"judge-assisted and human-only estimates flagged below {MIN_PPI_RATED} rated answers.")


def clip_interval(ci_low, ci_high, lower: float, upper: float) -> tuple[float, float, str]:
    """An interval of a bounded quantity (a share in 0-100 %, a mean on a rating scale)
    clipped to ``[lower, upper]``, and the note ``"interval clipped to [lower, upper]"``
    when a bound was outside (``""`` otherwise; NaN/None bounds are left alone). A CLT
    interval (estimate ± z·SE) of a share near 0 or a mean near a scale end can leave the
    range the quantity lives in; the clipped interval contains the same possible values."""
    lo = None if ci_low is None else float(ci_low)
    hi = None if ci_high is None else float(ci_high)
    clipped = False
    if lo is not None and np.isfinite(lo) and lo < lower:
        lo, clipped = float(lower), True
    if hi is not None and np.isfinite(hi) and hi > upper:
        hi, clipped = float(upper), True
    return lo, hi, (f"interval clipped to [{lower:g}, {upper:g}]" if clipped else "")

SEPARATOR = "; "

UNITS = ("items", "clusters")


def _nan_share(share: float) -> str:
    pct = 100.0 * share
    return f"NaN replicates {'<0.1' if pct < 0.05 else f'{pct:.1f}'} %"


def with_clusters(note: str, clustered: bool) -> str:
    """``note`` led by ``resampled clusters`` when the interval resampled clusters (the
    bias rows of the scored summaries, in memory and streamed, say it this way)."""
    return "; ".join(t for t in ("resampled clusters" if clustered else "", note) if t)


def ci_note(ci_low, ci_high, *, estimate=None, n_units: int | None = None, unit: str = "items",
            n_boot: int | None = None, n_valid=None, constant=None, reasons=None) -> str | np.ndarray:
    """The caveats of confidence intervals, by the rules of the module docstring.

    Parameters
    ----------
    ci_low, ci_high : array_like
        Bounds (any shape; all arguments broadcast together).
    estimate : array_like, optional
        Point estimate: needed for ``interval undefined``.
    n_units : int, optional
        Resampling units (items or clusters) of a bootstrap interval.
    unit : {"items", "clusters"}
        What ``n_units`` counts.
    n_boot : int, optional
        Resamples drawn. Give it for bootstrap intervals only: the sample-size and
        replicate rules apply to bootstrap intervals, not to F-based ones.
    n_valid : array_like, optional
        Finite replicates.
    constant : array_like of bool, optional
        Every finite replicate is equal.
    reasons : str or array_like of str, optional
        Notes of the caller put first (``""`` or ``None`` for none), e.g. why the
        estimate is undefined.

    Returns
    -------
    str or ndarray of str (object)
        A ``str`` when all inputs are scalars, else an array of the broadcast shape.

    Examples
    --------
    >>> ci_note(0.1, 0.4, n_units=25, n_boot=2000, n_valid=1990)
    'too few items; NaN replicates 0.5 %'
    >>> ci_note(1.0, 1.0, n_units=12, unit="clusters", n_boot=1000, n_valid=1000)
    'too few clusters; degenerate'
    >>> ci_note(0.2, 0.5, n_units=100, n_boot=1000, n_valid=1000)
    ''
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    low = np.asarray(ci_low, dtype=float)
    high = np.asarray(ci_high, dtype=float)
    est = np.asarray(np.nan if estimate is None else estimate, dtype=float)
    valid = np.asarray(-1 if n_valid is None else n_valid)
    const = np.asarray(False if constant is None else constant, dtype=bool)
    why = np.asarray("" if reasons is None else reasons, dtype=object)
    shape = np.broadcast_shapes(low.shape, high.shape, est.shape, valid.shape, const.shape, why.shape)
    low, high, est, valid, const, why = (np.broadcast_to(a, shape) for a in (low, high, est, valid, const, why))

    size_note = ""
    if n_boot is not None and n_units is not None:
        limit = MIN_ITEMS if unit == "items" else MIN_CLUSTERS
        if n_units < limit:
            size_note = f"too few {unit}"

    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        notes = [why[idx]] if why[idx] else []
        if size_note:
            notes.append(size_note)
        if n_boot is not None and 0 <= valid[idx] < n_boot:
            notes.append(_nan_share(1 - valid[idx] / n_boot))
        lo, hi = low[idx], high[idx]
        if const[idx] or (np.isfinite(lo) and lo == hi):
            notes.append("degenerate")
        if np.isfinite(est[idx]) and (np.isnan(lo) or np.isnan(hi)):
            notes.append("interval undefined")
        out[idx] = SEPARATOR.join(notes)
    return out[()] if shape == () else out
