"""The annotated picture: what was measured and the allowed bands, drawn on the photo.

Green where the measurement is inside its band, red where it is outside, grey where it could
not be assessed; a legend panel beside the photo lists each geometric rule with its value.
It only draws what the context has already measured (no model runs twice).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .checks.registry import NotAssessable
from .context import PhotoContext
from .report import Report, Status

GREEN = (0, 190, 60)
RED = (230, 30, 30)
AMBER = (240, 170, 0)
GREY = (150, 150, 150)
BLUE = (40, 120, 255)

_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def _font(size: int) -> tuple[ImageFont.ImageFont, bool]:
    """A font and whether it can draw Chinese."""
    for p in _CJK_FONTS:
        if Path(p).exists():
            try:
                return ImageFont.truetype(p, size), True
            except OSError:
                pass
    try:
        return ImageFont.load_default(size=size), False
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default(), False


def _colour(report: Report, check_id: str) -> tuple[int, int, int] | None:
    try:
        c = report.check(check_id)
    except KeyError:
        return None
    return {Status.PASS: GREEN, Status.FAIL: RED, Status.WARN: AMBER}.get(c.status, GREY)


def _band(rule, frame: int) -> tuple[float, float] | None:
    if rule is None or getattr(rule, "min", None) is None or getattr(rule, "max", None) is None:
        return None
    k = 1.0 if getattr(rule, "unit", "px") == "px" else float(frame)
    return rule.min * k, rule.max * k


def annotate(ctx: PhotoContext, report: Report, spec=None, lang: str = "zh") -> Image.Image:
    """Draw the geometry behind ``report`` on the photo; returns an RGB image with a legend."""
    spec = spec if spec is not None else getattr(ctx, "spec", None)
    base = Image.fromarray(np.asarray(ctx.rgb)).convert("RGB")
    w, h = base.size
    # draw at a legible scale: the photo's long side becomes ~800 px
    scale = 800.0 / max(w, h)
    W, H = max(1, round(w * scale)), max(1, round(h * scale))
    photo = base.resize((W, H), Image.LANCZOS if scale < 1 else Image.BICUBIC)
    overlay = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    od = ImageDraw.Draw(overlay)
    font, cjk = _font(max(14, W // 32))
    use_zh = lang == "zh" and cjk
    legend: list[tuple[tuple[int, int, int], str]] = []

    def rule(cid):
        return spec.rule(cid) if spec is not None else None

    def want(cid: str) -> str:
        r = rule(cid)
        return f"  [{r.describe()}]" if r is not None and hasattr(r, "describe") else ""

    def y_(v: float) -> float:
        return v * scale

    def x_(v: float) -> float:
        return v * scale

    def hband(cid: str, frame: int, label: str):
        band = _band(rule(cid), frame)
        col = _colour(report, cid)
        if band is None or col is None:
            return
        od.rectangle([0, y_(band[0]), W, y_(band[1])], fill=(*col, 40), outline=(*col, 120))
        od.text((4, y_(band[0]) + 2), label, fill=(*col, 255), font=font)

    try:
        g = ctx.face
    except NotAssessable:
        g = None
    ids = report_ids(report)

    hband("face.hair_top", h, "hair-top band" if not use_zh else "头顶区间")
    hband("face.eye_line", h, "eye band" if not use_zh else "眼睛区间")

    d = ImageDraw.Draw(photo)
    # image centre line (dashed)
    for y in range(0, H, 12):
        d.line([(W / 2, y), (W / 2, min(H, y + 6))], fill=BLUE, width=1)

    if g is not None:
        lm = g.landmarks
        for idx in (10, 152, 234, 454):
            x, y = lm[idx, 0], lm[idx, 1]
            d.ellipse([x_(x) - 3, y_(y) - 3, x_(x) + 3, y_(y) + 3], outline=BLUE, width=2)
        from .measure.face import FACE_OVAL

        pts = [(x_(lm[i, 0]), y_(lm[i, 1])) for i in FACE_OVAL]
        d.line(pts + [pts[0]], fill=(120, 170, 255), width=1)

        col = _colour(report, "face.eye_line") or GREY
        d.line([(0, y_(g.eye_line_y)), (W, y_(g.eye_line_y))], fill=col, width=2)
        for ex, ey in (g.left_eye, g.right_eye):
            d.ellipse([x_(ex) - 5, y_(ey) - 5, x_(ex) + 5, y_(ey) + 5], outline=col, width=2)
        if "face.eye_line" in ids:
            legend.append((col, f"eye line {g.eye_line_y:.0f} px (L {g.left_eye[1]:.0f} / R {g.right_eye[1]:.0f})"
                                   + want("face.eye_line")))

        col = _colour(report, "face.width") or GREY
        yw = y_(lm[234, 1])
        d.line([(x_(g.face_left_x), yw), (x_(g.face_right_x), yw)], fill=col, width=3)
        for xx in (g.face_left_x, g.face_right_x):
            d.line([(x_(xx), yw - 10), (x_(xx), yw + 10)], fill=col, width=3)
        if "face.width" in ids:
            legend.append((col, f"face width {g.face_width:.0f} px" + want("face.width")))

        col = _colour(report, "face.centered") or GREY
        d.line([(x_(g.face_center_x), 0), (x_(g.face_center_x), H)], fill=col, width=2)
        if "face.centered" in ids:
            legend.append((col, f"face centre {g.face_center_x - w / 2:+.0f} px from centre"))

        try:
            ht = ctx.hair_top_y
        except NotAssessable:
            ht = None
        if ht is not None:
            col = _colour(report, "face.hair_top") or _colour(report, "composition.top_margin") or GREY
            x0, x1 = x_(g.face_center_x - 0.3 * g.face_width), x_(g.face_center_x + 0.3 * g.face_width)
            d.line([(x0, y_(ht)), (x1, y_(ht))], fill=col, width=3)
            legend.append((col, f"top of head {ht:.0f} px ({ht / h:.1%})"
                           + (want("face.hair_top") or want("composition.top_margin"))))

        if "body.shoulders_level" in ids:
            c = report.check("body.shoulders_level")
            if "left_shoulder" in c.measured:
                col = _colour(report, "body.shoulders_level") or GREY
                (a, b), (cc, dd) = c.measured["left_shoulder"], c.measured["right_shoulder"]
                d.line([(x_(a), y_(b)), (x_(cc), y_(dd))], fill=col, width=2)
                legend.append((col, f"shoulder tilt {c.measured['tilt_deg']:+.1f} deg"))
        if "face.pose" in ids:
            col = _colour(report, "face.pose") or GREY
            legend.append((col, f"yaw {g.yaw:+.0f}  pitch {g.pitch:+.0f}  roll {g.roll:+.0f} deg"))
    else:
        legend.append((GREY, "no face found" if not use_zh else "未检测到人脸"))

    photo = Image.alpha_composite(photo.convert("RGBA"), overlay).convert("RGB")

    # legend panel
    line_h = font.size + 8 if hasattr(font, "size") else 20
    items = legend + [(_status_colour(report.status), f"result: {report.status.value}  ({report.spec.id})")]
    failed = [c for c in report.checks if c.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    panel_w = max(360, W // 2)
    extra = [(RED if c.status is Status.FAIL else AMBER if c.status is Status.WARN else GREY,
              f"{'x' if c.status is Status.FAIL else '!' if c.status is Status.WARN else '?'} {c.id}")
             for c in failed]
    rows = items + ([(GREY, "")] if extra else []) + extra
    panel_h = max(H, 16 + line_h * len(rows))
    canvas = Image.new("RGB", (W + panel_w, panel_h), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    cd = ImageDraw.Draw(canvas)
    y = 10
    for col, text in rows:
        if text:
            cd.rectangle([W + 10, y + 3, W + 22, y + 15], fill=col)
            cd.text((W + 30, y), text, fill=(20, 20, 20), font=font)
        y += line_h
    return canvas


def _status_colour(s: Status):
    return {Status.PASS: GREEN, Status.WARN: AMBER, Status.FAIL: RED}.get(s, GREY)


def report_ids(report: Report) -> set[str]:
    """Ids of the checks present in ``report``."""
    return {c.id for c in report.checks}


def save_annotation(ctx: PhotoContext, report: Report, out: str | Path, lang: str = "zh") -> Path:
    """Write the annotated picture to ``out`` (PNG or JPEG by extension) and return the path."""
    out = Path(out)
    img = annotate(ctx, report, lang=lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
    return out
