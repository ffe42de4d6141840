"""Bias models (analysis.stats.bias_models, analysis.studies.why): against lme4/ordinal,
against planted effects, and on Between Help and Harm."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from analysis.data.bias_sim import TRUTH, simulate_bias_study, simulate_ordinal
from analysis.stats.bias_models import COEF_SCHEMA, flip_rate, mixed_bias, ordinal_shift
from analysis.studies import why

R_DIR = Path(__file__).parent / "r"
sys.path.insert(0, str(R_DIR))
from make_bias_models_data import frames  # noqa: E402

r_frames = functools.lru_cache(maxsize=1)(frames)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _r_name(term: str) -> str:
    """Python term -> lme4's name: ``answer_model[model-b]`` -> ``answer_modelmodel-b``."""
    return "(Intercept)" if term == "Intercept" else re.sub(r"(\w+)\[([^\]]+)\]", r"\1\2", term)


def _python_fits() -> pl.DataFrame:
    f = r_frames()
    out = []
    for model, frame, y, terms, kw in (
        ("all answers", f["all_answers"], "score", ["log2_length", "answer_model", "run"], dict(nested="response_id")),
        ("difference", f["difference"], "difference", ["log2_length", "own_source", "run"], {}),
        ("stacked", f["stacked"], "score", ["judge", "answer_model", "judge:log2_length", "judge:own_source"],
         dict(nested="response_id")),
    ):
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c in ("run",) if c in frame.columns)
        t = mixed_bias(frame, y, terms, groups="item_id", **kw)
        out.append(t.select(pl.lit(model).alias("model"), "term", "estimate", "se"))
    o = f["ordinal"]
    t = ordinal_shift(o["score"], o["rater"], reference="H1")
    out.append(t.select(pl.lit("ordinal").alias("model"), pl.col("term").str.replace(r"rater\[(.*)\]", "rater$1"),
                        "estimate", "se"))
    return pl.concat(out).with_columns(pl.col("term").map_elements(_r_name, return_dtype=pl.String))


def _read_r(path) -> pl.DataFrame:
    return pl.read_csv(path, null_values="NA", schema_overrides={"se": pl.Float64})


def _compare(reference: pl.DataFrame) -> None:
    py = _python_fits()
    joined = reference.join(py, on=["model", "term"], how="full", suffix="_py")
    missing = joined.filter(pl.col("estimate").is_null() | pl.col("estimate_py").is_null())
    assert missing.height == 0, f"terms not in both fits: {missing.select('model', 'term', 'model_py', 'term_py').rows()}"
    est = np.abs(joined["estimate"].to_numpy() - joined["estimate_py"].to_numpy())
    assert est.max() < 2e-4, joined.with_columns(diff=pl.Series(est)).sort("diff").tail(3)
    se = joined.filter(pl.col("se").is_not_null())
    rel = np.abs(se["se"].to_numpy() / se["se_py"].to_numpy() - 1)
    assert rel.max() < 2e-3, se.with_columns(rel=pl.Series(rel)).sort("rel").tail(3)


def test_every_model_matches_the_stored_lme4_and_clm_fits():
    # tests/r/bias_models_reference.csv: tests/r/bias_models.R (lme4 1.1, ordinal 2023) on the
    # frames of tests/r/make_bias_models_data.py.
    _compare(_read_r(R_DIR / "bias_models_reference.csv"))


def test_every_model_matches_a_live_lme4_and_clm_fit(tmp_path):
    if shutil.which("Rscript") is None:
        message = "Rscript not installed (Debian: r-base-core r-cran-lme4 r-cran-ordinal)"
        if _on_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    out = tmp_path / "ref.csv"
    run = subprocess.run(["Rscript", str(R_DIR / "bias_models.R"), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    live = _read_r(out)
    stored = _read_r(R_DIR / "bias_models_reference.csv")
    assert live.select("model", "term").rows() == stored.select("model", "term").rows()
    assert np.allclose(live["estimate"].to_numpy(), stored["estimate"].to_numpy(), atol=1e-6)
    _compare(live)


def test_the_table_has_the_result_columns_and_refuses_an_aliased_term():
    f = r_frames()["difference"].with_columns(pl.col("run").cast(pl.String))
    t = mixed_bias(f, "difference", ["log2_length", "run"], groups="item_id")
    assert dict(t.schema) == COEF_SCHEMA
    assert t["term"].to_list() == ["Intercept", "log2_length", "run[2]", "sd(item_id)", "sd(residual)"]
    z = sps.norm.ppf(0.975)
    fixed = t.head(3)
    assert np.allclose(fixed["ci_high"] - fixed["estimate"], z * fixed["se"])
    assert np.allclose(fixed["pvalue"], 2 * sps.norm.sf(np.abs(fixed["estimate"] / fixed["se"])))
    g = r_frames()["all_answers"].with_columns(pl.col("run").cast(pl.String),
                                                (pl.col("answer_model") == "model-b").cast(pl.Float64).alias("own"))
    with pytest.raises(ValueError, match=r"term 'own' is aliased"):
        mixed_bias(g, "score", ["answer_model", "own"], groups="item_id")


def test_points_at_the_median_follow_from_the_thresholds():
    o = simulate_ordinal(seed=2, n_conversations=200)
    t = ordinal_shift(o["score"], o["rater"], reference="H1", clusters=o["cluster"])
    # Refit without clusters: same estimates, model-based SEs.
    t0 = ordinal_shift(o["score"], o["rater"], reference="H1")
    assert np.allclose(t["estimate"], t0["estimate"])
    assert not np.allclose(t["se"], t0["se"])
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    raters = sorted(set(o["rater"]) - {"H1"})
    X = np.column_stack([(o["rater"].to_numpy() == r).astype(float) for r in raters])
    m = OrderedModel(o["score"].to_numpy() - 1, X, distr="logit")
    p = m.fit(method="bfgs", disp=False).params
    cuts = m.transform_threshold_params(p)[1:-1]

    def mean_score(eta):
        probs = np.diff(np.concatenate([[0], sps.logistic.cdf(cuts - eta), [1]]))
        return float(np.sum(np.arange(1, len(probs) + 1) * probs))

    expected = [mean_score(p[j]) - mean_score(0.0) for j in range(len(raters))]
    assert np.allclose(t["points_at_median"], expected, atol=1e-6)
    assert (t["points_ci_low"] < t["points_at_median"]).all() and (t["points_at_median"] < t["points_ci_high"]).all()


def test_one_observation_per_cluster_is_ordinary_least_squares():
    import statsmodels.api as sm

    f = r_frames()["difference"].filter(pl.col("run") == "1")
    t = mixed_bias(f, "difference", ["log2_length", "own_source"], groups="item_id")
    ols = sm.OLS(f["difference"].to_numpy(), sm.add_constant(f.select("log2_length", "own_source").to_numpy())).fit()
    assert np.allclose(t["estimate"][:3], ols.params) and np.allclose(t["se"][:3], ols.bse)
    assert np.allclose(t.select("ci_low", "ci_high").head(3).to_numpy(), ols.conf_int())
    assert np.allclose(t["pvalue"][:3], ols.pvalues)
    assert "fitted by OLS" in t["ci_note"][0]


def test_flip_rate_by_hand():
    runs = np.array([[4, 4, 4], [4, 5, 4], [3, 3, np.nan], [2, np.nan, np.nan], [5, 1, 3]], float)
    r = flip_rate(runs, clusters=["a", "a", "b", "c", "c"], n_boot=200, seed=1)
    assert r.n == 4 and r.n_clusters == 3  # the answer with one run is left out
    assert r.estimate == pytest.approx(2 / 4)
    # pairs: 3 (0 differ) + 3 (2 differ) + 1 (0) + 3 (3) -> 5 / 10
    assert r.pairwise == pytest.approx(0.5)
    assert 0 <= r.ci_low <= r.estimate <= r.ci_high <= 1


def _planted_hits(seed: int, n_conversations: int = 60) -> dict[str, bool]:
    """Do the intervals of one simulated study cover the planted length, self-preference
    and leniency of every judge, and the ordinal shifts? (The models of
    :func:`analysis.studies.why.bias_models` that carry them: the stacked model and the
    judge - reference models; one run, so the latter have one observation per
    conversation and take the OLS path of :func:`mixed_bias`.)"""
    sim = simulate_bias_study(seed=seed, n_conversations=n_conversations, n_runs=1)
    scores = why.long_scores(sim)
    stacked = (scores.filter(pl.col("rater").is_in(list(sim.evaluators)))
               .rename({"rater": "judge"}).sort("judge", "response_id"))
    table = mixed_bias(stacked, "score", ["judge", "answer_model", "judge:log2_length", "judge:own_source"],
                       groups="item_id", nested="response_id")
    ref = why._reference_mean(scores, sim.references)
    hits = {}
    for judge in sim.evaluators:
        for kind, term in (("length", f"judge[{judge}]:log2_length"), ("self", f"judge[{judge}]:own_source")):
            r = table.filter(pl.col("term") == term).row(0, named=True)
            hits[f"{kind} {judge}"] = r["ci_low"] <= TRUTH[kind][judge] <= r["ci_high"]
        diff = (scores.filter(pl.col("rater") == judge).join(ref, on="response_id")
                .with_columns((pl.col("score") - pl.col("reference")).alias("difference")))
        r = mixed_bias(diff, "difference", ["log2_length", "own_source"], groups="item_id").row(0, named=True)
        hits[f"lenient {judge}"] = r["ci_low"] <= TRUTH["lenient"][judge] <= r["ci_high"]
    o = simulate_ordinal(seed=seed, n_conversations=300)
    t = ordinal_shift(o["score"], o["rater"], reference="H1", clusters=o["cluster"])
    for name, shift in (("H2", 0.3), ("judge-a", 0.8), ("judge-b", 0.0)):
        r = t.filter(pl.col("term") == f"rater[{name}]").row(0, named=True)
        hits[f"ordinal {name}"] = r["ci_low"] <= shift <= r["ci_high"]
    return hits


def test_a_simulated_study_recovers_the_planted_length_bias_self_preference_and_leniency():
    sim = simulate_bias_study(seed=4, n_conversations=120, n_runs=2)
    table = why.bias_models(sim)
    stacked = table.filter(pl.col("evaluator") == "all judges")
    for judge in sim.evaluators:
        for kind, term in (("length", f"judge[{judge}]:log2_length"), ("self", f"judge[{judge}]:own_source")):
            r = stacked.filter(pl.col("term") == term).row(0, named=True)
            assert r["ci_low"] <= TRUTH[kind][judge] <= r["ci_high"], (term, r)
        all_answers = table.filter((pl.col("evaluator") == judge) & (pl.col("model") == why.MODEL_ALL)
                                   & (pl.col("term") == why.LENGTH)).row(0, named=True)
        assert all_answers["ci_low"] <= TRUTH["length"][judge] <= all_answers["ci_high"]
        lenient = table.filter((pl.col("evaluator") == judge) & (pl.col("model") == why.MODEL_DIFF)
                               & (pl.col("term") == "Intercept")).row(0, named=True)
        assert lenient["ci_low"] <= TRUTH["lenient"][judge] <= lenient["ci_high"]
    # The planted effects are large enough to be seen: judge-a's are all significant.
    a = stacked.filter(pl.col("term").str.starts_with("judge[judge-a]:"))
    assert (a["pvalue"] < 0.01).all()
    o = simulate_ordinal(seed=4, n_conversations=300)
    t = ordinal_shift(o["score"], o["rater"], reference="H1", clusters=o["cluster"])
    r = t.filter(pl.col("term") == "rater[judge-a]").row(0, named=True)
    assert r["ci_low"] <= 0.8 <= r["ci_high"] and r["ci_low"] > 0


@pytest.mark.slow
def test_intervals_cover_the_planted_effects_in_200_replications():
    # Per kind of effect (3 judges or raters x 200 replications = 600 intervals, Monte Carlo
    # SE 0.9 % at 95 %) coverage >= 93 %; per effect (200 intervals, SE 1.5 %) >= 90 %.
    hits = [_planted_hits(seed) for seed in range(200)]
    coverage = {k: np.mean([h[k] for h in hits]) for k in hits[0]}
    kinds = {kind: np.mean([v for k, v in coverage.items() if k.split()[0] == kind])
             for kind in ("length", "self", "lenient", "ordinal")}
    assert min(kinds.values()) >= 0.93, f"coverage per kind {kinds} (per effect {coverage})"
    assert min(coverage.values()) >= 0.90, f"coverage per effect {coverage}"


def test_the_stability_card_of_a_simulated_study():
    sim = simulate_bias_study(seed=1, n_conversations=40, n_runs=3)
    card = why.stability_card(sim, n_boot=200)
    assert card["category"].to_list() == ["all"] * 3  # no categories in the simulation
    # Continuous scores: every answer's runs differ.
    assert card["flip_rate"].to_list() == [1.0, 1.0, 1.0]
    assert (card["runs_for_phi_0.9"] >= card["runs_for_phi_0.8"]).all()


@pytest.mark.slow
def test_demo_models_and_the_selection_note():
    from analysis.studies.registry import load_study

    study = load_study("demo")
    tables = why.why_tables(study, n_boot=200)
    assert "NOT a random sample" in tables["selection"]["note"][0]
    assert "gpt-4o-mini scored lowest" in tables["selection"]["note"][0]
    # The demo has no answer texts: no length term, and no model skipped.
    assert tables["length_effects"].height == 0
    assert tables["bias_models_skipped"].height == 0
    sp = tables["self_preference_terms"].filter(pl.col("term").str.ends_with(":own_source"))
    # Planted on the latent scale: gpt-4o-mini +0.3, meta-llama +0.2, gpt-5-nano 0; rounding
    # and the ceiling at 5 move the observed-scale values (demo_truth: 0.24, 0.20, 0.08 with
    # the simple gap estimator, which the other judges' own preference biases down).
    est = dict(zip(sp["term"], sp["estimate"]))
    assert est["judge[gpt-4o-mini]:own_source"] > 0.15 and est["judge[meta-llama]:own_source"] > 0.08
    assert est["judge[gpt-5-nano]:own_source"] < min(est["judge[gpt-4o-mini]:own_source"],
                                                     est["judge[meta-llama]:own_source"])
    shift = tables["ordinal_shift"]
    assert shift["term"].to_list() == ["rater[H2]", "rater[gpt-4o-mini]", "rater[gpt-5-nano]", "rater[meta-llama]"]
    assert shift.filter(pl.col("term") == "rater[H2]")["estimate"][0] > 0  # H1 planted 0.3 harsher


@pytest.mark.slow
@pytest.mark.real_data
def test_between_help_and_harm_length_self_preference_and_shift(shared_data_root):
    from analysis.studies.registry import load_study

    study = load_study("bhh", data_root=shared_data_root)
    # Two answers are an API refusal object, not text (gpt-5-nano, row 104, two runs): no length.
    assert study.data.responses["answer_chars"].null_count() == 2
    tables = why.why_tables(study, n_boot=200)
    length = tables["length_effects"]
    for e in study.evaluators:
        all_answers = length.filter((pl.col("evaluator") == e) & (pl.col("model") == why.MODEL_ALL))
        diff = length.filter((pl.col("evaluator") == e) & (pl.col("model") == why.MODEL_DIFF))
        # Judges like long answers (+0.06 to +0.10 points per doubling), and are more lenient
        # than the humans on short ones (judge - human falls by 0.17-0.24 per doubling).
        assert 0.03 < all_answers["estimate"][0] < 0.15 and all_answers["pvalue"][0] < 1e-3
        assert -0.35 < diff["estimate"][0] < -0.1 and diff["ci_high"][0] < 0
    shift = tables["ordinal_shift"].filter(pl.col("term") == "rater[meta-llama]").row(0, named=True)
    assert 0.5 < shift["estimate"] < 1.1 and shift["ci_low"] > 0 and shift["points_at_median"] > 0.2
    sp = tables["self_preference_terms"].filter(pl.col("term") == "judge[gpt-5-nano]:own_source").row(0, named=True)
    assert sp["ci_low"] > 0.1
    assert "gpt-4o-mini scored lowest" in tables["selection"]["note"][0]


def _user_study(tmp_path, lengths) -> Path:
    sim = simulate_bias_study(seed=2, n_conversations=30, n_runs=2)
    r = sim.ratings.join(sim.responses.select("response_id", "answer_chars"), on="response_id")
    r.select(pl.col("response_id").alias("item"), "rater", "score", pl.col("eval_run").alias("run"),
             pl.col("item_id").alias("cluster"), pl.col("answer_model").alias("source"),
             lengths(pl.col("answer_chars")).alias("n_chars")).write_csv(tmp_path / "ratings.csv")
    (tmp_path / "study.toml").write_text(
        'name = "planted"\nratings = "ratings.csv"\nscale = [0, 10]\nreferences = ["H1", "H2"]\n'
        '[columns]\nlength = "n_chars"\n[own_source]\n"judge-a" = "model-a"\n"judge-b" = "model-b"\n')
    return tmp_path / "study.toml"


def test_a_user_study_with_a_length_column_gets_the_length_terms(tmp_path):
    from analysis.studies.registry import load_study

    study = load_study(str(_user_study(tmp_path, lambda c: c)))
    assert "11_why_judges_disagree" in [nb.name for nb in study.spec.notebooks]
    tables = why.why_tables(study, n_boot=100)
    length = tables["length_effects"]
    assert set(length["evaluator"]) == {"judge-a", "judge-b", "judge-c", "all judges"}
    # Continuous scores: no ordinal model, said in one line.
    assert "whole points" in tables["ordinal_shift"]["skipped"][0]
    # Only judge-a and judge-b have an own source: the stacked model has their own-source terms.
    assert tables["self_preference_terms"].filter(pl.col("evaluator") == "all judges")["term"].to_list() == [
        "judge[judge-a]:own_source", "judge[judge-b]:own_source"]


def test_a_length_that_is_not_a_positive_number_is_one_error_line(tmp_path):
    from analysis.data.tidy import StudyFileError, load_tidy

    path = _user_study(tmp_path, lambda c: pl.when(c > 2000).then(pl.lit("long")).otherwise(c.cast(pl.String)))
    with pytest.raises(StudyFileError, match=r"ratings.csv row \d+: length 'long' is not a positive number"):
        load_tidy(path)
