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
import matplotlib.pyplot as plt
from IPython.display import display
import polars as pl

from analysis.reporting.figures import save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table
from analysis.studies import judge_assisted as ja

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
ratings = getattr(s.data, "ratings", None)
references = tuple(s.spec.references)
evaluators = (*s.evaluators, "jury") if s.jury else tuple(s.evaluators)
has_refs = ratings is not None and ratings.filter(pl.col("rater").is_in(list(references))).height > 0
has_runs = ratings is not None and "eval_run" in ratings.columns and len(s.evaluators) >= 2 and \
    ratings.filter(pl.col("rater").is_in(list(s.evaluators)))["eval_run"].n_unique() >= 2

# %% [markdown]
# ## Judge-assisted estimates per answer model and per crisis category
# One row per evaluator × group × quantity; the three methods side by side.

# %%
if has_refs:
    estimates = ja.study_estimates(ratings, evaluators, references=references, jury=s.jury)
    write_table(estimates, "judge_assisted_long", s.tables_dir)
    wide = ja.wide_estimates(estimates)
    write_table(wide, "judge_assisted", s.tables_dir)
    display_cols = ["evaluator", "group", "quantity", "judge_only", "human_only", "judge_assisted",
                    "judge_assisted_ci_low", "judge_assisted_ci_high", "n_labeled", "n_effective", "note"]
    display(wide.filter(pl.col("group_by") == "answer_model").select(display_cols))
else:
    print("No reference ratings in this study: judge-assisted estimates skipped.")

# %%
if has_refs and "category" in wide["group_by"].to_list():
    display(wide.filter(pl.col("group_by") == "category").select(display_cols))

# %% [markdown]
# ## Forest plot: judge-only vs human-only vs judge-assisted, per answer model
# Mean appropriateness (points) and harmful share (%), 95 % intervals, for the jury (or
# the first evaluator). The judge-only interval is narrow but sits where the judge's
# leniency puts it; the judge-assisted one is centred on the humans.

# %%
if has_refs and (wide["group_by"] == "answer_model").any():
    shown = "jury" if "jury" in evaluators else evaluators[0]
    sub = estimates.filter((pl.col("evaluator") == shown) & (pl.col("group_by") == "answer_model"))
    groups = sorted(sub["group"].unique().to_list())
    colours = {"judge_only": "tab:orange", "human_only": "tab:blue", "judge_assisted": "tab:green"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.6 * len(groups) + 1.5), sharey=True)
    for ax, quantity, label in zip(axes, ("mean", "pct_harmful"), ("mean appropriateness (1–5)", "% rated ≤ 2")):
        for k, method in enumerate(ja.METHODS):
            rows = sub.filter((pl.col("quantity") == quantity) & (pl.col("method") == method))
            lookup = {r["group"]: r for r in rows.iter_rows(named=True)}
            for i, g in enumerate(groups):
                r = lookup.get(g)
                if r is None or r["estimate"] is None:
                    continue
                y = i + (k - 1) * 0.25
                ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colours[method], lw=2)
                ax.plot(r["estimate"], y, "o", color=colours[method], label=method if i == 0 else None)
        ax.set(xlabel=label, yticks=range(len(groups)), yticklabels=groups)
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"{study}: {shown} — judge-only, human-only and judge-assisted (PPI++, cross-fitted λ)")
    save_figure(fig, "judge_assisted_forest", figures_dir)
    plt.show()
else:
    print("No answer models with reference ratings: forest plot skipped.")

# %% [markdown]
# ## Budget planner: human ratings for a target CI half-width, with the judge and without
# From this study's rated answers as a pilot (their human and judge variances and
# correlation, `ppi_sample_size`), with the judge scoring the study's other answers.
# Half-widths in points (`mean`) or percentage points (`pct_harmful`). Asymptotic and
# ignoring clustering: add a margin, and at least ~200 ratings where scores pile up at
# the top of the scale (`docs/ppi_check.md`).

# %%
if has_refs:
    budget = ja.budget_plan(ratings, evaluators, references=references, jury=s.jury)
    write_table(budget, "budget_plan", s.tables_dir)
    display(budget.select("evaluator", "attribute", "quantity", "half_width", "n_with_judge", "n_without_judge",
                        "saved_pct", "rho"))
    quantities = budget["quantity"].unique().sort().to_list()
if has_refs and not quantities:
    print("No pilot to plan from (no evaluator rated items beside the references): budget figure skipped.")
if has_refs and quantities:
    fig, axes = plt.subplots(1, len(quantities), figsize=(5 * len(quantities), 3.8), squeeze=False)
    for ax, quantity in zip(axes[0], quantities):
        q = budget.filter(pl.col("quantity") == quantity)
        first = q["evaluator"][0]
        base = q.filter(pl.col("evaluator") == first)
        ax.plot(base["half_width"], base["n_without_judge"], "k--", label="humans only")
        for e in q["evaluator"].unique(maintain_order=True).to_list():
            r = q.filter(pl.col("evaluator") == e)
            ax.plot(r["half_width"], r["n_with_judge"], "o-", label=f"with {e}")
        ax.set(xscale="log", yscale="log", xlabel="target half-width" + (" (points)" if quantity == "mean" else " (% points)"),
               ylabel="human ratings needed", title=quantity)
        ax.legend(fontsize=8)
    save_figure(fig, "budget_plan", figures_dir)
    plt.show()
else:
    print("No reference ratings in this study: budget planner skipped.")

# %% [markdown]
# ## D-study: how many runs, how many judges?
# G study `p × (r:e)`: runs are nested within evaluators, because run 1 of one judge and
# run 1 of another are unrelated calls. ANOVA components on the answers with every run
# of every evaluator, bootstrap CIs over conversations; REML on a random sample of
# answers as a cross-check. `percent` is each component's share of the variance of a
# single score.

# %%
if has_runs:
    attrs = ratings["attribute"].unique().to_list()
    dst = ja.dstudy(ratings, s.evaluators, attribute=attrs[0] if len(attrs) > 1 else None, n_boot=n_boot,
                    seed=seed, reml_responses=60)
    write_table(dst.components, "gstudy_components", s.tables_dir)
    write_table(dst.table, "dstudy", s.tables_dir)
    print(f"{dst.n_balanced} of {dst.n_responses} answers have every run of every evaluator")
    display(dst.components)
    for e in s.evaluators:
        print(ja.dstudy_sentence(dst, e))
else:
    print("This study has no evaluators with repeated runs (eval_run): D-study skipped.")

# %%
if has_runs:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    nested = dst.table.filter(pl.col("design") == "p x (r:e)")
    for nr in sorted(set(nested["n_runs"].to_list()) & {1, 3, 10}):
        r = nested.filter(pl.col("n_runs") == nr).sort("n_evaluators")
        axes[0].plot(r["n_evaluators"], r["phi"], "o-", label=f"{nr} run(s) each")
        axes[0].fill_between(r["n_evaluators"], r["phi_ci_low"], r["phi_ci_high"], alpha=0.2)
    axes[0].axhline(0.8, color="grey", ls=":")
    axes[0].set(xlabel="judges (random, like these)", ylabel="Φ", title="judges × runs, p × (r:e)")
    axes[0].legend(fontsize=8)
    for e in s.evaluators:
        r = dst.table.filter(pl.col("design") == f"runs of {e}").sort("n_runs")
        axes[1].plot(r["n_runs"], r["phi"], "o-", label=e)
        axes[1].fill_between(r["n_runs"], r["phi_ci_low"], r["phi_ci_high"], alpha=0.2)
    axes[1].axhline(0.8, color="grey", ls=":")
    axes[1].set(xlabel="runs of one judge", ylabel="Φ", title="runs of each judge (p × r, judge fixed)")
    axes[1].legend(fontsize=8)
    save_figure(fig, "dstudy", figures_dir)
    plt.show()
