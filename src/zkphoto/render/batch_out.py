"""Batch outputs rendered from a journal: .csv (UTF-8 with BOM), .xlsx, .html, .jsonl."""

from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

from ..names import check_name, status_name
from .rows import extra_columns, header, row

FORMATS = (".csv", ".xlsx", ".html", ".htm", ".jsonl")


def render_output(journal: Path, out: Path, read: Callable[[Path], Iterator[dict[str, Any]]],
                  summary: dict[str, Any], lang: str = "zh") -> None:
    """Write ``out`` (format by extension) from the records in ``journal``."""
    ext = out.suffix.lower()
    if ext == ".jsonl":
        if journal.resolve() != out.resolve():
            with open(out, "w", encoding="utf-8") as f:
                for rec in read(journal):
                    rec.pop("thumbnail", None)
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return
    cols = extra_columns(read(journal))
    if ext == ".csv":
        _csv(journal, out, read, cols, lang)
    elif ext == ".xlsx":
        _xlsx(journal, out, read, cols, summary, lang)
    elif ext in (".html", ".htm"):
        _html(journal, out, read, cols, summary, lang)
    else:  # pragma: no cover - the CLI validates the extension
        raise ValueError(f"unknown output format {ext}")


def _csv(journal, out, read, cols, lang) -> None:
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel reads Chinese right
        w = csv.writer(f)
        w.writerow(header(cols, lang))
        for rec in read(journal):
            w.writerow(["" if v is None else v for v in row(rec, cols, lang)])
    shutil.move(tmp, out)


FILLS = {"pass": "C6EFCE", "warn": "FFEB9C", "fail": "FFC7CE", "error": "E4C1F9"}


def _xlsx(journal, out, read, cols, summary, lang) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    zh = lang != "en"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("结果" if zh else "Results")
    bold = Font(bold=True)
    hdr = header(cols, lang)
    ws.append([_cell(ws, v, font=bold) for v in hdr])
    status_col = 1 + len(cols)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in FILLS.items()}
    for rec in read(journal):
        vals = row(rec, cols, lang)
        st = rec["status"]
        cells = [WriteOnlyCell(ws, value=v) for v in vals]
        cells[status_col].fill = fills.get(st, fills["error"])
        ws.append(cells)
    s = wb.create_sheet("汇总" if zh else "Summary")
    s.append([_cell(s, "项目" if zh else "item", font=bold), _cell(s, "数量" if zh else "count", font=bold)])
    s.append(["规范" if zh else "spec", summary.get("spec", "")])
    s.append(["照片总数" if zh else "photos", summary.get("total", 0)])
    for st in ("pass", "warn", "fail", "error"):
        c = WriteOnlyCell(s, value=status_name(st, lang))
        c.fill = fills[st]
        s.append([c, summary.get("by_status", {}).get(st, 0)])
    s.append([])
    s.append([_cell(s, "规则" if zh else "rule", font=bold), _cell(s, "不合格照片数" if zh else "photos failing", font=bold)])
    for rid, n in sorted(summary.get("rule_failures", {}).items(), key=lambda kv: -kv[1]):
        s.append([f"{check_name(rid, lang)} ({rid})", n])
    tmp = out.with_name(out.name + ".tmp")
    wb.save(tmp)
    shutil.move(tmp, out)


def _cell(ws, value, font=None):
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value=value)
    if font is not None:
        c.font = font
    return c


def _html(journal, out, read, cols, summary, lang) -> None:
    zh = lang != "en"
    t = (lambda a, b: a if zh else b)
    e = html.escape
    counts = summary.get("by_status", {})
    rules = sorted(summary.get("rule_failures", {}).items(), key=lambda kv: -kv[1])
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"""<!doctype html><html lang="{'zh-CN' if zh else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zkphoto {e(t('批量检查报告', 'batch report'))}</title>
<style>
body{{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:1.5rem;color:#222}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #ddd;padding:4px 6px;font-size:13px;vertical-align:top}}
th{{background:#f3f3f3;position:sticky;top:0}}
.pass{{background:#e8f7ec}}.warn{{background:#fff6da}}.fail{{background:#fde4e6}}.error{{background:#f1e4fb}}
.badge{{display:inline-block;padding:2px 8px;border-radius:10px;margin-right:6px}}
img.t{{max-width:160px}} #q{{padding:4px;width:20rem}} .cards span{{margin-right:1rem}}
</style></head><body>
<h1>zkphoto {e(t('批量检查报告', 'batch report'))}</h1>
<p>{e(t('规范', 'Spec'))}: <b>{e(str(summary.get('spec', '')))}</b> · {e(t('照片', 'photos'))}: <b>{summary.get('total', 0)}</b></p>
<p class="cards">""")
        for st in ("pass", "warn", "fail", "error"):
            f.write(f'<span class="badge {st}">{e(status_name(st, lang))}: <b id="n-{st}">{counts.get(st, 0)}</b></span>')
        f.write(f"</p><h2>{e(t('各规则不合格数', 'Failures per rule'))}</h2><table id=rules><tr><th>{e(t('规则', 'rule'))}</th><th>id</th><th>{e(t('照片数', 'photos'))}</th></tr>")
        for rid, n in rules:
            f.write(f"<tr><td>{e(check_name(rid, lang))}</td><td>{e(rid)}</td><td>{n}</td></tr>")
        f.write(f"""</table><h2>{e(t('明细', 'Photos'))}</h2>
<p><label>{e(t('筛选', 'Filter'))}: <input id=q placeholder="{e(t('文件名、规则或说明', 'file, rule or text'))}"></label>
<select id=st><option value="">{e(t('全部', 'all'))}</option>""")
        for st in ("pass", "warn", "fail", "error"):
            f.write(f'<option value="{st}">{e(status_name(st, lang))}</option>')
        f.write("</select></p><table id=photos><thead><tr>")
        for h in [t("缩略图", "thumbnail"), *header(cols, lang)]:
            f.write(f"<th>{e(str(h))}</th>")
        f.write("</tr></thead><tbody>")
        for rec in read(journal):
            st = rec["status"]
            thumb = rec.get("thumbnail")
            img = f'<img class=t alt="" src="data:image/jpeg;base64,{thumb}">' if thumb else ""
            cells = "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in row(rec, cols, lang))
            f.write(f'<tr class="{st}" data-status="{st}"><td>{img}</td>{cells}</tr>\n')
        f.write("""</tbody></table>
<script>
const q=document.getElementById('q'),s=document.getElementById('st');
function f(){const v=q.value.toLowerCase(),w=s.value;
for(const r of document.querySelectorAll('#photos tbody tr')){
const ok=(!w||r.dataset.status===w)&&(!v||r.textContent.toLowerCase().includes(v));r.style.display=ok?'':'none';}}
q.addEventListener('input',f);s.addEventListener('change',f);
</script></body></html>""")
    shutil.move(tmp, out)

