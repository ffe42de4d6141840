"""Studies: the registry (one :class:`~analysis.studies.registry.StudySpec` per study) and
the tables each kind of study is analysed with.

registry         which studies exist: data, scale, references, evaluators, jury, notebooks
scored           evaluator-vs-reference tables of scored studies (agreement, ICC, bias)
evaluators       evaluation runs, the jury, run-to-run reliability
self_preference  does an evaluator favour its own model's answers?
appropriateness  category x answer model appropriateness and harmful shares
mentalalign      MentalAlign-70k: system- and response-level alignment, Koo & Li bands
dialoguesafety   DialogueSafety: metrics over runs, per-category recall, label bias
"""
