"""The alternative annotator test: can an LLM judge replace one of the human annotators?

When to use
-----------
You have several humans who each labelled or scored (part of) the same items, and a
judge (an LLM) that rated them too. The alt-test (Calderon, Reichart & Dror 2025) asks,
for each human ``h`` in turn: leaving ``h`` out, does the judge represent the remaining
humans at least as well as ``h`` does, up to a margin ``epsilon`` granted to the judge
for being cheaper and faster? The judge "passes" when this holds for at least half of
the humans after a false-discovery-rate correction. Use it beside the agreement
coefficients (:mod:`analysis.stats.gwet`, :mod:`analysis.stats.agreement`): they say how
much the raters agree, the alt-test says whether the judge is as good a stand-in as a
human. The authors suggest 50-100 items with at least two humans each, and
``epsilon`` = 0.2 for expert annotators, 0.15 for skilled ones, 0.1 for crowd workers.

Procedure (the authors' ``alt_test``, reproduced step by step)
-------------------------------------------------------------
1. Keep the items that the judge rated and at least ``min_humans_per_item`` (2) of the
   humans rated.
2. For each human ``h`` with at least ``min_items_per_human`` (30) kept items (others
   are skipped, but still serve as "remaining humans" for the rest): on every kept item
   ``i`` rated by ``h``, with ``R_i`` the ratings of the other humans on ``i``, score
   ``s_J = f(judge_i, R_i)`` and ``s_h = f(h_i, R_i)`` with ``f`` = accuracy
   (``mean(pred == r for r in R_i)``), negative RMSE
   (``-sqrt(mean((pred - r)^2 for r in R_i))``) or a user function; then
   ``W_J = 1[s_J >= s_h]`` and ``W_h = 1[s_h >= s_J]`` (both 1 on a tie).
3. ``d_i = W_h - W_J`` and a one-sided one-sample t test of ``H0: mean(d) >= epsilon``
   against ``H1: mean(d) < epsilon`` (``scipy.stats.ttest_1samp(d, epsilon,
   alternative="less")``). With ``epsilon_mode="multiplicative"`` (offered by the
   MetaEvaluator package): ``d_i = W_h - W_J / (1 - epsilon)`` tested against 0.
4. Benjamini-Yekutieli step-up at level ``q`` (0.05) over the tested humans.
5. Winning rate = share of tested humans whose null is rejected; the judge passes when
   it is >= 0.5. Advantage probability = mean over tested humans of ``mean(W_J)``, the
   probability that the judge is as good as or better than a random human (it does not
   depend on ``epsilon``; use it to rank judges).

Edge cases, as the authors' code behaves (through scipy): when all ``d_i`` of a human
are identical, the t statistic is ``-inf`` or ``+inf`` (p = 0 or 1) if the common value
is below or above the tested mean, and undefined (p = NaN) if equal to it (only
possible in additive mode with ``epsilon = 0`` and every item a tie). We return
exactly these p-values without calling scipy on constant data (scipy then warns about
catastrophic cancellation and, in multiplicative mode, can turn an exact -inf into a
large finite t from rounding of the mean). A NaN p-value is never rejected but the
human still counts among the tested humans (the authors' BY loop compares
``p <= threshold``, false for NaN, and divides by the number of tested humans). A
human with a single kept item also gets p = NaN (the t test needs two values), as in
scipy. A judge label that no human used simply never matches (accuracy 0 on that item).
Ties are exact floating-point comparisons, as in the authors' code; with integer
scores they are exact, with non-integer scores a mathematically tied RMSE could be
split by rounding (in the authors' code as well, depending on the order of humans).
Missing ratings (null/NaN) are not ratings: an item a human did not rate is not among
that human's items nor among the "remaining" ratings of others.

Sources read for this implementation: the authors' repository
(github.com/nitaytech/AltTest, ``alt_test_example.ipynb``, commit 13eada2: functions
``by_procedure``, ``accuracy``, ``neg_rmse``, ``ttest`` and ``alt_test`` with defaults
``epsilon=0.2, q_fdr=0.05, min_humans_per_instance=2, min_instances_per_human=30``),
and MetaEvaluator (github.com/govtech-responsibleai/meta-evaluator,
``src/meta_evaluator/scores/metrics/agreement/alt_test.py``: ``multiplicative_epsilon``
computes ``exc_ind - llm_ind / (1 - epsilon)`` tested against 0, and it sweeps
``epsilon`` over ``np.arange(0.0, 0.31, 0.05)``). ``tests/test_alt_test.py`` re-implements
the authors' function in their dictionary form and checks equality on random data.

References
----------
Calderon, N., Reichart, R. & Dror, R. (2025). The Alternative Annotator Test for
LLM-as-a-Judge: How to Statistically Justify Replacing Human Annotators with LLMs.
ACL 2025; arXiv:2501.10970.
Benjamini, Y. & Yekutieli, D. (2001). The control of the false discovery rate in
multiple testing under dependency. Annals of Statistics 29(4), 1165-1188.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl
from scipy import stats

DEFAULT_EPSILONS: tuple[float, ...] = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
"""The epsilon grid of :func:`alt_test_sweep` (MetaEvaluator's ``np.arange(0, 0.31, 0.05)``)."""

SCORINGS: tuple[str, ...] = ("accuracy", "neg_rmse")
EPSILON_MODES: tuple[str, ...] = ("additive", "multiplicative")

PER_HUMAN_SCHEMA = {
    "human": pl.String, "n": pl.Int64, "advantage_probability": pl.Float64,
    "human_advantage_probability": pl.Float64, "t_statistic": pl.Float64, "pvalue": pl.Float64,
    "p_adjusted": pl.Float64, "rejected": pl.Boolean,
}

SWEEP_SCHEMA = {
    "epsilon": pl.Float64, "scoring": pl.String, "n_humans": pl.Int64, "winning_rate": pl.Float64,
    "advantage_probability": pl.Float64, "passed": pl.Boolean,
}


# ---------------------------------------------------------------------------------
# Benjamini-Yekutieli

def benjamini_yekutieli(p_values, q: float = 0.05) -> np.ndarray:
    """Which hypotheses the Benjamini-Yekutieli step-up procedure rejects at FDR ``q``.

    With ``m`` p-values sorted ``p_(1) <= ... <= p_(m)`` and ``c(m) = sum_{j<=m} 1/j``,
    reject the ``k`` smallest, ``k`` the largest ``i`` with ``p_(i) <= i / m * q / c(m)``
    (Benjamini & Yekutieli 2001, Theorem 1.3; valid under any dependence). NaN p-values
    are never rejected but count in ``m``, as in the alt-test authors' ``by_procedure``.

    Returns
    -------
    numpy.ndarray of bool, in the order of ``p_values``.

    Examples
    --------
    >>> benjamini_yekutieli([0.001, 0.02, 0.04, 0.3], q=0.05).tolist()
    [True, False, False, False]
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")
    if np.any(p[~np.isnan(p)] < 0) or np.any(p[~np.isnan(p)] > 1):
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    order = np.argsort(p)  # NaN last
    harmonic = np.sum(1.0 / np.arange(1, m + 1))
    thresholds = (np.arange(1, m + 1) / m) * (q / harmonic)
    below = np.nonzero(p[order] <= thresholds)[0]
    if below.size:
        reject[order[: below[-1] + 1]] = True
    return reject


def benjamini_yekutieli_adjusted(p_values) -> np.ndarray:
    """BY-adjusted p-values: ``min(1, min_{j >= i} m c(m) p_(j) / j)``; reject where <= q.

    NaN p-values stay NaN and count in ``m``.

    Examples
    --------
    >>> benjamini_yekutieli_adjusted([0.001, 0.02, 0.04, 0.3]).round(4).tolist()
    [0.0083, 0.0833, 0.1111, 0.625]
    """
    p = np.asarray(p_values, dtype=float).ravel()
    m = p.size
    out = np.full(m, np.nan)
    if m == 0:
        return out
    harmonic = np.sum(1.0 / np.arange(1, m + 1))
    order = np.argsort(p)
    ranked = p[order] * m * harmonic / np.arange(1, m + 1)
    finite = ~np.isnan(ranked)
    ranked[finite] = np.minimum(1.0, np.minimum.accumulate(ranked[finite][::-1])[::-1])
    out[order] = ranked
    return out


# ---------------------------------------------------------------------------------
# Indicators (independent of epsilon)

@dataclass(frozen=True, eq=False)
class AltTestIndicators:
    """Per-human win indicators of the leave-one-out comparison; they do not depend on
    ``epsilon``, so :func:`alt_test_from_indicators` can test many epsilons cheaply.

    ``humans``: the tested humans (>= ``min_items_per_human`` kept items), in input
    order; ``judge_wins[j]`` / ``human_wins[j]``: ``W_J`` and ``W_h`` (bool arrays over
    the items of ``humans[j]``); ``skipped``: ``(human, kept items)`` of the humans with
    too few items; ``n_items``: items kept (judge rated, >= ``min_humans_per_item``
    humans).
    """

    scoring: str
    humans: tuple[str, ...]
    judge_wins: tuple[np.ndarray, ...]
    human_wins: tuple[np.ndarray, ...]
    skipped: tuple[tuple[str, int], ...]
    n_items: int


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def _values_and_mask(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.dtype.kind in "biuf":
        a = a.astype(float)
        return a, ~np.isnan(a)
    if a.dtype.kind in "UST":
        return a.astype(object), np.ones(a.shape, dtype=bool)
    mask = np.fromiter((not _is_missing(v) for v in a.ravel().tolist()), dtype=bool, count=a.size)
    return a, mask.reshape(a.shape)


def _as_float(a: np.ndarray, mask: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind == "f":
        return a
    if any(isinstance(v, (str, bytes)) for v in a[mask].tolist()):
        raise ValueError(f"scoring='neg_rmse' needs numeric {what}, got strings")
    try:
        return np.where(mask, a, np.nan).astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"scoring='neg_rmse' needs numeric {what}") from None


def _scoring_name(scoring) -> str:
    if callable(scoring):
        return getattr(scoring, "__name__", "custom")
    if scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {SCORINGS} or a function f(pred, others) -> float, not {scoring!r}")
    return scoring


def alt_test_indicators(judge, humans, *, human_names: Sequence[str] | None = None,
                        scoring: str | Callable[[Any, list], float] = "accuracy",
                        min_items_per_human: int = 30, min_humans_per_item: int = 2) -> AltTestIndicators:
    """The leave-one-human-out win indicators ``W_J`` and ``W_h`` (steps 1-2 of the procedure).

    Parameters
    ----------
    judge : array_like, shape (n_items,)
        The judge's label or score per item; None/NaN = not rated.
    humans : array_like, shape (n_items, n_humans)
        The humans' labels or scores; None/NaN = not rated.
    human_names : sequence of str, optional
        Names of the columns of ``humans`` (default ``"0"``, ``"1"``, ...).
    scoring : {"accuracy", "neg_rmse"} or callable
        ``f(pred, others) -> float``, higher = better; ``others`` is the list of the
        remaining humans' ratings of the item, in column order (the authors' signature).
    min_items_per_human, min_humans_per_item : int
        As in the authors' code (30 and 2); ``min_humans_per_item`` must be >= 2 so
        that every comparison has at least one remaining human.
    """
    name = _scoring_name(scoring)
    if min_humans_per_item < 2:
        raise ValueError(f"min_humans_per_item must be >= 2 (each comparison needs another human), "
                         f"got {min_humans_per_item}")
    if min_items_per_human < 1:
        raise ValueError(f"min_items_per_human must be >= 1, got {min_items_per_human}")
    j_raw, h_raw = np.asarray(judge), np.asarray(humans)
    if h_raw.ndim != 2 or j_raw.ndim != 1 or h_raw.shape[0] != j_raw.shape[0]:
        raise ValueError(f"judge must be (n_items,) and humans (n_items, n_humans), got {j_raw.shape} and {h_raw.shape}")
    n_h = h_raw.shape[1]
    names = tuple(str(c) for c in (range(n_h) if human_names is None else human_names))
    if len(names) != n_h or len(set(names)) != n_h:
        raise ValueError(f"human_names must be {n_h} distinct names, got {list(names)}")
    j_val, j_ok = _values_and_mask(j_raw)
    h_val, h_ok = _values_and_mask(h_raw)
    kept = j_ok & (h_ok.sum(axis=1) >= min_humans_per_item)

    if name == "accuracy":
        # integer codes of the labels; equal codes <=> equal labels (Python ==, as the authors' pred == ann)
        codes: dict = {}
        j_code = np.array([codes.setdefault(v, len(codes)) if ok else -1
                           for v, ok in zip(j_val.tolist(), j_ok.tolist())], dtype=np.intp)
        h_code = np.array([[codes.setdefault(v, len(codes)) if ok else -1 for v, ok in zip(row, okrow)]
                           for row, okrow in zip(h_val.tolist(), h_ok.tolist())], dtype=np.intp).reshape(h_val.shape)
        counts = np.zeros((h_val.shape[0], max(len(codes), 1)), dtype=np.int64)
        rows, cols = np.nonzero(h_ok)
        np.add.at(counts, (rows, h_code[rows, cols]), 1)
    elif name == "neg_rmse":
        j_num = _as_float(j_val, j_ok, "judge scores")
        h_num = _as_float(h_val, h_ok, "human scores")

    humans_out, jw, hw, skipped = [], [], [], []
    for col in range(n_h):
        items = np.nonzero(kept & h_ok[:, col])[0]
        if items.size < min_items_per_human:
            skipped.append((names[col], int(items.size)))
            continue
        if name == "accuracy":
            # the others' matches = all humans' matches minus h's own; same denominator for both
            hc, jc = h_code[items, col], j_code[items]
            judge_hits = counts[items, jc] - (hc == jc)
            human_hits = counts[items, hc] - 1
            m = h_ok[items].sum(axis=1) - 1
            s_j, s_h = judge_hits / m, human_hits / m
        elif name == "neg_rmse":
            others = h_ok[items].copy()
            others[:, col] = False
            m = others.sum(axis=1)
            sq_j = np.where(others, (j_num[items, None] - h_num[items]) ** 2, 0.0).sum(axis=1)
            sq_h = np.where(others, (h_num[items, col][:, None] - h_num[items]) ** 2, 0.0).sum(axis=1)
            s_j, s_h = -np.sqrt(sq_j / m), -np.sqrt(sq_h / m)
        else:
            s_j, s_h = np.empty(items.size), np.empty(items.size)
            for k, i in enumerate(items.tolist()):
                rest = [h_val[i, g] for g in range(n_h) if g != col and h_ok[i, g]]
                rest = [v.item() if isinstance(v, np.generic) else v for v in rest]
                pred_j = j_val[i].item() if isinstance(j_val[i], np.generic) else j_val[i]
                pred_h = h_val[i, col].item() if isinstance(h_val[i, col], np.generic) else h_val[i, col]
                s_j[k], s_h[k] = float(scoring(pred_j, rest)), float(scoring(pred_h, rest))
        humans_out.append(names[col])
        jw.append(np.asarray(s_j >= s_h))
        hw.append(np.asarray(s_h >= s_j))
    return AltTestIndicators(scoring=name, humans=tuple(humans_out), judge_wins=tuple(jw), human_wins=tuple(hw),
                             skipped=tuple(skipped), n_items=int(kept.sum()))


# ---------------------------------------------------------------------------------
# Tests for one epsilon

@dataclass(frozen=True, eq=False)
class AltTestResult:
    """The alt-test for one judge and one ``epsilon``.

    ``winning_rate``: share of the ``n_humans`` tested humans whose null is rejected;
    ``passed``: ``winning_rate >= 0.5``; ``advantage_probability``: mean over humans of
    the share of items where the judge scores at least as well as the human.
    ``per_human``: one row per tested human with ``human``, ``n`` (items),
    ``advantage_probability`` (mean ``W_J``), ``human_advantage_probability`` (mean
    ``W_h``), ``t_statistic``, ``pvalue`` (one-sided), ``p_adjusted`` (BY), ``rejected``.
    ``skipped_humans``: ``(human, kept items)`` of humans below ``min_items_per_human``.
    """

    winning_rate: float
    advantage_probability: float
    passed: bool
    epsilon: float
    epsilon_mode: str
    scoring: str
    q: float
    n_humans: int
    n_items: int
    per_human: pl.DataFrame
    skipped_humans: tuple[tuple[str, int], ...]


def _check_epsilon(epsilon: float, mode: str) -> None:
    if mode not in EPSILON_MODES:
        raise ValueError(f"epsilon_mode must be one of {EPSILON_MODES}, not {mode!r}")
    if not 0 <= epsilon < 1:
        raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")


def _ttest_less(d: np.ndarray, popmean: float) -> tuple[float, float]:
    """``scipy.stats.ttest_1samp(d, popmean, alternative="less")`` (statistic, p), with
    constant ``d`` answered exactly as scipy's limit (+/-inf -> p 1/0, equal -> NaN)."""
    if d.size < 2:
        return float("nan"), float("nan")
    if np.all(d == d[0]):
        if d[0] < popmean:
            return -math.inf, 0.0
        if d[0] > popmean:
            return math.inf, 1.0
        return float("nan"), float("nan")
    res = stats.ttest_1samp(d, popmean, alternative="less")
    return float(res.statistic), float(res.pvalue)


def alt_test_from_indicators(indicators: AltTestIndicators, *, epsilon: float = 0.2, q: float = 0.05,
                             epsilon_mode: str = "additive") -> AltTestResult:
    """Steps 3-5 of the procedure for one ``epsilon``, from :func:`alt_test_indicators`."""
    _check_epsilon(epsilon, epsilon_mode)
    if not indicators.humans:
        raise ValueError("no human has enough items to be tested: "
                         + ", ".join(f"{h}: {n}" for h, n in indicators.skipped))
    t_stats, p_values, adv_j, adv_h, ns = [], [], [], [], []
    for w_j, w_h in zip(indicators.judge_wins, indicators.human_wins):
        wj, wh = w_j.astype(float), w_h.astype(float)
        if epsilon_mode == "additive":
            t, p = _ttest_less(wh - wj, epsilon)
        else:
            t, p = _ttest_less(wh - wj / (1.0 - epsilon), 0.0)
        t_stats.append(t)
        p_values.append(p)
        adv_j.append(float(np.mean(wj)))
        adv_h.append(float(np.mean(wh)))
        ns.append(int(wj.size))
    rejected = benjamini_yekutieli(p_values, q)
    per_human = pl.DataFrame({
        "human": list(indicators.humans), "n": ns, "advantage_probability": adv_j,
        "human_advantage_probability": adv_h, "t_statistic": t_stats, "pvalue": p_values,
        "p_adjusted": benjamini_yekutieli_adjusted(p_values).tolist(), "rejected": rejected.tolist(),
    }, schema=PER_HUMAN_SCHEMA)
    winning_rate = float(rejected.sum() / rejected.size)
    return AltTestResult(winning_rate=winning_rate, advantage_probability=float(np.mean(adv_j)),
                         passed=winning_rate >= 0.5, epsilon=float(epsilon), epsilon_mode=epsilon_mode,
                         scoring=indicators.scoring, q=q, n_humans=len(indicators.humans),
                         n_items=indicators.n_items, per_human=per_human, skipped_humans=indicators.skipped)


def alt_test_arrays(judge, humans, *, human_names: Sequence[str] | None = None, epsilon: float = 0.2,
                    scoring: str | Callable[[Any, list], float] = "accuracy", q: float = 0.05,
                    min_items_per_human: int = 30, min_humans_per_item: int = 2,
                    epsilon_mode: str = "additive") -> AltTestResult:
    """The alt-test on arrays: ``judge`` (n_items,) and ``humans`` (n_items, n_humans).

    Missing ratings are None/NaN. See :func:`alt_test_indicators` for the arguments
    and the module docstring for the procedure.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 2, 60)
    >>> noisy = lambda p: np.where(rng.random(60) < p, 1 - truth, truth)
    >>> humans = np.column_stack([noisy(0.2), noisy(0.2), noisy(0.2)])
    >>> r = alt_test_arrays(noisy(0.05), humans, epsilon=0.2)
    >>> r.n_humans, r.winning_rate, r.passed
    (3, 1.0, True)
    """
    _check_epsilon(epsilon, epsilon_mode)
    ind = alt_test_indicators(judge, humans, human_names=human_names, scoring=scoring,
                              min_items_per_human=min_items_per_human, min_humans_per_item=min_humans_per_item)
    return alt_test_from_indicators(ind, epsilon=epsilon, q=q, epsilon_mode=epsilon_mode)


# ---------------------------------------------------------------------------------
# Tidy tables

def _pivot(ratings, judge: str, humans: Sequence[str] | None, item: str, rater: str,
           score: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not isinstance(ratings, pl.DataFrame):
        if hasattr(ratings, "to_numpy") and hasattr(ratings, "columns"):
            ratings = pl.from_pandas(ratings)
        else:
            raise TypeError(f"ratings must be a polars or pandas DataFrame, got {type(ratings).__name__}")
    missing = [c for c in (item, rater, score) if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings has no column(s) {missing}; columns are {ratings.columns}")
    df = ratings.select(pl.col(item).alias("item"), pl.col(rater).cast(pl.String).alias("rater"),
                        pl.col(score).alias("score"))
    if df.schema["score"].is_float():
        df = df.with_columns(pl.col("score").fill_nan(None))
    df = df.drop_nulls("score")
    raters = df["rater"].unique(maintain_order=True).to_list()
    judge = str(judge)
    if judge not in raters:
        raise ValueError(f"judge {judge!r} has no ratings; raters are {raters}")
    if humans is None:
        humans = sorted(r for r in raters if r != judge)
    else:
        humans = [str(h) for h in humans]
        if judge in humans:
            raise ValueError(f"the judge {judge!r} cannot also be one of the humans")
        if len(set(humans)) != len(humans):
            raise ValueError(f"humans must be distinct, got {humans}")
        absent = [h for h in humans if h not in raters]
        if absent:
            raise ValueError(f"humans {absent} have no ratings; raters are {raters}")
    df = df.filter(pl.col("rater").is_in([judge, *humans]))
    dup = df.filter(pl.struct("item", "rater").is_duplicated())
    if dup.height:
        first = dup.row(0, named=True)
        raise ValueError(f"{dup.height} duplicated (item, rater) ratings, e.g. item {first['item']!r} "
                         f"by {first['rater']!r}: keep one rating per item and rater")
    items = df["item"].unique(maintain_order=True)
    item_idx = dict(zip(items.to_list(), range(items.len())))
    col_idx = {name: k for k, name in enumerate([judge, *humans])}
    numeric = df.schema["score"].is_numeric()
    mat = np.full((items.len(), len(col_idx)), np.nan if numeric else None, dtype=float if numeric else object)
    r_idx = np.fromiter((item_idx[v] for v in df["item"].to_list()), dtype=np.intp, count=df.height)
    c_idx = np.fromiter((col_idx[v] for v in df["rater"].to_list()), dtype=np.intp, count=df.height)
    mat[r_idx, c_idx] = df["score"].to_numpy() if numeric else np.array(df["score"].to_list(), dtype=object)
    return mat[:, 0], mat[:, 1:], list(humans)


def alt_test(ratings, judge: str, humans: Sequence[str] | None = None, *, epsilon: float = 0.2,
             scoring: str | Callable[[Any, list], float] = "accuracy", q: float = 0.05,
             min_items_per_human: int = 30, min_humans_per_item: int = 2, epsilon_mode: str = "additive",
             item: str = "item", rater: str = "rater", score: str = "score") -> AltTestResult:
    """The alt-test on a tidy table with one row per (item, rater) rating.

    Parameters
    ----------
    ratings : polars.DataFrame or pandas.DataFrame
        Columns ``item``, ``rater``, ``score`` (names configurable); rater names are
        compared as strings; a null/NaN score is no rating; duplicated (item, rater)
        rows are an error. Labels (strings, ints) for ``"accuracy"``, numbers for
        ``"neg_rmse"``.
    judge : str
        The rater to test.
    humans : sequence of str, optional
        The human raters; default every other rater (sorted). Raters that are neither
        the judge nor listed are ignored.
    epsilon, scoring, q, min_items_per_human, min_humans_per_item, epsilon_mode
        See the module docstring.

    Returns
    -------
    AltTestResult

    Examples
    --------
    >>> rows = [(i, h, (i * 7 + k * (i % 5 == k)) % 3) for i in range(40) for k, h in enumerate(["a", "b", "c"])]
    >>> rows += [(i, "llm", (i * 7) % 3) for i in range(40)]
    >>> t = pl.DataFrame(rows, schema=["item", "rater", "score"], orient="row")
    >>> r = alt_test(t, "llm", epsilon=0.1)
    >>> r.per_human.select("human", "n", "advantage_probability").rows()
    [('a', 40, 1.0), ('b', 40, 1.0), ('c', 40, 1.0)]
    >>> r.winning_rate, r.passed
    (1.0, True)
    """
    j, h, names = _pivot(ratings, judge, humans, item, rater, score)
    return alt_test_arrays(j, h, human_names=names, epsilon=epsilon, scoring=scoring, q=q,
                           min_items_per_human=min_items_per_human, min_humans_per_item=min_humans_per_item,
                           epsilon_mode=epsilon_mode)


def alt_test_sweep(ratings, judge: str, humans: Sequence[str] | None = None, *,
                   epsilons: Sequence[float] = DEFAULT_EPSILONS,
                   scoring: str | Callable[[Any, list], float] = "accuracy", q: float = 0.05,
                   min_items_per_human: int = 30, min_humans_per_item: int = 2, epsilon_mode: str = "additive",
                   item: str = "item", rater: str = "rater", score: str = "score") -> pl.DataFrame:
    """:func:`alt_test` for several ``epsilons``, computing the indicators once.

    Returns
    -------
    polars.DataFrame
        One row per epsilon: ``epsilon, scoring, n_humans, winning_rate,
        advantage_probability, passed``. In additive mode the winning rate never
        decreases with epsilon (the p-values fall and BY is monotone); the advantage
        probability does not depend on epsilon.

    Examples
    --------
    Each human errs on 1 item in 6, the judge on 2 other items in 6: leaving a human
    out, the human beats the judge on 2 items in 6 and loses on 1, so
    mean(W_h - W_J) = 1/6 and the judge passes only with a margin well above 1/6:

    >>> rows = [(i, h, (i + (i % 6 == k)) % 2) for i in range(120) for k, h in enumerate(["a", "b", "c"])]
    >>> rows += [(i, "llm", (i + (i % 6 in (3, 4))) % 2) for i in range(120)]
    >>> t = pl.DataFrame(rows, schema=["item", "rater", "score"], orient="row")
    >>> alt_test_sweep(t, "llm", epsilons=(0.0, 0.2, 0.3)).select("epsilon", "winning_rate", "passed").rows()
    [(0.0, 0.0, False), (0.2, 0.0, False), (0.3, 1.0, True)]
    """
    for e in epsilons:
        _check_epsilon(e, epsilon_mode)
    j, h, names = _pivot(ratings, judge, humans, item, rater, score)
    ind = alt_test_indicators(j, h, human_names=names, scoring=scoring, min_items_per_human=min_items_per_human,
                              min_humans_per_item=min_humans_per_item)
    rows = []
    for e in epsilons:
        r = alt_test_from_indicators(ind, epsilon=e, q=q, epsilon_mode=epsilon_mode)
        rows.append({"epsilon": float(e), "scoring": r.scoring, "n_humans": r.n_humans,
                     "winning_rate": r.winning_rate, "advantage_probability": r.advantage_probability,
                     "passed": r.passed})
    return pl.DataFrame(rows, schema=SWEEP_SCHEMA)
