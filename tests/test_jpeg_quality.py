"""JPEG marker walk and IJG quality estimation (zkphoto.measure.jpeg)."""

from __future__ import annotations

import io
import random

import pytest

from zkphoto.measure.jpeg import (
    STD_CHROMINANCE,
    STD_LUMINANCE,
    JpegStructure,
    estimate_quality,
    ijg_table,
    parse_jpeg,
)

from conftest import (
    FILE_LEVEL_CHECKS,
    check_one,
    encode_jpeg,
    exif_bytes,
    pad_after_eoi,
    pad_jpeg_to,
    portrait,
    run_only,
)

FILE_LEVEL_CHECKS_MOE = [c for c in FILE_LEVEL_CHECKS if c != "image.aspect_ratio"]
SUBSAMPLINGS = {"4:2:0": 2, "4:4:4": 0}


@pytest.fixture(scope="module")
def img():
    return portrait(480, 640)


@pytest.mark.parametrize("sub", list(SUBSAMPLINGS))
@pytest.mark.parametrize("q", range(30, 96))
def test_quality_estimate_matches_encoder(img, q, sub):
    data = encode_jpeg(img, quality=q, subsampling=SUBSAMPLINGS[sub])
    s = parse_jpeg(data)
    assert s.error is None
    assert s.subsampling == sub
    assert s.components == 3
    assert set(s.tables) == {0, 1}
    est = estimate_quality(s.tables)
    assert abs(est.quality - q) <= 2
    # libjpeg wrote these tables, so the match is exact
    assert est.quality == q
    assert est.exact
    assert est.mean_abs_error == 0


@pytest.mark.parametrize("q", [30, 59, 60, 75, 95])
def test_quality_through_the_check(img, q, tmp_path):
    p = tmp_path / "q.jpg"
    p.write_bytes(encode_jpeg(img, quality=q, progressive=(q % 2 == 1)))
    r = check_one(p, "jpeg.quality")
    assert r.measured["quality"] == q
    assert r.measured["exact_ijg_match"] is True
    assert r.status.value == ("pass" if q >= 60 else "fail")


def test_ijg_table_reference_points():
    # quality 50 is the Annex K table itself; 100 is all ones
    assert ijg_table(STD_LUMINANCE, 50) == list(STD_LUMINANCE)
    assert ijg_table(STD_CHROMINANCE, 50) == list(STD_CHROMINANCE)
    assert ijg_table(STD_LUMINANCE, 100) == [1] * 64
    assert max(ijg_table(STD_LUMINANCE, 1)) == 255


def test_non_ijg_tables_are_estimated_but_not_exact(img):
    lum = [ijg_table(STD_LUMINANCE, 80)[i] + (3 if i % 7 == 0 else 0) for i in range(64)]
    chrom = ijg_table(STD_CHROMINANCE, 80)
    buf = io.BytesIO()
    img.save(buf, "JPEG", qtables=[lum, chrom])
    s = parse_jpeg(buf.getvalue())
    est = estimate_quality(s.tables)
    assert s.tables[0] == lum
    assert not est.exact
    assert est.mean_abs_error > 0
    assert abs(est.quality - 80) <= 2


def test_single_table_greyscale_jpeg(img):
    data = encode_jpeg(img.convert("L"), quality=70)
    s = parse_jpeg(data)
    assert s.components == 1
    assert s.subsampling is None
    est = estimate_quality(s.tables)
    assert est.quality == 70 and est.exact


def test_estimate_without_luminance_table_is_none():
    assert estimate_quality({}) is None
    assert estimate_quality({1: list(STD_CHROMINANCE)}) is None


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("progressive", [False, True])
def test_eoi_found_and_no_trailing_data(img, progressive):
    data = encode_jpeg(img, quality=85, progressive=progressive, exif=exif_bytes(orientation=1))
    s = parse_jpeg(data)
    assert s.error is None
    assert s.frame == ("progressive" if progressive else "baseline")
    assert (s.width, s.height) == (480, 640)
    assert s.eoi_end == len(data)
    assert s.has_exif
    r = check_one(data, "file.trailing_data", name="p.jpg")
    assert r.measured["trailing_bytes"] == 0
    assert r.status.value == "pass"


@pytest.mark.parametrize("progressive", [False, True])
def test_trailing_bytes_counted_after_eoi(img, progressive):
    data = encode_jpeg(img, quality=85, progressive=progressive)
    padded = pad_after_eoi(data, 1234, b"\x00")
    s = parse_jpeg(padded)
    assert s.eoi_end == len(data)
    r = check_one(padded, "file.trailing_data", name="p.jpg")
    assert r.measured["trailing_bytes"] == 1234
    assert r.measured["zero_bytes"] == 1234
    assert r.status.value == "fail"


def test_restart_markers_and_comments_are_walked(img):
    data = encode_jpeg(img, quality=80, restart_marker_blocks=4)
    assert b"\xff\xd0" in data  # restart markers were really written
    data = pad_jpeg_to(data, len(data) + 5000)  # COM segment(s) after SOI
    s = parse_jpeg(data)
    assert s.error is None
    assert s.eoi_end == len(data)
    assert estimate_quality(s.tables).quality == 80


def test_jfif_density_parsed(img):
    s = parse_jpeg(encode_jpeg(img, dpi=(300, 300)))
    assert (s.jfif.units, s.jfif.x_density, s.jfif.y_density) == (1, 300, 300)
    s = parse_jpeg(encode_jpeg(img, dpi=None))
    assert s.jfif.units == 0


def test_truncated_jpeg_reports_error(img):
    data = encode_jpeg(img, quality=80)
    for cut in (len(data) - 2, len(data) // 2, 300, 20, 3):
        s = parse_jpeg(data[:cut])
        assert s.eoi_end is None
        assert s.error


GARBAGE = [
    b"",
    b"\xff",
    b"\xff\xd8",
    b"\xff\xd8\xff",
    b"\xff\xd8" + b"\xff" * 64,
    b"\xff\xd8\xff\xda\x00\x02",
    b"\xff\xd8\xff\xda\x00\x02\x12\x34\xff",
    b"\xff\xd8\xff\xc0\x00\x08\x08\x00\x10\x00\x10\x03",  # SOF cut short
    b"\xff\xd8\xff\xdb\x00\x43\x00\x01",  # DQT overrunning the file
    b"\xff\xd8\xff\xdb\x00\x05\x10\x01\x02",  # 16-bit DQT cut short
    b"\xff\xd8\xff\xe0\x00\x02",  # empty APP0
    b"\xff\xd8\x00\x00\x00",
    b"not a jpeg at all",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
]


@pytest.mark.parametrize("data", GARBAGE, ids=range(len(GARBAGE)))
def test_parse_jpeg_never_raises_on_garbage(data):
    s = parse_jpeg(data)
    assert isinstance(s, JpegStructure)
    assert s.error is not None or s.eoi_end is not None


def test_parse_jpeg_never_raises_on_random_and_mutated_input():
    rng = random.Random(20240517)
    base = encode_jpeg(portrait(120, 160), quality=80, progressive=True, exif=exif_bytes(orientation=3, dpi=300))
    samples = []
    for _ in range(200):
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))))
        samples.append(b"\xff\xd8" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))))
        m = bytearray(base)
        for _ in range(rng.randrange(1, 8)):
            k = rng.randrange(min(len(m), 1000))
            m[k] = rng.randrange(256)
        samples.append(bytes(m))
    samples += [base[:k] for k in range(0, 1500, 3)]
    for data in samples:
        s = parse_jpeg(data)
        assert isinstance(s, JpegStructure)
        if s.tables:
            estimate_quality(s.tables)  # must not raise either


def test_mutated_jpegs_give_reports_without_internal_errors():
    """Corrupt uploads are reported as failures, never as a crash inside a file-level check.

    (Only the file-level rules: see test_bad_input for the face models on absurd sizes.)"""
    rng = random.Random(7)
    base = encode_jpeg(portrait(120, 160), quality=80)
    for _ in range(150):
        m = bytearray(base)
        for _ in range(rng.randrange(1, 6)):
            k = rng.randrange(min(len(m), 700))
            m[k] = rng.randrange(256)
        r = run_only(bytes(m), FILE_LEVEL_CHECKS_MOE, name="m.jpg")
        assert r.status.value in ("pass", "fail", "error")
        for c in r.checks:
            assert "internal error" not in c.message.en, (c.id, c.message.en)


def test_eoi_inside_a_segment_is_not_the_end(img):
    """A thumbnail JPEG (with its own SOI/EOI) inside a COM segment must be skipped by length,
    not mistaken for the end of the image."""
    thumb = encode_jpeg(portrait(48, 64), quality=70)
    assert thumb.endswith(b"\xff\xd9")
    main_jpeg = encode_jpeg(img, quality=80)
    seg = b"\xff\xfe" + (len(thumb) + 2).to_bytes(2, "big") + thumb
    data = main_jpeg[:2] + seg + main_jpeg[2:]
    s = parse_jpeg(data)
    assert s.error is None
    assert s.eoi_end == len(data)
    assert (s.width, s.height) == (480, 640)
    r = check_one(data, "file.trailing_data", name="t.jpg")
    assert r.status.value == "pass"


def test_missing_eoi_fails_readable(img):
    data = encode_jpeg(img, quality=80)[:-2]  # scan data complete, EOI marker cut off
    s = parse_jpeg(data)
    assert s.eoi_end is None and s.error
    r = check_one(data, "file.readable", name="t.jpg")
    assert r.status.value == "fail"
    r = check_one(data, "file.trailing_data", name="t.jpg")
    assert r.status.value == "error"
