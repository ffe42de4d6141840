"""The G-study designs of the lme4 REML reference (``lme4_reml.R``), generated deterministically.

``python tests/reference/lme4_reml_designs.py`` writes ``lme4_reml_data.csv`` (one row per
observed score: ``design_id, design, p, e, r, y``; ``e`` is the facet of ``p x i``, ``r`` is
then 0), then ``Rscript tests/reference/lme4_reml.R`` fits every design with lme4 and writes
``lme4_reml_components.csv``. Both files are committed; ``tests/test_gtheory.py`` compares
:func:`analysis.stats.gtheory.g_study` (``method="reml"``) with them.

The designs: balanced and unbalanced (missing cells), crossed ``p x e x r``, nested
``p x (r:e)`` and one-facet ``p x i``, continuous normal scores, components whose true
value is 0 (boundary fits), and Between-Help-and-Harm-like integer scores on 1-5 (few
distinct values, judges far more consistent across runs than across each other) at
60 x 3 x 3 and 15 x 3 x 2, where the former statsmodels fit stopped short of the optimum.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "lme4_reml_data.csv"
COMPONENTS = HERE / "lme4_reml_components.csv"


def _normal(rng, n_p, n_e, n_r, sd, nested):
    """Normal random effects, rounded to 4 decimals (the CSV holds them exactly)."""
    x = (rng.normal(0, sd["p"], (n_p, 1, 1)) + rng.normal(0, sd["e"], (1, n_e, 1))
         + rng.normal(0, sd["pe"], (n_p, n_e, 1)) + rng.normal(0, sd["res"], (n_p, n_e, n_r)) + 3.0)
    if nested:
        return np.round(x + rng.normal(0, sd["r"], (1, n_e, n_r)), 4)
    return np.round(x + rng.normal(0, sd["r"], (1, 1, n_r)) + rng.normal(0, sd["pr"], (n_p, 1, n_r))
                    + rng.normal(0, sd["er"], (1, n_e, n_r)), 4)


def _bhh_like(rng, n_p, n_e, n_r, *, p=0.6, lenient=(0.3, 0.7, 0.1), pe=0.35, run=0.3):
    """Integer scores on 1-5: an answer's quality, each judge's leniency and its own view
    of the answer, and a small run-to-run noise, rounded and clipped."""
    q = 3.2 + rng.normal(0, p, (n_p, 1, 1)) + np.asarray(lenient[:n_e]).reshape(1, n_e, 1)
    x = q + rng.normal(0, pe, (n_p, n_e, 1)) + rng.normal(0, run, (n_p, n_e, n_r))
    return np.clip(np.rint(x), 1, 5)


def _drop(rng, x, share):
    """Set a share of the cells to NaN (at random; every item keeps at least one score)."""
    y = x.copy()
    flat = y.reshape(y.shape[0], -1)
    mask = rng.random(flat.shape) < share
    mask[mask.all(axis=1), 0] = False
    flat[mask] = np.nan
    return y


SD = dict(p=1.0, e=0.5, r=0.4, pe=0.4, pr=0.3, er=0.3, res=0.6)


def designs() -> dict[str, tuple[str, np.ndarray]]:
    """``design_id -> (design, scores)``; scores ``(n_p, n_e, n_r)`` or ``(n_p, n_i)``, NaN = missing."""
    out: dict[str, tuple[str, np.ndarray]] = {}

    def rng(k):
        return np.random.default_rng(np.random.SeedSequence([20261206, k]))

    # balanced, continuous
    out["nested_30x3x2"] = ("p x (r:e)", _normal(rng(1), 30, 3, 2, SD, True))
    out["nested_20x4x3"] = ("p x (r:e)", _normal(rng(2), 20, 4, 3, SD, True))
    out["crossed_30x3x2"] = ("p x e x r", _normal(rng(3), 30, 3, 2, SD, False))
    out["crossed_15x3x3"] = ("p x e x r", _normal(rng(4), 15, 3, 3, SD, False))
    out["pxi_25x4"] = ("p x i", _normal(rng(5), 25, 4, 1, SD, True)[:, :, 0])
    out["pxi_12x6"] = ("p x i", _normal(rng(6), 12, 6, 1, SD, True)[:, :, 0])
    # unbalanced (missing cells)
    out["nested_30x3x2_miss10"] = ("p x (r:e)", _drop(rng(7), _normal(rng(8), 30, 3, 2, SD, True), 0.10))
    out["nested_40x3x3_miss30"] = ("p x (r:e)", _drop(rng(9), _normal(rng(10), 40, 3, 3, SD, True), 0.30))
    out["crossed_25x3x2_miss15"] = ("p x e x r", _drop(rng(11), _normal(rng(12), 25, 3, 2, SD, False), 0.15))
    out["crossed_20x4x3_miss25"] = ("p x e x r", _drop(rng(13), _normal(rng(14), 20, 4, 3, SD, False), 0.25))
    out["pxi_30x5_miss20"] = ("p x i", _drop(rng(15), _normal(rng(16), 30, 5, 1, SD, True)[:, :, 0], 0.20))
    # boundary: components whose true value is 0
    zero_r = dict(SD, r=0.0, er=0.0, pr=0.0)
    out["nested_30x3x2_no_run"] = ("p x (r:e)", _normal(rng(17), 30, 3, 2, zero_r, True))
    out["crossed_30x3x2_no_run"] = ("p x e x r", _normal(rng(18), 30, 3, 2, zero_r, False))
    zero_e = dict(SD, e=0.0, pe=0.0)
    out["nested_25x3x2_no_judge"] = ("p x (r:e)", _normal(rng(19), 25, 3, 2, zero_e, True))
    out["pxi_20x3_no_item"] = ("p x i", _normal(rng(20), 20, 3, 1, dict(SD, e=0.0), True)[:, :, 0])
    # Between-Help-and-Harm-like integer scores
    for k in range(4):
        out[f"bhh_60x3x3_{k}"] = ("p x (r:e)", _bhh_like(rng(30 + k), 60, 3, 3))
    for k in range(4):
        out[f"bhh_15x3x2_{k}"] = ("p x (r:e)", _bhh_like(rng(40 + k), 15, 3, 2))
    out["bhh_60x3x3_miss10"] = ("p x (r:e)", _drop(rng(50), _bhh_like(rng(51), 60, 3, 3), 0.10))
    out["bhh_15x3x2_miss10"] = ("p x (r:e)", _drop(rng(52), _bhh_like(rng(53), 15, 3, 2), 0.10))
    out["bhh_40x3x3_crossed"] = ("p x e x r", _bhh_like(rng(54), 40, 3, 3))
    return out


def rows(design_id: str, design: str, x: np.ndarray):
    """The long rows of one design: ``design_id, design, p, e, r, y`` (observed cells)."""
    x3 = x[:, :, None] if x.ndim == 2 else x
    for p, e, r in np.argwhere(~np.isnan(x3)):
        yield design_id, design, int(p), int(e), int(r), f"{x3[p, e, r]:.4f}".rstrip("0").rstrip(".")


def read_data(path: Path = DATA) -> dict[str, tuple[str, np.ndarray]]:
    """The designs back from ``lme4_reml_data.csv`` (NaN for the cells it lacks)."""
    long: dict[str, list] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            long.setdefault(row["design_id"], []).append(row)
    out = {}
    for design_id, rs in long.items():
        design = rs[0]["design"]
        idx = np.array([[int(r["p"]), int(r["e"]), int(r["r"])] for r in rs])
        x = np.full(tuple(idx.max(axis=0) + 1), np.nan)
        x[idx[:, 0], idx[:, 1], idx[:, 2]] = [float(r["y"]) for r in rs]
        out[design_id] = (design, x[:, :, 0] if design == "p x i" else x)
    return out


def main() -> None:
    with DATA.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["design_id", "design", "p", "e", "r", "y"])
        for design_id, (design, x) in designs().items():
            w.writerows(rows(design_id, design, x))
    print(f"wrote {DATA}")


if __name__ == "__main__":
    main()
