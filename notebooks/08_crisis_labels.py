# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Crisis labels: 4 humans and 3 LLM labellers, and can an LLM replace a human?
#
# Every one of the 206 validation conversations was given one of 7 crisis labels
# (anxiety crisis, no crisis, risk-taking behaviours, self-harm, substance abuse or
# withdrawal, suicidal ideation, violent thoughts) by 4 human annotators (H1–H4) and, 3
# times each, by 3 LLMs (gpt-4o-mini, gpt-5-nano, Llama-4-Scout, shown as `meta-llama`;
# runs 1–3 in the time-stamp order of their files). Rendered once per study.
#
# 1. **The authors' report, reproduced** (their `outputs/crisis_label_agreement`; equal
#    to their CSV files to 1e-9 and to every printed number, checked in
#    `tests/test_crisis_labels.py`): for each of the 78 pairs of the 13 label sets,
#    **agreement** = % of the 206 items with the same label, and **Cohen's κ** = that
#    agreement corrected for the agreement expected from the two raters' label
#    frequencies (0 = chance, 1 = perfect). As the authors do, an LLM run that returned
#    no label (27 of 1,854 LLM labels; 23 of them Llama's) counts as an 8th label
#    "(no label)": a disagreement with any human. Intervals: 95 % BCa bootstrap over the
#    items (`n_boot` resamples; all pairs on the same resamples).
# 2. **Which labels are confused**: confusion counts summed over the pairs of a summary
#    (all 78 pairs; the 6 human–human pairs; the 36 human–LLM pairs, human as rows), and
#    the **s-balanced** score s(i, j) = P(j | i) + P(i | j), where P(j | i) is the share of
#    items labelled i by the row rater that the column rater labelled j: 0 = never
#    confused, up to 2.
# 3. **Multi-rater agreement**: Fleiss' κ, Krippendorff's α (nominal) and Gwet's AC1 for
#    the 4 humans, each LLM's 3 runs, and all 9 LLM runs, with the empty label as a
#    category (the authors' choice; the paper reports Fleiss' κ 0.549 for the humans and
#    0.805 for the LLM runs) or as a missing label.
# 4. **The alternative annotator test** (Calderon, Reichart & Dror 2025): leaving one
#    human out at a time, is the LLM at least as close to the remaining humans as the
#    left-out human is, up to a margin ε? **Winning rate** = share of the humans the LLM
#    "beats" in that sense (one-sided t test per human, Benjamini–Yekutieli FDR 0.05);
#    the LLM **passes** at a winning rate ≥ 0.5. **Advantage probability** = probability
#    that the LLM is at least as close to the others as a random human is (independent
#    of ε). The authors suggest ε = 0.2 for expert annotators, 0.15 for skilled ones,
#    0.1 for crowd workers.
# 5. **Agreement by human disagreement**: each LLM's agreement with the human majority on
#    items where 4, 3 or 2 of the 4 humans share the majority label (and the one item on
#    which all four differ).

# %% tags=["parameters"]
study: str = "bhh"  # a built-in study (demo, bhh, mentalalign, dialoguesafety) or a study file (.toml)
data_root: "Optional[str]" = None  # folder holding the real data sets; None: $CRISIS_JUDGE_DATA_ROOT or data/raw
n_boot: int = 2000  # bootstrap resamples per interval
seed: int = 20261124  # seed of every resample (and of the demo data)
output_dir: str = "../reports/bhh"  # where the report goes; tables are written to <output_dir>/tables
figures_dir: str = "../figures/bhh"  # where figures are written (PDF, SVG, PNG)

# %%
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import seaborn as sns

from analysis.reporting.figures import save_figure
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table
from analysis.studies import crisis_labels as cl
from analysis.studies import replacement as rp

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
labels, tables_dir = s.data.crisis_labels, s.tables_dir
display_name = {e: s.spec.display(e) for e in cl.LABELLERS}

# %% [markdown]
# ## 1 · Agreement and Cohen's κ of the 78 pairs
# `run_a`/`run_b` are empty for humans. `agreement_pct` in %; `cohen_kappa` on the
# authors' 8 categories (7 labels and "no label"); `n` = items (all 206).

# %%
agreement = cl.pairwise_agreement(labels, n_boot=n_boot, seed=seed)
write_table(agreement, "crisis_agreement", tables_dir)
write_table(cl.pair_confusion_table(labels), "crisis_pair_confusion", tables_dir)
agreement

# %% [markdown]
# The authors' "Human vs LLM Rater Agreement": per human and LLM, the mean over the LLM's
# 3 runs of the agreement (%) and of κ.

# %%
human_vs_labeller = cl.human_vs_labeller(agreement)
write_table(human_vs_labeller, "crisis_human_vs_labeller", tables_dir)
human_vs_labeller

# %% [markdown]
# ### Each LLM's κ with each human, beside the humans' κ with each other
# Grey bar: the range of the κ of that human with the other 3 humans (how well a
# colleague agrees with this human); dots: the LLM's 3 runs with their 95 % intervals.
# An LLM dot inside or above the grey bar agrees with that human about as well as, or
# better than, another human does.

# %%
kappas = cl.kappa_against_humans(agreement)
write_table(kappas, "crisis_kappa_vs_humans", tables_dir)
fig, ax = plt.subplots(figsize=(8, 4))
humans = list(cl.HUMANS)
palette = dict(zip(cl.LABELLERS, sns.color_palette("colorblind", len(cl.LABELLERS))))
for k, h in enumerate(humans):
    row = kappas.filter(pl.col("human") == h).row(0, named=True)
    ax.add_patch(plt.Rectangle((k - 0.4, row["human_min"]), 0.8, row["human_max"] - row["human_min"],
                               color="0.85", zorder=0, label="human–human κ (range)" if k == 0 else None))
    for j, lab in enumerate(cl.LABELLERS):
        sub = kappas.filter((pl.col("human") == h) & (pl.col("labeller") == lab)).sort("run")
        x = k - 0.25 + 0.25 * j + np.array([-0.05, 0.0, 0.05])
        ax.errorbar(x, sub["cohen_kappa"], yerr=[sub["cohen_kappa"] - sub["ci_low"], sub["ci_high"] - sub["cohen_kappa"]],
                    fmt="o", ms=4, color=palette[lab], label=display_name[lab] if k == 0 else None)
ax.set_xticks(range(len(humans)), humans)
ax.set(xlim=(-0.6, len(humans) - 0.4), ylim=(0, 1), xlabel="human", ylabel="Cohen's κ with that human",
       title="Crisis labels: each LLM run's κ with each human, and the human–human range")
ax.legend(loc="lower right", fontsize=8)
save_figure(fig, "crisis_kappa_vs_humans", figures_dir)
plt.show()

# %% [markdown]
# ## 2 · Which labels are confused
# For each summary: the confusion counts (rows = the first rater of each pair: the
# earlier one in H1…H4, gpt-4o-mini, gpt-5-nano, Llama; in the human–LLM summary, the
# human), the s-balanced matrix, the most confused label for each label (P(B | A), with
# `support` = row count) and every label pair ordered by s-balanced.

# %%
summaries = {name: cl.confusion_summary(labels, name) for name in cl.SUMMARIES}
for name, summ in summaries.items():
    write_table(summ.confusion_table(), f"crisis_confusion_{name}", tables_dir)
    write_table(summ.s_balanced_table(), f"crisis_s_balanced_{name}", tables_dir)
    write_table(summ.most_confused_labels(), f"crisis_most_confused_labels_{name}", tables_dir)
    write_table(summ.most_confused_pairs(), f"crisis_most_confused_pairs_{name}", tables_dir)
{name: summ.n_pairs for name, summ in summaries.items()}

# %%
summaries["humans_vs_humans"].most_confused_labels()

# %%
summaries["llms_vs_humans"].most_confused_labels()

# %%
pl.concat([summ.most_confused_pairs().head(5).select(pl.lit(name).alias("summary"), pl.all())
           for name, summ in summaries.items()])

# %% [markdown]
# ### The s-balanced matrices
# Colour = s(i, j) on a common scale (viridis, readable in grey and by colour-blind
# readers); the "(no label)" row and column are 0 by construction and left out.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True)
short = [lab.replace("_or_withdrawal", "").replace("_", " ") for lab in cl.LABELS]
vmax = max(float(summ.s_balanced.max()) for summ in summaries.values())
titles = {"overall": "all 78 pairs", "humans_vs_humans": "6 human–human pairs", "llms_vs_humans": "36 human–LLM pairs"}
for ax, (name, summ) in zip(axes, summaries.items()):
    sns.heatmap(summ.s_balanced[:7, :7], ax=ax, cmap="viridis", vmin=0, vmax=vmax, annot=True, fmt=".2f",
                annot_kws={"size": 7}, xticklabels=short, yticklabels=short, cbar=ax is axes[-1], square=True)
    ax.set(title=f"s-balanced, {titles[name]}")
fig.tight_layout()
save_figure(fig, "crisis_s_balanced", figures_dir)
plt.show()

# %% [markdown]
# ## 3 · Multi-rater agreement
# `empty_labels` = `category`: "no label" is an 8th category (all 206 items; the authors'
# Fleiss' κ); `missing`: it is no rating (Fleiss' κ then only on the items every rater of
# the group labelled, `n_items`; α and AC1 use all items with 2 or more labels). For the
# humans the two rows coincide (no empty labels). AC1 stays higher than κ and α when one
# label dominates (here: no crisis). Intervals: 95 % BCa bootstrap over items.

# %%
multi = cl.multi_rater_agreement(labels, n_boot=n_boot, seed=seed)
write_table(multi, "crisis_multi_rater", tables_dir)
multi.select("group", "empty_labels", "coefficient", "n_items", "n_categories", "estimate", "ci_low", "ci_high")

# %% [markdown]
# ## 4 · The alternative annotator test
# **Crisis labels** (`task` = labels): each LLM run and its majority label over the 3
# runs (`majority`: gpt-4o-mini's from the authors' file, the others' computed with the
# same rule, a label given by at least 2 runs) against H1–H4 on all 206 items; accuracy
# scoring (share of the remaining 3 humans who gave the judge's label); an empty label
# is wrong. **Appropriateness scores** (`task` = scores): each LLM evaluator (mean of its
# evaluation runs) and the jury against H1 and H2 on the review items, negative-RMSE
# scoring. Only two humans scored: leaving one out leaves one, so each human is compared
# with the judge against **the other human alone** — the test asks whether the judge is
# as close to H2 as H1 is, and to H1 as H2 is. With 2 humans the winning rate can only
# be 0, 0.5 or 1, a single lucky human decides a pass, and there is no "remaining
# majority" to smooth out one human's idiosyncrasies: read these rows as weak evidence.
#
# Rows for ε from 0 to 0.30 in steps of 0.05, additive (the authors': the mean of
# W_h − W_J must be below ε) and multiplicative (MetaEvaluator's: W_h − W_J / (1 − ε) below 0).

# %%
alt = rp.study_alt_test(s)
write_table(alt.summary, "alt_test", tables_dir)
write_table(alt.humans, "alt_test_humans", tables_dir)
alt.summary.filter((pl.col("epsilon_mode") == "additive") & pl.col("epsilon").is_in([0.1, 0.15, 0.2])).pivot(
    on="epsilon", index=["task", "evaluator", "run", "advantage_probability"], values="winning_rate")

# %% [markdown]
# Per left-out human at ε = 0.2 (additive): items `n`, how often the judge / the human
# is at least as close to the others, the one-sided p-value and whether BY rejects.

# %%
alt.humans.filter((pl.col("epsilon_mode") == "additive") & (pl.col("epsilon") == 0.2)).drop(
    "epsilon_mode", "epsilon")

# %% [markdown]
# Winning rate against ε: one panel per LLM labeller (crisis labels, its 3 runs and its
# majority) and one for the appropriateness scores (each evaluator's mean of runs and the
# jury). Solid: additive ε; dashed: multiplicative. Lines are offset vertically by up to
# ±0.03 so that judges with the same winning rates stay visible.

# %%
panels = [("labels", lab) for lab in cl.LABELLERS] + [("scores", None)]
fig, axes = plt.subplots(1, len(panels), figsize=(16, 4), sharey=True)
for ax, (task, lab) in zip(axes, panels):
    sub = alt.summary.filter(pl.col("task") == task)
    if lab is not None:
        sub = sub.filter(pl.col("evaluator") == lab)
    judges = sub.select("evaluator", "run").unique(maintain_order=True).rows()
    colours = sns.color_palette("colorblind", len(judges))
    for k, (ev, run) in enumerate(judges):
        offset = 0.03 * (k - (len(judges) - 1) / 2) / max(1, (len(judges) - 1) / 2)
        for mode, ls in (("additive", "-"), ("multiplicative", "--")):
            line = sub.filter((pl.col("evaluator") == ev) & (pl.col("run") == run) & (pl.col("epsilon_mode") == mode))
            name = run if lab is not None else f"{display_name.get(ev, ev)} ({run})"
            ax.plot(line["epsilon"], line["winning_rate"] + offset, ls, marker="o", ms=3, color=colours[k],
                    label=name if mode == "additive" else None)
    ax.axhline(0.5, color="0.4", lw=1, ls=":")
    ax.set(title=f"{display_name[lab]}: labels vs H1–H4" if lab else "scores vs H1, H2", xlabel="ε",
           ylim=(-0.08, 1.08))
    ax.legend(fontsize=7, loc="best")
axes[0].set_ylabel("winning rate (pass at ≥ 0.5)")
fig.tight_layout()
save_figure(fig, "alt_test_winning_rate", figures_dir)
plt.show()

# %% [markdown]
# ## 5 · Agreement with the human majority, by how many humans share it
# `n_humans_majority` = how many of the 4 humans gave the item's most frequent label
# (4 = unanimous); `judge_majority_agreement` = share of those items on which the LLM
# gave the majority label (on a 2–2 tie, 1/2 for either of the two);
# `judge_human_agreement` = mean share of the humans giving the LLM's label;
# `human_pair_agreement` = how often two humans agree on these items, the humans' own
# level. On unanimous items an LLM that disagrees is wrong; on split items agreeing
# with "the majority" is partly luck.

# %%
by_disagreement = cl.agreement_by_disagreement(labels)
write_table(by_disagreement, "crisis_agreement_by_disagreement", tables_dir)
by_disagreement.pivot(on="n_humans_majority", index=["labeller", "run"], values="judge_majority_agreement")

# %%
by_disagreement.filter(pl.col("run") == "majority")
