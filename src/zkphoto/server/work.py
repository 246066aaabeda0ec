"""The work the server hands to its pool: plain functions on bytes, importable by workers."""

from __future__ import annotations

import base64
import io
from typing import Any

_READY = False


def warm() -> None:
    """Pool initializer: load the spec files and the face models once per worker."""
    global _READY
    from ..measure.face import warm_up
    from ..threads import single_threaded

    single_threaded()  # every core runs a worker: no helper threads competing with them
    warm_up()
    _READY = True


def check_bytes(data: bytes, name: str, spec: str, annotate: bool, lang: str) -> dict[str, Any]:
    """Check uploaded bytes; the report as JSON-able dict, plus ``annotation`` (JPEG data URL)."""
    from ..context import PhotoContext
    from ..pipeline import run_checks
    from ..spec import load_spec

    ctx = PhotoContext.from_source(data, name=name)
    report = run_checks(ctx, load_spec(spec))
    out = report.model_dump(mode="json")
    if annotate:
        out["annotation"] = _annotation(ctx, report, lang)
    return out


def _annotation(ctx, report, lang: str) -> str | None:
    from ..annotate import annotate
    from ..checks.registry import NotAssessable

    try:
        img = annotate(ctx, report, lang=lang)
    except NotAssessable:
        return None
    b = io.BytesIO()
    img.save(b, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(b.getvalue()).decode("ascii")


def fix_bytes(data: bytes, name: str, spec: str, background: str, lang: str) -> dict[str, Any]:
    """Fix uploaded bytes; JSON-able result with the JPEG base64-encoded."""
    from ..fix import fix

    out_name = _fixed_name(name)
    res = fix(data, spec=spec, background=background, name=name, output_name=out_name)
    return {
        "ok": res.ok,
        "image_base64": base64.b64encode(res.output).decode("ascii") if res.output else None,
        "media_type": "image/jpeg",
        "filename": out_name,
        "actions": [m.model_dump() for m in res.actions],
        "notes": [m.model_dump() for m in res.notes],
        "refused": res.refused.model_dump() if res.refused else None,
        "not_fixable": [c.id for c in res.not_fixable],
        "unresolved": [c.id for c in res.unresolved],
        "report_before": res.report_before.model_dump(mode="json"),
        "report_after": res.report_after.model_dump(mode="json") if res.report_after else None,
    }


def _fixed_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0] or "photo"
    return f"{stem}-fixed.jpg"
