"""Judge-assisted estimates in the studies, the ppi-check command, the budget planner and
the D-study of Between Help and Harm.

References: the study functions against :func:`analysis.stats.ppi.ppi_mean` called
directly on per-response arrays built here with plain loops (not with the module's
polars code); the check's vectorised intervals against ``ppi_mean`` per subset; the
D-study's Phi and E rho^2 against ICC(A,k)/ICC(C,k) of :func:`intraclass_corr`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.checks import ppi_check
from analysis.cli import ppi_check as ppi_check_command
from analysis.stats.icc import intraclass_corr
from analysis.stats.ppi import ppi_mean, ppi_sample_size
from analysis.studies import judge_assisted as ja
from analysis.studies.registry import load_study

# Same arithmetic on the same arrays up to summation order: 1e-10 leaves 5 orders of
# magnitude above double rounding on sums of a few thousand scores of size <= 5.
TOL = 1e-10


@pytest.fixture(scope="module")
def demo():
    return load_study("demo", seed=20261124)


@pytest.fixture(scope="module")
def demo_random(demo):
    """The demo declared a random sample: the parts' mechanics (the demo's real design,
    ``selected``, refuses them: ``tests/test_sampling_design.py``)."""
    from dataclasses import replace

    from analysis.stats.sampling import SamplingDesign

    return replace(demo, spec=replace(demo.spec, design=SamplingDesign("random")))


def _per_response(ratings: pl.DataFrame, evaluator: str, references, jury=()):
    """Per response, with plain loops: judge mean over runs (jury: mean of member means),
    share of runs <= 2 (jury: jury score <= 2), human mean and share <= 2, group keys."""
    members = tuple(jury) if evaluator == "jury" else (evaluator,)
    runs = defaultdict(list)
    human = defaultdict(list)
    info = {}
    for r in ratings.iter_rows(named=True):
        info[r["response_id"]] = (r["item_id"], r["answer_model"], r["category"])
        if r["rater"] in members:
            runs[(r["response_id"], r["rater"])].append(r["score"])
        elif r["rater"] in references:
            human[r["response_id"]].append(r["score"])
    out = {}
    for rid in info:
        per = [runs[(rid, m)] for m in members]
        if any(len(p) == 0 for p in per):
            continue
        means = [sum(p) / len(p) for p in per]
        f = sum(means) / len(means)
        if evaluator == "jury":
            fh = float(f <= 2)
        else:
            fh = sum(s <= 2 for s in per[0]) / len(per[0])
        h = human.get(rid)
        out[rid] = dict(item=info[rid][0], model=info[rid][1], category=info[rid][2], f=f, fh=fh,
                        y=None if not h else sum(h) / len(h), yh=None if not h else sum(s <= 2 for s in h) / len(h))
    return out


@pytest.mark.parametrize("evaluator", ["gpt-4o-mini", "jury"])
@pytest.mark.parametrize("by", ["answer_model", "category"])
def test_study_estimates_equal_ppi_mean_on_the_same_arrays(demo, evaluator, by):
    ratings = demo.data.ratings
    refs = demo.spec.references
    est = ja.judge_assisted_estimates(ratings, evaluator, references=refs, jury=demo.jury, by=by)
    per = _per_response(ratings, evaluator, refs, demo.jury)
    key = "model" if by == "answer_model" else "category"
    groups = sorted({v[key] for v in per.values() if v[key] is not None})
    assert sorted(est["group"].unique().to_list()) == groups
    checked = 0
    for g in groups:
        rows = [v for v in per.values() if v[key] == g]
        lab = [v for v in rows if v["y"] is not None]
        unl = [v for v in rows if v["y"] is None]
        for quantity, yk, fk, scale in (("mean", "y", "f", 1.0), ("pct_harmful", "yh", "fh", 100.0)):
            sel = est.filter((pl.col("group") == g) & (pl.col("quantity") == quantity))
            got = {r["method"]: r for r in sel.iter_rows(named=True)}
            # judge-only: the mean of every response's judge value, CR0 by conversation
            fx = np.array([v[fk] for v in rows])
            sums = defaultdict(float)
            for v, x in zip(rows, fx):
                sums[v["item"]] += x - fx.mean()
            se = np.sqrt(sum(s * s for s in sums.values())) / len(rows)
            assert got["judge_only"]["estimate"] == pytest.approx(scale * fx.mean(), abs=TOL)
            assert got["judge_only"]["se"] == pytest.approx(scale * se, abs=TOL)
            if len(lab) < 2 or not unl:
                assert got["judge_assisted"]["estimate"] is None
                continue
            args = (np.array([v[yk] for v in lab]), np.array([v[fk] for v in lab]), np.array([v[fk] for v in unl]))
            cl = dict(clusters=[v["item"] for v in lab], clusters_unlabeled=[v["item"] for v in unl])
            for method, lam in (("human_only", 0.0), ("judge_assisted", "crossfit")):
                ref = ppi_mean(*args, lam=lam, **cl)
                r = got[method]
                # intervals are clipped to the quantity's range (0-100 %; the ratings seen for a mean)
                seen = [v[k] for v in per.values() for k in (("y", "f") if quantity == "mean" else ()) if v[k] is not None]
                low, high = (min(seen), max(seen)) if quantity == "mean" else (0.0, 100.0)
                expected = dict(estimate=scale * ref.estimate, se=scale * ref.se,
                                ci_low=max(scale * ref.ci_low, low), ci_high=min(scale * ref.ci_high, high))
                for field in ("estimate", "ci_low", "ci_high", "se"):
                    assert r[field] == pytest.approx(expected[field], abs=TOL), (g, quantity, method, field)
                clipped = scale * ref.ci_low < low or scale * ref.ci_high > high
                assert ("interval clipped" in (r["note"] or "")) == clipped
                assert (r["n_labeled"], r["n_unlabeled"]) == (len(lab), len(unl))
                if method == "judge_assisted":
                    assert r["lam"] == pytest.approx(ref.lam, abs=TOL)
                    assert r["n_effective"] == pytest.approx(ref.n_effective, rel=TOL)
                    assert ("rated responses (<" in (r["note"] or "")) == (len(lab) < ja.MIN_LABELED)
            checked += 1
    assert checked >= 4


def test_the_human_only_mean_is_the_plain_mean_of_the_rated_responses(demo):
    """A second, formula-free anchor: lam = 0 is the mean of the human values."""
    ratings = demo.data.ratings
    est = ja.judge_assisted_estimates(ratings, "gpt-5-nano", references=demo.spec.references, by=None)
    per = _per_response(ratings, "gpt-5-nano", demo.spec.references)
    y = [v["y"] for v in per.values() if v["y"] is not None]
    row = est.filter((pl.col("method") == "human_only") & (pl.col("quantity") == "mean")).row(0, named=True)
    assert row["estimate"] == pytest.approx(sum(y) / len(y), abs=TOL)
    assert row["n_labeled"] == len(y)


def test_confidence_and_the_old_alpha_keyword(demo):
    ratings, refs = demo.data.ratings, demo.spec.references
    new = ja.judge_assisted_estimates(ratings, "gpt-5-nano", references=refs, by=None, confidence=0.9)
    with pytest.warns(DeprecationWarning, match=r"judge_assisted_estimates\(alpha=\)"):
        old = ja.judge_assisted_estimates(ratings, "gpt-5-nano", references=refs, by=None, alpha=0.1)
    assert old.equals(new)
    wide = ja.judge_assisted_estimates(ratings, "gpt-5-nano", references=refs, by=None)
    half = lambda t: (t["ci_high"] - t["ci_low"]).drop_nulls().to_numpy()  # noqa: E731
    assert (half(new) < half(wide)).all()


def test_wide_table_keeps_every_method(demo):
    est = ja.study_estimates(demo.data.ratings, ("gpt-4o-mini",), references=demo.spec.references)
    wide = ja.wide_estimates(est)
    assert wide.height * 3 == est.height
    one = wide.row(0, named=True)
    src = est.filter((pl.col("group") == one["group"]) & (pl.col("quantity") == one["quantity"])
                     & (pl.col("group_by") == one["group_by"]))
    for m in ja.METHODS:
        assert one[m] == src.filter(pl.col("method") == m)["estimate"][0]


def test_budget_plan_equals_ppi_sample_size(demo):
    ratings = demo.data.ratings
    plan = ja.budget_plan(ratings, ("meta-llama",), references=demo.spec.references,
                          half_widths={"mean": (0.1,), "pct_harmful": (5.0,)})
    per = _per_response(ratings, "meta-llama", demo.spec.references)
    lab = [v for v in per.values() if v["y"] is not None]
    big_n = len(per) - len(lab)
    ref = ppi_sample_size([v["y"] for v in lab], [v["f"] for v in lab], big_n, 0.1)
    row = plan.filter(pl.col("quantity") == "mean").row(0, named=True)
    assert (row["n_with_judge"], row["n_without_judge"]) == (ref.n_ppi, ref.n_classical)
    assert row["n_unlabeled"] == big_n
    ref_h = ppi_sample_size([v["yh"] for v in lab], [v["fh"] for v in lab], big_n, 0.05)
    row_h = plan.filter(pl.col("quantity") == "pct_harmful").row(0, named=True)
    assert (row_h["n_with_judge"], row_h["n_without_judge"]) == (ref_h.n_ppi, ref_h.n_classical)


# --- the ppi-check --------------------------------------------------------------------

def test_check_intervals_equal_ppi_mean_on_every_subset():
    rng = np.random.default_rng(7)
    m = 600
    y = rng.integers(1, 6, m).astype(float)
    f = np.clip(y + rng.integers(-2, 2, m), 1, 5) + 0.25
    for n in (7, 40, 150):
        lab = ppi_check.draw_subsets(m, n, 3, rng)
        res = ppi_check.subset_intervals(y, f, lab)
        for b in range(3):
            rest = np.setdiff1d(np.arange(m), lab[b])
            for method, lam in (("tuned", None), ("crossfit", "crossfit"), ("lam1", 1), ("human_only", 0)):
                ref = ppi_mean(y[lab[b]], f[lab[b]], f[rest], lam=lam)
                est, se, lam_used = (a[b] for a in res[method])
                assert est == pytest.approx(ref.estimate, abs=TOL)
                assert se == pytest.approx(ref.se, abs=TOL)
                assert lam_used == pytest.approx(ref.lam, abs=TOL)


def test_draw_subsets_are_uniform_and_without_replacement():
    rng = np.random.default_rng(0)
    sub = ppi_check.draw_subsets(10, 3, 20_000, rng)
    assert all(len(set(row)) == 3 for row in sub[:200])
    freq = np.bincount(sub.ravel(), minlength=10) / sub.size
    # each index has probability 0.1; 60,000 draws give SE ~0.0012, so 0.006 is 5 SE
    assert np.abs(freq - 0.1).max() < 0.006


def test_recommended_interval_is_the_one_the_studies_use():
    assert ppi_check.RECOMMENDED == ja.RECOMMENDED_LAM


@pytest.mark.real_data
def test_ppi_check_command_writes_its_table(dialoguesafety_dir, shared_data_root, tmp_path):
    out = tmp_path / "check.md"
    code = ppi_check_command.main(["--study", "dialoguesafety", "--data-root", str(shared_data_root), "--n", "100",
                                   "--reps", "40", "--out", str(out)])
    assert code == 0
    text = out.read_text()
    assert "--study dialoguesafety" in text.splitlines()[0] and "--reps 40" in text.splitlines()[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "unsafe share" in line]
    assert len(rows) == 6  # one per system
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[3] == "0.541" and cells[4] == "100"  # gold unsafe share of the 800 dialogues
        assert all(0 <= float(c) <= 100 for c in cells[5:10])  # coverages in percent


def test_ppi_check_rejects_a_study_without_full_references(capsys):
    with pytest.raises(SystemExit):
        ppi_check_command.main(["--study", "bhh"])


# --- the D study of Between Help and Harm ------------------------------------------------

@pytest.fixture(scope="module")
def bhh_dstudy(shared_data_root):
    study = load_study("bhh", data_root=shared_data_root)
    d = ja.dstudy(study.data.ratings, study.evaluators, n_boot=200, seed=1, reml_responses=0)
    return study, d


@pytest.mark.real_data
def test_bhh_gstudy_components_are_non_negative_and_complete(bhh_dstudy):
    study, d = bhh_dstudy
    comp = d.components.filter(pl.col("method") == "anova")
    assert comp["component"].to_list() == ["p", "e", "r:e", "pe", "pr:e"]
    assert (comp["variance"] >= 0).all()
    assert d.g.sizes == {"p": d.n_balanced, "e": 3, "r": 3}
    # 2850 answers (190 conversations x 5 models x 3 runs), 13 missing a run of some evaluator
    assert d.n_responses == 2850 and d.n_balanced == 2837
    # the balanced array is exactly what the ratings hold: a cell recomputed from the tidy rows
    arr = ja.run_scores_array(study.data.ratings, study.evaluators).balanced()
    rid, e = arr.responses[0], study.evaluators[1]
    direct = study.data.ratings.filter((pl.col("response_id") == rid) & (pl.col("rater") == e)).sort("eval_run")
    assert arr.scores[0, 1].tolist() == direct["score"].to_list()


@pytest.mark.real_data
def test_bhh_phi_of_one_judges_runs_is_icc_a_k(bhh_dstudy):
    study, d = bhh_dstudy
    arr = ja.run_scores_array(study.data.ratings, study.evaluators).balanced()
    for j, e in enumerate(study.evaluators):
        icc = intraclass_corr(arr.scores[:, j, :])
        row = d.table.filter((pl.col("design") == f"runs of {e}") & (pl.col("n_runs") == 3)).row(0, named=True)
        g = d.per_evaluator[e]
        if min(g.raw.values()) < 0:  # the identity holds when no component was zeroed
            continue
        # McGraw & Wong (1996) ICC(A,k), ICC(C,k) from the two-way ANOVA: same mean
        # squares, algebraically identical to Phi and E rho^2 at n' = k (1e-10).
        assert row["phi"] == pytest.approx(icc.filter(pl.col("type") == "ICC(A,k)")["icc"][0], abs=TOL)
        assert row["g_coefficient"] == pytest.approx(icc.filter(pl.col("type") == "ICC(C,k)")["icc"][0], abs=TOL)
        assert row["phi_ci_low"] <= row["phi"] <= row["phi_ci_high"]


@pytest.mark.real_data
def test_bhh_smallest_n_is_consistent_with_the_table(bhh_dstudy):
    _, d = bhh_dstudy
    from analysis.stats.gtheory import smallest_n

    nested = d.table.filter(pl.col("design") == "p x (r:e)")
    for n_runs in (1, 3):
        k = smallest_n(d.g, 0.8, vary="evaluators", n_runs=n_runs)
        col = nested.filter(pl.col("n_runs") == n_runs).sort("n_evaluators")
        phis = dict(zip(col["n_evaluators"].to_list(), col["phi"].to_list()))
        assert k is not None and k in phis, "the table's grid should hold the answer at this design"
        assert phis[k] >= 0.8
        assert all(phis[n] < 0.8 for n in phis if n < k)
    sentence = ja.dstudy_sentence(d, "gpt-4o-mini")
    row = d.table.filter((pl.col("design") == "runs of gpt-4o-mini") & (pl.col("n_runs") == 3)).row(0, named=True)
    assert sentence.startswith(f"With gpt-4o-mini, 3 runs give Φ = {row['phi']:.2f}")
    k1 = smallest_n(d.g, 0.8, vary="evaluators", n_runs=1)
    assert f"needs {k1} judges with one run each" in sentence
    assert "the consistency of gpt-4o-mini with itself" in sentence and "not its agreement with humans" in sentence
    at = nested.filter((pl.col("n_evaluators") == k1) & (pl.col("n_runs") == 1)).row(0, named=True)
    assert f"[{at['phi_gci_low']:.2f}, {at['phi_gci_high']:.2f}] when the judges are sampled too" in sentence
    assert f"[{at['phi_ci_low']:.2f}, {at['phi_ci_high']:.2f}] conditional on these 3 judges" in sentence


@pytest.mark.real_data
def test_bhh_intervals_with_judge_sampling(bhh_dstudy):
    """sigma^2(judge) rests on 3 judges (2 df): its interval with the judges sampled is two
    orders of magnitude wide, against the narrow one of the bootstrap over conversations;
    so is the interval of Phi for judges drawn at random."""
    _, d = bhh_dstudy
    e = d.components.filter((pl.col("method") == "anova") & (pl.col("component") == "e")).row(0, named=True)
    assert e["satterthwaite_df"] == pytest.approx(2, abs=0.01)
    assert e["gci_low"] < e["ci_low"] and e["gci_high"] > 10 * e["ci_high"]
    nested = d.table.filter(pl.col("design") == "p x (r:e)")
    assert (nested["phi_gci_high"] - nested["phi_gci_low"] > nested["phi_ci_high"] - nested["phi_ci_low"]).all()
    # a judge fixed: its runs' interval with the runs sampled is as narrow as the bootstrap's
    runs = d.table.filter(pl.col("design").str.starts_with("runs of "))
    assert ((runs["phi_gci_low"] <= runs["phi"]) & (runs["phi"] <= runs["phi_gci_high"])).all()


# ---------------------------------------------------------------------------------------
# What applies to a study, and the parts of its report (notebook 09_judge_assisted)
# ---------------------------------------------------------------------------------------

def _like(study, ratings, evaluators=None):
    """The loaded ``study`` with other ratings (and evaluators)."""
    from dataclasses import replace
    from types import SimpleNamespace

    return replace(study, data=SimpleNamespace(ratings=ratings),
                   evaluators=tuple(study.evaluators if evaluators is None else evaluators))


def _rated_only(ratings, references=("H1", "H2")):
    rated = ratings.filter(pl.col("rater").is_in(list(references)))["response_id"].unique()
    return ratings.filter(pl.col("response_id").is_in(rated.to_list()))


EVERY_ANSWER_RATED = "every answer the evaluators scored was rated by the references: no unrated answers"


def test_every_part_applies_to_the_demo(demo_random):
    table = ja.applicability(demo_random)
    # every part but the mean of a selected population (the design is random)
    assert table.filter(pl.col("applies"))["part"].to_list() == [
        "judge-assisted estimates", "forest plot per answer model", "budget planner", "D-study of runs and judges"]


@pytest.mark.parametrize("change, parts, reason", [
    (lambda r: _rated_only(r), ("estimates", "forest", "budget"), EVERY_ANSWER_RATED),
    (lambda r: r.filter(~pl.col("rater").is_in(["H1", "H2"])), ("estimates", "forest", "budget"),
     "no ratings of the references (H1, H2) in this study"),
    (lambda r: r.with_columns(pl.lit(None, dtype=pl.String).alias("answer_model"),
                              pl.lit(None, dtype=pl.String).alias("category")), ("estimates", "forest"),
     "the ratings have no answer model and no category"),
    (lambda r: r.with_columns(pl.lit(None, dtype=pl.String).alias("answer_model")), ("forest",),
     "the ratings have no answer model: no forest plot"),
    (lambda r: r.filter(pl.col("rater").is_in(["H1", "H2"]).not_() | pl.col("response_id").is_in(
        r.filter(pl.col("rater") == "H1")["response_id"].unique().sort().head(2).to_list())), ("budget",),
     "only 2 answer(s) of an attribute rated by the references"),
    (lambda r: r.filter(pl.col("eval_run") == 1), ("dstudy",), "one evaluation run per rating"),
])
def test_a_part_that_does_not_apply_says_why(demo_random, change, parts, reason):
    study = _like(demo_random, change(demo_random.data.ratings))
    ratings, refs, evs = study.data.ratings, study.spec.references, study.evaluators
    why = {"estimates": ja.why_no_estimates(ratings, evs, references=refs),
           "forest": ja.why_no_forest(ratings, evs, references=refs),
           "budget": ja.why_no_budget(ratings, evs, references=refs),
           "dstudy": ja.why_no_dstudy(ratings, evs)}
    for part, got in why.items():
        assert (reason in got) == (part in parts), (part, got)
        assert "\n" not in got
    table = ja.applicability(study)
    assert table.filter(~pl.col("applies") & (pl.col("part") != "mean of the selected answers")).height == len(parts)
    if "estimates" in parts:
        est = ja.estimates_part(study)
        assert not est.applies and reason in est.reason and est.tables == {} and est.shown == ()
        assert reason in ja.forest_part(study, est).reason
    if "budget" in parts:
        assert reason in ja.budget_part(study).reason


def test_the_d_study_needs_two_evaluators(demo):
    one = demo.evaluators[:1]
    assert ja.why_no_dstudy(demo.data.ratings, one).startswith("1 LLM evaluator(s) in this study")
    assert not ja.dstudy_part(_like(demo, demo.data.ratings, one)).applies


def test_the_parts_hold_the_study_functions_tables(demo_random):
    ratings, refs = demo_random.data.ratings, demo_random.spec.references
    est = ja.estimates_part(demo_random)
    direct = ja.study_estimates(ratings, demo_random.names, references=refs, jury=demo_random.jury)
    assert list(est.tables) == ["judge_assisted_long", "judge_assisted"]
    # equal up to summation order (polars' group_by order varies from call to call: 1e-15)
    assert_frame_equal(est.tables["judge_assisted_long"], direct, check_exact=False, rel_tol=0, abs_tol=TOL)
    assert_frame_equal(est.tables["judge_assisted"], ja.wide_estimates(direct), check_exact=False, rel_tol=0, abs_tol=TOL)
    assert [t["group"].n_unique() for t in est.shown] == [5, direct.filter(pl.col("group_by") == "category")
                                                          ["group"].n_unique()]
    assert all(t.columns == list(ja.DISPLAY_COLUMNS) for t in est.shown)
    forest = ja.forest_part(demo_random, est)
    assert forest.data["evaluator"] == "jury"
    assert_frame_equal(forest.data["estimates"], direct.filter((pl.col("evaluator") == "jury")
                                                               & (pl.col("group_by") == "answer_model")),
                       check_exact=False, rel_tol=0, abs_tol=TOL)
    budget = ja.budget_part(demo_random)
    assert_frame_equal(budget.tables["budget_plan"], ja.budget_plan(ratings, demo_random.names, references=refs, jury=demo_random.jury),
                       check_exact=False, rel_tol=0, abs_tol=TOL)
    d = ja.dstudy_part(demo_random, n_boot=50, seed=3, reml_responses=0)
    direct_d = ja.dstudy(ratings, demo_random.evaluators, n_boot=50, seed=3, reml_responses=0)
    assert_frame_equal(d.tables["dstudy"], direct_d.table, check_exact=False, rel_tol=0, abs_tol=TOL)
    assert_frame_equal(d.tables["gstudy_components"], direct_d.components, check_exact=False, rel_tol=0, abs_tol=TOL)
    assert d.shown[0] == f"{direct_d.n_balanced} of {direct_d.n_responses} answers have every run of every evaluator"
    assert list(d.shown[2:]) == [ja.dstudy_sentence(direct_d, e) for e in demo_random.evaluators]


def test_a_part_is_shown_and_written_or_says_why_and_writes_nothing(demo_random, tmp_path, capsys):
    import matplotlib.pyplot as plt

    from analysis.reporting.figures import budget_plan_plot, dstudy_plot, judge_assisted_forest
    from analysis.reporting.notebook import show_figure, show_part

    bare = _like(demo_random, _rated_only(demo_random.data.ratings))
    for part in (ja.estimates_part(bare), ja.budget_part(bare)):
        show_part(part, tmp_path / "tables")
        show_figure(part, budget_plan_plot, "budget_plan", tmp_path / "figures")
    out = capsys.readouterr().out.splitlines()
    assert out == [f"does not apply: {ja.estimates_part(bare).reason}", f"no figure: {ja.estimates_part(bare).reason}",
                   f"does not apply: {ja.budget_part(bare).reason}", f"no figure: {ja.budget_part(bare).reason}"]
    assert not (tmp_path / "tables").exists() and not (tmp_path / "figures").exists()

    est = ja.estimates_part(demo_random)
    show_part(est, tmp_path / "tables")
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["judge_assisted.csv", "judge_assisted_long.csv"]
    assert pl.read_csv(tmp_path / "tables" / "judge_assisted_long.csv").height == est.tables["judge_assisted_long"].height
    forest = ja.forest_part(demo_random, est)
    fig = judge_assisted_forest(**forest.data)
    # per panel: every method x answer model with an estimate, one interval line and one point
    n = forest.data["estimates"].filter(pl.col("estimate").is_not_null()).height
    assert sum(len(a.lines) for a in fig.axes) == 2 * n
    plt.close(fig)
    budget = ja.budget_part(demo_random)
    fig = budget_plan_plot(**budget.data)
    assert [a.get_title() for a in fig.axes] == ["mean", "pct_harmful"]
    assert [len(a.lines) for a in fig.axes] == [1 + len(demo_random.names)] * 2
    plt.close(fig)
    d = ja.dstudy_part(demo_random, n_boot=50, seed=3, reml_responses=0)
    fig = dstudy_plot(**d.data)
    assert {t.get_text() for t in fig.axes[1].get_legend().get_texts()} == set(demo_random.evaluators)
    plt.close(fig)
    show_figure(d, dstudy_plot, "dstudy", tmp_path / "figures")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["dstudy.pdf", "dstudy.png", "dstudy.svg"]
