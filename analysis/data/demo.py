"""A synthetic data set with the shape of Between Help and Harm and a known truth.

It is the embedded default of ``make demo`` and of the notebooks, and the tests use it
to check that the analysis recovers what was planted. Generated deterministically from
a seed with ``numpy.random.default_rng(seed)`` (no global state).

Generative model
----------------
Items ``i`` (conversations) fall in 7 crisis categories ``c(i)``. Every item is
answered by 5 answer models ``m`` x 3 runs ``a``. The latent quality of an answer is

    q[i,m,a] = mu[m] + gamma[c(i)] + u[i] + v[i,m,a],   u ~ N(0, 0.5^2), v ~ N(0, 0.4^2)

and every observed score is ``round_clip(z) = clip(floor(z + 0.5), 1, 5)`` (integers
1-5). Two humans score the review answer of each item (see below):

    H_h[i] = round_clip(q + beta_h + eps),     eps ~ N(0, 0.45^2)

and three LLM evaluators score every answer in 3 evaluation runs ``r``:

    E_e[i,m,a,r] = round_clip(q + beta_e + delta_e [m is e's own model] + w_e[i,m,a] + eps_e[i,m,a,r])

with a persistent evaluator-answer error ``w ~ N(0, sigma_w^2)`` (so the runs of one
answer are correlated) and run noise ``eps ~ N(0, sigma_r^2)``. Parameters
(:data:`PARAMETERS`): gpt-4o-mini lenient (beta +0.4) with a self-preference
(delta +0.3); gpt-5-nano unbiased but noisy per answer (sigma_w 0.6); meta-llama the
most lenient (beta +0.6) with low run-to-run reliability (sigma_r 0.6). H1 is a little
harsher than H2 (beta -0.3 vs 0).

About 1% of evaluation runs are missing (as in the real data, where some answers have
2 runs); they are recorded in the audit as excluded, not silently absent.

The review set, as in the paper: for every item, the answer with the lowest
gpt-4o-mini mean score (ties: the first in model, run order), scored by H1 and H2.

Truth
-----
Because scores are rounded and clipped, and the review answers are selected for low
scores, the truth on the observed scale is not a latent parameter. :func:`demo_truth`
computes it by Monte Carlo: the same generator run on :data:`TRUTH_ITEMS` items with an
independent seed, every estimand computed on the pooled sample; ``mc_se`` columns give
the Monte Carlo standard error where it matters (bias); ICCs of 100,000 items are
precise to about 0.003.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from analysis.data.ratings import REASON_MISSING, AUDIT_SCHEMA, make_ratings
from analysis.data.study_data import RatingsBacked

CATEGORIES: dict[str, float] = {
    "no_crisis": 0.47, "suicidal_ideation": 0.17, "anxiety_crisis": 0.13,
    "substance_abuse_or_withdrawal": 0.08, "self-harm": 0.08, "violent_thoughts": 0.04,
    "risk_taking_behaviours": 0.03,
}
"""The 7 crisis categories of the paper's label set and their demo proportions."""

CATEGORY_EFFECT = {"no_crisis": 0.5, "suicidal_ideation": -0.6, "anxiety_crisis": 0.0,
                   "substance_abuse_or_withdrawal": -0.3, "self-harm": -0.7, "violent_thoughts": -0.5,
                   "risk_taking_behaviours": -0.4}
ANSWER_MODELS: dict[str, float] = {"gpt-4o-mini": 3.9, "gpt-5-nano": 4.1, "meta-llama": 3.7,
                                   "deepseek-chat": 4.0, "grok-4-fast": 3.8}
"""Answer models and their latent mean quality mu[m]."""

HUMANS: dict[str, dict[str, float]] = {"H1": {"beta": -0.3, "sigma": 0.45}, "H2": {"beta": 0.0, "sigma": 0.45}}
EVALUATOR_EFFECTS: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"beta": 0.4, "delta": 0.3, "sigma_w": 0.35, "sigma_r": 0.25},
    "gpt-5-nano": {"beta": 0.0, "delta": 0.0, "sigma_w": 0.6, "sigma_r": 0.2},
    "meta-llama": {"beta": 0.6, "delta": 0.2, "sigma_w": 0.4, "sigma_r": 0.6},
}
PARAMETERS = dict(sigma_item=0.5, sigma_answer=0.4, p_missing_run=0.01, n_runs=3, n_eval_runs=3)
TRUTH_ITEMS = 100_000
TRUTH_SEED = 987_654_321


def _round_clip(z: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(z + 0.5), 1, 5)


def _run_mean(x: np.ndarray) -> np.ndarray:
    """Mean over the last axis of the available (non-NaN) runs; NaN if none."""
    ok = ~np.isnan(x)
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(ok, x, 0.0).sum(axis=-1) / n, np.nan)


def _category_counts(n_items: int) -> dict[str, int]:
    counts = {c: max(3, int(round(p * n_items))) for c, p in CATEGORIES.items()}
    counts["no_crisis"] += n_items - sum(counts.values())
    return counts


@dataclass(frozen=True)
class _Draw:
    category: np.ndarray  # (n,) category index
    human: np.ndarray  # (n, M, A, H) human scores of every answer (only the review answer is used)
    evals: np.ndarray  # (n, M, A, E, R) evaluator scores, NaN = missing run
    review: np.ndarray  # (n,) flat index m * A + a of the review answer


def _simulate(rng: np.random.Generator, n_items: int, *, exact_counts: bool) -> _Draw:
    cats = list(CATEGORIES)
    if exact_counts:
        counts = _category_counts(n_items)
        category = rng.permutation(np.repeat(np.arange(len(cats)), [counts[c] for c in cats]))
    else:
        category = rng.choice(len(cats), size=n_items, p=np.array(list(CATEGORIES.values())))
    models = list(ANSWER_MODELS)
    n_m, n_a, n_r = len(models), PARAMETERS["n_runs"], PARAMETERS["n_eval_runs"]
    gamma = np.array([CATEGORY_EFFECT[c] for c in cats])[category]
    mu = np.array(list(ANSWER_MODELS.values()))
    q = (mu[None, :, None] + gamma[:, None, None] + rng.normal(0, PARAMETERS["sigma_item"], (n_items, 1, 1))
         + rng.normal(0, PARAMETERS["sigma_answer"], (n_items, n_m, n_a)))
    human = np.stack([_round_clip(q + h["beta"] + rng.normal(0, h["sigma"], q.shape)) for h in HUMANS.values()],
                     axis=-1)
    evals = []
    for name, p in EVALUATOR_EFFECTS.items():
        own = np.array([m == name for m in models], float)[None, :, None]
        persistent = q + p["beta"] + p["delta"] * own + rng.normal(0, p["sigma_w"], q.shape)
        runs = _round_clip(persistent[..., None] + rng.normal(0, p["sigma_r"], q.shape + (n_r,)))
        evals.append(runs)
    evals = np.stack(evals, axis=-2)  # (n, M, A, E, R)
    evals[rng.random(evals.shape) < PARAMETERS["p_missing_run"]] = np.nan
    first = _run_mean(evals[..., 0, :]).reshape(n_items, n_m * n_a)  # gpt-4o-mini means
    # An answer without any gpt-4o-mini run cannot be selected (as in the paper's sampling).
    review = np.argmin(np.where(np.isnan(first), np.inf, first), axis=1)
    return _Draw(category=category, human=human, evals=evals, review=review)


@dataclass(frozen=True)
class DemoData(RatingsBacked):
    """The demo data set: the same fields as :class:`analysis.data.bhh.BHHData`, plus ``truth``.

    ``evaluators`` are the LLM evaluators generated (:data:`EVALUATOR_EFFECTS`); each one's
    own answer model (``own_answer_model``) has its name."""

    items: pl.DataFrame
    responses: pl.DataFrame
    ratings: pl.DataFrame
    review_set: pl.DataFrame
    audit: pl.DataFrame
    truth: pl.DataFrame
    seed: int
    evaluators: tuple[str, ...] = tuple(EVALUATOR_EFFECTS)
    own_answer_model: dict[str, str | None] | None = None

    @property
    def references(self) -> tuple[str, ...]:
        """The generated humans (H1, H2)."""
        return tuple(HUMANS)

    @property
    def crisis_labels(self) -> None:
        return None


def generate_demo(seed: int = 20261124, n_items: int = 200) -> DemoData:
    """Generate the demo data set (see the module docstring for the model).

    Examples
    --------
    >>> d = generate_demo(seed=1, n_items=50)
    >>> d.items.height, d.responses.height, sorted(d.ratings["rater"].unique())
    (50, 750, ['H1', 'H2', 'gpt-4o-mini', 'gpt-5-nano', 'meta-llama'])
    """
    if n_items < 3 * len(CATEGORIES):
        raise ValueError(f"n_items must be at least {3 * len(CATEGORIES)} (3 per category), got {n_items}")
    rng = np.random.default_rng(seed)
    draw = _simulate(rng, n_items, exact_counts=True)
    cats, models, evaluators, humans = list(CATEGORIES), list(ANSWER_MODELS), list(EVALUATOR_EFFECTS), list(HUMANS)
    n_m, n_a = len(models), PARAMETERS["n_runs"]
    item_ids = np.array([f"demo-{i:03d}" for i in range(n_items)])
    category = np.array(cats)[draw.category]
    items = pl.DataFrame({"item_id": item_ids, "dataset_id": ["demo"] * n_items, "category": category,
                          "n_turns": rng.integers(1, 12, n_items).astype(np.int64)})

    i_idx, m_idx, a_idx = (g.ravel() for g in np.meshgrid(np.arange(n_items), np.arange(n_m), np.arange(n_a),
                                                            indexing="ij"))
    model_arr = np.array(models)[m_idx]
    resp_ids = np.char.add(np.char.add(np.char.add(item_ids[i_idx], "/"), model_arr),
                           np.char.add("/run", (a_idx + 1).astype(str)))
    sources = np.char.add(np.char.add("demo:answers/", model_arr), np.char.add("/run", (a_idx + 1).astype(str)))
    responses = pl.DataFrame({"response_id": resp_ids, "item_id": item_ids[i_idx], "answer_model": model_arr,
                              "answer_run": (a_idx + 1).astype(np.int32), "source_file": sources,
                              "row": i_idx.astype(np.int64)})

    # LLM evaluation runs, one row each, in (item, model, answer run, evaluator, run) order.
    flat = draw.evals.reshape(-1)
    shape = draw.evals.shape
    ii, mm, aa, ee, rr = (g.ravel() for g in np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"))
    resp_of = ii * n_m * n_a + mm * n_a + aa
    ev_names = np.array(evaluators)[ee]
    ev_source = np.char.add(np.char.add("demo:evaluations/", ev_names),
                            np.char.add("/", np.char.replace(sources[resp_of], "demo:answers/", "")))
    ev_record = np.char.add(np.char.add("row ", ii.astype(str)), np.char.add(" run ", (rr + 1).astype(str)))
    present = ~np.isnan(flat)
    llm = pl.DataFrame({
        "dataset": "demo", "item_id": item_ids[ii], "response_id": resp_ids[resp_of], "answer_model": np.array(models)[mm],
        "answer_run": (aa + 1).astype(np.int32), "category": category[ii], "attribute": "appropriateness",
        "rater": ev_names, "rater_kind": "llm", "eval_run": (rr + 1).astype(np.int32), "score": flat,
        "source_file": ev_source, "source_record": ev_record,
    })
    # Human scores of the review answer of each item.
    review_resp = np.arange(n_items) * n_m * n_a + draw.review
    rm, ra = draw.review // n_a, draw.review % n_a
    hum_scores = draw.human[np.arange(n_items), rm, ra, :]  # (n, H)
    hum = pl.concat([pl.DataFrame({
        "dataset": "demo", "item_id": item_ids, "response_id": resp_ids[review_resp],
        "answer_model": np.array(models)[rm], "answer_run": (ra + 1).astype(np.int32), "category": category,
        "attribute": "appropriateness", "rater": h, "rater_kind": "human", "eval_run": np.ones(n_items, np.int32),
        "score": hum_scores[:, j], "source_file": f"demo:human/{h}_scores",
        "source_record": np.char.add("row ", np.arange(n_items).astype(str)),
    }) for j, h in enumerate(humans)])
    all_rows = pl.concat([llm, hum])
    ratings = make_ratings(all_rows.filter(pl.col("score").is_not_nan()))
    used = np.concatenate([present, np.ones(hum.height, bool)])
    audit = all_rows.select(
        pl.lit("demo").alias("dataset"), "source_file", pl.col("source_record").alias("record"), "rater",
        pl.Series("status", np.where(used, "used", "excluded")),
    ).with_columns(
        pl.when(pl.col("status") == "excluded").then(pl.lit(REASON_MISSING)).alias("reason"),
        pl.lit(None, dtype=pl.String).alias("detail"),
    ).cast(AUDIT_SCHEMA)
    review_set = pl.DataFrame({
        "item_id": item_ids, "response_id": resp_ids[review_resp],
        "sampled_from": np.char.add("demo:evaluations/gpt-4o-mini/",
                                    np.char.replace(sources[review_resp], "demo:answers/", "")),
        "category": category, "has_scores": np.ones(n_items, bool),
    })
    return DemoData(items=items, responses=responses, ratings=ratings, review_set=review_set, audit=audit,
                    truth=demo_truth(), seed=seed, own_answer_model={e: e for e in EVALUATOR_EFFECTS})


@lru_cache(maxsize=1)
def demo_truth() -> pl.DataFrame:
    """Estimands of the demo generator on the observed 1-5 scale (Monte Carlo, see module).

    Rows: ``quantity`` in ``bias_vs_human_mean`` (evaluator - (H1+H2)/2 on the review
    set, points), ``icc_a1_vs_human_mean`` / ``icc_c1_vs_human_mean`` (review set),
    ``run_icc_a1`` (between two evaluation runs, all answers), ``self_preference``
    (the estimator of :mod:`analysis.studies.self_preference`, points), for each ``evaluator``
    (and ``jury``); plus ``human_mae`` (H1 vs H2). ``mc_se``: Monte Carlo SE (NaN where
    not computed).
    """
    from analysis.stats.icc import icc_batch

    rng = np.random.default_rng(TRUTH_SEED)
    d = _simulate(rng, TRUTH_ITEMS, exact_counts=False)
    n, n_a = TRUTH_ITEMS, PARAMETERS["n_runs"]
    rm, ra = d.review // n_a, d.review % n_a
    h = d.human[np.arange(n), rm, ra, :]
    human_mean = h.mean(axis=1)
    ev_resp = _run_mean(d.evals)  # (n, M, A, E): mean of available runs
    ev_review = ev_resp[np.arange(n), rm, ra, :]  # (n, E)
    names = list(EVALUATOR_EFFECTS)
    cols = {e: ev_review[:, j] for j, e in enumerate(names)}
    cols["jury"] = ev_review.mean(axis=1)
    rows = []
    for e, x in cols.items():
        ok = ~np.isnan(x)
        diff = x[ok] - human_mean[ok]
        rows.append(("bias_vs_human_mean", e, float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(ok.sum()))))
        icc = icc_batch(np.column_stack([x[ok], human_mean[ok]]))
        rows.append(("icc_a1_vs_human_mean", e, float(icc[1]), float("nan")))
        rows.append(("icc_c1_vs_human_mean", e, float(icc[2]), float("nan")))
    for j, e in enumerate(names):
        runs = d.evals[..., j, :].reshape(-1, PARAMETERS["n_eval_runs"])
        runs = runs[~np.isnan(runs).any(axis=1)]
        rows.append(("run_icc_a1", e, float(icc_batch(runs)[1]), float("nan")))
    models = list(ANSWER_MODELS)
    for j, e in enumerate(names):
        own = np.array([m == e for m in models])
        gap = {}
        for k, o in enumerate(names):
            s = ev_resp[..., k]
            own_s, other_s = s[:, own, :], s[:, ~own, :]
            gap[o] = own_s[~np.isnan(own_s)].mean() - other_s[~np.isnan(other_s)].mean()
        sp = gap[e] - np.mean([gap[o] for o in names if o != e])
        rows.append(("self_preference", e, float(sp), float("nan")))
    d_h = np.abs(h[:, 0] - h[:, 1])
    rows.append(("human_mae", "H1 vs H2", float(d_h.mean()), float(d_h.std(ddof=1) / np.sqrt(n))))
    return pl.DataFrame(rows, schema={"quantity": pl.String, "evaluator": pl.String, "value": pl.Float64,
                                      "mc_se": pl.Float64}, orient="row")
