"""Pass/fail verdicts of a judge: its error rates against humans, and a prevalence corrected for them.

When to use
-----------
A judge that flags responses ("unsafe", "harmful", "fails the rubric") is a diagnostic
test. Against human verdicts on a calibration set it has a sensitivity (share of the
humans' positives it flags) and a specificity (share of the humans' negatives it clears):
:func:`diagnostic_accuracy` gives both with PPV, NPV and Wilson intervals. The share of
responses the judge flags on a larger unlabelled test set, ``p``, is a biased estimate of
the true share ``theta``: ``E[p] = theta * Se + (1 - theta) * (1 - Sp)``. The
Rogan-Gladen estimator (Rogan & Gladen 1978) inverts this:

    theta_hat = (p + Sp - 1) / (Se + Sp - 1)

and :func:`corrected_prevalence` gives it with an interval that carries the uncertainty of
the test set *and* of the calibration set (the plug-in delta method: Greenland 1996,
Lee et al. 2025, arXiv 2511.21140):

    Var(theta_hat) = [p(1-p)/n + theta^2 Se(1-Se)/m1 + (1-theta)^2 Sp(1-Sp)/m0] / (Se + Sp - 1)^2

with ``n`` test responses, ``m1`` human positives and ``m0`` human negatives in the
calibration set. The interval is clipped to [0, 1] (``ci_note`` says so when it is).

Which to use: the corrected prevalence assumes the judge's Se and Sp are the same on the
test set as on the calibration set (transportability), and that the calibration items
are a random sample *within* each human class; it needs ``Se + Sp > 1`` (a judge better
than chance) and is unstable near 1. Prediction-powered inference
(:func:`analysis.stats.ppi.ppi_mean` on 0/1 verdicts) estimates the same quantity from a
random human-labelled subset of the *same* population, without assuming anything about
the judge; use it when the labelled items are a random sample of the test population,
and the Rogan-Gladen correction when the calibration set was drawn elsewhere or by class.

References
----------
Rogan, W. J. & Gladen, B. (1978). Estimating prevalence from the results of a screening
test. American Journal of Epidemiology 107(1), 71-76.
Greenland, S. (1996). Basic methods for sensitivity analysis of biases. International
Journal of Epidemiology 25(6), 1107-1116.
Lee, C., Zeng, T., Jeong, J., Sohn, J. & Lee, K. (2025). How to correctly report
LLM-as-a-judge evaluations. arXiv 2511.21140.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.stats.proportions import wilson_ci
from analysis.stats.result import Result, check_confidence

__all__ = ["DiagnosticAccuracy", "PrevalenceResult", "corrected_prevalence", "diagnostic_accuracy",
           "rogan_gladen"]


def _binary(x, what: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {a.shape}")
    if a.dtype == bool:
        return a
    if a.dtype.kind in "iuf":
        if not np.isin(a, (0, 1)).all():
            raise ValueError(f"{what} must be 0/1 or booleans; found {sorted(set(np.unique(a).tolist()) - {0, 1})[:3]}")
        return a.astype(bool)
    raise ValueError(f"{what} must be 0/1 or booleans, got dtype {a.dtype}")


@dataclass(frozen=True)
class DiagnosticAccuracy:
    """The judge's verdicts against the humans': each rate a :class:`Result` (Wilson CI).

    ``sensitivity`` = flagged among human positives (n = m1), ``specificity`` = cleared
    among human negatives (n = m0), ``ppv`` = human positives among the flagged, ``npv`` =
    human negatives among the cleared; ``tp, fp, fn, tn`` the counts.
    """

    sensitivity: Result
    specificity: Result
    ppv: Result
    npv: Result
    tp: int
    fp: int
    fn: int
    tn: int

    def to_frame(self):
        import polars as pl

        return pl.concat([getattr(self, k).to_frame().insert_column(0, pl.Series("measure", [k]))
                          for k in ("sensitivity", "specificity", "ppv", "npv")])


def _rate(k: int, n: int, confidence: float) -> Result:
    low, high = wilson_ci(k, n, confidence)
    return Result(estimate=k / n if n else math.nan, ci_low=low, ci_high=high, n=n, confidence=confidence,
                  ci_note="" if n else "no unit to estimate from")


def diagnostic_accuracy(judge, human, *, confidence: float = 0.95) -> DiagnosticAccuracy:
    """Sensitivity, specificity, PPV and NPV of ``judge``'s verdicts against ``human``'s.

    Parameters
    ----------
    judge, human : array-like of bool or 0/1, same length
        1 = positive (flagged: unsafe, harmful, fails), per item.
    confidence : float
        Level of the Wilson intervals.

    Examples
    --------
    >>> d = diagnostic_accuracy([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1])
    >>> d.tp, d.fp, d.fn, d.tn, round(d.sensitivity.estimate, 3), round(d.specificity.estimate, 3)
    (2, 1, 1, 2, 0.667, 0.667)
    """
    confidence = check_confidence(confidence)
    j, h = _binary(judge, "judge"), _binary(human, "human")
    if j.size != h.size:
        raise ValueError(f"judge and human verdicts differ in length: {j.size} and {h.size}")
    tp, fp = int((j & h).sum()), int((j & ~h).sum())
    fn, tn = int((~j & h).sum()), int((~j & ~h).sum())
    return DiagnosticAccuracy(sensitivity=_rate(tp, tp + fn, confidence), specificity=_rate(tn, tn + fp, confidence),
                              ppv=_rate(tp, tp + fp, confidence), npv=_rate(tn, tn + fn, confidence),
                              tp=tp, fp=fp, fn=fn, tn=tn)


def rogan_gladen(p: float, sensitivity: float, specificity: float) -> float:
    """The Rogan-Gladen prevalence ``(p + Sp - 1) / (Se + Sp - 1)``, unclipped; NaN when
    ``Se + Sp <= 1`` (a judge no better than chance carries no information)."""
    denom = sensitivity + specificity - 1.0
    return (p + specificity - 1.0) / denom if denom > 0 else math.nan


@dataclass(frozen=True)
class PrevalenceResult(Result):
    """The corrected prevalence (``estimate``, clipped to [0, 1]) and its interval.

    ``naive``: the judge's flag rate ``p`` on the test set; ``sensitivity``,
    ``specificity``: from the calibration set; ``se``: delta-method standard error;
    ``n``: test items; ``m1``, ``m0``: calibration positives and negatives.
    """

    naive: float = math.nan
    sensitivity: float = math.nan
    specificity: float = math.nan
    se: float = math.nan
    m1: int = 0
    m0: int = 0


def corrected_prevalence(test_flags, calibration_judge, calibration_human, *,
                         confidence: float = 0.95) -> PrevalenceResult:
    """The share of positives in a test set, corrected for the judge's errors measured on
    a human-labelled calibration set (Rogan-Gladen estimate, delta-method interval that
    carries both sets' uncertainty; see the module docstring for when it applies).

    Parameters
    ----------
    test_flags : array-like of bool or 0/1
        The judge's verdicts on the test set (no human labels needed).
    calibration_judge, calibration_human : array-like of bool or 0/1
        The judge's and the humans' verdicts on the calibration set.
    confidence : float
        Level of the interval.

    Returns
    -------
    PrevalenceResult
        ``pvalue`` is NaN (no test). ``ci_note`` says when the estimate or the interval
        was clipped to [0, 1], or why the estimate is undefined.

    Examples
    --------
    >>> r = corrected_prevalence([1] * 40 + [0] * 60, [1] * 45 + [0] * 5 + [1] * 10 + [0] * 40, [1] * 50 + [0] * 50)
    >>> round(r.naive, 3), round(r.estimate, 4), r.n, r.m1, r.m0
    (0.4, 0.2857, 100, 50, 50)
    """
    confidence = check_confidence(confidence)
    t = _binary(test_flags, "test_flags")
    cj, ch = _binary(calibration_judge, "calibration_judge"), _binary(calibration_human, "calibration_human")
    if cj.size != ch.size:
        raise ValueError(f"calibration verdicts differ in length: {cj.size} and {ch.size}")
    n, m1, m0 = int(t.size), int(ch.sum()), int((~ch).sum())
    p = float(t.mean()) if n else math.nan
    se_ = float((cj & ch).sum() / m1) if m1 else math.nan
    sp_ = float((~cj & ~ch).sum() / m0) if m0 else math.nan
    base = dict(naive=p, sensitivity=se_, specificity=sp_, n=n, m1=m1, m0=m0, confidence=confidence)
    if not (n and m1 and m0):
        return PrevalenceResult(estimate=math.nan, ci_note="needs test items and calibration items of both classes",
                                **base)
    if se_ + sp_ <= 1:
        return PrevalenceResult(estimate=math.nan, ci_note=f"Se + Sp = {se_ + sp_:.3f} <= 1: the judge is no "
                                                           f"better than chance; no correction is possible", **base)
    theta = rogan_gladen(p, se_, sp_)
    clipped = min(max(theta, 0.0), 1.0)
    var = (p * (1 - p) / n + clipped ** 2 * se_ * (1 - se_) / m1
           + (1 - clipped) ** 2 * sp_ * (1 - sp_) / m0) / (se_ + sp_ - 1) ** 2
    se = math.sqrt(var)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    low, high = theta - z * se, theta + z * se
    notes = []
    if theta != clipped:
        notes.append(f"estimate {theta:.3f} outside [0, 1], clipped")
    if low < 0 or high > 1:
        notes.append("interval clipped to [0, 1]")
    if se == 0:
        notes.append("p, Se and Sp at 0 or 1: the delta-method interval is degenerate (no uncertainty is "
                     "estimable); label more calibration items")
    return PrevalenceResult(estimate=clipped, ci_low=max(low, 0.0), ci_high=min(high, 1.0), se=se,
                            ci_note="; ".join(notes), **base)
