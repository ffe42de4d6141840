# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · MentalAlign-70k: the data, the human table, and the bias of every judge
#
# What does not depend on the judge, rendered once per study: the audit of the 5 workbooks
# (one record per cell × attribute), the bias of every LLM judge per attribute (clean
# variant: off-scale ratings excluded), and the authors' human table (mean human score per
# response source × attribute, off-scale ratings kept as published). Per-judge alignment
# is in `06_judge_alignment`.
#
# **Sign:** bias = judge − human, points on the 1–5 scale (positive: the judge is more lenient).

# %% tags=["parameters"]
study: str = "mentalalign"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/mentalalign"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/mentalalign"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from analysis.data.mentalalign import ATTRIBUTES
from analysis.data.ratings import audit_summary
from analysis.reporting.figures import heatmap, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table
from analysis.studies.mentalalign import human_table, judge_pairs

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir

# %% [markdown]
# ## Audit
# One record per (cell, attribute) of the 5 files. Loaded with the off-scale ratings kept
# (`detail` says so); the `clean` variant drops exactly those.

# %%
audit = audit_summary(data.audit)
write_table(audit, "audit_summary", tables_dir)
audit.group_by("status", "reason").agg(pl.col("n_records").sum()).sort("status", "reason")

# %% [markdown]
# ## Bias heatmap: every judge × attribute (clean variant)

# %%
clean = data.ratings.filter(pl.col("score").is_between(1, 5))
heat = pl.DataFrame([dict(judge=j, attribute=a, bias=float(np.mean((lambda p: p.judge - p.human)(judge_pairs(clean, j, a)))))
                     for j in s.evaluators for a in ATTRIBUTES])
write_table(heat, "bias_all_judges", tables_dir)
wide = heat.pivot(on="attribute", index="judge", values="bias")
fig = heatmap(wide, index="judge", value_label="judge − human (points)", center=0, fmt="+.2f",
              title="Bias of every LLM judge, MentalAlign-70k (clean)")
save_figure(fig, "bias_heatmap", figures_dir)
plt.show()

# %% [markdown]
# ## Human table: mean human score per response source × attribute
# Off-scale ratings kept, as published. Matches the paper's table within 0.01 except its
# Qwen-3-4B Guidance cell (published 3.07; the data give 2.76, consistent with that row's
# own average of 3.64).

# %%
human = human_table(data.ratings)
write_table(human, "human_table", tables_dir)
human
