"""Flat per-photo rows shared by the CSV, Excel and HTML batch renderers."""

from __future__ import annotations

from typing import Any, Iterable

from ..names import check_name, status_name

#: Measurement columns (key in report.measurements or a check's measured values).
MEASURE_COLUMNS: list[tuple[str, str, str]] = [
    ("width", "宽(px)", "width (px)"),
    ("height", "高(px)", "height (px)"),
    ("file_kib", "大小(KiB)", "size (KiB)"),
    ("dpi", "DPI", "DPI"),
    ("jpeg_quality", "JPEG质量", "JPEG quality"),
    ("hair_top_y", "头顶(px)", "hair top (px)"),
    ("eye_line_y", "眼睛(px)", "eye line (px)"),
    ("face_width", "脸宽(px)", "face width (px)"),
]


def measures(report: dict[str, Any]) -> dict[str, Any]:
    """The handful of figures an office wants per photo."""
    m = report.get("measurements", {})
    out: dict[str, Any] = {
        "width": m.get("width"),
        "height": m.get("height"),
        "file_kib": round(m["file_bytes"] / 1024, 1) if m.get("file_bytes") is not None else None,
        "dpi": (m["dpi"][0] if m.get("dpi") else None),
        "jpeg_quality": m.get("jpeg_quality"),
    }
    for c in report.get("checks", []):
        md = c.get("measured", {})
        for k in ("hair_top_y", "eye_line_y", "face_width"):
            if k in md and out.get(k) is None:
                out[k] = md[k]
    return out


def problems(report: dict[str, Any], lang: str) -> list[tuple[str, str, str]]:
    """(check id, status, message) for every failed, warned or unassessable rule."""
    key = "en" if lang == "en" else "zh"
    checks = report.get("checks", [])
    keep = _problem_flags(report.get("status"), [(c["id"], c["status"], c["severity"]) for c in checks])
    return [(c["id"], c["status"], c["message"][key]) for c, k in zip(checks, keep) if k]


def problem_ids(report: Any) -> list[str]:
    """The check ids :func:`problems` lists, read from a :class:`~zkphoto.report.Report` object
    (no JSON dump needed)."""
    rules = [(c.id, c.status.value, c.severity.value) for c in report.checks]
    return [r[0] for r, k in zip(rules, _problem_flags(report.status.value, rules)) if k]


def _problem_flags(report_status: str | None, rules: list[tuple[str, str, str]]) -> list[bool]:
    """Which of the (id, status, severity) rules count as the photo's problems: for an
    unreadable photo the reason only, not every rule it blocked; otherwise every failed or
    warned rule and every error-severity rule that could not be assessed."""
    if report_status == "error":
        return [cid == "file.readable" or (cid == "file.format" and st == "fail") for cid, st, _ in rules]
    return [st in ("fail", "warn") or (st == "error" and sev == "error") for _, st, sev in rules]


def header(extra_cols: list[str], lang: str) -> list[str]:
    """Column titles of the flat table."""
    zh = lang != "en"
    cols = ["文件" if zh else "file", *extra_cols, "结论" if zh else "status",
            "不合格项" if zh else "failed rules", "说明" if zh else "details"]
    cols += [c[1] if zh else c[2] for c in MEASURE_COLUMNS]
    return cols


def row(rec: dict[str, Any], extra_cols: list[str], lang: str) -> list[Any]:
    """One photo as a flat row matching :func:`header`."""
    r = rec
    probs = problems(r, lang)
    ms = measures(r)
    return [
        r["file"],
        *[rec.get("extra", {}).get(c, "") for c in extra_cols],
        status_name(r["status"], lang),
        "; ".join(f"{check_name(i, lang)}({i})" for i, _, _ in probs),
        " | ".join(m for _, _, m in probs),
        *[ms.get(k) for k, _, _ in MEASURE_COLUMNS],
    ]


def extra_columns(records: Iterable[dict[str, Any]]) -> list[str]:
    """Manifest columns seen in any record, in first-seen order."""
    seen: dict[str, None] = {}
    for rec in records:
        for k in rec.get("extra", {}):
            seen.setdefault(k, None)
    return list(seen)
