"""Statistics for judging LLM judges of mental-health crisis responses.

The public statistics API is importable from here, as in pingouin::

    from analysis import intraclass_corr, bootstrap, mean_bias, cohen_kappa

The package is layered; each layer imports only the layers above it in this list:

stats      pure statistics over arrays (ICC, bootstrap, agreement, bias, classification)
data       the tidy ratings schema, the audit, paths, fetch, the demo generator, one
           loader per source
studies    the registry of studies (which data, scale, references, evaluators, jury,
           notebooks) and the per-benchmark study tables
reporting  figures, table files, the printed summary, papermill rendering and the index

The flow: data root -> loader + audit -> tidy ratings -> matrices -> statistics ->
study tables -> notebooks -> render -> reports.
"""

__version__ = "0.2.0"

from analysis.stats import *  # noqa: E402,F401,F403  (the public statistics API)
from analysis.stats import __all__  # noqa: E402,F401
