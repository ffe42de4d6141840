"""Agreement by human disagreement (Elangovan et al. 2025) on hand-made inputs whose
per-bin values are worked out in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats.disagreement import agreement_by_human_disagreement as by_disagreement


def test_labels_majority_bins_by_hand():
    humans = [
        ["a", "a", "a"],   # unanimous; judge a: majority 1, share 3/3
        ["b", "b", "b"],   # unanimous; judge a: 0, 0
        ["a", "a", "b"],   # 2-1; judge a: 1, 2/3; pairs (2*1)/(3*2) = 1/3
        ["a", "b", "b"],   # 2-1; judge a: 0, 1/3; pairs 1/3
        ["a", "b", None],  # 1-1 (2 humans); judge c (no human used it): 0, 0; pairs 0; majority share 1/2
        ["a", "b", None],  # 1-1; judge b: tied modes a, b -> 1/2; share 1/2; pairs 0
        ["a", None, None],  # one human: left out
        ["a", "a", "a"],   # judge missing: left out
    ]
    judge = ["a", "a", "a", "a", "c", "b", "a", None]
    t = by_disagreement(judge, humans)
    assert t["bin_low"].to_list() == pytest.approx([0.5, 2 / 3, 1.0], abs=1e-15)
    assert t["n_items"].to_list() == [2, 2, 2]
    assert t["share_of_items"].to_list() == pytest.approx([1 / 3] * 3)
    assert t["judge_majority_agreement"].to_list() == pytest.approx([(0 + 0.5) / 2, (1 + 0) / 2, (1 + 0) / 2])
    assert t["judge_human_agreement"].to_list() == pytest.approx([(0 + 0.5) / 2, (2 / 3 + 1 / 3) / 2, (1 + 0) / 2])
    assert t["human_pair_agreement"].to_list() == pytest.approx([0.0, 1 / 3, 1.0])


def test_labels_pairs_measure_and_edges():
    humans = [["x", "x", "x", "x"], ["x", "x", "x", "y"], ["x", "x", "y", "y"], ["x", "y", "z", "z"]]
    judge = ["x", "y", "x", "z"]
    # pairs: 12/12 = 1; (3*2)/12 = 1/2; (2+2)/12 = 1/3; (2)/12 = 1/6
    t = by_disagreement(judge, humans, measure="pairs")
    assert t["bin_low"].to_list() == pytest.approx([1 / 6, 1 / 3, 1 / 2, 1.0])
    assert t["judge_human_agreement"].to_list() == pytest.approx([2 / 4, 2 / 4, 1 / 4, 4 / 4])
    # edges [0, 0.5, 1]: [0, 0.5) holds 1/6 and 1/3, [0.5, 1] holds 1/2 and 1
    b = by_disagreement(judge, humans, measure="pairs", bins=[0, 0.5, 1])
    assert b.select("bin_low", "bin_high", "n_items").rows() == [(0.0, 0.5, 2), (0.5, 1.0, 2)]
    # majority: x x y y -> tied modes, judge x -> 1/2; x y z z -> mode z, judge z -> 1
    assert b["judge_majority_agreement"].to_list() == pytest.approx([(0.5 + 1) / 2, (1 + 0) / 2])
    assert b["human_pair_agreement"].to_list() == pytest.approx([(1 / 3 + 1 / 6) / 2, (1 + 1 / 2) / 2])


def test_scores_range_and_sd():
    humans = np.array([[3, 3, 3], [2, 3, np.nan], [1, 3, 5], [4, 4, 5], [5, 5, 5]], dtype=float)
    judge = np.array([4, 3, 2, 4, np.nan])
    # ranges: 0, 1, 4, 1 (last item: no judge); human means 3, 2.5, 3, 13/3
    t = by_disagreement(judge, humans, kind="scores")
    assert t["bin_low"].to_list() == [0.0, 1.0, 4.0]
    assert t["n_items"].to_list() == [1, 2, 1]
    assert t["judge_mean_abs_diff"].to_list() == pytest.approx([1.0, (0.5 + 1 / 3) / 2, 1.0])
    assert t["judge_mean_diff"].to_list() == pytest.approx([1.0, (0.5 - 1 / 3) / 2, -1.0])
    sd = by_disagreement(judge, humans, kind="scores", measure="sd")
    # sd (ddof 1): 0, |2-3|/sqrt(2), 2, sqrt(1/3)
    assert sd["bin_low"].to_list() == pytest.approx([0.0, math.sqrt(1 / 3), 1 / math.sqrt(2), 2.0])


def test_validation():
    with pytest.raises(ValueError, match="measure"):
        by_disagreement(["a"], [["a", "a"]], measure="range")
    with pytest.raises(ValueError, match="kind"):
        by_disagreement(["a"], [["a", "a"]], kind="ordinal")
    with pytest.raises(ValueError, match="at least 2 human ratings"):
        by_disagreement(["a"], [["a", None]])
    with pytest.raises(ValueError, match="outside the bins"):
        by_disagreement([1.0], [[1.0, 4.0]], kind="scores", bins=[0, 2])
    with pytest.raises(ValueError, match="numeric"):
        by_disagreement(["a"], [["a", "b"]], kind="scores")
    with pytest.raises(ValueError, match="increasing"):
        by_disagreement([1.0], [[1.0, 2.0]], kind="scores", bins=[1, 1])
