"""User study files (a tidy ratings CSV + study.toml): corrupted ratings, the audit
command on them, and the exact outcome of each."""

from __future__ import annotations

import contextlib
import io

import polars as pl
import pytest

from analysis.data.tidy import StudyFileError, load_tidy
from analysis.cli import audit as audit_command

from .conftest import replace, snapshot

STUDY = """name = "faults"
ratings = "ratings.csv"
scale = [1, 5]
integer = true
references = ["H1"]
"""
NOMINAL = """name = "faults-labels"
ratings = "ratings.csv"
labels = ["safe", "unsafe"]
references = ["gold"]
"""
GOOD = "item,rater,score\nr1,H1,3\nr1,judge,4\nr2,H1,2\nr2,judge,2\nr3,H1,5\nr3,judge,4\n"


def _study(tmp_path, ratings: bytes | str, study: str = STUDY):
    replace(tmp_path / "study.toml", study)
    replace(tmp_path / "ratings.csv", ratings)
    return tmp_path / "study.toml"


def _load(path):
    before = snapshot(path.parent)
    try:
        return load_tidy(path)
    finally:
        assert snapshot(path.parent) == before


def _audit(data, record):
    r = data.audit.filter(pl.col("record") == record).row(0, named=True)
    return r["status"], r["reason"], r["detail"], r["rater"]


@pytest.mark.parametrize("value, reason", [
    ("abc", "score is not a number"), ("five", "score is not a number"), ("0", "score outside the scale"),
    ("4.5", "score is not a whole point (the scale is integer)"), ("6", "score outside the scale"),
    ("7", "score outside the scale"), ("9", "score outside the scale"), ("NaN", "missing score"),
    ("null", "missing score"),
])
def test_bad_score_is_excluded_with_its_row(tmp_path, value, reason):
    data = _load(_study(tmp_path, GOOD + f"r4,H1,3\nr4,judge,{value}\n"))
    assert _audit(data, "row 9") == ("excluded", reason, value, "judge")
    assert data.ratings.filter(pl.col("response_id") == "r4").height == 1


def test_empty_score_is_missing(tmp_path):
    data = _load(_study(tmp_path, GOOD + "r4,H1,3\nr4,judge,\n"))
    assert _audit(data, "row 9") == ("excluded", "missing score", None, "judge")


def test_bom_loads_like_without(tmp_path):
    plain = _load(_study(tmp_path / "a", GOOD))
    bom = _load(_study(tmp_path / "b", b"\xef\xbb\xbf" + GOOD.encode()))
    assert bom.ratings.drop("source_file").equals(plain.ratings.drop("source_file"))


def test_latin1_byte_is_named(tmp_path):
    raw = GOOD.encode().replace(b"r2,judge", b"r\xe92,judge")
    at = raw.index(b"\xe9")
    with pytest.raises(StudyFileError, match=rf"ratings\.csv: not UTF-8 text \(byte {at}\)"):
        _load(_study(tmp_path, raw))


def test_duplicated_row_names_both_rows(tmp_path):
    with pytest.raises(StudyFileError, match=r"ratings\.csv rows 2, 8: rater 'H1' rates item 'r1' twice in run 1"):
        _load(_study(tmp_path, GOOD + "r1,H1,3\n"))


def test_removed_rows_leave_an_item_without_reference(tmp_path):
    data = _load(_study(tmp_path, GOOD.replace("r3,H1,5\n", "")))
    assert data.review_set["response_id"].to_list() == ["r1", "r2"]  # r3's judge rating has no reference


def test_empty_and_missing_ratings_files(tmp_path):
    with pytest.raises(StudyFileError, match=r"ratings\.csv: cannot be read: empty CSV"):
        _load(_study(tmp_path / "a", b""))
    path = _study(tmp_path / "b", GOOD)
    (tmp_path / "b" / "ratings.csv").unlink()
    with pytest.raises(StudyFileError, match=r"key 'ratings': .*ratings\.csv not found"):
        _load(path)


def test_unmapped_label_is_excluded(tmp_path):
    data = _load(_study(tmp_path, "item,rater,score\nr1,gold,safe\nr1,judge,unsafe\nr2,gold,unsafe\n"
                                  "r2,judge,maybe\nr3,gold,safe\nr3,judge,safe\n", NOMINAL))
    assert _audit(data, "row 5") == ("excluded", "label not in the study's labels", "maybe", "judge")


def test_audit_command_on_a_user_study(tmp_path):
    path = _study(tmp_path, GOOD + "r4,H1,3\nr4,judge,4.5\n")
    out = tmp_path / "records.csv"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert audit_command.main(["--study", str(path), "--out", str(out)]) == 0
    printed = buf.getvalue()
    assert "ratings.csv\n         7  used      -\n         1  excluded  score is not a whole point (the scale is " \
           "integer)\n" in printed
    records = pl.read_csv(out, infer_schema=False)
    assert records.columns == ["source_file", "record", "rater", "status", "reason", "detail"]
    assert records.row(7) == ("ratings.csv", "row 9", "judge", "excluded",
                              "score is not a whole point (the scale is integer)", "4.5")


def test_audit_command_refuses_a_non_csv_out(tmp_path):
    with pytest.raises(ValueError, match=r"^--out must name a \.csv file, got 'x\.txt'$"):
        audit_command.main(["--study", str(_study(tmp_path, GOOD)), "--out", "x.txt"])
