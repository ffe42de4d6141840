"""``python -m analysis validate`` prints a summary first and one line per repeated
exclusion reason (count and first rows), not one line per excluded rating."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from analysis.cli.validate import FIRST_ROWS, group_exclusions

ROOT = Path(__file__).resolve().parent.parent


def test_repeated_exclusions_are_grouped_with_counts_and_first_rows(tmp_path):
    rows = ["item,rater,score"]
    for i in range(120):
        rows += [f"i{i},H1,{1 + i % 5}", f"i{i},judge,{'abc' if i < 96 else 9 if i < 100 else 3}"]
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "study.toml").write_text('name = "v"\nratings = "ratings.csv"\nscale = [1, 5]\nreferences = ["H1"]\n',
                                         encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "analysis", "validate", "--study", str(tmp_path / "study.toml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("0 error(s), 100 rating(s) excluded, 140 used; references: H1; evaluators: judge")
    excluded = [line for line in lines if line.startswith("  excluded: ")]
    assert len(excluded) == 2, excluded  # 96 + 4 exclusions, two reasons (a judge mostly off the scale would be an error: [scales])
    assert excluded[0].startswith("  excluded: 96 ratings of ratings.csv: score is not a number: rows 3 ('abc'), "
                                  "5 ('abc')")
    assert "first 5; every row: python -m analysis audit" in excluded[0]
    assert excluded[1].startswith("  excluded: 4 ratings of ratings.csv: ") and "score outside the scale: rows 195 ('9')" in excluded[1]


def test_a_single_exclusion_keeps_its_own_line():
    one = ["r.csv row 5: score is not a number ('abc'), excluded", "key 'x': unknown key"]
    assert group_exclusions(one) == ["r.csv row 5: score is not a number ('abc')"]
    many = [f"r.csv row {i}: score is not a number ('x'), excluded" for i in range(2, 2 + FIRST_ROWS + 3)]
    (line,) = group_exclusions(many)
    assert line.startswith(f"{FIRST_ROWS + 3} ratings of r.csv: score is not a number: rows 2 ('x')")
