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

    res = fix(data, spec=spec, background=background)
    out_bytes = getattr(res, "output", None) or getattr(res, "data", None)
    before = res.report_before
    after = getattr(res, "report_after", None)
    actions = [a.model_dump() if hasattr(a, "model_dump") else a for a in (getattr(res, "actions", None) or [])]
    refused = getattr(res, "refused", None)
    if hasattr(refused, "model_dump"):
        refused = refused.model_dump()
    return {
        "ok": bool(getattr(res, "ok", False)),
        "image_base64": base64.b64encode(out_bytes).decode("ascii") if out_bytes else None,
        "media_type": "image/jpeg",
        "filename": _fixed_name(name),
        "actions": actions,
        "refused": refused,
        "report_before": before.model_dump(mode="json") if before is not None else None,
        "report_after": after.model_dump(mode="json") if after is not None else None,
    }


def _fixed_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0] or "photo"
    return f"{stem}-fixed.jpg"
