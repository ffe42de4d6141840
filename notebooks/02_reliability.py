# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Evaluator reliability against the humans
#
# On the review set (one answer per item, scored by both humans H1 and H2 and by every LLM
# evaluator), how closely does the chosen **evaluator** agree with the humans?
#
# * **ICC(A,1)**, absolute agreement of single ratings: penalises an evaluator that is
#   systematically more lenient or harsher. **ICC(C,1)**, consistency: only asks whether it
#   ranks the answers the same way. Each with the F-based interval (McGraw & Wong
#   1996) and a BCa bootstrap interval over items (Efron 1987); which one to read is
#   below.
# * **Agreement**: MAE and RMSE in points on the 1–5 scale (lower is better), within-1 =
#   % of answers on which the two scores differ by at most 1 point, quadratic-weighted
#   kappa on scores rounded half-up, Krippendorff's alpha (interval).
# * The **human–human agreement** (H1 vs H2; a judge as good as one human scores a little
#   higher against their mean, by Spearman–Brown: the overview's `ceiling_icc_a1`) beside it, and a **verdict**: does the evaluator
#   agree with a human as well as the other human does (leave-one-human-out)?

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

from analysis.stats.ceiling import human_ceiling
from analysis.reporting.figures import FULL_WIDTH, forest_plot, save_figure
from analysis.reporting.notebook import open_study
from analysis.studies.scored import HUMAN_MEAN, agreement_table, evaluator_pairs, icc_table
from analysis.stats.intervals import thresholds_text
from analysis.reporting.tables import write_table
from analysis.reporting.notebook import show_part
from analysis.studies.sampling_design import design_part

s = open_study(study, evaluator, data_root=data_root, seed=seed, output_dir=output_dir)
data, tables_dir = s.data, s.tables_dir
scores = s.review_scores(cases="available")  # each pair of raters on the items both scored
print(f"{scores.matrix.values.shape[0]} review items; each pair of raters on the items both scored (n per row); "
      f"{scores.n_dropped} review items nobody scored left out")

# %% [markdown]
# ## What the humans rated: the sampling design
# How the references' answers were chosen (the study's declared design) decides what every
# comparison with them below describes. Each judge's mean score on all answers beside its
# mean on the review set (the rated answers), with the leniency order on each
# (1 = most lenient; `review_minus_all` in points on the scale).

# %%
show_part(design_part(s), s.tables_dir)

# %% [markdown]
# ## Agreement
# Rows: the evaluator against every other rater (humans, human mean, the other
# evaluators, the jury), and the human–human ceiling H1 vs H2 last.

# %%
pairs = evaluator_pairs(scores, evaluator, s.spec.references)
agree = agreement_table(scores, pairs)
write_table(agree, "agreement", tables_dir)
agree

# %% [markdown]
# ## ICC(A,1) and ICC(C,1) against H1, H2 and the human mean
# Which interval to read: the evaluator and each human are *named, fixed* raters, so
# read the **BCa** row (bootstrap over items, or over clusters when the study declares
# them: `ci_assumes` = `resampled items` / `resampled clusters`;
# `n_boot` resamples per pair, seeded with the notebook's `seed`). The F row of ICC(A,1)
# (McGraw & Wong 1996, case 2A) assumes the raters are a random sample of raters
# (`ci_assumes` = `raters random`): with a lenient evaluator it stays wide however many
# items there are, so it answers another question; the F row of ICC(C,1) is exact for
# fixed raters under normality (`raters fixed`). `ci_note` flags an interval that
# cannot be trusted (`too few items` / `too few clusters` below the thresholds printed
# below, `NaN replicates x %`, `degenerate`);
# `n_valid` counts the finite bootstrap replicates. Coverage of each interval, measured
# by simulation: `docs/coverage.md`.

# %%
refs = list(s.spec.references)
icc_pairs = [(evaluator, r) for r in [*refs, HUMAN_MEAN]] + [p for p in pairs if p[0] in refs]
icc = icc_table(scores, icc_pairs, n_boot=n_boot, seed=seed)
print(thresholds_text())
write_table(icc, "icc", tables_dir)
icc

# %%
long = icc.select((pl.col("rater_a") + " vs " + pl.col("rater_b")).alias("pair"),
                  (pl.col("type") + ", " + pl.col("ci_method") + " (" + pl.col("ci_assumes") + ")").alias("measure"),
                  pl.col("icc").alias("estimate"), "ci_low", "ci_high")
fig = forest_plot(long, label="pair", xlabel="ICC (95% CI)", width=FULL_WIDTH,
                  title=f"{study}: {evaluator} vs humans (n = {icc['n'][0]} items)")
save_figure(fig, "icc_forest", figures_dir)
plt.show()

# %% [markdown]
# ## Verdict: as good as the other human?
# `delta` = agreement(evaluator, reference human) − agreement(other human, reference
# human). For ICC(A,1), negative means the evaluator agrees *less* with that human than
# the other human does. For MAE (points), positive means the evaluator is *further* from
# that human than the other human is. `mean` averages the two references; its BCa
# interval (bootstrap over items, evaluator and both humans resampled together) gives
# the verdict. A `ci_note` (e.g. `too few items`) means the verdict rests on an
# interval that is probably too narrow.

# %%
if len(refs) == 2:
    ceiling = human_ceiling(*scores.columns(evaluator, refs[0], refs[1]), n_boot=n_boot, seed=seed,
                            clusters=scores.clusters_of(scores.mask(evaluator, refs[0], refs[1])))
    write_table(ceiling.with_columns(pl.lit(evaluator).alias("evaluator")), "human_ceiling", tables_dir)
else:
    ceiling = None
    print(f"skipped: the leave-one-human-out verdict needs exactly two references; this study has {len(refs)}")
ceiling

# %%
if ceiling is not None:
    row = ceiling.filter((pl.col("metric") == "icc_a1") & (pl.col("reference") == "mean")).row(0, named=True)
    print(f"{evaluator}: ICC(A,1) with a human {row['evaluator_vs_ref']:.3f} vs human-human {row['human_vs_ref']:.3f}; "
          f"delta {row['delta']:+.3f} (95% BCa CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}) -> {row['verdict']}")
