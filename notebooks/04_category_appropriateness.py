# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Category-level appropriateness
#
# How appropriate are the answers of each model in each crisis category, as the chosen
# **evaluator** scores them (all items with a consensus category, 5 answer models × 3
# answer runs × 3 evaluation runs)?
#
# * `mean`: mean score, points on 1–5, with a BCa cluster-bootstrap interval: items are
#   the clusters, and every answer run and evaluation run of a drawn item comes with it.
# * `pct_le2` / `pct_eq1`: % of scores ≤ 2 and = 1 (on Between Help and Harm: inappropriate
#   or harmful, and harmful; each study's word for a low score is printed below),
#   with Wilson intervals. Wilson treats the scores of one item as independent; the
#   cluster-bootstrap interval of `pct_le2` beside it does not, and is the one to trust
#   when they differ — except when `pct_le2_cluster_ci_note` says `degenerate` (a share
#   of 0 % gives [0, 0]): then read Wilson's.
# * `ci_note` flags the cluster-bootstrap interval of `mean` when it cannot be trusted:
#   `too few clusters` below `MIN_CLUSTERS` items (`analysis/stats/intervals.py`, as in
#   most category × model cells), `degenerate`,
#   `NaN replicates x %`; `n_valid` counts the finite bootstrap replicates.
# * Run-to-run reliability of the evaluator: ICCs across its evaluation runs.
#
# For the `jury`, each answer has one score (mean of the three evaluators' means) and
# jury run r is the mean of the three evaluators' run r.

# %% tags=["parameters"]
study: str = "demo"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
evaluator: str = "gpt-4o-mini"  # an LLM evaluator found in the study's data, or jury (the mean of the study's jury)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/demo/gpt-4o-mini"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/demo/gpt-4o-mini"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
from IPython.display import display
import polars as pl

from analysis.studies.appropriateness import category_appropriateness
from analysis.studies.evaluators import run_reliability
from analysis.reporting.figures import heatmap, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table

s = open_study(study, evaluator, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir
print(f"score: {s.spec.score_label} ({s.spec.scale.describe()}, higher = better); a score ≤ 2 is what this study "
      f"calls {s.spec.low_label}")

# %%
has_cells = data.has_categories and data.has_sources  # category x answer model cells need both
if has_cells:
    table = category_appropriateness(data.ratings, evaluator, jury=s.jury, n_boot=n_boot, seed=seed)
    write_table(table, "category_appropriateness", tables_dir)
else:
    table = None
    print("skipped: the ratings have no category or no source column (category x answer model tables need both)")
table

# %% [markdown]
# ## Heatmap of the mean score
# Rows: crisis categories (with their number of items); columns: answer models. Darker
# (blue) is a lower score, lighter (yellow) a higher one (cividis: readable with colour-vision deficiencies).

# %%
if table is not None:
    n_items = table.group_by("category").agg(pl.col("n_items").max())
    labels = {c: f"{c} (n={n})" for c, n in n_items.iter_rows()}
    wide = table.pivot(on="answer_model", index="category", values="mean").sort("category")
    fig = heatmap(wide, index="category", value_label=f"mean score ({s.spec.scale.describe()})",
                  vmin=s.spec.scale.low, vmax=s.spec.scale.high, row_labels=[labels[c] for c in wide["category"]],
                  title=f"{s.spec.title}: {s.spec.score_label} as scored by {evaluator}")
    save_figure(fig, "category_heatmap", figures_dir)
    plt.show()

# %% [markdown]
# ## Low scores: % of scores ≤ 2 per category and answer model, with Wilson CIs
# and the cluster-bootstrap CI with its `pct_le2_cluster_ci_note`.

# %%
if table is not None:
    display(table.select("category", "answer_model", "n_scores", "pct_le2", "pct_le2_ci_low", "pct_le2_ci_high",
                         "pct_le2_cluster_ci_low", "pct_le2_cluster_ci_high", "pct_le2_cluster_ci_note", "pct_eq1",
                         "pct_eq1_ci_low", "pct_eq1_ci_high"))

# %% [markdown]
# ## Run-to-run reliability of the evaluator
# ICC(A,1): agreement between two single evaluation runs of the same answer; ICC(A,k):
# reliability of the mean of the k runs (the merged score used everywhere else). Answers
# with a missing run are left out (`n_dropped`). F-based intervals, and BCa intervals
# from a bootstrap over items (the 15 answers of one item move together). Which to
# read: the runs *are* a random sample of the evaluator's runs, which the F interval
# assumes (`raters random`), but it also treats the answers as independent
# (`ci_assumes` ends in `responses independent`) while the answers to one item are
# alike; the cluster bootstrap (`resampled clusters`) respects that and is the interval
# to read. `ci_note` and `n_valid` as above.

# %%
if data.ratings.filter(pl.col("rater").is_in(list(s.evaluators)))["eval_run"].max() > 1:
    rel = run_reliability(data.ratings, evaluator, jury=s.jury, n_boot=n_boot, seed=seed)
    write_table(rel, "run_reliability", tables_dir)
    display(rel.select("evaluator", "type", "icc", "ci_low", "ci_high", "ci_method", "n_items", "n_raters",
                       "n_dropped", "n_valid", "ci_note", "ci_assumes"))
else:
    print("skipped: one run per rating (no run column): run-to-run reliability needs repeated runs")
