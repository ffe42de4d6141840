"""The ``pairwise`` kind's hooks (:data:`analysis.studies.registry.KINDS`): preferences between
two responses (``A``: system_a better, ``B``: system_b better, ``tie``), every judge against
the study's references (humans).

* **Agreement** (:func:`agreement_table`): each judge against each human on the games both
  judged (same item, same order), with ties as a third class (MT-Bench's "agreement with
  ties") and on the games neither called a tie ("without ties", Zheng et al. 2023); each
  pair of humans beside them (the human-human agreement a judge is read against).
* **Win rates and Bradley-Terry scores** (:func:`scores_table`): per rater (each judge, and
  the humans' verdicts pooled as ``humans``) and system: win rate = (wins + ties / 2) /
  games; Bradley-Terry log-strength (ties half a win each, centred to mean 0: a difference
  of 1 is odds e = 2.72 of winning); percentile bootstrap intervals over prompts.
* **Ranking agreement** (:func:`ranking_table`): Kendall's tau-b between each judge's
  Bradley-Terry ranking of the systems and the humans', interval from one bootstrap over
  prompts shared by both.
* **Position bias** (:func:`position_table`; when the file says which system was shown
  first): share of decided games won by the first-shown response (0.5: none), and the
  share of pairs judged in both orders whose winner changes with the order.
* **The alternative annotator test** (:func:`alt_test_table`, Calderon et al. 2025) on the
  verdicts as labels (accuracy scoring, additive epsilon).

All shares are proportions (0-1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from analysis.stats.alt_test import alt_test
from analysis.stats.pairwise import (bradley_terry, pairwise_agreement, position_bias, rater_ranking_agreement,
                                     win_rates)

HUMANS = "humans"
"""The rater name of the references' verdicts pooled (every human verdict one game)."""


def _seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


def _pooled(games: pl.DataFrame, references) -> pl.DataFrame:
    """The games with the references' rater names replaced by :data:`HUMANS`."""
    return games.with_columns(pl.when(pl.col("rater").is_in(list(references))).then(pl.lit(HUMANS))
                              .otherwise(pl.col("rater")).alias("rater"))


def agreement_table(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """Each judge (and each human) against each human on the games both judged: agreement
    with ties as a class and without ties, Wilson intervals over games."""
    games = study.data.games
    refs = list(study.spec.references)
    pairs = [(j, h, "judge") for j in study.evaluators for h in refs]
    pairs += [(h1, h2, "human") for k, h1 in enumerate(refs) for h2 in refs[k + 1:]]
    rows = []
    for x, h, kind in pairs:
        both = (games.filter(pl.col("rater") == x).select("item", "first", pl.col("verdict").alias("x"))
                .join(games.filter(pl.col("rater") == h).select("item", "first", pl.col("verdict").alias("h")),
                      on=["item", "first"], how="inner", nulls_equal=True))
        if both.height == 0:
            continue
        with_ties = pairwise_agreement(both["x"], both["h"], ties="class", confidence=confidence)
        without = pairwise_agreement(both["x"], both["h"], ties="exclude", confidence=confidence)
        rows.append(dict(rater=x, human=h, kind=kind, n=with_ties.n, agreement_with_ties=with_ties.estimate,
                         ci_low=with_ties.ci_low, ci_high=with_ties.ci_high, n_without_ties=without.n,
                         agreement_without_ties=without.estimate, without_ci_low=without.ci_low,
                         without_ci_high=without.ci_high))
    return pl.DataFrame(rows)


def scores_table(study, *, n_boot: int, seed: int, confidence: float = 0.95) -> pl.DataFrame:
    """Per rater (``humans`` pooled, then each judge) and system: games, win rate and
    Bradley-Terry score, each with its percentile bootstrap interval over prompts."""
    games = _pooled(study.data.games, study.spec.references)
    rows = []
    for k, rater in enumerate((HUMANS, *study.evaluators)):
        g = games.filter(pl.col("rater") == rater)
        args = (g["system_a"].to_list(), g["system_b"].to_list(), g["verdict"].to_list())
        kw = dict(prompts=g["prompt"].to_list(), n_boot=n_boot, seed=_seed(seed, k), confidence=confidence)
        wr, bt = win_rates(*args, **kw), bradley_terry(*args, **kw)
        for system in wr:
            rows.append(dict(rater=rater, system=system, games=wr[system].n, win_rate=wr[system].estimate,
                             win_rate_ci_low=wr[system].ci_low, win_rate_ci_high=wr[system].ci_high,
                             bt_score=bt[system].estimate, bt_ci_low=bt[system].ci_low, bt_ci_high=bt[system].ci_high,
                             note=bt[system].ci_note))
    return pl.DataFrame(rows)


def ranking_table(study, *, n_boot: int, seed: int, confidence: float = 0.95) -> pl.DataFrame:
    """Per judge: Kendall's tau-b between its Bradley-Terry ranking of the systems and the
    humans' (pooled), with scipy's p-value and a bootstrap interval over prompts."""
    games = _pooled(study.data.games, study.spec.references)
    rows = []
    for k, judge in enumerate(study.evaluators):
        r = rater_ranking_agreement(games["system_a"], games["system_b"], games["verdict"], games["rater"],
                                    games["prompt"], x=judge, y=HUMANS, n_boot=n_boot, seed=_seed(seed, k),
                                    confidence=confidence)
        rows.append(dict(judge=judge, systems=r.n, kendall_tau=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                         pvalue=r.pvalue, note=r.ci_note))
    return pl.DataFrame(rows)


def position_table(study, *, confidence: float = 0.95) -> pl.DataFrame | None:
    """Per rater whose games say which system was shown first: the first-shown response's
    share of decided games (0.5: no position bias; exact binomial p-value) and the share
    of pairs judged in both orders whose winner changes. None when the file has no order."""
    games = study.data.games.filter(pl.col("first").is_not_null())
    if games.height == 0:
        return None
    games = games.with_columns(
        pl.when(pl.col("first") == pl.col("system_a")).then(pl.col("system_b")).otherwise(pl.col("system_a"))
        .alias("second"),
        pl.when(pl.col("verdict") == "tie").then(pl.lit("tie"))
        .when((pl.col("verdict") == "A") == (pl.col("first") == pl.col("system_a"))).then(pl.lit("A"))
        .otherwise(pl.lit("B")).alias("by_position"))
    rows = []
    for rater in (*study.evaluators, *study.spec.references):
        g = games.filter(pl.col("rater") == rater)
        if g.height == 0:
            continue
        pb = position_bias(g["item"], g["first"], g["second"], g["by_position"], confidence=confidence)
        rows.append(dict(rater=rater, decided=pb.first_wins.n, first_wins=pb.first_wins.estimate,
                         first_wins_ci_low=pb.first_wins.ci_low, first_wins_ci_high=pb.first_wins.ci_high,
                         pvalue=pb.first_wins.pvalue, swapped_pairs=pb.inconsistent.n,
                         inconsistent=pb.inconsistent.estimate, inconsistent_ci_low=pb.inconsistent.ci_low,
                         inconsistent_ci_high=pb.inconsistent.ci_high))
    return pl.DataFrame(rows)


def alt_test_ratings(study) -> tuple[pl.DataFrame, list[str], dict[str, tuple[str, str]]]:
    """The verdicts as the alt-test reads labels (:func:`analysis.studies.replacement.tidy_ratings`):
    ``item`` (a comparison in one order: ``item|first``), ``rater``, ``score`` (the verdict);
    the judges, and their ``(evaluator, run)`` names."""
    games = study.data.games.select(
        pl.concat_str("item", pl.col("first").fill_null(""), separator="|").alias("item"), "rater",
        pl.col("verdict").alias("score"))
    return games, list(study.evaluators), {e: (e, "1") for e in study.evaluators}


def alt_test_table(study, *, epsilon: float = 0.2, q: float = 0.05) -> pl.DataFrame:
    """Per judge: the alternative annotator test on the verdicts (accuracy, additive
    ``epsilon``; a game is an item in one order): winning rate, advantage probability,
    passed; ``note`` says why a judge could not be tested (fewer than 2 humans, or no
    human with 30 shared games)."""
    games = alt_test_ratings(study)[0]
    rows = []
    for judge in study.evaluators:
        row = dict(judge=judge, epsilon=epsilon, n_humans=0, winning_rate=None, advantage_probability=None,
                   passed=None, note="")
        try:
            r = alt_test(games, judge, list(study.spec.references), epsilon=epsilon, q=q, scoring="accuracy",
                         epsilon_mode="additive")
            row |= dict(n_humans=r.n_humans, winning_rate=r.winning_rate,
                        advantage_probability=r.advantage_probability, passed=r.passed)
        except ValueError as exc:
            row["note"] = str(exc)
        rows.append(row)
    return pl.DataFrame(rows, schema_overrides={"winning_rate": pl.Float64, "advantage_probability": pl.Float64,
                                                "passed": pl.Boolean})


def overview_table(study, *, n_boot: int, seed: int) -> pl.DataFrame:
    """One row per judge: mean agreement with the humans (with and without ties; the
    humans' own mean beside it), Kendall's tau of the rankings with its interval, the
    alt-test at epsilon = 0.2."""
    agr = agreement_table(study)
    humans = agr.filter(pl.col("kind") == "human")
    ranking = ranking_table(study, n_boot=n_boot, seed=seed)
    alt = alt_test_table(study)
    per_judge = (agr.filter(pl.col("kind") == "judge").group_by("rater", maintain_order=True)
                 .agg(pl.col("agreement_with_ties").mean(), pl.col("agreement_without_ties").mean())
                 .rename({"rater": "evaluator"}))
    return (per_judge.with_columns(
        pl.lit(humans["agreement_with_ties"].mean() if humans.height else None, pl.Float64).alias("human_with_ties"),
        pl.lit(humans["agreement_without_ties"].mean() if humans.height else None, pl.Float64)
        .alias("human_without_ties"))
        .join(ranking.select(pl.col("judge").alias("evaluator"), "kendall_tau", pl.col("ci_low").alias("tau_ci_low"),
                             pl.col("ci_high").alias("tau_ci_high")), on="evaluator", how="left")
        .join(alt.select(pl.col("judge").alias("evaluator"), "winning_rate", "advantage_probability", "passed"),
              on="evaluator", how="left"))


def summary_tables(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """``summary``: audit, agreement, win rates and Bradley-Terry scores, ranking
    agreement, position bias (when the order is known) and the alt-test."""
    from analysis.data.ratings import audit_summary

    out = {"audit": audit_summary(study.data.audit), "pairwise_agreement": agreement_table(study),
           "pairwise_scores": scores_table(study, n_boot=n_boot, seed=seed),
           "pairwise_ranking": ranking_table(study, n_boot=n_boot, seed=seed)}
    position = position_table(study)
    if position is not None:
        out["pairwise_position"] = position
    out["pairwise_alt_test"] = alt_test_table(study)
    out["_meta"] = pl.DataFrame({"header": [f"{len(study.evaluators)} judges against "
                                            f"{', '.join(study.spec.references)} on pairwise verdicts"],
                                 "scale": ["proportions (0-1); Bradley-Terry scores in log-odds (centred to mean 0); "
                                           "bootstrap intervals over prompts"]})
    return out


def overview_forest(study, overview: pl.DataFrame) -> dict:
    """The forest plot of the overview: Kendall's tau of each judge's ranking against the humans'."""
    long = overview.select("evaluator", pl.lit("Kendall's τ (rankings)").alias("measure"),
                           pl.col("kendall_tau").alias("estimate"), pl.col("tau_ci_low").alias("ci_low"),
                           pl.col("tau_ci_high").alias("ci_high"))
    return dict(long=long, xlabel="Kendall's τ between the judge's and the humans' Bradley–Terry rankings",
                title=f"{study.spec.title}: system rankings against the humans'")


def scores_forest(study, scores: pl.DataFrame) -> dict:
    """Arguments of :func:`analysis.reporting.figures.forest_plot` for the Bradley-Terry
    scores: one row per system, one marker per rater (the humans first)."""
    long = scores.select("system", pl.col("rater").alias("measure"), pl.col("bt_score").alias("estimate"),
                         pl.col("bt_ci_low").alias("ci_low"), pl.col("bt_ci_high").alias("ci_high"))
    # A system that never lost (or never won) has no finite score, and a resample where it
    # did not play none either: such rows are named under the axis, not drawn.
    drawable = (pl.col("estimate").is_finite() & pl.col("ci_low").is_finite() & pl.col("ci_high").is_finite()
                & (pl.col("ci_low") <= pl.col("estimate")) & (pl.col("estimate") <= pl.col("ci_high")))
    left = long.filter(~drawable)
    xlabel = "Bradley–Terry score (log-odds of winning, centred to mean 0)"
    if left.height:
        xlabel += "; not drawn (no finite score or interval): " + ", ".join(
            f"{a} ({b})" for a, b in left.select("system", "measure").iter_rows())
    return dict(data=long.filter(drawable), label="system", measure="measure", reference=0.0, xlabel=xlabel,
                title=f"{study.spec.title}: system strength by rater")


def export_study(study, out_dir: str | Path, *, title: str) -> list[Path]:
    """``export``: the games as a pairwise study file (verdicts A/B/tie)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    games = study.data.games
    games.select("item", "prompt", "system_a", "system_b", "rater", pl.col("verdict").alias("score"), "first",
                 "category").write_csv(out / "ratings.csv")
    refs = ", ".join(f'"{r}"' for r in study.spec.references)
    path = out / "study.toml"
    path.write_text(f'name = "{study.spec.name}-export"\ntitle = "{title}"\nkind = "pairwise"\n'
                    f'ratings = "ratings.csv"\nreferences = [{refs}]\n', encoding="utf-8")
    return [path]
