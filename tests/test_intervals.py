"""CI notes: the documented rules, and that every CI result carries n_valid and ci_note."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from analysis.stats import intervals
from analysis.stats.bias import mean_bias
from analysis.stats.bootstrap import ResamplePlan, bootstrap
from analysis.stats.intervals import MIN_CLUSTERS, MIN_ITEMS, SEPARATOR, ci_note


DOCS = Path(__file__).resolve().parent.parent / "docs"


def _coverage_cells(method: str, clustered: bool):
    """(n, coverage, MC SE) of the ``method`` rows of docs/coverage.md: the unclustered
    ICC/bias tables (n = items) or the clustered ones (n = clusters)."""
    cells, section = [], ""
    for line in (DOCS / "coverage.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            section = line
            continue
        if "proportion" in section or ("clustered" in section) != clustered or not line.startswith("| "):
            continue
        f = [c.strip() for c in line.strip("|").split("|")]
        if len(f) > 4 and f[2] == method:
            cells.append((int(f[1]), float(f[3]), float(f[4])))
    return cells


def _ppi_cells(method: str = "crossfit"):
    """(n, worst coverage over populations, MC SE of 500 subsets) of docs/ppi_check.md's
    summary tables (every study)."""
    cells, header = [], None
    for line in (DOCS / "ppi_check.md").read_text(encoding="utf-8").splitlines():
        f = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| n | tuned"):
            header = f
        elif header and line.startswith("| ") and f[0].isdigit() and len(f) == len(header):
            low = float(re.search(r"\[([\d.]+),", f[header.index(method)]).group(1))
            cells.append((int(f[0]), low, 100 * np.sqrt(0.95 * 0.05 / 500)))
        elif not line.startswith("|"):
            header = None
    return cells


def test_thresholds_are_derived_from_the_coverage_documents():
    """MIN_ITEMS, MIN_CLUSTERS and MIN_PPI_RATED are what coverage_threshold gives on the
    documents' numbers: regenerating the documents with other numbers fails this test."""
    items = _coverage_cells("BCa (items)", clustered=False)
    clusters = _coverage_cells("BCa (clusters)", clustered=True)
    ppi = _ppi_cells()
    assert len(items) >= 50 and len(clusters) >= 15 and len(ppi) >= 8
    assert intervals.coverage_threshold(items) == MIN_ITEMS == 50
    assert intervals.coverage_threshold(clusters) == MIN_CLUSTERS == 100
    assert intervals.coverage_threshold(ppi) == intervals.MIN_PPI_RATED == 200
    assert intervals.coverage_threshold([(30, 91.0, 0.9), (50, 94.0, 0.8), (100, 91.0, 0.8)]) is None
    for v in (MIN_ITEMS, MIN_CLUSTERS, intervals.MIN_PPI_RATED):
        assert f"{v}" in intervals.thresholds_text()


def test_clip_interval_keeps_a_bounded_quantity_in_its_range():
    assert intervals.clip_interval(-22.9, 10.0, 0, 100) == (0.0, 10.0, "interval clipped to [0, 100]")
    assert intervals.clip_interval(4.2, 5.16, 1, 5) == (4.2, 5.0, "interval clipped to [1, 5]")
    assert intervals.clip_interval(2.0, 3.0, 1, 5) == (2.0, 3.0, "")
    assert intervals.clip_interval(None, None, 0, 100) == (None, None, "")


def test_thresholds_are_the_documented_ones():
    assert SEPARATOR == "; "
    for name in ("MIN_ITEMS", "MIN_CLUSTERS", "too few items", "too few clusters", "NaN replicates",
                 "degenerate", "interval undefined"):
        assert name in intervals.__doc__, name


@pytest.mark.parametrize("kwargs, expected", [
    (dict(n_units=MIN_ITEMS, n_boot=1000, n_valid=1000), ""),
    (dict(n_units=MIN_ITEMS - 1, n_boot=1000, n_valid=1000), "too few items"),
    (dict(n_units=MIN_CLUSTERS, unit="clusters", n_boot=1000, n_valid=1000), ""),
    (dict(n_units=MIN_CLUSTERS - 1, unit="clusters", n_boot=1000, n_valid=1000), "too few clusters"),
    (dict(n_units=38, unit="clusters", n_boot=1000, n_valid=1000), "too few clusters"),  # 38: coverage 91.7 %
    (dict(n_units=100, n_boot=2000, n_valid=1999), "NaN replicates <0.1 %"),
    (dict(n_units=100, n_boot=2000, n_valid=1900), "NaN replicates 5.0 %"),
    (dict(n_units=100, n_boot=2000, n_valid=0), "NaN replicates 100.0 %"),
    (dict(n_units=10), ""),  # not a bootstrap interval (no n_boot): no sample-size rule
])
def test_rules(kwargs, expected):
    assert ci_note(0.1, 0.5, estimate=0.3, **kwargs) == expected


def test_degenerate_and_undefined():
    assert ci_note(1.0, 1.0, estimate=1.0) == "degenerate"
    assert ci_note(0.2, 0.4, constant=True) == "degenerate"
    assert ci_note(np.nan, 0.4, estimate=0.3) == "interval undefined"
    assert ci_note(np.nan, np.nan, estimate=np.nan) == ""  # the caller says why (reasons)
    assert ci_note(np.nan, np.nan, estimate=np.nan, reasons="ICC undefined: all ratings equal") == \
        "ICC undefined: all ratings equal"


def test_notes_are_joined_in_the_documented_order():
    note = ci_note(1.0, 1.0, estimate=1.0, n_units=12, unit="clusters", n_boot=100, n_valid=90, reasons="why")
    assert note == "why; too few clusters; NaN replicates 10.0 %; degenerate"


def test_vectorised_over_elements():
    out = ci_note(np.array([0.1, 1.0, np.nan]), np.array([0.5, 1.0, 0.2]), estimate=np.array([0.3, 1.0, 0.1]),
                  n_units=50, n_boot=100, n_valid=np.array([100, 100, 97]))
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    assert out.tolist() == ["", "degenerate", "NaN replicates 3.0 %; interval undefined"]


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit must be one of"):
        ci_note(0, 1, unit="rows")


def test_bootstrap_result_carries_the_note():
    x = np.random.default_rng(1).normal(size=50)
    res = bootstrap(x, lambda x, weights: weights @ x / weights.sum(-1), n_boot=300, seed=1)
    assert res.ci_note == "" and res.n_valid == 300 and res.n_units == 50 and res.unit == "items"
    two = bootstrap(x, lambda x, weights: np.stack([weights @ x / weights.sum(-1), 0 * weights.sum(-1)], -1),
                    n_boot=300, seed=1, clusters=np.arange(50) // 5)
    assert two.ci_note.tolist() == ["too few clusters", "too few clusters; degenerate"]
    assert two.unit == "clusters" and two.n_units == 10


def test_mean_bias_carries_n_valid_and_the_note():
    rng = np.random.default_rng(2)
    ref = rng.integers(1, 6, 60).astype(float)
    ev = np.clip(ref + rng.integers(-1, 2, 60), 1, 5)
    r = mean_bias(ev, ref, n_boot=500, seed=3)
    assert r.n_valid == 500 and r.ci_note == "" and r.to_dict()["ci_note"] == ""
    assert mean_bias(ev[:10], ref[:10], n_boot=200, seed=3).ci_note == "too few items"
    same = mean_bias(ref, ref, n_boot=200, seed=3)
    assert (same.ci_low, same.ci_high, same.ci_note) == (0.0, 0.0, "degenerate")
    clustered = mean_bias(ev, ref, n_boot=200, seed=3, clusters=np.arange(60) // 4)
    assert clustered.ci_note == "too few clusters"  # 15 conversations


@pytest.mark.parametrize("clusters", [None, np.arange(60) // 2], ids=["items", "clusters"])
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_mean_bias_with_a_plan_is_the_seeded_call(clusters, method):
    rng = np.random.default_rng(4)
    ref = rng.integers(1, 6, 60).astype(float)
    plan = ResamplePlan(60, 400, seed=9, clusters=clusters)
    for shift in (0.3, -0.5):  # several evaluators on one draw
        ev = np.clip(np.rint(ref + shift + rng.normal(0, 1, 60)), 1, 5)
        assert mean_bias(ev, ref, plan=plan, method=method) == mean_bias(ev, ref, n_boot=400, seed=9,
                                                                         clusters=clusters, method=method)
