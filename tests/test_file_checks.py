"""File-level checks on generated images: the pass side, the fail side and the boundaries."""

from __future__ import annotations

import pytest

import zkphoto

from conftest import (
    FILE_LEVEL_CHECKS,
    KIB,
    check_one,
    cmyk_jpeg_bytes,
    encode_jpeg,
    exif_bytes,
    fake_heic_bytes,
    file_level_report,
    gif_bytes,
    good_photo_bytes,
    grey_jpeg_bytes,
    grey_portrait,
    jpeg_in_kib_window,
    jpeg_of_size,
    pad_after_eoi,
    palette_png_bytes,
    png16_bytes,
    png_bytes,
    portrait,
    rgba_png_bytes,
    set_jfif_density,
    strip_jfif,
    text_bytes,
    truncated_jpeg_bytes,
    webp_bytes,
    write,
)

from zkphoto.measure.jpeg import estimate_quality, parse_jpeg


def status(result) -> str:
    return result.status.value


# =========================================================================== acceptance items


def test_acceptance_good_photo_passes_every_file_level_check_of_moe(tmp_path):
    """480×640, 300 dpi, quality 75, ~30 KiB JPEG of a real portrait: all file-level rules pass."""
    data = good_photo_bytes()
    # the photo really has the properties the acceptance item names
    s = parse_jpeg(data)
    assert (s.width, s.height) == (480, 640)
    assert (s.jfif.units, s.jfif.x_density, s.jfif.y_density) == (1, 300, 300)
    assert estimate_quality(s.tables).quality == 75
    assert 28 * KIB <= len(data) <= 32 * KIB
    assert s.eoi_end == len(data)

    p = write(tmp_path, "photo.jpg", data)
    report = zkphoto.check(p, "moe-2021")  # the public API, whole spec
    file_level = [c for c in report.checks if c.id in FILE_LEVEL_CHECKS]
    spec_ids = set(zkphoto.load_spec("moe-2021").rules)
    assert {c.id for c in file_level} == set(FILE_LEVEL_CHECKS) & spec_ids
    assert len(file_level) == 11
    bad = [(c.id, c.status.value, c.message.en) for c in file_level if c.status.value != "pass"]
    assert bad == []
    m = report.measurements
    assert (m["width"], m["height"], m["file_bytes"], m["jpeg_quality"]) == (480, 640, len(data), 75)
    assert m["dpi"] == [300, 300]


def test_acceptance_good_photo_fails_file_size_under_chongqing(tmp_path):
    p = write(tmp_path, "photo.jpg", good_photo_bytes())
    report = zkphoto.check(p, "chongqing-2022")
    size = report.check("file.size")
    assert status(size) == "fail"
    assert size.measured["bytes"] == 30 * KIB
    assert size.expected == {"min": 50, "unit": "KiB"}
    assert "50" in size.message.zh and "50" in size.message.en
    assert report.status.value == "fail"
    assert size in report.failed
    # nothing else at file level differs from the national verdict
    others = [c for c in report.checks if c.id in FILE_LEVEL_CHECKS and c.id != "file.size"]
    assert others and all(status(c) == "pass" for c in others)


def test_acceptance_png_renamed_jpg_fails_file_format_saying_png(tmp_path):
    data = png_bytes(portrait(480, 640))
    p = write(tmp_path, "photo.jpg", data)
    r = zkphoto.check(p, "moe-2021").check("file.format")
    assert status(r) == "fail"
    assert r.measured["format"] == "PNG"
    assert r.measured["extension"] == ".jpg"
    assert "PNG" in r.message.zh
    assert "PNG" in r.message.en
    assert r.fixable


def test_acceptance_zero_padding_after_eoi_fails_trailing_data(tmp_path):
    good = good_photo_bytes()
    padded = pad_after_eoi(good, 10 * KIB)
    p = write(tmp_path, "photo.jpg", padded)
    report = zkphoto.check(p, "moe-2021")
    r = report.check("file.trailing_data")
    assert status(r) == "fail"
    assert r.measured["trailing_bytes"] == 10 * KIB
    assert r.measured["zero_bytes"] == 10 * KIB
    assert r.measured["eoi_offset"] == len(good)
    assert report.status.value == "fail"
    # the padding is exactly what would sneak the file into a size window
    assert status(report.check("file.size")) == "pass"


# =========================================================================== file.readable


def test_readable_pass(good_photo):
    r = check_one(good_photo, "file.readable")
    assert status(r) == "pass"
    assert r.measured["decoded"] is True


def test_readable_fails_on_truncated_jpeg(tmp_path):
    r = check_one(write(tmp_path, "t.jpg", truncated_jpeg_bytes()), "file.readable")
    assert status(r) == "fail"
    assert "truncat" in r.message.en.lower() or "incomplete" in r.message.en.lower()


def test_readable_fails_on_missing_and_empty(tmp_path):
    r = check_one(tmp_path / "nope.jpg", "file.readable")
    assert status(r) == "fail" and "no such file" in r.message.en
    r = check_one(write(tmp_path, "empty.jpg", b""), "file.readable")
    assert status(r) == "fail" and "empty" in r.message.en


# =========================================================================== file.format


@pytest.mark.parametrize(
    "make, fmt",
    [
        (lambda: png_bytes(portrait(480, 640)), "PNG"),
        (gif_bytes, "GIF"),
        (webp_bytes, "WEBP"),
        (fake_heic_bytes, "HEIC"),
    ],
)
def test_format_fails_for_other_formats_named_jpg(tmp_path, make, fmt):
    r = check_one(write(tmp_path, "x.jpg", make()), "file.format")
    assert status(r) == "fail"
    assert r.measured["format"] == fmt
    shown = {"WEBP": "WebP"}.get(fmt, fmt)
    assert shown in r.message.zh and shown in r.message.en
    assert ".jpg" in r.message.en  # says the name lies


def test_format_unknown_content(tmp_path):
    r = check_one(write(tmp_path, "x.jpg", text_bytes()), "file.format")
    assert status(r) == "fail"
    assert r.measured["format"] == "unknown"
    assert not r.fixable


def test_format_passes_for_jpeg_whatever_the_name(tmp_path):
    r = check_one(write(tmp_path, "x.png", good_photo_bytes()), "file.format")
    assert status(r) == "pass"
    assert r.measured == {"format": "JPEG", "extension": ".png"}


# =========================================================================== file.extension


@pytest.mark.parametrize(
    "name, outcome",
    [("a.jpg", "pass"), ("A.JPG", "pass"), ("a.Jpg", "pass"), ("a.jpeg", "fail"),
     ("a.png", "fail"), ("noext", "fail"), ("a.jpg.png", "fail")],
)
def test_extension(tmp_path, name, outcome):
    r = check_one(write(tmp_path, name, good_photo_bytes()), "file.extension")
    assert status(r) == outcome
    if outcome == "fail":
        assert ".jpg" in r.message.en
        assert r.fixable


def test_extension_skipped_for_bytes_without_name():
    r = check_one(good_photo_bytes(), "file.extension")
    assert status(r) == "skip"
    r = check_one(good_photo_bytes(), "file.extension", name="upload.jpeg")
    assert status(r) == "fail"


# =========================================================================== file.size


def _sized(tmp_path, n: int):
    data = jpeg_of_size(n)
    assert len(data) == n
    p = write(tmp_path, f"s{n}.jpg", data)
    return p


@pytest.mark.parametrize(
    "n_bytes, outcome",
    [(20 * KIB, "pass"), (20 * KIB - 1, "fail"), (40 * KIB, "pass"), (40 * KIB + 1, "fail"),
     (30 * KIB, "pass")],
)
def test_size_boundaries_moe(tmp_path, n_bytes, outcome):
    p = _sized(tmp_path, n_bytes)
    rep = file_level_report(p, "moe-2021")
    r = rep.check("file.size")
    assert status(r) == outcome, r.message.en
    assert r.measured["bytes"] == n_bytes
    assert r.expected == {"min": 20, "max": 40, "unit": "KiB"}
    # the padded file is still a valid JPEG with nothing after EOI
    assert status(rep.check("file.readable")) == "pass"
    assert status(rep.check("file.trailing_data")) == "pass"
    assert status(rep.check("jpeg.quality")) == "pass"
    if outcome == "fail":
        assert str(n_bytes) in r.message.en
        assert r.fixable


def test_size_fail_messages_say_which_way(tmp_path):
    small = check_one(_sized(tmp_path, 20 * KIB - 1), "file.size")
    big = check_one(_sized(tmp_path, 40 * KIB + 1), "file.size")
    assert "higher" in small.message.en and "lower" in big.message.en
    assert "更高" in small.message.zh and "较低" in big.message.zh


@pytest.mark.parametrize(
    "n_bytes, outcome",
    [(30 * KIB, "fail"), (30 * KIB + 1, "pass"), (100 * KIB - 1, "pass"), (100 * KIB, "fail")],
)
def test_size_boundaries_jiangsu_exclusive(tmp_path, n_bytes, outcome):
    r = check_one(_sized(tmp_path, n_bytes), "file.size", "jiangsu-zjb-2020")
    assert status(r) == outcome, r.message.en
    assert r.expected == {"min": 30, "min_exclusive": True, "max": 100, "max_exclusive": True,
                          "unit": "KiB"}


@pytest.mark.parametrize(
    "n_bytes, outcome",
    [(50 * KIB - 1, "fail"), (50 * KIB, "pass"), (300 * KIB, "pass")],
)
def test_size_chongqing_no_upper_bound(tmp_path, n_bytes, outcome):
    r = check_one(_sized(tmp_path, n_bytes), "file.size", "chongqing-2022")
    assert status(r) == outcome


def test_size_in_decimal_kb_when_the_spec_says_so(tmp_path):
    spec = write(
        tmp_path,
        "kb.toml",
        b'id = "kb"\ntitle = "t"\nsource = "s"\n[rules."file.size"]\nmin = 20\nmax = 40\n'
        b'unit = "KB"\nsource = "s"\n',
    )
    ok = zkphoto.check(_sized(tmp_path, 20000), str(spec)).check("file.size")
    low = zkphoto.check(_sized(tmp_path, 19999), str(spec)).check("file.size")
    assert status(ok) == "pass" and status(low) == "fail"
    assert ok.measured == {"bytes": 20000, "KB": 20.0}


def test_size_window_helper(tmp_path):
    data = jpeg_in_kib_window(20, 40)
    assert 20 * KIB <= len(data) <= 40 * KIB
    assert status(check_one(data, "file.size")) == "pass"


# =========================================================================== file.trailing_data


def test_trailing_data_pass(good_photo):
    r = check_one(good_photo, "file.trailing_data")
    assert status(r) == "pass"
    assert r.measured["trailing_bytes"] == 0


def test_trailing_nonzero_garbage_fails(tmp_path):
    data = good_photo_bytes() + b"PK\x03\x04 hidden zip" + b"\xff" * 100
    r = check_one(write(tmp_path, "x.jpg", data), "file.trailing_data")
    assert status(r) == "fail"
    assert r.measured["trailing_bytes"] == 115
    assert r.measured["zero_bytes"] == 0


def test_trailing_data_not_assessable_for_png_or_truncated(tmp_path):
    r = check_one(write(tmp_path, "x.jpg", png_bytes(portrait(48, 64))), "file.trailing_data")
    assert status(r) == "error"
    r = check_one(write(tmp_path, "t.jpg", truncated_jpeg_bytes()), "file.trailing_data")
    assert status(r) == "error"
    assert "truncated" in r.message.en


# =========================================================================== image.dimensions


@pytest.mark.parametrize("size, outcome", [((480, 640), "pass"), ((500, 640), "fail"),
                                           ((600, 800), "fail"), ((640, 480), "fail")])
def test_dimensions(tmp_path, size, outcome):
    p = write(tmp_path, "d.jpg", encode_jpeg(portrait(*size)))
    r = check_one(p, "image.dimensions")
    assert status(r) == outcome
    assert r.measured == {"width": size[0], "height": size[1]}
    if size == (640, 480):
        assert "swapped" in r.message.en


# =========================================================================== image.aspect_ratio


@pytest.mark.parametrize(
    "size, outcome",
    [((480, 640), "pass"), ((600, 800), "pass"), ((300, 400), "pass"), ((480, 645), "pass"),
     ((500, 640), "fail"), ((480, 650), "fail"), ((640, 480), "fail")],
)
def test_aspect_ratio_jiangsu(tmp_path, size, outcome):
    p = write(tmp_path, "a.jpg", encode_jpeg(portrait(*size)))
    r = check_one(p, "image.aspect_ratio", "jiangsu-zjb-2020")
    assert status(r) == outcome
    assert r.measured["ratio_h_w"] == round(size[1] / size[0], 4)
    if outcome == "fail":
        assert "4:3" in r.message.en


def test_jiangsu_600x800_passes_every_file_level_rule(tmp_path):
    data = jpeg_of_size(60 * KIB, portrait(600, 800), dpi=(200, 200))
    rep = file_level_report(write(tmp_path, "js.jpg", data), "jiangsu-zjb-2020")
    assert [(c.id, c.message.en) for c in rep.checks if status(c) != "pass"] == []


# =========================================================================== image.dpi


def _dpi(data, spec="moe-2021"):
    return check_one(data, "image.dpi", spec, name="x.jpg")


def test_dpi_jfif_300_passes():
    r = _dpi(good_photo_bytes())
    assert status(r) == "pass"
    assert r.measured["dpi"] == [300, 300] and r.measured["source"] == "jfif"


def test_dpi_72_fails():
    r = _dpi(encode_jpeg(dpi=(72, 72)))
    assert status(r) == "fail"
    assert r.measured["dpi"] == [72, 72] and r.measured["source"] == "jfif"
    assert "72" in r.message.en


def test_dpi_absent_fails_differently_from_72():
    absent = _dpi(encode_jpeg(dpi=None))
    seventy_two = _dpi(encode_jpeg(dpi=(72, 72)))
    assert status(absent) == "fail"
    assert absent.measured["source"] is None
    assert absent.measured["dpi"] is None
    assert "absent" in absent.message.en.lower()
    assert "absent" not in seventy_two.message.en.lower()
    assert absent.message.en != seventy_two.message.en
    assert absent.message.zh != seventy_two.message.zh
    assert "缺失" in absent.message.zh


def test_dpi_absent_without_any_jfif_segment():
    r = _dpi(strip_jfif(encode_jpeg(dpi=None)))
    assert status(r) == "fail" and r.measured["source"] is None


def test_dpi_exif_only_300_passes():
    data = encode_jpeg(dpi=None, exif=exif_bytes(dpi=300))
    assert parse_jpeg(data).jfif.units == 0  # the JFIF header carries no resolution
    r = _dpi(data)
    assert status(r) == "pass"
    assert r.measured["source"] == "exif"
    assert r.measured["exif_dpi"] == [300, 300]


def test_dpi_jfif_and_exif_disagree_fails():
    r = _dpi(encode_jpeg(dpi=(300, 300), exif=exif_bytes(dpi=72)))
    assert status(r) == "fail"
    assert r.measured["jfif_dpi"] == [300, 300] and r.measured["exif_dpi"] == [72, 72]
    assert "EXIF" in r.message.en


@pytest.mark.parametrize(
    "dpcm, dpi, moe, jiangsu",
    [(60, 152.4, "fail", "pass"), (59, 149.86, "fail", "fail"), (200, 508.0, "fail", "pass")],
)
def test_dpi_dots_per_cm_converted(dpcm, dpi, moe, jiangsu):
    data = set_jfif_density(good_photo_bytes(), 2, dpcm, dpcm)
    r = _dpi(data)
    assert r.measured["source"] == "jfif"
    # converted to dots per inch (possibly rounded to the nearest whole dpi)
    assert r.measured["dpi"] == pytest.approx([dpi, dpi], abs=0.5)
    assert status(r) == moe
    assert status(_dpi(data, "jiangsu-zjb-2020")) == jiangsu


def test_dpi_exif_in_centimetres_converted():
    r = _dpi(encode_jpeg(dpi=None, exif=exif_bytes(dpi=60, unit=3)), "jiangsu-zjb-2020")
    assert r.measured["source"] == "exif"
    assert r.measured["dpi"] == pytest.approx([152.4, 152.4], abs=0.5)
    assert status(r) == "pass"


@pytest.mark.parametrize("where", ["jfif", "exif"])
def test_dpi_300_saved_as_118_dots_per_cm_passes(where):
    """300 dpi written in centimetre units is 118 /cm (whole numbers only in JFIF) = 299.72 dpi:
    it must count as the 300 dpi it stands for."""
    if where == "jfif":
        data = set_jfif_density(good_photo_bytes(), 2, 118, 118)
    else:
        data = encode_jpeg(dpi=None, exif=exif_bytes(dpi=118, unit=3))
    r = _dpi(data)
    assert status(r) == "pass", r.message.en


def test_dpi_jiangsu_exclusive_150():
    assert status(_dpi(encode_jpeg(dpi=(150, 150)), "jiangsu-zjb-2020")) == "fail"
    assert status(_dpi(encode_jpeg(dpi=(151, 151)), "jiangsu-zjb-2020")) == "pass"


def test_dpi_needs_both_axes():
    r = _dpi(encode_jpeg(dpi=(300, 72)))
    assert status(r) == "fail"
    assert r.measured["dpi"] == [300, 72]


# =========================================================================== image.color_mode


@pytest.mark.parametrize(
    "make, mode",
    [(grey_jpeg_bytes, "L"), (cmyk_jpeg_bytes, "CMYK"), (palette_png_bytes, "P"),
     (rgba_png_bytes, "RGBA"), (png16_bytes, "I;16")],
)
def test_color_mode_fails(tmp_path, make, mode):
    r = check_one(write(tmp_path, "c.jpg", make()), "image.color_mode")
    assert status(r) == "fail"
    assert r.measured["mode"] == mode
    assert r.measured["bits_per_pixel"] != 24 or r.measured["channels"] != 3
    assert "RGB" in r.message.en


def test_color_mode_rgb_passes(good_photo):
    r = check_one(good_photo, "image.color_mode")
    assert status(r) == "pass"
    assert r.measured["channels"] == 3 and r.measured["bits_per_pixel"] == 24
    assert r.measured["jpeg_components"] == 3


def test_cmyk_jpeg_reports_four_components(tmp_path):
    r = check_one(write(tmp_path, "c.jpg", cmyk_jpeg_bytes()), "image.color_mode")
    assert r.measured["jpeg_components"] == 4


# =========================================================================== image.colorful


def test_greyscale_saved_as_rgb_fails_colorful(tmp_path):
    data = encode_jpeg(grey_portrait(), quality=85)
    rep = file_level_report(write(tmp_path, "g.jpg", data))
    assert status(rep.check("image.color_mode")) == "pass"  # it IS stored as RGB...
    r = rep.check("image.colorful")
    assert status(r) == "fail"  # ...but it is not a colour photo
    assert r.measured["colourfulness"] < 2
    assert r.expected["min"] == 5


def test_real_portrait_passes_colorful(good_photo):
    r = check_one(good_photo, "image.colorful")
    assert status(r) == "pass"
    assert r.measured["colourfulness"] > 10


def test_slightly_tinted_grey_still_fails_colorful(tmp_path):
    from PIL import Image

    g = grey_portrait()
    tint = Image.new("RGB", g.size, (112, 66, 20))  # sepia
    data = encode_jpeg(Image.blend(g, tint, 0.05))
    r = check_one(data, "image.colorful")
    assert status(r) == "fail"


# =========================================================================== image.orientation


@pytest.mark.parametrize("value, outcome", [(None, "pass"), (1, "pass"), (2, "fail"), (3, "fail"),
                                            (6, "fail"), (8, "fail")])
def test_orientation(tmp_path, value, outcome):
    data = encode_jpeg(exif=exif_bytes(orientation=value)) if value else encode_jpeg()
    r = check_one(write(tmp_path, "o.jpg", data), "image.orientation")
    assert status(r) == outcome
    assert r.measured["exif_orientation"] == value
    if outcome == "fail":
        assert str(value) in r.message.en


def test_orientation_tag_does_not_change_stored_size(tmp_path):
    data = encode_jpeg(exif=exif_bytes(orientation=6))
    rep = file_level_report(write(tmp_path, "o.jpg", data))
    assert status(rep.check("image.dimensions")) == "pass"  # as stored, not as displayed
    assert status(rep.check("image.orientation")) == "fail"


# =========================================================================== jpeg.quality


@pytest.mark.parametrize("q, outcome", [(59, "fail"), (60, "pass"), (95, "pass"), (30, "fail")])
def test_quality(tmp_path, q, outcome):
    r = check_one(write(tmp_path, "q.jpg", encode_jpeg(quality=q)), "jpeg.quality")
    assert status(r) == outcome
    assert r.measured["quality"] == q
    if outcome == "fail":
        assert "60" in r.message.en


def test_quality_not_assessable_for_png(tmp_path):
    r = check_one(write(tmp_path, "q.jpg", png_bytes(portrait(48, 64))), "jpeg.quality")
    assert status(r) == "error"


# =========================================================================== severity mapping


def test_warning_severity_turns_fail_into_warn(tmp_path):
    spec = write(
        tmp_path,
        "warn.toml",
        b'id = "warn"\ntitle = "t"\nsource = "s"\n[rules."jpeg.quality"]\nmin = 90\n'
        b'severity = "warning"\nsource = "s"\n',
    )
    rep = zkphoto.check(good_photo_bytes(), str(spec))
    r = rep.check("jpeg.quality")
    assert status(r) == "warn"
    assert rep.status.value == "warn"
    assert rep.ok and rep.failed == []


def test_disabled_rule_is_skipped(tmp_path):
    spec = write(
        tmp_path,
        "off.toml",
        b'id = "off"\ntitle = "t"\nsource = "s"\n[rules."jpeg.quality"]\nmin = 90\n'
        b'enabled = false\nsource = "s"\n',
    )
    rep = zkphoto.check(good_photo_bytes(), str(spec))
    assert status(rep.check("jpeg.quality")) == "skip"
    assert rep.status.value == "pass"
