"""Imported by the batch fork server (:mod:`zkphoto.procs`), so that every worker forked from
it starts with the checks, OpenCV, Pillow's decoders and MediaPipe already imported.  The
models themselves are created in each worker (``measure.face.warm_up``): a MediaPipe graph runs
threads, which a fork would not carry over."""

import cv2  # noqa: F401  (the checks import it on first use: ~0.1 s on each worker's first photo)
from PIL import Image

from . import batch  # noqa: F401  (the worker functions, the pipeline and every check)
from .measure.face import import_mediapipe

Image.preinit()  # Pillow's common format plugins (JPEG, PNG, BMP, GIF, PPM), loaded on first open
import_mediapipe()
