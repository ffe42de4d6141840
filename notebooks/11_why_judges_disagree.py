# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Why judges disagree: models of judge bias, ordinal leniency, stability
#
# A mean bias says **how much** a judge departs from the humans; these models say
# **where**: on long or short answers, on some answer models or crisis categories, on its
# own model's answers, and how far its whole score distribution is shifted when the
# scores pile up at 4–5. Rendered once per study.
#
# * **Bias models** (linear mixed models, REML, statsmodels `MixedLM`; Laird & Ware 1982):
#   random intercepts for the conversation and, where an answer has several runs, the
#   answer within it. Every coefficient is in **points of the scale**. `log2_length` is
#   the change **per doubling of the answer's length** (log2 of its length in
#   characters, centred on the study's mean, so the intercept is at the average
#   length); `answer_model[x]`, `category[x]`, `run[x]`: points against the reference
#   level (the first in alphabetical order; run 1).
#   * `all answers`: the judge's score of every answer in every run; no human needed.
#   * `judge - reference`: on the answers the humans rated, the judge's score in each run
#     minus the humans' mean (**bias = judge − human, points**; positive = more lenient);
#     `own_source`: the extra bias on the judge's own model's answers.
#     `within answer model`: the same with the answer model in place of `own_source`.
#   * `self-preference (all judges)`: all judges stacked (each answer's mean of runs);
#     `judge[x]:own_source` is the extra points judge *x* gives its own model's answers
#     beyond what the other judges give the same answers (Panickssery et al. 2024), and
#     `judge[x]:log2_length` its length slope.
# * **Ordinal leniency** (proportional odds, McCullagh 1980, statsmodels `OrderedModel`,
#   standard errors clustered by conversation): each rater's shift against the first
#   human in log-odds (positive = higher scores for the same answers), and in
#   **points at the median**: how much higher the expected score of an answer at the
#   human's latent median is under that rater.
# * **Stability card**: how often a judge's score of the same answer changes between its
#   runs (flip rate, 95 % cluster-bootstrap interval over conversations), Krippendorff's
#   α (ordinal) and Fleiss' κ across runs, and the D-study: Φ of one run, of the runs it
#   has, and the runs whose mean reaches Φ ≥ 0.8 / 0.9 (`08_judge_assisted` has the full
#   D-study of runs × judges).
#
# Intervals are 95 % Wald intervals (normal), p-values two-sided; lme4 and ordinal give
# the same fits (`tests/r/bias_models.R`).

# %% tags=["parameters"]
study: str = "bhh"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/bhh"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/bhh"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
import polars as pl

from analysis.reporting.figures import coefficient_plot, save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table
from analysis.studies import why

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
tables = why.why_tables(s, n_boot=n_boot, seed=seed)
for name, frame in tables.items():
    write_table(frame, f"why_{name}", s.tables_dir)
models = tables["bias_models"]
scale = s.spec.scale.describe()
COLS = ["evaluator", "term", "estimate", "ci_low", "ci_high", "pvalue", "n", "ci_note"]


def fmt(r) -> str:
    """`+0.10 points (95 % CI +0.08 to +0.12, p = 3e-21)`."""
    return (f"{r['estimate']:+.2f} points (95 % CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}, "
            f"p = {r['pvalue']:.2g})")


def model_figure(name: str, title: str, file: str) -> None:
    sub = models.filter(pl.col("model") == name)
    if sub.height == 0:
        print(f"No {name!r} model in this study (see the skipped models).")
        return
    fig = coefficient_plot(sub, group="evaluator", xlabel=f"points on {scale} (95 % CI)", title=title)
    save_figure(fig, file, figures_dir)
    plt.show()


# %% [markdown]
# ## Which answers did the humans rate?

# %%
display(Markdown(tables["selection"]["note"][0]))
if tables["bias_models_skipped"].height:
    display(tables["bias_models_skipped"])

# %% [markdown]
# ## Length: points per doubling of the answer's length
# `all answers`: does the judge give longer answers higher scores? `judge - reference`:
# does its bias against the humans change with length (negative: more lenient than the
# humans on short answers, or harsher on long ones)?

# %%
length = tables["length_effects"]
if length.height:
    display(length.select("model", *COLS))
    lines = []
    for r in length.filter(pl.col("model") == why.MODEL_ALL).iter_rows(named=True):
        lines.append(f"* **{r['evaluator']}** scores an answer twice as long {fmt(r)} higher (all answers).")
    for r in length.filter(pl.col("model") == why.MODEL_DIFF).iter_rows(named=True):
        lines.append(f"* **{r['evaluator']} − human** changes by {fmt(r)} per doubling "
                     f"({'more lenient than the humans on short answers' if r['estimate'] < 0 else 'more lenient on long answers'}).")
    display(Markdown("\n".join(lines)))
else:
    print("This study has no answer lengths (no answer text or `length` column): length terms left out.")

# %% [markdown]
# ## The judge's scores of all answers (no human needed)

# %%
display(models.filter(pl.col("model") == why.MODEL_ALL).select("model", *COLS))
model_figure(why.MODEL_ALL, "Judge score of every answer: coefficients (points)", "why_all_answers")

# %% [markdown]
# ## Judge − human on the answers the humans rated
# The intercept is the bias on the reference category's answers of average length, run 1,
# not written by the judge's own model.

# %%
diff = models.filter(pl.col("model") == why.MODEL_DIFF)
display(diff.select("model", *COLS))
lines = [f"* **{r['evaluator']}**: on its own model's answers its bias against the humans is {fmt(r)} "
         f"{'larger' if r['estimate'] > 0 else 'smaller'} than on the other models' answers."
         for r in diff.filter(pl.col("term") == "own_source").iter_rows(named=True)]
if lines:
    display(Markdown("\n".join(lines)))
model_figure(why.MODEL_DIFF, "Judge − human (points): coefficients", "why_judge_minus_human")

# %%
display(models.filter(pl.col("model") == why.MODEL_DIFF_WITHIN).select("model", *COLS))
model_figure(why.MODEL_DIFF_WITHIN, "Judge − human within answer model (points): coefficients",
             "why_judge_minus_human_within_model")

# %% [markdown]
# ## Self-preference: the judge × own-source interaction, all answers

# %%
stacked = models.filter(pl.col("model") == why.MODEL_SELF)
if stacked.height:
    display(stacked.select("model", *COLS))
    own = stacked.filter(pl.col("term").str.ends_with(":own_source"))
    display(Markdown("\n".join(
        f"* **{r['term'].split('[')[1].split(']')[0]}** gives answers of its own model {fmt(r)} more than the "
        f"other judges give the same answers (self-preference)." for r in own.iter_rows(named=True))))
    model_figure(why.MODEL_SELF, "All judges stacked: coefficients (points)", "why_self_preference")
else:
    print("Self-preference needs two or more judges with an own answer model: left out.")

# %% [markdown]
# ## Ordinal leniency: the shift of each rater against the first human

# %%
shift = tables["ordinal_shift"]
if "skipped" in shift.columns:
    print(f"Ordinal model left out: {shift['skipped'][0]}")
else:
    display(shift)
    ref = shift["reference"][0]
    display(Markdown("\n".join(
        f"* **{r['term'][6:-1]}** vs {ref}: {r['estimate']:+.2f} log-odds (95 % CI {r['ci_low']:+.2f} to "
        f"{r['ci_high']:+.2f}, p = {r['pvalue']:.2g}): the odds of a higher score are "
        f"{2.718281828 ** r['estimate']:.2f} times {ref}'s; at {ref}'s median an answer gets "
        f"{r['points_at_median']:+.2f} points ({r['points_ci_low']:+.2f} to {r['points_ci_high']:+.2f})."
        for r in shift.iter_rows(named=True))))
    fig = coefficient_plot(shift.with_columns(pl.lit(f"vs {ref}").alias("reference")), group="reference",
                           xlabel="log-odds of a higher score (95 % CI, clustered by conversation)",
                           title="Proportional-odds shift against the first human")
    save_figure(fig, "why_ordinal_shift", figures_dir)
    plt.show()

# %% [markdown]
# ## Stability card: how often does a judge change its score between runs?

# %%
card = tables["stability"]
if card.height:
    display(card)
    lines = []
    for r in card.filter(pl.col("category") == "all").iter_rows(named=True):
        need = r["runs_for_phi_0.9"]
        lines.append(f"* **{r['evaluator']}** changes its score of {100 * r['flip_rate']:.1f} % of the answers "
                     f"between its {r['n_runs']} runs (95 % CI {100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f} %); "
                     f"α across runs {r['kripp_alpha_ordinal']:.2f}; Φ of one run {r['phi_1']:.2f}, "
                     f"of the mean of {r['n_runs']} {r['phi_observed']:.2f}; a mean of "
                     f"{need if need is not None else 'more than 10,000'} run(s) reaches Φ ≥ 0.9.")
    display(Markdown("\n".join(lines)))
else:
    print("No judge has two or more runs: no stability card.")

# %% [markdown]
# ## Position bias
# Pairwise studies (two answers shown side by side) get a position-bias model when the
# pairwise kind of study is added; the scored studies here show one answer at a time.
