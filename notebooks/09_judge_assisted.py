# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Judge-assisted estimates (PPI++) and the D-study of runs and judges
#
# **What is the true appropriateness of each answer model, using the judge on every
# answer and the humans on a sample?** And **how many runs of a judge, or how many
# judges, does a dependable score need?** Rendered once per study.
#
# * `judge_only`: the evaluator's mean over every answer of the group (biased by its
#   leniency; the interval reflects sampling only).
# * `human_only`: the humans' mean over the rated answers of the group.
# * `judge_assisted`: prediction-powered inference (PPI++, Angelopoulos et al. 2023), the
#   judge's mean corrected by its error on the rated answers, with a cross-fitted λ
#   (`analysis.studies.judge_assisted`: why; `docs/ppi_check.md`: the real-data coverage
#   check). Unbiased for the humans' mean whatever the judge's bias, if the rated answers
#   are a random sample of the group's answers.
#
# `mean` is in points on the 1–5 scale (higher = more appropriate); `pct_harmful` is the
# percentage of ratings ≤ 2. Intervals are 95 %, cluster-robust over conversations.
# `n_effective` is the number of human ratings alone that would give the judge-assisted
# interval's width. Groups with fewer than 30 rated answers are flagged in `note`.
#
# D-study: G-theory variance components of the answers (`p`), evaluators (`e`), runs
# nested in evaluators (`r:e`) and their interactions; Eρ² (ranking answers) and Φ
# (absolute scores, 0–1, higher = more dependable) for any number of judges and runs.

# %% tags=["parameters"]
study: str = "bhh"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/bhh"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/bhh"  # where figures are written (PDF, SVG, PNG)

# %%
from analysis.reporting.figures import budget_plan_plot, dstudy_plot, judge_assisted_forest
from analysis.reporting.notebook import open_study, show_figure, show_part
from analysis.studies import judge_assisted as ja

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)

# %% [markdown]
# ## What applies to this study
# Judge-assisted estimates need the evaluators' scores on every answer and the
# references' ratings on some, not all; the budget planner a pilot of at least 3 rated
# answers; the D-study at least 2 evaluators with repeated runs. A part that does not
# apply says why, below and in its section.

# %%
ja.applicability(s)

# %% [markdown]
# ## Judge-assisted estimates per answer model and per crisis category
# One row per evaluator × group × quantity; the three methods side by side.

# %%
estimates = ja.estimates_part(s)
show_part(estimates, s.tables_dir)

# %% [markdown]
# ## Forest plot: judge-only vs human-only vs judge-assisted, per answer model
# Mean appropriateness (points) and harmful share (%), 95 % intervals, for the jury (or
# the first evaluator). The judge-only interval is narrow but sits where the judge's
# leniency puts it; the judge-assisted one is centred on the humans.

# %%
show_figure(ja.forest_part(s, estimates), judge_assisted_forest, "judge_assisted_forest", figures_dir)

# %% [markdown]
# ## Budget planner: human ratings for a target CI half-width, with the judge and without
# From this study's rated answers as a pilot (their human and judge variances and
# correlation, `ppi_sample_size`), with the judge scoring the study's other answers.
# Half-widths in points (`mean`) or percentage points (`pct_harmful`). Asymptotic and
# ignoring clustering: add a margin, and at least ~200 ratings where scores pile up at
# the top of the scale (`docs/ppi_check.md`).

# %%
budget = ja.budget_part(s)
show_part(budget, s.tables_dir)
show_figure(budget, budget_plan_plot, "budget_plan", figures_dir)

# %% [markdown]
# ## D-study: how many runs, how many judges?
# G study `p × (r:e)`: runs are nested within evaluators, because run 1 of one judge and
# run 1 of another are unrelated calls. ANOVA components on the answers with every run
# of every evaluator, bootstrap CIs over conversations; REML on a random sample of
# answers as a cross-check. `percent` is each component's share of the variance of a
# single score.

# %%
dstudy = ja.dstudy_part(s, n_boot=n_boot, seed=seed)
show_part(dstudy, s.tables_dir)

# %% [markdown]
# Φ against the number of judges (each with 1, 3 or 10 runs) and against the number of
# runs of each judge; dotted: Φ = 0.8.

# %%
show_figure(dstudy, dstudy_plot, "dstudy", figures_dir)
