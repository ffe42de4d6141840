"""G theory: Brennan's published values, the ICC identities, the reference package
``generalizit``, REML against ANOVA, D studies and the bootstrap over items."""

from __future__ import annotations

import contextlib
import io
import itertools
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.stats.bootstrap import resample_indices
from analysis.stats.gtheory import (
    COMPONENTS, BoundaryWarning, GStudy, anova_components, d_study, g_coefficients, g_study, g_study_bootstrap, smallest_n,
)
from analysis.stats.icc import intraclass_corr

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
BRENNAN = REFERENCE / "brennan_synthetic1_person_x_item.csv"


def brennan_scores() -> np.ndarray:
    if not BRENNAN.is_file():
        pytest.skip(f"reference table not available: {BRENNAN}")
    d = pl.read_csv(BRENNAN).sort("person", "item")
    x = d.pivot(on="item", index="person", values="score").drop("person").to_numpy().astype(float)
    assert x.shape == (10, 12)
    return x


def simulate(seed: int, n_p: int, n_e: int, n_r: int, sd: dict[str, float], nested: bool = False) -> np.ndarray:
    """Scores of a random-effects model; nested: runs are not shared between evaluators."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(0, sd["p"], (n_p, 1, 1)) + rng.normal(0, sd["e"], (1, n_e, 1))
         + rng.normal(0, sd["pe"], (n_p, n_e, 1)) + rng.normal(0, sd["res"], (n_p, n_e, n_r)) + 3.0)
    if nested:
        x = x + rng.normal(0, sd["r"], (1, n_e, n_r))
    else:
        x = (x + rng.normal(0, sd["r"], (1, 1, n_r)) + rng.normal(0, sd["pr"], (n_p, 1, n_r))
             + rng.normal(0, sd["er"], (1, n_e, n_r)))
    return x


SD = dict(p=1.0, e=0.5, r=0.4, pe=0.4, pr=0.3, er=0.3, res=0.6)


# --------------------------------------------------------------------------------------
# Brennan (2001), synthetic data set no. 1
# --------------------------------------------------------------------------------------

def test_brennan_synthetic_1_components():
    g = g_study(brennan_scores(), "p x i")
    assert {k: round(v, 4) for k, v in g.components.items()} == {"p": 0.0574, "i": 0.0754, "pi": 0.1269}
    assert g.raw == g.components  # none negative
    t = g.table()
    assert t["component"].to_list() == ["p", "i", "pi"]
    assert t["df"].to_list() == [9.0, 11.0, 99.0]
    assert abs(t["percent"].sum() - 100) < 1e-12


def test_brennan_synthetic_1_d_study_to_the_printed_decimals():
    g = g_study(brennan_scores(), "p x i")
    d = d_study(g, n_evaluators=[5, 10, 12, 15, 20])
    assert d.columns == ["design", "n_evaluators", "n_runs", "g_coefficient", "phi"]
    assert d["n_runs"].null_count() == 5
    assert [round(v, 3) for v in d["g_coefficient"]] == [0.694, 0.819, 0.844, 0.872, 0.901]
    assert [round(v, 3) for v in d["phi"]] == [0.587, 0.739, 0.773, 0.810, 0.850]


def test_brennan_formulas_as_printed_in_the_reference_readme():
    g = g_study(brennan_scores(), "p x i")
    c = g.components
    for n in (5, 10, 12, 15, 20):
        rho, phi = g_coefficients(c, "p x i", n)
        assert rho == pytest.approx(c["p"] / (c["p"] + c["pi"] / n), abs=1e-15)
        assert phi == pytest.approx(c["p"] / (c["p"] + (c["i"] + c["pi"]) / n), abs=1e-15)


# --------------------------------------------------------------------------------------
# One facet: E rho^2 = ICC(C,k), Phi = ICC(A,k)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["brennan", "random"])
def test_one_facet_coefficients_are_the_average_measure_iccs(which):
    if which == "brennan":
        x = brennan_scores()
    else:
        rng = np.random.default_rng(4)
        x = rng.normal(size=(40, 1)) + 0.4 * rng.normal(size=(1, 5)) + 0.7 * rng.normal(size=(40, 5))
    g = g_study(x, "p x i")
    assert min(g.raw.values()) > 0
    icc = dict(intraclass_corr(x).select("type", "icc").iter_rows())
    d = d_study(g).row(0, named=True)
    assert d["n_evaluators"] == x.shape[1]
    assert abs(d["g_coefficient"] - icc["ICC(C,k)"]) < 1e-12
    assert abs(d["phi"] - icc["ICC(A,k)"]) < 1e-12
    # ... and a single rating: ICC(C,1), ICC(A,1)
    one = d_study(g, n_evaluators=1).row(0, named=True)
    assert abs(one["g_coefficient"] - icc["ICC(C,1)"]) < 1e-12
    assert abs(one["phi"] - icc["ICC(A,1)"]) < 1e-12


# --------------------------------------------------------------------------------------
# The reference package generalizit
# --------------------------------------------------------------------------------------

def _generalizit(x: np.ndarray, design: str):
    generalizit = pytest.importorskip("generalizit")
    if x.ndim == 2:
        cols = ["p", "i"]
        rows = [(p, i, x[p, i]) for p in range(x.shape[0]) for i in range(x.shape[1])]
    else:
        cols = ["p", "e", "r"]
        rows = [(p, e, r, x[p, e, r]) for p in range(x.shape[0]) for e in range(x.shape[1])
                for r in range(x.shape[2])]
    import pandas as pd

    frame = pd.DataFrame(rows, columns=cols + ["score"])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = generalizit.GeneralizIT(frame, design, "score")
        gt.calculate_anova()
    return gt


GENERALIZIT_NAMES = {
    "p x i": {"p": "p", "i": "i", "pi": "p x i"},
    "p x e x r": {"p": "p", "e": "e", "r": "r", "pe": "p x e", "pr": "p x r", "er": "e x r", "per": "p x e x r"},
    "p x (r:e)": {"p": "p", "e": "e", "r:e": "r:e", "pe": "p x e", "pr:e": "p x (r:e)"},
}


def _generalizit_coefficients(gt, sizes: dict[str, int]) -> tuple[float, float]:
    """generalizit's E rho^2 and Phi for a D study, *before* its rounding to 4 decimals.

    Its public tables round every result to 4 decimals; the private methods that the
    public ``calculate_d_study`` calls return the unrounded ratio.
    """
    from generalizit.g_theory_utils import create_pseudo_df

    d = gt.design
    vtd = {k: v for k, v in d.variance_tuple_dictionary.items() if k != "mean"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside generalizit
        pseudo = create_pseudo_df(d_study=sizes, variance_tup_dict=vtd)
        levels = d._calculate_levels_coeffs(df=pseudo, variance_tuple_dictionary=vtd)
    var = d.anova_table.drop("mean", axis=0)[["Variance"]].clip(lower=0)
    return d._calculate_rho_squared(var, "p", vtd, levels), d._calculate_phi_squared(var, "p", vtd, levels)


def _designed(design: str) -> np.ndarray:
    """Integer data on sizes for which every quantity generalizit rounds to 4 decimals
    (T values, components) is a terminating decimal with at most 4 places, so that its
    rounding is lossless and the comparison can be exact."""
    rng = np.random.default_rng(2024)
    if design == "p x i":
        return (rng.integers(1, 4, (5, 1)) + rng.integers(0, 3, (5, 5)) + rng.integers(0, 2, (1, 5))).astype(float)
    return 10.0 * (rng.integers(1, 4, (5, 1, 1)) + rng.integers(0, 3, (5, 2, 2)) + rng.integers(0, 2, (1, 2, 1)))


@pytest.mark.parametrize("design", ["p x i", "p x e x r", "p x (r:e)"])
def test_components_equal_generalizit_to_1e8(design):
    x = _designed(design)
    g = g_study(x, design)
    raw = np.array(list(g.raw.values()))
    # precondition: generalizit's rounding to 4 decimals loses nothing on these data
    assert np.allclose(raw * 1e4, np.round(raw * 1e4), atol=1e-6, rtol=0)
    gt = _generalizit(x, design)
    table = gt.design.anova_table["Variance"]
    for ours, theirs in GENERALIZIT_NAMES[design].items():
        assert abs(g.raw[ours] - table[theirs]) < 1e-8, ours


@pytest.mark.parametrize("design", ["p x i", "p x e x r", "p x (r:e)"])
def test_d_study_equals_generalizit_to_1e8(design):
    x = _designed(design)
    g = g_study(x, design)
    gt = _generalizit(x, design)
    if design == "p x i":
        grid = [{"p": 5, "i": n} for n in (1, 2, 5, 8)]
        ours = d_study(g, n_evaluators=[1, 2, 5, 8])
    else:
        grid = [{"p": 5, "e": ne, "r": nr} for ne, nr in itertools.product((1, 4), (1, 3))]
        ours = d_study(g, n_evaluators=[1, 4], n_runs=[1, 3])
    for sizes, row in zip(grid, ours.iter_rows(named=True)):
        rho, phi = _generalizit_coefficients(gt, sizes)
        assert abs(row["g_coefficient"] - rho) < 1e-8
        assert abs(row["phi"] - phi) < 1e-8


def test_brennan_data_equal_generalizit_within_its_rounding():
    """On Brennan's data generalizit's T values are not 4-decimal numbers: it agrees to
    its printed precision."""
    x = brennan_scores()
    g = g_study(x, "p x i")
    table = _generalizit(x, "p x i").design.anova_table["Variance"]
    for ours, theirs in GENERALIZIT_NAMES["p x i"].items():
        assert abs(g.raw[ours] - table[theirs]) < 1e-4


@pytest.mark.parametrize("design", ["p x e x r", "p x (r:e)"])
def test_fixed_evaluators_equal_generalizit_within_its_rounding(design):
    """Brennan (2001, ch. 4): the pe variance joins the universe score. generalizit
    rounds the absorbed components and the coefficients to 4 decimals."""
    x = simulate(3, 12, 3, 2, SD, nested=design == "p x (r:e)")
    g = g_study(x, design)
    gt = _generalizit(x, design)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt.calculate_d_study(d_study_design={"p": [12], "e": [3], "r": [1, 2, 5]}, fixed_facets=["e"])
    theirs = list(gt.design.d_study_dict.values())
    ours = d_study(g, n_evaluators=3, n_runs=[1, 2, 5], fixed_evaluators=True)
    assert ours["design"][0] == f"{design}, evaluators fixed"
    for row, table in zip(ours.iter_rows(named=True), theirs):
        assert abs(row["phi"] - table.loc["p", "phi^2"]) < 1.5e-4
        assert abs(row["g_coefficient"] - table.loc["p", "rho^2"]) < 1.5e-4


# --------------------------------------------------------------------------------------
# ANOVA estimators: structure, negative estimates, unbiasedness
# --------------------------------------------------------------------------------------

def test_nested_sums_of_squares_pool_the_crossed_ones():
    """r:e = r + er and pr:e = pr + per as sums of squares (Brennan 2001, ch. 3); p, e, pe
    are the same effects in both designs."""
    x = simulate(7, 20, 3, 4, SD)
    cr, ne = g_study(x, "p x e x r"), g_study(x, "p x (r:e)")
    ss = {k: cr.mean_squares[k] * cr.df[k] for k in cr.df}
    assert ne.mean_squares["r:e"] * ne.df["r:e"] == pytest.approx(ss["r"] + ss["er"], rel=1e-12)
    assert ne.mean_squares["pr:e"] * ne.df["pr:e"] == pytest.approx(ss["pr"] + ss["per"], rel=1e-12)
    assert ne.df["r:e"] == cr.df["r"] + cr.df["er"] and ne.df["pr:e"] == cr.df["pr"] + cr.df["per"]
    for k in ("p", "e", "pe"):
        assert ne.mean_squares[k] == pytest.approx(cr.mean_squares[k], rel=1e-12)
        assert ne.df[k] == cr.df[k]


def test_mean_squares_against_a_direct_anova():
    """Sums of squares of the crossed design from the textbook definitions (deviations)."""
    x = simulate(8, 9, 3, 2, SD)
    n_p, n_e, n_r = x.shape
    m = x.mean()
    mp, me, mr = x.mean(axis=(1, 2)), x.mean(axis=(0, 2)), x.mean(axis=(0, 1))
    mpe, mpr, mer = x.mean(axis=2), x.mean(axis=1), x.mean(axis=0)
    ss = {
        "p": n_e * n_r * ((mp - m) ** 2).sum(), "e": n_p * n_r * ((me - m) ** 2).sum(),
        "r": n_p * n_e * ((mr - m) ** 2).sum(),
        "pe": n_r * ((mpe - mp[:, None] - me[None, :] + m) ** 2).sum(),
        "pr": n_e * ((mpr - mp[:, None] - mr[None, :] + m) ** 2).sum(),
        "er": n_p * ((mer - me[:, None] - mr[None, :] + m) ** 2).sum(),
    }
    ss["per"] = ((x - m) ** 2).sum() - sum(ss.values())
    g = g_study(x, "p x e x r")
    for k, v in ss.items():
        assert g.mean_squares[k] * g.df[k] == pytest.approx(v, rel=1e-10)


def test_negative_estimates_are_zeroed_and_reported_raw():
    x = np.array([[[4, 4], [3, 4], [5, 5]], [[2, 3], [2, 2], [3, 3]], [[5, 5], [4, 5], [5, 4]],
                  [[3, 3], [3, 2], [4, 4]], [[1, 2], [2, 2], [2, 3]]], float)
    g = g_study(x, "p x (r:e)")
    assert g.raw["r:e"] < 0 and g.components["r:e"] == 0.0
    # the others are the raw EMS solutions, not recomputed with the zero (Brennan, not Cronbach et al.)
    ms = g.mean_squares
    assert g.components["e"] == pytest.approx((ms["e"] - ms["pe"] - ms["r:e"] + ms["pr:e"]) / (5 * 2), rel=1e-12)
    t = g.table()
    row = t.filter(pl.col("component") == "r:e").row(0, named=True)
    assert row["variance"] == 0.0 and row["variance_raw"] < 0 and row["percent"] == 0.0
    # D studies use the zeroed value
    rho, phi = g_coefficients(g.components, "p x (r:e)", 3, 2)
    assert d_study(g)["phi"][0] == pytest.approx(float(phi), rel=1e-15)


@pytest.mark.parametrize("design", ["p x e x r", "p x (r:e)"])
def test_anova_estimators_are_unbiased(design):
    """Mean of the raw estimates over simulated data sets is the true component (EMS)."""
    nested = design == "p x (r:e)"
    truth = {"p": 1.0, "e": 0.25, "pe": 0.16, "r": 0.16, "pr": 0.09, "er": 0.09, "res": 0.36}
    sd = {k: np.sqrt(v) for k, v in truth.items()}
    if nested:
        expected = {"p": 1.0, "e": 0.25, "r:e": 0.16, "pe": 0.16, "pr:e": 0.36}
    else:
        expected = {"p": 1.0, "e": 0.25, "r": 0.16, "pe": 0.16, "pr": 0.09, "er": 0.09, "per": 0.36}
    est = np.array([[g_study(simulate(s, 15, 3, 3, sd, nested=nested), design).raw[k] for k in COMPONENTS[design]]
                    for s in range(600)])
    mean, se = est.mean(axis=0), est.std(axis=0, ddof=1) / np.sqrt(len(est))
    for j, k in enumerate(COMPONENTS[design]):
        assert abs(mean[j] - expected[k]) < 4 * se[j], (k, mean[j], expected[k], se[j])


def test_invariant_to_a_shift_and_to_the_order_of_items():
    x = simulate(9, 12, 3, 2, SD)
    a = g_study(x, "p x e x r").raw
    b = g_study(x[::-1] + 100.0, "p x e x r").raw
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-9, abs=1e-12)


def test_weighted_components_equal_the_resampled_data():
    x = simulate(10, 15, 3, 2, SD, nested=True)
    idx = resample_indices(15, 5, seed=3)
    w = np.stack([np.bincount(i, minlength=15) for i in idx]).astype(float)
    for design in ("p x e x r", "p x (r:e)"):
        batch = anova_components(x, design, weights=w)
        for b in range(5):
            direct = g_study(x[idx[b]], design).raw
            for k, v in direct.items():
                assert batch[k][b] == pytest.approx(v, rel=1e-9, abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="design must be one of"):
        g_study(np.zeros((3, 3)), "p x q")
    with pytest.raises(ValueError, match="3-D"):
        g_study(np.zeros((3, 3)), "p x (r:e)")
    x = simulate(1, 5, 2, 2, SD)
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="method='reml'"):
        g_study(x, "p x e x r")
    with pytest.raises(ValueError, match="only crossed -> nested"):
        d_study(g_study(simulate(1, 5, 2, 2, SD), "p x (r:e)"), design="p x e x r")


def test_design_names_are_normalised():
    x = simulate(1, 6, 2, 2, SD)
    assert g_study(x, "P × (R:E)").design == "p x (r:e)"
    assert g_study(x, "pxexr").design == "p x e x r"


# --------------------------------------------------------------------------------------
# REML
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("design", ["p x i", "p x e x r", "p x (r:e)"])
def test_reml_equals_anova_on_balanced_data(design):
    """REML = ANOVA on balanced data when no ANOVA estimate is negative."""
    if design == "p x i":
        x = simulate(1, 25, 4, 1, SD)[:, :, 0]
    else:
        x = simulate(1 if design == "p x e x r" else 3, 30, 3, 2, SD, nested=design == "p x (r:e)")
    anova = g_study(x, design)
    assert min(anova.raw.values()) > 0  # precondition
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warning on these data
        reml = g_study(x, design, method="reml")
    assert reml.method == "reml" and reml.mean_squares == {}
    for k in COMPONENTS[design]:
        assert reml.raw[k] == pytest.approx(anova.raw[k], rel=1e-4), k


def test_reml_with_missing_cells():
    x = simulate(3, 30, 3, 2, SD, nested=True)
    full = g_study(x, "p x (r:e)", method="reml")
    y = x.copy()
    y[[0, 3, 7, 11], [0, 1, 2, 0], [1, 0, 1, 0]] = np.nan
    g = g_study(y, "p x (r:e)", method="reml")
    assert g.n_missing == 4
    assert all(v >= 0 for v in g.raw.values())
    # four missing cells out of 180 move the components little
    for k in COMPONENTS["p x (r:e)"]:
        assert g.components[k] == pytest.approx(full.components[k], rel=0.25, abs=0.02), k
    assert d_study(g, n_evaluators=[1, 3], n_runs=1).height == 2


# --------------------------------------------------------------------------------------
# REML against lme4 (tests/reference: lme4_reml_designs.py writes the data, lme4_reml.R fits them)
# --------------------------------------------------------------------------------------

LME4_DIR = Path(__file__).resolve().parent / "reference"


def _lme4_module():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("lme4_reml_designs", LME4_DIR / "lme4_reml_designs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lme4_reml_designs", module)
    spec.loader.exec_module(module)
    return module


LME4 = _lme4_module()


def _lme4_reference(path: Path = LME4.COMPONENTS) -> dict[str, dict]:
    ref: dict[str, dict] = {}
    for row in pl.read_csv(path, infer_schema_length=0).iter_rows(named=True):
        r = ref.setdefault(row["design_id"], {"design": row["design"], "loglik": float(row["loglik"]), "var": {}})
        r["var"][row["component"]] = float(row["variance"])
    return ref


LME4_REF = _lme4_reference()
LME4_DATA = LME4.read_data()


def test_lme4_reference_data_are_the_generators():
    """The stored data are what the generator makes (so the reference can be re-made), and
    there are at least 20 designs of every kind."""
    made = LME4.designs()
    assert set(made) == set(LME4_DATA) == set(LME4_REF) and len(made) >= 20
    for k, (design, x) in made.items():
        assert LME4_DATA[k][0] == design
        np.testing.assert_array_equal(LME4_DATA[k][1], x)
    assert {v[0] for v in made.values()} == set(COMPONENTS)
    assert sum(np.isnan(x).any() for _, x in made.values()) >= 5        # unbalanced
    assert sum(min(r["var"].values()) < 1e-10 for r in LME4_REF.values()) >= 5  # boundary fits


def _check_against_lme4(g, ref):
    assert g.loglik == pytest.approx(ref["loglik"], abs=1e-4)
    total = sum(ref["var"].values())
    for k, v in ref["var"].items():
        assert g.raw[k] == pytest.approx(v, rel=1e-4, abs=1e-5 * total), k
    # lme4 leaves a boundary component at ~1e-16 instead of 0
    assert set(g.boundary) == {k for k, v in ref["var"].items() if v < 1e-10 * total}


@pytest.mark.parametrize("design_id", sorted(LME4_REF))
def test_reml_matches_lme4(design_id):
    """REML log-likelihood within 1e-4 of lme4's best of 3 optimisers x 2 starts, components
    equal, and a BoundaryWarning exactly when lme4 puts a component at 0."""
    design, x = LME4_DATA[design_id]
    ref = LME4_REF[design_id]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = g_study(x, design, method="reml")
    _check_against_lme4(g, ref)
    boundary = [w for w in caught if issubclass(w.category, BoundaryWarning)]
    assert len(boundary) == (1 if g.boundary else 0)
    for k in g.boundary:
        assert f"sigma^2({k})" in str(boundary[0].message)
    assert not [w for w in caught if not issubclass(w.category, BoundaryWarning)]


@pytest.mark.parametrize("design_id", ["nested_30x3x2_miss10", "crossed_20x4x3_miss25", "pxi_30x5_miss20"])
def test_reml_deviance_is_the_textbook_restricted_likelihood(design_id):
    """The block-wise profiled deviance equals -2 log L_R written in the observation space,
    (n - 1) log 2 pi + log|V| + log|1'V^-1 1| + r'V^-1 r (Harville 1977, without log|X'X|,
    as lme4), at random parameters."""
    from analysis.stats.gtheory import _REML_EFFECTS, _reml_problem

    design, x = LME4_DATA[design_id]
    prob = _reml_problem(x, design)
    idx = np.argwhere(~np.isnan(x))
    y = x[~np.isnan(x)]
    n = y.size
    cols = {"p": idx[:, 0]} | ({"i": idx[:, 1]} if design == "p x i" else {"e": idx[:, 1], "r": idx[:, 2]})
    rng = np.random.default_rng(3)
    for _ in range(3):
        theta = rng.uniform(0, 1.5, len(prob.names))
        sigma2 = prob.sigma2(theta)
        v = sigma2 * np.eye(n)
        for t, facets in zip(theta, _REML_EFFECTS[design][0].values()):
            key = np.column_stack([cols[f] for f in facets])
            same = (key[:, None, :] == key[None, :, :]).all(axis=-1)
            v += sigma2 * t * t * same
        vinv = np.linalg.inv(v)
        one = np.ones(n)
        mu = one @ vinv @ y / (one @ vinv @ one)
        r = y - mu
        direct = ((n - 1) * np.log(2 * np.pi) + np.linalg.slogdet(v)[1] + np.log(one @ vinv @ one) + r @ vinv @ r)
        assert prob.deviance(theta) == pytest.approx(direct, abs=1e-8)


def test_reml_balanced_bhh_like_equals_anova():
    """Balanced 15 x 3 x 2 integer scores with no negative ANOVA estimate: REML = ANOVA
    (the former fit gave sigma^2(p) 0.339 against 0.233 on such a design)."""
    hits = 0
    for k, (design, x) in LME4_DATA.items():
        if not k.startswith("bhh_15x3x2_") or np.isnan(x).any():
            continue
        anova = g_study(x, design)
        if min(anova.raw.values()) <= 0:
            continue
        hits += 1
        reml = g_study(x, design, method="reml")
        for c in COMPONENTS[design]:
            assert reml.raw[c] == pytest.approx(anova.raw[c], rel=1e-4, abs=1e-7), (k, c)
    assert hits >= 1


def test_statsmodels_likelihood_at_lme4_solution():
    """statsmodels' REML log-likelihood at lme4's estimates is lme4's: the three agree on
    the function, so a worse fit is the optimiser's, not a different likelihood."""
    import pandas as pd
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    for design_id in ("nested_30x3x2", "crossed_15x3x3", "bhh_60x3x3_1"):
        design, x = LME4_DATA[design_id]
        ref = LME4_REF[design_id]
        idx = np.argwhere(~np.isnan(x))
        frame = pd.DataFrame({"y": x[~np.isnan(x)], "p": idx[:, 0], "e": idx[:, 1], "r": idx[:, 2]})
        effects = {"p": ["p"], "e": ["e"], "r:e": ["e", "r"], "pe": ["p", "e"]} if design == "p x (r:e)" else \
            {"p": ["p"], "e": ["e"], "r": ["r"], "pe": ["p", "e"], "pr": ["p", "r"], "er": ["e", "r"]}
        vc = {}
        for name, cols in effects.items():
            col = "v_" + name.replace(":", "_")
            frame[col] = np.unique(frame[cols].to_numpy(), axis=0, return_inverse=True)[1].ravel()
            vc[name] = f"0 + C({col})"
        model = MixedLM.from_formula("y ~ 1", data=frame, groups=np.zeros(len(frame)), re_formula="0",
                                     vc_formula=vc)
        residual = COMPONENTS[design][-1]
        vcomp = np.array([ref["var"][n] / ref["var"][residual] for n in model.exog_vc.names])
        params = MixedLMParams.from_components(fe_params=np.array([frame["y"].mean()]), cov_re=np.zeros((0, 0)),
                                               vcomp=vcomp)
        # what MixedLM.fit sets before it evaluates the likelihood
        model.reml, model.cov_pen, model.fe_pen, model._cov_sing = True, None, None, 0
        assert model.loglike(params, profile_fe=True) == pytest.approx(ref["loglik"], abs=1e-6)


def test_reml_live_against_lme4(tmp_path):
    """Runs tests/reference/lme4_reml.R on a few designs now (skips without Rscript/lme4;
    fails under CI=true)."""
    import shutil
    import subprocess

    from conftest import on_ci

    message = None
    if shutil.which("Rscript") is None:
        message = "Rscript not found (Debian: apt-get install r-base-core r-cran-lme4)"
    elif subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True).returncode != 0:
        message = "the R package lme4 is not installed (Debian: apt-get install r-cran-lme4)"
    if message:
        if on_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    chosen = ("nested_30x3x2_miss10", "bhh_15x3x2_1", "crossed_30x3x2_no_run", "pxi_12x6")
    data, out = tmp_path / "data.csv", tmp_path / "out.csv"
    lines = LME4.DATA.read_text().splitlines()
    data.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ln.split(",")[0] in chosen]) + "\n")
    run = subprocess.run(["Rscript", str(LME4_DIR / "lme4_reml.R"), str(data), str(out)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    live = _lme4_reference(out)
    assert set(live) == set(chosen)
    for design_id in chosen:
        design, x = LME4_DATA[design_id]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BoundaryWarning)
            _check_against_lme4(g_study(x, design, method="reml"), live[design_id])


# --------------------------------------------------------------------------------------
# D studies and the planning helper
# --------------------------------------------------------------------------------------

def _components(design):
    return {"p x e x r": dict(p=0.5, e=0.1, r=0.02, pe=0.08, pr=0.03, er=0.01, per=0.3),
            "p x (r:e)": {"p": 0.5, "e": 0.1, "r:e": 0.03, "pe": 0.08, "pr:e": 0.33}}[design]


@pytest.mark.parametrize("design", ["p x e x r", "p x (r:e)"])
def test_d_study_formulas(design):
    c = _components(design)
    g = GStudy(design=design, method="anova", components=c, raw=c, sizes={"p": 50, "e": 3, "r": 2})
    d = d_study(g, n_evaluators=[1, 2, 5], n_runs=[1, 4])
    assert d.height == 6 and d["n_evaluators"].to_list() == [1, 1, 2, 2, 5, 5]
    for row in d.iter_rows(named=True):
        ne, nr = row["n_evaluators"], row["n_runs"]
        if design == "p x e x r":
            rel = c["pe"] / ne + c["pr"] / nr + c["per"] / (ne * nr)
            ab = rel + c["e"] / ne + c["r"] / nr + c["er"] / (ne * nr)
        else:
            rel = c["pe"] / ne + c["pr:e"] / (ne * nr)
            ab = rel + c["e"] / ne + c["r:e"] / (ne * nr)
        assert row["g_coefficient"] == pytest.approx(c["p"] / (c["p"] + rel), rel=1e-14)
        assert row["phi"] == pytest.approx(c["p"] / (c["p"] + ab), rel=1e-14)
        assert row["phi"] <= row["g_coefficient"]
    # more evaluators or runs never hurt
    assert np.all(np.diff(d.filter(pl.col("n_runs") == 1)["phi"].to_numpy()) > 0)
    assert np.all(np.diff(d.filter(pl.col("n_evaluators") == 2)["phi"].to_numpy()) > 0)
    # fixed evaluators: pe moves into the universe score, e drops out: higher coefficients
    fixed = d_study(g, n_evaluators=[1, 2, 5], n_runs=[1, 4], fixed_evaluators=True)
    assert np.all(fixed["phi"].to_numpy() > d["phi"].to_numpy())


def test_crossed_g_study_gives_a_nested_d_study():
    c = _components("p x e x r")
    g = GStudy(design="p x e x r", method="anova", components=c, raw=c, sizes={"p": 50, "e": 3, "r": 2})
    nested = d_study(g, n_evaluators=3, n_runs=2, design="p x (r:e)").row(0, named=True)
    collapsed = {"p": c["p"], "e": c["e"], "pe": c["pe"], "r:e": c["r"] + c["er"], "pr:e": c["pr"] + c["per"]}
    rho, phi = g_coefficients(collapsed, "p x (r:e)", 3, 2)
    assert nested["design"] == "p x (r:e)"
    assert nested["phi"] == pytest.approx(float(phi), rel=1e-15)
    assert nested["g_coefficient"] == pytest.approx(float(rho), rel=1e-15)


def test_single_facet_of_runs_fills_the_runs_column():
    x = brennan_scores()
    g = g_study(x, "p x i", facet="runs")
    d = d_study(g, n_runs=[2, 3])
    assert d["n_runs"].to_list() == [2, 3] and d["n_evaluators"].null_count() == 2
    with pytest.raises(ValueError, match="give n_runs"):
        d_study(g, n_evaluators=[2])
    assert smallest_n(g, 0.8, vary="runs") == 15


@pytest.mark.parametrize("vary", ["runs", "evaluators"])
@pytest.mark.parametrize("coefficient", ["phi", "g_coefficient"])
def test_smallest_n_is_the_first_size_reaching_the_target(vary, coefficient):
    c = _components("p x (r:e)")
    g = GStudy(design="p x (r:e)", method="anova", components=c, raw=c, sizes={"p": 50, "e": 3, "r": 2})
    sizes = list(range(1, 200))
    d = d_study(g, n_evaluators=3 if vary == "runs" else sizes, n_runs=sizes if vary == "runs" else 2)
    values = d[coefficient].to_numpy()
    col = "n_runs" if vary == "runs" else "n_evaluators"
    for target in (0.7, 0.8, 0.85, 0.9):
        reached = np.flatnonzero(values >= target)
        expect = int(d[col][int(reached[0])]) if reached.size else None
        assert smallest_n(g, target, vary=vary, coefficient=coefficient, max_n=199) == expect


def test_smallest_n_none_when_more_runs_cannot_remove_evaluator_error():
    c = _components("p x (r:e)")
    g = GStudy(design="p x (r:e)", method="anova", components=c, raw=c, sizes={"p": 50, "e": 3, "r": 2})
    limit = c["p"] / (c["p"] + (c["e"] + c["pe"]) / 1)  # one evaluator, infinitely many runs
    assert smallest_n(g, limit + 0.01, vary="runs", n_evaluators=1) is None
    assert smallest_n(g, limit - 0.01, vary="runs", n_evaluators=1) is not None


# --------------------------------------------------------------------------------------
# Bootstrap over items
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("design", ["p x i", "p x e x r", "p x (r:e)"])
def test_bootstrap_estimates_and_replicates(design):
    if design == "p x i":
        x = brennan_scores()
        sizes = dict(n_evaluators=[5, 12])
    else:
        x = simulate(11, 40, 3, 2, SD, nested=design == "p x (r:e)")
        sizes = dict(n_evaluators=[1, 3], n_runs=[1, 2])
    res = g_study_bootstrap(x, design, n_boot=300, seed=5, **sizes)
    g = g_study(x, design)
    d = d_study(g, **sizes)
    names = COMPONENTS[design]
    assert res["quantity"].to_list() == [f"var({k})" for k in names] + ["g_coefficient"] * d.height + ["phi"] * d.height
    est = res["estimate"].to_numpy()
    assert np.allclose(est[:len(names)], [g.components[k] for k in names], rtol=1e-12, atol=1e-14)
    assert np.allclose(est[len(names):len(names) + d.height], d["g_coefficient"].to_numpy(), rtol=1e-12)
    assert np.allclose(est[len(names) + d.height:], d["phi"].to_numpy(), rtol=1e-12)
    assert (res["ci_low"] <= res["ci_high"]).all()
    assert (res["n_boot_valid"] == 300).all()


def test_bootstrap_replicates_are_the_g_study_of_the_resampled_items():
    from analysis.stats.bootstrap import bootstrap  # noqa: F401  (the engine used inside)

    x = simulate(12, 25, 3, 2, SD, nested=True)
    idx = resample_indices(25, 200, seed=8)
    res = g_study_bootstrap(x, "p x (r:e)", n_boot=200, seed=8, method="percentile")
    # Percentile interval of var(p) recomputed from explicit resamples
    reps = np.array([g_study(x[i], "p x (r:e)").components["p"] for i in idx])
    row = res.filter(pl.col("quantity") == "var(p)").row(0, named=True)
    assert row["ci_low"] == pytest.approx(np.quantile(reps, 0.025), rel=1e-10)
    assert row["ci_high"] == pytest.approx(np.quantile(reps, 0.975), rel=1e-10)
    assert row["se"] == pytest.approx(reps.std(ddof=1), rel=1e-10)


# --------------------------------------------------------------------------------------
# Intervals with the sampling of every facet (Satterthwaite, generalized CIs)
# --------------------------------------------------------------------------------------

def test_interval_of_a_single_mean_square_is_the_exact_chi_square_interval():
    from scipy import stats

    from analysis.stats.gtheory import component_intervals

    g = g_study(simulate(3, 40, 3, 2, SD, nested=True), "p x (r:e)")
    ms, df = g.mean_squares["pr:e"], g.df["pr:e"]
    exact = (df * ms / stats.chi2.ppf(0.975, df), df * ms / stats.chi2.ppf(0.025, df))
    sat = component_intervals(g, method="satterthwaite").filter(pl.col("component") == "pr:e").row(0, named=True)
    assert (sat["ci_low"], sat["ci_high"]) == pytest.approx(exact, rel=1e-12)
    assert sat["df"] == pytest.approx(df)
    gci = component_intervals(g, method="gci", n_draws=200_000, seed=1).filter(pl.col("component") == "pr:e")
    assert (gci["ci_low"][0], gci["ci_high"][0]) == pytest.approx(exact, rel=0.01)
    # the judge component rests on at most n_e - 1 = 2 degrees of freedom
    e = component_intervals(g, method="satterthwaite").filter(pl.col("component") == "e").row(0, named=True)
    assert e["df"] <= 2 + 1e-9 and e["ci_note"].endswith("few levels")


def test_gci_of_e_rho2_in_p_x_i_is_the_exact_f_interval_of_icc_c_k():
    """For p x i, the GCI of E rho^2 at n' = n_i is McGraw & Wong's exact F interval of ICC(C,k)."""
    from analysis.stats.gtheory import d_study_intervals

    x = simulate(1, 30, 4, 1, SD)[:, :, 0]
    g = g_study(x, "p x i")
    row = d_study_intervals(g, n_draws=400_000, seed=2).row(0, named=True)
    icc = intraclass_corr(x).filter(pl.col("type") == "ICC(C,k)").row(0, named=True)
    assert row["g_coefficient"] == pytest.approx(icc["icc"], rel=1e-10)
    assert row["g_ci_low"] == pytest.approx(icc["ci_low"], abs=0.003)
    assert row["g_ci_high"] == pytest.approx(icc["ci_high"], abs=0.003)


def test_facet_sampling_intervals_cover_in_simulation():
    """p x (r:e), 50 items, 3 judges, 2 runs, 200 simulated studies: the GCIs of sigma^2(e),
    Phi and E rho^2 (3 judges, 1 run) cover at about 95 %; the bootstrap over items, which
    keeps these 3 judges, does not cover Phi (measured 80 % in 60 studies)."""
    from analysis.stats.gtheory import component_intervals, d_study_intervals

    c = {"p": 0.5, "e": 0.1, "r:e": 0.03, "pe": 0.08, "pr:e": 0.3}
    rho, phi = g_coefficients(c, "p x (r:e)", 3, 1)
    rng = np.random.default_rng(11)
    hits = np.zeros(3)
    reps = 200
    for k in range(reps):
        x = (rng.normal(0, c["p"] ** .5, (50, 1, 1)) + rng.normal(0, c["e"] ** .5, (1, 3, 1))
             + rng.normal(0, c["r:e"] ** .5, (1, 3, 2)) + rng.normal(0, c["pe"] ** .5, (50, 3, 1))
             + rng.normal(0, c["pr:e"] ** .5, (50, 3, 2)))
        g = g_study(x)
        d = d_study_intervals(g, 3, 1, n_draws=2000, seed=k).row(0, named=True)
        e = component_intervals(g, n_draws=2000, seed=k).filter(pl.col("component") == "e").row(0, named=True)
        hits += [d["phi_ci_low"] <= phi <= d["phi_ci_high"], d["g_ci_low"] <= rho <= d["g_ci_high"],
                 e["ci_low"] <= c["e"] <= e["ci_high"]]
    coverage = hits / reps
    assert np.all(coverage >= 0.91) and np.all(coverage <= 0.99), coverage


def test_facet_sampling_intervals_need_anova():
    from analysis.stats.gtheory import component_intervals, d_study_intervals

    x = simulate(1, 20, 3, 2, SD, nested=True)
    g = g_study(x, "p x (r:e)", method="reml")
    with pytest.raises(ValueError, match="method='anova'"):
        component_intervals(g)
    with pytest.raises(ValueError, match="method='anova'"):
        d_study_intervals(g, 3, 1)
    a = g_study(x, "p x (r:e)")
    with pytest.raises(ValueError, match="method"):
        component_intervals(a, method="bootstrap")
    # same seed, same interval
    assert d_study_intervals(a, [1, 3], 1, seed=5).equals(d_study_intervals(a, [1, 3], 1, seed=5))
