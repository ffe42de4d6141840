"""MentalAlign-70k loader and the reproduction of the authors' published tables
(skipped without ../shared/data)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from analysis.data.mentalalign import ATTRIBUTES, JUDGES, SOURCES, load_mentalalign
from analysis.stats.icc import icc_batch
from analysis.studies.mentalalign import bias_row, human_table, judge_pairs, source_means
from analysis.data.ratings import RATINGS_SCHEMA, DataError

JUDGE_ROWS = {"Claude-3.7-Sonnet": "claude", "GPT-4o": "gpt-4o", "Gemini-2.5-Flash": "gemini", "o4-mini": "o4-mini"}
NUM = r"[−+-]?\d+\.\d+"


def _num(s: str) -> float:
    return float(s.replace("−", "-").replace("*", ""))


@pytest.fixture(scope="module")
def published(mentalalign_dir):
    """The authors' tables, parsed from Results/*.md."""
    icc, judge = {}, None
    for line in (mentalalign_dir / "Results/ICC Reliability Analysis.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[2].replace("*", "") in ATTRIBUTES:
            judge = JUDGE_ROWS.get(cells[0].replace("*", ""), judge)
            icc[(judge, cells[2].replace("*", ""))] = (_num(cells[3]), _num(cells[5]))
    bias = {}
    judges = ["claude", "gpt-4o", "gemini", "o4-mini"]
    for line in (mentalalign_dir / "Results/Systematic Bias Decomposition.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in ATTRIBUTES:
            for j, cell in zip(judges, cells[1:]):
                bias[(j, cells[0])] = tuple(_num(v) for v in re.findall(NUM, cell))
    human = {}
    names = {v: k for k, v in SOURCES.items()}
    for line in (mentalalign_dir / "Results/Human Response Evaluation.md").read_text().splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] in names:
            human[names[cells[0]]] = [_num(v) for v in cells[2:9]]
    return icc, bias, human


@pytest.fixture(scope="module")
def as_published(shared_data_root):
    return load_mentalalign(shared_data_root, keep_off_scale=True)


@pytest.fixture(scope="module")
def clean(shared_data_root):
    return load_mentalalign(shared_data_root)


@pytest.mark.real_data
def test_published_tables_were_parsed(published):
    icc, bias, human = published
    assert len(icc) == 28 and len(bias) == 28 and len(human) == 9
    assert icc[("claude", "Guidance")] == (0.881, 0.837) and icc[("gpt-4o", "Empathy")] == (0.835, 0.288)
    assert bias[("claude", "Guidance")] == (3.742, 3.990, 0.248, 0.923)


@pytest.mark.real_data
def test_loader_accounts_for_every_cell(clean, as_published):
    assert dict(clean.ratings.schema) == RATINGS_SCHEMA
    for data in (clean, as_published):
        assert data.audit.height == 5 * 1000 * 10 * 7
        assert data.ratings.height == data.audit.filter(pl.col("status") == "used").height
    reasons = dict(clean.audit.filter(pl.col("rater") == "human").group_by("reason").len().iter_rows())
    assert reasons["score outside the scale"] == 239 and reasons["empty cell"] == 399
    assert as_published.ratings.height - clean.ratings.height == 239
    off = set(as_published.ratings.filter((pl.col("score") < 1) | (pl.col("score") > 5))["score"].unique())
    assert off == {0.0, 6.0}
    assert clean.ratings["score"].min() >= 1 and clean.ratings["score"].max() <= 5
    fenced = clean.audit.filter(pl.col("detail") == "```json fence removed")
    assert fenced.height > 0 and set(fenced["status"]) == {"used"}
    assert set(clean.audit.filter(pl.col("reason") == "malformed JSON")["rater"]) <= set(JUDGES)


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("attribute", ATTRIBUTES)
@pytest.mark.real_data
def test_system_level_icc_reproduces_the_paper(as_published, published, judge, attribute):
    c1, a1 = published[0][(judge, attribute)]
    means = source_means(judge_pairs(as_published.ratings, judge, attribute))
    assert means.shape == (9, 2)
    icc = icc_batch(means)
    # Two causes of the gap, both measured on these 28 cells. (1) The paper prints 3
    # decimals: +/- 0.0005. (2) The authors' source means differ from ours by up to
    # ~0.0015 points: the bias table below shows the same size of gap on the human mean
    # (max 0.0014), which is where the ~57-66 responses per cell that lack one of the two
    # ratings or carry an unreadable one (dropped here pairwise, ``n_dropped``) are
    # handled differently by their pipeline. Moving all 18 source means by up to 0.0015
    # moves ICC(C,1) by up to 0.0065 and ICC(A,1) by up to 0.0042 in these cells (most in
    # Safety and Relevance, whose means are close together); the largest gaps measured are
    # 0.0038 (C,1; gpt-4o Safety) and 0.0020 (A,1; gemini Safety), mean 0.0010 and
    # 0.0007. The tolerances sit just above the measured gaps, inside that bound.
    assert icc[2] == pytest.approx(c1, abs=0.004)  # ICC(C,1)
    assert icc[1] == pytest.approx(a1, abs=0.0025)  # ICC(A,1)


@pytest.mark.parametrize("judge", JUDGES)
@pytest.mark.parametrize("attribute", ATTRIBUTES)
@pytest.mark.real_data
def test_bias_table_reproduces_the_paper(as_published, published, judge, attribute):
    human_mean, judge_mean, bias, mse = published[1][(judge, attribute)]
    row = bias_row(judge_pairs(as_published.ratings, judge, attribute), n_boot=200, seed=1)
    # Printed to 3 decimals (+/- 0.0005), and computed by the authors on a set of pairs
    # that differs from ours in a few of the ~60 responses per cell with a missing or
    # unreadable rating (see the ICC test): measured over the 28 cells, human mean up to
    # 0.0014 (ours lower on average by 0.0004), judge mean up to 0.0006, bias (judge -
    # human) up to 0.0015. The MSE gap is one-sided: ours is larger in all 28 cells, by
    # 0.0007-0.0033 (mean 0.0019), what 1-2 pairs of a 4-point disagreement (16 / 8,936 =
    # 0.0018 each) left out by the authors would give; the tolerances allow that and no more.
    assert row["human_mean"] == pytest.approx(human_mean, abs=0.0015)
    assert row["judge_mean"] == pytest.approx(judge_mean, abs=0.001)
    assert row["bias"] == pytest.approx(bias, abs=0.002)
    assert mse - 0.0005 <= row["mse"] <= mse + 0.0035
    assert row["ci_low"] < row["bias"] < row["ci_high"]


@pytest.mark.real_data
def test_human_table_reproduces_the_paper(as_published, published):
    table = {r[0]: r[2:9] for r in human_table(as_published.ratings).iter_rows()}
    human = as_published.ratings.filter(pl.col("rater") == "human")
    counts = {(m, a): (n, z) for m, a, n, z in human.group_by("answer_model", "attribute").agg(
        pl.len(), (pl.col("score") == 0).sum()).iter_rows()}
    for source, expected in published[2].items():
        for attr, got, want in zip(ATTRIBUTES, table[source], expected):
            if (source, attr) == ("qwen_3", "Guidance"):
                continue  # a known difference: test_qwen_3_guidance_is_a_known_difference
            # Printed to 2 decimals: +/- 0.005. Beyond that, only the sources whose human
            # ratings include the off-scale 0 (qwen_2 140, qwen_3 70, original 14, ds_qwen 7
            # over the 7 attributes) differ, always with ours lower (up to 0.0079, qwen_2
            # Empathy): the authors' mean is higher by at most the weight of one 0 among the
            # n ratings (mean / (n - 1), 0.0044 at n ~ 1,000), as if one fewer 0 were counted.
            n, zeros = counts[(source, attr)]
            low = 0.005 + (got / (n - 1) if zeros else 0.0)
            assert want - low - 1e-9 <= got <= want + 0.005 + 1e-9, (source, attr, got, want)


@pytest.mark.real_data
def test_qwen_3_guidance_is_a_known_difference(as_published, published):
    # Known difference (README, "Known differences"): the paper prints 3.07 for Qwen-3-4B's
    # Guidance; the data give 2.76. The paper's own row average, 3.64, is the mean of the
    # row with 2.76 ((2.76 + 3.32 + 4.08 + 4.46 + 3.62 + 3.20 + 4.07) / 7 = 3.644) and not
    # with 3.07 (3.689): the printed cell, not the data, is off.
    published_row = published[2]["qwen_3"]
    assert published_row[0] == 3.07
    got = dict(zip(ATTRIBUTES, {r[0]: r[2:9] for r in human_table(as_published.ratings).iter_rows()}["qwen_3"]))
    assert got["Guidance"] == pytest.approx(2.76, abs=0.005)
    assert got["Guidance"] != pytest.approx(3.07, abs=0.25)
    with_ours = (got["Guidance"] + sum(published_row[1:])) / 7
    with_published = sum(published_row) / 7
    assert round(with_ours, 2) == 3.64 and round(with_published, 2) != 3.64


@pytest.mark.real_data
def test_clean_variant_equals_the_default_loader(as_published, clean):
    filtered = as_published.ratings.filter(pl.col("score").is_between(1, 5))
    assert filtered.write_csv() == clean.ratings.write_csv()


@pytest.mark.real_data
def test_published_icc_parser(shared_data_root, published):
    from analysis.data.mentalalign import published_icc

    table = published_icc(shared_data_root)
    assert table.height == 28 and set(table["authors_label"]) == {"GR", "MR", "PR"}
    for j, a, c1, a1 in table.select("judge", "attribute", "icc_c1", "icc_a1").iter_rows():
        assert (c1, a1) == published[0][(j, a)]


def test_koo_li_category():
    from analysis.studies.mentalalign import koo_li_category

    assert koo_li_category(0.76, 0.89) == "good"
    assert koo_li_category(0.3, 0.95) == "poor to excellent"
    assert koo_li_category(float("nan"), 0.5) == "undetermined to moderate"


@pytest.fixture
def ma_copy(real_data_copy):
    return real_data_copy("mentalbench-align")


def _edit_human(path, fn):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    fn(wb.active)
    path.unlink()  # a hard link: never write through to the shared copy
    wb.save(path)


@pytest.mark.real_data
def test_missing_judge_file_names_it(ma_copy):
    # Judges come from the data: without its workbook gemini is not a judge of the copy,
    # and asking for it by name is an error naming the file.
    from analysis.data.mentalalign import discover_judges

    (ma_copy / "MentalAlign-70k/LLMs_as_a_judge/gemini_llm_judge.xlsx").unlink()
    assert discover_judges(ma_copy.parent) == ("claude", "gpt-4o", "o4-mini")
    with pytest.raises(DataError, match=r"gemini_llm_judge\.xlsx: file not found"):
        load_mentalalign(ma_copy.parent, judges=("gemini",))


@pytest.mark.real_data
def test_duplicated_conversation_and_bad_cells(ma_copy):
    path = ma_copy / "MentalAlign-70k/Human_Judge/Human_judge.xlsx"

    def corrupt(ws):
        ws["C2"] = '{"Guidance": "abc", "Informativeness": 4}'  # not a number, and 5 missing keys
        ws["D2"] = "{not json"

    _edit_human(path, corrupt)
    data = load_mentalalign(ma_copy.parent)
    audit = data.audit.filter(pl.col("source_file").str.contains("Human_judge"))
    reasons = dict(audit.filter(pl.col("record").str.contains(r"^[CD]2 ")).group_by("reason").len().iter_rows())
    assert reasons == {"score is not a number": 1, None: 1, "missing key": 5, "malformed JSON": 7}
    _edit_human(path, lambda ws: ws.cell(row=3, column=1, value=ws.cell(row=2, column=1).value))
    with pytest.raises(DataError, match=r"Human_judge\.xlsx, record row 3: ConvID 1 repeats row 2"):
        load_mentalalign(ma_copy.parent)
