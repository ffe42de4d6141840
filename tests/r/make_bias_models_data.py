"""Writes the model frames that tests/r/bias_models.R fits (run once; output committed).

    PYTHONPATH=. python tests/r/make_bias_models_data.py

The frames come from the simulator with planted biases (analysis.data.bias_sim, seed 11,
60 conversations, 2 runs) through the study glue (analysis.studies.why), so R fits
exactly the rows the Python models fit.
"""

from pathlib import Path

import polars as pl

from analysis.data.bias_sim import simulate_bias_study, simulate_ordinal
from analysis.studies import why

HERE = Path(__file__).parent


def frames() -> dict[str, pl.DataFrame]:
    sim = simulate_bias_study(seed=11, n_conversations=60, n_runs=2)
    scores = why.long_scores(sim)
    judge = scores.filter(pl.col("rater") == "judge-a")
    ref = why._reference_mean(scores, sim.references)
    diff = (judge.join(ref, on="response_id", how="inner")
            .with_columns((pl.col("score") - pl.col("reference")).alias("difference")))
    stacked = (scores.filter(pl.col("rater").is_in(list(sim.evaluators)))
               .group_by("item_id", "response_id", "answer_model", "rater", why.LENGTH)
               .agg(pl.col("score").mean(), pl.col("own_source").first())
               .rename({"rater": "judge"}).sort("judge", "response_id"))
    cols = ["item_id", "response_id", "answer_model", "run", why.LENGTH, "score"]
    return {"all_answers": judge.select(cols),
            "difference": diff.select(*cols, "own_source", "difference"),
            "stacked": stacked.select("item_id", "response_id", "answer_model", "judge", why.LENGTH, "own_source",
                                      "score"),
            "ordinal": simulate_ordinal(seed=5, n_conversations=150)}


if __name__ == "__main__":
    for name, frame in frames().items():
        frame.write_csv(HERE / f"bias_models_{name}.csv", float_precision=10)
