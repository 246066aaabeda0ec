"""The subject is the largest face: a small second face elsewhere is counted, not measured."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

import zkphoto
from zkphoto.context import PhotoContext

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample.jpg"


def _with_small_face_in_corner() -> bytes:
    im = Image.open(SAMPLE).convert("RGB")
    head = im.crop((100, 40, 380, 420)).resize((140, 190), Image.LANCZOS)  # the same face, 0.5×
    im.paste(head, (8, 8))  # top-left corner: FaceMesh alone (one face) returned this one
    b = io.BytesIO()
    im.save(b, "JPEG", quality=90, dpi=(300, 300))
    return b.getvalue()


def test_small_second_face_is_counted_but_the_large_one_is_measured():
    data = _with_small_face_in_corner()
    ctx = PhotoContext.from_source(data)
    assert ctx.face.face_width > 200  # the subject, not the 0.5× copy (~118 px)
    report = zkphoto.check(data, "moe-2021")
    assert report.check("face.count").status.value == "fail"
    assert report.check("face.count").measured["faces"] == 2
    assert report.check("face.width").status.value == "pass"
    assert report.check("face.centered").status.value == "pass"
