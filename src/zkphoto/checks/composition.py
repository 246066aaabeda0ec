"""Composition as fractions of the frame (Jiangsu 专接本 2020, 附件2 二「成像要求」).

「建议成像区上下要求上部空1/10，头部占7/10，肩部占1/5，左右各空1/10」 is read as a head box:
- top margin: top edge → top of the hair = 1/10 of the height;
- head height: top of the hair → chin = 7/10 of the height (so the shoulders fill the last 1/5);
- side margins: each side edge → the head's silhouette (hair and ears included, measured on the
  person mask between the hair top and the mouth) = 1/10 of the width, i.e. the head spans 8/10.
These are recommendations (建议), so the shipped spec makes them warnings with a tolerance band.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .registry import NotAssessable, RangeRule, Verdict, failed, passed, register


class FractionRule(RangeRule):
    unit: Literal["fraction"] = "fraction"


def _pct(v: float) -> str:
    return f"{v:.1%}"


@register("composition.top_margin", FractionRule)
def check_top_margin(ctx, rule: FractionRule) -> Verdict:
    """Space above the head (top edge → top of the hair) as a fraction of the height.
    Enforces Jiangsu 附件2 二「上部空1/10」 (recommendation)."""
    y = ctx.hair_top_y
    v = y / ctx.height
    measured = {"hair_top_y": round(y, 1), "top_margin": round(v, 4)}
    if rule.contains(v):
        return passed(f"头顶上方留白 {_pct(v)}", f"space above the head {_pct(v)}", measured, rule.expected())
    more = rule.below(v)
    return failed(
        f"头顶上方留白 {_pct(v)}，建议 {rule.describe()}（约 1/10）；请{'在上方多留空间' if more else '裁掉上方多余背景'}",
        f"space above the head is {_pct(v)}; recommended {rule.describe()} (about 1/10). "
        f"{'Leave more space above' if more else 'Crop some background above'}",
        measured, rule.expected(), fixable=True,
    )


@register("composition.head_height", FractionRule)
def check_head_height(ctx, rule: FractionRule) -> Verdict:
    """Head height (top of the hair → chin) as a fraction of the image height; the band below
    the chin is reported as the shoulder share.  Enforces Jiangsu 附件2 二「头部占7/10，肩部占1/5」."""
    top = ctx.hair_top_y
    chin = ctx.face.chin_y
    v = (chin - top) / ctx.height
    measured = {"head_height_px": round(chin - top, 1), "head_height": round(v, 4),
                "below_chin": round(1 - chin / ctx.height, 4)}
    if rule.contains(v):
        return passed(f"头部占画面高度 {_pct(v)}", f"the head fills {_pct(v)} of the height", measured, rule.expected())
    small = rule.below(v)
    return failed(
        f"头部占画面高度 {_pct(v)}，建议 {rule.describe()}（约 7/10）；请{'放大人像/靠近相机' if small else '缩小人像/离相机远一些'}",
        f"the head fills {_pct(v)} of the height; recommended {rule.describe()} (about 7/10). "
        f"{'Zoom in / move closer' if small else 'Zoom out / step back'}",
        measured, rule.expected(), fixable=True,
    )


def head_extent(ctx) -> tuple[float, float]:
    """Leftmost and rightmost person-mask columns between the hair top and the mouth."""
    g = ctx.face
    m = ctx.person_mask
    y0 = int(max(0, ctx.hair_top_y))
    y1 = int(min(m.shape[0], g.landmarks[14, 1]))
    if y1 <= y0:
        raise NotAssessable("无法确定头部范围", "cannot find the head's extent")
    band = m[y0:y1] >= 0.5
    cols = np.nonzero(band.any(axis=0))[0]
    if cols.size == 0:
        raise NotAssessable("无法确定头部范围", "cannot find the head's extent")
    # keep the connected run of columns that contains the face centre
    c = int(g.face_center_x)
    run = np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1)
    seg = next((r for r in run if r[0] <= c <= r[-1]), max(run, key=len))
    return float(seg[0]), float(seg[-1] + 1)


@register("composition.side_margins", FractionRule)
def check_side_margins(ctx, rule: FractionRule) -> Verdict:
    """Space between each side edge and the head's silhouette, as fractions of the width.
    Enforces Jiangsu 附件2 二「左右各空1/10」 (recommendation)."""
    left, right = head_extent(ctx)
    lm, rm = left / ctx.width, (ctx.width - right) / ctx.width
    measured = {"head_left_x": round(left, 1), "head_right_x": round(right, 1),
                "left_margin": round(lm, 4), "right_margin": round(rm, 4)}
    if rule.contains(lm) and rule.contains(rm):
        return passed(f"左右留白 {_pct(lm)} / {_pct(rm)}", f"side margins {_pct(lm)} / {_pct(rm)}",
                      measured, rule.expected())
    return failed(
        f"左右留白 {_pct(lm)} / {_pct(rm)}，建议各 {rule.describe()}（约 1/10）；请调整裁剪使头部居中并占宽度约 8/10",
        f"side margins {_pct(lm)} / {_pct(rm)}; recommended {rule.describe()} each (about 1/10). "
        "Re-crop so the head is centred and spans about 8/10 of the width",
        measured, rule.expected(), fixable=True,
    )
