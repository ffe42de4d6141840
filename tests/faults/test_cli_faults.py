"""Careless command lines: each ends in one line naming the option, exit status 2, before
anything runs or is written (the issue "Nothing breaks, nothing leaks")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.cli import args as cli_args
from analysis.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _run(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return exc.code


@pytest.mark.parametrize("argv, expected", [
    (["summary", "--seed", "-1"], "argument --seed: must be a whole number from 0 to 4,294,967,295, got -1"),
    (["render", "--seed", "4294967296"], "argument --seed: must be a whole number from 0 to 4,294,967,295"),
    (["summary", "--n-boot", "1"], "argument --n-boot: bootstrap resamples must be from 10 to 200,000, got 1"),
    (["summary", "--n-boot", "1e9"], "argument --n-boot: expected a whole number, got '1e9'"),
    (["render", "--n-boot", "1000000000"], "(each statistic keeps every replicate"),
    (["render", "--jobs", "0"], "argument --jobs: must be a whole number >= 1, got 0"),
    (["summary", "--study", "demo", "--study", "bhh"], "argument --study: given twice; give it once"),
    (["render", "--n-boot=50", "--n-boot", "60"], "argument --n-boot: given twice"),
])
def test_bad_arguments_are_one_line_before_anything_runs(capsys, tmp_path, argv, expected):
    before = set(tmp_path.iterdir())
    code = _run(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and expected in err[0], err
    assert set(tmp_path.iterdir()) == before


def test_an_output_folder_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "out").write_text("x")
    assert _run(["summary", "--study", "demo", "--n-boot", "50", "--out", str(tmp_path / "out")]) == 2
    assert f"--out {tmp_path / 'out'}: is a file, not a folder" in capsys.readouterr().err
    assert _run(["export", "--study", "demo", "--out", str(tmp_path / "out" / "sub")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "x"


def test_a_reports_folder_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "reports").write_text("x")
    assert _run(["render", "--study", "demo", "--n-boot", "50", "--reports-dir", str(tmp_path / "reports"),
                 "--figures-dir", str(tmp_path / "figures")]) == 2
    assert "--reports-dir" in capsys.readouterr().err and not (tmp_path / "figures").exists()


def test_a_read_only_output_folder_is_refused(tmp_path, monkeypatch):
    # root ignores permission bits, so the check asks os.access, and the test answers for the file system
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(ValueError, match=rf"--out {tmp_path / 'new'}: {tmp_path} is read-only"):
        cli_args.check_out_dir(tmp_path / "new")
    monkeypatch.undo()
    assert cli_args.check_out_dir(tmp_path / "new") == tmp_path / "new"


def test_an_alt_test_out_that_is_a_folder_is_refused(capsys, tmp_path):
    (tmp_path / "x.csv").mkdir()
    assert _run(["alt-test", "--study", "demo", "--out", str(tmp_path / "x.csv")]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err


def test_ctrl_c_during_summary_is_one_line_and_status_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "summary", "--study", "demo", "--n-boot", "200000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            # a shell's background job inherits SIGINT ignored; a terminal's does not
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["interrupted"], err
