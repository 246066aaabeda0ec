"""`zkphoto fix`: geometry by crop and uniform scale only, honest KB windows, refusals, CLI safety.

Inputs are real portraits from ../shared/portraits (Face Research Lab London Set, CC-BY-4.0,
DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5), transformed in memory so each test
states what it forces: a contrast-flattened blurred portrait (compresses small: the low end of the
size window), the same portrait with strong sensor-like noise (compresses big: the high end), a
busy background with the head near the top edge (refusal), EXIF-rotated storage, a marker for
mirror detection.
"""

from __future__ import annotations

import hashlib
import io
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageEnhance, ImageFilter

from zkphoto.checks.file import SizeRule
from zkphoto.context import PhotoContext
from zkphoto.fix import (
    REFERENCE_COLOURS,
    Head,
    _encode,
    encode_in_window,
    fix,
    output_size,
    solve_geometry,
    target_dpi,
)
from zkphoto.spec import load_spec

KIB = 1024
_HERE = Path(__file__).resolve().parent
PORTRAITS = _HERE.parents[1] / "shared" / "portraits" / "img"
if not PORTRAITS.is_dir():
    PORTRAITS = Path("/work/shared/portraits/img")

STUDIO = "webmorphR.stim__005_03.jpg"  # neutral, plain light-grey background
STUDIO_2 = "webmorphR.stim__003_03.jpg"
SMILE = "webmorphR.stim__030_08.jpg"  # open-mouth smile, otherwise compliant
PONYTAIL = "webmorphR.stim__025_03.jpg"  # high hair bun, photo ends just below the neckline
CUT_TOP = "webmorphR.stim__lisa1.jpg"  # hair cut off by the top edge, busy background

FILE_CHECKS = ("file.readable", "file.format", "file.extension", "file.size", "file.trailing_data",
               "image.dimensions", "image.aspect_ratio", "image.dpi", "image.color_mode",
               "image.orientation", "jpeg.quality")
GEOMETRY_CHECKS = ("face.count", "face.hair_top", "face.eye_line", "face.width", "face.centered",
                   "composition.top_margin", "composition.head_height", "composition.side_margins")


#: A spec with only the file and geometry rules of moe-2021, so "exit 0 / ok" tests do not depend
#: on the appearance checks (background, lighting…) that evolve separately.
GEOMETRY_SPEC = """
id = "test-fix-geometry"
title = "moe-2021 file and geometry rules only (zkphoto fix tests)"
source = "tests/test_fix.py"
[rules."file.readable"]
source = "t"
[rules."file.format"]
source = "t"
[rules."file.extension"]
source = "t"
[rules."file.size"]
min = 20
max = 40
unit = "KiB"
source = "t"
[rules."file.trailing_data"]
source = "t"
[rules."image.dimensions"]
width = 480
height = 640
source = "t"
[rules."image.dpi"]
min = 300
max = 300
source = "t"
[rules."image.color_mode"]
source = "t"
[rules."image.orientation"]
source = "t"
[rules."jpeg.quality"]
min = 60
source = "t"
[rules."face.count"]
source = "t"
[rules."face.hair_top"]
min = 50
max = 110
source = "t"
[rules."face.eye_line"]
min = 200
max = 300
source = "t"
[rules."face.width"]
min = 180
max = 300
source = "t"
[rules."face.centered"]
max_offset = 0.05
source = "t"
"""


@pytest.fixture
def geometry_spec(tmp_path) -> Path:
    p = tmp_path / "test-fix-geometry.toml"
    p.write_text(GEOMETRY_SPEC, encoding="utf-8")
    return p


def portrait_path(name: str) -> Path:
    p = PORTRAITS / name
    if not p.is_file():
        pytest.fail(f"real portrait missing: {p}")
    return p


@lru_cache(maxsize=None)
def portrait_rgb(name: str) -> Image.Image:
    return Image.open(portrait_path(name)).convert("RGB")


def png_bytes(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


@lru_cache(maxsize=None)
def smooth_input() -> bytes:
    """Blurred and contrast-flattened: compresses so small that 4:2:0 at quality 95 is not enough."""
    im = portrait_rgb(STUDIO).filter(ImageFilter.GaussianBlur(6))
    return png_bytes(ImageEnhance.Contrast(im).enhance(0.25))


@lru_cache(maxsize=None)
def noisy_input() -> bytes:
    """Strong per-pixel noise: compresses so big that the quality must come down."""
    a = np.asarray(portrait_rgb(STUDIO)).astype(np.float32)
    a += np.random.default_rng(7).normal(0.0, 25.0, a.shape)
    return png_bytes(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)))


@lru_cache(maxsize=None)
def fixed(key: str, spec: str, background: str = "keep"):
    sources = {"smooth": smooth_input, "noisy": noisy_input}
    src = sources[key]() if key in sources else portrait_path(key)
    return fix(src, spec, background)


def after_status(result, check_id: str) -> str:
    return result.report_after.check(check_id).status.value


def assert_file_checks_pass(result):
    assert result.report_after is not None, result.refused
    bad = [(c.id, c.status.value, c.message.en) for c in result.report_after.checks
           if c.id in FILE_CHECKS and c.status.value not in ("pass", "skip")]
    assert not bad, bad


def assert_clean_jpeg(data: bytes, dpi_ok):
    """Baseline JPEG, nothing after EOI, the DPI in JFIF, no EXIF, 24-bit RGB."""
    ctx = PhotoContext.from_source(data, name="out.jpg")
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"
    assert ctx.trailing_bytes == 0
    assert ctx.jpeg.frame == "baseline"
    assert ctx.mode == "RGB"
    assert ctx.dpi.source == "jfif" and dpi_ok(ctx.dpi.x) and ctx.dpi.x == ctx.dpi.y
    assert ctx.exif == {} and ctx.orientation is None
    return ctx


def mad(a, b) -> float:
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


# --------------------------------------------------------------------------- KB windows, both ends


def test_moe_low_end_smooth_portrait_reaches_20_kib_honestly():
    r = fixed("smooth", "moe-2021")
    n = len(r.output)
    # the low end was binding: 4:2:0 at quality 95 was under 20 KiB, so chroma went to 4:4:4
    img = Image.open(io.BytesIO(r.output))
    assert len(_encode(img, 95, "4:2:0", 300)) < 20 * KIB
    assert r.subsampling == "4:4:4" or r.quality > 95
    assert 20 * KIB <= n <= 40 * KIB
    assert after_status(r, "file.size") == "pass"
    assert_file_checks_pass(r)
    assert_clean_jpeg(r.output, lambda d: d == 300)


def test_moe_high_end_noisy_portrait_stays_under_40_kib_with_quality_at_least_60():
    r = fixed("noisy", "moe-2021")
    n = len(r.output)
    assert 60 <= r.quality < 90  # the maximum was binding: quality had to come down
    assert 36 * KIB <= n <= 40 * KIB  # the highest quality that fits, so close to the maximum
    assert r.report_after.check("jpeg.quality").measured["quality"] >= 60
    assert_file_checks_pass(r)
    assert_clean_jpeg(r.output, lambda d: d == 300)


def test_chongqing_at_least_50_kib_from_a_smooth_portrait():
    r = fixed("smooth", "chongqing-2022")
    assert len(r.output) >= 50 * KIB
    assert r.subsampling == "4:4:4"  # needed more than 4:2:0 at 95 could give
    assert after_status(r, "file.size") == "pass"
    assert_file_checks_pass(r)
    assert_clean_jpeg(r.output, lambda d: d == 300)


def test_chongqing_noisy_portrait_has_no_upper_bound():
    r = fixed("noisy", "chongqing-2022")
    assert r.quality == 95 and len(r.output) > 100 * KIB
    assert_file_checks_pass(r)


def test_jiangsu_exclusive_window_both_ends():
    lo = fixed("smooth", "jiangsu-zjb-2020")
    hi = fixed("noisy", "jiangsu-zjb-2020")
    assert 30 * KIB < len(lo.output) < 100 * KIB
    assert lo.subsampling == "4:4:4" or lo.quality > 95  # low end was binding
    assert 30 * KIB < len(hi.output) < 100 * KIB
    assert hi.quality < 95 and len(hi.output) > 90 * KIB  # high end was binding
    for r in (lo, hi):
        assert_file_checks_pass(r)
        ctx = assert_clean_jpeg(r.output, lambda d: d > 150)
        assert ctx.width * 4 == ctx.height * 3  # 4:3 height:width


def test_exclusive_bounds_are_respected_exactly():
    img = portrait_rgb(STUDIO).resize((480, 480))
    at80 = len(_encode(img, 80, "4:2:0", 300))
    rule = SizeRule(source="test", min=at80 / KIB - 20, max=at80 / KIB, max_exclusive=True, unit="KiB")
    enc = encode_in_window(img, rule, qmin=60, dpi=300)
    assert enc.in_window and len(enc.data) < at80 and enc.quality < 80
    rule = SizeRule(source="test", min=at80 / KIB, min_exclusive=True, unit="KiB")
    enc = encode_in_window(img, rule, qmin=80, dpi=300)
    assert enc.in_window and len(enc.data) > at80


def test_unreachable_minimum_is_reported_not_padded():
    flat = Image.new("RGB", (480, 640), (200, 210, 220))
    rule = SizeRule(source="test", min=50, unit="KiB")
    enc = encode_in_window(flat, rule, qmin=60, dpi=300)
    assert not enc.in_window
    assert "does not pad" in enc.note.en and "quality 100" in enc.note.en
    # the bytes are exactly an encoder output: nothing appended, nothing inserted
    assert enc.data == _encode(flat, enc.quality, enc.subsampling, 300)
    assert PhotoContext.from_source(enc.data).trailing_bytes == 0
    assert enc.quality == 100 and enc.subsampling == "4:4:4"


def test_unreachable_maximum_is_reported_without_going_below_the_quality_floor():
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (640, 480, 3), dtype=np.uint8))
    rule = SizeRule(source="test", min=20, max=40, unit="KiB")
    enc = encode_in_window(noise, rule, qmin=60, dpi=300)
    assert not enc.in_window and enc.quality == 60 and len(enc.data) > 40 * KIB
    assert "cannot get down" in enc.note.en


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("spec", ["moe-2021", "chongqing-2022"])
def test_studio_portrait_passes_file_and_geometry(spec):
    r = fixed(STUDIO, spec)
    assert r.refused is None
    assert_file_checks_pass(r)
    for cid in ("face.hair_top", "face.eye_line", "face.width", "face.centered", "image.dimensions"):
        assert after_status(r, cid) == "pass", r.report_after.check(cid).message.en
    m = r.report_after.check("face.eye_line").measured
    assert 212 <= m["eye_line_y"] <= 288  # inside the band with a margin, not on its edge


def test_ok_when_every_rule_of_the_spec_passes(geometry_spec):
    r = fix(portrait_path(STUDIO), str(geometry_spec))
    assert r.ok and r.report_after.status.value == "pass"
    assert r.report_before.status.value == "fail" and not r.not_fixable and not r.unresolved


def test_jiangsu_composition_fractions_and_aspect():
    r = fixed(STUDIO, "jiangsu-zjb-2020")
    assert r.size == (480, 640)
    for cid in ("image.aspect_ratio", "composition.top_margin", "composition.head_height",
                "composition.side_margins", "image.dpi"):
        assert after_status(r, cid) == "pass", r.report_after.check(cid).message.en
    top = r.report_after.check("composition.top_margin").measured["top_margin"]
    assert 0.08 <= top <= 0.12


def test_no_rotation_or_mirroring_output_is_a_crop_and_uniform_scale_of_the_input():
    im = portrait_rgb(STUDIO).copy()
    im.paste((220, 30, 30), (260, 380, 340, 470))  # an asymmetric marker in the background
    r = fix(png_bytes(im), "moe-2021")
    assert r.refused is None and not r.extended
    x0, y0, x1, y1 = r.crop_box
    assert abs((x1 - x0) / (y1 - y0) - 480 / 640) < 1e-9  # uniform scale: same factor both ways
    assert abs(480 / (x1 - x0) - r.scale) < 1e-9
    out = Image.open(io.BytesIO(r.output)).convert("RGB")
    ref = im.resize((480, 640), Image.LANCZOS, box=r.crop_box)
    same = mad(out, ref)
    mirrored = mad(out, ref.transpose(Image.FLIP_LEFT_RIGHT))
    flipped = mad(out, ref.transpose(Image.FLIP_TOP_BOTTOM))
    assert same < 2.5, same
    assert mirrored > 4 * same and mirrored > 6, (same, mirrored)
    assert flipped > 10 * same


def test_exif_orientation_is_applied_and_dropped():
    upright = portrait_rgb(STUDIO)
    stored = upright.transpose(Image.ROTATE_90)  # pixels stored turned; tag 6 displays them upright
    exif = Image.Exif()
    exif[0x0112] = 6
    b = io.BytesIO()
    stored.save(b, "JPEG", quality=95, exif=exif.tobytes())
    r = fix(b.getvalue(), "moe-2021")
    assert r.orientation_applied == 6
    assert any("EXIF orientation" in a.en for a in r.actions)
    assert r.report_before.check("image.orientation").status.value == "fail"
    assert after_status(r, "image.orientation") == "pass"
    assert_clean_jpeg(r.output, lambda d: d == 300)
    out = Image.open(io.BytesIO(r.output)).convert("RGB")
    ref = upright.resize((480, 640), Image.LANCZOS, box=r.crop_box)
    assert mad(out, ref) < 3.0
    assert after_status(r, "face.eye_line") == "pass"


def test_solver_lands_in_the_middle_of_the_bands():
    head = Head(width=1350, height=1350, hair_top=215, eye_l=588, eye_r=592, eye_line=590,
                face_width=474, face_cx=674, face_left=437, face_right=911, chin=968,
                head_left=374, head_right=993, head_extent_measured=True)
    sol = solve_geometry(head, load_spec("moe-2021"), (480, 640))
    v = {k: val[0] for k, val in sol.values.items()}
    assert 57.5 <= v["face.hair_top"] <= 102.5
    assert 212.5 <= v["face.eye_line"] <= 287.5
    assert 195 <= v["face.width"] <= 285
    assert v["face.centered"] <= 0.02
    assert sol.refusal is None and not sol.notes


def test_solver_explains_a_head_too_long_for_jiangsu_fractions():
    # hair top to chin 1.6 × the silhouette width: 7/10 head and 1/10 margins cannot both hold
    head = Head(width=1500, height=2000, hair_top=300, eye_l=700, eye_r=700, eye_line=700,
                face_width=450, face_cx=750, face_left=525, face_right=975, chin=1260,
                head_left=450, head_right=1050, head_extent_measured=True)
    sol = solve_geometry(head, load_spec("jiangsu-zjb-2020"), output_size(load_spec("jiangsu-zjb-2020")))
    assert sol.refusal is None
    assert any("1.60" in n.en and "stretching" in n.en for n in sol.notes)


def test_target_dpi_from_the_spec():
    assert target_dpi(load_spec("moe-2021")) == 300
    assert target_dpi(load_spec("jiangsu-zjb-2020")) == 300  # > 150 allows the national 300


# --------------------------------------------------------------------------- refusals and extension


def _busy_near_top(plain: bool) -> bytes:
    """The studio portrait with the top 200 rows removed (the hair top ~15 px from the edge);
    its background replaced by a colourful block pattern unless ``plain``."""
    im = portrait_rgb(STUDIO)
    if not plain:
        mask = PhotoContext.from_source(portrait_path(STUDIO)).person_mask[:, :, None]
        blocks = np.random.default_rng(3).integers(0, 256, (34, 34, 3), dtype=np.uint8)
        tex = np.asarray(Image.fromarray(blocks).resize(im.size, Image.NEAREST), np.float32)
        a = mask * np.asarray(im, np.float32) + (1 - mask) * tex
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return png_bytes(im.crop((0, 200, im.width, im.height)))


def test_busy_background_with_head_at_the_top_edge_is_refused():
    r = fix(_busy_near_top(plain=False), "moe-2021")
    assert r.refused is not None and r.output is None and not r.ok
    assert "top edge" in r.refused.en and "not plain" in r.refused.en
    assert "头" in r.refused.zh


def test_jiangsu_recommendation_missed_for_a_busy_edge_says_why():
    # Jiangsu's composition rules are warnings: the photo is fixed, and the note names the cause
    r = fix(_busy_near_top(plain=False), "jiangsu-zjb-2020")
    assert r.refused is None and r.output is not None
    assert after_status(r, "composition.top_margin") == "warn"
    note = next(n.en for n in r.notes if n.en.startswith("composition.top_margin"))
    assert "top edge" in note and "not plain" in note


def test_plain_background_with_head_at_the_top_edge_is_extended():
    r = fix(_busy_near_top(plain=True), "moe-2021")
    assert r.refused is None
    assert r.extended.get("top", 0) > 20
    assert any("continued the canvas" in a.en for a in r.actions)
    for cid in ("face.hair_top", "face.eye_line", "face.width", "face.centered"):
        assert after_status(r, cid) == "pass"
    out = np.asarray(Image.open(io.BytesIO(r.output)).convert("RGB"), np.float32)
    band = out[:10, 100:380]  # the continued canvas is plain, like the backdrop
    assert (np.percentile(band, 95, axis=(0, 1)) - np.percentile(band, 5, axis=(0, 1))).max() < 16


def test_hair_cut_off_by_the_top_edge_is_refused():
    r = fixed(CUT_TOP, "moe-2021")
    assert r.refused is not None and r.output is None
    assert "cut off" in r.refused.en


def test_bottom_is_not_continued_with_garbage():
    # the bands need more picture below the neckline than the photo has; skin and shirt there
    r = fixed(PONYTAIL, "moe-2021")
    assert r.refused is not None
    assert "bottom edge" in r.refused.en and "not plain" in r.refused.en


# --------------------------------------------------------------------------- background


def test_background_replaced_with_reference_blue():
    r = fixed(STUDIO, "moe-2021", "blue")
    keep = fixed(STUDIO, "moe-2021")
    assert any("background replaced" in a.en for a in r.actions)
    out = np.asarray(Image.open(io.BytesIO(r.output)).convert("RGB"), np.float32)
    for corner in (out[5:25, 5:25], out[5:25, -25:-5]):
        assert np.abs(corner.mean(axis=(0, 1)) - np.array(REFERENCE_COLOURS["blue"])).max() < 6
    # the face is untouched (same crop: the geometry does not depend on the background option)
    assert r.crop_box == pytest.approx(keep.crop_box)
    k = np.asarray(Image.open(io.BytesIO(keep.output)).convert("RGB"), np.float32)
    assert mad(out[220:330, 190:290], k[220:330, 190:290]) < 4
    assert_file_checks_pass(r)


# --------------------------------------------------------------------------- CLI


def _run(args):
    from zkphoto.cli_fix import fix_command

    return CliRunner().invoke(fix_command, [str(a) for a in args])


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_cli_smile_is_fixed_geometrically_but_not_fixable_exit_1(tmp_path):
    src = tmp_path / "smile.jpg"
    src.write_bytes(portrait_path(SMILE).read_bytes())
    before = _sha(src)
    out = tmp_path / "out.jpg"
    res = _run([src, "-o", out, "--lang", "en"])
    assert res.exit_code == 1, res.output
    assert out.is_file() and _sha(src) == before
    assert "Cannot be fixed by software" in res.output and "face.mouth_closed" in res.output
    assert "→" in res.output
    r = fix(out, "moe-2021")  # the written file, judged again
    for cid in GEOMETRY_CHECKS[:5] + ("file.size", "image.dimensions", "image.dpi"):
        assert r.report_before.check(cid).status.value == "pass", cid
    assert r.report_before.check("face.mouth_closed").status.value == "fail"
    assert not r.report_before.check("face.mouth_closed").fixable


def test_cli_pass_exit_0_and_input_unchanged(tmp_path, geometry_spec):
    src = tmp_path / "in.jpg"
    src.write_bytes(portrait_path(STUDIO).read_bytes())
    st = src.stat()
    before = _sha(src)
    res = _run([src, "-o", tmp_path / "ok.jpg", "--spec", geometry_spec])
    assert res.exit_code == 0, res.output
    assert _sha(src) == before and src.stat().st_mtime_ns == st.st_mtime_ns
    assert (tmp_path / "ok.jpg").stat().st_size <= 40 * KIB


def test_cli_out_equal_to_in_is_refused(tmp_path):
    src = tmp_path / "me.jpg"
    src.write_bytes(portrait_path(STUDIO).read_bytes())
    before = _sha(src)
    for target in (src, tmp_path / "sub" / ".." / "me.jpg", tmp_path):
        (tmp_path / "sub").mkdir(exist_ok=True)
        res = _run([src, "-o", target])
        assert res.exit_code == 2, (target, res.output)
        assert "overwrite" in res.output
    link = tmp_path / "link.jpg"
    os.symlink(src, link)
    res = _run([src, "-o", link])
    assert res.exit_code == 2
    assert _sha(src) == before


def test_cli_directory_mode(tmp_path, geometry_spec):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jpg").write_bytes(portrait_path(STUDIO).read_bytes())
    portrait_rgb(STUDIO_2).save(d / "b.png")
    (d / "notes.txt").write_text("not a photo")
    res = _run([d, "-o", tmp_path / "out", "--spec", geometry_spec, "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jpg", "b.jpg"]
    assert "2 photos: 2 pass" in res.output
    # one refused photo (hair cut off at the top) makes the run exit 1; the others are still written
    (d / "c.jpg").write_bytes(portrait_path(CUT_TOP).read_bytes())
    res = _run([d, "-o", tmp_path / "out3", "--spec", geometry_spec, "--lang", "en"])
    assert res.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "out3").iterdir()) == ["a.jpg", "b.jpg"]
    assert "1 refused" in res.output
    # same directory as output: a.jpg would overwrite its input → usage error, nothing touched
    before = _sha(d / "a.jpg")
    res = _run([d, "-o", d])
    assert res.exit_code == 2 and _sha(d / "a.jpg") == before
    # two inputs mapping to one output name
    (d / "b.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 10)
    res = _run([d, "-o", tmp_path / "out2"])
    assert res.exit_code == 2 and "rename" in res.output


def test_cli_unknown_spec_is_usage_error(tmp_path):
    src = tmp_path / "in.jpg"
    src.write_bytes(portrait_path(STUDIO).read_bytes())
    res = _run([src, "-o", tmp_path / "o.jpg", "--spec", "no-such-spec"])
    assert res.exit_code == 2


def test_result_json_has_no_image_bytes_and_reports_both_sides():
    r = fixed(STUDIO, "moe-2021")
    doc = r.model_dump(mode="json")
    assert "output" not in doc and doc["report_before"]["status"] == "fail"
    assert doc["report_after"]["status"] in ("pass", "warn")
    ch = {c.id: (c.before.value, c.after.value) for c in r.changes}
    assert ch["image.dimensions"] == ("fail", "pass") and ch["face.eye_line"] == ("fail", "pass")


def test_unwritable_output_is_a_usage_error_not_a_traceback(tmp_path):
    from click.testing import CliRunner

    from zkphoto.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    src = Path(__file__).resolve().parents[1] / "fixtures" / "sample-eyes-low.jpg"
    res = CliRunner().invoke(main, ["fix", str(src), "-o", str(blocker / "out.jpg")])
    assert res.exit_code == 2, res.output
    assert "cannot write" in res.output and res.exception is None or isinstance(res.exception, SystemExit)
