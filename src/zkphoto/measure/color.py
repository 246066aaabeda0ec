"""Colour measurements on RGB arrays."""

from __future__ import annotations

import math

import numpy as np


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


#: f(X/Xn), f(Y/Yn), f(Z/Zn) → L*, a*, b* (affine: the last column is the offset).
_F_TO_LAB = np.array([[0.0, 116.0, 0.0, -16.0], [500.0, -500.0, 0.0, 0.0], [0.0, 200.0, -200.0, 0.0]], np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB pixels (…×3; uint8, or floats on the 0–255 scale) → CIELAB (…×3, float32, D65).

    uint8 pixels take a fast path (256-entry linearisation table and OpenCV's vectorised matrix
    and power functions); the arithmetic is the same as for any other input.
    """
    a = np.asarray(rgb)
    if a.dtype == np.uint8 and a.ndim in (2, 3) and a.shape[-1] == 3 and a.size >= 192:
        import cv2

        shape = a.shape
        if a.ndim == 2:  # n pixels: an n × 1 image
            a = a.reshape(-1, 1, 3)
        lin = cv2.LUT(np.ascontiguousarray(a), _LIN_LUT.reshape(1, 256))
        t = cv2.transform(lin, _XYZ_NORM32)
        f = cv2.pow(t, 1.0 / 3.0)
        if t.min() <= _EPS:  # some very dark pixels
            low = t <= _EPS
            f[low] = t[low] * np.float32(_KAPPA) + np.float32(4.0 / 29.0)
        return cv2.transform(f, _F_TO_LAB).reshape(shape)
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
        return np.array(_lab_to_rgb_one(*L.tolist()))
    fy = (L[..., 0] + 16.0) / 116.0
    fx = fy + L[..., 1] / 500.0
    fz = fy - L[..., 2] / 200.0

    def finv(f):
        return np.where(f > 6.0 / 29.0, f**3, (f - 4.0 / 29.0) / _KAPPA)

    xyz = np.stack([finv(fx) * D65_WHITE[0], finv(fy), finv(fz) * D65_WHITE[2]], axis=-1)
    return linear_to_srgb(xyz @ _XYZ_TO_SRGB.T)


def _lab_to_rgb_one(L: float, a: float, b: float) -> list[float]:
    """``lab_to_rgb`` of one colour, in plain floats (the same arithmetic)."""
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

    Hue terms are computed from the unit hue vectors u₁, u₂ = (a', b)/C' rather than from angles
    (the same values to rounding, with five times fewer transcendental calls):
    ΔH' = 2√(C'₁C'₂)·sin(Δh'/2) = ±√(C'₁C'₂)·|u₁ − u₂| (the sign of u₁ × u₂), and the mean hue
    h̄' — by Sharma's rule the middle of the shorter arc between the hues — is the direction of
    u₁ + u₂, so cos h̄', sin h̄' and, by the multiple-angle identities, the four cosines of T
    need no trigonometric call.  Only hues exactly opposite (u₁ + u₂ = 0, where the rule picks
    the arithmetic mean) take the angle path.

    ``single=True`` computes arrays in float32 (about a quarter faster; errors under 1e-4 ΔE00),
    for large arrays that are only thresholded or summarised.
    """
    x1 = np.asarray(lab1, dtype=np.float64)
    x2 = np.asarray(lab2, dtype=np.float64)
    if x1.ndim == 1 and x2.ndim == 1:  # one pair: plain floats are far cheaper than numpy calls
        return np.float64(_de2000_pair(*x1.tolist(), *x2.tolist(), kl, kc, kh))
    if x1.shape != x2.shape and not (x2.ndim == 1 and x1.ndim == 2) and not (x1.ndim == 1 and x2.ndim == 2):
        x1, x2 = np.broadcast_arrays(x1, x2)
    shape = x1.shape[:-1] if x1.ndim >= x2.ndim else x2.shape[:-1]
    n = math.prod(shape)
    if n > _DE_CHUNK:
        # in blocks: the two dozen temporaries of a large call outgrow the CPU caches (twice
        # the time per pair beyond ~10 000 pairs); each pair's value is the same either way
        f1, f2 = x1.reshape(-1, 3), x2.reshape(-1, 3)
        out = np.empty(n, np.float32 if single else np.float64)
        for i in range(0, n, _DE_CHUNK):
            j = min(n, i + _DE_CHUNK)
            out[i:j] = delta_e_2000(f1[i:j] if len(f1) > 1 else f1[0], f2[i:j] if len(f2) > 1 else f2[0],
                                    kl, kc, kh, single)
        return out.reshape(shape)
    # both colours stacked channel-major, 2 × 3 × n: the per-colour terms take one call each
    P = np.empty((2, 3, n), np.float32 if single else np.float64)
    P[0] = x1.reshape(-1, 3).T if x1.ndim > 1 else x1[:, None]
    P[1] = x2.reshape(-1, 3).T if x2.ndim > 1 else x2[:, None]
    L, a, b = P[:, 0], P[:, 1], P[:, 2]  # each 2 × n
    bb = b * b
    c_bar = np.sqrt(a * a + bb).sum(axis=0) * 0.5
    c7 = _pow7(c_bar)
    g1 = 1.5 - 0.5 * np.sqrt(c7 / (c7 + _25_7))
    ap = a * g1
    cp = np.sqrt(ap * ap + bb)
    r = np.divide(1.0, cp, out=np.zeros_like(cp), where=cp > 0)
    ux, uy = ap * r, b * r  # unit hue vectors (0 when achromatic), 2 × n
    cc = cp[0] * cp[1]

    dl = L[1] - L[0]
    dc = cp[1] - cp[0]
    ex, ey = ux[0] - ux[1], uy[0] - uy[1]
    dH = np.sqrt(cc * (ex * ex + ey * ey))
    dH = np.where(ux[0] * uy[1] - uy[0] * ux[1] < 0, -dH, dH)

    # mean hue: direction of u1 + u2 (the other colour's hue when one is achromatic, 0 when both)
    vx, vy = ux[0] + ux[1], uy[0] + uy[1]
    vn = np.sqrt(vx * vx + vy * vy)
    flat = vn < 1e-9
    if flat.any():
        opposite = flat & (cc > 0)
        vx, vy, vn = np.where(flat, 1.0, vx), np.where(flat, 0.0, vy), np.where(flat, 1.0, vn)
        if opposite.any():
            # opposite hues: the mean hue is ill-defined; follow Sharma's angle rules exactly
            # (their rounding decides which side of 180° the difference falls)
            h = np.degrees(np.arctan2(b, ap)) % 360.0
            hs, hd = h[0] + h[1], h[1] - h[0]
            hb = np.where(np.abs(hd) <= 180.0, hs / 2.0, np.where(hs < 360.0, (hs + 360.0) / 2.0, (hs - 360.0) / 2.0))
            hd = np.where(hd > 180.0, hd - 360.0, np.where(hd < -180.0, hd + 360.0, hd))
            hb = np.radians(hb)
            vx = np.where(opposite, np.cos(hb), vx)
            vy = np.where(opposite, np.sin(hb), vy)
            dH = np.where(opposite, 2.0 * np.sqrt(cc) * np.sin(np.radians(hd) / 2.0), dH)
    c1, s1 = vx / vn, vy / vn
    c2, s2 = c1 * c1 - s1 * s1, 2.0 * s1 * c1
    c3, s3 = c2 * c1 - s2 * s1, s2 * c1 + c2 * s1
    c4, s4 = c2 * c2 - s2 * s2, 2.0 * s2 * c2
    # T = 1 − 0.17 cos(h̄ − 30°) + 0.24 cos(2h̄) + 0.32 cos(3h̄ + 6°) − 0.20 cos(4h̄ − 63°)
    t = (1.0 + _T1C * c1 + _T1S * s1 + 0.24 * c2 + _T3C * c3 + _T3S * s3 + _T4C * c4 + _T4S * s4)
    h_bar = np.arctan2(s1, c1) * _DEG
    h_bar += np.where(h_bar < 0, 360.0 - 275.0, -275.0)  # h̄ − 275°, h̄ in 0…360°
    d_theta = np.exp(h_bar * h_bar * (-1.0 / 625.0))  # Δθ / 30°
    cp_bar = (cp[0] + cp[1]) * 0.5
    cp7 = _pow7(cp_bar)
    l50 = (L[0] + L[1]) * 0.5 - 50.0
    l50 *= l50
    sl = 1.0 + 0.015 * l50 / np.sqrt(20.0 + l50)
    sc = 1.0 + 0.045 * cp_bar
    sh = 1.0 + 0.015 * cp_bar * t
    rt = np.sin(d_theta * (np.pi / 3.0)) * np.sqrt(cp7 / (cp7 + _25_7)) * -2.0  # −sin(2Δθ)·R_C
    tl, tc, th = dl / (kl * sl), dc / (kc * sc), dH / (kh * sh)
    out = np.sqrt(np.maximum(tl * tl + tc * tc + th * th + rt * tc * th, 0.0))
    return out.reshape(shape)


_25_7 = 25.0**7

#: Largest number of pairs ``delta_e_2000`` computes in one block.
_DE_CHUNK = 8192


def delta_e_2000_pair(lab1, lab2) -> float:
    """CIEDE2000 between two colours given as (L*, a*, b*) sequences of floats (no numpy: the
    cheapest way for a few pairs)."""
    return _de2000_pair(*lab1, *lab2, 1.0, 1.0, 1.0)


def _de2000_pair(L1, a1, b1, L2, a2, b2, kl, kc, kh) -> float:
    """CIEDE2000 of one pair of colours, in plain floats, step by step as in Sharma et al."""
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2.0
    c7 = c_bar**7
    g = 0.5 * (1.0 - math.sqrt(c7 / (c7 + _25_7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = 0.0 if a1p == 0 and b1 == 0 else math.degrees(math.atan2(b1, a1p)) % 360.0
    h2p = 0.0 if a2p == 0 and b2 == 0 else math.degrees(math.atan2(b2, a2p)) % 360.0
    chroma0 = c1p * c2p == 0
    dl, dc = L2 - L1, c2p - c1p
    dh = 0.0 if chroma0 else h2p - h1p
    if dh > 180.0:
        dh -= 360.0
    elif dh < -180.0:
        dh += 360.0
    dH = 2.0 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh) / 2.0)
    l_bar, cp_bar, hsum = (L1 + L2) / 2.0, (c1p + c2p) / 2.0, h1p + h2p
    if chroma0:
        h_bar = hsum
    elif abs(h1p - h2p) <= 180.0:
        h_bar = hsum / 2.0
    else:
        h_bar = (hsum + 360.0) / 2.0 if hsum < 360.0 else (hsum - 360.0) / 2.0
    t = (1.0 - 0.17 * math.cos(math.radians(h_bar - 30.0)) + 0.24 * math.cos(math.radians(2.0 * h_bar))
         + 0.32 * math.cos(math.radians(3.0 * h_bar + 6.0)) - 0.20 * math.cos(math.radians(4.0 * h_bar - 63.0)))
    d_theta = 30.0 * math.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    cp7 = cp_bar**7
    rc = 2.0 * math.sqrt(cp7 / (cp7 + _25_7))
    l50 = (l_bar - 50.0) ** 2
    sl = 1.0 + 0.015 * l50 / math.sqrt(20.0 + l50)
    sc = 1.0 + 0.045 * cp_bar
    sh = 1.0 + 0.015 * cp_bar * t
    rt = -math.sin(math.radians(2.0 * d_theta)) * rc
    tl, tc, th = dl / (kl * sl), dc / (kc * sc), dH / (kh * sh)
    return math.sqrt(max(tl * tl + tc * tc + th * th + rt * tc * th, 0.0))


_COS30, _SIN30 = np.cos(np.radians(30.0)), np.sin(np.radians(30.0))
_COS6, _SIN6 = np.cos(np.radians(6.0)), np.sin(np.radians(6.0))
_COS63, _SIN63 = np.cos(np.radians(63.0)), np.sin(np.radians(63.0))
_T1C, _T1S = -0.17 * _COS30, -0.17 * _SIN30
_T3C, _T3S = 0.32 * _COS6, -0.32 * _SIN6
_T4C, _T4S = -0.20 * _COS63, -0.20 * _SIN63
_DEG = 180.0 / np.pi


def _pow7(x: np.ndarray) -> np.ndarray:
    x2 = x * x
    return x2 * x2 * x2 * x
