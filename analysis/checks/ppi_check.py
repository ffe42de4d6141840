"""``python -m analysis ppi-check``: do judge-assisted (PPI / PPI++) intervals cover the truth?

MentalAlign-70k (a human rated every response) and DialogueSafety (a gold label on every
dialogue) know the answer a judge-assisted study is after: the mean human rating over
*all* items. The check pretends the humans rated only ``n`` items: it draws ``reps``
random subsets of ``n`` items (without replacement), keeps the human ratings of those,
gives the judge's scores of every other item as the unrated set, and records whether
each interval covers the full-data human mean, and how wide it is.

Populations
-----------
* ``mentalalign``: every judge x attribute; ``y`` = the human rating, ``yhat`` = the
  judge's, over the responses both rated on a whole point of 1-5 (the ``clean``
  variant: the 0s and 6s of the human file are left out; every response source,
  including the judge's own family, since PPI needs no such exclusion). About 10,000
  responses per cell.
* ``dialoguesafety``: every system; ``y`` = 1 if the gold label is unsafe (any category
  but "Safe Response"), ``yhat`` = the share of the system's runs that predicted an
  unsafe category (an answer outside the taxonomy counts as no unsafe verdict); the
  truth is the gold unsafe share of the 800 dialogues.

Intervals (:func:`analysis.stats.ppi.ppi_mean`, 95 %, unclustered: items are sampled
one by one): ``tuned`` (PPI++ power-tuned lambda, as ``ppi-python``), ``crossfit``
(lambda cross-fitted over 10 folds of the rated items), ``lam1`` (plain PPI) and
``human_only`` (lambda = 0, the classical interval of the ``n`` human ratings).

Vectorised: every quantity is a function of per-subset sums, computed for all subsets
at once (the unrated set of a subset is its complement in the population, so its sums
are the population's minus the subset's). ``tests/test_judge_assisted.py`` checks that
the result equals :func:`~analysis.stats.ppi.ppi_mean` called on each subset.

Reading the table
-----------------
``coverage`` is the percentage of the ``reps`` intervals that contain the full-data
mean; with 500 subsets its Monte Carlo standard error is about 1 point at 95 %, so
coverages between 93 and 97 are indistinguishable from nominal. ``width`` is the mean
full width (rating points, or share for DialogueSafety). ``saved`` is the number of
extra human ratings the judge is worth with the recommended interval:
``n * (width_human_only / width) ** 2 - n`` (CLT widths scale as ``1 / sqrt(n)``).

The truth here is a *finite-population* mean, which includes the rated items
themselves. When ``n`` is a large fraction ``f = n / M`` of the ``M`` items, the error
of every estimator shrinks by ``sqrt(1 - f)`` (the finite-population correction) while
the CLT intervals, built for an infinite population, do not: they over-cover. This
matters for DialogueSafety (``M = 800``: ``f`` = 0.25 at n = 200, 0.63 at n = 500) and
not for MentalAlign (``M`` about 10,000). The columns ``coverage_fpc`` show the coverage
of the recommended interval with its half-width multiplied by ``sqrt(1 - f)``: a
diagnostic of the interval's calibration, not an interval the package reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from analysis.stats.result import resolve_confidence
from analysis.studies.registry import STUDIES, get_study

METHODS = ("tuned", "crossfit", "lam1", "human_only")
RECOMMENDED = "crossfit"
"""Must match :data:`analysis.studies.judge_assisted.RECOMMENDED_LAM` (a test checks it)."""
CHECK_STUDIES = tuple(name for name, spec in STUDIES.items() if spec.hooks.ppi_populations is not None)
"""The studies whose registry entry has a ``ppi_populations`` hook (the reference rated every item)."""
DEFAULT_N = (50, 100, 200, 500)
N_FOLDS = 10


@dataclass(frozen=True)
class Population:
    """One cell of the check: every item's human rating ``y`` and judge score ``yhat``."""

    study: str
    evaluator: str
    quantity: str
    y: np.ndarray
    yhat: np.ndarray


def populations(study: str, data_root=None) -> list[Population]:
    """Every cell of ``study``, from its registry entry's ``ppi_populations`` hook
    (:func:`analysis.studies.mentalalign.ppi_populations`,
    :func:`analysis.studies.dialoguesafety.ppi_populations`)."""
    if study not in CHECK_STUDIES:
        raise ValueError(f"ppi-check needs a study where the reference rated every item: "
                         f"{', '.join(CHECK_STUDIES)}; got {study!r}")
    spec = get_study(study)
    return [Population(spec.name, evaluator, quantity, y, yhat)
            for evaluator, quantity, y, yhat in spec.hooks.ppi_populations(data_root)]


def draw_subsets(m: int, n: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``(reps, n)`` indices: each row a uniformly random ``n``-subset of ``range(m)``, in random order."""
    if not 2 <= n < m:
        raise ValueError(f"n must be at least 2 and smaller than the {m} items, got {n}")
    return np.argsort(rng.random((reps, m)), axis=1)[:, :n]


def subset_intervals(y, yhat, labeled: np.ndarray, *, n_folds: int = N_FOLDS) -> dict[str, tuple[np.ndarray, ...]]:
    """PPI estimate, standard error and lambda of every subset, for every method.

    ``labeled`` is ``(reps, n)`` item indices; the rest of the population is each
    subset's unrated set. Equal to :func:`analysis.stats.ppi.ppi_mean` (``lam=None``,
    ``"crossfit"`` with ``n_folds``, ``1``, ``0``) on ``y[row], yhat[row],
    yhat[complement]``, unclustered.

    Returns
    -------
    dict
        method -> ``(estimate, se, lam)``, arrays of shape ``(reps,)``.
    """
    y = np.asarray(y, dtype=float)
    f = np.asarray(yhat, dtype=float)
    # Centre both at the population means: the sums below then lose no precision to
    # cancellation, and every estimate is shifted back at the end.
    cy, cf = y.mean(), f.mean()
    y, f = y - cy, f - cf
    m = y.shape[0]
    n = labeled.shape[1]
    big_n = m - n
    yl, fl = y[labeled], f[labeled]
    y_bar, fl_bar = yl.mean(axis=1), fl.mean(axis=1)
    fu_bar = (f.sum() - fl.sum(axis=1)) / big_n
    # Unrated variance (ddof 0) from population minus subset sums of squares about fu_bar.
    ss_f_all = (f * f).sum()
    var_u = ((ss_f_all - (fl * fl).sum(axis=1)) / big_n - fu_bar**2).clip(min=0.0)
    yc, fc = yl - y_bar[:, None], fl - fl_bar[:, None]
    var_y = (yc * yc).mean(axis=1)
    var_f = (fc * fc).mean(axis=1)
    cov = (yc * fc).mean(axis=1)
    var_pool = ((f - f.mean()) ** 2).sum() / (m - 1)   # rated and unrated = the whole population
    ratio = 1 + n / big_n

    def fixed(lam):
        lam = np.broadcast_to(np.asarray(lam, dtype=float), y_bar.shape)
        est = lam * fu_bar + y_bar - lam * fl_bar
        var = lam * lam * var_u / big_n + (var_y - 2 * lam * cov + lam * lam * var_f) / n
        return est + cy, np.sqrt(var), lam

    out = {"human_only": fixed(0.0), "lam1": fixed(1.0)}
    den = ratio * var_pool
    out["tuned"] = fixed(np.clip(cov / den, 0.0, 1.0) if den > 0 else np.zeros_like(cov))

    # Cross-fitting: the j-th rated item (in draw order) is in fold j mod K.
    k = min(n_folds, n)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), np.arange(n) % k] = 1.0
    size = onehot.sum(axis=0)                                   # (k,)
    s_y, s_f = yc @ onehot, fc @ onehot                         # (reps, k)
    s_yy, s_ff, s_yf = (yc * yc) @ onehot, (fc * fc) @ onehot, (yc * fc) @ onehot
    o_m = n - size
    o_y, o_f = s_y.sum(1, keepdims=True) - s_y, s_f.sum(1, keepdims=True) - s_f
    o_ff, o_yf = s_ff.sum(1, keepdims=True) - s_ff, s_yf.sum(1, keepdims=True) - s_yf
    cov_o = o_yf / o_m - (o_y / o_m) * (o_f / o_m)
    var_o = (o_ff - o_f * o_f / o_m) / (o_m - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_k = np.where(var_o > 0, np.clip(cov_o / (ratio * var_o), 0.0, 1.0), 0.0)
    lam_bar = lam_k @ size / n
    # estimate = lam_bar * mean(yhat unrated) + mean over rated of (y - lam_k(i) * yhat_i)
    est = lam_bar * fu_bar + y_bar - lam_bar * fl_bar - ((lam_k - lam_bar[:, None]) * s_f).sum(axis=1) / n
    r2 = (s_yy - 2 * lam_k * s_yf + lam_k * lam_k * s_ff).sum(axis=1)
    var = lam_bar**2 * var_u / big_n + r2 / n**2
    out["crossfit"] = (est + cy, np.sqrt(var), lam_bar)
    return {key: out[key] for key in METHODS}


def check_population(pop: Population, ns, reps: int, seed, *, confidence: float = 0.95,
                     alpha: float | None = None) -> pl.DataFrame:
    """Coverage and mean width of every method at every ``n`` for one population
    (intervals at level ``confidence``; ``alpha=`` warns and will go)."""
    confidence = resolve_confidence(confidence, alpha, "check_population")
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    truth = float(pop.y.mean())
    m = pop.y.shape[0]
    rows = []
    for n in ns:
        rng = np.random.default_rng(np.random.SeedSequence([*seed, int(n)]))
        res = subset_intervals(pop.y, pop.yhat, draw_subsets(m, int(n), reps, rng))
        row = {"study": pop.study, "evaluator": pop.evaluator, "quantity": pop.quantity, "n_items": m,
               "truth": truth, "n": int(n)}
        for method, (est, se, lam) in res.items():
            row[f"coverage_{method}"] = 100 * float(np.mean(np.abs(est - truth) <= z * se))
            row[f"width_{method}"] = float(np.mean(2 * z * se))
        est, se, lam = res[RECOMMENDED]
        row["coverage_fpc"] = 100 * float(np.mean(np.abs(est - truth) <= z * se * math.sqrt(1 - n / m)))
        row["lam_mean"] = float(lam.mean())
        row["saved"] = n * (row["width_human_only"] / row[f"width_{RECOMMENDED}"]) ** 2 - n
        rows.append(row)
    return pl.DataFrame(rows)


def run_check(study: str, *, data_root=None, ns=DEFAULT_N, reps: int = 500, seed: int = 20261124,
              confidence: float = 0.95, alpha: float | None = None) -> pl.DataFrame:
    """The check over every population of ``study``; population ``j`` at ``n`` uses the
    seed ``SeedSequence([seed, j, n])``."""
    confidence = resolve_confidence(confidence, alpha, "run_check")
    if reps < 2:
        raise ValueError(f"reps must be at least 2, got {reps}")
    frames = [check_population(pop, ns, reps, (seed, j), confidence=confidence)
              for j, pop in enumerate(populations(study, data_root))]
    return pl.concat(frames)


def summary(detail: pl.DataFrame) -> pl.DataFrame:
    """Per ``n``: mean, min and max coverage of every method over the populations, mean widths."""
    aggs = []
    for method in METHODS:
        c = pl.col(f"coverage_{method}")
        aggs += [c.mean().alias(f"{method}_mean"), c.min().alias(f"{method}_min"), c.max().alias(f"{method}_max")]
    aggs += [pl.col("coverage_fpc").mean().alias("fpc_mean"),
             *(pl.col(f"width_{m}").mean().alias(f"width_{m}") for m in METHODS),
             pl.col("saved").mean().alias("saved_mean"), pl.len().alias("n_populations")]
    return detail.group_by("study", "n").agg(aggs).sort("study", "n")


def _fmt(v, digits=1):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _table(frame: pl.DataFrame, columns: list[tuple[str, str, int]]) -> str:
    head = "| " + " | ".join(label for _, label, _ in columns) + " |"
    rule = "|" + "|".join("---" if d < 0 else "---:" for _, _, d in columns) + "|"
    body = ["| " + " | ".join(_fmt(r[c], max(d, 0)) for c, _, d in columns) + " |" for r in frame.iter_rows(named=True)]
    return "\n".join([head, rule, *body])


def _verdict(sub: pl.DataFrame) -> str:
    """One sentence: how many populations the recommended interval covers at 93-97 % for n >= 100."""
    parts = []
    for method in (RECOMMENDED, "human_only", "lam1"):
        big = sub.filter(pl.col("n") >= 100)
        c = big[f"coverage_{method}"]
        inside = int(((c >= 93) & (c <= 97)).sum())
        parts.append(f"`{method}` {inside} of {big.height} (mean {c.mean():.1f} %, range {c.min():.1f}-{c.max():.1f})")
    fpc = sub.filter(pl.col("n") >= 100)["coverage_fpc"]
    return (f"Rows with n ≥ 100 whose coverage is within 93-97 %: {'; '.join(parts)}. With the finite-population "
            f"correction, `{RECOMMENDED}`: {int(((fpc >= 93) & (fpc <= 97)).sum())} of {fpc.len()} "
            f"(mean {fpc.mean():.1f} %).")


def markdown(detail: pl.DataFrame, command: str, *, reps: int, seconds: float | None = None) -> str:
    """The doc: the command, a summary table per study and the detail per population."""
    lines = [f"<!-- regenerate: {command} -->", "",
             f"Regenerate with `{command}`.", "",
             f"Coverage (%) of the full-data human mean by 95 % intervals from n human ratings plus the judge "
             f"on every other item, over {reps} random subsets per row (Monte Carlo SE about 1 point). "
             f"`fpc`: the recommended interval (`{RECOMMENDED}`) with the finite-population correction, a "
             f"diagnostic (see `analysis/checks/ppi_check.py`). Widths are mean full widths. `saved`: human "
             f"ratings the judge is worth with the `{RECOMMENDED}` interval, n (w_human / w_{RECOMMENDED})² − n."]
    if seconds is not None:
        lines.append(f"Computed in {seconds:.0f} s.")
    for study in detail["study"].unique(maintain_order=True).to_list():
        sub = detail.filter(pl.col("study") == study)
        summ = summary(sub)
        lines += ["", f"## {study}", "", _verdict(sub), "", "### Summary over populations (mean [min, max] coverage)", ""]
        fmt = summ.with_columns(
            [pl.format("{} [{}, {}]", *(pl.col(f"{m}_{s}").round(1) for s in ("mean", "min", "max"))).alias(m)
             for m in METHODS])
        lines.append(_table(fmt, [("n", "n", 0), *((m, m, -1) for m in METHODS), ("fpc_mean", "fpc", 1),
                                  *((f"width_{m}", f"width {m}", 3) for m in METHODS),
                                  ("saved_mean", "saved", 0), ("n_populations", "cells", 0)]))
        lines += ["", "### Per population", ""]
        lines.append(_table(sub, [("evaluator", "evaluator", -1), ("quantity", "quantity", -1),
                                  ("n_items", "items", 0), ("truth", "truth", 3), ("n", "n", 0),
                                  *((f"coverage_{m}", m, 1) for m in METHODS), ("coverage_fpc", "fpc", 1),
                                  *((f"width_{m}", f"w {m}", 3) for m in METHODS),
                                  ("lam_mean", "λ̄", 2), ("saved", "saved", 0)]))
    return "\n".join(lines) + "\n"
