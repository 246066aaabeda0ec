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
from .report import Status

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
    sys.exit(0 if all(r.status in (Status.PASS, Status.WARN) for r in reports) else 1)


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


if __name__ == "__main__":  # pragma: no cover
    main()
