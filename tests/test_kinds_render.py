"""The pairwise and binary kinds' notebooks rendered on small generated study files: every
table a notebook writes equals the kind module's function on the same data and seed, and
the HTML shows its figures as images."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl
import pytest

from analysis.render.runner import render
from analysis.reporting.tables import write_table
from analysis.studies import binary, pairwise
from analysis.studies.registry import load_study

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
N_BOOT, SEED = 60, 5


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_kinds_render_and_their_tables_are_the_packages(tmp_path):
    pw = _module("test_pairwise_study")._small(tmp_path / "pw")
    bn = _module("test_binary_study").simulate(tmp_path / "bn", 3)
    reports, figures = tmp_path / "reports", tmp_path / "figures"
    status = render([str(pw), str(bn)], None, jobs=2, n_boot=N_BOOT, seed=SEED, reports_dir=reports,
                    figures_dir=figures, progress=False)
    assert status == 0
    s = load_study(str(pw))
    expected = {"pairwise_agreement": pairwise.agreement_table(s),
                "pairwise_scores": pairwise.scores_table(s, n_boot=N_BOOT, seed=SEED),
                "pairwise_ranking": pairwise.ranking_table(s, n_boot=N_BOOT, seed=SEED),
                "pairwise_position": pairwise.position_table(s), "pairwise_alt_test": pairwise.alt_test_table(s)}
    for name, frame in expected.items():
        got = (reports / "pw" / "tables" / f"{name}.csv").read_bytes()
        assert got == write_table(frame, name, tmp_path / "mine").read_bytes(), name
    b = load_study(str(bn))
    for name, frame in {"binary_diagnostic": binary.diagnostic_table(b),
                        "binary_prevalence": binary.prevalence_table(b)}.items():
        got = (reports / "sim-binary" / "tables" / f"{name}.csv").read_bytes()
        assert got == write_table(frame, name, tmp_path / "mine").read_bytes(), name
    for html, images in ((reports / "pw" / "12_pairwise.html", 1),
                         (reports / "sim-binary" / "13_binary_verdicts.html", 2)):
        text = html.read_text(encoding="utf-8")
        assert text.count("data:image/png;base64") >= images, html.name
        assert "Traceback" not in text and "shape: (" not in text
    assert pl.read_csv(reports / "pw" / "tables" / "pairwise_position.csv")["first_wins"][0] == pytest.approx(4 / 6)
