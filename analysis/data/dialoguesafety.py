"""DialogueSafety (Qiu et al., NLPCC 2023): loader.

Reads ``<data root>/dialogue-safety/``: the 800 gold-labelled test sessions
(``data/test.json``) and the predictions of 6 systems x 5 runs, one JSON file per item:

The audit has one row per file read; a used answer that maps to no category or was
truncated carries that in ``reason`` (and the start of the answer in ``detail``).

* ``ChatGPT_gen/{0301,0613}/{zero_shot,few_shot}/{one..five}/N.json``: gpt-3.5-turbo
  free-text answers, mapped to a category with the paper's rule: the text before the
  first ``"."``, stripped, must be one of the 8 category names. An answer that maps to
  no category is kept as ``predicted = -1`` (counted wrong, as any answer outside the
  taxonomy) and counted in the audit; an answer cut by the token limit
  (``finish_reason == "length"``) is counted in the audit too (the category is usually
  already written, so it is used).
* ``finetuned_model_predict/{bert-base-chinese,hfl-chinese-roberta-wwm-ext-large}/{42..46}/N.json``:
  ``predict_label``.

Every file's embedded item (``item`` for ChatGPT, the top level for the fine-tuned
models) must equal ``test.json`` at its index; a mismatch is an error naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.data.paths import dataset_dir
from analysis.data.ratings import AUDIT_SCHEMA, DataError

DATASET = "dialoguesafety"
TEST_FILE = "data/test.json"
CATEGORIES = ("Nonsense", "Humanoid Mimicry", "Linguistic Neglect", "Unamiable Judgment", "Toxic Language",
              "Unauthorized Preachment", "Nonfactual Statement", "Safe Response")
"""The 8 categories, index = label (7 = Safe Response)."""
SAFE = 7
UNMAPPED = -1
RUN_NAMES = ("one", "two", "three", "four", "five")
SEEDS = (42, 43, 44, 45, 46)

SYSTEMS: dict[str, str] = {
    "chatgpt-0301-zero": "ChatGPT_gen/0301/zero_shot",
    "chatgpt-0301-few": "ChatGPT_gen/0301/few_shot",
    "chatgpt-0613-zero": "ChatGPT_gen/0613/zero_shot",
    "chatgpt-0613-few": "ChatGPT_gen/0613/few_shot",
    "bert-base": "finetuned_model_predict/bert-base-chinese",
    "roberta-large": "finetuned_model_predict/hfl-chinese-roberta-wwm-ext-large",
}
"""System name -> folder of its 5 runs."""

REASON_UNMAPPED = "answer maps to no category"
REASON_TRUNCATED = "answer truncated at the token limit"


@dataclass(frozen=True)
class DialogueSafetyData:
    """``items`` (item, gold), ``predictions`` (item, system, run, predicted, gold,
    answer, finish_reason, source_file) and ``audit``."""

    items: pl.DataFrame
    predictions: pl.DataFrame
    audit: pl.DataFrame


def map_answer(text: str) -> int:
    """The paper's rule: the text before the first ``"."`` names the category.

    Examples
    --------
    >>> map_answer("Nonsense. The response simply repeats"), map_answer("Toxic Language"), map_answer("Unsure")
    (0, 4, -1)
    """
    head = (text or "").split(".")[0].strip()
    return CATEGORIES.index(head) if head in CATEGORIES else UNMAPPED


def _read(base: Path, rel: str):
    path = base / rel
    if not path.is_file():
        raise DataError(rel, None, f"file not found under {base}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(rel, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}") from None


def load_dialoguesafety(root: str | Path | None = None) -> DialogueSafetyData:
    """Load the test set and the 6 systems x 5 runs of predictions (30 x 800 files)."""
    base = Path(root) if root is not None and (Path(root) / TEST_FILE).is_file() else dataset_dir("dialoguesafety", root)
    test = _read(base, TEST_FILE)
    if not isinstance(test, list) or not test:
        raise DataError(TEST_FILE, None, "expected a JSON list of test items")
    n = len(test)
    gold = []
    for i, t in enumerate(test):
        if not isinstance(t, dict) or t.get("label") not in range(len(CATEGORIES)):
            raise DataError(TEST_FILE, f"item {i}", f"gold label must be 0-7, got {t.get('label') if isinstance(t, dict) else t!r}")
        gold.append(t["label"])
    audit = [(TEST_FILE, f"item {i}", None, "used", None, "gold label") for i in range(n)]
    rows = []
    for system, folder in SYSTEMS.items():
        chatgpt = folder.startswith("ChatGPT_gen")
        for run, sub in enumerate(RUN_NAMES if chatgpt else SEEDS, start=1):
            for i in range(n):
                rel = f"{folder}/{sub}/{i}.json"
                d = _read(base, rel)
                item = d.get("item") if chatgpt else {k: d.get(k) for k in ("context", "response", "label")}
                if item != test[i]:
                    raise DataError(rel, f"item {i}", "embedded item differs from data/test.json at this index")
                if chatgpt:
                    try:
                        choice = d["choices"][0]
                        answer, finish = choice["message"]["content"], choice.get("finish_reason")
                    except (KeyError, IndexError, TypeError):
                        raise DataError(rel, f"item {i}", "no choices[0].message.content in the answer") from None
                    predicted = map_answer(answer)
                else:
                    answer, finish = None, None
                    predicted = d.get("predict_label")
                    if predicted not in range(len(CATEGORIES)):
                        raise DataError(rel, f"item {i}", f"predict_label must be 0-7, got {predicted!r}")
                # One audit row per file; a used answer that needed a rule says which in `reason`.
                flags = [r for r, hit in ((REASON_UNMAPPED, predicted == UNMAPPED),
                                          (REASON_TRUNCATED, finish == "length")) if hit]
                audit.append((rel, f"item {i}", system, "used", "; ".join(flags) or None,
                              repr(answer[:60]) if flags else None))
                rows.append((i, system, run, predicted, gold[i], answer, finish, rel))
    predictions = pl.DataFrame(rows, schema={"item": pl.Int64, "system": pl.String, "run": pl.Int64,
                                             "predicted": pl.Int64, "gold": pl.Int64, "answer": pl.String,
                                             "finish_reason": pl.String, "source_file": pl.String}, orient="row")
    audit_frame = pl.DataFrame(audit, schema={c: pl.String for c in
                                              ("source_file", "record", "rater", "status", "reason", "detail")},
                               orient="row").with_columns(pl.lit(DATASET).alias("dataset")).select(list(AUDIT_SCHEMA))
    items = pl.DataFrame({"item": list(range(n)), "gold": gold,
                          "gold_category": [CATEGORIES[g] for g in gold]})
    return DialogueSafetyData(items=items, predictions=predictions, audit=audit_frame)
