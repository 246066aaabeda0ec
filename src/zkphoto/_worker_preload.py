"""Imported by the batch fork server (:mod:`zkphoto.procs`), so that every worker forked from
it starts with the checks and MediaPipe already imported.  The models themselves are created
in each worker (``measure.face.warm_up``): a MediaPipe graph runs threads, which a fork would
not carry over."""

from . import batch  # noqa: F401  (the worker functions, the pipeline and every check)
from .measure.face import import_mediapipe

import_mediapipe()
