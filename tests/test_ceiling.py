"""The ceiling of ICC(evaluator, mean of m references): the formula against simulation,
its identities, the references' ICC against :func:`intraclass_corr`, and the
leave-one-human-out comparison with three references against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from analysis.stats.ceiling import ceiling_correlation, ceiling_icc, human_ceiling, reference_ceiling
from analysis.stats.icc import ICC_TYPES, icc_batch, intraclass_corr

S_T, S_B, S_E = 1.0, 0.3, 0.4   # true-score, rater-effect and error variances
RHO_A = S_T / (S_T + S_B + S_E)
RHO_C = S_T / (S_T + S_E)


def test_ceiling_identities():
    rho = np.linspace(0.05, 0.95, 19)
    for m in (1, 2, 3, 5, 20):
        rho_m = m * rho / (1 + (m - 1) * rho)                 # Spearman-Brown
        np.testing.assert_allclose(ceiling_icc(rho, m), 2 * rho * rho_m / (rho + rho_m), rtol=1e-14)
        np.testing.assert_allclose(ceiling_correlation(rho, m), np.sqrt(rho * rho_m), rtol=1e-14)
        assert np.all(ceiling_icc(rho, m) <= ceiling_correlation(rho, m) + 1e-15)   # harmonic <= geometric
    np.testing.assert_allclose(ceiling_icc(rho, 1), rho, rtol=1e-15)
    np.testing.assert_allclose(ceiling_icc(rho, 1e9), 2 * rho / (1 + rho), rtol=1e-8)
    assert ceiling_icc(0.86, 2) == pytest.approx(0.8912, abs=1e-4)
    assert np.all(np.diff(ceiling_icc(rho, 2)) > 0) and np.all(ceiling_icc(rho, 3) > ceiling_icc(rho, 2))
    with pytest.raises(ValueError, match="n_references"):
        ceiling_icc(0.5, 0)


def _simulate_raters(rng, reps, n, m):
    """reps x n items x (judge + m humans); the judge is drawn exactly like a human."""
    t = rng.normal(0, np.sqrt(S_T), (reps, n, 1))
    b = rng.normal(0, np.sqrt(S_B), (reps, 1, m + 1))
    e = rng.normal(0, np.sqrt(S_E), (reps, n, m + 1))
    return 3.0 + t + b + e


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_ceiling_matches_simulation_for_named_raters(m):
    """Average ICC(A,1), ICC(C,1) and Pearson r of an exchangeable judge with the mean of m
    humans over 4,000 simulated studies of 300 items: the formulas within 0.005."""
    rng = np.random.default_rng(100 + m)
    x = _simulate_raters(rng, 4000, 300, max(m, 2))     # judge, then at least 2 humans
    pair = np.stack([x[..., 0], x[..., 1:1 + m].mean(axis=-1)], axis=-1)
    icc = icc_batch(pair)
    a1, c1 = ICC_TYPES.index("ICC(A,1)"), ICC_TYPES.index("ICC(C,1)")
    assert icc[:, c1].mean() == pytest.approx(ceiling_icc(RHO_C, m), abs=0.005)
    # absolute agreement: the plug-in ceiling from the human-human ICC(A,1) of each study
    # (the mean over pairs of its humans; with m = 1, of that human and one more)
    hh = np.mean([icc_batch(x[..., [1 + i, 1 + j]])[:, a1]
                  for i, j in itertools.combinations(range(x.shape[-1] - 1), 2)], axis=0)
    assert icc[:, a1].mean() == pytest.approx(ceiling_icc(hh, m).mean(), abs=0.005)
    # the ratio-of-expectations value is below the average sample ICC(A,1) (module docstring)
    assert ceiling_icc(RHO_A, m) < icc[:, a1].mean() < ceiling_icc(RHO_A, m) + 0.03
    d = pair - pair.mean(axis=1, keepdims=True)
    r = (d[..., 0] * d[..., 1]).sum(axis=1) / np.sqrt((d[..., 0] ** 2).sum(axis=1) * (d[..., 1] ** 2).sum(axis=1))
    assert r.mean() == pytest.approx(float(ceiling_correlation(RHO_C, m)), abs=0.005)


@pytest.mark.parametrize("m", [2, 3])
def test_ceiling_matches_simulation_for_slots(m):
    """Slots: a new rater (bias drawn afresh) on every item and slot; the judge is one more
    slot. Average one-way ICC(1,1) of the judge with the slot mean = C(rho_1, m)."""
    rng = np.random.default_rng(200 + m)
    reps, n = 4000, 300
    x = 3.0 + rng.normal(0, 1, (reps, n, 1)) + rng.normal(0, np.sqrt(S_B), (reps, n, m + 1)) \
        + rng.normal(0, np.sqrt(S_E), (reps, n, m + 1))
    pair = np.stack([x[..., 0], x[..., 1:].mean(axis=-1)], axis=-1)
    i11 = ICC_TYPES.index("ICC(1,1)")
    assert icc_batch(pair)[:, i11].mean() == pytest.approx(ceiling_icc(RHO_A, m), abs=0.005)
    # reference_ceiling's slot ICC on one large sample
    big = 3.0 + rng.normal(0, 1, (20000, 1)) + rng.normal(0, np.sqrt(S_B + S_E), (20000, m))
    c = reference_ceiling(big, references_are="slots", n_boot=50, seed=1, method="percentile")
    assert c.form == "ICC(1,1)" and c.human_icc == pytest.approx(RHO_A, abs=0.01)
    assert c.estimate == pytest.approx(float(ceiling_icc(c.human_icc, m)), rel=1e-12)


def test_reference_ceiling_is_the_mean_pairwise_icc():
    rng = np.random.default_rng(5)
    x = _simulate_raters(rng, 1, 150, 3)[0, :, 1:]
    for agreement, form in (("absolute", "ICC(A,1)"), ("consistency", "ICC(C,1)")):
        c = reference_ceiling(x, agreement=agreement, n_boot=300, seed=2)
        want = [intraclass_corr(x[:, list(p)]).filter(pl.col("type") == form)["icc"][0]
                for p in itertools.combinations(range(3), 2)]
        assert [v for _, v in c.pairwise] == pytest.approx(want, rel=1e-12)
        assert c.human_icc == pytest.approx(np.mean(want), rel=1e-12)
        assert c.estimate == pytest.approx(float(ceiling_icc(np.mean(want), 3)), rel=1e-12)
        assert c.form == form and c.n_references == 3 and c.n == 150
        # the interval is the references' interval mapped through the (increasing) ceiling
        assert c.human_icc_ci_low < c.human_icc < c.human_icc_ci_high
        assert c.ci_low == pytest.approx(float(ceiling_icc(c.human_icc_ci_low, 3)), rel=1e-9)
        assert c.ci_high == pytest.approx(float(ceiling_icc(c.human_icc_ci_high, 3)), rel=1e-9)
    frame = c.to_frame()
    assert frame.columns[:7] == ["estimate", "ci_low", "ci_high", "pvalue", "n", "confidence", "ci_note"]
    slots = reference_ceiling(x, references_are="slots", n_boot=100, seed=2)
    assert slots.human_icc == pytest.approx(intraclass_corr(x).filter(pl.col("type") == "ICC(1,1)")["icc"][0])


def test_reference_ceiling_refuses_bad_input():
    x = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match="k >= 2"):
        reference_ceiling(x[:, :1])
    with pytest.raises(ValueError, match="references_are"):
        reference_ceiling(x, references_are="people")
    y = x.copy()
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="complete"):
        reference_ceiling(y)
    with pytest.raises(ValueError, match="confidence"):
        reference_ceiling(x, confidence=95)


def test_human_ceiling_with_three_references_is_leave_one_out():
    rng = np.random.default_rng(9)
    t = rng.integers(1, 6, 120).astype(float)
    h = t[:, None] + rng.normal(0, 0.5, (120, 3))
    ev = t + 0.4 + rng.normal(0, 0.6, 120)
    res = human_ceiling(ev, h[:, 0], h[:, 1], h[:, 2], n_boot=200, seed=3, names=["A", "B", "C"])
    icc = res.filter(pl.col("metric") == "icc_a1")
    assert icc["reference"].to_list() == ["mean of all but A", "mean of all but B", "mean of all but C", "mean"]

    def a1(u, v):
        return intraclass_corr(np.column_stack([u, v])).filter(pl.col("type") == "ICC(A,1)")["icc"][0]

    deltas = []
    for j in range(3):
        ref = h[:, [i for i in range(3) if i != j]].mean(axis=1)
        row = icc.row(j, named=True)
        assert row["evaluator_vs_ref"] == pytest.approx(a1(ev, ref), rel=1e-10)
        assert row["human_vs_ref"] == pytest.approx(a1(h[:, j], ref), rel=1e-10)
        deltas.append(a1(ev, ref) - a1(h[:, j], ref))
        mae = res.filter(pl.col("metric") == "mae").row(j, named=True)
        assert mae["delta"] == pytest.approx(np.mean(np.abs(ev - ref)) - np.mean(np.abs(h[:, j] - ref)), rel=1e-10)
    assert icc.row(3, named=True)["delta"] == pytest.approx(np.mean(deltas), rel=1e-10)
    assert icc.row(3, named=True)["verdict"] is not None
    with pytest.raises(ValueError, match="at least two"):
        human_ceiling(ev, h[:, 0])


# --- the overview: a ceiling with any number of references -----------------------------------

@pytest.fixture(scope="module")
def three_humans(tmp_path_factory):
    """The demo study as a user's study file with a third human (H1's ratings, one point
    off on a fixed fifth of the answers)."""
    from analysis.data.demo import generate_demo

    folder = tmp_path_factory.mktemp("three")
    ratings = generate_demo(seed=11).ratings
    h3 = ratings.filter(pl.col("rater") == "H1")
    rng = np.random.default_rng(4)
    shift = np.where(rng.random(h3.height) < 0.2, rng.choice([-1.0, 1.0], h3.height), 0.0)
    h3 = h3.with_columns(pl.lit("H3").alias("rater"), (pl.col("score") + shift).clip(1, 5).alias("score"))
    tidy = pl.concat([ratings, h3]).select(
        pl.col("response_id").alias("answer_id"), pl.col("rater").alias("annotator"),
        pl.col("score").cast(pl.Int64).alias("rating"), pl.col("eval_run").alias("pass"),
        pl.col("category").alias("crisis"), pl.col("item_id").alias("conversation"))
    tidy.write_csv(folder / "ratings.csv")
    (folder / "study.toml").write_text("""
name = "three-humans"
ratings = "ratings.csv"
scale = [1, 5]
integer = true
references = ["H1", "H2", "H3"]

[columns]
item = "answer_id"
rater = "annotator"
score = "rating"
run = "pass"
category = "crisis"
cluster = "conversation"
""")
    return folder / "study.toml"


def test_overview_has_a_ceiling_with_three_references(three_humans):
    from analysis.studies.overview import overview_table, synthesis_table
    from analysis.studies.registry import load_study
    from analysis.studies.scored import HUMAN_MEAN

    study = load_study(str(three_humans))
    table = overview_table(study, n_boot=100, seed=1)
    scores = study.review_scores()
    h = np.column_stack([scores.column(r) for r in ("H1", "H2", "H3")])
    np.testing.assert_allclose(scores.column(HUMAN_MEAN), h.mean(axis=1))
    hh = np.mean([icc_batch(h[:, list(p)])[ICC_TYPES.index("ICC(A,1)")] for p in itertools.combinations(range(3), 2)])
    for row in table.iter_rows(named=True):
        assert row["n_references"] == 3
        assert row["human_icc_a1"] == pytest.approx(hh, rel=1e-12)
        assert row["ceiling_icc_a1"] == pytest.approx(float(ceiling_icc(hh, 3)), rel=1e-12)
        assert row["ceiling_icc_a1_ci_low"] < row["ceiling_icc_a1"] < row["ceiling_icc_a1_ci_high"]
        assert row["ceiling_icc_c1"] is not None and row["verdict"] is not None
        assert row["delta_icc_a1"] is not None
    synth = synthesis_table([study], n_boot=50, seed=1)
    a = synth.filter(pl.col("measure") == "ICC(A,1)")["human_ceiling"].unique().to_list()
    assert a == [pytest.approx(table["ceiling_icc_a1"][0])]
    assert synth.filter(pl.col("measure") == "ICC(C,1)")["human_ceiling"].null_count() == 0


def test_references_as_slots_take_the_one_way_ceiling(three_humans, tmp_path):
    """``references_are = "slots"`` in the study file: the ceiling uses ICC(1,1) of the
    references (interchangeable raters), not the mean pairwise ICC(A,1)."""
    from analysis.studies.overview import overview_table
    from analysis.studies.registry import load_study

    slots = tmp_path / "study.toml"
    text = three_humans.read_text().replace('references = ["H1", "H2", "H3"]',
                                            'references = ["H1", "H2", "H3"]\nreferences_are = "slots"')
    slots.write_text(text.replace('ratings = "ratings.csv"', f'ratings = "{three_humans.parent / "ratings.csv"}"\n'
                                                             f'ratings_outside_study_folder = true'))
    study = load_study(str(slots))
    assert study.spec.references_are == "slots"
    row = overview_table(study, n_boot=100, seed=1).row(0, named=True)
    scores = study.review_scores()
    h = np.column_stack([scores.column(r) for r in ("H1", "H2", "H3")])
    one_way = icc_batch(h)[ICC_TYPES.index("ICC(1,1)")]
    assert row["human_icc_a1"] == pytest.approx(one_way, rel=1e-12)
    assert row["ceiling_icc_a1"] == pytest.approx(float(ceiling_icc(one_way, 3)), rel=1e-12)


def test_references_are_must_be_raters_or_slots(three_humans, tmp_path):
    from analysis.data.tidy import StudyFileError, read_study_file

    bad = tmp_path / "study.toml"
    bad.write_text(three_humans.read_text().replace('references = ["H1", "H2", "H3"]',
                                                    'references = ["H1", "H2", "H3"]\nreferences_are = "people"'))
    with pytest.raises(StudyFileError, match="key 'references_are': expected"):
        read_study_file(bad)
