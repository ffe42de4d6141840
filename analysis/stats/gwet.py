"""Gwet's AC1 (nominal) and AC2 (weighted) agreement coefficients with their variance.

When to use
-----------
Chance-corrected agreement of any number of raters on categorical or ordinal labels,
with missing ratings (not every rater rates every item). Unlike Fleiss' kappa or
Krippendorff's alpha, AC1 stays high when the raters agree on almost every item and
one category dominates (the "kappa paradox", Feinstein & Cicchetti 1990): its chance
agreement is the propensity to agree on hard-to-score items, which is small when the
category shares are lopsided. For crisis-response ratings, where most answers are
"appropriate", kappa-type coefficients can be low despite 90 % raw agreement; report
AC1/AC2 beside Krippendorff's alpha (:func:`analysis.stats.agreement.krippendorff_alpha`).
Use AC2 with ``"linear"``, ``"quadratic"`` or ``"ordinal"`` weights for ordinal scales
(1-5), where a 4 against a 5 is a near agreement.

Definitions (Gwet 2008; Gwet 2014, ch. 2 and 5)
-----------------------------------------------
``n`` items rated by at least one rater, ``q`` categories, ``r_ik`` raters who put item
``i`` in category ``k``, ``r_i = sum_k r_ik``, weights ``w_kl`` (identity for AC1),
``r*_ik = sum_l w_kl r_il``, ``n2`` the items with ``r_i >= 2``::

    pa_i = sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))          (items with r_i >= 2)
    pa   = mean of pa_i over the n2 items
    pi_k = (1/n) sum_i r_ik / r_i                           (all n items)
    pe   = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k),  T_w = sum_kl w_kl
    AC   = (pa - pe) / (1 - pe)

Variance conditional on the sample of raters (the subjects are the random sample;
Gwet 2008, eq. 25-27; Gwet 2014, sec. 5.3), with the finite-population correction
``f = n / N`` (``N`` = ``population_size``, infinite by default, so ``f = 0``)::

    AC*_i  = (n / n2) (pa_i - pe) / (1 - pe)                (0 if r_i < 2)
    pe_i   = T_w / (q (q - 1)) * sum_k (r_ik / r_i) (1 - pi_k)
    AC**_i = AC*_i - 2 (1 - AC) (pe_i - pe) / (1 - pe)
    var    = (1 - f) / (n (n - 1)) * sum_i (AC**_i - AC)^2

The confidence interval is ``AC -/+ t_{n-1, 1-alpha/2} * se`` with the upper bound
clipped at 1 (the lower bound is not clipped), and the p-value is two-sided,
``2 P(T_{n-1} > |AC / se|)``, as the irrCAC Python port (Fergadis) reports them; the
current R package irrCAC (``gwet.ac1.raw``, 2021) prints the one-sided
``1 - pt(AC / se, n - 1)`` instead (half of ours when AC > 0). Everything else is
line-for-line the computation of ``gwet.ac1.raw`` (R irrCAC, K. Gwet): the
published 4-rater example (Gwet 2014; ``cac.raw4raters``) is reproduced in
``tests/test_gwet.py``.

Weights (irrCAC ``weights.gen.r``; Gwet 2014, sec. 3.4), for sorted categories with
values ``x_k`` (positions ``1..q`` when the categories are not numbers)::

    linear     w_kl = 1 - |x_k - x_l| / (x_max - x_min)
    quadratic  w_kl = 1 - (x_k - x_l)^2 / (x_max - x_min)^2
    ordinal    m_kl = C(|k - l| + 1, 2) on positions, w_kl = 1 - m_kl / max(m)

The weights, and ``pe`` through ``q``, depend on the list of categories: pass the full
scale (``categories=[1, 2, 3, 4, 5]``) when some categories were never used.

Deviations from irrCAC, on purpose: items rated by no one are dropped (irrCAC asks the
user to do it); a rating that is not among ``categories`` is an error (irrCAC silently
ignores it, which turns it into a missing rating); numeric ``categories`` are used by
value and sorted (R irrCAC turns user-supplied labels into strings, so its linear and
quadratic weights then use positions; identical for equally spaced scales).

References
----------
Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence
of high agreement. British Journal of Mathematical and Statistical Psychology 61, 29-48.
Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
Gwet, K. L. irrCAC: Computing Chance-Corrected Agreement Coefficients (R package,
github.com/kgwet/irrCAC); Fergadis, A. irrCAC (Python port, github.com/afergadis/irrCAC).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real
from typing import Sequence

import numpy as np
from scipy import stats

WEIGHTS: tuple[str, ...] = ("unweighted", "linear", "quadratic", "ordinal")
"""Named weight schemes; ``"unweighted"`` (identity) gives AC1."""


@dataclass(frozen=True)
class GwetResult:
    """Gwet's AC1/AC2 with its standard error (conditional on the raters), CI and test.

    ``coefficient`` is AC1 when ``weights == "unweighted"``, else AC2. ``ci_low`` /
    ``ci_high``: t-based interval (df = n_items - 1) at level ``confidence``, upper
    bound clipped at 1. ``p_value``: two-sided test of AC = 0. ``n_items``: items rated
    by at least one rater (those enter ``pe`` and the variance); ``n_items_paired``:
    items with two or more ratings (those enter ``pa``). ``se``, the CI and the p-value
    are NaN when ``n_items < 2``.
    """

    coefficient: float
    pa: float
    pe: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_items: int
    weights: str
    n_items_paired: int
    categories: tuple
    confidence: float

    @property
    def name(self) -> str:
        return "AC1" if self.weights == "unweighted" else "AC2"

    def to_dict(self) -> dict:
        return asdict(self)


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def _is_number(v) -> bool:
    return isinstance(v, (Real, np.number)) and not isinstance(v, (bool, np.bool_))


def _as_matrix(ratings) -> tuple[np.ndarray, np.ndarray]:
    """(values as an object or float array, mask of present ratings)."""
    if hasattr(ratings, "to_numpy") and not isinstance(ratings, np.ndarray):
        ratings = ratings.to_numpy()
    m = np.asarray(ratings)
    if m.ndim != 2:
        raise ValueError(f"ratings must be an (n_items, n_raters) matrix, got shape {m.shape}")
    if m.dtype.kind in "biuf":
        m = m.astype(float)
        return m, ~np.isnan(m)
    if m.dtype.kind in "UST":
        m = m.astype(object)
        return m, np.ones(m.shape, dtype=bool)
    present = np.array([[not _is_missing(v) for v in row] for row in m], dtype=bool).reshape(m.shape)
    return m, present


def _resolve_categories(values: np.ndarray, present: np.ndarray, categories: Sequence | None) -> list:
    observed = values[present].tolist()
    if categories is None:
        uniq = set(observed)
        try:
            cats = sorted(uniq)
        except TypeError:
            raise ValueError("the observed ratings mix types that cannot be ordered (e.g. numbers and strings); "
                             "pass categories= explicitly") from None
    else:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ValueError(f"categories must be distinct, got {cats}")
        if all(_is_number(c) for c in cats):
            cats = sorted(cats)
        unknown = sorted({v for v in observed if v not in set(cats)}, key=str)
        if unknown:
            raise ValueError(f"ratings {unknown[:5]} are not among the categories {cats}")
    if len(cats) < 2:
        raise ValueError(f"Gwet's AC needs at least 2 categories, got {cats}; pass the full scale as categories=")
    return cats


def gwet_weights(categories: Sequence, weights: str | None = "quadratic") -> np.ndarray:
    """The ``q x q`` agreement-weight matrix of irrCAC for ``categories`` (in their order).

    Numeric categories are used by value (so ``[1, 2, 4]`` is not equally spaced);
    other categories by position ``1..q``. ``None`` or ``"unweighted"`` is the identity.

    Examples
    --------
    >>> gwet_weights([1, 2, 3], "linear")
    array([[1. , 0.5, 0. ],
           [0.5, 1. , 0.5],
           [0. , 0.5, 1. ]])
    >>> gwet_weights(["low", "mid", "high"], "ordinal")
    array([[1.        , 0.66666667, 0.        ],
           [0.66666667, 1.        , 0.66666667],
           [0.        , 0.66666667, 1.        ]])
    """
    cats = list(categories)
    q = len(cats)
    if q < 2:
        raise ValueError(f"need at least 2 categories, got {cats}")
    if weights is None or weights == "unweighted":
        return np.eye(q)
    x = np.array(cats, dtype=float) if all(_is_number(c) for c in cats) else np.arange(1, q + 1, dtype=float)
    span = x.max() - x.min()
    d = x[:, None] - x[None, :]
    if weights == "linear":
        return 1.0 - np.abs(d) / span
    if weights == "quadratic":
        return 1.0 - d**2 / span**2
    if weights == "ordinal":
        pos = np.arange(q)
        nkl = np.abs(pos[:, None] - pos[None, :]) + 1
        m = nkl * (nkl - 1) / 2.0
        return 1.0 - m / m.max()
    raise ValueError(f"weights must be None/'unweighted', 'linear', 'quadratic' or 'ordinal', not {weights!r}")


def _counts(values: np.ndarray, present: np.ndarray, cats: list) -> np.ndarray:
    """``n_items x q`` matrix of raters per item and category."""
    index = {c: k for k, c in enumerate(cats)}
    counts = np.zeros((values.shape[0], len(cats)))
    rows, cols = np.nonzero(present)
    ks = np.fromiter((index[v] for v in values[rows, cols].tolist()), dtype=np.intp, count=rows.size)
    np.add.at(counts, (rows, ks), 1.0)
    return counts


def gwet_ac(ratings, weights: str | np.ndarray | None = None, *, categories: Sequence | None = None,
            confidence: float = 0.95, population_size: float = math.inf) -> GwetResult:
    """Gwet's AC1 (``weights=None``) or AC2 (weighted) for any number of raters.

    Parameters
    ----------
    ratings : array_like, shape (n_items, n_raters)
        One row per item, one column per rater; NaN or None = not rated. Numbers or
        labels (strings). Items nobody rated are dropped.
    weights : {None, "unweighted", "linear", "quadratic", "ordinal"} or (q, q) array
        Agreement weights (see the module docstring); a matrix is used as given, in
        the order of ``categories``.
    categories : sequence, optional
        All possible ratings, in order. Default: the sorted union of observed values.
        The weights and ``pe`` depend on it: pass the full scale (e.g. ``range(1, 6)``)
        when some categories were never used.
    confidence : float
        Level of the t-based confidence interval.
    population_size : float
        Number of items in the population, for the finite-population correction
        ``f = n / N`` of the variance; infinite (``f = 0``) by default, as in irrCAC.

    Returns
    -------
    GwetResult

    Examples
    --------
    >>> x = [[1, 1, 2], [2, 2, 2], [3, 3, 3], [1, 1, None], [2, 3, 3]]
    >>> r = gwet_ac(x)
    >>> round(r.coefficient, 4), round(r.pa, 4), round(r.pe, 4), r.name
    (0.6, 0.7333, 0.3333, 'AC1')
    >>> round(gwet_ac(x, "quadratic").coefficient, 4)
    0.8
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not population_size > 0:
        raise ValueError(f"population_size must be positive, got {population_size}")
    values, present = _as_matrix(ratings)
    rated = present.any(axis=1)
    values, present = values[rated], present[rated]
    n = int(values.shape[0])
    if n == 0:
        raise ValueError("no ratings: every item is unrated")
    cats = _resolve_categories(values, present, categories)
    q = len(cats)
    if isinstance(weights, str) or weights is None:
        w_name = "unweighted" if weights is None else weights
        w = gwet_weights(cats, w_name)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (q, q):
            raise ValueError(f"a weight matrix must be {q} x {q} for the categories {cats}, got shape {w.shape}")
        w_name = "unweighted" if np.array_equal(w, np.eye(q)) else "custom"

    counts = _counts(values, present, cats)                   # r_ik
    r_i = counts.sum(axis=1)
    paired = r_i >= 2
    n2 = int(paired.sum())
    if n2 == 0:
        raise ValueError("no item has two or more ratings: agreement is undefined")
    sum_q = (counts * (counts @ w.T - 1.0)).sum(axis=1)      # sum_k r_ik (r*_ik - 1)
    pa_i = np.zeros(n)
    pa_i[paired] = sum_q[paired] / (r_i[paired] * (r_i[paired] - 1.0))
    pa = float(pa_i[paired].sum() / n2)
    share = counts / r_i[:, None]                             # r_ik / r_i
    pi = share.mean(axis=0)
    t_w = float(w.sum()) / (q * (q - 1))
    pe = t_w * float((pi * (1.0 - pi)).sum())
    if pe >= 1.0:
        raise ValueError("chance agreement is 1 with these weights: the coefficient is undefined")
    ac = (pa - pe) / (1.0 - pe)

    se = ci_low = ci_high = p_value = float("nan")
    if n >= 2:
        ac_i = (n / n2) * (pa_i - pe * paired) / (1.0 - pe)
        pe_i = t_w * (share @ (1.0 - pi))
        ac_i_x = ac_i - 2.0 * (1.0 - ac) * (pe_i - pe) / (1.0 - pe)
        f = n / population_size
        var = (1.0 - f) / (n * (n - 1.0)) * float(((ac_i_x - ac) ** 2).sum())
        se = math.sqrt(max(var, 0.0))
        half = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1)) * se
        ci_low, ci_high = ac - half, min(1.0, ac + half)
        if se > 0:
            p_value = float(2.0 * stats.t.sf(abs(ac / se), n - 1))
        elif ac != 0:
            p_value = 0.0  # every item agrees the same way: no sampling variation at all
    return GwetResult(coefficient=float(ac), pa=pa, pe=pe, se=se, ci_low=float(ci_low), ci_high=float(ci_high),
                      p_value=p_value, n_items=n, weights=w_name, n_items_paired=n2, categories=tuple(cats),
                      confidence=confidence)


def gwet_ac1(ratings, *, categories: Sequence | None = None, confidence: float = 0.95) -> GwetResult:
    """Gwet's AC1 (nominal categories): :func:`gwet_ac` with identity weights.

    Examples
    --------
    >>> round(gwet_ac1([["a", "a"], ["b", "b"], ["a", "b"], ["a", "a"]]).coefficient, 4)
    0.5294
    """
    return gwet_ac(ratings, None, categories=categories, confidence=confidence)


def gwet_ac2(ratings, *, weights: str | np.ndarray = "quadratic", categories: Sequence | None = None,
             confidence: float = 0.95) -> GwetResult:
    """Gwet's AC2 (ordinal scales): :func:`gwet_ac` with ``"quadratic"`` weights by default.

    Examples
    --------
    >>> x = [[1, 2], [2, 2], [4, 5], [5, 5], [3, 3]]
    >>> round(gwet_ac2(x, categories=range(1, 6)).coefficient, 4)
    0.913
    """
    return gwet_ac(ratings, weights, categories=categories, confidence=confidence)
