"""Background and clothing checks: colour, uniformity (gradient, texture, objects, other people),
shadow, clothing contrast.

Rules: 教试中心函〔2021〕125号 附件 二.1「背景：应均匀无渐变，不得有阴影、其他人或物体。可选用浅蓝色
（参考值RGB<100,197,255>）、白色（参考值RGB<255,255,255>）或浅灰色（参考值RGB<240,240,240>）」,
二.5「衣着：应与背景色区分明显」; Jiangsu 附件2 一「背景布建议选用淡蓝色、白色或淡灰色」.

The background is the image farther than a margin from the subject (``measure.regions``), its
colours CIELAB (sRGB, D65) and colour differences CIEDE2000 (ΔE00): about 1 is the smallest
visible difference, 5 clearly noticeable side by side, 10 and more reads as another colour.
"""

from __future__ import annotations

import functools

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..measure import regions as rg
from ..measure.color import delta_e_2000, lab_to_rgb_one, rgb_to_lab
from .registry import Rule, Verdict, failed, passed, register


def _rgb(lab: np.ndarray) -> list[int]:
    """One CIELAB colour as 0–255 sRGB integers (``lab_to_rgb``'s one-colour arithmetic)."""
    return [int(round(v)) for v in lab_to_rgb_one(*np.asarray(lab, np.float64).tolist())]


def _lab(lab: np.ndarray) -> list[float]:
    return [round(float(v), 1) for v in lab]


class ReferenceColour(BaseModel):
    """An allowed background colour."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="English name, e.g. 'light blue'")
    name_zh: str = Field(description="Chinese name, e.g. '浅蓝色'")
    rgb: tuple[int, int, int] = Field(description="sRGB reference value, 0–255 each")

    def lab(self) -> np.ndarray:
        """CIELAB of the reference (computed once per colour)."""
        return _reference_lab(tuple(self.rgb))


@functools.lru_cache(maxsize=64)
def _reference_lab(rgb: tuple[int, int, int]) -> np.ndarray:
    out = rgb_to_lab(np.array(rgb, np.float64)).astype(np.float64)
    out.setflags(write=False)
    return out


class BackgroundColorRule(Rule):
    max_delta_e: float = Field(gt=0, description="largest CIEDE2000 to the nearest reference")
    references: list[ReferenceColour] = Field(min_length=1)


@register("background.color", BackgroundColorRule)
def check_background_color(ctx, rule: BackgroundColorRule) -> Verdict:
    """Colour of the background (median CIELAB of the background region: outside the subject's
    person mask with a margin, wider around the head) against each allowed reference colour;
    reports the nearest reference and its CIEDE2000.  Enforces 二.1「可选用浅蓝色（参考值
    RGB<100,197,255>）、白色（RGB<255,255,255>）或浅灰色（RGB<240,240,240>）」 (Jiangsu 一: a
    recommendation).
    """
    model = rg.background_model(ctx)
    col = model.colour
    des = [(float(delta_e_2000(col, r.lab())), r) for r in rule.references]
    de, ref = min(des, key=lambda t: t[0])
    rgb = _rgb(col)
    measured = {
        "background_rgb": rgb,
        "background_lab": _lab(col),
        "nearest_reference": ref.name,
        "delta_e": round(de, 2),
        "delta_e_by_reference": {r.name: round(d, 2) for d, r in des},
        "background_fraction": round(model.area_fraction, 3),
    }
    expected = {"max_delta_e": rule.max_delta_e, "metric": "CIEDE2000",
                "references": {r.name: list(r.rgb) for r in rule.references}}
    names_zh = "、".join(r.name_zh for r in rule.references)
    names_en = ", ".join(r.name for r in rule.references)
    if de <= rule.max_delta_e:
        return passed(
            f"背景颜色 RGB({rgb[0]},{rgb[1]},{rgb[2]})，接近{ref.name_zh}（ΔE {de:.1f}）",
            f"background colour RGB({rgb[0]},{rgb[1]},{rgb[2]}), close to {ref.name} (ΔE {de:.1f})",
            measured, expected,
        )
    L = col[0]
    ref_l = ref.lab()[0]
    hint_zh, hint_en = "", ""
    if L < ref_l - 8 and abs(col[1]) < 8 and abs(col[2]) < 8:
        hint_zh, hint_en = "背景偏暗（可能是光线不足）", "the background is too dark (probably under-lit) — "
    return failed(
        f"背景颜色为 RGB({rgb[0]},{rgb[1]},{rgb[2]})，与最接近的参考色{ref.name_zh} RGB{tuple(ref.rgb)} "
        f"相差 ΔE {de:.1f}（允许 ≤ {rule.max_delta_e:g}）；{hint_zh}请使用{names_zh}背景重拍，或用软件更换为标准背景色",
        f"the background is RGB({rgb[0]},{rgb[1]},{rgb[2]}), ΔE {de:.1f} from the nearest reference "
        f"({ref.name} RGB{tuple(ref.rgb)}; allowed ≤ {rule.max_delta_e:g}): {hint_en}retake it in front of a "
        f"{names_en} background, or replace the background with a reference colour",
        measured, expected, fixable=True,
    )


class UniformityRule(Rule):
    max_gradient_delta_e: float = Field(gt=0, description="largest CIEDE2000 across the fitted surface")
    max_texture: float = Field(gt=0, description="largest RMS ΔE*ab of the background around the surface")
    object_delta_e: float = Field(gt=0, description="CIEDE2000 from the surface that marks an object")
    min_object_area: float = Field(gt=0, lt=1, description="smallest object, fraction of the image area")


@register("background.uniformity", UniformityRule)
def check_background_uniformity(ctx, rule: UniformityRule) -> Verdict:
    """Uniformity of the background region, from a quadratic surface fitted (robustly) to its
    L*, a*, b*: the gradient is the largest CIEDE2000 between two points of the fitted surface
    (the most extreme 1 % of each channel at either end left out: corner tips are not a
    gradient of the backdrop);
    the texture the RMS ΔE*ab of the background around it (object pixels left out); objects and
    other people are connected regions farther than ``object_delta_e`` from the surface with at
    least ``min_object_area`` of the image (other person-mask components count as background).
    Enforces 二.1「背景：应均匀无渐变，不得有…其他人或物体」 and 一.4「不得添加…图案等其他内容」.
    """
    model = rg.background_model(ctx)
    sr = rg.surface_range(model)
    blobs = rg.background_blobs(ctx, rule.object_delta_e, rule.min_object_area)
    calm = model.residual <= rule.object_delta_e
    texture = float(np.sqrt(np.mean(model.residual[calm] ** 2))) if calm.any() else 0.0
    measured = {
        "gradient_delta_e": round(sr["delta_e"], 2),
        "gradient_lightness_range": round(sr["l_range"], 2),
        "texture_rms": round(texture, 2),
        "objects": [{"area_fraction": round(b.area_fraction, 4), "bbox": list(b.bbox),
                     "delta_e": round(b.median_delta_e, 1)} for b in blobs[:5]],
        "object_count": len(blobs),
        "background_fraction": round(model.area_fraction, 3),
    }
    expected = {"max_gradient_delta_e": rule.max_gradient_delta_e, "max_texture": rule.max_texture,
                "object_delta_e": rule.object_delta_e, "min_object_area": rule.min_object_area}
    zh, en = [], []
    if sr["delta_e"] > rule.max_gradient_delta_e:
        a, b = _rgb(np.array(sr["from"])), _rgb(np.array(sr["to"]))
        zh.append(f"背景有明显渐变（从 RGB{tuple(a)} 到 RGB{tuple(b)}，ΔE {sr['delta_e']:.1f}，允许 ≤ "
                  f"{rule.max_gradient_delta_e:g}），请均匀照亮背景或使用纯色背景")
        en.append(f"the background has a visible gradient (RGB{tuple(a)} to RGB{tuple(b)}, ΔE {sr['delta_e']:.1f}, "
                  f"allowed ≤ {rule.max_gradient_delta_e:g}): light the background evenly or use a plain one")
    if texture > rule.max_texture:
        zh.append(f"背景有纹理或图案（起伏 ΔE {texture:.1f}，允许 ≤ {rule.max_texture:g}），请使用无花纹、平整的纯色背景")
        en.append(f"the background is textured or patterned (variation ΔE {texture:.1f}, allowed ≤ "
                  f"{rule.max_texture:g}): use a plain, smooth backdrop")
    if blobs:
        b = blobs[0]
        x, y, w, h = b.bbox
        zh.append(f"背景中有 {len(blobs)} 处其他人或物体（最大一处约占画面 {b.area_fraction:.1%}，位于 x={x}、y={y} 附近 "
                  f"{w}×{h} 像素），请移开背景中的人和物品后重拍")
        en.append(f"{len(blobs)} object(s) or other people in the background (the largest covers {b.area_fraction:.1%} "
                  f"of the photo, a {w}×{h} px area at x={x}, y={y}): clear the background and retake")
    if not zh:
        return passed(
            f"背景均匀（渐变 ΔE {sr['delta_e']:.1f}，纹理 {texture:.1f}，无其他物体）",
            f"the background is uniform (gradient ΔE {sr['delta_e']:.1f}, texture {texture:.1f}, no objects)",
            measured, expected,
        )
    return failed("；".join(zh), "; ".join(en), measured, expected)


class ShadowRule(Rule):
    max_depth: float = Field(gt=0, description="largest L* darkening next to the silhouette")


_SIDE_TEXT = {
    "above_head": ("头顶上方", "above the head"),
    "left_of_head": ("头部左侧", "left of the head"),
    "right_of_head": ("头部右侧", "right of the head"),
    "left_of_body": ("身体左侧", "left of the body"),
    "right_of_body": ("身体右侧", "right of the body"),
}


@register("background.shadow", ShadowRule)
def check_background_shadow(ctx, rule: ShadowRule) -> Verdict:
    """Shadow of the subject on the background: how much darker (CIE L*) the background is in a
    band 1.5–8 % of the width from the silhouette than a surface fitted to the far background
    predicts, per side (above the head, left/right of the head, left/right of the body) and per
    distance; the depth is the darkest side's median.  Enforces 二.1「不得有阴影」.
    """
    sp = rg.shadow_profile(ctx)
    depth = sp["depth"]
    measured = {"shadow_depth_l": round(depth, 2), "side": sp["side"],
                "distance_px": None if sp["distance_px"] is None else round(sp["distance_px"], 1),
                "depth_by_side": sp["sides"], "far_background_lightness": round(sp["far_lightness"], 1)}
    expected = {"max_depth": rule.max_depth, "unit": "L*"}
    if depth <= rule.max_depth:
        return passed(f"背景上没有明显阴影（最深 ΔL* {depth:.1f}）",
                      f"no visible shadow on the background (darkest ΔL* {depth:.1f})", measured, expected)
    zh_side, en_side = _SIDE_TEXT.get(sp["side"], ("人像旁", "next to the subject"))
    return failed(
        f"{zh_side}的背景上有阴影（比周围背景暗 ΔL* {depth:.1f}，允许 ≤ {rule.max_depth:g}）；"
        "请让人离背景远一些，并从正面或两侧均匀补光",
        f"there is a shadow on the background {en_side} (ΔL* {depth:.1f} darker than the rest, allowed ≤ "
        f"{rule.max_depth:g}): stand farther from the backdrop and light it evenly from the front or both sides",
        measured, expected,
    )


class ClothingRule(Rule):
    min_delta_e: float = Field(gt=0, description="smallest CIEDE2000 between clothing and background")


@register("clothing.contrast", ClothingRule)
def check_clothing_contrast(ctx, rule: ClothingRule) -> Verdict:
    """CIEDE2000 between the clothing (median colour of the shoulders, neck and skin-coloured
    pixels left out) and the background beside it.  Enforces 二.5「衣着：应与背景色区分明显」.
    """
    c = rg.clothing(ctx)
    de = float(delta_e_2000(c.colour, c.background))
    similar = float(np.mean(delta_e_2000(c.lab[:: max(1, len(c.lab) // 400)], c.background) < rule.min_delta_e))
    crgb, brgb = _rgb(c.colour), _rgb(c.background)
    measured = {"clothing_rgb": crgb, "clothing_lab": _lab(c.colour), "background_rgb": brgb,
                "background_lab": _lab(c.background), "delta_e": round(de, 2),
                "similar_fraction": round(similar, 3), "clothing_fraction": round(c.area_fraction, 3)}
    expected = {"min_delta_e": rule.min_delta_e, "metric": "CIEDE2000"}
    if de >= rule.min_delta_e:
        return passed(f"衣着与背景区分明显（ΔE {de:.1f}）", f"clothing stands out from the background (ΔE {de:.1f})",
                      measured, expected)
    return failed(
        f"衣着颜色 RGB{tuple(crgb)} 与背景 RGB{tuple(brgb)} 太接近（ΔE {de:.1f}，至少 {rule.min_delta_e:g}）；"
        "请换一件与背景颜色明显不同的衣服（如浅色背景配深色衣服）",
        f"the clothing RGB{tuple(crgb)} is too close to the background RGB{tuple(brgb)} (ΔE {de:.1f}, at least "
        f"{rule.min_delta_e:g}): wear clothes of a clearly different colour (dark clothes on a light background)",
        measured, expected,
    )
