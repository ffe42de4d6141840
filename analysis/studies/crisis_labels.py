"""Crisis-label agreement of the 4 human annotators and the 3 LLM labellers of Between Help and Harm.

What this reproduces
--------------------
The authors' ``outputs/crisis_label_agreement/agreement_report.md`` and its
``summaries/*.csv``, written by their ``scripts/agreement_rate.py`` (repository
github.com/ellisalicante/LLMs-Mental-Health-Crisis, read at commit d168dce): pairwise
agreement (%) and Cohen's kappa of the 13 label sets (H1-H4, then gpt-4o-mini,
gpt-5-nano and Llama-4-Scout, 3 runs each: 78 pairs), the confusion matrix of every
pair, and three summaries (all 78 pairs, the 6 human-human pairs, the 36 human-LLM
pairs) with the s-balanced matrix ``s(i, j) = P(j | i) + P(i | j)`` and the most
confused labels and label pairs.

How the authors aggregate (read from their script, checked against their files)
-------------------------------------------------------------------------------
* Items: all 206 validation items, joined by row position. Nothing is dropped: not
  the 16 items without a human consensus label, not the items an LLM left unlabelled.
* Missing labels: an LLM run that returned no label has ``label == ""`` in its file
  (27 of the 1,854 LLM labels: gpt-4o-mini run 2: 1, run 3: 2; gpt-5-nano run 1: 1;
  Llama-4-Scout runs 1-3: 7, 6, 10; the humans have none). The authors treat ``""`` as
  an 8th category everywhere in the pairwise numbers: it is a disagreement with any
  real label, and two runs that both returned nothing *agree* (they count in the
  agreement % and in kappa's observed agreement). The loader reads ``""`` as a
  missing label (``None``); :func:`label_matrix` turns it back into ``""`` here.
* Label order: ``sorted(LABELS)`` then ``""`` (:data:`AUTHOR_LABELS`): the rows and
  columns of every matrix, and the order in which tied label pairs are listed.
* Pair orientation: rater A is the earlier of the two in the order H1, H2, H3, H4,
  gpt-4o-mini runs 1-3, gpt-5-nano runs 1-3, Llama runs 1-3 (runs in time-stamp
  order of the file names); confusion rows are rater A's labels. The "LLMs vs
  humans" summary has the human as A. Summary confusion matrices are the sums of the
  pairs' count matrices (not symmetrised).
* Most confused labels: ``P(B | A)`` = confusion row normalised by its full row sum,
  ``""`` column included (a human label answered by "no label" counts in the
  denominator); the ``""`` row is left out; the most confused ``B`` is the first
  ``argmax`` off the diagonal (label order), ``n/a`` when that probability is 0.
* s-balanced: ``s(i, j) = P(j | i) + P(i | j)`` from those row-normalised matrices, 0
  on the diagonal and in the ``""`` row and column; the pairs table lists every pair
  ``i < j`` (label order) sorted by ``s`` descending, ties kept in label order
  (Python's stable sort).
* Fleiss' kappa (``statsmodels.stats.inter_rater.fleiss_kappa`` on the items x
  categories count table of all 206 items): humans over the 7 labels, LLM runs over
  the 7 labels and ``""``. The authors print 0.549 (humans) and 0.805 (all 9 LLM
  runs); :func:`multi_rater_agreement` gives both, beside the variant in which ``""``
  is a missing label rather than a category.

Beyond the authors' report
--------------------------
Bootstrap confidence intervals over items for every pair's agreement and kappa
(:func:`analysis.stats.bootstrap.bootstrap`, all pairs on the same resamples, BCa),
Fleiss' kappa, Krippendorff's alpha (nominal) and Gwet's AC1 with bootstrap intervals
for the humans, each labeller's runs and all LLM runs, each labeller's majority label
over its runs, and the agreement of every labeller with the human majority per level
of human disagreement (:func:`analysis.stats.disagreement.agreement_by_human_disagreement`).

Sources: Arnaiz-Rodriguez et al. (2026), Between Help and Harm, JMIR Mental Health,
doi 10.2196/88435; Cohen (1960); Fleiss (1971); Krippendorff (2011), "Computing
Krippendorff's alpha-reliability"; Gwet (2008); Elangovan et al. (2025).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl

from analysis.stats import agreement as agr
from analysis.stats.bootstrap import bootstrap
from analysis.stats.chance import (cohen_kappa_table, count_matrix, fleiss_kappa_sums, gwet_ac_sums,
                                   krippendorff_alpha_sums, stack_sums)
from analysis.stats.disagreement import agreement_by_human_disagreement
from analysis.stats.gwet import gwet_ac1

LABELS: tuple[str, ...] = ("anxiety_crisis", "no_crisis", "risk_taking_behaviours", "self-harm",
                           "substance_abuse_or_withdrawal", "suicidal_ideation", "violent_thoughts")
"""The 7 crisis labels in the authors' order (``sorted(LABELS)`` of their ``src/config.py``)."""

EMPTY = ""
"""The label an LLM run wrote when it returned none; the authors' 8th category."""

AUTHOR_LABELS: tuple[str, ...] = (*LABELS, EMPTY)
"""Rows and columns of the authors' matrices."""

EMPTY_NAME = "(no label)"
"""Column and row name of ``""`` in the tables written here (a CSV header cannot be empty
and still be readable)."""

HUMANS: tuple[str, ...] = ("H1", "H2", "H3", "H4")
LABELLERS: tuple[str, ...] = ("gpt-4o-mini", "gpt-5-nano", "meta-llama")
"""The LLM labellers, in the authors' order (``meta-llama`` = Llama-4-Scout-17B-16E-Instruct)."""

N_RUNS = 3
SUMMARIES: tuple[str, ...] = ("overall", "humans_vs_humans", "llms_vs_humans")
"""The authors' three summaries (their CSV prefixes ``summary_<name>``)."""

AGREEMENT_SCHEMA = {
    "rater_a": pl.String, "run_a": pl.Int64, "rater_b": pl.String, "run_b": pl.Int64, "n": pl.Int64,
    "agreement_pct": pl.Float64, "agreement_pct_ci_low": pl.Float64, "agreement_pct_ci_high": pl.Float64,
    "cohen_kappa": pl.Float64, "cohen_kappa_ci_low": pl.Float64, "cohen_kappa_ci_high": pl.Float64,
}


@dataclass(frozen=True)
class LabelSet:
    """One of the 13 label sets: ``name`` is the loader's rater (``H1``, ``gpt-5-nano/run2``)."""

    name: str
    rater: str
    run: int | None

    @property
    def is_human(self) -> bool:
        return self.run is None


def label_sets(humans: Sequence[str] = HUMANS, labellers: Sequence[str] = LABELLERS,
               n_runs: int = N_RUNS) -> tuple[LabelSet, ...]:
    """The label sets in the authors' order: the humans, then each labeller's runs."""
    return (*(LabelSet(h, h, None) for h in humans),
            *(LabelSet(f"{m}/run{r}", m, r) for m in labellers for r in range(1, n_runs + 1)))


def label_matrix(crisis_labels: pl.DataFrame, raters: Sequence[str], *, empty: str | None = EMPTY) -> np.ndarray:
    """``(n_items, len(raters))`` object array of labels, items in ``item_id`` order.

    A missing label (``None`` in the loader's table: ``""`` in the authors' files) becomes
    ``empty``: ``""`` to reproduce the authors, ``None`` to treat it as not rated.
    """
    missing = [r for r in raters if r not in set(crisis_labels["rater"].unique().to_list())]
    if missing:
        raise ValueError(f"no crisis labels of {missing}; raters are "
                         f"{sorted(crisis_labels['rater'].unique().to_list())}")
    wide = (crisis_labels.filter(pl.col("rater").is_in(list(raters)))
            .pivot(on="rater", index="item_id", values="label").sort("item_id"))
    m = np.array(wide.select(list(raters)).rows(), dtype=object).reshape(wide.height, len(raters))
    if empty is not None:
        m[np.equal(m, None)] = empty
    return m


def _codes(labels: np.ndarray, categories: Sequence[str]) -> np.ndarray:
    index = {c: k for k, c in enumerate(categories)}
    unknown = sorted({v for v in labels.ravel().tolist() if v not in index}, key=str)
    if unknown:
        raise ValueError(f"labels {unknown} are not among the categories {list(categories)}")
    return np.vectorize(index.__getitem__, otypes=[np.intp])(labels) if labels.size else labels.astype(np.intp)


def confusion(a, b, labels: Sequence[str] = AUTHOR_LABELS) -> np.ndarray:
    """Counts ``C[i, j]`` of items labelled ``labels[i]`` by ``a`` and ``labels[j]`` by ``b``."""
    ca, cb = _codes(np.asarray(a, dtype=object), labels), _codes(np.asarray(b, dtype=object), labels)
    q = len(labels)
    return np.bincount(ca * q + cb, minlength=q * q).reshape(q, q)


def row_normalized(cm: np.ndarray) -> np.ndarray:
    """``P(B | A)``: each row divided by its sum; a row with no items stays 0 (the authors')."""
    cm = np.asarray(cm, dtype=float)
    sums = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, sums, out=np.zeros_like(cm), where=sums > 0)


def s_balanced(cm: np.ndarray, labels: Sequence[str] = AUTHOR_LABELS, exclude: Sequence[str] = (EMPTY,)) -> np.ndarray:
    """``s(i, j) = P(j | i) + P(i | j)``; 0 on the diagonal and for excluded labels."""
    p = row_normalized(cm)
    s = p + p.T
    np.fill_diagonal(s, 0.0)
    drop = [k for k, lab in enumerate(labels) if lab in set(exclude)]
    s[drop, :] = 0.0
    s[:, drop] = 0.0
    return s


def most_confused_labels(cm: np.ndarray, labels: Sequence[str] = AUTHOR_LABELS,
                         exclude: Sequence[str] = (EMPTY,)) -> pl.DataFrame:
    """Per label ``A`` (rows of ``cm``): the label ``B != A`` with the largest ``P(B | A)``.

    ``confused_with``/``probability`` are null when the row is empty or its largest
    off-diagonal share is 0 (the authors' ``n/a``); ``support`` is the row sum.
    """
    cm = np.asarray(cm)
    p, support = row_normalized(cm), cm.sum(axis=1)
    rows = []
    for k, lab in enumerate(labels):
        if lab in set(exclude):
            continue
        off = p[k].copy()
        off[k] = -1.0
        top = int(np.argmax(off))  # first maximum: ties go to the earlier label, as np.argmax in the authors' code
        if support[k] <= 0 or p[k, top] <= 0.0:
            rows.append((lab, None, None, int(support[k])))
        else:
            rows.append((lab, labels[top], float(p[k, top]), int(support[k])))
    return pl.DataFrame(rows, schema={"label": pl.String, "confused_with": pl.String, "probability": pl.Float64,
                                      "support": pl.Int64}, orient="row")


def most_confused_pairs(cm: np.ndarray, labels: Sequence[str] = AUTHOR_LABELS,
                        exclude: Sequence[str] = (EMPTY,)) -> pl.DataFrame:
    """Every label pair ``i < j`` with ``s_balanced``, ``p_j_given_i``, ``p_i_given_j``,
    sorted by ``s_balanced`` descending, ties in label order (the authors' stable sort)."""
    p = row_normalized(cm)
    keep = [k for k, lab in enumerate(labels) if lab not in set(exclude)]
    rows = [(labels[i], labels[j], float(p[i, j] + p[j, i]), float(p[i, j]), float(p[j, i]))
            for a, i in enumerate(keep) for j in keep[a + 1:]]
    rows.sort(key=lambda r: r[2], reverse=True)
    return pl.DataFrame(rows, schema={"label_i": pl.String, "label_j": pl.String, "s_balanced": pl.Float64,
                                      "p_j_given_i": pl.Float64, "p_i_given_j": pl.Float64}, orient="row")


def matrix_frame(matrix: np.ndarray, labels: Sequence[str] = AUTHOR_LABELS, *, dtype=pl.Float64) -> pl.DataFrame:
    """A square label x label matrix as a table: column ``label`` (rows), one column per label."""
    names = [EMPTY_NAME if lab == EMPTY else lab for lab in labels]
    return pl.DataFrame({"label": names, **{n: pl.Series(n, np.asarray(matrix)[:, k], dtype=dtype)
                                            for k, n in enumerate(names)}})


# ---------------------------------------------------------------------------------
# Pairs and summaries

def pairs_of(sets: Sequence[LabelSet], summary: str = "overall") -> list[tuple[LabelSet, LabelSet]]:
    """The rater pairs of one of the authors' summaries, in their order."""
    humans = [s for s in sets if s.is_human]
    llms = [s for s in sets if not s.is_human]
    if summary == "overall":
        return [(sets[i], sets[j]) for i in range(len(sets)) for j in range(i + 1, len(sets))]
    if summary == "humans_vs_humans":
        return [(humans[i], humans[j]) for i in range(len(humans)) for j in range(i + 1, len(humans))]
    if summary == "llms_vs_humans":
        return [(h, m) for h in humans for m in llms]
    raise ValueError(f"summary must be one of {SUMMARIES}, not {summary!r}")


def _pair_cells(m: np.ndarray, pairs: Sequence[tuple[int, int]], q: int) -> np.ndarray:
    """Per item, the one-hot confusion cell of every pair: ``(n_items, n_pairs * q * q)``."""
    n = m.shape[0]
    out = np.zeros((n, len(pairs), q * q))
    for p, (a, b) in enumerate(pairs):
        out[np.arange(n), p, m[:, a] * q + m[:, b]] = 1.0
    return out.reshape(n, -1)


def _of_sums(f):
    """A statistic of summed per-item counts as :func:`bootstrap` calls it: a resample's
    sums are its frequency weights times the per-item rows."""
    def stat(per_item: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return f(weights @ per_item)
    return stat


def _agreement_and_kappa(q: int, n_pairs: int):
    def stat(s: np.ndarray) -> np.ndarray:
        cm = s.reshape(*s.shape[:-1], n_pairs, q, q)
        po = np.trace(cm, axis1=-2, axis2=-1) / cm.sum(axis=(-2, -1))
        return np.stack([100.0 * po, cohen_kappa_table(cm)], axis=-1)
    return stat


def pairwise_agreement(crisis_labels: pl.DataFrame, *, sets: Sequence[LabelSet] | None = None, n_boot: int = 2000,
                       seed: int = 20261124, confidence: float = 0.95, method: str = "bca") -> pl.DataFrame:
    """Agreement (%) and Cohen's kappa of every pair of label sets, with bootstrap CIs over items.

    Everything as the authors compute it (module docstring): all items, ``""`` a
    category, labels :data:`AUTHOR_LABELS`; kappa = ``(p_o - p_e) / (1 - p_e)`` with
    ``p_e`` from the two raters' marginals (Cohen 1960; sklearn's
    ``cohen_kappa_score``, which the authors call). All pairs are computed on the same
    ``n_boot`` resamples of the items (BCa by default). Rows in the authors' order.
    """
    sets = tuple(label_sets() if sets is None else sets)
    m = _codes(label_matrix(crisis_labels, [s.name for s in sets]), AUTHOR_LABELS)
    index = {s.name: k for k, s in enumerate(sets)}
    pairs = pairs_of(sets, "overall")
    idx = [(index[a.name], index[b.name]) for a, b in pairs]
    q = len(AUTHOR_LABELS)
    res = bootstrap(_pair_cells(m, idx, q), _of_sums(_agreement_and_kappa(q, len(idx))), n_boot=n_boot,
                    seed=seed, confidence=confidence, method=method)
    rows = []
    for p, (a, b) in enumerate(pairs):
        rows.append((a.rater, a.run, b.rater, b.run, int(m.shape[0]),
                     float(res.estimate[p, 0]), float(res.ci_low[p, 0]), float(res.ci_high[p, 0]),
                     float(res.estimate[p, 1]), float(res.ci_low[p, 1]), float(res.ci_high[p, 1])))
    return pl.DataFrame(rows, schema=AGREEMENT_SCHEMA, orient="row")


@dataclass(frozen=True)
class ConfusionSummary:
    """One of the authors' summaries: summed ``counts`` over ``n_pairs`` rater pairs."""

    name: str
    n_pairs: int
    counts: np.ndarray
    labels: tuple[str, ...] = AUTHOR_LABELS

    @property
    def s_balanced(self) -> np.ndarray:
        return s_balanced(self.counts, self.labels)

    def confusion_table(self) -> pl.DataFrame:
        """Summed counts: rows = rater A's label, columns = rater B's."""
        return matrix_frame(self.counts, self.labels, dtype=pl.Int64)

    def s_balanced_table(self) -> pl.DataFrame:
        return matrix_frame(self.s_balanced, self.labels)

    def most_confused_labels(self) -> pl.DataFrame:
        return most_confused_labels(self.counts, self.labels)

    def most_confused_pairs(self) -> pl.DataFrame:
        return most_confused_pairs(self.counts, self.labels)

    @property
    def title(self) -> str:
        """``all 78 pairs``, ``6 human–human pairs``, ``36 human–LLM pairs``."""
        kind = {"overall": "all", "humans_vs_humans": "human–human", "llms_vs_humans": "human–LLM"}.get(self.name)
        return f"all {self.n_pairs} pairs" if kind == "all" else f"{self.n_pairs} {kind or self.name} pairs"


def pair_confusions(crisis_labels: pl.DataFrame, sets: Sequence[LabelSet] | None = None
                    ) -> dict[tuple[str, str], np.ndarray]:
    """The ``AUTHOR_LABELS`` x ``AUTHOR_LABELS`` count matrix of every pair (keys: rater names)."""
    sets = tuple(label_sets() if sets is None else sets)
    m = label_matrix(crisis_labels, [s.name for s in sets])
    col = {s.name: k for k, s in enumerate(sets)}
    return {(a.name, b.name): confusion(m[:, col[a.name]], m[:, col[b.name]])
            for a, b in pairs_of(sets, "overall")}


def confusion_summary(crisis_labels: pl.DataFrame, summary: str, sets: Sequence[LabelSet] | None = None
                      ) -> ConfusionSummary:
    """The authors' summary ``summary`` (one of :data:`SUMMARIES`)."""
    sets = tuple(label_sets() if sets is None else sets)
    pairs = pairs_of(sets, summary)
    per_pair = pair_confusions(crisis_labels, sets)
    total = np.zeros((len(AUTHOR_LABELS), len(AUTHOR_LABELS)), dtype=np.int64)
    for a, b in pairs:
        total += per_pair[(a.name, b.name)]
    return ConfusionSummary(name=summary, n_pairs=len(pairs), counts=total)


def pair_confusion_table(crisis_labels: pl.DataFrame, sets: Sequence[LabelSet] | None = None) -> pl.DataFrame:
    """Every pair's confusion counts, long: ``rater_a, run_a, rater_b, run_b, label_a, label_b, count``."""
    sets = tuple(label_sets() if sets is None else sets)
    by_name = {s.name: s for s in sets}
    names = [EMPTY_NAME if lab == EMPTY else lab for lab in AUTHOR_LABELS]
    rows = []
    for (a, b), cm in pair_confusions(crisis_labels, sets).items():
        sa, sb = by_name[a], by_name[b]
        rows += [(sa.rater, sa.run, sb.rater, sb.run, names[i], names[j], int(cm[i, j]))
                 for i in range(len(names)) for j in range(len(names))]
    return pl.DataFrame(rows, schema={"rater_a": pl.String, "run_a": pl.Int64, "rater_b": pl.String,
                                      "run_b": pl.Int64, "label_a": pl.String, "label_b": pl.String,
                                      "count": pl.Int64}, orient="row")


def human_vs_labeller(agreement: pl.DataFrame) -> pl.DataFrame:
    """The authors' "Human vs LLM Rater Agreement": per human and labeller, the mean over the
    labeller's runs of the agreement (%) and kappa with that human."""
    return (agreement.filter(pl.col("run_a").is_null() & pl.col("run_b").is_not_null())
            .group_by("rater_a", "rater_b", maintain_order=True)
            .agg(pl.len().alias("n_runs"), pl.col("agreement_pct").mean().alias("mean_agreement_pct"),
                 pl.col("cohen_kappa").mean().alias("mean_cohen_kappa"))
            .rename({"rater_a": "human", "rater_b": "labeller"}))


def kappa_against_humans(agreement: pl.DataFrame) -> pl.DataFrame:
    """Each labeller run's kappa with each human, beside the range of the human-human
    kappas that involve that human (the other three humans' kappas with it) and of all six
    human-human pairs. Columns ``labeller, run, human, cohen_kappa, ci_low, ci_high,
    human_min, human_max, all_human_min, all_human_max``."""
    hh = agreement.filter(pl.col("run_a").is_null() & pl.col("run_b").is_null())
    all_min, all_max = hh["cohen_kappa"].min(), hh["cohen_kappa"].max()
    per_human = {}
    for h in sorted(set(hh["rater_a"].to_list()) | set(hh["rater_b"].to_list())):
        k = hh.filter((pl.col("rater_a") == h) | (pl.col("rater_b") == h))["cohen_kappa"]
        per_human[h] = (k.min(), k.max())
    hl = agreement.filter(pl.col("run_a").is_null() & pl.col("run_b").is_not_null())
    return hl.select(
        pl.col("rater_b").alias("labeller"), pl.col("run_b").alias("run"), pl.col("rater_a").alias("human"),
        "cohen_kappa", pl.col("cohen_kappa_ci_low").alias("ci_low"), pl.col("cohen_kappa_ci_high").alias("ci_high"),
        pl.col("rater_a").replace_strict({h: v[0] for h, v in per_human.items()}, return_dtype=pl.Float64)
        .alias("human_min"),
        pl.col("rater_a").replace_strict({h: v[1] for h, v in per_human.items()}, return_dtype=pl.Float64)
        .alias("human_max"),
        pl.lit(all_min, dtype=pl.Float64).alias("all_human_min"), pl.lit(all_max, dtype=pl.Float64).alias("all_human_max"),
    ).sort("labeller", "run", "human")


# ---------------------------------------------------------------------------------
# Majority labels

def majority_labels(crisis_labels: pl.DataFrame, labellers: Sequence[str] = LABELLERS,
                    n_runs: int = N_RUNS) -> pl.DataFrame:
    """Each labeller's majority label over its runs, as rows ``<labeller>/majority``.

    The majority is a label given by more than half of the runs (2 of 3); empty runs
    never form a majority; otherwise the item has no majority label (null). This is the
    rule of the authors' gpt-4o-mini ``merged_labels`` file (``label`` = the label of at
    least 2 of ``all_labels``; checked on all 206 items in the tests). Where the data
    have the authors' majority file (``<labeller>/majority`` rows) it is used as is;
    otherwise it is computed, and ``source_file`` says so.
    """
    have = set(crisis_labels["rater"].unique().to_list())
    frames = []
    for lab in labellers:
        name = f"{lab}/majority"
        if name in have:
            frames.append(crisis_labels.filter(pl.col("rater") == name))
            continue
        runs = [f"{lab}/run{r}" for r in range(1, n_runs + 1)]
        m = label_matrix(crisis_labels, runs, empty=None)
        items = sorted(crisis_labels.filter(pl.col("rater") == runs[0])["item_id"].to_list())
        out = []
        for row in m.tolist():
            counts = Counter(v for v in row if v is not None)
            top = counts.most_common(1)
            out.append(top[0][0] if top and top[0][1] * 2 > len(row) else None)
        frames.append(pl.DataFrame({"item_id": items, "rater": name, "label": out,
                                    "source_file": f"majority of {', '.join(runs)} (computed)"},
                                   schema=crisis_labels.schema))
    return pl.concat(frames)


# ---------------------------------------------------------------------------------
# Multi-rater agreement

MULTI_SCHEMA = {
    "group": pl.String, "raters": pl.String, "n_raters": pl.Int64, "empty_labels": pl.String,
    "coefficient": pl.String, "n_items": pl.Int64, "n_categories": pl.Int64, "estimate": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "ci_method": pl.String,
}


def rater_groups(labellers: Sequence[str] = LABELLERS, humans: Sequence[str] = HUMANS,
                 n_runs: int = N_RUNS) -> dict[str, tuple[str, ...]]:
    """The groups of :func:`multi_rater_agreement`: the humans, each labeller's runs, all LLM runs."""
    runs = {lab: tuple(f"{lab}/run{r}" for r in range(1, n_runs + 1)) for lab in labellers}
    return {"humans": tuple(humans), **{f"{lab} runs": runs[lab] for lab in labellers},
            "all LLM runs": tuple(r for lab in labellers for r in runs[lab])}


def multi_rater_agreement(crisis_labels: pl.DataFrame, groups: dict[str, Sequence[str]] | None = None, *,
                          n_boot: int = 2000, seed: int = 20261124, confidence: float = 0.95,
                          method: str = "bca") -> pl.DataFrame:
    """Fleiss' kappa, Krippendorff's alpha (nominal) and Gwet's AC1 per group of raters.

    Two treatments of an LLM run that returned no label (``empty_labels``):

    * ``"category"`` (the authors'): ``""`` is one more category. Every item has a
      label from every rater, so all 206 items count in all three coefficients;
      categories = the 7 labels, plus ``""`` where the group used it.
    * ``"missing"``: ``""`` is no rating. Fleiss' kappa needs the same number of
      raters per item, so it is computed on the items every rater of the group labelled
      (``n_items`` says how many); alpha and AC1 use every item as they allow missing
      ratings (alpha: items with 2 or more labels; AC1: ``pa`` over items with 2 or
      more labels, the category shares over items with at least one). Categories = the
      7 labels.

    For a group with no empty label both rows are the same numbers. Intervals: bootstrap
    over items (BCa by default), the three coefficients of a group on the same
    resamples. The point estimates equal :func:`analysis.stats.agreement.fleiss_kappa`,
    :func:`analysis.stats.agreement.krippendorff_alpha` and
    :func:`analysis.stats.gwet.gwet_ac1` (given the categories), checked in the tests.
    """
    groups = rater_groups() if groups is None else groups
    rows = []
    for g, raters in groups.items():
        raters = tuple(raters)
        labels = label_matrix(crisis_labels, raters)
        for mode in ("category", "missing"):
            used_empty = bool((labels == EMPTY).any())
            cats = AUTHOR_LABELS if (mode == "category" and used_empty) else LABELS
            work = labels if mode == "category" else np.where(labels == EMPTY, None, labels)
            index = {c: k for k, c in enumerate(cats)}
            codes = np.vectorize(lambda v: -1 if v is None else index[v], otypes=[np.intp])(work)
            q, m = len(cats), len(raters)
            counts = count_matrix(codes, q)
            form = stack_sums(fleiss_kappa_sums(counts, m), krippendorff_alpha_sums(counts, "nominal"),
                              gwet_ac_sums(counts))
            res = bootstrap(form.units, _of_sums(form.statistic), n_boot=n_boot, seed=seed,
                            confidence=confidence, method=method)
            rated = (codes >= 0).sum(axis=1)
            n_items = (int(form.units[:, 0].sum()), int((rated >= 2).sum()), int((rated >= 1).sum()))
            ci = f"bootstrap {method} over items, {n_boot} resamples"
            for k, coef in enumerate(("fleiss_kappa", "krippendorff_alpha_nominal", "gwet_ac1")):
                rows.append((g, ", ".join(raters), m, mode, coef, n_items[k], q, float(res.estimate[k]),
                             float(res.ci_low[k]), float(res.ci_high[k]), ci))
    return pl.DataFrame(rows, schema=MULTI_SCHEMA, orient="row")


def multi_rater_reference(crisis_labels: pl.DataFrame, raters: Sequence[str], mode: str = "category") -> dict:
    """The three coefficients of :func:`multi_rater_agreement` from the package's own
    functions (no bootstrap), for cross-checking: Fleiss on complete items,
    Krippendorff's alpha on category codes, Gwet's AC1 with analytic SE."""
    labels = label_matrix(crisis_labels, list(raters))
    if mode == "missing":
        labels = np.where(labels == EMPTY, None, labels)
    used_empty = mode == "category" and bool((labels == EMPTY).any())
    cats = AUTHOR_LABELS if used_empty else LABELS
    complete = np.array([all(v is not None for v in row) for row in labels.tolist()])
    index = {c: float(k) for k, c in enumerate(cats)}
    numeric = np.array([[np.nan if v is None else index[v] for v in row] for row in labels.tolist()])
    return {"fleiss_kappa": agr.fleiss_kappa(labels[complete]),
            "krippendorff_alpha_nominal": agr.krippendorff_alpha(numeric, level="nominal"),
            "gwet_ac1": gwet_ac1(labels, categories=list(cats))}


# ---------------------------------------------------------------------------------
# Agreement by human disagreement

def agreement_by_disagreement(crisis_labels: pl.DataFrame, judges: Sequence[str] | None = None,
                              humans: Sequence[str] = HUMANS) -> pl.DataFrame:
    """Each judge's agreement with the 4 humans per level of human agreement.

    Items are binned by the share of the humans giving the item's most frequent label
    (``n_humans_majority`` of 4: 4 = unanimous, 3 = a 3-1 split, 2 = a 2-2 or 2-1-1
    split; 1 would be four different labels). Per bin,
    :func:`analysis.stats.disagreement.agreement_by_human_disagreement` gives
    ``judge_majority_agreement`` (judge = the human majority; a 2-2 tie counts 1/2 if
    the judge gave one of the two), ``judge_human_agreement`` (share of humans with the
    judge's label) and ``human_pair_agreement`` (share of agreeing human pairs, the
    humans' own level). A judge's empty label counts as a label no human gave (a
    disagreement), as in the authors' agreement rates. Default judges: every
    labeller's runs and majority (:func:`majority_labels`).
    """
    if judges is None:
        crisis_labels = pl.concat([crisis_labels.filter(~pl.col("rater").str.ends_with("/majority")),
                                   majority_labels(crisis_labels)])
        judges = [f"{lab}/{r}" for lab in LABELLERS for r in (*(f"run{k}" for k in range(1, N_RUNS + 1)), "majority")]
    frames = []
    for judge in judges:
        # a missing label (empty run, or no majority over the runs) becomes "": a disagreement
        m = label_matrix(crisis_labels, [judge, *humans])
        t = agreement_by_human_disagreement(m[:, 0], m[:, 1:], kind="labels", measure="majority")
        rater, _, run = judge.partition("/")
        frames.append(t.select(
            pl.lit(rater).alias("labeller"), pl.lit(run or None, dtype=pl.String).alias("run"),
            (pl.col("bin_low") * len(humans)).round(0).cast(pl.Int64).alias("n_humans_majority"),
            pl.all()))
    return pl.concat(frames)


# ---------------------------------------------------------------------------------
# The report's tables (notebook 08_crisis_labels)

def confusion_summaries(crisis_labels: pl.DataFrame, sets: Sequence[LabelSet] | None = None
                        ) -> dict[str, ConfusionSummary]:
    """The authors' three summaries (:data:`SUMMARIES`, in that order), by name."""
    return {name: confusion_summary(crisis_labels, name, sets) for name in SUMMARIES}


def confusion_tables(summaries: dict[str, ConfusionSummary]) -> dict[str, pl.DataFrame]:
    """Every table of the summaries, by table name: ``crisis_confusion_<summary>`` (summed
    counts), ``crisis_s_balanced_<summary>``, ``crisis_most_confused_labels_<summary>`` and
    ``crisis_most_confused_pairs_<summary>``."""
    tables = {}
    for name, summ in summaries.items():
        tables[f"crisis_confusion_{name}"] = summ.confusion_table()
        tables[f"crisis_s_balanced_{name}"] = summ.s_balanced_table()
        tables[f"crisis_most_confused_labels_{name}"] = summ.most_confused_labels()
        tables[f"crisis_most_confused_pairs_{name}"] = summ.most_confused_pairs()
    return tables


def top_confused_pairs(summaries: dict[str, ConfusionSummary], k: int = 5) -> pl.DataFrame:
    """The ``k`` label pairs with the highest s-balanced score of each summary, stacked,
    with the summary's name in a first column ``summary``."""
    return pl.concat([summ.most_confused_pairs().head(k).select(pl.lit(name).alias("summary"), pl.all())
                      for name, summ in summaries.items()])


def majority_agreement_by_level(by_disagreement: pl.DataFrame) -> pl.DataFrame:
    """:func:`agreement_by_disagreement` wide: one row per labeller and run, one column of
    ``judge_majority_agreement`` per ``n_humans_majority`` (how many humans share the
    item's majority label)."""
    return by_disagreement.pivot(on="n_humans_majority", index=["labeller", "run"],
                                 values="judge_majority_agreement")
