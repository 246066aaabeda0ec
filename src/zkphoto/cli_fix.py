"""``zkphoto fix``: the command line of :func:`zkphoto.fix.fix`.

    zkphoto fix IN.jpg -o OUT.jpg [--spec moe-2021] [--background keep|blue|white|grey] [--lang zh|en]
    zkphoto fix DIR -o OUTDIR ...      # every image in DIR → OUTDIR/<same name>.jpg

Exit status: 0 every output passes the spec (warnings allowed), 1 some photo was refused or its
output still fails a rule, 2 bad usage (unknown spec, OUT would overwrite IN, no images in DIR…).
The input is only read; OUT never replaces IN.  Outputs are written atomically (temporary file,
then rename); a refused photo writes nothing.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from .names import check_name, status_name

IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "HEIC", "AVIF", "JPEG2000"}


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file (symlinks, hard links, ``..`` resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _images_in(directory: Path) -> list[Path]:
    """Regular files directly in ``directory`` whose content is an image (by magic bytes)."""
    from .context import sniff_format

    out = []
    for p in sorted(directory.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        try:
            with open(p, "rb") as f:
                head = f.read(32)
        except OSError:
            continue
        if sniff_format(head) in IMAGE_FORMATS:
            out.append(p)
    return out


def _plan(source: Path, out: Path) -> list[tuple[Path, Path]]:
    """(input, output) pairs; raises click.UsageError for anything that could overwrite an input."""
    if source.is_dir():
        if out.exists() and not out.is_dir():
            raise click.UsageError(f"{out} is a file; with a directory IN, -o must be a directory")
        inputs = _images_in(source)
        if not inputs:
            raise click.UsageError(f"no images in {source}")
        pairs = [(p, out / f"{p.stem}.jpg") for p in inputs]
        seen: dict[str, Path] = {}
        for p, o in pairs:
            key = o.name.lower()
            if key in seen:
                raise click.UsageError(
                    f"{seen[key].name} and {p.name} would both be written to {o.name}; rename one")
            seen[key] = p
    else:
        target = out / f"{source.stem}.jpg" if out.is_dir() else out
        pairs = [(source, target)]
    every_input = [p for p, _ in pairs]
    for _p, o in pairs:
        for i in every_input:
            if _same_file(o, i):
                raise click.UsageError(f"the output {o} would overwrite the input {i}; choose another -o")
    return pairs


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a photo is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def render_fix(result, src: Path, dst: Path | None, lang: str = "zh") -> str:
    """The human-readable account of one fix: actions, before → after per rule, what's left."""
    from .render.table import COLOURS, ICONS, display_width, pad
    from .report import Status

    t = (lambda zh, en: en if lang == "en" else zh)
    lines = [click.style(f"{t('照片', 'Photo')}: {src}" + (f" → {dst}" if dst else ""), bold=True),
             f"{t('规范', 'Spec')}: {result.report_before.spec.id} v{result.report_before.spec.version} — "
             f"{result.report_before.spec.title}"]
    if result.refused is not None:
        lines += ["", click.style(t("✗ 未写出文件", "✗ Refused — nothing written"), fg="red", bold=True),
                  f"  {result.refused.get(lang)}"]
        failing = [c for c in result.report_before.checks if c.status in (Status.FAIL, Status.ERROR, Status.WARN)]
        if failing:
            lines += ["", t("原照片的问题：", "Problems of the original:")]
            for c in failing:
                lines.append(f"  {ICONS[c.status]} {check_name(c.id, lang)} ({c.id}): {c.message.get(lang)}")
        return "\n".join(lines)

    lines += ["", click.style(t("已做处理：", "Actions:"), bold=True)]
    lines += [f"  • {a.get(lang)}" for a in result.actions]
    lines += ["", click.style(t("修正前 → 修正后：", "Before → after:"), bold=True)]
    rows = []
    for ch in result.changes:
        b = ch.before or Status.SKIP
        a = ch.after or Status.SKIP
        sev = "" if ch.severity.value == "error" else t("（建议）", " (advice)")
        msg = ch.message.get(lang) if (ch.message and a not in (Status.PASS, Status.SKIP)) else ""
        rows.append((b, a, f"{check_name(ch.id, lang)}{sev}", ch.id, msg))
    w0 = max(display_width(r[2]) for r in rows)
    w1 = max(len(r[3]) for r in rows)
    wb = max(display_width(f"{ICONS[r[0]]} {status_name(r[0].value, lang)}") for r in rows)
    for b, a, name, cid, msg in rows:
        bs = pad(f"{ICONS[b]} {status_name(b.value, lang)}", wb)
        as_ = f"{ICONS[a]} {status_name(a.value, lang)}"
        lines.append(f"  {pad(name, w0)}  {pad(cid, w1)}  {click.style(bs, fg=COLOURS[b])} → "
                     f"{click.style(as_, fg=COLOURS[a])}" + (f"  {msg}" if msg else ""))
    if result.not_fixable:
        lines += ["", click.style(t("软件无法修正（需要重新拍摄）：", "Cannot be fixed by software (retake the photo):"),
                                  fg="red", bold=True)]
        for c in result.not_fixable:
            lines.append(f"  {ICONS[c.status]} {check_name(c.id, lang)} ({c.id}): {c.message.get(lang)}")
    if result.unresolved:
        lines += ["", click.style(t("未能修正：", "Not reached:"), fg="yellow", bold=True)]
        for c in result.unresolved:
            lines.append(f"  {ICONS[c.status]} {check_name(c.id, lang)} ({c.id}): {c.message.get(lang)}")
    if result.notes:
        lines += ["", t("说明：", "Notes:")]
        lines += [f"  ! {n.get(lang)}" for n in result.notes]
    verdict = (click.style(f"✓ {t('输出照片符合规范', 'the output passes the spec')}", fg="green", bold=True)
               if result.ok else
               click.style(f"✗ {t('输出照片仍不符合规范', 'the output still fails the spec')}", fg="red", bold=True))
    lines += ["", verdict]
    return "\n".join(lines)


@click.command("fix")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", "out", required=True, type=click.Path(path_type=Path),
              help="Output .jpg file (or directory); with a directory IN, the output directory.")
@click.option("--spec", "-s", default="moe-2021", show_default=True,
              help="Spec id (see `zkphoto specs`) or path to a spec .toml file.")
@click.option("--background", "-b", type=click.Choice(["keep", "blue", "white", "grey"]), default="keep",
              show_default=True, help="Keep the background, or replace it with a reference colour.")
@click.option("--lang", "-l", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the messages.")
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format (json: one document with every result).")
def fix_command(source: Path, out: Path, spec: str, background: str, lang: str, fmt: str) -> None:
    """Make a compliant photo from SOURCE: crop and scale (never rotate or mirror), optionally
    replace the background, save as JPEG within the spec's size window, then re-check it.

    \b
    Examples:
      zkphoto fix selfie.jpg -o photo.jpg
      zkphoto fix selfie.jpg -o photo.jpg --spec chongqing-2022 --background blue
      zkphoto fix photos/ -o fixed/ --spec jiangsu-zjb-2020

    Exit status: 0 every output passes, 1 some photo refused or still failing, 2 bad usage.
    """
    from .fix import fix
    from .spec import SpecError, load_spec

    try:
        sp = load_spec(spec)
    except SpecError as e:
        raise click.BadParameter(str(e), param_hint="--spec") from None
    pairs = _plan(source, out)
    all_ok = True
    docs = []
    counts = {"ok": 0, "fail": 0, "refused": 0}
    for i, (src, dst) in enumerate(pairs):
        result = fix(src, sp, background, name=str(src), output_name=str(dst))
        written = None
        if result.output is not None:
            try:
                _write_atomic(dst, result.output)
            except OSError as e:
                raise click.BadParameter(f"cannot write {dst}: {e.strerror or e}", param_hint="-o") from None
            written = dst
        all_ok = all_ok and result.ok
        counts["ok" if result.ok else "refused" if result.refused else "fail"] += 1
        if fmt == "json":
            doc = json.loads(result.model_dump_json())
            doc["input"], doc["output_file"] = str(src), str(written) if written else None
            doc["changes"] = [c.model_dump(mode="json") for c in result.changes]
            docs.append(doc)
        else:
            if i:
                click.echo("\n" + "─" * 60 + "\n")
            click.echo(render_fix(result, src, written, lang))
    if fmt == "json":
        click.echo(json.dumps(docs[0] if len(docs) == 1 and not source.is_dir() else {"results": docs},
                              ensure_ascii=False, indent=2))
    elif len(pairs) > 1:
        zh = lang != "en"
        click.echo("\n" + "─" * 60)
        click.echo((f"共 {len(pairs)} 张：{counts['ok']} 张通过，{counts['fail']} 张仍不合格，{counts['refused']} 张无法修正"
                    if zh else f"{len(pairs)} photos: {counts['ok']} pass, {counts['fail']} still failing, "
                    f"{counts['refused']} refused") + f" → {out}")
    sys.exit(0 if all_ok else 1)
