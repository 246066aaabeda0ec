"""Declarative specs: TOML files in ``specs/``, strict models, ``extends`` inheritance.

A spec file looks like::

    id = "chongqing-2022"
    version = 1
    title = "重庆市 2022 自考毕业证书照片"
    source = "重庆市教育考试院 2022-11-15 通知"
    extends = "moe-2021"

    [rules."file.size"]          # replaces the inherited rule of the same id as a whole
    severity = "error"
    min = 50
    unit = "KiB"
    source = "重庆市教育考试院 2022-11-15 通知 (6)"

Every rule table is validated against the model its check registered (``extra="forbid"``): an
unknown key, an unknown check id, a duplicate rule id, ``min > max`` or a cycle in ``extends``
raises :class:`SpecError` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .checks import CHECKS  # imports every check family (no heavy dependencies)
from .checks.registry import Rule
from .report import SpecRef

__all__ = ["Spec", "SpecError", "load_spec", "list_specs", "spec_dirs"]


class SpecError(ValueError):
    """A spec file is missing, malformed or inconsistent; the message names file and key."""


class SpecHeader(BaseModel):
    """Top-level keys of a spec file (the rules are validated per check)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: int = Field(1, ge=1)
    title: str
    title_en: str | None = None
    source: str
    description: str | None = None
    extends: str | None = None
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Spec(BaseModel):
    """A resolved spec: inherited rules merged, every rule validated against its check."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    version: int
    title: str
    title_en: str | None = None
    source: str
    description: str | None = None
    path: str
    chain: list[str] = Field(description="This spec's id, then the ids it extends, nearest first")
    rules: dict[str, Rule]

    @property
    def ref(self) -> SpecRef:
        """The short reference embedded in reports."""
        return SpecRef(id=self.id, version=self.version, title=self.title)

    def rule(self, check_id: str) -> Rule | None:
        """The rule for ``check_id`` or None."""
        return self.rules.get(check_id)

    def dump(self) -> dict[str, Any]:
        """Plain data for ``zkphoto specs show --format json``."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "title_en": self.title_en,
            "source": self.source,
            "extends": self.chain[1:],
            "rules": {
                k: {"check": k, **r.model_dump(mode="json", exclude_none=True)}
                for k, r in self.rules.items()
            },
        }


def builtin_spec_dir() -> Path:
    """Where the shipped specs live: inside the installed package, or ``specs/`` in a checkout."""
    packaged = resources.files("zkphoto") / "specs"
    try:
        p = Path(str(packaged))
        if p.is_dir():
            return p
    except TypeError:  # pragma: no cover - zip imports
        pass
    return Path(__file__).resolve().parents[2] / "specs"


def spec_dirs() -> list[Path]:
    """Directories searched for spec ids."""
    return [builtin_spec_dir()]


def list_specs() -> list[Spec]:
    """Every shipped spec, resolved, sorted by id."""
    out = []
    for p in sorted(builtin_spec_dir().glob("*.toml")):
        out.append(load_spec(p.stem))
    return out


def load_spec(id_or_path: str | Path) -> Spec:
    """Load and resolve a spec by id (``"moe-2021"``) or by path to a ``.toml`` file."""
    path = _locate(id_or_path)
    return _load_resolved(str(path.resolve()))


def _locate(id_or_path: str | Path, relative_to: Path | None = None,
            exclude: Path | None = None) -> Path:
    s = str(id_or_path)
    looks_like_path = s.endswith(".toml") or "/" in s or "\\" in s
    if looks_like_path:
        p = Path(s)
        if not p.is_absolute() and relative_to is not None and (relative_to / p).exists():
            p = relative_to / p
        if not p.is_file():
            raise SpecError(f"{s}: no such spec file")
        return p
    dirs = ([relative_to] if relative_to else []) + spec_dirs()
    for d in dirs:
        p = d / f"{s}.toml"
        # a local spec named like its parent (my/moe-2021.toml extends moe-2021) means the shipped one
        if p.is_file() and (exclude is None or p.resolve() != exclude.resolve()):
            return p
    known = ", ".join(sorted(x.stem for x in builtin_spec_dir().glob("*.toml")))
    raise SpecError(f"unknown spec {s!r}; known specs: {known}")


_RULE_HEADER = re.compile(r'^\s*\[\s*rules\s*\.\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_.-]+))\s*\]')


def _read_header(path: Path) -> SpecHeader:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: cannot read spec file: {e}") from None
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _RULE_HEADER.match(line)
        if m:
            rid = next(g for g in m.groups() if g)
            if rid in seen:
                raise SpecError(
                    f"{path}: rules.{rid!r}: duplicate rule id (lines {seen[rid]} and {lineno})"
                )
            seen[rid] = lineno
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: invalid TOML: {e}") from None
    try:
        return SpecHeader.model_validate(data)
    except ValidationError as e:
        raise SpecError(_explain(path, e, prefix=())) from None


def _explain(path: Path, e: ValidationError, prefix: tuple) -> str:
    lines = []
    for err in e.errors():
        loc = ".".join(str(x) for x in (*prefix, *err["loc"]))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{path}: {loc}: {msg}")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _load_resolved(path_str: str, _stack: tuple[str, ...] = ()) -> Spec:
    path = Path(path_str)
    if path_str in _stack:
        cycle = " -> ".join(Path(p).name for p in (*_stack, path_str))
        raise SpecError(f"{path}: extends: cycle in inheritance ({cycle})")
    header = _read_header(path)

    rules: dict[str, Rule] = {}
    chain = [header.id]
    if header.extends:
        try:
            parent_path = _locate(header.extends, relative_to=path.parent, exclude=path)
        except SpecError as e:
            raise SpecError(f"{path}: extends: {e}") from None
        parent = _load_resolved(str(parent_path.resolve()), (*_stack, path_str))
        rules.update(parent.rules)
        chain += parent.chain

    for rid, body in header.rules.items():
        cdef = CHECKS.get(rid)
        if cdef is None:
            raise SpecError(
                f"{path}: rules.{rid!r}: unknown check id; known ids: {', '.join(sorted(CHECKS))}"
            )
        try:
            rules[rid] = cdef.rule_model.model_validate(body)
        except ValidationError as e:
            raise SpecError(_explain(path, e, prefix=("rules", rid))) from None

    return Spec(
        id=header.id,
        version=header.version,
        title=header.title,
        title_en=header.title_en,
        source=header.source,
        description=header.description,
        path=str(path),
        chain=chain,
        rules=rules,
    )
