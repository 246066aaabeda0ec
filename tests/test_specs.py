"""Spec files: the shipped specs resolve as the notices say; bad specs fail loudly and precisely."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

import zkphoto
from zkphoto.checks import CHECKS
from zkphoto.cli import main
from zkphoto.spec import SpecError, load_spec

from conftest import FILE_LEVEL_CHECKS, SHIPPED_SPECS, SPEC_DIR, write

HEADER = """\
id = "{id}"
version = 1
title = "test spec {id}"
source = "unit test"
"""


def spec_file(tmp_path, name: str, body: str = "", id: str | None = None):
    """Write ``name`` (a .toml) with a valid header and ``body`` appended."""
    text = HEADER.format(id=id or name.removesuffix(".toml")) + textwrap.dedent(body)
    return write(tmp_path, name, text.encode("utf-8"))


# --------------------------------------------------------------------------- shipped specs


@pytest.mark.parametrize("spec_id", SHIPPED_SPECS)
def test_shipped_spec_loads_and_resolves(spec_id):
    sp = load_spec(spec_id)
    assert sp.id == spec_id
    assert sp.chain[0] == spec_id
    assert sp.version >= 1
    assert sp.title.strip() and sp.source.strip()
    assert sp.rules, "a spec without rules checks nothing"
    for rid, rule in sp.rules.items():
        assert rid in CHECKS, rid
        assert isinstance(rule, CHECKS[rid].rule_model), rid
        assert rule.source.strip(), f"{spec_id}: rule {rid} has no source"
    # the dump used by `zkphoto specs show --format json` is consistent with the rules
    dumped = sp.dump()
    assert dumped["id"] == spec_id
    assert set(dumped["rules"]) == set(sp.rules)


def test_list_specs_contains_every_shipped_spec():
    ids = [s.id for s in zkphoto.list_specs()]
    assert set(SHIPPED_SPECS) <= set(ids)
    assert ids == sorted(ids)


def test_spec_file_id_matches_file_name():
    for p in SPEC_DIR.glob("*.toml"):
        assert load_spec(p).id == p.stem


def test_moe_file_level_rules_match_the_notice():
    sp = load_spec("moe-2021")
    assert sp.chain == ["moe-2021"]
    size = sp.rule("file.size")
    assert (size.min, size.max, size.unit) == (20, 40, "KiB")
    assert not size.min_exclusive and not size.max_exclusive
    dims = sp.rule("image.dimensions")
    assert (dims.width, dims.height) == (480, 640)
    dpi = sp.rule("image.dpi")
    assert (dpi.min, dpi.max) == (300, 300)
    assert sp.rule("jpeg.quality").min == 60
    assert sp.rule("file.format").formats == ["JPEG"]
    assert [e.lower() for e in sp.rule("file.extension").extensions] == [".jpg"]
    assert sp.rule("file.trailing_data").max_bytes == 0
    assert sp.rule("image.orientation").allowed == [1]
    for cid in FILE_LEVEL_CHECKS:
        if cid == "image.aspect_ratio":  # moe fixes the pixel size instead
            continue
        assert cid in sp.rules, cid


@pytest.mark.parametrize("spec_id", ["anhui-2023", "guangdong-2022"])
def test_republished_specs_equal_the_national_rules(spec_id):
    sp, moe = load_spec(spec_id), load_spec("moe-2021")
    assert sp.chain == [spec_id, "moe-2021"]
    assert sp.dump()["rules"] == moe.dump()["rules"]


def test_chongqing_overrides_only_file_size_min_50_no_max():
    cq, moe = load_spec("chongqing-2022"), load_spec("moe-2021")
    assert cq.chain == ["chongqing-2022", "moe-2021"]
    size = cq.rule("file.size")
    assert size.min == 50
    assert size.max is None
    assert size.unit == "KiB"
    assert "max" not in cq.dump()["rules"]["file.size"]
    assert size.expected() == {"min": 50, "unit": "KiB"}
    assert size.contains(10**9) and not size.contains(49.99)
    # every other rule is inherited unchanged
    assert set(cq.rules) == set(moe.rules)
    for rid in moe.rules:
        if rid != "file.size":
            assert cq.rules[rid] == moe.rules[rid], rid


def test_jiangsu_hard_requirements_use_exclusive_bounds():
    js = load_spec("jiangsu-zjb-2020")
    assert js.chain == ["jiangsu-zjb-2020"]
    size = js.rule("file.size")
    assert (size.min, size.max, size.unit) == (30, 100, "KiB")
    assert size.min_exclusive and size.max_exclusive
    assert not size.contains(30) and size.contains(30.001)
    assert not size.contains(100) and size.contains(99.999)
    dpi = js.rule("image.dpi")
    assert dpi.min == 150 and dpi.min_exclusive and dpi.max is None
    assert not dpi.contains(150) and dpi.contains(150.01)
    ar = js.rule("image.aspect_ratio")
    assert (ar.height, ar.width) == (4, 3)
    # Jiangsu has no pixel-size rule: any 4:3 size is fine
    assert js.rule("image.dimensions") is None


# --------------------------------------------------------------------------- bad specs


def _spec_error(path) -> str:
    with pytest.raises(SpecError) as ei:
        load_spec(path)
    return str(ei.value)


def test_unknown_top_level_key(tmp_path):
    p = spec_file(tmp_path, "typo.toml", 'colour = "blue"\n')
    msg = _spec_error(p)
    assert str(p) in msg
    assert "colour" in msg
    assert "unknown key" in msg


def test_unknown_key_inside_a_rule(tmp_path):
    p = spec_file(
        tmp_path,
        "rulekey.toml",
        """
        [rules."file.size"]
        min = 20
        maxx = 40
        source = "x"
        """,
    )
    msg = _spec_error(p)
    assert str(p) in msg
    assert "file.size" in msg and "maxx" in msg


def test_duplicate_rule_id(tmp_path):
    p = spec_file(
        tmp_path,
        "dup.toml",
        """
        [rules."file.size"]
        min = 20
        source = "x"

        [rules."file.size"]
        max = 40
        source = "y"
        """,
    )
    msg = _spec_error(p)
    assert str(p) in msg
    assert "file.size" in msg
    assert "duplicate" in msg.lower()


def test_unknown_check_id(tmp_path):
    p = spec_file(
        tmp_path,
        "unknowncheck.toml",
        """
        [rules."file.sizes"]
        min = 20
        source = "x"
        """,
    )
    msg = _spec_error(p)
    assert str(p) in msg
    assert "file.sizes" in msg
    assert "unknown check" in msg


def test_min_greater_than_max(tmp_path):
    p = spec_file(
        tmp_path,
        "minmax.toml",
        """
        [rules."file.size"]
        min = 50
        max = 20
        source = "x"
        """,
    )
    msg = _spec_error(p)
    assert str(p) in msg
    assert "file.size" in msg
    assert "min" in msg and "max" in msg


def test_range_rule_without_any_bound(tmp_path):
    p = spec_file(tmp_path, "nobound.toml", '[rules."jpeg.quality"]\nsource = "x"\n')
    msg = _spec_error(p)
    assert str(p) in msg and "jpeg.quality" in msg


def test_cycle_in_extends(tmp_path):
    a = spec_file(tmp_path, "a.toml", 'extends = "b"\n')
    spec_file(tmp_path, "b.toml", 'extends = "a"\n')
    msg = _spec_error(a)
    assert "extends" in msg
    assert "cycle" in msg
    assert "a.toml" in msg and "b.toml" in msg


def test_self_extends_is_rejected(tmp_path):
    p = spec_file(tmp_path, "selfish.toml", 'extends = "selfish"\n')
    msg = _spec_error(p)  # a cycle, or "unknown spec" when the file itself is skipped
    assert str(p) in msg and "extends" in msg and "selfish" in msg


def test_extends_a_missing_spec(tmp_path):
    p = spec_file(tmp_path, "orphan.toml", 'extends = "no-such-spec-1999"\n')
    msg = _spec_error(p)
    assert str(p) in msg
    assert "extends" in msg
    assert "no-such-spec-1999" in msg


def test_error_in_parent_names_the_parent_file(tmp_path):
    parent = spec_file(tmp_path, "parent.toml", 'bogus = 1\n')
    child = spec_file(tmp_path, "child.toml", 'extends = "parent"\n')
    msg = _spec_error(child)
    assert str(parent) in msg and "bogus" in msg


def test_invalid_toml(tmp_path):
    p = write(tmp_path, "broken.toml", b'id = "x"\ntitle = \n')
    msg = _spec_error(p)
    assert str(p) in msg


def test_missing_spec_file_and_unknown_id(tmp_path):
    assert "no such spec file" in _spec_error(tmp_path / "absent.toml")
    msg = _spec_error("no-such-spec-1999")
    assert "no-such-spec-1999" in msg and "moe-2021" in msg  # lists the known ones


# --------------------------------------------------------------------------- user specs


def test_user_spec_extends_a_shipped_one(tmp_path):
    p = spec_file(
        tmp_path,
        "mine.toml",
        """
        extends = "moe-2021"

        [rules."file.size"]
        min = 10
        max = 60
        source = "local office"

        [rules."image.orientation"]
        source = "local office"
        enabled = false
        """,
    )
    sp = load_spec(p)
    assert sp.id == "mine"
    assert sp.chain == ["mine", "moe-2021"]
    assert (sp.rule("file.size").min, sp.rule("file.size").max) == (10, 60)
    assert sp.rule("image.orientation").enabled is False
    assert sp.rule("image.dimensions") == load_spec("moe-2021").rule("image.dimensions")
    # load_spec accepts a str path too
    assert load_spec(str(p)).rules == sp.rules


def test_user_spec_path_used_by_library_and_cli(tmp_path, good_photo):
    """A standalone user spec: its window decides the verdict (30 KiB photo)."""
    strict = spec_file(
        tmp_path,
        "strict.toml",
        """
        [rules."file.size"]
        min = 35
        max = 60
        source = "local office"
        """,
    )
    lax = spec_file(
        tmp_path,
        "lax.toml",
        """
        [rules."file.size"]
        min = 25
        max = 60
        source = "local office"
        """,
    )
    r = zkphoto.check(good_photo, spec=str(strict))
    assert r.spec.id == "strict"
    assert [c.id for c in r.checks] == ["file.size"]
    assert r.status.value == "fail"
    assert zkphoto.check(good_photo, spec=lax).status.value == "pass"
    assert zkphoto.check(good_photo, spec=load_spec(lax)).status.value == "pass"

    runner = CliRunner()
    res = runner.invoke(main, ["check", str(good_photo), "--spec", str(strict), "--format", "json"])
    assert res.exit_code == 1, res.output
    assert '"id": "strict"' in res.stdout
    res = runner.invoke(main, ["check", str(good_photo), "--spec", str(lax)])
    assert res.exit_code == 0, res.output


def test_cli_rejects_a_bad_spec_file_with_usage_error(tmp_path, good_photo):
    bad = spec_file(tmp_path, "bad.toml", 'colour = "blue"\n')
    res = CliRunner().invoke(main, ["check", str(good_photo), "--spec", str(bad)])
    assert res.exit_code == 2
    assert isinstance(res.exception, SystemExit)
    assert "colour" in res.output and "bad.toml" in res.output
    assert "Traceback" not in res.output


def test_local_spec_named_like_its_parent_extends_the_shipped_one(tmp_path):
    """my/moe-2021.toml with ``extends = "moe-2021"`` means the shipped spec, not itself."""
    p = spec_file(tmp_path, "moe-2021.toml", 'extends = "moe-2021"\n', id="moe-2021-local")
    sp = load_spec(p)
    assert sp.chain == ["moe-2021-local", "moe-2021"]
