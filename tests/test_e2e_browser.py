"""End-to-end: Debian's Chromium, driven by Playwright, uses the web page like a candidate.

Opens the page, uploads a failing photo, sees the failing rule, clicks fix, downloads the file
and checks that it passes `zkphoto check`. Skips when /usr/bin/chromium or playwright is
missing (`.ci/run` installs both); no browser is ever downloaded.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

import zkphoto  # noqa: E402
from zkphoto.server import create_app  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    config = uvicorn.Config(create_app(workers=0), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def test_candidate_checks_fixes_and_downloads(server, browser, tmp_path):
    page = browser.new_page(accept_downloads=True, viewport={"width": 390, "height": 844})  # phone
    page.goto(server + "/")
    page.wait_for_selector("#spec option[value='moe-2021']", state="attached")
    assert "自考毕业证书照片自检" in page.text_content("h1")
    assert page.input_value("#spec") == "moe-2021"  # the national standard by default

    page.set_input_files("#file", str(FIXTURES / "sample-eyes-low.jpg"))
    row = page.wait_for_selector("#rules tbody tr[data-check='face.eye_line']", timeout=60_000)
    assert "fail" in row.get_attribute("class")
    assert "眼睛位置" in row.text_content()  # human name, not just the id
    assert "不符合" in page.text_content("#verdict")
    assert page.get_attribute("#annot", "src").startswith("data:image/jpeg;base64,")
    page.screenshot(path=str(tmp_path / "checked.png"), full_page=True)

    page.click("#fix")
    page.wait_for_selector("#fixed:not([hidden])", timeout=60_000)
    with page.expect_download() as dl:
        page.click("#download")
    out = tmp_path / "fixed.jpg"
    dl.value.save_as(out)
    report = zkphoto.check(out, spec="moe-2021")
    assert report.ok, [(c.id, c.message.en) for c in report.failed]
    assert "符合要求" in page.text_content("#fixmsg")


def test_english_switch(server, browser):
    page = browser.new_page()
    page.goto(server + "/")
    page.wait_for_selector("#spec option[value='moe-2021']", state="attached")
    page.click("#lang")
    assert page.text_content("h1") == "Self-study exam photo self-check"
    assert page.text_content("#lang") == "中文"
