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

Every file accounted for
------------------------
The loader lists every file under ``data/``, ``ChatGPT_gen/`` and
``finetuned_model_predict/``, and each gets an audit row:

* ``N.json`` of a run folder with ``N`` an item of ``test.json``: read, ``used`` (a
  missing one is an error naming it);
* ``N.json`` with ``N`` beyond ``test.json``'s last item, present in *every* run folder
  of every system read: an item of the study that the reference file lacks, so its
  prediction files are ``excluded`` with reason "item not in data/test.json" (never
  skipped in silence: removing test.json's last item names the 30 files of item 799);
* any other file (a stray ``800.json`` in some folders only, a README, files of a
  system not asked for) is ``ignored``, with reason "not part of the study" or
  "system not selected".

Text is UTF-8 with or without a BOM; other bytes are an error naming the byte offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.data.paths import dataset_dir
from analysis.data.ratings import AUDIT_SCHEMA, REASON_NOT_PART, DataError, list_files, read_json

DATASET = "dialoguesafety"
TEST_FILE = "data/test.json"
CATEGORIES = ("Nonsense", "Humanoid Mimicry", "Linguistic Neglect", "Unamiable Judgment", "Toxic Language",
              "Unauthorized Preachment", "Nonfactual Statement", "Safe Response")
"""The 8 categories, index = label (7 = Safe Response)."""
SAFE = 7
UNMAPPED = -1
RUN_NAMES = ("one", "two", "three", "four", "five")
SEEDS = (42, 43, 44, 45, 46)

FOLDER = "dialogue-safety"
"""Folder of this data set under the data root (a clone of the authors' repository)."""
CHATGPT_DIR = "ChatGPT_gen"
FINETUNED_DIR = "finetuned_model_predict"

SYSTEMS: dict[str, str] = {
    "chatgpt-0301-zero": "ChatGPT_gen/0301/zero_shot",
    "chatgpt-0301-few": "ChatGPT_gen/0301/few_shot",
    "chatgpt-0613-zero": "ChatGPT_gen/0613/zero_shot",
    "chatgpt-0613-few": "ChatGPT_gen/0613/few_shot",
    "bert-base": "finetuned_model_predict/bert-base-chinese",
    "roberta-large": "finetuned_model_predict/hfl-chinese-roberta-wwm-ext-large",
}
"""The paper's systems: short name -> folder of its 5 runs. Any other folder
``ChatGPT_gen/<version>/<setting>/`` or ``finetuned_model_predict/<model>/`` holding run
folders is a system too (:func:`discover_systems`)."""


def _run_folders(path: Path, chatgpt: bool) -> list[str]:
    """The run sub-folders of one system folder, in run order: ``one`` .. ``five`` for
    ChatGPT (named runs), numeric seeds ascending for the fine-tuned models."""
    subs = [p.name for p in path.iterdir() if p.is_dir()] if path.is_dir() else []
    if chatgpt:
        return [r for r in RUN_NAMES if r in subs] + sorted(s for s in subs if s not in RUN_NAMES)
    return sorted((s for s in subs if s.isdigit()), key=int) + sorted(s for s in subs if not s.isdigit())


def discover_systems(root: str | Path | None = None) -> dict[str, str]:
    """Every system in the data: short name -> folder. The paper's six keep their short
    names and come first in the paper's order; others are named as found
    (``chatgpt-<version>-<setting>``, or the fine-tuned model's folder name), alphabetically."""
    base = _base(root)
    folders = []
    for version in sorted(p for p in (base / CHATGPT_DIR).glob("*") if p.is_dir()):
        folders += [f"{CHATGPT_DIR}/{version.name}/{s.name}" for s in sorted(version.iterdir())
                    if s.is_dir() and _run_folders(s, True)]
    folders += [f"{FINETUNED_DIR}/{m.name}" for m in sorted((base / FINETUNED_DIR).glob("*"))
                if m.is_dir() and _run_folders(m, False)]
    known = {folder: name for name, folder in SYSTEMS.items()}
    out = {name: folder for name, folder in SYSTEMS.items() if folder in folders}
    found: dict[str, str] = {}
    for folder in folders:
        if folder in known:
            continue
        parts = folder.split("/")
        name = f"chatgpt-{parts[1]}-{parts[2]}" if parts[0] == CHATGPT_DIR else parts[1]
        if name in out or name in found:
            # Two folders, one short name (a model folder called "bert-base" beside the paper's
            # bert-base-chinese): the newcomer is named by its whole folder, so neither row
            # ever shows the other's predictions.
            name = folder.replace("/", "-")
        found[name] = folder
    return out | dict(sorted(found.items()))


def cache_folders(root: Path) -> list[Path]:
    """The folder the loader reads under the data root ``root`` (its files make the
    parquet cache's key, :mod:`analysis.data.cache`)."""
    return [root / FOLDER]


def _base(root: str | Path | None) -> Path:
    if root is not None and (Path(root) / TEST_FILE).is_file():
        return Path(root)
    return dataset_dir(FOLDER, root)

REASON_UNMAPPED = "answer maps to no category"
REASON_NO_GOLD = "item not in data/test.json"
REASON_NOT_SELECTED = "system not selected"
REASON_TRUNCATED = "answer truncated at the token limit"


@dataclass(frozen=True)
class DialogueSafetyData:
    """``items`` (item, gold), ``predictions`` (item, system, run, predicted, gold,
    answer, finish_reason, source_file) and ``audit``."""

    items: pl.DataFrame
    predictions: pl.DataFrame
    audit: pl.DataFrame
    systems: tuple[str, ...] = tuple(SYSTEMS)

    # The study-data interface (analysis.data.study_data.StudyData): predictions against
    # gold labels, no ratings frame.
    @property
    def references(self) -> tuple[str, ...]:
        return ("gold",)

    @property
    def evaluators(self) -> tuple[str, ...]:
        return self.systems

    ratings = review_set = crisis_labels = truth = property(lambda self: None)
    own_answer_model = property(lambda self: {})

    @property
    def has_references(self) -> bool:
        return self.items.height > 0

    @property
    def has_runs(self) -> bool:
        return self.predictions["run"].drop_nulls().n_unique() >= 2

    has_clusters = has_categories = has_sources = property(lambda self: False)


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
    return read_json(base, rel)


def _item_index(name: str) -> int | None:
    """``"17.json"`` -> 17; None for any other file name."""
    stem = name[:-5] if name.endswith(".json") else None
    return int(stem) if stem is not None and stem.isdigit() and str(int(stem)) == stem else None


def load_dialoguesafety(root: str | Path | None = None, *, systems: tuple[str, ...] | None = None) -> DialogueSafetyData:
    """Load the test set and every system's runs of predictions (the paper: 6 systems x 5
    runs x 800 files). ``systems``: names from :func:`discover_systems` (default: all)."""
    base = _base(root)
    found = discover_systems(base)
    unknown = [s for s in (systems or ()) if s not in found]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; systems in the data: {', '.join(found)}")
    chosen = {s: found[s] for s in (systems or found)}
    test = _read(base, TEST_FILE)
    if not isinstance(test, list) or not test:
        raise DataError(TEST_FILE, None, "expected a JSON list of test items")
    n = len(test)
    runs_of = {system: [f"{folder}/{sub}" for sub in _run_folders(base / folder, folder.startswith(CHATGPT_DIR))]
               for system, folder in chosen.items()}
    # Indices beyond test.json that every run folder predicted are items the reference
    # lacks (its last item removed, say); beyond that, a file is a stray.
    beyond: dict[int, int] = {}
    for run_dirs in runs_of.values():
        for run_dir in run_dirs:
            for p in (base / run_dir).iterdir():
                k = _item_index(p.name) if p.is_file() else None
                if k is not None and k >= n:
                    beyond[k] = beyond.get(k, 0) + 1
    n_run_dirs = sum(len(v) for v in runs_of.values())
    lacking = sorted(k for k, c in beyond.items() if c == n_run_dirs)
    gold = []
    for i, t in enumerate(test):
        if not isinstance(t, dict) or t.get("label") not in range(len(CATEGORIES)):
            raise DataError(TEST_FILE, f"item {i}", f"gold label must be 0-7, got {t.get('label') if isinstance(t, dict) else t!r}")
        gold.append(t["label"])
    audit = [(TEST_FILE, f"item {i}", None, "used", None, "gold label") for i in range(n)]
    rows = []
    for system, folder in chosen.items():
        chatgpt = folder.startswith(CHATGPT_DIR)
        for run, run_dir in enumerate(runs_of[system], start=1):
            for k in lacking:
                audit.append((f"{run_dir}/{k}.json", f"item {k}", system, "excluded", REASON_NO_GOLD,
                              f"{TEST_FILE} has {n} items (0-{n - 1}); every run folder has {k}.json"))
            for i in range(n):
                rel = f"{run_dir}/{i}.json"
                d = _read(base, rel)
                if not isinstance(d, dict):
                    raise DataError(rel, f"item {i}", f"expected a JSON object, got a {type(d).__name__}")
                item = d.get("item") if chatgpt else {k: d.get(k) for k in ("context", "response", "label")}
                if item != test[i]:
                    raise DataError(rel, f"item {i}", "embedded item differs from data/test.json at this index")
                if chatgpt:
                    try:
                        choice = d["choices"][0]
                        answer, finish = choice["message"]["content"], choice.get("finish_reason")
                        if not isinstance(answer, str):
                            raise TypeError
                    except (KeyError, IndexError, TypeError, AttributeError):
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
    seen = {r[0] for r in audit}
    chosen_folders = tuple(chosen.values())
    for rel in list_files(base, ("data", CHATGPT_DIR, FINETUNED_DIR)):
        if rel in seen:
            continue
        owner = next((s for s, f in found.items() if rel.startswith(f + "/")), None)
        if owner is not None and not rel.startswith(tuple(f + "/" for f in chosen_folders)):
            audit.append((rel, "file", owner, "ignored", REASON_NOT_SELECTED, f"systems read: {', '.join(chosen)}"))
            continue
        k = _item_index(rel.rsplit("/", 1)[-1])
        detail = (f"{TEST_FILE} has {n} items (0-{n - 1}) and only {beyond.get(k, 0)} of the {n_run_dirs} run "
                  f"folders have {k}.json" if k is not None and k >= n and owner is not None else
                  "not a prediction file N.json of a run folder, nor data/test.json")
        audit.append((rel, "file", owner, "ignored", REASON_NOT_PART, detail))
    predictions = pl.DataFrame(rows, schema={"item": pl.Int64, "system": pl.String, "run": pl.Int64,
                                             "predicted": pl.Int64, "gold": pl.Int64, "answer": pl.String,
                                             "finish_reason": pl.String, "source_file": pl.String}, orient="row")
    audit_frame = pl.DataFrame(audit, schema={c: pl.String for c in
                                              ("source_file", "record", "rater", "status", "reason", "detail")},
                               orient="row").with_columns(pl.lit(DATASET).alias("dataset")).select(list(AUDIT_SCHEMA))
    items = pl.DataFrame({"item": list(range(n)), "gold": gold,
                          "gold_category": [CATEGORIES[g] for g in gold]})
    return DialogueSafetyData(items=items, predictions=predictions, audit=audit_frame, systems=tuple(chosen))
