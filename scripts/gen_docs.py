"""Regenerate the generated docs from the code: docs/checks.md and docs/report.schema.json.

    python scripts/gen_docs.py          # write
    python scripts/gen_docs.py --check  # exit 1 if they are out of date (used by the tests)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def checks_md() -> str:
    from zkphoto.checks import CHECKS
    from zkphoto.names import check_name
    from zkphoto.spec import list_specs

    specs = list_specs()
    lines = [
        "# Checks",
        "",
        "Generated from the check functions' docstrings and rule models by `scripts/gen_docs.py`;",
        "do not edit by hand. Ids are part of the public contract.",
        "",
        "| id | name | " + " | ".join(s.id for s in specs) + " |",
        "|---|---|" + "---|" * len(specs),
    ]
    for cid in sorted(CHECKS):
        cells = []
        for s in specs:
            r = s.rules.get(cid)
            cells.append("—" if r is None else ("E" if r.severity.value == "error" else "W"))
        lines.append(f"| `{cid}` | {check_name(cid, 'zh')} / {check_name(cid, 'en')} | " + " | ".join(cells) + " |")
    lines += ["", "E = error (fails the photo), W = warning, — = not in that spec.", ""]
    for cid in sorted(CHECKS):
        c = CHECKS[cid]
        lines += [f"## `{cid}` — {check_name(cid, 'en')}", "", c.doc or "(no description)", ""]
        fields = {k: f for k, f in c.rule_model.model_fields.items()
                  if k not in ("severity", "source", "enabled", "note")}
        if fields:
            lines.append("Rule parameters: " + ", ".join(
                f"`{k}`" + (f" ({f.description})" if f.description else "") for k, f in fields.items()) + ".")
            lines.append("")
    return "\n".join(lines)


def schema_json() -> str:
    from zkphoto.report import json_schema

    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    outputs = {DOCS / "checks.md": checks_md(), DOCS / "report.schema.json": schema_json()}
    if "--check" in sys.argv:
        stale = [str(p) for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            print("out of date: " + ", ".join(stale) + " (run python scripts/gen_docs.py)")
            return 1
        return 0
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
