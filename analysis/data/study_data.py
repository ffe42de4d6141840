"""What every loaded study's data answer: the typed interface :class:`StudyData`.

A study's data object comes from its loader (:class:`~analysis.data.bhh.BHHData`,
:class:`~analysis.data.demo.DemoData`, :class:`~analysis.data.mentalalign.MentalAlignData`,
:class:`~analysis.data.dialoguesafety.DialogueSafetyData`, a user study's
:class:`~analysis.data.tidy.TidyData`). Each carries different frames, but all answer the
questions below, so a notebook or a module asks ``study.data.has_references`` instead of
probing with ``getattr(study.data, "ratings", None)``.

The ``has_*`` answers of the classes whose data are a ratings frame
(:data:`~analysis.data.ratings.RATINGS_SCHEMA`) come from :class:`RatingsBacked`; a class
with no ratings frame (DialogueSafety: predictions against gold labels) answers them itself.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import polars as pl


@runtime_checkable
class StudyData(Protocol):
    """The questions every study's data object answers.

    ``references`` are the reference raters found in the data (humans, a gold label);
    ``evaluators`` the LLM evaluators (judges, systems); ``ratings`` the tidy ratings
    frame (:data:`~analysis.data.ratings.RATINGS_SCHEMA`), or None when the data are not
    ratings (DialogueSafety's predictions); ``audit`` one row per input record, used or
    excluded with its reason. ``review_set`` (the items every reference rated),
    ``crisis_labels`` (crisis labels of several humans) and ``truth`` (the planted truth
    of generated data) are None when the study has none; ``own_answer_model`` maps an
    evaluator to the answer model of its own family (empty when unknown).
    """

    @property
    def references(self) -> tuple[str, ...]: ...

    @property
    def evaluators(self) -> tuple[str, ...]: ...

    @property
    def ratings(self) -> pl.DataFrame | None: ...

    @property
    def audit(self) -> pl.DataFrame: ...

    @property
    def review_set(self) -> pl.DataFrame | None: ...

    @property
    def crisis_labels(self) -> pl.DataFrame | None: ...

    @property
    def truth(self) -> pl.DataFrame | None: ...

    @property
    def own_answer_model(self) -> dict[str, str | None] | None: ...

    @property
    def has_references(self) -> bool:
        """The data hold ratings (or labels) of at least one reference rater."""
        ...

    @property
    def has_runs(self) -> bool:
        """The evaluators rated more than once (at least two distinct runs)."""
        ...

    @property
    def has_clusters(self) -> bool:
        """Items are grouped in clusters (conversations, prompts) of several rated responses."""
        ...

    @property
    def has_categories(self) -> bool:
        """Items carry a category (e.g. a crisis category)."""
        ...

    @property
    def has_sources(self) -> bool:
        """Rated responses carry their source (the answer model that wrote them)."""
        ...


class RatingsBacked:
    """The ``has_*`` answers of a data object holding ``ratings`` (RATINGS_SCHEMA),
    ``references`` and ``evaluators``.

    A mixin of plain properties: it defines no name a data class holds as a dataclass
    field (a class attribute of that name would become the field's default).
    """

    ratings: pl.DataFrame
    references: tuple[str, ...]
    evaluators: tuple[str, ...]

    @property
    def has_references(self) -> bool:
        return self.ratings.filter(pl.col("rater").is_in(list(self.references))).height > 0

    @property
    def has_runs(self) -> bool:
        runs = self.ratings.filter(pl.col("rater").is_in(list(self.evaluators)))["eval_run"]
        return runs.drop_nulls().n_unique() >= 2

    @property
    def has_clusters(self) -> bool:
        r = self.ratings.select("item_id", "response_id").drop_nulls()
        return r.height > 0 and r["item_id"].n_unique() < r["response_id"].n_unique()

    @property
    def has_categories(self) -> bool:
        return self.ratings["category"].drop_nulls().len() > 0

    @property
    def has_sources(self) -> bool:
        return self.ratings["answer_model"].drop_nulls().len() > 0


__all__ = ["StudyData", "RatingsBacked"]
