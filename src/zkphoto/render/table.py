"""Terminal table renderer (coloured when the terminal supports it, Chinese or English)."""

from __future__ import annotations

import unicodedata

import click

from ..names import check_name, status_name
from ..report import Report, Status

COLOURS = {
    Status.PASS: "green",
    Status.FAIL: "red",
    Status.WARN: "yellow",
    Status.SKIP: "bright_black",
    Status.ERROR: "magenta",
}
ICONS = {Status.PASS: "✓", Status.FAIL: "✗", Status.WARN: "!", Status.SKIP: "-", Status.ERROR: "?"}


def display_width(s: str) -> int:
    """Terminal cell width of ``s`` (CJK characters take two cells)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def pad(s: str, width: int) -> str:
    """``s`` padded with spaces to ``width`` terminal cells."""
    return s + " " * max(0, width - display_width(s))


def render_table(report: Report, lang: str = "zh", show_skipped: bool = True) -> str:
    """A human-readable table of one report; colours are ANSI codes (click strips them when
    the output is not a terminal)."""
    t = (lambda zh, en: en if lang == "en" else zh)
    head_status = status_name(report.status.value, lang)
    lines = [
        click.style(f"{t('照片', 'Photo')}: {report.file}", bold=True),
        f"{t('规范', 'Spec')}: {report.spec.id} v{report.spec.version} — {report.spec.title}",
        click.style(
            f"{t('结论', 'Result')}: {ICONS[report.status]} {head_status}",
            fg=COLOURS[report.status],
            bold=True,
        ),
        "",
    ]
    rows = []
    for c in report.checks:
        if c.status is Status.SKIP and not show_skipped:
            continue
        sev = "" if c.severity.value == "error" else t("（建议）", " (advice)")
        rows.append((c.status, f"{ICONS[c.status]} {status_name(c.status.value, lang)}",
                     f"{check_name(c.id, lang)}{sev}", c.id, c.message.get(lang)))
    w0 = max((display_width(r[1]) for r in rows), default=4)
    w1 = max((display_width(r[2]) for r in rows), default=4)
    w2 = max((len(r[3]) for r in rows), default=4)
    hdr = f"{pad(t('状态', 'Status'), w0)}  {pad(t('检查项', 'Check'), w1)}  {pad('id', w2)}  {t('说明', 'Details')}"
    lines.append(click.style(hdr, bold=True))
    for st, s, name, cid, msg in rows:
        lines.append(f"{click.style(pad(s, w0), fg=COLOURS[st])}  {pad(name, w1)}  {pad(cid, w2)}  {msg}")
    counts: dict[str, int] = {}
    for c in report.checks:
        counts[c.status.value] = counts.get(c.status.value, 0) + 1
    summary = ", ".join(f"{status_name(k, lang)} {v}" for k, v in counts.items())
    lines += ["", summary]
    return "\n".join(lines)
