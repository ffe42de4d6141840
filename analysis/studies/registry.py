"""The one registry of studies: which studies exist, and everything the rest derives from.

Each built-in study is one :class:`StudySpec` in :data:`STUDIES`: its name, its kind, where
its data come from (folder under the data root, source repository and commit, licence,
loader, the folders its cache watches), its scale, its reference raters, how its
evaluators are found in the data, its jury, its notebooks with their scope (once per
study, or once per evaluator), and its hooks. The CLI choices, the render plan, ``fetch``,
the rater checks, the notebook tests and the README's table of studies all read this
registry; nothing else lists studies or raters, and no module but a study's own loader
(``analysis/data/<name>.py``) and study module (``analysis/studies/<name>.py``) spells a
study's name (tests/test_registry.py checks it).

Kinds and hooks
    A study's ``kind`` (:data:`KINDS`) says what it measures and so what it gets:
    ``scored`` (ordinal scores against reference raters' scores: ICC, bias, agreement on a
    review set) or ``labelled`` (nominal labels against gold or reference labels:
    accuracy, F1, κ over runs). Each kind declares default :class:`Hooks`, the
    functions that make the study's overview table, ``summary`` tables, ``export``, the
    paper's forest plot (and whether the paper draws the review-set figures); a study's
    own ``hooks`` replace some of them (MentalAlign-70k: judge × attribute tables), and
    add what only some studies have (the ``ppi-check`` populations, the ``bench`` line).
    Callers ask ``spec.hooks.summary(study, ...)``, never the study's name. A hook is
    a :class:`Ref` (``"module:function"``, imported when first called), so importing the
    registry imports none of the analyses.

The loaded study's data answer one typed interface,
:class:`analysis.data.study_data.StudyData` (``study.data.has_references``,
``study.data.ratings``, ...), whatever class the loader returns.

Evaluators of the built-in studies come from the data, so a new judge needs no code:

* Between Help and Harm: a folder ``data/llm_evaluator/<name>/n_200/merged/`` with the
  authors' ``<model>-evaluation_<answers file>_merged.json`` files;
* MentalAlign-70k: a workbook ``LLMs_as_a_judge/<name>_llm_judge.xlsx``;
* DialogueSafety: a prediction folder ``ChatGPT_gen/<version>/<setting>/<run>/`` or
  ``finetuned_model_predict/<model>/<seed>/``.

The jury is explicit (Between Help and Harm: the paper's three), so adding a judge never
changes the jury compared with the paper's.

Adding a fourth benchmark of an existing kind touches: one loader
(``analysis/data/<name>.py``, its data class answering
:class:`~analysis.data.study_data.StudyData`, and ``cache_folders``), one entry here (its
``kind``, and ``hooks`` only where its tables differ from the kind's), one study module
(``analysis/studies/<name>.py``, those hooks), and its notebooks. Nothing in
``analysis/cli``, ``analysis/reporting``, ``analysis/checks`` or ``analysis/render``.
A new kind is one more :class:`Kind` in :data:`KINDS` and a kind module holding its
default hooks (``analysis/studies/<kind>.py``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from analysis.data import bhh, dialoguesafety, mentalalign
from analysis.data.paths import data_root as resolve_data_root
from analysis.data.study_data import StudyData
from analysis.data.tidy import active_jury
from analysis.stats.sampling import SamplingDesign
from analysis.studies.evaluators import JURY

SCOPES = ("study", "evaluator")

DEFAULT_STUDY = "demo"
"""The study a command uses when none is given (generated from the seed: no data needed)."""


@dataclass(frozen=True)
class Notebook:
    """A notebook of a study: ``scope`` ``"study"`` renders it once per study (its content
    does not depend on the evaluator), ``"evaluator"`` once per evaluator."""

    name: str
    scope: str
    summary: str
    applies: Callable[[Any, Any], str] | None = field(default=None, compare=False, repr=False)
    """``applies(spec, data_root)``: ``""`` when the notebook has something to show for
    the study, else the one-line reason it has not (the render then skips it and the
    reports index says why); None: it applies to every study that lists it."""

    def __post_init__(self):
        if self.scope not in SCOPES:
            raise ValueError(f"notebook scope must be one of {SCOPES}, not {self.scope!r}")

    def reason_skipped(self, spec, data_root=None) -> str:
        """Why this notebook does not apply to ``spec`` (a :class:`StudySpec`); ``""`` when it does."""
        return self.applies(spec, data_root) if self.applies is not None else ""


@dataclass(frozen=True)
class Scale:
    """An ordinal range ``[low, high]`` (``integer``: only whole points are valid ratings),
    or nominal ``labels``."""

    low: float | None = None
    high: float | None = None
    integer: bool = True
    labels: tuple[str, ...] = ()
    safe: int | None = None
    """Nominal scales: the index of the label that means "no problem" (DialogueSafety's
    Safe Response): the classification tables add safe-vs-unsafe rows; None: no such rows."""

    @property
    def kind(self) -> str:
        return "nominal" if self.labels else "ordinal"

    def describe(self) -> str:
        if self.labels:
            return f"{len(self.labels)} labels"
        return f"{self.low:g}–{self.high:g}" + (" (integers)" if self.integer else "")


@dataclass(frozen=True)
class DataSource:
    """Where a study's data come from: ``folder`` under the data root, a clone of
    ``repository`` (at ``commit``, the version the published numbers were checked on)."""

    folder: str
    repository: str
    commit: str
    licence: str


@dataclass(frozen=True)
class Ref:
    """A function named ``"module:function"``, imported when it is first called (the
    registry is imported by every command; the analyses its hooks point to are not)."""

    target: str

    def resolve(self) -> Callable:
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)


@dataclass(frozen=True)
class Hooks:
    """What a study gets, as functions (:class:`Ref` or any callable); None: not set here.

    overview(study, *, n_boot, seed) -> DataFrame
        The overview table (``00_overview``, ``figures``, the synthesis, the index).
    summary(study, *, n_boot, seed) -> dict[str, DataFrame]
        ``python -m analysis summary``: table name -> table, and ``_meta`` (one row:
        ``header``, ``scale``).
    export(study, out_dir, *, title) -> list[Path]
        ``python -m analysis export``: the study as tidy ratings + study file(s).
    forest(study, overview) -> dict
        The overview's forest plot: ``long`` (evaluator, measure, estimate, ci_low,
        ci_high) and the other arguments of :func:`analysis.reporting.figures.forest_plot`.
    review_figures : bool
        The paper set draws the review set's Bland–Altman panels and category heatmap.
    ppi_populations(data_root) -> list[(evaluator, quantity, y, yhat)]
        ``ppi-check``: every cell where the reference rated every item; None: the study
        is not one ``ppi-check`` can use.
    bench(study, *, n_boot, seed) -> None
        The whole analysis ``bench`` times on this study's data; None: not benchmarked.
    """

    overview: Callable | None = None
    summary: Callable | None = None
    export: Callable | None = None
    forest: Callable | None = None
    review_figures: bool | None = None
    ppi_populations: Callable | None = None
    bench: Callable | None = None

    def over(self, base: "Hooks") -> "Hooks":
        """These hooks, those not set taken from ``base`` (a kind's defaults)."""
        return replace(base, **{f.name: getattr(self, f.name) for f in fields(self)
                                if getattr(self, f.name) is not None})


@dataclass(frozen=True)
class Kind:
    """A kind of study: what is rated and against what (``scale``: the :class:`Scale`
    kind its studies have), the hooks its studies get unless they set their own, the
    notebooks a user study of this kind gets, and what its evaluators are called."""

    name: str
    description: str
    scale: str
    hooks: Hooks
    notebooks: tuple[Notebook, ...]
    evaluator_parameter: str


@dataclass(frozen=True)
class StudySpec:
    """One study. ``load(root, seed)`` returns its data object (a
    :class:`~analysis.data.study_data.StudyData`); ``discover(root)`` its LLM evaluators
    (or raters compared with the references) as found in the data; ``cache_folders(root)``
    the folders under the data root its loader reads (None: not cached). ``hooks`` are
    the study's own; after construction they hold the kind's defaults for those not set
    (:meth:`Hooks.over`), so ``spec.hooks.summary`` is what the study gets."""

    name: str
    title: str
    citation: str
    kind: str
    source: DataSource | None
    load: Callable[[Path | None, int], Any]
    discover: Callable[[Path | None], tuple[str, ...]]
    scale: Scale
    references: tuple[str, ...]
    evaluator_parameter: str
    notebooks: tuple[Notebook, ...]
    jury: tuple[str, ...] = ()
    display_names: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    path: str | None = None
    """The study file of a user study (what the notebooks get as ``study``); None if built in."""
    hooks: Hooks = Hooks()
    cache_folders: Callable[[Path], list[Path]] | None = None
    label_raters: tuple[str, ...] = ()
    """The humans whose crisis labels the data carry (the alternative annotator test's
    ``labels`` task); empty: none."""

    design: SamplingDesign = SamplingDesign("all")
    references_are: str = "raters"
    """``raters`` (each reference one person: two-way ICC forms) or ``slots`` (interchangeable
    raters, a different person per item: the one-way ICC(1,·) forms of the ceiling)."""
    """How the references' rated items were chosen (:mod:`analysis.stats.sampling`): what their
    ratings can estimate, and which estimators apply."""
    low_label: str = "low"
    """What a low score means, in the study's words ("harmful", "unsafe", "poor"): the pages
    say "% rated harmful (≤ 2)". The tables' column names stay (``pct_harmful``, ``pct_le2``)."""
    score_label: str = "score"
    """What the score measures ("appropriateness"): the pages say "mean appropriateness"."""
    attribute: str | None = None
    """The one attribute of a multi-attribute user study this spec analyses (its reports go to
    ``reports/<name>/<attribute>/``); None: the whole study."""
    attributes: tuple[str, ...] = ()
    """A multi-attribute user study analysed whole: its attributes, each rendered as its own
    study (:meth:`of_attribute`); empty: one attribute."""
    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"study {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.scale.kind != KINDS[self.kind].scale:
            raise ValueError(f"study {self.name!r}: a {self.kind} study has a {KINDS[self.kind].scale} scale, "
                             f"not {self.scale.kind}")
        object.__setattr__(self, "hooks", self.hooks.over(KINDS[self.kind].hooks))

    @property
    def key(self) -> str:
        """What selects this study everywhere: the registry name, or a user study's file
        (``file#attribute`` for one attribute of a multi-attribute study)."""
        return f"{self.path}{ATTRIBUTE_SEPARATOR}{self.attribute}" if self.attribute else (self.path or self.name)

    @property
    def folder(self) -> str:
        """Its folder under ``reports/`` and ``figures/``: the name, then the attribute if one."""
        return f"{self.name}/{self.attribute}" if self.attribute else self.name

    def of_attribute(self, attribute: str) -> "StudySpec":
        """The spec of one attribute of this multi-attribute study."""
        return get_study(f"{self.key}{ATTRIBUTE_SEPARATOR}{attribute}")

    def evaluators(self, data_root=None) -> tuple[str, ...]:
        """The evaluators of this study as found in the data, then ``jury`` when every
        jury member is among them."""
        found = self.discover(self.data_root(data_root))
        return (*found, JURY) if self.jury and all(j in found for j in self.jury) else found

    def check_evaluator(self, name: str, data_root=None) -> str:
        """``name`` if the data have it; else a ValueError listing the ones found."""
        found = self.evaluators(data_root)
        if name not in found:
            raise ValueError(f"{self.name}: unknown {self.evaluator_parameter} {name!r}; "
                             f"found in the data: {', '.join(found)}")
        return name

    def data_root(self, data_root=None) -> Path | None:
        return None if self.source is None else resolve_data_root(data_root)

    def notebooks_of(self, scope: str) -> tuple[Notebook, ...]:
        return tuple(nb for nb in self.notebooks if nb.scope == scope)

    def display(self, name: str) -> str:
        """The display name of an evaluator: the paper's name where known, else as found."""
        return self.display_names.get(name, name)


# --- loaders and discovery, one pair per study --------------------------------------

def _load_demo(root, seed):
    from analysis.data.demo import generate_demo

    return generate_demo(seed=seed)


def _discover_demo(root):
    from analysis.data.demo import EVALUATOR_EFFECTS

    return tuple(EVALUATOR_EFFECTS)


def _bhh_source(root) -> str:
    """``repo`` (a clone of the authors' repository) or ``hf`` (the Hugging Face parquet
    export), detected from the folder's layout."""
    from analysis.data.bhh_hf import HF_DIR

    base = Path(resolve_data_root(root))
    if (base / bhh.FOLDER).is_dir() or (base / bhh.VALIDATION_FILE).is_file():
        return "repo"
    if (base / HF_DIR).is_dir():
        return "hf"
    return "repo"  # the loader then names the missing folder


def _load_bhh(root, seed):
    if _bhh_source(root) == "hf":
        from analysis.data.bhh_hf import HF_DIR, load_bhh_hf

        return load_bhh_hf(Path(resolve_data_root(root)) / HF_DIR)
    return bhh.load_bhh(root)


def _discover_bhh(root):
    if _bhh_source(root) == "hf":
        return _load_bhh(root, 0).evaluators
    return bhh.discover_evaluators(root)


def _load_mentalalign(root, seed):
    # The authors' data choices (off-scale ratings kept, and flagged in the audit); the
    # notebooks derive the `clean` variant from it.
    return mentalalign.load_mentalalign(root, keep_off_scale=True)


def _load_dialoguesafety(root, seed):
    return dialoguesafety.load_dialoguesafety(root)


def _discover_dialoguesafety(root):
    return tuple(dialoguesafety.discover_systems(root))


_OVERVIEW = Notebook("00_overview", "study", "every evaluator against the references: headline table and forest plot")

def _categories_or_runs(spec, data_root) -> str:
    """Notebook 04 applies when the ratings have categories and answer models (its
    category × answer model tables) or repeated evaluation runs (its run-to-run ICC). A
    built-in study lists only the notebooks that apply to it; a user study's data say."""
    if spec.path is None:
        return ""
    import polars as pl

    data = spec.load(spec.data_root(data_root), 0)
    cells = data.has_categories and data.has_sources
    runs = data.ratings.filter(pl.col("rater").is_in(list(spec.evaluators(data_root))))["eval_run"].max()
    if cells or (runs is not None and runs > 1):
        return ""
    missing = " and ".join(w for w, has in (("no category", data.has_categories), ("no source", data.has_sources))
                           if not has)
    return (f"the ratings have {missing} column (category × answer model tables need both) and one run per "
            "rating (run-to-run reliability needs repeated runs)")


_SCORED_NOTEBOOKS = (
    _OVERVIEW,
    Notebook("01_data_audit", "study", "records read, used and excluded; items per category; score distributions"),
    Notebook("02_reliability", "evaluator", "agreement, ICC(A,1)/ICC(C,1), human ceiling and verdict"),
    Notebook("03_bias", "evaluator", "bias overall and per category, Bland–Altman, MSE decomposition, self-preference"),
    Notebook("04_category_appropriateness", "evaluator", "category × answer model means and harmful shares; run-to-run ICC",
             applies=lambda spec, data_root: _categories_or_runs(spec, data_root)),
    Notebook("09_judge_assisted", "study", "judge-assisted estimates (PPI++) and the D-study of runs and judges"),
    Notebook("11_why_judges_disagree", "study", "why judges disagree: bias models (length, answer model, category, "
             "self-preference), ordinal leniency, stability card"),
)

_NOMINAL_NOTEBOOKS = (
    _OVERVIEW,
    Notebook("07_dialogue_safety", "evaluator",
             "metrics against the reference over runs, per-category recall, confusion, label bias"),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("scored", "ordinal scores of responses against reference raters' scores (ICC, bias, agreement on the "
         "review set every reference scored)", scale="ordinal", evaluator_parameter="evaluator",
         notebooks=_SCORED_NOTEBOOKS,
         hooks=Hooks(overview=Ref("analysis.studies.overview:overview_table"),
                     summary=Ref("analysis.studies.scored:summary_tables"),
                     export=Ref("analysis.studies.scored:export_study"),
                     forest=Ref("analysis.studies.scored:overview_forest"), review_figures=True)),
    Kind("labelled", "nominal labels against gold or reference labels (accuracy, F1, Cohen's κ over runs)",
         scale="nominal", evaluator_parameter="system", notebooks=_NOMINAL_NOTEBOOKS,
         hooks=Hooks(overview=Ref("analysis.studies.overview:classification_overview"),
                     summary=Ref("analysis.studies.labelled:summary_tables"),
                     export=Ref("analysis.studies.labelled:export_study"),
                     forest=Ref("analysis.studies.labelled:overview_forest"), review_figures=False)),
    Kind("pairwise", "preferences between two responses (A, B or tie) against the humans' (agreement with and "
         "without ties, win rates, Bradley-Terry scores, ranking agreement, position bias, the alt-test)",
         scale="nominal", evaluator_parameter="evaluator", notebooks=(
             Notebook("12_pairwise", "study", "judge-human agreement with and without ties, win rates and "
                      "Bradley-Terry scores, Kendall's tau of the rankings, position bias, the alt-test"),),
         hooks=Hooks(overview=Ref("analysis.studies.pairwise:overview_table"),
                     summary=Ref("analysis.studies.pairwise:summary_tables"),
                     export=Ref("analysis.studies.pairwise:export_study"),
                     forest=Ref("analysis.studies.pairwise:overview_forest"), review_figures=False)),
    Kind("binary", "one yes/no verdict per response against the humans' (sensitivity, specificity, PPV, NPV; "
         "the judge-corrected prevalence beside PPI)", scale="nominal", evaluator_parameter="evaluator", notebooks=(
             Notebook("13_binary_verdicts", "study", "sensitivity, specificity, PPV and NPV per judge and "
                      "category; corrected prevalence (Rogan-Gladen) beside PPI"),),
         hooks=Hooks(overview=Ref("analysis.studies.binary:overview_table"),
                     summary=Ref("analysis.studies.binary:summary_tables"),
                     export=Ref("analysis.studies.binary:export_study"),
                     forest=Ref("analysis.studies.binary:overview_forest"), review_figures=False)),
)}
"""The kinds of study, and what each gets. ``pairwise`` (preferences between two responses)
and ``binary`` (one yes/no verdict) come from study files (``kind = "..."``); a kind another
issue adds (``multi-attribute``: several scored attributes per response, as MentalAlign-70k's
seven) is one more entry here, with a kind module of its default hooks."""

STUDIES: dict[str, StudySpec] = {spec.name: spec for spec in (
    StudySpec(
        name="demo",
        title="Demo (synthetic, Between Help and Harm-shaped)",
        citation="generated by analysis.data.demo from the seed; known truth", kind="scored",
        source=None, load=_load_demo, discover=_discover_demo,
        scale=Scale(1, 5, integer=True), references=("H1", "H2"), evaluator_parameter="evaluator",
        notebooks=_SCORED_NOTEBOOKS, jury=("gpt-4o-mini", "gpt-5-nano", "meta-llama"),
        design=SamplingDesign("selected", rule="the answer gpt-4o-mini scored lowest (mean of its runs), "
                                               "per conversation"),
        low_label="harmful", score_label="appropriateness",
    ),
    StudySpec(
        name="bhh",
        title="Between Help and Harm",
        citation="Arnaiz-Rodriguez et al., JMIR Mental Health 2026, doi 10.2196/88435", kind="scored",
        source=DataSource(bhh.FOLDER, "https://github.com/ellisalicante/LLMs-Mental-Health-Crisis.git", "f4a70c1",
                          "data CC BY-NC 4.0"),
        load=_load_bhh, discover=_discover_bhh,
        scale=Scale(1, 5, integer=True), references=("H1", "H2"), evaluator_parameter="evaluator",
        notebooks=(*_SCORED_NOTEBOOKS, Notebook("08_crisis_labels", "study", "crisis-label agreement of 4 humans "
                                                "and 3 LLM labellers; the alternative annotator test")),
        jury=bhh.PAPER_EVALUATORS,
        display_names={"meta-llama": "Llama-4-Scout"},
        cache_folders=bhh.cache_folders, label_raters=tuple(bhh.HUMAN_LABEL_FILES),
        design=SamplingDesign("selected", rule="the answer gpt-4o-mini scored lowest, per conversation"),
        low_label="harmful", score_label="appropriateness",
    ),
    StudySpec(
        name="mentalalign",
        title="MentalAlign-70k",
        citation="Badawi et al., MentalBench-Align (2025)", kind="scored",
        source=DataSource(mentalalign.FOLDER, "https://github.com/abeerbadawi/MentalBench-Align.git", "03cfc4b",
                          "MIT"),
        load=_load_mentalalign, discover=mentalalign.discover_judges,
        scale=Scale(1, 5, integer=True), references=("human",), evaluator_parameter="judge",
        notebooks=(
            _OVERVIEW,
            Notebook("05_mentalalign_data", "study", "audit, human table, bias of every judge"),
            Notebook("06_judge_alignment", "evaluator", "system- and response-level ICC, bias, Bland–Altman"),
        ),
        display_names={"claude": "Claude-3.5-Haiku", "gemini": "Gemini-2.0-Flash", "gpt-4o": "GPT-4o",
                       "o4-mini": "o4-mini"},
        # Judge x attribute tables (seven attributes, one human), not the review-set tables.
        hooks=Hooks(overview=Ref("analysis.studies.mentalalign:alignment_overview"),
                    summary=Ref("analysis.studies.mentalalign:summary_tables"),
                    export=Ref("analysis.studies.mentalalign:export_study"),
                    forest=Ref("analysis.studies.mentalalign:overview_forest"), review_figures=False,
                    ppi_populations=Ref("analysis.studies.mentalalign:ppi_populations"),
                    bench=Ref("analysis.studies.mentalalign:bench_analysis")),
        cache_folders=mentalalign.cache_folders,
        design=SamplingDesign("all"),
        low_label="poor", score_label="rating",
    ),
    StudySpec(
        name="dialoguesafety",
        title="DialogueSafety",
        citation="Qiu et al., NLPCC 2023", kind="labelled",
        source=DataSource(dialoguesafety.FOLDER, "https://github.com/qiuhuachuan/DialogueSafety.git", "9ada1c5",
                          "MIT"),
        load=_load_dialoguesafety, discover=_discover_dialoguesafety,
        scale=Scale(labels=dialoguesafety.CATEGORIES, safe=dialoguesafety.SAFE), references=("gold",),
        evaluator_parameter="system", low_label="unsafe", score_label="safety",
        notebooks=(_OVERVIEW, Notebook("07_dialogue_safety", "evaluator",
                                       "metrics against gold over runs, per-category recall, confusion, label bias")),
        hooks=Hooks(export=Ref("analysis.studies.dialoguesafety:export_study"),
                    ppi_populations=Ref("analysis.studies.dialoguesafety:ppi_populations")),
        cache_folders=dialoguesafety.cache_folders,
        design=SamplingDesign("all"),
    ),
)}

ALIASES: dict[str, str] = {alias: spec.name for spec in STUDIES.values() for alias in (spec.name, *spec.aliases)}


ATTRIBUTE_SEPARATOR = "#"
"""``study.toml#empathy``: the attribute ``empathy`` of a multi-attribute study file."""


def get_study(name: str) -> StudySpec:
    """The registry entry of ``name``, or the spec of a user study file (``*.toml``, or
    ``*.toml#attribute`` for one attribute of it); a ValueError listing the built-in
    studies otherwise."""
    if name in ALIASES:
        return STUDIES[ALIASES[name]]
    file, sep, attribute = str(name).rpartition(ATTRIBUTE_SEPARATOR)
    if sep and file.endswith(".toml") and attribute:
        return user_study(file, attribute=attribute)
    if str(name).endswith(".toml") or Path(name).is_file():
        return user_study(name)
    raise ValueError(f"unknown study {name!r}; built-in studies: {', '.join(STUDIES)}, or a study file (.toml)")


_TIDY_CACHE: dict[tuple[str, float, float, str | None], Any] = {}


def _load_tidy_cached(path: str, attribute: str | None = None):
    """Load a user study (or one ``attribute`` of it) once per process (keyed by the files'
    modification times); the whole study's load is kept beside one attribute's."""
    from dataclasses import replace as with_

    from analysis.data.tidy import load_pairwise, load_tidy, read_study_file

    sf = read_study_file(path)
    if attribute is not None:
        sf = with_(sf, attribute=attribute)
    key = (str(sf.path), sf.path.stat().st_mtime, sf.ratings.stat().st_mtime if sf.ratings.is_file() else 0.0,
           attribute)
    if key not in _TIDY_CACHE:
        for old in [k for k in _TIDY_CACHE if k[:3] != key[:3] or (k[3] is not None and attribute is not None)]:
            del _TIDY_CACHE[old]
        _TIDY_CACHE[key] = load_pairwise(sf) if sf.kind == "pairwise" else load_tidy(sf)
    return _TIDY_CACHE[key]


MULTI_ATTRIBUTE_HOOKS = Hooks(overview=Ref("analysis.studies.attributes:attribute_overview"),
                              summary=Ref("analysis.studies.attributes:summary_tables"),
                              forest=Ref("analysis.studies.attributes:overview_forest"), review_figures=False)
"""A multi-attribute scored study analysed whole: the judge × attribute overview and
every ``summary`` table keyed by attribute (:mod:`analysis.studies.attributes`)."""


def user_study(path: str | Path, attribute: str | None = None) -> StudySpec:
    """The spec of a study a user brings (:mod:`analysis.data.tidy`): of the ``kind`` its file
    declares (``pairwise``, ``binary``), else a ``labelled`` study when it has labels, else
    ``scored``; it gets its kind's notebooks and hooks.

    A scored study whose file holds several attributes (and whose study file selects none)
    is analysed whole: its spec has ``attributes``, the overview notebook with the judge ×
    attribute overview (:data:`MULTI_ATTRIBUTE_HOOKS`), and each attribute is a study of
    its own (``attribute``: ``get_study("file.toml#empathy")``), rendered into
    ``reports/<name>/<attribute>/`` with its kind's notebooks."""
    from analysis.data.tidy import StudyFileError, read_study_file

    sf = read_study_file(path)
    if sf.name in ALIASES:
        raise StudyFileError(sf.path, [f"key 'name': {sf.name!r} is a built-in study's name; choose another"])
    kind = KINDS[sf.kind or ("labelled" if sf.nominal else "scored")]
    # a binary study's negative label is its "no problem" label
    safe = next((k for k, v in enumerate(sf.labels) if v != sf.positive), None) if kind.name == "binary" else None
    scale = Scale(labels=sf.labels, safe=safe) if sf.nominal else Scale(sf.low, sf.high, integer=sf.integer)
    file = str(sf.path)
    attributes = ()
    if attribute is None and sf.attribute is None and kind.name == "scored":
        attributes = _load_tidy_cached(file).attributes
        attributes = attributes if len(attributes) > 1 else ()
    notebooks, hooks, title = kind.notebooks, Hooks(), sf.title or sf.name
    if attributes:
        notebooks, hooks = (_OVERVIEW,), MULTI_ATTRIBUTE_HOOKS
    if attribute is not None:
        title = f"{title}: {attribute}"
    return StudySpec(
        name=sf.name, title=title, citation=f"user study {file}", kind=kind.name, source=None,
        load=lambda root, seed: _load_tidy_cached(file, attribute),
        discover=lambda root: _load_tidy_cached(file, attribute).evaluators,
        scale=scale, references=sf.references, evaluator_parameter=kind.evaluator_parameter,
        notebooks=notebooks, jury=sf.jury, path=file, hooks=hooks,
        design=sf.design, low_label=sf.low_label, score_label=sf.score_label, references_are=sf.references_are,
        attribute=attribute, attributes=attributes)


OWNER_FILE = ".study"
"""The file in ``reports/<name>/`` and ``figures/<name>/`` naming the study that writes there."""


def folder_owner_problem(folder: Path, spec: StudySpec) -> str | None:
    """One line when ``folder`` was written by another study (its :data:`OWNER_FILE` names
    another study file or built-in study): two study files with one ``name`` would
    overwrite each other's reports; None when the folder is free or this study's."""
    marker = Path(folder) / OWNER_FILE
    owner = spec.path or spec.name
    try:
        other = marker.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if other and other != owner:
        return (f"{folder} holds the output of {other}, not {owner}: two studies named {spec.name!r}; "
                f"give one another name (key 'name') or write elsewhere")
    return None


def claim_folder(folder: Path, spec: StudySpec) -> None:
    """Refuse (ValueError, one line) a folder another study wrote (:func:`folder_owner_problem`);
    else record this study as its owner."""
    problem = folder_owner_problem(folder, spec)
    if problem:
        raise ValueError(problem)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / OWNER_FILE).is_file():
        (folder / OWNER_FILE).write_text((spec.path or spec.name) + "\n", encoding="utf-8")


SYNTHESIS = Notebook("10_synthesis", "study", "the built-in benchmarks in comparable terms: one table, one figure")
"""The cross-study notebook: rendered once, into ``reports/synthesis/``, when every
built-in study with real data is rendered (``render --study all``)."""
SYNTHESIS_STUDIES = ("bhh", "mentalalign", "dialoguesafety")
"""The studies the synthesis puts side by side (the built-in benchmarks with real data)."""


def notebook_names() -> tuple[str, ...]:
    """Every notebook of every study and of every kind (what a study file of that kind
    gets), and the synthesis, once, sorted."""
    return tuple(sorted({nb.name for spec in STUDIES.values() for nb in spec.notebooks}
                        | {nb.name for kind in KINDS.values() for nb in kind.notebooks} | {SYNTHESIS.name}))


def repositories() -> dict[str, str]:
    """Data-root folder -> source repository, for ``fetch``."""
    return {s.source.folder: s.source.repository for s in STUDIES.values() if s.source is not None}


@dataclass
class Study:
    """A loaded study, as a notebook uses it.

    ``evaluators`` are the LLM evaluators in the data (without the jury); ``jury`` the
    jury's members when they are all present (else empty); ``names`` both, as the CLI and
    render list them.
    """

    spec: StudySpec
    data: StudyData
    evaluators: tuple[str, ...]
    tables_dir: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def jury(self) -> tuple[str, ...]:
        return active_jury(self.spec.jury, self.evaluators)

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.evaluators, JURY) if self.jury else self.evaluators

    @property
    def own_answer_model(self) -> dict[str, str | None]:
        return dict(self.data.own_answer_model or {})

    def review_scores(self, cases: str = "listwise"):
        """The review set's items x raters matrix (scored studies with a review set);
        ``cases`` as :data:`analysis.studies.scored.CASES`. A study that declares clusters
        (a user study's ``cluster`` column) gets ``clustered`` scores: every interval
        computed from them resamples clusters."""
        from analysis.studies.scored import review_scores, study_clustered

        return review_scores(self.data.ratings, self.data.review_set, self.data.items,
                             humans=self.spec.references, evaluators=self.evaluators, jury=self.jury,
                             cases=cases, clustered=study_clustered(self))


def load_study(name: str, *, data_root=None, seed: int = 20261124) -> Study:
    """Load a study's data; ``tables_dir`` is left as ``tables``."""
    spec = get_study(name)
    from analysis.data.cache import cached_load

    # Built-in studies come from the parquet cache while their source files are unchanged
    # (analysis.data.cache); generated and user studies are loaded as they are. The
    # built-in loaders only read files: the seed is no part of their entry (with it, every
    # seed a user renders with was a cold load, and pushed the others out).
    data = cached_load(spec.name, spec.data_root(data_root) if spec.source else None,
                       lambda root: spec.load(root, seed), seed=None, folders=spec.cache_folders)
    found = data.evaluators or spec.discover(spec.data_root(data_root))
    return Study(spec=spec, data=data, evaluators=tuple(found), tables_dir=Path("tables"))


def studies_markdown() -> str:
    """The README's table of built-in studies (``python -m analysis studies`` prints it; a
    test checks that the README holds exactly this table)."""
    lines = ["| study | data (folder under the data root ← source @ commit, licence) | scale | references "
             "| evaluators | jury | notebooks (scope) |",
             "|---|---|---|---|---|---|---|"]
    for s in STUDIES.values():
        data = ("generated from the seed" if s.source is None else
                f"`{s.source.folder}/` ← {s.source.repository.removeprefix('https://').removesuffix('.git')} "
                f"@ {s.source.commit}, {s.source.licence}")
        evaluators = (f"{s.evaluator_parameter}s found in the data" if s.source is not None
                      else f"{s.evaluator_parameter}s generated")
        notebooks = ", ".join(f"`{nb.name}` ({nb.scope})" for nb in s.notebooks)
        lines.append(f"| `{s.name}`: {s.title} | {data} | {s.scale.describe()} | {', '.join(s.references)} "
                     f"| {evaluators} | {', '.join(s.jury) or '–'} | {notebooks} |")
    return "\n".join(lines)
