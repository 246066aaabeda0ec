"""Check families. Importing this package registers every check (no heavy imports here:
face models load on first use, inside the measurement functions)."""

from . import background, composition, face, file, image, quality  # noqa: F401  (registration side effects)
from .registry import CHECKS, CheckDef, NotAssessable, Rule, Verdict, register

__all__ = ["CHECKS", "CheckDef", "NotAssessable", "Rule", "Verdict", "register"]
