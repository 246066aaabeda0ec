"""The check registry: check id -> (function, rule model).

A check is a plain function ``check(ctx, rule) -> Verdict`` registered with the pydantic model of
the rule parameters it reads.  The spec loader validates every rule in a spec file against the
model registered for its id, so a misspelt key fails at load time, not silently at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..report import Message, Severity


class Rule(BaseModel):
    """Fields every rule has, whatever its check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity = Severity.ERROR
    source: str = Field(description="The notice and clause this rule comes from")
    enabled: bool = Field(True, description="false turns an inherited rule off (status skip)")
    note: str | None = Field(None, description="Free text shown in `zkphoto specs show`")


class RangeRule(Rule):
    """A rule with a numeric window; bounds are inclusive unless ``*_exclusive`` is set."""

    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    unit: str = ""

    @model_validator(mode="after")
    def _check_bounds(self) -> "RangeRule":
        if self.min is None and self.max is None:
            raise ValueError("a range rule needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self

    def contains(self, value: float) -> bool:
        """True when ``value`` lies inside the window."""
        if self.min is not None and (value <= self.min if self.min_exclusive else value < self.min):
            return False
        if self.max is not None and (value >= self.max if self.max_exclusive else value > self.max):
            return False
        return True

    def below(self, value: float) -> bool:
        """True when ``value`` is under the lower bound (as opposed to over the upper one)."""
        if self.min is None:
            return False
        return value <= self.min if self.min_exclusive else value < self.min

    def expected(self) -> dict[str, Any]:
        """The window as the report's ``expected`` object."""
        out: dict[str, Any] = {}
        if self.min is not None:
            out["min"] = _num(self.min)
            if self.min_exclusive:
                out["min_exclusive"] = True
        if self.max is not None:
            out["max"] = _num(self.max)
            if self.max_exclusive:
                out["max_exclusive"] = True
        out["unit"] = self.unit
        return out

    def describe(self) -> str:
        """The window as text, e.g. ``20–40 KiB``, ``> 150 dpi``, ``≥ 50 KiB``."""
        if self.unit == "fraction":
            u = ""
            lo = None if self.min is None else f"{self.min:.0%}"
            hi = None if self.max is None else f"{self.max:.0%}"
        else:
            u = f" {self.unit}" if self.unit else ""
            lo = None if self.min is None else _fmt(self.min)
            hi = None if self.max is None else _fmt(self.max)
        if lo is not None and hi is not None:
            if lo == hi:
                return f"{lo}{u}"
            if self.min_exclusive or self.max_exclusive:
                a = ">" if self.min_exclusive else "≥"
                b = "<" if self.max_exclusive else "≤"
                return f"{a} {lo}{u}, {b} {hi}{u}"
            return f"{lo}–{hi}{u}"
        if lo is not None:
            return f"{'>' if self.min_exclusive else '≥'} {lo}{u}"
        return f"{'<' if self.max_exclusive else '≤'} {hi}{u}"


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def _fmt(v: float) -> str:
    return f"{v:g}"


@dataclass
class Verdict:
    """What a check function returns; the runner adds id, severity and the warn mapping.

    ``outcome`` is ``pass``, ``fail``, ``skip`` or ``error`` (could not be assessed).
    """

    outcome: Literal["pass", "fail", "skip", "error"]
    message: Message
    measured: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    fixable: bool = False


def passed(zh: str, en: str, measured: dict | None = None, expected: dict | None = None) -> Verdict:
    """A passing verdict."""
    return Verdict("pass", Message(zh=zh, en=en), measured or {}, expected or {})


def failed(
    zh: str,
    en: str,
    measured: dict | None = None,
    expected: dict | None = None,
    fixable: bool = False,
) -> Verdict:
    """A failing verdict; the message must say what to do about it."""
    return Verdict("fail", Message(zh=zh, en=en), measured or {}, expected or {}, fixable)


def skipped(zh: str, en: str) -> Verdict:
    """Not applicable to this photo."""
    return Verdict("skip", Message(zh=zh, en=en))


class NotAssessable(Exception):
    """Raised by a measurement (or a check) when it cannot be made; becomes status ``error``."""

    def __init__(self, zh: str, en: str, measured: dict | None = None):
        super().__init__(en)
        self.message = Message(zh=zh, en=en)
        self.measured = measured or {}


CheckFn = Callable[[Any, Any], Verdict]


@dataclass(frozen=True)
class CheckDef:
    """A registered check."""

    id: str
    fn: CheckFn
    rule_model: type[Rule]
    family: str
    implemented: bool = True

    @property
    def doc(self) -> str:
        """The check function's docstring (what it measures, which rule it enforces)."""
        return (self.fn.__doc__ or "").strip()


CHECKS: dict[str, CheckDef] = {}


def register(check_id: str, rule_model: type[Rule] = Rule, implemented: bool = True):
    """Decorator registering ``fn`` as the check ``check_id`` with its rule model."""

    def deco(fn: CheckFn) -> CheckFn:
        if check_id in CHECKS:
            raise RuntimeError(f"check {check_id!r} registered twice")
        CHECKS[check_id] = CheckDef(
            check_id, fn, rule_model, fn.__module__.rsplit(".", 1)[-1], implemented
        )
        return fn

    return deco
