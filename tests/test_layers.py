"""The package's layers import only downwards: stats <- data <- studies <- reporting <- render <- checks <- cli.

Read from the source with ``ast`` (every ``import`` and ``from ... import``, including
those inside functions), so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "analysis"
LAYERS = ("stats", "data", "studies", "reporting", "render", "checks", "cli")
"""Bottom to top: a layer may import the layers before it, never those after it."""


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            # `from analysis import data` imports the layer too
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}: relative import; use absolute `analysis.` imports")
    return {m for m in out if m == "analysis" or m.startswith("analysis.")}


def forbidden_for(layer: str) -> tuple[str, ...]:
    above = LAYERS[LAYERS.index(layer) + 1:]
    return tuple(f"analysis.{a}" for a in above)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_no_layer_above_it(layer):
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden_for(layer)):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not bad, "\n".join(bad)


def test_stats_imports_nothing_but_stats():
    bad = [f"{p.relative_to(PACKAGE.parent)} imports {m}" for p in sorted((PACKAGE / "stats").rglob("*.py"))
           for m in imported_modules(p) if not (m == "analysis.stats" or m.startswith("analysis.stats."))]
    assert not bad, "\n".join(bad)


def test_the_check_can_fail(tmp_path):
    # The scanner must see an upward import inside a function body.
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from analysis.studies.registry import STUDIES\n    return STUDIES\n")
    assert "analysis.studies.registry" in imported_modules(bad)
    assert any("analysis.studies.registry".startswith(f) for f in forbidden_for("stats"))


def test_the_public_statistics_api_is_importable_from_the_top():
    import analysis
    from analysis import stats

    assert set(stats.__all__) <= set(dir(analysis))
    from analysis import bootstrap, cohen_kappa, intraclass_corr, mean_bias  # noqa: F401


def test_the_package_names_the_statistics_api_lazily_and_completely():
    """``analysis.__all__`` (resolved on first use, PEP 562) is exactly the statistics
    API of ``analysis.stats``, and importing the package imports no statistics."""
    import subprocess
    import sys

    import analysis
    import analysis.stats

    assert analysis.__all__ == analysis.stats.__all__
    assert all(getattr(analysis, name) is getattr(analysis.stats, name) for name in analysis.__all__)
    code = "import sys, analysis; print('analysis.stats' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
