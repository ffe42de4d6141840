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
* :data:`MIN_ITEMS` = 50. Bootstrap intervals are too narrow in small samples: the
  bootstrap SE is the plug-in SE, biased down by ``sqrt((n - 1) / n)`` for a mean, and
  the resampling distribution of a few (often tied) scores is coarse, so percentile and
  BCa intervals under-cover (Hesterberg 2015, sec. 4-5; Efron & Tibshirani 1993,
  ch. 13-14). The package's own coverage simulation (``python -m analysis coverage``,
  docs/coverage.md) measured 91.4-94.1 % for 95 % BCa intervals of ICC and bias at
  n = 30, and 93-96 % from n = 100: the conventional boundary of 30 would leave n = 30-49
  under-covering without a word, so the flag starts at 50. It is a flag to read the
  interval as optimistic, not a verdict.
* :data:`MIN_CLUSTERS` = 50. With clusters the independent units are the clusters, and
  cluster-based inference is unreliable (intervals too narrow) with few of them;
  Cameron & Miller (2015) put "few" at roughly 20-50. The coverage simulation measured
  91.5-93.5 % with 20 and 38 conversations and 93.6-95.3 % with 100, so the flag covers
  the whole range Cameron & Miller call few.
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
"""Bootstrap over fewer items than this gets the note ``too few items``."""

MIN_CLUSTERS = 50
"""Bootstrap over fewer clusters than this gets the note ``too few clusters``."""

SEPARATOR = "; "

UNITS = ("items", "clusters")


def _nan_share(share: float) -> str:
    pct = 100.0 * share
    return f"NaN replicates {'<0.1' if pct < 0.05 else f'{pct:.1f}'} %"


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
