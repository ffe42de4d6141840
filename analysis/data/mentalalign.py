"""MentalAlign-70k (MentalBench-Align, Badawi et al. 2025): loader.

Reads ``<data root>/mentalbench-align/MentalAlign-70k/``: ``Human_Judge/Human_judge.xlsx``
and ``LLMs_as_a_judge/{claude,gemini,gpt-4o,o4-mini}_llm_judge.xlsx``. Each file has one
row per conversation (``ConvID``) and one column per response source (the human-written
``original`` response and 9 models); every cell holds a JSON object with the 7 attribute
ratings. Each (cell, attribute) is one record of the audit.

Quirks of the real files, and what the loader does
--------------------------------------------------
* LLM cells are often inside a ```json fence: the fence is removed (audit ``detail``
  says so); a cell that is still not a JSON object is excluded as "malformed JSON",
  each of its 7 attributes with the cell's location.
* Some human column names start with a space: names are stripped.
* Empty cells: "empty cell"; a JSON object without an attribute: "missing key".
* Scale: whole points on 1-5. Human ratings include 0 and 6, outside the scale:
  excluded as "score outside the scale" by default; ``keep_off_scale=True`` keeps 0 and
  6 (:data:`KEPT_RANGE`; any rater's, a judge's 6 too), because the authors' published
  numbers include them, and marks each such record ``used`` with reason "off-scale kept
  (authors' choice)" and the value in ``detail``. Values further off (7, 9) are
  excluded either way. A fraction (4.5) is excluded as "score is not a whole point"
  either way: no rater of the paper gives one.
* A conversation of the human file that a judge's file lacks (a removed row): one audit
  row ``excluded`` with reason "conversation not in this file" and record ``ConvID N``.
* Values that are not numbers: "score is not a number"; null, ``"NaN"`` or an empty
  string: "missing score".
* Files: every file under ``MentalAlign-70k/`` has audit rows; a file that is not one
  of the workbooks read (a stray workbook, Excel's ``~$`` lock file) is ``ignored`` with
  reason "not part of the study", a judge's workbook not asked for with reason "judge
  not selected".

Ratings: ``item_id`` = ``ma-<ConvID>``, ``response_id`` = ``ma-<ConvID>/<source>``,
``answer_model`` = the source column (``original``, ``claude``, ``ds_llama``, ...; see
:data:`SOURCES` for the models' names), ``attribute`` = the attribute, ``rater`` =
``human`` or the judge (``claude``, ``gemini``, ``gpt-4o``, ``o4-mini``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.data.paths import dataset_dir
from analysis.data.study_data import RatingsBacked
from analysis.data.ratings import (AUDIT_SCHEMA, REASON_KEPT_OFF_SCALE, REASON_NOT_PART, REASON_OFF_GRID,
                                   REASON_OFF_SCALE, DataError, list_files, make_ratings, parse_score, read_text)

DATASET = "mentalalign"
FOLDER = "mentalbench-align"
"""Folder of this data set under the data root (a clone of the authors' repository)."""
SUBFOLDER = "MentalAlign-70k"
HUMAN_FILE = f"{SUBFOLDER}/Human_Judge/Human_judge.xlsx"
JUDGE_DIR = f"{SUBFOLDER}/LLMs_as_a_judge"
JUDGE_SUFFIX = "_llm_judge.xlsx"
PAPER_JUDGES = ("claude", "gemini", "gpt-4o", "o4-mini")
"""The paper's four LLM judges. Any other ``<name>_llm_judge.xlsx`` is a judge too."""


def judge_file(judge: str) -> str:
    """The workbook of ``judge``, relative to the data set folder."""
    return f"{JUDGE_DIR}/{judge}{JUDGE_SUFFIX}"


JUDGE_FILES = {j: judge_file(j) for j in PAPER_JUDGES}
JUDGES = PAPER_JUDGES

ATTRIBUTES = ("Guidance", "Informativeness", "Relevance", "Safety", "Empathy", "Helpfulness", "Understanding")
COGNITIVE = ATTRIBUTES[:4]
"""The Cognitive Support Score attributes."""
AFFECTIVE = ATTRIBUTES[4:]
"""The Affective Resonance Score attributes."""

SOURCES = {
    "original": "Human (original response)", "claude": "Claude-3.5-Haiku", "ds_llama": "DeepSeek-LLaMA-8B",
    "ds_qwen": "DeepSeek-Qwen-7B", "gemini": "Gemini-2.0-Flash", "gpt4o": "GPT-4o", "gpt4omini": "GPT-4o-Mini",
    "llama_3": "LLaMA-3.1-8B", "qwen_2": "Qwen-2.5-7B", "qwen_3": "Qwen-3-4B",
}
"""Response source column -> the model that wrote the response."""

OWN_FAMILY = {"claude": "claude", "gpt-4o": "gpt4o", "gemini": "gemini", "o4-mini": "gpt4omini"}
"""Judge -> the response source of its own model family (excluded from its analysis)."""

SCALE = (1, 5)
INTEGER_SCALE = True
KEPT_RANGE = (0, 6)
"""What ``keep_off_scale`` keeps: the off-scale values of the authors' data, 0 and 6 (one
point beyond each end); 7, 9 or -1 are no one's choice and stay excluded."""
REASON_NOT_SELECTED = "judge not selected"
REASON_CONV_MISSING = "conversation not in this file"
REASON_EMPTY = "empty cell"
REASON_MALFORMED = "malformed JSON"
REASON_MISSING_KEY = "missing key"
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_PREFIX = re.compile(r"^(human|judge)_response_")


@dataclass(frozen=True)
class MentalAlignData(RatingsBacked):
    """``ratings`` (tidy schema, one row per used rating) and ``audit`` (one row per
    (cell, attribute) read); ``keep_off_scale`` records the choice made; ``judges`` the
    judges read."""

    ratings: pl.DataFrame
    audit: pl.DataFrame
    keep_off_scale: bool
    judges: tuple[str, ...] = PAPER_JUDGES

    @property
    def references(self) -> tuple[str, ...]:
        """The one human expert."""
        return ("human",)

    @property
    def evaluators(self) -> tuple[str, ...]:
        return self.judges

    review_set = crisis_labels = truth = property(lambda self: None)
    own_answer_model = property(lambda self: {})


def _column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _read_sheet(base: Path, rel: str) -> tuple[list[str], list[tuple]]:
    import openpyxl

    path = base / rel
    if not path.is_file():
        raise DataError(rel, None, f"file not found under {base}")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for broken files
        raise DataError(rel, None, f"not a readable xlsx file: {exc}") from None
    try:
        rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise DataError(rel, None, "empty sheet")
    return [str(h).strip() if h is not None else "" for h in rows[0]], rows[1:]


def _parse_cell(value) -> tuple[dict | None, str | None, str | None]:
    """(object, reason, detail) for one cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, REASON_EMPTY, None
    text = str(value)
    detail = None
    m = _FENCE.match(text)
    if m:
        text, detail = m.group(1), "```json fence removed"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, REASON_MALFORMED, f"{exc.msg}: {text[:60]!r}"
    if not isinstance(obj, dict):
        return None, REASON_MALFORMED, f"not a JSON object: {text[:60]!r}"
    return obj, None, detail


def _score(value, keep_off_scale: bool) -> tuple[float | None, str | None, bool]:
    """(score, reason it is excluded, kept off the scale) for one attribute's value."""
    score, why = parse_score(value, (-math.inf, math.inf))
    if why is not None:
        return None, why, False
    if INTEGER_SCALE and score != math.floor(score):
        return None, REASON_OFF_GRID, False
    if SCALE[0] <= score <= SCALE[1]:
        return score, None, False
    if keep_off_scale and KEPT_RANGE[0] <= score <= KEPT_RANGE[1]:
        return score, None, True
    return None, REASON_OFF_SCALE, False


def cache_folders(root: Path) -> list[Path]:
    """The folder the loader reads under the data root ``root`` (its files make the
    parquet cache's key, :mod:`analysis.data.cache`)."""
    return [root / FOLDER]


def _base(root: str | Path | None) -> Path:
    if root is not None and (Path(root) / HUMAN_FILE).is_file():
        return Path(root)
    return dataset_dir(FOLDER, root)


def discover_judges(root: str | Path | None = None) -> tuple[str, ...]:
    """The judges present in the data: every ``LLMs_as_a_judge/<name>_llm_judge.xlsx``; the
    paper's four first in the paper's order, any other alphabetically."""
    base = _base(root)
    if not (base / JUDGE_DIR).is_dir():
        raise DataError(JUDGE_DIR, None, f"folder not found under {base}")
    found = sorted(p.name[: -len(JUDGE_SUFFIX)] for p in (base / JUDGE_DIR).glob(f"*{JUDGE_SUFFIX}")
                   if not p.name.startswith("~$"))  # "~$x.xlsx": Excel's lock file of an open workbook
    return tuple([j for j in PAPER_JUDGES if j in found] + [j for j in found if j not in PAPER_JUDGES])


def load_mentalalign(root: str | Path | None = None, *, keep_off_scale: bool = False,
                     judges: tuple[str, ...] | None = None) -> MentalAlignData:
    """Load MentalAlign-70k: human and 4 LLM-judge ratings of 1,000 x 10 responses x 7 attributes.

    Parameters
    ----------
    root
        The data root holding ``mentalbench-align/`` (or that folder itself).
    keep_off_scale
        Keep ratings outside 1-5 (0 and 6 occur in the human file), as the authors'
        published numbers do; by default they are excluded and counted in the audit.
    judges
        Judges to read; default: every one found (:func:`discover_judges`).
    """
    base = _base(root)
    found = discover_judges(base)
    judges = found if judges is None else tuple(judges)
    rows: list[tuple] = []
    audit: list[tuple] = []
    sources_seen = None
    conversations: dict[str, tuple[str, list[str]]] = {}
    for rater, rel in (("human", HUMAN_FILE), *((j, judge_file(j)) for j in judges)):
        header, data = _read_sheet(base, rel)
        if header[:2] != ["ConvID", "context"]:
            raise DataError(rel, "row 1", f"expected columns ConvID, context first; found {header[:2]}")
        sources = [_PREFIX.sub("", h) for h in header[2:]]
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            raise DataError(rel, "row 1", f"unknown response source columns {unknown}; known: {sorted(SOURCES)}")
        if sources_seen is not None and sorted(sources) != sorted(sources_seen):
            raise DataError(rel, "row 1", f"response sources {sources} differ from the human file's {sources_seen}")
        sources_seen = sources
        seen_conv: dict[str, int] = {}
        kind = "human" if rater == "human" else "llm"
        for r, row in enumerate(data, start=2):
            conv = row[0]
            if conv is None:
                raise DataError(rel, f"row {r}", "no ConvID")
            conv = str(conv).strip()
            if conv in seen_conv:
                raise DataError(rel, f"row {r}", f"ConvID {conv} repeats row {seen_conv[conv]}")
            seen_conv[conv] = r
            conversations.setdefault(rel, (rater, []))[1].append(conv)
            for j, source in enumerate(sources):
                cell = f"{_column_letter(j + 2)}{r}"
                obj, reason, detail = _parse_cell(row[j + 2] if j + 2 < len(row) else None)
                for attr in ATTRIBUTES:
                    record = f"{cell} {attr}"
                    if obj is None:
                        audit.append((rel, record, rater, "excluded", reason, detail))
                        continue
                    if attr not in obj:
                        audit.append((rel, record, rater, "excluded", REASON_MISSING_KEY, detail))
                        continue
                    score, why, kept = _score(obj[attr], keep_off_scale)
                    if why:
                        audit.append((rel, record, rater, "excluded", why, repr(obj[attr])))
                        continue
                    if kept:
                        audit.append((rel, record, rater, "used", REASON_KEPT_OFF_SCALE,
                                      f"{obj[attr]!r} outside {SCALE[0]}-{SCALE[1]}"
                                      + (f"; {detail}" if detail else "")))
                    else:
                        audit.append((rel, record, rater, "used", None, detail))
                    rows.append((f"ma-{conv}", f"ma-{conv}/{source}", source, attr, rater, kind, score, rel, record))
    # A conversation of the human file that a judge's file lacks (a removed row) is named,
    # not left to vanish from the pairs in silence.
    human_convs = conversations.get(HUMAN_FILE, ("human", []))[1]
    for rel, (rater, convs) in conversations.items():
        if rel == HUMAN_FILE:
            continue
        have = set(convs)
        for conv in human_convs:
            if conv not in have:
                audit.append((rel, f"ConvID {conv}", rater, "excluded", REASON_CONV_MISSING,
                              f"{HUMAN_FILE} has conversation {conv}; this file has no row for it"))
    read = {HUMAN_FILE, *(judge_file(j) for j in judges)}
    for rel in list_files(base, (SUBFOLDER,)):
        if rel in read:
            continue
        name = rel.rsplit("/", 1)[-1]
        if (rel.startswith(JUDGE_DIR + "/") and name.endswith(JUDGE_SUFFIX) and not name.startswith("~$")
                and name[: -len(JUDGE_SUFFIX)] in found):
            audit.append((rel, "file", name[: -len(JUDGE_SUFFIX)], "ignored", REASON_NOT_SELECTED,
                          f"judges read: {', '.join(judges)}"))
        else:
            audit.append((rel, "file", None, "ignored", REASON_NOT_PART,
                          "Excel's lock file of an open workbook" if name.startswith("~$") else
                          f"not {HUMAN_FILE} nor a judge's workbook {JUDGE_DIR}/<judge>{JUDGE_SUFFIX}"))
    ratings = make_ratings(pl.DataFrame(rows, schema=[
        "item_id", "response_id", "answer_model", "attribute", "rater", "rater_kind", "score", "source_file",
        "source_record"], orient="row").with_columns(
        pl.lit(DATASET).alias("dataset"), pl.lit(None, pl.Int32).alias("answer_run"),
        pl.lit(None, pl.String).alias("category"), pl.lit(1, pl.Int32).alias("eval_run")))
    audit_frame = pl.DataFrame(audit, schema={c: pl.String for c in
                                              ("source_file", "record", "rater", "status", "reason", "detail")},
                               orient="row").with_columns(pl.lit(DATASET).alias("dataset")).select(
        list(AUDIT_SCHEMA)).cast(AUDIT_SCHEMA)
    return MentalAlignData(ratings=ratings, audit=audit_frame, keep_off_scale=keep_off_scale, judges=judges)


def published_icc(root: str | Path | None = None) -> pl.DataFrame:
    """The authors' ICC table (``Results/ICC Reliability Analysis.md``) as a frame.

    Columns: judge, attribute, icc_c1, ci_low, ci_high (their bootstrap CI of
    ICC(C,1)), icc_a1, ci_width, authors_label (``GR``/``MR``/``PR``: good, moderate,
    poor reliability, from tertiles of their CI widths).
    """
    base = _base(root)
    rel = "Results/ICC Reliability Analysis.md"
    if not (base / rel).is_file():
        raise DataError(rel, None, f"file not found under {base}")
    names = {"Claude-3.7-Sonnet": "claude", "GPT-4o": "gpt-4o", "Gemini-2.5-Flash": "gemini", "o4-mini": "o4-mini"}
    rows, judge = [], None

    def num(text: str) -> float:
        return float(text.replace("*", "").replace("−", "-").strip())

    for line in read_text(base, rel).splitlines():
        cells = [c.strip().replace("*", "") for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or cells[2] not in ATTRIBUTES:
            continue
        judge = names.get(cells[0], judge)
        low, high = (num(v) for v in cells[4].strip("[]").split(","))
        label = re.search(r"\b(GR|MR|PR)\b", cells[7])
        rows.append((judge, cells[2], num(cells[3]), low, high, num(cells[5]), num(cells[6]),
                     label.group(1) if label else None))
    if len(rows) != len(JUDGES) * len(ATTRIBUTES):
        raise DataError(rel, None, f"expected {len(JUDGES) * len(ATTRIBUTES)} judge x attribute rows, parsed {len(rows)}")
    return pl.DataFrame(rows, schema=["judge", "attribute", "icc_c1", "ci_low", "ci_high", "icc_a1", "ci_width",
                                      "authors_label"], orient="row")
