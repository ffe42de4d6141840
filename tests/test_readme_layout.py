"""The README's *Layout* block lists every module of ``analysis/`` (one line each, under its
room) and the project's folders, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks/", "tests/", "docs/")
"""Top-level folders the block must describe besides analysis/."""


def layout_block(readme: str) -> str:
    """The first code block after the ``## Layout`` heading."""
    section = readme.split("\n## Layout\n", 1)[1]
    match = re.search(r"^```\n(.*?)^```$", section, flags=re.S | re.M)
    assert match, "no code block in the Layout section"
    return match.group(1)


def listed_paths(block: str) -> dict[str, str]:
    """Path (relative to the project; folders end with /) -> its description. Two spaces
    of indentation per level; a name is separated from its description by two or more
    spaces; ``a/, b/`` lists several entries on one line."""
    out, stack = {}, []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"odd indentation: {line!r}"
        name, _, description = line.strip().partition("  ")
        del stack[indent // 2:]
        for part in name.split(", "):
            path = "".join(stack) + part
            assert path not in out, f"listed twice: {path}"
            out[path] = description.strip()
        if name.endswith("/") and ", " not in name:
            stack.append(name)
    return out


def missing_and_stale(block: str, root: Path) -> tuple[list[str], list[str]]:
    """Modules and folders of the tree missing from the block; listed paths that do not exist."""
    listed = listed_paths(block)
    modules = {p.relative_to(root).as_posix() for p in (root / "analysis").rglob("*.py")
               if "__pycache__" not in p.parts and p.name not in ("__init__.py", "__main__.py")}
    rooms = {f"{p.relative_to(root).as_posix()}/" for p in (root / "analysis").iterdir()
             if p.is_dir() and (p / "__init__.py").is_file()}
    missing = sorted((modules | rooms | set(FOLDERS)) - set(listed))
    stale = sorted(p for p in listed if not (root / p).exists())
    return missing, stale


def test_the_layout_lists_every_module_and_nothing_else():
    block = layout_block((PROJECT / "README.md").read_text(encoding="utf-8"))
    missing, stale = missing_and_stale(block, PROJECT)
    assert not missing, f"add to the README's Layout block: {missing}"
    assert not stale, f"listed in the README's Layout block but not in the tree: {stale}"
    empty = [p for p, text in listed_paths(block).items() if not text]
    assert not empty, f"say what these hold: {empty}"


def test_the_check_can_fail(tmp_path):
    (tmp_path / "analysis" / "room").mkdir(parents=True)
    for name in ("__init__.py", "room/__init__.py", "room/kept.py", "room/new.py"):
        (tmp_path / "analysis" / name).write_text("")
    for folder in FOLDERS:
        (tmp_path / folder).mkdir()
    block = ("analysis/\n  room/      a room\n    kept.py  listed\n    gone.py  moved away\n"
             "notebooks/  n\ntests/  t\ndocs/  d\n")
    assert missing_and_stale(block, tmp_path) == (["analysis/room/new.py"], ["analysis/room/gone.py"])
    with pytest.raises(AssertionError, match="odd indentation"):
        listed_paths("analysis/\n   x.py  three spaces\n")
