"""Several attributes in one study file, raters on their own scales, and output folders
that belong to one study file.

* A file with an ``attribute`` column is analysed whole: one spec per attribute
  (``reports/<name>/<attribute>/``), a judge × attribute overview, every summary table
  keyed by attribute; ``attribute = "..."`` still selects one; a duplicate is keyed by
  attribute too.
* A judge scoring 0–10, declared under ``[scales]`` with its map, gives the same tables as
  its scores mapped by hand; undeclared, the study stops with one line suggesting the map.
* MentalAlign-70k exported as one multi-attribute study: its judge × attribute overview
  equals the built-in one.
* Two study files with one ``name`` cannot write into each other's folders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.data.tidy import StudyFileError, load_tidy, read_study_file, validate
from analysis.render.runner import plan, render
from analysis.studies.registry import claim_folder, get_study, load_study

HEAD = 'name = "{name}"\nratings = "ratings.csv"\nscale = [1, 5]\ninteger = true\nreferences = ["nurse_a", "nurse_b"]\n'


def _ratings(judge_x=lambda y: y, seed: int = 1) -> pl.DataFrame:
    """Two attributes x 40 responses in 10 conversations, two nurses, judge-a, and judge-x
    whose score is ``judge_x(judge-a's score)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for attr in ("empathy", "safety"):
        for i in range(40):
            truth = int(rng.integers(1, 6))
            meta = (attr, f"c{i // 4:02d}", ["m1", "m2"][i % 2])
            for r in ("nurse_a", "nurse_b"):
                rows.append((f"resp{i:03d}", r, int(np.clip(truth + rng.integers(-1, 2), 1, 5)), *meta))
            j = int(np.clip(truth + rng.integers(-1, 2), 1, 5))
            rows.append((f"resp{i:03d}", "judge-a", j, *meta))
            rows.append((f"resp{i:03d}", "judge-x", judge_x(j), *meta))
    return pl.DataFrame(rows, schema=["item", "rater", "score", "attribute", "cluster", "source"], orient="row")


def _study(folder: Path, ratings: pl.DataFrame, extra: str = "", name: str = "two-attrs") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ratings.write_csv(folder / "ratings.csv")
    (folder / "study.toml").write_text(HEAD.format(name=name) + extra)
    return folder / "study.toml"


TO_0_10 = {1: 0, 2: 2, 3: 5, 4: 8, 5: 10}
TABLE = '[scales]\njudge-x = { scale = [0, 10], map = { "0" = 1, "1" = 1, "2" = 2, "3" = 2, "4" = 3, "5" = 3, ' \
        '"6" = 3, "7" = 4, "8" = 4, "9" = 5, "10" = 5 } }\n'


def test_multi_attribute_study_is_analysed_whole(tmp_path):
    path = _study(tmp_path / "s", _ratings())
    data = load_tidy(path)
    assert data.attributes == ("empathy", "safety")
    spec = get_study(str(path))
    assert spec.attributes == ("empathy", "safety") and [nb.name for nb in spec.notebooks] == ["00_overview"]
    one = spec.of_attribute("safety")
    assert (one.folder, one.key, one.title) == ("two-attrs/safety", f"{path}#safety", "two-attrs: safety")
    jobs = plan([str(path)], None, data_root=None, n_boot=10, seed=1, reports_dir=tmp_path / "r",
                figures_dir=tmp_path / "f")
    folders = {j.report_dir.relative_to(tmp_path / "r").as_posix() for j in jobs}
    assert folders == {"two-attrs", "two-attrs/empathy", "two-attrs/safety", "two-attrs/empathy/judge-a",
                       "two-attrs/empathy/judge-x", "two-attrs/safety/judge-a", "two-attrs/safety/judge-x"}
    study = load_study(str(path))
    overview = study.spec.hooks.overview(study, n_boot=100, seed=3)
    assert overview.select("evaluator", "attribute").rows() == [
        ("judge-a", "empathy"), ("judge-a", "safety"), ("judge-x", "empathy"), ("judge-x", "safety")]
    assert {"icc_a1", "icc_c1", "bias", "verdict"} <= set(overview.columns)
    # Each attribute's own numbers: the cell equals the attribute's study, loaded on its own.
    safety = load_study(f"{path}#safety")
    assert set(safety.data.ratings["attribute"].unique()) == {"safety"}
    tables = study.spec.hooks.summary(study, n_boot=50, seed=3)
    assert {"attributes", "agreement", "icc", "bias", "_meta"} <= set(tables)
    assert tables["bias"]["attribute"].unique().sort().to_list() == ["empathy", "safety"]
    alone = safety.spec.hooks.summary(safety, n_boot=50, seed=3)["bias"]
    assert_frame_equal(tables["bias"].filter(pl.col("attribute") == "safety").drop("attribute"), alone)


def test_attribute_key_selects_one_and_duplicates_name_the_attribute(tmp_path):
    path = _study(tmp_path / "one", _ratings(), 'attribute = "empathy"\n')
    data = load_tidy(path)
    assert data.attributes == ("empathy",) and not get_study(str(path)).attributes
    dup = _ratings()
    dup = pl.concat([dup, dup.filter((pl.col("attribute") == "safety") & (pl.col("rater") == "nurse_a")).head(1)])
    problems, loaded = validate(_study(tmp_path / "dup", dup))
    assert loaded is None and len(problems) == 1
    assert "rater 'nurse_a' rates item 'resp000' on attribute 'safety' twice in run 1 (2 rows share such keys)" \
        in problems[0]


@pytest.mark.parametrize("declared, by_hand", [
    ('[scales]\njudge-x = { scale = [0, 10], map = "linear", integer = false }\n', lambda y: 1 + y * 4 / 10),
    (TABLE, lambda y: y.replace_strict({0: 1, 1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5},
                                       return_dtype=pl.Float64)),
])
def test_declared_scale_equals_scores_mapped_by_hand(tmp_path, declared, by_hand):
    on_0_10 = _ratings(lambda y: TO_0_10[y])
    declared_path = _study(tmp_path / "declared", on_0_10, declared)
    if "linear" in declared:  # fractions on the study scale: the study is not integer
        declared_path.write_text(declared_path.read_text().replace("integer = true", "integer = false"))
    mapped = on_0_10.with_columns(pl.when(pl.col("rater") == "judge-x")
                                  .then(by_hand(pl.col("score")))
                                  .otherwise(pl.col("score").cast(pl.Float64)).alias("score"))
    hand_path = _study(tmp_path / "hand", mapped, name="two-attrs-hand")
    if "linear" in declared:
        hand_path.write_text(hand_path.read_text().replace("integer = true", "integer = false"))
    a, b = load_study(str(declared_path)), load_study(str(hand_path))
    cols = ["response_id", "rater", "attribute", "score"]
    assert_frame_equal(a.data.ratings.select(cols), b.data.ratings.select(cols), check_exact=True)
    assert_frame_equal(a.spec.hooks.overview(a, n_boot=100, seed=5), b.spec.hooks.overview(b, n_boot=100, seed=5),
                       check_exact=True)
    ta, tb = (s.spec.hooks.summary(s, n_boot=50, seed=5) for s in (a, b))
    for name in ("icc", "bias", "agreement"):
        assert_frame_equal(ta[name], tb[name], check_exact=True)


def test_undeclared_scale_stops_with_one_line(tmp_path):
    problems, data = validate(_study(tmp_path / "s", _ratings(lambda y: TO_0_10[y])))
    assert data is None
    # Its 2s and 5s fall on 1-5 (30 of 80): they are not kept as if they were on 1-5.
    assert problems == [
        "ratings.csv: rater 'judge-x': 50 of 80 scores outside the scale 1–5 (they run 0–10): it rates on its own "
        "scale; declare it and its mapping, e.g. [scales] judge-x = { scale = [0, 10], map = \"linear\" }"]
    # Declared, but its scores still mostly outside the declared scale: one line too.
    on_0_100 = _ratings(lambda y: 20 * y)
    problems, _ = validate(_study(tmp_path / "t", on_0_100, TABLE))
    assert len(problems) == 1 and any("outside its declared scale 0–10 (they run 20–100)" in p for p in problems)


@pytest.mark.parametrize("entry, message", [
    ('judge-x = { scale = [0, 10], map = "linear" }', "gives fractions (1 -> 1.4)"),
    ('judge-x = { scale = [0, 2], map = { "0" = 1, "2" = 5 } }', "no value for the point(s) 1 of 0–2"),
    ('judge-x = { scale = [0, 2], map = { "0" = 1, "1" = 3.5, "2" = 5 } }', "'1' = 3.5"),
    ('judge-x = { scale = [0, 2], map = "log" }', "expected \"linear\" or a table"),
    ('judge-x = { scale = [2, 0], map = "linear" }', "low < high"),
    ('judge-x = [0, 10]', "expected { scale = [low, high]"),
])
def test_bad_scales_entries_are_named(tmp_path, entry, message):
    path = _study(tmp_path / "s", _ratings(), "[scales]\n" + entry + "\n")
    with pytest.raises(StudyFileError, match="scales.judge-x") as exc:
        read_study_file(path)
    assert message in str(exc.value)


def test_two_study_files_with_one_name_never_share_a_folder(tmp_path):
    first = _study(tmp_path / "a", _ratings(), name="same")
    second = _study(tmp_path / "b", _ratings(), name="same")
    folder = tmp_path / "reports" / "same"
    claim_folder(folder, get_study(str(first)))
    claim_folder(folder, get_study(str(first)))  # its own folder: fine
    with pytest.raises(ValueError, match=r"holds the output of .*a/study.toml, not .*b/study.toml: two studies "
                                         r"named 'same'"):
        claim_folder(folder, get_study(str(second)))
    # render refuses before a notebook runs.
    with pytest.raises(ValueError, match="two studies named 'same'"):
        render([str(second)], reports_dir=tmp_path / "reports", figures_dir=tmp_path / "figures", progress=False)


@pytest.mark.real_data
@pytest.mark.slow
def test_mentalalign_exported_as_one_multi_attribute_study(shared_data_root, tmp_path):
    """Exported as one study file (seven attributes), rendered from the file: the overview
    notebook's judge × attribute table equals the built-in study's."""
    from analysis.cli.export import export_study
    from analysis.data.paths import PROJECT_ROOT
    from analysis.render.worker import execute_one

    files = export_study("mentalalign", tmp_path / "ma", data_root=shared_data_root)
    assert len(files) == 1
    spec = get_study(str(files[0]))
    assert len(spec.attributes) == 7
    built_in = load_study("mentalalign", data_root=shared_data_root)
    theirs = built_in.spec.hooks.overview(built_in, n_boot=50, seed=7)
    user = load_study(str(files[0]))
    key = ["evaluator", "attribute"]
    assert_frame_equal(user.spec.hooks.overview(user, n_boot=50, seed=7).sort(key), theirs.sort(key),
                       check_exact=True)
    # Rendered from the file: the overview notebook writes the same table (10 decimals in the CSV).
    jobs = plan([str(files[0])], None, data_root=None, n_boot=50, seed=7, reports_dir=tmp_path / "reports",
                figures_dir=tmp_path / "figures")
    overview_job = jobs[0]
    assert (overview_job.notebook, overview_job.report_dir) == ("00_overview", tmp_path / "reports" / spec.name)
    assert {j.report_dir.relative_to(tmp_path / "reports").parts[1] for j in jobs[1:]} == set(spec.attributes)
    out = overview_job.report_dir / "00_overview.ipynb"
    execute_one(str(PROJECT_ROOT / "notebooks" / "00_overview.ipynb"), str(out), overview_job.params,
                str(PROJECT_ROOT / "notebooks"))
    rendered = pl.read_csv(overview_job.report_dir / "tables" / "overview.csv")
    assert_frame_equal(rendered.sort(key), theirs.sort(key), check_dtypes=False, rel_tol=0, abs_tol=1e-9)
    assert (tmp_path / "figures" / spec.name / "overview_attributes.png").is_file()


def test_the_readme_examples_are_valid_study_files(tmp_path):
    """The README's examples of several attributes and of per-rater scales are study files
    that read (with a ratings file beside them)."""
    import re

    from analysis.data.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("**Several attributes in one file**"):text.index("Two study files with the same `name`")]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3
    _ratings().write_csv(tmp_path / "ratings.csv")
    for k, block in enumerate(blocks):
        (tmp_path / f"s{k}.toml").write_text(block)
        sf = read_study_file(tmp_path / f"s{k}.toml")
        if k:
            assert sf.scales["judge-x"].to_study(10, 1, 5) == 5 and sf.scales["judge-x"].to_study(5, 1, 5) == 3


def test_a_multi_attribute_user_study_exports_in_its_shape(tmp_path):
    """``export`` of a multi-attribute user study keeps the attribute column: the export
    reads back as the same ratings."""
    from analysis.cli.export import export_study

    path = _study(tmp_path / "s", _ratings())
    files = export_study(str(path), tmp_path / "out")
    cols = ["response_id", "rater", "attribute", "score"]
    before = load_study(str(path)).data.ratings.select(cols).sort(cols)
    after = load_tidy(files[0]).ratings.select(cols).sort(cols)
    assert_frame_equal(before, after)


def test_the_index_lists_attribute_folders_and_their_evaluators(tmp_path):
    from analysis.reporting.index import write_index

    reports, figures = tmp_path / "reports", tmp_path / "figures"
    for rel in ("two-attrs/00_overview.html", "two-attrs/empathy/01_data_audit.html",
                "two-attrs/empathy/judge-a/02_reliability.html"):
        (reports / rel).parent.mkdir(parents=True, exist_ok=True)
        (reports / rel).write_text("<html></html>")
    page = write_index(reports, figures).read_text()
    assert "<b>empathy</b>:" in page and "<b>empathy/judge-a</b>:" in page
    assert "two-attrs/empathy/judge-a/02_reliability.html" in page


@pytest.mark.slow
def test_a_multi_attribute_study_renders_per_attribute_pages(tmp_path):
    """One render: the judge × attribute overview in reports/<name>/, each attribute's
    notebooks in reports/<name>/<attribute>/ with the attribute in their title."""
    path = _study(tmp_path / "s", _ratings().filter(pl.col("rater") != "judge-x"))
    reports, figures = tmp_path / "reports", tmp_path / "figures"
    assert render([str(path)], jobs=2, n_boot=50, reports_dir=reports, figures_dir=figures, progress=False) == 0
    overview = pl.read_csv(reports / "two-attrs" / "tables" / "overview.csv")
    assert overview.select("evaluator", "attribute").rows() == [("judge-a", "empathy"), ("judge-a", "safety")]
    assert (figures / "two-attrs" / "overview_attributes.png").is_file()
    for attribute in ("empathy", "safety"):
        page = (reports / "two-attrs" / attribute / "00_overview.html").read_text()
        assert f"two-attrs: {attribute}" in page
        assert (reports / "two-attrs" / attribute / "judge-a" / "02_reliability.html").is_file()
        table = pl.read_csv(reports / "two-attrs" / attribute / "tables" / "overview.csv")
        assert table["evaluator"].to_list() == ["judge-a"]
    assert (reports / "two-attrs" / ".study").read_text().strip() == str(path.resolve())
    assert "empathy/judge-a" in (reports / "index.html").read_text()


def test_an_attribute_that_cannot_be_a_folder_name_is_refused(tmp_path):
    bad = _ratings().with_columns(pl.col("attribute").replace({"safety": "safety/risk"}))
    problems, data = validate(_study(tmp_path / "s", bad))
    assert data is None and problems == [
        "ratings.csv: attribute 'safety/risk' is not a safe name (letters, digits, _ . + @ -, at most 100 "
        "characters: it becomes a folder name); rename it, or analyse one attribute with attribute = \"...\""]
    # Selecting one attribute needs no folder per attribute.
    (tmp_path / "s" / "study.toml").write_text((tmp_path / "s" / "study.toml").read_text() + 'attribute = "safety/risk"\n')
    assert load_tidy(tmp_path / "s" / "study.toml").attributes == ("safety/risk",)


def test_a_group_of_raters_shares_one_scale_entry(tmp_path):
    on_0_10 = _ratings(lambda y: TO_0_10[y])
    both = pl.concat([on_0_10, on_0_10.filter(pl.col("rater") == "judge-x").with_columns(pl.lit("judge-y").alias("rater"))])
    group = _study(tmp_path / "group", both, TABLE.replace('judge-x = { scale', 'llm = { raters = ["judge-x", "judge-y"], '
                                                                                   'scale'))
    apart = _study(tmp_path / "apart", both, TABLE + TABLE.split("\n")[1].replace("judge-x", "judge-y") + "\n",
                   name="apart")
    a, b = load_tidy(group), load_tidy(apart)
    assert a.study.scales == b.study.scales and set(a.study.scales) == {"judge-x", "judge-y"}
    assert_frame_equal(a.ratings.drop("dataset"), b.ratings.drop("dataset"))
    # A rater in two entries, and an entry naming no rater of the file, are named.
    with pytest.raises(StudyFileError, match="rater\\(s\\) judge-x already have a scale"):
        read_study_file(_study(tmp_path / "twice", both, TABLE + 'again = { raters = ["judge-x"], scale = [0, 10], '
                                                                  'map = "linear", integer = false }\n'))
    problems, _ = validate(_study(tmp_path / "ghost", both, TABLE + TABLE.split("\n")[1].replace("judge-x", "nobody")
                                  + "\n"))
    assert "key 'scales': no rater 'nobody' in ratings.csv" in problems


def test_the_paper_set_of_a_multi_attribute_study_has_one_folder_per_attribute(tmp_path):
    from analysis.reporting.paper import paper_set

    path = _study(tmp_path / "s", _ratings().filter(pl.col("rater") != "judge-x"))
    written = paper_set(str(path), out=tmp_path / "paper", formats=("png",), n_boot=30, seed=2)
    names = {p.relative_to(tmp_path / "paper").as_posix() for p in written}
    assert {"overview.csv", "overview_attributes.png", "empathy/overview.csv", "safety/bland_altman.png"} <= names
    assert "two-attrs: safety" in (tmp_path / "paper" / "safety" / "overview.tex").read_text()
    assert pl.read_csv(tmp_path / "paper" / "overview.csv")["attribute"].to_list() == ["empathy", "safety"]
