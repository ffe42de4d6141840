"""Classification metrics against gold labels, vectorised over bootstrap weights.

Every metric is computed from per-class counts that are sums over items, so one
``weights @ indicators`` product gives it for a whole batch of bootstrap resamples
(frequency weights, see :mod:`analysis.stats.bootstrap`). Definitions follow scikit-learn's
``precision_recall_fscore_support`` (weighted = weighted by gold support; a class never
predicted has precision 0, a class with no gold items has recall 0 and is left out of
the weighted mean because its weight is 0) and ``cohen_kappa_score``
(:func:`analysis.stats.chance.cohen_kappa_margins` of the gold x prediction table's
diagonal and margins, which these sums are); the tests check them against scikit-learn.
All values are fractions 0-1.

A prediction outside the label set (an LLM answer that names no category, coded -1) is
a wrong prediction of every class.
"""

from __future__ import annotations

import numpy as np

from analysis.stats.chance import cohen_kappa_margins

METRICS = ("accuracy", "precision_weighted", "recall_weighted", "f1_weighted", "f1_macro", "cohen_kappa")


def _indicators(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Per item: [correct, gold==c (C), pred==c (C), gold==c & pred==c (C)]."""
    classes = np.arange(n_classes)
    g = (gold[:, None] == classes).astype(float)
    p = (pred[:, None] == classes).astype(float)
    return np.concatenate([(gold == pred).astype(float)[:, None], g, p, g * p], axis=1)


def _from_sums(sums: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    c = n_classes
    n = sums[..., 1:1 + c].sum(axis=-1)
    support, predicted, tp = sums[..., 1:1 + c], sums[..., 1 + c:1 + 2 * c], sums[..., 1 + 2 * c:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        w = support / n[..., None]
        present = support > 0
        accuracy = sums[..., 0] / n
        return {
            "accuracy": accuracy,
            "precision_weighted": (w * precision).sum(axis=-1),
            "recall_weighted": (w * recall).sum(axis=-1),
            "f1_weighted": (w * f1).sum(axis=-1),
            "f1_macro": np.where(present, f1, 0.0).sum(axis=-1) / np.maximum(present.sum(axis=-1), 1),
            "cohen_kappa": np.asarray(cohen_kappa_margins(sums[..., 0], support, predicted)),
            "recall_per_class": recall,
        }


def classification_metrics(gold, pred, n_classes: int, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Accuracy, weighted precision/recall/F1, macro-F1 (over classes with gold items),
    Cohen's kappa and per-class recall; with ``weights`` (B, n), one value per resample.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 2], [0, 1, 2, 2], 3)
    >>> float(m["accuracy"]), round(float(m["f1_weighted"]), 4)
    (0.75, 0.75)
    """
    gold, pred = np.asarray(gold), np.asarray(pred)
    if gold.shape != pred.shape or gold.ndim != 1:
        raise ValueError(f"gold and predictions must be 1-D of the same length, got {gold.shape} and {pred.shape}")
    ind = _indicators(gold, pred, n_classes)
    sums = ind.sum(axis=0) if weights is None else np.asarray(weights, float) @ ind
    return _from_sums(sums, n_classes)


def majority_vote(predictions: np.ndarray) -> np.ndarray:
    """Most frequent label per row of ``(n_items, n_runs)`` predictions; a tie goes to
    the tied label that appears first in run order (run 1 first)."""
    p = np.asarray(predictions)
    out = np.empty(p.shape[0], dtype=p.dtype)
    for i, row in enumerate(p):
        labels, counts = np.unique(row, return_counts=True)
        tied = set(labels[counts == counts.max()].tolist())
        out[i] = next(v for v in row if v in tied)
    return out


