"""Importers: judge and annotation files from the tools that produce them, as tidy ratings.

Each reader turns one tool's files into the tidy ratings of a user study
(:mod:`analysis.data.tidy`: ``item, rater, score, run, attribute``) and an audit with one
row per source record: ``used``, or ``excluded`` with the reason. Nothing is dropped
silently; a file that cannot be read is a :class:`~analysis.data.ratings.DataError`
naming the file and the record.

========== ================================================================== ==========================
tool       what is read                                                       rows
========== ================================================================== ==========================
inspect    Inspect AI eval logs (``.eval`` or ``.json``), through            item = sample id, rater =
           ``inspect_ai.log.read_eval_log`` (the optional extra              the model under evaluation
           ``importers``)                                                     (the judge), run = epoch,
                                                                              attribute = scorer
promptfoo  promptfoo result files (``promptfoo eval -o results.json``,       item = the ``item`` var (or
           ``"version": 3``): each assertion with a ``metric``, its          a key of vars, prompt and
           ``score`` (0-1) or, with ``--promptfoo-value pass``, its pass     provider), rater = the
           flag                                                               grader, run = repeat,
                                                                              attribute = metric
labelstudio Label Studio JSON exports (``annotations[].result[]``):          item = the task's ``item``
           ``choices``, ``rating`` and ``number`` results                     data field (or task id),
                                                                              rater = ``completed_by``,
                                                                              attribute = ``from_name``
wide       a CSV with one column per rater (``item`` column, optional        one row per non-empty cell
           standard columns, every other column a rater)
========== ================================================================== ==========================

References: Inspect AI log format (UK AI Security Institute, ``inspect_ai.log``, log
format version 2); promptfoo output format (``results.version`` 3, ``gradingResult``,
``namedScores``, ``componentResults``); Label Studio task export format
(``labelstud.io/guide/task_format``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import polars as pl

from analysis.data.ratings import DataError

TOOLS = ("inspect", "promptfoo", "labelstudio", "wide")

TIDY_SCHEMA = {"item": pl.String, "rater": pl.String, "score": pl.String, "run": pl.Int64,
               "attribute": pl.String, "category": pl.String, "cluster": pl.String, "source": pl.String}
IMPORT_AUDIT_SCHEMA = {"source_file": pl.String, "record": pl.String, "status": pl.String, "reason": pl.String,
                       "detail": pl.String}

REASON_SAMPLE_ERROR = "sample ended in an error (no score)"
REASON_NO_SCORE = "no score"
REASON_NOT_RATING = "not a rating (result type {})"
REASON_CANCELLED = "annotation was cancelled"
REASON_NO_METRIC = "assertion has no metric (name it with metric: to import it)"
REASON_RESULT_ERROR = "result ended in an error"
REASON_EMPTY = "empty cell"


@dataclass(frozen=True)
class Imported:
    """Tidy ratings (``score`` as text, so labels and numbers travel alike) and the audit."""

    ratings: pl.DataFrame
    audit: pl.DataFrame
    tool: str

    def counts(self) -> dict[str, int]:
        return {s: int((self.audit["status"] == s).sum()) for s in ("used", "excluded")}


class _Collector:
    def __init__(self):
        self.rows: list[dict] = []
        self.audit: list[dict] = []

    def use(self, file: str, record: str, *, item, rater, score, run=1, attribute=None, **extra):
        self.rows.append({"item": str(item), "rater": str(rater), "score": _text(score), "run": int(run),
                          "attribute": attribute, **{k: (None if v is None else str(v)) for k, v in extra.items()}})
        self.audit.append({"source_file": file, "record": record, "status": "used", "reason": None, "detail": None})

    def exclude(self, file: str, record: str, reason: str, detail: Any = None):
        self.audit.append({"source_file": file, "record": record, "status": "excluded", "reason": reason,
                           "detail": None if detail is None else str(detail)[:200]})

    def result(self, tool: str) -> Imported:
        ratings = pl.DataFrame(self.rows, schema=TIDY_SCHEMA) if self.rows else pl.DataFrame(schema=TIDY_SCHEMA)
        return Imported(ratings=ratings, audit=pl.DataFrame(self.audit, schema=IMPORT_AUDIT_SCHEMA), tool=tool)


def _text(score: Any) -> str | None:
    """A score as the tidy file writes it: whole numbers without ``.0``, labels as given."""
    if score is None:
        return None
    if isinstance(score, bool):
        return "true" if score else "false"
    if isinstance(score, (int, float)):
        if isinstance(score, float) and not math.isfinite(score):
            return str(score)
        return str(int(score)) if float(score).is_integer() else repr(float(score))
    return str(score)


def _slug(name: str) -> str:
    """A rater name the study file accepts (letters, digits, ``_ . + @ -``)."""
    out = "".join(c if c.isalnum() or c in "_.+@-" else "-" for c in str(name)).strip("-.") or "rater"
    return out[:100]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(path.name, f"byte {exc.start}", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DataError(path.name, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}") from None


# --- Inspect AI ------------------------------------------------------------------------

def read_inspect(paths: Iterable[str | Path], *, rater: str | None = None) -> Imported:
    """Inspect AI eval logs as ratings: one rating per sample × epoch × scorer.

    The model under evaluation is the rater (a judge eval: the dataset's samples are the
    responses to rate, the scorers parse the judge's verdict); ``rater=`` overrides it.
    A score whose value is a mapping gives one attribute per key (``scorer.key``).
    Samples that ended in an error, and scorers without a value, are excluded.
    """
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise DataError("inspect", None, "reading Inspect logs needs inspect_ai: pip install "
                        "'crisis-judge-analysis[importers]'") from None
    out = _Collector()
    for path in map(Path, paths):
        try:
            log = read_eval_log(str(path))
        except Exception as exc:  # inspect_ai raises several types for unreadable logs
            raise DataError(path.name, None, f"not a readable Inspect log: {type(exc).__name__}") from None
        who = rater or _slug(log.eval.model.split("/")[-1] if log.eval.model else "model")
        for sample in log.samples or []:
            base = f"sample {sample.id} epoch {sample.epoch}"
            if sample.error is not None:
                out.exclude(path.name, base, REASON_SAMPLE_ERROR, str(sample.error.message)[:120])
                continue
            if not sample.scores:
                out.exclude(path.name, base, REASON_NO_SCORE)
                continue
            for scorer, score in sample.scores.items():
                values = score.value if isinstance(score.value, dict) else {None: score.value}
                for key, value in values.items():
                    attribute = scorer if key is None else f"{scorer}.{key}"
                    record = f"{base} scorer {attribute}"
                    if value is None or (isinstance(value, float) and math.isnan(value)):
                        out.exclude(path.name, record, REASON_NO_SCORE)
                    elif isinstance(value, (list, dict)):
                        out.exclude(path.name, record, REASON_NOT_RATING.format(type(value).__name__), value)
                    else:
                        out.use(path.name, record, item=sample.id, rater=who, score=value, run=sample.epoch,
                                attribute=attribute)
    return out.result("inspect")


# --- promptfoo -------------------------------------------------------------------------

def _promptfoo_item(result: dict, item_var: str | None) -> str:
    variables = result.get("vars") or {}
    if item_var and item_var in variables:
        return str(variables[item_var])
    for key in ("item", "id", "item_id"):
        if key in variables:
            return str(variables[key])
    provider = (result.get("provider") or {}).get("id", "")
    prompt = (result.get("prompt") or {}).get("label", "")
    key = json.dumps([provider, prompt, variables], sort_keys=True, ensure_ascii=False)
    return "pf-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _grader(assertion: dict) -> str:
    provider = assertion.get("provider")
    if isinstance(provider, dict):
        provider = provider.get("id") or provider.get("label")
    if isinstance(provider, str) and provider:
        return _slug(Path(provider.removeprefix("file://")).stem if provider.startswith("file://") else provider)
    return _slug(f"promptfoo-{assertion.get('type', 'assertion')}")


def read_promptfoo(paths: Iterable[str | Path], *, value: str = "score", item_var: str | None = None) -> Imported:
    """promptfoo result files as ratings: one rating per result × assertion with a metric.

    ``value="score"`` takes the assertion's score (0-1 unless the grader says otherwise),
    ``value="pass"`` its pass/fail verdict (``pass``/``fail``). The rater is the grading
    provider (``provider:`` of the assertion, a ``file://`` grader by its file name) or
    ``promptfoo-<type>`` for the built-in checks; the item is the ``item`` (or ``id``)
    variable, else a key of the provider, prompt and variables. Repeats (``--repeat N``)
    of one test are runs 1..N in file order.
    """
    if value not in ("score", "pass"):
        raise ValueError(f"value must be 'score' or 'pass', not {value!r}")
    out = _Collector()
    for path in map(Path, paths):
        doc = _read_json(path)
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, dict) or not isinstance(results.get("results"), list):
            raise DataError(path.name, None, "not a promptfoo result file (no results.results list)")
        version = results.get("version")
        if version != 3:
            raise DataError(path.name, "results.version", f"format version {version!r}; this reader knows version 3")
        seen: dict[tuple, int] = {}
        for i, result in enumerate(results["results"]):
            item = _promptfoo_item(result, item_var)
            grading = result.get("gradingResult") or {}
            components = grading.get("componentResults") or []
            base = f"results[{i}]"
            if result.get("error") and not components:
                out.exclude(path.name, base, REASON_RESULT_ERROR, result.get("error"))
                continue
            if not components:
                out.exclude(path.name, base, REASON_NO_SCORE)
                continue
            for j, comp in enumerate(components):
                assertion = comp.get("assertion") or {}
                record = f"{base} assertion {j}"
                metric = assertion.get("metric")
                if not metric:
                    out.exclude(path.name, record, REASON_NO_METRIC, assertion.get("type"))
                    continue
                rater = _grader(assertion)
                key = (item, rater, metric)
                seen[key] = seen.get(key, 0) + 1
                score = comp.get("score") if value == "score" else ("pass" if comp.get("pass") else "fail")
                if score is None:
                    out.exclude(path.name, record, REASON_NO_SCORE)
                    continue
                provider = (result.get("provider") or {}).get("id")
                out.use(path.name, record, item=item, rater=rater, score=score, run=seen[key], attribute=metric,
                        source=provider)
    return out.result("promptfoo")


# --- Label Studio ----------------------------------------------------------------------

def _annotator(completed_by: Any) -> str:
    if isinstance(completed_by, dict):
        return _slug(completed_by.get("email", "").split("@")[0] or f"user-{completed_by.get('id')}")
    return _slug(f"user-{completed_by}")


def read_labelstudio(paths: Iterable[str | Path], *, item_field: str | None = None) -> Imported:
    """Label Studio JSON exports as ratings: one rating per annotation × rating result.

    ``choices`` (the first choice; several choices are excluded), ``rating`` (stars) and
    ``number`` results are ratings; other result types (text, regions) are excluded with
    their type. Cancelled annotations are excluded. The item is the task's data field
    ``item_field`` (default: ``item``, then ``id``), else the task id; the rater is the
    annotator (``completed_by``: a user id, or the user object of newer exports).
    """
    out = _Collector()
    for path in map(Path, paths):
        tasks = _read_json(path)
        if not isinstance(tasks, list):
            raise DataError(path.name, None, "not a Label Studio JSON export (expected a list of tasks)")
        for t, task in enumerate(tasks):
            if not isinstance(task, dict) or "annotations" not in task:
                raise DataError(path.name, f"task {t}", "no annotations list (is this the JSON export?)")
            data = task.get("data") or {}
            field = item_field or next((k for k in ("item", "id", "item_id") if k in data), None)
            item = data.get(field) if field else None
            item = str(item if item is not None else task.get("id", t))
            for a, ann in enumerate(task["annotations"]):
                base = f"task {task.get('id', t)} annotation {ann.get('id', a)}"
                if ann.get("was_cancelled"):
                    out.exclude(path.name, base, REASON_CANCELLED)
                    continue
                rater = _annotator(ann.get("completed_by"))
                results = ann.get("result") or []
                if not results:
                    out.exclude(path.name, base, REASON_NO_SCORE)
                for r, res in enumerate(results):
                    record = f"{base} result {res.get('id', r)}"
                    kind, val = res.get("type"), res.get("value") or {}
                    if kind == "choices" and len(val.get("choices") or []) == 1:
                        score = val["choices"][0]
                    elif kind in ("rating", "number") and val.get(kind) is not None:
                        score = val[kind]
                    else:
                        out.exclude(path.name, record, REASON_NOT_RATING.format(kind), json.dumps(val)[:80])
                        continue
                    out.use(path.name, record, item=item, rater=rater, score=score, attribute=res.get("from_name"))
    return out.result("labelstudio")


# --- wide tables -----------------------------------------------------------------------

KEY_COLUMNS = ("item", "run", "attribute", "category", "cluster", "source")


def read_wide(paths: Iterable[str | Path], *, item_column: str = "item") -> Imported:
    """A table with one column per rater (the spreadsheet most annotation rounds end in).

    ``item_column`` names the item; the standard columns ``run``, ``attribute``,
    ``category``, ``cluster`` and ``source`` are kept; every other column is a rater.
    Empty cells are excluded (``empty cell``), so every cell of a rater column has an
    audit row.
    """
    out = _Collector()
    for path in map(Path, paths):
        try:
            frame = pl.read_csv(path, infer_schema=False)
        except pl.exceptions.PolarsError:
            raise DataError(path.name, None, "not a readable CSV table") from None
        if item_column not in frame.columns:
            raise DataError(path.name, "row 1", f"no item column {item_column!r} (columns: {', '.join(frame.columns)})")
        keys = [c for c in frame.columns if c == item_column or c in KEY_COLUMNS]
        raters = [c for c in frame.columns if c not in keys]
        if not raters:
            raise DataError(path.name, "row 1", "no rater columns besides the item and standard columns")
        for i, row in enumerate(frame.iter_rows(named=True)):
            extra = {k: row.get(k) for k in ("category", "cluster", "source") if k in row}
            for rater in raters:
                record = f"row {i + 2} column {rater}"
                cell = row[rater]
                if cell is None or not str(cell).strip():
                    out.exclude(path.name, record, REASON_EMPTY)
                    continue
                run = row.get("run") or 1
                out.use(path.name, record, item=row[item_column], rater=_slug(rater), score=cell.strip(),
                        run=int(run) if str(run).strip().isdigit() else 1, attribute=row.get("attribute"), **extra)
    return out.result("wide")


READERS = {"inspect": read_inspect, "promptfoo": read_promptfoo, "labelstudio": read_labelstudio, "wide": read_wide}


def scale_guess(scores: pl.Series) -> dict:
    """What the scores look like: ``{"scale": [low, high], "integer": bool}`` when every
    score is a number, else ``{"labels": [...]}`` in first-seen order."""
    values = scores.drop_nulls().to_list()
    numbers = []
    for v in values:
        try:
            numbers.append(float(v))
        except ValueError:
            return {"labels": list(dict.fromkeys(values))}
    if not numbers:
        return {"labels": []}
    integer = all(x.is_integer() for x in numbers)
    low, high = min(numbers), max(numbers)
    if integer:
        return {"scale": [int(low), int(high)], "integer": True}
    return {"scale": [0, 1] if 0 <= low and high <= 1 else [low, high], "integer": False}


__all__ = ["TOOLS", "Imported", "read_inspect", "read_promptfoo", "read_labelstudio", "read_wide", "READERS",
           "scale_guess"]
