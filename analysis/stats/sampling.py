"""The sampling design of the reference ratings, and the check that rated items are like the rest.

A study's references (humans, gold) rate some of the items its evaluators score. How
those items were chosen decides what their ratings can estimate:

* ``random``: a simple random sample of the items (or, with ``strata``, a random sample
  within each stratum, at rates that may differ between strata). Means of the rated
  items, and prediction-powered estimates (:mod:`analysis.stats.ppi`), estimate the
  means of all items; a stratified sample needs the stratified estimator
  (:func:`analysis.stats.ppi.ppi_mean_stratified`).
* ``all``: every item is rated; the references' mean *is* the population's.
* ``selected``: the items were chosen by a rule (``rule``, e.g. "the answer one judge
  scored lowest, per conversation"). The rated items are then a population of their own
  (the items the rule selects); estimators that assume random selection do not estimate
  the mean of all items, whatever their intervals say.

:func:`rated_unrated_difference` compares an evaluator's scores on the rated and the
unrated items: under a random design the difference is zero up to sampling error, so a
confidence interval that excludes zero says the rated items are not a random sample (or
that the strata are not the ones declared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special, stats

from analysis.stats.ppi import _vector
from analysis.stats.result import Result, check_confidence


def _clustered_difference(r: np.ndarray, u: np.ndarray, clusters, clusters_unrated,
                          confidence: float) -> SelectionDifference:
    """:func:`rated_unrated_difference` with cluster-robust (CR1) standard error."""
    cr, cu = np.asarray(clusters), np.asarray(clusters_unrated)
    if cr.shape != r.shape or cu.shape != u.shape:
        raise ValueError("clusters must label every rated item and clusters_unrated every unrated item")
    if r.shape[0] < 1 or u.shape[0] < 1:
        raise ValueError(f"need rated and unrated items, got {r.shape[0]} and {u.shape[0]}")
    _, g = np.unique(np.concatenate([cr.astype(str), cu.astype(str)]), return_inverse=True)
    n_clusters, n = int(g.max()) + 1, r.shape[0] + u.shape[0]
    if n_clusters < 2:
        raise ValueError(f"need at least 2 clusters, got {n_clusters}")
    d = r.mean() - u.mean()
    x = np.concatenate([np.ones(r.shape[0]), np.zeros(u.shape[0])])
    e = np.concatenate([r - r.mean(), u - u.mean()])
    xc = x - x.mean()
    score = np.bincount(g.ravel(), weights=xc * e, minlength=n_clusters)
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - 2)
    se = math.sqrt(factor * float(score @ score)) / float(xc @ xc)
    df = n_clusters - 1
    q = float(stats.t.ppf(0.5 + confidence / 2, df))
    p = float(2 * stats.t.sf(abs(d) / se, df)) if se > 0 else (1.0 if d == 0 else 0.0)
    return SelectionDifference(estimate=float(d), ci_low=float(d - q * se), ci_high=float(d + q * se), pvalue=p,
                               n=n, confidence=confidence, mean_rated=float(r.mean()), mean_unrated=float(u.mean()),
                               n_rated=r.shape[0], n_unrated=u.shape[0], df=float(df), method="cluster")

__all__ = ["DESIGN_KINDS", "SamplingDesign", "SelectionDifference", "rated_unrated_difference"]

DESIGN_KINDS = ("random", "all", "selected")


@dataclass(frozen=True)
class SamplingDesign:
    """How a study's reference-rated items were chosen.

    Attributes
    ----------
    kind : {"random", "all", "selected"}
        See the module docstring.
    rule : str
        For ``selected``: the selection rule, in words (required).
    strata : str or None
        For ``random``: the column the sample was stratified by (None: simple random).
    declared : bool
        False when the study did not say (a user study file without ``design``): the
        analysis then assumes ``random`` and says so.
    """

    kind: str
    rule: str = ""
    strata: str | None = None
    declared: bool = True

    def __post_init__(self):
        if self.kind not in DESIGN_KINDS:
            raise ValueError(f"sampling design must be one of {', '.join(DESIGN_KINDS)}, not {self.kind!r}")
        if self.kind == "selected" and not self.rule.strip():
            raise ValueError("a 'selected' sampling design needs its rule (how the rated items were chosen)")
        if self.strata is not None and self.kind != "random":
            raise ValueError(f"strata apply to a 'random' design only, not to {self.kind!r}")

    @property
    def assumes_random(self) -> bool:
        """Whether means of the rated items may stand for means of all items."""
        return self.kind in ("random", "all")

    def describe(self) -> str:
        """One phrase: ``"selected: <rule>"``, ``"stratified random by <column>"``, ..."""
        if self.kind == "selected":
            return f"selected: {self.rule}"
        if self.kind == "all":
            return "all items rated"
        text = f"stratified random by {self.strata}" if self.strata else "simple random"
        return text if self.declared else f"{text} (assumed: the study does not declare its design)"


@dataclass(frozen=True)
class SelectionDifference(Result):
    """Result of :func:`rated_unrated_difference` (``estimate`` = mean on rated items minus
    mean on unrated items, in the scores' unit; ``n`` = rated + unrated items).

    Attributes
    ----------
    mean_rated, mean_unrated : float
        The means of the scores on the rated and the unrated items (stratified designs:
        the population-weighted means of the stratum means).
    n_rated, n_unrated : int
    df : float
        Welch-Satterthwaite degrees of freedom; clusters - 1 for ``"cluster"``; ``inf``
        for the stratified normal interval.
    method : str
        ``"welch"``, ``"cluster"`` or ``"stratified"``.
    """

    mean_rated: float = math.nan
    mean_unrated: float = math.nan
    n_rated: int = 0
    n_unrated: int = 0
    df: float = math.nan
    method: str = "welch"


def rated_unrated_difference(rated, unrated, *, strata: Sequence | None = None,
                             strata_unrated: Sequence | None = None, clusters: Sequence | None = None,
                             clusters_unrated: Sequence | None = None,
                             confidence: float = 0.95) -> SelectionDifference:
    """Difference between an evaluator's mean score on the rated and on the unrated items.

    Without strata or clusters: Welch's two-sample t interval and test (Welch 1947; as
    ``scipy.stats.ttest_ind(rated, unrated, equal_var=False)``, variances ``ddof=1``)::

        d = mean(rated) - mean(unrated),  se^2 = s_r^2 / n_r + s_u^2 / n_u

    With clusters (the answers of one conversation, rated and unrated alike, are not
    independent: Welch's interval is then too narrow): the same ``d`` as the slope of the
    regression of the scores on a rated indicator, with the cluster-robust sandwich
    variance (Liang & Zeger 1986; CR1, the small-sample factor ``G/(G-1) (N-1)/(N-2)``)
    and a t reference with ``G - 1`` degrees of freedom for ``G`` clusters: as
    ``statsmodels`` ``OLS(y, [1, rated]).fit(cov_type="cluster", cov_kwds={"groups": g},
    use_t=True)`` (tested)::

        se^2 = c sum_g (sum_{i in g} x~_i e_i)^2 / (sum_i x~_i^2)^2

    with ``e_i`` the score minus its group's mean and ``x~_i`` the indicator minus its mean.

    With strata (a stratified random design): the difference within each stratum ``h``,
    combined with the population weights ``W_h = (n_rh + n_uh) / (n_r + n_u)``
    (Cochran 1977, ch. 5)::

        d = sum_h W_h (mean_rh - mean_uh),  se^2 = sum_h W_h^2 (s_rh^2 / n_rh + s_uh^2 / n_uh)

    with a normal interval and test; every stratum needs 2 rated and 2 unrated items.
    Under a random design (within strata) ``d`` is 0 up to sampling error.

    Parameters
    ----------
    rated, unrated : array_like
        The evaluator's scores of the rated and the unrated items (one value per item).
    strata, strata_unrated : sequence, optional
        The stratum of every rated / unrated item (give both or neither).
    clusters, clusters_unrated : sequence, optional
        The cluster of every rated / unrated item (give both or neither; not with strata).
        At least 2 clusters.
    confidence : float

    Returns
    -------
    SelectionDifference
        ``pvalue``: two-sided, of ``d = 0``.
    """
    confidence = check_confidence(confidence)
    r, u = _vector(rated, "rated"), _vector(unrated, "unrated")
    if (strata is None) != (strata_unrated is None):
        raise ValueError("give both strata and strata_unrated, or neither")
    if (clusters is None) != (clusters_unrated is None):
        raise ValueError("give both clusters and clusters_unrated, or neither")
    if clusters is not None and strata is not None:
        raise ValueError("give strata or clusters, not both")
    if clusters is not None:
        return _clustered_difference(r, u, clusters, clusters_unrated, confidence)
    if strata is None:
        if r.shape[0] < 2 or u.shape[0] < 2:
            raise ValueError(f"need at least 2 rated and 2 unrated items, got {r.shape[0]} and {u.shape[0]}")
        vr, vu = r.var(ddof=1) / r.shape[0], u.var(ddof=1) / u.shape[0]
        d, se = r.mean() - u.mean(), math.sqrt(vr + vu)
        df = (vr + vu) ** 2 / (vr ** 2 / (r.shape[0] - 1) + vu ** 2 / (u.shape[0] - 1)) if vr + vu > 0 else math.inf
        q = float(stats.t.ppf(0.5 + confidence / 2, df))
        p = float(2 * stats.t.sf(abs(d) / se, df)) if se > 0 else (1.0 if d == 0 else 0.0)
        return SelectionDifference(estimate=float(d), ci_low=float(d - q * se), ci_high=float(d + q * se), pvalue=p,
                                   n=r.shape[0] + u.shape[0], confidence=confidence, mean_rated=float(r.mean()),
                                   mean_unrated=float(u.mean()), n_rated=r.shape[0], n_unrated=u.shape[0],
                                   df=float(df), method="welch")
    sr, su = np.asarray(strata), np.asarray(strata_unrated)
    if sr.shape != r.shape or su.shape != u.shape:
        raise ValueError("strata must label every rated item and strata_unrated every unrated item")
    total = r.shape[0] + u.shape[0]
    d = var = mean_r = mean_u = 0.0
    for h in np.unique(np.concatenate([sr, su])):
        rh, uh = r[sr == h], u[su == h]
        if rh.shape[0] < 2 or uh.shape[0] < 2:
            raise ValueError(f"stratum {str(h)!r}: need at least 2 rated and 2 unrated items, got {rh.shape[0]} and "
                             f"{uh.shape[0]}")
        w = (rh.shape[0] + uh.shape[0]) / total
        d += w * (rh.mean() - uh.mean())
        mean_r, mean_u = mean_r + w * rh.mean(), mean_u + w * uh.mean()
        var += w * w * (rh.var(ddof=1) / rh.shape[0] + uh.var(ddof=1) / uh.shape[0])
    se = math.sqrt(var)
    z = float(special.ndtri(0.5 + confidence / 2))
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else (1.0 if d == 0 else 0.0)
    return SelectionDifference(estimate=float(d), ci_low=float(d - z * se), ci_high=float(d + z * se), pvalue=p,
                               n=total, confidence=confidence, mean_rated=float(mean_r), mean_unrated=float(mean_u),
                               n_rated=r.shape[0], n_unrated=u.shape[0], df=math.inf, method="stratified")
