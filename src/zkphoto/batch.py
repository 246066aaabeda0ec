"""Batch validation: many photos from folders, zip archives and CSV manifests, checked in
worker processes, streamed to a JSON Lines journal, then rendered (CSV, Excel, HTML, JSONL).

Memory stays bounded: inputs are enumerated lazily, each worker holds one photo at a time,
results are appended to the journal as they finish, and the renderers stream from the journal.
``--resume`` reads the journal and skips photos already in it; an interrupted run (Ctrl-C)
keeps the journal and still renders what is done.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .context import MAX_FILE_BYTES, PhotoContext, Source
from .pipeline import run_checks
from .procs import worker_count, worker_pool
from .render.rows import problem_ids, problems
from .report import Report
from .spec import Spec, load_spec

#: Files never treated as photos when walking a folder.
JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
#: Extensions walked in folders and archives (any other file is listed as "not a photo").
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff",
                    ".heic", ".heif", ".avif"}


@dataclass(frozen=True)
class Item:
    """One photo to check: its display name, where to read it, and manifest columns."""

    name: str
    path: str | None = None  # a file on disk
    zip_path: str | None = None  # or a member of this archive
    member: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class BatchInputError(ValueError):
    """A batch input cannot be used at all (missing path, unreadable manifest, bad zip)."""


def iter_items(paths: Iterable[str | os.PathLike]) -> Iterator[Item]:
    """Expand folders (recursive, sorted), ``.zip`` archives (read in place) and ``.csv``
    manifests (a ``file`` column, other columns carried through) into photo items."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if f.startswith(".") or f.lower() in JUNK_NAMES:
                        continue
                    fp = Path(root) / f
                    if fp.suffix.lower() == ".zip":
                        yield from _zip_items(fp)
                    else:
                        yield Item(name=str(fp), path=str(fp))
        elif p.suffix.lower() == ".zip" and p.is_file():
            yield from _zip_items(p)
        elif p.suffix.lower() == ".csv" and p.is_file():
            yield from _manifest_items(p)
        elif p.exists():
            yield Item(name=str(p), path=str(p))
        else:
            raise BatchInputError(f"{p}: no such file or folder")


def _zip_items(p: Path) -> Iterator[Item]:
    try:
        with zipfile.ZipFile(p) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as e:
        raise BatchInputError(f"{p}: not a readable zip archive ({e})") from None
    for n in sorted(names):
        base = n.rsplit("/", 1)[-1]
        if not base or base.startswith(".") or base.lower() in JUNK_NAMES or n.startswith("__MACOSX/"):
            continue
        yield Item(name=f"{p}!{n}", zip_path=str(p), member=n)


def _manifest_items(p: Path) -> Iterator[Item]:
    try:
        f = open(p, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise BatchInputError(f"{p}: cannot read the manifest ({e.strerror})") from None
    with f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        key = next((c for c in cols if c.strip().lower() in ("file", "path", "文件", "照片")), None)
        if key is None:
            raise BatchInputError(f"{p}: the manifest needs a 'file' column (columns: {', '.join(cols)})")
        for row in reader:
            rel = (row.get(key) or "").strip()
            if not rel:
                continue
            fp = Path(rel) if Path(rel).is_absolute() else p.parent / rel
            extra = {k: (v or "") for k, v in row.items() if k != key and k is not None}
            yield Item(name=str(fp), path=str(fp), extra=extra)


# ---------------------------------------------------------------------------- workers
_W: dict[str, Any] = {}


def _worker_init(spec_path: str, journal: str | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # batch workers append their journal lines themselves: the parent only counts
    _W["journal_fd"] = os.open(journal, os.O_WRONLY | os.O_APPEND) if journal else None
    _W["spec"] = load_spec(spec_path)
    _W["zips"] = {}
    _W["want_rss"] = os.environ.get("ZKPHOTO_REPORT_RSS") == "1"  # benchmarks
    from .measure.face import warm_up
    from .threads import single_threaded

    single_threaded()  # every core runs a worker: no helper threads competing with them
    warm_up()


def _read_item(item: Item) -> PhotoContext:
    if item.zip_path is None:
        return PhotoContext.from_source(item.path, name=item.name)
    zips = _W.setdefault("zips", {})
    z = zips.get(item.zip_path)
    if z is None:
        z = zips[item.zip_path] = zipfile.ZipFile(item.zip_path)
    try:
        info = z.getinfo(item.member)
        if info.file_size > MAX_FILE_BYTES:
            return PhotoContext(None, item.name, read_error=("压缩包内文件过大", "archive member too large"))
        with z.open(info) as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except Exception as e:  # noqa: BLE001 - a broken member is that photo's problem
        return PhotoContext(None, item.name, read_error=(f"无法从压缩包读取：{e}", f"cannot read from the archive: {e}"))
    return PhotoContext.from_source(data, name=item.name)


class Entry(NamedTuple):
    """One checked photo as the journal stores it, with the summary the batch counts: the
    parent never re-encodes or parses a report.  A pool's workers append their records to the
    journal themselves and send the parent the summary alone (``line`` empty)."""

    file: str
    status: str  # the report's status value
    problems: tuple[str, ...]  # ids of the rules that count as problems (``rows.problems``)
    line: str  # the journal record: one JSON object, no newline ("" once appended)


def journal_entry(item: Item, spec: Spec | None = None, thumbnail: bool = False) -> Entry:
    """Check one item and encode its journal record: the report's contract JSON, plus ``extra``
    (manifest columns) and ``thumbnail`` (base64 JPEG) when present — fields the contract
    allows."""
    sp = spec or _W["spec"]
    ctx = _read_item(item)
    report = run_checks(ctx, sp)
    add: dict[str, Any] = {}
    if item.extra:
        add["extra"] = item.extra
    if thumbnail:
        add["thumbnail"] = _thumbnail(ctx, report)
    return Entry(report.file, report.status.value, tuple(problem_ids(report)),
                 _with_fields(report.model_dump_json(), add))


def _with_fields(obj_json: str, add: dict[str, Any]) -> str:
    """The JSON object ``obj_json`` with the members of ``add`` appended."""
    if not add:
        return obj_json
    return obj_json[:-1] + "," + json.dumps(add, ensure_ascii=False)[1:]


def _record_problems(rec: dict[str, Any]) -> tuple[str, ...]:
    """The ids of a journal record's problem rules (``rows.problems``)."""
    return tuple(cid for cid, _, _ in problems(rec, "en"))


def _entry_from_record(rec: dict[str, Any]) -> Entry:
    return Entry(rec["file"], rec.get("status", "error"), _record_problems(rec), json.dumps(rec, ensure_ascii=False))


def _worker_run(args: tuple[Item, bool]) -> Entry:
    item, thumb = args
    try:
        entry = journal_entry(item, thumbnail=thumb)
    except Exception as e:  # noqa: BLE001 - never lose the batch to one photo
        rec = _crash_report(item.name, _W["spec"], e)
        if item.extra:
            rec["extra"] = item.extra
        entry = _entry_from_record(rec)
    if _W.get("want_rss"):  # benchmarks: who did it, peak memory, when it finished
        t = os.times()
        w = {"pid": os.getpid(), "peak_rss_kb": _peak_rss_kb(), "done_at": time.monotonic(),
             "cpu_s": round(t.user + t.system, 3)}
        entry = entry._replace(line=_with_fields(entry.line, {"worker": w}))
    fd = _W.get("journal_fd")
    if fd is not None:
        _append_line(fd, entry.line)
        entry = entry._replace(line="")
    return entry


def _append_line(fd: int, line: str) -> None:
    """Append ``line`` and a newline to the journal open as ``fd`` (``O_APPEND``) in one
    ``write``, so that lines appended by several workers never interleave."""
    data = (line + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


def _crash_report(name: str, spec: Spec, e: Exception) -> dict[str, Any]:
    msg = {"zh": f"内部错误，无法检查：{e}", "en": f"internal error, not checked: {type(e).__name__}: {e}"}
    return {
        "schema_version": 1, "file": name, "spec": spec.ref.model_dump(), "status": "error",
        "checks": [{"id": "file.readable", "status": "error", "severity": "error", "measured": {},
                    "expected": {}, "message": msg, "fixable": False, "source": None}],
        "measurements": {},
    }


def _peak_rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _thumbnail(ctx: PhotoContext, report: Report, width: int = 240) -> str | None:
    """A small annotated JPEG as base64, or None when the photo cannot be drawn."""
    import base64

    from .annotate import annotate
    from .checks.registry import NotAssessable

    try:
        img = annotate(ctx, report, lang="en")
    except NotAssessable:
        return None
    img.thumbnail((width * 2, width * 2))
    b = io.BytesIO()
    img.save(b, "JPEG", quality=70)
    return base64.b64encode(b.getvalue()).decode("ascii")


# ---------------------------------------------------------------------------- running
@dataclass
class BatchStats:
    """Counts of a batch run."""

    total: int = 0
    skipped: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0

    def add(self, report: dict[str, Any]) -> None:
        """Count a journal record (a report as a dict)."""
        self.count(report.get("status", "error"), _record_problems(report))

    def count(self, status: str, problem_ids: Iterable[str]) -> None:
        """Count one photo: its status and the ids of its problem rules."""
        self.total += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        for cid in problem_ids:
            self.rule_failures[cid] = self.rule_failures.get(cid, 0) + 1

    @property
    def any_failed(self) -> bool:
        return any(self.by_status.get(s, 0) for s in ("fail", "error"))


def run_batch(
    items: Iterable[Item],
    spec: Spec,
    journal: Path,
    workers: int = 0,
    resume: bool = False,
    thumbnails: int = 0,
    on_result: Callable[[Entry, BatchStats], None] | None = None,
) -> BatchStats:
    """Check ``items`` with ``workers`` processes (0 = one per core; 1 = in this process),
    appending one JSON line per photo to ``journal``. Stops cleanly on KeyboardInterrupt
    (``stats.interrupted``). ``thumbnails``: annotated thumbnails for the first N photos.
    ``on_result(entry, stats)`` is called after each photo with its :class:`Entry`."""
    stats = BatchStats()
    done: set[str] = set()
    if resume and journal.exists():
        for rec in read_journal(journal):
            done.add(rec["file"])
            stats.add(rec)
        stats.skipped = len(done)
    elif journal.exists():
        journal.unlink()
    workers = worker_count(workers)
    todo = (it for it in items if it.name not in done)
    t0 = time.monotonic()
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as out:
        counter = iter(range(1 << 62))
        tasks = ((it, next(counter) < thumbnails) for it in todo)

        def take(entry: Entry) -> None:
            if entry.line:  # workers of a pool have appended theirs already
                out.write(entry.line + "\n")
                out.flush()
            stats.count(entry.status, entry.problems)
            if on_result:
                on_result(entry, stats)

        try:
            if workers == 1:
                if not _W.get("spec") or _W["spec"].path != spec.path:
                    _W["spec"] = spec
                for it, th in tasks:
                    take(journal_entry(it, spec, thumbnail=th))
            else:
                with worker_pool(workers, _worker_init, (spec.path, str(journal))) as pool:
                    try:
                        for rec in pool.imap_unordered(_worker_run, tasks, chunksize=4):
                            take(rec)
                    except KeyboardInterrupt:
                        pool.terminate()
                        raise
        except KeyboardInterrupt:
            stats.interrupted = True
            if workers > 1:  # workers may have appended photos the parent never heard of
                stats = _recount(journal, stats)
    stats.seconds = time.monotonic() - t0
    return stats


def _recount(journal: Path, stats: BatchStats) -> BatchStats:
    """The counts of everything in ``journal`` (keeping ``stats``' skipped and interrupted)."""
    new = BatchStats(skipped=stats.skipped, interrupted=stats.interrupted)
    for rec in read_journal(journal):
        new.add(rec)
    return new


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a journal; a torn last line (interrupted write) is ignored."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def check_many(
    sources: Iterable[Source | Item],
    spec: str | Spec = "moe-2021",
    workers: int = 1,
) -> Iterator[Report]:
    """Check many photos, yielding reports as they finish (unordered when ``workers`` > 1).

    ``sources`` are paths, bytes or :class:`Item` objects; folders, zips and manifests can be
    expanded first with :func:`iter_items`.  ``workers=0`` uses one process per core.
    """
    sp = spec if isinstance(spec, Spec) else load_spec(spec)

    def as_item(s: Source | Item, i: int) -> Item | tuple[str, bytes]:
        if isinstance(s, Item):
            return s
        if isinstance(s, (bytes, bytearray, memoryview)):
            return (f"<bytes #{i}>", bytes(s))
        if hasattr(s, "read"):
            return (getattr(s, "name", f"<stream #{i}>"), s.read(MAX_FILE_BYTES + 1))
        return Item(name=os.fspath(s), path=os.fspath(s))

    items = (as_item(s, i) for i, s in enumerate(sources))
    workers = worker_count(workers)
    if workers == 1:
        for it in items:
            if isinstance(it, tuple):
                yield run_checks(PhotoContext.from_source(it[1], name=it[0]), sp)
            else:
                ctx = _read_item(it)
                yield run_checks(ctx, sp)
        return
    with worker_pool(workers, _worker_init, (sp.path,)) as pool:
        for rec in pool.imap_unordered(_check_many_worker, items, chunksize=4):
            yield Report.model_validate(rec)


def _check_many_worker(it: Item | tuple[str, bytes]) -> dict[str, Any]:
    sp = _W["spec"]
    if isinstance(it, tuple):
        return run_checks(PhotoContext.from_source(it[1], name=it[0]), sp).model_dump(mode="json")
    return run_checks(_read_item(it), sp).model_dump(mode="json")
