"""Studies that users bring: a tidy ratings file and a study file.

* A study written by hand (renamed columns and raters, missing ratings) gives the same
  agreement, ICC and bias tables as the same data through the built-in loader, and
  renders end to end.
* A nominal study renders the classification report.
* Every kind of bad study file is refused with a message naming the key or the row.
* export -> validate -> render round trip equals the built-in study's tables.
"""

from __future__ import annotations

import json
import dataclasses

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from analysis.data.demo import generate_demo
from analysis.data.paths import PROJECT_ROOT
from analysis.data.tidy import StudyFileError, load_tidy, read_study_file, validate
from analysis.cli.export import export_study
from analysis.render.runner import render
from analysis.studies.registry import get_study, load_study
from analysis.studies.scored import HUMAN_MEAN, agreement_table, bias_table, icc_table, review_scores

RENAME_RATERS = {"H1": "nurse_a", "H2": "nurse_b", "gpt-4o-mini": "judge-mini", "gpt-5-nano": "judge-nano",
                 "meta-llama": "judge-llama"}
SEED = 20261124


def _dropped(ratings: pl.DataFrame) -> pl.DataFrame:
    """The demo ratings less some: 7 human ratings of H1 and every run 3 of meta-llama on
    one answer model, so that ratings are missing in both ways."""
    h1 = ratings.filter(pl.col("rater") == "H1").sort("response_id")["response_id"].head(7).to_list()
    return ratings.filter(~((pl.col("rater") == "H1") & pl.col("response_id").is_in(h1))
                          & ~((pl.col("rater") == "meta-llama") & (pl.col("eval_run") == 3)
                              & (pl.col("answer_model") == "grok-4-fast")))


@pytest.fixture(scope="module")
def hand_written(tmp_path_factory):
    """A study file written by hand, with the file's own column and rater names."""
    folder = tmp_path_factory.mktemp("user")
    ratings = _dropped(generate_demo(seed=SEED).ratings)
    tidy = ratings.select(
        pl.col("response_id").alias("answer_id"), pl.col("rater").replace(RENAME_RATERS).alias("annotator"),
        pl.col("score").cast(pl.Int64).alias("rating"), pl.col("eval_run").alias("pass"),
        pl.col("category").alias("crisis"), pl.col("item_id").alias("conversation"),
        pl.col("answer_model").alias("model"))
    tidy.write_csv(folder / "my_ratings.csv")
    (folder / "judges.toml").write_text("""
name = "my-judges"
ratings = "my_ratings.csv"
scale = [1, 5]
integer = true
references = ["nurse_a", "nurse_b"]
jury = ["judge-mini", "judge-nano", "judge-llama"]

[columns]
item = "answer_id"
rater = "annotator"
score = "rating"
run = "pass"
category = "crisis"
cluster = "conversation"
source = "model"

[own_source]
judge-mini = "gpt-4o-mini"
""")
    return folder / "judges.toml", ratings


def test_a_hand_written_study_gives_the_built_in_tables(hand_written):
    path, ratings = hand_written
    study = load_study(str(path))
    assert study.name == "my-judges" and study.evaluators == ("judge-llama", "judge-mini", "judge-nano")
    assert study.jury == ("judge-mini", "judge-nano", "judge-llama")
    user = study.review_scores()
    # The file declares clusters (its cluster column), so its intervals resample them; the
    # built-in demo resamples items: compare the same estimator (items) here.
    assert user.clustered
    user = dataclasses.replace(user, clustered=False)
    demo = generate_demo(seed=SEED)
    built_in = review_scores(ratings, demo.review_set, demo.items, humans=("H1", "H2"),
                             evaluators=("gpt-4o-mini", "gpt-5-nano", "meta-llama"),
                             jury=("gpt-4o-mini", "gpt-5-nano", "meta-llama"))
    # The 7 answers H1 did not rate drop out of both (complete rows only).
    assert user.matrix.values.shape[0] == built_in.matrix.values.shape[0] == 200 - 7
    back = {v: k for k, v in RENAME_RATERS.items()}
    for ev in ("judge-mini", "jury"):
        pairs_u = [(ev, r) for r in ("nurse_a", "nurse_b", HUMAN_MEAN)]
        pairs_b = [(back.get(ev, ev), back.get(r, r)) for _, r in pairs_u]
        for make in (agreement_table, lambda s, p: icc_table(s, p, n_boot=300, seed=2),
                     lambda s, p: bias_table(s, [p[0][0]], references=[r for _, r in p], n_boot=300, seed=2)):
            got = make(user, pairs_u).with_columns(pl.col(pl.String).replace(back))
            assert got.equals(make(built_in, pairs_b)), (ev, make)


@pytest.mark.slow
def test_the_hand_written_study_renders_end_to_end(hand_written, tmp_path):
    path, _ = hand_written
    status = render([str(path)], ["judge-mini"], jobs=2, n_boot=50, seed=3, reports_dir=tmp_path / "reports",
                    figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "my-judges" / "judge-mini" / "tables"
    icc = pl.read_csv(tables / "icc.csv")
    assert set(icc["rater_b"]) >= {"nurse_a", "nurse_b", HUMAN_MEAN}
    sp = pl.read_csv(tables / "self_preference.csv")
    assert sp["own_model"].unique().to_list() == ["gpt-4o-mini"]
    assert (tables / "run_reliability.csv").is_file() and (tables / "category_appropriateness.csv").is_file()
    assert (tmp_path / "reports" / "my-judges" / "tables" / "audit_summary.csv").is_file()


NO_CATEGORIES_NO_RUNS = ("the ratings have no category and no source column (category × answer model tables need "
                         "both) and one run per rating (run-to-run reliability needs repeated runs)")


def _bare_study(tmp_path, *columns, runs=False):
    """A user study of the demo's reviewed answers with only item, rater, score (and ``columns``)."""
    demo = generate_demo(seed=1, n_items=40)
    reviewed = demo.ratings.filter(pl.col("response_id").is_in(demo.review_set["response_id"].to_list())
                                   & (pl.lit(runs) | (pl.col("eval_run") == 1)))
    extra = [pl.col("eval_run").alias("run")] if runs else []
    reviewed.select(pl.col("response_id").alias("item"), "rater", pl.col("score").cast(pl.Int64), *columns,
                    *extra).write_csv(tmp_path / "r.csv")
    (tmp_path / "s.toml").write_text('name = "bare"\nratings = "r.csv"\nscale = [1, 5]\nreferences = ["H1", "H2"]\n')
    return str(tmp_path / "s.toml")


@pytest.mark.parametrize("columns, runs, skipped", [
    ((), False, NO_CATEGORIES_NO_RUNS), ((), True, ""), (("category", pl.col("answer_model").alias("source")), False, "")])
def test_the_render_plan_skips_a_notebook_that_does_not_apply(tmp_path, columns, runs, skipped):
    from analysis.render.plan import plan

    study = _bare_study(tmp_path, *columns, runs=runs)
    jobs = plan([study], ["gpt-5-nano"], data_root=None, n_boot=10, seed=1, reports_dir=tmp_path / "reports",
                figures_dir=tmp_path / "figures")
    reasons = {j.notebook: j.skipped for j in jobs}
    assert reasons.pop("04_category_appropriateness") == skipped
    assert set(reasons.values()) == {""}  # every other notebook applies


def test_the_index_lists_a_skipped_notebook_with_its_reason(tmp_path):
    from analysis.reporting.index import write_index

    for ev in ("a", "b"):
        folder = tmp_path / "reports" / "bare" / ev
        folder.mkdir(parents=True)
        (folder / "04_category_appropriateness.run.json").write_text(json.dumps(dict(
            status="skipped", reason=NO_CATEGORIES_NO_RUNS, seed=1, n_boot=10, data="d", started="t", error="")))
        (folder / "02_reliability.run.json").write_text(json.dumps(dict(status="ok", seed=1, n_boot=10, data="d",
                                                                       started="t", error="")))
    page = write_index(tmp_path / "reports", tmp_path / "figures").read_text()
    assert f"not rendered: 04_category_appropriateness (for a, b): {NO_CATEGORIES_NO_RUNS}" in page
    assert "2/2 notebooks ok · 2 not applicable" in page and "SKIPPED" not in page


@pytest.mark.slow
def test_missing_columns_are_skipped_with_a_note(tmp_path):
    demo = generate_demo(seed=1, n_items=40)
    reviewed = demo.ratings.filter(pl.col("response_id").is_in(demo.review_set["response_id"].to_list())
                                   & (pl.col("eval_run") == 1))
    reviewed.select(pl.col("response_id").alias("item"), "rater", pl.col("score").cast(pl.Int64)).write_csv(
        tmp_path / "r.csv")
    (tmp_path / "s.toml").write_text('name = "bare"\nratings = "r.csv"\nscale = [1, 5]\nreferences = ["H1", "H2"]\n')
    status = render([str(tmp_path / "s.toml")], ["gpt-5-nano"], jobs=2, n_boot=30, seed=1,
                    reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    # 04 has nothing to show without categories or runs: not rendered, and the index says why
    assert not (tmp_path / "reports" / "bare" / "gpt-5-nano" / "04_category_appropriateness.html").exists()
    record = json.loads((tmp_path / "reports" / "bare" / "gpt-5-nano" / "04_category_appropriateness.run.json")
                        .read_text())
    assert record["status"] == "skipped" and record["reason"] == NO_CATEGORIES_NO_RUNS
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"not rendered: 04_category_appropriateness (for gpt-5-nano): {NO_CATEGORIES_NO_RUNS}" in index
    # the humans rated every answer: the judge-assisted notebook says so, and shows no empty table
    html = (tmp_path / "reports" / "bare" / "09_judge_assisted.html").read_text()
    assert "every answer the evaluators scored was rated by the references: no unrated answers" in html
    assert "No reference ratings" not in html and not re.search(r"\b0 rows", html)
    assert not (tmp_path / "reports" / "bare" / "tables" / "budget_plan.csv").exists()


@pytest.mark.slow
def test_a_nominal_study_renders_the_classification_report(tmp_path):
    labels = ["safe", "unsafe", "unclear"]
    rows = []
    for i in range(60):
        gold = labels[i % 3]
        rows.append((f"r{i}", "expert", gold, 1))
        for run in (1, 2, 3):
            rows.append((f"r{i}", "judge-x", labels[(i + (1 + run % 2 if i % 5 == 0 else 0)) % 3], run))
    pl.DataFrame(rows, schema=["item", "rater", "score", "run"], orient="row").write_csv(tmp_path / "labels.csv")
    (tmp_path / "nominal.toml").write_text('name = "labels-study"\nratings = "labels.csv"\n'
                                           'labels = ["safe", "unsafe", "unclear"]\nreferences = ["expert"]\n')
    status = render([str(tmp_path / "nominal.toml")], None, jobs=1, n_boot=50, seed=2,
                    reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)
    assert status == 0
    tables = tmp_path / "reports" / "labels-study" / "judge-x" / "tables"
    metrics = pl.read_csv(tables / "metrics.csv")
    acc = metrics.filter(pl.col("metric") == "accuracy")["mean"][0]
    # 12 of 60 items (i % 5 == 0) get a wrong label (shifted by 1 or 2) in every run: accuracy 48/60 in each run.
    assert acc == pytest.approx(48 / 60, abs=1e-12)
    assert "binary_accuracy" not in metrics["metric"].to_list()
    per = pl.read_csv(tables / "per_category.csv")
    assert per["category"].to_list() == labels and per["n_gold"].to_list() == [20, 20, 20]


def _study(tmp_path, toml: str, csv: str | None = "item,rater,score\na,H1,3\na,H2,4\na,judge,4\nb,H1,2\nb,H2,2\nb,judge,3\n",
           name="ratings.csv") -> Path:
    if csv is not None:
        (tmp_path / name).write_text(csv)
    (tmp_path / "study.toml").write_text(toml)
    return tmp_path / "study.toml"


GOOD = 'name = "s"\nratings = "ratings.csv"\nscale = [1, 5]\nreferences = ["H1", "H2"]\n'


@pytest.mark.parametrize("toml, csv, message", [
    ("name = \"s\"\nratings = [", None, "not valid TOML"),
    (GOOD + "colour = \"red\"\n", None, "key 'colour': unknown key"),
    ('ratings = "ratings.csv"\nscale = [1, 5]\nreferences = ["H1"]\n', None, "key 'name': required"),
    (GOOD.replace('"s"', '"../escape"'), None, "key 'name': '../escape' is not a safe name"),
    (GOOD.replace('"s"', '"<b>x</b>"'), None, "is not a safe name"),
    (GOOD.replace("scale = [1, 5]", "scale = [5, 1]"), None, "key 'scale': expected [low, high]"),
    (GOOD + 'labels = ["a"]\n', None, "give exactly one"),
    (GOOD + "[columns]\nscore = \"rating\"\n", None, "key 'columns.score': column 'rating' is not in ratings.csv"),
    (GOOD, "item,who,score\na,H1,3\n", "required column 'rater' missing"),
    (GOOD, "item,rater,score\n", "ratings.csv: no rows"),
    (GOOD, "item,rater,score\na,H1,3\na,H1,4\na,H2,4\na,judge,4\n", "rows 2, 3: rater 'H1' rates item 'a' twice in run 1"),
    (GOOD.replace('["H1", "H2"]', '["H1", "H9"]'), None, "key 'references': 'H9' has no usable rating"),
    (GOOD, "item,rater,score\na,H1,3\na,H2,4\nb,judge,4\n", "evaluator 'judge' rates no item that a reference rates"),
    (GOOD, "item,rater,score\na,H1,3\na,H2,4\na,judge/x,4\n", "row 4: rater name 'judge/x' is not a safe name"),
    (GOOD, "item,rater,score\na,H1,3\na,H2,4\na,jury,4\n", "rater name 'jury' is reserved"),
    (GOOD + 'jury = ["judge", "other"]\n', None, "key 'jury': 'other' is not an evaluator"),
    (GOOD.replace("ratings.csv", "missing.csv"), None, "missing.csv not found"),
])
def test_bad_study_files_are_refused_with_a_named_problem(tmp_path, toml, csv, message):
    path = _study(tmp_path, toml, csv if csv is not None else
                  "item,rater,score\na,H1,3\na,H2,4\na,judge,4\nb,H1,2\nb,H2,2\nb,judge,3\n")
    problems, data = validate(path)
    assert data is None and any(message in p for p in problems), problems
    with pytest.raises(StudyFileError, match=None):
        load_tidy(read_study_file(path))


@pytest.mark.parametrize("value, reason", [("abc", "score is not a number"), ("7", "score outside the scale"),
                                           ("0", "score outside the scale"), ("", "missing score"),
                                           ("3.5", "score is not a whole point (the scale is integer)")])
def test_bad_scores_are_excluded_with_their_row(tmp_path, value, reason):
    toml = GOOD.replace("scale = [1, 5]", "scale = [1, 5]\ninteger = true")
    path = _study(tmp_path, toml, f"item,rater,score\na,H1,3\na,H2,4\na,judge,4\nb,H1,{value}\nb,H2,2\nb,judge,3\n")
    problems, data = validate(path)
    assert data is not None, problems
    shown = None if value == "" else value  # an empty CSV cell reads as null
    assert problems == [f"ratings.csv row 5: {reason} ({shown!r}), excluded"]
    row = data.audit.filter(pl.col("record") == "row 5").row(0, named=True)
    assert row["status"] == "excluded" and row["reason"] == reason


def test_fractions_are_used_when_the_scale_allows_them_and_labels_are_checked(tmp_path):
    path = _study(tmp_path, GOOD, "item,rater,score\na,H1,3.5\na,H2,4\na,judge,4\nb,H1,2\nb,H2,2\nb,judge,3\n")
    problems, data = validate(path)
    assert problems == [] and data.ratings.filter(pl.col("rater") == "H1")["score"][0] == 3.5
    nominal = _study(tmp_path, 'name = "n"\nratings = "ratings.csv"\nlabels = ["x", "y"]\nreferences = ["H1"]\n',
                     "item,rater,score\na,H1,x\na,judge,z\nb,H1,y\nb,judge,y\nc,H1,x\nc,judge,x\n")
    problems, data = validate(nominal)
    assert problems == ["ratings.csv row 3: label not in the study's labels ('z'), excluded"]


def test_nothing_is_written_outside_the_study_folders(tmp_path, hand_written):
    path, _ = hand_written
    before = {p for p in tmp_path.rglob("*")}
    spec = get_study(str(path))
    from analysis.render.plan import plan

    jobs = plan([spec.key], None, data_root=None, n_boot=5, seed=1, reports_dir=tmp_path / "reports",
                figures_dir=tmp_path / "figures")
    for j in jobs:
        assert Path(j.params["output_dir"]).is_relative_to(tmp_path / "reports" / "my-judges")
        assert Path(j.params["figures_dir"]).is_relative_to(tmp_path / "figures" / "my-judges")
    assert {p for p in tmp_path.rglob("*")} == before


def test_cli_validate_prints_problems_and_the_audit(tmp_path):
    path = _study(tmp_path, GOOD, "item,rater,score\na,H1,3\na,H2,4\na,judge,4\nb,H1,abc\nb,H2,2\nb,judge,3\n")
    proc = subprocess.run([sys.executable, "-m", "analysis", "validate", "--study", str(path)], capture_output=True,
                          text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "excluded: ratings.csv row 5: score is not a number ('abc')" in proc.stdout and "n_records" in proc.stdout
    bad = _study(tmp_path, GOOD + "oops = 1\n", None)
    proc = subprocess.run([sys.executable, "-m", "analysis", "validate", "--study", str(bad)], capture_output=True,
                          text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 2 and "error: key 'oops': unknown key" in proc.stdout


@pytest.mark.slow
def test_export_then_render_equals_the_built_in_demo(tmp_path):
    (path,) = export_study("demo", tmp_path / "export", seed=SEED)
    problems, data = validate(path)
    assert problems == [] and data is not None
    kwargs = dict(jobs=2, n_boot=100, seed=SEED, progress=False)  # the demo's data depend on the seed too
    assert render(["demo"], ["gpt-5-nano"], reports_dir=tmp_path / "a" / "reports", figures_dir=tmp_path / "a" / "f",
                  **kwargs) == 0
    assert render([str(path)], ["gpt-5-nano"], reports_dir=tmp_path / "b" / "reports",
                  figures_dir=tmp_path / "b" / "f", **kwargs) == 0
    a = tmp_path / "a" / "reports" / "demo" / "gpt-5-nano" / "tables"
    b = tmp_path / "b" / "reports" / "demo-export" / "gpt-5-nano" / "tables"
    for name in ("agreement", "icc", "bias", "human_ceiling", "mse_decomposition", "self_preference",
                 "category_appropriateness", "run_reliability"):
        # The export declares the conversations as clusters; its review set holds one answer per
        # conversation, so resampling conversations draws what resampling answers draws: the
        # numbers are the built-in's. The notes differ by design: the interval says it
        # resampled clusters, and flags fewer than 100 clusters (50 items for the built-in).
        built, exported = pl.read_csv(a / f"{name}.csv"), pl.read_csv(b / f"{name}.csv")
        notes = [c for c in ("ci_note", "ci_assumes") if c in built.columns]
        if name == "human_ceiling":
            # its bootstrap walks the conversations in the cluster order, not the answers':
            # other resamples, so the estimates agree and the intervals are another draw
            notes += [c for c in built.columns if "ci_" in c or c == "verdict"]
        assert built.drop(notes).equals(exported.drop(notes)), name
    assert set(pl.read_csv(b / "icc.csv").filter(pl.col("ci_method") == "BCa")["ci_assumes"]) == {"resampled clusters"}


@pytest.mark.real_data
def test_export_of_between_help_and_harm_gives_its_tables(shared_data_root, tmp_path):
    (path,) = export_study("bhh", tmp_path / "export", data_root=shared_data_root)
    user, built_in = load_study(str(path)), load_study("bhh", data_root=shared_data_root)
    su, sb = user.review_scores(), built_in.review_scores()
    # The export writes the prompts as clusters, so the user study resamples them; the
    # built-in resamples responses: compare the same estimator (responses) here.
    assert su.clustered and not sb.clustered
    su = dataclasses.replace(su, clustered=False)
    assert su.matrix.values.shape == sb.matrix.values.shape == (190, 7)  # H1, H2, 3 evaluators, jury, mean
    pairs = [(e, r) for e in built_in.names for r in ("H1", "H2", HUMAN_MEAN)] + [("H1", "H2")]
    assert agreement_table(su, pairs).equals(agreement_table(sb, pairs))
    # n_dropped differs by design: the built-in review set lists the 16 items without a
    # consensus label (dropped), the export holds only the 190 reviewed items.
    icc_u, icc_b = (icc_table(s, pairs[:4], n_boot=200, seed=1) for s in (su, sb))
    assert icc_u.drop("n_dropped").equals(icc_b.drop("n_dropped"))
    assert set(icc_u["n_dropped"]) == {0} and set(icc_b["n_dropped"]) == {16}


@pytest.mark.real_data
def test_export_of_dialoguesafety_gives_its_labels(shared_data_root, tmp_path):
    """The labelled export (DialogueSafety's own hook): gold and every answer that maps to a
    category come back, label for label, as a labelled user study."""
    (path,) = export_study("dialoguesafety", tmp_path / "export", data_root=shared_data_root)
    built_in, user = load_study("dialoguesafety", data_root=shared_data_root), load_study(str(path))
    assert user.spec.kind == "labelled" and user.spec.scale.labels == built_in.spec.scale.labels
    assert user.spec.references == ("gold",) and set(user.evaluators) == set(built_in.evaluators)
    mapped = (built_in.data.predictions.filter(pl.col("predicted") >= 0)
              .select(pl.col("item").cast(pl.String), "system", "run", "predicted").sort(pl.all()))
    back = (user.data.ratings.filter(pl.col("rater") != "gold")
            .select(pl.col("response_id").alias("item"), pl.col("rater").alias("system"),
                    pl.col("eval_run").cast(pl.Int64).alias("run"), pl.col("score").cast(pl.Int64).alias("predicted"))
            .sort(pl.all()))
    assert back.equals(mapped)
    gold = user.data.ratings.filter(pl.col("rater") == "gold").select(pl.col("response_id").alias("item"),
                                                                      pl.col("score").cast(pl.Int64).alias("gold"))
    assert gold.sort("item").equals(built_in.data.items.select(pl.col("item").cast(pl.String), "gold").sort("item"))


def test_a_study_declares_what_a_low_score_means_and_the_pages_say_it(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.reporting.figures import budget_plan_plot, judge_assisted_forest
    from analysis.studies import judge_assisted as ja

    assert (get_study("demo").low_label, get_study("demo").score_label) == ("harmful", "appropriateness")
    demo = generate_demo(seed=1, n_items=40)  # the evaluators on every answer, the humans on some
    demo.ratings.select(pl.col("response_id").alias("item"), "rater", pl.col("score").cast(pl.Int64), "category",
                        pl.col("answer_model").alias("source"), pl.col("eval_run").alias("run"),
                        pl.col("item_id").alias("cluster")).write_csv(tmp_path / "r.csv")
    study = str(tmp_path / "s.toml")
    text = 'name = "stories"\nratings = "r.csv"\nscale = [1, 5]\nreferences = ["H1", "H2"]\ndesign = "random"\n'
    Path(study).write_text(text + 'low_label = "poor"\nscore_label = "story quality"\n')
    spec = get_study(study)
    assert (spec.low_label, spec.score_label) == ("poor", "story quality")
    note = ja.vocabulary_note(spec)
    assert "mean story quality" in note and "which this study calls poor" in note
    assert "harmful" not in note.replace("pct_harmful", "")
    s = load_study(study, seed=1)
    forest = ja.forest_part(s, ja.estimates_part(s))
    assert forest.applies, forest.reason
    fig = judge_assisted_forest(**forest.data)
    xlabels = [ax.get_xlabel().replace("\n", " ") for ax in fig.axes]
    assert xlabels == ["mean story quality (points)", "% rated poor (≤ 2)"]
    budget = ja.budget_part(s)
    fig = budget_plan_plot(**budget.data)
    assert "target half-width of the % rated poor (% points)" in [ax.get_xlabel().replace("\n", " ") for ax in fig.axes]
    plt.close("all")
    # the built-in tables keep their column names
    assert "pct_harmful" in set(forest.data["estimates"]["quantity"])
    Path(study).write_text(text + 'low_label = ""\n')
    with pytest.raises(StudyFileError, match="key 'low_label': expected a short word or phrase"):
        read_study_file(study)
