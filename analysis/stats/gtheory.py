"""Generalizability theory: variance components (G study) and D studies.

How much of the spread of scores is the items (what we want to measure), and how much
the evaluators and their runs (noise)? And how many evaluators and runs does a score
need to be dependable? G theory (Cronbach et al. 1972; Brennan 2001; Shavelson & Webb
1991) answers both. Notation: ``p`` is the object of measurement (Brennan's "persons":
here the rated items/answers), ``e`` evaluators (LLM judges or human raters), ``r``
runs (repeated evaluations), ``i`` a single facet (raters, or runs of one judge).

Designs (balanced: every item has every evaluator x run; NaN = missing)
-----------------------------------------------------------------------
===============  =================================  ====================================
design           scores array                       components
===============  =================================  ====================================
``"p x i"``      ``(n_p, n_i)``                     p, i, pi
``"p x e x r"``  ``(n_p, n_e, n_r)``, runs crossed  p, e, r, pe, pr, er, per
``"p x (r:e)"``  ``(n_p, n_e, n_r)``, runs nested   p, e, r:e, pe, pr:e
===============  =================================  ====================================

Crossed or nested runs? In ``p x e x r`` run ``j`` is the same condition for every
evaluator (e.g. the same prompt variant or seed shared by all judges), so a run main
effect ``r`` and an ``e x r`` interaction exist. Repeated LLM evaluation runs are
usually *not* like that: run 1 of judge A has nothing to do with run 1 of judge B; runs
are nested within evaluator, ``p x (r:e)`` (Brennan 2001, ch. 3-4), and then
``r:e`` confounds ``r`` with ``er`` and ``pr:e`` confounds ``pr`` with ``per``. The caller
chooses; axis 2 of the array is "the j-th run of that evaluator" either way. A crossed
G study can be used for a nested D study (``r:e = r + er``, ``pr:e = pr + per``,
Brennan 2001, ch. 4), not the reverse.

Estimators
----------
* ``method="anova"`` (balanced, complete data): the expected-mean-squares (EMS)
  estimators, solving ``E[MS] = sum_j k_j sigma^2_j`` with the random-effects EMS of
  each design (Brennan 2001, ch. 3). For ``p x (r:e)`` (``n_e``
  evaluators, ``n_r`` runs each)::

      sigma^2(pr:e) = MS(pr:e)
      sigma^2(pe)   = (MS(pe) - MS(pr:e)) / n_r
      sigma^2(r:e)  = (MS(r:e) - MS(pr:e)) / n_p
      sigma^2(e)    = (MS(e) - MS(pe) - MS(r:e) + MS(pr:e)) / (n_p n_r)
      sigma^2(p)    = (MS(p) - MS(pe)) / (n_e n_r)

  and for ``p x e x r``::

      sigma^2(per) = MS(per)
      sigma^2(pe)  = (MS(pe) - MS(per)) / n_r,  sigma^2(pr) = (MS(pr) - MS(per)) / n_e
      sigma^2(er)  = (MS(er) - MS(per)) / n_p
      sigma^2(p)   = (MS(p) - MS(pe) - MS(pr) + MS(per)) / (n_e n_r)
      sigma^2(e)   = (MS(e) - MS(pe) - MS(er) + MS(per)) / (n_p n_r)
      sigma^2(r)   = (MS(r) - MS(pr) - MS(er) + MS(per)) / (n_p n_e)

  Negative estimates (sampling error around a small component) are set to 0, as
  Brennan (2001, sec. 3.4) recommends; ``raw`` keeps the unbiased value. The other
  components are the solutions of the EMS equations above, from the raw mean squares:
  the zero is *not* substituted into the other equations (Cronbach et al.'s 1972
  variant, which changes them). D studies use the zeroed values.
* ``method="reml"`` (unbalanced or missing data): restricted maximum likelihood of the
  random-effects model ``y = mu + sum_k Z_k u_k + e`` (every effect of the design a
  variance component, the residual the highest-order interaction), with lme4's profiled
  REML deviance (Bates, Maechler, Bolker & Walker 2015, sec. 3.4-3.5): for relative
  standard deviations ``theta_k = sigma_k / sigma`` and ``Lambda = diag(theta)``,
  ``L L' = Lambda Z'Z Lambda + I``, ``R_X' R_X = X'X - X'Z Lambda (L L')^-1 Lambda Z'X``
  and ``r^2`` the penalised residual sum of squares::

      -2 log L_R(theta) = log|L|^2 + log|R_X|^2 + (n - 1) (1 + log(2 pi r^2 / (n - 1)))

  minimised over ``theta >= 0`` (L-BFGS-B, then Powell from the best point) from several
  starts: the ANOVA estimates of the complete items, equal shares (``theta = 1``, lme4's
  default) and small components (``theta = 0.1``); the fit with the largest REML
  log-likelihood is kept and reported (``GStudy.loglik``, lme4's ``logLik`` of an
  ``REML = TRUE`` fit). A component whose removal does not lower the likelihood is set to
  exactly 0 and a :class:`BoundaryWarning` names it: a component on the boundary is an
  ordinary REML result, but its sampling distribution is not normal. Validated against
  lme4 (best of three optimisers x two starts) on 26 designs, balanced and unbalanced,
  crossed, nested and one-facet, with and without components at 0: REML log-likelihood
  within 1e-10, components within 1e-6 (``tests/reference/lme4_reml.R``). On balanced
  data where no ANOVA estimate is negative REML equals ANOVA. ``L`` is computed by
  blocks (the item-level effects ``p``, ``pe``, ``pr`` are block-diagonal over items; the
  evaluator and run effects are few columns), so a fit costs time linear in the items:
  about 2 s for 200 x 3 x 3 and 4 s for 500 x 3 x 3 (the dense statsmodels fit used
  before: 180 s for 200 x 3 x 3, on the same busy machine).

D study (Brennan 2001, ch. 4; random facets unless stated)
-----------------------------------------------------------
For ``n'_e`` evaluators and ``n'_r`` runs per evaluator, the average score of an item
has universe-score variance ``tau``, relative error ``delta`` and absolute error
``Delta``; ``E rho^2 = tau / (tau + delta)`` (generalizability coefficient, for ranking
items) and ``Phi = tau / (tau + Delta)`` (dependability, for absolute scores)::

    p x i:       tau = p;  delta = pi/n';  Delta = delta + i/n'
    p x e x r:   tau = p;  delta = pe/n'_e + pr/n'_r + per/(n'_e n'_r)
                 Delta = delta + e/n'_e + r/n'_r + er/(n'_e n'_r)
    p x (r:e):   tau = p;  delta = pe/n'_e + pr:e/(n'_e n'_r)
                 Delta = delta + e/n'_e + r:e/(n'_e n'_r)

Evaluators fixed (``fixed_evaluators=True``: the universe is *these* evaluators, only
runs are sampled; Brennan 2001, ch. 4, mixed models): the ``pe`` variance moves into the universe
score and the evaluator main effect drops out::

    p x e x r:   tau = p + pe/n'_e;  delta = pr/n'_r + per/(n'_e n'_r)
                 Delta = delta + r/n'_r + er/(n'_e n'_r)
    p x (r:e):   tau = p + pe/n'_e;  delta = pr:e/(n'_e n'_r)
                 Delta = delta + r:e/(n'_e n'_r)

(``n'_e`` is then the number of evaluators in that fixed universe.) For ``p x i``,
``E rho^2`` at ``n' = k`` is ICC(C,k) and ``Phi`` is ICC(A,k) (McGraw & Wong 1996)
whenever no component is negative (tested to 1e-12 against
:func:`analysis.stats.icc.intraclass_corr`).

Bootstrap
---------
:func:`g_study_bootstrap` resamples items (Brennan's "boot-p", 2001, ch. 6) with
:func:`analysis.stats.bootstrap.bootstrap`: every mean square is a function of
weighted sums of per-item statistics, so all resamples are one matrix product. boot-p
reflects the sampling of items only: it is appropriate for ``sigma^2(p)`` and for the
coefficients, but the components of the evaluator and run facets (a handful of
levels) are estimated from those few levels, which no resampling of items can show,
and Brennan (2001, ch. 6) reports boot-p estimates to be biased for them. Read their
intervals as conditional on these evaluators and runs.

Intervals with every facet sampled
----------------------------------
:func:`component_intervals` and :func:`d_study_intervals` carry the sampling of the
evaluators and runs too, from the ANOVA mean squares and their degrees of freedom under
the normal random-effects model: generalized confidence intervals (Weerahandi 1993;
Burdick, Borror & Montgomery 2005) for the components, E rho^2 and Phi, and
Satterthwaite's (1946) chi-square intervals for the components (Brennan 2001, ch. 6).
``sigma^2(e)`` from 3 judges rests on 2 degrees of freedom, so "Phi with n' judges
drawn at random like these" is known only roughly: in a simulation with 50 items, 3
judges and 2 runs (``tests/test_gtheory.py``) the GCI of Phi covered 95 % and boot-p's
80 %. For p x i the GCI of E rho^2 is McGraw & Wong's exact F interval of ICC(C,k).

References
----------
Brennan, R. L. (2001). Generalizability Theory. Springer.
Shavelson, R. J. & Webb, N. M. (1991). Generalizability Theory: A Primer. Sage.
Cronbach, L. J., Gleser, G. C., Nanda, H. & Rajaratnam, N. (1972). The Dependability
of Behavioral Measurements. Wiley.
McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass
correlation coefficients. Psychological Methods 1(1), 30-46.
Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
components. Biometrics Bulletin 2(6), 110-114.
Weerahandi, S. (1993). Generalized confidence intervals. Journal of the American
Statistical Association 88(423), 899-905.
Burdick, R. K., Borror, C. M. & Montgomery, D. C. (2005). Design and Analysis of Gauge
R&R Studies: Making Decisions with Confidence Intervals in Random and Mixed ANOVA
Models. SIAM/ASA.
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects
models using lme4. Journal of Statistical Software 67(1), 1-48.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.threads import one_blas_thread
from analysis.stats.result import check_confidence

__all__ = [
    "COMPONENTS", "DESIGNS", "BoundaryWarning", "GStudy", "anova_components", "component_intervals", "d_study",
    "d_study_intervals", "g_coefficients", "g_study", "g_study_bootstrap", "smallest_n",
]

DESIGNS = ("p x i", "p x e x r", "p x (r:e)")
"""Canonical design names."""

COMPONENTS: dict[str, tuple[str, ...]] = {
    "p x i": ("p", "i", "pi"),
    "p x e x r": ("p", "e", "r", "pe", "pr", "er", "per"),
    "p x (r:e)": ("p", "e", "r:e", "pe", "pr:e"),
}
"""Variance components of every design, in output order."""

FACETS = ("evaluators", "runs")

D_STUDY_SCHEMA = {"design": pl.String, "n_evaluators": pl.Int64, "n_runs": pl.Int64,
                  "g_coefficient": pl.Float64, "phi": pl.Float64}


def _design(name: str) -> str:
    key = str(name).lower().replace("×", "x").replace(" ", "")
    for d in DESIGNS:
        if key == d.replace(" ", ""):
            return d
    raise ValueError(f"design must be one of {DESIGNS}, not {name!r}")


@dataclass(frozen=True)
class GStudy:
    """Variance components of a G study.

    Attributes
    ----------
    design : str
        One of :data:`DESIGNS`.
    method : str
        ``"anova"`` or ``"reml"``.
    components : dict
        Estimated variance components, negative ANOVA estimates set to 0.
    raw : dict
        The estimates before that (equal to ``components`` for REML).
    sizes : dict
        Levels in the G study: ``p`` and ``i`` (one facet) or ``p``, ``e``, ``r``
        (runs per evaluator; with REML on unbalanced data, the largest).
    facet : str
        What the single facet ``i`` of ``"p x i"`` is (``"evaluators"`` or ``"runs"``):
        the D-study column its sizes go in. ``"evaluators"`` for two-facet designs.
    mean_squares, df : dict
        ANOVA mean squares and degrees of freedom per effect (empty for REML).
    n_missing : int
        Missing cells (REML only; ANOVA needs complete data).
    loglik : float
        REML only: the restricted log-likelihood at the estimates (lme4's ``logLik`` of
        an ``REML = TRUE`` fit); NaN for ANOVA.
    boundary : tuple of str
        REML only: the components estimated at 0 (a :class:`BoundaryWarning` was issued).
    """

    design: str
    method: str
    components: dict[str, float]
    raw: dict[str, float]
    sizes: dict[str, int]
    facet: str = "evaluators"
    mean_squares: dict[str, float] = field(default_factory=dict)
    df: dict[str, float] = field(default_factory=dict)
    n_missing: int = 0
    loglik: float = float("nan")
    boundary: tuple[str, ...] = ()

    def table(self) -> pl.DataFrame:
        """``component, variance, variance_raw, percent, df, mean_square``.

        ``percent`` is the share of the sum of the (zeroed) components: Brennan's
        description of a G study for single observations.
        """
        names = list(COMPONENTS[self.design])
        var = np.array([self.components[c] for c in names])
        total = var.sum()
        return pl.DataFrame({
            "component": names,
            "variance": var,
            "variance_raw": [self.raw[c] for c in names],
            "percent": 100 * var / total if total > 0 else np.full(len(names), np.nan),
            "df": [self.df.get(c) for c in names],
            "mean_square": [self.mean_squares.get(c) for c in names],
        }, schema={"component": pl.String, "variance": pl.Float64, "variance_raw": pl.Float64,
                   "percent": pl.Float64, "df": pl.Float64, "mean_square": pl.Float64})


# ---------------------------------------------------------------------------------------
# ANOVA from weighted sums of per-item statistics
# ---------------------------------------------------------------------------------------

def _per_item(scores: np.ndarray, design: str) -> np.ndarray:
    """Per-item sufficient statistics: every mean square is a function of their sums.

    Columns (scores centred at their grand mean, which leaves every sum of squares
    unchanged): 1, the squared item mean, the sum over evaluators of squared
    item x evaluator means, the sum over runs of squared item x run means (crossed),
    the sum of squared scores, then the scores themselves (one column per cell).
    """
    x = scores - scores.mean()
    n = x.shape[0]
    if design == "p x i":
        feats = [np.ones(n), x.mean(axis=1) ** 2, (x * x).sum(axis=1)]
    else:
        feats = [np.ones(n), x.mean(axis=(1, 2)) ** 2, (x.mean(axis=2) ** 2).sum(axis=1),
                 (x.mean(axis=1) ** 2).sum(axis=1), (x * x).sum(axis=(1, 2))]
    return np.column_stack(feats + [x.reshape(n, -1)])


def _anova_from_sums(s: np.ndarray, design: str, shape: tuple[int, ...]) -> dict[str, dict[str, np.ndarray]]:
    """Sums of squares, df, mean squares and raw components from summed :func:`_per_item`.

    ``s`` has shape ``(..., m)``; the item count is ``s[..., 0]`` (a resample's total
    frequency weight), so weighted sums give the ANOVA of the resampled items.
    """
    w = s[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if design == "p x i":
            n_i = shape[0]
            cells = s[..., 3:] / w[..., None]                      # item-facet means, (..., n_i)
            grand = cells.mean(axis=-1)
            t_mu = w * n_i * grand**2
            t_p = n_i * s[..., 1]
            t_i = w * (cells**2).sum(axis=-1)
            t_pi = s[..., 2]
            ss = {"p": t_p - t_mu, "i": t_i - t_mu, "pi": t_pi - t_p - t_i + t_mu}
            df = {"p": w - 1, "i": np.full_like(w, n_i - 1), "pi": (w - 1) * (n_i - 1)}
            ms = {k: ss[k] / df[k] for k in ss}
            comp = {"p": (ms["p"] - ms["pi"]) / n_i, "i": (ms["i"] - ms["pi"]) / w, "pi": ms["pi"]}
            return {"ss": ss, "df": df, "ms": ms, "raw": comp}
        n_e, n_r = shape
        cells = s[..., 5:].reshape(s.shape[:-1] + (n_e, n_r)) / w[..., None, None]   # evaluator x run means
        mean_e = cells.mean(axis=-1)
        mean_r = cells.mean(axis=-2)
        grand = mean_e.mean(axis=-1)
        t_mu = w * n_e * n_r * grand**2
        t_p = n_e * n_r * s[..., 1]
        t_pe = n_r * s[..., 2]
        t_pr = n_e * s[..., 3]
        t_per = s[..., 4]
        t_e = w * n_r * (mean_e**2).sum(axis=-1)
        t_r = w * n_e * (mean_r**2).sum(axis=-1)
        t_er = w * (cells**2).sum(axis=(-2, -1))
        const = np.ones_like(w)
        if design == "p x e x r":
            ss = {
                "p": t_p - t_mu, "e": t_e - t_mu, "r": t_r - t_mu,
                "pe": t_pe - t_p - t_e + t_mu, "pr": t_pr - t_p - t_r + t_mu, "er": t_er - t_e - t_r + t_mu,
                "per": t_per - t_pe - t_pr - t_er + t_p + t_e + t_r - t_mu,
            }
            df = {"p": w - 1, "e": const * (n_e - 1), "r": const * (n_r - 1), "pe": (w - 1) * (n_e - 1),
                  "pr": (w - 1) * (n_r - 1), "er": const * (n_e - 1) * (n_r - 1),
                  "per": (w - 1) * (n_e - 1) * (n_r - 1)}
            ms = {k: ss[k] / df[k] for k in ss}
            comp = {
                "p": (ms["p"] - ms["pe"] - ms["pr"] + ms["per"]) / (n_e * n_r),
                "e": (ms["e"] - ms["pe"] - ms["er"] + ms["per"]) / (w * n_r),
                "r": (ms["r"] - ms["pr"] - ms["er"] + ms["per"]) / (w * n_e),
                "pe": (ms["pe"] - ms["per"]) / n_r,
                "pr": (ms["pr"] - ms["per"]) / n_e,
                "er": (ms["er"] - ms["per"]) / w,
                "per": ms["per"],
            }
        else:
            ss = {
                "p": t_p - t_mu, "e": t_e - t_mu, "r:e": t_er - t_e, "pe": t_pe - t_p - t_e + t_mu,
                "pr:e": t_per - t_pe - t_er + t_e,
            }
            df = {"p": w - 1, "e": const * (n_e - 1), "r:e": const * n_e * (n_r - 1), "pe": (w - 1) * (n_e - 1),
                  "pr:e": (w - 1) * n_e * (n_r - 1)}
            ms = {k: ss[k] / df[k] for k in ss}
            comp = {
                "p": (ms["p"] - ms["pe"]) / (n_e * n_r),
                "e": (ms["e"] - ms["pe"] - ms["r:e"] + ms["pr:e"]) / (w * n_r),
                "r:e": (ms["r:e"] - ms["pr:e"]) / w,
                "pe": (ms["pe"] - ms["pr:e"]) / n_r,
                "pr:e": ms["pr:e"],
            }
        return {"ss": ss, "df": df, "ms": ms, "raw": comp}


def _check_scores(scores, design: str, allow_nan: bool) -> np.ndarray:
    x = np.asarray(scores, dtype=float)
    want = 2 if design == "p x i" else 3
    if x.ndim != want:
        layout = "(n_items, n_facet)" if want == 2 else "(n_items, n_evaluators, n_runs)"
        raise ValueError(f"design {design!r} needs a {want}-D scores array {layout}, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("scores contain infinite values")
    if not allow_nan and np.isnan(x).any():
        raise ValueError(f"{int(np.isnan(x).sum())} cells are missing (NaN): the ANOVA estimators need a "
                         "complete balanced array; use method='reml'")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 items, got {x.shape[0]}")
    if design == "p x i" and x.shape[1] < 2:
        raise ValueError(f"need at least 2 levels of the facet, got {x.shape[1]}")
    if design == "p x e x r" and min(x.shape[1:]) < 2:
        raise ValueError(f"the crossed design needs at least 2 evaluators and 2 runs, got {x.shape[1:]}")
    if design == "p x (r:e)" and (x.shape[1] < 2 or x.shape[2] < 2):
        raise ValueError(f"the nested design needs at least 2 evaluators and 2 runs each, got {x.shape[1:]}")
    return x


def anova_components(scores, design: str, weights=None) -> dict[str, np.ndarray]:
    """Raw ANOVA (EMS) variance components, optionally for frequency-weighted items.

    Parameters
    ----------
    scores : ndarray
        Complete ``(n_p, n_i)`` or ``(n_p, n_e, n_r)`` scores.
    design : str
        One of :data:`DESIGNS`.
    weights : ndarray, shape (B, n_p), optional
        Item frequency weights (bootstrap counts); all B resamples in one product.

    Returns
    -------
    dict
        Component name -> array of shape ``(B,)`` (``(1,)`` without weights), not
        truncated at 0.
    """
    design = _design(design)
    x = _check_scores(scores, design, allow_nan=False)
    feats = _per_item(x, design)
    w = np.ones((1, x.shape[0])) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    return _anova_from_sums(w @ feats, design, x.shape[1:])["raw"]


# ---------------------------------------------------------------------------------------
# G study
# ---------------------------------------------------------------------------------------

def g_study(scores, design: str = "p x (r:e)", *, method: str = "anova", facet: str = "evaluators") -> GStudy:
    """Estimate the variance components of a G study.

    Parameters
    ----------
    scores : array_like
        ``(n_items, n_facet)`` for ``"p x i"``, ``(n_items, n_evaluators, n_runs)`` for
        the two-facet designs; NaN marks a missing score (REML only).
    design : {"p x i", "p x e x r", "p x (r:e)"}
        See the module docstring; ``"p x (r:e)"`` (runs nested within evaluator) is the
        default because independent LLM runs are nested.
    method : {"anova", "reml"}
        Expected-mean-squares estimators (balanced, complete data) or REML (missing cells
        allowed; several starts, the best REML log-likelihood kept; a
        :class:`BoundaryWarning` when a component is estimated at 0).
    facet : {"evaluators", "runs"}
        ``"p x i"`` only: what the single facet is, i.e. which D-study column its
        sizes fill.

    Returns
    -------
    GStudy

    Examples
    --------
    Three evaluators, two runs each, on five items:

    >>> x = np.array([[[4, 4], [3, 4], [5, 5]], [[2, 3], [2, 2], [3, 3]], [[5, 5], [4, 5], [5, 4]],
    ...               [[3, 3], [3, 2], [4, 4]], [[1, 2], [2, 2], [2, 3]]], float)
    >>> g = g_study(x, "p x (r:e)")
    >>> g.table().select("component", pl.col("variance").round(4)).rows()
    [('p', 1.1833), ('e', 0.1833), ('r:e', 0.0), ('pe', 0.05), ('pr:e', 0.25)]
    >>> d_study(g, n_evaluators=[1, 3], n_runs=1).select(pl.col("phi").round(3)).to_series().to_list()
    [0.71, 0.88]
    """
    design = _design(design)
    if method not in ("anova", "reml"):
        raise ValueError(f"method must be 'anova' or 'reml', not {method!r}")
    if facet not in FACETS:
        raise ValueError(f"facet must be one of {FACETS}, not {facet!r}")
    x = _check_scores(scores, design, allow_nan=method == "reml")
    names = COMPONENTS[design]
    sizes = {"p": x.shape[0]} | ({"i": x.shape[1]} if design == "p x i" else {"e": x.shape[1], "r": x.shape[2]})
    if method == "reml":
        raw, loglik, boundary = _reml(x, design)
        return GStudy(design=design, method="reml", components={k: max(v, 0.0) for k, v in raw.items()}, raw=raw,
                      sizes=sizes, facet=facet if design == "p x i" else "evaluators",
                      n_missing=int(np.isnan(x).sum()), loglik=loglik, boundary=boundary)
    res = _anova_from_sums(_per_item(x, design).sum(axis=0), design, x.shape[1:])
    raw = {k: float(res["raw"][k]) for k in names}
    return GStudy(
        design=design, method="anova", components={k: max(v, 0.0) for k, v in raw.items()}, raw=raw, sizes=sizes,
        facet=facet if design == "p x i" else "evaluators",
        mean_squares={k: float(res["ms"][k]) for k in names}, df={k: float(res["df"][k]) for k in names},
    )


_REML_EFFECTS = {
    "p x i": ({"p": ("p",), "i": ("i",)}, "pi"),
    "p x e x r": ({"p": ("p",), "e": ("e",), "r": ("r",), "pe": ("p", "e"), "pr": ("p", "r"), "er": ("e", "r")},
                  "per"),
    "p x (r:e)": ({"p": ("p",), "e": ("e",), "r:e": ("e", "r"), "pe": ("p", "e")}, "pr:e"),
}
"""REML: the random effects of every design (and the facets they cross) and its residual."""


class BoundaryWarning(UserWarning):
    """A REML variance component is on the boundary of the parameter space (0)."""


@dataclass(frozen=True)
class _RemlProblem:
    """The cross-products of a one-group variance-components model
    ``y = mu + sum_k Z_k u_k + e`` for lme4's profiled REML deviance, split into the
    effects that involve the item ``p`` (``b`` columns per item, block-diagonal over items
    in ``Z'Z``) and the global ones (``g`` columns: evaluators, runs, their interaction),
    so that every evaluation costs ``O(n_p (b^3 + b^2 g + b g^2) + g^3)``, not ``O(q^3)``
    for all ``q = n_p b + g`` columns."""

    names: tuple[str, ...]      # random effects, in COMPONENTS order (theta's order)
    residual: str
    item_effect: np.ndarray     # (b,) effect index of every item-level column
    glob_effect: np.ndarray     # (g,) effect index of every global column
    bb: np.ndarray              # (n_p, b, b) Z_i'Z_i of the item-level columns
    bg: np.ndarray              # (n_p, b, g) item-level x global cross-products
    gg: np.ndarray              # (g, g)
    rb: np.ndarray              # (n_p, b, 2) Z_i'[y, 1] (y centred)
    rg: np.ndarray              # (g, 2)
    n: int
    yty: float                  # y'y, y centred (REML is invariant to the intercept)

    def _pls(self, theta: np.ndarray) -> tuple[float, float]:
        """``log|L_theta|^2 + log|R_X|^2`` and the penalised residual sum of squares
        ``r^2_theta`` at ``theta`` (lme4; ``L L' = Lambda Z'Z Lambda + I`` solved by blocks:
        the item blocks, then the Schur complement of the global columns)."""
        theta = np.asarray(theta, dtype=float)
        lb, lg = theta[self.item_effect], theta[self.glob_effect]
        g = lg.shape[0]
        a_b = lb[None, :, None] * self.bb * lb[None, None, :] + np.eye(lb.shape[0])
        c = lb[None, :, None] * self.bg * lg[None, None, :]
        r_b = lb[None, :, None] * self.rb
        r_g = lg[:, None] * self.rg
        try:
            solved = np.linalg.solve(a_b, np.concatenate([c, r_b], axis=-1))
            logdet_b = float(np.linalg.slogdet(a_b)[1].sum())
            s = lg[:, None] * self.gg * lg[None, :] + np.eye(g) - np.einsum("ibg,ibh->gh", c, solved[..., :g])
            chol = np.linalg.cholesky(s)
        except np.linalg.LinAlgError:
            return np.inf, np.nan
        from scipy.linalg import cho_solve

        z_g = cho_solve((chol, True), r_g - np.einsum("ibg,ibk->gk", c, solved[..., g:]))
        z_b = solved[..., g:] - np.einsum("ibg,gk->ibk", solved[..., :g], z_g)
        m = np.einsum("ibk,ibl->kl", r_b, z_b) + r_g.T @ z_g      # [Lambda Z'y, Lambda Z'1]' A^-1 [...]
        rx2 = self.n - m[1, 1]                                     # R_X'R_X (X = 1)
        if not rx2 > 0:
            return np.inf, np.nan
        r2 = self.yty - m[0, 0] - m[0, 1] ** 2 / rx2               # X'y = 0: y is centred
        return logdet_b + 2.0 * float(np.log(np.diag(chol)).sum()) + float(np.log(rx2)), float(r2)

    def deviance(self, theta: np.ndarray) -> float:
        """REML deviance ``-2 log L_R`` at relative standard deviations ``theta``
        (``sigma_k / sigma``), profiled over ``sigma`` and ``mu``."""
        logdet, r2 = self._pls(theta)
        if not (np.isfinite(logdet) and r2 > 0):
            return np.inf
        dof = self.n - 1
        return float(logdet + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof)))

    def sigma2(self, theta: np.ndarray) -> float:
        """The residual variance ``r^2_theta / (n - 1)`` that profiles the deviance at ``theta``."""
        return self._pls(theta)[1] / (self.n - 1)


def _reml_problem(x: np.ndarray, design: str) -> _RemlProblem:
    keep = ~np.isnan(x)
    idx = np.argwhere(keep)
    y = x[keep]
    if y.size < 3:
        raise ValueError("too few scores for REML")
    effects, residual = _REML_EFFECTS[design]
    names = tuple(effects)
    n_p = x.shape[0]
    levels = {"p": 1} | ({"i": x.shape[1]} if design == "p x i" else {"e": x.shape[1], "r": x.shape[2]})
    axes = {"p": idx[:, 0]} | ({"i": idx[:, 1]} if design == "p x i" else {"e": idx[:, 1], "r": idx[:, 2]})
    # One column per level of every effect (every combination of its facets' levels, present
    # or not: an absent level is a zero column, which changes nothing); the item-level
    # effects' columns are counted within an item.
    item_cols, glob_cols, item_effect, glob_effect = [], [], [], []
    for k, facets in enumerate(effects.values()):
        rest = [f for f in facets if f != "p"]
        size = int(np.prod([levels[f] for f in rest])) if rest else 1
        level = np.zeros(y.size, dtype=np.int64)
        for f in rest:
            level = level * levels[f] + axes[f]
        if "p" in facets:
            item_effect += [k] * size
            item_cols.append((len(item_effect) - size, level))
        else:
            glob_effect += [k] * size
            glob_cols.append((len(glob_effect) - size, level))
    b, g = len(item_effect), len(glob_effect)
    zb = np.zeros((y.size, b))
    zg = np.zeros((y.size, g))
    rows = np.arange(y.size)
    for start, level in item_cols:
        zb[rows, start + level] = 1.0
    for start, level in glob_cols:
        zg[rows, start + level] = 1.0
    item = axes["p"]
    yc = y - y.mean()
    bb = np.zeros((n_p, b, b))
    np.add.at(bb, item, zb[:, :, None] * zb[:, None, :])
    bg = np.zeros((n_p, b, g))
    np.add.at(bg, item, zb[:, :, None] * zg[:, None, :])
    rb = np.zeros((n_p, b, 2))
    np.add.at(rb, item, zb[:, :, None] * np.column_stack([yc, np.ones(y.size)])[:, None, :])
    return _RemlProblem(names=names, residual=residual, item_effect=np.array(item_effect),
                        glob_effect=np.array(glob_effect), bb=bb, bg=bg, gg=zg.T @ zg, rb=rb,
                        rg=zg.T @ np.column_stack([yc, np.ones(y.size)]), n=int(y.size), yty=float(yc @ yc))


def _reml_starts(x: np.ndarray, design: str, names: tuple[str, ...], residual: str) -> list[np.ndarray]:
    """Starting values of ``theta``: the ANOVA estimates of the complete items (negative
    ones at 0; when at least two items are complete), equal shares (every component equal
    to the residual: lme4's default, ``theta = 1``) and small components (``theta = 0.1``)."""
    starts = []
    complete = x[~np.isnan(x).reshape(x.shape[0], -1).any(axis=1)]
    with contextlib.suppress(ValueError):
        raw = {k: float(v[0]) for k, v in anova_components(complete, design).items()}
        if raw[residual] > 0:
            starts.append(np.sqrt(np.array([max(raw[k], 0.0) / raw[residual] for k in names])))
    return starts + [np.ones(len(names)), np.full(len(names), 0.1)]


def _reml_fit(prob: _RemlProblem, starts: list[np.ndarray]) -> tuple[np.ndarray, float, bool]:
    """Minimise the REML deviance over ``theta >= 0`` from every start (L-BFGS-B with
    central-difference gradients, then Powell from the best point), set to 0 every
    component whose removal does not raise the deviance; returns ``theta``, the
    deviance and whether the projected gradient vanishes there."""
    from scipy.optimize import minimize

    dim = len(prob.names)

    def grad(theta, h=1e-6):
        g = np.empty(dim)
        for k in range(dim):
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            if theta[k] >= h:
                dn[k] -= h
                g[k] = (prob.deviance(up) - prob.deviance(dn)) / (2 * h)
            else:
                g[k] = (prob.deviance(up) - prob.deviance(theta)) / h
        return g

    bounds = [(0.0, None)] * dim
    best_theta, best_dev = None, np.inf
    for start in starts:
        s = np.clip(np.asarray(start, dtype=float), 0.0, 1e3)
        if not np.isfinite(prob.deviance(s)):
            continue
        res = minimize(prob.deviance, s, jac=grad, method="L-BFGS-B", bounds=bounds,
                       options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 2000})
        if res.fun < best_dev:
            best_theta, best_dev = np.maximum(res.x, 0.0), float(res.fun)
    if best_theta is None:
        raise ValueError("REML: the deviance is not finite at any starting value (constant scores?)")
    res = minimize(prob.deviance, best_theta, method="Powell", bounds=bounds,
                   options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 20000})
    if res.fun < best_dev:
        best_theta, best_dev = np.maximum(res.x, 0.0), float(res.fun)
    for k in range(dim):               # a component at the boundary: exactly 0
        if best_theta[k] > 0:
            t = best_theta.copy()
            t[k] = 0.0
            d = prob.deviance(t)
            if d <= best_dev + 1e-10:
                best_theta, best_dev = t, d
    g = grad(best_theta)
    projected = np.where(best_theta > 0, g, np.minimum(g, 0.0))
    return best_theta, best_dev, bool(np.max(np.abs(projected)) < 1e-3)


def _reml(x: np.ndarray, design: str) -> tuple[dict[str, float], float, tuple[str, ...]]:
    """REML variance components, the REML log-likelihood and the components at 0."""
    prob = _reml_problem(x, design)
    with one_blas_thread():  # small matrices: BLAS threads only add overhead (analysis.stats.threads)
        theta, dev, converged = _reml_fit(prob, _reml_starts(x, design, prob.names, prob.residual))
        sigma2 = prob.sigma2(theta)
    out = {name: float(sigma2 * t * t) for name, t in zip(prob.names, theta)} | {prob.residual: sigma2}
    if not converged:
        warnings.warn(f"REML ({design}) did not converge; the variance components may be inaccurate",
                      RuntimeWarning, stacklevel=3)
    boundary = tuple(k for k in COMPONENTS[design] if out[k] == 0.0)
    if boundary:
        warnings.warn(f"REML ({design}): {', '.join(f'sigma^2({k})' for k in boundary)} on the boundary (0): "
                      "the data show no variance of that effect beyond what the others explain; the estimate "
                      "is 0, not a small positive value, and its sampling distribution is not normal",
                      BoundaryWarning, stacklevel=3)
    return {k: out[k] for k in COMPONENTS[design]}, -0.5 * dev, boundary


# ---------------------------------------------------------------------------------------
# D study
# ---------------------------------------------------------------------------------------

def _collapse(comp: dict, source: str, target: str) -> dict:
    """Components of ``source`` expressed in the D-study design ``target``."""
    if target == source:
        return dict(comp)
    if source == "p x e x r" and target == "p x (r:e)":
        return {"p": comp["p"], "e": comp["e"], "pe": comp["pe"], "r:e": comp["r"] + comp["er"],
                "pr:e": comp["pr"] + comp["per"]}
    raise ValueError(f"a {source!r} G study cannot give a {target!r} D study (only crossed -> nested)")


def _d_components(g: GStudy, design: str | None) -> tuple[str, dict[str, float]]:
    target = g.design if design is None else _design(design)
    return target, _collapse(g.components, g.design, target)


def g_coefficients(components: dict, design: str, n_evaluators, n_runs=1, *, fixed_evaluators: bool = False):
    """``(E rho^2, Phi)`` for ``n_evaluators`` x ``n_runs`` (arrays broadcast).

    ``components`` are non-negative variance components of ``design`` (for ``"p x i"``
    the facet size is ``n_evaluators``; ``n_runs`` is ignored). Formulas in the module
    docstring. Components may be arrays (e.g. bootstrap replicates) broadcasting with
    the sizes.
    """
    design = _design(design)
    c = {k: np.asarray(v, dtype=float) for k, v in components.items()}
    ne = np.asarray(n_evaluators, dtype=float)
    nr = np.asarray(n_runs, dtype=float)
    if design == "p x i":
        if fixed_evaluators:
            raise ValueError("with a single facet there is nothing random left to generalize over when it is fixed")
        tau = c["p"]
        delta = c["pi"] / ne
        big_delta = delta + c["i"] / ne
    elif design == "p x e x r":
        if fixed_evaluators:
            tau = c["p"] + c["pe"] / ne
            delta = c["pr"] / nr + c["per"] / (ne * nr)
            big_delta = delta + c["r"] / nr + c["er"] / (ne * nr)
        else:
            tau = c["p"]
            delta = c["pe"] / ne + c["pr"] / nr + c["per"] / (ne * nr)
            big_delta = delta + c["e"] / ne + c["r"] / nr + c["er"] / (ne * nr)
    else:
        if fixed_evaluators:
            tau = c["p"] + c["pe"] / ne
            delta = c["pr:e"] / (ne * nr)
            big_delta = delta + c["r:e"] / (ne * nr)
        else:
            tau = c["p"]
            delta = c["pe"] / ne + c["pr:e"] / (ne * nr)
            big_delta = delta + c["e"] / ne + c["r:e"] / (ne * nr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return tau / (tau + delta), tau / (tau + big_delta)


def _sizes(values, default) -> list[int]:
    if values is None:
        values = [default]
    vals = [int(v) for v in np.atleast_1d(values)]
    if any(v < 1 for v in vals):
        raise ValueError(f"D-study sizes must be positive integers, got {vals}")
    return vals


def _design_label(design: str, fixed_evaluators: bool) -> str:
    return design + (", evaluators fixed" if fixed_evaluators else "")


def d_study(g: GStudy, n_evaluators=None, n_runs=None, *, design: str | None = None,
            fixed_evaluators: bool = False) -> pl.DataFrame:
    """Generalizability (E rho^2) and dependability (Phi) coefficients of D studies.

    Parameters
    ----------
    g : GStudy
    n_evaluators, n_runs : int or sequence of int, optional
        D-study sizes; every combination is computed. Default: the G study's sizes.
        For ``"p x i"`` give the size of the single facet in the argument named by
        ``g.facet`` (``n_evaluators`` by default); the other column is null.
    design : str, optional
        D-study design; default the G study's. A crossed ``"p x e x r"`` G study may
        give a nested ``"p x (r:e)"`` D study.
    fixed_evaluators : bool
        Evaluators fixed (generalize over runs only); two-facet designs.

    Returns
    -------
    polars.DataFrame
        ``design, n_evaluators, n_runs, g_coefficient, phi``.
    """
    target, comp = _d_components(g, design)
    if target == "p x i":
        mine, other = ("n_evaluators", "n_runs") if g.facet == "evaluators" else ("n_runs", "n_evaluators")
        given = {"n_evaluators": n_evaluators, "n_runs": n_runs}
        if given[other] is not None:
            raise ValueError(f"the single facet of this p x i study is {g.facet!r}: give {mine}, not {other}")
        sizes = _sizes(given[mine], g.sizes["i"])
        rho, phi = g_coefficients(comp, target, np.array(sizes), fixed_evaluators=fixed_evaluators)
        cols = {mine: sizes, other: [None] * len(sizes)}
    else:
        grid = list(itertools.product(_sizes(n_evaluators, g.sizes["e"]), _sizes(n_runs, g.sizes["r"])))
        ne = np.array([a for a, _ in grid])
        nr = np.array([b for _, b in grid])
        rho, phi = g_coefficients(comp, target, ne, nr, fixed_evaluators=fixed_evaluators)
        cols = {"n_evaluators": ne.tolist(), "n_runs": nr.tolist()}
    n_rows = len(np.atleast_1d(rho))
    return pl.DataFrame({
        "design": [_design_label(target, fixed_evaluators)] * n_rows,
        "n_evaluators": cols["n_evaluators"], "n_runs": cols["n_runs"],
        "g_coefficient": np.atleast_1d(rho).tolist(), "phi": np.atleast_1d(phi).tolist(),
    }, schema=D_STUDY_SCHEMA)


def smallest_n(g: GStudy, target: float, *, vary: str = "runs", coefficient: str = "phi", n_evaluators=None,
               n_runs=None, design: str | None = None, fixed_evaluators: bool = False,
               max_n: int = 10_000) -> int | None:
    """Smallest number of runs (or evaluators) whose coefficient reaches ``target``.

    Parameters
    ----------
    g : GStudy
    target : float
        E.g. 0.8.
    vary : {"runs", "evaluators"}
        The facet to increase; the other stays at ``n_evaluators`` / ``n_runs``
        (default: the G study's size). For ``"p x i"`` it must be ``g.facet``.
    coefficient : {"phi", "g_coefficient"}
        ``Phi`` (absolute decisions) or ``E rho^2`` (relative).
    max_n : int
        Largest size tried.

    Returns
    -------
    int or None
        ``None`` when no size up to ``max_n`` reaches the target. More runs cannot
        remove the error of the evaluator facet: with random evaluators, as
        ``n'_r -> inf``, ``Phi -> p / (p + (e + pe) / n'_e)``, which may stay below
        the target whatever the number of runs.
    """
    if vary not in FACETS:
        raise ValueError(f"vary must be one of {FACETS}, not {vary!r}")
    if coefficient not in ("phi", "g_coefficient"):
        raise ValueError(f"coefficient must be 'phi' or 'g_coefficient', not {coefficient!r}")
    target_design, comp = _d_components(g, design)
    trial = np.arange(1, int(max_n) + 1)
    if target_design == "p x i":
        if vary != g.facet:
            raise ValueError(f"the single facet of this p x i study is {g.facet!r}")
        rho, phi = g_coefficients(comp, target_design, trial, fixed_evaluators=fixed_evaluators)
    elif vary == "runs":
        ne = _sizes(n_evaluators, g.sizes["e"])[0]
        rho, phi = g_coefficients(comp, target_design, ne, trial, fixed_evaluators=fixed_evaluators)
    else:
        nr = _sizes(n_runs, g.sizes["r"])[0]
        rho, phi = g_coefficients(comp, target_design, trial, nr, fixed_evaluators=fixed_evaluators)
    values = phi if coefficient == "phi" else rho
    hit = np.flatnonzero(np.broadcast_to(values, trial.shape) >= target)
    return int(trial[hit[0]]) if hit.size else None


# ---------------------------------------------------------------------------------------
# Intervals that carry the sampling of every facet (Satterthwaite; generalized CIs)
# ---------------------------------------------------------------------------------------

def _ems_coefficients(design: str, sizes: dict[str, int]) -> dict[str, dict[str, float]]:
    """Each raw ANOVA component as a linear combination of mean squares (the module
    docstring's EMS solutions): component -> {effect: coefficient}."""
    n_p = sizes["p"]
    if design == "p x i":
        n_i = sizes["i"]
        return {"p": {"p": 1 / n_i, "pi": -1 / n_i}, "i": {"i": 1 / n_p, "pi": -1 / n_p}, "pi": {"pi": 1.0}}
    n_e, n_r = sizes["e"], sizes["r"]
    if design == "p x e x r":
        a, b, c = 1 / (n_e * n_r), 1 / (n_p * n_r), 1 / (n_p * n_e)
        return {"p": {"p": a, "pe": -a, "pr": -a, "per": a}, "e": {"e": b, "pe": -b, "er": -b, "per": b},
                "r": {"r": c, "pr": -c, "er": -c, "per": c}, "pe": {"pe": 1 / n_r, "per": -1 / n_r},
                "pr": {"pr": 1 / n_e, "per": -1 / n_e}, "er": {"er": 1 / n_p, "per": -1 / n_p}, "per": {"per": 1.0}}
    a, b = 1 / (n_e * n_r), 1 / (n_p * n_r)
    return {"p": {"p": a, "pe": -a}, "e": {"e": b, "pe": -b, "r:e": -b, "pr:e": b},
            "r:e": {"r:e": 1 / n_p, "pr:e": -1 / n_p}, "pe": {"pe": 1 / n_r, "pr:e": -1 / n_r}, "pr:e": {"pr:e": 1.0}}


def _need_anova(g: GStudy) -> None:
    if g.method != "anova" or not g.mean_squares:
        raise ValueError("these intervals need the ANOVA mean squares: use g_study(..., method='anova')")


def _gci_components(g: GStudy, n_draws: int, seed) -> dict[str, np.ndarray]:
    """Generalized pivotal quantities of the raw components: ``n_draws`` draws each."""
    rng = np.random.default_rng(seed)
    pivots = {j: g.df[j] * g.mean_squares[j] / rng.chisquare(g.df[j], n_draws) for j in g.mean_squares}
    return {k: sum(a * pivots[j] for j, a in c.items()) for k, c in _ems_coefficients(g.design, g.sizes).items()}


def component_intervals(g: GStudy, *, method: str = "gci", confidence: float = 0.95, n_draws: int = 20_000,
                        seed: int = 0) -> pl.DataFrame:
    """Intervals of the ANOVA variance components that carry the sampling of every facet.

    Each raw component is a linear combination ``s^2 = sum_j a_j MS_j`` of independent
    mean squares, ``MS_j ~ E[MS_j] chi^2(df_j) / df_j`` under the normal random-effects
    model (Brennan 2001, ch. 6):

    * ``method="gci"``: generalized confidence interval (Weerahandi 1993; Burdick, Borror
      & Montgomery 2005, ch. 3): ``E[MS_j]`` replaced by its pivot ``df_j MS_j / W_j``,
      ``W_j ~ chi^2(df_j)``; the quantiles of ``max(sum_j a_j R_j, 0)`` over ``n_draws``.
    * ``method="satterthwaite"``: ``s^2`` as a scaled chi-square with Satterthwaite's
      (1946) ``nu = s^4 / sum_j (a_j MS_j)^2 / df_j`` degrees of freedom,
      ``[nu s^2 / chi^2_{1-a/2}(nu), nu s^2 / chi^2_{a/2}(nu)]`` (Brennan 2001,
      sec. 6.2); undefined when ``s^2 <= 0``, and too narrow when negative
      coefficients weigh (84 % coverage for ``sigma^2(e)`` with 3 evaluators in
      ``tests/test_gtheory.py``'s simulation, against 95 % for the GCI).

    The evaluator component rests on ``n_e - 1`` degrees of freedom at most: with 3
    judges its interval spans orders of magnitude, which the bootstrap over items
    (:func:`g_study_bootstrap`, conditional on these judges) cannot show.

    Returns
    -------
    polars.DataFrame
        ``component, variance_raw, df, ci_low, ci_high, confidence, method, ci_note``;
        ``df`` is Satterthwaite's ``nu`` (both methods: how many degrees of freedom the
        estimate effectively rests on; NaN when the estimate is not positive).
    """
    from scipy import stats

    _need_anova(g)
    level = check_confidence(confidence)
    if method not in ("gci", "satterthwaite"):
        raise ValueError(f"method must be 'gci' or 'satterthwaite', not {method!r}")
    coef = _ems_coefficients(g.design, g.sizes)
    draws = _gci_components(g, n_draws, seed) if method == "gci" else {}
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = []
    for name in COMPONENTS[g.design]:
        terms = [(a * g.mean_squares[j], g.df[j]) for j, a in coef[name].items()]
        s2 = sum(t for t, _ in terms)
        nu = s2**2 / sum(t**2 / d for t, d in terms) if s2 > 0 else math.nan
        note = "" if not nu < 5 else f"{nu:.1f} df: the facet has few levels"
        if method == "gci":
            low, high = np.quantile(np.maximum(draws[name], 0.0), q)
        elif s2 > 0:
            with np.errstate(divide="ignore"):
                low, high = nu * s2 / stats.chi2.ppf(q[1], nu), nu * s2 / stats.chi2.ppf(q[0], nu)
        else:
            low, high, note = math.nan, math.nan, "estimate not positive: interval undefined"
        rows.append(dict(component=name, variance_raw=s2, df=nu, ci_low=float(low), ci_high=float(high),
                         confidence=level, method=method, ci_note=note))
    return pl.DataFrame(rows, schema={"component": pl.String, "variance_raw": pl.Float64, "df": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64, "confidence": pl.Float64,
                                      "method": pl.String, "ci_note": pl.String})


def d_study_intervals(g: GStudy, n_evaluators=None, n_runs=None, *, design: str | None = None,
                      fixed_evaluators: bool = False, confidence: float = 0.95, n_draws: int = 20_000,
                      seed: int = 0) -> pl.DataFrame:
    """Generalized confidence intervals of E rho^2 and Phi: items, evaluators and runs sampled.

    Every expected mean square has the generalized pivotal quantity
    ``R_j = df_j MS_j / W_j``, ``W_j ~ chi^2(df_j)`` independent (Weerahandi 1993; for
    variance components and their ratios Burdick, Borror & Montgomery 2005, ch. 3-4);
    the components solved from ``R`` (zeroed at 0, as the estimate) give draws of the
    coefficient, and its ``(1 - c)/2`` and ``(1 + c)/2`` quantiles are the interval.
    Unlike :func:`g_study_bootstrap` (items resampled, read conditional on these
    evaluators and runs), the interval carries the evaluator facet's own sampling:
    ``sigma^2(e)`` rests on ``n_e - 1`` degrees of freedom, so with 3 judges "Phi with
    n' judges drawn at random like these" is known only roughly. Assumes the normal
    random-effects model of the G study (scores on a 1-5 scale are not normal: read it
    as approximate).

    Parameters
    ----------
    g : GStudy
        An ANOVA G study (mean squares needed).
    n_evaluators, n_runs, design, fixed_evaluators
        As :func:`d_study`.
    confidence, n_draws, seed
        Level, Monte Carlo draws, and their seed (the same seed gives the same interval).

    Returns
    -------
    polars.DataFrame
        :func:`d_study`'s columns and ``g_ci_low, g_ci_high, phi_ci_low, phi_ci_high``.
    """
    _need_anova(g)
    level = check_confidence(confidence)
    if n_draws < 1000:
        raise ValueError(f"n_draws must be at least 1000, got {n_draws}")
    point = d_study(g, n_evaluators, n_runs, design=design, fixed_evaluators=fixed_evaluators)
    comp = {k: np.maximum(v, 0.0)[:, None] for k, v in _gci_components(g, n_draws, seed).items()}
    target = g.design if design is None else _design(design)
    d_comp = _collapse(comp, g.design, target)
    if target == "p x i":   # the single facet's sizes are in the column named by g.facet
        ne = point["n_evaluators" if g.facet == "evaluators" else "n_runs"].to_numpy().astype(float)
        nr = np.ones_like(ne)
    else:
        ne, nr = (point[c].to_numpy().astype(float) for c in ("n_evaluators", "n_runs"))
    rho, phi = g_coefficients(d_comp, target, ne, nr, fixed_evaluators=fixed_evaluators)
    q = [(1 - level) / 2, (1 + level) / 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # 0/0 draws (every component 0) are NaN
        g_q, phi_q = np.nanquantile(rho, q, axis=0), np.nanquantile(phi, q, axis=0)
    return point.with_columns(pl.Series("g_ci_low", g_q[0]), pl.Series("g_ci_high", g_q[1]),
                              pl.Series("phi_ci_low", phi_q[0]), pl.Series("phi_ci_high", phi_q[1]))


# ---------------------------------------------------------------------------------------
# Bootstrap over items
# ---------------------------------------------------------------------------------------

def g_study_bootstrap(scores, design: str = "p x (r:e)", *, n_evaluators=None, n_runs=None,
                      d_design: str | None = None, fixed_evaluators: bool = False, n_boot: int | None = None,
                      method: str = "bca", confidence: float = 0.95, seed: int | None = None,
                      plan: ResamplePlan | None = None) -> pl.DataFrame:
    """Bootstrap (over items) CIs of the variance components and of E rho^2 and Phi.

    Items are resampled with :func:`analysis.stats.bootstrap.bootstrap` (``sums=True``:
    each resample's ANOVA is computed from summed per-item statistics, one matrix
    product for all resamples). Components are zeroed at 0 in every resample, as the
    estimate is. See the module docstring for what boot-p does and does not cover.

    Parameters
    ----------
    scores : array_like
        Complete, balanced scores (as :func:`g_study` with ``method="anova"``).
    design, d_design, fixed_evaluators
        G-study design, D-study design (default the same) and evaluators fixed.
    n_evaluators, n_runs : int or sequence of int, optional
        D-study sizes (default the G study's; every combination). For ``"p x i"`` give
        ``n_evaluators``.
    n_boot, method, confidence, seed, plan
        As :func:`analysis.stats.bootstrap.bootstrap` (a plan over the items shares its
        resamples with other statistics).

    Returns
    -------
    polars.DataFrame
        ``quantity, n_evaluators, n_runs, estimate, ci_low, ci_high, se, n_boot_valid,
        ci_note``; ``quantity`` is ``var(<component>)``, ``g_coefficient`` or ``phi``.
    """
    design = _design(design)
    x = _check_scores(scores, design, allow_nan=False)
    names = COMPONENTS[design]
    target = design if d_design is None else _design(d_design)
    shape = x.shape[1:]
    if design == "p x i":
        grid = [(n, None) for n in _sizes(n_evaluators, shape[0])]
    else:
        grid = list(itertools.product(_sizes(n_evaluators, shape[0]), _sizes(n_runs, shape[1])))
    ne = np.array([a for a, _ in grid], dtype=float)
    nr = np.array([1 if b is None else b for _, b in grid], dtype=float)

    def statistic(s):
        raw = _anova_from_sums(s, design, shape)["raw"]
        comp = {k: np.maximum(v, 0.0) for k, v in raw.items()}
        d_comp = _collapse(comp, design, target)
        rho, phi = g_coefficients({k: v[..., None] for k, v in d_comp.items()}, target, ne, nr,
                                  fixed_evaluators=fixed_evaluators)
        return np.concatenate([np.stack([comp[k] for k in names], axis=-1), rho, phi], axis=-1)

    res = bootstrap(_per_item(x, design), statistic, sums=True, n_boot=n_boot, method=method,
                    confidence=confidence, seed=seed, plan=plan)
    n_c, n_g = len(names), len(grid)
    quantity = [f"var({k})" for k in names] + ["g_coefficient"] * n_g + ["phi"] * n_g
    sizes_e = [None] * n_c + [int(a) for a, _ in grid] * 2
    sizes_r = [None] * n_c + [b for _, b in grid] * 2
    note = np.broadcast_to(np.asarray(res.ci_note, dtype=object), res.estimate.shape)
    return pl.DataFrame({
        "quantity": quantity, "n_evaluators": sizes_e, "n_runs": sizes_r,
        "estimate": res.estimate.tolist(), "ci_low": res.ci_low.tolist(), "ci_high": res.ci_high.tolist(),
        "se": res.se.tolist(), "n_boot_valid": np.asarray(res.n_valid).tolist(), "ci_note": [str(v) for v in note],
    }, schema={"quantity": pl.String, "n_evaluators": pl.Int64, "n_runs": pl.Int64, "estimate": pl.Float64,
               "ci_low": pl.Float64, "ci_high": pl.Float64, "se": pl.Float64, "n_boot_valid": pl.Int64,
               "ci_note": pl.String})
