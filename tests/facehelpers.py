"""Helpers for the face-geometry tests: place a real portrait into a 480×640 frame with a chosen
eye line, face width and horizontal offset (like ``fixtures/make_fixtures.py``), shift, rotate,
and edit real photos, and run zkphoto on the result.

Portraits come from ``shared/portraits/img`` (see its MANIFEST.tsv): the Face Research Lab London
Set (CC-BY-4.0, DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5) and the CC0
webmorphR.stim "lisa"/"zoom" selfies.  Nothing is written to disk: images are built in memory and
cached, so each test module pays for one placement per portrait at most.

Geometry of a placement: the source photo is scaled by ``s = face_w / measured_face_width`` and
translated so the measured eye line lands on row ``eye_y`` and the face centre on column
``width / 2 + dx``.  Outside the source, the frame repeats the source's edge pixels
(``BORDER_REPLICATE``: background above and at the sides, clothing below).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import zkphoto
from zkphoto.context import PhotoContext

REPO = Path(__file__).resolve().parents[1]


def _portrait_dir() -> Path:
    env = os.environ.get("ZKPHOTO_PORTRAITS")
    for cand in ([Path(env)] if env else []) + [
        REPO.parent / "shared" / "portraits" / "img",
        Path("/work/shared/portraits/img"),
    ]:
        if cand.is_dir():
            return cand
    return REPO.parent / "shared" / "portraits" / "img"


PORTRAITS = _portrait_dir()

#: The 20 ICAO-like neutral frontal studio portraits (London Set, *_03).
NEUTRAL = [
    "003", "005", "006", "008", "014", "020", "021", "024", "025", "030",
    "033", "036", "037", "038", "042", "061", "062", "087", "091", "096",
]  # fmt: skip
#: Open-mouth smiles of five of the same people (*_08).
SMILES = ["002", "004", "008", "025", "030"]
#: Selfies of one person at 15/30/45/60 cm, and four webcam shots of another.
SELFIES = ["15cm", "30cm", "45cm", "60cm"]
LISA = ["lisa1", "lisa2", "lisa3", "lisa4"]

W, H = 480, 640


def neutral(n: str) -> str:
    return f"webmorphR.stim__{n}_03.jpg"


def smile(n: str) -> str:
    return f"webmorphR.stim__{n}_08.jpg"


def stim(n: str) -> str:
    return f"webmorphR.stim__{n}.jpg"


ALL_USABLE = (
    [neutral(n) for n in NEUTRAL] + [smile(n) for n in SMILES] + [stim(n) for n in SELFIES]
    + [stim(n) for n in LISA]
)


def path(name: str) -> Path:
    return PORTRAITS / name


def require_portraits() -> None:
    """Skip (not fail) when the shared portraits are not beside this checkout."""
    import pytest

    if not path(neutral("005")).is_file():
        pytest.skip(f"shared portraits not found in {PORTRAITS}")


# --------------------------------------------------------------------------- source measurements


@dataclass(frozen=True)
class Source:
    """What zkphoto measures on an original (unplaced) portrait."""

    name: str
    width: int
    height: int
    eye_line_y: float
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]
    face_width: float
    face_center_x: float
    chin_y: float
    roll: float
    hair_top_y: float | None

    @property
    def eye_mid(self) -> tuple[float, float]:
        return ((self.left_eye[0] + self.right_eye[0]) / 2, (self.left_eye[1] + self.right_eye[1]) / 2)


@lru_cache(maxsize=64)
def rgb(name: str) -> np.ndarray:
    """The portrait's pixels as stored (RGB uint8, read-only)."""
    im = Image.open(path(name)).convert("RGB")
    a = np.ascontiguousarray(np.asarray(im))
    a.setflags(write=False)
    return a


@lru_cache(maxsize=64)
def source(name: str) -> Source | None:
    """zkphoto's measurements on the original photo; None when no face is found."""
    ctx = PhotoContext.from_source(path(name))
    if ctx.landmarks is None:
        return None
    g = ctx.face
    try:
        ht = ctx.hair_top_y
    except Exception:  # noqa: BLE001 - NotAssessable: no hair top on this photo
        ht = None
    return Source(name, ctx.width, ctx.height, g.eye_line_y, g.left_eye, g.right_eye, g.face_width,
                  g.face_center_x, g.chin_y, g.roll, ht)


# --------------------------------------------------------------------------- placing


@lru_cache(maxsize=128)
def _scaled(name: str, s: float) -> tuple[np.ndarray, float, float]:
    """The source resized by ~``s`` (area filter); returns the image and the exact x/y scales."""
    src = rgb(name)
    h, w = src.shape[:2]
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    out = cv2.resize(np.asarray(src), (nw, nh), interpolation=interp)
    out.setflags(write=False)
    return out, nw / w, nh / h


def affine(img: np.ndarray, m: np.ndarray, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """``img`` mapped by the 2×3 matrix ``m`` into a ``size`` frame, edges replicated."""
    return cv2.warpAffine(np.asarray(img), m, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def place_scaled(name: str, s: float, tx: float, ty: float, size=(W, H)) -> np.ndarray:
    """Scale the source by ``s`` then translate it by (tx, ty) (source origin → frame)."""
    img, sx, sy = _scaled(name, round(s, 6))
    # point (x, y) of the source sits at (x*sx, y*sy) in ``img``; move it to (x*s + tx, y*s + ty)
    m = np.float32([[1, 0, tx], [0, 1, ty]])
    if abs(sx - s) > 1e-9 or abs(sy - s) > 1e-9:  # correct the resize's rounding exactly
        m = np.float32([[s / sx, 0, tx], [0, s / sy, ty]])
    return affine(img, m, size)


@lru_cache(maxsize=512)
def _place(name: str, eye_y: float, face_w: float, dx: float, size: tuple[int, int]) -> np.ndarray:
    g = source(name)
    if g is None:
        raise ValueError(f"no face found in {name}")
    s = face_w / g.face_width
    tx = size[0] / 2 + dx - g.face_center_x * s
    ty = eye_y - g.eye_line_y * s
    out = place_scaled(name, s, tx, ty, size)
    out.setflags(write=False)
    return out


def place(name: str, eye_y: float = 250, face_w: float = 240, dx: float = 0,
          size: tuple[int, int] = (W, H)) -> np.ndarray:
    """``name`` scaled so its face is ``face_w`` px wide, its eye line on row ``eye_y`` and its
    face centre ``dx`` px right of the frame's centre (read-only RGB array)."""
    return _place(name, float(eye_y), float(face_w), float(dx), tuple(size))


@lru_cache(maxsize=256)
def _place_box(name: str, top_y: float, chin_y: float, dx: float, size: tuple[int, int]) -> np.ndarray:
    g = source(name)
    if g is None or g.hair_top_y is None:
        raise ValueError(f"no face/hair top in {name}")
    s = (chin_y - top_y) / (g.chin_y - g.hair_top_y)
    tx = size[0] / 2 + dx - g.face_center_x * s
    ty = top_y - g.hair_top_y * s
    out = place_scaled(name, s, tx, ty, size)
    out.setflags(write=False)
    return out


def place_box(name: str, top_y: float, chin_y: float, dx: float = 0,
              size: tuple[int, int] = (W, H)) -> np.ndarray:
    """``name`` scaled and moved so its measured hair top lands on ``top_y`` and its chin on
    ``chin_y`` (Jiangsu composition: head box as fractions of the frame)."""
    return _place_box(name, float(top_y), float(chin_y), float(dx), tuple(size))


def shift(img: np.ndarray, dy: int = 0, dx: int = 0) -> np.ndarray:
    """Translate by whole pixels (content moves down by ``dy``, right by ``dx``), edges
    replicated: every pixel of the subject moves exactly, nothing is resampled."""
    h, w = img.shape[:2]
    return affine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))


def rotate(img: np.ndarray, angle_deg: float, center: tuple[float, float]) -> np.ndarray:
    """Rotate about ``center`` by ``angle_deg`` (OpenCV convention: positive is
    counter-clockwise as displayed), edges replicated."""
    h, w = img.shape[:2]
    # landmark coordinates put pixel i's centre at i + 0.5; OpenCV's matrices at i
    c = (float(center[0]) - 0.5, float(center[1]) - 0.5)
    m = cv2.getRotationMatrix2D(c, float(angle_deg), 1.0)
    return affine(img, m, (w, h))


def fit_frame(name: str, size=(W, H)) -> np.ndarray:
    """A face-free source centre-cropped to the frame's aspect and resized (for negatives)."""
    src = np.asarray(rgb(name))
    h, w = src.shape[:2]
    want = size[1] / size[0]
    if h / w > want:
        ch = round(w * want)
        y0 = (h - ch) // 2
        src = src[y0:y0 + ch]
    else:
        cw = round(h / want)
        x0 = (w - cw) // 2
        src = src[:, x0:x0 + cw]
    return cv2.resize(src, size, interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------- encoding and checking


def png(img: np.ndarray) -> bytes:
    """Lossless PNG bytes (for measurement-only tests: the pixels are exactly ``img``)."""
    b = io.BytesIO()
    Image.fromarray(np.asarray(img)).save(b, "PNG", compress_level=1)
    return b.getvalue()


def jpeg(img: np.ndarray, quality: int = 92, dpi: int = 300) -> bytes:
    b = io.BytesIO()
    Image.fromarray(np.asarray(img)).save(b, "JPEG", quality=quality, dpi=(dpi, dpi), subsampling=2)
    return b.getvalue()


def jpeg_in_window(img: np.ndarray, lo: int = 20 * 1024, hi: int = 40 * 1024, dpi: int = 300) -> bytes:
    """The highest-quality (≥ 60) baseline JPEG of ``img`` whose size is within [lo, hi] bytes
    (what ``fixtures/make_fixtures.py`` does for the shipped samples)."""
    for q in range(95, 59, -1):
        data = jpeg(img, q, dpi)
        if lo <= len(data) <= hi:
            return data
    raise ValueError("cannot fit the image into the size window at quality >= 60")


def check(img_or_bytes, spec: str = "moe-2021", lossless: bool = True):
    """Run the whole spec through the public API on an in-memory photo."""
    data = img_or_bytes if isinstance(img_or_bytes, (bytes, bytearray)) else (
        png(img_or_bytes) if lossless else jpeg(img_or_bytes))
    return zkphoto.check(bytes(data), spec=spec)


def measured(report, check_id: str) -> dict:
    return report.check(check_id).measured


def status(report, check_id: str) -> str:
    return report.check(check_id).status.value


def place_hair(name: str, hair_top_y: float, face_w: float = 240, dx: float = 0,
               size: tuple[int, int] = (W, H)) -> np.ndarray:
    """``name`` with its face ``face_w`` px wide and its measured hair top on row
    ``hair_top_y`` (the eye line follows from the source's proportions)."""
    g = source(name)
    if g is None or g.hair_top_y is None:
        raise ValueError(f"no face/hair top in {name}")
    s = face_w / g.face_width
    return place(name, eye_y=hair_top_y + (g.eye_line_y - g.hair_top_y) * s, face_w=face_w, dx=dx,
                 size=size)


# --------------------------------------------------------------------------- independent detector


@lru_cache(maxsize=1)
def _dlib_models():
    import dlib  # optional: the `crosscheck` extra (dlib-bin + face-recognition-models)
    import face_recognition_models as frm

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(frm.pose_predictor_model_location())


def dlib_landmarks(img: np.ndarray) -> np.ndarray | None:
    """dlib's 68 landmarks (iBUG 300-W layout) of the largest face dlib's HOG detector finds,
    as a 68×2 float array in the same continuous pixel coordinates as zkphoto (pixel i's centre
    at i + 0.5); None when dlib finds no face."""
    import dlib

    det, pred = _dlib_models()
    a = np.ascontiguousarray(np.asarray(img))
    h, w = a.shape[:2]
    # upsample small images so faces of ~80 px are found; large ones are searched as they are
    boxes = det(a, 0 if max(h, w) > 1000 else 1)
    if not boxes and max(h, w) > 1000:
        boxes = det(a, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda r: r.width() * r.height())
    shp = pred(a, dlib.rectangle(box.left(), box.top(), box.right(), box.bottom()))
    return np.array([(shp.part(i).x + 0.5, shp.part(i).y + 0.5) for i in range(68)], dtype=np.float64)


def dlib_eye_line(img: np.ndarray) -> tuple[float, float, float] | None:
    """(eye_line_y, image-left eye y, image-right eye y) from dlib: the mean y of each eye's six
    contour points (36-41 and 42-47), averaged over both eyes."""
    p = dlib_landmarks(img)
    if p is None:
        return None
    a, b = float(p[36:42, 1].mean()), float(p[42:48, 1].mean())
    return (a + b) / 2, a, b


# --------------------------------------------------------------------------- edits of real photos

# FaceMesh eye contours: (corner, corner, upper-lid points, lower-lid points)
_LID = [
    (33, 133, (159, 158, 160, 157, 161), (145, 153, 144, 163, 154)),
    (263, 362, (386, 385, 387, 384, 388), (374, 380, 373, 390, 381)),
]
_EYE_RING = [
    [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
    [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
]


def _landmarks(img: np.ndarray) -> np.ndarray:
    lm = PhotoContext.from_source(png(img)).landmarks
    if lm is None:
        raise ValueError("no face to edit")
    return lm


def close_eyes(img: np.ndarray, keep: float = 0.02) -> np.ndarray:
    """Shut both eyes: in each eye's box, the upper-lid skin is stretched down over the opening,
    which is squeezed into the bottom ``keep`` of its height (a lash line), tapered towards the
    corners (a vertical remap of real pixels: no paint)."""
    lm = _landmarks(img)
    h, w = img.shape[:2]
    mapx, mapy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    for outer, inner, top, bot in _LID:
        xa, xb = sorted([lm[outer, 0], lm[inner, 0]])
        ew = xb - xa
        yt, yb = lm[list(top), 1].min(), lm[list(bot), 1].max()
        op = yb - yt
        y0, ym = yt - 1.2 * op, yb - keep * op
        ys = np.arange(int(y0), min(h, int(yb + 2)))
        yd = ys.astype(np.float32)
        src = np.where(yd < ym, y0 + (yd - y0) * (yt - y0) / (ym - y0),
                       yt + (yd - ym) * (yb - yt) / max(yb - ym, 1e-3))
        half = 0.75 * ew
        for x in range(max(0, int(xa - 0.25 * ew)), min(w, int(xb + 0.25 * ew) + 1)):
            t = np.clip((x - (xa + xb) / 2) / half, -1, 1)
            wgt = np.cos(t * np.pi / 2) ** 0.5
            mapy[ys, x] = (1 - wgt) * yd + wgt * src
    return cv2.remap(np.asarray(img), mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def look_aside(img: np.ndarray, frac: float) -> np.ndarray:
    """Move both irises sideways by ``frac`` of the eye width inside the eye openings (positive:
    towards the image's right); the vacated side repeats the sclera at the opening's edge."""
    lm = _landmarks(img)
    h, w = img.shape[:2]
    mapx, mapy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    for ring in _EYE_RING:
        pts = lm[ring, :2]
        d = frac * (pts[:, 0].max() - pts[:, 0].min())
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
        ys, xs = np.nonzero(mask)
        for y in np.unique(ys):
            row = xs[ys == y]
            mapx[y, row] = np.clip(row - d, row.min(), row.max())
    return cv2.remap(np.asarray(img), mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def tilt_shoulders(img: np.ndarray, deg: float, from_y: float, ramp: float = 40) -> np.ndarray:
    """Shear everything below row ``from_y`` vertically by tan(deg) per pixel from the centre
    column (positive: the image-right side goes down), blending in over ``ramp`` rows; the head
    above ``from_y`` is untouched.  A shoulder line of slope m becomes m + tan(deg)."""
    h, w = img.shape[:2]
    mapx, mapy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    wgt = np.clip((mapy - from_y) / ramp, 0, 1)
    mapy = mapy - wgt * np.float32(np.tan(np.radians(deg))) * (mapx - w / 2)
    return cv2.remap(np.asarray(img), mapx, mapy.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def base_frame(name: str, face_w: float = 220, hair_top_y: float = 90) -> tuple[np.ndarray, bool]:
    """The frame used for metamorphic runs: face ``face_w`` px wide, hair top on row
    ``hair_top_y`` (eye line at 250 when the original cuts the hair at its top edge), and
    whether the hair top is measurable."""
    src = source(name)
    hair_ok = src.hair_top_y is not None and src.hair_top_y > 1.0
    if hair_ok:
        return np.asarray(place_hair(name, hair_top_y, face_w=face_w)), True
    return np.asarray(place(name, eye_y=250, face_w=face_w)), False
