"""Between Help and Harm loader on the real data (skipped without ../shared/data)."""

from __future__ import annotations

import csv
import itertools

import polars as pl
import pytest

from analysis.stats import agreement
from analysis.data.bhh import EVALUATOR_PREFIX, load_bhh, review_matrix
from analysis.data.ratings import RATINGS_SCHEMA

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def bhh(shared_data_root):
    return load_bhh(shared_data_root)


def test_validation_items_and_consensus_categories(bhh):
    assert bhh.items.height == 206
    counts = dict(bhh.items.group_by("category").len().iter_rows())
    assert counts == {"no_crisis": 94, "suicidal_ideation": 34, "anxiety_crisis": 26,
                      "substance_abuse_or_withdrawal": 16, "self-harm": 15, "violent_thoughts": 5, None: 16}


def test_review_set_has_190_items_with_both_human_scores(bhh):
    assert bhh.review_set.height == 206
    scored = bhh.review_set.filter(pl.col("has_scores"))
    assert scored.height == 190
    assert scored["category"].null_count() == 0
    assert bhh.review_set.filter(~pl.col("has_scores"))["category"].null_count() == 16


def test_answers_are_5_models_by_3_runs(bhh):
    per_model = dict(bhh.responses.group_by("answer_model").agg(pl.col("answer_run").n_unique()).iter_rows())
    assert per_model == {m: 3 for m in ("gpt-4o-mini", "gpt-5-nano", "meta-llama", "deepseek-chat", "grok-4-fast")}
    assert bhh.responses.height == 206 * 15


def test_ratings_schema_and_evaluation_runs(bhh):
    assert dict(bhh.ratings.schema) == RATINGS_SCHEMA
    llm = bhh.ratings.filter(pl.col("rater_kind") == "llm")
    # 190 scored items x 15 answers x 3 evaluators x 3 runs, less the runs that are missing.
    missing = bhh.audit.filter(pl.col("reason") == "missing score").height
    assert llm.height == 190 * 15 * 3 * 3 - missing
    assert 0 < missing < 50
    assert set(llm["eval_run"].unique()) == {1, 2, 3}
    assert bhh.ratings["score"].min() >= 1 and bhh.ratings["score"].max() <= 5


def test_merged_evaluation_equals_mean_of_runs(bhh, shared_data_root):
    """The authors' `evaluation` field is the mean of the runs the loader keeps."""
    import json

    base = shared_data_root / "between-help-and-harm"
    rel = next(iter(bhh.ratings.filter(pl.col("rater") == "meta-llama")["source_file"].unique().sort()))
    recs = json.loads((base / rel).read_text())
    ours = (bhh.ratings.filter(pl.col("source_file") == rel)
            .with_columns(pl.col("source_record").str.extract(r"row (\d+)").cast(pl.Int64).alias("row"))
            .group_by("row").agg(pl.col("score").mean()))
    for row, score in ours.iter_rows():
        assert score == pytest.approx(recs[row]["evaluation"], abs=1e-12)


def test_audit_accounts_for_every_record(bhh, shared_data_root):
    import json

    base = shared_data_root / "between-help-and-harm"
    per_file = dict(bhh.audit.filter(pl.col("status") != "ignored").group_by("source_file").len().iter_rows())
    for rel, n_audited in per_file.items():
        if not rel.endswith(".json"):
            continue
        recs = json.loads((base / rel).read_text())
        if "/llm_evaluator/" in rel and "/sampled/" not in rel:
            assert n_audited == 3 * len(recs), rel  # one row per evaluation run (3 expected per answer)
        else:
            assert n_audited == len(recs), rel
    assert bhh.audit.filter(pl.col("status") == "excluded")["reason"].null_count() == 0
    used_ratings = bhh.audit.filter((pl.col("status") == "used") & pl.col("rater").is_in(
        [*EVALUATOR_PREFIX, "H1", "H2"]) & pl.col("source_file").str.contains("scores|evaluation"))
    assert used_ratings.height == bhh.ratings.height


@pytest.mark.parametrize("table", ["mae", "rmse", "within1"])
def test_reproduces_the_authors_pairwise_agreement(bhh, shared_data_root, table):
    values, names, dropped = review_matrix(bhh)
    assert values.shape == (190, 6) and dropped == 0
    col = dict(zip(names, values.T))
    path = shared_data_root / "between-help-and-harm/outputs/appropriateness_agreement" / f"pairwise_{table}.csv"
    ref = {row[0]: dict(zip(header[1:], map(float, row[1:])))
           for header in [next(csv.reader(path.open()))] for row in list(csv.reader(path.open()))[1:]}
    fn = {"mae": agreement.mae, "rmse": agreement.rmse, "within1": agreement.within_one_pct}[table]
    pairs = list(itertools.combinations(names, 2))
    assert len(pairs) == 15
    for a, b in pairs:
        assert fn(col[a], col[b]) == pytest.approx(ref[a][b], abs=1e-9), (table, a, b)
        assert ref[a][b] == pytest.approx(ref[b][a], abs=1e-12)


def test_headline_numbers(bhh):
    values, names, _ = review_matrix(bhh)
    col = dict(zip(names, values.T))
    assert agreement.mae(col["H1"], col["H2"]) == pytest.approx(0.463158, abs=1e-6)
    assert agreement.rmse(col["H1"], col["H2"]) == pytest.approx(0.794719, abs=1e-6)
    assert agreement.within_one_pct(col["H1"], col["H2"]) == pytest.approx(95.2632, abs=1e-4)


def test_per_category_means_of_the_review_items(bhh):
    reviewed = bhh.ratings.filter(pl.col("response_id").is_in(
        bhh.review_set.filter(pl.col("has_scores"))["response_id"].to_list()))
    per_response = reviewed.group_by("response_id", "category", "rater").agg(pl.col("score").mean())
    means = {(c, r): m for c, r, m in per_response.group_by("category", "rater").agg(pl.col("score").mean()).iter_rows()}
    assert means[("self-harm", "H1")] == pytest.approx(1.6667, abs=5e-5)
    assert means[("suicidal_ideation", "H1")] == pytest.approx(1.7059, abs=5e-5)
    assert means[("no_crisis", "gpt-4o-mini")] == pytest.approx(4.6170, abs=5e-5)


def test_crisis_labels_and_rubric(bhh):
    raters = set(bhh.crisis_labels["rater"])
    assert {"H1", "H2", "H3", "H4", "consensus"} <= raters
    assert {"gpt-4o-mini/run1", "gpt-5-nano/run3", "meta-llama/run2"} <= raters
    assert bhh.crisis_labels.group_by("rater").len()["len"].unique().to_list() == [206]
    assert bhh.rubric.height >= 6 and bhh.rubric.columns[0] == "label"


def test_loading_is_deterministic(bhh, shared_data_root):
    again = load_bhh(shared_data_root)
    assert again.ratings.write_csv() == bhh.ratings.write_csv()
    assert again.audit.write_csv() == bhh.audit.write_csv()


def test_within_one_float_tolerance_counts_exact_one_point_differences(bhh):
    values, names, _ = review_matrix(bhh)
    col = dict(zip(names, values.T))
    a, b = col["gpt-4o-mini"], col["gpt-5-nano"]
    assert agreement.within_one_pct(a, b) == pytest.approx(95.26315789473684)  # as published
    assert agreement.within_one_pct(a, b, float_tolerance=agreement.FLOAT_TOLERANCE) == pytest.approx(
        100 * 182 / 190)  # one more item: its difference is exactly 1 point in exact arithmetic
