# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 13 · Binary verdicts: the judge as a diagnostic test
#
# A binary study (`kind = "binary"`) holds one yes/no verdict per response; the study
# file's `positive` label (e.g. "unsafe") is a positive. The humans' verdict of an item is
# the majority of the references that judged it (even splits left out and counted); a
# judge's verdict is its first run's. Rendered once per study.
#
# * **Diagnostic accuracy**: sensitivity (share of the humans' positives the judge flags),
#   specificity (share of their negatives it clears), PPV and NPV, with Wilson intervals,
#   overall and per category.
# * **Prevalence** of positives among the items no human judged: the judge's flag rate
#   (naive: biased by its errors), the Rogan–Gladen correction with the Lee et al. (2025)
#   delta-method interval (it carries the uncertainty of Se and Sp from the human-judged
#   items), and prediction-powered inference (PPI++) for the same quantity.
#
# **When each applies.** Rogan–Gladen assumes the judge errs at the same rates on the
# unjudged items as on the human-judged ones, and that the human-judged items are a random
# sample *within* each human class (a set enriched with positives is fine); it needs
# Se + Sp > 1. PPI assumes the human-judged items are a uniform random sample of the same
# population, and nothing about the judge: with such a sample it is the safer choice;
# with a sample drawn by class or elsewhere only the correction applies.

# %% tags=["parameters"]
study: str = "demo"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/demo"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/demo"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt

from analysis.data.ratings import audit_summary
from analysis.reporting.figures import FULL_WIDTH, forest_plot, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.paper import overview_forest
from analysis.reporting.tables import write_table
from analysis.studies import binary

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
print(f"{s.spec.title}: judges {', '.join(s.evaluators)} against {', '.join(s.spec.references)}; positive = "
      f"{s.data.study.positive!r}; items the humans split evenly on (left out): {binary.split_count(s)}")

# %% [markdown]
# ## What was read

# %%
audit = audit_summary(s.data.audit)
write_table(audit, "audit", s.tables_dir)
audit

# %% [markdown]
# ## Sensitivity, specificity, PPV and NPV

# %%
diagnostic = binary.diagnostic_table(s)
write_table(diagnostic, "binary_diagnostic", s.tables_dir)
diagnostic

# %%
overview = binary.overview_table(s, n_boot=n_boot, seed=seed)
fig = overview_forest(s, overview, width=FULL_WIDTH)
save_figure(fig, "binary_error_rates", figures_dir)
plt.show()

# %% [markdown]
# ## Prevalence: naive, corrected (Rogan–Gladen) and PPI++

# %%
prevalence = binary.prevalence_table(s)
write_table(prevalence, "binary_prevalence", s.tables_dir)
prevalence

# %%
args = binary.prevalence_forest(s, prevalence)
if args["data"].height:
    fig = forest_plot(width=FULL_WIDTH, **args)
    save_figure(fig, "binary_prevalence", figures_dir)
    plt.show()
else:
    print("does not apply: every item has a human verdict (their share is the prevalence)")
