"""Threads of the numerical work: one BLAS thread where the parallelism is elsewhere.

Used by the bootstrap's lean path (its own threads over blocks of resamples), the
streaming summary, the MentalAlign tables and the REML fit. Why one BLAS thread:

* on 2 busy cores OpenBLAS's second thread spins: one MentalAlign judge's 32 products of
  64-resample blocks took 1.6 s instead of 0.09 s, and a REML fit 10x longer (measured);
* a product of a few rows by millions of items is summed in another order on two BLAS
  threads than on one (measured), so a result would depend on the machine's threads.
"""

from __future__ import annotations

import os


def one_blas_thread():
    """A context in which BLAS uses one thread (``threadpoolctl``, a dependency)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; ``os.cpu_count()`` elsewhere)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


__all__ = ["one_blas_thread", "usable_cores"]
