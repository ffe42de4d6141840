"""The project's files agree: one version (pyproject.toml, ``analysis.__version__``,
CITATION.cff, CHANGELOG.md), a valid citation file, the licence."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

import analysis

PROJECT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_one_version_everywhere():
    assert analysis.__version__ == VERSION
    assert yaml.safe_load((PROJECT / "CITATION.cff").read_text(encoding="utf-8"))["version"] == VERSION
    changelog = (PROJECT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "\n## Unreleased\n" in changelog and f"\n## {VERSION} " in changelog


def test_citation_file_has_what_cff_1_2_0_requires():
    cff = yaml.safe_load((PROJECT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert all(set(a) & {"name", "family-names"} for a in cff["authors"])
    for ref in cff["references"]:
        assert {"type", "title", "authors"} <= set(ref), ref.get("title")
        assert all(set(a) & {"name", "family-names"} for a in ref["authors"])


def test_licence_is_mit_as_declared():
    licence = (PROJECT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "the crisis-judge-analysis authors" in licence
    meta = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == {"text": "MIT"}
