"""Statistics for judging LLM judges of mental-health crisis responses.

The public statistics API is importable from here, as in pingouin::

    from analysis import intraclass_corr, bootstrap, mean_bias, cohen_kappa

The package is layered; each layer imports only the layers above it in this list
(tests/test_layers.py):

stats      pure statistics over arrays (ICC, bootstrap, agreement, bias, classification)
data       the tidy ratings schema, the audit, paths, fetch, the demo generator, one
           loader per source
studies    the registry of studies (which data, scale, references, evaluators, jury,
           notebooks) and the per-benchmark study tables
reporting  what people read: figures, table files, the index, the paper set
render     the Jupyter engine: plan, files, run records, workers and kernels
checks     checks of the methods themselves: bench, interval coverage, PPI coverage
cli        the command line, one module per command, and the shared argument checks

The flow: data root -> loader + audit -> tidy ratings -> matrices -> statistics ->
study tables -> notebooks -> render -> reports.
"""



def _version() -> str:
    """The version of this checkout (``pyproject.toml`` beside the package), else of the
    installed distribution. The checkout comes first: an editable install's metadata is
    the version at install time, and the parquet cache's keys use this one."""
    import tomllib
    from importlib import metadata
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "crisis-judge-analysis":
            return str(project["version"])
    except (OSError, ValueError, KeyError):
        pass
    try:
        return metadata.version("crisis-judge-analysis")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

# The statistics API is imported on first use (PEP 562), not with the package: a process
# that only needs another part (a render worker, the CLI's --help) does not pay the
# 2-3 s of scipy, statsmodels and polars imports.
__all__ = [  # noqa: F822 (resolved by __getattr__)
    "Agreement", "BiasResult", "BlandAltman", "BootstrapResult", "ResamplePlan", "ci_note", "ICC_TYPES",
    "MSEDecomposition", "SHROUT_FLEISS", "agreement_summary", "bland_altman", "bootstrap", "classification_metrics",
    "clopper_pearson", "cohen_kappa", "fleiss_kappa", "human_ceiling", "icc_batch", "intraclass_corr",
    "krippendorff_alpha", "lin_ccc", "mae", "majority_vote", "mean_bias", "mean_squares", "mse_decomposition",
    "pearson", "quadratic_weighted_kappa", "resample_indices", "rmse", "spearman", "wilson_ci", "within_one_pct",
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


def __getattr__(name: str):
    if name in __all__:
        from analysis import stats

        return getattr(stats, name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
