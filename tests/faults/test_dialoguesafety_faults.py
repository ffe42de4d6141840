"""DialogueSafety: corrupted copies (40-item copies for most cases; the full copy for the
cases the issue asks to show at full size: test.json without item 799, a stray 800.json)."""

from __future__ import annotations

import json
import os
import shutil

import polars as pl
import pytest

from analysis.data.dialoguesafety import TEST_FILE, discover_systems, load_dialoguesafety
from analysis.data.ratings import DataError
from analysis.cli import audit as audit_command

from .conftest import edit_json, linked_copy, replace, snapshot

pytestmark = pytest.mark.real_data

N = 40
FIRST = "ChatGPT_gen/0301/zero_shot/one"  # the first run folder the loader reads
BERT = "finetuned_model_predict/bert-base-chinese/44"


@pytest.fixture(scope="module")
def mini(tmp_path_factory, dialoguesafety_dir):
    """The first 40 test items and, in each of the 30 run folders, their prediction files."""
    base = tmp_path_factory.mktemp("ds_mini") / "dialogue-safety"
    test = json.loads((dialoguesafety_dir / TEST_FILE).read_text(encoding="utf-8"))
    replace(base / TEST_FILE, json.dumps(test[:N], ensure_ascii=False, indent=2))
    for folder in discover_systems(dialoguesafety_dir.parent).values():
        for run in sorted(p for p in (dialoguesafety_dir / folder).iterdir() if p.is_dir()):
            dst = base / folder / run.name
            dst.mkdir(parents=True)
            for i in range(N):
                os.link(run / f"{i}.json", dst / f"{i}.json")
    return base


@pytest.fixture
def copy(mini, tmp_path):
    return linked_copy(mini, tmp_path / "dialogue-safety")


def _load(copy):
    before = snapshot(copy)
    try:
        return load_dialoguesafety(copy.parent)
    finally:
        assert snapshot(copy) == before


def _row(data, rel, record):
    rows = data.audit.filter((pl.col("source_file") == rel) & (pl.col("record") == record))
    assert rows.height == 1, (rel, record, rows)
    r = rows.row(0, named=True)
    return r["status"], r["reason"], r["detail"], r["rater"]


def test_mini_copy_loads_and_accounts_for_every_file(copy):
    data = _load(copy)
    assert data.predictions.height == 30 * N and data.audit.height == N + 30 * N
    assert set(data.audit["status"]) == {"used"}


def test_edited_test_item_names_the_first_prediction_file(copy):
    edit_json(copy / TEST_FILE, lambda t: t[3].__setitem__("response", t[3]["response"] + "!"))
    with pytest.raises(DataError, match=rf"^{FIRST}/3\.json, record item 3: embedded item differs from "
                                        r"data/test\.json at this index$"):
        _load(copy)


@pytest.mark.parametrize("label", [None, 8, "abc"])
def test_bad_gold_label(copy, label):
    edit_json(copy / TEST_FILE, lambda t: t[5].__setitem__("label", label))
    with pytest.raises(DataError, match=rf"^data/test\.json, record item 5: gold label must be 0-7, got {label!r}$"):
        _load(copy)


def test_unmapped_answer_is_used_with_its_reason(copy):
    rel = f"{FIRST}/7.json"
    edit_json(copy / rel, lambda d: d["choices"][0]["message"].__setitem__("content", "Unsure. It could be anything"))
    data = _load(copy)
    assert _row(data, rel, "item 7") == ("used", "answer maps to no category", "'Unsure. It could be anything'",
                                         "chatgpt-0301-zero")
    assert data.predictions.filter(pl.col("source_file") == rel)["predicted"].to_list() == [-1]


@pytest.mark.parametrize("value", [9, "abc", None])
def test_bad_predicted_label(copy, value):
    edit_json(copy / f"{BERT}/11.json", lambda d: d.__setitem__("predict_label", value))
    with pytest.raises(DataError, match=rf"^{BERT}/11\.json, record item 11: predict_label must be 0-7, "
                                        rf"got {value!r}$"):
        _load(copy)


def test_missing_prediction_file(copy):
    (copy / f"{BERT}/12.json").unlink()
    with pytest.raises(DataError, match=rf"^{BERT}/12\.json: file not found"):
        _load(copy)


def test_truncated_prediction_file(copy):
    raw = (copy / f"{FIRST}/2.json").read_bytes()
    replace(copy / f"{FIRST}/2.json", raw[: len(raw) // 3])
    with pytest.raises(DataError, match=rf"^{FIRST}/2\.json, record line \d+ column \d+: malformed JSON"):
        _load(copy)


def test_empty_test_file(copy):
    replace(copy / TEST_FILE, b"")
    with pytest.raises(DataError, match=r"^data/test\.json, record line 1 column 1: malformed JSON: Expecting value$"):
        _load(copy)


def test_answer_that_is_not_an_object(copy):
    replace(copy / f"{FIRST}/4.json", "[1, 2]")
    with pytest.raises(DataError, match=rf"^{FIRST}/4\.json, record item 4: expected a JSON object, got a list$"):
        _load(copy)


def test_bom_files_load_like_the_originals(copy, mini):
    for rel in (TEST_FILE, f"{FIRST}/0.json", f"{BERT}/0.json"):
        replace(copy / rel, b"\xef\xbb\xbf" + (copy / rel).read_bytes())
    assert _load(copy).predictions.equals(load_dialoguesafety(mini.parent).predictions)


def test_latin1_byte_names_the_offset(copy):
    raw = (copy / f"{BERT}/9.json").read_bytes()
    at = raw.index(b'"label"')
    replace(copy / f"{BERT}/9.json", raw[:at] + b"\xff" + raw[at:])
    with pytest.raises(DataError, match=rf"^{BERT}/9\.json, record byte {at}: not UTF-8 text \(byte 0xff"):
        _load(copy)


def test_stray_files_are_ignored(copy):
    replace(copy / f"{FIRST}/notes.txt", "scratch")
    replace(copy / f"{BERT}/{N}.json", (copy / f"{BERT}/0.json").read_bytes())
    replace(copy / "data/train.json", "[]")
    data = _load(copy)
    assert _row(data, f"{FIRST}/notes.txt", "file") == (
        "ignored", "not part of the study", "not a prediction file N.json of a run folder, nor data/test.json",
        "chatgpt-0301-zero")
    assert _row(data, f"{BERT}/{N}.json", "file") == (
        "ignored", "not part of the study",
        f"data/test.json has {N} items (0-{N - 1}) and only 1 of the 30 run folders have {N}.json", "bert-base")
    assert _row(data, "data/train.json", "file")[:2] == ("ignored", "not part of the study")
    assert data.predictions.height == 30 * N


def test_unselected_system_files_are_ignored(copy):
    data = load_dialoguesafety(copy.parent, systems=("bert-base",))
    ignored = data.audit.filter(pl.col("status") == "ignored")
    assert ignored.height == 25 * N and set(ignored["reason"]) == {"system not selected"}


def test_empty_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"dialogue-safety does not exist"):
        load_dialoguesafety(tmp_path)


# --- the full copy: test.json without item 799, and a stray 800.json ------------------

@pytest.fixture(scope="module")
def full_audit(tmp_path_factory, dialoguesafety_dir):
    base = linked_copy(dialoguesafety_dir, tmp_path_factory.mktemp("ds_full") / "dialogue-safety",
                       shutil.ignore_patterns("image"))
    edit_json(base / TEST_FILE, lambda t: t.pop())
    replace(base / f"{BERT}/800.json", (base / f"{BERT}/0.json").read_bytes())
    out = base.parent / "audit.csv"
    before = snapshot(base / "data")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert audit_command.main(["--study", "dialoguesafety", "--data-root", str(base.parent), "--out", str(out)]) == 0
    assert snapshot(base / "data") == before
    return buf.getvalue(), pl.read_csv(out, infer_schema=False), base


def test_audit_names_the_30_files_of_item_799(full_audit):
    printed, records, base = full_audit
    lacking = records.filter(pl.col("record") == "item 799")
    folders = sorted(str(p.parent.relative_to(base)) for p in base.rglob("799.json"))
    assert len(folders) == 30
    assert sorted(lacking["source_file"].to_list()) == [f"{f}/799.json" for f in folders]
    assert set(lacking["status"]) == {"excluded"} and set(lacking["reason"]) == {"item not in data/test.json"}
    for f in folders:
        assert f"\n{f}/799.json\n         1  excluded  item not in data/test.json\n" in printed
    assert records.columns == ["source_file", "record", "rater", "status", "reason", "detail"]


def test_audit_lists_the_stray_800_as_ignored(full_audit):
    printed, records, _ = full_audit
    row = records.filter(pl.col("source_file") == f"{BERT}/800.json").row(0, named=True)
    assert (row["record"], row["status"], row["reason"]) == ("file", "ignored", "not part of the study")
    assert f"\n{BERT}/800.json\n         1  ignored   not part of the study\n" in printed
    # Every record: 799 gold items, 30 x 799 used prediction files, 30 excluded, 1 ignored.
    assert records.height == 799 + 30 * 799 + 30 + 1


def test_summary_covers_dialoguesafety(mini):
    """``summary`` of DialogueSafety: one row per system; accuracy recomputed with scikit-learn."""
    import numpy as np
    from sklearn.metrics import accuracy_score

    from analysis.cli.summary import compute_summary

    table = compute_summary("dialoguesafety", data_root=mini.parent, n_boot=50, seed=3)["metrics"]
    assert table["system"].to_list() == list(discover_systems(mini.parent))
    data = load_dialoguesafety(mini.parent)
    for system in ("bert-base", "chatgpt-0613-few"):
        p = data.predictions.filter(pl.col("system") == system)
        per_run = [accuracy_score(g["gold"], g["predicted"]) for _, g in p.group_by("run")]
        row = table.filter(pl.col("system") == system).row(0, named=True)
        assert (row["n_items"], row["n_runs"]) == (N, 5)
        assert row["accuracy"] == pytest.approx(np.mean(per_run), abs=1e-12)
        assert row["accuracy_sd"] == pytest.approx(np.std(per_run, ddof=1), abs=1e-12)


def test_a_system_folder_whose_name_collides_gets_its_own_row(copy):
    # A fine-tuned model folder called "bert-base" beside the paper's bert-base-chinese
    # (short name "bert-base"): each keeps its own predictions, nothing is ignored.
    src = copy / "finetuned_model_predict" / "hfl-chinese-roberta-wwm-ext-large"
    shutil.copytree(src, copy / "finetuned_model_predict" / "bert-base", copy_function=shutil.copy)
    systems = discover_systems(copy.parent)
    assert systems["bert-base"] == "finetuned_model_predict/bert-base-chinese"
    assert systems["finetuned_model_predict-bert-base"] == "finetuned_model_predict/bert-base"
    data = _load(copy)
    pred = data.predictions
    bert = pred.filter(pl.col("system") == "bert-base")["source_file"].unique().to_list()
    assert bert and all(f.startswith("finetuned_model_predict/bert-base-chinese/") for f in bert)
    assert data.audit.filter(pl.col("status") == "ignored")["source_file"].str.starts_with(
        "finetuned_model_predict/bert-base").sum() == 0
