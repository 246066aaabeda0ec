"""Cross-check zkphoto's eye line (MediaPipe iris centres) against an independent detector:
dlib's HOG face detector + 68-point shape predictor (iBUG 300-W), from the optional
`crosscheck` extra (``pip install dlib-bin face-recognition-models``).  Skipped without dlib.

dlib's eye line is the mean y of each eye's six contour points (36-41, 42-47), averaged over
both eyes.  The two definitions differ slightly (dlib's contour centroid sits ~2-4 px lower
than the iris centre in a 480×640 frame: benchmarks/face_accuracy.py prints the figures), so
the tolerance is relative to the face width: 2.5 % (6 px for a 240 px face).
"""

from __future__ import annotations

import numpy as np
import pytest

import facehelpers as fh
from facehelpers import neutral, stim

pytest.importorskip("dlib")
pytest.importorskip("face_recognition_models")

PORTRAITS = [neutral("005"), neutral("025"), neutral("062"), neutral("091"), stim("30cm"), stim("lisa2")]
REL_TOL = 0.025


@pytest.fixture(scope="module", autouse=True)
def _portraits():
    fh.require_portraits()


@pytest.mark.parametrize("name", PORTRAITS)
def test_eye_line_agrees_with_dlib_at_480x640(name):
    img = np.asarray(fh.place(name))  # eye line 250, face 240 px
    r = fh.check(img)
    zk = r.check("face.eye_line").measured
    width = r.check("face.width").measured["face_width"]
    d = fh.dlib_eye_line(img)
    assert d is not None, "dlib found no face"
    line, a, b = d
    assert zk["eye_line_y"] == pytest.approx(line, abs=REL_TOL * width)
    # each eye separately (both list the image-left eye first)
    assert zk["left_eye_y"] == pytest.approx(a, abs=REL_TOL * width)
    assert zk["right_eye_y"] == pytest.approx(b, abs=REL_TOL * width)


@pytest.mark.parametrize("name", PORTRAITS[:3])
def test_eye_line_agrees_with_dlib_at_original_size(name):
    src = fh.source(name)
    d = fh.dlib_eye_line(np.asarray(fh.rgb(name)))
    assert d is not None, "dlib found no face"
    assert src.eye_line_y == pytest.approx(d[0], abs=REL_TOL * src.face_width)


@pytest.mark.parametrize("k", [-30, 30])
def test_both_detectors_follow_a_translation(k):
    """The metamorphic relation holds for the independent detector too, and the two agree on
    how far the eyes moved."""
    img = np.asarray(fh.place(neutral("091")))
    moved = fh.shift(img, dy=k)
    d0, d1 = fh.dlib_eye_line(img), fh.dlib_eye_line(moved)
    z0 = fh.check(img).check("face.eye_line").measured["eye_line_y"]
    z1 = fh.check(moved).check("face.eye_line").measured["eye_line_y"]
    assert d1[0] - d0[0] == pytest.approx(k, abs=1.5)
    assert (z1 - z0) == pytest.approx(d1[0] - d0[0], abs=2.0)
