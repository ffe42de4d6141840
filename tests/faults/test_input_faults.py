"""Hostile or careless inputs to a user study (the issue "Nothing breaks, nothing leaks"):
each case ends in one line naming the file and the row or key, in an audit row, or in a
stated rule, never in a traceback, a silent acceptance or a wrong number. Every case
works on files in a temporary folder and checks that the load left them unchanged."""

from __future__ import annotations

import os

import polars as pl
import pytest

from analysis.data.ratings import parse_score, parse_whole
from analysis.data.tidy import StudyFileError, load_tidy, validate

from .conftest import replace, snapshot

STUDY = """name = "faults"
ratings = "ratings.csv"
scale = [1, 5]
integer = true
references = ["H1"]
"""
GOOD = "item,rater,score\nr1,H1,3\nr1,judge,4\nr2,H1,2\nr2,judge,2\nr3,H1,5\nr3,judge,4\n"


def _study(folder, ratings, study: str = STUDY, name: str = "ratings.csv"):
    replace(folder / "study.toml", study)
    if isinstance(ratings, pl.DataFrame):
        folder.mkdir(parents=True, exist_ok=True)
        ratings.write_parquet(folder / name)
    elif ratings is not None:
        replace(folder / name, ratings)
    return folder / "study.toml"


def _refused(path) -> list[str]:
    """The problems of a refused study; the inputs are unchanged and validate agrees."""
    before = snapshot(path.parent)
    with pytest.raises(StudyFileError) as exc:
        load_tidy(path)
    problems, data = validate(path)
    assert data is None
    assert snapshot(path.parent) == before
    return exc.value.problems


def _one(problems, text):
    hits = [p for p in problems if text in p]
    assert len(hits) == 1, problems
    assert "\n" not in hits[0] and len(hits[0]) < 400, hits[0]
    return hits[0]


# --- numbers by one strict rule -------------------------------------------------------

@pytest.mark.parametrize("text", ["7_5", "inf", "-inf", "0x10", "1;5", "4 5", "++4"])
def test_a_score_that_python_would_read_is_not_a_number(tmp_path, text):
    data = load_tidy(_study(tmp_path, GOOD + f"r4,H1,3\nr4,judge,{text}\n"))
    row = data.audit.filter(pl.col("record") == "row 9").row(0, named=True)
    assert (row["status"], row["reason"], row["detail"]) == ("excluded", "score is not a number", text)
    assert parse_score(text) == (None, "score is not a number")


def test_exponents_and_signs_stay_numbers():
    assert parse_score("4e0") == (4.0, None) and parse_score("+3") == (3.0, None) and parse_score(" 2.0 ") == (2.0, None)


@pytest.mark.parametrize("run, shown", [("inf", "'inf'"), ("3e9", "'3e9'"), ("1.5", "'1.5'"), ("0", "'0'"),
                                        ("7_5", "'7_5'"), ("true", "'true'")])
def test_a_run_that_is_not_a_small_whole_number_is_refused_with_its_row(tmp_path, run, shown):
    line = _one(_refused(_study(tmp_path, "item,rater,score,run\nr1,H1,3,1\nr1,judge,4,1\nr2,H1,2,1\n"
                                          f"r2,judge,2,{run}\n")), "is not a whole number")
    assert line == f"ratings.csv row 5: run {shown} is not a whole number from 1 to 1,000,000"


def test_a_boolean_run_in_parquet_is_not_run_1(tmp_path):
    frame = pl.DataFrame({"item": ["r1", "r1", "r2", "r2"], "rater": ["H1", "judge"] * 2, "score": [3, 4, 2, 2],
                          "run": [True, True, True, True]})
    _one(_refused(_study(tmp_path, frame, STUDY.replace("ratings.csv", "ratings.parquet"), "ratings.parquet")),
         "parquet rows 1, 2, 3, 4: run True is not a whole number")
    assert parse_whole(True) is None and parse_whole(3e9) is None and parse_whole(float("inf")) is None


# --- IDs and names ---------------------------------------------------------------------

def test_ids_with_spaces_are_one_item_in_validate_the_audit_and_the_tables(tmp_path):
    padded = "item,rater,score\nr1,H1,3\nr1 ,judge,4\nr2,H1,2\n r2,judge,2\nr3,H1,5\nr3,judge ,4\n"
    data = load_tidy(_study(tmp_path, padded))
    assert sorted(data.ratings["response_id"].unique().to_list()) == ["r1", "r2", "r3"]
    assert data.evaluators == ("judge",)
    assert data.review_set.height == 3 and data.ratings.height == 6
    assert [n for n in data.notes if "item with leading or trailing spaces" in n] == [
        "ratings.csv rows 3, 5: item with leading or trailing spaces, read without them (2 rows)"]
    problems, checked = validate(tmp_path / "study.toml")
    assert problems == [] and checked is not None


@pytest.mark.parametrize("name", ["judge\n", "H1\n"])
def test_a_name_ending_in_a_newline_is_not_safe(tmp_path, name):
    study = STUDY.replace('references = ["H1"]', f'references = ["H1", {name!r}]'.replace("'", '"'))
    _one(_refused(_study(tmp_path, GOOD, study)), "is not a safe name")


def test_a_study_name_ending_in_a_newline_is_not_safe(tmp_path):
    _one(_refused(_study(tmp_path, GOOD, STUDY.replace('name = "faults"', 'name = "faults\\n"'))),
         "key 'name': 'faults\\n' is not a safe name")


def test_a_300_character_study_name_is_refused_before_any_file_is_written(tmp_path):
    line = _one(_refused(_study(tmp_path, GOOD, STUDY.replace('"faults"', '"' + "x" * 300 + '"'))),
                "is not a safe name")
    assert "at most 100 characters" in line and "x" * 60 not in line


def test_a_study_named_like_the_reports_index_is_refused(tmp_path):
    _one(_refused(_study(tmp_path, GOOD, STUDY.replace('"faults"', '"index.html"'))),
         "key 'name': 'index.html' is not a safe name")


@pytest.mark.parametrize("reserved", ["human_mean", "jury"])
def test_a_rater_named_like_a_derived_rater_is_refused(tmp_path, reserved):
    line = _one(_refused(_study(tmp_path, GOOD + f"r1,{reserved},4\nr2,{reserved},3\n")), "is reserved")
    assert line.startswith(f"ratings.csv row 8: rater name '{reserved}' is reserved")


def test_a_reserved_reference_is_refused_in_the_study_file(tmp_path):
    _one(_refused(_study(tmp_path, GOOD, STUDY.replace('["H1"]', '["H1", "human_mean"]'))),
         "rater name 'human_mean' is reserved")


def test_duplicated_references_and_jury_members_are_refused(tmp_path):
    problems = _refused(_study(tmp_path, GOOD, STUDY.replace('["H1"]', '["H1", "H1"]') + 'jury = ["a", "a"]\n'))
    _one(problems, "key 'references': ['H1'] listed twice")
    _one(problems, "key 'jury': ['a'] listed twice")


# --- the study file --------------------------------------------------------------------

@pytest.mark.parametrize("scale", ["[nan, 5]", "[1, inf]", "[-inf, inf]", "[5, 1]", "[1, 1]"])
def test_a_scale_must_be_finite_and_ordered(tmp_path, scale):
    _one(_refused(_study(tmp_path, GOOD, STUDY.replace("[1, 5]", scale))), "key 'scale': expected [low, high]")


def test_a_column_map_that_collides_with_a_real_column_is_refused(tmp_path):
    ratings = "answer_id,item,rater,score\nr1,x,H1,3\nr1,x,judge,4\nr2,y,H1,2\nr2,y,judge,2\n"
    line = _one(_refused(_study(tmp_path, ratings, STUDY + '[columns]\nitem = "answer_id"\n')), "columns.item")
    assert line == ("key 'columns.item': ratings.csv has a column 'item' besides 'answer_id'; rename or drop one so "
                    "that 'item' means one column")


def test_two_standard_columns_mapped_to_one_file_column_are_refused(tmp_path):
    _one(_refused(_study(tmp_path, GOOD, STUDY + '[columns]\nitem = "x"\ncluster = "x"\n')),
         "file column 'x' is mapped to several standard columns (item, cluster)")


def test_a_duplicated_score_column_is_refused(tmp_path):
    ratings = "item,rater,score,score\nr1,H1,3,1\nr1,judge,4,1\nr2,H1,2,1\nr2,judge,2,1\n"
    _one(_refused(_study(tmp_path, ratings)), "ratings.csv, row 1: column(s) 'score' appear more than once")


def test_a_parquet_column_of_lists_is_refused(tmp_path):
    frame = pl.DataFrame({"item": [["r1"], ["r1"], ["r2"], ["r2"]], "rater": ["H1", "judge"] * 2,
                          "score": [3, 4, 2, 2]})
    _one(_refused(_study(tmp_path, frame, STUDY.replace("ratings.csv", "ratings.parquet"), "ratings.parquet")),
         "column(s) 'item' hold lists or structs")


# --- files -----------------------------------------------------------------------------

def test_a_ratings_path_outside_the_study_folder_needs_saying_so(tmp_path):
    replace(tmp_path / "elsewhere" / "x.csv", GOOD)
    study = STUDY.replace('"ratings.csv"', '"../elsewhere/x.csv"')
    line = _one(_refused(_study(tmp_path / "study", None, study)), "outside the study file's folder")
    assert line.startswith("key 'ratings': '../elsewhere/x.csv' is outside")
    ok = _study(tmp_path / "study", None, study + "ratings_outside_study_folder = true\n")
    assert load_tidy(ok).ratings.height == 6


def test_a_link_to_a_secrets_file_is_refused_without_echoing_it(tmp_path):
    secret = tmp_path / "secrets.env"
    secret.write_text("TOKEN=s3cr3t-value\n")
    folder = tmp_path / "study"
    path = _study(folder, None)
    os.symlink(secret, folder / "ratings.csv")
    problems = _refused(path)
    line = _one(problems, "key 'ratings'")
    assert "a link to a .env file" in line
    assert not any("s3cr3t" in p for p in problems)


def test_a_linked_csv_inside_the_folder_is_read(tmp_path):
    folder = tmp_path / "study"
    replace(folder / "data" / "real.csv", GOOD)
    path = _study(folder, None)
    os.symlink(folder / "data" / "real.csv", folder / "ratings.csv")
    assert load_tidy(path).ratings.height == 6


# --- errors bounded --------------------------------------------------------------------

def test_a_million_duplicated_rows_are_one_short_line(tmp_path):
    ratings = "item,rater,score\n" + "r1,H1,3\n" * 200_000 + "r1,judge,4\nr2,H1,2\nr2,judge,3\n"
    problems = _refused(_study(tmp_path, ratings))
    line = _one(problems, "rates item")
    assert line.startswith("ratings.csv rows 2, 3, 4, 5, 6 and 199,995 more: rater 'H1' rates item 'r1' 200,000 "
                           "times in run 1")
    assert sum(len(p) for p in problems) < 2_000


def test_an_unterminated_quote_names_its_row_not_the_file(tmp_path):
    ratings = GOOD + 'r4,H1,"3\n' + "r5,judge,4 SECRET\n" * 50_000
    problems = _refused(_study(tmp_path, ratings))
    assert len(problems) == 1 and len(problems[0]) < 200, problems
    assert problems[0].startswith("ratings.csv: cannot be read:") and "SECRET" not in problems[0]


def test_a_ragged_row_is_named(tmp_path):
    problems = _refused(_study(tmp_path, GOOD + "r4,H1,3,extra,fields\n"))
    assert problems == ["ratings.csv: cannot be read: row 8: 5 fields, the header has 3 (a stray or missing "
                        "separator?)"]


def test_an_evaluator_with_a_single_shared_rating_fails_validate_not_summary(tmp_path):
    ratings = GOOD + "r1,lonely,3\n"
    _one(_refused(_study(tmp_path, ratings)), "evaluator 'lonely' shares 1 usable item with the references")


def test_the_streaming_reader_reads_numbers_and_ids_by_the_same_rules(tmp_path):
    from analysis.data.tidy_stream import stream_study

    ratings = ("item,rater,score\nr1,H1,3\nr1 ,judge,4\nr2,H1,2\n r2,judge,2\nr3,H1,5\nr3,judge ,4\n"
               "r4,H1,7_5\nr4,judge,inf\n")
    path = _study(tmp_path, ratings)
    memory, streamed = load_tidy(path), stream_study(path)
    assert streamed.matrix.values.shape == (3, 2) and streamed.evaluators == memory.evaluators == ("judge",)
    audit = {(r["status"], r["reason"]): r["n_records"] for r in streamed.audit.iter_rows(named=True)}
    assert audit[("excluded", "score is not a number")] == 2
    assert memory.audit.filter(pl.col("reason") == "score is not a number").height == 2


def test_the_streaming_reader_refuses_boolean_runs(tmp_path):
    from analysis.data.tidy_stream import stream_study

    frame = pl.DataFrame({"item": ["r1", "r1", "r2", "r2"], "rater": ["H1", "judge"] * 2, "score": [3, 4, 2, 2],
                          "run": [True] * 4})
    path = _study(tmp_path, frame, STUDY.replace("ratings.csv", "ratings.parquet"), "ratings.parquet")
    with pytest.raises(StudyFileError, match="parquet row 1: run is not a whole number"):
        stream_study(path)
