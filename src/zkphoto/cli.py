"""The ``zkphoto`` command line: parse arguments, call the library, render, set the exit code.

Exit status of ``check``: 0 every photo passes (warnings allowed), 1 some photo fails or could
not be read, 2 bad usage (unknown spec, invalid spec file, bad option).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__

LANGS = click.Choice(["zh", "en"])


def _load_spec_or_exit(spec: str):
    from .spec import SpecError, load_spec

    try:
        return load_spec(spec)
    except SpecError as e:
        raise click.BadParameter(str(e), param_hint="--spec") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="zkphoto")
def main() -> None:
    """zkphoto — 自考毕业证书电子照片合规检查 / check self-study exam graduation photos.

    \b
    Examples:
      zkphoto check photo.jpg                      # national standard (moe-2021)
      zkphoto check photo.jpg --spec chongqing-2022 --lang en
      zkphoto check a.jpg b.jpg --format json > reports.json
      zkphoto specs                                # list the specs
    """


@main.command()
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--spec", "-s", default="moe-2021", show_default=True,
              help="Spec id (see `zkphoto specs`) or path to a spec .toml file.")
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--lang", "-l", type=LANGS, default="zh", show_default=True,
              help="Language of the table's messages (JSON always carries both).")
@click.option("--hide-skipped", is_flag=True, help="Leave skipped checks out of the table.")
@click.option("--annotate", "-a", "annotate_to", type=click.Path(path_type=Path),
              help="Write the annotated picture (bands, measured lines, legend) here: a .png/.jpg "
                   "file for one photo, a directory for several.")
def check(photos: tuple[str, ...], spec: str, fmt: str, lang: str, hide_skipped: bool,
          annotate_to: Path | None) -> None:
    """Check PHOTOS against a spec and say, rule by rule, what to fix.

    Exit status: 0 all pass (warnings allowed), 1 some photo fails, 2 bad usage.
    """
    from .context import PhotoContext
    from .pipeline import run_checks
    from .render import render_json, render_table

    sp = _load_spec_or_exit(spec)
    if annotate_to is not None and len(photos) > 1 and annotate_to.suffix:
        raise click.BadParameter("with several photos, --annotate takes a directory", param_hint="--annotate")
    reports = []
    for p in photos:
        ctx = PhotoContext.from_source(p)
        report = run_checks(ctx, sp)
        reports.append(report)
        if annotate_to is not None:
            _write_annotation(ctx, report, p, annotate_to, several=len(photos) > 1, lang=lang)
    if fmt == "json":
        click.echo(render_json(reports))
    else:
        for i, r in enumerate(reports):
            if i:
                click.echo("\n" + "─" * 60 + "\n")
            click.echo(render_table(r, lang=lang, show_skipped=not hide_skipped))
    sys.exit(0 if all(r.status.value in ("pass", "warn") for r in reports) else 1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--spec", "-s", default="moe-2021", show_default=True,
              help="Spec id (see `zkphoto specs`) or path to a spec .toml file.")
@click.option("--out", "-o", "out", required=True, type=click.Path(path_type=Path),
              help="Report file; the format follows the extension: .csv .xlsx .html .jsonl")
@click.option("--workers", "-w", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes (0 = one per CPU core, 1 = no subprocesses).")
@click.option("--resume", is_flag=True,
              help="Skip photos already in OUT's journal (OUT itself for .jsonl, else OUT.journal.jsonl).")
@click.option("--lang", "-l", type=LANGS, default="zh", show_default=True, help="Language of the report.")
@click.option("--thumbnails", type=click.IntRange(0), default=500, show_default=True,
              help="HTML only: annotated thumbnails for the first N photos.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def batch(paths: tuple[str, ...], spec: str, out: Path, workers: int, resume: bool, lang: str,
          thumbnails: int, quiet: bool) -> None:
    """Check every photo in PATHS — folders (recursive), .zip archives (read in place) and .csv
    manifests (a `file` column; other columns such as 准考证号 are carried into the report) —
    and write one report for all of them.

    \b
    Examples:
      zkphoto batch uploads/ -o report.xlsx
      zkphoto batch uploads.zip --spec chongqing-2022 -o report.html
      zkphoto batch manifest.csv -o report.csv --resume

    Exit status: 0 all pass (warnings allowed), 1 some photo fails, 2 bad usage.
    Ctrl-C stops the run and still writes the report for the photos done.
    """
    from .procs import start_early, worker_count

    if worker_count(workers) > 1:  # the workers' imports, on the other core meanwhile
        start_early()
    from .batch import BatchInputError, iter_items, read_journal, run_batch
    from .render.batch_out import FORMATS, render_output

    sp = _load_spec_or_exit(spec)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise click.BadParameter(f"unknown report format {ext or '(none)'}; use one of {', '.join(FORMATS)}",
                                 param_hint="--out")
    try:
        items = list(iter_items(paths))
    except BatchInputError as e:
        raise click.BadParameter(str(e), param_hint="PATHS") from None
    journal = out if ext == ".jsonl" else out.with_name(out.name + ".journal.jsonl")
    try:  # fail before checking thousands of photos, not after
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(journal, "a", encoding="utf-8"):
            pass
        probe = out.with_name(out.name + ".tmp")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise click.BadParameter(f"cannot write {out}: {e.strerror or e}", param_hint="--out") from None
    progress = _Progress(len(items), quiet, lang)
    if workers == 1:  # checked in this process: keep OpenCV/OpenBLAS helper threads out of it
        from .threads import single_threaded

        single_threaded()
    stats = run_batch(items, sp, journal, workers=workers, resume=resume,
                      thumbnails=thumbnails if ext in (".html", ".htm") else 0,
                      on_result=progress.update)
    progress.close()
    summary = {"spec": f"{sp.id} v{sp.version}", "total": stats.total, "by_status": stats.by_status,
               "rule_failures": stats.rule_failures}
    try:
        render_output(journal, out, read_journal, summary, lang=lang)
    except OSError as e:
        click.echo(f"error: cannot write {out}: {e.strerror or e}; the results are in {journal}", err=True)
        sys.exit(1)
    _print_summary(stats, out, lang)
    sys.exit(1 if stats.any_failed or stats.interrupted else 0)


class _Progress:
    """A progress bar with rate and ETA on a terminal; a plain line every 5 s otherwise."""

    def __init__(self, total: int, quiet: bool, lang: str):
        import time

        self.total, self.quiet, self.lang = total, quiet, lang
        self.tty = sys.stderr.isatty()
        self.t0 = self.last = time.monotonic()
        self.n = 0
        self.first_total = None

    def update(self, rec, stats) -> None:
        import time

        if self.first_total is None:
            self.first_total = stats.skipped
        self.n += 1
        if self.quiet:
            return
        now = time.monotonic()
        done = self.n + (stats.skipped or 0)
        if (self.tty and now - self.last < 0.1) or (not self.tty and now - self.last < 5 and done < self.total):
            return
        self.last = now
        rate = self.n / max(now - self.t0, 1e-9)
        left = max(self.total - done, 0)
        eta = left / rate if rate > 0 else 0
        fails = stats.by_status.get("fail", 0) + stats.by_status.get("error", 0)
        if self.tty:
            width = 28
            fill = int(width * done / max(self.total, 1))
            bar = "█" * fill + "░" * (width - fill)
            click.echo(f"\r{bar} {done}/{self.total}  {rate:5.1f}/s  ETA {eta:4.0f}s  ✗{fails}", nl=False, err=True)
        else:
            click.echo(f"progress: {done}/{self.total} photos, {rate:.1f}/s, ETA {eta:.0f}s, {fails} failing", err=True)

    def close(self) -> None:
        if self.tty and not self.quiet and self.n:
            click.echo("", err=True)


def _print_summary(stats, out: Path, lang: str) -> None:
    from .names import check_name, status_name

    zh = lang != "en"
    parts = ", ".join(f"{status_name(k, lang)} {v}" for k, v in sorted(stats.by_status.items()))
    rate = (stats.total - stats.skipped) / stats.seconds if stats.seconds > 0 else 0.0
    if stats.interrupted:
        click.echo("已中断；已完成部分已写入报告。" if zh else "interrupted; the photos done are in the report.", err=True)
    click.echo(("共 {n} 张：{p}（{r:.1f} 张/秒）" if zh else "{n} photos: {p} ({r:.1f}/s)").format(
        n=stats.total, p=parts or "-", r=rate), err=True)
    top = sorted(stats.rule_failures.items(), key=lambda kv: -kv[1])[:5]
    if top:
        click.echo("最常见的问题：" if zh else "most frequent problems:", err=True)
        for rid, n in top:
            click.echo(f"  {n:6d}  {check_name(rid, lang)} ({rid})", err=True)
    click.echo(("报告：{o}" if zh else "report: {o}").format(o=out), err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default serves this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", "-w", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Checking processes (0 = one per CPU core).")
@click.option("--max-upload-mb", default=10, show_default=True, type=click.IntRange(1, 200),
              help="Largest accepted upload.")
def serve(host: str, port: int, workers: int, max_upload_mb: int) -> None:
    """Start the local web page and HTTP API (open http://HOST:PORT/, API docs at /docs)."""
    try:
        import uvicorn

        from .server import create_app
    except ImportError:
        raise click.UsageError("the web app needs the server extra: pip install 'zkphoto[server]'") from None
    app = create_app(max_upload=max_upload_mb * 1024 * 1024, workers=workers or None)
    click.echo(f"zkphoto: http://{host}:{port}/  (API docs: http://{host}:{port}/docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _write_annotation(ctx, report, photo: str, target: Path, several: bool, lang: str) -> None:
    from .annotate import save_annotation
    from .checks.registry import NotAssessable

    out = target / f"{Path(photo).stem}.annotated.png" if several or not target.suffix else target
    try:
        save_annotation(ctx, report, out, lang=lang)
    except NotAssessable as e:
        click.echo(f"{photo}: no annotation ({e.message.get(lang)})", err=True)
        return
    except (OSError, ValueError) as e:
        raise click.BadParameter(f"cannot write {out}: {e}", param_hint="--annotate") from None
    click.echo(f"annotated picture: {out}", err=True)


@main.group(invoke_without_command=True)
@click.pass_context
def specs(ctx: click.Context) -> None:
    """List the shipped specs (``zkphoto specs show ID`` prints one resolved)."""
    if ctx.invoked_subcommand is not None:
        return
    from .spec import list_specs

    for s in list_specs():
        parent = f"  (extends {s.chain[1]})" if len(s.chain) > 1 else ""
        click.echo(f"{s.id:18} v{s.version}  {s.title}{parent}")


@specs.command("show")
@click.argument("spec")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def specs_show(spec: str, fmt: str) -> None:
    """Print SPEC (an id or a path) with every rule resolved through ``extends``."""
    sp = _load_spec_or_exit(spec)
    data = sp.dump()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(click.style(f"{sp.id} v{sp.version}: {sp.title}", bold=True))
    if sp.title_en:
        click.echo(sp.title_en)
    click.echo(f"source: {sp.source}")
    if len(sp.chain) > 1:
        click.echo(f"extends: {' -> '.join(sp.chain[1:])}")
    click.echo(f"file: {sp.path}\n")
    for rid, rule in data["rules"].items():
        params = {k: v for k, v in rule.items() if k not in ("check", "severity", "source", "enabled", "note")}
        flag = "" if rule.get("enabled", True) else "  [disabled]"
        click.echo(f"  {rid:28} {rule['severity']:8} {json.dumps(params, ensure_ascii=False)}{flag}")
        click.echo(f"  {'':28} source: {rule['source']}")
        if rule.get("note"):
            click.echo(f"  {'':28} note: {rule['note']}")


@main.command()
def checks() -> None:
    """List every registered check id with what it measures."""
    from .checks import CHECKS
    from .names import check_name

    for cid, cdef in sorted(CHECKS.items()):
        first = cdef.doc.splitlines()[0] if cdef.doc else ""
        state = "" if cdef.implemented else "  [not implemented]"
        click.echo(f"{cid:28} {check_name(cid, 'zh')} — {first}{state}")


@main.command()
@click.option("--batch", is_flag=True, help="Schema of the several-photo document instead.")
def schema(batch: bool) -> None:
    """Print the JSON Schema of the report (the public contract)."""
    from .report import batch_json_schema, json_schema

    click.echo(json.dumps(batch_json_schema() if batch else json_schema(), ensure_ascii=False, indent=2))


from .cli_fix import fix_command  # noqa: E402  (the command lives in its own module)

main.add_command(fix_command)

if __name__ == "__main__":  # pragma: no cover
    main()
