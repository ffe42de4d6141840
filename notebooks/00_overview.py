# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Overview: every evaluator of the study against the references
#
# One row per evaluator (LLM judge, the jury, or system), the headline numbers side by
# side, and one forest plot of all of them on one axis: the table and figure a paper
# needs. Rendered once per study.
#
# * **Scored studies** (Between Help and Harm, the demo, a user's scored study): against
#   the mean of the references (`human_mean`) on the items every rater scored.
#   `icc_a1` = ICC(A,1), absolute agreement (can the evaluator replace a human rater?);
#   `icc_c1` = ICC(C,1), consistency (does it rank answers the same way?); both with BCa
#   bootstrap intervals over items, the interval for named, fixed raters. `bias` =
#   evaluator − human mean, **points on the scale** (positive: more lenient), with its
#   BCa interval; `mae` in points. `human_icc_a1`: the human–human ICC(A,1) (mean over
#   pairs of references); `ceiling_icc_a1`: what a judge exactly as good as one human
#   would score against the mean of the references (Spearman–Brown: higher than the
#   human–human ICC, `analysis.stats.ceiling.reference_ceiling`); `delta_icc_a1` and `verdict`: leave-one-human-out — does the
#   evaluator agree with a human as well as the other human does? `run_icc_a1`:
#   run-to-run ICC(A,1) of one evaluation run against another.
# * **MentalAlign-70k**: one row per judge × attribute, response level, off-scale ratings
#   excluded; intervals from a cluster bootstrap over conversations.
# * **Nominal studies** (DialogueSafety, a user's labelled study): Cohen's κ and accuracy
#   against the reference, mean and SD over runs, and κ of the majority vote with its BCa
#   interval over items.

# %% tags=["parameters"]
study: str = "demo"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/demo"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/demo"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt

from analysis.reporting.figures import FULL_WIDTH, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.paper import attribute_heatmap, overview_forest
from analysis.reporting.tables import write_table
from analysis.studies.overview import study_overview
from analysis.reporting.notebook import show_part
from analysis.studies.sampling_design import design_part

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
print(f"{s.spec.title}: {len(s.names)} evaluators ({', '.join(s.names)}); references: "
      f"{', '.join(s.spec.references)}; scale: {s.spec.scale.describe()}")

# %% [markdown]
# ## What the humans rated: the sampling design
# How the references' answers were chosen (the study's declared design) decides what every
# comparison with them below describes. Each judge's mean score on all answers beside its
# mean on the review set (the rated answers), with the leniency order on each
# (1 = most lenient; `review_minus_all` in points on the scale).

# %%
show_part(design_part(s), s.tables_dir)

# %% [markdown]
# ## The overview table

# %%
overview = study_overview(s, n_boot=n_boot, seed=seed)
write_table(overview, "overview", s.tables_dir)
overview

# %% [markdown]
# ## All evaluators on one axis
# Scored studies: ICC(A,1) and ICC(C,1) against the human mean with 95% BCa intervals; the
# dashed line is the ceiling: what a judge as good as one human scores against the human mean
# (Spearman–Brown from the human–human ICC(A,1), `ceiling_icc_a1`). MentalAlign-70k: response-level ICC(A,1) per
# judge × attribute. Nominal studies: κ of the majority vote.

# %%
fig = overview_forest(s, overview, width=FULL_WIDTH)
save_figure(fig, "overview_forest", figures_dir)
plt.show()

# %% [markdown]
# ## Which attributes can each judge be trusted on?
# Studies with several attributes: response-level ICC(A,1) of every judge × attribute
# (each attribute's own reports are in its folder, `<attribute>/`).

# %%
fig = attribute_heatmap(s, overview, width=FULL_WIDTH)
if fig is None:
    print("one attribute: no judge × attribute grid")
else:
    save_figure(fig, "overview_attributes", figures_dir)
    plt.show()
