"""Batch validation: input kinds (folder, zip, manifest), output formats (csv, xlsx, html,
jsonl), bad files inside a batch, --resume, interruption, workers, check_many."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import zkphoto
from zkphoto.batch import Item, iter_items, read_journal, run_batch
from zkphoto.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory) -> Path:
    """A folder as an office receives it: good and bad photos, a sub-folder, junk."""
    d = tmp_path_factory.mktemp("uploads")
    shutil.copy(FIXTURES / "sample.jpg", d / "0101.jpg")
    shutil.copy(FIXTURES / "sample-smile.jpg", d / "0102.jpg")
    (d / "sub").mkdir()
    shutil.copy(FIXTURES / "sample-eyes-low.jpg", d / "sub" / "0103.jpg")
    (d / "0104.jpg").write_bytes((FIXTURES / "sample.jpg").read_bytes()[:5000])  # truncated
    (d / "0105.jpg").write_text("this is not a photo", encoding="utf-8")  # non-image
    (d / ".DS_Store").write_bytes(b"\x00junk")  # hidden: skipped
    (d / "Thumbs.db").write_bytes(b"\x00junk")  # junk: skipped
    return d


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_folder_items_are_recursive_and_skip_junk(photo_dir):
    names = [Path(i.name).name for i in iter_items([photo_dir])]
    assert sorted(names) == ["0101.jpg", "0102.jpg", "0103.jpg", "0104.jpg", "0105.jpg"]


def test_zip_is_read_in_place(photo_dir, tmp_path):
    z = tmp_path / "uploads.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(photo_dir.rglob("*.jpg")):
            zf.write(p, p.relative_to(photo_dir).as_posix())
        zf.writestr("__MACOSX/._0101.jpg", b"junk")
    items = list(iter_items([z]))
    assert len(items) == 5 and all(i.zip_path == str(z) for i in items)
    out = tmp_path / "r.jsonl"
    res = run_cli("batch", str(z), "-o", str(out), "-w", "1", "-q")
    assert res.exit_code == 1  # the batch has failing photos
    reports = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by = {r["file"].split("!")[-1]: r for r in reports}
    assert by["0101.jpg"]["status"] == "pass"
    assert by["0104.jpg"]["status"] == "error"  # truncated member
    assert not list(tmp_path.glob("**/0101.jpg"))  # nothing extracted to disk


def test_manifest_columns_are_carried_through(photo_dir, tmp_path):
    m = tmp_path / "manifest.csv"
    m.write_text(
        "准考证号,file,姓名\n"
        f"0101,{photo_dir / '0101.jpg'},张三\n"
        f"0102,{photo_dir / '0102.jpg'},李四\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.csv"
    res = run_cli("batch", str(m), "-o", str(out), "-w", "1", "-q")
    assert res.exit_code == 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["文件", "准考证号", "姓名"]
    body = {r[1]: r for r in rows[1:]}
    assert body["0101"][2] == "张三" and body["0101"][3] == "通过"
    assert body["0102"][3] == "不通过" and "face.mouth_closed" in body["0102"][4]


def test_manifest_without_file_column_is_a_usage_error(tmp_path):
    m = tmp_path / "bad.csv"
    m.write_text("id,name\n1,a\n", encoding="utf-8")
    res = run_cli("batch", str(m), "-o", str(tmp_path / "r.csv"), "-q")
    assert res.exit_code == 2 and "file" in res.output


def test_unwritable_output_is_a_usage_error_before_any_work(tmp_path, photo_dir):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_cli("batch", str(photo_dir), "-o", str(blocker / "r.csv"), "-q")
    assert res.exit_code == 2 and "cannot write" in res.output


def test_missing_input_and_unknown_format_are_usage_errors(tmp_path, photo_dir):
    assert run_cli("batch", str(tmp_path / "nope"), "-o", str(tmp_path / "r.csv")).exit_code == 2
    assert run_cli("batch", str(photo_dir), "-o", str(tmp_path / "r.pdf")).exit_code == 2


@pytest.fixture(scope="module")
def folder_reports(photo_dir, tmp_path_factory):
    """Run the folder once with 2 workers into every output format (the same journal logic)."""
    out = tmp_path_factory.mktemp("out")
    results = {}
    for ext in ("jsonl", "csv", "xlsx", "html"):
        target = out / f"report.{ext}"
        res = run_cli("batch", str(photo_dir), "-o", str(target), "-w", "2" if ext == "jsonl" else "1",
                      "-q", "--lang", "zh")
        results[ext] = (res, target)
    return results


def test_jsonl_has_one_report_per_photo(folder_reports):
    res, target = folder_reports["jsonl"]
    assert res.exit_code == 1
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    statuses = {Path(json.loads(x)["file"]).name: json.loads(x)["status"] for x in lines}
    assert statuses == {"0101.jpg": "pass", "0102.jpg": "fail", "0103.jpg": "fail",
                        "0104.jpg": "error", "0105.jpg": "error"}
    for x in lines:  # every line is a contract report
        zkphoto.Report.model_validate_json(x)


def test_summary_names_counts_and_top_rules(folder_reports):
    res, _ = folder_reports["csv"]
    assert "共 5 张" in res.output and "通过 1" in res.output
    assert "最常见的问题" in res.output and "face.eye_line" in res.output


def test_xlsx_rows_colours_and_summary_sheet(folder_reports):
    from openpyxl import load_workbook

    res, target = folder_reports["xlsx"]
    wb = load_workbook(target)
    assert wb.sheetnames == ["结果", "汇总"]
    ws = wb["结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "文件" and len(rows) == 6
    by = {Path(r[0]).name: r for r in rows[1:]}
    assert by["0101.jpg"][1] == "通过" and by["0103.jpg"][1] == "不通过"
    assert "face.eye_line" in by["0103.jpg"][2]
    # conditional colours: the status cell of a failing photo is red-ish, a passing one green
    cells = {Path(r[0].value).name: r for r in ws.iter_rows(min_row=2)}
    assert cells["0101.jpg"][1].fill.fgColor.rgb.endswith("C6EFCE")
    assert cells["0103.jpg"][1].fill.fgColor.rgb.endswith("FFC7CE")
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert summary["照片总数"] == 5 and summary["通过"] == 1 and summary["不通过"] == 2
    assert any("face.eye_line" in str(k) for k in summary)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.imgs, self.scripts, self.external = [], 0, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-status" in a:
            self.rows.append(a["data-status"])
        if tag == "img":
            self.imgs += 1
            if not a.get("src", "").startswith("data:"):
                self.external.append(a.get("src"))
        if tag == "script":
            self.scripts += 1
            if a.get("src"):
                self.external.append(a["src"])
        if tag == "link" and a.get("href"):
            self.external.append(a["href"])


def test_html_is_self_contained_with_rows_and_thumbnails(folder_reports):
    res, target = folder_reports["html"]
    text = target.read_text(encoding="utf-8")
    p = _Collect()
    p.feed(text)
    assert sorted(p.rows) == ["error", "error", "fail", "fail", "pass"]
    assert p.imgs == 3  # the three decodable photos have annotated thumbnails
    assert p.external == [] and p.scripts == 1  # filter script inline, no CDN
    assert "各规则不合格数" in text and "face.eye_line" in text


def test_resume_skips_photos_already_done(photo_dir, tmp_path):
    out = tmp_path / "r.jsonl"
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(photo_dir / "0101.jpg", d / "a.jpg")
    shutil.copy(photo_dir / "0102.jpg", d / "b.jpg")
    assert run_cli("batch", str(d), "-o", str(out), "-w", "1", "-q").exit_code == 1
    first = out.read_text(encoding="utf-8").splitlines()
    shutil.copy(photo_dir / "sub" / "0103.jpg", d / "c.jpg")
    spec = zkphoto.load_spec("moe-2021")
    seen = []
    stats = run_batch(list(iter_items([d])), spec, out, workers=1, resume=True,
                      on_result=lambda entry, st: seen.append(Path(entry.file).name))
    assert seen == ["c.jpg"]  # only the new photo was checked
    assert stats.skipped == 2 and stats.total == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == first and len(lines) == 3


def test_interrupted_run_keeps_what_is_done(photo_dir, tmp_path):
    spec = zkphoto.load_spec("moe-2021")
    journal = tmp_path / "j.jsonl"

    def stop_after_two(rec, stats):
        if stats.total == 2:
            raise KeyboardInterrupt

    stats = run_batch(list(iter_items([photo_dir])), spec, journal, workers=1, on_result=stop_after_two)
    assert stats.interrupted and stats.total == 2
    assert len(list(read_journal(journal))) == 2
    # a torn last line (killed mid-write) is ignored when reading the journal back
    with open(journal, "a", encoding="utf-8") as f:
        f.write('{"file": "x", "status"')
    assert len(list(read_journal(journal))) == 2


def test_check_many_yields_every_report(photo_dir):
    paths = sorted(str(p) for p in photo_dir.rglob("*.jpg"))
    one = {r.file: r.status.value for r in zkphoto.check_many(paths, "moe-2021", workers=1)}
    two = {r.file: r.status.value for r in zkphoto.check_many(paths, "moe-2021", workers=2)}
    assert one == two and len(one) == 5
    assert one[str(photo_dir / "0101.jpg")] == "pass"
    data = (FIXTURES / "sample.jpg").read_bytes()
    (r,) = list(zkphoto.check_many([data], "moe-2021"))
    assert r.status.value == "pass" and r.file.startswith("<bytes")


def test_item_from_zip_member_too_large_is_reported_not_read(tmp_path, monkeypatch):
    import zkphoto.batch as b

    z = tmp_path / "a.zip"
    buf = io.BytesIO()
    Image.new("RGB", (480, 640), (200, 200, 200)).save(buf, "JPEG")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("big.jpg", buf.getvalue())
    monkeypatch.setattr(b, "MAX_FILE_BYTES", 10)
    rec = json.loads(b.journal_entry(Item(name="a.zip!big.jpg", zip_path=str(z), member="big.jpg"),
                                     zkphoto.load_spec("moe-2021")).line)
    assert rec["status"] == "error"
    assert "too large" in rec["checks"][0]["message"]["en"]


def test_journal_entry_carries_the_contract_json_and_its_summary(photo_dir):
    """What a worker sends: the report's contract JSON (as `check --format json` prints it, plus
    the manifest columns) and the status and problem ids the batch counts, read off the same
    report — for a passing, a failing, a truncated and a non-image file."""
    from zkphoto.batch import journal_entry
    from zkphoto.render.json import render_json
    from zkphoto.render.rows import problems

    spec = zkphoto.load_spec("moe-2021")
    statuses = set()
    for name in ("0101.jpg", "sub/0103.jpg", "0104.jpg", "0105.jpg"):
        path = str(photo_dir / name)
        entry = journal_entry(Item(name=path, path=path, extra={"准考证号": "0123"}), spec)
        rec = json.loads(entry.line)
        assert "\n" not in entry.line
        assert rec.pop("extra") == {"准考证号": "0123"}
        assert rec == json.loads(render_json([zkphoto.check(path, spec)]))
        assert entry.file == path and entry.status == rec["status"]
        assert list(entry.problems) == [cid for cid, _, _ in problems(rec, "en")]
        statuses.add(entry.status)
    assert statuses == {"pass", "fail", "error"}


def test_two_workers_append_whole_lines_to_the_journal(photo_dir, tmp_path):
    """Pool workers append their records themselves: 24 photos with annotated thumbnails (lines
    of tens of KB, far beyond a pipe's atomic size) give 24 whole JSON lines, the same reports
    as one worker writes, and the parent receives only the summaries."""
    d = tmp_path / "in"
    d.mkdir()
    names = ["0101.jpg", "0102.jpg", "sub/0103.jpg", "0104.jpg", "0105.jpg"]
    for i in range(24):
        shutil.copy(photo_dir / names[i % len(names)], d / f"{i:03d}.jpg")
    spec = zkphoto.load_spec("moe-2021")
    got = []
    j2 = tmp_path / "two.jsonl"
    stats = run_batch(list(iter_items([d])), spec, j2, workers=2, thumbnails=24,
                      on_result=lambda e, st: got.append((e.file, e.status, e.line)))
    raw = j2.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 24 and stats.total == 24
    recs = [json.loads(x) for x in raw]  # every line whole
    assert max(len(x) for x in raw) > 16384
    readable = sum(1 for i in range(24) if names[i % len(names)] not in ("0104.jpg", "0105.jpg"))
    assert sum(1 for r in recs if r.get("thumbnail")) == readable
    assert all(line == "" for _, _, line in got)  # summaries only
    j1 = tmp_path / "one.jsonl"
    run_batch(list(iter_items([d])), spec, j1, workers=1)
    one = {r["file"]: r["status"] for r in read_journal(j1)}
    assert {r["file"]: r["status"] for r in recs} == one == {f: s for f, s, _ in got}
    # and --resume reads a journal the workers wrote
    again = run_batch(list(iter_items([d])), spec, j2, workers=2, resume=True)
    assert again.skipped == 24 and again.total == 24
    assert len(j2.read_text(encoding="utf-8").splitlines()) == 24


def test_interrupted_run_with_workers_counts_what_the_journal_holds(photo_dir, tmp_path):
    """Workers append their own lines, so when Ctrl-C stops a pool the journal may hold photos
    whose summaries never reached the parent: the counts are those of the journal."""
    d = tmp_path / "in"
    d.mkdir()
    for i in range(12):
        shutil.copy(photo_dir / "0101.jpg", d / f"{i:03d}.jpg")
    journal = tmp_path / "j.jsonl"

    def stop_after_two(entry, stats):
        if stats.total == 2:
            raise KeyboardInterrupt

    stats = run_batch(list(iter_items([d])), zkphoto.load_spec("moe-2021"), journal, workers=2,
                      on_result=stop_after_two)
    recs = list(read_journal(journal))
    assert stats.interrupted and 2 <= stats.total == len(recs) < 12
    assert stats.by_status == {"pass": len(recs)}
