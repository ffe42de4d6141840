"""Pure statistics over arrays: the bottom layer of the package.

Nothing here knows a study, a file or a rater name, and nothing here imports another
layer of :mod:`analysis` (``tests/test_layers.py`` enforces it). Every function takes
numpy arrays and returns numbers, arrays or a small result object.

Modules
-------
icc             the six McGraw & Wong (1996) ICC forms, F tests, F-based and bootstrap CIs
bootstrap       seeded, vectorised bootstrap over items or clusters (percentile, BCa with scipy's
                ties rule), a reusable resampling plan, a linear-time jackknife for sums
intervals       the rules that flag intervals that cannot be trusted (ci_note)
result          the one result convention (Result: estimate, ci_low, ci_high, pvalue, n, confidence)
agreement       MAE, RMSE, within-1, kappas, Krippendorff's alpha, CCC, correlations (array front-ends)
chance          the kappa family from count tables: Cohen (weighted), Fleiss, Krippendorff, Gwet; sums
                forms for the bootstrap
bias            signed bias (evaluator - reference) with CI, Bland-Altman, MSE decomposition
ceiling         leave-one-human-out: the evaluator against the human-human ceiling
classification  accuracy, weighted P/R/F1, macro-F1, kappa, vectorised over bootstrap weights
proportions     Wilson and Clopper-Pearson intervals of a proportion
gwet            Gwet's AC1 (nominal) and AC2 (weighted) with their variance (Gwet 2008, 2014)
alt_test        the alternative annotator test: can a judge replace a human? (Calderon et al. 2025)
disagreement    judge-human agreement split by how much the humans disagree (Elangovan et al. 2025)
ppi             judge-assisted means and proportions (prediction-powered inference, PPI++; stratified)
sampling        the sampling design of the reference ratings; rated vs unrated items
gtheory         variance components and D-studies (generalizability theory, Brennan 2001)
"""

from analysis.stats.agreement import (
    Agreement, agreement_summary, cohen_kappa, fleiss_kappa, krippendorff_alpha, lin_ccc, mae, pearson,
    quadratic_weighted_kappa, rmse, spearman, within_one_pct,
)
from analysis.stats.bias import BiasResult, BlandAltman, MSEDecomposition, bland_altman, mean_bias, mse_decomposition
from analysis.stats.bootstrap import BootstrapResult, ResamplePlan, bootstrap, resample_indices
from analysis.stats.intervals import ci_note
from analysis.stats.ceiling import human_ceiling
from analysis.stats.classification import classification_metrics, majority_vote
from analysis.stats.icc import ICC_TYPES, SHROUT_FLEISS, icc_batch, intraclass_corr, mean_squares
from analysis.stats.proportions import clopper_pearson, wilson_ci
from analysis.stats.gwet import GwetResult, gwet_ac, gwet_ac1, gwet_ac2, gwet_weights
from analysis.stats.chance import (
    cohen_kappa_table, contingency_table, count_matrix, fleiss_kappa_counts, gwet_ac_counts, gwet_ac_table,
    krippendorff_alpha_counts, krippendorff_alpha_table,
)
from analysis.stats.result import Result
from analysis.stats.alt_test import (
    AltTestIndicators, AltTestResult, alt_test, alt_test_arrays, alt_test_from_indicators, alt_test_indicators,
    alt_test_sweep, benjamini_yekutieli, benjamini_yekutieli_adjusted,
)
from analysis.stats.disagreement import agreement_by_human_disagreement
from analysis.stats.ppi import PPIResult, SampleSizePlan, ppi_mean, ppi_mean_grouped, ppi_sample_size, ppi_variance
from analysis.stats.ppi import ppi_mean_stratified
from analysis.stats.sampling import SamplingDesign, SelectionDifference, rated_unrated_difference
from analysis.stats.gtheory import GStudy, anova_components, d_study, g_coefficients, g_study, g_study_bootstrap, smallest_n

__all__ = [
    "Agreement", "BiasResult", "BlandAltman", "BootstrapResult", "ResamplePlan", "ci_note", "ICC_TYPES", "MSEDecomposition",
    "SHROUT_FLEISS",
    "agreement_summary", "bland_altman", "bootstrap", "classification_metrics", "clopper_pearson", "cohen_kappa",
    "fleiss_kappa", "human_ceiling", "icc_batch", "intraclass_corr", "krippendorff_alpha", "lin_ccc", "mae",
    "majority_vote", "mean_bias", "mean_squares", "mse_decomposition", "pearson", "quadratic_weighted_kappa",
    "resample_indices", "rmse", "spearman", "wilson_ci", "within_one_pct",
    "GwetResult", "gwet_ac", "gwet_ac1", "gwet_ac2", "gwet_weights",
    "Result", "cohen_kappa_table", "contingency_table", "count_matrix", "fleiss_kappa_counts", "gwet_ac_counts",
    "gwet_ac_table", "krippendorff_alpha_counts", "krippendorff_alpha_table",
    "AltTestIndicators", "AltTestResult", "alt_test", "alt_test_arrays", "alt_test_from_indicators",
    "alt_test_indicators", "alt_test_sweep", "benjamini_yekutieli", "benjamini_yekutieli_adjusted",
    "agreement_by_human_disagreement",
    "PPIResult", "SampleSizePlan", "ppi_mean", "ppi_mean_grouped", "ppi_sample_size", "ppi_variance",
    "GStudy", "anova_components", "d_study", "g_coefficients", "g_study", "g_study_bootstrap", "smallest_n",
    "ppi_mean_stratified", "SamplingDesign", "SelectionDifference", "rated_unrated_difference",
]
