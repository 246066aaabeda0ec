"""Worker processes for batch work: the start method, and a fork server started early with
zkphoto and MediaPipe already imported, so that each worker starts ready to check photos.

This module imports nothing heavy: the command line calls :func:`start_early` before it loads
the rest of zkphoto, so the fork server's imports run on the other core meanwhile.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import sys

#: Modules the fork server imports once, so every worker forked from it has them: the main
#: module (as multiprocessing does by default) and :mod:`zkphoto._worker_preload`.
PRELOAD = ["__main__", "zkphoto._worker_preload"]


def worker_count(workers: int) -> int:
    """The number of worker processes for ``workers`` (0: one per core; 1: work in-process)."""
    return workers or os.cpu_count() or 1


def pool_context():
    """The multiprocessing context batch workers start from: a fork server that preloads
    ``PRELOAD`` (spawn on macOS, or where there is no fork server).  The preload applies if
    the fork server is not running yet; otherwise workers import what they need themselves."""
    if sys.platform == "darwin" or "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def worker_pool(workers: int, initializer=None, initargs: tuple = ()):
    """A :class:`multiprocessing.pool.Pool` of ``workers`` processes started from
    :func:`pool_context`, whose worker-maintenance thread sleeps while results arrive.

    The standard pool's maintenance thread also waits on the result pipe (since bpo-35493, so
    that a worker retired by ``maxtasksperchild`` is replaced at once): it wakes up whenever a
    result is pending and the result thread has not read it yet, thousands of times a second
    on a busy pool, and took ~0.85 s of CPU per 2000 photos away from the workers.  Without
    ``maxtasksperchild`` no worker retires, and a worker that dies still wakes the thread
    through its own sentinel."""
    return _quiet_pool_class()(workers, initializer, initargs, context=pool_context())


@functools.cache
def _quiet_pool_class():
    from multiprocessing.pool import Pool  # (not at the top: kept out of start-up)

    class QuietPool(Pool):
        """A pool whose maintenance thread waits on worker exits and state changes only."""

        def _get_sentinels(self):
            return [self._change_notifier._reader]

    return QuietPool


def start_early() -> None:
    """Start the fork server now (it imports ``PRELOAD`` while the caller goes on), so the
    workers a pool creates later fork from a server that is ready."""
    ctx = pool_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
