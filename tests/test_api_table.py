"""The README's table of the public API is the one ``docs/api_table.py`` generates from
the code, and it lists every name of ``analysis.__all__`` once."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import analysis
import analysis.stats

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("api_table", ROOT / "docs" / "api_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_api_table_is_generated_from_the_code():
    gen = _generator()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gen.readme_table(text) == gen.table(), "run: python docs/api_table.py --write"


def test_readme_api_table_lists_exactly_the_public_names():
    text = _generator().readme_table((ROOT / "README.md").read_text(encoding="utf-8"))
    names = re.findall(r"^\| `([^`]+)` \|", text, flags=re.M)
    assert names == list(analysis.__all__) == list(analysis.stats.__all__)
