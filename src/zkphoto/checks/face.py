"""Face checks: count, head position, eye line, face width, centring, pose, eyes, gaze, mouth,
shoulders.

Rules: 教试中心函〔2021〕125号 附件 四.2「人像在图像矩形框内水平居中，左右对称。头顶发际距上边沿50像素
至110像素；眼睛所在位置距上边沿200像素至300像素；脸部宽度（两脸颊之间）180像素至300像素」, 二.2
「坐姿端正，表情自然，双眼自然睁开并平视，耳朵对称，左右肩膀平衡，嘴唇自然闭合」, 一.1「正面免冠」.
Pixel rules apply to the pixels as stored; when the photo is not the spec's size, the message
says so first.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .registry import NotAssessable, RangeRule, Rule, Verdict, failed, passed, register


def _size_note(ctx) -> tuple[str, str]:
    """A prefix for pixel-rule messages when the photo is not the spec's pixel size."""
    spec = getattr(ctx, "spec", None)
    dims = spec.rule("image.dimensions") if spec is not None else None
    if dims is None or (ctx.width, ctx.height) == (dims.width, dims.height):
        return "", ""
    return (
        f"照片尺寸为 {ctx.width}×{ctx.height}，不是 {dims.width}×{dims.height}，请先调整尺寸；按当前像素：",
        f"the photo is {ctx.width}×{ctx.height}, not {dims.width}×{dims.height}: resize it first. "
        "As stored: ",
    )


class PositionRule(RangeRule):
    """A vertical or horizontal position/length in pixels or as a fraction of the frame."""

    unit: Literal["px", "fraction"] = "px"


def _scaled(rule: PositionRule, px: float, frame: int) -> float:
    return px if rule.unit == "px" else px / frame


def _fmt(rule: PositionRule, v: float) -> str:
    return f"{v:.0f} 像素" if rule.unit == "px" else f"{v:.1%}"


def _fmt_en(rule: PositionRule, v: float) -> str:
    return f"{v:.0f} px" if rule.unit == "px" else f"{v:.1%}"


def _shift(rule: PositionRule, value: float, frame: int) -> float:
    """How far (in pixels) ``value`` must move to enter the window (signed: + means down)."""
    lo = rule.min if rule.min is not None else value
    hi = rule.max if rule.max is not None else value
    d = (lo - value) if value < lo else (hi - value) if value > hi else 0.0
    return d if rule.unit == "px" else d * frame


class CountRule(Rule):
    max_faces: int = Field(1, ge=1)


@register("face.count", CountRule)
def check_count(ctx, rule: CountRule) -> Verdict:
    """Number of faces (full-range face detector, plus the mesh): exactly one person.

    Enforces 二.1「不得有阴影、其他人或物体」 and the premise of 四.2 (one portrait).
    """
    n = ctx.face_count
    measured = {"faces": n, "detections": [
        {"box": [round(v, 1) for v in d.box], "score": round(d.score, 3)} for d in ctx.face_detections]}
    expected = {"min": 1, "max": rule.max_faces}
    if n == 0:
        return failed(
            "未检测到人脸；请使用本人正面免冠、面部清晰、光线均匀的照片",
            "no face found; use a clear, frontal, bare-headed, evenly lit photo of yourself",
            measured, expected,
        )
    if n > rule.max_faces:
        return failed(
            f"检测到 {n} 张人脸；照片中只能有本人，请单独拍摄",
            f"{n} faces found; only you may be in the photo: retake it alone",
            measured, expected,
        )
    return passed("检测到 1 张人脸", "one face found", measured, expected)


@register("face.hair_top", PositionRule)
def check_hair_top(ctx, rule: PositionRule) -> Verdict:
    """Distance from the top edge to the top of the head (hair), from the person mask in the
    head's central columns — not the forehead landmark.  Enforces 四.2「头顶发际距上边沿50像素至110像素」.
    """
    y = ctx.hair_top_y
    v = _scaled(rule, y, ctx.height)
    measured = {"hair_top_y": round(y, 1), "forehead_landmark_y": round(ctx.face.forehead_y, 1),
                "method": ctx.cache.get("hair_top_method", "mask")}
    if rule.unit == "fraction":
        measured["hair_top_fraction"] = round(v, 4)
    expected = rule.expected()
    pre_zh, pre_en = _size_note(ctx)
    if rule.contains(v):
        return passed(f"头顶距上边沿 {_fmt(rule, v)}", f"top of head {_fmt_en(rule, v)} below the top edge",
                      measured, expected)
    d = _shift(rule, v, ctx.height)
    if d > 0:
        fix_zh, fix_en = f"头顶离上边太近，请将人像下移约 {d:.0f} 像素（或上方多留空间）", \
            f"the head is too close to the top: move it down ~{d:.0f} px (leave more space above)"
    else:
        fix_zh, fix_en = f"头顶离上边太远，请将人像上移约 {-d:.0f} 像素（或裁掉上方多余背景）", \
            f"too much space above the head: move it up ~{-d:.0f} px (crop background above)"
    return failed(
        f"{pre_zh}头顶距上边沿 {_fmt(rule, v)}，应为 {rule.describe()}；{fix_zh}",
        f"{pre_en}the top of the head is {_fmt_en(rule, v)} below the top edge; expected {rule.describe()}. "
        f"{fix_en[0].upper()}{fix_en[1:]}",
        measured, expected, fixable=True,
    )


@register("face.eye_line", PositionRule)
def check_eye_line(ctx, rule: PositionRule) -> Verdict:
    """Distance from the top edge to the line through both iris centres (both eyes reported).
    Enforces 四.2「眼睛所在位置距上边沿200像素至300像素」.
    """
    g = ctx.face
    v = _scaled(rule, g.eye_line_y, ctx.height)
    measured = {"left_eye_y": round(g.left_eye[1], 1), "right_eye_y": round(g.right_eye[1], 1),
                "eye_line_y": round(g.eye_line_y, 1)}
    if rule.unit == "fraction":
        measured["eye_line_fraction"] = round(v, 4)
    expected = rule.expected()
    pre_zh, pre_en = _size_note(ctx)
    ok_both = all(rule.contains(_scaled(rule, e[1], ctx.height)) for e in (g.left_eye, g.right_eye))
    if rule.contains(v) and ok_both:
        return passed(f"眼睛距上边沿 {_fmt(rule, v)}", f"eyes {_fmt_en(rule, v)} below the top edge",
                      measured, expected)
    d = _shift(rule, v, ctx.height)
    if d == 0:  # the line is inside but one eye is not: a tilted head
        return failed(
            f"{pre_zh}两眼高度不同（{g.left_eye[1]:.0f} / {g.right_eye[1]:.0f} 像素），一只眼超出 {rule.describe()}；请摆正头部",
            f"{pre_en}the eyes sit at different heights ({g.left_eye[1]:.0f} / {g.right_eye[1]:.0f} px) "
            f"and one is outside {rule.describe()}; hold the head level",
            measured, expected, fixable=False,
        )
    move_zh = f"请将人像{'下' if d > 0 else '上'}移约 {abs(d):.0f} 像素"
    move_en = f"Move the head {'down' if d > 0 else 'up'} ~{abs(d):.0f} px"
    return failed(
        f"{pre_zh}眼睛距上边沿 {_fmt(rule, v)}，应在 {rule.describe()} 之间；{move_zh}。",
        f"{pre_en}eyes are {_fmt_en(rule, v)} below the top edge; expected {rule.describe()}. {move_en}.",
        measured, expected, fixable=True,
    )


@register("face.width", PositionRule)
def check_width(ctx, rule: PositionRule) -> Verdict:
    """Face width cheek to cheek at its widest (extremes of the face-oval landmarks).
    Enforces 四.2「脸部宽度（两脸颊之间）180像素至300像素」.
    """
    g = ctx.face
    v = _scaled(rule, g.face_width, ctx.width)
    measured = {"face_width": round(g.face_width, 1), "face_left_x": round(g.face_left_x, 1),
                "face_right_x": round(g.face_right_x, 1)}
    expected = rule.expected()
    pre_zh, pre_en = _size_note(ctx)
    if rule.contains(v):
        return passed(f"脸宽 {_fmt(rule, v)}", f"face width {_fmt_en(rule, v)}", measured, expected)
    if rule.below(v):
        target = rule.min
        fix_zh = f"脸太小：请靠近相机或放大裁剪（放大约 {target / v:.2f} 倍）"
        fix_en = f"the face is too small: move closer or crop tighter (enlarge ~{target / v:.2f}×)"
    else:
        target = rule.max
        fix_zh = f"脸太大：请离相机远一些或缩小（缩小到约 {target / v:.2f} 倍）"
        fix_en = f"the face is too large: step back or zoom out (scale to ~{target / v:.2f}×)"
    return failed(
        f"{pre_zh}脸宽 {_fmt(rule, v)}，应为 {rule.describe()}；{fix_zh}",
        f"{pre_en}face is {_fmt_en(rule, v)} wide; expected {rule.describe()}. {fix_en[0].upper()}{fix_en[1:]}",
        measured, expected, fixable=True,
    )


class CenteredRule(Rule):
    max_offset: float = Field(gt=0)
    unit: Literal["px", "fraction"] = "fraction"


@register("face.centered", CenteredRule)
def check_centered(ctx, rule: CenteredRule) -> Verdict:
    """Horizontal offset of the face centre (midpoint of the face-oval extremes) from the image
    centre, in px and as a fraction of the width.  Enforces 四.2「人像在图像矩形框内水平居中」.
    """
    g = ctx.face
    off = g.face_center_x - ctx.width / 2.0
    frac = off / ctx.width
    v = abs(off) if rule.unit == "px" else abs(frac)
    measured = {"face_center_x": round(g.face_center_x, 1), "offset_px": round(off, 1),
                "offset_fraction": round(frac, 4)}
    expected = {"max": rule.max_offset, "unit": rule.unit}
    lim = f"{rule.max_offset:g} 像素" if rule.unit == "px" else f"{rule.max_offset:.0%}"
    lim_en = f"{rule.max_offset:g} px" if rule.unit == "px" else f"{rule.max_offset:.0%} of the width"
    if v <= rule.max_offset:
        return passed(f"水平居中（偏离 {off:+.0f} 像素）", f"horizontally centred (offset {off:+.0f} px)",
                      measured, expected)
    side_zh = "右" if off > 0 else "左"
    move_zh = "左" if off > 0 else "右"
    side_en = "right" if off > 0 else "left"
    move_en = "left" if off > 0 else "right"
    return failed(
        f"人像偏{side_zh} {abs(off):.0f} 像素（{abs(frac):.1%}），允许 {lim}；请将人像向{move_zh}移约 {abs(off):.0f} 像素",
        f"the face is {abs(off):.0f} px ({abs(frac):.1%}) {side_en} of centre, allowed {lim_en}; "
        f"move it {move_en} ~{abs(off):.0f} px",
        measured, expected, fixable=True,
    )


class PoseRule(Rule):
    max_yaw: float = Field(gt=0, le=90)
    max_pitch: float = Field(gt=0, le=90)
    max_roll: float = Field(gt=0, le=90)


@register("face.pose", PoseRule)
def check_pose(ctx, rule: PoseRule) -> Verdict:
    """Head yaw, pitch and roll in degrees from MediaPipe's 3-D landmarks (see
    ``measure.face.geometry``).  Enforces 一.1「正面」 and 二.2「坐姿端正…平视，耳朵对称」.
    """
    g = ctx.face
    measured = {"yaw": round(g.yaw, 1), "pitch": round(g.pitch, 1), "roll": round(g.roll, 1)}
    expected = {"max_yaw": rule.max_yaw, "max_pitch": rule.max_pitch, "max_roll": rule.max_roll,
                "unit": "deg"}
    probs_zh, probs_en = [], []
    if abs(g.yaw) > rule.max_yaw:
        d = "右" if g.yaw > 0 else "左"
        probs_zh.append(f"脸朝图像{d}侧转了约 {abs(g.yaw):.0f}°（允许 {rule.max_yaw:g}°），请正对相机")
        probs_en.append(f"the face is turned ~{abs(g.yaw):.0f}° towards the image {'right' if g.yaw > 0 else 'left'} "
                        f"(allowed {rule.max_yaw:g}°): face the camera")
    if abs(g.pitch) > rule.max_pitch:
        probs_zh.append(f"头部{'上仰' if g.pitch > 0 else '低头'}约 {abs(g.pitch):.0f}°（允许 {rule.max_pitch:g}°），请平视镜头")
        probs_en.append(f"the head is tilted {'up' if g.pitch > 0 else 'down'} ~{abs(g.pitch):.0f}° "
                        f"(allowed {rule.max_pitch:g}°): look straight into the lens")
    if abs(g.roll) > rule.max_roll:
        probs_zh.append(f"头部歪斜约 {abs(g.roll):.0f}°（允许 {rule.max_roll:g}°），请摆正头部")
        probs_en.append(f"the head is tilted sideways ~{abs(g.roll):.0f}° (allowed {rule.max_roll:g}°): hold it upright")
    if not probs_zh:
        return passed(f"头部端正（偏转 {g.yaw:+.0f}°，俯仰 {g.pitch:+.0f}°，倾斜 {g.roll:+.0f}°）",
                      f"head upright (yaw {g.yaw:+.0f}°, pitch {g.pitch:+.0f}°, roll {g.roll:+.0f}°)",
                      measured, expected)
    return failed("；".join(probs_zh), "; ".join(probs_en), measured, expected)


class EyesOpenRule(Rule):
    min_ear: float = Field(gt=0, lt=1, description="minimum eye aspect ratio of each eye")


@register("face.eyes_open", EyesOpenRule)
def check_eyes_open(ctx, rule: EyesOpenRule) -> Verdict:
    """Eye aspect ratio (lid gap / eye width, Soukupová & Čech 2016) of each eye.
    Enforces 二.2「双眼自然睁开」.
    """
    g = ctx.face
    measured = {"ear_left": round(g.ear_left, 3), "ear_right": round(g.ear_right, 3)}
    expected = {"min": rule.min_ear, "unit": "EAR"}
    closed = [n for n, e in (("左", g.ear_left), ("右", g.ear_right)) if e < rule.min_ear]
    if not closed:
        return passed("双眼睁开", "both eyes open", measured, expected)
    which_zh = "双眼" if len(closed) == 2 else f"图像{closed[0]}侧的眼睛"
    which_en = "both eyes" if len(closed) == 2 else f"the eye on the image {'left' if closed[0] == '左' else 'right'}"
    return failed(
        f"{which_zh}闭合或眯眼（睁眼度 {min(g.ear_left, g.ear_right):.2f}，至少 {rule.min_ear:g}）；请自然睁开双眼重拍",
        f"{which_en} closed or squinting (openness {min(g.ear_left, g.ear_right):.2f}, at least {rule.min_ear:g}); "
        "retake with both eyes naturally open",
        measured, expected,
    )


class GazeRule(Rule):
    max_offset: float = Field(gt=0, lt=0.5, description="max |iris position − 0.5| within the eye")


@register("face.gaze", GazeRule)
def check_gaze(ctx, rule: GazeRule) -> Verdict:
    """Iris centre position within each eye opening (0.5 = centred, horizontally).
    Enforces 二.2「双眼…平视」.
    """
    g = ctx.face
    offs = [h - 0.5 for h in g.gaze_h]
    measured = {"iris_h_left": round(g.gaze_h[0], 3), "iris_h_right": round(g.gaze_h[1], 3),
                "iris_v_left": round(g.gaze_v[0], 3), "iris_v_right": round(g.gaze_v[1], 3)}
    expected = {"max_offset": rule.max_offset}
    if g.ear_left < 0.12 or g.ear_right < 0.12:
        raise NotAssessable("眼睛闭合，无法判断视线方向", "eyes closed: gaze cannot be judged", measured)
    mean = sum(offs) / 2
    if abs(mean) <= rule.max_offset:
        return passed("双眼平视前方", "eyes looking straight ahead", measured, expected)
    d_zh = "右" if mean > 0 else "左"
    return failed(
        f"视线偏向图像{d_zh}侧（虹膜偏离中心 {abs(mean):.0%}）；请直视镜头",
        f"the eyes look towards the image {'right' if mean > 0 else 'left'} (iris {abs(mean):.0%} off centre); "
        "look straight into the lens",
        measured, expected,
    )


class MouthRule(Rule):
    max_gap: float = Field(gt=0, lt=1, description="max inner-lip gap / mouth width")


@register("face.mouth_closed", MouthRule)
def check_mouth(ctx, rule: MouthRule) -> Verdict:
    """Gap between the inner lips relative to the mouth width.  Enforces 二.2「嘴唇自然闭合」."""
    g = ctx.face
    measured = {"lip_gap_ratio": round(g.mouth_gap, 3)}
    expected = {"max": rule.max_gap}
    if g.mouth_gap <= rule.max_gap:
        return passed("嘴唇闭合", "lips closed", measured, expected)
    return failed(
        f"嘴巴张开（唇间距为嘴宽的 {g.mouth_gap:.0%}，最多 {rule.max_gap:.0%}）；请自然闭合嘴唇，不要露齿笑",
        f"the mouth is open (lip gap {g.mouth_gap:.0%} of mouth width, at most {rule.max_gap:.0%}); "
        "close the lips naturally, no open smile",
        measured, expected,
    )


class ShoulderRule(Rule):
    max_tilt: float = Field(gt=0, le=45, description="degrees")


@register("body.shoulders_level", ShoulderRule)
def check_shoulders(ctx, rule: ShoulderRule) -> Verdict:
    """Tilt of the line through the left and right shoulder tops (person-mask outline sampled
    0.75–1.05 face widths either side of the face centre).  Enforces 二.2「左右肩膀平衡」.
    """
    import math

    from ..measure.face import shoulder_points

    pts = shoulder_points(ctx.person_mask, ctx.face)
    if pts is None:
        raise NotAssessable("照片中看不到两侧肩膀，无法判断", "both shoulders are not visible; cannot judge")
    (xl, yl), (xr, yr) = pts
    tilt = math.degrees(math.atan2(yr - yl, xr - xl))
    measured = {"left_shoulder": [round(xl, 1), round(yl, 1)], "right_shoulder": [round(xr, 1), round(yr, 1)],
                "tilt_deg": round(tilt, 1)}
    expected = {"max": rule.max_tilt, "unit": "deg"}
    if abs(tilt) <= rule.max_tilt:
        return passed(f"肩膀平衡（倾斜 {tilt:+.1f}°）", f"shoulders level (tilt {tilt:+.1f}°)", measured, expected)
    low = "右" if tilt > 0 else "左"
    return failed(
        f"肩膀不平（图像{low}侧肩膀低 {abs(tilt):.0f}°，允许 {rule.max_tilt:g}°）；请坐正，两肩保持水平",
        f"shoulders are not level (the image-{'right' if tilt > 0 else 'left'} shoulder is {abs(tilt):.0f}° lower, "
        f"allowed {rule.max_tilt:g}°); sit upright with level shoulders",
        measured, expected,
    )

