"""Between Help and Harm (Arnaiz-Rodriguez et al., JMIR Mental Health 2026): loader.

Reads a clone of github.com/ellisalicante/LLMs-Mental-Health-Crisis laid out as
``<data root>/between-help-and-harm/`` (its validation split: 206 items) into the tidy
ratings table of :mod:`analysis.data.ratings`, with an audit row for every record read.

What is read, and how it is joined
----------------------------------
Everything is joined by **file and row position**: row ``i`` of every validation-set
file is validation item ``i`` (``item_id = "bhh-val-%03d" % i``). Answer text is never
used as a key: it is not unique, and the human score files' text fields are corrupted
in places. Where files carry the conversation (``inputs``), the loader checks that row
``i`` holds the same conversation as the validation file and stops with an error naming
the file and row if not, so a shifted row can never be joined silently.

* Items: ``data/processed/sampled_dataset_n_200_merged_n50-noSeed_156-s42.json``;
  category = the human consensus crisis label of
  ``data/human_label/human-labeled-sampled_dataset_n206_s42-merged_labels.json``
  (``null`` for the 16 items without a consensus).
* Answers: ``data/llm_answer/<model>-answers-<validation set>-<timestamp>.json``, 5
  answer models x 3 runs; ``answer_run`` numbers a model's files in timestamp order.
* LLM evaluations: ``data/llm_evaluator/<evaluator>/n_200/merged/<evaluator
  prefix>-evaluation_<answer file>_merged.json``; every run in ``evals`` is one rating
  (``eval_run`` 1-3). The authors' ``evaluation`` is the mean of the available runs;
  :func:`analysis.data.ratings.to_matrix` recomputes it from the runs.
* Human appropriateness scores: ``data/human_label/H{1,2}_scores_n206_s42.json``, row
  ``i`` = the review answer of item ``i``.
* Review set: ``data/llm_evaluator/sampled/sampled_lowest_scores_n200.json``: for item
  ``i``, ``sampled_from`` names the gpt-4o-mini evaluation file, hence the answer file
  and run, of the answer the humans scored (the lowest-scored by gpt-4o-mini).
* Crisis labels (H1-H4, consensus, LLM label runs) and the rubric ``protocol.csv``.

Quirks of the real files, and what the loader does
--------------------------------------------------
* Human score files contain the bare token ``NaN`` (not strict JSON): read as a missing
  score; ``Infinity`` would be "not a number".
* 16 of 206 items have no consensus label and no scores: their missing scores are
  excluded with reason "item has no consensus crisis label".
* Evaluator scores mix ints, floats and numeric strings: all parsed by
  :func:`analysis.data.ratings.parse_score`; non-numeric or off-scale (outside 1-5) values are
  excluded with that reason and the offending value in ``detail``.
* Some answers have 2 evaluation runs, not 3: the missing run (``None`` in ``evals``)
  is excluded as "missing score".
* A file with more or fewer rows than the validation set (e.g. a duplicated row) is an
  error naming the first row that does not line up: the join by position would
  otherwise be wrong.
* Scale: scores are whole points on 1-5 (every run of every evaluator, and the human
  scores). A value off the range is "score outside the scale", a fraction (4.5) "score
  is not a whole point": both excluded with the value in ``detail``. The authors'
  fractional ``evaluation`` (the mean of runs) is derived, never read as a rating.
* Files: every file under the folders read (``data/processed``, ``data/human_label``,
  ``data/llm_answer``, ``data/llm_label``, ``data/llm_evaluator``) has audit rows; a
  file that no item refers to (the 2,046-item test split, readmes, the review sets the
  other evaluators chose, a stray file) is ``ignored`` with reason "not part of the
  study", an evaluator not asked for with reason "evaluator not selected".
* Text is UTF-8 with or without a BOM; other bytes are an error naming the byte offset.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.data.paths import dataset_dir
from analysis.data.study_data import RatingsBacked
from analysis.data.ratings import (REASON_MISSING, REASON_NO_CONSENSUS, REASON_NOT_PART, Audit, DataError,
                                   list_files, make_ratings, parse_score, read_json, read_text)

DATASET = "bhh"
VALIDATION_SET = "sampled_dataset_n_200_merged_n50-noSeed_156-s42"
VALIDATION_FILE = f"data/processed/{VALIDATION_SET}.json"
CONSENSUS_FILE = "data/human_label/human-labeled-sampled_dataset_n206_s42-merged_labels.json"
HUMAN_LABEL_FILES = {h: f"data/human_label/{h}_labeled_n206_s42.json" for h in ("H1", "H2", "H3")} | {
    "H4": "data/human_label/H4_labelled_n206_s42.json"}
HUMAN_SCORE_FILES = {h: f"data/human_label/{h}_scores_n206_s42.json" for h in ("H1", "H2")}
REVIEW_FILE = "data/llm_evaluator/sampled/sampled_lowest_scores_n200.json"
RUBRIC_FILE = "data/llm_evaluator/protocol.csv"
ANSWER_DIR = "data/llm_answer"
LABEL_DIR = "data/llm_label"

MODEL_NAMES = {
    "gpt-4o-mini": "gpt-4o-mini",
    "gpt-5-nano": "gpt-5-nano",
    "meta-llama-Llama-4-Scout-17B-16E-Instruct": "meta-llama",
    "deepseek-chat": "deepseek-chat",
    "grok-4-fast-non-reasoning": "grok-4-fast",
}
"""File-name prefix of each model -> the short name used everywhere in this project."""

EVALUATOR_PREFIX = {
    "gpt-4o-mini": "gpt-4o-mini",
    "gpt-5-nano": "gpt-5-nano",
    "meta-llama": "meta-llama-Llama-4-Scout-17B-16E-Instruct",
}
"""Evaluator folder name -> file-name prefix of its evaluation files, for the paper's three.
A folder not listed here is an evaluator too: its prefix is read from its file names
(:func:`evaluation_prefix`)."""

PAPER_EVALUATORS: tuple[str, ...] = tuple(EVALUATOR_PREFIX)
"""The paper's three LLM evaluators, in the paper's order; also its jury's members."""

FOLDER = "between-help-and-harm"
"""Folder of this data set under the data root (a clone of the authors' repository)."""

EVALUATOR_DIR = "data/llm_evaluator"
EVALUATION_SUBDIR = "n_200/merged"

SCALE = (1, 5)
INTEGER_SCALE = True
"""Scores are whole points: a fraction read from a file is excluded (off the grid)."""
N_EVAL_RUNS = 3
READ_FOLDERS = ("data/processed", "data/human_label", "data/llm_answer", "data/llm_label", "data/llm_evaluator")
"""The folders the loader reads; every file in them gets audit rows."""
REASON_NOT_SELECTED = "evaluator not selected"
_ANSWER_RE = re.compile(rf"^(?P<model>.+)-answers-{re.escape(VALIDATION_SET)}-(?P<ts>\d{{8}}-\d{{6}})\.json$")
_LABEL_RE = re.compile(rf"^(?P<model>.+)-labeled-{re.escape(VALIDATION_SET)}-(?P<ts>\d{{8}}-\d{{6}}|merged_labels)\.json$")


@dataclass(frozen=True)
class BHHData(RatingsBacked):
    """The Between Help and Harm validation split, tidy.

    Attributes
    ----------
    items : item_id, row, dataset_id, n_turns, category
    responses : response_id, item_id, answer_model, answer_run, source_file, row, answer_chars
        (the answer's length in characters, from its ``answer`` field; null where the
        field is not text: two gpt-5-nano answers to row 104 are an API refusal object)
    ratings : :data:`analysis.data.ratings.RATINGS_SCHEMA`
    review_set : item_id, response_id, sampled_from, category, has_scores
    crisis_labels : item_id, rater, label, source_file
    rubric : the 1-5 appropriateness rubric per crisis category (protocol.csv)
    audit : :data:`analysis.data.ratings.AUDIT_SCHEMA`, one row per record read
    evaluators : the LLM evaluators read (folder names under ``data/llm_evaluator``)
    own_answer_model : evaluator -> the answer model of its own family (from the
        model prefix of its evaluation files), ``None`` where no answer model matches
    """

    items: pl.DataFrame
    responses: pl.DataFrame
    ratings: pl.DataFrame
    review_set: pl.DataFrame
    crisis_labels: pl.DataFrame
    rubric: pl.DataFrame
    audit: pl.DataFrame
    evaluators: tuple[str, ...] = PAPER_EVALUATORS
    own_answer_model: dict[str, str | None] | None = None

    @property
    def references(self) -> tuple[str, ...]:
        """The humans who scored the review set (H1, H2)."""
        return tuple(HUMAN_SCORE_FILES)

    @property
    def truth(self) -> None:
        return None


def _constant(token: str) -> Any:
    # Python's json accepts NaN/Infinity; the human files use bare NaN for "no score".
    return float("nan") if token == "NaN" else token


def read_json_records(root: Path, rel: str) -> list[dict]:
    """A JSON file holding a list of objects (UTF-8, optional BOM); errors name the file
    (and the line and column, or the byte offset of a byte that is not UTF-8)."""
    data = read_json(root, rel, parse_constant=_constant)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        bad = next((k for k, r in enumerate(data) if not isinstance(r, dict)), None) if isinstance(data, list) else None
        raise DataError(rel, None if bad is None else f"row {bad}",
                        "expected a JSON list of objects (one per validation item)")
    return data


def _conversation(rec: dict) -> str | None:
    """The conversation of a record as one string (the human score files flatten the
    turns with " | "); None when the record carries none."""
    got = rec.get("inputs") if isinstance(rec, dict) else None
    if isinstance(got, list):
        return " | ".join(map(str, got))
    return got if isinstance(got, str) else None


def _first_misaligned(records: list, inputs: list | None) -> tuple[int, str]:
    """The first row of ``records`` that does not line up with the validation file, and how."""
    refs = [(" | ".join(map(str, x)) if isinstance(x, list) else None) for x in (inputs or [])]
    for k, rec in enumerate(records):
        if k > 0 and rec == records[k - 1]:
            return k, f"row {k} duplicates row {k - 1}"
        if k >= len(refs):
            break
        got = _conversation(rec)
        if got is None or got == refs[k]:
            continue
        if k + 1 < len(refs) and got == refs[k + 1]:
            return k, f"row {k} holds validation row {k + 1}'s conversation: validation row {k} has no row here"
        if k > 0 and got == refs[k - 1]:
            return k, f"row {k} repeats validation row {k - 1}'s conversation (an extra row)"
        if isinstance(rec.get("inputs"), list):
            return k, f"row {k}'s conversation differs from validation row {k}"
        # A flattened text that matches no neighbour is one of the corrupted texts of the
        # human files: inconclusive, keep looking.
    n = len(refs) if inputs is not None else None
    if n is not None and len(records) < n:
        return len(records), (f"rows 0-{len(records) - 1} line up; validation rows {len(records)}-{n - 1} have "
                              f"no row here (the file ends early)")
    if n is not None and len(records) > n:
        return n, f"rows {n}-{len(records) - 1} are extra (rows 0-{n - 1} line up)"
    return len(records), "the rows could not be matched to the validation file"


def _check_rows(rel: str, records: list, n_items: int, inputs: list | None = None) -> None:
    """Refuse a file whose row count differs from the validation set's, naming the first
    row that does not line up (a duplicated, missing or extra row)."""
    if len(records) == n_items:
        return
    row, how = _first_misaligned(records, inputs)
    raise DataError(rel, f"row {row}", f"{len(records)} rows, expected {n_items} (one per validation item, "
                                       f"joined by row position); {how}")


def _check_inputs(rel: str, records: list[dict], inputs: list, *, required: bool = True) -> None:
    for i, (rec, ref) in enumerate(zip(records, inputs)):
        got = rec.get("inputs")
        if got is None and not required:
            continue
        if isinstance(got, str) and isinstance(ref, list):
            continue  # flattened text (the human score files): corrupted in places, not compared
        if got != ref:
            raise DataError(rel, f"row {i}", "conversation differs from the validation file at the same row: "
                                             "rows are not aligned, refusing to join by position")


def _item_id(i: int) -> str:
    return f"bhh-val-{i:03d}"


def _answer_files(root: Path) -> dict[str, tuple[str, int]]:
    """Answer file name -> (short model name, answer run), runs in timestamp order."""
    folder = root / ANSWER_DIR
    if not folder.is_dir():
        raise DataError(ANSWER_DIR, None, f"folder not found under {root}")
    by_model: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.glob("*.json")):
        m = _ANSWER_RE.match(path.name)
        if not m:
            continue  # other data sets' answers (e.g. the 2,046-item test split): audited as ignored
        prefix = m["model"]
        if prefix not in MODEL_NAMES:
            raise DataError(f"{ANSWER_DIR}/{path.name}", None,
                            f"unknown answer model {prefix!r}; known: {sorted(MODEL_NAMES)}")
        by_model.setdefault(MODEL_NAMES[prefix], []).append((m["ts"], path.name))
    out = {}
    for model, files in by_model.items():
        stamps = [ts for ts, _ in files]
        if len(set(stamps)) != len(stamps):
            raise DataError(ANSWER_DIR, None, f"two answer files of {model} share a timestamp: {sorted(files)}")
        for run, (_, name) in enumerate(sorted(files), start=1):
            out[name] = (model, run)
    if not out:
        raise DataError(ANSWER_DIR, None, f"no answer files of the validation set {VALIDATION_SET}")
    return out


def discover_evaluators(root: str | Path | None = None) -> tuple[str, ...]:
    """The LLM evaluators present in the data: every folder ``data/llm_evaluator/<name>/n_200/merged``
    holding ``*-evaluation_*_merged.json`` files (the authors' layout).

    The paper's three come first in the paper's order, any other in alphabetical order, so
    adding an evaluator never reorders the existing ones.
    """
    base = _base(root)
    folder = base / EVALUATOR_DIR
    if not folder.is_dir():
        raise DataError(EVALUATOR_DIR, None, f"folder not found under {base}")
    found = sorted(p.name for p in folder.iterdir()
                   if p.is_dir() and any((p / EVALUATION_SUBDIR).glob("*-evaluation_*_merged.json")))
    from analysis.data.tidy import RESERVED_RATERS

    for name in found:
        if name in RESERVED_RATERS:
            raise DataError(f"{EVALUATOR_DIR}/{name}", None, f"an evaluator folder cannot be named {name!r}: the "
                            f"analysis derives {', '.join(RESERVED_RATERS)} itself; rename the folder")
    return tuple([e for e in PAPER_EVALUATORS if e in found] + [e for e in found if e not in PAPER_EVALUATORS])


def evaluation_prefix(base: Path, evaluator: str) -> str:
    """File-name prefix of ``evaluator``'s evaluation files: known for the paper's three, else
    read from the files (``<prefix>-evaluation_<answer file>_merged.json``), which must agree."""
    if evaluator in EVALUATOR_PREFIX:
        return EVALUATOR_PREFIX[evaluator]
    folder = f"{EVALUATOR_DIR}/{evaluator}/{EVALUATION_SUBDIR}"
    prefixes = sorted({p.name.split("-evaluation_", 1)[0] for p in (base / folder).glob("*-evaluation_*_merged.json")})
    if len(prefixes) != 1:
        raise DataError(folder, None, f"expected one model prefix before '-evaluation_' in the file names, found {prefixes}")
    return prefixes[0]


def cache_folders(root: Path) -> list[Path]:
    """The folders the loader reads under the data root ``root`` (their files make the
    parquet cache's key, :mod:`analysis.data.cache`): the repository clone, and the Hugging
    Face export."""
    from analysis.data.bhh_hf import HF_DIR

    if (root / VALIDATION_FILE).is_file():
        return [root]  # the data root is the repository clone itself
    return [root / FOLDER, root / HF_DIR]


def _base(root: str | Path | None) -> Path:
    if root is not None and (Path(root) / VALIDATION_FILE).is_file():
        return Path(root)
    return dataset_dir(FOLDER, root)


def _response_id(model: str, run: int, i: int) -> str:
    return f"{model}/run{run}/{_item_id(i)}"


def load_bhh(root: str | Path | None = None, *, evaluators: tuple[str, ...] | None = None) -> BHHData:
    """Load the Between Help and Harm validation split (see the module docstring).

    Parameters
    ----------
    root
        The data root holding ``between-help-and-harm/`` (default: see
        :func:`analysis.data.paths.data_root`), or that folder itself.
    evaluators
        LLM evaluators to read (folder names under ``data/llm_evaluator``); default: every
        one found (:func:`discover_evaluators`).

    Raises
    ------
    analysis.data.ratings.DataError
        Missing or malformed files, files whose rows do not align with the validation
        set, unknown models or review answers that join no answer file.
    """
    base = _base(root)
    found = discover_evaluators(base)
    evaluators = found if evaluators is None else tuple(evaluators)
    unknown = [e for e in evaluators if e not in found]
    if unknown:
        raise ValueError(f"unknown evaluator {unknown[0]!r}; found in the data: {', '.join(found)}")
    audit = Audit(DATASET)

    validation = read_json_records(base, VALIDATION_FILE)
    n = len(validation)
    inputs = [r.get("inputs") for r in validation]
    for i in range(n):
        audit.used(VALIDATION_FILE, f"row {i}", detail="validation item")

    consensus = read_json_records(base, CONSENSUS_FILE)
    _check_rows(CONSENSUS_FILE, consensus, n, inputs)
    _check_inputs(CONSENSUS_FILE, consensus, inputs)
    category = [r.get("label") or None for r in consensus]
    items = pl.DataFrame({
        "item_id": [_item_id(i) for i in range(n)], "row": list(range(n)),
        "dataset_id": [r.get("dataset_id") for r in validation],
        "n_turns": [len(r["inputs"]) if isinstance(r.get("inputs"), list) else None for r in validation],
        "category": category,
    }, schema={"item_id": pl.String, "row": pl.Int64, "dataset_id": pl.String, "n_turns": pl.Int64,
               "category": pl.String})

    labels = _crisis_labels(base, n, inputs, consensus, audit)

    answers = _answer_files(base)
    resp_rows = []
    for name, (model, run) in sorted(answers.items(), key=lambda kv: kv[1]):
        rel = f"{ANSWER_DIR}/{name}"
        recs = read_json_records(base, rel)
        _check_rows(rel, recs, n, inputs)
        _check_inputs(rel, recs, inputs)
        for i in range(n):
            text = recs[i].get("answer")
            resp_rows.append((_response_id(model, run, i), _item_id(i), model, run, rel, i,
                              len(text) if isinstance(text, str) else None))
            audit.used(rel, f"row {i}", detail="answer")
    responses = pl.DataFrame(resp_rows, schema={"response_id": pl.String, "item_id": pl.String,
                                                "answer_model": pl.String, "answer_run": pl.Int32,
                                                "source_file": pl.String, "row": pl.Int64,
                                                "answer_chars": pl.Int64}, orient="row")

    rows: list[tuple] = []
    for evaluator in evaluators:
        rows += _evaluations(base, evaluator, answers, n, inputs, category, audit)

    review = read_json_records(base, REVIEW_FILE)
    _check_rows(REVIEW_FILE, review, n, inputs)
    _check_inputs(REVIEW_FILE, review, inputs)
    reviewed = []
    for i, rec in enumerate(review):
        src = rec.get("sampled_from")
        answer_name = _answer_of_evaluation(src)
        if answer_name not in answers:
            raise DataError(REVIEW_FILE, f"row {i}", f"sampled_from {src!r} joins no answer file of the validation set")
        model, run = answers[answer_name]
        reviewed.append(_response_id(model, run, i))
        audit.used(REVIEW_FILE, f"row {i}", detail=f"review answer {model} run {run}")

    human_used = {}
    for human, rel in HUMAN_SCORE_FILES.items():
        recs = read_json_records(base, rel)
        _check_rows(rel, recs, n, inputs)
        _check_inputs(rel, recs, inputs, required=False)
        for i, rec in enumerate(recs):
            record = f"row {i}"
            if "evaluation" not in rec:
                raise DataError(rel, record, "no 'evaluation' field (the human score)")
            score, reason = parse_score(rec["evaluation"], SCALE, integer=INTEGER_SCALE)
            if reason == REASON_MISSING and category[i] is None:
                reason = REASON_NO_CONSENSUS
            if reason:
                audit.excluded(rel, record, reason, rater=human, detail=repr(rec["evaluation"]))
                continue
            model, run = answers[_answer_of_evaluation(review[i]["sampled_from"])]
            rows.append((_item_id(i), reviewed[i], model, run, category[i], human, "human", 1, score, rel, record))
            audit.used(rel, record, rater=human)
            human_used[(human, i)] = True

    ratings = make_ratings(pl.DataFrame(rows, schema=[
        "item_id", "response_id", "answer_model", "answer_run", "category", "rater", "rater_kind", "eval_run",
        "score", "source_file", "source_record"], orient="row").with_columns(
        pl.lit(DATASET).alias("dataset"), pl.lit("appropriateness").alias("attribute")))

    review_set = pl.DataFrame({
        "item_id": [_item_id(i) for i in range(n)], "response_id": reviewed,
        "sampled_from": [r.get("sampled_from") for r in review], "category": category,
        "has_scores": [all(human_used.get((h, i), False) for h in HUMAN_SCORE_FILES) for i in range(n)],
    })
    rubric = _rubric(base, audit)
    _account_for_files(base, audit, evaluators)
    own = {e: MODEL_NAMES.get(evaluation_prefix(base, e)) for e in evaluators}
    return BHHData(items=items, responses=responses, ratings=ratings, review_set=review_set,
                   crisis_labels=labels, rubric=rubric, audit=audit.to_frame(), evaluators=evaluators,
                   own_answer_model=own)


def _answer_of_evaluation(evaluation_file: Any) -> str | None:
    """``<prefix>-evaluation_<answer file stem>_merged.json`` -> ``<answer file stem>.json``."""
    if not isinstance(evaluation_file, str) or "-evaluation_" not in evaluation_file:
        return None
    stem = evaluation_file.split("-evaluation_", 1)[1]
    return stem[: -len("_merged.json")] + ".json" if stem.endswith("_merged.json") else stem


def _evaluations(base: Path, evaluator: str, answers: dict[str, tuple[str, int]], n: int, inputs: list,
                 category: list, audit: Audit) -> list[tuple]:
    folder = f"{EVALUATOR_DIR}/{evaluator}/{EVALUATION_SUBDIR}"
    if not (base / folder).is_dir():
        raise DataError(folder, None, f"folder not found under {base}")
    prefix = evaluation_prefix(base, evaluator)
    expected = {f"{prefix}-evaluation_{name[:-5]}_merged.json": name for name in answers}
    for path in sorted((base / folder).glob("*.json")):
        if path.name not in expected:
            audit.ignored(f"{folder}/{path.name}", REASON_NOT_PART, rater=evaluator,
                          detail="evaluates no answer file of the validation set")
    rows = []
    for ev_name, answer_name in sorted(expected.items()):
        rel = f"{folder}/{ev_name}"
        model, run = answers[answer_name]
        recs = read_json_records(base, rel)
        _check_rows(rel, recs, n, inputs)
        _check_inputs(rel, recs, inputs)
        for i, rec in enumerate(recs):
            runs = rec.get("evals")
            if runs is None:
                runs = [None] * 3  # an item never evaluated (no consensus label): 3 missing runs
            elif not isinstance(runs, list):
                raise DataError(rel, f"row {i}", f"'evals' must be a list of run scores, got {runs!r}")
            elif len(runs) < N_EVAL_RUNS:
                # Some answers were evaluated only twice: the absent run is a missing score.
                for r in range(len(runs) + 1, N_EVAL_RUNS + 1):
                    audit.excluded(rel, f"row {i} run {r}", REASON_MISSING, rater=evaluator,
                                   detail=f"'evals' holds {len(runs)} runs")
            for r, value in enumerate(runs, start=1):
                record = f"row {i} run {r}"
                score, reason = parse_score(value, SCALE, integer=INTEGER_SCALE)
                if reason == REASON_MISSING and category[i] is None:
                    reason = REASON_NO_CONSENSUS
                if reason:
                    audit.excluded(rel, record, reason, rater=evaluator, detail=repr(value))
                    continue
                rows.append((_item_id(i), _response_id(model, run, i), model, run, category[i], evaluator, "llm", r,
                             score, rel, record))
                audit.used(rel, record, rater=evaluator)
    return rows


def _crisis_labels(base: Path, n: int, inputs: list, consensus: list[dict], audit: Audit) -> pl.DataFrame:
    out = []

    def add(rel: str, rater: str, recs: list[dict]) -> None:
        _check_rows(rel, recs, n, inputs)
        for i, rec in enumerate(recs):
            label = rec.get("label") or None
            out.append((_item_id(i), rater, label, rel))
            if label is None:
                audit.excluded(rel, f"row {i}", "missing label", rater=rater)
            else:
                audit.used(rel, f"row {i}", rater=rater)

    add(CONSENSUS_FILE, "consensus", consensus)
    for human, rel in HUMAN_LABEL_FILES.items():
        recs = read_json_records(base, rel)
        _check_inputs(rel, recs, inputs, required=False) if len(recs) == n else None
        add(rel, human, recs)
    folder = base / LABEL_DIR
    runs: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        m = _LABEL_RE.match(path.name)
        if m and m["model"] in MODEL_NAMES:
            runs.setdefault(MODEL_NAMES[m["model"]], []).append((m["ts"], path.name))
    for model, files in sorted(runs.items()):
        timed = sorted(f for f in files if f[0] != "merged_labels")
        for k, (_, name) in enumerate(timed, start=1):
            add(f"{LABEL_DIR}/{name}", f"{model}/run{k}", read_json_records(base, f"{LABEL_DIR}/{name}"))
        for ts, name in files:
            if ts == "merged_labels":
                add(f"{LABEL_DIR}/{name}", f"{model}/majority", read_json_records(base, f"{LABEL_DIR}/{name}"))
    return pl.DataFrame(out, schema={"item_id": pl.String, "rater": pl.String, "label": pl.String,
                                     "source_file": pl.String}, orient="row")


def _rubric(base: Path, audit: Audit) -> pl.DataFrame:
    text = read_text(base, RUBRIC_FILE)
    try:
        rubric = pl.read_csv(io.BytesIO(text.encode("utf-8")))
    except pl.exceptions.PolarsError as exc:
        raise DataError(RUBRIC_FILE, None, f"malformed CSV: {exc}") from None
    for i in range(rubric.height):
        audit.used(RUBRIC_FILE, f"row {i}", detail="rubric")
    return rubric


def _account_for_files(base: Path, audit: Audit, evaluators: tuple[str, ...]) -> None:
    """An ``ignored`` row for every file of the folders read that no audit row names."""
    seen = {r["source_file"] for r in audit.rows}
    for rel in list_files(base, READ_FOLDERS):
        if rel in seen:
            continue
        parts = rel.split("/")
        evaluator = parts[2] if rel.startswith(EVALUATOR_DIR + "/") and len(parts) > 3 else None
        if evaluator is not None and evaluator not in evaluators and evaluator != "sampled":
            audit.ignored(rel, REASON_NOT_SELECTED, rater=evaluator,
                          detail=f"evaluators read: {', '.join(evaluators)}")
        else:
            audit.ignored(rel, REASON_NOT_PART, detail=_why_not_part(rel))


def _why_not_part(rel: str) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    if "n_2046" in name:
        return "the 2,046-item test split (not the validation split)"
    if rel.startswith("data/llm_evaluator/sampled/"):
        return f"the review set of the paper (the humans' answers) is {REVIEW_FILE}"
    if not name.endswith(".json"):
        return "not a JSON data file of the validation split"
    return "no item of the validation split refers to this file"


def review_matrix(data: BHHData, raters: tuple[str, ...] = ("gpt-4o-mini", "gpt-5-nano", "meta-llama", "H1", "H2"),
                  jury: bool = True) -> tuple[np.ndarray, tuple[str, ...], int]:
    """The authors' agreement matrix: review answers x raters, complete rows only.

    LLM scores are the mean of the available evaluation runs (the authors'
    ``evaluation``); ``LLM-Jury`` is the mean of the three evaluators. Returns the
    matrix, its column names and the number of review items left out as incomplete.
    """
    from analysis.data.ratings import to_matrix

    reviewed = data.ratings.filter(pl.col("response_id").is_in(data.review_set["response_id"].to_list()))
    m, dropped = to_matrix(reviewed, list(raters)).complete()
    values, names = m.values, m.raters
    if jury:
        llm = [j for j, r in enumerate(names) if r in PAPER_EVALUATORS]
        values = np.column_stack([values, values[:, llm].mean(axis=1)])
        names = (*names, "LLM-Jury")
    return values, names, dropped

