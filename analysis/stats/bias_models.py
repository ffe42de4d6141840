"""Models of judge bias: why does a judge disagree with the humans?

A mean bias (judge - human, :mod:`analysis.stats.bias`) says *how much*; these models say
*where*: on long or short answers, on some answer models, some categories, the judge's
own model's answers, and, when the scores pile up at the top of the scale, how far the
judge's whole score distribution is shifted.

Linear mixed model (:func:`mixed_bias`)
---------------------------------------
``y = X beta + b_g + c_(g,j) + e`` (Laird & Ware 1982): ``y`` the outcome (a judge's
score, or judge - reference), ``X`` the fixed covariates, ``b_g ~ N(0, s_g^2)`` a random
intercept per cluster ``g`` (the conversation), ``c_(g,j) ~ N(0, s_n^2)`` an optional
random intercept per item ``j`` *nested* in its cluster (the answer, rated in several
runs), ``e ~ N(0, s_e^2)``. Fitted by REML with statsmodels ``MixedLM`` (conversation
``groups``, the item a variance component, ``vc_formula``, as statsmodels documents for
nested random effects). Intervals and p-values are Wald (normal), as statsmodels and
``lme4``'s ``confint(method = "Wald")`` give them.

Every coefficient is in the outcome's units (points of the scale): a numeric covariate's
per unit of it (``log2_length``: per doubling of the answer's length), a category's
against the reference level (``answer_model[deepseek-chat]``: points above the reference
answer model), an interaction ``judge[x]:own_source`` the extra points judge ``x`` gives
answers of its own model beyond what the other judges give them (self-preference, as in
Panickssery et al. 2024, estimated as a judge x own-source interaction: the answer
model's main effect carries the real quality difference that every judge sees).

Proportional odds (:func:`ordinal_shift`)
-----------------------------------------
``logit P(Y <= k) = theta_k - x' beta`` (McCullagh 1980), one row per rating, the rater a
factor against a reference rater: ``beta_r > 0`` means rater ``r`` puts the same answers
higher on the scale (more lenient). Fitted by statsmodels ``OrderedModel`` (the same
sign convention as R ``ordinal::clm``), standard errors clustered by conversation (the
ratings of one conversation are not independent). The log-odds are turned into points
"at the median": the expected score of an answer at the reference rater's latent median
(linear predictor 0) under rater ``r`` minus under the reference, with a delta-method
interval over ``beta_r`` and the thresholds. A mean bias cannot show a shift when
scores pile up at 4-5 (the ceiling truncates it); the latent shift is not truncated.

Stability (:func:`flip_rate`)
-----------------------------
How often a judge's score of the same answer changes between its runs: the share of
answers with two or more runs whose runs are not all equal, with a cluster-bootstrap
percentile interval over conversations, and the share of pairs of runs that differ.

Output
------
Tables have the columns ``term, estimate, ci_low, ci_high, pvalue, n, confidence,
ci_note, se`` (the result convention of :mod:`analysis.stats.result`, one row per term).

References
----------
McCullagh, P. (1980). Regression models for ordinal data. JRSS B 42(2), 109-142.
Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data.
Biometrics 38(4), 963-974.
Dubois, Y., Galambosi, B., Liang, P., & Hashimoto, T. B. (2024). Length-controlled
AlpacaEval: a simple way to debias automatic evaluators. arXiv:2404.04475 (the
length term of a judge's score).
Panickssery, A., Bowman, S. R., & Feng, S. (2024). LLM evaluators recognize and favor
their own generations. NeurIPS 2024.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats as sps

from analysis.stats.bootstrap import bootstrap
from analysis.stats.result import Result, check_confidence

__all__ = ["COEF_SCHEMA", "mixed_bias", "ordinal_shift", "flip_rate", "FlipRate", "MIN_CLUSTERS"]

COEF_SCHEMA = {"term": pl.String, "estimate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
               "pvalue": pl.Float64, "n": pl.Int64, "confidence": pl.Float64, "ci_note": pl.String,
               "se": pl.Float64}
"""Columns of every coefficient table of this module."""

ORDINAL_SCHEMA = {**COEF_SCHEMA, "points_at_median": pl.Float64, "points_ci_low": pl.Float64,
                  "points_ci_high": pl.Float64}

_OPTIMISERS = ("lbfgs", "bfgs", "powell", "nm")

MIN_CLUSTERS = 20
"""Below this many clusters Wald intervals of a mixed model or clustered SEs are flagged."""


def _to_pandas(frame):
    if isinstance(frame, pl.DataFrame):
        return frame.to_pandas()
    return frame.copy()


def _is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _design(df, terms: Sequence[str], reference: Mapping[str, str]) -> tuple[np.ndarray, list[str]]:
    """Intercept + the terms' columns: numeric columns as they are, other columns as
    treatment dummies against ``reference[col]`` (default: the first level in sorted
    order); ``a:b`` the products of the two terms' columns, where a string column is
    expanded to *every* level (``judge:own_source``: one own-source slope per judge).
    Levels absent from the data give no column; a column that is a linear combination
    of the ones before it is refused."""
    def columns(name: str, full: bool) -> list[tuple[str, np.ndarray]]:
        if name not in df.columns:
            raise ValueError(f"term {name!r}: no column {name!r} (columns: {', '.join(map(str, df.columns))})")
        s = df[name]
        if _is_numeric(s):
            return [(name, s.to_numpy(dtype=float))]
        values = s.astype(str).to_numpy()
        levels = sorted(set(values))
        ref = reference.get(name, levels[0])
        if ref not in levels:
            raise ValueError(f"term {name!r}: reference level {ref!r} is not among its levels {levels}")
        return [(f"{name}[{lv}]", (values == lv).astype(float)) for lv in levels if full or lv != ref]

    cols = [("Intercept", np.ones(len(df)))]
    for term in terms:
        names = [p.strip() for p in term.split(":")]
        parts = [columns(p, full=len(names) > 1) for p in names]
        combos = parts[0]
        for nxt in parts[1:]:
            combos = [(f"{a}:{b}", x * y) for a, x in combos for b, y in nxt]
        cols += combos
    names = [c[0] for c in cols]
    X = np.column_stack([c[1] for c in cols])
    keep, rank = [], 0
    for j in range(X.shape[1]):
        if not X[:, j].any() and names[j] != "Intercept":
            continue  # a level or interaction absent from the data: no column
        r = np.linalg.matrix_rank(X[:, keep + [j]])
        if r == rank:
            raise ValueError(f"term {names[j]!r} is aliased with the terms before it (a linear combination of "
                             f"{', '.join(names[k] for k in keep)}): drop it or one of those")
        keep.append(j)
        rank = r
    return X[:, keep], [names[j] for j in keep]


def _singleton_fit(y, X, names, *, groups: str, confidence: float, dropped: int) -> pl.DataFrame:
    """One observation per cluster: the cluster's intercept cannot be told from the
    residual, and the model is ``y ~ N(X beta, (s_g^2 + s_e^2) I)``, ordinary least squares
    (statsmodels' MixedLM returns a far too small standard error for the intercept
    there). The rows use the OLS covariance ``s^2 (X'X)^-1`` and Student's t with
    ``n - k`` degrees of freedom (exact for this model with normal errors)."""
    n, k = X.shape
    if n <= k:
        raise ValueError(f"mixed_bias: {n} observations for {k} coefficients")
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = float(resid @ resid / (n - k))
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    notes = [f"one observation per {groups}: its random intercept is not identified; fitted by OLS (the same "
             f"model; t intervals)"]
    if dropped:
        notes.append(f"{dropped} rows with a missing value left out")
    if n < MIN_CLUSTERS:
        notes.append(f"too few clusters ({n} < {MIN_CLUSTERS})")
    rows = _wald_rows(names, beta, se, n=n, confidence=confidence, note="; ".join(notes), df=n - k)
    for t, v in ((f"sd({groups})", math.nan), ("sd(residual)", math.sqrt(s2))):
        rows.append(dict(term=t, estimate=v, ci_low=math.nan, ci_high=math.nan, pvalue=math.nan, n=n,
                         confidence=confidence, ci_note="random effect: standard deviation, no interval"
                         + ("" if t == "sd(residual)" else "; not identified (cluster + residual in sd(residual))"),
                         se=math.nan))
    return pl.DataFrame(rows, schema=COEF_SCHEMA)


def _nested_vc(groups: np.ndarray, nested):
    """The variance-component spec of an item nested in its cluster: per cluster, the
    0/1 matrix of its rows' items (what ``vc_formula={"item": "0 + C(item)"}`` builds,
    without a formula evaluated per cluster)."""
    from statsmodels.regression.mixed_linear_model import VCSpec

    items = np.asarray(nested).astype(str)
    labels = sorted(set(groups))  # MixedLM's order of the groups
    names, mats = [], []
    for lab in labels:
        rows = np.flatnonzero(groups == lab)
        levels, codes = np.unique(items[rows], return_inverse=True)
        m = np.zeros((len(rows), len(levels)))
        m[np.arange(len(rows)), codes] = 1.0
        names.append([str(v) for v in levels])
        mats.append(m)
    return VCSpec(["nested"], [names], [mats])


def _wald_rows(names, est, se, *, n: int, confidence: float, note: str, df: int | None = None) -> list[dict]:
    """Wald rows: normal quantiles and p-values, or Student's t with ``df`` degrees of freedom."""
    dist = sps.norm if df is None else sps.t(df)
    z = dist.ppf(0.5 + confidence / 2)
    rows = []
    for t, b, s in zip(names, est, se):
        p = float(2 * dist.sf(abs(b / s))) if s > 0 and np.isfinite(s) else math.nan
        rows.append(dict(term=t, estimate=float(b), ci_low=float(b - z * s), ci_high=float(b + z * s), pvalue=p,
                         n=int(n), confidence=confidence, ci_note=note, se=float(s)))
    return rows


def mixed_bias(frame, outcome: str, terms: Sequence[str], *, groups: str, nested: str | None = None,
               reference: Mapping[str, str] | None = None, confidence: float = 0.95,
               reml: bool = True) -> pl.DataFrame:
    """Fixed effects of a linear mixed model with random intercepts (Laird & Ware 1982).

    Parameters
    ----------
    frame : polars or pandas DataFrame
        One row per observation.
    outcome : str
        Column of the outcome (points: a judge's score, or judge - reference).
    terms : sequence of str
        Fixed-effect terms after the intercept: a numeric column (its slope), a string
        column (treatment dummies against ``reference``), or ``"a:b"`` (the products of
        the two terms' columns, e.g. ``"judge:own_source"``). A term that is a linear
        combination of the ones before it is refused with one line naming it.
    groups : str
        Column of the cluster (the conversation): a random intercept per cluster.
    nested : str, optional
        Column of an item nested in its cluster (an answer rated in several runs): a
        random intercept per item, fitted as a variance component (the matrices
        ``vc_formula={"item": "0 + C(item)"}`` would give, built directly).
    reference : mapping, optional
        Reference level of a string column; default its first level in sorted order.
    confidence : float
        Level of the Wald intervals.
    reml : bool
        REML (default, as ``lme4::lmer``) or maximum likelihood.

    Returns
    -------
    polars.DataFrame
        :data:`COEF_SCHEMA`: one row per fixed coefficient (``Intercept`` first), in the
        outcome's units, then the random-effect standard deviations (``sd(<groups>)``,
        ``sd(<nested>)``, ``sd(residual)``; no interval). ``n``: the observations used
        (rows with a missing value are left out; ``ci_note`` counts them). ``ci_note``
        also flags fewer than :data:`MIN_CLUSTERS` clusters and a fit that did not
        converge. When every cluster has one observation (and no ``nested`` item), the
        cluster intercept is not identified and the model is fitted by OLS, which is the
        same model (``ci_note`` says so).

    Notes
    -----
    Wald intervals and normal p-values use the REML fit's covariance of the fixed
    effects (statsmodels ``MixedLMResults.bse_fe``); ``lme4`` gives the same estimates
    and standard errors (``tests/r/bias_models.R``).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    confidence = check_confidence(confidence)
    df = _to_pandas(frame)
    used = {outcome, groups, *(p.strip() for t in terms for p in t.split(":"))} | ({nested} if nested else set())
    missing = [c for c in used if c not in df.columns]
    if missing:
        raise ValueError(f"mixed_bias: no column {missing[0]!r} (columns: {', '.join(map(str, df.columns))})")
    before = len(df)
    df = df.dropna(subset=sorted(used)).reset_index(drop=True)
    dropped = before - len(df)
    if len(df) < 3:
        raise ValueError(f"mixed_bias: {len(df)} complete observations; a mixed model needs more")
    X, names = _design(df, terms, dict(reference or {}))
    y = df[outcome].to_numpy(dtype=float)
    g = df[groups].astype(str).to_numpy()
    n_groups = len(set(g))
    if n_groups < 2:
        raise ValueError(f"mixed_bias: one cluster in {groups!r}; a random intercept needs two or more")
    _, sizes = np.unique(g, return_counts=True)
    if not nested and sizes.max() == 1:
        return _singleton_fit(y, X, names, groups=groups, confidence=confidence, dropped=dropped)
    model = MixedLM(y, X, groups=g, exog_re=np.ones((len(y), 1)), exog_vc=_nested_vc(g, df[nested]) if nested
                    else None)
    notes = []
    fit, failed = None, []
    # statsmodels falls back to the next optimiser only when one does not converge, not when
    # it steps onto a singular matrix (lbfgs does, on some data): try them in turn here.
    for method in _OPTIMISERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                trial = model.fit(reml=reml, method=method)
            except (np.linalg.LinAlgError, ValueError) as exc:
                failed.append(f"{method}: {exc}")
                continue
        bad = any(issubclass(w.category, ConvergenceWarning) and "converge" in str(w.message).lower()
                  and "boundary" not in str(w.message).lower() for w in caught)
        if fit is None or (trial.converged and not bad):
            fit = trial
        if trial.converged and not bad:
            break
    if fit is None:
        raise ValueError(f"mixed_bias: no optimiser could fit the model ({'; '.join(failed)})")
    if not fit.converged or bad:
        notes.append("the model did not converge")
    if n_groups < MIN_CLUSTERS:
        notes.append(f"too few clusters ({n_groups} < {MIN_CLUSTERS})")
    if dropped:
        notes.append(f"{dropped} rows with a missing value left out")
    note = "; ".join(notes)
    k = X.shape[1]
    rows = _wald_rows(names, np.asarray(fit.fe_params)[:k], np.asarray(fit.bse_fe)[:k], n=len(df),
                      confidence=confidence, note=note)
    sds = [(f"sd({groups})", float(np.sqrt(max(np.asarray(fit.cov_re)[0, 0], 0.0))))]
    if nested:
        sds.append((f"sd({nested})", float(np.sqrt(max(np.asarray(fit.vcomp)[0], 0.0)))))
    sds.append(("sd(residual)", float(np.sqrt(fit.scale))))
    for t, s in sds:
        rows.append(dict(term=t, estimate=s, ci_low=math.nan, ci_high=math.nan, pvalue=math.nan, n=len(df),
                         confidence=confidence, ci_note="random effect: standard deviation, no interval",
                         se=math.nan))
    return pl.DataFrame(rows, schema=COEF_SCHEMA)


def _expected_score(eta: float, cuts: np.ndarray, values: np.ndarray) -> float:
    """E[Y] under the logit cumulative model at linear predictor ``eta``."""
    above = 1.0 - sps.logistic.cdf(cuts - eta)  # P(Y > value_k), k < K
    return float(values[0] + np.sum(np.diff(values) * above))


def ordinal_shift(scores, raters, *, reference: str, clusters=None, confidence: float = 0.95) -> pl.DataFrame:
    """Each rater's shift against ``reference`` in a proportional-odds model (McCullagh 1980).

    ``logit P(Y <= k) = theta_k - beta_rater``, the reference rater's ``beta`` = 0; fitted
    by statsmodels ``OrderedModel`` (logit link, BFGS).

    Parameters
    ----------
    scores : array_like
        Ordinal scores (whole points; their distinct values are the categories).
    raters : array_like of str
        The rater of each score.
    reference : str
        The rater the others are compared with (a human).
    clusters : array_like, optional
        Cluster of each score (the conversation): cluster-robust (sandwich) standard
        errors. Default: model-based standard errors.
    confidence : float
        Level of the Wald intervals.

    Returns
    -------
    polars.DataFrame
        :data:`ORDINAL_SCHEMA`: one row per other rater, ``term`` ``rater[<name>]``,
        ``estimate`` the log-odds shift (positive: more lenient), Wald CI and p-value,
        ``n`` the scores used, ``se``; ``points_at_median`` (with ``points_ci_low/high``,
        delta method over ``beta`` and the thresholds): the expected score of an answer at
        the reference's latent median under the rater minus under the reference, points.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    confidence = check_confidence(confidence)
    y = np.asarray(scores, dtype=float)
    r = np.asarray(raters).astype(str)
    if y.shape != r.shape or y.ndim != 1:
        raise ValueError("ordinal_shift: scores and raters must be 1-d and of the same length")
    ok = np.isfinite(y)
    c = None
    if clusters is not None:
        c = np.asarray(clusters).astype(str)
        if c.shape != y.shape:
            raise ValueError("ordinal_shift: clusters must have one label per score")
        c = c[ok]
    y, r = y[ok], r[ok]
    if reference not in set(r):
        raise ValueError(f"ordinal_shift: reference rater {reference!r} has no scores")
    if not np.all(y == np.round(y)):
        raise ValueError(f"ordinal_shift: scores must be whole points of an ordinal scale; found "
                         f"{y[y != np.round(y)][0]:g}")
    values = np.unique(y)
    if len(values) < 3:
        raise ValueError(f"ordinal_shift: {len(values)} distinct scores; a cumulative model needs 3 or more")
    others = sorted(set(r) - {reference})
    if not others:
        raise ValueError("ordinal_shift: no rater besides the reference")
    X = np.column_stack([(r == o).astype(float) for o in others])
    codes = np.searchsorted(values, y)
    model = OrderedModel(codes, X, distr="logit")
    kw = {}
    notes = []
    if c is not None:
        _, gcodes = np.unique(c, return_inverse=True)
        kw = dict(cov_type="cluster", cov_kwds={"groups": gcodes})
        n_cl = int(gcodes.max()) + 1
        if n_cl < MIN_CLUSTERS:
            notes.append(f"too few clusters ({n_cl} < {MIN_CLUSTERS})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(method="bfgs", disp=False, maxiter=2000, **kw)
    if not fit.mle_retvals.get("converged", True):
        notes.append("the model did not converge")
    note = "; ".join(notes)
    params = np.asarray(fit.params)
    cov = np.asarray(fit.cov_params())
    k = len(others)
    var = np.diag(cov)[:k]
    if not np.all(var > 0):
        notes.append("the covariance of the estimates is not positive: no interval")
        note = "; ".join(notes)
    se = np.sqrt(np.where(var > 0, var, np.nan))
    rows = _wald_rows([f"rater[{o}]" for o in others], params[:k], se, n=len(y), confidence=confidence, note=note)
    z = sps.norm.ppf(0.5 + confidence / 2)

    def points(p, j):
        cuts = model.transform_threshold_params(p)[1:-1]
        return _expected_score(p[j], cuts, values) - _expected_score(0.0, cuts, values)

    for j, row in enumerate(rows):
        est = points(params, j)
        grad = np.zeros_like(params)
        for m in list(range(k)) + list(range(k, len(params))):
            h = 1e-6 * max(1.0, abs(params[m]))
            up, dn = params.copy(), params.copy()
            up[m] += h
            dn[m] -= h
            grad[m] = (points(up, j) - points(dn, j)) / (2 * h)
        s = float(np.sqrt(grad @ cov @ grad))
        row.update(points_at_median=est, points_ci_low=est - z * s, points_ci_high=est + z * s)
    return pl.DataFrame(rows, schema=ORDINAL_SCHEMA)


@dataclass(frozen=True)
class FlipRate(Result):
    """Share of answers whose score changes between runs (``estimate``), its cluster
    bootstrap interval; ``pairwise``: share of pairs of runs of one answer that differ;
    ``n``: answers with two or more runs; ``n_clusters``."""

    pairwise: float = math.nan
    n_clusters: int = 0


def flip_rate(runs, *, clusters=None, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> FlipRate:
    """How often a judge's score of the same answer changes between its runs.

    Parameters
    ----------
    runs : array_like, shape (n_answers, n_runs)
        A judge's scores, one column per run; NaN = missing run. Answers with fewer than
        two runs are left out.
    clusters : array_like, optional
        Cluster of each answer (the conversation); the bootstrap resamples clusters.
        Default: each answer its own cluster.
    confidence, n_boot, seed
        Percentile bootstrap interval of the share.

    Returns
    -------
    FlipRate
        ``estimate`` = share of answers whose runs are not all equal, ``pairwise`` = share
        of the pairs of runs of one answer that differ (pooled over answers), ``pvalue``
        NaN (no test).
    """
    confidence = check_confidence(confidence)
    x = np.asarray(runs, dtype=float)
    if x.ndim != 2:
        raise ValueError("flip_rate: runs must be a 2-d array (answers x runs)")
    k = np.sum(np.isfinite(x), axis=1)
    keep = k >= 2
    if clusters is None:
        cl = np.arange(len(x)).astype(str)
    else:
        cl = np.asarray(clusters).astype(str)
        if len(cl) != len(x):
            raise ValueError("flip_rate: clusters must have one label per answer")
    x, k, cl = x[keep], k[keep], cl[keep]
    if len(x) == 0:
        return FlipRate(estimate=math.nan, n=0, confidence=confidence, ci_note="no answer with two or more runs")
    hi, lo = np.nanmax(x, axis=1), np.nanmin(x, axis=1)
    flipped = (hi != lo).astype(float)
    pairs = k * (k - 1) / 2
    same = np.zeros(len(x))
    for v in np.unique(x[np.isfinite(x)]):
        m = np.sum(x == v, axis=1)
        same += m * (m - 1) / 2
    differ = pairs - same
    data = np.column_stack([flipped, np.ones(len(x))])
    res = bootstrap(data, lambda s: (s[:, 0] / s[:, 1])[:, None], n_boot=n_boot, method="percentile",
                    confidence=confidence, seed=seed, clusters=cl, sums=True)
    n_cl = len(set(cl))
    note = res.ci_note
    return FlipRate(estimate=float(flipped.mean()), ci_low=float(np.ravel(res.ci_low)[0]),
                    ci_high=float(np.ravel(res.ci_high)[0]), n=int(len(x)), confidence=confidence,
                    ci_note=str(np.ravel(note)[0]), pairwise=float(differ.sum() / pairs.sum()), n_clusters=n_cl)
