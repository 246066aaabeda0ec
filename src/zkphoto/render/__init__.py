"""Renderers: each turns a Report (or several) into text; none of them decides anything."""

from .json import render_json
from .table import render_table

__all__ = ["render_json", "render_table"]
