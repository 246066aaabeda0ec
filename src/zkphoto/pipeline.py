"""Run a spec's rules against one photo: context -> checks -> typed report."""

from __future__ import annotations

import time
import traceback
from typing import Iterable

from .checks import CHECKS, NotAssessable
from .context import PhotoContext, Source
from .report import CheckResult, Message, Report, Severity, Status, overall_status
from .spec import Spec, load_spec


def run_checks(
    ctx: PhotoContext,
    spec: Spec,
    only: Iterable[str] | None = None,
    timings: dict[str, float] | None = None,
) -> Report:
    """Judge ``ctx`` against every rule of ``spec`` (or the ids in ``only``); never raises.

    ``timings``, when given, receives the seconds each check took (added to existing values),
    including the lazy measurements it was the first to need.
    """
    wanted = set(only) if only is not None else None
    ctx.spec = spec
    results: list[CheckResult] = []
    for rid, rule in spec.rules.items():
        if wanted is not None and rid not in wanted:
            continue
        if timings is None:
            results.append(_run_one(ctx, rid, rule))
        else:
            t0 = time.perf_counter()
            results.append(_run_one(ctx, rid, rule))
            timings[rid] = timings.get(rid, 0.0) + time.perf_counter() - t0
    readable = ctx.data is not None and bool(ctx.data) and _decodes(ctx)
    return Report(
        file=ctx.name,
        spec=spec.ref,
        status=overall_status(results, readable=readable),
        checks=results,
        measurements=ctx.summary(),
    )


def _decodes(ctx: PhotoContext) -> bool:
    try:
        ctx.decoded
        return True
    except NotAssessable:
        return False


#: A verdict's outcome → its status (a dict look-up: ``Status(value)`` costs ~1.5 µs a call).
_OUTCOMES = {s.value: s for s in Status}


def _run_one(ctx: PhotoContext, rid: str, rule) -> CheckResult:
    cdef = CHECKS[rid]
    sev = rule.severity
    base = dict(id=rid, severity=sev, source=rule.source)
    if not rule.enabled:
        return CheckResult(**base, status=Status.SKIP,
                           message=Message(zh="该规则在此规范中已停用", en="rule disabled in this spec"))
    if not cdef.implemented:
        return CheckResult(**base, status=Status.SKIP,
                           message=Message(zh="该检查尚未实现", en="check not implemented yet"))
    try:
        v = cdef.fn(ctx, rule)
    except NotAssessable as e:
        return CheckResult(**base, status=Status.ERROR, message=e.message, measured=e.measured)
    except Exception as e:  # noqa: BLE001 - a bug in one check must not stop the others
        tb = traceback.format_exception_only(type(e), e)[-1].strip()
        return CheckResult(
            **base,
            status=Status.ERROR,
            message=Message(zh=f"内部错误，无法评估：{tb}", en=f"internal error, not assessed: {tb}"),
        )
    if v.outcome == "fail":
        status = Status.WARN if sev is Severity.WARNING else Status.FAIL
    else:
        status = _OUTCOMES[v.outcome]
    return CheckResult(**base, status=status, measured=v.measured, expected=v.expected,
                       message=v.message, fixable=v.fixable and status in (Status.FAIL, Status.WARN))


def check(source: Source, spec: str | Spec = "moe-2021", *, name: str | None = None) -> Report:
    """Check one photo (a path, bytes or a binary file object) against ``spec``.

    ``spec`` is a spec id (``"moe-2021"``), a path to a spec file, or a loaded :class:`Spec`.
    Bad input (missing file, corrupt data, not an image) gives a report, never an exception;
    only an unknown or invalid spec raises :class:`zkphoto.spec.SpecError`.
    """
    sp = spec if isinstance(spec, Spec) else load_spec(spec)
    ctx = PhotoContext.from_source(source, name=name)
    return run_checks(ctx, sp)
