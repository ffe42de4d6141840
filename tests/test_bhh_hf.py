"""The Hugging Face parquet export reader, on small synthetic files in that layout."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.data.bhh_hf import load_bhh_hf
from analysis.data.ratings import RATINGS_SCHEMA, DataError
from analysis.studies.scored import review_scores

MODELS = ["gpt-4o-mini", "meta-llama-Llama-4-Scout-17B-16E-Instruct"]
LABELS = ["no_crisis", "self-harm", "suicidal_ideation", None]


def _write(root, config, frame):
    folder = root / config
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "validation-00000-of-00001.parquet")


@pytest.fixture
def export(tmp_path):
    root = tmp_path / "hf"
    resp = [dict(response_id=f"r{ex}-{m}-{run}", example_id=ex, answer_model=model, answer_run=run,
                 response_text="(synthetic)", label=LABELS[ex])
            for ex in range(4) for m, model in enumerate(MODELS) for run in (1, 2, 3)]
    _write(root, "responses", pl.DataFrame(resp))
    scored = [r for r in resp if r["label"] is not None]

    def merged(evaluator, runs):
        # Run scores as strings: the export may carry numeric strings, which must parse.
        return pl.DataFrame([dict(response_id=r["response_id"], example_id=r["example_id"], evaluator_model=evaluator,
                                  score=3.0, score_runs=runs(i), score_std=0.0) for i, r in enumerate(scored)])

    _write(root, "llm_merged_evaluations_gpt-4o-mini", merged("gpt-4o-mini", lambda i: ["3", "3", "3.0"]))
    _write(root, "llm_merged_evaluations_gpt-5-nano",
           merged("gpt-5-nano", lambda i: ["abc", "4", "4"] if i == 0 else ["4", "4", "4"]))
    raw = [dict(response_id=r["response_id"], example_id=r["example_id"], evaluator_model="meta-llama", run=k,
                score=5) for r in scored for k in (1, 2, 3)]
    raw.append(dict(response_id="nowhere", example_id=0, evaluator_model="meta-llama", run=1, score=5))
    _write(root, "llm_raw_evaluations_meta-llama", pl.DataFrame(raw))
    review = [dict(example_id=ex, response_id=f"r{ex}-0-1", sampled_by="gpt-4o-mini") for ex in range(4)]
    review += [dict(example_id=ex, response_id=f"r{ex}-1-2", sampled_by="jury") for ex in range(4)]
    _write(root, "sampled_review_sets", pl.DataFrame(review))
    humans = [dict(response_id=f"r{ex}-0-1", example_id=ex, annotator=h, score=s)
              for ex in range(4) for h, s in (("H1", 2.0 if LABELS[ex] else float("nan")),
                                              ("H2", 7.0 if ex == 2 else (3.0 if LABELS[ex] else float("nan"))))]
    _write(root, "human_raw_scores", pl.DataFrame(humans))
    return root


def test_reads_the_export_into_the_tidy_schema(export):
    data = load_bhh_hf(export)
    assert dict(data.ratings.schema) == RATINGS_SCHEMA
    assert data.items.height == 4 and data.items["category"].to_list() == LABELS
    assert data.responses.height == 24
    llm = data.ratings.filter(pl.col("rater_kind") == "llm")
    # 3 labelled items x 6 answers x 3 evaluators x 3 runs, less the "abc" run.
    assert llm.height == 3 * 6 * 3 * 3 - 1
    assert set(llm.filter(pl.col("rater") == "gpt-4o-mini")["score"]) == {3.0}  # numeric string "3" parsed
    assert data.review_set.height == 4  # the gpt-4o-mini review set only
    assert data.review_set["has_scores"].to_list() == [True, True, False, False]


def test_every_record_is_audited_with_its_reason(export):
    audit = load_bhh_hf(export).audit
    reasons = dict(audit.filter(pl.col("status") == "excluded").group_by("reason").len().iter_rows())
    assert reasons == {"score is not a number": 1, "joins no response": 1, "score outside the scale": 1,
                       "item has no consensus crisis label": 2}
    bad = audit.filter(pl.col("reason") == "score is not a number").row(0, named=True)
    assert bad["source_file"].startswith("llm_merged_evaluations_gpt-5-nano/") and bad["record"] == "row 0 run 1"


def test_the_export_feeds_the_same_tables(export):
    data = load_bhh_hf(export)
    scores = review_scores(data.ratings, data.review_set, data.items, humans=("H1", "H2"),
                           evaluators=data.evaluators, jury=data.evaluators)
    assert scores.matrix.values.shape == (2, 7) and scores.n_dropped == 2
    assert scores.column("gpt-5-nano").tolist() == [4.0, 4.0]


def test_missing_config_and_column_are_named(export, tmp_path):
    import shutil

    shutil.rmtree(export / "human_raw_scores")
    with pytest.raises(DataError, match="config 'human_raw_scores' not found"):
        load_bhh_hf(export)
    _write(export, "human_raw_scores", pl.DataFrame({"response_id": ["r0-0-1"], "score": [3.0]}))
    with pytest.raises(DataError, match=r"lacks columns \['annotator'\]"):
        load_bhh_hf(export)


def test_duplicated_response_id_is_an_error(export):
    resp = pl.read_parquet(next((export / "responses").glob("*.parquet")))
    _write(export, "responses", pl.concat([resp, resp.head(1)]))
    with pytest.raises(DataError, match="duplicated response_id 'r0-0-1'"):
        load_bhh_hf(export)
