"""The demo data set: shape, determinism, audit, and recovery of the planted truth."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analysis.stats.bias import mean_bias
from analysis.data.demo import ANSWER_MODELS, CATEGORIES, EVALUATOR_EFFECTS, demo_truth, generate_demo
from analysis.studies.evaluators import run_reliability
from analysis.stats.icc import intraclass_corr
from analysis.data.ratings import RATINGS_SCHEMA
from analysis.studies.self_preference import self_preference
from analysis.studies.scored import HUMAN_MEAN, review_scores


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


@pytest.fixture(scope="module")
def scores(demo):
    return review_scores(demo.ratings, demo.review_set, demo.items, humans=("H1", "H2"),
                         evaluators=tuple(EVALUATOR_EFFECTS), jury=tuple(EVALUATOR_EFFECTS))


def truth(quantity: str, evaluator: str) -> float:
    t = demo_truth()
    return t.filter((pl.col("quantity") == quantity) & (pl.col("evaluator") == evaluator))["value"].item()


def test_shape(demo):
    assert demo.items.height == 200
    assert set(demo.items["category"]) == set(CATEGORIES)
    assert demo.items.group_by("category").len()["len"].min() >= 3
    assert demo.responses.height == 200 * len(ANSWER_MODELS) * 3
    assert dict(demo.ratings.schema) == RATINGS_SCHEMA
    llm = demo.ratings.filter(pl.col("rater_kind") == "llm")
    assert set(llm["rater"]) == set(EVALUATOR_EFFECTS) and set(llm["eval_run"]) == {1, 2, 3}
    humans = demo.ratings.filter(pl.col("rater_kind") == "human")
    assert humans.height == 400 and set(humans["response_id"]) == set(demo.review_set["response_id"])
    assert set(demo.ratings["score"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_audit_accounts_for_every_generated_record(demo):
    generated = 200 * 15 * 3 * 3 + 200 * 2
    assert demo.audit.height == generated
    excluded = demo.audit.filter(pl.col("status") == "excluded")
    assert demo.ratings.height + excluded.height == generated
    assert set(excluded["reason"]) == {"missing score"} and 0 < excluded.height < 0.02 * generated


def test_same_seed_same_bytes_other_seed_other_data(demo):
    again = generate_demo()
    for name in ("items", "responses", "ratings", "review_set", "audit"):
        assert getattr(again, name).write_csv() == getattr(demo, name).write_csv(), name
    assert generate_demo(seed=1).ratings.write_csv() != demo.ratings.write_csv()


def test_review_answer_is_the_lowest_gpt4o_mini_score(demo):
    means = (demo.ratings.filter(pl.col("rater") == "gpt-4o-mini").group_by("item_id", "response_id")
             .agg(pl.col("score").mean()))
    lowest = means.group_by("item_id").agg(pl.col("score").min())
    chosen = demo.review_set.join(means, on=["item_id", "response_id"]).join(lowest, on="item_id", suffix="_min")
    assert (chosen["score"] == chosen["score_min"]).all()


@pytest.mark.parametrize("evaluator", [*EVALUATOR_EFFECTS, "jury"])
def test_planted_bias_lies_in_the_95_ci(scores, evaluator):
    r = mean_bias(scores.column(evaluator), scores.column(HUMAN_MEAN), n_boot=2000, seed=20261124)
    assert r.ci_low <= truth("bias_vs_human_mean", evaluator) <= r.ci_high


def test_lenient_evaluator_is_recovered_as_lenient(scores):
    r = mean_bias(scores.column("meta-llama"), scores.column(HUMAN_MEAN), n_boot=2000, seed=1)
    assert r.ci_low > 0.5  # planted +0.6 on the latent scale; about +0.73 on the observed scale


@pytest.mark.parametrize("evaluator", [*EVALUATOR_EFFECTS, "jury"])
@pytest.mark.parametrize("form, quantity", [("ICC(A,1)", "icc_a1_vs_human_mean"), ("ICC(C,1)", "icc_c1_vs_human_mean")])
def test_icc_bootstrap_ci_covers_the_true_icc(scores, evaluator, form, quantity):
    x = np.column_stack([scores.column(evaluator), scores.column(HUMAN_MEAN)])
    res = intraclass_corr(x, ci="bca", n_boot=2000, seed=20261124).filter(pl.col("type") == form).row(0, named=True)
    assert res["ci_low"] <= truth(quantity, evaluator) <= res["ci_high"]


@pytest.mark.parametrize("evaluator", EVALUATOR_EFFECTS)
def test_run_to_run_reliability_is_recovered(demo, evaluator):
    rel = run_reliability(demo.ratings, evaluator, jury=demo.evaluators, n_boot=1000, seed=5)
    row = rel.filter((pl.col("type") == "ICC(A,1)") & (pl.col("ci_method") == "BCa")).row(0, named=True)
    assert row["ci_low"] <= truth("run_icc_a1", evaluator) <= row["ci_high"]
    assert row["n_dropped"] > 0  # answers with a missing run are left out, and counted


def test_least_reliable_evaluator_is_meta_llama(demo):
    icc = {e: run_reliability(demo.ratings, e, n_boot=100, seed=1).filter(pl.col("type") == "ICC(A,1)")["icc"][0]
           for e in EVALUATOR_EFFECTS}
    assert min(icc, key=icc.get) == "meta-llama"


@pytest.mark.parametrize("evaluator", EVALUATOR_EFFECTS)
def test_self_preference_ci_covers_the_truth(demo, evaluator):
    sp = self_preference(demo.ratings, evaluator, evaluators=demo.evaluators, own_answer_model=demo.own_answer_model,
                         n_boot=1000, seed=7)
    row = sp.filter(pl.col("quantity") == "self_preference").row(0, named=True)
    assert row["ci_low"] <= truth("self_preference", evaluator) <= row["ci_high"]


def test_human_disagreement_is_realistic(scores):
    mae = np.mean(np.abs(scores.column("H1") - scores.column("H2")))
    assert 0.35 < mae < 0.75  # real H1 vs H2: 0.463
    assert truth("human_mae", "H1 vs H2") == pytest.approx(mae, abs=0.15)
