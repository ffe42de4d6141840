"""Studies that users bring: a tidy ratings file and a study file (TOML) beside it.

The ratings file (CSV or parquet) has one row per rating. Standard columns:

========== ======== ==================================================================
column     required meaning
========== ======== ==================================================================
item       yes      the rated thing (a response); each rater rates it at most once per run
rater      yes      who rated: a reference (human or gold) or an evaluator (LLM judge)
score      yes      the rating: a number on the study's scale, or one of its labels
run        no       evaluation run of that rater (1, 2, ...); default 1
category   no       category of the item (e.g. crisis category): per-category tables
cluster    no       what the items nest in (e.g. the conversation): bootstraps resample it
source     no       the system that produced the item: self-preference, per-source tables
attribute  no       what was rated, when several attributes were rated
length     no       the item's length (characters, words, tokens: any unit, > 0): the length
                    terms of the bias models (points per doubling)
========== ======== ==================================================================

The study file (TOML)::

    name = "my-judges"            # reports/<name>/..., figures/<name>/...
    ratings = "ratings.csv"       # relative to this file; .csv or .parquet
    scale = [1, 5]                # closed range; fractions allowed unless integer = true
    integer = true                # optional (default false)
    # labels = ["safe", "unsafe"] # instead of scale: a nominal study
    references = ["H1", "H2"]     # human or gold raters; every other rater is an evaluator
    jury = ["judge-a", "judge-b"] # optional: adds evaluator "jury" = mean of these
    attribute = "appropriateness" # optional: analyse only this attribute (default: every attribute,
                                  # each analysed on its own, plus a cross-attribute overview)
    design = "random"             # optional: how the references' items were chosen: "random", "all"
                                  # or "selected" (then design_rule = "how"); default: random, assumed
    # design_rule = "the answer judge-a scored lowest, per conversation"   # for design = "selected"
    # strata = "category"         # for a stratified random sample: the standard column (category or source)
    low_label = "poor"            # optional: what a low score means, in the pages' words ("harmful",
                                  # "unsafe", "poor"; default "low"): "% rated poor (<= 2)"
    score_label = "quality"       # optional: what the score measures ("appropriateness"; default "score")
    [columns]                     # optional: standard name = the file's column
    item = "response_id"
    [own_source]                  # optional: evaluator = the source of its own model family
    judge-a = "model-a"
    [scales]                      # optional: raters scoring on their own scale, mapped onto the study's
    judge-x = { scale = [0, 10], map = "linear" }            # low -> low, high -> high, linear between
    judge-y = { scale = [1, 3], map = { "1" = 1, "2" = 3, "3" = 5 } }   # a table: every point of its scale
    llm-0-10 = { raters = ["judge-p", "judge-q"], scale = [0, 10], map = "linear" }   # a group of raters

A rater's own scale is checked as the study scale is (range, ``integer`` grid unless
the entry says ``integer = false``); its scores are then mapped onto the study scale
and analysed as if the rater had written them there (the audit keeps what it wrote).
A rater with no entry whose scores are mostly outside the study scale is an error that
suggests the entry (one line), not a pile of per-row exclusions.

Validation (:func:`validate`) names every problem with its row number (1-based, the
header is row 1 of a CSV file; data rows start at 2) or its key. Problems are
*errors* (the study cannot be analysed: unknown keys, missing columns, duplicated
ratings, absent references, unsafe names, ...) or *exclusions* (a rating that cannot be
used: not a number, off the scale, not on the integer grid, a label not in the list),
which are also rows of the audit with their reason. Nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analysis.data.study_data import RatingsBacked
from analysis.data.ratings import (AUDIT_SCHEMA, REASON_MISSING, DataError, make_ratings, parse_score,
                                   parse_whole)
from analysis.stats.pairwise import VERDICTS as PAIRWISE_VERDICTS
from analysis.stats.sampling import DESIGN_KINDS, SamplingDesign

STANDARD_COLUMNS = ("item", "rater", "score", "run", "category", "cluster", "source", "attribute", "length")
REQUIRED_COLUMNS = ("item", "rater", "score")
KEYS = ("name", "ratings", "scale", "integer", "labels", "references", "jury", "attribute", "columns",
        "own_source", "title", "description", "ratings_outside_study_folder", "design", "design_rule", "strata",
        "scales", "kind", "verdicts", "positive", "low_label", "score_label", "references_are")
STRATA_COLUMNS = ("category", "source")
"""The standard columns a stratified random design may be stratified by."""
REASON_UNKNOWN_LABEL = "label not in the study's labels"
JURY = "jury"
"""The name of the jury evaluator: the mean of a study's jury members."""
HUMAN_MEAN = "human_mean"
"""The name of the references' mean in the evaluator-vs-reference tables."""
RESERVED_RATERS = (JURY, HUMAN_MEAN)
"""Rater names the analysis itself creates: a rater of the data with one of these names
would be confused with them (its numbers would replace the derived ones)."""
MAX_NAME = 100
"""Names become folder and file names (255 bytes at most on common file systems, with
suffixes added): longer names are refused."""
MAX_LISTED = 5
"""A problem found on many rows is one line: the first rows and a count of the rest."""


def active_jury(jury: tuple[str, ...], evaluators: tuple[str, ...]) -> tuple[str, ...]:
    """The jury a study uses: its declared members when every one of them is among the
    evaluators found in the data, else none (a partial jury would be another jury)."""
    return tuple(jury) if jury and all(j in evaluators for j in jury) else ()


SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@-]*")
"""Study and rater names become folder names and HTML text: letters, digits and ``_ . + @ -``
(no ``/``, no spaces, no ``..``, no control characters, nothing HTML would interpret),
matched whole (``fullmatch``: a trailing newline is not accepted), at most :data:`MAX_NAME`
characters, and not ending in ``.html`` (the reports folder's index is ``index.html``)."""


def _rows(where: str, rows: list) -> str:
    """``"row 2"``, ``"rows 2, 3, 4"`` or ``"rows 2, 3, 4, 5, 6 and 599,990 more"``: a bounded list of rows."""
    head = ", ".join(map(str, rows[:MAX_LISTED]))
    more = f" and {len(rows) - MAX_LISTED:,} more" if len(rows) > MAX_LISTED else ""
    return f"{where}{'s' if len(rows) > 1 else ''} {head}{more}"


def _short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error line never carries a whole cell."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class StudyFileError(ValueError):
    """A study that cannot be analysed; ``problems`` lists every error found."""

    def __init__(self, path, problems: list[str]):
        self.path, self.problems = str(path), list(problems)
        super().__init__(f"{path}: " + ("; ".join(problems) if len(problems) <= 3 else
                                        f"{len(problems)} problems, first: " + "; ".join(problems[:3])))


@dataclass(frozen=True)
class StudyFile:
    """A parsed, checked study file."""

    path: Path
    name: str
    ratings: Path
    references: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    integer: bool = False
    labels: tuple[str, ...] = ()
    jury: tuple[str, ...] = ()
    attribute: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    own_source: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    design: SamplingDesign = SamplingDesign("random", declared=False)
    scales: dict[str, "RaterScale"] = field(default_factory=dict)
    """Raters (by name) scoring on their own scale, with the mapping onto the study scale."""
    references_are: str = "raters"
    """``raters``: each reference is one person throughout (two-way ICC forms); ``slots``:
    interchangeable raters, a different person per item (crowd workers: one-way ICC(1,·))."""
    kind: str | None = None
    """``pairwise`` or ``binary`` (:func:`_read_kind`); None: scored or labelled, from ``scale``/``labels``."""
    verdicts: dict[str, str] = field(default_factory=dict)
    positive: str | None = None
    low_label: str = "low"
    score_label: str = "score"

    @property
    def nominal(self) -> bool:
        return bool(self.labels)


@dataclass(frozen=True)
class TidyData(RatingsBacked):
    """A user study, in the shape the notebooks take (like :class:`analysis.data.bhh.BHHData`).

    ``ratings`` follow :data:`analysis.data.ratings.RATINGS_SCHEMA` (``response_id`` = the
    file's ``item``; ``item_id`` = its ``cluster``, or the item itself; ``answer_model`` =
    ``source``; ``eval_run`` = ``run``; nominal scores are label indices 0..L-1 into
    ``labels``). ``responses`` has the file's ``length`` of each item (null without the
    column). ``review_set`` holds the items a reference rated; ``problems`` every
    validation finding; ``audit`` one row per input row.
    """

    study: StudyFile
    items: pl.DataFrame
    responses: pl.DataFrame
    ratings: pl.DataFrame
    review_set: pl.DataFrame
    audit: pl.DataFrame
    evaluators: tuple[str, ...]
    own_answer_model: dict[str, str | None]
    present: frozenset[str]
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """What was read by a stated rule rather than as written (IDs with surrounding spaces)."""

    @property
    def labels(self) -> tuple[str, ...]:
        return self.study.labels

    @property
    def references(self) -> tuple[str, ...]:
        return self.study.references

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attributes analysed, sorted (one: the file has no attribute column, one
        attribute, or the study file selects one)."""
        return tuple(sorted(self.ratings["attribute"].unique().to_list()))

    crisis_labels = truth = property(lambda self: None)

    @property
    def predictions(self) -> pl.DataFrame:
        """Nominal studies: every evaluator rating beside the first reference's label of the
        same item, in the shape of :class:`analysis.data.dialoguesafety.DialogueSafetyData`
        (``item`` an integer code, ``system``, ``run``, ``predicted`` and ``gold`` label
        indices). Items the reference did not label are left out."""
        if not self.study.nominal:
            raise ValueError(f"{self.study.name} is not a nominal study (it has a scale, not labels)")
        gold = (self.ratings.filter(pl.col("rater") == self.study.references[0])
                .group_by("response_id").agg(pl.col("score").first().cast(pl.Int64).alias("gold")))
        codes = gold.sort("response_id").with_row_index("item").with_columns(pl.col("item").cast(pl.Int64))
        pred = self.ratings.filter(pl.col("rater").is_in(list(self.evaluators)))
        return (pred.join(codes, on="response_id", how="inner")
                .select("item", pl.col("rater").alias("system"), pl.col("eval_run").cast(pl.Int64).alias("run"),
                        pl.col("score").cast(pl.Int64).alias("predicted"), "gold",
                        pl.lit(None, pl.String).alias("answer"), pl.lit(None, pl.String).alias("finish_reason"),
                        "source_file")
                .sort("system", "run", "item"))


def _safe(name: Any) -> bool:
    return (isinstance(name, str) and len(name) <= MAX_NAME and bool(SAFE_NAME.fullmatch(name)) and ".." not in name
            and not name.lower().endswith(".html"))


def _words(raw: dict, problems: list[str]) -> dict[str, str]:
    """The study's vocabulary keys (``low_label``, ``score_label``), checked: short plain words."""
    out = {}
    for key in ("low_label", "score_label"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip() or len(value) > 40 or "\n" in value:
                problems.append(f"key {key!r}: expected a short word or phrase (at most 40 characters), got {value!r}")
            else:
                out[key] = value.strip()
    return out


def read_study_file(path: str | Path) -> StudyFile:
    """Parse and check a study file; :class:`StudyFileError` lists every problem found."""
    path = Path(path)
    if not path.is_file():
        raise StudyFileError(path, ["file not found"])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise StudyFileError(path, [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(path, [f"not valid TOML: {exc}"]) from None
    problems = [f"key {k!r}: unknown key (known: {', '.join(KEYS)})" for k in raw if k not in KEYS]
    for k in ("name", "ratings", "references"):
        if k not in raw:
            problems.append(f"key {k!r}: required")
    name = raw.get("name")
    if name is not None and not _safe(name):
        problems.append(f"key 'name': {_short(name)} is not a safe name (letters, digits, _ . + @ -, at most "
                        f"{MAX_NAME} characters, not ending in .html; it becomes a folder name and report text)")
    kind, verdicts, positive = _read_kind(raw, problems)
    if kind == "pairwise":  # the verdicts are the labels (a scale or labels given are reported by _read_kind)
        raw = {**{k: v for k, v in raw.items() if k not in ("scale", "labels")}, "labels": list(PAIRWISE_VERDICTS)}
    if ("scale" in raw) == ("labels" in raw):
        problems.append("keys 'scale'/'labels': give exactly one (scale = [low, high], or labels = [...])")
    low = high = None
    if "scale" in raw:
        sc = raw["scale"]
        if (not isinstance(sc, list) or len(sc) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in sc)
                or sc[0] >= sc[1]):
            problems.append(f"key 'scale': expected [low, high], two finite numbers with low < high, got {sc!r}")
        else:
            low, high = float(sc[0]), float(sc[1])
    labels = raw.get("labels", [])
    if "labels" in raw and (not isinstance(labels, list) or not labels or not all(isinstance(v, str) for v in labels)
                            or len(set(labels)) != len(labels)):
        problems.append(f"key 'labels': expected a list of distinct strings, got {labels!r}")
    integer = raw.get("integer", False)
    if not isinstance(integer, bool):
        problems.append(f"key 'integer': expected true or false, got {integer!r}")
    refs = raw.get("references", [])
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        problems.append(f"key 'references': expected a non-empty list of rater names, got {refs!r}")
        refs = []
    elif len(set(refs)) != len(refs):
        problems.append(f"key 'references': {sorted({r for r in refs if refs.count(r) > 1})} listed twice")
        refs = list(dict.fromkeys(refs))
    jury = raw.get("jury", [])
    if not isinstance(jury, list) or not all(isinstance(r, str) for r in jury) or len(jury) == 1:
        problems.append(f"key 'jury': expected a list of two or more evaluator names, got {jury!r}")
        jury = []
    elif len(set(jury)) != len(jury):
        problems.append(f"key 'jury': {sorted({j for j in jury if jury.count(j) > 1})} listed twice (a jury member "
                        f"counts once)")
        jury = list(dict.fromkeys(jury))
    if set(jury) & set(refs):
        problems.append(f"key 'jury': references {sorted(set(jury) & set(refs))} cannot be jury members")
    for r in [*refs, *jury]:
        if not _safe(r):
            problems.append(f"rater name {_short(r)} is not a safe name")
    for r in sorted(set(refs + jury) & set(RESERVED_RATERS)):
        problems.append(f"rater name {r!r} is reserved (the analysis derives {', '.join(RESERVED_RATERS)}); rename it")
    columns = raw.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        problems.append("table [columns]: expected standard name = \"file column\" pairs")
        columns = {}
    known_columns = PAIRWISE_COLUMNS if kind == "pairwise" else STANDARD_COLUMNS
    for k in columns:
        if k not in known_columns:
            problems.append(f"key 'columns.{k}': unknown standard column (known: {', '.join(known_columns)})")
    mapped = list(columns.values())
    for col in sorted({c for c in mapped if mapped.count(c) > 1}):
        problems.append(f"table [columns]: file column {col!r} is mapped to several standard columns "
                        f"({', '.join(k for k, v in columns.items() if v == col)})")
    own = raw.get("own_source", {})
    if not isinstance(own, dict) or not all(isinstance(v, str) for v in own.values()):
        problems.append("table [own_source]: expected evaluator = \"source\" pairs")
        own = {}
    ratings = raw.get("ratings")
    outside = raw.get("ratings_outside_study_folder", False)
    if not isinstance(outside, bool):
        problems.append(f"key 'ratings_outside_study_folder': expected true or false, got {outside!r}")
        outside = False
    target = None
    if ratings is not None and not isinstance(ratings, str):
        problems.append(f"key 'ratings': expected a .csv or .parquet file name, got {_short(ratings)}")
    elif ratings is not None:
        # Resolve links first: the suffix and the folder that count are those of the file read.
        target = (path.parent / ratings).resolve()
        if target.suffix.lower() not in (".csv", ".parquet"):
            problems.append(f"key 'ratings': expected a .csv or .parquet file, got {ratings!r}"
                            + (f" (a link to a {target.suffix or 'suffix-less'} file)" if target.name != Path(ratings).name
                               else ""))
        elif not outside and not target.is_relative_to(path.parent.resolve()):
            problems.append(f"key 'ratings': {ratings!r} is outside the study file's folder; move it there, or say "
                            f"ratings_outside_study_folder = true")
    attribute = raw.get("attribute")
    if attribute is not None and not isinstance(attribute, str):
        problems.append(f"key 'attribute': expected a string, got {attribute!r}")
    design = _read_design(raw, problems)
    scales = _read_scales(raw, low, high, integer if isinstance(integer, bool) else False, bool(labels), problems)
    words = _words(raw, problems)
    references_are = raw.get("references_are", "raters")
    if references_are not in ("raters", "slots"):
        problems.append(f"key 'references_are': expected \"raters\" (the same person in each reference column) or "
                        f"\"slots\" (interchangeable raters, one-way ICC), got {references_are!r}")
    if problems:
        raise StudyFileError(path, problems)
    return StudyFile(path=path.resolve(), name=name, ratings=target, references=tuple(refs),
                     low=low, high=high, integer=integer, labels=tuple(labels), jury=tuple(jury),
                     attribute=attribute, columns=dict(columns), own_source=dict(own), title=raw.get("title"),
                     design=design, scales=scales, kind=kind, verdicts=verdicts, positive=positive,
                     references_are=references_are, **words)


# --- per-rater scales (the [scales] table) ---------------------------------------------

MAX_MAP_POINTS = 1000
"""A linear map onto an integer study scale is checked point by point: at most this many."""


@dataclass(frozen=True)
class RaterScale:
    """A rater's own scale ``[low, high]`` (``integer``: whole points only) and its map onto
    the study scale: ``"linear"`` (``low`` to the study's low, ``high`` to its high,
    straight between: ``y = L + (x - low) (H - L) / (high - low)``) or a table
    ``{rater point: study value}`` covering every whole point of the rater's scale."""

    low: float
    high: float
    integer: bool
    table: tuple[tuple[float, float], ...] = ()

    @property
    def linear(self) -> bool:
        return not self.table

    def describe(self) -> str:
        how = "linearly" if self.linear else "by its table"
        return f"{self.low:g}–{self.high:g}{' (integers)' if self.integer else ''}, mapped {how}"

    def to_study(self, x: float, low: float, high: float) -> float:
        """``x`` (a score on this scale) on the study scale ``[low, high]``."""
        if self.table:
            return dict(self.table)[x]
        return low + (x - self.low) * (high - low) / (self.high - self.low)


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _read_scales(raw: dict, low, high, integer: bool, nominal: bool, problems: list[str]) -> dict[str, RaterScale]:
    """The ``[scales]`` table, by rater: rater = { scale = [low, high], map = "linear" |
    { "point" = value, ... }, integer = true|false (default: the study's) }, or group =
    { raters = ["a", "b"], scale = ..., map = ... }; problems are appended."""
    table = raw.get("scales", {})
    if not table:
        return {}
    if nominal:
        problems.append("table [scales]: a labelled study has no scale to map onto (scales are for scored studies)")
        return {}
    if not isinstance(table, dict):
        problems.append("table [scales]: expected rater = { scale = [low, high], map = \"linear\" } entries")
        return {}
    out = {}
    for label, entry in table.items():
        key = f"key 'scales.{label}'"
        if not isinstance(entry, dict) or set(entry) - {"scale", "map", "integer", "raters"} \
                or not {"scale", "map"} <= set(entry):
            problems.append(f"{key}: expected {{ scale = [low, high], map = \"linear\" }} or {{ scale = [low, high], "
                            f"map = {{ \"point\" = value, ... }} }} (optional integer = true/false, raters = [...] "
                            f"for a group), got {_short(entry, 80)}")
            continue
        # The key is the rater, or (with raters = [...]) the name of a group of raters.
        members = entry.get("raters", [label])
        if not isinstance(members, list) or not members or not all(_safe(m) for m in members):
            problems.append(f"{key}: {_short(members)} is not a rater name or a list of safe rater names")
            continue
        twice = sorted(set(members) & set(out))
        if twice:
            problems.append(f"{key}: rater(s) {', '.join(twice)} already have a scale under [scales]")
            continue
        sc = entry["scale"]
        bounds = [_number(v) for v in sc] if isinstance(sc, list) and len(sc) == 2 else [None]
        if None in bounds or bounds[0] >= bounds[1]:
            problems.append(f"{key}: scale: expected [low, high], two finite numbers with low < high, got {_short(sc)}")
            continue
        r_int = entry.get("integer", integer)
        if not isinstance(r_int, bool):
            problems.append(f"{key}: integer: expected true or false, got {_short(r_int)}")
            continue
        rlow, rhigh = bounds
        mapping = entry["map"]
        if low is None or high is None:
            continue  # the study scale's own problem is reported already
        points = (list(range(math.ceil(rlow), math.floor(rhigh) + 1))
                  if r_int and rhigh - rlow <= MAX_MAP_POINTS else None)
        if mapping == "linear":
            rs = RaterScale(rlow, rhigh, r_int)
            if integer:
                off = [p for p in points or () if rs.to_study(p, low, high) != round(rs.to_study(p, low, high))]
                if points is None or off:
                    example = f" ({off[0]} -> {rs.to_study(off[0], low, high):g})" if off else ""
                    problems.append(f"{key}: the linear map of {rlow:g}–{rhigh:g} onto the integer scale {low:g}–"
                                    f"{high:g} gives fractions{example}; give a table map = {{ \"point\" = value, "
                                    f"... }}, or say integer = false for the study")
                    continue
            out |= dict.fromkeys(members, rs)
        elif isinstance(mapping, dict):
            pairs, bad = [], []
            for k, v in mapping.items():
                try:
                    point = float(k)
                except ValueError:
                    point = None
                value = _number(v)
                if point is None or not rlow <= point <= rhigh or value is None or not low <= value <= high \
                        or (integer and value != round(value)):
                    bad.append(f"{k!r} = {_short(v)}")
                else:
                    pairs.append((point, value))
            if bad:
                problems.append(f"{key}: map: {', '.join(bad[:MAX_LISTED])}: a key must be a point of {rlow:g}–"
                                f"{rhigh:g} (as a string) and a value a {'whole ' if integer else ''}point of the "
                                f"study scale {low:g}–{high:g}")
                continue
            if points is None:
                problems.append(f"{key}: a table map needs a whole-point scale of at most {MAX_MAP_POINTS} points "
                                f"(integer = true); use map = \"linear\" otherwise")
                continue
            missing = [p for p in points if p not in dict(pairs)]
            if missing:
                problems.append(f"{key}: map: no value for the point(s) {', '.join(map(str, missing[:MAX_LISTED]))} "
                                f"of {rlow:g}–{rhigh:g}; map every point")
                continue
            out |= dict.fromkeys(members, RaterScale(rlow, rhigh, r_int, tuple(sorted(pairs))))
        else:
            problems.append(f"{key}: map: expected \"linear\" or a table {{ \"point\" = value, ... }}, got "
                            f"{_short(mapping)}")
    return out


def _scale_problems(frame: pl.DataFrame, study: StudyFile, rel: str) -> tuple[list[str], set[str], list[str]]:
    """Raters whose scores are mostly (more than half of their non-missing scores) outside
    their scale: the study's, or the one declared under ``[scales]``. Returns the errors
    (one line per rater, suggesting the ``[scales]`` entry), the raters they concern (their
    per-row exclusions are then left out: the error says it all), and notes on the
    declared scales used. ``frame`` has columns ``rater``, ``score``, ``reason``."""
    from analysis.data.ratings import REASON_OFF_SCALE, parse_number

    errors, raters, notes = [], set(), []
    if study.nominal:
        return errors, raters, notes
    for r in study.scales:
        if not (frame["rater"] == r).any():
            errors.append(f"key 'scales': no rater {r!r} in {rel}")
    stats = (frame.filter(pl.col("reason").is_null() | (pl.col("reason") == REASON_OFF_SCALE))
             .group_by("rater").agg(pl.len().alias("n"), (pl.col("reason") == REASON_OFF_SCALE).sum().alias("off"),
                                    pl.col("score").filter(pl.col("reason") == REASON_OFF_SCALE).alias("values"))
             .sort("rater"))
    for r, n, off, values in stats.iter_rows():
        if r is None:
            continue
        if r in study.scales and off * 2 <= n:
            notes.append(f"rater {r!r}: {n - off:,} scores on its own scale {study.scales[r].describe()} onto "
                         f"{study.low:g}–{study.high:g}")
        if off * 2 <= n:
            continue
        nums = [x for x in (parse_number(str(v).strip()) if isinstance(v, str) else _number(v) for v in values)
                if x is not None and math.isfinite(x)]
        span = f"{min(nums):g}–{max(nums):g}" if nums else "?"
        raters.add(r)
        if r in study.scales:
            rs = study.scales[r]
            errors.append(f"{rel}: rater {r!r}: {off:,} of {n:,} scores outside its declared scale {rs.low:g}–"
                          f"{rs.high:g} (they run {span}); correct key 'scales.{r}'")
        else:
            lo = min(math.floor(min(nums)), math.floor(study.low)) if nums else 0
            hi = max(math.ceil(max(nums)), math.ceil(study.high)) if nums else 10
            errors.append(f"{rel}: rater {r!r}: {off:,} of {n:,} scores outside the scale {study.low:g}–"
                          f"{study.high:g} (they run {span}): it rates on its own scale; declare it and its "
                          f"mapping, e.g. [scales] {r} = {{ scale = [{lo}, {hi}], map = \"linear\" }}")
    return errors, raters, notes


def _read_design(raw: dict, problems: list[str]) -> SamplingDesign:
    """The keys ``design``, ``design_rule`` and ``strata`` as a :class:`SamplingDesign`
    (``random``, not declared, when the file has none of them); problems are appended."""
    kind, rule, strata = raw.get("design"), raw.get("design_rule", ""), raw.get("strata")
    if kind is None and not rule and strata is None:
        return SamplingDesign("random", declared=False)
    ok = True
    if kind not in DESIGN_KINDS:
        problems.append(f"key 'design': expected one of {', '.join(map(repr, DESIGN_KINDS))}, got {_short(kind)}")
        ok = False
    if not isinstance(rule, str):
        problems.append(f"key 'design_rule': expected a sentence (a string), got {_short(rule)}")
        ok = False
    elif kind == "selected" and not rule.strip():
        problems.append("key 'design_rule': design = \"selected\" needs the rule that chose the rated items")
        ok = False
    elif rule and kind != "selected":
        problems.append(f"key 'design_rule': only for design = \"selected\" (design is {_short(kind)})")
        ok = False
    if strata is not None and (kind != "random" or strata not in STRATA_COLUMNS):
        problems.append(f"key 'strata': for design = \"random\" only, one of {', '.join(STRATA_COLUMNS)}; "
                        f"got {_short(strata)} with design {_short(kind)}")
        ok = False
    return SamplingDesign(kind, rule=rule, strata=strata) if ok else SamplingDesign("random", declared=False)


def _map_columns(frame: pl.DataFrame, study: "StudyFile", standard, required, rel: str) -> tuple[dict, list[str]]:
    """The file's columns renamed to the standard ones (``[columns]`` maps them) and the
    errors: a mapped column that is absent, a required one missing, or a map onto a name
    the file also has as a column of its own (two columns would mean one thing)."""
    rename, errors = {}, []
    for std in standard:
        col = study.columns.get(std, std)
        if std in study.columns and col != std and std in frame.columns and col in frame.columns:
            errors.append(f"key 'columns.{std}': {rel} has a column {std!r} besides {col!r}; rename or drop one so "
                          f"that {std!r} means one column")
        elif col in frame.columns:
            rename[col] = std
        elif std in study.columns:
            errors.append(f"key 'columns.{std}': column {col!r} is not in {rel} (columns: {', '.join(frame.columns)})")
        elif std in required:
            errors.append(f"{rel}: required column {std!r} missing (columns: {', '.join(frame.columns)}; map yours "
                          f"under [columns])")
    return rename, errors


def _csv_problem(path: Path) -> str:
    """Where a CSV file that polars refused goes wrong: the first row whose number of
    fields differs from the header's, or the row where an unterminated quote starts.
    The message names rows and counts, never the file's contents."""
    import csv

    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return "empty CSV file"
            for row in reader:
                if len(row) != len(header) and row:
                    return (f"row {reader.line_num}: {len(row)} fields, the header has {len(header)} (a stray or "
                            f"missing separator?)")
        except csv.Error:
            return f"row {reader.line_num + 1}: unterminated quote or a quote inside an unquoted field"
    return "not a readable CSV table"


def _read_table(study: StudyFile) -> pl.DataFrame:
    path = study.ratings
    if not path.is_file():
        raise StudyFileError(study.path, [f"key 'ratings': {path} not found"])
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            text = path.read_bytes()
            try:
                text.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise StudyFileError(study.path, [f"{path.name}: not UTF-8 text (byte {exc.start})"]) from None
            header = pl.read_csv(path, n_rows=0, infer_schema=False, encoding="utf8-lossy").columns
            twice = sorted({c.rsplit("_duplicated_", 1)[0] for c in header if "_duplicated_" in c})
            if twice:
                raise StudyFileError(study.path, [f"{path.name}, row 1: column(s) {', '.join(map(repr, twice))} "
                                                  f"appear more than once in the header"])
            # Every column as text: scores are parsed and checked row by row, so that a
            # bad value is named with its row instead of failing the whole read.
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except StudyFileError:
        raise
    except pl.exceptions.PolarsError:
        # polars' message quotes the offending line: a file's contents never reach the terminal.
        where = _csv_problem(path) if path.suffix.lower() == ".csv" else "not a readable parquet file"
        raise StudyFileError(study.path, [f"{path.name}: cannot be read: {where}"]) from None
    except OSError as exc:
        raise StudyFileError(study.path, [f"{path.name}: cannot be read: {exc.strerror or type(exc).__name__}"]) from None
    if frame.height == 0:
        raise StudyFileError(study.path, [f"{path.name}: no rows"])
    nested = [c for c, t in frame.schema.items() if t.is_nested() or t == pl.Object]
    if nested:
        raise StudyFileError(study.path, [f"{path.name}: column(s) {', '.join(map(repr, nested))} hold lists or "
                                          f"structs; every cell must be one value"])
    return frame


def _parse(value: Any, study: StudyFile, rater: str | None = None) -> tuple[float | None, str | None]:
    """A score (or label index) and no reason, or None and the reason it is excluded;
    a ``rater`` with its own scale (``[scales]``) is checked on it, then mapped.

    Scores follow the loaders' rules (:func:`analysis.data.ratings.parse_score`); a user's
    CSV may also write a missing score as ``NA`` (R's export)."""
    if value is None:
        return None, REASON_MISSING
    if study.nominal:
        text = str(value).strip()
        if text == "":
            return None, REASON_MISSING
        return (float(study.labels.index(text)), None) if text in study.labels else (None, REASON_UNKNOWN_LABEL)
    if isinstance(value, str) and value.strip().lower() == "na":
        return None, REASON_MISSING
    own = study.scales.get(rater) if rater is not None else None
    if own is not None:
        score, why = parse_score(value, (own.low, own.high), integer=own.integer)
        return (None, why) if score is None else (own.to_study(score, study.low, study.high), None)
    return parse_score(value, (study.low, study.high), integer=study.integer)


def rater_checks(study: StudyFile, present, rel: str) -> tuple[tuple[str, ...], list[str]]:
    """The study's evaluators (every rater with a usable rating that is not a reference,
    sorted) and the errors of its rater keys: absent references, no evaluator, jury
    members and ``own_source`` entries that are not evaluators."""
    present = sorted(present)
    errors = [f"key 'references': {ref!r} has no usable rating in {rel} (raters found: {', '.join(present)})"
              for ref in study.references if ref not in present]
    evaluators = tuple(r for r in present if r not in study.references)
    if not evaluators:
        errors.append(f"{rel}: no evaluator (every rater is a reference)")
    errors += [f"key 'jury': {j!r} is not an evaluator of {rel} (evaluators: {', '.join(evaluators)})"
               for j in study.jury if j not in evaluators]
    errors += [f"key 'own_source.{e}': not an evaluator of {rel}" for e in study.own_source if e not in evaluators]
    return evaluators, errors


def load_tidy(study: StudyFile | str | Path, *, strict: bool = True) -> TidyData:
    """Read and check a user study. Any error raises :class:`StudyFileError` listing every
    error (with ``strict=False``: every error and every excluded rating); the excluded
    ratings of a usable study are in ``problems`` and in the audit."""
    study = study if isinstance(study, StudyFile) else read_study_file(study)
    if study.kind == "pairwise":
        raise StudyFileError(study.path, ["a pairwise study (kind = \"pairwise\"): read it with load_pairwise"])
    frame = _read_table(study)
    rel = study.ratings.name
    rename, errors = _map_columns(frame, study, STANDARD_COLUMNS, REQUIRED_COLUMNS, rel)
    if errors:
        raise StudyFileError(study.path, errors)
    frame = frame.rename(rename).select(list(rename.values())).with_row_index("row", offset=2
                                                                             if study.ratings.suffix == ".csv" else 1)
    for opt in ("run", "category", "cluster", "source", "attribute"):
        if opt not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(opt))
    for c in ("item", "rater", "category", "cluster", "source", "attribute"):
        if frame[c].dtype == pl.Boolean:
            errors.append(f"{rel}: column {c!r} holds true/false values, not names")
    if errors:
        raise StudyFileError(study.path, errors)
    id_cols = ("item", "rater", "category", "cluster", "source", "attribute")
    frame = frame.with_columns([pl.col(c).cast(pl.String) for c in id_cols])
    where = "row" if study.ratings.suffix == ".csv" else "parquet row"
    if "length" in frame.columns:
        parsed = pl.col("length").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        bad = frame.filter(pl.col("length").is_not_null() & (parsed.is_null() | ~(parsed > 0)))
        if bad.height:
            errors.append(f"{rel} {where} {bad['row'][0]}: length {bad['length'][0]!r} is not a positive number "
                          f"({bad.height} rows)")
        frame = frame.with_columns(parsed.alias("length"))
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("length"))
    # IDs are compared as written but for surrounding white space, which spreadsheets add
    # and nobody means: "r1 " and "r1" are one item in validate, the audit and the tables.
    notes = []
    for c in id_cols:
        padded = frame.filter(pl.col(c) != pl.col(c).str.strip_chars())
        if padded.height:
            notes.append(f"{rel} {_rows(where, padded['row'].to_list())}: {c} with leading or trailing spaces, "
                         f"read without them ({padded.height:,} rows)")
    frame = frame.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in id_cols])
    # Names that become folders or HTML.
    for r in frame["rater"].unique(maintain_order=True).to_list():
        if r is None:
            first = frame.filter(pl.col("rater").is_null())["row"][0]
            errors.append(f"{rel} {where} {first}: empty rater")
        elif not _safe(r):
            first = frame.filter(pl.col("rater") == r)["row"][0]
            errors.append(f"{rel} {where} {first}: rater name {_short(r)} is not a safe name (letters, digits, "
                          f"_ . + @ -, at most {MAX_NAME} characters)")
        elif r in RESERVED_RATERS:
            first = frame.filter(pl.col("rater") == r)["row"][0]
            errors.append(f"{rel} {where} {first}: rater name {r!r} is reserved (the analysis derives "
                          f"{', '.join(RESERVED_RATERS)}); rename this rater")
    null_items = frame.filter(pl.col("item").is_null())
    if null_items.height:
        errors.append(f"{rel} {where} {null_items['row'][0]}: empty item ({null_items.height} rows)")
    # Runs must be whole numbers.
    runs = frame["run"].to_list()
    run_values, bad_runs = [], []
    for row, v in zip(frame["row"].to_list(), runs):
        if v is None or (isinstance(v, str) and v.strip() == ""):
            run_values.append(1)
            continue
        whole = parse_whole(v)
        if whole is None:
            bad_runs.append((row, v))
            whole = 1
        run_values.append(whole)
    if bad_runs:
        errors.append(f"{rel} {_rows(where, [r for r, _ in bad_runs])}: run {_short(bad_runs[0][1])}"
                      + (" (and others)" if len({str(v) for _, v in bad_runs}) > 1 else "")
                      + " is not a whole number from 1 to 1,000,000")
    frame = frame.with_columns(pl.Series("run", run_values, dtype=pl.Int32))
    frame, attr_errors = _select_attribute(frame, study, rel)
    errors += attr_errors
    # Parse scores (each rater on its scale), audit every row.
    scores, reasons = [], []
    for v, r in zip(frame["score"].to_list(), frame["rater"].to_list()):
        s, why = _parse(v, study, r)
        scores.append(s)
        reasons.append(why)
    frame = frame.with_columns(pl.Series("value", scores, dtype=pl.Float64), pl.Series("reason", reasons, pl.String))
    scale_errors, off_raters, scale_notes = _scale_problems(frame, study, rel)
    errors += scale_errors
    notes += scale_notes
    # A rater on another scale is one error line (above), not one exclusion per row.
    exclusions = [f"{rel} {where} {row}: {why} ({_short(v)}), excluded"
                  for row, v, why in frame.filter(pl.col("reason").is_not_null()
                                                  & ~pl.col("rater").is_in(sorted(off_raters)))
                  .select("row", "score", "reason").iter_rows()]
    errors += _duplicate_problems(frame, rel, where)
    used = frame.filter(pl.col("reason").is_null())
    present = frozenset(used["rater"].drop_nulls().to_list())
    evaluators, rater_errors = rater_checks(study, present, rel)
    errors += rater_errors
    ref_items = set(used.filter(pl.col("rater").is_in(list(study.references)))["item"].to_list())
    for e in evaluators:
        shared = len(ref_items & set(used.filter(pl.col("rater") == e)["item"].to_list()))
        if not shared:
            errors.append(f"{rel}: evaluator {e!r} rates no item that a reference rates")
        elif shared < 2:
            errors.append(f"{rel}: evaluator {e!r} shares 1 usable item with the references; every statistic of "
                          f"agreement needs at least 2")
    # An item must stay in one cluster, one category and one source.
    for col in ("cluster", "category", "source", "length"):
        # A rating without the column says nothing about it (humans rarely carry the source).
        multi = used.group_by("item").agg(pl.col(col).drop_nulls().n_unique().alias("n")).filter(pl.col("n") > 1)
        if multi.height:
            errors.append(f"{rel}: item {multi['item'][0]!r} has several {col} values ({multi.height} items do)")
    # Each item's cluster, category and source on every one of its ratings (checked above to
    # be one value), also on the ratings whose rater did not give them.
    used = used.with_columns([pl.col(c).drop_nulls().first().over("item").alias(c)
                              for c in ("cluster", "category", "source")])
    problems = tuple(errors + exclusions)
    if errors:
        errors += notes
    if errors:
        # Even when not strict: a study with errors cannot be turned into ratings safely.
        raise StudyFileError(study.path, list(problems) if not strict else errors)

    audit = frame.select(
        pl.lit(study.name).alias("dataset"), pl.lit(rel).alias("source_file"),
        (pl.lit(f"{where} ") + pl.col("row").cast(pl.String)).alias("record"), "rater",
        pl.when(pl.col("reason").is_null()).then(pl.lit("used")).otherwise(pl.lit("excluded")).alias("status"),
        "reason", pl.when(pl.col("reason").is_null()).then(None).otherwise(pl.col("score").cast(pl.String))
        .alias("detail")).cast(AUDIT_SCHEMA)
    cluster = pl.coalesce(pl.col("cluster"), pl.col("item"))
    ratings = make_ratings(used.select(
        pl.lit(study.name).alias("dataset"), cluster.alias("item_id"), pl.col("item").alias("response_id"),
        pl.col("source").alias("answer_model"), pl.lit(None, pl.Int32).alias("answer_run"), "category",
        pl.coalesce(pl.col("attribute"), pl.lit(study.attribute or "score")).alias("attribute"), "rater",
        pl.when(pl.col("rater").is_in(list(study.references))).then(pl.lit("human")).otherwise(pl.lit("llm"))
        .alias("rater_kind"), pl.col("run").alias("eval_run"), pl.col("value").alias("score"),
        pl.lit(rel).alias("source_file"), (pl.lit(f"{where} ") + pl.col("row").cast(pl.String)).alias("source_record"),
    ).sort("response_id", "rater", "eval_run"))
    lengths = used.group_by("item").agg(pl.col("length").drop_nulls().first()).rename({"item": "response_id"})
    responses = (ratings.group_by("response_id").agg(pl.col("item_id").first(), pl.col("answer_model").drop_nulls().first(),
                                                      pl.col("category").drop_nulls().first())
                 .join(lengths, on="response_id", how="left").sort("response_id"))
    items = (ratings.group_by("item_id").agg(pl.col("category").drop_nulls().first()).sort("item_id"))
    reviewed = ratings.filter(pl.col("rater").is_in(list(study.references)))
    review_set = (reviewed.group_by("response_id").agg(pl.col("item_id").first(), pl.col("category").first())
                  .with_columns(pl.lit(True).alias("has_scores"), pl.lit(None, pl.String).alias("sampled_from"))
                  .select("item_id", "response_id", "sampled_from", "category", "has_scores").sort("response_id"))
    present_cols = frozenset(c for c in ("run", "category", "cluster", "source", "attribute")
                             if frame[c].drop_nulls().len() > 0 and not (c == "run" and frame["run"].n_unique() == 1))
    own = {e: study.own_source.get(e) for e in evaluators}
    return TidyData(study=study, items=items, responses=responses, ratings=ratings, review_set=review_set,
                    audit=audit, evaluators=evaluators, own_answer_model=own, present=present_cols,
                    problems=problems, notes=tuple(notes))


def _select_attribute(frame: pl.DataFrame, study: StudyFile, rel: str) -> tuple[pl.DataFrame, list[str]]:
    """The rows of the study's ``attribute`` (every row when it names none: a file with
    several attributes is analysed whole, each attribute on its own); errors."""
    attrs = sorted(a for a in frame["attribute"].unique().to_list() if a is not None)
    if study.attribute is None:
        # Each attribute becomes a folder (reports/<name>/<attribute>/) and report text.
        unsafe = [a for a in attrs if not _safe(a)] if len(attrs) > 1 else []
        return frame, [f"{rel}: attribute {_short(a)} is not a safe name (letters, digits, _ . + @ -, at most "
                       f"{MAX_NAME} characters: it becomes a folder name); rename it, or analyse one attribute "
                       f"with attribute = \"...\"" for a in unsafe[:MAX_LISTED]]
    errors = [] if study.attribute in attrs else [
        f"key 'attribute': {study.attribute!r} not in the file's attributes {attrs}"]
    return frame.filter(pl.col("attribute") == study.attribute), errors


def _duplicate_problems(frame: pl.DataFrame, rel: str, where: str) -> list[str]:
    """A rater rating one item twice in one run (of one attribute): one line, the first such key."""
    keys = ("item", "rater", "run", "attribute")
    dup = frame.filter(pl.struct(*keys).is_duplicated()).sort("row")
    if not dup.height:
        return []
    first = dup.row(0, named=True)
    same = pl.lit(True)
    for k in keys:
        same = same & (pl.col(k).is_null() if first[k] is None else pl.col(k) == first[k])
    rows = dup.filter(same)["row"].to_list()
    of = f" on attribute {_short(first['attribute'])}" if first["attribute"] is not None else ""
    return [f"{rel} {_rows(where, rows)}: rater {_short(first['rater'])} rates item {_short(first['item'])}{of} "
            f"{'twice' if len(rows) == 2 else f'{len(rows):,} times'} in run {first['run']} ({dup.height:,} rows "
            f"share such keys)"]


def validate(path: str | Path) -> tuple[list[str], TidyData | None]:
    """Every problem of a study (errors and exclusions, each with its row or key) and the
    loaded data when it can be analysed (``None`` otherwise)."""
    try:
        study = read_study_file(path)
        data = load_pairwise(study) if study.kind == "pairwise" else load_tidy(study, strict=False)
    except StudyFileError as exc:
        return exc.problems, None
    errors = [p for p in data.problems if not p.endswith(", excluded")]
    return list(data.problems), (None if errors else data)


def write_study(ratings: pl.DataFrame, out_dir: str | Path, *, name: str, references, scale=None, integer=False,
                labels=None, jury=(), own_source=None, title=None) -> Path:
    """Write ``ratings.csv`` (tidy columns) and ``study.toml`` into ``out_dir``; returns the study file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ratings.write_csv(out / "ratings.csv", float_precision=10)

    def q(s):
        return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {q(name)}"]
    if title:
        lines.append(f"title = {q(title)}")
    lines.append('ratings = "ratings.csv"')
    if labels:
        lines.append(f"labels = [{', '.join(q(x) for x in labels)}]")
    else:
        lines.append(f"scale = [{scale[0]}, {scale[1]}]")
        lines.append(f"integer = {'true' if integer else 'false'}")
    lines.append(f"references = [{', '.join(q(r) for r in references)}]")
    if jury:
        lines.append(f"jury = [{', '.join(q(j) for j in jury)}]")
    if own_source:
        lines.append("\n[own_source]")
        lines += [f"{q(k)} = {q(v)}" for k, v in own_source.items() if v]
    path = out / "study.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tidy_from_ratings(ratings: pl.DataFrame, *, labels=None) -> pl.DataFrame:
    """The tidy file's columns from ratings in :data:`~analysis.data.ratings.RATINGS_SCHEMA`
    (whole-point scores written as integers; ``attribute`` when there are several)."""
    score = pl.col("score")
    if ratings["score"].len() and (ratings["score"] == ratings["score"].round(0)).all():
        score = pl.col("score").cast(pl.Int64)
    if labels:
        score = pl.col("score").cast(pl.Int64).map_elements(lambda i: labels[i], return_dtype=pl.String)
    several = ratings["attribute"].n_unique() > 1  # a multi-attribute study keeps its attribute column
    return ratings.select(pl.col("response_id").alias("item"), "rater", score.alias("score"),
                          pl.col("eval_run").alias("run"), "category", pl.col("item_id").alias("cluster"),
                          pl.col("answer_model").alias("source"), *(["attribute"] if several else [])
                          ).sort("item", "rater", "run", *(["attribute"] if several else []))


# --- pairwise and binary study files -------------------------------------------------

FILE_KINDS = ("scored", "labelled", "pairwise", "binary")
"""The study kinds a study file may declare with ``kind = "..."`` (default: scored with a
``scale``, labelled with ``labels``)."""
PAIRWISE_COLUMNS = ("item", "system_a", "system_b", "rater", "score", "prompt", "first", "swapped", "category")
"""A pairwise study's columns: ``item`` the comparison (one pair of responses to one prompt),
``system_a``/``system_b`` the two systems, ``rater``, ``score`` the verdict (which *system*
won: ``A`` = ``system_a``, ``B`` = ``system_b``, or ``tie``, whatever order they were shown
in; other spellings mapped under ``[verdicts]``); optional ``prompt`` (what the bootstrap
resamples; default the item), ``first`` (the system shown first) or ``swapped`` (true:
``system_b`` was shown first), and ``category``."""
PAIRWISE_REQUIRED = ("item", "system_a", "system_b", "rater", "score")
REASON_UNKNOWN_VERDICT = "verdict not A, B, tie or a spelling mapped under [verdicts]"
REASON_NO_SYSTEM = "system_a or system_b missing"
REASON_SELF_GAME = "system_a and system_b are the same system"
REASON_BAD_ORDER = "first is neither system_a nor system_b, or swapped is not true/false"


def _read_kind(raw: dict, problems: list[str]) -> tuple[str | None, dict[str, str], str | None]:
    """The keys ``kind``, ``verdicts`` (pairwise: file spelling = ``"A"``/``"B"``/``"tie"``)
    and ``positive`` (binary: the label that means a positive verdict, e.g. "unsafe");
    problems are appended."""
    kind = raw.get("kind")
    if kind is not None and kind not in FILE_KINDS:
        problems.append(f"key 'kind': expected one of {', '.join(map(repr, FILE_KINDS))}, got {_short(kind)}")
        kind = None
    verdicts = raw.get("verdicts", {})
    if "verdicts" in raw and kind != "pairwise":
        problems.append("table [verdicts]: only for kind = \"pairwise\"")
    if not isinstance(verdicts, dict) or not all(isinstance(v, str) and v in PAIRWISE_VERDICTS
                                                 for v in verdicts.values()):
        problems.append(f"table [verdicts]: expected file spelling = one of {', '.join(map(repr, PAIRWISE_VERDICTS))}")
        verdicts = {}
    if kind == "pairwise" and ("scale" in raw or "labels" in raw):
        problems.append("keys 'scale'/'labels': a pairwise study's verdicts are A, B and tie; map other spellings "
                        "under [verdicts] instead")
    positive = raw.get("positive")
    if positive is not None and kind != "binary":
        problems.append("key 'positive': only for kind = \"binary\"")
    if kind == "binary":
        labels = raw.get("labels")
        if not (isinstance(labels, list) and len(labels) == 2):
            problems.append(f"key 'labels': a binary study has two labels (e.g. [\"safe\", \"unsafe\"]), got "
                            f"{_short(labels)}")
        elif positive not in labels:
            problems.append(f"key 'positive': required for kind = \"binary\", one of the labels {labels}, got "
                            f"{_short(positive)}")
    return kind, dict(verdicts), positive


@dataclass(frozen=True)
class PairwiseData:
    """A pairwise study (``kind = "pairwise"``): one row of ``games`` per usable verdict.

    ``games``: ``item``, ``prompt`` (the item when the file has none), ``system_a``,
    ``system_b``, ``rater``, ``verdict`` (``A``: system_a won, ``B``: system_b won, ``tie``),
    ``first`` (the system shown first; null when the file does not say), ``category``,
    ``record`` (the file row). ``audit``: one row per input row, used or excluded with its
    reason. The data are not a ratings frame: ``ratings`` is None.
    """

    study: StudyFile
    games: pl.DataFrame
    audit: pl.DataFrame
    evaluators: tuple[str, ...]
    problems: tuple[str, ...] = ()

    references = property(lambda self: self.study.references)
    ratings = review_set = crisis_labels = truth = property(lambda self: None)
    own_answer_model = property(lambda self: {})
    has_runs = has_sources = property(lambda self: False)
    has_references = property(lambda self: self.games.filter(pl.col("rater").is_in(list(self.references))).height > 0)
    has_clusters = property(lambda self: self.games["prompt"].n_unique() < self.games["item"].n_unique())
    has_categories = property(lambda self: self.games["category"].drop_nulls().len() > 0)

    @property
    def present(self) -> frozenset[str]:
        """The optional tidy columns the study has, as :attr:`TidyData.present` (``cluster``:
        prompts grouping several comparisons); ``run`` and ``source`` are no columns of a
        pairwise study, so never reported absent."""
        return frozenset({"run", "source"} | ({"category"} if self.has_categories else set())
                         | ({"cluster"} if self.has_clusters else set()))

    @property
    def has_order(self) -> bool:
        """The file says which system was shown first (position bias can be measured)."""
        return self.games["first"].drop_nulls().len() > 0


def load_pairwise(study: StudyFile | str | Path) -> PairwiseData:
    """Read and check a pairwise study (:data:`PAIRWISE_COLUMNS`). Errors (missing columns,
    a rater judging one item twice in one order, absent references, unsafe names) raise
    :class:`StudyFileError`; unusable verdicts are excluded with their reason in the audit
    and in ``problems``."""
    study = study if isinstance(study, StudyFile) else read_study_file(study)
    if study.kind != "pairwise":
        raise StudyFileError(study.path, ["not a pairwise study (kind = \"pairwise\")"])
    frame = _read_table(study)
    rel = study.ratings.name
    where = "row" if study.ratings.suffix == ".csv" else "parquet row"
    rename, errors = _map_columns(frame, study, PAIRWISE_COLUMNS, PAIRWISE_REQUIRED, rel)
    if {"first", "swapped"} <= set(rename.values()):
        errors.append(f"{rel}: give the order as 'first' or as 'swapped', not both")
    if errors:
        raise StudyFileError(study.path, errors)
    frame = frame.rename(rename).select(list(rename.values())).with_row_index("row", offset=2 if where == "row" else 1)
    for opt in ("prompt", "first", "swapped", "category"):
        if opt not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(opt))
    frame = frame.with_columns([pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
                                for c in ("item", "system_a", "system_b", "rater", "score", "prompt", "first",
                                          "swapped", "category")])
    spelling = {v: v for v in PAIRWISE_VERDICTS} | study.verdicts
    swapped = pl.col("swapped").str.to_lowercase()
    frame = frame.with_columns(
        pl.col("score").replace_strict(spelling, default=None).alias("verdict"),
        pl.coalesce("prompt", "item").alias("prompt"),
        pl.when(pl.col("first").is_not_null()).then(pl.col("first"))
        .when(swapped.is_in(["true", "1", "yes"])).then(pl.col("system_b"))
        .when(swapped.is_in(["false", "0", "no"])).then(pl.col("system_a")).otherwise(None).alias("first_shown"))
    bad_order = ((pl.col("first").is_not_null() & (pl.col("first") != pl.col("system_a"))
                  & (pl.col("first") != pl.col("system_b")))
                 | (pl.col("swapped").is_not_null() & pl.col("first_shown").is_null()))
    frame = frame.with_columns(
        pl.when(pl.col("score").is_null()).then(pl.lit(REASON_MISSING))
        .when(pl.col("verdict").is_null()).then(pl.lit(REASON_UNKNOWN_VERDICT))
        .when(pl.col("system_a").is_null() | pl.col("system_b").is_null()).then(pl.lit(REASON_NO_SYSTEM))
        .when(pl.col("system_a") == pl.col("system_b")).then(pl.lit(REASON_SELF_GAME))
        .when(bad_order).then(pl.lit(REASON_BAD_ORDER)).otherwise(None).alias("reason"))
    for c in ("item", "rater"):
        empty = frame.filter(pl.col(c).is_null())
        if empty.height:
            errors.append(f"{rel} {where} {empty['row'][0]}: empty {c} ({empty.height} rows)")
    for r in frame["rater"].drop_nulls().unique(maintain_order=True).to_list():
        if not _safe(r) or r in RESERVED_RATERS:
            errors.append(f"{rel} {where} {frame.filter(pl.col('rater') == r)['row'][0]}: rater name {_short(r)} "
                          f"is not a safe name or is reserved")
    used = frame.filter(pl.col("reason").is_null() & pl.col("item").is_not_null() & pl.col("rater").is_not_null())
    dup = used.filter(pl.struct("item", "rater", "first_shown").is_duplicated()).sort("row")
    if dup.height:
        errors.append(f"{rel} {_rows(where, dup['row'].to_list())}: rater {_short(dup['rater'][0])} judges item "
                      f"{_short(dup['item'][0])} more than once in one order")
    pair = pl.concat_str(pl.min_horizontal("system_a", "system_b"), pl.max_horizontal("system_a", "system_b"),
                         separator="\x1f")
    for what, key in (("system pairs", pair), ("prompts", pl.col("prompt")), ("categories", pl.col("category"))):
        # one item is one pair of systems (in either order), of one prompt and one category
        multi = used.group_by("item").agg(key.drop_nulls().n_unique().alias("n")).filter(pl.col("n") > 1)
        if multi.height:
            errors.append(f"{rel}: item {multi['item'][0]!r} has several {what} ({multi.height} items do)")
    evaluators, rater_errors = rater_checks(study, frozenset(used["rater"].to_list()), rel)
    errors += rater_errors
    exclusions = [f"{rel} {where} {row}: {why} ({_short(v)}), excluded" for row, v, why in
                  frame.filter(pl.col("reason").is_not_null()).select("row", "score", "reason").iter_rows()]
    if errors:
        raise StudyFileError(study.path, errors)
    audit = frame.select(
        pl.lit(study.name).alias("dataset"), pl.lit(rel).alias("source_file"),
        (pl.lit(f"{where} ") + pl.col("row").cast(pl.String)).alias("record"), "rater",
        pl.when(pl.col("reason").is_null()).then(pl.lit("used")).otherwise(pl.lit("excluded")).alias("status"),
        "reason", pl.when(pl.col("reason").is_null()).then(None).otherwise(pl.col("score")).alias("detail")
    ).cast(AUDIT_SCHEMA)
    games = used.select("item", "prompt", "system_a", "system_b", "rater", "verdict",
                        pl.col("first_shown").alias("first"), "category",
                        (pl.lit(f"{where} ") + pl.col("row").cast(pl.String)).alias("record")).sort("item", "rater",
                                                                                                   "first")
    return PairwiseData(study=study, games=games, audit=audit, evaluators=evaluators, problems=tuple(exclusions))


__all__ = ["StudyFile", "StudyFileError", "TidyData", "read_study_file", "load_tidy", "validate", "write_study",
           "tidy_from_ratings", "DataError", "PairwiseData", "load_pairwise"]
