"""The demo data set: shape, determinism, audit, and recovery of the planted truth: the
coverage of every 95 % interval over 20 simulated data sets, and the width of each against
its expected order."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis.stats.bias import mean_bias
from analysis.data.demo import ANSWER_MODELS, CATEGORIES, EVALUATOR_EFFECTS, demo_truth, generate_demo
from analysis.studies.evaluators import run_reliability
from analysis.stats.icc import icc_batch, intraclass_corr
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


# Calibration: every interval is computed on SEEDS independent demo data sets, and the
# share covering the generator's truth (``demo_truth``, Monte Carlo SE <= 0.0023, negligible
# beside widths of ~0.1) must lie within the binomial range of a 95 % interval; the width
# must be of the expected order, so that an interval ten times too wide (which always
# covers) fails too. N_ITEMS = 120 keeps the 20 data sets within a few seconds.
SEEDS = range(20)
N_ITEMS = 120


def _coverage_bounds(n: int, alpha: float = 0.001) -> tuple[int, int]:
    """Central 99.9 % range of Binomial(n, 0.95): a calibrated interval lands inside it
    999 times in 1000 (if the n intervals were independent; they share the humans within a
    seed, so the range is widened by one on each side)."""
    return int(stats.binom.ppf(alpha / 2, n, 0.95)) - 1, min(n, int(stats.binom.isf(alpha / 2, n, 0.95)) + 1)


def _jackknife_se(x: np.ndarray, col: int) -> float:
    """Jackknife SE (Efron & Tibshirani 1993, eq. 11.5) of an ICC of the (n, 2) matrix x,
    every leave-one-out in one weighted batch: an estimate of the spread independent of
    the bootstrap."""
    n = len(x)
    theta = icc_batch(x, 1.0 - np.eye(n))[:, col]
    return float(np.sqrt((n - 1) / n * np.sum((theta - theta.mean()) ** 2)))


@pytest.fixture(scope="module")
def calibration():
    rows = []
    for seed in SEEDS:
        d = generate_demo(seed=1000 + seed, n_items=N_ITEMS)
        sc = review_scores(d.ratings, d.review_set, d.items, humans=("H1", "H2"),
                           evaluators=tuple(EVALUATOR_EFFECTS), jury=tuple(EVALUATOR_EFFECTS))
        for ev in [*EVALUATOR_EFFECTS, "jury"]:
            x = np.column_stack([sc.column(ev), sc.column(HUMAN_MEAN)])
            diff = x[:, 0] - x[:, 1]
            b = mean_bias(x[:, 0], x[:, 1], n_boot=1000, seed=seed)
            # Expected width of a 95 % interval of a mean: 2 * 1.96 * SD / sqrt(n).
            rows.append(dict(quantity="bias_vs_human_mean", evaluator=ev, low=b.ci_low, high=b.ci_high,
                             expected_width=2 * 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))))
            icc = intraclass_corr(x, ci="bca", n_boot=1000, seed=seed)
            for form, quantity, col in (("ICC(A,1)", "icc_a1_vs_human_mean", 1),
                                        ("ICC(C,1)", "icc_c1_vs_human_mean", 2)):
                r = icc.filter(pl.col("type") == form).row(0, named=True)
                rows.append(dict(quantity=quantity, evaluator=ev, low=r["ci_low"], high=r["ci_high"],
                                 expected_width=2 * 1.96 * _jackknife_se(x, col)))
        for ev in EVALUATOR_EFFECTS:
            rel = run_reliability(d.ratings, ev, jury=d.evaluators, n_boot=1000, seed=seed)
            r = rel.filter((pl.col("type") == "ICC(A,1)") & (pl.col("ci_method") == "BCa")).row(0, named=True)
            assert r["n_dropped"] > 0  # answers with a missing run are left out, and counted
            rows.append(dict(quantity="run_icc_a1", evaluator=ev, low=r["ci_low"], high=r["ci_high"],
                             expected_width=float("nan")))
            sp = self_preference(d.ratings, ev, evaluators=d.evaluators, own_answer_model=d.own_answer_model,
                                 n_boot=1000, seed=seed)
            r = sp.filter(pl.col("quantity") == "self_preference").row(0, named=True)
            rows.append(dict(quantity="self_preference", evaluator=ev, low=r["ci_low"], high=r["ci_high"],
                             expected_width=float("nan")))
    out = pl.DataFrame(rows).join(demo_truth().select("quantity", "evaluator", pl.col("value").alias("truth")),
                                  on=["quantity", "evaluator"], how="left")
    assert out["truth"].null_count() == 0
    return out.with_columns(((pl.col("low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("high")))
                            .alias("covered"), (pl.col("high") - pl.col("low")).alias("width"))


@pytest.mark.parametrize("quantity", ["bias_vs_human_mean", "icc_a1_vs_human_mean", "icc_c1_vs_human_mean",
                                      "run_icc_a1", "self_preference"])
def test_95_percent_intervals_cover_the_planted_truth_at_the_nominal_rate(calibration, quantity):
    sub = calibration.filter(pl.col("quantity") == quantity)
    lo, hi = _coverage_bounds(sub.height)
    covered = int(sub["covered"].sum())
    assert lo <= covered <= hi, (quantity, covered, sub.height)


@pytest.mark.parametrize("quantity", ["bias_vs_human_mean", "icc_a1_vs_human_mean", "icc_c1_vs_human_mean"])
def test_interval_width_has_the_expected_order(calibration, quantity):
    # Bias: the BCa width against 2 * 1.96 * SD / sqrt(n) (the normal-theory width of a
    # mean); ICCs: against 2 * 1.96 * the jackknife SE. Each interval within 25 % of it,
    # the average within 10 %: an interval twice (or ten times) too wide or narrow fails.
    sub = calibration.filter(pl.col("quantity") == quantity)
    ratio = (sub["width"] / sub["expected_width"]).to_numpy()
    assert ratio.min() > 0.75 and ratio.max() < 1.25, (quantity, ratio.min(), ratio.max())
    assert ratio.mean() == pytest.approx(1.0, abs=0.1)


def test_run_and_self_preference_widths_shrink_like_one_over_root_n(calibration):
    # No closed-form width here: check the order through n instead. The same seeds with
    # 4x the items must give intervals about half as wide (1 / sqrt(4)).
    d = generate_demo(seed=1000, n_items=4 * N_ITEMS)
    small = calibration.filter(pl.col("quantity").is_in(["run_icc_a1", "self_preference"]))
    for ev in EVALUATOR_EFFECTS:
        rel = run_reliability(d.ratings, ev, jury=d.evaluators, n_boot=1000, seed=0)
        big = rel.filter((pl.col("type") == "ICC(A,1)") & (pl.col("ci_method") == "BCa")).row(0, named=True)
        w_small = small.filter((pl.col("quantity") == "run_icc_a1") & (pl.col("evaluator") == ev))["width"].mean()
        assert (big["ci_high"] - big["ci_low"]) / w_small == pytest.approx(0.5, abs=0.15), ev
        sp = self_preference(d.ratings, ev, evaluators=d.evaluators, own_answer_model=d.own_answer_model,
                             n_boot=1000, seed=0).filter(pl.col("quantity") == "self_preference").row(0, named=True)
        w_small = small.filter((pl.col("quantity") == "self_preference") & (pl.col("evaluator") == ev))["width"].mean()
        assert (sp["ci_high"] - sp["ci_low"]) / w_small == pytest.approx(0.5, abs=0.15), ev


def test_lenient_evaluator_is_recovered_as_lenient(scores):
    r = mean_bias(scores.column("meta-llama"), scores.column(HUMAN_MEAN), n_boot=2000, seed=1)
    assert r.ci_low > 0.5  # planted +0.6 on the latent scale; about +0.73 on the observed scale


def test_least_reliable_evaluator_is_meta_llama(demo):
    icc = {e: run_reliability(demo.ratings, e, n_boot=100, seed=1).filter(pl.col("type") == "ICC(A,1)")["icc"][0]
           for e in EVALUATOR_EFFECTS}
    assert min(icc, key=icc.get) == "meta-llama"


def test_human_disagreement_is_realistic(scores):
    mae = np.mean(np.abs(scores.column("H1") - scores.column("H2")))
    assert 0.35 < mae < 0.75  # real H1 vs H2: 0.463
    assert truth("human_mae", "H1 vs H2") == pytest.approx(mae, abs=0.15)
