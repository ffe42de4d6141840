"""A simulated study with planted judge biases: length, self-preference, leniency.

The demo data set (:mod:`analysis.data.demo`) is left as it is (its tables must not
change); this generator is the known truth for the bias models of
:mod:`analysis.stats.bias_models` and :mod:`analysis.studies.why`.

Continuous study (:func:`simulate_bias_study`)
----------------------------------------------
Conversations ``c`` (``n_conversations``), each answered once by every answer model
``m``; the answer's length ``L[c,m]`` (characters) is log-normal, ``log2 L = lam[m] +
N(0, 0.6^2)``, independent of its quality::

    q[c,m]       = mu[m] + u[c] + v[c,m],         u ~ N(0, 0.5^2), v ~ N(0, 0.4^2)
    H_h[c,m]     = q + e,                          e ~ N(0, 0.3^2)   (humans: unbiased)
    J_j[c,m,r]   = q + lenient[j] + length[j] * (log2 L - lam_bar) + self[j] * [m = own(j)]
                   + w[c,m,j] + eps[c,m,j,r],      w ~ N(0, 0.3^2), eps ~ N(0, 0.2^2)

with ``lam_bar`` the mean of ``lam``. Scores are not rounded (the planted coefficients are
then exactly what the linear models estimate). Humans rate one answer per conversation,
drawn at random (a random subset, unlike Between Help and Harm's selected one). The
planted values are in :data:`TRUTH`: per doubling of the length, judge ``a`` +0.15
points, ``b`` 0, ``c`` -0.10; self-preference ``a`` +0.30, ``b`` 0, ``c`` +0.20;
leniency (judge - human at the mean length, on other models' answers) ``a`` +0.40,
``b`` 0, ``c`` -0.20.

Ordinal scores (:func:`simulate_ordinal`)
-----------------------------------------
``Y = k`` where ``theta_(k-1) < beta_r + eps < theta_k``: every rater's ``eps`` is
standard logistic, so the marginal model is exactly proportional odds with shift
``beta_r`` (McCullagh 1980); the ``eps`` of the raters of one conversation are
correlated through a Gaussian copula (correlation ``rho``), so the ratings of a
conversation are dependent and need clustered standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats as sps

from analysis.data.ratings import make_ratings

ANSWER_MODELS = {"model-a": (3.6, 10.0), "model-b": (3.9, 10.8), "model-c": (3.8, 11.4), "model-d": (4.0, 10.4)}
"""Answer model -> (mean quality mu, mean log2 length lam)."""

JUDGES = {"judge-a": "model-a", "judge-b": "model-b", "judge-c": "model-c"}
"""Judge -> its own answer model."""

TRUTH = {
    "length": {"judge-a": 0.15, "judge-b": 0.0, "judge-c": -0.10},
    "self": {"judge-a": 0.30, "judge-b": 0.0, "judge-c": 0.20},
    "lenient": {"judge-a": 0.40, "judge-b": 0.0, "judge-c": -0.20},
}
"""The planted effects, points of the scale (see the module docstring)."""

HUMANS = ("H1", "H2")
SD = dict(item=0.5, answer=0.4, human=0.3, judge_answer=0.3, run=0.2, log2_length=0.6)


@dataclass(frozen=True)
class SimStudy:
    """The simulated study in the shape the study glue reads: ``ratings``
    (:data:`analysis.data.ratings.RATINGS_SCHEMA`), ``responses`` (with ``answer_chars``),
    ``evaluators``, ``own_answer_model``, and ``truth``."""

    ratings: pl.DataFrame
    responses: pl.DataFrame
    evaluators: tuple[str, ...]
    own_answer_model: dict[str, str | None]
    truth: dict = field(default_factory=dict)
    references: tuple[str, ...] = HUMANS


def simulate_bias_study(seed: int = 0, n_conversations: int = 120, n_runs: int = 2) -> SimStudy:
    """Generate the continuous study of the module docstring.

    Examples
    --------
    >>> s = simulate_bias_study(seed=1, n_conversations=30)
    >>> s.responses.height, sorted(s.ratings["rater"].unique())
    (120, ['H1', 'H2', 'judge-a', 'judge-b', 'judge-c'])
    """
    rng = np.random.default_rng(seed)
    models = list(ANSWER_MODELS)
    mu = np.array([ANSWER_MODELS[m][0] for m in models])
    lam = np.array([ANSWER_MODELS[m][1] for m in models])
    n, k = n_conversations, len(models)
    log2_len = lam[None, :] + rng.normal(0, SD["log2_length"], (n, k))
    chars = np.maximum(1, np.round(2.0 ** log2_len)).astype(np.int64)
    q = mu[None, :] + rng.normal(0, SD["item"], (n, 1)) + rng.normal(0, SD["answer"], (n, k))
    conv = np.array([f"sim-{i:03d}" for i in range(n)])
    rid = np.array([[f"{conv[i]}/{m}" for m in models] for i in range(n)])
    rows = []
    centred = np.log2(chars) - lam.mean()
    for j, (judge, own) in enumerate(JUDGES.items()):
        is_own = np.array([m == own for m in models], float)[None, :]
        base = (q + TRUTH["lenient"][judge] + TRUTH["length"][judge] * centred + TRUTH["self"][judge] * is_own
                + rng.normal(0, SD["judge_answer"], (n, k)))
        for r in range(n_runs):
            s = base + rng.normal(0, SD["run"], (n, k))
            for i in range(n):
                for m in range(k):
                    rows.append((conv[i], rid[i, m], models[m], judge, "llm", r + 1, float(s[i, m])))
    pick = rng.integers(0, k, n)
    for h in HUMANS:
        s = q + rng.normal(0, SD["human"], (n, k))
        for i in range(n):
            rows.append((conv[i], rid[i, pick[i]], models[pick[i]], h, "human", 1, float(s[i, pick[i]])))
    frame = pl.DataFrame(rows, schema=["item_id", "response_id", "answer_model", "rater", "rater_kind", "eval_run",
                                       "score"], orient="row")
    ratings = make_ratings(frame.with_columns(
        pl.lit("simulated").alias("dataset"), pl.lit(None, pl.Int32).alias("answer_run"),
        pl.lit(None, pl.String).alias("category"), pl.lit("quality").alias("attribute"),
        pl.lit("simulated").alias("source_file"), pl.lit("").alias("source_record")))
    responses = pl.DataFrame({"response_id": rid.ravel(), "item_id": np.repeat(conv, k),
                              "answer_model": np.tile(models, n), "answer_chars": chars.ravel()})
    return SimStudy(ratings=ratings, responses=responses, evaluators=tuple(JUDGES), own_answer_model=dict(JUDGES),
                    truth=TRUTH)


def simulate_ordinal(seed: int = 0, n_conversations: int = 150, shifts: dict | None = None, rho: float = 0.6,
                     thresholds=(-3.0, -2.0, -0.8, 0.6)) -> pl.DataFrame:
    """Ordinal scores 1..len(thresholds)+1 of every rater on one answer per conversation
    (module docstring): ``cluster, rater, score``. ``shifts``: rater -> beta (log-odds;
    the first rater, default ``H1``, is the reference with 0)."""
    shifts = shifts or {"H1": 0.0, "H2": 0.3, "judge-a": 0.8, "judge-b": 0.0}
    rng = np.random.default_rng(seed)
    raters = list(shifts)
    k = len(raters)
    cov = np.full((k, k), rho) + (1 - rho) * np.eye(k)
    z = rng.multivariate_normal(np.zeros(k), cov, n_conversations)
    eps = sps.logistic.ppf(sps.norm.cdf(z))
    latent = eps + np.array([shifts[r] for r in raters])[None, :]
    score = 1 + np.searchsorted(np.asarray(thresholds), latent)
    return pl.DataFrame({"cluster": np.repeat([f"c{i:03d}" for i in range(n_conversations)], k),
                         "rater": np.tile(raters, n_conversations), "score": score.ravel().astype(np.int64)})
