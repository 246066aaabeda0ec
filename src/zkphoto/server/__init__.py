"""Local web app and HTTP API (``zkphoto serve``). Needs the ``server`` extra (FastAPI, uvicorn)."""

from .app import create_app

__all__ = ["create_app"]
