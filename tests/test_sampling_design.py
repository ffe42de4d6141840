"""The sampling design of the reference ratings: declared, checked and respected.

* :func:`analysis.stats.sampling.rated_unrated_difference` against scipy's Welch test and
  a hand-computed stratified difference;
* :func:`analysis.stats.ppi.ppi_mean_stratified` against per-stratum :func:`ppi_mean`;
* simulations with a known selection rule: the naive PPI interval misses the truth, the
  design-aware result covers it (>= 93 % over 500 replications);
* the declaration (registry, study file), the refusal of population estimates for a
  ``selected`` design, and the notes of notebooks 00/02/03 asked of the design.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis.stats.ppi import ppi_mean, ppi_mean_grouped, ppi_mean_stratified
from analysis.stats.sampling import SamplingDesign, rated_unrated_difference
from analysis.studies import judge_assisted as ja
from analysis.studies.registry import STUDIES, get_study, load_study
from analysis.studies.sampling_design import design_note, design_part, leniency_table


# --- the design value ------------------------------------------------------------------

def test_a_design_is_one_of_three_kinds_and_a_selected_one_names_its_rule():
    assert SamplingDesign("selected", rule="lowest per conversation").describe() == "selected: lowest per conversation"
    assert SamplingDesign("random", strata="category").describe() == "stratified random by category"
    assert "assumed" in SamplingDesign("random", declared=False).describe()
    assert not SamplingDesign("selected", rule="x").assumes_random and SamplingDesign("all").assumes_random
    with pytest.raises(ValueError, match="one of random, all, selected"):
        SamplingDesign("convenience")
    with pytest.raises(ValueError, match="needs its rule"):
        SamplingDesign("selected")
    with pytest.raises(ValueError, match="strata apply to a 'random' design only"):
        SamplingDesign("all", strata="category")


def test_every_built_in_study_declares_its_design():
    designs = {name: spec.design for name, spec in STUDIES.items()}
    assert all(d.declared for d in designs.values())
    # the two scored studies whose humans rated the answer gpt-4o-mini scored lowest
    assert {n for n, d in designs.items() if d.kind == "selected"} == {"bhh", "demo"}
    assert all("gpt-4o-mini scored lowest" in designs[n].rule for n in ("bhh", "demo"))
    assert designs["mentalalign"].kind == designs["dialoguesafety"].kind == "all"


# --- the diagnostic ----------------------------------------------------------------------

def test_the_rated_unrated_difference_is_welchs_test():
    rng = np.random.default_rng(1)
    a, b = rng.normal(3.2, 1.1, 40), rng.normal(3.6, 0.7, 300)
    r = rated_unrated_difference(a, b, confidence=0.9)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.9)
    assert r.estimate == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert r.df == pytest.approx(ref.df, rel=1e-10)
    assert (r.n_rated, r.n_unrated, r.n, r.method) == (40, 300, 340, "welch")
    assert list(r.to_frame().columns[:7]) == ["estimate", "ci_low", "ci_high", "pvalue", "n", "confidence", "ci_note"]


def test_the_stratified_difference_weights_strata_by_their_population_share():
    a1, a2 = np.array([1.0, 2.0, 3.0]), np.array([4.0, 6.0])
    b1, b2 = np.array([2.0, 2.0, 3.0, 5.0]), np.array([5.0, 5.5, 7.0, 7.5, 8.0, 4.0])
    r = rated_unrated_difference(np.r_[a1, a2], np.r_[b1, b2], strata=["x"] * 3 + ["y"] * 2,
                                 strata_unrated=["x"] * 4 + ["y"] * 6)
    w1, w2 = 7 / 15, 8 / 15
    d = w1 * (a1.mean() - b1.mean()) + w2 * (a2.mean() - b2.mean())
    se = math.sqrt(w1 ** 2 * (a1.var(ddof=1) / 3 + b1.var(ddof=1) / 4) + w2 ** 2 * (a2.var(ddof=1) / 2
                                                                                   + b2.var(ddof=1) / 6))
    assert r.estimate == pytest.approx(d, abs=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((d - 1.959963984540054 * se, d + 1.959963984540054 * se), abs=1e-12)
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(abs(d) / se), rel=1e-12)
    with pytest.raises(ValueError, match="stratum 'y': need at least 2 rated"):
        rated_unrated_difference(np.r_[a1, 5.0], np.r_[b1, b2], strata=["x"] * 3 + ["y"],
                                 strata_unrated=["x"] * 4 + ["y"] * 6)


def test_the_clustered_difference_is_statsmodels_cluster_robust_ols():
    """Answers of one conversation (one rated, the others not) share its effect: the
    interval is the rated indicator's in OLS with cluster-robust (CR1) errors, t on G - 1."""
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    rows = [(g, j == 0, 3 + c + 0.3 * (j == 0) + rng.normal(0, 0.5))
            for g, c in enumerate(rng.normal(0, 1, 40)) for j in range(int(rng.integers(2, 6)))]
    g, x, y = (np.array(v) for v in zip(*rows))
    r = rated_unrated_difference(y[x], y[~x], clusters=g[x], clusters_unrated=g[~x], confidence=0.9)
    fit = sm.OLS(y, sm.add_constant(x.astype(float))).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    assert r.estimate == pytest.approx(fit.params[1], abs=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(fit.conf_int(alpha=0.1)[1]), rel=1e-10)
    assert r.pvalue == pytest.approx(fit.pvalues[1], rel=1e-10)
    assert (r.df, r.method, r.n) == (39, "cluster", len(y))
    welch = rated_unrated_difference(y[x], y[~x], confidence=0.9)
    assert welch.ci_high - welch.ci_low > 1.5 * (r.ci_high - r.ci_low)  # Welch counts the shared effect as noise
    with pytest.raises(ValueError, match="both clusters"):
        rated_unrated_difference(y[x], y[~x], clusters=g[x])
    with pytest.raises(ValueError, match="strata or clusters"):
        rated_unrated_difference(y[x], y[~x], clusters=g[x], clusters_unrated=g[~x], strata=g[x],
                                 strata_unrated=g[~x])


def test_the_check_is_cluster_robust_where_answers_of_a_conversation_meet(demo):
    ratings, refs = demo.data.ratings, demo.spec.references
    overall = ja.selection_check(ratings, ("gpt-4o-mini",), references=refs, design=SamplingDesign("random"))
    per_model = ja.selection_check(ratings, ("gpt-4o-mini",), references=refs, design=SamplingDesign("random"),
                                   by="answer_model")
    assert overall["ci_assumes"].to_list() == [ja.CI_ASSUMES["cluster"]]  # 15 answers per conversation
    assert set(per_model["ci_assumes"]) == {ja.CI_ASSUMES["cluster"]}  # 3 answers of a model per conversation
    # every answer its own conversation: Welch, as before
    alone = ja.selection_check(ratings.with_columns(pl.col("response_id").alias("item_id")), ("gpt-4o-mini",),
                               references=refs, design=SamplingDesign("random"))
    assert alone["ci_assumes"].to_list() == [ja.CI_ASSUMES["welch"]]
    assert alone["difference"][0] == pytest.approx(overall["difference"][0], abs=1e-12)
    v = ja.response_values(ratings, "gpt-4o-mini", references=refs)
    lab, unl = v.filter(pl.col("y").is_not_null()), v.filter(pl.col("y").is_null())
    ref = rated_unrated_difference(lab["yhat"].to_numpy(), unl["yhat"].to_numpy(),
                                   clusters=lab["item_id"].to_list(), clusters_unrated=unl["item_id"].to_list())
    assert (overall["ci_low"][0], overall["ci_high"][0]) == (ref.ci_low, ref.ci_high)


# --- stratified PPI ----------------------------------------------------------------------

def _strata_data(seed=3):
    rng = np.random.default_rng(seed)
    s_lab = np.repeat(["a", "b", "c"], [30, 12, 20])
    s_unl = np.repeat(["a", "b", "c"], [100, 300, 50])
    shift = {"a": 1.0, "b": 3.0, "c": 4.0}
    y = np.array([shift[s] for s in s_lab]) + rng.normal(0, 0.7, s_lab.size)
    f = y + 0.4 + rng.normal(0, 0.5, s_lab.size)
    fu = np.array([shift[s] for s in s_unl]) + 0.4 + rng.normal(0, 0.8, s_unl.size)
    return y, f, s_lab, fu, s_unl


@pytest.mark.parametrize("lam", [None, 1.0, 0.0, "crossfit"])
def test_stratified_ppi_is_the_population_weighted_sum_of_per_stratum_ppi(lam):
    y, f, s_lab, fu, s_unl = _strata_data()
    r = ppi_mean_stratified(y, f, s_lab, fu, s_unl, lam=lam, confidence=0.9)
    per = {s: ppi_mean(y[s_lab == s], f[s_lab == s], fu[s_unl == s], lam=lam, confidence=0.9) for s in "abc"}
    w = {"a": 130 / 512, "b": 312 / 512, "c": 70 / 512}
    est = sum(w[s] * per[s].estimate for s in "abc")
    se = math.sqrt(sum(w[s] ** 2 * per[s].se ** 2 for s in "abc"))
    assert r.estimate == pytest.approx(est, abs=1e-12) and r.se == pytest.approx(se, abs=1e-12)
    assert r.ci_high - r.ci_low == pytest.approx(2 * stats.norm.ppf(0.95) * se, abs=1e-12)
    assert (r.n_labeled, r.n_unlabeled, r.confidence) == (62, 450, 0.9)
    human = {s: ppi_mean(y[s_lab == s], f[s_lab == s], fu[s_unl == s], lam=0.0) for s in "abc"}
    var_classical = sum(w[s] ** 2 * human[s].se ** 2 for s in "abc")
    assert r.n_effective == pytest.approx(62 * var_classical / se ** 2, rel=1e-10)


def test_stratified_ppi_takes_given_weights_and_one_stratum_is_plain_ppi():
    y, f, s_lab, fu, s_unl = _strata_data()
    r = ppi_mean_stratified(y, f, s_lab, fu, s_unl, lam=1.0, weights={"a": 2, "b": 1, "c": 1})
    per = ppi_mean_grouped(y, f, s_lab, fu, s_unl, lam=1.0)["estimate"].to_numpy()
    assert r.estimate == pytest.approx(0.5 * per[0] + 0.25 * per[1] + 0.25 * per[2], abs=1e-12)
    one = ppi_mean_stratified(y, f, ["z"] * y.size, fu, ["z"] * fu.size, lam=None)
    plain = ppi_mean(y, f, fu, lam=None)
    assert (one.estimate, one.se, one.lam) == pytest.approx((plain.estimate, plain.se, plain.lam), abs=1e-12)
    with pytest.raises(ValueError, match="no weight for strata c"):
        ppi_mean_stratified(y, f, s_lab, fu, s_unl, weights={"a": 1, "b": 1})
    with pytest.raises(ValueError, match="strata c: each stratum needs at least 2 rated"):
        ppi_mean_stratified(y[:43], f[:43], s_lab[:43], fu, s_unl)


# --- simulations with a known selection rule ---------------------------------------------

N_REPS = 500


def _conversations(rng, n, k=5):
    """``n`` conversations x ``k`` answers: human rating ``y`` and judge score ``f``
    (lenient by 0.4, noisy), with a conversation effect."""
    q = 3.5 + rng.normal(0, 0.5, (n, 1)) + rng.normal(0, 0.6, (n, k))
    return q + rng.normal(0, 0.4, (n, k)), q + 0.4 + rng.normal(0, 0.5, (n, k))


def test_a_selected_design_misses_with_naive_ppi_and_its_selected_population_is_covered():
    """The rule of the built-in review sets: per conversation, the answer the judge scored
    lowest is rated. Naive PPI (rated = a random sample) for the mean of every answer
    (truth 3.5) misses; the design-aware result, the humans' mean of the selected
    answers (:func:`sampled_population_means`), covers the mean of the population it
    names: the rule's selections, whose truth comes from 400,000 conversations."""
    big_y, big_f = _conversations(np.random.default_rng(99), 400_000)
    truth_selected = big_y[np.arange(big_y.shape[0]), big_f.argmin(axis=1)].mean()
    truth_all = 3.5
    rng = np.random.default_rng(20261124)
    naive_hits = aware_hits = 0
    n = 150
    for _ in range(N_REPS):
        y, f = _conversations(rng, n)
        pick = f.argmin(axis=1)
        rated = np.zeros_like(f, dtype=bool)
        rated[np.arange(n), pick] = True
        conv = np.repeat(np.arange(n), 5).reshape(n, 5)
        naive = ppi_mean(y[rated], f[rated], f[~rated], lam="crossfit", clusters=conv[rated],
                         clusters_unlabeled=conv[~rated])
        naive_hits += naive.ci_low <= truth_all <= naive.ci_high
        ratings = pl.DataFrame({"attribute": "a", "response_id": [f"r{i}" for i in range(n)],
                                "item_id": [f"c{i}" for i in range(n)], "rater": "H", "score": y[rated]})
        aware = ja.sampled_population_means(ratings, references=("H",), by=None).filter(pl.col("quantity") == "mean")
        aware_hits += aware["ci_low"][0] <= truth_selected <= aware["ci_high"][0]
    assert truth_selected < truth_all - 0.2  # the rule selects worse answers
    assert naive_hits / N_REPS < 0.5
    assert aware_hits / N_REPS >= 0.93


def test_a_stratified_design_misses_with_naive_ppi_and_is_covered_by_stratified_ppi():
    """Known rule: 60 % of the answers of stratum ``low`` rated, 5 % of ``high``'s. Naive
    PPI weights the strata by their rated shares; stratified PPI by their population
    shares, and covers the population mean."""
    rng = np.random.default_rng(7)
    sizes, rates, means = {"low": 300, "high": 700}, {"low": 0.6, "high": 0.05}, {"low": 2.2, "high": 4.2}
    truth = sum(sizes[s] * means[s] for s in sizes) / sum(sizes.values())
    naive_hits = aware_hits = 0
    for _ in range(N_REPS):
        ys, fs, rs, ss = [], [], [], []
        for s in sizes:
            y = means[s] + rng.normal(0, 0.8, sizes[s])
            ys.append(y), fs.append(y + 0.5 + rng.normal(0, 0.6, sizes[s]))
            r = np.zeros(sizes[s], dtype=bool)
            r[rng.choice(sizes[s], int(rates[s] * sizes[s]), replace=False)] = True
            rs.append(r), ss.append(np.full(sizes[s], s))
        y, f, r, s = map(np.concatenate, (ys, fs, rs, ss))
        y = y - (y.mean() - truth)  # a finite population whose mean is exactly the truth
        f_pop = f
        naive = ppi_mean(y[r], f_pop[r], f_pop[~r], lam="crossfit")
        naive_hits += naive.ci_low <= truth <= naive.ci_high
        aware = ppi_mean_stratified(y[r], f_pop[r], s[r], f_pop[~r], s[~r], lam="crossfit")
        aware_hits += aware.ci_low <= truth <= aware.ci_high
    assert naive_hits / N_REPS < 0.5
    assert aware_hits / N_REPS >= 0.93


# --- the study glue ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    return load_study("demo", seed=20261124)


def test_a_selected_design_refuses_population_estimates_in_one_line(demo):
    reason = ja.estimates_part(demo).reason
    assert reason.startswith("the rated answers were selected (the answer gpt-4o-mini scored lowest")
    assert "not sampled at random" in reason and "\n" not in reason
    assert "not sampled at random" in ja.budget_part(demo).reason
    table = ja.applicability(demo)
    assert table.filter(~pl.col("applies"))["part"].to_list() == [
        "judge-assisted estimates", "forest plot per answer model", "budget planner"]
    selected = ja.sampled_population_part(demo)
    assert selected.applies and selected.shown[0].startswith("Population estimated: the answers selected by the rule")
    # the same study declared random: the estimates apply, the selected population does not
    as_random = replace(demo, spec=replace(demo.spec, design=SamplingDesign("random")))
    assert ja.estimates_part(as_random).applies and not ja.sampled_population_part(as_random).applies


def test_the_check_flags_a_selected_sample_declared_random(demo):
    ratings, refs = demo.data.ratings, demo.spec.references
    claimed = ja.selection_check(ratings, ("gpt-4o-mini",), references=refs, design=SamplingDesign("random"))
    row = claimed.row(0, named=True)
    assert row["flag"] == "declared random, but the rated answers differ: not a random sample"
    assert row["ci_high"] < 0 and row["difference"] == pytest.approx(row["mean_rated"] - row["mean_unrated"])
    # a random sample of the same size (every unrated answer's human rating withheld)
    rng = np.random.default_rng(5)
    answers = ratings["response_id"].unique().sort().to_list()
    keep = set(rng.choice(answers, 200, replace=False).tolist())
    llm = ratings.filter(~pl.col("rater").is_in(list(refs)))
    fake = (llm.filter((pl.col("rater") == "gpt-5-nano") & (pl.col("eval_run") == 1)
                       & pl.col("response_id").is_in(list(keep))).with_columns(pl.lit("H1").alias("rater")))
    random_ratings = pl.concat([llm, fake], how="vertical")
    ok = ja.selection_check(random_ratings, ("gpt-4o-mini",), references=("H1",), design=SamplingDesign("random"))
    assert ok["ci_low"][0] <= 0 <= ok["ci_high"][0] and ok["flag"][0] == ""
    undeclared = ja.selection_check(ratings, ("gpt-4o-mini",), references=refs)
    assert undeclared["flag"][0].startswith("assumed random, but")


def test_the_leniency_table_and_the_note_follow_the_declared_design(demo):
    ratings, refs = demo.data.ratings, demo.spec.references
    table = leniency_table(ratings, demo.names, references=refs, jury=demo.jury)
    for e in demo.evaluators:
        v = ja.response_values(ratings, e, references=refs)
        row = table.filter(pl.col("evaluator") == e).row(0, named=True)
        assert row["mean_all"] == pytest.approx(v["yhat"].mean(), abs=1e-12)
        assert row["mean_review"] == pytest.approx(v.filter(pl.col("y").is_not_null())["yhat"].mean(), abs=1e-12)
    assert sorted(table["rank_all"].to_list()) == [1, 2, 3, 4]
    note = design_note(demo.spec.design, table)
    assert note.startswith("The references rated only answers selected by a rule (the answer gpt-4o-mini")
    # the judge the rule selects on loses most on the review set
    assert table.sort("review_minus_all")["evaluator"][0] == "gpt-4o-mini"
    assert "Leniency order on all answers: " in note
    assert design_note(SamplingDesign("all"), table).startswith("The study declares that the references rated every")
    assert "random" in design_note(SamplingDesign("random"), table) and "selected" not in design_note(
        SamplingDesign("random"), table)
    part = design_part(demo)
    assert part.shown[0] == note and list(part.tables) == ["leniency_all_vs_review"]


# --- the declaration in a study file --------------------------------------------------------

def _study_file(tmp_path, extra: str) -> str:
    (tmp_path / "r.csv").write_text("item,rater,score,cluster,category\n"
                                    + "".join(f"i{i},J,{1 + i % 5},c{i},{'ab'[i % 2]}\n" for i in range(12))
                                    + "".join(f"i{i},H,{1 + (i + 1) % 5},c{i},{'ab'[i % 2]}\n" for i in range(6)))
    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\nratings = "r.csv"\nscale = [1, 5]\nreferences = ["H"]\n{extra}')
    return str(path)


@pytest.mark.parametrize("extra, design", [
    ("", SamplingDesign("random", declared=False)),
    ('design = "all"\n', SamplingDesign("all")),
    ('design = "random"\nstrata = "category"\n', SamplingDesign("random", strata="category")),
    ('design = "selected"\ndesign_rule = "the answer J scored lowest"\n',
     SamplingDesign("selected", rule="the answer J scored lowest")),
])
def test_a_study_file_declares_its_design(tmp_path, extra, design):
    assert get_study(_study_file(tmp_path, extra)).design == design


@pytest.mark.parametrize("extra, problem", [
    ('design = "convenience"\n', "key 'design': expected one of 'random', 'all', 'selected'"),
    ('design = "selected"\n', "key 'design_rule': design = \"selected\" needs the rule"),
    ('design = "all"\ndesign_rule = "x"\n', "key 'design_rule': only for design = \"selected\""),
    ('design = "random"\nstrata = "colour"\n', "key 'strata': for design = \"random\" only, one of category, source"),
])
def test_a_bad_design_is_one_problem_naming_the_key(tmp_path, extra, problem):
    from analysis.data.tidy import StudyFileError, read_study_file

    with pytest.raises(StudyFileError) as info:
        read_study_file(_study_file(tmp_path, extra))
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_a_stratified_user_study_gets_stratified_estimates(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for i in range(400):
        cat = "low" if i < 150 else "high"
        q = (2.0 if cat == "low" else 4.0) + rng.normal(0, 0.6)
        rows.append((f"i{i}", "J", round(min(5, max(1, q + 0.5 + rng.normal(0, 0.5))), 2), f"c{i}", cat))
        if (cat == "low" and i % 2 == 0) or (cat == "high" and i % 10 == 0):
            rows.append((f"i{i}", "H", round(min(5, max(1, q)), 2), f"c{i}", cat))
    (tmp_path / "r.csv").write_text("item,rater,score,cluster,category\n" + "".join(",".join(map(str, r)) + "\n"
                                                                                  for r in rows))
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\nratings = "r.csv"\nscale = [1, 5]\nreferences = ["H"]\ndesign = "random"\n'
                    'strata = "category"\n')
    study = load_study(str(path))
    part = ja.estimates_part(study)
    long = part.tables["judge_assisted_long"].filter((pl.col("group_by") == "category") & (pl.col("quantity") ==
                                                                                            "mean"))
    assert long.filter(pl.col("method") == "judge_assisted").height == 2
    # one group per category = one stratum per group: plain PPI within each
    values = ja.response_values(study.data.ratings, "J", references=("H",))
    lab, unl = values.filter(pl.col("y").is_not_null()), values.filter(pl.col("y").is_null())
    direct = ppi_mean_stratified(lab["y"].to_numpy(), lab["yhat"].to_numpy(), lab["category"].to_list(),
                                 unl["yhat"].to_numpy(), unl["category"].to_list(), lam="crossfit",
                                 clusters=lab["item_id"].to_list(), clusters_unlabeled=unl["item_id"].to_list())
    overall = ja.judge_assisted_estimates(study.data.ratings, "J", references=("H",), by=None, strata="category")
    got = overall.filter((pl.col("quantity") == "mean") & (pl.col("method") == "judge_assisted")).row(0, named=True)
    assert (got["estimate"], got["ci_low"], got["ci_high"]) == pytest.approx(
        (direct.estimate, direct.ci_low, direct.ci_high), abs=1e-12)
    check = ja.selection_part(study)
    assert check.shown[0].startswith("Sampling design: stratified random by category.")


# --- the real data -------------------------------------------------------------------------

@pytest.mark.real_data
def test_bhh_refuses_population_estimates_and_shows_what_the_selection_does(shared_data_root):
    study = load_study("bhh", data_root=shared_data_root)
    reason = ja.estimates_part(study).reason
    assert reason.startswith("the rated answers were selected (the answer gpt-4o-mini scored lowest, per "
                             "conversation), not sampled at random")
    check = ja.selection_check(study.data.ratings, ("jury",), references=study.spec.references, jury=study.jury,
                               design=study.spec.design, by="answer_model")
    mini = check.filter(pl.col("group") == "gpt-4o-mini").row(0, named=True)
    assert (round(mini["mean_rated"], 2), round(mini["mean_unrated"], 2)) == (3.89, 4.42)
    assert mini["pvalue"] < 1e-16
    table = leniency_table(study.data.ratings, study.evaluators, references=study.spec.references)
    means = {r["evaluator"]: (round(r["mean_all"], 3), round(r["mean_review"], 3)) for r in table.iter_rows(named=True)}
    assert means["gpt-4o-mini"] == (4.656, 3.989)
    # the gpt-4o-mini vs gpt-5-nano leniency order flips between all answers and the review set
    ranks = {r["evaluator"]: (r["rank_all"], r["rank_review"]) for r in table.iter_rows(named=True)}
    assert ranks["gpt-4o-mini"][0] < ranks["gpt-5-nano"][0] and ranks["gpt-4o-mini"][1] > ranks["gpt-5-nano"][1]
