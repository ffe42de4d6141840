"""The command line: the demo summary (the main job of `make demo`), fetch, errors, --help."""

from __future__ import annotations

import importlib
import subprocess
import sys

import polars as pl
import pytest

from analysis.data import fetch as fetch_mod
from analysis.studies.registry import repositories
from analysis.cli import bench as bench_command
from analysis.cli import main
from analysis.checks.bench import BENCH_STUDY
from analysis.cli.main import COMMANDS


def test_demo_summary_writes_identical_tables_for_the_same_seed(tmp_path, capsys):
    assert main(["summary", "--dataset", "demo", "--n-boot", "300", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "bias = evaluator - reference" in out and "Planted truth" in out
    assert main(["summary", "--dataset", "demo", "--n-boot", "300", "--out", str(tmp_path / "b")]) == 0
    for name in ("agreement", "icc", "bias", "audit", "truth",
                 "why_bias_models", "why_ordinal_shift", "why_stability"):
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "b" / f"{name}.csv").read_bytes()
    bias = pl.read_csv(tmp_path / "a" / "bias.csv")
    assert bias.columns == ["evaluator", "reference", "category", "n", "bias", "ci_low", "ci_high", "n_valid", "ci_note",
                            "n_dropped"]
    assert set(bias["evaluator"]) == {"gpt-4o-mini", "gpt-5-nano", "meta-llama", "jury"}


@pytest.mark.real_data
def test_real_data_summary(shared_data_root, capsys):
    assert main(["summary", "--dataset", "bhh", "--data-root", str(shared_data_root), "--n-boot", "200"]) == 0
    assert "190 review items scored by every rater (16 review items" in capsys.readouterr().out


def test_missing_data_root_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["summary", "--dataset", "bhh", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "between-help-and-harm does not exist" in err


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "analysis", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("python -m analysis 0.")


def test_fetch_clones_each_repository_and_downloads_the_export(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    downloads = []
    monkeypatch.setattr(fetch_mod.subprocess, "run", fake_run)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: downloads.append(kw))
    (tmp_path / "dialogue-safety").mkdir()
    messages = fetch_mod.fetch(tmp_path, repositories())
    assert [c[-1] for c in calls] == [str(tmp_path / "between-help-and-harm"), str(tmp_path / "mentalbench-align")]
    assert all(c[1:4] == ["clone", "--depth", "1"] for c in calls)
    assert downloads == [dict(repo_id="arnaiztech/llms-mental-health-crisis-responses", repo_type="dataset",
                              local_dir=str(tmp_path / "hf/llms-mental-health-crisis-responses"))]
    assert any("dialogue-safety exists" in m for m in messages)


def test_fetch_reports_a_failed_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_mod.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 128, "", "could not resolve host"))
    with pytest.raises(RuntimeError, match="failed \\(network\\?\\):\ncould not resolve host"):
        fetch_mod.fetch(tmp_path, repositories(), what=("repos",))


# --- --help: immediate, and saying everything -------------------------------------------

HEAVY = ("scipy", "polars", "statsmodels")
"""Libraries whose import costs seconds: no command's --help may import them."""


def _heavy_imports(code: str) -> list[str]:
    """The HEAVY libraries a fresh interpreter has imported after running ``code``."""
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def _help_code(argv: list[str]) -> str:
    return ("import contextlib, io\nfrom analysis.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main({argv!r})\n    except SystemExit as e:\n        assert e.code == 0, e.code")


@pytest.mark.parametrize("argv", [["--help"]] + [[name, "--help"] for name in COMMANDS]
                         + [["bench", sub, "--help"] for sub in ("all", BENCH_STUDY)], ids=" ".join)
def test_help_imports_no_heavy_library(argv):
    assert _heavy_imports(_help_code(argv)) == []


def test_the_heavy_import_probe_can_fail():
    assert _heavy_imports("import polars") == ["polars"]
    # A command that imported the registry at the top would be caught:
    assert "polars" in _heavy_imports(_help_code(["summary", "--help"]) + "\nimport analysis.studies.registry")


def _parsers():
    for name, (module, _) in COMMANDS.items():
        mod = importlib.import_module(module)
        yield name, mod.build_parser()
    yield "bench all", bench_command.all_parser()
    yield "bench _line", bench_command.all_parser(line=True)
    yield f"bench {BENCH_STUDY}", bench_command.study_parser(BENCH_STUDY)


def test_every_option_of_every_command_has_help():
    missing = [f"{name} {a.option_strings or a.dest}" for name, parser in _parsers() for a in parser._actions
               if not (a.help and a.help.strip())]
    assert not missing, missing


def test_bench_help_names_its_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    out = capsys.readouterr().out
    # The bench study's name is spelled in the help (no registry import): it must be the registry's.
    assert exc.value.code == 0 and all(f"\n  {sub} " in out for sub in ("all", BENCH_STUDY))


def test_help_spells_the_defaults_of_the_modules_it_does_not_import(capsys):
    """--help spells some defaults and choices so as not to import their modules: they
    must be those of the modules."""
    from analysis.checks import coverage, ppi_check
    from analysis.cli import alt_test as alt_test_command
    from analysis.studies import replacement

    alt_test = importlib.import_module("analysis.stats.alt_test")  # the module (the package exports the function)

    def help_of(name):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        return " ".join(capsys.readouterr().out.split())

    text = help_of("coverage")
    assert f"n in {coverage.QUICK_SIZES} only" in text and f"(default {coverage.DEFAULT_SEED})" in text
    assert f"(default {','.join(map(str, coverage.SIZES))}; quick {','.join(map(str, coverage.QUICK_SIZES))}); " \
           f"multiples of {coverage.CLUSTER_SIZE}" in text
    assert f"human ratings kept ({' '.join(map(str, ppi_check.DEFAULT_N))})" in help_of("ppi-check")
    assert "the sweep " + ", ".join(f"{e:g}" for e in alt_test.DEFAULT_EPSILONS) in help_of("alt-test")
    assert (alt_test_command.EPSILON_MODES, alt_test_command.SCORINGS, alt_test_command.TASKS) == (
        alt_test.EPSILON_MODES, alt_test.SCORINGS, replacement.TASKS)


def test_choices_known_after_parsing_are_refused_as_argparse_refuses_them(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ppi-check", "--study", "nosuch"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("usage: python -m analysis ppi-check")
    assert "python -m analysis ppi-check: error: argument --study: invalid choice: 'nosuch' (choose from " in err
    with pytest.raises(SystemExit) as exc:
        main(["bench", "nosuch"])
    assert exc.value.code == 2 and "unknown subcommand 'nosuch'" in capsys.readouterr().err
