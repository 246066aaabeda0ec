"""Image-quality and lighting checks: focus, face exposure, lighting balance and hot spots,
red-eye, added borders, glasses glare and tint.

Rules: 教试中心函〔2021〕125号 附件 一.3「图像应对焦准确、层次清晰、色彩真实」, 一.4「除头像外，
不得添加边框、文字、图案等其他内容」, 二.3「不得戴有色（含隐形）眼镜…眼镜不能有反光」,
三「照明光线均匀，脸部曝光均匀，无明显可见或不对称的高光、光斑，无红眼」.

Face measurements use the FaceMesh landmarks; sizes that depend on the face are expressed per
inter-ocular distance (IOD, between the iris centres) so they mean the same for a small and a
large face.  Lightness is CIE L* (0 black … 100 white); a lighting ratio is in stops (EV, log₂).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from ..measure import regions as rg
from ..measure.stats import median, percentiles
from ..measure.color import delta_e_2000, rgb_to_lab
from .registry import NotAssessable, Rule, Verdict, failed, passed, register


def _y_of_l(L: float) -> float:
    """Relative luminance of CIE L*."""
    f = (L + 16.0) / 116.0
    return f**3 if f > 6.0 / 29.0 else (f - 4.0 / 29.0) * 3.0 * (6.0 / 29.0) ** 2


# --------------------------------------------------------------------------- sharpness


class SharpnessRule(Rule):
    max_blur: float = Field(gt=0, description="largest edge blur σ in px per 100 px of inter-ocular distance")


@register("image.sharpness", SharpnessRule)
def check_sharpness(ctx, rule: SharpnessRule) -> Verdict:
    """Focus of the face: Gaussian blur σ of its strongest edges (re-blur gradient-ratio
    estimator, ``measure.regions.edge_blur_sigma``) on the eyes–brows–nose–mouth crop resampled
    to 100 px between the iris centres, so the value is per 100 px of inter-ocular distance and
    does not depend on the face's size.  Enforces 一.3「图像应对焦准确、层次清晰」.
    """
    b = rg.face_blur(ctx)
    s = b["sigma"]
    measured = {"blur_sigma": round(s, 3), "blur_sigma_px": round(s / b["scale"], 2),
                "inter_ocular_px": round(b["iod"], 1), "edge_pixels": b["edges"]}
    expected = {"max_blur": rule.max_blur, "unit": "px per 100 px inter-ocular distance"}
    if s <= rule.max_blur:
        return passed(f"对焦清晰（模糊度 {s:.2f}）", f"in focus (blur {s:.2f})", measured, expected)
    return failed(
        f"照片模糊（脸部边缘模糊度 {s:.2f}，允许 ≤ {rule.max_blur:g}，以两眼间距 100 像素计）；"
        "请对准脸部对焦、保持相机稳定后重拍，不要放大小照片",
        f"the photo is blurred (face edge blur {s:.2f}, allowed ≤ {rule.max_blur:g} px per 100 px between the "
        "eyes): focus on the face, hold the camera steady and retake; do not upscale a small picture",
        measured, expected,
    )


# --------------------------------------------------------------------------- exposure


class ExposureRule(Rule):
    min_lightness: float = Field(ge=0, le=100, description="darkest allowed median skin L*")
    max_lightness: float = Field(ge=0, le=100, description="brightest allowed median skin L*")
    max_clipped: float = Field(ge=0, le=1, description="largest share of blown-out skin pixels")
    clip_level: int = Field(245, ge=128, le=255, description="luma counted as blown out")

    @model_validator(mode="after")
    def _order(self) -> "ExposureRule":
        if self.min_lightness >= self.max_lightness:
            raise ValueError("min_lightness must be below max_lightness")
        return self


@register("lighting.exposure", ExposureRule)
def check_exposure(ctx, rule: ExposureRule) -> Verdict:
    """Exposure of the face: median CIE L* of the facial skin (face oval minus eyes, brows, lips
    and hair-prone upper forehead) and the share of skin pixels blown out (luma ≥ clip level).
    Enforces 三「脸部曝光均匀」 and 一.3「层次清晰」 (no under- or over-exposed face).
    """
    import cv2

    g = rg.grid(ctx)
    fr = rg.face_regions(ctx)
    L = np.ascontiguousarray(rg.skin_lab(ctx)[:, 0])
    med = float(rg.skin_colour(ctx)[0])
    luma = cv2.cvtColor(np.ascontiguousarray(rg.grid_rgb(ctx)[fr.box]), cv2.COLOR_RGB2GRAY)[fr.skin]
    clipped = float(np.mean(luma >= rule.clip_level))
    measured = {"skin_lightness": round(med, 1), "skin_lightness_p95": round(float(percentiles(L, (95,))[0]), 1),
                "clipped_fraction": round(clipped, 4)}
    expected = {"min_lightness": rule.min_lightness, "max_lightness": rule.max_lightness,
                "max_clipped": rule.max_clipped, "clip_level": rule.clip_level}
    zh, en = [], []
    if med < rule.min_lightness:
        ev = math.log2(_y_of_l(rule.min_lightness) / max(_y_of_l(med), 1e-4))
        zh.append(f"脸部太暗（亮度 L* {med:.0f}，应 ≥ {rule.min_lightness:g}，约欠曝 {ev:.1f} 档）；请增加正面光线后重拍")
        en.append(f"the face is too dark (L* {med:.0f}, expected ≥ {rule.min_lightness:g}, about {ev:.1f} stops "
                  "under): add frontal light and retake")
    if med > rule.max_lightness:
        zh.append(f"脸部太亮（亮度 L* {med:.0f}，应 ≤ {rule.max_lightness:g}）；请减弱光线或降低曝光后重拍")
        en.append(f"the face is too bright (L* {med:.0f}, expected ≤ {rule.max_lightness:g}): reduce the light or "
                  "the exposure and retake")
    if clipped > rule.max_clipped:
        zh.append(f"脸部有 {clipped:.0%} 的皮肤过曝成白色（允许 ≤ {rule.max_clipped:.0%}），细节丢失；请降低曝光或使用柔光")
        en.append(f"{clipped:.0%} of the facial skin is blown out to white (allowed ≤ {rule.max_clipped:.0%}), "
                  "losing detail: lower the exposure or use softer light")
    if not zh:
        return passed(f"脸部曝光正常（亮度 L* {med:.0f}）", f"face exposure fine (L* {med:.0f})", measured, expected)
    return failed("；".join(zh), "; ".join(en), measured, expected)


# --------------------------------------------------------------------------- balance and hot spots


class BalanceRule(Rule):
    max_imbalance_ev: float = Field(gt=0, description="largest left/right cheek luminance ratio, stops")
    max_hotspot_area: float = Field(gt=0, description="largest hot spot, in units of IOD²")


def _hotspots(ctx, fr: "rg.FaceRegions") -> tuple[float, float, tuple[int, int] | None]:
    """Largest bright patch on the skin: (area / IOD², level L*, centre x, y)."""
    import cv2

    g = rg.grid(ctx)
    skin = fr.skin
    L = g.lightness[fr.box]
    med = float(rg.skin_colour(ctx)[0])
    level = min(90.0, med + 30.0)
    hot = skin & (L >= level)
    if not hot.any():
        return 0.0, level, None
    n, labels, stats, cents = cv2.connectedComponentsWithStats(hot.astype(np.uint8), connectivity=8)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[k, cv2.CC_STAT_AREA] * g.step * g.step / (fr.iod**2)
    r0, c0 = fr.origin
    c = (cents[k] + (c0, r0)) * g.step
    return float(area), level, (int(c[0]), int(c[1]))


@register("lighting.face_balance", BalanceRule)
def check_face_balance(ctx, rule: BalanceRule) -> Verdict:
    """Evenness of the light on the face: ratio of the median luminance of the left and right
    cheek bands (skin between the lower eyelids and the mouth corners, either side of the facial
    midline) in stops, and the largest hot spot (skin at least 30 L* above the skin median, or
    L* ≥ 90) in units of IOD².  Enforces 三「照明光线均匀…无明显可见或不对称的高光、光斑」.
    """
    g = rg.grid(ctx)
    fr = rg.face_regions(ctx)
    L = g.lightness[fr.box]
    ll, lr = float(median(L[fr.left])), float(median(L[fr.right]))
    ev = math.log2(max(_y_of_l(ll), 1e-5) / max(_y_of_l(lr), 1e-5))
    area, level, where = _hotspots(ctx, fr)
    measured = {"left_lightness": round(ll, 1), "right_lightness": round(lr, 1), "imbalance_ev": round(ev, 3),
                "hotspot_area_iod2": round(area, 4), "hotspot_level": round(level, 1),
                "hotspot_at": list(where) if where else None}
    expected = {"max_imbalance_ev": rule.max_imbalance_ev, "max_hotspot_area": rule.max_hotspot_area,
                "units": {"imbalance": "EV (stops)", "hotspot": "inter-ocular distance squared"}}
    zh, en = [], []
    if abs(ev) > rule.max_imbalance_ev:
        dark_zh = "右" if ev > 0 else "左"
        dark_en = "right" if ev > 0 else "left"
        zh.append(f"脸部光照不均：图像{dark_zh}侧脸颊明显偏暗（相差 {abs(ev):.1f} 档，允许 ≤ {rule.max_imbalance_ev:g}）；"
                  "请从正面均匀照明，或在暗侧补光")
        en.append(f"uneven light on the face: the image-{dark_en} cheek is darker by {abs(ev):.1f} stops (allowed ≤ "
                  f"{rule.max_imbalance_ev:g}): light the face evenly from the front or add fill light on the dark side")
    if area > rule.max_hotspot_area:
        zh.append(f"脸上有明显的高光/光斑（面积 {area:.3f}×两眼间距²，允许 ≤ {rule.max_hotspot_area:g}）；"
                  "请使用柔光、避免闪光灯直射，必要时给皮肤去油光")
        en.append(f"a bright hot spot on the face (area {area:.3f} × inter-ocular distance², allowed ≤ "
                  f"{rule.max_hotspot_area:g}): use diffused light, avoid direct flash, reduce skin shine")
    if not zh:
        return passed(f"脸部光照均匀（左右相差 {abs(ev):.2f} 档，无光斑）",
                      f"even light on the face ({abs(ev):.2f} stops left/right, no hot spot)", measured, expected)
    return failed("；".join(zh), "; ".join(en), measured, expected)


# --------------------------------------------------------------------------- red-eye


class RedEyeRule(Rule):
    max_red_fraction: float = Field(gt=0, lt=1, description="largest red share of the pupil disc")
    pupil_radius: float = Field(0.4, gt=0, le=1, description="pupil disc radius as a fraction of the iris radius")
    min_a: float = Field(25.0, description="CIE a* above which a pupil pixel counts as red")
    min_lightness: float = Field(20.0, ge=0, le=100, description="CIE L* a red pupil pixel reaches")


def _disc_pixels(ctx, side: str, radius_frac: float) -> np.ndarray | None:
    """RGB pixels of the pupil disc of one eye, inside the eye opening (None if the eye is shut)."""
    cx, cy, r = rg.iris(ctx, side)
    rr = max(1.0, radius_frac * r)
    x0, x1 = int(math.floor(cx - rr - 1)), int(math.ceil(cx + rr + 1))
    y0, y1 = int(math.floor(cy - rr - 1)), int(math.ceil(cy + rr + 1))
    H, W = ctx.rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    yy = np.arange(y0, y1, dtype=np.float64)[:, None]
    xx = np.arange(x0, x1, dtype=np.float64)[None, :]
    disc = (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= rr * rr
    sel = disc & rg.polygon_mask((y1 - y0, x1 - x0), [(rg.eye_contour(ctx, side), 0)], (x0, y0))
    if np.count_nonzero(sel) < 3:
        return None
    return np.asarray(ctx.rgb)[y0:y1, x0:x1][sel]


@register("face.red_eye", RedEyeRule)
def check_red_eye(ctx, rule: RedEyeRule) -> Verdict:
    """Red-eye: share of each pupil disc (``pupil_radius`` × the iris radius from the iris
    landmarks 469–472 / 474–477, clipped to the eye opening) whose colour is red (CIE a* ≥
    ``min_a``, hue between −30° and 60°, L* ≥ ``min_lightness``); a normal pupil is dark and
    neutral (the lightness floor also ignores the red JPEG's 4:2:0 chroma smears into the dark
    pupil around a red patch).
    Enforces 三「无红眼」.
    """
    discs = {side: px for side in ("left", "right")
             if (px := _disc_pixels(ctx, side, rule.pupil_radius)) is not None}
    fracs = {}
    if discs:
        # both pupils' pixels in one conversion, then each pupil's share
        lab = rgb_to_lab(np.concatenate(list(discs.values())))
        hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
        red = (lab[:, 1] >= rule.min_a) & (hue >= -30) & (hue <= 60) & (lab[:, 0] >= rule.min_lightness)
        start = 0
        for side, px in discs.items():
            fracs[side] = float(red[start:start + len(px)].mean())
            start += len(px)
    if not fracs:
        raise NotAssessable("双眼闭合或看不到瞳孔，无法判断红眼", "pupils not visible (eyes closed): red-eye not judged")
    worst = max(fracs.values())
    measured = {f"red_fraction_{k}": round(v, 3) for k, v in fracs.items()}
    expected = {"max_red_fraction": rule.max_red_fraction}
    if worst <= rule.max_red_fraction:
        return passed("没有红眼", "no red-eye", measured, expected)
    which = [k for k, v in fracs.items() if v > rule.max_red_fraction]
    w_zh = "双眼" if len(which) == 2 else f"图像{'左' if which[0] == 'left' else '右'}侧眼睛"
    w_en = "both eyes" if len(which) == 2 else f"the image-{which[0]} eye"
    return failed(
        f"{w_zh}有红眼（瞳孔 {worst:.0%} 呈红色）；请关闭闪光灯或开启防红眼功能重拍（不得用软件修饰人像特征）",
        f"red-eye in {w_en} ({worst:.0%} of the pupil is red): retake without direct flash or with red-eye "
        "reduction (retouching facial features is not allowed)",
        measured, expected,
    )


# --------------------------------------------------------------------------- border


class BorderRule(Rule):
    min_contrast: float = Field(gt=0, description="CIEDE2000 between a uniform edge strip and the interior that makes it a border")
    max_search: float = Field(0.2, gt=0, le=0.5, description="deepest strip searched, fraction of the side")


_EDGE_TEXT = {"top": ("上", "top"), "bottom": ("下", "bottom"), "left": ("左", "left"), "right": ("右", "right")}


@register("image.border", BorderRule)
def check_border(ctx, rule: BorderRule) -> Verdict:
    """Added borders, frames or strips: along each edge, the run of uniform lines parallel to it
    (each line's luma 90 % within 12 levels of its mean, all of the same colour) and the median
    CIEDE2000 between that strip and the first interior line; a strip whose contrast reaches
    ``min_contrast`` is an added border.  A uniform background reaching deep into the frame is
    not a strip.  Enforces 一.4「除头像外，不得添加边框、文字、图案等其他内容」.
    """
    scan = rg.border_scan(ctx.rgb, rule.max_search)
    found = {k: v for k, v in scan.items() if v["width"] > 0 and v["contrast"] >= rule.min_contrast}
    measured = {k: {"width_px": v["width"], "contrast": round(v["contrast"], 1),
                    **({"colour_rgb": v["colour_rgb"]} if "colour_rgb" in v else {})} for k, v in scan.items()}
    expected = {"min_contrast": rule.min_contrast, "metric": "CIEDE2000"}
    if not found:
        return passed("没有添加的边框", "no added border", measured, expected)
    sides = sorted(found, key=lambda k: ["top", "bottom", "left", "right"].index(k))
    s_zh = "、".join(_EDGE_TEXT[k][0] for k in sides)
    s_en = ", ".join(_EDGE_TEXT[k][1] for k in sides)
    wmax = max(found[k]["width"] for k in sides)
    return failed(
        f"照片{s_zh}边有添加的边框或色条（最宽 {wmax} 像素）；请去掉边框，使用原始照片裁剪",
        f"an added border or strip along the {s_en} edge(s) (up to {wmax} px wide): remove it and crop from the "
        "original photo",
        measured, expected, fixable=True,
    )


# --------------------------------------------------------------------------- glasses


def _lens_box(ctx, side: str) -> tuple[float, float, float, float]:
    """Centre and half-axes (cx, cy, ax, ay) of the lens area of one eye: 1.5 × 1.0 eye widths."""
    c = rg.eye_contour(ctx, side)
    ew = float(c[:, 0].max() - c[:, 0].min())
    cx, cy = float(c[:, 0].mean()), float(c[:, 1].mean())
    return cx, cy, 0.75 * ew, 0.5 * ew


class GlareRule(Rule):
    max_glare_area: float = Field(gt=0, description="largest blown-out patch in a lens area, units of IOD²")
    level: int = Field(240, ge=128, le=255, description="luma counted as glare")


@register("glasses.glare", GlareRule)
def check_glasses_glare(ctx, rule: GlareRule) -> Verdict:
    """Reflections on eyeglass lenses: the largest connected near-white patch (luma ≥ ``level``)
    in each eye's lens area (an ellipse 1.5 × 1 eye widths around the eye), in units of IOD².
    Catchlights in the eyes are far smaller.  A heuristic (it does not detect the glasses
    themselves); enforces 二.3「眼镜不能有反光」.
    """
    import cv2

    iod = rg.inter_ocular(ctx)
    rgb = np.asarray(ctx.rgb)
    H, W = rgb.shape[:2]
    best = {}
    for side in ("left", "right"):
        cx, cy, ax, ay = _lens_box(ctx, side)
        x0, x1 = max(0, int(cx - ax)), min(W, int(math.ceil(cx + ax)) + 1)
        y0, y1 = max(0, int(cy - ay)), min(H, int(math.ceil(cy + ay)) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        yy = np.arange(y0, y1, dtype=np.float32)[:, None]
        xx = np.arange(x0, x1, dtype=np.float32)[None, :]
        ell = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1.0
        gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
        hot = (gray >= rule.level) & ell
        area = 0.0
        if hot.any():
            n, _, stats, _ = cv2.connectedComponentsWithStats(hot.astype(np.uint8), connectivity=8)
            area = float(stats[1:, cv2.CC_STAT_AREA].max()) / (iod * iod)
        best[side] = area
    if not best:
        raise NotAssessable("找不到眼部区域", "the eye regions are outside the photo")
    worst = max(best.values())
    measured = {f"glare_area_{k}": round(v, 4) for k, v in best.items()}
    expected = {"max_glare_area": rule.max_glare_area, "unit": "inter-ocular distance squared"}
    if worst <= rule.max_glare_area:
        return passed("眼部没有明显反光", "no glare in the eye areas", measured, expected)
    return failed(
        f"眼镜镜片有反光（亮斑面积 {worst:.3f}×两眼间距²，允许 ≤ {rule.max_glare_area:g}）；"
        "请调整灯光角度或略微调低镜框后重拍",
        f"reflection on the glasses (bright patch {worst:.3f} × inter-ocular distance², allowed ≤ "
        f"{rule.max_glare_area:g}): move the lights or tilt the frames slightly down and retake",
        measured, expected,
    )


class TintRule(Rule):
    min_transmittance: float = Field(gt=0, lt=1, description="darkest allowed lens-area / cheek luminance ratio")
    max_tint_delta_e: float = Field(gt=0, description="largest chromatic CIEDE2000 between lens-area skin and cheeks")


def _median_lab(rgb: np.ndarray, mask: np.ndarray, n: int = 2000) -> np.ndarray:
    """Median CIELAB of the pixels of ``rgb`` under ``mask`` (of at most ``n`` of them, evenly
    spread)."""
    px = rg.rows(np.ascontiguousarray(rgb).reshape(-1, 3), rg._spread(np.flatnonzero(mask), n))
    return median(rgb_to_lab(px), axis=0).astype(np.float64)


@register("glasses.tinted", TintRule)
def check_glasses_tinted(ctx, rule: TintRule) -> Verdict:
    """Tinted lenses: the skin seen through the lens area (a ring 0.5–1 of an ellipse 1.5 × 1
    eye widths around each eye, where the eye opening dilated by a quarter eye width and the
    brows leave the lids' outer skin) against the facial skin just outside any lens (1.7–3.2 of
    the same ellipse, below the brows) — the luminance ratio (an estimate of the lens
    transmittance) and the chromatic CIEDE2000 (lightness equalised) of their median colours,
    at full resolution.  A heuristic: natural eye-socket shading alone reads 0.65–1.3.
    Enforces 二.3「不得戴有色（含隐形）眼镜」 (coloured contact lenses are not detected).
    """
    face = ctx.face
    rgb = np.asarray(ctx.rgb)
    H, W = rgb.shape[:2]
    conts = [rg.eye_contour(ctx, sd) for sd in ("left", "right")]
    ew = float(sum(c[:, 0].max() - c[:, 0].min() for c in conts) / len(conts))  # mean eye width
    if ew < 4:
        raise NotAssessable("眼睛太小，无法判断镜片颜色", "the eyes are too small to judge lens tint")
    ax, ay = 0.75 * ew, 0.5 * ew
    reach = math.sqrt(3.2)
    cen = [(float(c[:, 0].mean()), float(c[:, 1].mean())) for c in conts]
    x0 = max(0, int(min(c[0] for c in cen) - reach * ax))
    x1 = min(W, int(math.ceil(max(c[0] for c in cen) + reach * ax)) + 1)
    y0 = max(0, int(min(c[1] for c in cen) - reach * ay))
    y1 = min(H, int(math.ceil(max(c[1] for c in cen) + reach * ay)) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise NotAssessable("找不到眼部区域", "the eye regions are outside the photo")
    shape = (y1 - y0, x1 - x0)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    e = np.minimum(*[((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 for cx, cy in cen])
    brows_pts = [rg.brow_points(ctx, sd) for sd in ("left", "right")]
    r_eye, r_brow = max(1, int(round(0.25 * ew))), max(1, int(round(0.1 * ew)))
    cut = rg.polygon_mask(shape, [(conts[0], r_eye), (conts[1], r_eye), (rg._hull(brows_pts[0]), r_brow),
                                  (rg._hull(brows_pts[1]), r_brow)], (x0, y0))
    skin = rg.polygon_mask(shape, [(face.landmarks[rg.ix(rg.FACE_OVAL)], 0)], (x0, y0)) & ~cut
    brow_top = float(min(p[:, 1].min() for p in brows_pts))
    inside = (e >= 0.5) & (e <= 1.0) & skin
    ref = (e > 1.7) & (e <= 3.2) & skin & (ys >= brow_top)
    if np.count_nonzero(inside) < 12 or np.count_nonzero(ref) < 12:
        raise NotAssessable("眼周皮肤区域太小，无法判断镜片颜色", "too little skin around the eyes to judge lens tint")
    crop = rgb[y0:y1, x0:x1]
    li = _median_lab(crop, inside)
    lr = _median_lab(crop, ref)
    t = _y_of_l(li[0]) / max(_y_of_l(lr[0]), 1e-5)
    tint = float(delta_e_2000(np.array([lr[0], li[1], li[2]]), lr))
    measured = {"transmittance": round(t, 3), "tint_delta_e": round(tint, 2),
                "lens_area_lab": [round(float(v), 1) for v in li], "skin_lab": [round(float(v), 1) for v in lr]}
    expected = {"min_transmittance": rule.min_transmittance, "max_tint_delta_e": rule.max_tint_delta_e}
    zh, en = [], []
    if t < rule.min_transmittance:
        zh.append(f"眼部区域明显变暗（透光约 {t:.0%}，应 ≥ {rule.min_transmittance:.0%}），疑似有色眼镜或墨镜")
        en.append(f"the eye areas are much darker (about {t:.0%} light, expected ≥ {rule.min_transmittance:.0%}): "
                  "tinted glasses or sunglasses?")
    if tint > rule.max_tint_delta_e:
        zh.append(f"眼部区域颜色偏色（ΔE {tint:.1f}，允许 ≤ {rule.max_tint_delta_e:g}），疑似有色镜片")
        en.append(f"the eye areas have a colour cast (ΔE {tint:.1f}, allowed ≤ {rule.max_tint_delta_e:g}): "
                  "tinted lenses?")
    if not zh:
        return passed("未发现有色镜片", "no tinted lenses found", measured, expected)
    return failed("；".join(zh) + "；请戴无色透明眼镜或摘下墨镜重拍",
                  "; ".join(en) + ". Wear clear lenses and retake", measured, expected)
