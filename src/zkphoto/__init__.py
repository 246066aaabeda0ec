"""zkphoto: check 自考 graduation-certificate photos against declarative capture specs.

Library use::

    import zkphoto
    report = zkphoto.check("photo.jpg", spec="moe-2021")
    print(report.status, [c.id for c in report.failed])

Importing zkphoto does not load the face models; they load on the first face check.
"""

from .batch import check_many, iter_items
from .fix import FixResult, fix
from .pipeline import check
from .report import BatchReport, CheckResult, Message, Report, Severity, SpecRef, Status
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
