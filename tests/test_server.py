"""HTTP API: every endpoint and every error status, through the app's test client."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from zkphoto.server import create_app  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE = (FIXTURES / "sample.jpg").read_bytes()
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(max_upload=LIMIT, workers=0)) as c:
        yield c


def post(client, endpoint="/v1/check", data=SAMPLE, name="photo.jpg", **fields):
    return client.post(endpoint, files={"photo": (name, data, "image/jpeg")}, data=fields)


def assert_error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]["zh"] and body["error"]["message"]["en"]


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_checks_lists_names(client):
    names = client.get("/v1/checks").json()
    assert names["face.eye_line"]["zh"] == "眼睛位置" and names["face.eye_line"]["en"] == "eye line"


def test_specs_list_and_detail(client):
    ids = [s["id"] for s in client.get("/v1/specs").json()]
    assert {"moe-2021", "anhui-2023", "guangdong-2022", "chongqing-2022", "jiangsu-zjb-2020"} <= set(ids)
    cq = client.get("/v1/specs/chongqing-2022").json()
    assert cq["extends"] == ["moe-2021"]
    assert cq["rules"]["file.size"]["min"] == 50 and "max" not in cq["rules"]["file.size"]
    assert_error(client.get("/v1/specs/no-such-spec"), 404, "unknown_spec")


def test_check_returns_the_contract_report(client):
    r = post(client, spec="moe-2021")
    assert r.status_code == 200
    rep = r.json()
    assert rep["schema_version"] == 1 and rep["spec"]["id"] == "moe-2021"
    assert rep["status"] == "pass" and rep["file"] == "photo.jpg"
    assert {c["id"] for c in rep["checks"]} >= {"file.size", "face.eye_line"}
    assert "annotation" not in rep


def test_check_failing_photo_is_200_with_fail_and_annotation(client):
    bad = (FIXTURES / "sample-eyes-low.jpg").read_bytes()
    r = post(client, data=bad, annotate="true", lang="en")
    assert r.status_code == 200
    rep = r.json()
    assert rep["status"] == "fail"
    eye = next(c for c in rep["checks"] if c["id"] == "face.eye_line")
    assert eye["status"] == "fail" and eye["measured"]["eye_line_y"] > 300
    assert rep["annotation"].startswith("data:image/jpeg;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(rep["annotation"].split(",", 1)[1])))
    assert img.width > 480  # photo plus legend panel


def test_check_under_another_spec(client):
    rep = post(client, spec="chongqing-2022").json()
    size = next(c for c in rep["checks"] if c["id"] == "file.size")
    assert size["status"] == "fail"  # a 39 KiB file is under Chongqing's 50 KiB


def test_png_upload_is_checked_not_refused(client):
    b = io.BytesIO()
    Image.open(io.BytesIO(SAMPLE)).save(b, "PNG")
    rep = post(client, data=b.getvalue()).json()
    fmt = next(c for c in rep["checks"] if c["id"] == "file.format")
    assert fmt["status"] == "fail" and "PNG" in fmt["message"]["en"]


def test_not_an_image_is_415(client):
    assert_error(post(client, data=b"just some text, not a photo"), 415, "not_an_image")
    assert_error(post(client, data=b"%PDF-1.4 ..."), 415, "not_an_image")


def test_empty_upload_is_400(client):
    assert_error(post(client, data=b""), 400, "empty_file")


def test_over_the_limit_is_413(client):
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (LIMIT + 10)
    assert_error(post(client, data=big), 413, "too_large")


def test_bad_content_length_header_is_400(client):
    r = client.post("/v1/check", content=b"x", headers={"content-length": "abc", "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400


def test_missing_photo_or_bad_fields_are_422(client):
    assert_error(client.post("/v1/check", data={"spec": "moe-2021"}), 422, "invalid_field")
    assert_error(post(client, lang="fr"), 422, "invalid_field")
    assert_error(post(client, spec="no-such-spec"), 422, "unknown_spec")
    assert_error(post(client, spec="../../etc/passwd.toml"), 422, "unknown_spec")
    assert_error(post(client, "/v1/fix", background="purple"), 422, "invalid_field")


def test_decompression_bomb_is_a_report_not_a_crash(client):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    r = post(client, data=png)
    assert r.status_code == 200
    rep = r.json()
    assert rep["status"] == "error"
    readable = next(c for c in rep["checks"] if c["id"] == "file.readable")
    assert readable["status"] == "fail"


def test_truncated_jpeg_is_a_report(client):
    rep = post(client, data=SAMPLE[:4000]).json()
    assert rep["status"] == "error"


def test_unknown_endpoint_and_method_are_json(client):
    assert_error(client.get("/v1/nothing"), 404, "not_found")
    assert_error(client.get("/v1/check"), 405, "method_not_allowed")


def test_page_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "自考毕业证书照片自检" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for name in ("app.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "http" not in r.text.replace("/static", "")
    assert client.get("/static/missing.js").status_code == 404
    assert client.get("/static/index.html").status_code == 404  # only js/css/svg by that route


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/check", "/v1/fix", "/v1/specs", "/v1/specs/{spec_id}", "/v1/checks", "/healthz"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_fix_endpoint_returns_a_compliant_jpeg(client):
    pytest.importorskip("zkphoto.fix")
    src = Path(__file__).resolve().parents[2] / "shared" / "portraits" / "img" / "webmorphR.stim__005_03.jpg"
    if not src.exists():
        pytest.skip("shared portraits not available")
    r = post(client, "/v1/fix", data=src.read_bytes(), name="me.jpg", spec="moe-2021")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["report_before"]["status"] == "fail"
    assert j["filename"] == "me-fixed.jpg"
    out = base64.b64decode(j["image_base64"])
    assert out[:3] == b"\xff\xd8\xff"
    again = post(client, data=out, name="me-fixed.jpg").json()  # the fixed file passes a fresh check
    geometry = {c["id"]: c["status"] for c in again["checks"]}
    assert geometry["image.dimensions"] == "pass" and geometry["file.size"] == "pass"
    assert j["ok"] == (again["status"] in ("pass", "warn"))
