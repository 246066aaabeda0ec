"""Keep the numeric libraries on the calling thread.

zkphoto's per-photo arrays are small (a 480×640 photo, a 160×214 analysis grid): splitting
that work across OpenCV's and OpenBLAS's thread pools costs more in hand-offs than it saves,
and their idle threads spin.  In a batch, where every core already runs a worker process,
those spinning threads steal time from the other workers (on the 2-core benchmark machine a
third of the CPU went to them).  Workers and the server pool therefore call
:func:`single_threaded` once; a library user can too.  Nothing else in the process changes.
"""

from __future__ import annotations

import ctypes
import glob
import os

_SYMBOLS = ("openblas_set_num_threads64_", "openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def single_threaded() -> None:
    """Run OpenCV and numpy's bundled OpenBLAS on one thread in this process (best effort:
    a library that is missing or built differently is left as it is)."""
    try:
        import cv2

        cv2.setNumThreads(1)
    except Exception:  # noqa: BLE001 - optional tuning
        pass
    try:
        import numpy as np

        libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
        for path in glob.glob(os.path.join(libs, "libopenblas*.so*")):
            lib = ctypes.CDLL(path)
            for sym in _SYMBOLS:
                fn = getattr(lib, sym, None)
                if fn is not None:
                    fn(1)
                    break
    except Exception:  # noqa: BLE001 - optional tuning
        pass
