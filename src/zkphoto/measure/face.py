"""Face measurements from MediaPipe (0.10.21, models shipped inside the wheel; nothing is
downloaded): full-range face detection for counting faces, FaceMesh (478 landmarks with iris)
for geometry, and selfie segmentation for the person mask.

Models are created once per process on first use and reused (guarded by a lock: MediaPipe
graphs are not re-entrant).  All coordinates are pixels of the image as stored, origin top-left.
"Left" and "right" are as seen in the image (viewer's left), not the subject's.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from .stats import median, percentiles

_LOCK = threading.Lock()
_MODELS: dict[str, object] = {}

# FaceMesh landmark indices (canonical MediaPipe topology).
IRIS_L = 468  # iris centre of the eye on the image's left (subject's right eye)
IRIS_R = 473
EYE_L = {"outer": 33, "inner": 133, "top": (159, 158), "bottom": (145, 153)}
EYE_R = {"outer": 263, "inner": 362, "top": (386, 385), "bottom": (374, 380)}
CHEEK_L, CHEEK_R = 234, 454
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
MOUTH_L, MOUTH_R = 78, 308  # inner mouth corners
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip


def _quiet() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _native_stderr_silenced():
    """Silence MediaPipe's C++ log lines (absl/glog write straight to fd 2, ignoring Python).

    Set ZKPHOTO_MEDIAPIPE_LOGS=1 to see them.
    """
    if os.environ.get("ZKPHOTO_MEDIAPIPE_LOGS") == "1":
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _model(name: str):
    """The process-wide MediaPipe solution ``name`` (created on first use)."""
    m = _MODELS.get(name)
    if m is not None:
        return m
    _quiet()
    with _native_stderr_silenced():
        m = _create(name)
    _MODELS[name] = m
    return m


#: MediaPipe modules its package ``__init__`` imports that zkphoto never uses, which
#: :func:`import_mediapipe` defers: the drawing helpers (they import matplotlib's pyplot), the
#: other solutions (hands, pose, holistic, objectron: protobufs, and urllib for their model
#: downloads) and the Tasks API (its audio tasks import sounddevice).
_MP_UNUSED = (
    ("mediapipe.python.solutions.drawing_utils", "python/solutions/drawing_utils.py"),
    ("mediapipe.python.solutions.drawing_styles", "python/solutions/drawing_styles.py"),
    ("mediapipe.python.solutions.hands", "python/solutions/hands.py"),
    ("mediapipe.python.solutions.holistic", "python/solutions/holistic.py"),
    ("mediapipe.python.solutions.objectron", "python/solutions/objectron.py"),
    ("mediapipe.python.solutions.pose", "python/solutions/pose.py"),
    ("mediapipe.tasks.python", "tasks/python/__init__.py"),
)

#: Packages between ``mediapipe`` and a deferred module that nothing imports before it: they
#: are imported up front (their ``__init__`` must hold nothing but a docstring), so that the
#: package's ``import mediapipe.tasks.python as tasks`` finds its parent.
_MP_EMPTY_PARENTS = (("mediapipe.tasks", "tasks/__init__.py"),)


def _empty_package(name: str, path: str):
    """The package ``name`` from its ``__init__`` at ``path``, executed and registered — or
    None when that file holds anything but a docstring."""
    import ast
    import importlib.util

    with open(path, encoding="utf-8") as f:
        body = ast.parse(f.read()).body
    if any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body):
        return None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=[os.path.dirname(path)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def import_mediapipe():
    """The ``mediapipe`` package, imported without executing the modules in ``_MP_UNUSED``
    until someone uses them.

    ``import mediapipe`` runs its drawing helpers, which import matplotlib's pyplot (about 0.45
    of its 0.6 s), its other solutions and its Tasks API (0.15 s more): paid by every command
    and every batch worker for modules zkphoto never calls.  Each of them is registered as a placeholder
    module before the package is imported, and bound where the package would bind it; the
    first attribute looked up on a placeholder imports the real module into it, so code that
    does use them (``mp.solutions.drawing_utils…``) still gets them.  If anything about the
    package's layout differs, this is a plain ``import mediapipe``."""
    mp = sys.modules.get("mediapipe")
    if mp is not None:
        return mp
    import importlib.util

    placed = {}
    try:
        spec = importlib.util.find_spec("mediapipe")  # (finds the package without running it)
        root = next(iter(spec.submodule_search_locations or ()), None) if spec else None
        ready = {"mediapipe"}
        for name, rel in _MP_EMPTY_PARENTS if root else ():
            path = os.path.join(root, *rel.split("/"))
            if os.path.isfile(path) and _empty_package(name, path) is not None:
                ready.add(name)
                placed[name] = None
        for name, rel in _MP_UNUSED if root else ():
            path = os.path.join(root, *rel.split("/"))
            parent = next((p for p, _ in _MP_EMPTY_PARENTS if name.startswith(p + ".")), "mediapipe")
            if os.path.isfile(path) and parent in ready:
                sys.modules[name] = placed[name] = _Deferred(name, path)
        import mediapipe as mp
    except Exception:  # noqa: BLE001 - an unexpected layout: import it the ordinary way
        for name, mod in placed.items():  # (what did import stays: its native parts load once)
            if mod is not None and sys.modules.get(name) is mod:
                del sys.modules[name]
        import mediapipe as mp

        return mp
    for name, mod in placed.items():  # bind each where its package's import would have
        parent, _, attr = name.rpartition(".")
        if mod is not None and parent in sys.modules and attr not in vars(sys.modules[parent]):
            setattr(sys.modules[parent], attr, mod)
    return mp


class _Deferred(type(sys)):
    """A module that imports itself on its first attribute look-up (see ``import_mediapipe``).

    Until then it carries only what the import system reads of a module in ``sys.modules``
    (``__spec__``, ``__file__``, ``__path__`` for a package), so importing it again, or one of
    its submodules, does not load it."""

    def __init__(self, name: str, path: str):
        import importlib.util

        super().__init__(name)
        is_pkg = os.path.basename(path) == "__init__.py"
        self.__spec__ = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[os.path.dirname(path)] if is_pkg else None)
        self.__file__ = path
        if is_pkg:
            self.__path__ = [os.path.dirname(path)]

    def __getattr__(self, attr: str):
        import importlib

        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules.setdefault(name, self)
                raise
            vars(self).update(vars(real))  # later look-ups find everything here
            parent, _, short = name.rpartition(".")
            if getattr(sys.modules.get(parent), short, None) is self:
                setattr(sys.modules[parent], short, real)
        else:
            real = sys.modules[name]
        return getattr(real, attr)


def _create(name: str):
    mp = import_mediapipe()  # heavy: imported only when a face check runs

    if name == "mesh":
        m = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=3,
            min_detection_confidence=0.5,
        )
    elif name == "detect":
        m = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.6)
    elif name == "segment":
        m = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    else:  # pragma: no cover
        raise KeyError(name)
    return m


def warm_up() -> None:
    """Load every model now (batch workers call this once at start)."""
    img = np.zeros((64, 64, 3), np.uint8)
    detect_faces(img)
    mesh_landmarks(img)
    person_mask(img)


#: Detector score above which a face counts even when the mesh finds no landmarks.
STRONG_DETECTION = 0.8


@dataclass(frozen=True)
class Detection:
    """One detected face: box (x, y, w, h) in pixels and the detector's score."""

    box: tuple[float, float, float, float]
    score: float


#: Longest side handed to MediaPipe. Larger photos are shrunk first (the models work at
#: 128–256 px anyway); outputs are normalised or scaled back, so callers never notice.  It also
#: keeps OpenCV's 32767-px remap limit inside MediaPipe (a native abort) out of reach.
MODEL_MAX_SIDE = 2048


def _model_input(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        from ..checks.registry import NotAssessable

        raise NotAssessable("图像太窄，无法检测人脸", "the image is too narrow to look for a face")
    if max(h, w) <= MODEL_MAX_SIDE:
        return np.ascontiguousarray(rgb)
    import cv2

    s = MODEL_MAX_SIDE / max(h, w)
    size = (max(8, round(w * s)), max(8, round(h * s)))
    return cv2.resize(np.asarray(rgb), size, interpolation=cv2.INTER_AREA)


def detect_faces(rgb: np.ndarray) -> list[Detection]:
    """All faces the full-range detector finds (small and far faces included)."""
    h, w = rgb.shape[:2]
    img = _model_input(rgb)
    with _LOCK, _native_stderr_silenced():
        res = _model("detect").process(img)
    out = []
    for d in res.detections or []:
        b = d.location_data.relative_bounding_box
        out.append(Detection((b.xmin * w, b.ymin * h, b.width * w, b.height * h), float(d.score[0])))
    return out


def mesh_landmarks(rgb: np.ndarray) -> np.ndarray | None:
    """478×3 landmarks (x px, y px, z in x-pixel units) of the largest face, or None."""
    h, w = rgb.shape[:2]
    img = _model_input(rgb)
    with _LOCK, _native_stderr_silenced():
        res = _model("mesh").process(img)
    if not res.multi_face_landmarks:
        return None
    faces = [np.array([(p.x * w, p.y * h, p.z * w) for p in f.landmark], dtype=np.float64)
             for f in res.multi_face_landmarks]
    # the subject is the largest face (a small face in a corner is someone else)
    return max(faces, key=lambda a: float(np.ptp(a[list(FACE_OVAL), 0])))


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """H×W float32 probability (0–1) that a pixel belongs to the person (selfie segmentation)."""
    h, w = rgb.shape[:2]
    img = _model_input(rgb)
    with _LOCK, _native_stderr_silenced():
        res = _model("segment").process(img)
    m = np.asarray(res.segmentation_mask, dtype=np.float32)
    if m.shape[:2] != (h, w):
        import cv2

        m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
    return m


@dataclass
class FaceGeometry:
    """Geometry derived from one face's landmarks (and the person mask for the hair top)."""

    landmarks: np.ndarray
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]
    eye_line_y: float
    face_left_x: float
    face_right_x: float
    face_width: float
    face_center_x: float
    chin_y: float
    forehead_y: float
    yaw: float
    pitch: float
    roll: float
    ear_left: float
    ear_right: float
    mouth_gap: float
    gaze_h: tuple[float, float]
    gaze_v: tuple[float, float]
    extra: dict = field(default_factory=dict)


def _ear(lm: np.ndarray, eye: dict) -> float:
    """Eye aspect ratio (Soukupová & Čech 2016) on the FaceMesh eye contour."""
    p_out, p_in = lm[eye["outer"], :2], lm[eye["inner"], :2]
    width = np.linalg.norm(p_out - p_in)
    if width < 1e-6:
        return 0.0
    v = sum(np.linalg.norm(lm[t, :2] - lm[b, :2]) for t, b in zip(eye["top"], eye["bottom"]))
    return float(v / (2.0 * width))


def _gaze(lm: np.ndarray, eye: dict, iris: int) -> tuple[float, float]:
    """Iris centre position inside the eye: horizontal 0 (image-left corner) … 1 (image-right
    corner), vertical 0 (top lid) … 1 (bottom lid); 0.5 is straight ahead."""
    a, b = lm[eye["outer"], :2], lm[eye["inner"], :2]
    left, right = (a, b) if a[0] < b[0] else (b, a)
    ix, iy = lm[iris, 0], lm[iris, 1]
    h = (ix - left[0]) / max(right[0] - left[0], 1e-6)
    top = sum(float(lm[t, 1]) for t in eye["top"]) / len(eye["top"])
    bot = sum(float(lm[t, 1]) for t in eye["bottom"]) / len(eye["bottom"])
    v = (iy - top) / max(bot - top, 1e-6)
    return float(h), float(v)


def geometry(lm: np.ndarray) -> FaceGeometry:
    """Derive eye line, face width, pose, eye openness, mouth gap and gaze from landmarks.

    Pose uses MediaPipe's 3-D landmarks (z in the same pixel scale as x): yaw from the depth
    difference across the cheeks (234→454), pitch from the forehead→chin vector (10→152, which
    is vertical to within 0.7° in MediaPipe's canonical face), roll from the iris centres.
    Positive yaw: the face turns towards the image's right; positive pitch: chin up; positive
    roll: the head tilts clockwise in the image.
    """
    le = (float(lm[IRIS_L, 0]), float(lm[IRIS_L, 1]))
    re = (float(lm[IRIS_R, 0]), float(lm[IRIS_R, 1]))
    if le[0] > re[0]:
        le, re = re, le
    oval = lm[list(FACE_OVAL)]
    fl, fr = float(oval[:, 0].min()), float(oval[:, 0].max())
    cheek = lm[CHEEK_R] - lm[CHEEK_L]
    yaw = math.degrees(math.atan2(-cheek[2], cheek[0]))
    vert = lm[CHIN] - lm[FOREHEAD]
    pitch = math.degrees(math.atan2(vert[2], vert[1]))
    roll = math.degrees(math.atan2(re[1] - le[1], re[0] - le[0]))
    mouth_w = np.linalg.norm(lm[MOUTH_R, :2] - lm[MOUTH_L, :2])
    gap = np.linalg.norm(lm[LIP_LOWER_INNER, :2] - lm[LIP_UPPER_INNER, :2])
    gl, gr = _gaze(lm, EYE_L, IRIS_L), _gaze(lm, EYE_R, IRIS_R)
    return FaceGeometry(
        landmarks=lm,
        left_eye=le,
        right_eye=re,
        eye_line_y=(le[1] + re[1]) / 2.0,
        face_left_x=fl,
        face_right_x=fr,
        face_width=fr - fl,
        face_center_x=(fl + fr) / 2.0,
        chin_y=float(lm[CHIN, 1]),
        forehead_y=float(lm[FOREHEAD, 1]),
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        ear_left=_ear(lm, EYE_L),
        ear_right=_ear(lm, EYE_R),
        mouth_gap=float(gap / mouth_w) if mouth_w > 1e-6 else 0.0,
        gaze_h=(gl[0], gr[0]),
        gaze_v=(gl[1], gr[1]),
    )


def hair_top(mask: np.ndarray, geo: FaceGeometry, threshold: float = 0.5) -> float | None:
    """Top of the head (hair included): the first row, scanning down, where the person mask
    covers at least a quarter of the head's central columns.

    The head's central columns are the middle 60 % of the face-oval width.  The mask edge is
    refined to sub-pixel precision by interpolating where the column-averaged probability
    crosses ``threshold``.  None when no mask is found above the eyes.
    """
    h, w = mask.shape
    half = 0.3 * geo.face_width
    x0 = max(0, int(round(geo.face_center_x - half)))
    x1 = min(w, int(round(geo.face_center_x + half)) + 1)
    if x1 - x0 < 2:
        return None
    limit = int(min(h, max(1, geo.eye_line_y)))
    band = mask[:limit, x0:x1]
    cover = np.count_nonzero(band >= threshold, axis=1) / band.shape[1]  # (the mean, as integers)
    return _first_crossing(cover, 0.25)


def _first_crossing(cover: np.ndarray, level: float) -> float | None:
    """Sub-pixel row (pixel-centre convention) where ``cover`` first reaches ``level``."""
    rows = np.nonzero(cover >= level)[0]
    if rows.size == 0:
        return None
    r = int(rows[0])
    if r == 0:
        return 0.0
    c0, c1 = cover[r - 1], cover[r]
    frac = (level - c0) / (c1 - c0) if c1 > c0 else 0.0
    return float(r - 1 + frac + 0.5)


def refine_hair_top(rgb: np.ndarray, mask: np.ndarray, geo: FaceGeometry, coarse: float,
                    search: int = 12, ref_face_width: float = 240.0) -> tuple[float, str]:
    """Refine the mask's hair top on the pixels, against the plain background above the head.

    The person mask comes from a 256×256 model scaled up, so its edge wanders by a few pixels
    as the photo moves.  Where the background above the head is plain (as the standard
    requires), the top of the hair is found again on the pixels: the region around the mask's
    answer is first resampled so the face is ``ref_face_width`` px wide (the scale of a
    compliant 480×640 photo, so fine strands count the same at any resolution) and lightly
    blurred; the background colour is the median of a band just above the search window (a
    vignette or slow gradient does not bias it); a pixel is "not background" when its colour
    distance exceeds 3× the band's own spread (at least 18); and the mask's rule — a quarter of
    the head's central columns — is applied within ±``search`` px (at the reference scale).
    Busy backgrounds, or no crossing in the window, keep the mask's answer.
    Returns (y, method) with method ``pixels`` or ``mask``.
    """
    h, w = mask.shape
    s = min(1.0, ref_face_width / max(geo.face_width, 1.0))
    win = search / s  # search half-window in image pixels
    band = 24 / s
    half = 0.3 * geo.face_width
    x0 = max(0, int(round(geo.face_center_x - half)))
    x1 = min(w, int(round(geo.face_center_x + half)) + 1)
    top_end = int(coarse - win)
    top_start = max(0, int(top_end - band))
    y1 = min(h, int(coarse + win) + 1)
    if top_end - top_start < 4 or x1 - x0 < 4:
        return coarse, "mask"
    import cv2

    region = np.asarray(rgb[top_start:y1, x0:x1], dtype=np.float32)
    mreg = np.asarray(mask[top_start:y1, x0:x1], dtype=np.float32)
    if s < 0.95:
        size = (max(4, round(region.shape[1] * s)), max(4, round(region.shape[0] * s)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
        mreg = cv2.resize(mreg, size, interpolation=cv2.INTER_AREA)
        k = region.shape[0] / (y1 - top_start)  # exact row scale after rounding
    else:
        k = 1.0
    split = int(round((top_end - top_start) * k))
    top = np.ascontiguousarray(region[:split]).reshape(-1, 3)
    bg_pixels = np.take(top, np.flatnonzero(mreg[:split] < 0.2), axis=0)
    if len(bg_pixels) < 50:
        return coarse, "mask"
    mu = median(bg_pixels, axis=0)
    ones = np.ones(3, np.float32)
    d = bg_pixels - mu
    spread = float(percentiles(np.sqrt((d * d) @ ones), (95,))[0])
    if spread > 20:  # not a plain background
        return coarse, "mask"
    patch = cv2.GaussianBlur(region[split:], (3, 3), 0)
    d = patch - mu
    dist = np.sqrt((d * d) @ ones)
    fg = dist > max(3.0 * spread, 18.0)
    cover = np.maximum.accumulate(fg, axis=0).mean(axis=1)
    y = _first_crossing(cover, 0.25)
    if y is None:
        return coarse, "mask"
    return top_start + (split + y) / k, "pixels"


#: Where ``shoulder_points`` samples the mask: 0.75–1.05 face widths from the face centre.
_SHOULDER_KS = tuple(np.linspace(0.75, 1.05, 7).tolist())


def shoulder_points(mask: np.ndarray, geo: FaceGeometry, threshold: float = 0.5):
    """Left and right shoulder heights from the person mask's upper outline.

    Samples columns at 0.75–1.05 face widths either side of the face centre, from the mouth
    down, and takes the median top-of-mask row on each side.  Returns ((xl, yl), (xr, yr)) or None
    when a side leaves the image or shows no body.
    """
    h, w = mask.shape
    fw = geo.face_width
    # scan from the mouth, not the chin: a raised shoulder can reach above the chin line
    start = max(0, int(geo.landmarks[LIP_LOWER_INNER, 1]))
    cols = [[int(round(geo.face_center_x + sign * k * fw)) for k in _SHOULDER_KS] for sign in (-1, 1)]
    inside = sorted({x for side in cols for x in side if 0 <= x < w})
    # the sampled columns read in one gather (column by column, every row is a cache miss)
    top = {}
    if inside and start < h:
        body = mask[start:, inside] >= threshold
        top = {x: r for x, r, a in zip(inside, body.argmax(axis=0).tolist(), body.any(axis=0).tolist()) if a}
    out = []
    for side in cols:
        ys, xs = [], []
        for x in side:
            if x in top:
                ys.append(start + top[x])
                xs.append(x)
        if len(ys) < 3:
            return None
        out.append((float(statistics.median(xs)), float(statistics.median(ys))))
    return out[0], out[1]
