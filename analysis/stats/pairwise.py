"""Pairwise preferences ("A is better", "B is better", "tie"): win rates, Bradley-Terry
scores, ranking agreement, position bias and judge-human agreement.

When to use
-----------
Most judge benchmarks (MT-Bench, Chatbot Arena, AlpacaEval) ask which of two responses is
better. The verdicts of one rater (a judge, or a human) give each system a **win rate**
(:func:`win_rates`: wins plus half the ties over games) and a **Bradley-Terry score**
(:func:`bradley_terry`: the log-strength ``beta`` with ``P(i beats j) = 1 / (1 +
exp(beta_j - beta_i))``, maximum likelihood by Hunter's (2004) MM algorithm, a tie
counted as half a win for each side as in Chatbot Arena's leaderboard; scores centred to
mean 0). Whether a judge ranks the systems as the humans do is Kendall's tau between the
two sets of scores (:func:`ranking_agreement`). Intervals resample the *prompts* (a
prompt's games are not independent) with :func:`analysis.stats.bootstrap.bootstrap`.

When both orders of a pair were judged, :func:`position_bias` gives the share of games
won by the response shown first (0.5 without position bias) and the share of swapped
pairs whose verdict is inconsistent (the winner changes with the order; Zheng et al.
2023, Shi et al. 2024).

:func:`pairwise_agreement` compares a judge's verdicts with a human's on the same games:
with ties as a third class (MT-Bench's "agreement with ties"), or on the games neither
called a tie (``ties="exclude"``, "without ties").

References
----------
Bradley, R. A. & Terry, M. E. (1952). Rank analysis of incomplete block designs.
Biometrika 39, 324-345. Hunter, D. R. (2004). MM algorithms for generalized
Bradley-Terry models. Annals of Statistics 32(1), 384-406. Zheng, L. et al. (2023).
Judging LLM-as-a-judge with MT-Bench and Chatbot Arena. NeurIPS. Chiang, W.-L. et al.
(2024). Chatbot Arena. ICML. Shi, L. et al. (2024). Judging the judges: a systematic
study of position bias in LLM-as-a-judge. arXiv 2406.07791.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from analysis.stats.bootstrap import bootstrap
from analysis.stats.proportions import wilson_ci
from analysis.stats.result import Result, check_confidence

__all__ = ["VERDICTS", "bradley_terry", "bradley_terry_counts", "pairwise_agreement", "position_bias",
           "ranking_agreement", "rater_ranking_agreement", "win_rates"]

VERDICTS = ("A", "B", "tie")
"""The verdicts: the first system (``A``) wins, the second (``B``) wins, or a tie."""


def _games(system_a, system_b, verdict) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Codes of both systems, points of system A (1, 0.5, 0) and the system names (sorted)."""
    a, b, v = (np.asarray(x, dtype=object) for x in (system_a, system_b, verdict))
    if not (a.shape == b.shape == v.shape) or a.ndim != 1:
        raise ValueError(f"system_a, system_b and verdict must be 1-d of one length, got {a.shape}, {b.shape}, "
                         f"{v.shape}")
    bad = sorted({str(x) for x in v.tolist()} - set(VERDICTS))
    if bad:
        raise ValueError(f"verdicts must be one of {VERDICTS}, found {bad[:3]}")
    if np.any(a == b):
        raise ValueError("a system cannot play itself (system_a == system_b in some games)")
    names = sorted({*map(str, a.tolist()), *map(str, b.tolist())})
    code = {s: k for k, s in enumerate(names)}
    ia = np.array([code[str(x)] for x in a.tolist()], dtype=np.intp)
    ib = np.array([code[str(x)] for x in b.tolist()], dtype=np.intp)
    points = np.where(v == "A", 1.0, np.where(v == "B", 0.0, 0.5))
    return ia, ib, points, names


def _win_rate_stat(ia, ib, points, n_systems):
    def stat(w):
        # w: (B, n) frequency weights of the games
        wins = np.zeros((w.shape[0], n_systems))
        games = np.zeros((w.shape[0], n_systems))
        for s in range(n_systems):
            in_a, in_b = ia == s, ib == s
            wins[:, s] = w[:, in_a] @ points[in_a] + w[:, in_b] @ (1.0 - points[in_b])
            games[:, s] = w[:, in_a].sum(axis=1) + w[:, in_b].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return wins / games
    return stat


def win_rates(system_a, system_b, verdict, *, prompts=None, n_boot: int = 2000, seed=None,
              confidence: float = 0.95) -> dict[str, Result]:
    """Each system's win rate (wins + ties / 2) / games, with a bootstrap interval over prompts.

    Parameters
    ----------
    system_a, system_b : array-like of str
        The two systems of each game (``A`` shown first).
    verdict : array-like of {"A", "B", "tie"}
    prompts : array-like, optional
        The prompt of each game: the bootstrap resamples prompts (default: games).
    n_boot, seed, confidence
        Percentile bootstrap settings (:func:`analysis.stats.bootstrap.bootstrap`).

    Returns
    -------
    dict
        System -> :class:`Result` (``n`` = games of that system).

    Examples
    --------
    >>> r = win_rates(["x", "x", "y"], ["y", "z", "z"], ["A", "tie", "B"], n_boot=200, seed=1)
    >>> {s: round(v.estimate, 3) for s, v in r.items()}
    {'x': 0.75, 'y': 0.0, 'z': 0.75}
    """
    confidence = check_confidence(confidence)
    ia, ib, points, names = _games(system_a, system_b, verdict)
    stat = _win_rate_stat(ia, ib, points, len(names))
    res = bootstrap((np.arange(ia.size),), lambda _idx, weights: stat(weights), n_boot=n_boot, seed=seed,
                    method="percentile", confidence=confidence, clusters=prompts)
    games = np.bincount(ia, minlength=len(names)) + np.bincount(ib, minlength=len(names))
    return {s: Result(estimate=float(res.estimate[k]), ci_low=float(res.ci_low[k]), ci_high=float(res.ci_high[k]),
                      n=int(games[k]), confidence=confidence, ci_note="percentile bootstrap over "
                      + ("prompts" if prompts is not None else "games"))
            for k, s in enumerate(names)}


def bradley_terry_counts(wins: np.ndarray, *, max_iter: int = 10_000, tol: float = 1e-12) -> np.ndarray:
    """Bradley-Terry log-strengths (centred to mean 0) from win counts, vectorised.

    ``wins[..., i, j]`` = (weighted) wins of ``i`` over ``j`` (ties already split half and
    half). Hunter's (2004) MM update ``p_i <- W_i / sum_j N_ij / (p_i + p_j)``; a system
    with no win or no loss has no finite MLE: its score is ``+inf``/``-inf`` (NaN when it
    played no game). Leading axes are independent problems (bootstrap replicates).
    """
    w = np.asarray(wins, dtype=float)
    n = w + np.swapaxes(w, -1, -2)
    total_w = w.sum(axis=-1)
    played = n.sum(axis=-1) > 0
    losses = w.sum(axis=-2)
    p = np.ones(w.shape[:-1])
    finite = played & (total_w > 0) & (losses > 0)
    for _ in range(max_iter):
        denom = (n / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(finite, total_w / denom, p)
        # geometric centring keeps the scale fixed (the likelihood is invariant to it)
        logs = np.where(finite, np.log(np.where(finite, new, 1.0)), 0.0)
        k = np.maximum(finite.sum(axis=-1, keepdims=True), 1)
        new = np.where(finite, np.exp(logs - logs.sum(axis=-1, keepdims=True) / k), 1.0)
        if np.nanmax(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    beta = np.where(finite, np.log(p), np.nan)
    beta = np.where(played & (total_w > 0) & (losses == 0), np.inf, beta)
    beta = np.where(played & (total_w == 0), -np.inf, beta)
    return beta


def _win_matrix(ia, ib, points, n_systems, w):
    """(B, S, S) weighted wins from game weights ``w`` (B, n)."""
    out = np.zeros((w.shape[0], n_systems, n_systems))
    for i in range(n_systems):
        for j in range(n_systems):
            if i == j:
                continue
            ij, ji = (ia == i) & (ib == j), (ia == j) & (ib == i)
            out[:, i, j] = w[:, ij] @ points[ij] + w[:, ji] @ (1.0 - points[ji])
    return out


def bradley_terry(system_a, system_b, verdict, *, prompts=None, n_boot: int = 2000, seed=None,
                  confidence: float = 0.95) -> dict[str, Result]:
    """Bradley-Terry scores (log-strength, centred to mean 0; ties half a win each) with a
    percentile bootstrap interval over prompts.

    The difference of two scores is the log-odds that one beats the other. ``n`` = games
    of the system. A system that never lost (or never won) has no finite estimate
    (``+inf``/``-inf``, ``ci_note`` says so).

    Examples
    --------
    >>> r = bradley_terry(["x", "x", "y", "y"], ["y", "y", "x", "x"], ["A", "A", "A", "B"], n_boot=200, seed=1)
    >>> round(r["x"].estimate - r["y"].estimate, 4) == round(math.log(3), 4)
    True
    """
    confidence = check_confidence(confidence)
    ia, ib, points, names = _games(system_a, system_b, verdict)
    s = len(names)
    est = bradley_terry_counts(_win_matrix(ia, ib, points, s, np.ones((1, ia.size))))[0]
    res = bootstrap((np.arange(ia.size),), lambda _idx, weights: bradley_terry_counts(
        _win_matrix(ia, ib, points, s, weights), tol=1e-9), n_boot=n_boot, seed=seed, method="percentile",
                    confidence=confidence, clusters=prompts)
    games = np.bincount(ia, minlength=s) + np.bincount(ib, minlength=s)
    out = {}
    for k, name in enumerate(names):
        note = "percentile bootstrap over " + ("prompts" if prompts is not None else "games")
        if not math.isfinite(est[k]):
            note = "never lost or never won: no finite Bradley-Terry score"
        out[name] = Result(estimate=float(est[k]), ci_low=float(res.ci_low[k]), ci_high=float(res.ci_high[k]),
                           n=int(games[k]), confidence=confidence, ci_note=note)
    return out


def ranking_agreement(scores_x: Sequence[float], scores_y: Sequence[float], *, replicates_x=None, replicates_y=None,
                      confidence: float = 0.95) -> Result:
    """Kendall's tau-b between two rankings of the same systems (e.g. a judge's and the
    humans' Bradley-Terry scores), with scipy's p-value and, given bootstrap replicates
    of both score vectors drawn on the same resamples (shape ``(B, S)``), a percentile
    interval. ``n`` = systems.

    Examples
    --------
    >>> round(ranking_agreement([3, 2, 1, 0], [2, 3, 1, 0]).estimate, 4)
    0.6667
    """
    confidence = check_confidence(confidence)
    x, y = np.asarray(scores_x, float), np.asarray(scores_y, float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"two score vectors of one length >= 2 are needed, got {x.shape} and {y.shape}")
    res = stats.kendalltau(x, y)
    low = high = math.nan
    note = "no interval: no bootstrap replicates given"
    if replicates_x is not None and replicates_y is not None:
        rx, ry = np.asarray(replicates_x, float), np.asarray(replicates_y, float)
        taus = np.array([stats.kendalltau(a, b).statistic for a, b in zip(rx, ry)])
        taus = taus[np.isfinite(taus)]
        if taus.size >= 2:
            low, high = (float(v) for v in np.quantile(taus, [0.5 - confidence / 2, 0.5 + confidence / 2]))
            note = "percentile bootstrap of tau over the resamples of both rankings"
    return Result(estimate=float(res.statistic), ci_low=low, ci_high=high, pvalue=float(res.pvalue), n=int(x.size),
                  confidence=confidence, ci_note=note)


def rater_ranking_agreement(system_a, system_b, verdict, rater, prompts, *, x: str, y: str, n_boot: int = 2000,
                            seed=None, confidence: float = 0.95) -> Result:
    """Kendall's tau-b between the Bradley-Terry rankings of two raters' verdicts (e.g. a
    judge's and the pooled humans'), with a percentile interval from one bootstrap over
    the prompts both judged: a resampled prompt brings both raters' games of it, so the
    two rankings of a replicate come from the same prompts (:func:`ranking_agreement`).

    Parameters
    ----------
    system_a, system_b, verdict : array-like
        The games of both raters (see :func:`win_rates`).
    rater : array-like of str
        Whose verdict each game is: ``x``, ``y`` or another rater (left out).
    prompts : array-like
        The prompt of each game (the resampled cluster).
    x, y : str
        The two raters. Systems that only one of them saw are left out; ``n`` = systems.

    Examples
    --------
    >>> a, b = ["s", "s", "t", "s", "s", "t"], ["t", "u", "u", "t", "u", "u"]
    >>> v = ["A", "A", "A", "A", "A", "B"]
    >>> r = rater_ranking_agreement(a + a, b + b, v + v, ["j"] * 6 + ["h"] * 6, list(range(6)) * 2, x="j", y="h",
    ...                             n_boot=200, seed=1)
    >>> round(r.estimate, 6), r.n
    (1.0, 3)
    """
    confidence = check_confidence(confidence)
    who = np.asarray(rater, dtype=object)
    keep = (who == x) | (who == y)
    if not (who == x).any() or not (who == y).any():
        raise ValueError(f"both raters need games: {x!r} has {int((who == x).sum())}, {y!r} {int((who == y).sum())}")
    a, b, v, p, who = (np.asarray(z, dtype=object)[keep] for z in (system_a, system_b, verdict, prompts, rater))
    seen = [{*a[who == r].tolist(), *b[who == r].tolist()} for r in (x, y)]
    both = seen[0] & seen[1]
    keep = np.array([s in both and t in both for s, t in zip(a.tolist(), b.tolist())], dtype=bool)
    a, b, v, p, who = a[keep], b[keep], v[keep], p[keep], who[keep]
    ia, ib, points, names = _games(a, b, v)
    s = len(names)
    is_x = who == x

    def stat(_idx, weights):
        wx = np.where(is_x, weights, 0.0)
        wy = np.where(is_x, 0.0, weights)
        return np.stack([bradley_terry_counts(_win_matrix(ia, ib, points, s, wx), tol=1e-9),
                         bradley_terry_counts(_win_matrix(ia, ib, points, s, wy), tol=1e-9)], axis=1)

    est = stat(None, np.ones((1, ia.size)))[0]
    res = bootstrap((np.arange(ia.size),), stat, n_boot=n_boot, seed=seed, method="percentile",
                    confidence=confidence, clusters=p, keep_replicates=True)
    return ranking_agreement(est[0], est[1], replicates_x=res.replicates[:, 0], replicates_y=res.replicates[:, 1],
                             confidence=confidence)


@dataclass(frozen=True)
class PositionBias:
    """``first_wins``: share of decided games won by the response shown first (0.5 = no
    bias; ties left out); ``inconsistent``: share of swapped pairs whose winner changes
    with the order (a tie in one order and a win in the other counts as inconsistent)."""

    first_wins: Result
    inconsistent: Result


def position_bias(pair, first, second, verdict, *, confidence: float = 0.95) -> PositionBias:
    """Position bias of a judge that saw each pair in both orders.

    Parameters
    ----------
    pair : array-like
        An id of the comparison (the same for both orders of one pair of responses).
    first, second : array-like of str
        The systems shown first and second in that game.
    verdict : array-like of {"A", "B", "tie"}
        ``A`` = the system shown first won.

    Examples
    --------
    >>> pb = position_bias(["p", "p", "q", "q"], ["x", "y", "x", "y"], ["y", "x", "y", "x"], ["A", "A", "B", "A"])
    >>> round(pb.first_wins.estimate, 3), pb.inconsistent.estimate
    (0.75, 0.5)
    """
    confidence = check_confidence(confidence)
    p, f, s, v = (np.asarray(x, dtype=object) for x in (pair, first, second, verdict))
    if not (p.shape == f.shape == s.shape == v.shape):
        raise ValueError("pair, first, second and verdict must have one length")
    decided = v != "tie"
    k, n = int((v[decided] == "A").sum()), int(decided.sum())
    low, high = wilson_ci(k, n, confidence)
    first_wins = Result(estimate=k / n if n else math.nan, ci_low=low, ci_high=high, n=n, confidence=confidence,
                        pvalue=float(stats.binomtest(k, n, 0.5).pvalue) if n else math.nan,
                        ci_note="Wilson interval; p-value: exact binomial test of 0.5")
    winners: dict = {}
    for pid, fs, ss, vd in zip(p.tolist(), f.tolist(), s.tolist(), v.tolist()):
        winners.setdefault(pid, []).append((frozenset((fs, ss)), fs if vd == "A" else ss if vd == "B" else "tie"))
    swapped = [g for g in winners.values() if len(g) == 2 and g[0][0] == g[1][0]]
    bad = sum(g[0][1] != g[1][1] for g in swapped)
    low, high = wilson_ci(bad, len(swapped), confidence)
    return PositionBias(first_wins=first_wins, inconsistent=Result(
        estimate=bad / len(swapped) if swapped else math.nan, ci_low=low, ci_high=high, n=len(swapped),
        confidence=confidence, ci_note="Wilson interval over pairs judged in both orders"))


def pairwise_agreement(judge, human, *, ties: str = "class", confidence: float = 0.95) -> Result:
    """Share of games where the judge's verdict equals the human's, with a Wilson interval.

    ``ties="class"``: a tie is a third verdict (agreement "with ties"); ``"exclude"``:
    only games where neither called a tie (agreement "without ties", Zheng et al. 2023).

    Examples
    --------
    >>> pairwise_agreement(["A", "B", "tie", "A"], ["A", "A", "tie", "tie"]).estimate
    0.5
    >>> pairwise_agreement(["A", "B", "tie", "A"], ["A", "A", "tie", "tie"], ties="exclude").estimate
    0.5
    """
    confidence = check_confidence(confidence)
    if ties not in ("class", "exclude"):
        raise ValueError(f"ties must be 'class' or 'exclude', not {ties!r}")
    j, h = np.asarray(judge, dtype=object), np.asarray(human, dtype=object)
    if j.shape != h.shape:
        raise ValueError(f"judge and human verdicts differ in length: {j.shape} and {h.shape}")
    keep = np.ones(j.shape, bool) if ties == "class" else (j != "tie") & (h != "tie")
    k, n = int((j[keep] == h[keep]).sum()), int(keep.sum())
    low, high = wilson_ci(k, n, confidence)
    return Result(estimate=k / n if n else math.nan, ci_low=low, ci_high=high, n=n, confidence=confidence,
                  ci_note="Wilson interval over games" + (" (ties excluded)" if ties == "exclude" else ""))
