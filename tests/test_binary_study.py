"""Binary-verdict studies (kind = "binary"): the study file, the kind's tables checked against
the statistics they call, and the corrected prevalence's coverage through the whole
study path (study file -> loader -> per-category table) on simulated verdicts with known
sensitivity, specificity and prevalence."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.data.tidy import StudyFileError, read_study_file
from analysis.stats.verdicts import corrected_prevalence, diagnostic_accuracy
from analysis.studies import binary
from analysis.studies.registry import get_study, load_study

THETA, SE, SP = 0.3, 0.85, 0.8


def simulate(dst: Path, replications: int, *, n_test: int = 300, n_cal: int = 150, seed: int = 7) -> Path:
    """One binary study whose categories are independent replications: in each, ``n_test``
    items only the judge saw and ``n_cal`` items a human (H, the truth) also judged."""
    rng = np.random.default_rng(seed)
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item", "rater", "score", "category"])
        for r in range(replications):
            truth = rng.random(n_test + n_cal) < THETA
            flag = np.where(truth, rng.random(truth.size) < SE, rng.random(truth.size) >= SP)
            for i in range(truth.size):
                w.writerow([f"r{r}-{i}", "judge", "unsafe" if flag[i] else "safe", f"rep{r:04d}"])
                if i < n_cal:
                    w.writerow([f"r{r}-{i}", "H", "unsafe" if truth[i] else "safe", f"rep{r:04d}"])
    (dst / "study.toml").write_text('name = "sim-binary"\nkind = "binary"\nratings = "ratings.csv"\n'
                                    'labels = ["safe", "unsafe"]\npositive = "unsafe"\nreferences = ["H"]\n',
                                    encoding="utf-8")
    return dst / "study.toml"


def test_a_binary_study_file_gets_the_binary_kind_and_its_tables_are_the_statistics(tmp_path):
    path = simulate(tmp_path / "s", 3)
    spec = get_study(str(path))
    assert spec.kind == "binary" and spec.scale.labels == ("safe", "unsafe") and spec.scale.safe == 0
    assert [nb.name for nb in spec.notebooks] == ["13_binary_verdicts"]
    s = load_study(str(path))
    v = binary.verdicts(s)
    cal = v.filter(pl.col("human").is_not_null())
    d = diagnostic_accuracy(cal["judge"].to_numpy(), cal["human"].to_numpy())
    row = binary.diagnostic_table(s).filter(pl.col("category") == binary.ALL).row(0, named=True)
    assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (d.tp, d.fp, d.fn, d.tn) and row["n"] == 450
    assert row["sensitivity_ci_low"] == d.sensitivity.ci_low
    test = v.filter(pl.col("human").is_null())
    rg = corrected_prevalence(test["judge"].to_numpy(), cal["judge"].to_numpy(), cal["human"].to_numpy())
    p = binary.prevalence_table(s).filter(pl.col("category") == binary.ALL).row(0, named=True)
    assert (p["n_test"], p["m1"] + p["m0"]) == (900, 450)
    assert (p["corrected"], p["corrected_ci_low"], p["naive"]) == (rg.estimate, rg.ci_low, rg.naive)
    assert 0 < p["ppi_ci_low"] < p["ppi"] < p["ppi_ci_high"] < 1
    assert binary.prevalence_table(s)["category"].to_list() == ["all", "rep0000", "rep0001", "rep0002"]


def test_the_humans_majority_is_the_reference_and_even_splits_are_left_out(tmp_path):
    rows = [("a", "H1", "unsafe"), ("a", "H2", "unsafe"), ("a", "J", "unsafe"),
            ("b", "H1", "unsafe"), ("b", "H2", "safe"), ("b", "J", "safe"),
            ("c", "H1", "safe"), ("c", "H2", "safe"), ("c", "J", "unsafe"), ("d", "J", "unsafe")]
    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("item", "rater", "score"), *rows])
    (tmp_path / "study.toml").write_text('name = "b"\nkind = "binary"\nratings = "ratings.csv"\nlabels = ["safe", '
                                         '"unsafe"]\npositive = "unsafe"\nreferences = ["H1", "H2"]\n',
                                         encoding="utf-8")
    s = load_study(str(tmp_path / "study.toml"))
    assert binary.split_count(s) == 1
    row = binary.diagnostic_table(s).row(0, named=True)
    assert (row["n"], row["tp"], row["fp"], row["fn"], row["tn"]) == (2, 1, 1, 0, 0)
    p = binary.prevalence_table(s).row(0, named=True)
    assert (p["n_test"], p["naive"]) == (1, 1.0)


@pytest.mark.parametrize("extra, match", [
    ('labels = ["safe", "unsafe", "unclear"]\npositive = "unsafe"\n', "a binary study has two labels"),
    ('labels = ["safe", "unsafe"]\npositive = "harmful"\n', "key 'positive': required"),
    ('labels = ["safe", "unsafe"]\n', "key 'positive': required"),
])
def test_bad_binary_study_files_are_one_line(tmp_path, extra, match):
    (tmp_path / "r.csv").write_text("item,rater,score\n1,H,safe\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(f'name = "b"\nkind = "binary"\nratings = "r.csv"\nreferences = ["H"]\n{extra}',
                                     encoding="utf-8")
    with pytest.raises(StudyFileError, match=match):
        read_study_file(tmp_path / "s.toml")


def test_positive_outside_a_binary_study_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("item,rater,score\n1,H,safe\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text('name = "b"\nratings = "r.csv"\nreferences = ["H"]\nlabels = ["safe", "unsafe"]\n'
                                     'positive = "unsafe"\n', encoding="utf-8")
    with pytest.raises(StudyFileError, match="only for kind = \"binary\""):
        read_study_file(tmp_path / "s.toml")


def test_the_corrected_interval_covers_the_truth_through_the_study_path(tmp_path):
    """500 replications (one category each) of 300 judge-only items and 150 calibration
    items: the Rogan-Gladen interval covers THETA in >= 93 %, the naive one (the judge's
    flag rate, whose expectation is THETA*SE + (1-THETA)*(1-SP) = 0.395) rarely does."""
    s = load_study(str(simulate(tmp_path / "sim", 500)))
    p = binary.prevalence_table(s).filter(pl.col("category") != binary.ALL)
    assert p.height == 500 and (p["n_test"] == 300).all()
    covered = ((p["corrected_ci_low"] <= THETA) & (THETA <= p["corrected_ci_high"])).mean()
    naive = ((p["naive_ci_low"] <= THETA) & (THETA <= p["naive_ci_high"])).mean()
    ppi = ((p["ppi_ci_low"] <= THETA) & (THETA <= p["ppi_ci_high"])).mean()
    print(f"coverage: corrected {covered:.3f}, naive {naive:.3f}, PPI {ppi:.3f}")
    assert covered >= 0.93, covered
    assert naive < 0.25, naive
    assert ppi >= 0.93, ppi  # the calibration items are a uniform random sample here: PPI applies too
    assert math.isclose(p["corrected"].mean(), THETA, abs_tol=0.01)
