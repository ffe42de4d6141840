"""DialogueSafety loader, metrics against scikit-learn, and the paper's Table 2."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_recall_fscore_support
from statsmodels.stats.proportion import proportion_confint

from analysis.stats.classification import classification_metrics, majority_vote
from analysis.stats.proportions import clopper_pearson
from analysis.data.dialoguesafety import SYSTEMS, load_dialoguesafety, map_answer
from analysis.data.ratings import DataError
from analysis.studies.dialoguesafety import metrics_table, per_category_table, run_matrix

# The paper's Table 2: mean +- SD over 5 runs, %, weighted averages (acc, P, R, F1).
TABLE2 = {
    "chatgpt-0301-zero": ((47.5, 0.6), (49.9, 0.7), (47.5, 0.6), (48.4, 0.7)),
    "chatgpt-0301-few": ((48.4, 1.8), (51.0, 2.0), (48.4, 1.8), (47.9, 2.4)),
    "chatgpt-0613-zero": ((43.1, 0.8), (48.9, 4.6), (43.1, 0.8), (33.5, 1.6)),
    "chatgpt-0613-few": ((44.7, 4.5), (48.7, 3.2), (44.7, 4.5), (45.6, 4.0)),
    "bert-base": ((70.3, 1.2), (70.5, 0.9), (70.3, 1.2), (69.7, 1.2)),
    "roberta-large": ((70.4, 3.6), (71.0, 2.1), (70.4, 3.6), (69.8, 3.7)),
}


@pytest.fixture(scope="module")
def ds(shared_data_root):
    return load_dialoguesafety(shared_data_root)


@pytest.mark.real_data
def test_gold_and_predictions(ds):
    assert ds.items.height == 800
    assert ds.items.group_by("gold").len().sort("gold")["len"].to_list() == [53, 5, 355, 5, 2, 11, 2, 367]
    assert ds.predictions.height == 6 * 5 * 800
    assert set(ds.predictions["system"]) == set(SYSTEMS)
    assert ds.audit.height == 800 + 24_000  # test items + one row per prediction file


@pytest.mark.real_data
def test_truncated_and_unmapped_answers_are_audited(ds):
    flagged = dict(ds.audit.filter(pl.col("reason").is_not_null()).group_by("rater").len().iter_rows())
    assert flagged == {"chatgpt-0301-zero": 91, "chatgpt-0301-few": 4, "chatgpt-0613-zero": 1}
    truncated = ds.predictions.filter(pl.col("finish_reason") == "length").height
    assert truncated == 96
    assert ds.predictions.filter(pl.col("predicted") == -1).height == 0  # every answer names a category


@pytest.mark.parametrize("system", list(TABLE2))
@pytest.mark.real_data
def test_reproduces_table2(ds, system):
    gold, runs = run_matrix(ds.predictions, system)
    table = {m: (mean, sd) for m, mean, sd, *_ in metrics_table(gold, runs, n_boot=100, seed=1).iter_rows()}
    for name, (mean, sd) in zip(("accuracy", "precision_weighted", "recall_weighted", "f1_weighted"), TABLE2[system]):
        got_mean, got_sd = table[name]
        assert 100 * got_mean == pytest.approx(mean, abs=0.1 + 1e-9), (system, name)
        assert 100 * got_sd == pytest.approx(sd, abs=0.1 + 1e-9), (system, name)


@pytest.mark.real_data
def test_metrics_table_has_the_required_rows(ds):
    gold, runs = run_matrix(ds.predictions, "bert-base")
    table = metrics_table(gold, runs, n_boot=200, seed=2)
    names = set(table["metric"])
    assert {"accuracy", "precision_weighted", "recall_weighted", "f1_weighted", "f1_macro", "cohen_kappa",
            "binary_accuracy", "binary_kappa", "majority_accuracy", "fleiss_kappa_runs"} <= names
    row = table.filter(pl.col("metric") == "majority_accuracy").row(0, named=True)
    assert row["ci_low"] < row["mean"] < row["ci_high"] and 0 <= row["ci_low"] and row["ci_high"] <= 1
    per = per_category_table(gold, runs)
    assert per["too_small"].to_list() == [False, True, False, True, True, True, True, False]


@pytest.mark.parametrize("seed", range(4))
def test_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 8, 400)
    p = np.where(rng.random(400) < 0.5, g, rng.integers(-1, 8, 400))
    m = classification_metrics(g, p, 8)
    P, R, F, _ = precision_recall_fscore_support(g, p, average="weighted", zero_division=0, labels=list(range(8)))
    assert m["accuracy"] == pytest.approx(accuracy_score(g, p))
    assert (m["precision_weighted"], m["recall_weighted"], m["f1_weighted"]) == pytest.approx((P, R, F))
    assert m["f1_macro"] == pytest.approx(f1_score(g, p, average="macro", labels=sorted(set(g)), zero_division=0))
    assert m["cohen_kappa"] == pytest.approx(cohen_kappa_score(g, p))
    w = rng.integers(0, 3, size=(5, 400)).astype(float)
    batch = classification_metrics(g, p, 8, w)
    idx = np.repeat(np.arange(400), w[2].astype(int))
    assert batch["f1_weighted"][2] == pytest.approx(classification_metrics(g[idx], p[idx], 8)["f1_weighted"])


def test_answer_mapping_majority_vote_and_exact_interval():
    assert map_answer("Safe Response. It is") == 7 and map_answer("Safe response") == -1 and map_answer("") == -1
    assert majority_vote(np.array([[1, 2, 2, 1, 3], [4, 4, 0, 0, 5]])).tolist() == [1, 4]
    low, high = clopper_pearson(3, 11)
    assert (low, high) == pytest.approx(proportion_confint(3, 11, method="beta"))


@pytest.mark.real_data
def test_embedded_item_mismatch_names_the_file(dialoguesafety_dir, tmp_path):
    dst = tmp_path / "dialogue-safety"
    shutil.copytree(dialoguesafety_dir, dst, copy_function=os.link, ignore=shutil.ignore_patterns("image"))
    rel = "finetuned_model_predict/bert-base-chinese/44/17.json"
    d = json.loads((dst / rel).read_text())
    d["label"] = (d["label"] + 1) % 8
    (dst / rel).unlink()
    (dst / rel).write_text(json.dumps(d, ensure_ascii=False))
    with pytest.raises(DataError, match=r"bert-base-chinese/44/17\.json, record item 17: embedded item differs"):
        load_dialoguesafety(tmp_path)
