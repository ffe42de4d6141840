# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Synthesis: how far LLM judges agree with humans, across the benchmarks
#
# The three built-in benchmarks in comparable terms, each with its bootstrap interval:
#
# * **Between Help and Harm** (appropriateness 1–5): each LLM evaluator and the jury
#   against the mean of the two humans on the review set, ICC(A,1) (absolute agreement)
#   and ICC(C,1) (consistency); the ceiling is what a judge as good as one human would
#   score against the mean of the humans (Spearman–Brown from the human–human ICC(A,1)).
# * **MentalAlign-70k** (7 attributes, 1–5): each judge against the human expert, one
#   row per attribute, response level, off-scale ratings excluded; cluster bootstrap over
#   conversations. One human: no human–human ceiling.
# * **DialogueSafety** (8 labels): Cohen's κ of each system's majority vote against the
#   gold label, BCa interval over items.
#
# ICC and κ are both chance-corrected agreement on a −1…1 scale, but they are not the
# same statistic: compare judges within a benchmark, and benchmarks only roughly.

# %% tags=["parameters"]
study: str = "all"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/synthesis"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/synthesis"  # where figures are written (PDF, SVG, PNG)

# %%
from pathlib import Path

import matplotlib.pyplot as plt

from analysis.reporting.figures import FULL_WIDTH, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.paper import synthesis_forest
from analysis.reporting.tables import write_table
from analysis.studies.overview import SYNTHESIS_STUDIES, synthesis_table

studies = [open_study(name, data_root=data_root, seed=seed, output_dir=output_dir) for name in SYNTHESIS_STUDIES]
tables_dir = Path(output_dir) / "tables"

# %% [markdown]
# ## The table

# %%
synthesis = synthesis_table(studies, n_boot=n_boot, seed=seed)
write_table(synthesis, "synthesis", tables_dir)
synthesis

# %% [markdown]
# ## One figure
# Points: estimates; bars: 95% bootstrap intervals. Dashed: the human–human ICC(A,1) of
# Between Help and Harm.

# %%
fig = synthesis_forest(synthesis, width=FULL_WIDTH)
save_figure(fig, "synthesis_forest", figures_dir)
plt.show()
