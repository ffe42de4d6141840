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
    assert [j.notebook for j in study_jobs] == ["00_overview", "01_data_audit", "09_judge_assisted",
                                                "11_why_judges_disagree"]
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


# --- kinds, hooks and the study-data interface --------------------------------------

import ast  # noqa: E402
from pathlib import Path  # noqa: E402

from analysis.studies.registry import KINDS, Hooks, Ref  # noqa: E402


def study_names() -> set[str]:
    return {n for spec in STUDIES.values() for n in (spec.name, *spec.aliases)}


def allowed_files(name: str) -> set[Path]:
    """Where a built-in study's name may be spelled: its loader, its study module, the registry."""
    pkg = PROJECT_ROOT / "analysis"
    return {pkg / "data" / f"{name}.py", pkg / "studies" / f"{name}.py", pkg / "studies" / "registry.py"}


def parameters_cell(text: str) -> range:
    """The lines (1-based) of a jupytext percent notebook's parameters cell (papermill's
    defaults: ``study = "demo"`` may be spelled there), else an empty range."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# %%") and "parameters" in line:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("# %%")), len(lines))
            return range(i + 1, end + 1)
    return range(0)


def spelled_study_names(path: Path, names: set[str], *, notebook: bool = False) -> list[str]:
    """``file:line: 'name'`` for every string literal of ``path`` equal to a study name
    (read with ``ast``: comments and prose inside longer strings do not count, implicitly
    concatenated parts do; a notebook's parameters cell is allowed)."""
    text = path.read_text(encoding="utf-8")
    allowed = parameters_cell(text) if notebook else range(0)
    tree = ast.parse(text, filename=str(path))
    found = [(node.lineno, node.value) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
             and node.lineno not in allowed]
    rel = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return [f"{rel}:{line}: {value!r}" for line, value in sorted(found)]


def test_no_module_spells_a_study_name():
    """Only a study's loader (analysis/data/<name>.py), its study module
    (analysis/studies/<name>.py) and the registry spell a built-in study's name; every
    other module and notebook asks the registry (kind, hooks) or the study's data."""
    names = study_names()
    bad = []
    for path in sorted((PROJECT_ROOT / "analysis").rglob("*.py")):
        hits = spelled_study_names(path, names)
        bad += [h for h in hits if path not in allowed_files(h.rsplit("'", 2)[-2])]
    for path in sorted((PROJECT_ROOT / "notebooks").glob("*.py")):
        bad += spelled_study_names(path, names, notebook=True)
    assert not bad, "study names spelled outside their own modules (ask the registry):\n" + "\n".join(bad)


def test_the_name_scan_can_fail(tmp_path):
    names = study_names()
    module = tmp_path / "module.py"
    module.write_text('"""A docstring naming mentalalign is prose."""\n# a comment: "bhh"\n'
                      'def f(spec):\n    return spec.name == "mentalalign" or "x" ("dialogue" "safety")\n'
                      'KEYS = {"demo": 1}\n')
    assert spelled_study_names(module, names) == [f"{module}:4: 'dialoguesafety'", f"{module}:4: 'mentalalign'",
                                                  f"{module}:5: 'demo'"]
    notebook = tmp_path / "nb.py"
    notebook.write_text('# %% tags=["parameters"]\nstudy: str = "demo"\n\n# %%\nif study == "bhh":\n    pass\n')
    assert spelled_study_names(notebook, names, notebook=True) == [f"{notebook}:5: 'bhh'"]
    assert spelled_study_names(notebook, names) == [f"{notebook}:2: 'demo'", f"{notebook}:5: 'bhh'"]


def test_every_study_has_a_kind_and_every_hook_resolves():
    for spec in STUDIES.values():
        assert spec.kind in KINDS and spec.scale.kind == KINDS[spec.kind].scale, spec.name
        for name in ("overview", "summary", "export", "forest"):
            hook = getattr(spec.hooks, name)
            assert callable(hook.resolve() if isinstance(hook, Ref) else hook), (spec.name, name)
        assert isinstance(spec.hooks.review_figures, bool)
        for name in ("ppi_populations", "bench"):
            hook = getattr(spec.hooks, name)
            assert hook is None or callable(hook.resolve()), (spec.name, name)
    for kind in KINDS.values():
        assert kind.notebooks and kind.evaluator_parameter in ("evaluator", "system")
        assert all(getattr(kind.hooks, f) is not None for f in ("overview", "summary", "export", "forest",
                                                                 "review_figures"))
    # A study's own hooks replace the kind's; those it does not set are the kind's.
    own = Hooks(summary=Ref("x:y"))
    merged = own.over(KINDS["scored"].hooks)
    assert merged.summary == Ref("x:y") and merged.overview == KINDS["scored"].hooks.overview
    with pytest.raises(ValueError, match="kind must be one of scored, labelled, not 'pairwise'"):
        from dataclasses import replace

        replace(get_study("demo"), kind="pairwise")
    with pytest.raises(ValueError, match="a labelled study has a nominal scale, not ordinal"):
        replace(get_study("demo"), kind="labelled")


def test_the_crisis_label_raters_are_the_crisis_label_humans():
    from analysis.studies import crisis_labels as cl

    assert [s.name for s in STUDIES.values() if s.label_raters] == ["bhh"]
    assert get_study("bhh").label_raters == cl.HUMANS


def test_the_demo_data_answer_the_study_data_interface():
    from analysis.data.study_data import StudyData

    from analysis.data.demo import generate_demo

    d = generate_demo(seed=3, n_items=40)
    assert isinstance(d, StudyData)
    assert d.references == get_study("demo").references and d.evaluators == get_study("demo").discover(None)
    assert (d.has_references, d.has_runs, d.has_clusters, d.has_categories, d.has_sources) == (True,) * 5
    assert d.truth is not None and d.crisis_labels is None and d.review_set is not None
    # has_* are what the frames say: without the humans' ratings the data have no references.
    from dataclasses import replace

    no_humans = replace(d, ratings=d.ratings.filter(~pl.col("rater").is_in(list(d.references))))
    assert not no_humans.has_references
    one_run = replace(d, ratings=d.ratings.filter(pl.col("eval_run") == 1))
    assert not one_run.has_runs


@pytest.mark.real_data
def test_every_built_in_study_answers_the_study_data_interface(shared_data_root):
    from analysis.data.study_data import StudyData

    expected = {  # has_references, has_runs, has_clusters, has_categories, has_sources
        "bhh": (True, True, True, True, True),
        "mentalalign": (True, False, True, False, True),
        "dialoguesafety": (True, True, False, False, False),
    }
    for name, flags in expected.items():
        s = load_study(name, data_root=shared_data_root)
        d = s.data
        assert isinstance(d, StudyData), name
        assert d.references == s.spec.references and d.evaluators == s.evaluators, name
        assert (d.has_references, d.has_runs, d.has_clusters, d.has_categories, d.has_sources) == flags, name
        assert (d.ratings is None) == (s.spec.kind == "labelled"), name
        assert (d.crisis_labels is not None) == bool(s.spec.label_raters), name
