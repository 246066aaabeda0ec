"""Bad input never crashes: the library returns a report, the CLI exits 1, inputs stay untouched."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import zkphoto
from zkphoto.cli import main
from zkphoto.context import MAX_FILE_BYTES

from conftest import (
    FILE_LEVEL_CHECKS,
    cmyk_jpeg_bytes,
    encode_jpeg,
    fake_heic_bytes,
    file_level_report,
    gif_bytes,
    good_photo_bytes,
    png16_bytes,
    png_bytes,
    png_header_bomb,
    portrait,
    sha256,
    text_bytes,
    truncated_jpeg_bytes,
    webp_bytes,
    write,
)

ZKPHOTO_BIN = Path(sys.executable).with_name("zkphoto")

# name -> (bytes factory, expected report status, {check id: expected status}, words the
# file.readable / file.format message must contain)
CASES = {
    "zero-bytes": (lambda: b"", "error", {"file.readable": "fail"}, ["empty"]),
    "truncated-jpeg": (truncated_jpeg_bytes, "error",
                       {"file.readable": "fail", "file.format": "pass"}, ["truncated"]),
    "png-named-jpg": (lambda: png_bytes(portrait(480, 640)), "fail",
                      {"file.readable": "pass", "file.format": "fail"}, ["PNG"]),
    "gif-named-jpg": (gif_bytes, "fail", {"file.readable": "pass", "file.format": "fail"}, ["GIF"]),
    "webp-named-jpg": (webp_bytes, "fail", {"file.readable": "pass", "file.format": "fail"}, ["WebP"]),
    "heic-named-jpg": (fake_heic_bytes, "error", {"file.readable": "fail", "file.format": "fail"},
                       ["HEIC"]),
    "text-named-jpg": (text_bytes, "error", {"file.readable": "fail", "file.format": "fail"}, []),
    "cmyk-jpeg": (cmyk_jpeg_bytes, "fail",
                  {"file.readable": "pass", "file.format": "pass", "image.color_mode": "fail"}, []),
    "png-16bit": (png16_bytes, "fail",
                  {"file.readable": "pass", "file.format": "fail", "image.color_mode": "fail"},
                  ["PNG"]),
    "bomb-30000x30000": (png_header_bomb, "error",
                         {"file.readable": "fail", "file.format": "fail",
                          "image.dimensions": "error"}, ["decompression"]),
}


def _message_text(report) -> str:
    parts = []
    for cid in ("file.readable", "file.format"):
        c = report.check(cid)
        parts += [c.message.zh, c.message.en]
    return " ".join(parts)


def _assert_report(report, expected_status, expected_checks, words):
    assert isinstance(report, zkphoto.Report)
    assert report.status.value == expected_status
    assert report.status.value in ("fail", "error")
    assert not report.ok
    for cid, st in expected_checks.items():
        c = report.check(cid)
        assert c.status.value == st, (cid, c.message.en)
    text = _message_text(report).lower()
    for w in words:
        assert w.lower() in text, (w, text)
    for c in report.checks:
        assert c.message.zh and c.message.en
        assert "internal error" not in c.message.en, (c.id, c.message.en)
    assert report.failed  # something says why


def _invoke(args):
    res = CliRunner().invoke(main, args)
    # an exception escaping the command would also give exit code 1: make sure it did not
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exc_info
    assert "Traceback" not in res.output
    assert "Traceback" not in (res.stderr or "")
    return res


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_gives_report_and_cli_exit_1(tmp_path, case):
    make, want_status, want_checks, words = CASES[case]
    p = write(tmp_path, f"{case}.jpg", make())
    before = sha256(p)

    report = zkphoto.check(p, "moe-2021")
    _assert_report(report, want_status, want_checks, words)
    assert report.file == str(p)

    res = _invoke(["check", str(p), "--lang", "en"])
    assert res.exit_code == 1
    res = _invoke(["check", str(p), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["status"] == want_status
    assert {c["id"]: c["status"] for c in doc["checks"]}.items() >= want_checks.items()

    assert sha256(p) == before, "the input file was modified"


@pytest.mark.parametrize("case", list(CASES))
def test_bad_bytes_give_the_same_verdict(case):
    make, want_status, want_checks, words = CASES[case]
    report = zkphoto.check(make(), "moe-2021", name=f"{case}.jpg")
    _assert_report(report, want_status, want_checks, words)


def test_missing_path(tmp_path):
    p = tmp_path / "does-not-exist.jpg"
    report = zkphoto.check(p)
    assert report.status.value == "error"
    r = report.check("file.readable")
    assert r.status.value == "fail"
    assert "no such file" in r.message.en and "不存在" in r.message.zh
    assert report.measurements == {}
    res = _invoke(["check", str(p)])
    assert res.exit_code == 1
    assert not p.exists()


def test_directory(tmp_path):
    d = tmp_path / "photos.jpg"
    d.mkdir()
    report = zkphoto.check(d)
    assert report.status.value == "error"
    r = report.check("file.readable")
    assert r.status.value == "fail" and "directory" in r.message.en
    assert _invoke(["check", str(d)]).exit_code == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_fifo_is_not_read(tmp_path):
    f = tmp_path / "pipe.jpg"
    os.mkfifo(f)
    report = zkphoto.check(f)  # must not block waiting for a writer
    assert report.status.value == "error"
    assert "regular" in report.check("file.readable").message.en


def test_file_over_the_size_limit_is_not_read(tmp_path):
    p = tmp_path / "huge.jpg"
    with open(p, "wb") as f:  # sparse: instant, takes no disk space
        f.write(good_photo_bytes())
        f.truncate(MAX_FILE_BYTES + 1)
    report = zkphoto.check(p)
    assert report.status.value == "error"
    r = report.check("file.readable")
    assert r.status.value == "fail" and "larger than" in r.message.en


def test_large_but_not_bomb_header_is_not_decoded(tmp_path):
    """10000×10000 is under Pillow's own bomb limit but over zkphoto's pixel guard."""
    p = write(tmp_path, "big.jpg", png_header_bomb(10000, 10000))
    assert p.stat().st_size < 200
    report = file_level_report(p)
    assert report.status.value == "error"
    r = report.check("file.readable")
    assert r.status.value == "fail"
    assert "10000×10000" in r.message.en
    dims = report.check("image.dimensions")
    assert dims.status.value == "fail" and dims.measured == {"width": 10000, "height": 10000}


def test_bomb_file_is_tiny_and_claims_huge_size():
    data = png_header_bomb()
    assert len(data) < 200
    assert int.from_bytes(data[16:20], "big") == 30000 and int.from_bytes(data[20:24], "big") == 30000


def test_cli_many_bad_files_at_once_in_a_real_process(tmp_path):
    """The installed ``zkphoto`` script: exit 1, a JSON batch, nothing on stderr but logs."""
    paths = [write(tmp_path, f"{case}.jpg", CASES[case][0]()) for case in CASES]
    paths.append(tmp_path / "missing.jpg")
    hashes = {p: sha256(p) for p in paths if p.exists()}
    cmd = [str(ZKPHOTO_BIN) if ZKPHOTO_BIN.exists() else "zkphoto", "check", *map(str, paths),
           "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1
    assert [r["file"] for r in doc["reports"]] == [str(p) for p in paths]
    for case, r in zip(CASES, doc["reports"]):
        assert r["status"] == CASES[case][1], case
    assert doc["reports"][-1]["status"] == "error"
    assert {p: sha256(p) for p in hashes} == hashes


@pytest.mark.parametrize("size", [(30, 33000), (40000, 30)])
def test_extreme_aspect_image_does_not_abort_the_process(tmp_path, size):
    from PIL import Image

    data = encode_jpeg(Image.new("RGB", size, (200, 180, 160)), quality=80)
    p = write(tmp_path, "odd.jpg", data)
    # the file-level verdict is fine in-process
    rep = file_level_report(p)
    assert rep.check("image.dimensions").status.value == "fail"
    # the whole spec runs the face models: do it in a child process, it may abort
    cmd = [str(ZKPHOTO_BIN) if ZKPHOTO_BIN.exists() else "zkphoto", "check", str(p), "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, f"exit {proc.returncode}: {proc.stderr[-300:]}"
    assert json.loads(proc.stdout)["status"] == "fail"


# --------------------------------------------------------------------------- library API sources


def test_check_accepts_bytes_bytearray_and_memoryview():
    data = good_photo_bytes()
    for src in (data, bytearray(data), memoryview(data)):
        rep = zkphoto.check(src, "moe-2021")
        assert rep.file == "<bytes>"
        assert rep.status.value == "pass", [(c.id, c.message.en) for c in rep.failed]
        assert rep.check("file.extension").status.value == "skip"
        assert rep.measurements["file_bytes"] == len(data)


def test_check_accepts_binary_file_objects(tmp_path, good_photo):
    with open(good_photo, "rb") as f:
        rep = zkphoto.check(f, "moe-2021")
    assert rep.file == str(good_photo)
    assert rep.status.value == "pass"
    assert rep.check("file.extension").status.value == "pass"

    rep = zkphoto.check(io.BytesIO(good_photo.read_bytes()), "moe-2021")
    assert rep.file == "<stream>"
    assert rep.status.value == "pass"

    rep = zkphoto.check(io.BytesIO(good_photo.read_bytes()), "moe-2021", name="upload.png")
    assert rep.file == "upload.png"
    assert rep.check("file.extension").status.value == "fail"


def test_check_accepts_str_and_pathlike(good_photo):
    assert zkphoto.check(str(good_photo)).status.value == "pass"
    assert zkphoto.check(good_photo).file == str(good_photo)


def test_text_mode_stream_is_an_error_report(tmp_path, good_photo):
    with open(good_photo, encoding="latin-1") as f:
        rep = zkphoto.check(f)
    assert rep.status.value == "error"
    assert "binary" in rep.check("file.readable").message.en


def test_failing_stream_is_an_error_report():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def read(self, n=-1):
            raise OSError("device went away")

    rep = zkphoto.check(Broken())
    assert rep.status.value == "error"
    assert "device went away" in rep.check("file.readable").message.en


def test_bad_bytes_do_not_mutate_the_callers_buffer():
    buf = bytearray(truncated_jpeg_bytes())
    copy = bytes(buf)
    zkphoto.check(buf)
    assert bytes(buf) == copy


def test_only_unknown_spec_raises():
    with pytest.raises(zkphoto.SpecError):
        zkphoto.check(b"whatever", "no-such-spec-1999")


def test_every_file_level_check_reports_on_unreadable_input(tmp_path):
    """Unassessable checks say why (status error with a message), none is silently passed."""
    rep = zkphoto.check(tmp_path / "nope.jpg", "jiangsu-zjb-2020")
    by_id = {c.id: c for c in rep.checks}
    for cid in FILE_LEVEL_CHECKS:
        if cid not in by_id or cid == "file.extension":
            continue
        assert by_id[cid].status.value in ("fail", "error"), cid
        assert by_id[cid].message.en, cid
