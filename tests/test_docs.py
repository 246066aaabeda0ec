"""The generated docs (docs/checks.md, docs/report.schema.json) match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_check_has_a_docstring_naming_its_clause():
    from zkphoto.checks import CHECKS

    for cid, c in CHECKS.items():
        assert len(c.doc) > 40, cid
        assert any(k in c.doc for k in ("Enforces", "enforces")), cid
