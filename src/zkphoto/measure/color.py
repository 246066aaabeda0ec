"""Colour measurements on RGB arrays."""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as _k


def colourfulness(rgb: np.ndarray, max_side: int | None = 256) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M of an RGB image.

    M = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²) with rg = R − G and yb = (R + G)/2 − B.
    A greyscale picture stored as RGB scores ≈ 0 (JPEG chroma noise keeps it under ~2); the
    paper's scale calls 15 "slightly", 33 "moderately" colourful.  The image is subsampled to at
    most ``max_side`` pixels on its long side first (the statistic is global); ``None`` reads
    every pixel (for an image already sampled).
    """
    import cv2

    h, w = rgb.shape[:2]
    step = 1 if max_side is None else max(1, int(np.ceil(max(h, w) / max_side)))
    a = subsample(np.asarray(rgb), step).astype(np.float32)
    opp = cv2.transform(a, _OPPONENT)  # rg = R − G, yb = (R + G)/2 − B, 0
    mean, std = (v.ravel() for v in cv2.meanStdDev(opp))
    return float(math.hypot(std[0], std[1]) + 0.3 * math.hypot(mean[0], mean[1]))


#: The opponent channels, padded with a zero row: OpenCV transforms three channels to three
#: several times faster than to two.
_OPPONENT = np.array([[1.0, -1.0, 0.0], [0.5, 0.5, -1.0], [0.0, 0.0, 0.0]], np.float32)


# --------------------------------------------------------------------------- CIELAB and CIEDE2000
#
# sRGB (IEC 61966-2-1) with its D65 white, to CIE 1976 L*a*b*; CIEDE2000 colour difference after
# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Color Res. Appl. 30(1).

#: D65 reference white of sRGB (X, Y, Z with Y = 1).
D65_WHITE = (0.95047, 1.0, 1.08883)

_SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ)
_XYZ_TO_SRGB_ROWS = _XYZ_TO_SRGB.tolist()


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in 0–255 (any numeric dtype) → linear light 0–1 (float64)."""
    c = np.asarray(v, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear light 0–1 → sRGB-encoded values 0–255 (float64, clipped to the gamut)."""
    c = np.clip(np.asarray(v, dtype=np.float64), 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


_LIN_LUT = srgb_to_linear(np.arange(256)).astype(np.float32)
#: sRGB → XYZ with each row divided by the white point's X, Y, Z (float32).
_XYZ_NORM32 = (_SRGB_TO_XYZ / np.array(D65_WHITE)[:, None]).astype(np.float32)
_EPS = (6.0 / 29.0) ** 3
_KAPPA = 1.0 / (3.0 * (6.0 / 29.0) ** 2)


def _f(t: np.ndarray) -> np.ndarray:
    """The CIELAB companding function f(t) (cube root above (6/29)³, linear below)."""
    t = np.asarray(t)
    if t.dtype == np.float32 and t.size > 4096:
        import cv2  # cv2.pow is several times faster than np.cbrt on whole images

        f = cv2.pow(np.ascontiguousarray(t), 1.0 / 3.0)
        low = t <= _EPS
        if low.any():
            f[low] = t[low] * np.float32(_KAPPA) + np.float32(4.0 / 29.0)
        return f
    return np.where(t > _EPS, np.cbrt(t), t * _KAPPA + 4.0 / 29.0)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB pixels (…×3; uint8, or floats on the 0–255 scale) → CIELAB (…×3, float32, D65).

    uint8 pixels take a fast path: the 256-entry linearisation table and the matrix in one
    compiled pass, OpenCV's vectorised power function for the cube roots, and the companding
    and L*a*b* combinations in a second pass (``_kernels.srgb_to_xyz``, ``xyz_to_lab``); the
    arithmetic is the same as for any other input (float32).
    """
    a = np.asarray(rgb)
    if a.dtype == np.uint8 and a.ndim in (2, 3) and a.shape[-1] == 3 and a.size >= 192:
        import cv2

        px = np.ascontiguousarray(a).reshape(-1, 3)
        t = np.empty(px.shape, np.float32)
        _k.srgb_to_xyz(px, _LIN_LUT, _XYZ_NORM32, t)
        f = cv2.pow(t, 1.0 / 3.0)
        _k.xyz_to_lab(t, f, _EPS, _KAPPA)
        return f.reshape(a.shape)
    lin = _LIN_LUT[a] if a.dtype == np.uint8 else srgb_to_linear(a).astype(np.float32)
    f = _f(lin @ _XYZ_NORM32.T)
    out = np.empty(f.shape, dtype=np.float32)
    fy = f[..., 1]
    out[..., 0] = 116.0 * fy - 16.0
    out[..., 1] = 500.0 * (f[..., 0] - fy)
    out[..., 2] = 200.0 * (fy - f[..., 2])
    return out


def subsample(a: np.ndarray, step: int) -> np.ndarray:
    """``a[::step, ::step]`` as a new array.  Multi-channel uint8 and float32 images go through
    OpenCV's nearest-neighbour resize at an exact integer scale (which picks exactly those
    pixels, reading only the rows it needs): numpy copies strided pixels of several channels
    slowly (single-channel arrays it copies faster than OpenCV resizes them)."""
    a = np.asarray(a)
    if step <= 1:
        return np.ascontiguousarray(a)
    h, w = a.shape[:2]
    if a.dtype not in (np.uint8, np.float32) or a.ndim != 3 or h < 2 * step or w < 2 * step:
        return np.ascontiguousarray(a[::step, ::step])
    import cv2

    nh, nw = h // step, w // step  # rows/columns picked by the exact-scale resize
    out = np.empty((-(-h // step), -(-w // step)) + a.shape[2:], a.dtype)
    src = a[: nh * step, : nw * step]
    if src.ndim == 3 and not src.flags.c_contiguous and src.strides[1] != src.shape[2]:
        src = np.ascontiguousarray(src)
    out[:nh, :nw] = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_NEAREST).reshape(out[:nh, :nw].shape)
    if out.shape[0] > nh:  # a last row beyond the whole steps
        out[nh:] = a[nh * step:: step, ::step]
    if out.shape[1] > nw:
        out[:nh, nw:] = a[: nh * step: step, nw * step:: step]
    return out


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (…×3, D65) → sRGB values 0–255 (float64, clipped to the gamut)."""
    L = np.asarray(lab, dtype=np.float64)
    if L.shape == (3,):  # one colour: plain floats
        return np.array(lab_to_rgb_one(*L.tolist()))
    fy = (L[..., 0] + 16.0) / 116.0
    fx = fy + L[..., 1] / 500.0
    fz = fy - L[..., 2] / 200.0

    def finv(f):
        return np.where(f > 6.0 / 29.0, f**3, (f - 4.0 / 29.0) / _KAPPA)

    xyz = np.stack([finv(fx) * D65_WHITE[0], finv(fy), finv(fz) * D65_WHITE[2]], axis=-1)
    return linear_to_srgb(xyz @ _XYZ_TO_SRGB.T)


def lab_to_rgb_one(L: float, a: float, b: float) -> list[float]:
    """``lab_to_rgb`` of one colour given as plain floats: sRGB 0–255 as a list of floats (the
    same arithmetic, without numpy's overhead)."""
    fy = (L + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0

    def finv(f):
        return f**3 if f > 6.0 / 29.0 else (f - 4.0 / 29.0) / _KAPPA

    xyz = (finv(fx) * D65_WHITE[0], finv(fy), finv(fz) * D65_WHITE[2])
    out = []
    for row in _XYZ_TO_SRGB_ROWS:
        c = min(max(row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2], 0.0), 1.0)
        out.append(255.0 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055))
    return out


def delta_e_2000(
    lab1: np.ndarray, lab2: np.ndarray, kl: float = 1.0, kc: float = 1.0, kh: float = 1.0,
    single: bool = False,
) -> np.ndarray:
    """CIEDE2000 colour difference ΔE00 between CIELAB colours (arrays broadcast, last axis L,a,b).

    Follows Sharma, Wu & Dalal (2005), including the hue conventions for achromatic colours
    (h' = 0 when a' = b' = 0) and the mean-hue rule at |Δh'| > 180°.
    Rough scale: < 1 not perceptible, 1–2 close inspection, ~2.3 a just-noticeable difference,
    ≈ 5 clearly noticeable side by side, ≥ 10 clearly different colours.

    Computed pair by pair in compiled code (``zkphoto._kernels``), in double precision.  The hue
    terms come from the unit hue vectors u₁, u₂ = (a', b)/C' rather than from angles (the same
    values to rounding, with fewer transcendental calls): ΔH' = 2√(C'₁C'₂)·sin(Δh'/2) =
    ±√(C'₁C'₂)·|u₁ − u₂| (the sign of u₁ × u₂), and the mean hue h̄' — by Sharma's rule the
    middle of the shorter arc between the hues — is the direction of u₁ + u₂, so the four cosines
    of T follow from cos h̄', sin h̄' by the multiple-angle identities.  Only hues exactly
    opposite (u₁ + u₂ = 0, where the rule picks the arithmetic mean) take the angle path.

    One pair (two 1-D colours) gives a float64 scalar.  ``single=True`` returns float32 values
    (for large arrays that are only thresholded or summarised).
    """
    x1 = np.asarray(lab1)
    x2 = np.asarray(lab2)
    if x1.ndim == 1 and x2.ndim == 1:  # one pair
        return np.float64(_k.delta_e_2000_one(*x1.tolist(), *x2.tolist(), kl, kc, kh))
    if x1.shape[-1:] != (3,) or x2.shape[-1:] != (3,):
        raise ValueError("CIELAB colours need 3 values on the last axis")
    if x1.shape == x2.shape:
        shape = x1.shape[:-1]
    elif x1.ndim == 1 or x2.ndim == 1:  # many against one
        shape = (x2 if x1.ndim == 1 else x1).shape[:-1]
    else:
        x1, x2 = np.broadcast_arrays(x1, x2)
        shape = x1.shape[:-1]
    out = np.empty(math.prod(shape), np.float64)
    if len(out):
        _k.delta_e_2000_rows(_rows3(x1), _rows3(x2), float(kl), float(kc), float(kh), out)
    out = out.reshape(shape)
    return out.astype(np.float32) if single else out


def _rows3(x: np.ndarray) -> np.ndarray:
    """``x`` as a C-contiguous n × 3 float32 or float64 array (copied only when it must be)."""
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    return np.ascontiguousarray(x.reshape(-1, 3))


def delta_e_2000_pair(lab1, lab2) -> float:
    """CIEDE2000 between two colours given as (L*, a*, b*) sequences of floats."""
    return _k.delta_e_2000_one(*lab1, *lab2)
