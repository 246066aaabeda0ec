"""Order statistics for the small arrays of the per-photo measurements.

``np.median`` and ``np.percentile`` cost 15–50 µs each in fixed overhead on arrays of a few
thousand values — more than the work itself, and the checks take dozens per photo.  These
helpers give the same values (numpy's default linear interpolation) from one ``np.partition``.
NaNs are not expected (the measurements never produce them) and are not handled specially.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def median(x: np.ndarray, axis: int | None = None) -> np.ndarray | np.floating:
    """Median of ``x`` (flattened when ``axis`` is None, else along axis 0, which must be
    ``axis``), as ``np.median`` gives it."""
    a = np.asarray(x)
    if axis is None:
        a = a.ravel()
    elif axis != 0:
        return np.median(a, axis=axis)
    n = a.shape[0]
    if n == 0:
        return np.median(a, axis=axis)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    k = (n - 1) // 2
    kth = k if n % 2 else (k, k + 1)
    # a copy partitioned in place (the ndarray method: np.partition's dispatch costs more than
    # the work on the small arrays here)
    if a.ndim == 2:  # partition the columns as contiguous rows (much faster than strided)
        p = a.T.copy()
        p.partition(kth, axis=1)
        return p[:, k] if n % 2 else (p[:, k] + p[:, k + 1]) * a.dtype.type(0.5)
    return median_in_place(a.copy())


def median_in_place(a: np.ndarray) -> np.floating:
    """Median of the non-empty 1-D float array ``a`` (as ``np.median`` gives it), partitioning
    ``a`` itself: its order is lost.  For slices of a scratch array, each taken without a copy."""
    n = a.shape[0]
    k = (n - 1) // 2
    if n % 2:
        a.partition(k)
        return a[k]
    a.partition((k, k + 1))
    return (a[k] + a[k + 1]) * a.dtype.type(0.5)


def percentiles(x: np.ndarray, qs: Sequence[float]) -> list:
    """Percentiles ``qs`` (0–100) of ``x`` (flattened if 1-D, else along axis 0), as
    ``np.percentile`` gives them with its default linear interpolation."""
    a = np.asarray(x)
    n = a.shape[0]
    if n == 0:
        return [np.percentile(a, q, axis=0) for q in qs]
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    spots = []
    for q in qs:
        pos = q / 100.0 * (n - 1)
        lo = int(np.floor(pos))
        spots.append((lo, min(lo + 1, n - 1), pos - lo))
    kth = sorted({k for lo, hi, _ in spots for k in (lo, hi)})
    if a.ndim == 2:  # partition the columns as contiguous rows (much faster than strided)
        part = a.T.copy()
        part.partition(kth, axis=1)
        part = part.T
    else:
        part = a.copy()
        part.partition(kth, axis=0)
    return [part[lo] + (part[hi] - part[lo]) * f if f else part[lo] for lo, hi, f in spots]
