# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · MentalAlign-70k: human vs LLM-judge alignment
#
# 1,000 conversations × 10 responses (the human-written `original` and 9 models) × 7
# attributes, rated 1–5 by a human expert and by the chosen LLM **judge**. Attributes:
# Guidance, Informativeness, Relevance, Safety (Cognitive Support Score) and Empathy,
# Helpfulness, Understanding (Affective Resonance Score).
#
# **Two variants of the data.** `as_published` makes the authors' choices: human ratings
# outside 1–5 (0 and 6 occur; 239 of them) are kept, the `original` human-written response
# is one of the sources, the judge's own model family is left out (claude → Claude-3.5-Haiku,
# gpt-4o → GPT-4o, gemini → Gemini-2.0-Flash, o4-mini → GPT-4o-Mini), and every mean uses
# the responses that both the human and the judge rated (pairwise deletion). These choices
# reproduce the published ICC, bias and human tables (tests/test_mentalalign.py). `clean`
# is the same with the off-scale ratings excluded. The audit, the human table and the bias
# of every judge do not depend on the judge: they are in `05_mentalalign_data`.
#
# **Two levels.** *System level*, as the authors: the ICC of the 9 per-source mean scores
# (human, judge) — does the judge rank and score the *models* like the human? *Response
# level*, which the paper did not report: the ICC of the ~9,000 individual ratings — can
# the judge stand in for the human on *one response*?
#
# **Sign:** bias = judge − human, points on the 1–5 scale (positive: the judge is more lenient).

# %% tags=["parameters"]
study: str = "mentalalign"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
judge: str = "claude"  # a MentalAlign-70k judge found in the data (claude, gemini, gpt-4o, o4-mini, ...)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/mentalalign/claude"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/mentalalign/claude"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from analysis.stats.bias import bland_altman
from analysis.data.mentalalign import ATTRIBUTES, published_icc
from analysis.reporting.figures import bland_altman_plot, save_figure
from analysis.studies.mentalalign import alignment_tables, judge_pairs
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table

s = open_study(study, judge, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir
authors = published_icc(data_root or None)

# %% [markdown]
# ## ICC at the system and the response level
# Which interval to read: the judge and the human are *named, fixed* raters, so read the
# **BCa** rows: a cluster bootstrap over conversations (`ci_assumes` = `resampled
# clusters`), every replicate kept (the authors discard replicates outside [0, 1], which
# pushes their intervals up); at the system level it holds the 9 sources fixed and so is
# much narrower than F. The bootstrap intervals are therefore not expected to match the
# paper's: different resampling unit, no discarded replicates. `ci_method` F: the
# F-based interval of McGraw & Wong (1996), which treats the 9 sources (system level) or
# the responses as a random sample; for ICC(A,1) it also assumes the two raters are a
# random sample of raters (`raters random`), and at the response level it ignores that
# the 9 responses to a conversation are alike (`responses independent`: too narrow).
# `ci_note` flags an interval that cannot be trusted (`too few clusters` below
# `MIN_CLUSTERS` conversations, `analysis/stats/intervals.py`; `NaN replicates x %`,
# `degenerate`); `n_valid` counts the finite bootstrap replicates and `n_dropped` the
# responses with only one of the two ratings.
# `category_koo_li`: Koo & Li (2016) bands (poor < 0.5, moderate 0.5–0.75, good 0.75–0.9,
# excellent > 0.9) of the CI's two bounds, e.g. "poor to good" when the interval spans
# bands; `authors_label` is the paper's GR/MR/PR, set by tertiles of its CI widths.

# %%
tables = alignment_tables(data.ratings, judge, n_boot=n_boot, seed=seed, authors=authors)
write_table(tables["icc"], "icc", tables_dir)
write_table(tables["bias"], "bias", tables_dir)
write_table(tables["bias_by_source"], "bias_by_source", tables_dir)
tables["icc"].filter(pl.col("variant") == "clean").sort(["level", "attribute", "type", "ci_method"],
                                                       maintain_order=True)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True, layout="constrained")
icc = tables["icc"].filter(pl.col("variant") == "clean")
for ax, icc_type in zip(axes, ["ICC(C,1)", "ICC(A,1)"]):
    for k, (level, method) in enumerate([("system", "F"), ("system", "BCa"), ("response", "BCa")]):
        sub = icc.filter((pl.col("type") == icc_type) & (pl.col("level") == level) & (pl.col("ci_method") == method))
        ys = np.array([ATTRIBUTES.index(a) for a in sub["attribute"]]) + (k - 1) * 0.25
        ax.errorbar(sub["icc"], ys, xerr=[sub["icc"] - sub["ci_low"], sub["ci_high"] - sub["icc"]], fmt="o",
                    capsize=3, label=f"{level} level, {method} 95% CI")
    for bound in (0.5, 0.75, 0.9):
        ax.axvline(bound, color="grey", lw=0.6, ls=":")
    ax.set_yticks(range(len(ATTRIBUTES)), ATTRIBUTES)
    ax.set(title=icc_type, xlabel="ICC (dotted: Koo & Li bands)")
axes[0].invert_yaxis()
axes[1].legend(loc="best", fontsize=8)
fig.suptitle(f"MentalAlign-70k, {judge} vs human (clean variant)")
save_figure(fig, "icc_forest", figures_dir)
plt.show()

# %% [markdown]
# ## Bias per attribute
# Human mean, judge mean, bias = judge − human (points) with a BCa cluster-bootstrap CI
# over conversations (the interval for this named judge against this human; `ci_note`
# and `n_valid` as above), and the mean squared difference with its decomposition
# (bias² + scale + correlation, points²).

# %%
tables["bias"]

# %% [markdown]
# Per response source (clean variant): which models' responses does the judge over- or
# under-rate, relative to the human?

# %%
tables["bias_by_source"].filter(pl.col("variant") == "clean").pivot(on="attribute", index="source", values="bias")

# %% [markdown]
# ## Bland–Altman per attribute (response level, clean variant)
# Scores are integers, so the ~9,000 responses of an attribute fall on at most 25 points:
# one marker per point, its area proportional to the number of responses there; y = judge − human. Dashed:
# mean difference and 95% limits of agreement.

# %%
clean = data.ratings.filter(pl.col("score").is_between(1, 5))
panels = {attribute: bland_altman((p := judge_pairs(clean, judge, attribute)).judge, p.human) for attribute in ATTRIBUTES}
fig = bland_altman_plot(panels, ncols=4, seed=seed, unit="points, 1–5", reference="human", jitter=0.15,
                        marker_size=2, alpha=0.15)
save_figure(fig, "bland_altman", figures_dir)
plt.show()
