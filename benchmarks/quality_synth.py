"""Synthetic photos with exact truth for the background, lighting and image-quality checks
(issue 4), built from the real neutral portraits.  Used by ``benchmarks/quality_eval.py`` and
``tests/test_background_quality.py``.

Recipe.  A portrait (Face Research Lab London Set, CC-BY-4.0, DeBruine & Jones 2017,
doi:10.6084/m9.figshare.5047666.v5) is cropped to 480×640 like ``fixtures/make_fixtures.py``
(face ``face_w`` px wide, eye line on row 250).  zkphoto's own person mask (MediaPipe selfie
segmentation) of that crop, feathered, is the matte; the foreground colours at the soft edge are
freed from the original grey backdrop (``F = (I − (1 − α)·B₀)/α`` with B₀ a smooth fit of the
original backdrop), and the person is composited in linear light onto a new background.  Then one
property at a time is changed by a known amount — background colour, gradient, texture, pasted
objects, a cast shadow, the shirt's colour, Gaussian blur, exposure, one-sided light, a hot spot,
red pupils, an added border, a glare patch or tinted lenses — and the photo is saved as a 300-dpi
JPEG.

Truth.  Every case carries, for the check it targets, the value of the property as *rendered*
(computed on the generated pixels before JPEG, with the generator's own region definitions) and
the spec's threshold; the benchmark counts a case only when the value is outside ±10 % of the
threshold.  Clean composites (reference backgrounds, contrasting shirt, nothing else changed)
must pass every check.
"""

from __future__ import annotations

import io
import math
import os
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

import zkphoto
from zkphoto.context import PhotoContext
from zkphoto.measure.color import delta_e_2000, lab_to_rgb, linear_to_srgb, rgb_to_lab, srgb_to_linear
from zkphoto.measure.face import FACE_OVAL
from zkphoto.measure.regions import BROW_L, BROW_R, EYE_L_CONTOUR, EYE_R_CONTOUR, LIPS_OUTER

REPO = Path(__file__).resolve().parents[1]
W, H = 480, 640

#: The checks this module generates cases for (the issue-4 checks).
CHECKS = [
    "background.color", "background.uniformity", "background.shadow", "clothing.contrast",
    "image.sharpness", "lighting.exposure", "lighting.face_balance", "face.red_eye",
    "image.border", "glasses.glare", "glasses.tinted",
]  # fmt: skip

REFERENCES = {"light blue": (100, 197, 255), "white": (255, 255, 255), "light grey": (240, 240, 240)}
NAVY = (40, 52, 92)


def portrait_dir() -> Path:
    env = os.environ.get("ZKPHOTO_PORTRAITS")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "portraits" / "img",
                                                 Path("/work/shared/portraits/img")]:
        if cand.is_dir():
            return cand
    raise FileNotFoundError("portraits not found: set ZKPHOTO_PORTRAITS to shared/portraits/img")


def neutral_portraits() -> list[str]:
    """The 20 neutral frontal studio portraits (``webmorphR.stim__NNN_03.jpg``)."""
    return sorted(p.name for p in portrait_dir().iterdir() if re.fullmatch(r"webmorphR\.stim__\d{3}_03\.jpg", p.name))


def thresholds(spec: str = "moe-2021") -> dict:
    """The spec's rules for the issue-4 checks (so truth and checker share the thresholds)."""
    sp = zkphoto.load_spec(spec)
    return {c: sp.rule(c) for c in CHECKS}


# --------------------------------------------------------------------------- colour helpers


def lab_of(rgb) -> np.ndarray:
    return rgb_to_lab(np.asarray(rgb, np.float64)).astype(np.float64)


def de00(a_rgb, b_rgb) -> float:
    return float(delta_e_2000(lab_of(a_rgb), lab_of(b_rgb)))


def colour_at_delta_e(base_rgb, target: float, rng: np.random.Generator, lightness_only: bool = False,
                      tries: int = 40) -> tuple[int, int, int]:
    """An sRGB colour (integers, in gamut) at CIEDE2000 ≈ ``target`` from ``base_rgb``."""
    base = lab_of(base_rgb)
    best = None
    for _ in range(tries):
        if lightness_only:
            d = np.array([rng.choice([-1.0, 1.0]), 0.0, 0.0])
        else:
            d = rng.normal(size=3)
            d[0] *= 0.7
            d /= np.linalg.norm(d)
        lo, hi = 0.0, 150.0
        for _ in range(40):
            mid = (lo + hi) / 2
            c = lab_to_rgb(base + mid * d)
            if float(delta_e_2000(lab_of(np.round(c)), base)) < target:
                lo = mid
            else:
                hi = mid
        lab = base + hi * d
        rgb = lab_to_rgb(lab)
        raw = _lab_to_rgb_unclipped(lab)
        if np.all(raw >= -0.5) and np.all(raw <= 255.5):
            c = tuple(int(v) for v in np.clip(np.round(rgb), 0, 255))
            err = abs(de00(c, base_rgb) - target)
            if best is None or err < best[0]:
                best = (err, c)
            if err < 0.15:
                break
    if best is None:
        raise ValueError(f"no in-gamut colour at ΔE {target} from {base_rgb}")
    return best[1]


def _lab_to_rgb_unclipped(lab: np.ndarray) -> np.ndarray:
    from zkphoto.measure.color import D65_WHITE, _XYZ_TO_SRGB

    L = np.asarray(lab, np.float64)
    fy = (L[..., 0] + 16) / 116
    fx = fy + L[..., 1] / 500
    fz = fy - L[..., 2] / 200
    k = 1 / (3 * (6 / 29) ** 2)
    inv = lambda f: np.where(f > 6 / 29, f**3, (f - 4 / 29) / k)  # noqa: E731
    xyz = np.stack([inv(fx) * D65_WHITE[0], inv(fy), inv(fz) * D65_WHITE[2]], axis=-1)
    lin = xyz @ _XYZ_TO_SRGB.T
    return 255 * np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.abs(lin) ** (1 / 2.4) * np.sign(lin) - 0.055)


# --------------------------------------------------------------------------- bases


@dataclass
class Base:
    """One portrait placed in a 480×640 frame, with its matte and the generator's regions."""

    name: str
    face_w: float
    rgb: np.ndarray  # H×W×3 float32, original crop (sRGB 0–255)
    fg_lin: np.ndarray  # H×W×3 float32, foreground colours in linear light (edge-decontaminated)
    alpha: np.ndarray  # H×W float32 matte
    lm: np.ndarray  # 478×3 landmarks of the crop
    iod: float
    chin_y: float
    eye_y: float
    cx: float
    far: np.ndarray  # bool: background farther than the documented margins
    shirt: np.ndarray  # bool: white-shirt pixels (shoulders and chest)
    skin: np.ndarray  # bool: cheeks and lower forehead
    cheek_l: np.ndarray  # bool
    cheek_r: np.ndarray  # bool
    cache: dict = field(default_factory=dict)


def _fill(shape, pts) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(pts)[:, :2] * 4).astype(np.int32)], 1, shift=2)
    return m.astype(bool)


def _crop(src: Path, face_w: float, eye_y: float = 250.0) -> np.ndarray:
    """Crop-and-scale like fixtures/make_fixtures.py (rows past the bottom repeat the last row)."""
    ctx = PhotoContext.from_source(src)
    g = ctx.face
    s = face_w / g.face_width
    left = g.face_center_x - (W / 2) / s
    top = g.eye_line_y - eye_y / s
    im = np.asarray(Image.open(src).convert("RGB"))
    M = np.array([[s, 0, -left * s], [0, s, -top * s]], np.float64)
    return cv2.warpAffine(im, M, (W, H), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def png_bytes(rgb: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8)).save(b, "PNG")
    return b.getvalue()


def jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    b = io.BytesIO()
    Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8)).save(
        b, "JPEG", quality=quality, dpi=(300, 300), subsampling=2)
    return b.getvalue()


@lru_cache(maxsize=64)
def base(name: str, face_w: float = 240.0) -> Base:
    """The portrait ``name`` placed with a ``face_w``-px face, matte and regions (cached)."""
    crop = _crop(portrait_dir() / name, face_w).astype(np.float32)
    ctx = PhotoContext.from_source(png_bytes(crop))
    lm = ctx.landmarks
    if lm is None:
        raise RuntimeError(f"no face in {name}")
    g = ctx.face
    pm = np.asarray(ctx.person_mask, np.float32)
    a = np.clip((pm - 0.3) / 0.4, 0, 1)
    a = cv2.GaussianBlur(a, (0, 0), 1.0)
    a[a < 0.08] = 0.0
    # original backdrop B0: quadratic fit of the far background, per channel (linear light)
    lin = srgb_to_linear(crop).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    bgm = pm < 0.02
    ys, xs = np.nonzero(bgm)
    sel = slice(None, None, max(1, len(ys) // 4000))
    u, v = xs[sel] / W * 2 - 1, ys[sel] / H * 2 - 1
    A = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], 1)
    coef = np.linalg.lstsq(A, lin[ys[sel], xs[sel]], rcond=None)[0]
    U, V = xx / W * 2 - 1, yy / H * 2 - 1
    AA = np.stack([np.ones_like(U), U, V, U * U, U * V, V * V], -1)
    b0 = (AA @ coef).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        fg = (lin - (1 - a[..., None]) * b0) / np.maximum(a[..., None], 1e-3)
    fg = np.where(a[..., None] > 0.98, lin, np.clip(fg, 0, 1)).astype(np.float32)

    person = a >= 0.5
    dist = cv2.distanceTransform((~person).astype(np.uint8), cv2.DIST_L2, 5)
    margin = np.where(yy < g.chin_y, 0.06 * W, 0.03 * W)
    edge = max(2, round(0.01 * W))
    far = (a < 0.01) & (dist > margin + 2)
    far[:edge] = far[-edge:] = False
    far[:, :edge] = far[:, -edge:] = False

    labc = rgb_to_lab(crop)
    chroma = np.hypot(labc[..., 1], labc[..., 2])
    shirt = (a > 0.5) & (yy > g.chin_y) & (labc[..., 0] > 60) & (chroma < 15)
    shirt = cv2.morphologyEx(shirt.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)).astype(bool)

    iod = float(math.dist(g.left_eye, g.right_eye))
    # generator's skin region: face oval shrunk 12 % towards its centroid, minus eye/brow/lip boxes
    oval = lm[list(FACE_OVAL), :2]
    cen = oval.mean(axis=0)
    skin = _fill((H, W), cen + 0.88 * (oval - cen))
    for grp, pad in ((EYE_L_CONTOUR, 0.2), (EYE_R_CONTOUR, 0.2), (BROW_L, 0.12), (BROW_R, 0.12), (LIPS_OUTER, 0.08)):
        p = lm[list(grp), :2]
        x0, y0 = p.min(axis=0) - pad * iod
        x1, y1 = p.max(axis=0) + pad * iod
        skin[int(max(0, y0)):int(y1) + 1, int(max(0, x0)):int(x1) + 1] = False
    brow_top = min(lm[list(BROW_L), 1].min(), lm[list(BROW_R), 1].min())
    skin[: int(brow_top - 0.3 * max(brow_top - g.forehead_y, 0))] = False
    # cheek boxes: below each eye, between the eye's centre column ± 0.2 IOD, rows eye+0.35..+0.75 IOD
    cheek_l = np.zeros((H, W), bool)
    cheek_r = np.zeros((H, W), bool)
    for m, (ex, ey) in ((cheek_l, g.left_eye), (cheek_r, g.right_eye)):
        m[int(ey + 0.35 * iod):int(ey + 0.75 * iod), int(ex - 0.2 * iod):int(ex + 0.2 * iod)] = True
    cheek_l &= skin
    cheek_r &= skin
    return Base(name, face_w, crop, fg, a, lm, iod, g.chin_y, g.eye_line_y, g.face_center_x, far, shirt,
                skin, cheek_l, cheek_r)


def uniform(colour) -> np.ndarray:
    return np.broadcast_to(np.asarray(colour, np.float32), (H, W, 3)).copy()


def composite(b: Base, bg: np.ndarray, fg_lin: np.ndarray | None = None) -> np.ndarray:
    """The person over ``bg`` (sRGB float H×W×3), blended in linear light; sRGB float result."""
    f = b.fg_lin if fg_lin is None else fg_lin
    a = b.alpha[..., None]
    out = a * f + (1 - a) * srgb_to_linear(bg).astype(np.float32)
    return linear_to_srgb(out).astype(np.float32)


def recolour_shirt(b: Base, colour) -> np.ndarray:
    """Foreground (linear) with the white shirt repainted ``colour``, keeping its shading."""
    f = b.fg_lin.copy()
    lin = srgb_to_linear(np.asarray(colour, np.float64))
    y = (b.fg_lin[..., 0] * 0.2126 + b.fg_lin[..., 1] * 0.7152 + b.fg_lin[..., 2] * 0.0722)
    med = float(np.median(y[b.shirt]))
    # the repaint follows a soft version of the shirt mask so its edge does not ring
    m = cv2.GaussianBlur(b.shirt.astype(np.float32), (0, 0), 1.0)[..., None]
    # the shirt's folds, at half their contrast (a light colour must not clip to white)
    shade = np.clip(1 + 0.5 * (y / med - 1), 0.6, 1.25)[..., None]
    f = (1 - m) * f + m * np.clip(shade * lin, 0, 1)
    return f.astype(np.float32)


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One generated photo and what each targeted check should say about it."""

    id: str
    family: str
    make: Callable[[], np.ndarray]  # → sRGB float image
    # check id → list of (value, threshold, kind) with kind "max" (fail above) or "min" (fail below);
    # or the string "pass" for checks that must pass (clean composites)
    truth: dict
    quality: int = 92

    def image(self) -> np.ndarray:
        return self.make()

    def jpeg(self) -> bytes:
        return jpeg_bytes(self.make(), self.quality)


def expected(criteria, band: float = 0.1) -> str | None:
    """'fail', 'pass', or None when a criterion lies within ±``band`` (10 %) of its threshold."""
    if criteria == "pass":
        return "pass"
    verdict = "pass"
    for value, thr, kind in criteria:
        if abs(value - thr) <= band * abs(thr):
            return None
        if (kind == "max" and value > thr) or (kind == "min" and value < thr):
            verdict = "fail"
    return verdict


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def clean_cases(name: str) -> list[Case]:
    """Reference backgrounds, contrasting shirt: every issue-4 check must pass."""
    out = []
    for ref, col in REFERENCES.items():
        def make(col=col, ref=ref):
            b = base(name)
            f = None if ref == "light blue" else recolour_shirt(b, NAVY)
            return composite(b, uniform(col), f)
        out.append(Case(f"{name}:clean:{ref}", "clean", make, {c: "pass" for c in CHECKS}))
    return out


def color_cases(name: str, rules: dict) -> list[Case]:
    thr = rules["background.color"].max_delta_e
    refs = [lab_of(r.rgb) for r in rules["background.color"].references]
    rng = _rng(name, "color")
    cols = []
    for t in (2.0, 4.0, 6.0, 8.0, 12.0, 14.0, 18.0, 25.0):
        ref = list(REFERENCES.values())[int(rng.integers(3))]
        cols.append(colour_at_delta_e(ref, t, rng))
    cols += [(200, 40, 40), (30, 60, 150), (235, 210, 80), (120, 120, 120), (180, 180, 180), (150, 220, 150)]
    out = []
    for i, c in enumerate(cols):
        truth = min(float(delta_e_2000(lab_of(c), r)) for r in refs)

        def make(c=c):
            b = base(name)
            return composite(b, uniform(c), recolour_shirt(b, NAVY))
        out.append(Case(f"{name}:color:{i}:{c}", "color", make, {"background.color": [(truth, thr, "max")]}))
    return out


def _region_spread(img: np.ndarray, region: np.ndarray, n: int = 200, tail: float = 1.0) -> float:
    """Largest CIEDE2000 between two rendered region pixels, leaving out the ``tail`` % most
    extreme pixels of each of L*, a*, b* at either end (sample + each channel's extremes)."""
    ys, xs = np.nonzero(region)
    lab = rgb_to_lab(img[ys, xs].astype(np.float64))
    lo, hi = np.percentile(lab, tail, axis=0), np.percentile(lab, 100 - tail, axis=0)
    lab = lab[np.all((lab >= lo - 1e-6) & (lab <= hi + 1e-6), axis=1)]
    idx = set(np.linspace(0, len(lab) - 1, n).astype(int).tolist())
    for c in range(3):
        idx.add(int(np.argmin(lab[:, c])))
        idx.add(int(np.argmax(lab[:, c])))
    p = lab[sorted(idx)]
    return float(delta_e_2000(p[:, None], p[None]).max())


def gradient_cases(name: str, rules: dict) -> list[Case]:
    r = rules["background.uniformity"]
    rng = _rng(name, "gradient")
    out = []
    specs = []
    for amp in (3.0, 6.0, 10.0, 16.0, 24.0, 32.0, 44.0):
        kind = ["linear", "linear", "vignette"][int(rng.integers(3))]
        specs.append((amp, kind, float(rng.uniform(0, 2 * math.pi)), list(REFERENCES.values())[int(rng.integers(3))]))
    for i, (amp, kind, ang, ref) in enumerate(specs):
        def bgimg(amp=amp, kind=kind, ang=ang, ref=ref):
            b = base(name)
            yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
            if kind == "linear":
                t = ((xx - W / 2) * math.cos(ang) + (yy - H / 2) * math.sin(ang)) / (0.5 * math.hypot(W, H))
            else:
                t = 1 - 2 * (((xx - b.cx) / W) ** 2 + ((yy - b.eye_y) / H) ** 2) / 0.5
            lab = lab_of(ref)
            # darken from the reference (white cannot get brighter): L* = L_ref − amp·(1 − t)/2
            L = lab[0] - amp * (1 - np.clip(t, -1, 1)) / 2
            arr = np.stack([L, np.full_like(L, lab[1]), np.full_like(L, lab[2])], -1)
            return lab_to_rgb(arr).astype(np.float32)

        def make(bgimg=bgimg):
            b = base(name)
            return composite(b, bgimg(), recolour_shirt(b, NAVY))

        b = base(name)
        truth = _region_spread(bgimg(), b.far)
        out.append(Case(f"{name}:gradient:{i}:{kind}:{amp}", "gradient", make,
                        {"background.uniformity": [(truth, r.max_gradient_delta_e, "max")]}))
    return out


def texture_cases(name: str, rules: dict) -> list[Case]:
    r = rules["background.uniformity"]
    rng = _rng(name, "texture")
    out = []
    for i, rms in enumerate((0.8, 1.5, 2.2, 3.8, 5.0, 7.0)):
        kind = ["noise", "stripes", "noise"][i % 3]
        ref = (list(REFERENCES.values())[int(rng.integers(3))] if kind == "noise" else REFERENCES["light blue"])
        seed = int(rng.integers(1 << 30))
        period = float(rng.uniform(10, 24))
        ang = float(rng.uniform(0, math.pi))

        def field_(kind=kind, seed=seed, period=period, ang=ang):
            rr = np.random.default_rng(seed)
            if kind == "noise":
                n = rr.normal(size=(H, W)).astype(np.float32)
                n = cv2.GaussianBlur(n, (0, 0), 2.5)
            else:
                yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
                n = np.sin(2 * math.pi * (xx * math.cos(ang) + yy * math.sin(ang)) / period)
            return n / n.std()

        def bgimg(rms=rms, ref=ref, field_=field_):
            lab = lab_of(ref)
            n = field_()
            # white and light grey have no headroom above: centre the texture below 100 − 2.5 RMS
            L = np.full((H, W), min(float(lab[0]), 100.0 - 2.5 * rms), np.float32)
            arr = np.stack([L + rms * 0.9 * n, np.full_like(L, lab[1]) + rms * 0.3 * n,
                            np.full_like(L, lab[2]) - rms * 0.3 * n], -1)
            return lab_to_rgb(arr).astype(np.float32)

        def make(bgimg=bgimg):
            b = base(name)
            return composite(b, bgimg(), recolour_shirt(b, NAVY))

        b = base(name)
        img = bgimg()
        lab = rgb_to_lab(img[b.far].astype(np.float64))
        d = lab - lab.mean(axis=0)
        truth = float(np.sqrt((d * d).sum(axis=1).mean()))
        out.append(Case(f"{name}:texture:{i}:{kind}:{rms}", "texture", make,
                        {"background.uniformity": [(truth, r.max_texture, "max")]}, quality=95))
    return out


def object_cases(name: str, rules: dict) -> list[Case]:
    r = rules["background.uniformity"]
    rng = _rng(name, "objects")
    b = base(name)
    out = []
    areas = (0.0006, 0.0012, 0.0016, 0.0026, 0.004, 0.008)
    des = (6.0, 14.0, 25.0, 40.0)
    for i in range(8):
        area = float(areas[i % len(areas)])
        de = float(des[int(rng.integers(len(des)))]) if i != 2 else 6.0
        ref = list(REFERENCES.values())[int(rng.integers(3))]
        col = colour_at_delta_e(ref, de, rng)
        shape = ["rect", "ellipse", "tri"][int(rng.integers(3))]
        px = area * W * H
        aspect = float(rng.uniform(0.6, 1.6))
        # place it where the whole object (plus 4 px) lies inside the far background
        if shape == "rect":
            w, h = math.sqrt(px * aspect), math.sqrt(px / aspect)
        elif shape == "ellipse":
            w, h = 2 * math.sqrt(px * aspect / math.pi), 2 * math.sqrt(px / aspect / math.pi)
        else:
            w, h = math.sqrt(2 * px * aspect), math.sqrt(2 * px / aspect)
        k = int(math.ceil(max(w, h) / 2)) + 4
        ok = cv2.erode(b.far.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8)).astype(bool)
        ys, xs = np.nonzero(ok)
        if len(ys) == 0:
            continue
        j = int(rng.integers(len(ys)))
        cx, cy = float(xs[j]), float(ys[j])
        m = np.zeros((H * 4, W * 4), np.uint8)
        if shape == "rect":
            cv2.rectangle(m, (int((cx - w / 2) * 4), int((cy - h / 2) * 4)), (int((cx + w / 2) * 4), int((cy + h / 2) * 4)), 1, -1)
        elif shape == "ellipse":
            cv2.ellipse(m, (int(cx * 4), int(cy * 4)), (int(w * 2), int(h * 2)), 0, 0, 360, 1, -1)
        else:
            pts = np.array([[cx - w / 2, cy + h / 2], [cx + w / 2, cy + h / 2], [cx, cy - h / 2]]) * 4
            cv2.fillPoly(m, [pts.astype(np.int32)], 1)
        cover = cv2.resize(m.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA)
        true_area = float(cover.sum()) / (W * H)

        def make(ref=ref, col=col, cover=cover):
            bb = base(name)
            bg = uniform(ref)
            bg = bg * (1 - cover[..., None]) + np.asarray(col, np.float32) * cover[..., None]
            return composite(bb, bg, recolour_shirt(bb, NAVY))
        truth = [(true_area, r.min_object_area, "max")]
        if de <= 0.9 * r.object_delta_e:
            truth = [(0.0, r.min_object_area, "max")]  # too faint to be an object at all
        elif de < 1.1 * r.object_delta_e:
            truth = [(r.min_object_area, r.min_object_area, "max")]  # ambiguous: excluded
        out.append(Case(f"{name}:object:{i}:{shape}:a{area}:de{de}", "objects", make,
                        {"background.uniformity": truth}))
    # another person: a second portrait's head, scaled down, in a top corner
    others = [n for n in neutral_portraits() if n != name]
    other = others[zlib.crc32(name.encode()) % len(others)]

    def make_other():
        bb = base(name)
        ob = base(other)
        img = composite(bb, uniform(REFERENCES["light blue"]))
        s = 0.35
        small = cv2.resize(composite(ob, uniform(REFERENCES["light blue"])), None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        sa = cv2.resize(ob.alpha, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)[..., None]
        h, w = small.shape[:2]
        x0 = 0 if zlib.crc32(other.encode()) % 2 else W - w
        y0 = -int(0.1 * h)
        src_y0 = -y0
        reg = img[0:h - src_y0, x0:x0 + w]
        a = sa[src_y0:h]
        img[0:h - src_y0, x0:x0 + w] = a * small[src_y0:h] + (1 - a) * reg
        return img
    out.append(Case(f"{name}:object:other-person:{other}", "objects", make_other,
                    {"background.uniformity": [(1.0, r.min_object_area, "max")]}))
    return out


def shadow_cases(name: str, rules: dict) -> list[Case]:
    r = rules["background.shadow"]
    rng = _rng(name, "shadow")
    out = []
    for i, depth in enumerate((1.5, 3.0, 4.0, 6.0, 7.5, 10.0, 14.0)):
        dx, dy = [(20, 8), (-22, 6), (24, 14), (-18, 12)][i % 4]
        sig = float(rng.choice([1.5, 2.5]))
        ref = list(REFERENCES.values())[int(rng.integers(3))]
        L0 = lab_of(ref)[0]
        # transmittance T with L*(Y·T) = L0 − depth (on the uniform backdrop)
        y0 = ((L0 + 16) / 116) ** 3
        T = (((L0 - depth) + 16) / 116) ** 3 / y0

        def make(dx=dx, dy=dy, sig=sig, ref=ref, T=T):
            b = base(name)
            M = np.float32([[1, 0, dx], [0, 1, dy]])
            sh = cv2.warpAffine(b.alpha, M, (W, H), borderMode=cv2.BORDER_REPLICATE)
            sh = cv2.GaussianBlur(sh, (0, 0), sig)
            lin = srgb_to_linear(uniform(ref)) * (1 - (1 - T) * sh[..., None])
            return composite(b, linear_to_srgb(lin).astype(np.float32), recolour_shirt(b, NAVY))
        out.append(Case(f"{name}:shadow:{i}:d{depth}:({dx},{dy})", "shadow", make,
                        {"background.shadow": [(depth, r.max_depth, "max")]}))
    return out


def clothing_cases(name: str, rules: dict) -> list[Case]:
    r = rules["clothing.contrast"]
    rng = _rng(name, "clothing")
    out = []
    plan = [(None, ref) for ref in REFERENCES.values()]  # the original white shirt on each reference
    for t in (1.5, 3.0, 4.0, 6.5, 8.0, 12.0, 20.0):
        plan.append((t, list(REFERENCES.values())[int(rng.integers(3))]))
    for i, (t, ref) in enumerate(plan):
        shirt_col = None if t is None else colour_at_delta_e(ref, t, rng)

        def make(shirt_col=shirt_col, ref=ref):
            b = base(name)
            f = None if shirt_col is None else recolour_shirt(b, shirt_col)
            return composite(b, uniform(ref), f)
        b = base(name)
        img = make()
        med = np.median(rgb_to_lab(img[b.shirt].astype(np.float64)), axis=0)
        truth = float(delta_e_2000(med, lab_of(ref)))
        out.append(Case(f"{name}:clothing:{i}:{shirt_col}:{ref}", "clothing", make,
                        {"clothing.contrast": [(truth, r.min_delta_e, "min")]}))
    return out


def sharpness_cases(name: str, rules: dict) -> list[Case]:
    r = rules["image.sharpness"]
    out = []
    plan = [(240, 0.0, 92), (200, 0.0, 75), (290, 0.0, 92), (240, 1.2, 92), (200, 1.6, 92), (290, 1.6, 75),
            (240, 2.4, 75), (200, 2.6, 92), (290, 2.8, 92), (240, 3.5, 92), (200, 4.5, 75), (290, 4.0, 92)]
    for i, (fw, s, q) in enumerate(plan):
        def make(fw=fw, s=s):
            b = base(name, fw)
            img = composite(b, uniform(REFERENCES["light blue"]))
            if s > 0:
                img = cv2.GaussianBlur(img, (0, 0), s * b.iod / 100.0)
            return img
        out.append(Case(f"{name}:sharpness:{i}:fw{fw}:s{s}:q{q}", "sharpness", make,
                        {"image.sharpness": [(s, r.max_blur, "max")]}, quality=q))
    return out


def _luma(img: np.ndarray) -> np.ndarray:
    return 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]


def exposure_cases(name: str, rules: dict) -> list[Case]:
    r = rules["lighting.exposure"]
    out = []
    for i, ev in enumerate((-3.5, -2.5, -1.5, -0.7, 0.4, 0.8, 1.2, 1.6, 2.2)):
        def make(ev=ev):
            b = base(name)
            img = composite(b, uniform(REFERENCES["light blue"]))
            return linear_to_srgb(srgb_to_linear(img) * 2.0**ev).astype(np.float32)
        b = base(name)
        img = make()
        L = rgb_to_lab(img[b.skin].astype(np.float64))[:, 0]
        med = float(np.median(L))
        clipped = float(np.mean(_luma(np.round(img[b.skin])) >= r.clip_level))
        out.append(Case(f"{name}:exposure:{i}:ev{ev}", "exposure", make, {"lighting.exposure": [
            (med, r.min_lightness, "min"), (med, r.max_lightness, "max"), (clipped, r.max_clipped, "max")]}))
    return out


def _ev(img: np.ndarray, b: Base) -> float:
    y = srgb_to_linear(img) @ np.array([0.2126, 0.7152, 0.0722])
    return float(math.log2(np.median(y[b.cheek_l]) / np.median(y[b.cheek_r])))


def balance_cases(name: str, rules: dict) -> list[Case]:
    r = rules["lighting.face_balance"]
    out = []
    for i, k in enumerate((0.95, 0.85, 0.78, 0.66, 0.62, 0.55, 0.45, 0.35)):
        side = i % 2

        def make(k=k, side=side):
            b = base(name)
            xs = np.arange(W, dtype=np.float32)
            xm = float(b.lm[1, 0])
            ramp = np.clip((xs - xm) / (0.15 * b.iod) * 0.5 + 0.5, 0, 1)
            f = 1 - (1 - k) * (1 - ramp if side == 0 else ramp)
            fg = b.fg_lin * f[None, :, None]
            return composite(b, uniform(REFERENCES["light blue"]), fg)
        b = base(name)
        truth = abs(_ev(make(), b))
        out.append(Case(f"{name}:balance:{i}:k{k}", "balance", make,
                        {"lighting.face_balance": [(truth, r.max_imbalance_ev, "max")]}))
    for i, a in enumerate((0.008, 0.016, 0.022, 0.04, 0.06, 0.09)):
        def make(a=a, i=i):
            b = base(name)
            img = composite(b, uniform(REFERENCES["light blue"]))
            ex, ey = (b.lm[468, :2] if i % 2 == 0 else b.lm[473, :2])
            mouth_y = float(b.lm[[61, 291], 1].mean())
            cx, cy = float(ex), float((ey + mouth_y) / 2 + 0.05 * b.iod)
            rad = math.sqrt(a / math.pi) * b.iod
            m = np.zeros((H * 4, W * 4), np.uint8)
            cv2.circle(m, (int(cx * 4), int(cy * 4)), int(rad * 4), 1, -1)
            cover = cv2.resize(m.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA)[..., None]
            return img * (1 - cover) + np.float32([252, 250, 247]) * cover
        out.append(Case(f"{name}:hotspot:{i}:a{a}", "hotspot", make,
                        {"lighting.face_balance": [(a, r.max_hotspot_area, "max")]}))
    return out


def _eye_sel(b: Base, iris: int, ring: tuple, contour) -> tuple[np.ndarray, float, float, float]:
    cx, cy = b.lm[iris, 0], b.lm[iris, 1]
    rad = float(np.mean(np.hypot(b.lm[list(ring), 0] - cx, b.lm[list(ring), 1] - cy)))
    return _fill((H, W), b.lm[list(contour), :2]), float(cx), float(cy), rad


def red_eye_cases(name: str, rules: dict) -> list[Case]:
    r = rules["face.red_eye"]
    out = []
    for i, rho in enumerate((0.1, 0.16, 0.18, 0.23, 0.26, 0.32, 0.4, 0.5)):
        col = (205, 38, 42) if i % 2 == 0 else (140, 28, 30)

        def paint(rho=rho, col=col):
            b = base(name)
            img = composite(b, uniform(REFERENCES["light blue"]))
            yy, xx = np.mgrid[0:H, 0:W]
            fr = []
            for iris, ring, cont in ((468, (469, 470, 471, 472), EYE_L_CONTOUR), (473, (474, 475, 476, 477), EYE_R_CONTOUR)):
                inside, cx, cy, rad = _eye_sel(b, iris, ring, cont)
                m = np.zeros((H * 4, W * 4), np.uint8)
                cv2.circle(m, (int(cx * 4), int(cy * 4)), int(rho * rad * 4), 1, -1)
                cover = cv2.resize(m.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA) * inside
                img = img * (1 - cover[..., None]) + np.float32(col) * cover[..., None]
                pupil = ((xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= (r.pupil_radius * rad) ** 2) & inside
                fr.append(float((cover[pupil] > 0.5).mean()) if pupil.any() else 0.0)
            return img, max(fr)
        truth = paint()[1]
        out.append(Case(f"{name}:redeye:{i}:rho{rho}", "red_eye", lambda paint=paint: paint()[0],
                        {"face.red_eye": [(truth, r.max_red_fraction, "max")]}))
    return out


def border_cases(name: str, rules: dict) -> list[Case]:
    r = rules["image.border"]
    rng = _rng(name, "border")
    out = []
    for i, (w, de) in enumerate([(2, 2.0), (3, 3.5), (5, 8.0), (8, 15.0), (12, 40.0), (20, 4.0), (1, 30.0), (4, 12.0)]):
        sides = ["all", "top", "left", "right", "bottom"][int(rng.integers(5))]
        ref = list(REFERENCES.values())[int(rng.integers(3))]
        col = colour_at_delta_e(ref, de, rng) if de < 35 else (20, 20, 20)

        def clean(ref=ref):
            b = base(name)
            return composite(b, uniform(ref), recolour_shirt(b, NAVY))

        def make(w=w, sides=sides, col=col, clean=clean):
            img = clean().copy()
            c = np.float32(col)
            if sides in ("all", "top"):
                img[:w] = c
            if sides in ("all", "bottom"):
                img[-w:] = c
            if sides in ("all", "left"):
                img[:, :w] = c
            if sides in ("all", "right"):
                img[:, -w:] = c
            return img
        img = clean()
        lines = {"top": img[w + 1], "bottom": img[-w - 2], "left": img[:, w + 1], "right": img[:, -w - 2]}
        used = list(lines) if sides == "all" else [sides]
        truth = max(float(np.median(delta_e_2000(rgb_to_lab(lines[s].astype(np.float64)), lab_of(col)))) for s in used)
        out.append(Case(f"{name}:border:{i}:{sides}:w{w}:{col}", "border", make,
                        {"image.border": [(truth, r.min_contrast, "max")]}))
    return out


def _lens(b: Base, contour) -> tuple[float, float, float]:
    p = b.lm[list(contour), :2]
    ew = float(p[:, 0].max() - p[:, 0].min())
    return float(p[:, 0].mean()), float(p[:, 1].mean()), ew


def glare_cases(name: str, rules: dict) -> list[Case]:
    r = rules["glasses.glare"]
    out = []
    for i, a in enumerate((0.003, 0.006, 0.008, 0.012, 0.02, 0.035)):
        def make(a=a, i=i):
            b = base(name)
            img = composite(b, uniform(REFERENCES["light blue"]))
            img = _frames(b, img)
            cx, cy, ew = _lens(b, EYE_L_CONTOUR if i % 2 == 0 else EYE_R_CONTOUR)
            px = a * b.iod**2
            ax, ay = math.sqrt(px * 1.8 / math.pi), math.sqrt(px / 1.8 / math.pi)
            m = np.zeros((H * 4, W * 4), np.uint8)
            cv2.ellipse(m, (int(cx * 4), int((cy - 0.22 * ew) * 4)), (int(ax * 4), int(ay * 4)), 0, 0, 360, 1, -1)
            cover = cv2.resize(m.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA)[..., None]
            return img * (1 - cover) + np.float32([253, 253, 253]) * cover
        out.append(Case(f"{name}:glare:{i}:a{a}", "glare", make, {"glasses.glare": [(a, r.max_glare_area, "max")]}))
    return out


def _frames(b: Base, img: np.ndarray) -> np.ndarray:
    """Thin dark spectacle frames around both eyes (1.8 × 1.25 eye widths)."""
    out = img.copy()
    for cont in (EYE_L_CONTOUR, EYE_R_CONTOUR):
        cx, cy, ew = _lens(b, cont)
        cv2.ellipse(out, (int(round(cx)), int(round(cy))), (int(0.9 * ew), int(0.62 * ew)), 0, 0, 360,
                    (35, 30, 30), 2, lineType=cv2.LINE_AA)
    return out


def tint_cases(name: str, rules: dict) -> list[Case]:
    r = rules["glasses.tinted"]
    out = []
    plan = [(t, (t, t, t)) for t in (0.2, 0.32, 0.4, 0.6, 0.75, 0.9)]
    plan += [("yellow", (0.95, 0.85, 0.35)), ("blue", (0.5, 0.65, 0.95)), ("rose", (0.95, 0.62, 0.7))]
    for i, (lab, trans) in enumerate(plan):
        def make(trans=trans):
            b = base(name)
            fg = b.fg_lin.copy()
            yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
            for cont in (EYE_L_CONTOUR, EYE_R_CONTOUR):
                cx, cy, ew = _lens(b, cont)
                e = ((xx - cx) / (0.9 * ew)) ** 2 + ((yy - cy) / (0.62 * ew)) ** 2 <= 1
                fg[e] *= np.float32(trans)
            img = composite(b, uniform(REFERENCES["light blue"]), fg)
            return _frames(b, img)
        y = 0.2126 * trans[0] + 0.7152 * trans[1] + 0.0722 * trans[2]
        crit = [(y, r.min_transmittance, "min")]
        if isinstance(lab, str):
            b = base(name)
            skin = np.median(b.fg_lin[b.cheek_l | b.cheek_r], axis=0)
            tinted = lab_of(linear_to_srgb(skin * np.asarray(trans)))
            plain = lab_of(linear_to_srgb(skin))
            tint = float(delta_e_2000(np.array([plain[0], tinted[1], tinted[2]]), plain))
            crit.append((tint, r.max_tint_delta_e, "max"))
        out.append(Case(f"{name}:tint:{i}:{lab}", "tint", make, {"glasses.tinted": crit}))
    return out


FAMILIES = {
    "clean": lambda n, r: clean_cases(n),
    "color": color_cases,
    "gradient": gradient_cases,
    "texture": texture_cases,
    "objects": object_cases,
    "shadow": shadow_cases,
    "clothing": clothing_cases,
    "sharpness": sharpness_cases,
    "exposure": exposure_cases,
    "balance": balance_cases,
    "red_eye": red_eye_cases,
    "border": border_cases,
    "glare": glare_cases,
    "tint": tint_cases,
}


def cases(names: list[str], families: list[str] | None = None, spec: str = "moe-2021") -> list[Case]:
    rules = thresholds(spec)
    out = []
    for n in names:
        for fam, fn in FAMILIES.items():
            if families is None or fam in families:
                out.extend(fn(n, rules))
    return out


def run(case: Case, checks: list[str] | None = None, spec: str = "moe-2021"):
    """Judge the case's JPEG with the spec's rules for ``checks`` (default: those in its truth)."""
    from zkphoto.pipeline import run_checks

    sp = zkphoto.load_spec(spec)
    ctx = PhotoContext.from_source(case.jpeg(), name=case.id + ".jpg")
    return run_checks(ctx, sp, only=checks or list(case.truth))
