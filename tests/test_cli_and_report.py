"""The CLI's exit codes and outputs, and the JSON report contract (shared/report-contract.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
from click.testing import CliRunner

import zkphoto
from zkphoto.checks import CHECKS
from zkphoto.cli import main
from zkphoto.names import check_name

from conftest import KIB, SHIPPED_SPECS, encode_jpeg, good_photo_bytes, pad_after_eoi, write

CONTRACT_REPORT_KEYS = {"schema_version", "file", "spec", "status", "checks", "measurements"}
CONTRACT_CHECK_KEYS = {"id", "status", "severity", "measured", "expected", "message", "fixable"}
STATUSES = {"pass", "fail", "warn", "skip", "error"}


def invoke(*args: str):
    res = CliRunner().invoke(main, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exc_info
    assert "Traceback" not in res.output
    return res


def cli_schema(batch: bool = False) -> dict:
    res = invoke("schema", *(["--batch"] if batch else []))
    assert res.exit_code == 0
    return json.loads(res.stdout)


@pytest.fixture
def bad_photo(tmp_path):
    """Fails moe-2021 on file level: 72 dpi and 10 KiB of padding after EOI."""
    data = pad_after_eoi(encode_jpeg(dpi=(72, 72)), 10 * KIB)
    return write(tmp_path, "bad.jpg", data)


def _assert_contract_report(doc: dict, spec_id: str):
    assert CONTRACT_REPORT_KEYS <= set(doc)
    assert doc["schema_version"] == 1
    assert set(doc["spec"]) >= {"id", "version", "title"}
    assert doc["spec"]["id"] == spec_id
    assert isinstance(doc["spec"]["version"], int) and doc["spec"]["title"]
    assert doc["status"] in {"pass", "fail", "warn", "error"}
    assert isinstance(doc["measurements"], dict)
    assert doc["checks"]
    for c in doc["checks"]:
        assert CONTRACT_CHECK_KEYS <= set(c), c["id"]
        assert c["id"] in CHECKS
        assert c["status"] in STATUSES
        assert c["severity"] in {"error", "warning"}
        assert isinstance(c["measured"], dict) and isinstance(c["expected"], dict)
        assert set(c["message"]) >= {"zh", "en"} and c["message"]["zh"] and c["message"]["en"]
        assert isinstance(c["fixable"], bool)


# --------------------------------------------------------------------------- exit codes


def test_exit_0_for_a_photo_passing_moe(good_photo):
    res = invoke("check", str(good_photo))
    assert res.exit_code == 0, res.output
    assert "通过" in res.stdout


def test_exit_1_for_a_failing_photo(bad_photo):
    res = invoke("check", str(bad_photo))
    assert res.exit_code == 1
    assert "image.dpi" in res.stdout and "file.trailing_data" in res.stdout


def test_exit_1_when_any_photo_of_several_fails(good_photo, bad_photo):
    assert invoke("check", str(good_photo), str(bad_photo)).exit_code == 1
    assert invoke("check", str(good_photo), str(good_photo)).exit_code == 0


def test_exit_1_for_good_photo_under_chongqing(good_photo):
    res = invoke("check", str(good_photo), "--spec", "chongqing-2022", "--format", "json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert [c["id"] for c in doc["checks"] if c["status"] == "fail"] == ["file.size"]


@pytest.mark.parametrize(
    "args",
    [
        ["--spec", "no-such-spec-1999"],
        ["--spec", "/no/such/dir/spec.toml"],
        ["--format", "xml"],
        ["--lang", "fr"],
        ["--no-such-option"],
    ],
)
def test_exit_2_for_bad_usage(good_photo, args):
    res = invoke("check", str(good_photo), *args)
    assert res.exit_code == 2
    assert "Usage" in res.output or "Error" in res.output


def test_exit_2_without_photos():
    assert invoke("check").exit_code == 2


def test_unknown_spec_message_lists_known_specs(good_photo):
    res = invoke("check", str(good_photo), "--spec", "no-such-spec-1999")
    assert "no-such-spec-1999" in res.output and "moe-2021" in res.output


def test_warnings_do_not_fail_the_exit_code(tmp_path, good_photo):
    spec = write(
        tmp_path,
        "warn.toml",
        b'id = "warn"\ntitle = "t"\nsource = "s"\n[rules."jpeg.quality"]\nmin = 90\n'
        b'severity = "warning"\nsource = "s"\n',
    )
    res = invoke("check", str(good_photo), "--spec", str(spec), "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["status"] == "warn"
    assert doc["checks"][0]["status"] == "warn"


# --------------------------------------------------------------------------- JSON contract


def test_json_report_validates_against_the_printed_schema(good_photo, bad_photo):
    schema = cli_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for photo, spec in [(good_photo, "moe-2021"), (bad_photo, "moe-2021"),
                        (good_photo, "jiangsu-zjb-2020"), (bad_photo, "chongqing-2022")]:
        res = invoke("check", str(photo), "--spec", spec, "--format", "json")
        doc = json.loads(res.stdout)
        jsonschema.validate(doc, schema)
        _assert_contract_report(doc, spec)
        assert doc["file"] == str(photo)
        assert res.exit_code == (0 if doc["status"] in ("pass", "warn") else 1)


def test_json_report_content_for_a_failing_photo(bad_photo):
    doc = json.loads(invoke("check", str(bad_photo), "--format", "json").stdout)
    assert doc["status"] == "fail"
    by_id = {c["id"]: c for c in doc["checks"]}
    dpi = by_id["image.dpi"]
    assert dpi["status"] == "fail" and dpi["severity"] == "error" and dpi["fixable"] is True
    assert dpi["measured"]["dpi"] == [72, 72]
    assert dpi["expected"] == {"min": 300, "max": 300, "unit": "dpi"}
    assert "72" in dpi["message"]["zh"] and "72" in dpi["message"]["en"]
    trail = by_id["file.trailing_data"]
    assert trail["measured"]["trailing_bytes"] == 10 * KIB
    # measurements carry the cheap facts
    m = doc["measurements"]
    assert (m["width"], m["height"]) == (480, 640)
    assert m["file_bytes"] == bad_photo.stat().st_size
    assert m["format"] == "JPEG" and m["dpi"] == [72, 72]
    # unreadable photos follow the same contract
    missing = json.loads(invoke("check", str(bad_photo) + ".missing", "--format", "json").stdout)
    jsonschema.validate(missing, cli_schema())
    _assert_contract_report(missing, "moe-2021")
    assert missing["status"] == "error"


def test_json_for_several_photos_is_a_batch_document(good_photo, bad_photo):
    res = invoke("check", str(good_photo), str(bad_photo), "--format", "json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert set(doc) == {"schema_version", "reports"}
    assert doc["schema_version"] == 1
    assert [r["file"] for r in doc["reports"]] == [str(good_photo), str(bad_photo)]
    assert [r["status"] for r in doc["reports"]] == ["pass", "fail"]
    jsonschema.validate(doc, cli_schema(batch=True))
    single = cli_schema()
    for r in doc["reports"]:
        jsonschema.validate(r, single)
        _assert_contract_report(r, "moe-2021")


def test_library_report_equals_cli_json(good_photo):
    lib = json.loads(zkphoto.check(good_photo, "moe-2021").model_dump_json())
    cli = json.loads(invoke("check", str(good_photo), "--format", "json").stdout)
    assert lib == cli


def test_schema_rejects_malformed_reports():
    schema = cli_schema()
    doc = json.loads(zkphoto.check(good_photo_bytes(), "moe-2021").model_dump_json())
    jsonschema.validate(doc, schema)
    bad_status = json.loads(json.dumps(doc))
    bad_status["checks"][0]["status"] = "ok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad_status, schema)
    no_message = json.loads(json.dumps(doc))
    del no_message["checks"][0]["message"]["en"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(no_message, schema)


@pytest.mark.parametrize("path", [("schema_version",), ("measurements",), ("checks", 0, "fixable"),
                                  ("checks", 0, "measured"), ("checks", 0, "expected")])
def test_schema_requires_every_contract_key(path):
    doc = json.loads(zkphoto.check(good_photo_bytes(), "moe-2021").model_dump_json())
    target = doc
    for k in path[:-1]:
        target = target[k]
    del target[path[-1]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, cli_schema())


# --------------------------------------------------------------------------- table output


def test_table_in_english(bad_photo):
    res = invoke("check", str(bad_photo), "--lang", "en")
    out = res.stdout
    assert "Result" in out and "Status" in out and "Details" in out
    assert check_name("image.dpi", "en") in out  # "resolution (dpi)"
    assert "FAIL" in out
    assert "expected 300 dpi" in out
    assert "结论" not in out


def test_table_in_chinese_by_default(bad_photo):
    out = invoke("check", str(bad_photo)).stdout
    assert "结论" in out and "不通过" in out
    assert check_name("image.dpi", "zh") in out
    assert "Result" not in out


def test_hide_skipped(tmp_path, good_photo):
    spec = write(
        tmp_path,
        "skip.toml",
        b'id = "skip"\ntitle = "t"\nsource = "s"\n'
        b'[rules."jpeg.quality"]\nmin = 60\nsource = "s"\n'
        b'[rules."image.orientation"]\nenabled = false\nsource = "s"\n',
    )
    shown = invoke("check", str(good_photo), "--spec", str(spec), "--lang", "en").stdout
    hidden = invoke("check", str(good_photo), "--spec", str(spec), "--lang", "en",
                    "--hide-skipped").stdout
    assert "image.orientation" in shown
    assert "image.orientation" not in hidden
    assert "jpeg.quality" in hidden


def test_several_photos_in_table_mode(good_photo, bad_photo):
    out = invoke("check", str(good_photo), str(bad_photo), "--lang", "en").stdout
    assert out.count("Photo:") == 2
    assert str(good_photo) in out and str(bad_photo) in out


# --------------------------------------------------------------------------- other commands


def test_specs_lists_every_shipped_spec():
    res = invoke("specs")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    for sid in SHIPPED_SPECS:
        line = next(ln for ln in lines if ln.startswith(sid))
        assert zkphoto.load_spec(sid).title in line
    cq = next(ln for ln in lines if ln.startswith("chongqing-2022"))
    assert "extends moe-2021" in cq
    js = next(ln for ln in lines if ln.startswith("jiangsu-zjb-2020"))
    assert "extends" not in js


def test_specs_show_chongqing():
    res = invoke("specs", "show", "chongqing-2022")
    assert res.exit_code == 0
    out = res.stdout
    assert "chongqing-2022" in out and "extends: moe-2021" in out
    size_line = next(ln for ln in out.splitlines() if ln.strip().startswith("file.size"))
    assert '"min": 50' in size_line
    assert '"max"' not in size_line
    assert "50KB" in out  # the source quote
    for rid in zkphoto.load_spec("chongqing-2022").rules:
        assert rid in out


def test_specs_show_json():
    res = invoke("specs", "show", "chongqing-2022", "--format", "json")
    data = json.loads(res.stdout)
    assert data["id"] == "chongqing-2022"
    assert data["extends"] == ["moe-2021"]
    assert data["rules"]["file.size"]["min"] == 50
    assert "max" not in data["rules"]["file.size"]
    assert data["rules"]["image.dimensions"]["width"] == 480


def test_specs_show_by_path_and_unknown():
    from conftest import SPEC_DIR

    res = invoke("specs", "show", str(SPEC_DIR / "jiangsu-zjb-2020.toml"))
    assert res.exit_code == 0 and "jiangsu-zjb-2020" in res.stdout
    assert invoke("specs", "show", "no-such-spec-1999").exit_code == 2


def test_checks_lists_every_registered_check():
    res = invoke("checks")
    assert res.exit_code == 0
    ids = [ln.split()[0] for ln in res.stdout.splitlines() if ln.strip()]
    assert ids == sorted(CHECKS)
    for cid in ("file.size", "image.dpi", "jpeg.quality", "image.colorful"):
        line = next(ln for ln in res.stdout.splitlines() if ln.startswith(cid + " "))
        assert check_name(cid, "zh") in line


def test_version_and_help():
    res = invoke("--version")
    assert res.exit_code == 0 and zkphoto.__version__ in res.stdout
    res = invoke("check", "--help")
    assert res.exit_code == 0 and "--spec" in res.stdout


# --------------------------------------------------------------------------- import cost


def test_import_zkphoto_does_not_import_mediapipe(tmp_path):
    spec = write(
        tmp_path,
        "filelevel.toml",
        b'id = "filelevel"\ntitle = "t"\nsource = "s"\n[rules."jpeg.quality"]\nmin = 60\n'
        b'source = "s"\n[rules."image.colorful"]\nmin = 5\nsource = "s"\n',
    )
    photo = write(tmp_path, "good.jpg", good_photo_bytes())
    code = (
        "import sys, json\n"
        "import zkphoto, zkphoto.cli\n"
        "after_import = 'mediapipe' in sys.modules\n"
        "zkphoto.list_specs()\n"
        f"r = zkphoto.check({str(photo)!r}, {str(spec)!r})\n"
        "print(json.dumps([after_import, 'mediapipe' in sys.modules, r.status.value]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    after_import, after_file_checks, st = json.loads(proc.stdout.strip().splitlines()[-1])
    assert after_import is False
    assert after_file_checks is False  # file-level checks never need the face models
    assert st == "pass"
