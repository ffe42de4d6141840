"""The one result convention of the public statistics API.

Every function of :mod:`analysis.stats` that returns one estimate with an interval returns
a frozen dataclass derived from :class:`Result`: the same field names everywhere, so that
code written against one statistic reads every other one (the convention of
``scipy.stats`` result objects).

Fields
------
estimate : float
    The statistic on the sample (the bias, the ICC, the kappa, the coefficient...).
ci_low, ci_high : float
    The interval at level ``confidence``; NaN where it is undefined (``ci_note`` says why).
pvalue : float
    Two-sided p-value of the statistic's usual null (0 for a difference or an agreement
    coefficient), NaN where the statistic has no test.
n : int
    The units the estimate rests on (items, pairs, clusters: the docstring of the function
    says which).
confidence : float
    The level of the interval, 0.95 by default; every function takes ``confidence=``.
ci_note : str
    Empty, or a short sentence on why the interval cannot be trusted or is undefined
    (:func:`analysis.stats.intervals.ci_note`).

A subclass adds its own fields after these (``se``, ``method``, ...). ``to_frame()`` turns
the result into a one-row polars frame with the fields in declaration order (tuples and
mappings are left out; use the subclass's own table for them).

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Mean(Result):
...     se: float = float("nan")
>>> Mean(estimate=1.5, ci_low=1.0, ci_high=2.0, n=4, se=0.25).to_frame().columns
['estimate', 'ci_low', 'ci_high', 'pvalue', 'n', 'confidence', 'ci_note', 'se']
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Result", "check_confidence", "deprecated_alias", "renamed_field", "renamed_keywords", "resolve_confidence"]


@dataclass(frozen=True)
class Result:
    """Base of every single-estimate result (see the module docstring)."""

    estimate: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    pvalue: float = math.nan
    n: int = 0
    confidence: float = 0.95
    ci_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields, in declaration order."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (tuple, list, dict)) or getattr(value, "ndim", 0) > 0:
                continue  # tuples, mappings and arrays (numpy scalars are kept)
            out[f.name] = value
        return out

    def to_frame(self):
        """A one-row ``polars.DataFrame`` of the scalar fields."""
        import polars as pl

        return pl.DataFrame([self.to_dict()])


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise ``ValueError`` unless ``0 < confidence < 1``."""
    value = float(confidence)
    if not 0.0 < value < 1.0 or math.isnan(value):
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return value


def deprecated_alias(old: str, new: str, since: str = "0.2", stacklevel: int = 3) -> None:
    """Warn once per call site that ``old`` is now ``new`` (kept for one release).

    The warning points at the caller of the function (or property) that calls this one;
    a helper one level deeper passes ``stacklevel=4``.
    """
    warnings.warn(
        f"{old} is deprecated since {since} and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed_field(old: str, new: str) -> property:
    """A read-only property ``old`` of a result class that returns the field ``new`` and warns
    (``DeprecationWarning`` at the caller's line): ``bias = renamed_field("bias", "estimate")``."""
    def get(self):
        deprecated_alias(f"{type(self).__name__}.{old}", f"{type(self).__name__}.{new}")
        return getattr(self, new)

    return property(get, doc=f"Deprecated name of ``{new}`` (kept for one release).")


def resolve_confidence(confidence: float, alpha: float | None, where: str) -> float:
    """The checked ``confidence``, or ``1 - alpha`` when a caller still passes the old
    ``alpha=`` keyword of ``where`` (which then warns at the caller's line)."""
    if alpha is not None:
        deprecated_alias(f"{where}(alpha=)", f"{where}(confidence=1 - alpha)", stacklevel=4)
        return check_confidence(1 - alpha)
    return check_confidence(confidence)


def renamed_keywords(**renames: str):
    """Decorator: accept the old keyword names ``old=new`` of a function for one release,
    with a :class:`DeprecationWarning` at the caller's line.

    Example
    -------
    >>> @renamed_keywords(nobs="n")
    ... def share(k, n):
    ...     return k / n
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     share(1, nobs=4), w[0].category.__name__
    (0.25, 'DeprecationWarning')
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old}= (deprecated) and {new}=")
                    deprecated_alias(f"{func.__name__}({old}=)", f"{func.__name__}({new}=)")
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)
        return wrapper
    return decorate
