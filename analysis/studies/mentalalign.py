"""Human versus LLM-judge alignment on MentalAlign-70k, at the system and response level.

System level (as the MentalBench-Align authors): for one judge and attribute, the
``n_sources x 2`` matrix of per-source mean scores (human, judge), the judge's own model
family left out, and its ICC(C,1) / ICC(A,1). The means use the responses both the human
and the judge rated (pairwise deletion), which is what reproduces the published tables.

Response level (not in the paper): the ICCs of the ~9,000 individual (human, judge)
pairs, with a cluster bootstrap over conversations (the 9 responses to one conversation
are not independent). Its F interval treats the responses as independent and is
labelled so (``ci_assumes`` ``"...; responses independent"``): under clustering it is
too narrow (``docs/coverage.md``); read the cluster bootstrap.

Which interval to read: the judge and the human are fixed raters, so the bootstrap
rows (``ci_assumes`` ``"resampled clusters"``) answer "how well does this judge agree
with the human on conversations like these?". The F rows of ICC(A,1) assume raters
sampled at random (``"raters random"``, McGraw & Wong 1996 case 2A). Every ICC and bias
table carries ``n_valid`` (finite bootstrap replicates), ``ci_note`` (the caveats of
:mod:`analysis.stats.intervals`) and ``n_dropped`` (responses of the attribute with only
one of the two ratings, left out: pairwise deletion).

Bias: ``judge − human`` on the same pairs, in points on the 1-5 scale, with its
cluster-bootstrap CI, the mean squared difference and its decomposition
(:func:`analysis.stats.bias.mse_decomposition`).
"""

from __future__ import annotations


import numpy as np
import polars as pl

from analysis.stats.bootstrap import bootstrap
from analysis.stats.threads import one_blas_thread
from analysis.data.mentalalign import OWN_FAMILY
from analysis.studies.attributes import (KOO_LI_BANDS, JudgePairs, bias_row, cross_attribute_table,  # noqa: F401
                                         koo_li_band, koo_li_category, overview_forest, pairs_of)
from analysis.stats.icc import ICC_SCHEMA, ICC_TYPES, f_columns, icc_batch, intraclass_corr
from analysis.stats.intervals import ci_note

_A1, _C1 = 1, 2  # positions of ICC(A,1) and ICC(C,1) in analysis.stats.icc.ICC_TYPES


def judge_pairs(ratings: pl.DataFrame, judge: str, attribute: str, *, exclude_own_family: bool = True) -> JudgePairs:
    """The (human, judge) score pairs of one attribute, sorted by response
    (:func:`analysis.studies.attributes.pairs_of`).

    ``exclude_own_family`` leaves out the responses of the judge's own model family, as
    the authors do, for the paper's judges (:data:`~analysis.data.mentalalign.OWN_FAMILY`);
    a judge not in the paper has no known family and keeps every source. Responses with
    only one of the two ratings are left out and listed by source in ``dropped_sources``.
    """
    return pairs_of(ratings, judge, attribute, reference="human", own_family=OWN_FAMILY if exclude_own_family else {})


def _conversation_sums(p: JudgePairs) -> np.ndarray:
    """Per conversation: pair counts, human sums and judge sums by source, ``(n_conv, 3 S)``."""
    n_src = len(p.sources)
    _, conv = np.unique(p.conversation, return_inverse=True)
    flat = conv * n_src + p.source
    size = (conv.max() + 1) * n_src
    parts = [np.bincount(flat, w, size).reshape(-1, n_src) for w in (None, p.human, p.judge)]
    return np.concatenate(parts, axis=1).astype(float)


def _means_from_sums(sums: np.ndarray, n_src: int) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        counts = sums[..., :n_src]
        return np.stack([sums[..., n_src:2 * n_src] / counts, sums[..., 2 * n_src:] / counts], axis=-1)


def source_means(p: JudgePairs) -> np.ndarray:
    """Per-source mean (human, judge) over the pairs: shape ``(n_sources, 2)``."""
    return _means_from_sums(_conversation_sums(p).sum(axis=0), len(p.sources))


def system_level_icc(p: JudgePairs, *, n_boot: int = 2000, seed: int = 0, method: str = "bca") -> pl.DataFrame:
    """ICC(C,1) and ICC(A,1) of the per-source means, F-based and bootstrap intervals.

    The bootstrap resamples conversations (all the pairs of a drawn conversation come
    along) and recomputes the source means and their ICC, keeping every replicate:
    replicates outside [0, 1] are legitimate values of the estimator, and dropping them
    (as the paper's script does) shifts the interval upwards. This interval describes
    the uncertainty from the sample of conversations with the 9 sources fixed; the
    F-based interval treats the 9 sources as a sample of sources, hence much wider.

    Columns ``type, icc, ci_low, ci_high, ci_method, n_valid, ci_note, ci_assumes,
    level, n, n_dropped``. The bootstrap rows resample conversations: ``ci_assumes``
    ``"resampled clusters"``, and ``ci_note`` follows the cluster rules (fewer than 20
    conversations: ``too few clusters``).
    """
    means = source_means(p)
    f = intraclass_corr(means, ci="f").filter(pl.col("type").is_in(["ICC(C,1)", "ICC(A,1)"]))
    n_src = len(p.sources)
    res = bootstrap(_conversation_sums(p),
                    lambda s, weights: icc_batch(_means_from_sums(weights @ s, n_src))[..., [_C1, _A1]],
                    n_boot=n_boot, method=method, seed=seed)
    # The rows resampled are conversations (clusters of responses): the cluster rules apply.
    notes = ci_note(res.ci_low, res.ci_high, estimate=res.estimate, n_units=res.n_units, unit="clusters",
                    n_boot=res.n_boot, n_valid=res.n_valid)
    boot = pl.DataFrame({"type": ["ICC(C,1)", "ICC(A,1)"], "icc": res.estimate.tolist(),
                         "ci_low": res.ci_low.tolist(), "ci_high": res.ci_high.tolist(),
                         "ci_method": [{"bca": "BCa", "percentile": "percentile"}[method]] * 2,
                         "n_valid": res.n_valid.tolist(), "ci_note": notes.tolist(),
                         "ci_assumes": ["resampled clusters"] * 2},
                        schema_overrides={"n_valid": pl.Int64})
    return pl.concat([f.select("type", "icc", "ci_low", "ci_high", "ci_method", "n_valid", "ci_note", "ci_assumes"),
                      boot]).with_columns(pl.lit("system").alias("level"), pl.lit(means.shape[0]).alias("n"),
                                          pl.lit(p.n_dropped, dtype=pl.Int64).alias("n_dropped"))


def response_level_icc(p: JudgePairs, *, n_boot: int = 2000, seed: int = 0, method: str = "bca") -> pl.DataFrame:
    """ICC(C,1) and ICC(A,1) of the individual pairs; cluster bootstrap over conversations.

    The F rows treat the responses as independent, which they are not (9 responses per
    conversation): their ``ci_assumes`` says so (``"raters random; responses
    independent"``, ``"raters fixed; responses independent"``) and they are too narrow
    under clustering; the bootstrap rows (``"resampled clusters"``) are the ones to read.
    Columns as :func:`system_level_icc`.
    """
    x = np.column_stack([p.human, p.judge])
    frames = []
    for ci in ("f", method):
        res = intraclass_corr(x, ci=ci, n_boot=n_boot, seed=seed, clusters=p.conversation if ci != "f" else None)
        res = res.filter(pl.col("type").is_in(["ICC(C,1)", "ICC(A,1)"]))
        if ci == "f":
            res = res.with_columns((pl.col("ci_assumes") + "; responses independent").alias("ci_assumes"))
        frames.append(res.select("type", "icc", "ci_low", "ci_high", "ci_method", "n_valid", "ci_note", "ci_assumes"))
    return pl.concat(frames).with_columns(pl.lit("response").alias("level"), pl.lit(x.shape[0]).alias("n"),
                                          pl.lit(p.n_dropped, dtype=pl.Int64).alias("n_dropped"))


def human_table(ratings: pl.DataFrame) -> pl.DataFrame:
    """Mean human score per response source x attribute (points on 1-5), and their mean."""
    from analysis.data.mentalalign import ATTRIBUTES, SOURCES

    h = ratings.filter(pl.col("rater") == "human")
    wide = h.group_by("answer_model", "attribute").agg(pl.col("score").mean()).pivot(
        on="attribute", index="answer_model", values="score").select("answer_model", *ATTRIBUTES)
    return (wide.with_columns(pl.mean_horizontal(*ATTRIBUTES).alias("Avg"),
                              pl.col("answer_model").replace_strict(SOURCES).alias("model"))
            .select("answer_model", "model", *ATTRIBUTES, "Avg").sort("Avg", descending=True))


VARIANTS = ("as_published", "clean")
"""``as_published``: the authors' choices (ratings outside 1-5 kept, the human-written
``original`` response a source, own family excluded); ``clean``: ratings outside 1-5
excluded, everything else the same."""


def _judge_cells(ratings_as_published: pl.DataFrame, judge: str) -> list[tuple[str, str, JudgePairs]]:
    """``(variant, attribute, pairs)`` of every cell of one judge, from one pivot.

    Each ``pairs`` equals ``judge_pairs(ratings, judge, attribute)`` on the variant's
    ratings (tested): ``as_published`` as given, ``clean`` without the ratings outside
    1-5, so a response whose two ratings are both off the scale is absent from the clean
    cell and one with a single off-scale rating is a dropped response.
    """
    from analysis.data.mentalalign import ATTRIBUTES

    if not (ratings_as_published["rater"] == judge).any():
        judge_pairs(ratings_as_published, judge, ATTRIBUTES[0])  # raises, naming the judges in the data
    sub = ratings_as_published.filter(pl.col("rater").is_in(["human", judge]))
    if OWN_FAMILY.get(judge):
        sub = sub.filter(pl.col("answer_model") != OWN_FAMILY[judge])
    wide = sub.pivot(on="rater", index=["attribute", "response_id", "item_id", "answer_model"], values="score")
    if "human" not in wide.columns or judge not in wide.columns:
        return [(v, a, judge_pairs(r, judge, a)) for v, r in
                zip(VARIANTS, (ratings_as_published, ratings_as_published.filter(pl.col("score").is_between(1, 5))))
                for a in ATTRIBUTES]
    # Sorted by response only (a response id is unique within an attribute): the
    # partitions keep that order, and one string key sorts 5x faster than two.
    wide = wide.sort("response_id").with_columns((pl.col("answer_model").rank("dense") - 1).alias("_src"))
    parts = wide.partition_by("attribute", as_dict=True, maintain_order=True)
    names = wide.select("_src", "answer_model").unique().sort("_src")["answer_model"].to_list()
    cells = []
    for variant in VARIANTS:
        for attribute in ATTRIBUTES:
            w = parts.get((attribute,))
            if w is None:
                judge_pairs(sub.head(0), judge, attribute)  # raises: no pair of this attribute
            h = w["human"].to_numpy().astype(float)
            j = w[judge].to_numpy().astype(float)
            if variant == "clean":
                with np.errstate(invalid="ignore"):
                    h = np.where((h >= 1) & (h <= 5), h, np.nan)
                    j = np.where((j >= 1) & (j <= 5), j, np.nan)
            both = ~np.isnan(h) & ~np.isnan(j)
            dropped = (~np.isnan(h) | ~np.isnan(j)) & ~both
            if not both.any():
                raise ValueError(f"no response has both a human and a {judge} rating of {attribute}")
            src = w["_src"].to_numpy()
            present, code = np.unique(src[both], return_inverse=True)
            cells.append((variant, attribute, JudgePairs(
                human=h[both], judge=j[both], source=code.ravel(), conversation=w["item_id"].to_numpy()[both],
                sources=tuple(names[s] for s in present),
                dropped_sources=tuple(names[s] for s in src[dropped]))))
    return cells


def _cell_units(p: JudgePairs, conv: np.ndarray, n_conv: int) -> np.ndarray:
    """Per-conversation sufficient statistics of one cell, ``(n_conv, 3 S + 5)``.

    Columns, each a sum over the cell's pairs of one conversation: by source the pair
    counts, the human scores and the judge scores (the source means of the system level,
    the bias and the bias by source), then the
    :func:`~analysis.stats.icc.row_statistics` of the (human, judge) pairs (the mean
    squares of the response level). ``conv``: the conversation number of every pair
    among the judge's sorted conversations; a conversation without a pair here is a row
    of zeros.
    """
    from analysis.stats.icc import row_statistics

    n_src = len(p.sources)
    flat = conv * n_src + p.source
    size = n_conv * n_src
    system = [np.bincount(flat, w, size).reshape(-1, n_src) for w in (None, p.human, p.judge)]
    rows = row_statistics(np.column_stack([p.human, p.judge]))
    response = np.stack([np.bincount(conv, rows[:, c], n_conv) for c in range(rows.shape[1])], axis=1)
    return np.concatenate([*system, response], axis=1).astype(float)


def _cells_statistic(sums: np.ndarray, groups: list[tuple[int, np.ndarray, np.ndarray]], n_out: int) -> np.ndarray:
    """Every statistic of every cell from summed :func:`_cell_units`: ``(..., n_out)``.

    Per cell, in this order: system-level ICC(C,1), ICC(A,1); response-level ICC(A,1),
    ICC(C,1); bias (judge − human); the bias of each source. Cells with the same number
    of sources are computed together (``groups``: number of sources, the cells' columns
    ``(C, 3 S + 5)``, their outputs ``(C, 5 + S)``).
    """
    from analysis.stats.icc import icc_from_mean_squares, mean_squares_from_sums, summed_row_statistics

    out = np.empty(sums.shape[:-1] + (n_out,))
    with np.errstate(invalid="ignore", divide="ignore"):
        for n_src, columns, outputs in groups:
            g = sums[..., columns]  # (..., C, 3 S + 5)
            count, human, judge = g[..., :n_src], g[..., n_src:2 * n_src], g[..., 2 * n_src:3 * n_src]
            means = np.stack([human / count, judge / count], axis=-2)  # (..., C, 2 raters, S sources)
            system = icc_from_mean_squares(mean_squares_from_sums(summed_row_statistics(means), 2))[..., [_C1, _A1]]
            response = icc_from_mean_squares(mean_squares_from_sums(g[..., 3 * n_src:], 2))[..., [_A1, _C1]]
            bias = (judge.sum(axis=-1) - human.sum(axis=-1)) / count.sum(axis=-1)
            by_source = (judge - human) / count
            out[..., outputs.ravel()] = np.concatenate([system, response, bias[..., None], by_source],
                                                       axis=-1).reshape(out.shape[:-1] + (outputs.size,))
    return out


def alignment_tables(ratings_as_published: pl.DataFrame, judge: str, *, n_boot: int = 2000, seed: int = 0,
                     authors: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """``icc``, ``bias`` and ``bias_by_source`` tables of one judge, both variants.

    ``bias_by_source``: per response source, the bias (judge − human, points) with a BCa
    cluster-bootstrap CI over conversations and the mean squared difference.

    The ``icc`` table ends with ``n_valid, ci_note, ci_assumes, n_dropped`` (see
    :func:`system_level_icc`, :func:`response_level_icc`), ``bias`` and
    ``bias_by_source`` with ``n_valid, ci_note, n_dropped``.

    ``ratings_as_published`` is :func:`~analysis.data.mentalalign.load_mentalalign`
    with ``keep_off_scale=True``; the clean variant drops its ratings outside 1-5
    (identical to loading with the default).

    One resampling plan for every interval of the judge: the ``n_boot`` resamples of the
    judge's conversations (those with a pair in any cell, sorted) are drawn once from
    ``seed`` (:class:`~analysis.stats.bootstrap.ResamplePlan`), and every bootstrap
    interval of the three tables (both levels, the bias and the bias of each source, 7
    attributes x 2 variants) is computed on those same resamples, in one vectorised
    bootstrap of the per-conversation sums of :func:`_cell_units` with the O(n)
    jackknife of a statistic of sums. The intervals are jointly consistent (a difference
    between two cells can be bootstrapped from the same replicates). A drawn
    conversation without a pair in a cell (e.g. one lacking a source's response)
    contributes nothing to that cell: the resampled design is the judge's sample of
    conversations. Point estimates and F rows are those of :func:`system_level_icc`,
    :func:`response_level_icc` and :func:`bias_row`; the BCa bounds equal those of
    :func:`analysis.stats.bootstrap.bootstrap` run cell by cell on the same plan (tested).
    """
    from analysis.stats.bias import mse_decomposition
    from analysis.stats.bootstrap import ResamplePlan
    from analysis.stats.intervals import SEPARATOR

    labels = {} if authors is None else {
        a: lab for j, a, lab in authors.select("judge", "attribute", "authors_label").iter_rows() if j == judge}
    cells = _judge_cells(ratings_as_published, judge)
    # Conversation numbers in sorted order (polars: np.unique on 10^5 strings is slow).
    labels_all = pl.Series(np.concatenate([p.conversation for _, _, p in cells]), dtype=pl.String)
    conv = (labels_all.rank("dense") - 1).to_numpy().astype(np.int64)
    n_conv = int(conv.max()) + 1
    units, groups, col, at, slices = [], {}, 0, 0, []
    bounds = np.cumsum([0] + [p.conversation.size for _, _, p in cells])
    for c, (_, _, p) in enumerate(cells):
        n_src = len(p.sources)
        units.append(_cell_units(p, conv[bounds[c]:bounds[c + 1]], n_conv))
        cols, outs = groups.setdefault(n_src, ([], []))
        cols.append(np.arange(col, col + 3 * n_src + 5))
        outs.append(np.arange(at, at + 5 + n_src))
        slices.append(slice(at, at + 5 + n_src))
        col, at = col + 3 * n_src + 5, at + 5 + n_src
    groups = [(n_src, np.stack(cols), np.stack(outs)) for n_src, (cols, outs) in groups.items()]
    # Each conversation is its own cluster: the intervals carry the cluster rules
    # (``ci_note`` "too few clusters" below 20 conversations).
    plan = ResamplePlan(n_conv, n_boot, seed, clusters=np.arange(n_conv), cache_mib=0)
    with one_blas_thread():
        res = bootstrap(np.concatenate(units, axis=1), lambda s: _cells_statistic(s, groups, at), sums=True,
                        plan=plan, method="bca")
    # Rows are assembled as dicts and become one frame at the end: a few polars
    # operations per cell (filter, concat, with_columns) cost more than the bootstrap.
    icc_rows, bias_rows, by_source = [], [], []
    for c, ((variant, attribute, p), sl) in enumerate(zip(cells, slices)):
        low, high, valid, note = (np.asarray(a)[sl] for a in (res.ci_low, res.ci_high, res.n_valid, res.ci_note))
        x = np.column_stack([p.human, p.judge])
        n_src = len(p.sources)
        counts, sums_h, sums_j = np.split(units[c][:, :3 * n_src].sum(axis=0), 3)
        means = np.column_stack([sums_h / counts, sums_j / counts])
        for level, (f_cols, reasons), idx, types in (("system", f_columns(means), [0, 1], ["ICC(C,1)", "ICC(A,1)"]),
                                                     ("response", f_columns(x), [2, 3], ["ICC(A,1)", "ICC(C,1)"])):
            f_rows = [{key: f_cols[key][i] for key in f_cols} for i in (_A1, _C1)]
            common = dict(level=level, n=means.shape[0] if level == "system" else x.shape[0],
                          n_dropped=p.n_dropped, variant=variant, attribute=attribute)
            for r in f_rows:
                icc_rows.append({key: r[key] for key in ("type", "icc", "ci_low", "ci_high", "ci_method", "n_valid",
                                                         "ci_note")}
                                | {"ci_assumes": r["ci_assumes"] + ("; responses independent" if level == "response"
                                                                     else "")} | common)
            f_icc = {r["type"]: r["icc"] for r in f_rows}
            # As intraclass_corr: the reason an ICC is undefined goes before the interval's notes.
            why = {ICC_TYPES[i]: reasons[i] if level == "response" else "" for i in (_A1, _C1)}
            # The estimate is the F row's, to the last digit: the bootstrap's statistic of
            # sums gives the same ICC summed in another order (equal to 1e-15).
            for t, i in zip(types, idx):
                icc_rows.append(dict(type=t, icc=f_icc[t],
                                     ci_low=float(low[i]), ci_high=float(high[i]), ci_method="BCa",
                                     n_valid=int(valid[i]),
                                     ci_note=SEPARATOR.join(s for s in (why[t], str(note[i])) if s),
                                     ci_assumes="resampled clusters") | common)
        dec = mse_decomposition(p.judge, p.human)
        bias_rows.append(dict(variant=variant, attribute=attribute, human_mean=float(p.human.mean()),
                              judge_mean=float(p.judge.mean()), bias=float(np.mean(p.judge - p.human)),
                              ci_low=float(low[4]), ci_high=float(high[4]), mse=dec.mse, n=int(p.human.size),
                              bias_sq=dec.bias_sq, scale=dec.scale, correlation=dec.correlation,
                              n_valid=int(valid[4]), ci_note=str(note[4]), n_dropped=p.n_dropped))
        for s, source in enumerate(p.sources):
            m = p.source == s
            by_source.append(dict(variant=variant, attribute=attribute, source=source,
                                  human_mean=float(p.human[m].mean()), judge_mean=float(p.judge[m].mean()),
                                  bias=float(np.mean(p.judge[m] - p.human[m])), ci_low=float(low[5 + s]),
                                  ci_high=float(high[5 + s]), mse=float(np.mean((p.judge[m] - p.human[m]) ** 2)),
                                  n=int(m.sum()), n_valid=int(valid[5 + s]), ci_note=str(note[5 + s]),
                                  n_dropped=p.dropped_sources.count(source)))
    icc = pl.DataFrame(icc_rows, schema={**{c: ICC_SCHEMA[c] for c in ("type", "icc", "ci_low", "ci_high", "ci_method",
                                                                       "n_valid", "ci_note", "ci_assumes")},
                                         "level": pl.String, "n": pl.Int32, "n_dropped": pl.Int64,
                                         "variant": pl.String, "attribute": pl.String}).with_columns(
        pl.struct("ci_low", "ci_high").map_elements(lambda r: koo_li_category(r["ci_low"], r["ci_high"]),
                                                    return_dtype=pl.String).alias("category_koo_li"),
        pl.col("attribute").replace_strict(labels, default=None, return_dtype=pl.String).alias("authors_label"),
    ).select("variant", "level", "attribute", "type", "icc", "ci_low", "ci_high", "ci_method", "n",
             "category_koo_li", "authors_label", "n_valid", "ci_note", "ci_assumes", "n_dropped")
    bias = pl.DataFrame(bias_rows).select("variant", "attribute", "human_mean", "judge_mean", "bias", "ci_low",
                                          "ci_high", "mse", "n", "bias_sq", "scale", "correlation", "n_valid",
                                          "ci_note", "n_dropped")
    return {"icc": icc, "bias": bias, "bias_by_source": pl.DataFrame(by_source)}


# --- the study's hooks (its registry entry, analysis.studies.registry) ------------------

def alignment_overview(study, *, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """MentalAlign-70k: one row per judge × attribute, response level, clean variant
    (off-scale ratings excluded): ICC(A,1) and ICC(C,1) with cluster-bootstrap BCa
    intervals over conversations, bias = judge − human (points) with its interval, and
    the Koo & Li verdict (:func:`analysis.studies.attributes.cross_attribute_table`)."""
    from analysis.data.mentalalign import ATTRIBUTES

    clean = study.data.ratings.filter(pl.col("score").is_between(1, 5))
    return cross_attribute_table(clean, study.evaluators, ATTRIBUTES, reference="human", own_family=OWN_FAMILY,
                                 n_boot=n_boot, seed=seed)


def summary_tables(study, *, n_boot: int, seed: int) -> dict[str, pl.DataFrame]:
    """``summary``: judge x attribute: system-level ICC(C,1)/ICC(A,1) of the per-source
    means (the paper's cells) and bias = judge - human with its cluster-bootstrap BCa CI,
    on the data as published (off-scale ratings kept, flagged in the audit)."""
    from analysis.data.mentalalign import ATTRIBUTES
    from analysis.data.ratings import audit_summary

    rows = []
    for k, judge in enumerate(study.evaluators):
        for a, attribute in enumerate(ATTRIBUTES):
            pairs = judge_pairs(study.data.ratings, judge, attribute)
            icc = icc_batch(source_means(pairs))
            b = bias_row(pairs, n_boot=n_boot, seed=int(np.random.SeedSequence([seed, k, a]).generate_state(1)[0]))
            rows.append(dict(judge=judge, attribute=attribute, n_sources=len(pairs.sources), n_pairs=b["n"],
                             icc_c1=float(icc[2]), icc_a1=float(icc[1]), human_mean=b["human_mean"],
                             judge_mean=b["judge_mean"], bias=b["bias"], ci_low=b["ci_low"], ci_high=b["ci_high"]))
    kept = study.data.audit.filter(pl.col("reason") == "off-scale kept (authors' choice)").height
    return {"audit": audit_summary(study.data.audit), "alignment": pl.DataFrame(rows),
            "_meta": pl.DataFrame({"header": [f"{len(study.evaluators)} judges x {len(ATTRIBUTES)} attributes, "
                                              f"data as published ({kept} off-scale ratings kept, see the audit)"],
                                   "scale": ["ICC of the per-source means (system level, judge's own family left "
                                             "out); bias = judge - human, points on 1-5, BCa CI over conversations"]})}


def export_study(study, out_dir, *, title: str) -> list:
    """``export``: one multi-attribute study (an ``attribute`` column with the seven
    attributes), conversations as clusters, answer models as sources, each judge's own
    model family as its ``own_source`` (left out of its cells, as the authors do). The
    ratings outside 1-5 are written as published: loading the file excludes them (the
    ``clean`` variant), so its judge × attribute overview equals :func:`alignment_overview`."""
    from pathlib import Path

    from analysis.data.tidy import write_study

    spec = study.spec
    tidy = study.data.ratings.select(pl.col("response_id").alias("item"), "rater", "score",
                                     pl.col("item_id").alias("cluster"), pl.col("answer_model").alias("source"),
                                     "attribute").sort("attribute", "item", "rater")
    if tidy["score"].len() and (tidy["score"] == tidy["score"].round(0)).all():
        tidy = tidy.with_columns(pl.col("score").cast(pl.Int64))
    own = {j: OWN_FAMILY.get(j) for j in study.evaluators}
    return [write_study(tidy, Path(out_dir), name=f"{spec.name}-export", title=title, references=spec.references,
                        scale=(1, 5), integer=True, own_source=own)]


def ppi_populations(data_root=None) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """``ppi-check``: every judge x attribute, ``(judge, attribute, y = human, yhat = judge)``
    over the responses both rated on a whole point of 1-5 (the ``clean`` variant), every
    response source (PPI needs no leave-own-family-out)."""
    from analysis.data.mentalalign import ATTRIBUTES, load_mentalalign

    data = load_mentalalign(data_root)  # default: ratings outside 1-5 excluded
    out = []
    for judge in data.judges:
        for attribute in ATTRIBUTES:
            p = judge_pairs(data.ratings, judge, attribute, exclude_own_family=False)
            out.append((judge, attribute, p.human, p.judge))
    return out


def bench_analysis(study, *, n_boot: int, seed: int) -> None:
    """What ``bench`` times: :func:`alignment_tables` of every judge (28 cells, both levels,
    both variants, per-source bias)."""
    for judge in study.evaluators:
        alignment_tables(study.data.ratings, judge, n_boot=n_boot, seed=seed)
