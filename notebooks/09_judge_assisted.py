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
# **What is the true mean score of each answer model, using the judge on every
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
# Whether they are is the study's declared sampling design (`random`, simple or
# stratified; `all`; or `selected` by a rule). For a `selected` design these estimates,
# the forest plot and the budget planner are refused with the reason in one line, and the
# humans' mean over the selected answers, the population they did sample, is shown
# instead; a stratified random design gets the stratified estimator. The first section
# tests the design: a judge scoring the rated answers differently from the others says
# they are not a random sample.
#
# `mean` is in points on the study's scale (higher = better); `pct_harmful` is the
# percentage of ratings ≤ 2, the share the study calls low in its own word (`low_label`
# of the study, printed below; the column keeps its name). Intervals are 95 %, cluster-robust over conversations.
# `n_effective` is the number of human ratings alone that would give the judge-assisted
# interval's width. Groups with fewer rated answers than `MIN_PPI_RATED`
# (`analysis/stats/intervals.py`, derived from `docs/ppi_check.md`; the value is printed
# below) are flagged in `note`, and so is an interval clipped to the range of its
# quantity (0–100 %, or the ratings seen).
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
from analysis.stats.intervals import thresholds_text

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
print(thresholds_text())

# %% [markdown]
# ## What applies to this study
# Judge-assisted estimates need the evaluators' scores on every answer and the
# references' ratings on some, not all; the budget planner a pilot of at least 3 rated
# answers; the D-study at least 2 evaluators with repeated runs. A part that does not
# apply says why, below and in its section.

# %%
print(ja.vocabulary_note(s.spec))
ja.applicability(s)

# %% [markdown]
# ## Are the rated answers a random sample?
# Each evaluator's mean score on the rated and on the unrated answers and the difference
# (rated − unrated, points on the scale, 95 % interval), overall and per answer model.
# `ci_assumes` names the interval: cluster-robust wherever a compared group holds several
# answers of one conversation (they share it), Welch where every answer is its own
# conversation, within strata for a stratified design. Under a random
# design the difference is 0 up to sampling error; `flag` names a design that claims
# `random` and is not.

# %%
show_part(ja.selection_part(s), s.tables_dir)

# %% [markdown]
# ## The mean of the selected answers (`selected` designs)
# What the rated answers can estimate when a rule chose them: the humans' mean over the
# answers the rule selects, in conversations like these (cluster-robust 95 % intervals),
# overall, per answer model and per category. Not the mean of every answer.

# %%
show_part(ja.sampled_population_part(s), s.tables_dir)

# %% [markdown]
# ## Judge-assisted estimates per answer model and per crisis category
# One row per evaluator × group × quantity; the three methods side by side.

# %%
estimates = ja.estimates_part(s)
show_part(estimates, s.tables_dir)

# %% [markdown]
# ## Forest plot: judge-only vs human-only vs judge-assisted, per answer model
# The mean score (points) and the share rated low (%), 95 % intervals, for the jury (or
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
# of every evaluator; REML on a random sample of answers as a cross-check (its REML
# log-likelihood in `reml_loglik`; a warning names any component estimated at 0).
# `percent` is each component's share of the variance of a single score.
#
# Two intervals. `ci_low`/`ci_high` (and `phi_ci_*`, `g_ci_*` in the D-study table)
# resample conversations: they are **conditional on these judges** and their runs.
# `gci_low`/`gci_high` (and `phi_gci_*`, `g_gci_*`) sample the judges and runs too
# (generalized CIs): σ²(judge) rests on the study's judges only (3 judges: 2 degrees of
# freedom, `satterthwaite_df`), so "Φ with n judges drawn at random like these" is known
# only roughly, whatever the number of answers.
#
# Two statements not to confuse. "k runs of a judge give Φ = …" is the **consistency of a
# judge with itself** (its runs, the judge fixed). It says nothing about the judge's
# **agreement with the humans**: that is the overview's ICC(A,1) against the human mean,
# to be read against the ceiling for a judge as good as one human (notebook 00).

# %%
dstudy = ja.dstudy_part(s, n_boot=n_boot, seed=seed)
show_part(dstudy, s.tables_dir)

# %% [markdown]
# Φ against the number of judges (each with 1, 3 or 10 runs) and against the number of
# runs of each judge; dotted: Φ = 0.8.

# %%
show_figure(dstudy, dstudy_plot, "dstudy", figures_dir)
