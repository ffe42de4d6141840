"""The tidy ratings table shared by every data set, its audit, and pivots to matrices.

Every loader returns ratings in one long format, one row per (rated response, rater,
evaluation run, attribute), so that the statistics never need to know which benchmark a
number came from. Every loader also returns an *audit* table that accounts for every
input record it read: ``used``, or ``excluded`` with a reason. Nothing is dropped
silently: a record that is neither used nor excluded is a bug.

Ratings schema (:data:`RATINGS_SCHEMA`)
---------------------------------------
dataset        data set key: ``demo``, ``bhh``, ``mentalalign``, ``dialoguesafety``
item_id        the stimulus (a user's conversation); clusters for the bootstrap
response_id    the rated response; unique per (item, answer_model, answer_run)
answer_model   the model (or ``human``) that wrote the response
answer_run     1-based generation run of that answer model (null if single run)
category       crisis / safety category of the item (null when it has no consensus)
attribute      what was rated: ``appropriateness`` (1-5) for Between Help and Harm
rater          who rated: ``H1``, ``H2``, ``gpt-4o-mini``, ...
rater_kind     ``human`` or ``llm``
eval_run       1-based evaluation run of that rater (1 for single-run raters)
score          the rating, points on the attribute's scale (1-5 unless stated)
source_file    file the rating came from, relative to the data root
source_record  where in that file (row index, cell, run), for tracing a number back

Audit schema (:data:`AUDIT_SCHEMA`)
-----------------------------------
dataset, source_file, record, rater, status, reason, detail (the offending value, or a
note). ``status`` is one of

* ``used`` with ``reason`` null: the record is in the ratings as read;
* ``used`` with a reason: used, but by a rule the reader must know about, e.g.
  :data:`REASON_KEPT_OFF_SCALE` (a value outside the scale kept because the authors'
  published numbers include it) or an answer mapped by a stated rule;
* ``excluded`` with a reason: read, and left out of the ratings;
* ``ignored`` with a reason: a file in a folder the loader reads that is not part of
  the study (:data:`REASON_NOT_PART`: no item refers to it, e.g. a stray ``800.json``,
  another split's files, a README), or that the caller did not select. One row per
  file, record ``"file"``.

A record that cannot be used *or* excluded safely (a file that cannot be parsed, rows
that do not line up) is a :class:`DataError` naming the file and record: the load stops.

Scale rules (:func:`parse_score`)
---------------------------------
Every built-in study rates on a closed integer scale (1-5). A value that is not a
number, is missing, lies off the range or off the integer grid (4.5 on an integer
scale) is excluded with its reason. Means over evaluation runs are fractional by
construction: they are derived by :func:`to_matrix`, never read as ratings.

Reading files (:func:`read_text`, :func:`read_json`)
----------------------------------------------------
Text is decoded as UTF-8 with an optional byte-order mark (``utf-8-sig``: BOM-prefixed
exports are common); bytes that are not UTF-8 are a :class:`DataError` naming the file
and the byte offset.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import polars as pl

RATINGS_SCHEMA: dict[str, pl.DataType] = {
    "dataset": pl.String,
    "item_id": pl.String,
    "response_id": pl.String,
    "answer_model": pl.String,
    "answer_run": pl.Int32,
    "category": pl.String,
    "attribute": pl.String,
    "rater": pl.String,
    "rater_kind": pl.String,
    "eval_run": pl.Int32,
    "score": pl.Float64,
    "source_file": pl.String,
    "source_record": pl.String,
}

AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "dataset": pl.String,
    "source_file": pl.String,
    "record": pl.String,
    "rater": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}

RATER_KINDS = ("human", "llm")

# Exclusion reasons shared by the loaders, so audit summaries group the same way.
REASON_MISSING = "missing score"
REASON_NOT_NUMBER = "score is not a number"
REASON_OFF_SCALE = "score outside the scale"
REASON_NO_CONSENSUS = "item has no consensus crisis label"
REASON_OFF_GRID = "score is not a whole point (the scale is integer)"
REASON_KEPT_OFF_SCALE = "off-scale kept (authors' choice)"
REASON_NOT_PART = "not part of the study"

STATUSES = ("used", "excluded", "ignored")

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""The one rule for a number written as text: decimal digits, an optional point and
exponent. Python's ``float`` also takes ``7_5`` (75.0), ``inf`` and ``nan``; a rating file
that says ``7_5`` holds a typo, not seventy-five, so those are not numbers here."""


def parse_number(text: str) -> float | None:
    """``text`` as a float when it is a decimal number by :data:`NUMBER`, else ``None``.

    >>> parse_number(" 4.0 "), parse_number("7_5"), parse_number("inf"), parse_number("1e3")
    (4.0, None, None, 1000.0)
    """
    text = text.strip()
    return float(text) if NUMBER.fullmatch(text) else None


def parse_whole(value: Any, *, low: int = 1, high: int = 1_000_000) -> int | None:
    """A whole number in ``[low, high]`` (a run, a count), from an int or decimal text; ``None``
    for anything else: booleans, fractions, ``inf``, ``7_5``, lists, numbers past ``high``.

    >>> parse_whole("3"), parse_whole(3.0), parse_whole(True), parse_whole("inf"), parse_whole(3e9)
    (3, 3, None, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        number = parse_number(value)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    else:
        return None
    if number is None or not math.isfinite(number) or number != math.floor(number) or not low <= number <= high:
        return None
    return int(number)


class DataError(ValueError):
    """Bad input that cannot be excluded safely: names the file and the record."""

    def __init__(self, source_file: str, record: str | None, message: str):
        self.source_file = str(source_file)
        self.record = record
        where = f"{source_file}" + (f", record {record}" if record is not None else "")
        super().__init__(f"{where}: {message}")


def parse_score(value: Any, scale: tuple[float, float] = (1, 5), *,
                integer: bool = False) -> tuple[float | None, str | None]:
    """Parse one raw score into a float on ``scale``, or say why it cannot be used.

    Accepts ints, floats and numeric strings (the Between Help and Harm files mix
    them). Returns ``(score, None)`` for a usable score and ``(None, reason)``
    otherwise, with ``reason`` one of :data:`REASON_MISSING`,
    :data:`REASON_NOT_NUMBER`, :data:`REASON_OFF_SCALE` and, with ``integer=True``
    (a scale of whole points), :data:`REASON_OFF_GRID`. Booleans are not numbers, and
    text is a number only by :data:`NUMBER` (no ``7_5``, ``inf`` or ``0x10``).
    The range is checked before the grid, so 7.5 on 1-5 is "outside the scale".

    Examples
    --------
    >>> parse_score("4", integer=True), parse_score(4.5, integer=True), parse_score(6)
    ((4.0, None), (None, 'score is not a whole point (the scale is integer)'), (None, 'score outside the scale'))
    """
    if value is None:
        return None, REASON_MISSING
    if isinstance(value, bool):
        return None, REASON_NOT_NUMBER
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.lower() in {"nan", "none", "null"}:
            return None, REASON_MISSING
        number = parse_number(text)
        if number is None:
            return None, REASON_NOT_NUMBER
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    else:
        return None, REASON_NOT_NUMBER
    if math.isnan(number):
        return None, REASON_MISSING
    if not math.isfinite(number):
        return None, REASON_NOT_NUMBER
    low, high = scale
    if number < low or number > high:
        return None, REASON_OFF_SCALE
    if integer and number != math.floor(number):
        return None, REASON_OFF_GRID
    return number, None


def read_text(base: Path, rel: str) -> str:
    """The text of ``base / rel``, decoded as UTF-8 with or without a byte-order mark.

    Raises
    ------
    DataError
        When the file is missing (record None, "file not found"), or holds bytes that
        are not UTF-8 (record ``"byte N"``: the offset of the first bad byte in the file,
        counting the BOM when there is one).
    """
    path = Path(base) / rel
    if not path.is_file():
        raise DataError(rel, None, f"file not found under {base}")
    data = path.read_bytes()
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise DataError(rel, f"byte {offset}", f"not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}; "
                                                f"save the file as UTF-8)") from None


def read_json(base: Path, rel: str, **kwargs: Any) -> Any:
    """A JSON file (UTF-8, optional BOM); errors name the file and the line and column."""
    text = read_text(base, rel)
    try:
        return json.loads(text, **kwargs)
    except json.JSONDecodeError as exc:
        raise DataError(rel, f"line {exc.lineno} column {exc.colno}", f"malformed JSON: {exc.msg}") from None


def list_files(base: Path, folders: Iterable[str]) -> list[str]:
    """Every file under ``base/<folder>`` (recursively) for each folder that exists, as
    paths relative to ``base``, sorted; hidden files (``.DS_Store``, editors' swap files)
    included, because a loader must account for every file it could have read."""
    out: set[str] = set()
    for folder in folders:
        root = Path(base) / folder
        if root.is_dir():
            out.update(p.relative_to(base).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(out)


@dataclass
class Audit:
    """Accumulates one audit row per input record while a loader reads its files."""

    dataset: str
    rows: list[dict[str, str | None]] = field(default_factory=list)

    def used(self, source_file: str, record: str, rater: str | None = None, detail: str | None = None,
             reason: str | None = None) -> None:
        """A used record; ``reason`` names the rule it was used by, if any (e.g.
        :data:`REASON_KEPT_OFF_SCALE`)."""
        self.rows.append(
            dict(dataset=self.dataset, source_file=str(source_file), record=str(record), rater=rater,
                 status="used", reason=reason, detail=detail)
        )

    def ignored(self, source_file: str, reason: str = REASON_NOT_PART, rater: str | None = None,
                detail: str | None = None) -> None:
        """A file the loader did not read, with why (one row per file, record ``"file"``)."""
        self.rows.append(
            dict(dataset=self.dataset, source_file=str(source_file), record="file", rater=rater,
                 status="ignored", reason=reason, detail=detail)
        )

    def excluded(self, source_file: str, record: str, reason: str, rater: str | None = None,
                 detail: str | None = None) -> None:
        self.rows.append(
            dict(dataset=self.dataset, source_file=str(source_file), record=str(record), rater=rater,
                 status="excluded", reason=reason, detail=detail)
        )

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=AUDIT_SCHEMA, orient="row")


def audit_summary(audit: pl.DataFrame) -> pl.DataFrame:
    """Counts of records per file, status and reason (what the data-audit notebook shows)."""
    return (
        audit.group_by(["dataset", "source_file", "status", "reason"], maintain_order=False)
        .agg(pl.len().alias("n_records"))
        .sort(["dataset", "source_file", "status", "reason"], nulls_last=False)
    )


def empty_ratings() -> pl.DataFrame:
    return pl.DataFrame(schema=RATINGS_SCHEMA)


def make_ratings(rows: Iterable[dict[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    """Build a ratings frame with exactly :data:`RATINGS_SCHEMA` (columns, order, dtypes)."""
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(list(rows), schema=RATINGS_SCHEMA, orient="row")
    missing = [c for c in RATINGS_SCHEMA if c not in frame.columns]
    if missing:
        raise ValueError(f"ratings frame lacks columns {missing}")
    frame = frame.select([pl.col(c).cast(t) for c, t in RATINGS_SCHEMA.items()])
    validate_ratings(frame)
    return frame


def validate_ratings(ratings: pl.DataFrame) -> None:
    """Check schema, rater kinds, non-null scores and uniqueness of each rating.

    Raises
    ------
    ValueError
        On a schema mismatch, or a duplicated (dataset, response_id, attribute, rater,
        eval_run) key, naming the first duplicated record and its source.
    """
    schema = dict(ratings.schema)
    for col, dtype in RATINGS_SCHEMA.items():
        if col not in schema:
            raise ValueError(f"ratings frame lacks column {col!r}")
        if schema[col] != dtype:
            raise ValueError(f"ratings column {col!r} has dtype {schema[col]}, expected {dtype}")
    bad_kind = ratings.filter(~pl.col("rater_kind").is_in(list(RATER_KINDS)))
    if bad_kind.height:
        raise ValueError(f"unknown rater_kind {bad_kind['rater_kind'][0]!r}; expected one of {RATER_KINDS}")
    if ratings["score"].null_count() or ratings["score"].is_nan().any():
        raise ValueError("ratings contain null/NaN scores: loaders must exclude them through the audit")
    key = ["dataset", "response_id", "attribute", "rater", "eval_run"]
    dup = ratings.filter(pl.struct(key).is_duplicated())
    if dup.height:
        first = dup.row(0, named=True)
        raise DataError(
            first["source_file"], first["source_record"],
            f"duplicated rating of response {first['response_id']!r} by {first['rater']!r} "
            f"(eval_run {first['eval_run']}, attribute {first['attribute']!r}); {dup.height} rows share such keys",
        )


@dataclass(frozen=True)
class RatingMatrix:
    """An ``n_items x k_raters`` matrix of scores with its row and column labels.

    ``values[i, j]`` is rater ``raters[j]``'s score of ``index[i]`` (mean over that
    rater's evaluation runs unless ``runs`` was chosen otherwise); NaN where missing.
    ``clusters[i]`` is the ``item_id`` that row belongs to (for cluster bootstraps).
    """

    values: np.ndarray
    index: tuple[str, ...]
    raters: tuple[str, ...]
    clusters: tuple[str, ...]

    def complete(self) -> tuple["RatingMatrix", int]:
        """Rows with a score from every rater, and the number of rows dropped."""
        keep = ~np.isnan(self.values).any(axis=1)
        sub = RatingMatrix(
            values=self.values[keep],
            index=tuple(np.asarray(self.index, dtype=object)[keep]),
            raters=self.raters,
            clusters=tuple(np.asarray(self.clusters, dtype=object)[keep]),
        )
        return sub, int((~keep).sum())

    def cluster_codes(self) -> np.ndarray:
        """Integer codes 0..n_clusters-1 of ``clusters`` in order of first appearance."""
        _, first, codes = np.unique(np.asarray(self.clusters, dtype=object), return_index=True,
                                    return_inverse=True)
        # Renumber by first appearance so codes do not depend on string sort order.
        order = np.argsort(np.argsort(first))
        return order[codes]


def to_matrix(
    ratings: pl.DataFrame,
    raters: Sequence[str],
    *,
    index: str = "response_id",
    attribute: str | None = None,
    runs: str = "mean",
) -> RatingMatrix:
    """Pivot tidy ratings to the ``n_items x k_raters`` matrix the statistics take.

    Parameters
    ----------
    ratings
        Tidy ratings (:data:`RATINGS_SCHEMA`).
    raters
        Column order of the matrix. A rater absent from ``ratings`` is an error.
    index
        Row key, ``response_id`` (default) or ``item_id``.
    attribute
        Keep only this attribute; required when ``ratings`` holds several.
    runs
        ``"mean"``: a rater's score is the mean over its evaluation runs (the authors'
        ``evaluation`` field); ``"first"``: evaluation run 1 only.

    Returns
    -------
    RatingMatrix
        Rows sorted by ``index``; NaN where a rater did not score a row. Use
        :meth:`RatingMatrix.complete` to keep complete rows and learn how many were dropped.
    """
    if attribute is not None:
        ratings = ratings.filter(pl.col("attribute") == attribute)
    attrs = ratings["attribute"].unique().to_list()
    if len(attrs) > 1:
        raise ValueError(f"ratings hold several attributes {sorted(attrs)}; pass attribute=")
    absent = [r for r in raters if r not in set(ratings["rater"].unique().to_list())]
    if absent:
        raise ValueError(f"raters {absent} have no ratings; present: {sorted(ratings['rater'].unique().to_list())}")
    sub = ratings.filter(pl.col("rater").is_in(list(raters)))
    if runs == "first":
        sub = sub.filter(pl.col("eval_run") == 1)
    elif runs != "mean":
        raise ValueError(f"runs must be 'mean' or 'first', not {runs!r}")
    clusters = sub.group_by(index).agg(pl.col("item_id").n_unique().alias("n"), pl.col("item_id").first())
    if index != "item_id" and (clusters["n"] > 1).any():
        raise ValueError(f"some {index} values map to several item_id values")
    cell = sub.group_by([index, "rater"]).agg(pl.col("score").mean())
    wide = cell.pivot(on="rater", index=index, values="score").sort(index)
    for r in raters:
        if r not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(r))
    wide = wide.join(clusters.select(index, "item_id"), on=index, how="left") if index != "item_id" else \
        wide.with_columns(pl.col("item_id").alias("__cluster"))
    cluster_col = "item_id" if index != "item_id" else "__cluster"
    values = wide.select([pl.col(r).cast(pl.Float64) for r in raters]).to_numpy().astype(float)
    return RatingMatrix(
        values=np.ascontiguousarray(values),
        index=tuple(wide[index].to_list()),
        raters=tuple(raters),
        clusters=tuple(wide[cluster_col].to_list()),
    )
