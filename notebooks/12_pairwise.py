# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 12 · Pairwise studies: which response is better, judge against humans
#
# A pairwise study (`kind = "pairwise"`) holds verdicts on pairs of responses to one
# prompt: `A` (system_a better), `B` (system_b better) or `tie`. Every judge is compared
# with the study's humans (`references`). Rendered once per study.
#
# * **Agreement**: the judge's verdict equals the human's, on the games both judged, with
#   ties as a third class ("with ties") and on the games neither called a tie ("without
#   ties"), the two figures MT-Bench publishes (Zheng et al. 2023); Wilson intervals over
#   games. The humans' agreement with each other is the line to read a judge against.
# * **Win rates and Bradley–Terry scores** per system and rater: win rate = (wins + ties /
#   2) / games; Bradley–Terry log-strength with ties half a win each, centred to mean 0
#   (a difference of 1 between two systems: odds e ≈ 2.7 that the first wins); percentile
#   bootstrap intervals resampling *prompts* (a prompt's games are not independent).
#   `humans` pools every human verdict.
# * **Rankings**: Kendall's τ-b between a judge's and the humans' Bradley–Terry ranking of
#   the systems, with an interval from one bootstrap of the prompts both judged.
# * **Position bias** (when the file says which system was shown first): the first-shown
#   response's share of decided games (0.5 = none) and the share of pairs judged in both
#   orders whose winner changes.
# * **The alternative annotator test** (Calderon, Reichart & Dror 2025) on the verdicts:
#   can the judge replace one of the humans? Accuracy scoring, additive ε.

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
from analysis.reporting.tables import write_table
from analysis.studies import pairwise

s = open_study(study, data_root=data_root, seed=seed, output_dir=output_dir)
games = s.data.games
print(f"{s.spec.title}: {games.height} verdicts on {games['item'].n_unique()} comparisons of "
      f"{games['prompt'].n_unique()} prompts; judges: {', '.join(s.evaluators)}; humans: "
      f"{', '.join(s.spec.references)}")

# %% [markdown]
# ## What was read

# %%
audit = audit_summary(s.data.audit)
write_table(audit, "audit", s.tables_dir)
audit

# %% [markdown]
# ## Agreement with the humans, with and without ties

# %%
agreement = pairwise.agreement_table(s)
write_table(agreement, "pairwise_agreement", s.tables_dir)
agreement

# %% [markdown]
# ## Win rates and Bradley–Terry scores
# One row per rater and system; intervals resample prompts.

# %%
scores = pairwise.scores_table(s, n_boot=n_boot, seed=seed)
write_table(scores, "pairwise_scores", s.tables_dir)
scores

# %%
fig = forest_plot(width=FULL_WIDTH, **pairwise.scores_forest(s, scores))
save_figure(fig, "pairwise_bradley_terry", figures_dir)
plt.show()

# %% [markdown]
# ## The judges' rankings against the humans'

# %%
ranking = pairwise.ranking_table(s, n_boot=n_boot, seed=seed)
write_table(ranking, "pairwise_ranking", s.tables_dir)
ranking

# %% [markdown]
# ## Position bias and swap consistency

# %%
position = pairwise.position_table(s)
if position is None:
    print("does not apply: the study file does not say which system was shown first (no 'first' or 'swapped' "
          "column)")
else:
    write_table(position, "pairwise_position", s.tables_dir)
position

# %% [markdown]
# ## The alternative annotator test
# Winning rate: share of the humans the judge beats by the margin ε (passes at ≥ 0.5);
# advantage probability: share of games where the judge matches the other humans at least
# as well as the left-out human.

# %%
alt = pairwise.alt_test_table(s, epsilon=0.2)
write_table(alt, "pairwise_alt_test", s.tables_dir)
alt
