"""Every face check on both sides of its threshold, on real portraits placed into 480×640 frames.

The photos are real (Face Research Lab London Set, CC-BY-4.0; webmorphR.stim selfies, CC0;
scikit-image and Pixabay negatives: see shared/portraits/MANIFEST.tsv).  ``tests/facehelpers.py``
scales and moves them so the eye line, face width and horizontal offset are what a test wants,
then every assertion reads zkphoto's own report (``zkphoto.check(...).check(id)``): statuses,
measured values and the wording of the fix.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import facehelpers as fh
from facehelpers import neutral, place, smile, stim

#: checks judging the file itself (format, size, pixels, resolution): they do not look at content
FILE_LEVEL = ("file.", "image.dimensions", "image.aspect_ratio", "image.dpi", "image.color_mode",
              "image.orientation", "jpeg.quality")
#: the checks this file is about (face geometry, pose, expression, composition)
FACE_FAMILY = ("face.count", "face.hair_top", "face.eye_line", "face.width", "face.centered",
               "face.pose", "face.eyes_open", "face.gaze", "face.mouth_closed",
               "body.shoulders_level", "composition.")

FACE_GEOMETRY_CHECKS = [
    "face.hair_top", "face.eye_line", "face.width", "face.centered", "face.pose",
    "face.eyes_open", "face.gaze", "face.mouth_closed", "body.shoulders_level",
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _portraits():
    fh.require_portraits()


@pytest.fixture(scope="module")
def run():
    """``run(key, make, spec="moe-2021")``: the report of the image ``make()`` builds, computed
    once per module for each key."""
    cache: dict = {}

    def _run(key, make, spec: str = "moe-2021"):
        k = (key, spec)
        if k not in cache:
            cache[k] = fh.check(make(), spec=spec)
        return cache[k]

    return _run


@pytest.fixture(scope="module")
def neutral_reports(run):
    """The 20 neutral portraits placed like the shipped sample: eye line 250, face 240 px wide,
    centred."""
    return {n: run(("neutral", n), lambda n=n: place(neutral(n))) for n in fh.NEUTRAL}


def st(report, cid: str) -> str:
    return report.check(cid).status.value


def meas(report, cid: str) -> dict:
    return report.check(cid).measured


def en(report, cid: str) -> str:
    return report.check(cid).message.en


def zh(report, cid: str) -> str:
    return report.check(cid).message.zh


def px_in(message: str, pattern: str) -> float:
    m = re.search(pattern, message)
    assert m, f"{pattern!r} not in {message!r}"
    return float(m.group(1))


# --------------------------------------------------------------------------- compliant photos


@pytest.mark.parametrize("n", fh.NEUTRAL)
def test_neutral_portrait_passes_the_face_checks(neutral_reports, n):
    r = neutral_reports[n]
    assert st(r, "face.count") == "pass" and meas(r, "face.count")["faces"] == 1
    e = meas(r, "face.eye_line")
    assert st(r, "face.eye_line") == "pass"
    assert abs(e["eye_line_y"] - 250) <= 2.0
    assert e["eye_line_y"] == pytest.approx((e["left_eye_y"] + e["right_eye_y"]) / 2, abs=0.11)
    assert st(r, "face.width") == "pass"
    assert meas(r, "face.width")["face_width"] == pytest.approx(240, rel=0.03)
    assert st(r, "face.centered") == "pass"
    assert abs(meas(r, "face.centered")["offset_px"]) <= 3.0
    assert st(r, "face.pose") == "pass", en(r, "face.pose")
    assert st(r, "face.eyes_open") == "pass"
    assert min(meas(r, "face.eyes_open").values()) >= 0.15
    assert st(r, "face.gaze") == "pass"
    assert st(r, "face.mouth_closed") == "pass"
    assert meas(r, "face.mouth_closed")["lip_gap_ratio"] <= 0.06
    # where the hair ends depends on the person: the verdict must follow the measurement
    ht = meas(r, "face.hair_top")["hair_top_y"]
    assert st(r, "face.hair_top") == ("pass" if 50 <= ht <= 110 else "fail")
    assert ht < meas(r, "face.hair_top")["forehead_landmark_y"], "hair top must be above the forehead"


def test_compliant_sample_passes_every_file_and_face_rule(run):
    """The shipped sample's recipe (005, eye 250, face 240) saved as a 20-40 KiB 300-dpi JPEG.
    (Background, lighting and quality rules belong to other tests.)"""
    r = run("compliant-jpeg", lambda: fh.jpeg_in_window(place(neutral("005"))))
    mine = [c for c in r.checks if c.id.startswith(FILE_LEVEL + FACE_FAMILY)]
    assert len([c for c in mine if c.id.startswith(FACE_FAMILY)]) == 10
    bad = [(c.id, c.status.value, c.message.en) for c in mine if c.status.value not in ("pass", "skip")]
    assert bad == []


# --------------------------------------------------------------------------- face.count


NO_FACE = ["scikit-image__coffee.png", "webmorphR.stim__fox-715588_640.jpg",
           "webmorphR.stim__cardinal-2872966_640.jpg", "scikit-image__chelsea.png"]


@pytest.mark.parametrize("name", NO_FACE)
def test_no_face_fails_count_and_geometry_is_error_not_crash(run, name):
    # a photo that is perfect as a file (480×640, 300 dpi, JPEG 20-40 KiB) but has no person
    r = run(("noface", name), lambda: fh.jpeg_in_window(fh.fit_frame(name)))
    assert st(r, "face.count") == "fail"
    assert meas(r, "face.count")["faces"] == 0
    assert "no face" in en(r, "face.count") and "未检测到人脸" in zh(r, "face.count")
    for cid in FACE_GEOMETRY_CHECKS:
        c = r.check(cid)
        assert c.status.value == "error", (cid, c.status, c.message.en)
        assert "no face" in c.message.en and c.message.zh, cid
    # the photo fails although the file itself is perfect
    assert r.status.value == "fail"
    file_level = [(c.id, c.status.value) for c in r.checks if c.id.startswith(FILE_LEVEL)]
    assert file_level and all(s in ("pass", "skip") for _, s in file_level), file_level


@pytest.mark.parametrize("name", ["scikit-image__coffee.png", "webmorphR.stim__fox-715588_640.jpg"])
def test_no_face_original_file_reports_instead_of_crashing(name):
    r = fh.check(fh.path(name).read_bytes())
    assert r.status.value == "fail"
    assert st(r, "face.count") == "fail" and meas(r, "face.count")["faces"] == 0
    assert {st(r, cid) for cid in FACE_GEOMETRY_CHECKS} == {"error"}


def test_rocket_has_no_face(run):
    r = run("rocket", lambda: fh.jpeg_in_window(fh.fit_frame("scikit-image__rocket.jpg")))
    assert st(r, "face.eye_line") == "error"  # the mesh finds no face ...
    assert meas(r, "face.count")["faces"] == 0  # ... so neither should the count


def test_two_real_people_fail_count():
    r = fh.check(fh.path("openmpf__girl-1741925_1920.jpg").read_bytes())
    c = r.check("face.count")
    assert c.status.value == "fail"
    assert c.measured["faces"] == 2 and len(c.measured["detections"]) == 2
    assert "2 faces" in c.message.en and "2 张人脸" in c.message.zh
    assert r.status.value == "fail"


def test_two_people_is_only_a_warning_in_jiangsu():
    r = fh.check(fh.path("openmpf__girl-1741925_1920.jpg").read_bytes(), spec="jiangsu-zjb-2020")
    assert st(r, "face.count") == "warn" and meas(r, "face.count")["faces"] == 2


def test_second_person_in_a_480x640_frame_fails_count(run):
    def make():
        a = place(neutral("005"), eye_y=250, face_w=110, size=(240, 640))
        b = place(neutral("087"), eye_y=250, face_w=110, size=(240, 640))
        return np.hstack([a, b])

    r = run("two-people", make)
    c = r.check("face.count")
    assert c.status.value == "fail" and c.measured["faces"] == 2
    xs = sorted(d["box"][0] + d["box"][2] / 2 for d in c.measured["detections"])
    assert xs[0] < 240 < xs[1], "one face in each half"


# --------------------------------------------------------------------------- face.eye_line


def test_eye_line_too_low_fails_and_says_move_up(run):
    r = run("eye320", lambda: place(neutral("005"), eye_y=320))
    m = meas(r, "face.eye_line")
    assert st(r, "face.eye_line") == "fail" and r.check("face.eye_line").fixable
    assert abs(m["eye_line_y"] - 320) <= 2.0
    up = px_in(en(r, "face.eye_line"), r"Move the head up ~(\d+) px")
    assert up == pytest.approx(m["eye_line_y"] - 300, abs=1.0)
    assert "上移" in zh(r, "face.eye_line")
    assert r.check("face.eye_line").expected == {"min": 200, "max": 300, "unit": "px"}


def test_eye_line_too_high_fails_and_says_move_down(run):
    r = run("eye180", lambda: place(neutral("091"), eye_y=180))
    m = meas(r, "face.eye_line")
    assert st(r, "face.eye_line") == "fail"
    down = px_in(en(r, "face.eye_line"), r"Move the head down ~(\d+) px")
    assert down == pytest.approx(200 - m["eye_line_y"], abs=1.0)
    assert "下移" in zh(r, "face.eye_line")


def test_eye_line_inside_but_one_eye_outside_is_a_tilt(run):
    """lisa3 (a real webcam photo, head rolled ~20°): eye line 290 px, but the lower eye is
    below 300: the rule wants both eyes in the band, and moving cannot fix a tilt."""
    name = stim("lisa3")
    probe = run("lisa3-probe", lambda: place(name, eye_y=290))
    m = meas(probe, "face.eye_line")
    lower = max(m["left_eye_y"], m["right_eye_y"])
    assert m["eye_line_y"] <= 298 and lower > 302, m
    assert st(probe, "face.eye_line") == "fail"
    assert not probe.check("face.eye_line").fixable
    assert "different heights" in en(probe, "face.eye_line")


# --------------------------------------------------------------------------- face.width


@pytest.mark.parametrize("width,verdict,word", [
    (160, "fail", "too small"), (170, "fail", "too small"), (190, "pass", None),
    (240, "pass", None), (290, "pass", None), (310, "fail", "too large"), (330, "fail", "too large"),
])  # fmt: skip
def test_face_width_both_sides(run, width, verdict, word):
    r = run(("width", width), lambda: place(neutral("005"), eye_y=260, face_w=width))
    m = meas(r, "face.width")
    assert m["face_width"] == pytest.approx(width, rel=0.03)
    assert m["face_width"] == pytest.approx(m["face_right_x"] - m["face_left_x"], abs=0.11)
    assert st(r, "face.width") == verdict, en(r, "face.width")
    if word:
        msg = en(r, "face.width")
        assert word in msg
        factor = px_in(msg, r"(\d+\.\d+)×")
        target = 180 if word == "too small" else 300
        assert factor == pytest.approx(target / m["face_width"], abs=0.01)


# --------------------------------------------------------------------------- face.centered


@pytest.mark.parametrize("frac,verdict", [
    (0.0, "pass"), (0.03, "pass"), (-0.03, "pass"), (0.07, "fail"), (-0.07, "fail"),
    (0.1, "fail"), (-0.1, "fail"),
])  # fmt: skip
def test_face_centred_both_sides(run, frac, verdict):
    dx = frac * 480
    r = run(("dx", frac), lambda: place(neutral("020"), dx=dx))
    m = meas(r, "face.centered")
    assert m["offset_px"] == pytest.approx(dx, abs=3.0)
    assert m["offset_fraction"] == pytest.approx(m["offset_px"] / 480, abs=1e-3)
    assert st(r, "face.centered") == verdict
    if verdict == "fail":
        msg = en(r, "face.centered")
        side, move = ("right", "left") if dx > 0 else ("left", "right")
        assert f"{side} of centre" in msg and f"move it {move}" in msg
        assert px_in(msg, r"move it \w+ ~(\d+) px") == pytest.approx(abs(m["offset_px"]), abs=1.0)


# --------------------------------------------------------------------------- face.hair_top


@pytest.mark.parametrize("n", ["005", "091"])
@pytest.mark.parametrize("target,verdict,fix", [
    (30, "fail", "move it down"), (45, "fail", "move it down"), (60, "pass", None),
    (80, "pass", None), (100, "pass", None), (120, "fail", "move it up"), (140, "fail", "move it up"),
])  # fmt: skip
def test_hair_top_both_sides(run, n, target, verdict, fix):
    r = run(("hair", n, target), lambda: fh.place_hair(neutral(n), target, face_w=220))
    m = meas(r, "face.hair_top")
    assert m["hair_top_y"] == pytest.approx(target, abs=3.0)
    assert st(r, "face.hair_top") == verdict, en(r, "face.hair_top")
    if fix:
        msg = en(r, "face.hair_top")
        assert fix in msg
        edge = 50 if fix == "move it down" else 110
        assert px_in(msg, fix + r" ~(\d+) px") == pytest.approx(abs(edge - m["hair_top_y"]), abs=1.0)
        assert ("下移" if fix == "move it down" else "上移") in zh(r, "face.hair_top")


# --------------------------------------------------------------------------- face.pose


ROLL_PORTRAITS = ["003", "020", "021", "091"]  # measured roll within ±1° when upright


@pytest.mark.parametrize("n", ROLL_PORTRAITS)
@pytest.mark.parametrize("angle", [15, -15, 4, -4])
def test_roll_from_a_real_rotation(run, neutral_reports, n, angle):
    """Rotate the placed photo about its eye midpoint (cv2.warpAffine, edges replicated):
    OpenCV's positive angle turns the picture counter-clockwise, i.e. roll decreases."""
    base = neutral_reports[n]
    roll0 = meas(base, "face.pose")["roll"]
    e = meas(base, "face.eye_line")
    cx = meas(base, "face.centered")["face_center_x"]
    r = run(("roll", n, angle), lambda: fh.rotate(place(neutral(n)), angle, (cx, e["eye_line_y"])))
    p = meas(r, "face.pose")
    assert p["roll"] - roll0 == pytest.approx(-angle, abs=2.0)
    if abs(angle) == 15:
        assert st(r, "face.pose") == "fail"
        assert "tilted sideways" in en(r, "face.pose") and "歪斜" in zh(r, "face.pose")
        assert abs(p["yaw"]) <= 8 and abs(p["pitch"]) <= 10, "only the roll should be reported"
    else:
        assert st(r, "face.pose") == "pass"


def test_real_tilted_selfie_fails_pose():
    r = fh.check(fh.path(stim("lisa3")).read_bytes())
    p = meas(r, "face.pose")
    assert st(r, "face.pose") == "fail"
    assert 15 <= abs(p["roll"]) <= 25, p  # MANIFEST: "head rolled/tilted ~15 deg"


# --------------------------------------------------------------------------- face.eyes_open


@pytest.mark.parametrize("n", ["005", "030"])
def test_closed_eyes_fail(run, neutral_reports, n):
    r = run(("closed", n), lambda: fh.close_eyes(place(neutral(n))))
    m = meas(r, "face.eyes_open")
    assert st(neutral_reports[n], "face.eyes_open") == "pass"
    assert st(r, "face.eyes_open") == "fail", m
    assert min(m["ear_left"], m["ear_right"]) < 0.15
    assert "closed or squinting" in en(r, "face.eyes_open") and "闭合" in zh(r, "face.eyes_open")
    # with both eyes shut the gaze cannot be judged: error with a reason, not a guess
    if max(m["ear_left"], m["ear_right"]) < 0.12:
        assert st(r, "face.gaze") == "error" and "closed" in en(r, "face.gaze")


# --------------------------------------------------------------------------- face.gaze


@pytest.mark.parametrize("n", ["005", "021", "037", "087"])
@pytest.mark.parametrize("frac", [0.3, -0.3])
def test_gaze_aside_warns(run, neutral_reports, n, frac):
    r = run(("gaze", n, frac), lambda: fh.look_aside(place(neutral(n)), frac))
    m = meas(r, "face.gaze")
    mean = (m["iris_h_left"] + m["iris_h_right"]) / 2 - 0.5
    m0 = meas(neutral_reports[n], "face.gaze")
    assert abs((m0["iris_h_left"] + m0["iris_h_right"]) / 2 - 0.5) <= 0.1
    assert np.sign(mean) == np.sign(frac) and abs(mean) > 0.1
    assert st(r, "face.gaze") == "warn"  # a warning-severity rule
    assert f"towards the image {'right' if frac > 0 else 'left'}" in en(r, "face.gaze")
    assert st(r, "face.eyes_open") == "pass"


# --------------------------------------------------------------------------- face.mouth_closed


@pytest.mark.parametrize("n", fh.SMILES)
def test_open_smile_fails_mouth_closed(run, n):
    r = run(("smile", n), lambda: place(smile(n)))
    m = meas(r, "face.mouth_closed")
    assert st(r, "face.mouth_closed") == "fail"
    assert m["lip_gap_ratio"] > 0.06
    assert "mouth is open" in en(r, "face.mouth_closed") and "嘴巴张开" in zh(r, "face.mouth_closed")


def test_smile_and_neutral_of_the_same_people(run, neutral_reports):
    """The same person with a closed mouth (*_03) measures a much smaller lip gap than when
    smiling (*_08)."""
    for n in set(fh.SMILES) & set(fh.NEUTRAL):
        s = meas(run(("smile", n), lambda n=n: place(smile(n))), "face.mouth_closed")["lip_gap_ratio"]
        c = meas(neutral_reports[n], "face.mouth_closed")["lip_gap_ratio"]
        assert s > 4 * c + 0.05, (n, s, c)


# --------------------------------------------------------------------------- body.shoulders_level


@pytest.mark.parametrize("n", [n for n in fh.NEUTRAL if n != "096"])
def test_level_shoulders_pass(neutral_reports, n):
    r = neutral_reports[n]
    assert st(r, "body.shoulders_level") == "pass", meas(r, "body.shoulders_level")
    assert abs(meas(r, "body.shoulders_level")["tilt_deg"]) <= 8


def test_real_uneven_shoulders_warn(neutral_reports):
    """096: in the original photo the image-left shoulder visibly sits lower."""
    r = neutral_reports["096"]
    m = meas(r, "body.shoulders_level")
    assert st(r, "body.shoulders_level") == "warn"
    assert m["tilt_deg"] < -8 and m["left_shoulder"][1] > m["right_shoulder"][1]
    assert "image-left shoulder" in en(r, "body.shoulders_level")


def _sheared(n: str, deg: float):
    img = place(neutral(n))
    ctx = fh.PhotoContext.from_source(fh.png(img))
    return fh.tilt_shoulders(img, deg, ctx.face.chin_y - 30, ramp=30)


def _expect_shear(t0: float, deg: float) -> float:
    return math.degrees(math.atan(math.tan(math.radians(t0)) + math.tan(math.radians(deg))))


@pytest.mark.parametrize("n", ["005", "021", "030", "037"])
@pytest.mark.parametrize("deg", [15, -15, 5])
def test_tilted_shoulders_warn(run, neutral_reports, n, deg):
    """Shear the body below the chin (the head untouched): the shoulder line's slope grows by
    tan(deg)."""
    t0 = meas(neutral_reports[n], "body.shoulders_level")["tilt_deg"]
    r = run(("shear", n, deg), lambda: _sheared(n, deg))
    m = meas(r, "body.shoulders_level")
    assert m["tilt_deg"] == pytest.approx(_expect_shear(t0, deg), abs=2.0)
    assert st(r, "body.shoulders_level") == ("warn" if abs(deg) > 8 else "pass")
    assert st(r, "face.pose") == "pass", "the head was not touched"


@pytest.mark.xfail(strict=True, reason=(
    "known limitation: with a wide face (038, 025) the shoulder samples 0.75-1.05 face widths out "
    "fall off the 480-px frame on one side; the few columns left sit on the shear's ramp, so the "
    "tilt reads ~10.5 deg instead of ~15 (still a warning, the rule's verdict is right)"))
@pytest.mark.parametrize("n", ["038", "025"])
def test_tilted_shoulders_above_the_chin(run, neutral_reports, n):
    t0 = meas(neutral_reports[n], "body.shoulders_level")["tilt_deg"]
    r = run(("shear", n, 15), lambda: _sheared(n, 15))
    assert meas(r, "body.shoulders_level")["tilt_deg"] == pytest.approx(_expect_shear(t0, 15), abs=2.0)


# --------------------------------------------------------------------------- photos not 480×640


def test_pixel_rules_on_a_photo_of_another_size_say_resize_first():
    """lisa1 (600×800 webcam selfie, face very large, hair cut by the top edge)."""
    r = fh.check(fh.path(stim("lisa1")).read_bytes())
    w = meas(r, "face.width")
    assert st(r, "face.width") == "fail" and w["face_width"] > 300
    assert en(r, "face.width").startswith("the photo is 600×800, not 480×640: resize it first")
    assert st(r, "face.hair_top") == "fail" and meas(r, "face.hair_top")["hair_top_y"] < 5
    assert "move it down" in en(r, "face.hair_top")


# --------------------------------------------------------------------------- Jiangsu composition

JS = "jiangsu-zjb-2020"
JS_PORTRAITS = ["005", "030", "042", "087"]


def _box(n, top_frac, head_frac, dx=0.0):
    top = top_frac * 640
    return lambda: fh.place_box(neutral(n), top, top + head_frac * 640, dx=dx)


@pytest.mark.parametrize("n", JS_PORTRAITS)
def test_jiangsu_composition_passes_at_the_recommended_box(run, n):
    r = run(("js", n, "ok"), _box(n, 0.10, 0.70), spec=JS)
    assert st(r, "composition.top_margin") == "pass"
    assert meas(r, "composition.top_margin")["top_margin"] == pytest.approx(0.10, abs=0.01)
    assert st(r, "composition.head_height") == "pass"
    assert meas(r, "composition.head_height")["head_height"] == pytest.approx(0.70, abs=0.015)
    assert st(r, "composition.side_margins") == "pass", meas(r, "composition.side_margins")


def test_jiangsu_compliant_jpeg_passes_and_composition_only_warns(run):
    ok = run("js-jpeg-ok", lambda: fh.jpeg_in_window(_box("005", 0.10, 0.70)(), 31 * 1024, 99 * 1024),
             spec=JS)
    mine = [(c.id, c.status.value) for c in ok.checks if c.id.startswith(FILE_LEVEL + FACE_FAMILY)]
    assert all(s in ("pass", "skip") for _, s in mine), mine
    assert ok.status.value != "fail"
    off = run("js-jpeg-off", lambda: fh.jpeg_in_window(_box("005", 0.10, 0.50)(), 31 * 1024, 99 * 1024),
              spec=JS)
    assert st(off, "composition.head_height") == "warn"
    assert off.check("composition.head_height").severity.value == "warning"
    # a recommendation (建议) never fails the photo: same verdict as the compliant one, at most warn
    assert off.status.value == "warn"


@pytest.mark.parametrize("n", JS_PORTRAITS)
@pytest.mark.parametrize("top,head,dx,check,words", [
    (0.02, 0.70, 0, "composition.top_margin", "Leave more space above"),
    (0.20, 0.70, 0, "composition.top_margin", "Crop some background above"),
    (0.10, 0.50, 0, "composition.head_height", "Zoom in"),
    (0.06, 0.88, 0, "composition.head_height", "Zoom out"),
    (0.10, 0.70, 0.1 * 480, "composition.side_margins", "Re-crop"),
    (0.10, 0.70, -0.1 * 480, "composition.side_margins", "Re-crop"),
])  # fmt: skip
def test_jiangsu_composition_off_box_warns(run, n, top, head, dx, check, words):
    r = run(("js", n, top, head, dx), _box(n, top, head, dx), spec=JS)
    m = meas(r, check)
    assert st(r, check) == "warn", m
    assert words in en(r, check)
    if check == "composition.top_margin":
        assert m["top_margin"] == pytest.approx(top, abs=0.01)
    elif check == "composition.head_height":
        assert m["head_height"] == pytest.approx(head, abs=0.015)
    else:  # the face moved right: less room on the right, more on the left (and vice versa)
        near, far = ("right_margin", "left_margin") if dx > 0 else ("left_margin", "right_margin")
        assert m[near] < 0.05 or m[far] > 0.15
        assert m[far] - m[near] == pytest.approx(2 * abs(dx) / 480, abs=0.04)
