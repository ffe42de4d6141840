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

The computation from the items x categories counts is
:func:`analysis.stats.chance.gwet_ac_counts` (two complete raters' contingency table:
:func:`~analysis.stats.chance.gwet_ac_table`; the bootstrap's sums form:
:func:`~analysis.stats.chance.gwet_ac_sums`); this module turns ratings into counts.

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
from numbers import Real
from typing import Sequence

import numpy as np

from analysis.stats.chance import GWET_WEIGHTS as WEIGHTS, GwetResult, gwet_ac_counts, gwet_weights

__all__ = ["GwetResult", "WEIGHTS", "gwet_ac", "gwet_ac1", "gwet_ac2", "gwet_weights"]


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
        ``estimate`` (the coefficient), ``ci_low``, ``ci_high``, ``pvalue``, ``n`` (items
        rated by anyone), ``se``, ``pa``, ``pe``, ... (:class:`analysis.stats.chance.GwetResult`).

    Examples
    --------
    >>> x = [[1, 1, 2], [2, 2, 2], [3, 3, 3], [1, 1, None], [2, 3, 3]]
    >>> r = gwet_ac(x)
    >>> round(r.estimate, 4), round(r.pa, 4), round(r.pe, 4), r.name
    (0.6, 0.7333, 0.3333, 'AC1')
    >>> round(gwet_ac(x, "quadratic").estimate, 4)
    0.8
    """
    values, present = _as_matrix(ratings)
    rated = present.any(axis=1)
    values, present = values[rated], present[rated]
    if values.shape[0] == 0:
        raise ValueError("no ratings: every item is unrated")
    cats = _resolve_categories(values, present, categories)
    return gwet_ac_counts(_counts(values, present, cats), weights, categories=cats, confidence=confidence,
                          population_size=population_size)


def gwet_ac1(ratings, *, categories: Sequence | None = None, confidence: float = 0.95) -> GwetResult:
    """Gwet's AC1 (nominal categories): :func:`gwet_ac` with identity weights.

    Examples
    --------
    >>> round(gwet_ac1([["a", "a"], ["b", "b"], ["a", "b"], ["a", "a"]]).estimate, 4)
    0.5294
    """
    return gwet_ac(ratings, None, categories=categories, confidence=confidence)


def gwet_ac2(ratings, *, weights: str | np.ndarray = "quadratic", categories: Sequence | None = None,
             confidence: float = 0.95) -> GwetResult:
    """Gwet's AC2 (ordinal scales): :func:`gwet_ac` with ``"quadratic"`` weights by default.

    Examples
    --------
    >>> x = [[1, 2], [2, 2], [4, 5], [5, 5], [3, 3]]
    >>> round(gwet_ac2(x, categories=range(1, 6)).estimate, 4)
    0.913
    """
    return gwet_ac(ratings, weights, categories=categories, confidence=confidence)
