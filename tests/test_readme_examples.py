"""The README's study-file examples are valid TOML whose keys the study-file reader knows
(a key after a [table] header belongs to that table: the README once put `design` there)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from analysis.data.tidy import KEYS, STANDARD_COLUMNS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_study_file_example_parses_with_known_keys():
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "no ```toml block in the README"
    for block in blocks:
        raw = tomllib.loads(block)
        assert set(raw) <= set(KEYS), sorted(set(raw) - set(KEYS))
        assert set(raw.get("columns", {})) <= set(STANDARD_COLUMNS), raw.get("columns")
    assert len(blocks) >= 2
