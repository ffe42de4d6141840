"""Why do the judges disagree with the humans? The study glue of the bias models.

What a scored study gives the models of :mod:`analysis.stats.bias_models`:

* **length**: ``log2_length`` = log2 of the answer's length, from the responses' column
  ``answer_chars`` (characters of the answer text, read by the loader where the data
  have the text) or ``length`` (a user study's column, any unit: a slope per doubling
  does not depend on the unit). Absent: the length terms are left out, with a note.
* **answer model / source**: ``answer_model``; **category**: ``category``; **run**: the
  judge's evaluation run ``eval_run`` (as a factor, run 1 the reference).
* **own source**: ``own_source`` = 1 where the answer was written by the judge's own
  model (the study's ``own_answer_model``, as :mod:`analysis.studies.self_preference`).
* **clusters**: ``item_id`` (the conversation, or a user study's ``cluster``); the
  answer (``response_id``) is nested in it.

The models, per judge (coefficients in points of the scale, ``bias = judge - reference``):

``all answers``
    the judge's score of every answer in every run, ``score ~ log2_length +
    answer_model + category + run``, random intercepts for the conversation and the
    answer within it. No human needed.
``judge - reference``
    on the answers the references rated: the judge's score in each run minus the mean of
    the references, ``~ log2_length + own_source + category + run`` (random intercept per
    conversation), and ``within answer model`` with ``answer_model`` in place of
    ``own_source``.
``self-preference``
    all judges stacked (each answer's mean over runs), ``score ~ judge + answer_model +
    category + judge:log2_length + judge:own_source`` (a length slope per judge, so that
    one judge's taste for length is not read as a preference for the model that writes
    long answers): the ``judge[x]:own_source`` term is the
    extra points judge ``x`` gives its own model's answers beyond what the other judges
    give them (the answer model's main effect carries the quality every judge sees).

and the proportional-odds shift of every rater against the first reference, and a
stability card per judge (flip rate between runs, alpha and kappa across runs, the runs
a stable mean needs from the D-study of :mod:`analysis.stats.gtheory`).

The human-rated subset need not be a random sample of the answers: :func:`selection_note`
says how it was chosen where the data show it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl

from analysis.stats.agreement import fleiss_kappa, krippendorff_alpha
from analysis.stats.bias_models import COEF_SCHEMA, ORDINAL_SCHEMA, flip_rate, mixed_bias, ordinal_shift
from analysis.stats.gtheory import d_study, g_study, smallest_n

LENGTH = "log2_length"
"""The length term: points per doubling of the answer's length."""

MODEL_ALL = "all answers"
MODEL_DIFF = "judge - reference"
MODEL_DIFF_WITHIN = "judge - reference, within answer model"
MODEL_SELF = "self-preference (all judges)"


def answer_lengths(data) -> pl.DataFrame | None:
    """``response_id, length`` from the data's responses (``answer_chars`` or ``length``),
    or None when the study has no answer lengths."""
    responses = getattr(data, "responses", None)
    if responses is None:
        return None
    for col in ("answer_chars", "length"):
        if col in responses.columns and responses[col].drop_nulls().len() > 0:
            return responses.select("response_id", pl.col(col).cast(pl.Float64).alias("length"))
    return None


def _data(study):
    """The data object of a loaded study (:class:`analysis.studies.registry.Study`), or
    the object itself (a simulated study, :class:`analysis.data.bias_sim.SimStudy`)."""
    return getattr(study, "data", study)


def _references(study) -> tuple[str, ...]:
    spec = getattr(study, "spec", None)
    return tuple(spec.references if spec is not None else study.references)


def long_scores(study) -> pl.DataFrame:
    """Every rating of the study's judges and references with the covariates: ``item_id,
    response_id, answer_model, category, rater, run, score, own_source`` (1/0 for a
    judge's ratings, null for a reference's) and ``log2_length``: log2 of the answer's
    length minus its mean over the study's answers (so an intercept is at the average
    length; null without lengths, and for an answer of length 0)."""
    data = _data(study)
    refs = _references(study)
    raters = [*refs, *study.evaluators]
    r = data.ratings.filter(pl.col("rater").is_in(raters))
    own = study.own_answer_model
    r = r.with_columns(
        pl.col("eval_run").cast(pl.String).alias("run"),
        pl.when(pl.col("rater").is_in(list(refs))).then(None)
        .otherwise((pl.col("answer_model") == pl.col("rater").replace_strict(
            {e: own.get(e) or "" for e in study.evaluators}, default="")).cast(pl.Float64)).alias("own_source"))
    lengths = answer_lengths(data)
    if lengths is not None:
        lengths = lengths.with_columns(pl.when(pl.col("length") > 0).then(pl.col("length").log(2)).alias(LENGTH))
        lengths = lengths.with_columns(pl.col(LENGTH) - pl.col(LENGTH).mean())
        r = r.join(lengths.select("response_id", LENGTH), on="response_id", how="left")
    else:
        r = r.with_columns(pl.lit(None, pl.Float64).alias(LENGTH))
    return r.select("item_id", "response_id", "answer_model", "category", "rater", "run", "score", "own_source",
                    LENGTH).sort("rater", "response_id", "run")


def _varies(frame: pl.DataFrame, col: str) -> bool:
    return col in frame.columns and frame[col].drop_nulls().n_unique() > 1


def _terms(frame: pl.DataFrame, wanted: Sequence[str]) -> list[str]:
    """The wanted terms whose columns vary in ``frame`` (a constant column is no covariate)."""
    return [t for t in wanted if all(_varies(frame, p) for p in t.split(":"))]


def _label(table: pl.DataFrame, **cols) -> pl.DataFrame:
    return table.select(*[pl.lit(v, pl.String).alias(k) for k, v in cols.items()], *table.columns)


def _reference_mean(scores: pl.DataFrame, references: Sequence[str]) -> pl.DataFrame:
    """Per answer the mean of the references' scores (answers every reference rated)."""
    ref = scores.filter(pl.col("rater").is_in(list(references)))
    return (ref.group_by("response_id").agg(pl.col("score").mean().alias("reference"),
                                            pl.col("rater").n_unique().alias("n_ref"))
            .filter(pl.col("n_ref") == len(references)).drop("n_ref"))


def bias_models(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """The coefficient tables of every judge's models (module docstring), stacked:
    ``evaluator, model, outcome`` then :data:`analysis.stats.bias_models.COEF_SCHEMA`.
    ``outcome`` names the unit (``judge score (points)`` or ``judge - reference mean
    (points)``). A model the data cannot fit (too few answers, a covariate missing)
    is left out; :func:`skipped_models` says which and why."""
    return _fit_all(study, confidence)[0]


def skipped_models(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """``evaluator, model, reason`` of every model :func:`bias_models` left out."""
    return _fit_all(study, confidence)[1]


_CACHE: dict = {}


def _fit_all(study, confidence: float):
    key = (id(_data(study)), tuple(study.evaluators), confidence)
    if key in _CACHE:
        return _CACHE[key][1]
    scores = long_scores(study)
    refs = _references(study)
    frames, skipped = [], []
    outcome_score, outcome_diff = "judge score (points)", "judge - reference mean (points)"

    def fit(evaluator, model, outcome, frame, y, terms, **kw):
        terms = _terms(frame, terms)
        try:
            t = mixed_bias(frame, y, terms, confidence=confidence, **kw)
        except ValueError as exc:
            skipped.append((evaluator, model, str(exc)))
            return
        frames.append(_label(t, evaluator=evaluator, model=model, outcome=outcome))

    ref_mean = _reference_mean(scores, refs)
    for e in study.evaluators:
        mine = scores.filter(pl.col("rater") == e)
        fit(e, MODEL_ALL, outcome_score, mine, "score", [LENGTH, "answer_model", "category", "run"],
            groups="item_id", nested="response_id")
        diff = mine.join(ref_mean, on="response_id", how="inner").with_columns(
            (pl.col("score") - pl.col("reference")).alias("difference"))
        if diff.height == 0:
            skipped.append((e, MODEL_DIFF, "no answer rated by every reference"))
            continue
        fit(e, MODEL_DIFF, outcome_diff, diff, "difference", [LENGTH, "own_source", "category", "run"],
            groups="item_id")
        fit(e, MODEL_DIFF_WITHIN, outcome_diff, diff, "difference", [LENGTH, "answer_model", "category", "run"],
            groups="item_id")
    judges = [e for e in study.evaluators if study.own_answer_model.get(e)]
    if len(study.evaluators) >= 2 and judges:
        stacked = (scores.filter(pl.col("rater").is_in(list(study.evaluators)))
                   .group_by("item_id", "response_id", "answer_model", "category", "rater", LENGTH)
                   .agg(pl.col("score").mean(), pl.col("own_source").first())
                   .rename({"rater": "judge"}).sort("judge", "response_id"))
        fit("all judges", MODEL_SELF, "judge score, mean of runs (points)", stacked, "score",
            ["judge", "answer_model", "category", f"judge:{LENGTH}", "judge:own_source"], groups="item_id",
            nested="response_id", reference={"judge": study.evaluators[0]})
    else:
        skipped.append(("all judges", MODEL_SELF, "needs two or more judges, one with an own answer model"))
    schema = {"evaluator": pl.String, "model": pl.String, "outcome": pl.String, **COEF_SCHEMA}
    table = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    out = (table, pl.DataFrame(skipped, schema={"evaluator": pl.String, "model": pl.String, "reason": pl.String},
                               orient="row"))
    _CACHE.clear()
    _CACHE[key] = (_data(study), out)  # holding the data keeps its id from being reused
    return out


def length_effects(table: pl.DataFrame) -> pl.DataFrame:
    """The length rows of :func:`bias_models` (points per doubling of the answer's length):
    ``log2_length`` of the per-judge models, ``judge[x]:log2_length`` of the stacked one."""
    return table.filter(pl.col("term").str.contains(LENGTH, literal=True))


def self_preference_terms(table: pl.DataFrame) -> pl.DataFrame:
    """The ``judge[x]:own_source`` rows (self-preference, points) of the stacked model, and
    the ``own_source`` rows of the judge - reference models."""
    return table.filter(pl.col("term").str.ends_with(":own_source") | (pl.col("term") == "own_source"))


def ordinal_shifts(study, *, confidence: float = 0.95) -> pl.DataFrame:
    """The proportional-odds shift of every judge (each run a rating) and of the other
    references against the first reference, on the answers the references rated,
    standard errors clustered by conversation (:func:`analysis.stats.bias_models.ordinal_shift`).
    Columns ``reference`` then :data:`analysis.stats.bias_models.ORDINAL_SCHEMA`."""
    scores = long_scores(study)
    refs = _references(study)
    rated = _reference_mean(scores, refs)["response_id"]
    s = scores.filter(pl.col("response_id").is_in(rated.to_list()) & pl.col("score").is_not_nan())
    table = ordinal_shift(s["score"].to_numpy(), s["rater"].to_numpy(), reference=refs[0],
                          clusters=s["item_id"].to_numpy(), confidence=confidence)
    return _label(table, reference=refs[0])


def selection_note(study) -> str:
    """How the reference-rated answers relate to all answers, where the data show it.

    For each judge, the share of conversations whose rated answer is the one that judge
    scored lowest (mean of its runs; ties count as lowest). A judge at 100 % picked them:
    the rated answers are then not a random sample, and a judge - reference model on them
    describes the low end of that judge's scores (its errors there are selected for
    being negative). The all-answers models need no human and have no such selection."""
    scores = long_scores(study)
    refs = _references(study)
    rated = _reference_mean(scores, refs).select("response_id")
    n_answers = scores.select("response_id").n_unique()
    per_conv = scores.select("item_id", "response_id").unique().group_by("item_id").len()["len"]
    if rated.height == 0:
        return "No answer is rated by every reference: no judge - reference model."
    rated_items = scores.join(rated, on="response_id").select("item_id", "response_id").unique()
    text = (f"The references rated {rated.height} of {n_answers} answers "
            f"({rated_items['item_id'].n_unique()} conversations, up to {int(per_conv.max())} answers each).")
    if per_conv.max() <= 1:
        return text
    for e in study.evaluators:
        means = (scores.filter(pl.col("rater") == e).group_by("item_id", "response_id")
                 .agg(pl.col("score").mean()))
        lowest = means.with_columns((pl.col("score") == pl.col("score").min().over("item_id")).alias("lowest"))
        hit = rated_items.join(lowest, on=["item_id", "response_id"], how="left")["lowest"].fill_null(False)
        if hit.len() and bool(hit.all()):
            return (text + f" They are NOT a random sample: in every one of these conversations the rated answer "
                    f"is the one {e} scored lowest (mean of its runs). A judge - reference model on them describes "
                    f"low-scored answers only, and {e}'s own errors there are selected to be negative; the "
                    f"all-answers models below need no human and have no such selection.")
    return text + " No judge's lowest-scored answer explains the choice (checked for every judge)."


def stability_card(study, *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0,
                   targets: Sequence[float] = (0.8, 0.9)) -> pl.DataFrame:
    """Per judge and category (``all`` first): how often its score of the same answer
    changes between runs (``flip_rate`` with a cluster-bootstrap interval over
    conversations, ``pairwise_flip``), Krippendorff's alpha (ordinal) and Fleiss' kappa
    across its runs, and (category ``all``) the D-study of its runs (``p x i``, runs
    random): ``phi_1`` (one run), ``phi_observed`` (the runs it has) and the runs a mean
    needs for Phi >= each target (``runs_for_phi_0.8`` ...; null: more than 10,000)."""
    scores = long_scores(study)
    rows = []
    for k, e in enumerate(study.evaluators):
        mine = scores.filter(pl.col("rater") == e)
        wide = mine.pivot(on="run", index=["item_id", "response_id", "category"], values="score",
                          aggregate_function="first").sort("response_id")
        run_cols = sorted([c for c in wide.columns if c not in ("item_id", "response_id", "category")], key=int)
        if len(run_cols) < 2:
            continue
        groups = [("all", wide)] + [(c, wide.filter(pl.col("category") == c))
                                    for c in sorted(wide["category"].drop_nulls().unique().to_list())]
        for name, w in groups:
            x = w.select(run_cols).to_numpy().astype(float)
            fr = flip_rate(x, clusters=w["item_id"].to_numpy(), confidence=confidence, n_boot=n_boot,
                           seed=int(np.random.SeedSequence([seed, k]).generate_state(1)[0]))
            complete = x[~np.isnan(x).any(axis=1)]
            row = dict(evaluator=e, category=name, n_answers=fr.n, n_runs=len(run_cols), flip_rate=fr.estimate,
                       ci_low=fr.ci_low, ci_high=fr.ci_high, confidence=confidence, pairwise_flip=fr.pairwise,
                       kripp_alpha_ordinal=_safe(lambda: krippendorff_alpha(x, level="ordinal")),
                       fleiss_kappa=_safe(lambda: fleiss_kappa(complete)) if len(complete) else float("nan"),
                       ci_note=fr.ci_note, phi_1=None, phi_observed=None)
            row.update({f"runs_for_phi_{t:g}": None for t in targets})
            if name == "all" and len(complete) >= 2:
                g = g_study(complete, "p x i", facet="runs")
                d = d_study(g, n_runs=[1, len(run_cols)])
                row["phi_1"], row["phi_observed"] = d["phi"].to_list()
                for t in targets:
                    row[f"runs_for_phi_{t:g}"] = smallest_n(g, t, vary="runs", coefficient="phi")
            rows.append(row)
    schema = {"evaluator": pl.String, "category": pl.String, "n_answers": pl.Int64, "n_runs": pl.Int64,
              "flip_rate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "confidence": pl.Float64,
              "pairwise_flip": pl.Float64, "kripp_alpha_ordinal": pl.Float64, "fleiss_kappa": pl.Float64,
              "ci_note": pl.String, "phi_1": pl.Float64, "phi_observed": pl.Float64,
              **{f"runs_for_phi_{t:g}": pl.Int64 for t in targets}}
    return pl.DataFrame(rows, schema=schema)


def _safe(fn) -> float:
    try:
        return float(fn())
    except (ValueError, ZeroDivisionError):
        return float("nan")


def why_tables(study, *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> dict[str, pl.DataFrame]:
    """Every table of the notebook and of ``summary --out``: ``bias_models``,
    ``bias_models_skipped``, ``length_effects``, ``self_preference_terms``,
    ``ordinal_shift``, ``stability``, and ``selection`` (the sentence of
    :func:`selection_note`)."""
    table, skipped = _fit_all(study, confidence)
    tables = {"bias_models": table, "bias_models_skipped": skipped, "length_effects": length_effects(table),
              "self_preference_terms": self_preference_terms(table)}
    try:
        tables["ordinal_shift"] = ordinal_shifts(study, confidence=confidence)
    except ValueError as exc:
        tables["ordinal_shift"] = pl.DataFrame({"reference": [_references(study)[0]], "skipped": [str(exc)]})
    tables["stability"] = stability_card(study, confidence=confidence, n_boot=n_boot, seed=seed)
    tables["selection"] = pl.DataFrame({"note": [selection_note(study)]})
    return tables


__all__ = ["LENGTH", "answer_lengths", "long_scores", "bias_models", "skipped_models", "length_effects",
           "self_preference_terms", "ordinal_shifts", "selection_note", "stability_card", "why_tables",
           "ORDINAL_SCHEMA"]
