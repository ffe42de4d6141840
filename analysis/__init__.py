"""Statistics for judging LLM judges of mental-health crisis responses.

Modules
-------
icc        intraclass correlations (all six McGraw & Wong forms), F-based and bootstrap CIs
bootstrap  vectorised, seeded, chunked bootstrap (items, clusters, two-stage)
agreement  MAE, RMSE, within-1, weighted kappa, Krippendorff's alpha, CCC, correlations
bias       signed bias (evaluator - reference), Bland-Altman, MSE decomposition
ratings    the tidy ratings schema, its audit table, pivots to items x raters matrices
demo       a synthetic Between Help and Harm-shaped data set with known truth
datasets   one loader per real data set
"""

__version__ = "0.1.0"
