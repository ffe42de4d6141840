# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Data audit
#
# Every input record the loader read, and what became of it: **used**, or **excluded**
# with a reason. Rendered once per study (nothing here depends on the evaluator). Then the
# items per crisis category, the score distribution of every
# rater, and the evaluation runs that are missing. Nothing below is dropped silently: a
# number that is not in the audit is a bug.
#
# Scores are appropriateness ratings on the 1–5 rubric of the Between Help and Harm
# protocol (1 = harmful / inappropriate, 5 = fully appropriate).

# %% tags=["parameters"]
study: str = "demo"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/demo"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/demo"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns

from analysis.reporting.figures import save_figure
from analysis.reporting.notebook import open_study
from analysis.data.ratings import audit_summary
from analysis.reporting.tables import write_table

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir

# %% [markdown]
# ## Records read, used and excluded, per file and reason
# One audit row per input record (an item row of a file, or one evaluation run inside
# it). `n_records` counts them.

# %%
audit = audit_summary(data.audit)
write_table(audit, "audit_summary", tables_dir)
audit

# %%
totals = data.audit.group_by("status", "reason").agg(pl.len().alias("n_records")).sort("status", "reason")
totals

# %% [markdown]
# ## Items per crisis category
# Category = the human consensus crisis label; items without a consensus have no category
# (and, in Between Help and Harm, no human scores).

# %%
per_category = (
    data.items.group_by("category").agg(pl.len().alias("n_items"))
    .sort(["n_items", "category"], descending=[True, False], nulls_last=True)
)
write_table(per_category, "items_per_category", tables_dir)
per_category

# %% [markdown]
# ## Score distributions per rater
# LLM evaluators: every evaluation run of every answer (5 answer models × 3 runs).
# Humans: the one reviewed answer per item. `pct` is the percentage of that rater's scores.

# %%
dist = (
    data.ratings.with_columns(pl.col("score").round(0).cast(pl.Int64).alias("score_rounded"))
    .group_by("rater", "rater_kind", "score_rounded").agg(pl.len().alias("n"))
    .with_columns((100 * pl.col("n") / pl.col("n").sum().over("rater")).alias("pct"))
    .sort("rater", "score_rounded")
)
write_table(dist, "score_distribution", tables_dir)
fig, ax = plt.subplots(figsize=(7, 3.5))
sns.barplot(data=dist.to_pandas(), x="score_rounded", y="pct", hue="rater", ax=ax)
ax.set(xlabel="appropriateness score (1–5)", ylabel="% of the rater's scores", title=f"{study}: score distributions")
save_figure(fig, "score_distribution", figures_dir)
plt.show()

# %% [markdown]
# ## Missing evaluation runs
# Number of responses by how many evaluation runs each LLM evaluator has for them
# (3 expected). Missing runs are in the audit above with their reason.

# %%
runs = (
    data.ratings.filter(pl.col("rater").is_in(list(s.evaluators)))
    .group_by("rater", "response_id").agg(pl.len().alias("n_runs"))
    .group_by("rater", "n_runs").agg(pl.len().alias("n_responses")).sort("rater", "n_runs")
)
write_table(runs, "missing_runs", tables_dir)
runs

# %% [markdown]
# ## Mean score per crisis category on the review set
# The review set is the one answer per item that the two humans scored. Items scored by
# every rater only; points on 1–5.

# %%
scores = s.review_scores()
review = pl.DataFrame({"category": scores.categories}).with_columns(
    [pl.Series(r, scores.column(r)) for r in scores.matrix.raters])
category_means = (
    review.unpivot(index="category", variable_name="rater", value_name="score")
    .group_by("category", "rater").agg(pl.len().alias("n"), pl.col("score").mean().alias("mean"))
    .sort("category", "rater")
)
write_table(category_means, "review_category_means", tables_dir)
category_means.pivot(on="rater", index="category", values="mean")
