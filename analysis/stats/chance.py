"""Chance-corrected agreement from count tables: the one home of the kappa family.

Every coefficient of this module is computed from counts, never from raw labels:

* two raters: their ``q x q`` **contingency table** ``t[k, l]`` = items rater A put in
  category ``k`` and rater B in ``l`` (rows A, columns B, categories in order);
* any number of raters, missing ratings allowed: the ``n_items x q`` **count matrix**
  ``r[i, k]`` = raters who put item ``i`` in category ``k``.

The array front-ends (:func:`analysis.stats.agreement.cohen_kappa`,
:func:`~analysis.stats.agreement.fleiss_kappa`,
:func:`~analysis.stats.agreement.krippendorff_alpha`, :func:`analysis.stats.gwet.gwet_ac`)
turn labels into these tables (:func:`contingency_table`, :func:`count_matrix`) and call
the functions here; so do the study tables, the classification metrics and the streaming
reader of large user studies (which only reduces the ratings file to tables).

Every table function is vectorised over leading axes (``(..., q, q)`` tables), so one call
evaluates a whole batch of bootstrap resamples. For the bootstrap the coefficients are
also given as **statistics of per-item sums** (:class:`SumsForm`): per-item rows whose
column sums over a resample determine the coefficient, which is what
``bootstrap(form.units, form.statistic, sums=True)`` needs (resample = counts @ units,
BCa's jackknife = total - units[i], O(n)).

Coefficients (``p_o`` observed, ``p_e`` chance agreement; ``kappa = (p_o - p_e) / (1 - p_e)``)
-----------------------------------------------------------------------------------------
* Cohen's kappa (Cohen 1960): ``p_o = tr(t) / n``, ``p_e = sum_k t_k. t_.k / n^2``;
  weighted (Cohen 1968) with disagreement weights ``v_kl`` (``|k - l|`` linear,
  ``(k - l)^2`` quadratic, on category positions): ``1 - sum(v t) / sum(v E)``,
  ``E_kl = t_k. t_.l / n``. As scikit-learn's ``cohen_kappa_score``.
* Fleiss' kappa (Fleiss 1971), ``m`` raters per item, ``N`` items:
  ``P_bar = (sum_ik r_ik^2 - N m) / (N m (m - 1))``, ``p_k = sum_i r_ik / (N m)``,
  ``P_e = sum_k p_k^2``. As ``statsmodels.stats.inter_rater.fleiss_kappa``.
* Krippendorff's alpha (Krippendorff 2011), from the coincidence matrix
  ``o_ck = sum_u (r_uc r_uk - [c = k] r_uc) / (m_u - 1)`` over items with ``m_u >= 2``
  ratings: ``alpha = 1 - D_o / D_e``, ``D_o = sum o_ck d_ck``,
  ``D_e = sum n_c n_k d_ck / (n - 1)`` with the nominal, ordinal or interval metric
  ``d``. As the ``krippendorff`` package. Two complete raters: ``o = t + t^T``.
* Gwet's AC1/AC2 (Gwet 2008; 2014), agreement weights ``w`` (identity for AC1):
  ``pe = sum(w) / (q (q - 1)) * sum_k pi_k (1 - pi_k)``; with its variance in
  :func:`gwet_ac_counts` (the formulas are in :mod:`analysis.stats.gwet`). As R irrCAC.

References
----------
Cohen, J. (1960). A coefficient of agreement for nominal scales. Educ. Psychol. Meas. 20, 37-46.
Cohen, J. (1968). Weighted kappa. Psychological Bulletin 70, 213-220.
Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychol. Bull. 76, 378-382.
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School, U. Pennsylvania.
Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
agreement. Br. J. Math. Stat. Psychol. 61, 29-48. Gwet, K. L. (2014). Handbook of Inter-Rater
Reliability, 4th ed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Callable, Sequence

import numpy as np
from scipy import stats

from analysis.stats.result import Result, renamed_field

__all__ = [
    "GwetResult", "SumsForm", "cohen_kappa_margins", "cohen_kappa_sums", "cohen_kappa_table", "coincidence", "contingency_table",
    "count_matrix", "fleiss_kappa_counts", "fleiss_kappa_sums", "gwet_ac_counts", "gwet_ac_sums", "gwet_ac_table",
    "gwet_weights", "kappa_weights", "krippendorff_alpha_coincidence", "krippendorff_alpha_counts",
    "krippendorff_alpha_sums", "krippendorff_alpha_table", "stack_sums",
]

GWET_WEIGHTS: tuple[str, ...] = ("unweighted", "linear", "quadratic", "ordinal")
"""Named agreement-weight schemes of Gwet's AC; ``"unweighted"`` (identity) gives AC1."""


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _is_number(v) -> bool:
    return isinstance(v, (Real, np.number)) and not isinstance(v, (bool, np.bool_))


# ---------------------------------------------------------------------------------
# From labels to tables

def contingency_table(a, b, categories: Sequence) -> np.ndarray:
    """The ``q x q`` table of two raters' labels of the same items (rows ``a``, columns ``b``).

    Every label must be one of ``categories`` (their order is the table's).

    Examples
    --------
    >>> contingency_table([0, 1, 1], [0, 1, 0], [0, 1])
    array([[1., 0.],
           [1., 1.]])
    """
    x, y = np.asarray(a).ravel(), np.asarray(b).ravel()
    index = {lab: i for i, lab in enumerate(categories)}
    unknown = sorted({v for v in np.concatenate([x, y]).tolist() if v not in index}, key=str)
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the categories {list(categories)}")
    m = np.zeros((len(categories), len(categories)))
    np.add.at(m, ([index[v] for v in x.tolist()], [index[v] for v in y.tolist()]), 1)
    return m


def count_matrix(codes: np.ndarray, q: int) -> np.ndarray:
    """The ``n_items x q`` count matrix of integer category codes ``(n_items, n_raters)``;
    a negative code is a missing rating."""
    codes = np.asarray(codes)
    present = codes >= 0
    counts = np.zeros((codes.shape[0], q))
    rows, cols = np.nonzero(present)
    np.add.at(counts, (rows, codes[rows, cols]), 1.0)
    return counts


# ---------------------------------------------------------------------------------
# Per-item sums for the bootstrap

@dataclass(frozen=True, eq=False)
class SumsForm:
    """A coefficient as a statistic of per-item sums.

    ``units``: ``(n_items, p)`` rows; ``statistic(S)``: the coefficient for summed rows
    ``S`` of shape ``(..., p)`` (vectorised, NaN where undefined). The coefficient of the
    sample is ``statistic(units.sum(axis=0))``; of a bootstrap resample with frequency
    weights ``w``, ``statistic(w @ units)``: ``bootstrap(form.units, form.statistic, sums=True)``.
    ``names``: the coefficients ``statistic`` returns along its last axis (one name: a
    scalar per resample).
    """

    units: np.ndarray
    statistic: Callable[[np.ndarray], np.ndarray]
    names: tuple[str, ...] = field(default=())

    def value(self):
        """The coefficient(s) of the whole sample."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return _scalar(self.statistic(self.units.sum(axis=0)))


def stack_sums(*forms: SumsForm) -> SumsForm:
    """Several coefficients on the same items as one form: units side by side, the
    statistic returns the coefficients along a last axis (same resamples for all)."""
    widths = np.cumsum([0] + [f.units.shape[1] for f in forms])
    stats_ = [f.statistic for f in forms]

    def statistic(s):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([f(s[..., widths[k]:widths[k + 1]]) for k, f in enumerate(stats_)], axis=-1)

    return SumsForm(np.column_stack([f.units for f in forms]), statistic,
                    tuple(n for f in forms for n in (f.names or ("",))))


# ---------------------------------------------------------------------------------
# Cohen's kappa (two raters)

def kappa_weights(q: int, weights: str | np.ndarray | None) -> np.ndarray | None:
    """Disagreement weights of Cohen's weighted kappa on category positions:
    ``None`` (unweighted), ``"linear"`` ``|k - l|``, ``"quadratic"`` ``(k - l)^2``, or a
    ``q x q`` matrix used as given."""
    if weights is None:
        return None
    if isinstance(weights, str):
        i, j = np.meshgrid(np.arange(q), np.arange(q), indexing="ij")
        if weights == "linear":
            return np.abs(i - j).astype(float)
        if weights == "quadratic":
            return ((i - j) ** 2).astype(float)
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise ValueError(f"a weight matrix must be {q} x {q}, got shape {w.shape}")
    return w


def cohen_kappa_margins(agree, rows, cols) -> float | np.ndarray:
    """Unweighted Cohen's kappa from the three things it depends on in a contingency table:
    the agreeing count ``tr(t)``, the row margins ``t_k.`` and the column margins ``t_.k``
    (``(..., q)``; ``n = sum(rows)``). ``p_o = tr(t) / n``, ``p_e = sum_k t_k. t_.k / n^2``.

    For statistics that carry only these sums per resample (the classification metrics:
    correct predictions, gold support, predictions per class). A column category that no
    row has (a prediction naming no category) is left out of ``cols``: it agrees with nothing.

    Examples
    --------
    >>> round(cohen_kappa_margins(4, [2, 3], [3, 2]), 4)
    0.6154
    """
    rows, cols = np.asarray(rows, dtype=float), np.asarray(cols, dtype=float)
    n = rows.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        po = np.asarray(agree, dtype=float) / n
        pe = (rows * cols).sum(axis=-1) / (n * n)
        return _scalar((po - pe) / (1 - pe))


def cohen_kappa_table(table, weights: str | np.ndarray | None = None) -> float | np.ndarray:
    """Cohen's kappa (weighted: Cohen 1968) of a two-rater contingency table.

    Parameters
    ----------
    table : array_like, shape (..., q, q) or (..., q, q + e)
        Counts, rows rater A, columns rater B; leading axes are a batch (resamples).
        Extra columns beyond ``q`` are labels only rater B gives (an LLM answer naming
        no category): they agree with nothing (unweighted only).
    weights : {None, "linear", "quadratic"} or (q, q) array
        Disagreement weights (:func:`kappa_weights`).

    Returns
    -------
    float or ndarray
        ``(p_o - p_e) / (1 - p_e)`` (unweighted) or ``1 - sum(v t) / sum(v E)``; NaN where
        chance agreement is total.

    Examples
    --------
    >>> round(cohen_kappa_table([[2, 0], [1, 2]]), 4)
    0.6154
    """
    t = np.asarray(table, dtype=float)
    if t.ndim < 2 or t.shape[-1] < t.shape[-2]:
        raise ValueError(f"a contingency table must be (..., q, q), got shape {t.shape}")
    q = t.shape[-2]
    n = t.sum(axis=(-2, -1))
    w = kappa_weights(q, weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        if w is None:
            return cohen_kappa_margins(np.trace(t[..., :q], axis1=-2, axis2=-1), t.sum(axis=-1),
                                       t[..., :q].sum(axis=-2))
        if t.shape[-1] != q:
            raise ValueError("weighted kappa needs a square table")
        if t.ndim == 2:  # one table: the sums of agreement.cohen_kappa, bit for bit
            expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
            denom = (w * expected).sum()
            return float("nan") if denom == 0 else float(1.0 - (w * t).sum() / denom)
        expected = t.sum(axis=-1)[..., :, None] * t.sum(axis=-2)[..., None, :] / n[..., None, None]
        denom = (w * expected).sum(axis=(-2, -1))
        return np.where(denom == 0, np.nan, 1.0 - (w * t).sum(axis=(-2, -1)) / denom)


def cohen_kappa_sums(codes_a: np.ndarray, codes_b: np.ndarray, q: int,
                     weights: str | np.ndarray | None = None) -> SumsForm:
    """Cohen's kappa as a statistic of per-item sums: each item is its one-hot cell of the
    ``q x q`` table (``codes`` 0..q-1; a code of rater B outside 0..q-1 is a label that
    agrees with nothing, counted in an extra column)."""
    a, b = np.asarray(codes_a, dtype=np.intp), np.asarray(codes_b, dtype=np.intp)
    extra = bool(((b < 0) | (b >= q)).any())
    width = q + 1 if extra else q
    cell = a * width + np.where((b < 0) | (b >= q), q, b)
    units = np.zeros((a.size, q * width))
    units[np.arange(a.size), cell] = 1.0
    return SumsForm(units, lambda s: cohen_kappa_table(s.reshape(*s.shape[:-1], q, width), weights),
                    ("cohen_kappa",))


# ---------------------------------------------------------------------------------
# Fleiss' kappa (m raters per item)

def _fleiss_units(counts: np.ndarray, m: int) -> np.ndarray:
    """Per item with ``m`` ratings: ``[1, r_i1..r_iq, sum_k r_ik^2]``; other items all 0."""
    counts = np.asarray(counts, dtype=float)
    complete = counts.sum(axis=1) == m
    c = np.where(complete[:, None], counts, 0.0)
    return np.column_stack([complete.astype(float), c, (c**2).sum(axis=1)])


def _fleiss_of_sums(s: np.ndarray, q: int, m: int) -> np.ndarray:
    # Fleiss (1971): P_bar = (sum_i sum_k n_ik^2 - N m) / (N m (m - 1)), p_k = sum_i n_ik / (N m)
    n_items = s[..., 0]
    p = s[..., 1:1 + q] / (n_items * m)[..., None]
    p_bar = (s[..., 1 + q] - n_items * m) / (n_items * m * (m - 1))
    p_e = (p**2).sum(axis=-1)
    return (p_bar - p_e) / (1.0 - p_e)


def fleiss_kappa_sums(counts, n_raters: int | None = None) -> SumsForm:
    """Fleiss' kappa as a statistic of per-item sums over the items with exactly
    ``n_raters`` ratings (default: the most ratings of any item); the other items do not
    enter (Fleiss' kappa needs the same number of raters per item)."""
    c = np.asarray(counts, dtype=float)
    m = int(c.sum(axis=1).max()) if n_raters is None else int(n_raters)
    if m < 2:
        raise ValueError(f"Fleiss' kappa needs at least 2 raters per item, got {m}")
    q = c.shape[1]
    return SumsForm(_fleiss_units(c, m), lambda s: _fleiss_of_sums(s, q, m), ("fleiss_kappa",))


def fleiss_kappa_counts(counts) -> float:
    """Fleiss' kappa of an ``n_items x q`` count matrix with the same number (>= 2) of
    ratings in every row; NaN when chance agreement is total.

    Examples
    --------
    >>> round(fleiss_kappa_counts([[3, 0, 0], [0, 3, 0], [1, 2, 0], [0, 0, 3]]), 4)
    0.7447
    """
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"counts must be an (n_items, q) matrix, got shape {c.shape}")
    m = c.sum(axis=1)
    if not (m == m[0]).all():
        raise ValueError("Fleiss' kappa needs the same number of ratings for every item (no missing labels)")
    value = fleiss_kappa_sums(c, int(m[0])).value()
    return float("nan") if not np.isfinite(value) else float(value)


# ---------------------------------------------------------------------------------
# Krippendorff's alpha

LEVELS = ("nominal", "ordinal", "interval")


def _coincidence_units(counts: np.ndarray) -> np.ndarray:
    """Per item its contribution ``(r_uc r_uk - [c = k] r_uc) / (m_u - 1)`` to the
    coincidence matrix, flattened (``q * q`` columns); 0 for items with < 2 ratings."""
    counts = np.asarray(counts, dtype=float)
    q = counts.shape[1]
    m_u = counts.sum(axis=1)
    pairable = m_u >= 2
    contrib = counts[:, :, None] * counts[:, None, :]
    contrib[:, np.arange(q), np.arange(q)] -= counts
    contrib[pairable] /= (m_u[pairable] - 1.0)[:, None, None]
    contrib[~pairable] = 0.0
    return contrib.reshape(counts.shape[0], q * q)


def coincidence(counts) -> np.ndarray:
    """Krippendorff's ``q x q`` coincidence matrix of an ``n_items x q`` count matrix
    (items with fewer than 2 ratings are not pairable and are left out)."""
    c = np.asarray(counts, dtype=float)
    m_u = c.sum(axis=1)
    c = c[m_u >= 2]
    scaled = c / (c.sum(axis=1) - 1)[:, None]
    return scaled.T @ c - np.diag(scaled.sum(axis=0))


def krippendorff_alpha_coincidence(o, level: str = "nominal", values=None) -> float | np.ndarray:
    """Krippendorff's alpha ``1 - D_o / D_e`` of a coincidence matrix ``(..., v, v)``.

    ``values``: the numeric value of each category (interval metric; default positions
    0..v-1). The ordinal metric uses the marginals ``n_c`` (Krippendorff 2011);
    nominal: ``D_o = n - tr(o)``, ``D_e = (n^2 - sum n_c^2) / (n - 1)``. NaN when ``D_e = 0``.
    """
    o = np.asarray(o, dtype=float)
    v = o.shape[-1]
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if level == "nominal":
            d_o = n - np.trace(o, axis1=-2, axis2=-1)
            d_e = (n**2 - (n_c**2).sum(axis=-1)) / (n - 1.0)
            return _scalar(np.where(d_e == 0, np.nan, 1.0 - d_o / d_e))
        if level == "interval":
            x = np.arange(v, dtype=float) if values is None else np.asarray(values, dtype=float)
            d = (x[:, None] - x[None, :]) ** 2
        elif level == "ordinal":
            cum = np.cumsum(n_c, axis=-1)
            # delta_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 for c <= k.
            between = cum[..., None, :] - cum[..., :, None] + n_c[..., :, None]
            d = (between - (n_c[..., :, None] + n_c[..., None, :]) / 2) ** 2
            d = np.triu(d) + np.swapaxes(np.triu(d, 1), -1, -2)
        else:
            raise ValueError(f"level must be 'interval', 'ordinal' or 'nominal', not {level!r}")
        if o.ndim == 2:  # one matrix: the sums of agreement.krippendorff_alpha, bit for bit
            d_o = (o * d).sum()
            d_e = (np.outer(n_c, n_c) * d).sum() / (n - 1)
            return float("nan") if d_e == 0 else float(1.0 - d_o / d_e)
        d_o = (o * d).sum(axis=(-2, -1))
        d_e = (n_c[..., :, None] * n_c[..., None, :] * d).sum(axis=(-2, -1)) / (n - 1)
        return np.where(d_e == 0, np.nan, 1.0 - d_o / d_e)


def krippendorff_alpha_counts(counts, level: str = "nominal", values=None) -> float:
    """Krippendorff's alpha of an ``n_items x v`` count matrix (missing ratings allowed;
    items with fewer than 2 ratings are ignored). ``values``: the numeric value of each
    column (interval metric).

    Examples
    --------
    >>> round(krippendorff_alpha_counts([[2, 0, 0], [0, 2, 0], [1, 1, 0], [0, 0, 2]]), 4)
    0.6667
    """
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"counts must be an (n_items, v) matrix, got shape {c.shape}")
    if not (c.sum(axis=1) >= 2).any():
        raise ValueError("no item has 2 or more ratings")
    return krippendorff_alpha_coincidence(coincidence(c), level, values)


def krippendorff_alpha_table(table, values=None, level: str = "interval") -> float | np.ndarray:
    """Krippendorff's alpha of two raters who rated every item, from their contingency
    table over the categories ``values`` (each item adds 1 to ``o[x, y]`` and ``o[y, x]``)."""
    t = np.asarray(table, dtype=float)
    return krippendorff_alpha_coincidence(t + np.swapaxes(t, -1, -2), level, values)


def krippendorff_alpha_sums(counts, level: str = "nominal", values=None) -> SumsForm:
    """Krippendorff's alpha as a statistic of per-item sums (each item's contribution to
    the coincidence matrix, ``v * v`` columns)."""
    c = np.asarray(counts, dtype=float)
    v = c.shape[1]
    return SumsForm(_coincidence_units(c),
                    lambda s: krippendorff_alpha_coincidence(s.reshape(*s.shape[:-1], v, v), level, values),
                    (f"krippendorff_alpha_{level}",))


# ---------------------------------------------------------------------------------
# Gwet's AC1 / AC2

@dataclass(frozen=True)
class GwetResult(Result):
    """Gwet's AC1/AC2 with its standard error (conditional on the raters), CI and test.

    ``estimate`` is AC1 when ``weights == "unweighted"``, else AC2. ``ci_low`` /
    ``ci_high``: t-based interval (df = n - 1) at level ``confidence``, upper bound
    clipped at 1. ``pvalue``: two-sided test of AC = 0. ``n``: items rated by at least
    one rater (those enter ``pe`` and the variance); ``n_items_paired``: items with two
    or more ratings (those enter ``pa``). ``se``, the CI and the p-value are NaN when
    ``n < 2``. Old names (``coefficient``, ``p_value``, ``n_items``) warn and will go.
    """

    pa: float = math.nan
    pe: float = math.nan
    se: float = math.nan
    weights: str = "unweighted"
    n_items_paired: int = 0
    categories: tuple = ()

    @property
    def name(self) -> str:
        return "AC1" if self.weights == "unweighted" else "AC2"

    coefficient = renamed_field("coefficient", "estimate")
    p_value = renamed_field("p_value", "pvalue")
    n_items = renamed_field("n_items", "n")


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


def _gwet_matrix(q: int, weights, categories) -> tuple[np.ndarray, str]:
    cats = list(range(1, q + 1)) if categories is None else list(categories)
    if len(cats) != q:
        raise ValueError(f"{len(cats)} categories for a table of {q}")
    if isinstance(weights, str) or weights is None:
        name = "unweighted" if weights is None else weights
        return gwet_weights(cats, name), name
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise ValueError(f"a weight matrix must be {q} x {q} for the categories {cats}, got shape {w.shape}")
    return w, "unweighted" if np.array_equal(w, np.eye(q)) else "custom"


def gwet_ac_counts(counts, weights: str | np.ndarray | None = None, *, categories: Sequence | None = None,
                   confidence: float = 0.95, population_size: float = math.inf) -> GwetResult:
    """Gwet's AC1 (``weights=None``) or AC2 of an ``n_items x q`` count matrix, with the
    variance conditional on the raters (formulas: :mod:`analysis.stats.gwet`).

    ``categories``: the category of each column, for named weights (numbers are used by
    value; default positions 1..q). Items nobody rated are dropped.

    Examples
    --------
    >>> r = gwet_ac_counts([[2, 1, 0], [0, 3, 0], [0, 0, 3], [2, 0, 0], [0, 1, 2]])
    >>> round(r.estimate, 4), round(r.pa, 4), round(r.pe, 4), r.name
    (0.6, 0.7333, 0.3333, 'AC1')
    """
    from analysis.stats.result import check_confidence

    confidence = check_confidence(confidence)
    if not population_size > 0:
        raise ValueError(f"population_size must be positive, got {population_size}")
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise ValueError(f"counts must be an (n_items, q) matrix, got shape {counts.shape}")
    counts = counts[counts.sum(axis=1) > 0]
    n, q = counts.shape
    if n == 0:
        raise ValueError("no ratings: every item is unrated")
    if q < 2:
        raise ValueError(f"Gwet's AC needs at least 2 categories, got {q}; pass the full scale as categories=")
    w, w_name = _gwet_matrix(q, weights, categories)
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
    cats = tuple(range(1, q + 1)) if categories is None else tuple(categories)
    return GwetResult(estimate=float(ac), ci_low=float(ci_low), ci_high=float(ci_high), pvalue=p_value, n=n,
                      confidence=confidence, pa=pa, pe=pe, se=se, weights=w_name, n_items_paired=n2,
                      categories=cats)


def _gwet_of_sums(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    q = w.shape[0]
    pa = s[..., 2] / s[..., 1]
    pi = s[..., 3:3 + q] / s[..., 0][..., None]
    pe = float(w.sum()) / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=-1)
    return (pa - pe) / (1.0 - pe)


def gwet_ac_sums(counts, weights: str | np.ndarray | None = None, *, categories: Sequence | None = None) -> SumsForm:
    """Gwet's AC1/AC2 as a statistic of per-item sums: per item rated by anyone
    ``[1, paired, pa_i, r_i1/r_i .. r_iq/r_i]`` (``pa = mean of pa_i`` over paired items,
    ``pi_k`` = mean share over rated items; Gwet 2008)."""
    counts = np.asarray(counts, dtype=float)
    q = counts.shape[1]
    w, _ = _gwet_matrix(q, weights, categories)
    r = counts.sum(axis=1)
    rated, paired = r >= 1, r >= 2
    pa = np.zeros_like(r)
    pa[paired] = ((counts[paired] * (counts[paired] @ w.T - 1.0)).sum(axis=1)
                  / (r[paired] * (r[paired] - 1.0)))
    share = np.zeros_like(counts)
    share[rated] = counts[rated] / r[rated, None]
    units = np.column_stack([rated.astype(float), paired.astype(float), pa, share])
    return SumsForm(units, lambda s: _gwet_of_sums(s, w), ("gwet_ac1" if np.array_equal(w, np.eye(q)) else "gwet_ac2",))


def gwet_ac_table(table, weights: str | np.ndarray | None = None, *,
                  categories: Sequence | None = None) -> float | np.ndarray:
    """Gwet's AC1/AC2 of two raters who rated every item, from their ``(..., q, q)``
    contingency table (Gwet 2014, eq. 2.15-2.17): an item rated ``(k, l)`` agrees
    ``w[k, l]``, ``pi_k`` = share of all ratings in ``k``. Equal to :func:`gwet_ac_counts`
    of the same ratings (tested).

    Examples
    --------
    >>> round(gwet_ac_table([[2, 1], [0, 1]]), 4)
    0.5294
    """
    t = np.asarray(table, dtype=float)
    q = t.shape[-1]
    w, _ = _gwet_matrix(q, weights, categories)
    if t.ndim == 2:  # one table, as the streaming reader has always computed it
        n = t.sum()
        pa = float((w * t).sum() / n)
        pi = (t.sum(axis=1) + t.sum(axis=0)) / (2 * n)
        pe = float(w.sum()) / (q * (q - 1)) * float((pi * (1.0 - pi)).sum())
        return (pa - pe) / (1.0 - pe)
    n = t.sum(axis=(-2, -1))
    pa = (w * t).sum(axis=(-2, -1)) / n
    pi = (t.sum(axis=-1) + t.sum(axis=-2)) / (2 * n[..., None])
    pe = float(w.sum()) / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=-1)
    return (pa - pe) / (1.0 - pe)
