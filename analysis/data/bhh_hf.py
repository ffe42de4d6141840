"""Between Help and Harm from its Hugging Face parquet export.

The data are also published as ``arnaiztech/llms-mental-health-crisis-responses``
(``python -m analysis fetch`` downloads it to ``<data root>/hf/llms-mental-health-crisis-
responses``). This reader returns the same :class:`~analysis.data.bhh.BHHData` as
:func:`analysis.data.bhh.load_bhh`, in the same ratings schema, with the same audit.

Layout read
-----------
One folder per config, as the Hub stores them (``<config>/*.parquet``, also accepted:
``data/<config>/*.parquet``, ``data/<config>-*.parquet``, ``<config>.parquet``):

``responses``
    ``response_id``, ``example_id`` (row of the validation set), ``answer_model``,
    ``response_text``; optional ``answer_run`` (else runs are numbered in
    ``response_id`` order within item and model), ``label`` (consensus crisis label).
``human_raw_scores``
    ``response_id``, ``example_id``, ``annotator`` (``H1``/``H2``), ``score``.
``llm_merged_evaluations_<evaluator>``
    ``response_id``, ``example_id``, ``evaluator_model``, ``score`` (mean of runs),
    ``score_runs`` (list of run scores), ``score_std``. Each run is one rating.
``llm_raw_evaluations_<evaluator>``
    ``response_id``, ``example_id``, ``evaluator_model``, ``run``, ``score``; read
    only for an evaluator that has no merged config.
``sampled_review_sets``
    ``example_id``, ``response_id`` of the answer shown to the humans; optional
    ``sampled_by`` (the evaluator whose lowest score chose it; ``gpt-4o-mini`` rows
    are the paper's review set).

Scores are whole points on 1-5, as in the repository layout: a fraction or a value off
the range is excluded with its reason (the merged ``score``, a mean of runs, is not read).
The join is by ``response_id`` (a key, unlike answer text). A rating whose
``response_id`` is not in ``responses`` is excluded with reason "joins no response".
The dataset card could not be read from this machine: column names follow the
description in the project brief; a missing column is an error naming the config
and the column, so a layout change is caught at once.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.data.bhh import DATASET, EVALUATOR_PREFIX, INTEGER_SCALE, MODEL_NAMES, SCALE, BHHData
from analysis.data.ratings import REASON_MISSING, REASON_NO_CONSENSUS, Audit, DataError, make_ratings, parse_score

HF_REPO = "arnaiztech/llms-mental-health-crisis-responses"
HF_DIR = "hf/llms-mental-health-crisis-responses"
REASON_NO_JOIN = "joins no response"
_SHORT = {**MODEL_NAMES, **{v: v for v in MODEL_NAMES.values()}}


def _config_files(root: Path, config: str) -> list[Path]:
    patterns = [f"{config}/**/*.parquet", f"data/{config}/**/*.parquet", f"data/{config}-*.parquet",
                f"{config}.parquet", f"{config}-*.parquet"]
    found: list[Path] = []
    for pattern in patterns:
        found += sorted(root.glob(pattern))
    return sorted(set(found))


def _read_config(root: Path, config: str, required: tuple[str, ...], optional: bool = False) -> pl.DataFrame | None:
    files = _config_files(root, config)
    if not files:
        if optional:
            return None
        raise DataError(f"{config}/", None, f"config {config!r} not found under {root}")
    frames = []
    for f in files:
        try:
            frame = pl.read_parquet(f)
        except Exception as exc:  # polars raises several types for a broken file
            raise DataError(str(f.relative_to(root)), None, f"unreadable parquet: {exc}") from None
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DataError(str(f.relative_to(root)), None, f"config {config!r} lacks columns {missing}")
        frames.append(frame.with_columns(pl.lit(str(f.relative_to(root))).alias("__file"),
                                         pl.int_range(pl.len()).alias("__row")))
    return pl.concat(frames, how="diagonal_relaxed")


def _model(name: str, where: str) -> str:
    if name not in _SHORT:
        raise DataError(where, None, f"unknown answer model {name!r}; known: {sorted(_SHORT)}")
    return _SHORT[name]


def load_bhh_hf(path: str | Path) -> BHHData:
    """Read the parquet export at ``path`` (see the module docstring for the layout)."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: run `python -m analysis fetch` or pass the folder "
                                f"holding the {HF_REPO} export")
    audit = Audit(DATASET)
    resp = _read_config(root, "responses", ("response_id", "example_id", "answer_model"))
    if resp["response_id"].is_duplicated().any():
        dup = resp.filter(pl.col("response_id").is_duplicated()).row(0, named=True)
        raise DataError(dup["__file"], f"row {dup['__row']}", f"duplicated response_id {dup['response_id']!r}")
    resp = resp.with_columns(pl.Series("answer_model", [_model(m, "responses/") for m in resp["answer_model"]]))
    if "answer_run" not in resp.columns:
        resp = resp.sort("example_id", "answer_model", "response_id").with_columns(
            pl.col("response_id").cum_count().over("example_id", "answer_model").alias("answer_run"))
    label_col = "label" if "label" in resp.columns else None
    n = int(resp["example_id"].max()) + 1
    item = lambda i: f"bhh-val-{int(i):03d}"  # noqa: E731
    categories = {}
    if label_col:
        for ex, lab in resp.select("example_id", label_col).unique().sort("example_id").iter_rows():
            categories[int(ex)] = lab or None
    for f, r in resp.select("__file", "__row").iter_rows():
        audit.used(f, f"row {r}", detail="answer")
    responses = resp.select(
        pl.col("response_id").cast(pl.String), pl.col("example_id").map_elements(item, return_dtype=pl.String)
        .alias("item_id"), pl.col("answer_model").cast(pl.String), pl.col("answer_run").cast(pl.Int32),
        pl.col("__file").alias("source_file"), pl.col("__row").cast(pl.Int64).alias("row"),
        (pl.col("response_text").str.len_chars().cast(pl.Int64) if "response_text" in resp.columns
         else pl.lit(None, pl.Int64)).alias("answer_chars"),
    ).sort("response_id")
    key = {r: (m, run, ex) for r, m, run, ex in resp.select("response_id", "answer_model", "answer_run",
                                                            "example_id").iter_rows()}

    rows: list[tuple] = []

    def add(rid, rater, kind, run, value, f, record):
        if rid not in key:
            audit.excluded(f, record, REASON_NO_JOIN, rater=rater, detail=repr(rid))
            return
        model, arun, ex = key[rid]
        cat = categories.get(int(ex))
        score, reason = parse_score(value, SCALE, integer=INTEGER_SCALE)
        if reason == REASON_MISSING and label_col and cat is None:
            reason = REASON_NO_CONSENSUS
        if reason:
            audit.excluded(f, record, reason, rater=rater, detail=repr(value))
            return
        rows.append((item(ex), rid, model, int(arun), cat, rater, kind, run, score, f, record))
        audit.used(f, record, rater=rater)

    for evaluator in EVALUATOR_PREFIX:
        merged = _read_config(root, f"llm_merged_evaluations_{evaluator}", ("response_id", "score_runs"), optional=True)
        if merged is not None:
            for rid, runs, f, r in merged.select("response_id", "score_runs", "__file", "__row").iter_rows():
                for k, value in enumerate(runs if runs is not None else [None] * 3, start=1):
                    add(rid, evaluator, "llm", k, value, f, f"row {r} run {k}")
            continue
        raw = _read_config(root, f"llm_raw_evaluations_{evaluator}", ("response_id", "run", "score"), optional=True)
        if raw is None:
            raise DataError(f"llm_merged_evaluations_{evaluator}/", None,
                            f"neither merged nor raw evaluations of {evaluator} under {root}")
        for rid, run, value, f, r in raw.select("response_id", "run", "score", "__file", "__row").iter_rows():
            add(rid, evaluator, "llm", int(run), value, f, f"row {r}")

    humans = _read_config(root, "human_raw_scores", ("response_id", "annotator", "score"))
    for rid, who, value, f, r in humans.select("response_id", "annotator", "score", "__file", "__row").iter_rows():
        add(rid, str(who), "human", 1, value, f, f"row {r}")

    review = _read_config(root, "sampled_review_sets", ("example_id", "response_id"))
    if "sampled_by" in review.columns:
        review = review.filter(pl.col("sampled_by") == "gpt-4o-mini")
    for f, r in review.select("__file", "__row").iter_rows():
        audit.used(f, f"row {r}", detail="review answer")
    ratings = make_ratings(pl.DataFrame(rows, schema=[
        "item_id", "response_id", "answer_model", "answer_run", "category", "rater", "rater_kind", "eval_run",
        "score", "source_file", "source_record"], orient="row").with_columns(
        pl.lit(DATASET).alias("dataset"), pl.lit("appropriateness").alias("attribute")))
    scored = ratings.filter(pl.col("rater_kind") == "human").group_by("response_id").agg(
        pl.col("rater").n_unique().alias("n_humans"))
    n_humans = max(1, humans["annotator"].n_unique())
    review_set = (review.select(pl.col("example_id").map_elements(item, return_dtype=pl.String).alias("item_id"),
                                pl.col("response_id").cast(pl.String), pl.lit(None, pl.String).alias("sampled_from"))
                  .with_columns(pl.col("item_id").replace_strict(
                      {item(k): v for k, v in categories.items()}, default=None, return_dtype=pl.String)
                      .alias("category"))
                  .join(scored, on="response_id", how="left")
                  .with_columns((pl.col("n_humans").fill_null(0) == n_humans).alias("has_scores"))
                  .drop("n_humans").sort("item_id"))
    items = pl.DataFrame({"item_id": [item(i) for i in range(n)], "row": list(range(n)),
                          "dataset_id": [None] * n, "n_turns": [None] * n,
                          "category": [categories.get(i) for i in range(n)]},
                         schema={"item_id": pl.String, "row": pl.Int64, "dataset_id": pl.String,
                                 "n_turns": pl.Int64, "category": pl.String})
    labels = pl.DataFrame({"item_id": items["item_id"], "rater": "consensus", "label": items["category"],
                           "source_file": "responses/"})
    evaluators = tuple(sorted(set(ratings.filter(pl.col("rater_kind") == "llm")["rater"].to_list()),
                              key=lambda e: (e not in EVALUATOR_PREFIX, list(EVALUATOR_PREFIX).index(e)
                                             if e in EVALUATOR_PREFIX else 0, e)))
    # Evaluators and answer models share short names in the export: an evaluator's own
    # family is the answer model of the same name, where there is one.
    models = set(responses["answer_model"].to_list())
    return BHHData(items=items, responses=responses, ratings=ratings, review_set=review_set, crisis_labels=labels,
                   rubric=pl.DataFrame(), audit=audit.to_frame(), evaluators=evaluators,
                   own_answer_model={e: e if e in models else None for e in evaluators})
