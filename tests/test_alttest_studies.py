"""The alt-test authors' six published annotation studies (../shared/data/alttest), each
written as a user study (tidy ratings + study file, in a temporary folder) and tested
through ``python -m analysis alt-test --study FILE``: every published verdict, winning
rate and advantage probability of the authors' executed notebook is reproduced.

The verdicts are read from the authors' notebook at test time (never copied here)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_data

ROOT = Path(__file__).resolve().parent.parent
# The authors' settings of the published run (their notebook's two dicts).
STUDIES = {"summeval": ("neg_rmse", 0.2), "cebab_stars": ("neg_rmse", 0.1), "lesion": ("neg_rmse", 0.15),
           "wax": ("accuracy", 0.1), "lgbteen": ("accuracy", 0.2), "mtbench": ("accuracy", 0.2)}
LINE = re.compile(r"^(\w+) (\S+) \[(PASSED|FAILED)\]:\s+Winning Rate=([\d.]+)\s+Advantage Probability=([\d.]+)$")


def published(notebook: Path) -> dict[tuple[str, str], tuple[bool, float, float]]:
    """(study, llm) -> (passed, winning rate, advantage probability) from the executed notebook."""
    out = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for o in cell.get("outputs", []):
            for line in "".join(o.get("text", "")).splitlines():
                m = LINE.match(line.strip())
                if m and m.group(1) in STUDIES:
                    out[(m.group(1), m.group(2))] = (m.group(3) == "PASSED", float(m.group(4)), float(m.group(5)))
    return out


def write_study(src: Path, dst: Path, name: str, scoring: str) -> Path:
    """The authors' two JSON files as a tidy ratings.csv and a study.toml (humans prefixed h-)."""
    humans = json.loads((src / "human_annotations.json").read_text(encoding="utf-8"))
    llms = json.loads((src / "llm_annotations.json").read_text(encoding="utf-8"))
    rows = [(i, f"h-{a}", v) for a, d in humans.items() for i, v in d.items()]
    rows += [(i, j, v) for j, d in llms.items() for i, v in d.items()]
    dst.mkdir(parents=True)
    with open(dst / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item", "rater", "score"])
        w.writerows(rows)
    values = {v for *_, v in rows if v is not None}
    if scoring == "accuracy":
        kind = "labels = [" + ", ".join(json.dumps(str(x)) for x in sorted(map(str, values))) + "]"
    else:
        kind = f"scale = [{min(map(float, values)):g}, {max(map(float, values)):g}]"
    refs = ", ".join(json.dumps(f"h-{a}") for a in humans)
    (dst / "study.toml").write_text(f'name = "alttest-{name.replace("_", "-")}"\nratings = "ratings.csv"\n{kind}\n'
                                    f"references = [{refs}]\n", encoding="utf-8")
    return dst / "study.toml"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def study_files(alttest_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("alttest")
    return {name: write_study(alttest_dir / name, base / name, name, scoring)
            for name, (scoring, _) in STUDIES.items()}


def test_the_published_verdicts_are_reproduced_through_the_cli(alttest_dir, study_files, tmp_path):
    import polars as pl

    expected = published(alttest_dir / "alt_test_example.ipynb")
    assert len(expected) == 34  # 6 LLMs x 5 studies + 4 on lesion
    checked = 0
    for name, (scoring, eps) in STUDIES.items():
        out = tmp_path / f"{name}.csv"
        res = _cli("alt-test", "--study", str(study_files[name]), "--epsilon", str(eps), "--epsilon-mode",
                   "additive", "--scoring", scoring, "--out", str(out))
        assert res.returncode == 0, res.stderr
        table = pl.read_csv(out)
        for row in table.iter_rows(named=True):
            passed, wr, ap = expected[(name, row["evaluator"])]
            assert (row["passed"], round(row["winning_rate"], 2), round(row["advantage_probability"], 2)) == (
                passed, wr, ap), (name, row)
            checked += 1
    assert checked == len(expected)


def test_the_alt_test_writes_under_the_studys_reports_folder_by_default(study_files, tmp_path):
    import shutil

    written = ROOT / "reports" / "alttest-mtbench" / "tables"
    shutil.rmtree(written.parent, ignore_errors=True)
    res = subprocess.run([sys.executable, "-m", "analysis", "alt-test", "--study", str(study_files["mtbench"]),
                          "--epsilon", "0.2", "--epsilon-mode", "additive"], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert not list(tmp_path.iterdir())  # nothing in the current directory
    try:
        assert (written / "alt_test.csv").is_file() and (written / "alt_test_humans.csv").is_file()
        assert f"wrote {written / 'alt_test.csv'}" in res.stdout
    finally:
        shutil.rmtree(written.parent, ignore_errors=True)
