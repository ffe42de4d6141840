"""The tidy ratings schema, score parsing, the audit and the pivot to matrices."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analysis.data.ratings import (REASON_MISSING, REASON_NOT_NUMBER, REASON_OFF_SCALE, Audit, DataError,
                              audit_summary, make_ratings, parse_score, to_matrix)


@pytest.mark.parametrize("value, expected", [
    (4, (4.0, None)), (4.0, (4.0, None)), ("3", (3.0, None)), (" 2.5 ", (2.5, None)), (np.int64(5), (5.0, None)),
    (None, (None, REASON_MISSING)), (float("nan"), (None, REASON_MISSING)), ("NaN", (None, REASON_MISSING)),
    ("", (None, REASON_MISSING)), ("abc", (None, REASON_NOT_NUMBER)), (True, (None, REASON_NOT_NUMBER)),
    ([4], (None, REASON_NOT_NUMBER)), (float("inf"), (None, REASON_NOT_NUMBER)),
    (7, (None, REASON_OFF_SCALE)), (0, (None, REASON_OFF_SCALE)), ("6", (None, REASON_OFF_SCALE)),
])
def test_parse_score(value, expected):
    assert parse_score(value, (1, 5)) == expected


def _row(response, rater, score, run=1, item="i1"):
    return dict(dataset="t", item_id=item, response_id=response, answer_model="m", answer_run=1, category="c",
                attribute="appropriateness", rater=rater, rater_kind="human" if rater.startswith("H") else "llm",
                eval_run=run, score=score, source_file="f.json", source_record=f"{response}/{rater}/{run}")


def test_duplicated_rating_is_an_error_naming_the_record():
    rows = [_row("r1", "H1", 3.0), _row("r1", "H1", 4.0)]
    with pytest.raises(DataError, match=r"f\.json, record r1/H1/1: duplicated rating of response 'r1' by 'H1'"):
        make_ratings(rows)


def test_null_scores_are_refused():
    with pytest.raises(ValueError, match="null/NaN scores"):
        make_ratings([_row("r1", "H1", None)])


def test_to_matrix_means_runs_and_reports_incomplete_rows():
    rows = [_row("r1", "H1", 3.0), _row("r1", "gpt", 4.0, 1), _row("r1", "gpt", 5.0, 2),
            _row("r2", "H1", 2.0, item="i2"), _row("r3", "gpt", 1.0, item="i2")]
    m = to_matrix(make_ratings(rows), ["H1", "gpt"])
    assert m.index == ("r1", "r2", "r3") and m.raters == ("H1", "gpt") and m.clusters == ("i1", "i2", "i2")
    np.testing.assert_array_equal(m.values, [[3.0, 4.5], [2.0, np.nan], [np.nan, 1.0]])
    complete, dropped = m.complete()
    assert complete.index == ("r1",) and dropped == 2
    first = to_matrix(make_ratings(rows), ["H1", "gpt"], runs="first")
    assert first.values[0, 1] == 4.0
    assert m.cluster_codes().tolist() == [0, 1, 1]


def test_to_matrix_refuses_an_unknown_rater():
    with pytest.raises(ValueError, match=r"raters \['H9'\] have no ratings"):
        to_matrix(make_ratings([_row("r1", "H1", 3.0)]), ["H1", "H9"])


def test_audit_frame_and_summary():
    audit = Audit("t")
    audit.used("a.json", "row 0", rater="H1")
    audit.excluded("a.json", "row 1", REASON_OFF_SCALE, rater="H1", detail="7")
    audit.excluded("a.json", "row 2", REASON_OFF_SCALE, rater="H1", detail="0")
    frame = audit.to_frame()
    assert frame.height == 3 and frame.filter(pl.col("status") == "used")["reason"].null_count() == 1
    summary = audit_summary(frame)
    assert summary.filter(pl.col("reason") == REASON_OFF_SCALE)["n_records"].item() == 2
