"""Typed report models: the public JSON contract (``shared/report-contract.md``).

A :class:`Report` is what :func:`zkphoto.check` returns and what ``zkphoto check --format json``
prints.  Field names are a public API: add fields freely, never rename or remove one without
bumping :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Status(str, Enum):
    """Outcome of one check (and, for pass/warn/fail/error, of a whole report)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    ERROR = "error"


class Severity(str, Enum):
    """How a failed rule counts: ``error`` fails the photo, ``warning`` only warns."""

    ERROR = "error"
    WARNING = "warning"


class Message(BaseModel):
    """A user-facing sentence in Chinese and English."""

    model_config = ConfigDict(frozen=True)

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.en if lang == "en" else self.zh


_OUT = ConfigDict(json_schema_serialization_defaults_required=True)


class CheckResult(BaseModel):
    """The verdict of one rule on one photo, with the raw measurement kept beside it."""

    model_config = _OUT

    id: str = Field(description="Check id from the contract, e.g. 'file.size'")
    status: Status
    severity: Severity
    measured: dict[str, Any] = Field(default_factory=dict, description="Raw measured values")
    expected: dict[str, Any] = Field(default_factory=dict, description="The rule's thresholds")
    message: Message
    fixable: bool = Field(False, description="True when `zkphoto fix` (software) can repair it")
    source: str | None = Field(None, description="The notice and clause the rule comes from")


class SpecRef(BaseModel):
    """Which spec a report was judged against."""

    model_config = _OUT

    id: str
    version: int
    title: str


class Report(BaseModel):
    """Everything zkphoto found out about one photo."""

    model_config = _OUT

    schema_version: int = SCHEMA_VERSION
    file: str = Field(description="The path as given (or '<bytes>' / '<stream>')")
    spec: SpecRef
    status: Status = Field(description="error (unreadable) / fail / warn / pass")
    checks: list[CheckResult]
    measurements: dict[str, Any] = Field(default_factory=dict)

    def check(self, check_id: str) -> CheckResult:
        """The result of ``check_id``; raises ``KeyError`` if the spec has no such rule."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    @property
    def failed(self) -> list[CheckResult]:
        """Checks that make the photo fail: failed or unassessable error-severity rules."""
        return [
            c
            for c in self.checks
            if c.severity is Severity.ERROR and c.status in (Status.FAIL, Status.ERROR)
        ]

    @property
    def ok(self) -> bool:
        """True when the photo passes (warnings allowed)."""
        return self.status in (Status.PASS, Status.WARN)


class BatchReport(BaseModel):
    """Several reports in one document (``check`` with more than one photo)."""

    model_config = _OUT

    schema_version: int = SCHEMA_VERSION
    reports: list[Report]


def overall_status(checks: list[CheckResult], readable: bool = True) -> Status:
    """Combine check results into a report status, as the contract defines it."""
    if not readable:
        return Status.ERROR
    if any(c.severity is Severity.ERROR and c.status in (Status.FAIL, Status.ERROR) for c in checks):
        return Status.FAIL
    if any(c.status is Status.WARN for c in checks):
        return Status.WARN
    return Status.PASS


def json_schema() -> dict[str, Any]:
    """JSON Schema of the single-photo report (``zkphoto schema``)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "zkphoto report"
    return schema


def batch_json_schema() -> dict[str, Any]:
    """JSON Schema of the several-photo document."""
    schema = BatchReport.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "zkphoto batch report"
    return schema
