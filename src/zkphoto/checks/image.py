"""Image-level checks: pixel size, aspect ratio, DPI, colour mode, colourfulness, orientation,
JPEG quality.

Rules: 教试中心函〔2021〕125号 附件 四「宽480像素*高640像素，分辨率300dpi，24位真彩色 …
压缩品质系数不低于60」, 一.2「禁止对图像整体或局部进行镜像、旋转等变换操作」, 一.1「彩色头像」;
Jiangsu 附件2 三「采集图像比例为4:3(高宽比)，分辨率大于150dpi」.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..measure import regions as rg
from ..measure.color import colourfulness
from .registry import NotAssessable, RangeRule, Rule, Verdict, failed, passed, register


class DimensionsRule(Rule):
    width: int = Field(gt=0)
    height: int = Field(gt=0)


@register("image.dimensions", DimensionsRule)
def check_dimensions(ctx, rule: DimensionsRule) -> Verdict:
    """Width × height in pixels as stored. Enforces 四「宽480像素*高640像素」."""
    w, h = ctx.width, ctx.height
    measured = {"width": w, "height": h}
    expected = {"width": rule.width, "height": rule.height, "unit": "px"}
    if (w, h) == (rule.width, rule.height):
        return passed(f"尺寸 {w}×{h} 像素", f"size {w}×{h} px", measured, expected)
    hint_zh = hint_en = ""
    if (h, w) == (rule.width, rule.height):
        hint_zh, hint_en = "（宽高颠倒了，照片应为竖幅）", " (width and height are swapped: the photo must be portrait)"
    return failed(
        f"尺寸为 {w}×{h} 像素，应为宽 {rule.width}×高 {rule.height}{hint_zh}；"
        f"请裁剪并缩放到 {rule.width}×{rule.height}（不要拉伸变形）",
        f"size is {w}×{h} px; expected {rule.width}×{rule.height} (width×height){hint_en}. "
        f"Crop and resize to {rule.width}×{rule.height} without stretching",
        measured,
        expected,
        fixable=True,
    )


class AspectRule(Rule):
    height: float = Field(gt=0, description="ratio numerator (height part), e.g. 4")
    width: float = Field(gt=0, description="ratio denominator (width part), e.g. 3")
    tolerance: float = Field(0.01, ge=0, lt=0.5, description="relative tolerance on h/w")


@register("image.aspect_ratio", AspectRule)
def check_aspect(ctx, rule: AspectRule) -> Verdict:
    """Height : width ratio of the pixels. Enforces Jiangsu「采集图像比例为4:3(高宽比)」."""
    w, h = ctx.width, ctx.height
    want = rule.height / rule.width
    got = h / w
    rel = abs(got - want) / want
    measured = {"width": w, "height": h, "ratio_h_w": round(got, 4), "relative_error": round(rel, 4)}
    expected = {"ratio_h_w": round(want, 4), "tolerance": rule.tolerance,
                "text": f"{rule.height:g}:{rule.width:g}"}
    r = f"{rule.height:g}:{rule.width:g}"
    if rel <= rule.tolerance:
        return passed(f"高宽比 {got:.3f}，符合 {r}", f"height:width ratio {got:.3f} matches {r}", measured, expected)
    new_h = round(w * want)
    return failed(
        f"高宽比为 {got:.3f}（{w}×{h}），应为 {r}（{want:.3f}）；请裁剪为例如 {w}×{new_h} 像素",
        f"height:width ratio is {got:.3f} ({w}×{h}); expected {r} ({want:.3f}). Crop to e.g. {w}×{new_h} px",
        measured,
        expected,
        fixable=True,
    )


class DpiRule(RangeRule):
    unit: Literal["dpi"] = "dpi"


@register("image.dpi", DpiRule)
def check_dpi(ctx, rule: DpiRule) -> Verdict:
    """Stored resolution (JFIF density, else EXIF, else PNG pHYs); "absent" is not 72 dpi.

    Enforces 四「分辨率300dpi」 (moe-2021) and Jiangsu「分辨率大于150dpi」.
    """
    d = ctx.dpi
    measured = {"dpi": [d.x, d.y] if d.present else None, "source": d.source,
                "jfif_dpi": list(d.jfif) if d.jfif else None, "exif_dpi": list(d.exif) if d.exif else None}
    expected = rule.expected()
    want = rule.describe()
    fix_zh = f"请在保存时把分辨率设置为 {want}（只改文件头，不需要改变像素）"
    fix_en = f"set the resolution to {want} when saving (a header field; pixels stay the same)"
    if not d.present:
        return failed(
            f"文件中没有记录分辨率（DPI 缺失，很多系统会当作 72 dpi），应为 {want}；{fix_zh}",
            f"the file stores no resolution (DPI absent; many systems read it as 72), expected {want}: {fix_en}",
            measured,
            expected,
            fixable=True,
        )
    # A per-centimetre density is a whole number (300 dpi is stored as 118 /cm = 299.72 dpi):
    # judge the nearest whole dpi it stands for.
    jx, jy = (round(d.x), round(d.y)) if d.per_cm else (d.x, d.y)
    if d.per_cm:
        measured["judged_dpi"] = [jx, jy]
        measured["unit_stored"] = "dots/cm"
    ok = rule.contains(jx) and rule.contains(jy)
    shown = f"{d.x:g}" if d.x == d.y else f"{d.x:g}×{d.y:g}"
    if ok and d.note == "jfif_exif_disagree" and not (rule.contains(d.exif[0]) and rule.contains(d.exif[1])):
        return failed(
            f"JFIF 记录 {shown} dpi，但 EXIF 记录 {d.exif[0]:g} dpi，两者不一致；{fix_zh}",
            f"JFIF says {shown} dpi but EXIF says {d.exif[0]:g} dpi; {fix_en}",
            measured,
            expected,
            fixable=True,
        )
    if ok:
        return passed(f"分辨率 {shown} dpi", f"resolution {shown} dpi", measured, expected)
    return failed(
        f"分辨率为 {shown} dpi，应为 {want}；{fix_zh}",
        f"resolution is {shown} dpi; expected {want}: {fix_en}",
        measured,
        expected,
        fixable=True,
    )


MODE_NAMES = {
    "L": ("灰度（8 位）", "greyscale (8-bit)"),
    "LA": ("灰度带透明通道", "greyscale with alpha"),
    "1": ("黑白二值", "1-bit black and white"),
    "P": ("调色板（索引色）", "palette (indexed colour)"),
    "PA": ("调色板带透明通道", "palette with alpha"),
    "CMYK": ("CMYK 印刷色", "CMYK"),
    "RGBA": ("RGB 带透明通道（32 位）", "RGB with alpha (32-bit)"),
    "I;16": ("16 位灰度", "16-bit greyscale"),
    "I;16B": ("16 位灰度", "16-bit greyscale"),
    "I": ("32 位整数灰度", "32-bit integer greyscale"),
    "YCbCr": ("YCbCr", "YCbCr"),
}


@register("image.color_mode")
def check_color_mode(ctx, rule: Rule) -> Verdict:
    """Three 8-bit colour channels (24-bit true colour): not greyscale, CMYK, palette or alpha.

    Enforces 四「24位真彩色」.
    """
    mode = ctx.mode
    bands = len(ctx.header.getbands())
    j = ctx.jpeg
    measured = {"mode": mode, "channels": bands, "bits_per_pixel": _bpp(mode)}
    if j is not None and j.components is not None:
        measured["jpeg_components"] = j.components
    expected = {"mode": "RGB", "channels": 3, "bits_per_pixel": 24}
    if mode == "RGB":
        return passed("24 位真彩色（RGB，每通道 8 位）", "24-bit true colour (RGB, 8 bits per channel)", measured, expected)
    zh, en = MODE_NAMES.get(mode, (mode, mode))
    return failed(
        f"颜色模式为 {zh}，应为 24 位真彩色 RGB；请在图片软件中转换为 RGB 颜色后另存为 JPG",
        f"colour mode is {en}; expected 24-bit RGB true colour. Convert to RGB and save as JPG",
        measured,
        expected,
        fixable=True,
    )


def _bpp(mode: str) -> int | None:
    return {"1": 1, "L": 8, "P": 8, "LA": 16, "PA": 16, "RGB": 24, "YCbCr": 24, "RGBA": 32,
            "CMYK": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I": 32, "F": 32}.get(mode)


class ColorfulRule(RangeRule):
    unit: Literal["M"] = "M"


@register("image.colorful", ColorfulRule)
def check_colorful(ctx, rule: ColorfulRule) -> Verdict:
    """Hasler–Süsstrunk colourfulness M of the pixels: a colour photo, not a greyscale picture
    saved as RGB.  Enforces 一.1「彩色头像」 and 一.3「色彩真实」.

    A greyscale image stored as RGB JPEG measures M < 2 (chroma noise only); colour portraits on a
    plain background measure ≈ 10–30, so the spec's threshold sits well between.
    """
    m = colourfulness(rg.grid_rgb(ctx), max_side=None)  # the analysis grid is already a sample
    measured = {"colourfulness": round(m, 2)}
    expected = rule.expected()
    if rule.contains(m):
        return passed(f"彩色照片（色彩度 {m:.1f}）", f"a colour photo (colourfulness {m:.1f})", measured, expected)
    return failed(
        f"照片几乎没有颜色（色彩度 {m:.1f}，应 {rule.describe()}），像是黑白照片；请使用彩色原始照片",
        f"the photo has almost no colour (colourfulness {m:.1f}, expected {rule.describe()}): it looks "
        "black-and-white. Use the original colour photo",
        measured,
        expected,
    )


class OrientationRule(Rule):
    allowed: list[int] = Field(default_factory=lambda: [1])

    @model_validator(mode="after")
    def _valid(self) -> "OrientationRule":
        bad = [v for v in self.allowed if v not in range(1, 9)]
        if bad:
            raise ValueError(f"EXIF orientation values are 1–8, got {bad}")
        return self


ORIENTATION_TEXT = {
    1: ("正常", "normal"),
    2: ("水平镜像", "mirrored horizontally"),
    3: ("旋转 180°", "rotated 180°"),
    4: ("垂直镜像", "mirrored vertically"),
    5: ("镜像并旋转 90°", "mirrored and rotated 90°"),
    6: ("需顺时针旋转 90° 显示", "rotated 90° (displayed turned clockwise)"),
    7: ("镜像并旋转 270°", "mirrored and rotated 270°"),
    8: ("需逆时针旋转 90° 显示", "rotated 270° (displayed turned counter-clockwise)"),
}


@register("image.orientation", OrientationRule)
def check_orientation(ctx, rule: OrientationRule) -> Verdict:
    """EXIF orientation tag: anything but "normal" means viewers rotate or mirror the picture.

    Enforces 一.2「禁止对图像整体或局部进行镜像、旋转等变换操作」.  An absent tag counts as normal.
    """
    o = ctx.orientation
    measured = {"exif_orientation": o}
    expected = {"allowed": list(rule.allowed)}
    if o is None or o in rule.allowed:
        return passed("没有旋转或镜像标记", "no rotation or mirroring tag", measured, expected)
    zh, en = ORIENTATION_TEXT.get(o, (f"未知值 {o}", f"unknown value {o}"))
    return failed(
        f"EXIF 方向标记为 {o}（{zh}），照片在不同系统中显示方向会不同；"
        "请把照片按正确方向实际保存（去掉方向标记），不要镜像",
        f"EXIF orientation is {o} ({en}), so systems show the photo differently; save the pixels "
        "upright and drop the tag (no mirroring)",
        measured,
        expected,
        fixable=True,
    )


class QualityRule(RangeRule):
    unit: Literal["IJG quality"] = "IJG quality"


@register("jpeg.quality", QualityRule)
def check_quality(ctx, rule: QualityRule) -> Verdict:
    """IJG quality factor estimated from the JPEG quantisation tables (best fit of libjpeg's
    scaled Annex K tables).  Enforces 四「压缩品质系数不低于60」.
    """
    if ctx.format != "JPEG":
        raise NotAssessable("不是 JPEG 文件，无法估计压缩质量", "not a JPEG file; quality cannot be estimated")
    est = ctx.quality
    if est is None:
        raise NotAssessable("JPEG 中没有量化表，无法估计压缩质量", "the JPEG has no quantisation tables")
    measured = {"quality": est.quality, "exact_ijg_match": est.exact,
                "table_mean_abs_error": round(est.mean_abs_error, 3)}
    expected = rule.expected()
    approx = "" if est.exact else "约 "
    approx_en = "" if est.exact else "about "
    if rule.contains(est.quality):
        return passed(f"JPEG 压缩质量{approx} {est.quality}", f"JPEG quality {approx_en}{est.quality}", measured, expected)
    if rule.below(est.quality):
        fix_zh, fix_en = f"请用原图以质量 ≥ {rule.min:g} 重新保存", f"re-save from the original at quality ≥ {rule.min:g}"
    else:
        fix_zh, fix_en = f"请以质量 ≤ {rule.max:g} 重新保存", f"re-save at quality ≤ {rule.max:g}"
    return failed(
        f"JPEG 压缩质量为{approx} {est.quality}，应为 {rule.describe()}；{fix_zh}（压缩过度会产生马赛克）",
        f"JPEG quality is {approx_en}{est.quality}; expected {rule.describe()}. {fix_en[0].upper()}{fix_en[1:]}",
        measured,
        expected,
        fixable=True,
    )
