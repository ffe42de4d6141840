# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · DialogueSafety: agreement of a classifier or LLM with gold safety labels
#
# 800 counselling-dialogue responses with a gold label from the 8-category taxonomy of
# Qiu et al. (NLPCC 2023): 0 Nonsense, 1 Humanoid Mimicry, 2 Linguistic Neglect,
# 3 Unamiable Judgment, 4 Toxic Language, 5 Unauthorized Preachment, 6 Nonfactual
# Statement, 7 Safe Response. The chosen **system** predicted them 5 times (5 ChatGPT
# runs, or 5 fine-tuning seeds). ChatGPT's free-text answers are mapped to a category by
# the paper's rule (the text before the first "."); answers that map to none count as
# wrong and are in the audit, as are answers truncated at the token limit.
#
# All values are fractions 0–1. `mean`/`sd` are over the 5 runs (sample SD, ddof = 1), as
# in the paper's Table 2; `*_run1` and `majority_*` rows carry a BCa bootstrap CI over
# the 800 items for run 1 and for the majority vote of the 5 runs.
#
# A user's nominal study (a study file with `labels`) gets the same tables against its
# first reference, with its own labels and number of runs, and no safe-vs-unsafe rows.

# %% tags=["parameters"]
study: str = "dialoguesafety"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
system: str = "chatgpt-0301-zero"  # a system found in the data (e.g. chatgpt-0301-zero, bert-base, roberta-large)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/dialoguesafety/chatgpt-0301-zero"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/dialoguesafety/chatgpt-0301-zero"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
import polars as pl

from analysis.stats.classification import majority_vote
from analysis.reporting.figures import heatmap, save_figure
from analysis.reporting.notebook import open_study
from analysis.data.ratings import audit_summary
from analysis.studies.dialoguesafety import confusion, label_distribution, metrics_table, per_category_table, run_matrix
from analysis.reporting.tables import write_table

s = open_study(study, system, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir
gold, runs = run_matrix(data.predictions, system)
labels = s.spec.scale.labels
# The safe-vs-unsafe rows need a label meaning "safe" (DialogueSafety: 7 = Safe Response, its
# registry entry's scale says so); a user's nominal study has none.
safe = s.spec.scale.safe

# %% [markdown]
# ## Audit: files read, and answers that needed a rule

# %%
audit = audit_summary(data.audit.filter(pl.col("rater").is_null() | (pl.col("rater") == system)))
write_table(audit.group_by("status", "reason").agg(pl.col("n_records").sum()).sort("status", "reason"),
            "audit_summary", tables_dir)
audit.group_by("status", "reason").agg(pl.col("n_records").sum()).sort("status", "reason")

# %% [markdown]
# ## Metrics against gold
# Weighted precision/recall/F1 weigh each category by its number of gold items (two
# categories, Linguistic Neglect and Safe Response, hold 90 % of the items); macro-F1
# weighs the 8 categories equally. Binary: Safe Response against any unsafe category.
# `fleiss_kappa_runs` is the agreement of the 5 runs with each other, not with gold.

# %%
metrics = metrics_table(gold, runs, n_boot=n_boot, seed=seed, labels=labels, safe=safe)
write_table(metrics, "metrics", tables_dir)
metrics

# %% [markdown]
# ## Recall per category
# Majority vote of the 5 runs, with its exact (Clopper–Pearson) interval. Categories with
# fewer than 20 gold items are flagged `too_small`: their recall is a handful of items.

# %%
per_category = per_category_table(gold, runs, labels=labels)
write_table(per_category, "per_category", tables_dir)
per_category

# %% [markdown]
# ## Confusion matrix (majority vote, rows normalised to 1)

# %%
cm = confusion(gold, majority_vote(runs), n_classes=len(labels))
n_gold = per_category["n_gold"].to_list()
frame = pl.DataFrame({"gold": list(labels)}).hstack(pl.DataFrame(cm, schema=[*labels, "(none)"], orient="row"))
fig = heatmap(frame, index="gold", value_label="share of the gold items", vmin=0, vmax=1,
              row_labels=[f"{c} (n={n})" for c, n in zip(labels, n_gold)],
              title=f"{s.spec.title}: {system}, majority of {runs.shape[1]} runs (rows: gold; columns: predicted)")
save_figure(fig, "confusion_matrix", figures_dir)
plt.show()

# %% [markdown]
# ## Label bias: predicted against gold label distribution
# `predicted_share` − `gold_share` > 0: the system over-uses that label.

# %%
dist = label_distribution(gold, runs, labels=labels)
write_table(dist, "label_distribution", tables_dir)
dist
