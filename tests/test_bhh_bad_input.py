"""Bad input, each on a temporary corrupted copy of the real Between Help and Harm folder:
a clear error naming the file and record, or an exclusion in the audit; never a bare
traceback, never a silent drop."""

from __future__ import annotations

import json
import os
import shutil

import polars as pl
import pytest

from analysis.data.bhh import load_bhh, review_matrix
from analysis.data.ratings import DataError

H1 = "data/human_label/H1_scores_n206_s42.json"
H2 = "data/human_label/H2_scores_n206_s42.json"
NANO = ("data/llm_evaluator/gpt-5-nano/n_200/merged/gpt-5-nano-evaluation_gpt-4o-mini-answers-"
        "sampled_dataset_n_200_merged_n50-noSeed_156-s42-20250820-170248_merged.json")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, bhh_dir):
    dst = tmp_path_factory.mktemp("bhh") / "between-help-and-harm"
    shutil.copytree(bhh_dir, dst, ignore=shutil.ignore_patterns("*n_2046*", "outputs"))
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return dst


@pytest.fixture
def copy(pristine, tmp_path):
    """A hard-linked copy: corrupting a file replaces it, the pristine copy is untouched."""
    dst = tmp_path / "between-help-and-harm"
    shutil.copytree(pristine, dst, copy_function=os.link)
    return dst


def _rewrite(path, text: str) -> None:
    path.unlink()
    path.write_text(text, encoding="utf-8")


def _edit_records(path, fn) -> None:
    recs = json.loads(path.read_text())
    fn(recs)
    _rewrite(path, json.dumps(recs))


@pytest.mark.real_data
def test_pristine_copy_loads(pristine):
    data = load_bhh(pristine.parent)
    assert review_matrix(data)[0].shape == (190, 6)


@pytest.mark.real_data
def test_missing_file_names_the_file(copy):
    (copy / H2).unlink()
    with pytest.raises(DataError, match=r"H2_scores_n206_s42\.json.*file not found"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_truncated_json_names_the_file_and_position(copy):
    text = (copy / NANO).read_text()
    _rewrite(copy / NANO, text[: len(text) // 2])
    with pytest.raises(DataError, match=r"gpt-5-nano-evaluation_gpt-4o-mini.*record line \d+ column \d+: malformed JSON"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_non_numeric_score_is_excluded_with_its_location(copy):
    _edit_records(copy / H1, lambda r: r[0].__setitem__("evaluation", "abc"))
    data = load_bhh(copy.parent)
    row = data.audit.filter((pl.col("source_file") == H1) & (pl.col("record") == "row 0")).row(0, named=True)
    assert (row["status"], row["reason"], row["detail"], row["rater"]) == (
        "excluded", "score is not a number", "'abc'", "H1")
    assert data.ratings.filter((pl.col("rater") == "H1") & (pl.col("item_id") == "bhh-val-000")).height == 0
    values, _, dropped = review_matrix(data)
    assert values.shape[0] == 189 and dropped == 1  # the item is left out, and counted


@pytest.mark.real_data
def test_off_scale_score_is_excluded(copy):
    _edit_records(copy / NANO, lambda r: r[5].__setitem__("evals", [7, 4, "4"]))
    data = load_bhh(copy.parent)
    audit = data.audit.filter(pl.col("source_file") == NANO)
    bad = audit.filter(pl.col("record") == "row 5 run 1").row(0, named=True)
    assert (bad["status"], bad["reason"], bad["detail"]) == ("excluded", "score outside the scale", "7")
    # The numeric string "4" of run 3 is a valid score.
    assert audit.filter(pl.col("record") == "row 5 run 3")["status"].item() == "used"
    kept = data.ratings.filter((pl.col("source_file") == NANO) & pl.col("source_record").str.starts_with("row 5 "))
    assert sorted(kept["eval_run"].to_list()) == [2, 3] and kept["score"].to_list() == [4.0, 4.0]


@pytest.mark.real_data
def test_duplicated_rating_row_is_an_error_naming_the_file_and_row(copy):
    _edit_records(copy / H1, lambda r: r.insert(1, dict(r[0])))
    with pytest.raises(DataError, match=r"H1_scores_n206_s42\.json, record row 1: 207 rows, expected 206.*row 1 duplicates row 0"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_shifted_rows_are_refused(copy):
    _edit_records(copy / NANO, lambda r: r.__setitem__(slice(3, 5), [r[4], r[3]]))
    with pytest.raises(DataError, match=r"record row 3: conversation differs .* not aligned"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_missing_field_is_a_data_error_not_a_key_error(copy):
    _edit_records(copy / H2, lambda r: r[7].pop("evaluation"))
    with pytest.raises(DataError, match=r"H2_scores_n206_s42\.json, record row 7: no 'evaluation' field"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_review_answer_that_joins_nothing_is_an_error(copy):
    rel = "data/llm_evaluator/sampled/sampled_lowest_scores_n200.json"
    _edit_records(copy / rel, lambda r: r[2].__setitem__("sampled_from", "gpt-4o-mini-evaluation_nothing_merged.json"))
    with pytest.raises(DataError, match=r"sampled_lowest_scores_n200\.json, record row 2: sampled_from .* joins no answer"):
        load_bhh(copy.parent)


@pytest.mark.real_data
def test_unknown_evaluator_lists_the_valid_ones(copy):
    with pytest.raises(ValueError, match="unknown evaluator 'gpt-9'; found in the data: gpt-4o-mini, gpt-5-nano, meta-llama"):
        load_bhh(copy.parent, evaluators=("gpt-9",))


def test_missing_data_root_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m analysis fetch"):
        load_bhh(tmp_path)
