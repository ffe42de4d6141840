"""Large user studies: the ``summary`` of a tidy ratings file too big to hold in memory.

A user study of 10^7 rating rows read row by row (:func:`analysis.data.tidy.load_tidy`
parses every score in Python and keeps an audit row per rating) needs several GiB and
minutes. Every number of the scored summary depends on the ratings only through the
per-item scores of each rater (the mean of its runs), so this module lets polars'
streaming engine reduce the file to that ``n_items x raters`` matrix
(``pl.scan_parquet(...).group_by("item").agg(...).collect(engine="streaming")``, one
pass, bounded memory), and reduces the matrix further to what the summary's statistics
need (:func:`analysis.studies.scored.stream_summary` assembles the tables):

* the ICCs and the bias with one :class:`~analysis.stats.bootstrap.ResamplePlan` over
  items (over clusters when the file has a cluster column, as in memory): a resample's
  sums of the per-item sufficient statistics (counts, centred scores, their squares and
  cross products: :func:`analysis.stats.icc.row_statistics` summed over items is a
  function of them) give every pair's mean squares and every bias at once; BCa's
  jackknife is O(n) (``bootstrap(sums=True)``);
* for the agreement coefficients, each pair's count tables (:func:`pair_tables`): the
  5 x 5 table of rounded scores (quadratic kappa, Gwet's AC1/AC2) and the table of the
  distinct values (Krippendorff's interval alpha); the coefficients are
  :mod:`analysis.stats.chance`'s, computed in the study layer.

The tables equal those of the in-memory ``summary`` (same columns; same resamples,
since every pair there is bootstrapped with the same seed over the same items; numbers
equal to rounding, tested).

Memory: the per-item pass runs in parts of :data:`PASS2_ROWS` rating rows chosen by a
hash of the item (one scan each, parsing only its rows); each part's per-item table (per
rater a sum, two 32-bit counts and a run bit mask; IDs kept as polars columns, never a
Python string per item) is checked and reduced to the scores of its complete review
items as it comes (:func:`reduce_items`), then let go, so the process holds one part's
table and the review matrix (8 bytes per rater and item, plus the IDs), never the whole
per-item table. The bootstrap draws its resamples in pieces over that matrix, summed per
distinct set of scores when there are few, on as many threads as cores (each block of
resamples has its own seed: bitwise the same on any number), and sums BCa's acceleration
chunk by chunk (:func:`pair_intervals`). The same queries run per partition on Dask
(:mod:`analysis.data.tidy_dask`). Measured peaks: README, "Performance".

When: :func:`needs_streaming` — an ordinal study whose ratings file has at least
:data:`STREAM_MIN_ROWS` rows (read from the parquet metadata; counted in one streaming
pass for CSV). Nominal studies always take the in-memory path.

Validation (as :mod:`analysis.data.tidy`): required columns, safe rater names, empty
items, runs that are not whole numbers >= 1, several attributes without a choice,
references without a usable rating, no evaluator, jury members that are not
evaluators, an item in several clusters/categories/sources, and duplicated ratings
(one rater, one item, one run twice) are errors (:class:`~analysis.data.tidy.StudyFileError`);
scores that are missing, not numbers, off the scale or off the integer grid are excluded
and counted per reason in the audit. The only difference: exclusions are counted, not
listed row by row (``validate`` lists them). Text scores are parsed by polars (leading
and trailing blanks ignored; ``na``, ``nan``, ``null``, ``none`` and empty are missing).
Runs are numbered 1-62 here (a bit mask per item and rater detects a repeated run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from analysis.data.ratings import (NUMBER, REASON_MISSING, REASON_NOT_NUMBER, REASON_OFF_GRID, REASON_OFF_SCALE,
                                   RatingMatrix)
from analysis.data.tidy import (HUMAN_MEAN, JURY, MAX_NAME, RESERVED_RATERS, _short, active_jury, STANDARD_COLUMNS,
                                REQUIRED_COLUMNS, StudyFile, StudyFileError, _safe, rater_checks, read_study_file)
from analysis.stats import agreement
from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.icc import icc_from_mean_squares, intraclass_corr, mean_squares_from_sums
from analysis.stats.intervals import SEPARATOR, with_clusters
from analysis.stats.threads import one_blas_thread

STREAM_MIN_ROWS = 1_000_000
"""Ratings files with at least this many rows take the streaming path (about 300 MB of
memory in the in-memory loader per million rows)."""

NUMBER_PATTERN = "^" + NUMBER.pattern + "$"
GRID = (1, 2, 3, 4, 5)
MAX_RUN = 62


def _parquet(path: Path):
    """A parquet file, or every ``*.parquet`` file under a folder (a partitioned data set)."""
    return str(path / "**" / "*.parquet") if path.is_dir() else path


def count_rows(path: str | Path) -> int:
    """Rows of a ratings file (or folder of parquet files): parquet metadata, or one
    streaming pass over a CSV."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return int(pl.scan_parquet(_parquet(path)).select(pl.len()).collect().item())
    return int(pl.scan_csv(path, infer_schema=False).select(pl.len()).collect(engine="streaming").item())


def needs_streaming(study_path: str | Path, *, min_rows: int = STREAM_MIN_ROWS) -> bool:
    """True for an ordinal study whose ratings file has at least ``min_rows`` rows."""
    sf = read_study_file(study_path)
    if sf.nominal or not (sf.ratings.is_file() or sf.ratings.is_dir()) or sf.scales or sf.kind:
        # Raters on their own scales and the pairwise/binary kinds are read by the in-memory
        # loader only (the streaming passes know one scale and scored studies).
        return False
    try:
        return count_rows(sf.ratings) >= min_rows
    except (pl.exceptions.PolarsError, OSError):
        return False  # the in-memory loader names what is wrong with the file


@dataclass(frozen=True)
class StreamedStudy:
    """A large ordinal study reduced to its review matrix.

    ``values``: the review items (items a reference rated) that every rater scored, rows
    sorted by item (``items``), columns ``raters``: the references then the evaluators
    (each the mean of its runs), as :func:`analysis.data.ratings.to_matrix` makes them
    (:attr:`matrix`); ``clusters``: each row's cluster (its item when it has none);
    ``clustered``: the file has a cluster column with values (then every interval
    resamples clusters, as the in-memory summary's do); ``missing``: per rater, the
    review items without its score (what left the ``n_dropped`` items out);
    ``n_dropped``: review items without a complete set of scores; ``audit``: records per
    status and reason in the shape of :func:`analysis.data.ratings.audit_summary`. The
    IDs stay polars columns (a Python string per item would double the memory).
    """

    study: StudyFile
    values: np.ndarray
    raters: tuple[str, ...]
    items: pl.Series
    clusters: pl.Series
    evaluators: tuple[str, ...]
    n_review: int
    n_dropped: int
    n_rows: int
    audit: pl.DataFrame
    clustered: bool = False
    missing: tuple[tuple[str, int], ...] = ()

    @property
    def matrix(self) -> RatingMatrix:
        """The review matrix as a :class:`~analysis.data.ratings.RatingMatrix` (IDs as tuples)."""
        return RatingMatrix(values=self.values, index=tuple(self.items.to_list()), raters=self.raters,
                            clusters=tuple(self.clusters.to_list()))

    @property
    def jury(self) -> tuple[str, ...]:
        return active_jury(self.study.jury, self.evaluators)

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.evaluators, JURY) if self.jury else self.evaluators


def _score_columns(score: pl.Expr, dtype: pl.DataType, study: StudyFile) -> tuple[pl.Expr, pl.Expr]:
    """The score as a float (null when excluded) and the reason it is excluded (null when used)."""
    if dtype == pl.String:
        text = score.str.strip_chars()
        missing = text.is_null() | (text == "") | text.str.to_lowercase().is_in(["na", "nan", "null", "none"])
        # One number rule with the in-memory reader (analysis.data.ratings.NUMBER): no 7_5, no inf.
        number = pl.when(text.str.contains(NUMBER_PATTERN)).then(text.cast(pl.Float64, strict=False))
        missing = missing | number.is_nan().fill_null(False)
        not_number = ~missing & (number.is_null() | number.is_infinite())
    elif dtype == pl.Boolean:
        number = pl.lit(None, pl.Float64)
        missing = score.is_null()
        not_number = ~missing
    else:
        number = score.cast(pl.Float64)
        missing = score.is_null() | number.is_nan()
        not_number = ~missing & number.is_infinite()
    off_scale = (number < study.low) | (number > study.high)
    off_grid = (number != number.round(0)) if study.integer else pl.lit(False)
    reason = (pl.when(missing).then(pl.lit(REASON_MISSING)).when(not_number).then(pl.lit(REASON_NOT_NUMBER))
              .when(off_scale).then(pl.lit(REASON_OFF_SCALE)).when(off_grid).then(pl.lit(REASON_OFF_GRID))
              .otherwise(pl.lit(None, pl.String)))
    return number, reason


def _run_column(run: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """The run as an integer (empty: 1) and whether it is not a whole number >= 1."""
    if dtype == pl.String:
        text = run.str.strip_chars()
        empty = text.is_null() | (text == "")
        number = pl.when(text.str.contains(NUMBER_PATTERN)).then(text.cast(pl.Float64, strict=False))
    elif dtype == pl.Boolean:  # true is not run 1 (analysis.data.ratings.parse_whole)
        empty = run.is_null()
        number = pl.lit(None, pl.Float64)
    else:
        empty = run.is_null()
        number = run.cast(pl.Float64)
    bad = ~empty & (number.is_null() | (number != number.floor()) | (number < 1) | (number > MAX_RUN))
    return pl.when(empty | bad).then(1).otherwise(number).cast(pl.Int64), bad.fill_null(True)


def _columns(study: StudyFile, schema, rel: str) -> list[pl.Expr]:
    """The standard columns selected from a file's ``schema``; :class:`StudyFileError` naming what is missing."""
    errors, select = [], []
    for std in STANDARD_COLUMNS:
        col = study.columns.get(std, std)
        if col in schema:
            select.append(pl.col(col).alias(std))
        elif std in study.columns:
            errors.append(f"key 'columns.{std}': column {col!r} is not in {rel} (columns: {', '.join(schema)})")
        elif std in REQUIRED_COLUMNS:
            errors.append(f"{rel}: required column {std!r} missing (columns: {', '.join(schema)}; map yours "
                          f"under [columns])")
        else:
            select.append(pl.lit(None, pl.String).alias(std))
    if errors:
        raise StudyFileError(study.path, errors)
    return select


ROW = "__crisis_judge_row__"
"""The row-number column the polars scans add (the file's reader numbers the rows: a
``with_row_index`` after the scan made polars' streaming engine hold the whole file)."""


def _parsed(lf: pl.LazyFrame, select: list[pl.Expr], study: StudyFile, offset: int | None) -> pl.LazyFrame:
    """The ratings with row numbers from ``offset`` (``None``: the scan's :data:`ROW`), IDs
    stripped, the score parsed with its exclusion reason and the run parsed (every engine
    applies these same expressions)."""
    if offset is None:
        lf = lf.select(*select, pl.col(ROW).alias("row"))
    else:
        lf = lf.select(select).with_row_index("row", offset=offset)
    dtypes = lf.collect_schema()
    value, reason = _score_columns(pl.col("score"), dtypes["score"], study)
    run, bad_run = _run_column(pl.col("run"), dtypes["run"])
    # IDs without surrounding spaces, as the in-memory reader reads them (analysis.data.tidy.load_tidy).
    # (when/then, not replace(): polars' streaming engine held a replace's whole column.)
    stripped = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in ("item", "rater", "category", "cluster",
                                                                          "source", "attribute")}
    text = [pl.when(e != "").then(e).alias(c) for c, e in stripped.items()]
    return lf.with_columns(*text).with_columns(value.alias("value"), reason.alias("reason"), run.alias("run"),
                                               bad_run.alias("bad_run"))


PASS2_ROWS = 1_000_000
"""Rating rows per part of the per-item pass (see :func:`stream_study`)."""

REASONS = (REASON_MISSING, REASON_NOT_NUMBER, REASON_OFF_SCALE, REASON_OFF_GRID)
GROUPS = ("cluster", "category", "source")


def check_queries(lf: pl.LazyFrame, study: StudyFile) -> list[pl.LazyFrame]:
    """Pass 1 over parsed ratings: the attributes, the row checks with the exclusion counts,
    and each rater's first row and used ratings. Partial results (of parts of the file)
    combine by :data:`CHECK_COMBINE`."""
    q_attrs = lf.select(pl.col("attribute").drop_nulls().unique())
    if study.attribute is not None:
        lf = lf.filter(pl.col("attribute") == study.attribute)
    # Elementwise columns, then plain reductions: what polars' streaming engine runs in
    # bounded memory (a filter inside an aggregation made it hold the whole file).
    row = pl.col("row")
    q_checks = lf.select(
        pl.when(pl.col("bad_run")).then(row).alias("bad_run"), pl.col("bad_run").alias("n_bad_run"),
        pl.when(pl.col("item").is_null()).then(row).alias("null_item"),
        pl.col("item").is_null().alias("n_null_item"), pl.when(pl.col("rater").is_null()).then(row).alias("null_rater"),
        *[(pl.col("reason") == r).fill_null(False).alias(r) for r in REASONS],
    ).select(pl.len().alias("n_rows"), pl.col("bad_run").min(), pl.col("n_bad_run").sum(), pl.col("null_item").min(),
             pl.col("n_null_item").sum(), pl.col("null_rater").min(), *[pl.col(r).sum() for r in REASONS])
    q_raters = (lf.select("rater", "row", pl.col("reason").is_null().cast(pl.UInt32).alias("used"))
                .group_by("rater").agg(pl.col("row").min(), pl.col("used").sum()))
    return [q_attrs, q_checks, q_raters]


def combine_checks(attrs: pl.DataFrame, checks: pl.DataFrame, raters: pl.DataFrame):
    """:func:`check_queries`' results of several parts of a file as one (rows concatenated)."""
    first = ("bad_run", "null_item", "null_rater")
    checks = checks.select(*[pl.col(c).min() if c in first else pl.col(c).sum() for c in checks.columns])
    raters = raters.group_by("rater").agg(pl.col("row").min(), pl.col("used").sum())
    return attrs.unique(), checks, raters


def item_query(lf: pl.LazyFrame, study: StudyFile, everyone: Sequence[str], n_raters: int) -> pl.LazyFrame:
    """Pass 2: per item, each rater's sum and count of used scores and its runs over all
    rows, as a bit mask (a run seen twice carries into the next bit, so the mask has fewer
    bits set than rows): duplicates are errors even when a copy is excluded. The columns
    are sums, minima (``*_min``) and maxima (``*_max``), so the tables of parts of the file
    combine item by item (:mod:`analysis.data.tidy_dask`). Counts are 32-bit, the cluster, category and source
    are read as categorical codes (their minimum and maximum only detect an item with
    several values), so the table is about 16 bytes per rater and item plus the IDs."""
    if study.attribute is not None:
        lf = lf.filter(pl.col("attribute") == study.attribute)
    code = pl.col("rater").replace_strict(list(everyone), list(range(len(everyone))), default=None,
                                          return_dtype=pl.Int64)
    bit = pl.lit(1, pl.Int64).bitwise_left_shift(pl.col("run") - 1) if hasattr(pl.Expr, "bitwise_left_shift") \
        else pl.lit(2, pl.Int64).pow(pl.col("run") - 1).cast(pl.Int64)
    ok = pl.col("reason").is_null()
    rc = pl.col("rc")
    return lf.with_columns(code.alias("rc"), bit.alias("bit")).group_by("item").agg(
        *[pl.when((rc == i) & ok).then(pl.col("value")).sum().alias(f"s{i}") for i in range(n_raters)],
        *[((rc == i) & ok).sum().cast(pl.UInt32).alias(f"n{i}") for i in range(n_raters)],
        *[(rc == i).sum().cast(pl.UInt32).alias(f"a{i}") for i in range(len(everyone))],
        *[pl.when(rc == i).then(pl.col("bit")).sum().alias(f"b{i}") for i in range(len(everyone))],
        *[pl.when(ok).then(pl.col(c)).min().alias(f"{c}_min") for c in GROUPS],
        *[pl.when(ok).then(pl.col(c)).max().alias(f"{c}_max") for c in GROUPS],
        *[(ok & pl.col(c).is_null()).sum().cast(pl.UInt32).alias(f"{c}_nulls") for c in GROUPS],
        ok.sum().cast(pl.UInt32).alias("n"),
    )


def _scan(study: StudyFile) -> tuple[pl.LazyFrame, list[pl.Expr], str, bool]:
    path, rel = study.ratings, study.ratings.name
    csv = path.suffix.lower() != ".parquet"
    if not (path.is_file() or (path.is_dir() and not csv)):
        raise StudyFileError(study.path, [f"key 'ratings': {path} not found"])
    lf = (pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy", row_index_name=ROW, row_index_offset=2)
          if csv else pl.scan_parquet(_parquet(path), row_index_name=ROW, row_index_offset=1))
    try:
        schema = lf.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise StudyFileError(study.path, [f"{rel}: cannot be read: {exc}"]) from None
    return lf, _columns(study, {c: t for c, t in schema.items() if c != ROW}, rel), rel, csv


def check_errors(study: StudyFile, attrs: pl.DataFrame, checks: pl.DataFrame, raters_all: pl.DataFrame, rel: str,
                 where: str) -> tuple[dict, pl.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """Pass 1's errors (raised) or the checks, the raters in order of first row, the
    evaluators and every rater (references, evaluators, then the others)."""
    errors = []
    attrs = sorted(attrs.to_series().to_list())
    checks = checks.row(0, named=True)
    raters_all = raters_all.drop_nulls("rater").sort("row")
    if study.attribute is not None and study.attribute not in attrs:
        errors.append(f"key 'attribute': {study.attribute!r} not in the file's attributes {attrs}")
    elif study.attribute is None and len(attrs) > 1:
        errors.append(f"{rel}: several attributes {attrs}; choose one with attribute = \"...\" in the study file")
    if checks["null_rater"] is not None:
        errors.append(f"{rel} {where} {checks['null_rater']}: empty rater")
    if checks["null_item"] is not None:
        errors.append(f"{rel} {where} {checks['null_item']}: empty item ({checks['n_null_item']} rows)")
    if checks["bad_run"] is not None:
        errors.append(f"{rel} {where} {checks['bad_run']}: run is not a whole number from 1 to {MAX_RUN} "
                      f"({checks['n_bad_run']} rows)")
    for r, first in raters_all.select("rater", "row").iter_rows():
        if not _safe(r):
            errors.append(f"{rel} {where} {first}: rater name {_short(r)} is not a safe name (letters, digits, "
                          f"_ . + @ -, at most {MAX_NAME} characters)")
        elif r in RESERVED_RATERS:
            errors.append(f"{rel} {where} {first}: rater name {r!r} is reserved (the analysis derives "
                          f"{', '.join(RESERVED_RATERS)}); rename this rater")
    evaluators, rater_errors = rater_checks(study, raters_all.filter(pl.col("used") > 0)["rater"].to_list(), rel)
    errors += rater_errors
    if errors:
        raise StudyFileError(study.path, errors)
    raters = (*study.references, *evaluators)
    everyone = (*raters, *(r for r in raters_all["rater"].to_list() if r not in raters))
    return checks, raters_all, tuple(evaluators), everyone


def stream_study(study: StudyFile | str | Path) -> StreamedStudy:
    """Validate and reduce a large ordinal study in two streaming passes (see the module docstring)."""
    study = study if isinstance(study, StudyFile) else read_study_file(study)
    if study.nominal:
        raise ValueError(f"{study.name}: nominal studies are loaded in memory (analysis.data.tidy.load_tidy)")
    raw, select, rel, csv = _scan(study)
    where = "row" if csv else "parquet row"
    lf = _parsed(raw, select, study, None)
    # One query at a time: collect_all runs them side by side, each with its own buffers
    # (10^7 rows: 1.0 GiB together, 0.55 GiB one by one; 0.3 s slower).
    attrs, checks, raters_all = [q.collect(engine="streaming") for q in check_queries(lf, study)]
    checks, raters_all, evaluators, everyone = check_errors(study, attrs, checks, raters_all, rel, where)
    raters = (*study.references, *evaluators)
    # Pass 2 in parts of the items (by a hash of the item), one scan each: polars' streaming
    # group-by holds about 1 KB per item and its 30-odd aggregations; a part of at most
    # PASS2_ROWS rows bounds that (2,000,000 items x 5 raters: 2.2 GiB in one part).
    # The part is chosen on the raw column, before parsing: each scan parses only its rows.
    n_parts = int(min(32, max(1, -(-int(checks["n_rows"]) // PASS2_ROWS))))
    part = pl.col(study.columns.get("item", "item")).cast(pl.String).str.strip_chars().hash(seed=0).fill_null(0) \
        % n_parts
    parts = (item_query(lf if n_parts == 1 else _parsed(raw.filter(part == b), select, study, None), study, everyone,
                        len(raters)).collect(engine="streaming") for b in range(n_parts))

    def rows_of(item, rater):
        return (lf.filter((pl.col("item") == item) & (pl.col("rater") == rater))
                .select("row", "run").collect(engine="streaming"))

    return reduce_items(study, parts, checks, evaluators, everyone, rel, where, rows_of)


def reduce_items(study: StudyFile, parts: Iterable[pl.DataFrame], checks: dict, evaluators: tuple[str, ...],
                 everyone: tuple[str, ...], rel: str, where: str, rows_of) -> StreamedStudy:
    """Pass 2's errors (raised) or the :class:`StreamedStudy` of the per-item tables
    (:func:`item_query`) in ``parts``: every item in exactly one part, parts in any order
    and items in any order within them (``rows_of(item, rater)`` gives the rows and runs
    of a repeated rating for the error message).

    Each part is reduced as it comes (its checks, and the scores of its complete review
    items) and then let go, so memory is one part's table plus the review matrix; the
    matrix is sorted by item at the end. Errors name the first offending item in item
    order, as a sorted whole table would."""
    raters = (*study.references, *evaluators)
    n_ref = len(study.references)
    e_cols = [raters.index(e) for e in evaluators]
    dup_first, n_dup = None, 0  # (item, rater number) of the first repeated run; cells with one
    multi = {col: [None, 0] for col in GROUPS}  # first item with several values; how many
    covered = np.zeros(len(evaluators), dtype=bool)
    n_reviewed = 0
    missing = np.zeros(len(raters), dtype=np.int64)
    clustered = False
    values, items, clusters = [], [], []
    for per_item in parts:
        ids = per_item["item"]
        clustered = clustered or bool(per_item["cluster_min"].is_not_null().any())
        for r in range(len(everyone)):  # one rater at a time: a run seen twice leaves fewer bits set than rows
            bad = _popcount(per_item[f"b{r}"].to_numpy()) != per_item[f"a{r}"].to_numpy()
            if bad.any():
                n_dup += int(bad.sum())
                cand = (ids.filter(pl.Series(bad)).min(), r)
                dup_first = cand if dup_first is None or cand < dup_first else dup_first
        for col in GROUPS:
            several = per_item.filter((pl.col(f"{col}_min") != pl.col(f"{col}_max"))
                                      | ((pl.col(f"{col}_nulls") > 0) & (pl.col(f"{col}_nulls") < pl.col("n"))
                                         & pl.col(f"{col}_min").is_not_null()))["item"]
            if several.len():
                first = several.min()
                multi[col] = [first if multi[col][0] is None else min(first, multi[col][0]),
                              multi[col][1] + several.len()]
        counts = per_item.select([f"n{i}" for i in range(len(raters))]).to_numpy()
        rated = counts > 0
        reviewed = rated[:, :n_ref].any(axis=1)
        covered |= (rated[:, e_cols] & reviewed[:, None]).any(axis=0)
        complete = reviewed & rated.all(axis=1)
        n_reviewed += int(reviewed.sum())
        missing += (reviewed[:, None] & ~rated).sum(axis=0)
        keep = pl.Series(complete)
        part_values = np.empty((int(complete.sum()), len(raters)))
        for i in range(len(raters)):  # column by column: no n x raters temporaries
            part_values[:, i] = per_item[f"s{i}"].filter(keep).to_numpy() / counts[complete, i]
        kept = per_item.filter(keep)
        values.append(part_values)
        items.append(kept["item"])
        clusters.append(kept.select(pl.coalesce("cluster_min", "item")).to_series().alias("cluster"))
        del per_item, kept, counts, rated

    errors = []
    if dup_first is not None:
        item, rater = dup_first[0], everyone[dup_first[1]]
        rows = rows_of(item, rater)
        runs = rows.group_by("run").agg(pl.col("row").sort()).filter(pl.col("row").list.len() > 1).sort("run")
        run_no, dup_rows = runs.row(0)
        errors.append(f"{rel} {where}s {', '.join(map(str, dup_rows))}: rater {rater!r} rates item {item!r} twice "
                      f"in run {run_no} ({n_dup} item x rater cells have a repeated run)")
    for col, (first, count) in multi.items():
        if count:
            errors.append(f"{rel}: item {first!r} has several {col} values ({count} items do)")
    if errors:
        raise StudyFileError(study.path, errors)
    for e, ok in zip(evaluators, covered):
        if not ok:
            raise StudyFileError(study.path, [f"{rel}: evaluator {e!r} rates no item that a reference rates"])

    items = pl.concat(items, rechunk=True) if items else pl.Series("item", [], dtype=pl.String)
    clusters = pl.concat(clusters, rechunk=True) if clusters else pl.Series("cluster", [], dtype=pl.String)
    order = items.arg_sort().to_numpy()
    stacked = np.concatenate(values) if values else np.empty((0, len(raters)))
    del values
    values = np.empty_like(stacked)
    np.take(stacked, order, axis=0, out=values)
    del stacked
    n_complete = values.shape[0]
    n_excluded = {r: int(checks[r]) for r in REASONS if checks[r]}
    audit = pl.DataFrame({
        "dataset": [study.name] * (1 + len(n_excluded)), "source_file": [rel] * (1 + len(n_excluded)),
        "status": ["used"] + ["excluded"] * len(n_excluded), "reason": [None, *n_excluded],
        "n_records": [int(checks["n_rows"]) - sum(n_excluded.values()), *n_excluded.values()]},
        schema={"dataset": pl.String, "source_file": pl.String, "status": pl.String, "reason": pl.String,
                "n_records": pl.UInt32}).sort(["dataset", "source_file", "status", "reason"], nulls_last=False)
    return StreamedStudy(study=study, values=values, raters=raters, items=items.gather(order),
                         clusters=clusters.gather(order), evaluators=evaluators, n_review=n_reviewed,
                         n_dropped=n_reviewed - n_complete, n_rows=int(checks["n_rows"]), audit=audit,
                         clustered=clustered,
                         missing=tuple((r, int(m)) for r, m in zip(raters, missing) if m))


def _popcount(masks: np.ndarray) -> np.ndarray:
    """Bits set in each 64-bit mask."""
    masks = masks.astype(np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(masks).astype(np.int64)
    out = np.zeros(masks.shape, dtype=np.int64)  # pragma: no cover (numpy < 2)
    for shift in range(MAX_RUN):
        out += ((masks >> np.uint64(shift)) & np.uint64(1)).astype(np.int64)
    return out


def review_columns(s: StreamedStudy) -> tuple[np.ndarray, tuple[str, ...]]:
    """The review matrix with ``jury`` (mean of its members) and ``human_mean`` (mean of the
    references) appended, as :func:`analysis.studies.scored.review_scores` builds it."""
    values, names = s.values, s.raters
    extra, extra_names = [], []
    if s.jury:
        extra.append(values[:, [names.index(j) for j in s.jury]].mean(axis=1))
        extra_names.append(JURY)
    extra.append(values[:, :len(s.study.references)].mean(axis=1))
    extra_names.append(HUMAN_MEAN)
    return np.column_stack([values, *extra]), (*names, *extra_names)


def pair_tables(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The count tables of one pair of complete score columns: the ``5 x 5`` contingency
    table of the scores rounded half up to 1-5, and the contingency table of the distinct
    values with those values (for Krippendorff's interval alpha)."""
    ra, rb = agreement.round_half_up(x, GRID) - 1, agreement.round_half_up(y, GRID) - 1
    q = len(GRID)
    rounded = np.bincount(ra * q + rb, minlength=q * q).reshape(q, q).astype(float)
    values, codes = np.unique(np.concatenate([x, y]), return_inverse=True)
    v = values.size
    a, b = codes[:x.size], codes[x.size:]
    distinct = np.bincount(a * v + b, minlength=v * v).reshape(v, v).astype(float)
    return rounded, distinct, values


def distinct_rows(x: np.ndarray, max_share: float = 0.5) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The first row of each distinct row of ``x`` and every row's number among them
    (``x[first][pattern] == x``), or ``(None, None)`` when more than ``max_share`` of the
    rows are distinct. Column codes are combined in mixed radix (re-numbered before they
    could overflow 62 bits), so it costs a sort of ``n`` integers per column."""
    n = x.shape[0]
    code, radix = np.zeros(n, dtype=np.int64), 1
    for j in range(x.shape[1]):
        _, inv = np.unique(x[:, j], return_inverse=True)
        size = int(inv.max()) + 1 if n else 1
        if radix * size >= 2**62:
            _, code = np.unique(code, return_inverse=True)
            radix = int(code.max()) + 1
        code = code * size + inv.ravel()
        radix *= size
    _, first, pattern = np.unique(code, return_index=True, return_inverse=True)
    if first.size > max_share * n:
        return None, None
    return first, pattern.ravel()


def pair_intervals(values: np.ndarray, names: Sequence[str], pairs: Sequence[tuple[str, str]],
                   bias_pairs: Sequence[tuple[str, str]], *, n_boot: int, seed, n_dropped: int = 0,
                   types: Sequence[str] = ("ICC(A,1)", "ICC(C,1)"),
                   clusters: np.ndarray | pl.Series | None = None,
                   means: Mapping[str, Sequence[str]] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``icc`` and ``bias`` tables of :func:`analysis.studies.scored.icc_table` and
    :func:`~analysis.studies.scored.bias_table` (``by_category=False``), every BCa interval
    on one plan of ``n_boot`` resamples of the items drawn from ``seed``, or of their
    ``clusters`` (a label per row: whole clusters are drawn, as the in-memory tables do
    for a study with a cluster column; ``ci_assumes`` and the bias ``ci_note`` say so).

    ``means``: raters that are the mean of others on every row (``human_mean``: the
    references; the rows are complete). Their sums are derived from their members' (the
    mean's linear sum is the mean of the members', its square and cross products are
    weighted sums of the members' cross products), so the per-item table carries no
    column of theirs.

    Memory: the ``values`` and the per-item table below, ``n x (1 + k + q)`` floats for
    ``k`` raters and ``q`` products of two of them (22 pairs of 11 raters with the human
    mean derived: 34 columns instead of 52), or one row per distinct set of scores when
    those are fewer than half the items (:func:`distinct_rows`: 5 raters on a 1-5 grid have
    at most 3,125, whatever the number of items); the resamples are drawn and summed in
    pieces (``bootstrap(lean=True)``), never ``BLOCK x n`` weights.

    Per item, with ``c`` the mean of all the scores (centring, for the precision of the
    sums of squares): 1, ``x_r - c`` of each rater and ``(x_r - c)(x_s - c)`` of each
    product needed. With ``S`` their sums over a resample, a pair's
    :func:`~analysis.stats.icc.row_statistics` summed are
    ``(n, S_a, S_b, S_aa + S_bb, (S_aa + 2 S_ab + S_bb) / 4)`` and a bias ``(S_e - S_h) / n``.
    """

    means = {r: tuple(m) for r, m in (means or {}).items()}
    n = values.shape[0]
    col = {r: i for i, r in enumerate(names)}

    def weights(r: str) -> dict[str, float]:
        return {m: 1.0 / len(means[r]) for m in means[r]} if r in means else {r: 1.0}

    named = [r for p in (*pairs, *bias_pairs) for r in p]
    base = sorted({b for r in named for b in weights(r)}, key=col.__getitem__)
    k = len(base)
    pos = {r: i for i, r in enumerate(base)}
    # Every product of two base raters a pair needs, numbered in the order first needed.
    products: dict[tuple[int, int], int] = {}
    for a, b in pairs:
        for x, y in ((a, a), (b, b), (a, b)):
            for i in weights(x):
                for j in weights(y):
                    products.setdefault(tuple(sorted((pos[i], pos[j]))), len(products))

    def linear(r: str) -> np.ndarray:
        v = np.zeros(k)
        for m, w in weights(r).items():
            v[pos[m]] += w
        return v

    def quadratic(x: str, y: str) -> np.ndarray:
        v = np.zeros(len(products))
        for i, wi in weights(x).items():
            for j, wj in weights(y).items():
                v[products[tuple(sorted((pos[i], pos[j])))]] += wi * wj
        return v

    n_pairs = len(pairs)
    lin_a, lin_b = np.array([linear(a) for a, _ in pairs]), np.array([linear(b) for _, b in pairs])
    q_aa, q_bb = np.array([quadratic(a, a) for a, _ in pairs]), np.array([quadratic(b, b) for _, b in pairs])
    q_ab = np.array([quadratic(a, b) for a, b in pairs])
    lin_d = np.array([linear(e) - linear(r) for e, r in bias_pairs]).reshape(len(bias_pairs), k)

    used = [col[r] for r in base]
    c = float(values[:, used].mean())
    codes = None
    if clusters is not None:
        # Integer labels (any labelling gives the plan the same clusters: it numbers them by
        # first appearance); a numpy array of 2,000,000 strings would cost 0.1 GiB more.
        labels = clusters if isinstance(clusters, pl.Series) else pl.Series(np.asarray(clusters).astype(str))
        codes = labels.cast(pl.String).cast(pl.Categorical).to_physical().to_numpy()
        first, pattern = None, None  # the plan sums items per cluster instead of per pattern
    else:
        first, pattern = distinct_rows(values[:, used])
    rows = values[first] if pattern is not None else values  # one row per distinct set of scores
    # Filled column by column in place: a list of blocks concatenated would hold the
    # table twice (500,000 items x 34 columns: 0.13 GiB each).
    per_unit = np.empty((rows.shape[0], 1 + k + len(products)))
    per_unit[:, 0] = 1.0
    for j, r in enumerate(used):
        np.subtract(rows[:, r], c, out=per_unit[:, 1 + j])
    for (i, j), q in products.items():
        np.multiply(per_unit[:, 1 + i], per_unit[:, 1 + j], out=per_unit[:, 1 + k + q])
    del rows

    def statistic(s):
        cnt = s[..., :1]
        lin, cross = s[..., 1:1 + k], s[..., 1 + k:]
        s_a, s_b, d = lin @ lin_a.T, lin @ lin_b.T, lin @ lin_d.T
        s_aa, s_bb, s_ab = cross @ q_aa.T, cross @ q_bb.T, cross @ q_ab.T
        sums = np.stack([np.broadcast_to(cnt, s_a.shape), s_a, s_b, s_aa + s_bb, (s_aa + 2 * s_ab + s_bb) / 4],
                        axis=-1)
        icc = icc_from_mean_squares(mean_squares_from_sums(sums, 2))  # (..., pairs, 6)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.concatenate([icc[..., 1], icc[..., 2], d / cnt], axis=-1)

    plan = ResamplePlan(n, n_boot, seed, clusters=codes, cache_mib=0)
    unit = f"resampled {plan.unit}"
    # One BLAS thread for the whole bootstrap, not only its resampled sums: the statistic's
    # own products (jackknife, replicates) change in the last bit with the BLAS threads.
    with one_blas_thread():
        res = bootstrap(per_unit, statistic, sums=True, plan=plan, method="bca", lean=True, pattern=pattern)
    del per_unit
    form = {"ICC(A,1)": 0, "ICC(C,1)": 1}
    frames = []
    for p, (a, b) in enumerate(pairs):
        x = values[:, [col[a], col[b]]]
        f = intraclass_corr(x, ci="f").filter(pl.col("type").is_in(list(types)))
        why = {t: txt.split(SEPARATOR)[0] if txt.startswith("ICC undefined") else ""
               for t, txt in zip(f["type"].to_list(), f["ci_note"].to_list())}
        t_list = f["type"].to_list()
        at = [form[t] * n_pairs + p for t in t_list]
        boot = pl.DataFrame({
            "rater_a": [a] * len(t_list), "rater_b": [b] * len(t_list), "type": t_list, "icc": f["icc"].to_list(),
            "ci_low": res.ci_low[at].tolist(), "ci_high": res.ci_high[at].tolist(), "ci_method": ["BCa"] * len(t_list),
            "n": [n] * len(t_list), "n_valid": res.n_valid[at].tolist(),
            "ci_note": [SEPARATOR.join(s for s in (why[t], str(res.ci_note[i])) if s) for t, i in zip(t_list, at)],
            "ci_assumes": [unit] * len(t_list), "n_dropped": [n_dropped] * len(t_list)},
            schema_overrides={"n": pl.Int64, "n_valid": pl.Int64, "n_dropped": pl.Int64})
        frames.append(f.select(pl.lit(a).alias("rater_a"), pl.lit(b).alias("rater_b"), "type", "icc", "ci_low",
                               "ci_high", "ci_method", pl.col("n_items").alias("n"), "n_valid", "ci_note",
                               "ci_assumes", pl.lit(n_dropped, dtype=pl.Int64).alias("n_dropped")))
        frames.append(boot)
    rows = []
    for q, (e, r) in enumerate(bias_pairs):
        i = 2 * n_pairs + q
        d = values[:, col[e]] - values[:, col[r]]
        rows.append(dict(evaluator=e, reference=r, category="all", n=n, bias=float(d.mean()),
                         ci_low=float(res.ci_low[i]), ci_high=float(res.ci_high[i]), n_valid=int(res.n_valid[i]),
                         ci_note=with_clusters(str(res.ci_note[i]), codes is not None),
                         n_dropped=n_dropped))
    bias = pl.DataFrame(rows, schema={"evaluator": pl.String, "reference": pl.String, "category": pl.String,
                                      "n": pl.Int64, "bias": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "n_valid": pl.Int64, "ci_note": pl.String,
                                      "n_dropped": pl.Int64})
    return pl.concat(frames), bias


__all__ = ["GRID", "STREAM_MIN_ROWS", "StreamedStudy", "count_rows", "needs_streaming", "pair_intervals",
           "pair_tables", "review_columns", "stream_study"]
