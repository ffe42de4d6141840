"""pyproject.toml declares the dependencies once; environment.yml and requirements.lock
must not drift from it."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def _all_requirements() -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for name, extra in PROJECT["optional-dependencies"].items():
        reqs += [Requirement(r) for r in extra if not r.startswith(PROJECT["name"])]
    return reqs


def test_environment_yml_installs_the_package_with_all_extras_and_nothing_else():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert sorted(conda) == ["pip", "python=3.11"], "conda part must be python 3.11 + pip only"
    assert pip_lists == [["-e .[all]"]], "pip part must install this package with [all], nothing else"
    assert PROJECT["requires-python"] == ">=3.11"


def test_all_extra_covers_every_other_extra():
    extras = PROJECT["optional-dependencies"]
    (all_req,) = extras["all"]
    listed = Requirement(all_req).extras
    assert Requirement(all_req).name == PROJECT["name"]
    assert listed == set(extras) - {"all"}


def test_lock_file_satisfies_every_declared_lower_bound():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[name.lower().replace("_", "-")] = Version(version)
    for req in _all_requirements():
        key = req.name.lower().replace("_", "-")
        assert key in lock, f"{req.name} is declared in pyproject.toml but not pinned in requirements.lock"
        assert req.specifier.contains(lock[key]), f"requirements.lock pins {req.name}=={lock[key]}, outside {req}"


def test_installed_environment_satisfies_pyproject():
    for req in _all_requirements():
        installed = Version(metadata.version(req.name))
        assert req.specifier.contains(installed), f"{req.name} {installed} installed, pyproject needs {req}"
