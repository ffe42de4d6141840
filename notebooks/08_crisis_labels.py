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
from analysis.reporting.figures import kappa_vs_humans_plot, s_balanced_heatmaps, save_figure, winning_rate_plot
from analysis.reporting.notebook import open_study
from analysis.reporting.tables import write_table, write_tables
from analysis.studies import crisis_labels as cl
from analysis.studies import replacement as rp

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
labels, tables_dir = s.data.crisis_labels, s.tables_dir
# Raters are named as in the data, in tables and figures alike; the paper's names:
for name, paper_name in s.spec.display_names.items():
    print(f"{name} is the paper's {paper_name}")

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
save_figure(kappa_vs_humans_plot(kappas, humans=cl.HUMANS, labellers=cl.LABELLERS),
            "crisis_kappa_vs_humans", figures_dir);

# %% [markdown]
# ## 2 · Which labels are confused
# For each summary: the confusion counts (rows = the first rater of each pair: the
# earlier one in H1…H4, gpt-4o-mini, gpt-5-nano, meta-llama; in the human–LLM summary, the
# human), the s-balanced matrix, the most confused label for each label (P(B | A), with
# `support` = row count) and every label pair ordered by s-balanced.

# %%
summaries = cl.confusion_summaries(labels)
write_tables(cl.confusion_tables(summaries), tables_dir)
summaries["humans_vs_humans"].most_confused_labels()

# %%
summaries["llms_vs_humans"].most_confused_labels()

# %%
cl.top_confused_pairs(summaries, k=5)

# %% [markdown]
# ### The s-balanced matrices
# Colour = s(i, j) on a common scale (viridis, readable in grey and by colour-blind
# readers); the "(no label)" row and column are 0 by construction and left out.

# %%
save_figure(s_balanced_heatmaps(summaries, labels=cl.LABELS), "crisis_s_balanced", figures_dir);

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
rp.winning_rates(alt.summary, epsilons=(0.1, 0.15, 0.2))

# %% [markdown]
# Per left-out human at ε = 0.2 (additive): items `n`, how often the judge / the human
# is at least as close to the others, the one-sided p-value and whether BY rejects.

# %%
rp.per_left_out_human(alt.humans, epsilon=0.2)

# %% [markdown]
# Winning rate against ε: one panel per LLM labeller (crisis labels, its 3 runs and its
# majority) and one for the appropriateness scores (each evaluator's mean of runs and the
# jury). Solid: additive ε; dashed: multiplicative. Lines are offset vertically by up to
# ±0.03 so that judges with the same winning rates stay visible.

# %%
fig = winning_rate_plot(alt.summary, labellers=cl.LABELLERS, references=rp.task_references(s.spec))
save_figure(fig, "alt_test_winning_rate", figures_dir);

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
cl.majority_agreement_by_level(by_disagreement)

# %%
by_disagreement.filter(by_disagreement["run"] == "majority")
