"""Crisis-label agreement (analysis.studies.crisis_labels), the alternative annotator test on
a study (analysis.studies.replacement) and the alt-test command.

References used:
* the authors' own outputs of Between Help and Harm
  (``outputs/crisis_label_agreement/summaries/*.csv``: full precision, compared to 1e-9;
  ``agreement_report.md``: integers exactly, printed decimals to their rounding);
* the authors' functions, re-run here on the raw JSON files read in this test (not by
  the package's loader): sklearn's ``cohen_kappa_score``/``confusion_matrix`` with their
  label list, statsmodels' ``fleiss_kappa``, the ``krippendorff`` package;
* plain-loop re-implementations of the alt-test and of the percentile bootstrap.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis.stats.alt_test import DEFAULT_EPSILONS, alt_test_sweep
from analysis.stats.bootstrap import resample_indices
from analysis.studies import crisis_labels as cl
from analysis.studies import replacement as rp

REPORT_DIR = "outputs/crisis_label_agreement"
HUMAN_FILES = {"H1": "H1_labeled_n206_s42.json", "H2": "H2_labeled_n206_s42.json",
               "H3": "H3_labeled_n206_s42.json", "H4": "H4_labelled_n206_s42.json"}
LLM_PREFIX = {"gpt-4o-mini": "gpt-4o-mini", "gpt-5-nano": "gpt-5-nano",
              "meta-llama": "meta-llama-Llama-4-Scout-17B-16E-Instruct"}
STEM = "labeled-sampled_dataset_n_200_merged_n50-noSeed_156-s42"


# ---------------------------------------------------------------------------------
# Raw files, read independently of the package's loader

def _raw_files(bhh: Path) -> dict[str, str]:
    """Label-set name (``H1``, ``gpt-5-nano/run2``) -> file name, runs by sorted time stamp."""
    out = dict(HUMAN_FILES)
    for model, prefix in LLM_PREFIX.items():
        stamped = sorted(p.name for p in (bhh / "data/llm_label").glob(f"{prefix}-{STEM}-2025*.json"))
        assert len(stamped) == 3, stamped
        out |= {f"{model}/run{k}": name for k, name in enumerate(stamped, start=1)}
    return out


def _raw_labels(bhh: Path) -> dict[str, list[str]]:
    files = _raw_files(bhh)
    out = {}
    for name, f in files.items():
        folder = "data/human_label" if name in HUMAN_FILES else "data/llm_label"
        out[name] = [r["label"] for r in json.loads((bhh / folder / f).read_text())]
    return out


@pytest.fixture(scope="module")
def bhh(bhh_dir):
    from analysis.data.bhh import load_bhh

    return load_bhh(bhh_dir)


@pytest.fixture(scope="module")
def raw(bhh_dir):
    return _raw_labels(bhh_dir)


@pytest.fixture(scope="module")
def agreement(bhh):
    return cl.pairwise_agreement(bhh.crisis_labels, n_boot=400, seed=5)


@pytest.fixture(scope="module")
def report(bhh_dir) -> str:
    return (bhh_dir / REPORT_DIR / "agreement_report.md").read_text(encoding="utf-8")


def _file_to_set(bhh_dir) -> dict[str, str]:
    return {f: name for name, f in _raw_files(bhh_dir).items()}


def _md_table(lines: list[str], start: int) -> list[list[str]]:
    """The markdown table starting at ``lines[start]`` (header, rule, rows) as cell lists."""
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [rows[0]] + rows[2:]


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


# ---------------------------------------------------------------------------------
# Pairwise agreement and confusion matrices

@pytest.mark.real_data
def test_78_pairs_equal_sklearn_on_the_raw_files(agreement, raw):
    from sklearn.metrics import cohen_kappa_score

    names = list(raw)
    assert names == [s.name for s in cl.label_sets()]
    assert agreement.height == 78
    expected = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = raw[names[i]], raw[names[j]]
            # the authors' calls: labels = sorted(LABELS) + [""]
            expected.append((100 * sum(x == y for x, y in zip(a, b)) / len(a),
                             cohen_kappa_score(a, b, labels=list(cl.AUTHOR_LABELS))))
    got = agreement.select("agreement_pct", "cohen_kappa").rows()
    # the same counts through different arithmetic: equal to rounding (1e-12)
    np.testing.assert_allclose(np.array(got), np.array(expected), rtol=0, atol=1e-12)
    pairs = agreement.select("rater_a", "run_a", "rater_b", "run_b").rows()
    assert pairs[0] == ("H1", None, "H2", None) and pairs[3] == ("H1", None, "gpt-4o-mini", 1)
    assert pairs[-1] == ("meta-llama", 2, "meta-llama", 3)
    assert (agreement["n"] == 206).all()


@pytest.mark.real_data
def test_78_pairs_equal_the_printed_summary_table(agreement, report, bhh_dir):
    lines = report.splitlines()
    rows = _md_table(lines, lines.index("## Summary of Agreement Rates") + 1)[1:]
    assert len(rows) == 78
    to_set = _file_to_set(bhh_dir)
    ours = {(f"{a}/run{ra}" if ra else a, f"{b}/run{rb}" if rb else b): (pct, k) for a, ra, b, rb, pct, k in
            agreement.select("rater_a", "run_a", "rater_b", "run_b", "agreement_pct", "cohen_kappa").rows()}
    assert list(ours) == [(to_set[r[0]], to_set[r[1]]) for r in rows]  # same pairs, same order
    for r in rows:
        pct, kappa = ours[(to_set[r[0]], to_set[r[1]])]
        assert f"{pct:.3f}" == r[2] and f"{kappa:.3f}" == r[3], r


@pytest.mark.real_data
def test_every_pair_confusion_matrix_equals_the_report(bhh, report, bhh_dir):
    lines = report.splitlines()
    to_set = _file_to_set(bhh_dir)
    ours = cl.pair_confusions(bhh.crisis_labels)
    head = re.compile(r"^Confusion Matrix between `(.+)` \(ROWS\) and `(.+)` \(COLS\):$")
    found = 0
    for k, line in enumerate(lines):
        m = head.match(line)
        if not m:
            continue
        table = _md_table(lines, k + 1)
        assert [c for c in table[0][1:]] == [*cl.LABELS, ""]
        printed = np.array([[int(v) for v in row[1:]] for row in table[1:]])
        np.testing.assert_array_equal(ours[(to_set[m[1]], to_set[m[2]])], printed)
        # the per-pair kappa two lines above the matrix, printed to 2 decimals
        kappa_line = lines[k - 1]
        pct_line = lines[k - 2]
        a, b = to_set[m[1]], to_set[m[2]]
        cm = ours[(a, b)]
        po, pe = np.trace(cm) / cm.sum(), (cm.sum(0) * cm.sum(1)).sum() / cm.sum() ** 2
        assert kappa_line.endswith(f"Cohen's Kappa: {(po - pe) / (1 - pe):.2f}")
        assert pct_line.endswith(f"Agreement Rate: {100 * po:.2f}%")
        found += 1
    assert found == 78
    # the 27 empty LLM labels, and none from the humans
    totals = {n: int(c[:, -1].sum()) for (a, n), c in ours.items() if a == "H1"}  # column "" of B
    assert sum(totals.values()) == 27 and totals["meta-llama/run3"] == 10


@pytest.mark.real_data
@pytest.mark.parametrize("summary", cl.SUMMARIES)
def test_summaries_equal_the_authors_csv(bhh, bhh_dir, summary):
    s = cl.confusion_summary(bhh.crisis_labels, summary)
    folder = bhh_dir / REPORT_DIR / "summaries"
    # s-balanced matrix: header ",<7 labels>," (the empty label is the last, unnamed column)
    rows = _read_csv(folder / f"summary_{summary}__s_balanced_matrix.csv")
    assert rows[0] == ["", *cl.LABELS, ""] and [r[0] for r in rows[1:]] == [*cl.LABELS, ""]
    theirs = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(s.s_balanced, theirs, rtol=0, atol=1e-9)
    # most confused labels: label, confused_with, probability, support
    rows = _read_csv(folder / f"summary_{summary}__most_confused_labels.csv")
    assert rows[0] == ["label", "confused_with", "probability", "support"]
    ours = s.most_confused_labels().rows()
    assert len(ours) == len(rows) - 1 == 7
    for (lab, conf, p, sup), r in zip(ours, rows[1:]):
        assert (lab, conf or "", sup) == (r[0], r[1], int(r[3]))
        assert (p is None and r[2] == "") or abs(p - float(r[2])) <= 1e-9
    # most confused pairs: all 21 pairs, in the authors' order
    rows = _read_csv(folder / f"summary_{summary}__most_confused_pairs.csv")
    assert rows[0] == ["label_i", "label_j", "s_balanced", "p_j_given_i", "p_i_given_j"]
    ours = s.most_confused_pairs().rows()
    assert [(a, b) for a, b, *_ in ours] == [(r[0], r[1]) for r in rows[1:]]
    np.testing.assert_allclose(np.array([x[2:] for x in ours]), np.array([[float(v) for v in r[2:]] for r in rows[1:]]),
                               rtol=0, atol=1e-9)


@pytest.mark.real_data
def test_printed_summaries_and_fleiss_kappas(bhh, agreement, report):
    lines = report.splitlines()
    titles = {"overall": "## Summary of Most Confused Labels (Overall)",
              "humans_vs_humans": "## Summary of Most Confused Labels (Humans vs Humans)",
              "llms_vs_humans": "## Summary of Most Confused Labels (LLMs vs Humans)"}
    for name, title in titles.items():
        s = cl.confusion_summary(bhh.crisis_labels, name)
        k = lines.index(title)
        assert lines[k + 1] == f"- Rater pairs: {s.n_pairs}"
        # the printed s-balanced matrix: pandas to_markdown, 6 significant digits
        m = _md_table(lines, k + 4)
        printed = np.array([[float(v) for v in row[1:]] for row in m[1:]])
        np.testing.assert_allclose(s.s_balanced, printed, rtol=5e-6, atol=5e-7)
        start = lines.index("Most confused labels (row-normalized P(B\\|A)):", k)
        for (lab, conf, p, sup), row in zip(s.most_confused_labels().rows(), _md_table(lines, start + 1)[1:]):
            assert row == [lab, conf or "n/a", "n/a" if p is None else f"{p:.3f}", str(sup)]
        start = lines.index("Most confused label pairs (s_balanced):", k)
        top = _md_table(lines, start + 1)[1:]
        assert len(top) == 5
        for (a, b, sb, pji, pij), row in zip(s.most_confused_pairs().rows()[:5], top):
            assert row == [a, b, f"{sb:.3f}", f"{pji:.3f}", f"{pij:.3f}"]
    # Fleiss' kappa: the report's five lines; the paper's 0.549 (humans) and 0.805 (all LLM runs)
    mr = cl.multi_rater_agreement(bhh.crisis_labels, n_boot=50, seed=1).filter(
        (pl.col("coefficient") == "fleiss_kappa") & (pl.col("empty_labels") == "category"))
    fk = dict(zip(mr["group"], mr["estimate"]))
    printed = {"humans": "all human annotators", "all LLM runs": "all LLM annotators",
               "gpt-4o-mini runs": "gpt-4o-mini", "gpt-5-nano runs": "gpt-5-nano",
               "meta-llama runs": "meta-llama-Llama-4-Scout-17B-16E-Instruct"}
    for group, who in printed.items():
        assert f"- Fleiss' Kappa (across {who}): {fk[group]:.3f}" in lines, group
    assert f"{fk['humans']:.3f}" == "0.549" and f"{fk['all LLM runs']:.3f}" == "0.805"
    # "Human vs LLM Rater Agreement": means over the three runs, 3 decimals
    hv = cl.human_vs_labeller(agreement)
    k = lines.index("## Human vs LLM Rater Agreement")
    table = _md_table(lines, k + 1)[1:]
    assert len(table) == hv.height == 12
    for (h, lab, n, pct, kappa), row in zip(hv.rows(), table):
        assert row[0] == HUMAN_FILES[h] and row[1].startswith(LLM_PREFIX[lab] + " (n=3)")
        assert (row[2], row[3]) == (f"{pct:.3f}", f"{kappa:.3f}")


@pytest.mark.real_data
def test_pair_intervals_are_the_percentile_bootstrap_of_a_plain_loop(bhh, raw):
    from sklearn.metrics import cohen_kappa_score

    n_boot, seed = 120, 17
    t = cl.pairwise_agreement(bhh.crisis_labels, n_boot=n_boot, seed=seed, method="percentile")
    row = t.filter((pl.col("rater_a") == "H2") & (pl.col("rater_b") == "meta-llama") & (pl.col("run_b") == 3)).row(
        0, named=True)
    a, b = np.array(raw["H2"], dtype=object), np.array(raw["meta-llama/run3"], dtype=object)
    idx = resample_indices(len(a), n_boot, seed)  # the resamples the package draws for this seed
    reps = np.array([(100 * np.mean(a[i] == b[i]), cohen_kappa_score(a[i], b[i], labels=list(cl.AUTHOR_LABELS)))
                     for i in idx])
    low, high = np.quantile(reps, [0.025, 0.975], axis=0)  # linear (type 7) quantiles
    # same resamples, same statistic: equal to floating-point rounding
    assert row["agreement_pct_ci_low"] == pytest.approx(low[0], abs=1e-9)
    assert row["agreement_pct_ci_high"] == pytest.approx(high[0], abs=1e-9)
    assert row["cohen_kappa_ci_low"] == pytest.approx(low[1], abs=1e-12)
    assert row["cohen_kappa_ci_high"] == pytest.approx(high[1], abs=1e-12)


@pytest.mark.real_data
def test_bca_intervals_hold_the_estimates(agreement):
    for col in ("agreement_pct", "cohen_kappa"):
        assert (agreement[f"{col}_ci_low"] <= agreement[col]).all()
        assert (agreement[col] <= agreement[f"{col}_ci_high"]).all()
    assert agreement["cohen_kappa_ci_high"].max() <= 1.0


# ---------------------------------------------------------------------------------
# Multi-rater agreement

@pytest.mark.real_data
def test_multi_rater_estimates_equal_reference_packages(bhh, raw):
    import krippendorff
    from statsmodels.stats.inter_rater import fleiss_kappa

    mr = cl.multi_rater_agreement(bhh.crisis_labels, n_boot=60, seed=2)
    assert mr.height == 5 * 2 * 3
    for group, raters in cl.rater_groups().items():
        for mode in ("category", "missing"):
            rows = {r["coefficient"]: r for r in mr.filter((pl.col("group") == group) &
                                                           (pl.col("empty_labels") == mode)).iter_rows(named=True)}
            labels = np.array([raw[r] for r in raters], dtype=object).T
            if mode == "missing":
                labels = np.where(labels == "", None, labels)
            cats = sorted({v for v in labels.ravel() if v is not None})
            complete = np.array([all(v is not None for v in row) for row in labels])
            counts = np.array([[sum(v == c for v in row) for c in cats] for row in labels[complete]])
            # statsmodels, the authors' function, on the complete items
            assert rows["fleiss_kappa"]["estimate"] == pytest.approx(fleiss_kappa(counts), abs=1e-12)
            assert rows["fleiss_kappa"]["n_items"] == complete.sum()
            codes = np.array([[np.nan if v is None else cats.index(v) for v in row] for row in labels]).T
            alpha = krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
            assert rows["krippendorff_alpha_nominal"]["estimate"] == pytest.approx(alpha, abs=1e-12)
            ref = cl.multi_rater_reference(bhh.crisis_labels, raters, mode)
            assert rows["gwet_ac1"]["estimate"] == pytest.approx(ref["gwet_ac1"].estimate, abs=1e-12)
            for r in rows.values():
                assert r["ci_low"] <= r["estimate"] <= r["ci_high"] <= 1.0
    # 4 humans never leave a label empty: both treatments agree
    h = mr.filter(pl.col("group") == "humans")
    np.testing.assert_array_equal(h.filter(pl.col("empty_labels") == "category")["estimate"],
                                  h.filter(pl.col("empty_labels") == "missing")["estimate"])


def test_multi_rater_sums_equal_the_direct_coefficients_on_random_labels():
    rng = np.random.default_rng(3)
    cats = list(cl.LABELS[:4])
    rows = []
    for i in range(60):
        for r in ("a", "b", "c"):
            v = cats[rng.integers(0, 4)] if rng.random() > 0.1 else None
            rows.append((f"i{i:02d}", r, v, "f"))
    t = pl.DataFrame(rows, schema={"item_id": pl.String, "rater": pl.String, "label": pl.String,
                                   "source_file": pl.String}, orient="row")
    mr = cl.multi_rater_agreement(t, {"g": ("a", "b", "c")}, n_boot=30, seed=1)
    got = {(r["empty_labels"], r["coefficient"]): r["estimate"] for r in mr.iter_rows(named=True)}
    for mode in ("category", "missing"):
        ref = cl.multi_rater_reference(t, ("a", "b", "c"), mode)
        assert got[(mode, "fleiss_kappa")] == pytest.approx(ref["fleiss_kappa"], abs=1e-12)
        assert got[(mode, "krippendorff_alpha_nominal")] == pytest.approx(ref["krippendorff_alpha_nominal"], abs=1e-12)
        assert got[(mode, "gwet_ac1")] == pytest.approx(ref["gwet_ac1"].estimate, abs=1e-12)


# ---------------------------------------------------------------------------------
# Majority labels, agreement by human disagreement

@pytest.mark.real_data
def test_majority_rule_reproduces_the_authors_gpt4o_mini_merged_file(bhh):
    labels = bhh.crisis_labels
    theirs = labels.filter(pl.col("rater") == "gpt-4o-mini/majority").sort("item_id")["label"].to_list()
    assert len(theirs) == 206
    ours = cl.majority_labels(labels.filter(pl.col("rater") != "gpt-4o-mini/majority"), ("gpt-4o-mini",))
    assert ours.sort("item_id")["label"].to_list() == theirs
    assert ours["source_file"][0].endswith("(computed)")


@pytest.mark.real_data
def test_agreement_by_disagreement_recomputed_by_hand(bhh, raw):
    t = cl.agreement_by_disagreement(bhh.crisis_labels)
    assert t.height == 3 * 4 * 4 and set(t["n_humans_majority"]) == {1, 2, 3, 4}
    j = raw["meta-llama/run3"]
    humans = list(zip(*(raw[h] for h in cl.HUMANS)))
    by_bin: dict[int, list[float]] = {}
    for judge, hs in zip(j, humans):
        counts = {lab: hs.count(lab) for lab in set(hs)}
        top = max(counts.values())
        modes = [lab for lab, c in counts.items() if c == top]
        by_bin.setdefault(top, []).append(1 / len(modes) if judge in modes else 0.0)
    got = t.filter((pl.col("labeller") == "meta-llama") & (pl.col("run") == "run3"))
    for k, vals in by_bin.items():
        row = got.filter(pl.col("n_humans_majority") == k).row(0, named=True)
        assert row["n_items"] == len(vals)
        assert row["judge_majority_agreement"] == pytest.approx(sum(vals) / len(vals), abs=1e-12)


# ---------------------------------------------------------------------------------
# The alternative annotator test

def _by_hand_accuracy(judge, humans, epsilon, mode):
    """The authors' procedure with plain loops: per human, p-value and W_J mean."""
    out = []
    for h in range(len(humans)):
        d, wj_all = [], []
        for i in range(len(judge)):
            others = [humans[g][i] for g in range(len(humans)) if g != h]
            s_j = sum(judge[i] == o for o in others) / len(others)
            s_h = sum(humans[h][i] == o for o in others) / len(others)
            wj, wh = float(s_j >= s_h), float(s_h >= s_j)
            d.append(wh - wj if mode == "additive" else wh - wj / (1 - epsilon))
            wj_all.append(wj)
        popmean = epsilon if mode == "additive" else 0.0
        p = stats.ttest_1samp(d, popmean, alternative="less").pvalue
        out.append((float(p), float(np.mean(wj_all))))
    return out


def _by_hand_by(p, q=0.05):
    m = len(p)
    c = sum(1 / k for k in range(1, m + 1))
    order = sorted(range(m), key=lambda k: p[k])
    k_max = max([r + 1 for r, k in enumerate(order) if p[k] <= (r + 1) / m * q / c], default=0)
    rejected = [False] * m
    for k in order[:k_max]:
        rejected[k] = True
    return rejected


@pytest.mark.real_data
def test_crisis_alt_test_structure(bhh):
    r = rp.crisis_alt_test(bhh.crisis_labels)
    judges = rp.crisis_judges()
    assert len(judges) == 12
    s = r.summary
    assert s.columns[:11] == ["task", "evaluator", "run", "epsilon_mode", "epsilon", "scoring", "n_humans",
                              "n_items", "winning_rate", "advantage_probability", "passed"]
    assert s.height == 12 * len(DEFAULT_EPSILONS) * 2 and r.humans.height == s.height * 4
    assert (s["task"] == "labels").all() and (s["n_humans"] == 4).all() and (s["n_items"] == 206).all()
    assert set(s["evaluator"]) == set(cl.LABELLERS) and set(s["run"]) == {"run1", "run2", "run3", "majority"}
    assert (s["passed"] == (s["winning_rate"] >= 0.5)).all()
    for (ev, run, mode), g in s.group_by("evaluator", "run", "epsilon_mode", maintain_order=True):
        g = g.sort("epsilon")
        assert g["epsilon"].to_list() == list(DEFAULT_EPSILONS)
        assert g["advantage_probability"].n_unique() == 1  # does not depend on epsilon
        if mode == "additive":
            assert (g["winning_rate"].diff().drop_nulls() >= 0).all()  # p-values fall as epsilon grows
        assert set(g["winning_rate"].to_list()) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    # the per-human table agrees with the summary
    h = r.humans.group_by("evaluator", "run", "epsilon_mode", "epsilon", maintain_order=True).agg(
        pl.col("rejected").mean().alias("wr"), pl.col("advantage_probability").mean().alias("ap"))
    joined = s.join(h, on=["evaluator", "run", "epsilon_mode", "epsilon"])
    assert (joined["wr"] == joined["winning_rate"]).all()
    np.testing.assert_allclose(joined["ap"], joined["advantage_probability"], rtol=0, atol=1e-15)


@pytest.mark.real_data
@pytest.mark.parametrize("judge", ["gpt-4o-mini/run1", "meta-llama/run3"])
@pytest.mark.parametrize("mode,epsilon", [("additive", 0.0), ("additive", 0.2), ("multiplicative", 0.1)])
def test_crisis_alt_test_recomputed_from_the_raw_files(bhh, raw, judge, mode, epsilon):
    r = rp.crisis_alt_test(bhh.crisis_labels, judges=[judge], epsilons=(epsilon,), epsilon_modes=(mode,))
    humans = [raw[h] for h in cl.HUMANS]
    expected = _by_hand_accuracy(raw[judge], humans, epsilon, mode)  # "" never equals a human label
    per = r.humans.sort("human")
    assert per["human"].to_list() == list(cl.HUMANS)
    for (p, adv), row in zip(expected, per.iter_rows(named=True)):
        assert row["n"] == 206
        # scipy's t test on the same differences; only the order of summation differs
        assert row["pvalue"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        assert row["advantage_probability"] == pytest.approx(adv, abs=1e-15)
    rejected = _by_hand_by([p for p, _ in expected])
    assert per["rejected"].to_list() == rejected
    assert r.summary["winning_rate"][0] == sum(rejected) / 4


@pytest.mark.real_data
def test_meta_llama_empty_labels_count_as_errors_or_are_dropped(bhh):
    wrong = rp.crisis_alt_test(bhh.crisis_labels, judges=["meta-llama/run3"], epsilons=(0.1,))
    dropped = rp.crisis_alt_test(bhh.crisis_labels, judges=["meta-llama/run3"], epsilons=(0.1,), empty_as_error=False)
    assert wrong.summary["n_items"][0] == 206 and dropped.summary["n_items"][0] == 206 - 10
    assert dropped.summary["advantage_probability"][0] > wrong.summary["advantage_probability"][0]


@pytest.mark.real_data
def test_appropriateness_alt_test_with_two_humans(bhh_dir):
    from analysis.studies.registry import load_study

    study = load_study("bhh", data_root=bhh_dir.parent)
    r = rp.appropriateness_alt_test(study, epsilons=(0.1,), epsilon_modes=("additive",))
    s = r.summary
    assert s["evaluator"].to_list() == [*study.evaluators, "jury"] and (s["run"] == "mean").all()
    assert (s["n_humans"] == 2).all() and (s["scoring"] == "neg_rmse").all()
    assert set(s["winning_rate"].to_list()) <= {0.0, 0.5, 1.0}
    # by hand for the jury: each human against the other alone, |score - other| decides
    scores = study.review_scores()
    j, h1, h2 = scores.column("jury"), scores.column("H1"), scores.column("H2")
    assert s["n_items"][0] == len(j) == 190
    for human, own, other in (("H1", h1, h2), ("H2", h2, h1)):
        wj, wh = (np.abs(j - other) <= np.abs(own - other)), (np.abs(own - other) <= np.abs(j - other))
        p = stats.ttest_1samp(wh.astype(float) - wj, 0.1, alternative="less").pvalue
        row = r.humans.filter((pl.col("evaluator") == "jury") & (pl.col("human") == human)).row(0, named=True)
        assert row["pvalue"] == pytest.approx(p, rel=1e-9)
        assert row["advantage_probability"] == pytest.approx(wj.mean(), abs=1e-15)


def test_alt_test_table_equals_the_statistics_sweep_on_any_tidy_table():
    rng = np.random.default_rng(11)
    truth = rng.integers(1, 6, 80)
    rows = [(i, h, int(np.clip(truth[i] + rng.integers(-1, 2), 1, 5))) for i in range(80) for h in ("a", "b", "c")]
    rows += [(i, "llm/run1", int(truth[i])) for i in range(80)]
    rows += [(i, "llm/run2", int(np.clip(truth[i] + rng.integers(-2, 3), 1, 5))) for i in range(80) if i % 7]
    t = pl.DataFrame(rows, schema=["item", "rater", "score"], orient="row")
    for scoring in ("accuracy", "neg_rmse"):
        r = rp.alt_test_table(t, ["a", "b", "c"], ["llm/run1", "llm/run2"], task="x", scoring=scoring,
                              epsilon_modes=("additive",))
        for judge in ("llm/run1", "llm/run2"):
            ref = alt_test_sweep(t, judge, ["a", "b", "c"], scoring=scoring)
            ev, run = judge.split("/")
            got = r.summary.filter((pl.col("evaluator") == ev) & (pl.col("run") == run))
            assert got.select(ref.columns).equals(ref)
    with pytest.raises(rp.NotEnoughReferences, match="at least 2 reference raters"):
        rp.alt_test_table(t, ["a"], ["llm/run1"])


# ---------------------------------------------------------------------------------
# The command

def test_command_exits_2_for_a_study_with_one_reference(capsys):
    from analysis.cli.alt_test import main

    assert main(["--study", "mentalalign"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: study mentalalign has 1 reference rater(s) (human); the alternative annotator test "
                   "needs at least 2"]
    assert main(["--study", "dialoguesafety"]) == 2


def test_command_writes_the_table_for_demo(tmp_path, capsys):
    from analysis.cli.alt_test import main
    from analysis.studies.registry import load_study

    out = tmp_path / "sub" / "alt.csv"
    assert main(["--study", "demo", "--epsilon", "0.1", "0.2", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    t = pl.read_csv(out)
    assert t.columns == list(rp.SUMMARY_SCHEMA)
    assert t.height == 4 * 2 * 2 and set(t["epsilon_mode"]) == {"additive", "multiplicative"}
    direct = rp.study_alt_test(load_study("demo"), epsilons=(0.1, 0.2)).summary
    np.testing.assert_allclose(t["winning_rate"], direct["winning_rate"], rtol=0, atol=0)
    np.testing.assert_allclose(t["advantage_probability"], direct["advantage_probability"], rtol=0, atol=1e-10)
    assert (tmp_path / "sub" / "alt_humans.csv").is_file()
    assert main(["--study", "demo", "--task", "labels", "--out", str(out)]) == 2
    assert "has no task 'labels'" in capsys.readouterr().err


@pytest.mark.real_data
def test_command_on_bhh_labels(shared_data_root, tmp_path):
    from analysis.cli.alt_test import main

    out = tmp_path / "a.csv"
    assert main(["--study", "bhh", "--data-root", str(shared_data_root), "--task", "labels", "--epsilon", "0.15",
                 "--epsilon-mode", "additive", "--out", str(out)]) == 0
    t = pl.read_csv(out)
    assert t.height == 12 and (t["scoring"] == "accuracy").all() and (t["epsilon"] == 0.15).all()
    assert not math.isnan(t["advantage_probability"].sum())


# ---------------------------------------------------------------------------------
# Gwet's AC1/AC2 in the scored studies' agreement table

def test_agreement_table_gwet_columns_equal_a_two_rater_brute_force():
    from analysis.studies.registry import load_study
    from analysis.studies.scored import agreement_table

    study = load_study("demo")
    scores = study.review_scores()
    t = agreement_table(scores, [("gpt-4o-mini", "H1"), ("H1", "H2"), ("jury", "human_mean")])
    assert t.columns[-2:] == ["gwet_ac1", "gwet_ac2_quadratic"]
    grid = np.arange(1, 6)
    for row in t.iter_rows(named=True):
        # rounded half up to 1-5, as the QWK column
        a = np.clip(np.floor(scores.column(row["rater_a"]) + 0.5), 1, 5).astype(int)
        b = np.clip(np.floor(scores.column(row["rater_b"]) + 0.5), 1, 5).astype(int)
        for col, w in (("gwet_ac1", np.eye(5)), ("gwet_ac2_quadratic", 1 - (grid[:, None] - grid[None, :]) ** 2 / 16)):
            # two raters: pa = mean weight of the pair of scores; pi_k = share of the 2n scores in k
            pa = np.mean([w[x - 1, y - 1] for x, y in zip(a, b)])
            pi = np.array([(np.sum(a == k) + np.sum(b == k)) / (2 * len(a)) for k in grid])
            pe = w.sum() / (5 * 4) * np.sum(pi * (1 - pi))
            assert row[col] == pytest.approx((pa - pe) / (1 - pe), abs=1e-12), (row["rater_a"], row["rater_b"], col)


# ---------------------------------------------------------------------------------
# The report's tables and figures (notebook 08_crisis_labels)

@pytest.mark.real_data
def test_the_report_tables_are_those_of_each_summary(bhh):
    summaries = cl.confusion_summaries(bhh.crisis_labels)
    assert list(summaries) == list(cl.SUMMARIES)
    assert [s.title for s in summaries.values()] == ["all 78 pairs", "6 human–human pairs", "36 human–LLM pairs"]
    tables = cl.confusion_tables(summaries)
    assert len(tables) == 4 * len(cl.SUMMARIES)
    top = cl.top_confused_pairs(summaries, k=5)
    assert top.columns[0] == "summary" and top.height == 5 * len(cl.SUMMARIES)
    for name in cl.SUMMARIES:
        direct = cl.confusion_summary(bhh.crisis_labels, name)
        for table, method in (("confusion", direct.confusion_table), ("s_balanced", direct.s_balanced_table),
                              ("most_confused_labels", direct.most_confused_labels),
                              ("most_confused_pairs", direct.most_confused_pairs)):
            assert tables[f"crisis_{table}_{name}"].equals(method()), (name, table)
        mine = top.filter(pl.col("summary") == name).drop("summary")
        assert mine.equals(direct.most_confused_pairs().head(5))
        assert mine["s_balanced"].to_list() == sorted(direct.s_balanced[np.triu_indices(7, 1)].tolist(), reverse=True)[:5]


@pytest.mark.real_data
def test_majority_agreement_by_level_is_the_long_table_wide(bhh):
    long = cl.agreement_by_disagreement(bhh.crisis_labels)
    wide = cl.majority_agreement_by_level(long)
    assert wide.height == 12 and wide.columns[:2] == ["labeller", "run"]
    assert sorted(wide.columns[2:]) == sorted(str(v) for v in long["n_humans_majority"].unique())
    for r in long.iter_rows(named=True):
        row = wide.filter((pl.col("labeller") == r["labeller"]) & (pl.col("run") == r["run"]))
        assert row[str(r["n_humans_majority"])][0] == r["judge_majority_agreement"]


@pytest.mark.real_data
def test_winning_rates_and_the_left_out_humans_are_rows_of_the_alt_test(bhh):
    alt = rp.crisis_alt_test(bhh.crisis_labels)
    wide = rp.winning_rates(alt.summary, epsilons=(0.1, 0.2))
    assert wide.columns == ["task", "evaluator", "run", "advantage_probability", "0.1", "0.2"] and wide.height == 12
    for r in alt.summary.filter(pl.col("epsilon_mode") == "additive").iter_rows(named=True):
        if r["epsilon"] in (0.1, 0.2):
            row = wide.filter((pl.col("evaluator") == r["evaluator"]) & (pl.col("run") == r["run"]))
            assert row[str(r["epsilon"])][0] == r["winning_rate"]
    humans = rp.per_left_out_human(alt.humans, epsilon=0.2)
    assert "epsilon" not in humans.columns and humans.height == 12 * 4
    assert humans.equals(alt.humans.filter((pl.col("epsilon_mode") == "additive") & (pl.col("epsilon") == 0.2))
                         .drop("epsilon_mode", "epsilon"))


@pytest.mark.real_data
def test_the_report_figures_draw_every_estimate(bhh, agreement):
    import matplotlib.pyplot as plt

    from analysis.reporting.figures import kappa_vs_humans_plot, s_balanced_heatmaps, winning_rate_plot

    names = {"meta-llama": "Llama-4-Scout"}.get
    kappas = cl.kappa_against_humans(agreement)
    fig = kappa_vs_humans_plot(kappas, humans=cl.HUMANS, labellers=cl.LABELLERS, names=lambda n: names(n, n))
    ax = fig.axes[0]
    drawn = sorted(y for line in ax.lines if line.get_marker() == "o" for y in line.get_ydata())
    assert drawn == pytest.approx(sorted(kappas["cohen_kappa"].to_list()))
    assert len(ax.patches) == len(cl.HUMANS)
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"human–human κ (range)", "gpt-4o-mini",
                                                                 "gpt-5-nano", "Llama-4-Scout"}
    plt.close(fig)
    fig = s_balanced_heatmaps(cl.confusion_summaries(bhh.crisis_labels), labels=cl.LABELS)
    assert [a.get_title().replace("\n", " ") for a in fig.axes[:3]] == [
        "s-balanced, all 78 pairs", "s-balanced, 6 human–human pairs", "s-balanced, 36 human–LLM pairs"]
    plt.close(fig)
    alt = rp.crisis_alt_test(bhh.crisis_labels)
    fig = winning_rate_plot(alt.summary, labellers=cl.LABELLERS, references={"labels": cl.HUMANS})
    assert [a.get_title().replace("\n", " ") for a in fig.axes] == [f"{lab}: labels vs H1, H2, H3, H4"
                                                                    for lab in cl.LABELLERS]
    # one line per judge (3 runs and the majority) and epsilon mode, plus the pass line
    assert [len(a.lines) for a in fig.axes] == [4 * 2 + 1] * 3
    plt.close(fig)
