"""The kappa family from count tables (analysis.stats.chance) against reference packages:
scikit-learn (Cohen), statsmodels (Fleiss), krippendorff (alpha), and the package's own
irrCAC-validated Gwet (tests/test_gwet.py); the sums forms against the array front-ends
recomputed on explicit bootstrap resamples."""

from __future__ import annotations

import krippendorff
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from analysis.stats import chance
from analysis.stats.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha
from analysis.stats.bootstrap import bootstrap, resample_indices
from analysis.stats.gwet import gwet_ac

EXACT = 1e-12


def _labels(seed, n=80, raters=4, q=5, missing=0.0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n)
    x = np.where(rng.random((n, raters)) < 0.6, truth[:, None], rng.integers(0, q, (n, raters)))
    codes = x.copy()
    codes[rng.random(x.shape) < missing] = -1
    return codes


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_table_batch_equals_sklearn(weights):
    rng = np.random.default_rng(1)
    tables, refs = [], []
    for _ in range(6):
        a = rng.integers(0, 4, 50)
        b = np.where(rng.random(50) < 0.5, a, rng.integers(0, 4, 50))
        tables.append(chance.contingency_table(a, b, [0, 1, 2, 3]))
        refs.append(cohen_kappa_score(a, b, labels=[0, 1, 2, 3], weights=weights))
    batch = chance.cohen_kappa_table(np.stack(tables), weights)
    assert batch.shape == (6,)
    np.testing.assert_allclose(batch, refs, rtol=0, atol=EXACT)
    assert chance.cohen_kappa_table(tables[0], weights) == pytest.approx(refs[0], abs=EXACT)


def test_cohen_kappa_labels_outside_the_set_agree_with_nothing():
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 3, 60)
    pred = np.where(rng.random(60) < 0.6, gold, rng.integers(-1, 3, 60))  # -1: no category named
    form = chance.cohen_kappa_sums(gold, pred, 3)
    assert form.units.shape == (60, 3 * 4)
    ref = cohen_kappa_score(gold, pred, labels=[-1, 0, 1, 2])
    assert form.value() == pytest.approx(ref, abs=EXACT)
    # the classification metrics' form: diagonal and margins, the outside column left out of cols
    t = form.units.sum(axis=0).reshape(3, 4)
    assert chance.cohen_kappa_margins(np.trace(t[:, :3]), t.sum(axis=1), t[:, :3].sum(axis=0)) == pytest.approx(
        ref, abs=EXACT)


def test_fleiss_from_counts_equals_statsmodels_and_refuses_unequal_rows():
    codes = _labels(3, raters=6)
    counts = chance.count_matrix(codes, 5)
    assert chance.fleiss_kappa_counts(counts) == pytest.approx(sm_fleiss(counts), abs=EXACT)
    assert fleiss_kappa(codes) == pytest.approx(sm_fleiss(counts), abs=EXACT)
    counts[0, 0] += 1
    with pytest.raises(ValueError, match="same number of ratings"):
        chance.fleiss_kappa_counts(counts)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_from_counts_equals_the_package(level):
    codes = _labels(4, missing=0.25)
    counts = chance.count_matrix(codes, 5)
    ref = krippendorff.alpha(value_counts=counts, value_domain=[0, 1, 2, 3, 4], level_of_measurement=level)
    assert chance.krippendorff_alpha_counts(counts, level, values=np.arange(5.0)) == pytest.approx(ref, abs=EXACT)
    assert chance.krippendorff_alpha_sums(counts, level, values=np.arange(5.0)).value() == pytest.approx(ref, abs=EXACT)
    ratings = np.where(codes < 0, np.nan, codes.astype(float))
    assert krippendorff_alpha(ratings, level) == pytest.approx(ref, abs=EXACT)


def test_krippendorff_table_of_two_complete_raters_equals_the_package():
    rng = np.random.default_rng(5)
    x, y = rng.integers(1, 6, 40).astype(float), rng.integers(1, 6, 40).astype(float)
    values = np.arange(1.0, 6.0)
    t = chance.contingency_table(x, y, values.tolist())
    for level in ("interval", "ordinal", "nominal"):
        ref = krippendorff.alpha(reliability_data=np.vstack([x, y]), level_of_measurement=level)
        assert chance.krippendorff_alpha_table(t, values, level) == pytest.approx(ref, abs=EXACT), level


@pytest.mark.parametrize("weights", [None, "quadratic", "ordinal"])
def test_gwet_counts_and_sums_equal_the_array_front_end(weights):
    codes = _labels(6, missing=0.2)
    labels = np.where(codes < 0, np.nan, codes + 1.0)
    ref = gwet_ac(labels, weights, categories=[1, 2, 3, 4, 5])
    counts = chance.count_matrix(codes, 5)
    got = chance.gwet_ac_counts(counts, weights, categories=[1, 2, 3, 4, 5])
    assert got == ref
    assert chance.gwet_ac_sums(counts, weights, categories=[1, 2, 3, 4, 5]).value() == pytest.approx(
        ref.estimate, abs=EXACT)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_sums_forms_bootstrap_equals_the_front_ends_on_explicit_resamples(missing):
    codes = _labels(7, n=40, missing=missing)
    counts = chance.count_matrix(codes, 5)
    form = chance.stack_sums(chance.fleiss_kappa_sums(counts, 4), chance.krippendorff_alpha_sums(counts, "nominal"),
                             chance.gwet_ac_sums(counts))
    assert form.names == ("fleiss_kappa", "krippendorff_alpha_nominal", "gwet_ac1")
    res = bootstrap(form.units, form.statistic, sums=True, n_boot=50, seed=11, method="percentile",
                    keep_replicates=True)
    for b, idx in enumerate(resample_indices(40, 50, 11)[:8]):
        c = codes[idx]
        complete = (c >= 0).all(axis=1)
        ratings = np.where(c < 0, np.nan, c.astype(float))
        expect = [fleiss_kappa(c[complete]) if complete.any() else np.nan,
                  krippendorff_alpha(ratings, "nominal"),
                  gwet_ac(ratings, categories=[0.0, 1.0, 2.0, 3.0, 4.0]).estimate]
        np.testing.assert_allclose(res.replicates[b], expect, rtol=0, atol=1e-10, err_msg=f"resample {b}")


def test_frames_are_accepted_by_the_array_front_ends():
    a, b = ["x", "y", "x", "x", "y"], ["x", "y", "y", "x", "y"]
    ref = cohen_kappa(a, b)
    assert cohen_kappa(pl.Series(a), pl.Series(b)) == ref
    frame = pl.DataFrame({"r1": a, "r2": b, "r3": ["x", "y", "x", "y", "y"]})
    assert fleiss_kappa(frame) == fleiss_kappa(np.array(frame.rows(), dtype=object))
    num = pl.DataFrame({"r1": [1.0, 2.0, None, 4.0], "r2": [1.0, 3.0, 3.0, 4.0]})
    assert krippendorff_alpha(num) == krippendorff_alpha(np.array([[1, 1], [2, 3], [np.nan, 3], [4, 4.0]]))
