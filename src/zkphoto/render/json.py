"""JSON renderer: the public contract (one object for one photo, a batch document for several)."""

from __future__ import annotations

from ..report import BatchReport, Report


def render_json(reports: list[Report], indent: int | None = 2) -> str:
    """One report as an object; several as ``{"schema_version": 1, "reports": [...]}``."""
    if len(reports) == 1:
        return reports[0].model_dump_json(indent=indent)
    return BatchReport(reports=reports).model_dump_json(indent=indent)
