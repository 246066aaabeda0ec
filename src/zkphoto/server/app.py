"""FastAPI application: the self-check web page and the JSON API.

Endpoints (OpenAPI at ``/docs``):

- ``GET  /``                 the web page (Chinese, English switch; every asset served here)
- ``GET  /healthz``          liveness
- ``GET  /v1/specs``         the shipped specs
- ``GET  /v1/specs/{id}``    one spec, rules resolved
- ``POST /v1/check``         multipart ``photo`` (+ ``spec``, ``lang``, ``annotate``) → the report
- ``POST /v1/fix``           multipart ``photo`` (+ ``spec``, ``background``) → JSON with the fixed
  JPEG base64-encoded (``image_base64``) and the before/after reports

Errors are ``{"error": {"code": ..., "message": {"zh": ..., "en": ...}}}`` with 400 (bad request),
404 (unknown spec), 413 (upload over the limit), 415 (not an image), 422 (bad field).
Uploads are read into memory (never written outside the temp dir, never kept), the content is
sniffed by magic bytes, and decoding is guarded against decompression bombs by the context.
Checks run in a process pool (models loaded once per worker), so requests do not queue behind
one model.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..context import sniff_format
from ..spec import SpecError, list_specs, load_spec
from . import work

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "HEIC", "AVIF", "JPEG2000"}
BACKGROUNDS = ("keep", "blue", "white", "grey")


class ApiError(Exception):
    """An error answered as JSON with a status code."""

    def __init__(self, status: int, code: str, zh: str, en: str):
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en


def _error(status: int, code: str, zh: str, en: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": {"zh": zh, "en": en}}}, status_code=status)


def create_app(max_upload: int = DEFAULT_MAX_UPLOAD, workers: int | None = None) -> FastAPI:
    """Build the app. ``workers``: size of the process pool (None = one per core; 0 = run in a
    thread pool inside this process, as tests do)."""

    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        n = (os.cpu_count() or 1) if workers is None else workers
        if n == 0:
            state["pool"] = ThreadPoolExecutor(max_workers=2)
        else:
            from ..procs import pool_context

            state["pool"] = ProcessPoolExecutor(max_workers=n, mp_context=pool_context(), initializer=work.warm)
        try:
            yield
        finally:
            state["pool"].shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="zkphoto",
        version=_version(),
        description="自考毕业证书电子照片合规检查 API / Self-study exam graduation photo checker.",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.zh, exc.en)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        fields = ", ".join(".".join(str(x) for x in e["loc"][1:]) or str(e["loc"]) for e in exc.errors())
        return _error(422, "invalid_field", f"请求字段无效或缺失：{fields}", f"invalid or missing field(s): {fields}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _error(404, "not_found", "没有这个地址", "no such endpoint")
        if exc.status_code == 405:
            return _error(405, "method_not_allowed", "不支持该请求方法", "method not allowed")
        return _error(exc.status_code, "http_error", str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):  # a bug, never bad input
        return _error(500, "internal_error", "服务器内部错误", f"internal error: {type(exc).__name__}")

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        cl = request.headers.get("content-length")
        if request.method == "POST" and cl is not None:
            try:
                too_big = int(cl) > max_upload + 64 * 1024  # multipart overhead
            except ValueError:
                return _error(400, "bad_request", "Content-Length 无效", "invalid Content-Length")
            if too_big:
                return _too_large(max_upload)
        return await call_next(request)

    async def read_upload(photo: UploadFile) -> bytes:
        data = await photo.read(max_upload + 1)
        if len(data) > max_upload:
            raise ApiError(413, "too_large", f"文件超过 {max_upload // (1024 * 1024)} MB 上限",
                           f"the upload is larger than the {max_upload // (1024 * 1024)} MB limit")
        if not data:
            raise ApiError(400, "empty_file", "上传的文件为空", "the uploaded file is empty")
        fmt = sniff_format(data[:32])
        if fmt not in IMAGE_FORMATS:
            raise ApiError(415, "not_an_image", "上传的文件不是图片，请上传 JPG 照片",
                           "the upload is not an image; upload a JPG photo")
        return data

    def resolve_spec(spec: str, status: int = 422) -> str:
        """A shipped spec id (paths are not accepted over HTTP); 404/422 when unknown."""
        try:
            if "/" in spec or "\\" in spec or spec.endswith(".toml"):
                raise SpecError("paths are not accepted over HTTP")
            return load_spec(spec).id
        except SpecError:
            raise ApiError(status, "unknown_spec", f"没有规范 {spec!r}", f"unknown spec {spec!r}") from None

    async def run(fn, *args):
        loop = asyncio.get_running_loop()
        pool: Executor = state["pool"]
        return await loop.run_in_executor(pool, fn, *args)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(_static("index.html"))

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        ext = os.path.splitext(name)[1]
        if ext not in types or "/" in name or name.startswith("."):
            raise ApiError(404, "not_found", "没有这个文件", "no such file")
        try:
            return Response(_static(name), media_type=types[ext] + "; charset=utf-8")
        except FileNotFoundError:
            raise ApiError(404, "not_found", "没有这个文件", "no such file") from None

    @app.get("/healthz", tags=["meta"])
    async def healthz() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok", "version": _version()}

    @app.get("/v1/specs", tags=["specs"])
    async def specs() -> list[dict[str, Any]]:
        """The shipped specs: id, version, titles, source, what they extend."""
        return [{"id": s.id, "version": s.version, "title": s.title, "title_en": s.title_en,
                 "source": s.source, "extends": s.chain[1:]} for s in list_specs()]

    @app.get("/v1/checks", tags=["specs"])
    async def checks() -> dict[str, dict[str, str]]:
        """Every check id with its human names (zh, en) and what it measures."""
        from ..checks import CHECKS
        from ..names import check_name

        return {cid: {"zh": check_name(cid, "zh"), "en": check_name(cid, "en"),
                      "doc": (c.doc.splitlines() or [""])[0]} for cid, c in sorted(CHECKS.items())}

    @app.get("/v1/specs/{spec_id}", tags=["specs"])
    async def spec_detail(spec_id: str) -> dict[str, Any]:
        """One spec with every rule resolved through ``extends``."""
        return load_spec(resolve_spec(spec_id, status=404)).dump()

    @app.post("/v1/check", tags=["check"])
    async def check(
        photo: UploadFile = File(..., description="the photo file"),
        spec: str = Form("moe-2021", description="spec id"),
        lang: str = Form("zh", pattern="^(zh|en)$"),
        annotate: bool = Form(False, description="add `annotation`: the annotated picture as a JPEG data URL"),
    ) -> dict[str, Any]:
        """Check a photo; answers 200 with the report (see the report contract) whatever the verdict."""
        sid = resolve_spec(spec)
        data = await read_upload(photo)
        return await run(work.check_bytes, data, photo.filename or "upload.jpg", sid, annotate, lang)

    @app.post("/v1/fix", tags=["fix"])
    async def fix(
        photo: UploadFile = File(...),
        spec: str = Form("moe-2021"),
        background: str = Form("keep", pattern="^(keep|blue|white|grey)$"),
        lang: str = Form("zh", pattern="^(zh|en)$"),
    ) -> dict[str, Any]:
        """Fix a photo (crop/scale/re-encode, optional background): JSON with ``ok``,
        ``image_base64`` (the fixed JPEG), ``filename``, ``actions``, ``refused``,
        ``report_before`` and ``report_after``."""
        sid = resolve_spec(spec)
        data = await read_upload(photo)
        return await run(work.fix_bytes, data, photo.filename or "upload.jpg", sid, background, lang)

    return app


def _too_large(limit: int) -> JSONResponse:
    mb = limit // (1024 * 1024)
    return _error(413, "too_large", f"文件超过 {mb} MB 上限", f"the upload is larger than the {mb} MB limit")


def _static(name: str) -> str:
    return (resources.files("zkphoto.server") / "static" / name).read_text(encoding="utf-8")


def _version() -> str:
    from .. import __version__

    return __version__
