"""MentalAlign-70k: corrupted copies of the first 12 conversations of the real workbooks."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.data.mentalalign import HUMAN_FILE, JUDGE_DIR, judge_file, load_mentalalign
from analysis.data.ratings import DataError

from .conftest import linked_copy, replace, snapshot

pytestmark = pytest.mark.real_data

N_CONV = 12
KEPT = "off-scale kept (authors' choice)"


def _write_book(path, header, rows):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _read_book(path, n=None):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    rows = []
    for k, r in enumerate(wb[wb.sheetnames[0]].iter_rows(values_only=True)):
        if n is not None and k > n:
            break
        rows.append(r)
    wb.close()
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def mini(tmp_path_factory, mentalalign_dir):
    """The first 12 conversations of the human file and of the 4 judges' files."""
    base = tmp_path_factory.mktemp("ma_mini") / "mentalbench-align"
    for rel in (HUMAN_FILE, *(judge_file(j) for j in ("claude", "gemini", "gpt-4o", "o4-mini"))):
        header, rows = _read_book(mentalalign_dir / rel, N_CONV)
        _write_book(base / rel, header, rows)
    return base


@pytest.fixture
def copy(mini, tmp_path):
    return linked_copy(mini, tmp_path / "mentalbench-align")


def _edit(path, cells: dict):
    header, rows = _read_book(path)
    rows = [list(r) for r in rows]
    for (r, c), value in cells.items():
        rows[r - 2][c] = value
    _write_book(path, header, rows)


def _audit_row(data, rel, record):
    rows = data.audit.filter((pl.col("source_file") == rel) & (pl.col("record") == record))
    assert rows.height == 1, (rel, record, rows)
    r = rows.row(0, named=True)
    return r["status"], r["reason"], r["detail"]


def _load(copy, **kw):
    before = snapshot(copy)
    data = load_mentalalign(copy.parent, **kw)
    assert snapshot(copy) == before
    return data


@pytest.fixture(scope="module")
def values_copy(mini, tmp_path_factory):
    """One copy with every value case in its own cell of the human file and claude's."""
    base = linked_copy(mini, tmp_path_factory.mktemp("ma_values") / "mentalbench-align")
    human = {(2, 2): '{"Guidance": 0, "Informativeness": 6, "Relevance": 4.5, "Safety": "five", '
                     '"Empathy": null, "Helpfulness": "NaN", "Understanding": 7}',
             (2, 3): '{"Guidance": NaN, "Informativeness": "abc", "Relevance": 9, "Safety": true, '
                     '"Empathy": "3", "Helpfulness": 5, "Understanding": 1}'}
    _edit(base / HUMAN_FILE, human)
    _edit(base / judge_file("claude"), {(3, 2): '```json\n{"Guidance": 6, "Informativeness": 0, "Relevance": 5, '
                                                '"Safety": 5, "Empathy": 5, "Helpfulness": 5, "Understanding": 5}\n```'})
    replace(base / JUDGE_DIR / "notes.xlsx", b"not a workbook")
    replace(base / JUDGE_DIR / "~$claude_llm_judge.xlsx", b"lock")
    return base


@pytest.fixture(scope="module")
def published(values_copy):
    return load_mentalalign(values_copy.parent, keep_off_scale=True)


@pytest.fixture(scope="module")
def clean(values_copy):
    return load_mentalalign(values_copy.parent)


@pytest.mark.parametrize("record, clean_outcome, published_outcome", [
    ("C2 Guidance", ("excluded", "score outside the scale", "0"), ("used", KEPT, "0 outside 1-5")),
    ("C2 Informativeness", ("excluded", "score outside the scale", "6"), ("used", KEPT, "6 outside 1-5")),
    ("C2 Understanding", ("excluded", "score outside the scale", "7"), None),  # kept: 0 and 6 only
    ("D2 Relevance", ("excluded", "score outside the scale", "9"), None),
    ("C2 Relevance", ("excluded", "score is not a whole point (the scale is integer)", "4.5"), None),
    ("C2 Safety", ("excluded", "score is not a number", "'five'"), None),
    ("D2 Informativeness", ("excluded", "score is not a number", "'abc'"), None),
    ("D2 Safety", ("excluded", "score is not a number", "True"), None),
    ("C2 Empathy", ("excluded", "missing score", "None"), None),
    ("C2 Helpfulness", ("excluded", "missing score", "'NaN'"), None),
    ("D2 Guidance", ("excluded", "missing score", "nan"), None),
    ("D2 Empathy", ("used", None, None), None),
])
def test_human_values(clean, published, record, clean_outcome, published_outcome):
    assert _audit_row(clean, HUMAN_FILE, record) == clean_outcome
    assert _audit_row(published, HUMAN_FILE, record) == (published_outcome or clean_outcome)


def test_a_judges_off_scale_values_are_kept_only_with_a_reason(clean, published):
    rel = judge_file("claude")
    assert _audit_row(published, rel, "C3 Guidance") == ("used", KEPT, "6 outside 1-5; ```json fence removed")
    assert _audit_row(published, rel, "C3 Informativeness") == ("used", KEPT, "0 outside 1-5; ```json fence removed")
    assert _audit_row(clean, rel, "C3 Guidance") == ("excluded", "score outside the scale", "6")
    # Never used without a reason when off the scale:
    off = published.ratings.filter((pl.col("score") < 1) | (pl.col("score") > 5))
    flagged = published.audit.filter(pl.col("reason") == KEPT)
    assert off.height == flagged.height == 4 and set(off["source_record"]) == set(flagged["record"])


def test_stray_workbook_and_lock_file_are_ignored(clean):
    assert _audit_row(clean, f"{JUDGE_DIR}/notes.xlsx", "file")[:2] == ("ignored", "not part of the study")
    assert _audit_row(clean, f"{JUDGE_DIR}/~$claude_llm_judge.xlsx", "file") == (
        "ignored", "not part of the study", "Excel's lock file of an open workbook")
    assert clean.audit.height == 5 * N_CONV * 10 * 7 + 2


def test_unselected_judge_is_ignored_with_its_reason(values_copy):
    data = load_mentalalign(values_copy.parent, judges=("claude",))
    assert _audit_row(data, judge_file("gemini"), "file") == ("ignored", "judge not selected", "judges read: claude")


def test_missing_workbook(copy):
    (copy / judge_file("gemini")).unlink()
    with pytest.raises(DataError, match=r"^MentalAlign-70k/LLMs_as_a_judge/gemini_llm_judge\.xlsx: file not found"):
        _load(copy, judges=("gemini",))


@pytest.mark.parametrize("content", [b"", b"ConvID,context\n1,hello\n"], ids=["empty", "csv-not-xlsx"])
def test_unreadable_workbook(copy, content):
    replace(copy / judge_file("o4-mini"), content)
    with pytest.raises(DataError, match=r"^MentalAlign-70k/LLMs_as_a_judge/o4-mini_llm_judge\.xlsx: not a readable "
                                        r"xlsx file"):
        _load(copy)


def test_truncated_workbook(copy):
    raw = (copy / HUMAN_FILE).read_bytes()
    replace(copy / HUMAN_FILE, raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"^MentalAlign-70k/Human_Judge/Human_judge\.xlsx: not a readable xlsx file"):
        _load(copy)


def test_duplicated_conversation(copy):
    header, rows = _read_book(copy / HUMAN_FILE)
    _write_book(copy / HUMAN_FILE, header, [rows[0], rows[0], *rows[1:]])
    with pytest.raises(DataError, match=r"^MentalAlign-70k/Human_Judge/Human_judge\.xlsx, record row 3: ConvID "
                                        rf"{rows[0][0]} repeats row 2$"):
        _load(copy)


def test_removed_conversation_is_named(copy):
    header, rows = _read_book(copy / judge_file("gpt-4o"))
    gone = rows[4][0]
    _write_book(copy / judge_file("gpt-4o"), header, rows[:4] + rows[5:])
    data = _load(copy)
    assert _audit_row(data, judge_file("gpt-4o"), f"ConvID {gone}") == (
        "excluded", "conversation not in this file",
        f"{HUMAN_FILE} has conversation {gone}; this file has no row for it")


def test_unknown_source_column(copy):
    header, rows = _read_book(copy / judge_file("claude"))
    _write_book(copy / judge_file("claude"), [*header[:2], "judge_response_mystery", *header[3:]], rows)
    with pytest.raises(DataError, match=r"claude_llm_judge\.xlsx, record row 1: unknown response source columns "
                                        r"\['mystery'\]"):
        _load(copy)


def test_empty_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mentalbench-align does not exist"):
        load_mentalalign(tmp_path)


def test_summary_covers_mentalalign(values_copy):
    """``summary`` of MentalAlign: judge x attribute; one cell recomputed by hand."""
    import numpy as np

    from analysis.cli.summary import compute_summary
    from analysis.stats.icc import icc_batch

    tables = compute_summary("mentalalign", data_root=values_copy.parent, n_boot=50, seed=3)
    table = tables["alignment"]
    assert table.height == 4 * 7 and table.columns[:4] == ["judge", "attribute", "n_sources", "n_pairs"]
    row = table.filter((pl.col("judge") == "gemini") & (pl.col("attribute") == "Empathy")).row(0, named=True)
    # By hand: human and gemini Empathy scores of the same responses, gemini's own family left out.
    data = load_mentalalign(values_copy.parent, keep_off_scale=True)
    r = data.ratings.filter((pl.col("attribute") == "Empathy") & (pl.col("answer_model") != "gemini"))
    both = (r.filter(pl.col("rater") == "human").select("response_id", "answer_model", pl.col("score").alias("h"))
            .join(r.filter(pl.col("rater") == "gemini").select("response_id", pl.col("score").alias("j")),
                  on="response_id"))
    means = both.group_by("answer_model").agg(pl.col("h").mean(), pl.col("j").mean()).sort("answer_model")
    assert row["n_pairs"] == both.height and row["n_sources"] == means.height == 9
    assert row["bias"] == pytest.approx(float((both["j"] - both["h"]).mean()), abs=1e-12)
    icc = icc_batch(means.select("h", "j").to_numpy())
    assert (row["icc_a1"], row["icc_c1"]) == pytest.approx((float(icc[1]), float(icc[2])), abs=1e-12)
    assert np.isfinite(row["ci_low"]) and row["ci_low"] <= row["bias"] <= row["ci_high"]
