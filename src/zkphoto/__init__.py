"""zkphoto: check 自考 graduation-certificate photos against declarative capture specs.

Library use::

    import zkphoto
    report = zkphoto.check("photo.jpg", spec="moe-2021")
    print(report.status, [c.id for c in report.failed])

Importing zkphoto does not load the face models; they load on the first face check.  The
public names import their modules on first use, so ``import zkphoto`` (and the command line's
start-up, and every batch worker's) does not pay for modules it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load lazily (PEP 562): ``import zkphoto`` stays cheap
    from .batch import check_many, iter_items
    from .fix import FixResult, fix
    from .pipeline import check
    from .report import (
        BatchReport,
        CheckResult,
        Message,
        Report,
        Severity,
        SpecRef,
        Status,
    )
    from .spec import Spec, SpecError, list_specs, load_spec

__version__ = "0.1.0"

__all__ = [
    "BatchReport",
    "FixResult",
    "CheckResult",
    "Message",
    "Report",
    "Severity",
    "Spec",
    "SpecError",
    "SpecRef",
    "Status",
    "check",
    "check_many",
    "fix",
    "iter_items",
    "list_specs",
    "load_spec",
]

#: Public name → the module that defines it.
_LAZY = {
    "check_many": "batch", "iter_items": "batch", "FixResult": "fix", "fix": "fix", "check": "pipeline",
    "BatchReport": "report", "CheckResult": "report", "Message": "report", "Report": "report",
    "Severity": "report", "SpecRef": "report", "Status": "report", "Spec": "spec",
    "SpecError": "spec", "list_specs": "spec", "load_spec": "spec",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'zkphoto' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
