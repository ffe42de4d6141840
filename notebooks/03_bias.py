# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Evaluator bias
#
# **bias = evaluator − human**, in points on the 1–5 appropriateness scale: positive means
# the evaluator scores answers as *more* appropriate than the humans do (lenient), negative
# harsher. Computed on the review set against H1, H2 and the human mean, overall and per
# crisis category, with BCa bootstrap intervals over items.
#
# Then: the Bland–Altman plot (difference against mean, with the limits of agreement),
# the decomposition of the mean squared difference into bias², a scale part and a
# correlation part, and self-preference on the full set of 5 answer models × 3 runs.

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
import polars as pl

from analysis.stats.bias import bland_altman, mse_decomposition
from analysis.reporting.figures import COLUMN_WIDTH, bland_altman_plot, save_figure
from analysis.reporting.notebook import open_study
from analysis.studies.self_preference import self_preference
from analysis.studies.scored import HUMAN_MEAN, bias_table
from analysis.stats.intervals import thresholds_text
from analysis.reporting.tables import bland_altman_table, write_table
from analysis.reporting.notebook import show_part
from analysis.studies.sampling_design import design_part

s = open_study(study, evaluator, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir
scores = s.review_scores(cases="available")  # each pair of raters on the items both scored

# %% [markdown]
# ## What the humans rated: the sampling design
# How the references' answers were chosen (the study's declared design) decides what every
# comparison with them below describes. Each judge's mean score on all answers beside its
# mean on the review set (the rated answers), with the leniency order on each
# (1 = most lenient; `review_minus_all` in points on the scale).

# %%
show_part(design_part(s), s.tables_dir)

# %% [markdown]
# ## Signed bias, overall (`category` = `all`) and per crisis category
# The evaluator and each human are named, fixed raters: the BCa bootstrap over items
# (over clusters when the study declares them; `ci_note` then says `resampled clusters`)
# is the interval for them (the t interval of the Bland–Altman section below assumes
# normal differences). Categories with few items have wide intervals that are still
# too narrow: below the threshold printed below `ci_note` says `too few items` (the BCa
# interval covers less than 95 % there, `docs/coverage.md`); with fewer than 2 items no interval is
# computed. `n_valid`: finite bootstrap replicates; `n_dropped`: review items left out
# for a missing score.

# %%
refs = (*s.spec.references, HUMAN_MEAN)
bias = bias_table(scores, [evaluator], references=refs, n_boot=n_boot, seed=seed)
print(thresholds_text())
write_table(bias, "bias", tables_dir)
bias

# %% [markdown]
# ## Bland–Altman: evaluator against the human mean
# x: mean of the two methods; y: difference evaluator − human mean (points). Dashed:
# the mean difference and the 95% limits of agreement (mean ± 1.96 SD), shaded: their
# 95% CIs (Bland & Altman 1999).

# %%
ba = bland_altman(*scores.columns(evaluator, HUMAN_MEAN))
fig = bland_altman_plot({f"{study}: {evaluator} vs human mean": ba}, width=COLUMN_WIDTH * 1.6, ncols=1, seed=seed,
                        unit=f"points on {s.spec.scale.low:g}–{s.spec.scale.high:g}")
save_figure(fig, "bland_altman", figures_dir)
plt.show()
ba_table = bland_altman_table(ba, unit=f"points on {s.spec.scale.low:g}–{s.spec.scale.high:g}")
write_table(ba_table, "bland_altman", tables_dir)
ba_table

# %% [markdown]
# ## Decomposition of the mean squared difference
# MSD = mean((evaluator − reference)²) = bias² + (SD_e − SD_r)² + 2·SD_e·SD_r·(1 − r),
# population SDs; points². The three parts add up exactly: what share of the
# disagreement is a constant offset, a difference of spread, or a lack of correlation.

# %%
rows = []
for ref in refs:
    x, y = scores.columns(evaluator, ref)
    d = mse_decomposition(x, y)
    rows.append(dict(evaluator=evaluator, reference=ref, n=len(x), mse=d.mse, bias_sq=d.bias_sq,
                     scale=d.scale, correlation=d.correlation))
msd = pl.DataFrame(rows)
write_table(msd, "mse_decomposition", tables_dir)
msd

# %% [markdown]
# ## Self-preference
# On all answers (5 answer models × 3 runs), `gap_self` = the evaluator's mean score of
# its own model's answers − its mean score of the other models' answers; `gap_others` =
# the same gap as the other two evaluators see it (the quality difference);
# `self_preference` = `gap_self` − `gap_others`, points on 1–5, BCa interval from a
# cluster bootstrap over items (every answer to a drawn item comes along); `ci_note`
# uses the cluster rules (`too few clusters`, threshold printed above). The jury has no own
# model: no row.

# %%
sp = self_preference(data.ratings, evaluator, evaluators=s.evaluators, own_answer_model=s.own_answer_model,
                     n_boot=n_boot, seed=seed)
write_table(sp, "self_preference", tables_dir)
if sp.height == 0:
    print(f"skipped: {evaluator} has no answer model of its own family in this study (no self-preference)")
sp
