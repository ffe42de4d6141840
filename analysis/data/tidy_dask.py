"""Studies past one machine: the streaming summary's reduction on Dask.

``python -m analysis summary --study FILE --engine dask [--scheduler ADDRESS]`` (and
:func:`analysis.studies.scored.stream_summary` with ``engine="dask"``) reduces the
ratings of a partitioned parquet data set (a folder of parquet files, or any fsspec
URL: ``s3://``, ``gs://``, ``abfs://``, a cluster file system) with ``dask.dataframe``
to the per-item table of :mod:`analysis.data.tidy_stream`, gathers it partition by
partition into the review matrix (one row per item; the client never holds the whole
table) and leaves the bootstrap to the caller, as the polars engine does. Without a
scheduler a :class:`distributed.LocalCluster` of this machine is started; with one,
the user's cluster is used (a ``dask-jobqueue`` SLURM cluster, say: README).

The same expressions as the polars engine: each partition (a pandas frame from
``dask.dataframe.read_parquet``) is parsed and reduced by
:func:`~analysis.data.tidy_stream.check_queries` and
:func:`~analysis.data.tidy_stream.item_query`, and the partial tables are combined by
a ``dask.dataframe`` group-by over items with sums, minima and maxima: counts, run bit masks and the sums
of scores of a rater add up exactly across partitions for scores on a binary grid
(integers, halves, quarters; every built-in scale), so the tables equal the polars
engine's byte for byte; scores with more digits can differ in the last bit of a sum
(another order of floating-point addition) — to 1e-12 in the tables. Row numbers in
error messages count the rows of the data set in partition order from 1.

Validation and the audit are :mod:`analysis.data.tidy_stream`'s (the same checks, one
pass each; a repeated rating is reported with its item and rater).
"""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path

import numpy as np
import polars as pl

from analysis.data.tidy import StudyFile, StudyFileError, read_study_file
from analysis.data.tidy_stream import (StreamedStudy, _columns, _parsed, check_errors, check_queries, combine_checks,
                                       item_query, reduce_items)

LOCAL_WORKERS = 2
"""Workers of the LocalCluster started without a scheduler (one per core of a laptop)."""

WORKER_MEMORY = "2GiB"
"""Memory limit of each LocalCluster worker."""


def ratings_location(study: StudyFile) -> str:
    """Where the ratings are: the study file's ``ratings`` as written when it is a URL
    (``scheme://...``), else the resolved local file or folder."""
    raw = tomllib.loads(study.path.read_text(encoding="utf-8")).get("ratings", "")
    return raw if "://" in str(raw) else str(study.ratings)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = LOCAL_WORKERS, memory_limit=WORKER_MEMORY,
                processes: bool = True):
    """A ``distributed.Client`` of ``scheduler`` (an address, ``tcp://host:8786``), or of a
    new :class:`~distributed.LocalCluster` (closed on exit) when ``scheduler`` is None."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, memory_limit=memory_limit, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _frame(part) -> pl.DataFrame:
    return pl.from_pandas(part)


def _checks_of(part, study: StudyFile, select) -> tuple:
    lf = _parsed(_frame(part).lazy(), select, study, 0)
    return (len(part), *pl.collect_all(check_queries(lf, study)))


def _items_of(part, study: StudyFile, select, everyone, n_raters: int):
    lf = _parsed(_frame(part).lazy(), select, study, 0)
    return item_query(lf, study, everyone, n_raters).collect().to_pandas()


def _rows_of(part, study: StudyFile, select, item: str, rater: str):
    lf = _parsed(_frame(part).lazy(), select, study, 0)
    return lf.filter((pl.col("item") == item) & (pl.col("rater") == rater)).select("row", "run").collect()


def dask_study(study: StudyFile | str | Path, *, scheduler: str | None = None, client=None,
               storage_options: dict | None = None) -> StreamedStudy:
    """:func:`analysis.data.tidy_stream.stream_study` with the reduction on Dask.

    ``scheduler``: the address of a running Dask scheduler; ``None`` starts a
    LocalCluster of :data:`LOCAL_WORKERS` workers of :data:`WORKER_MEMORY`. ``client``:
    an existing ``distributed.Client`` (then ``scheduler`` is not used).
    ``storage_options``: passed to ``dask.dataframe.read_parquet`` (credentials of an
    object store). Raises :class:`~analysis.data.tidy.StudyFileError` as the polars
    engine does.
    """
    import dask
    import dask.dataframe as dd

    study = study if isinstance(study, StudyFile) else read_study_file(study)
    if study.nominal:
        raise ValueError(f"{study.name}: nominal studies are loaded in memory (analysis.data.tidy.load_tidy)")
    where_from = ratings_location(study)
    rel = where_from.rstrip("/").rsplit("/", 1)[-1]
    if "://" not in where_from:
        path = Path(where_from)
        if path.suffix.lower() != ".parquet":
            raise StudyFileError(study.path, [f"key 'ratings': the Dask engine reads parquet (a file or a folder of "
                                              f"parquet files), not {rel}"])
        if not path.exists():
            raise StudyFileError(study.path, [f"key 'ratings': {path} not found"])
    with contextlib.nullcontext(client) if client is not None else dask_client(scheduler) as client:
        try:
            ddf = dd.read_parquet(where_from, storage_options=storage_options)
        except Exception as exc:  # any reader or filesystem error names the data set
            raise StudyFileError(study.path, [f"{rel}: cannot be read: {exc}"]) from None
        select = _columns(study, list(pl.from_pandas(ddf._meta).schema), rel)
        parts = ddf.to_delayed()
        # Pass 1: the checks of every partition (row numbers within it), then combined
        # with the partitions' offsets.
        results = dask.compute(*[dask.delayed(_checks_of)(p, study, select) for p in parts])
        offsets = np.concatenate([[1], 1 + np.cumsum([r[0] for r in results])])[:-1]
        attrs = pl.concat([r[1] for r in results])
        checks = pl.concat([r[2].with_columns(*[pl.col(c) + int(o) for c in ("bad_run", "null_item", "null_rater")])
                            for r, o in zip(results, offsets)], how="vertical_relaxed")
        raters = pl.concat([r[3].with_columns(pl.col("row") + int(o)) for r, o in zip(results, offsets)],
                           how="vertical_relaxed")
        attrs, checks, raters = combine_checks(attrs, checks, raters)
        checks, raters, evaluators, everyone = check_errors(study, attrs, checks, raters, rel, "parquet row")
        n_raters = len(study.references) + len(evaluators)

        # Pass 2: per-item partial tables, combined per item by a dask group-by, gathered.
        meta = item_query(_parsed(_frame(ddf._meta).lazy(), select, study, 0), study, everyone,
                          n_raters).collect().to_pandas()
        partial = dd.from_delayed([dask.delayed(_items_of)(p, study, select, everyone, n_raters) for p in parts],
                                  meta=meta, verify_meta=False)
        spec = {c: ("min" if c.endswith("_min") else "max" if c.endswith("_max") else "sum")
                for c in meta.columns if c != "item"}
        combined = partial.groupby("item", sort=False).agg(spec, split_out=max(1, partial.npartitions // 4))
        dtypes = _polars_dtypes(meta)

        def gathered():
            # One partition of the combined table at a time, as the workers finish them (each
            # item is in one partition): the client holds one partition and the review matrix,
            # never the whole table (compute() would first concatenate it on one worker).
            from distributed import as_completed

            futures = client.compute(combined.to_delayed())
            for future in as_completed(futures):
                frame = future.result()
                future.release()
                if len(frame):
                    # Back to the polars engine's dtypes (pandas sums widen them; nulls of strings).
                    yield pl.from_pandas(frame.reset_index()).select(pl.col("item").cast(pl.String), *[
                        pl.col(c).cast(pl.String) if c.endswith(("_min", "_max")) else pl.col(c).cast(t)
                        for c, t in dtypes.items() if c != "item"])

        def rows_of(item, rater):
            found = dask.compute(*[dask.delayed(_rows_of)(p, study, select, item, rater) for p in parts])
            return pl.concat([f.with_columns(pl.col("row") + int(o)) for f, o in zip(found, offsets)])

        return reduce_items(study, gathered(), checks, evaluators, everyone, rel, "parquet row", rows_of)


def _polars_dtypes(meta) -> dict:
    return dict(pl.from_pandas(meta).schema)


__all__ = ["LOCAL_WORKERS", "WORKER_MEMORY", "dask_client", "dask_study", "ratings_location"]
