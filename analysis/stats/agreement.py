"""Agreement between two raters (scores) or several raters (labels).

Which measure to use
--------------------
* ``mae`` / ``rmse``: typical distance between two raters' scores, in points of the
  rating scale (1-5 here). RMSE weighs large disagreements (a "harmful" 1 against an
  "appropriate" 5) more than MAE. Neither corrects for chance.
* ``within_one_pct``: % of items on which two scores differ by at most 1 point, the
  "adjacent agreement" common in the LLM-judge literature.
* ``quadratic_weighted_kappa``: chance-corrected agreement on the ordinal categories
  1-5 (Cohen 1968), scores rounded half-up first (3.5 -> 4), as the Between Help and
  Harm authors do for their confusion matrices.
* ``krippendorff_alpha``: chance-corrected agreement for any number of raters with
  missing ratings (Krippendorff 2011), at the interval, ordinal or nominal level.
* ``lin_ccc``: concordance correlation (Lin 1989): correlation penalised by a shift in
  mean or scale; for two raters close to ICC(A,1).
* ``pearson`` / ``spearman``: association only; a judge 2 points too lenient on every
  answer has a perfect correlation.
* ``cohen_kappa`` / ``fleiss_kappa``: categorical labels, two raters (Cohen 1960) or a
  fixed number of raters per item (Fleiss 1971).

The kappa-type coefficients here are array front-ends: they count the labels into a
contingency table or an items x categories matrix and call :mod:`analysis.stats.chance`,
the one place the kappa family is computed (from count tables, with sums forms for the
bootstrap).

All functions take numpy arrays (or lists, polars/pandas series and frames), refuse NaN
where it has no defined meaning, and return floats. Units: MAE and RMSE in points; ``within_one_pct`` in percent (0-100);
the others unitless.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from analysis.stats import chance

FLOAT_TOLERANCE = 1e-9
"""A tolerance for :func:`within_one_pct` that counts differences of exactly 1 point
that binary floating point puts just above 1 (means of 3 runs: 4.666... - 3.666... can
be 1.0000000000000004)."""


def _paired(x, y, name: str = "x, y") -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"{name}: paired scores must have the same length, got {a.size} and {b.size}")
    if a.size == 0:
        raise ValueError(f"{name}: no pairs")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"{name}: scores must be finite (drop missing pairs before computing agreement)")
    return a, b


def mae(x, y) -> float:
    """Mean absolute difference ``mean(|x - y|)``, points.

    Examples
    --------
    >>> mae([1, 2, 5], [2, 2, 3])
    1.0
    """
    a, b = _paired(x, y)
    return float(np.mean(np.abs(a - b)))


def rmse(x, y) -> float:
    """Root mean squared difference ``sqrt(mean((x - y)^2))``, points.

    Examples
    --------
    >>> round(rmse([1, 2, 5], [2, 2, 3]), 6)
    1.290994
    """
    a, b = _paired(x, y)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def within_one_pct(x, y, tol: float = 1.0, float_tolerance: float = 0.0) -> float:
    """Percentage (0-100) of pairs with ``|x - y| <= tol + float_tolerance``.

    The default ``float_tolerance = 0`` compares the floating-point differences as
    they are, as the Between Help and Harm authors did, and so reproduces their
    published numbers. Differences of exactly one point between means of runs
    (e.g. 14/3 - 11/3) can then land at 1.0000000000000004 and count as *not* within
    1; pass ``float_tolerance=FLOAT_TOLERANCE`` to count them (on the paper's review set
    this changes one item of gpt-4o-mini vs gpt-5-nano: 95.26 % -> 95.79 %).

    Examples
    --------
    >>> within_one_pct([1, 2, 5], [2, 2, 3])
    66.66666666666666
    """
    a, b = _paired(x, y)
    return float(100.0 * np.mean(np.abs(a - b) <= tol + float_tolerance))


def round_half_up(x, categories: Sequence[int] = (1, 2, 3, 4, 5)) -> np.ndarray:
    """Round half up (``floor(x + 0.5)``: 3.5 -> 4, 2.5 -> 3) and clip to the categories."""
    r = np.floor(np.asarray(x, dtype=float) + 0.5)
    return np.clip(r, min(categories), max(categories)).astype(int)


def cohen_kappa(a, b, labels: Sequence | None = None, weights: str | None = None) -> float:
    """Cohen's kappa of two raters' categorical labels (Cohen 1960; weighted: Cohen 1968).

    Parameters
    ----------
    a, b : array_like
        Labels of the same items by two raters.
    labels : sequence, optional
        The categories in order (needed for weighted kappa on ordinal labels);
        default: the sorted union of observed labels.
    weights : {None, "linear", "quadratic"}
        Disagreement weights ``|i - j|`` or ``(i - j)^2`` between category positions.

    Returns
    -------
    float
        ``1 - sum(w * observed) / sum(w * expected)``; NaN when chance agreement is total.

    Examples
    --------
    >>> round(cohen_kappa([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]), 4)
    0.6154
    """
    x, y = np.asarray(a).ravel(), np.asarray(b).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"cohen_kappa needs two non-empty label arrays of the same length, got {x.size} and {y.size}")
    if labels is None:
        labels = sorted(set(x.tolist()) | set(y.tolist()))
    return float(chance.cohen_kappa_table(chance.contingency_table(x, y, labels), weights))


def quadratic_weighted_kappa(x, y, *, categories: Sequence[int] = (1, 2, 3, 4, 5)) -> float:
    """Quadratic-weighted kappa of two raters' scores, rounded half up to ``categories``.

    Examples
    --------
    >>> round(quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 5, 5]), 4)
    0.9565
    """
    a, b = _paired(x, y)
    return cohen_kappa(round_half_up(a, categories), round_half_up(b, categories), labels=list(categories),
                       weights="quadratic")


def fleiss_kappa(labels) -> float:
    """Fleiss' kappa for ``n_items x n_raters`` categorical labels (Fleiss 1971).

    Every item must have the same number of raters (no missing labels); the raters
    need not be the same people. Categories are the distinct labels observed.

    Examples
    --------
    >>> round(fleiss_kappa([[1, 1, 1], [2, 2, 2], [1, 2, 2], [3, 3, 3]]), 4)
    0.7447
    """
    m = np.asarray(labels, dtype=object)
    if m.ndim != 2 or m.shape[1] < 2 or m.shape[0] < 1:
        raise ValueError(f"fleiss_kappa needs an (n_items, n_raters >= 2) array, got shape {m.shape}")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in m.ravel()):
        raise ValueError("fleiss_kappa needs a label from every rater for every item (no missing labels)")
    cats = sorted(set(m.ravel().tolist()), key=str)
    idx = {c: i for i, c in enumerate(cats)}
    codes = np.array([[idx[v] for v in row] for row in m.tolist()], dtype=np.intp).reshape(m.shape)
    return chance.fleiss_kappa_counts(chance.count_matrix(codes, len(cats)))


def krippendorff_alpha(ratings, level: str = "interval") -> float:
    """Krippendorff's alpha for an ``n_items x k_raters`` array with NaN for missing.

    Computed from the coincidence matrix of pairable values (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability"): ``alpha = 1 - D_o / D_e``. Items with
    fewer than 2 ratings are not pairable and are ignored.

    Parameters
    ----------
    ratings : array_like, shape (n_items, k_raters)
        Numeric ratings; NaN = missing.
    level : {"interval", "ordinal", "nominal"}
        Metric of the differences: squared difference (interval); Krippendorff's
        ordinal metric on the ranks of the distinct observed values (ordinal;
        non-integer values such as means of runs are ranked as their own categories,
        as the ``krippendorff`` package does); 0/1 (nominal).

    Examples
    --------
    >>> round(krippendorff_alpha([[1, 1], [2, 2], [3, 3], [4, 5]], "interval"), 4)
    0.9369
    """
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"ratings must be (n_items, k_raters), got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("ratings contain infinite values")
    values = np.unique(x[~np.isnan(x)])
    if values.size == 0:
        raise ValueError("no ratings")
    # counts[i, c]: how many raters gave value c to item i.
    codes = np.searchsorted(values, np.where(np.isnan(x), values[0], x))
    counts = np.zeros((x.shape[0], values.size))
    rows = np.repeat(np.arange(x.shape[0]), x.shape[1])
    np.add.at(counts, (rows, codes.ravel()), (~np.isnan(x)).ravel().astype(float))
    if level not in chance.LEVELS:
        raise ValueError(f"level must be 'interval', 'ordinal' or 'nominal', not {level!r}")
    return chance.krippendorff_alpha_counts(counts, level, values)


def lin_ccc(x, y) -> float:
    """Lin's concordance correlation ``2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)``.

    Population moments (divisor n), as in Lin (1989), "A concordance correlation
    coefficient to evaluate reproducibility", Biometrics 45, 255-268.

    Examples
    --------
    >>> lin_ccc([1, 2, 3], [1, 2, 3])
    1.0
    """
    a, b = _paired(x, y)
    sxy = np.mean((a - a.mean()) * (b - b.mean()))
    denom = a.var() + b.var() + (a.mean() - b.mean()) ** 2
    return float(2 * sxy / denom) if denom > 0 else float("nan")


def pearson(x, y) -> float:
    """Pearson's correlation (scipy.stats.pearsonr); NaN if a rater is constant."""
    a, b = _paired(x, y)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def spearman(x, y) -> float:
    """Spearman's rank correlation (scipy.stats.spearmanr, average ranks for ties)."""
    a, b = _paired(x, y)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


@dataclass(frozen=True)
class Agreement:
    """The agreement measures of two raters (see the module docstring for units)."""

    n: int
    mae: float
    rmse: float
    within1_pct: float
    qwk: float
    kripp_alpha_interval: float
    kripp_alpha_ordinal: float
    ccc: float
    pearson: float
    spearman: float

    def to_dict(self) -> dict:
        return asdict(self)


def agreement_summary(x, y) -> Agreement:
    """Every two-rater measure of this module for paired scores ``x``, ``y``."""
    a, b = _paired(x, y)
    both = np.column_stack([a, b])
    return Agreement(
        n=int(a.size), mae=mae(a, b), rmse=rmse(a, b), within1_pct=within_one_pct(a, b),
        qwk=quadratic_weighted_kappa(a, b), kripp_alpha_interval=krippendorff_alpha(both, "interval"),
        kripp_alpha_ordinal=krippendorff_alpha(both, "ordinal"), ccc=lin_ccc(a, b),
        pearson=pearson(a, b), spearman=spearman(a, b),
    )
