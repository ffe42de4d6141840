"""Between Help and Harm: corrupted copies of the real validation split, one exact
outcome each (an error naming file and record, or the audit row of the record)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from analysis.data.bhh import CONSENSUS_FILE, load_bhh, review_matrix
from analysis.data.ratings import DataError

from .conftest import edit_json, linked_copy, replace, snapshot

pytestmark = pytest.mark.real_data

H1 = "data/human_label/H1_scores_n206_s42.json"
H2 = "data/human_label/H2_scores_n206_s42.json"
H3 = "data/human_label/H3_labeled_n206_s42.json"
NANO_DIR = "data/llm_evaluator/gpt-5-nano/n_200/merged"
NANO = (f"{NANO_DIR}/gpt-5-nano-evaluation_gpt-4o-mini-answers-"
        "sampled_dataset_n_200_merged_n50-noSeed_156-s42-20250820-170248_merged.json")
ANSWER = "data/llm_answer/gpt-5-nano-answers-sampled_dataset_n_200_merged_n50-noSeed_156-s42-20250820-171912.json"
VALIDATION = "data/processed/sampled_dataset_n_200_merged_n50-noSeed_156-s42.json"
STRAY_EVAL = f"{NANO_DIR}/gpt-5-nano-evaluation_nothing_merged.json"
STRAY_BOOK = "data/human_label/notes.xlsx"
SKIP = ("*n_2046*", "outputs", "src", "raw")


def _ignore(folder, names):
    import fnmatch

    return {n for n in names for pat in SKIP if fnmatch.fnmatch(n, pat)}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, bhh_dir):
    return linked_copy(bhh_dir, tmp_path_factory.mktemp("bhh") / "between-help-and-harm", _ignore)


@pytest.fixture
def copy(pristine, tmp_path):
    return linked_copy(pristine, tmp_path / "between-help-and-harm")


@pytest.fixture(scope="module")
def consensus_rows(pristine):
    labels = json.loads((pristine / CONSENSUS_FILE).read_text())
    return [i for i, r in enumerate(labels) if r.get("label")]


@pytest.fixture(scope="module")
def excluded(pristine, tmp_path_factory, consensus_rows):
    """One copy with every exclusion case on its own row, loaded once; the snapshots
    before and after the load."""
    base = linked_copy(pristine, tmp_path_factory.mktemp("bhh_excl") / "between-help-and-harm")

    def h1(recs):
        for row, value in zip(range(5), ("abc", "five", 0, 4.5, 6)):
            recs[consensus_rows[row]]["evaluation"] = value

    def h2(recs):
        recs[consensus_rows[0]]["evaluation"] = None
        recs[consensus_rows[1]]["evaluation"] = float("nan")  # written as the bare token NaN

    def nano(recs):
        recs[consensus_rows[0]]["evals"] = [7, "4", 4.5]
        recs[consensus_rows[1]]["evals"] = [9, None, "five"]

    edit_json(base / H1, h1)
    edit_json(base / H2, h2)
    replace(base / H2, b"\xef\xbb\xbf" + (base / H2).read_bytes())  # and a UTF-8 BOM
    replace(base / VALIDATION, b"\xef\xbb\xbf" + (base / VALIDATION).read_bytes())
    edit_json(base / NANO, nano)
    replace(base / STRAY_EVAL, (base / NANO).read_bytes())
    replace(base / STRAY_BOOK, b"PK\x03\x04 not really a workbook")
    before = snapshot(base)
    data = load_bhh(base.parent)
    return data, before, snapshot(base)


def _row(data, rel, record):
    rows = data.audit.filter((pl.col("source_file") == rel) & (pl.col("record") == record))
    assert rows.height == 1, (rel, record, rows)
    r = rows.row(0, named=True)
    return r["status"], r["reason"], r["detail"], r["rater"]


def test_exclusion_copy_inputs_unchanged(excluded):
    _, before, after = excluded
    assert before == after


@pytest.mark.parametrize("k, value, reason", [
    (0, "'abc'", "score is not a number"),
    (1, "'five'", "score is not a number"),
    (2, "0", "score outside the scale"),
    (3, "4.5", "score is not a whole point (the scale is integer)"),
    (4, "6", "score outside the scale"),
])
def test_human_score_is_excluded_with_its_reason(excluded, consensus_rows, k, value, reason):
    assert _row(excluded[0], H1, f"row {consensus_rows[k]}") == ("excluded", reason, value, "H1")


def test_null_and_bare_nan_human_scores_are_missing(excluded, consensus_rows):
    data = excluded[0]
    assert _row(data, H2, f"row {consensus_rows[0]}") == ("excluded", "missing score", "None", "H2")
    assert _row(data, H2, f"row {consensus_rows[1]}") == ("excluded", "missing score", "nan", "H2")


def test_evaluator_runs_off_scale_off_grid_missing_and_words(excluded, consensus_rows):
    data = excluded[0]
    a, b = consensus_rows[0], consensus_rows[1]
    assert _row(data, NANO, f"row {a} run 1") == ("excluded", "score outside the scale", "7", "gpt-5-nano")
    assert _row(data, NANO, f"row {a} run 2") == ("used", None, None, "gpt-5-nano")
    assert _row(data, NANO, f"row {a} run 3") == ("excluded", "score is not a whole point (the scale is integer)",
                                                  "4.5", "gpt-5-nano")
    assert _row(data, NANO, f"row {b} run 1") == ("excluded", "score outside the scale", "9", "gpt-5-nano")
    assert _row(data, NANO, f"row {b} run 2") == ("excluded", "missing score", "None", "gpt-5-nano")
    assert _row(data, NANO, f"row {b} run 3") == ("excluded", "score is not a number", "'five'", "gpt-5-nano")
    kept = data.ratings.filter((pl.col("source_file") == NANO)
                               & pl.col("source_record").str.starts_with(f"row {a} "))
    assert kept["score"].to_list() == [4.0]  # the numeric string "4" of run 2, and nothing else


def test_excluded_human_scores_leave_the_review_matrix(excluded, consensus_rows):
    data = excluded[0]
    scored = set(data.review_set.filter(pl.col("has_scores"))["item_id"].to_list())
    values, names, dropped = review_matrix(data)
    humans = values[:, [names.index("H1"), names.index("H2")]]
    # 190 items have both human scores in the real data; 5 lost one here (H2's two
    # corrupted rows are among H1's five).
    assert values.shape[0] == 190 - 5 and len(scored) == 190 - 5
    assert not ((values < 1) | (values > 5)).any() and not (humans % 1).any()  # whole points, on the scale
    assert dropped == 5


def test_stray_evaluator_file_and_workbook_are_ignored(excluded):
    data = excluded[0]
    assert _row(data, STRAY_EVAL, "file") == ("ignored", "not part of the study",
                                              "evaluates no answer file of the validation set", "gpt-5-nano")
    assert _row(data, STRAY_BOOK, "file") == ("ignored", "not part of the study",
                                              "not a JSON data file of the validation split", None)


def test_every_file_of_the_read_folders_is_accounted_for(excluded, pristine):
    data = excluded[0]
    listed = {p.relative_to(pristine).as_posix() for p in pristine.joinpath("data").rglob("*") if p.is_file()
              and p.relative_to(pristine).parts[1] in ("processed", "human_label", "llm_answer", "llm_label",
                                                       "llm_evaluator")}
    assert listed | {STRAY_EVAL, STRAY_BOOK} == set(data.audit["source_file"].unique().to_list())


def test_bom_prefixed_files_load_like_the_originals(excluded, consensus_rows):
    data = excluded[0]
    h2 = data.audit.filter(pl.col("source_file") == H2)
    assert h2.height == 206 and h2.filter(pl.col("status") == "used").height == 190 - 2


# --- errors: each stops the load with the file and the record ------------------------

def _expect(copy, pattern, error=DataError):
    before = {k: v for k, v in snapshot(copy).items()}
    with pytest.raises(error, match=pattern):
        load_bhh(copy.parent)
    assert snapshot(copy) == before


def test_missing_file(copy):
    (copy / CONSENSUS_FILE).unlink()
    _expect(copy, r"^data/human_label/human-labeled-sampled_dataset_n206_s42-merged_labels\.json: file not found")


def test_empty_file(copy):
    replace(copy / H3, b"")
    _expect(copy, r"^data/human_label/H3_labeled_n206_s42\.json, record line 1 column 1: malformed JSON: "
                  r"Expecting value$")


def test_truncated_json(copy):
    text = (copy / ANSWER).read_text(encoding="utf-8")
    replace(copy / ANSWER, text[: len(text) // 2])
    _expect(copy, r"^data/llm_answer/gpt-5-nano-answers-.*-171912\.json, record line \d+ column \d+: malformed JSON")


def test_latin1_byte_names_the_offset(copy):
    raw = (copy / CONSENSUS_FILE).read_bytes()
    at = raw.index(b'"label"')
    replace(copy / CONSENSUS_FILE, raw[:at] + "é".encode("latin-1") + raw[at:])
    _expect(copy, rf"^data/human_label/human-labeled-sampled_dataset_n206_s42-merged_labels\.json, record byte {at}: "
                  rf"not UTF-8 text \(byte 0xe9 at offset {at}")


def test_duplicated_row_names_it(copy):
    edit_json(copy / CONSENSUS_FILE, lambda r: r.insert(3, dict(r[2])))
    _expect(copy, r"merged_labels\.json, record row 3: 207 rows, expected 206 .*; row 3 duplicates row 2$")


def test_removed_row_names_the_first_row_that_does_not_line_up(copy):
    edit_json(copy / ANSWER, lambda r: r.pop(5))
    _expect(copy, r"-171912\.json, record row 5: 205 rows, expected 206 .*; row 5 holds validation row 6's "
                  r"conversation: validation row 5 has no row here$")


def test_removed_last_row_says_the_file_ends_early(copy):
    edit_json(copy / ANSWER, lambda r: r.pop())
    _expect(copy, r"-171912\.json, record row 205: 205 rows, expected 206 .*; rows 0-204 line up; validation rows "
                  r"205-205 have no row here \(the file ends early\)$")


def test_edited_item_is_refused(copy):
    edit_json(copy / ANSWER, lambda r: r[3]["inputs"].append("an extra turn"))
    _expect(copy, r"-171912\.json, record row 3: conversation differs from the validation file at the same row")


def test_not_a_list_of_objects(copy):
    replace(copy / H3, json.dumps([{"label": "x"}, "abc"]))
    _expect(copy, r"^data/human_label/H3_labeled_n206_s42\.json, record row 1: expected a JSON list of objects")


def test_unknown_evaluator(copy):
    with pytest.raises(ValueError, match=r"^unknown evaluator 'gpt-9'; found in the data: gpt-4o-mini, gpt-5-nano, "
                                         r"meta-llama$"):
        load_bhh(copy.parent, evaluators=("gpt-9",))


def test_empty_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"between-help-and-harm does not exist: .*python -m analysis fetch"):
        load_bhh(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("reserved", ["jury", "human_mean"])
def test_an_evaluator_folder_named_like_a_derived_rater_is_refused(copy, reserved):
    import shutil

    from analysis.data.bhh import EVALUATOR_DIR, discover_evaluators

    shutil.copytree(copy / EVALUATOR_DIR / "gpt-5-nano", copy / EVALUATOR_DIR / reserved, copy_function=shutil.copy)
    before = snapshot(copy)
    with pytest.raises(DataError, match=rf"^{EVALUATOR_DIR}/{reserved}: an evaluator folder cannot be named "
                                        rf"'{reserved}'"):
        discover_evaluators(copy.parent)
    assert snapshot(copy) == before
