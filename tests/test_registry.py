"""The study registry: one entry per study, and everything derived from it.

New evaluators of the built-in studies come from the data: a copy of Between Help and
Harm with meta-llama's folder duplicated under a new name has that name as an evaluator,
with no code change, and it gives the same numbers as meta-llama.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from analysis.data.paths import PROJECT_ROOT
from analysis.render.plan import STUDY_LEVEL, plan
from analysis.studies.registry import STUDIES, get_study, load_study, notebook_names, repositories
from analysis.studies.scored import HUMAN_MEAN, agreement_table, bias_table, evaluator_pairs, icc_table


def test_every_study_is_complete():
    for name, spec in STUDIES.items():
        assert spec.name == name and spec.title and spec.citation
        assert spec.references and spec.evaluator_parameter in ("evaluator", "judge", "system")
        assert spec.notebooks, name
        for nb in spec.notebooks:
            assert (PROJECT_ROOT / "notebooks" / f"{nb.name}.py").is_file(), nb.name
        if spec.source:
            assert spec.source.repository.startswith("https://") and spec.source.commit


def test_derived_lists_come_from_the_registry():
    assert set(repositories()) == {"between-help-and-harm", "mentalbench-align", "dialogue-safety"}
    assert set(notebook_names()) == {nb.name for s in STUDIES.values() for nb in s.notebooks} | {"10_synthesis"}
    assert get_study("bhh").jury == ("gpt-4o-mini", "gpt-5-nano", "meta-llama")
    with pytest.raises(ValueError, match="unknown study 'nope'; built-in studies: demo, bhh, mentalalign"):
        get_study("nope")


def test_demo_plan_renders_the_audit_once_and_the_rest_per_evaluator(tmp_path):
    jobs = plan(["demo"], None, data_root=None, n_boot=10, seed=1, reports_dir=tmp_path / "r",
                figures_dir=tmp_path / "f")
    study_jobs = [j for j in jobs if j.evaluator == STUDY_LEVEL]
    assert [j.notebook for j in study_jobs] == ["00_overview", "01_data_audit", "09_judge_assisted"]
    assert "evaluator" not in study_jobs[0].params and study_jobs[0].params["study"] == "demo"
    per_ev = {(j.evaluator, j.notebook) for j in jobs if j.evaluator != STUDY_LEVEL}
    assert per_ev == {(e, nb) for e in ("gpt-4o-mini", "gpt-5-nano", "meta-llama", "jury")
                      for nb in ("02_reliability", "03_bias", "04_category_appropriateness")}


def test_cli_accepts_study_and_the_dataset_alias():
    for flag in ("--study", "--dataset"):
        proc = subprocess.run([sys.executable, "-m", "analysis", "render", flag, "nope"], capture_output=True,
                              text=True, cwd=PROJECT_ROOT)
        assert proc.returncode == 2 and "unknown study 'nope'; built-in studies: demo, bhh" in proc.stderr


@pytest.fixture(scope="module")
def bhh_with_a_copied_evaluator(tmp_path_factory, bhh_dir):
    """A hard-linked copy of the data with meta-llama's evaluations also under `llama-copy`."""
    root = tmp_path_factory.mktemp("bhh_copy")
    dst = root / "between-help-and-harm"
    shutil.copytree(bhh_dir, dst, copy_function=os.link)
    ev = dst / "data" / "llm_evaluator"
    shutil.copytree(ev / "meta-llama", ev / "llama-copy", copy_function=os.link)
    return root


@pytest.mark.real_data
def test_a_new_evaluator_folder_is_an_evaluator_with_the_same_numbers(bhh_with_a_copied_evaluator):
    root = bhh_with_a_copied_evaluator
    spec = get_study("bhh")
    assert spec.evaluators(root) == ("gpt-4o-mini", "gpt-5-nano", "meta-llama", "llama-copy", "jury")
    assert spec.check_evaluator("llama-copy", root) == "llama-copy"
    with pytest.raises(ValueError, match="unknown evaluator 'gpt-9'; found in the data: .*llama-copy, jury"):
        spec.check_evaluator("gpt-9", root)

    study = load_study("bhh", data_root=root)
    assert study.jury == ("gpt-4o-mini", "gpt-5-nano", "meta-llama"), "the paper's jury, not every evaluator"
    assert study.own_answer_model["llama-copy"] == "meta-llama"
    scores = study.review_scores()
    assert np.array_equal(scores.column("llama-copy"), scores.column("meta-llama"))

    def tables(evaluator):
        refs = ("H1", "H2", HUMAN_MEAN)
        pairs = [(evaluator, r) for r in refs]
        return {
            "agreement": agreement_table(scores, pairs),
            "icc": icc_table(scores, pairs, n_boot=200, seed=4),
            "bias": bias_table(scores, [evaluator], references=refs, n_boot=200, seed=4),
        }

    copy, original = tables("llama-copy"), tables("meta-llama")
    for name in copy:
        renamed = copy[name].with_columns(pl.col(pl.String).str.replace("^llama-copy$", "meta-llama"))
        assert renamed.equals(original[name]), name
    # The jury is the paper's three, whatever other evaluators the data hold.
    jury = scores.column("jury")
    members = np.column_stack([scores.column(e) for e in study.jury]).mean(axis=1)
    assert np.array_equal(jury, members)
    assert [p for p in evaluator_pairs(scores, "llama-copy", ("H1", "H2"))][:2] == [("llama-copy", "H1"),
                                                                                   ("llama-copy", "H2")]

    jobs = plan(["bhh"], None, data_root=root, n_boot=10, seed=1, reports_dir=root / "r", figures_dir=root / "f")
    assert {j.evaluator for j in jobs} == {STUDY_LEVEL, "gpt-4o-mini", "gpt-5-nano", "meta-llama", "llama-copy",
                                           "jury"}


def test_the_readme_table_of_studies_is_the_registry():
    from analysis.studies.registry import studies_markdown

    readme = (PROJECT_ROOT / "README.md").read_text()
    start, end = readme.index("<!-- studies:begin -->\n"), readme.index("<!-- studies:end -->")
    assert readme[start + len("<!-- studies:begin -->\n"):end].strip() == studies_markdown(), \
        "README's study table is stale: paste the output of `python -m analysis studies`"
