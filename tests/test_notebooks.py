"""The .py (percent format) notebooks are the source of truth; their paired .ipynb must
stay in sync, carry no outputs, and have exactly one `parameters` cell."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

from analysis.studies.registry import KINDS, STUDIES, SYNTHESIS, notebook_names

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))
COMMON = {"study", "data_root", "n_boot", "seed", "output_dir", "figures_dir"}


def test_the_notebooks_are_those_of_the_registry():
    assert tuple(p.stem for p in NOTEBOOKS) == notebook_names()


def test_every_notebook_has_a_number_of_its_own_and_its_heading_says_it():
    numbers = [p.stem.split("_", 1)[0] for p in NOTEBOOKS]
    assert all(n.isdigit() and len(n) == 2 for n in numbers), numbers
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not repeated, f"notebook numbers used twice: {repeated}"
    for p, n in zip(NOTEBOOKS, numbers):
        heading = next(c.source for c in jupytext.read(p).cells if c.cell_type == "markdown")
        assert heading.startswith(f"# {n} · "), f"{p.name}: the first heading does not carry its number {n}"


def _scope(stem: str) -> tuple[str, set[str]]:
    """The notebook's scope and the evaluator parameter it needs, from the registry."""
    found = {(nb.scope, spec.evaluator_parameter) for spec in (*STUDIES.values(), *KINDS.values())
             for nb in spec.notebooks if nb.name == stem} | ({("study", "")} if stem == SYNTHESIS.name else set())
    assert len({s for s, _ in found}) == 1, f"{stem} has several scopes in the registry: {found}"
    scope = next(iter(found))[0]
    return scope, {p for s, p in found if s == "evaluator"}


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_ipynb_is_in_sync_and_has_no_outputs(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run `jupytext --sync {py}`"
    text_cells = [(c.cell_type, c.source.strip()) for c in jupytext.read(py).cells]
    nb = nbformat.read(ipynb, as_version=4)
    assert [(c.cell_type, c.source.strip()) for c in nb.cells] == text_cells, \
        f"{ipynb.name} differs from {py.name}: run `jupytext --sync notebooks/*.py`"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{ipynb.name} has outputs committed"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_every_parameter(py):
    nb = jupytext.read(py)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {line.split("=")[0].split(":")[0].strip() for line in tagged[0].source.splitlines() if "=" in line}
    scope, who = _scope(py.stem)
    assert names == COMMON | who, f"{py.stem} (scope {scope}) parameters {sorted(names)}"
    assert jupytext.formats.guess_format(py.read_text(), ".py")[0] == "percent"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_are_typed_with_help_and_the_kernelspec_is_kept(py):
    """Each parameter reads ``name: type = value  # help`` as PARAMETERS declares it, so
    papermill --help-notebook and JupyterLab show types and help; the paired notebook keeps
    its kernelspec (papermill and JupyterLab need it)."""
    import re

    from papermill.translators import PythonTranslator

    from analysis.reporting.notebook import PARAMETERS

    cell = next(c for c in jupytext.read(py).cells if "parameters" in c.metadata.get("tags", []))
    for line in cell.source.splitlines():
        m = re.match(r'^(\w+): "?([\w\[\]]+)"? = (.+?)  # (.+)$', line)
        assert m, f"{py.name}: parameter line without type or help: {line!r}"
        assert (m.group(2), m.group(4)) == PARAMETERS[m.group(1)], f"{py.name}: {m.group(1)} differs from PARAMETERS"
    inspected = PythonTranslator.inspect({"source": cell.source})
    assert {p.name for p in inspected} == {ln.split(":")[0] for ln in cell.source.splitlines()}
    assert all(p.inferred_type_name not in (None, "None") and p.help for p in inspected)
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{py.with_suffix('.ipynb').name}: no kernelspec"
