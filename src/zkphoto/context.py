"""PhotoContext: one photo's bytes, read once, with every shared measurement computed lazily.

Checks only read the context.  Each property is computed on first use and cached, so the file is
read once, the header parsed once, the pixels decoded once and the face models run once, however
many rules look at them.  A measurement that cannot be made raises :class:`NotAssessable`, which
the runner turns into a check result with status ``error``.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Union

import numpy as np
from PIL import Image, ImageFile

from .checks.registry import NotAssessable
from .measure.jpeg import JpegStructure, QualityEstimate, estimate_quality, parse_jpeg

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

#: Files larger than this are not read (no upload photo is anywhere near it).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Images with more pixels than this are not decoded (decompression-bomb guard, ~250 MB as RGB).
MAX_PIXELS = 80_000_000

ImageFile.LOAD_TRUNCATED_IMAGES = False


def sniff_format(prefix: bytes) -> str | None:
    """The real file format from its first bytes (magic numbers), whatever the name says."""
    p = prefix
    if p[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if p[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if p[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if p[:4] == b"RIFF" and p[8:12] == b"WEBP":
        return "WEBP"
    if p[4:8] == b"ftyp":
        brand = p[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC"
        if brand in (b"avif", b"avis"):
            return "AVIF"
        return "ISO-BMFF"
    if p[:2] == b"BM":
        return "BMP"
    if p[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if p[:4] == b"%PDF":
        return "PDF"
    if p[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or p[:4] == b"\xff\x4f\xff\x51":
        return "JPEG2000"
    return None


@dataclass(frozen=True)
class Dpi:
    """Stored resolution. ``source`` is where it came from: jfif, exif, png or None (absent)."""

    x: float | None
    y: float | None
    source: str | None
    jfif: tuple[float, float] | None = None
    exif: tuple[float, float] | None = None
    note: str | None = None
    per_cm: bool = False  # stored in dots per centimetre

    @property
    def present(self) -> bool:
        return self.source is not None


class PhotoContext:
    """Everything measured about one photo. Build it with :meth:`from_source`; never raises."""

    def __init__(self, data: bytes | None, name: str, path: Path | None = None,
                 read_error: tuple[str, str] | None = None):
        self.data = data
        self.name = name
        self.path = path
        self.read_error = read_error  # (zh, en) when the bytes could not be read
        self.cache: dict[str, Any] = {}  # for measurement modules (face, mask, ...)
        self.spec = None  # set by the pipeline: checks may read sibling rules (e.g. pixel size)

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_source(cls, source: Source, name: str | None = None) -> "PhotoContext":
        """Read a path, bytes or a binary file object once. Bad input becomes ``read_error``."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(bytes(source), name or "<bytes>")
        if hasattr(source, "read"):
            nm = name or getattr(source, "name", None) or "<stream>"
            try:
                data = source.read(MAX_FILE_BYTES + 1)
            except Exception as e:  # noqa: BLE001 - any stream failure is a read error
                return cls(None, str(nm), read_error=(f"无法读取数据流：{e}", f"cannot read the stream: {e}"))
            if not isinstance(data, (bytes, bytearray)):
                return cls(None, str(nm), read_error=("数据流不是二进制模式", "the stream is not binary"))
            if len(data) > MAX_FILE_BYTES:
                return cls(None, str(nm), read_error=_too_big())
            return cls(bytes(data), str(nm))
        path = Path(os.fspath(source))
        shown = name or os.fspath(source)
        try:
            st = path.stat()
        except FileNotFoundError:
            return cls(None, shown, path, ("文件不存在", "no such file"))
        except OSError as e:
            return cls(None, shown, path, (f"无法访问文件：{e.strerror}", f"cannot access the file: {e.strerror}"))
        if stat.S_ISDIR(st.st_mode):
            return cls(None, shown, path, ("这是一个文件夹，不是照片文件", "this is a directory, not a photo file"))
        if not stat.S_ISREG(st.st_mode):
            return cls(None, shown, path, ("不是普通文件", "not a regular file"))
        if st.st_size > MAX_FILE_BYTES:
            return cls(None, shown, path, _too_big())
        try:
            with open(path, "rb") as f:  # read-only, never modified
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            return cls(None, shown, path, (f"无法读取文件：{e.strerror}", f"cannot read the file: {e.strerror}"))
        return cls(data, shown, path)

    # ------------------------------------------------------------------ basic facts
    @property
    def readable_bytes(self) -> bytes:
        """The file's bytes; NotAssessable when they could not be read or are empty."""
        if self.data is None:
            zh, en = self.read_error or ("无法读取", "unreadable")
            raise NotAssessable(zh, en)
        if not self.data:
            raise NotAssessable("文件为空（0 字节）", "the file is empty (0 bytes)")
        return self.data

    @property
    def file_bytes(self) -> int:
        """Size of the file in bytes."""
        return len(self.readable_bytes)

    @property
    def extension(self) -> str:
        """The name's extension, with the dot, as written (``.JPG``)."""
        return Path(self.name).suffix

    @cached_property
    def format(self) -> str | None:
        """Real format by magic bytes: JPEG, PNG, GIF, WEBP, HEIC, ... or None (unknown)."""
        return sniff_format(self.readable_bytes[:32])

    @cached_property
    def jpeg(self) -> JpegStructure | None:
        """The JPEG marker structure, or None for other formats."""
        if self.format != "JPEG":
            return None
        return parse_jpeg(self.readable_bytes)

    @cached_property
    def trailing_bytes(self) -> int | None:
        """Bytes after the JPEG EOI marker (None if not a JPEG or no EOI was found)."""
        j = self.jpeg
        if j is None or j.eoi_end is None:
            return None
        return len(self.readable_bytes) - j.eoi_end

    @cached_property
    def quality(self) -> QualityEstimate | None:
        """Estimated IJG quality factor from the quantisation tables (JPEG only)."""
        j = self.jpeg
        if j is None or not j.tables:
            return None
        return estimate_quality(j.tables)

    # ------------------------------------------------------------------ header (lazy, no decode)
    @cached_property
    def header(self) -> Image.Image:
        """The image opened by Pillow: header parsed, pixels not yet decoded."""
        data = self.readable_bytes
        fmt = self.format
        if fmt in ("HEIC", "AVIF", "ISO-BMFF", "PDF", "JPEG2000"):
            raise NotAssessable(
                f"无法解码 {fmt} 格式，请另存为 JPG", f"cannot decode {fmt}; save the photo as JPG"
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise NotAssessable(*_bomb_msg(None)) from None
        except Exception as e:  # noqa: BLE001 - any parser failure is "not an image"
            raise NotAssessable(
                "无法识别为图像文件（文件损坏或不是图片）",
                f"not a recognisable image (corrupt, or not a picture): {type(e).__name__}",
            ) from None
        return im

    @property
    def width(self) -> int:
        return self.header.size[0]

    @property
    def height(self) -> int:
        return self.header.size[1]

    @property
    def mode(self) -> str:
        """Pillow mode as stored: RGB, L, CMYK, P, RGBA, I;16, ..."""
        return self.header.mode

    @cached_property
    def exif(self) -> dict[int, Any]:
        """IFD0 EXIF tags ({} when absent or unreadable)."""
        header = self.header  # NotAssessable propagates: no header, no EXIF verdict
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return dict(header.getexif())
        except Exception:  # noqa: BLE001 - malformed EXIF counts as absent
            return {}

    @property
    def orientation(self) -> int | None:
        """EXIF orientation (1 = normal); None when the tag is absent."""
        v = self.exif.get(0x0112)
        try:
            return int(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    @cached_property
    def dpi(self) -> Dpi:
        """Stored resolution from JFIF density, then EXIF, then PNG pHYs; absent is not 72."""
        jfif = exif = None
        j = self.jpeg
        if j is not None and j.jfif is not None and j.jfif.units in (1, 2):
            if j.jfif.x_density > 0 and j.jfif.y_density > 0:
                jfif = (_to_dpi(j.jfif.x_density, j.jfif.units == 2),
                        _to_dpi(j.jfif.y_density, j.jfif.units == 2))
        ex = self.exif
        if 282 in ex and 283 in ex:
            unit = ex.get(296, 2)
            try:
                xr, yr = float(ex[282]), float(ex[283])
                if unit in (2, 3) and xr > 0 and yr > 0:
                    exif = (_to_dpi(xr, unit == 3), _to_dpi(yr, unit == 3))
            except (TypeError, ValueError, ZeroDivisionError):
                exif = None
        note = None
        if jfif and exif and jfif != exif:
            note = "jfif_exif_disagree"
        if jfif:
            return Dpi(jfif[0], jfif[1], "jfif", jfif, exif, note, per_cm=j.jfif.units == 2)
        if exif:
            return Dpi(exif[0], exif[1], "exif", jfif, exif, note, per_cm=ex.get(296, 2) == 3)
        if self.format == "PNG" and "dpi" in self.header.info:
            x, y = self.header.info["dpi"]
            return Dpi(round(float(x), 2), round(float(y), 2), "png")
        return Dpi(None, None, None)

    # ------------------------------------------------------------------ pixels (decoded once)
    @cached_property
    def decoded(self) -> Image.Image:
        """The fully decoded image as stored (no EXIF rotation). NotAssessable if it fails."""
        im = self.header
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise NotAssessable(*_bomb_msg((w, h)))
        if w == 0 or h == 0:
            raise NotAssessable("图像宽或高为 0", "the image has zero width or height")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im.load()
        except Image.DecompressionBombError:
            raise NotAssessable(*_bomb_msg((w, h))) from None
        except Exception as e:  # noqa: BLE001
            msg = str(e)
            if "truncated" in msg:
                raise NotAssessable(
                    "图像数据不完整（文件被截断），请重新导出照片",
                    "the image data is incomplete (truncated file); export the photo again",
                ) from None
            raise NotAssessable(
                "图像数据损坏，无法解码，请重新导出照片",
                f"the image data is corrupt and cannot be decoded ({type(e).__name__}); export it again",
            ) from None
        return im

    @cached_property
    def rgb(self) -> np.ndarray:
        """H×W×3 uint8 RGB pixels as stored (alpha dropped, greyscale/CMYK/16-bit converted)."""
        im = self.decoded
        if im.mode == "RGB":
            arr = np.asarray(im)
        elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
            a = np.asarray(im).astype(np.float64)
            scale = 255.0 / 65535.0 if a.max() > 255 else 1.0
            g = np.clip(a * scale + 0.5, 0, 255).astype(np.uint8)
            arr = np.repeat(g[:, :, None], 3, axis=2)
        else:
            arr = np.asarray(im.convert("RGB"))
        arr = np.ascontiguousarray(arr)
        arr.setflags(write=False)
        return arr

    # ------------------------------------------------------------------ face and person (lazy models)
    @cached_property
    def face_detections(self) -> list:
        """Every face the full-range detector finds (list of ``Detection``)."""
        from .measure import face as mf

        return mf.detect_faces(self.rgb)

    @cached_property
    def landmarks(self) -> np.ndarray | None:
        """478×3 FaceMesh landmarks of the main face, or None when no face is found."""
        from .measure import face as mf

        return mf.mesh_landmarks(self.rgb)

    @property
    def face_count(self) -> int:
        """Faces in the photo.

        With a face mesh: the mesh's face plus every other detection that does not overlap it.
        Without one: only confident detections (score ≥ 0.8) count, so a face-like pattern the
        detector scores near its 0.6 floor (a rocket, a pattern) is not reported as a face.
        """
        from .measure.face import STRONG_DETECTION

        dets = self.face_detections
        lm = self.landmarks
        if lm is None:
            return sum(1 for d in dets if d.score >= STRONG_DETECTION)
        x0, y0 = lm[:, 0].min(), lm[:, 1].min()
        x1, y1 = lm[:, 0].max(), lm[:, 1].max()
        others = 0
        for d in dets:
            bx, by, bw, bh = d.box
            ix = max(0.0, min(x1, bx + bw) - max(x0, bx))
            iy = max(0.0, min(y1, by + bh) - max(y0, by))
            if ix * iy < 0.2 * bw * bh:  # not the mesh's face
                others += 1
        return 1 + others

    @cached_property
    def face(self):
        """``FaceGeometry`` of the main face; NotAssessable when there is no face."""
        from .measure import face as mf

        lm = self.landmarks
        if lm is None:
            raise NotAssessable(
                "未检测到人脸，无法测量（请使用正面、清晰、光线充足的照片）",
                "no face found, so this cannot be measured (use a clear, frontal, well-lit photo)",
            )
        return mf.geometry(lm)

    @cached_property
    def person_mask(self) -> np.ndarray:
        """H×W float32 person probability (selfie segmentation), 0 background … 1 person."""
        from .measure import face as mf

        m = mf.person_mask(self.rgb)
        m.setflags(write=False)
        return m

    @cached_property
    def hair_top_y(self) -> float:
        """Rows from the top edge to the top of the head (hair), from the person mask."""
        from .measure import face as mf

        y = mf.hair_top(self.person_mask, self.face)
        if y is None:
            raise NotAssessable(
                "无法确定头顶位置（头发与背景无法区分）",
                "cannot find the top of the head (hair not separable from the background)",
            )
        y, method = mf.refine_hair_top(self.rgb, self.person_mask, self.face, y)
        self.cache["hair_top_method"] = method
        return y

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict[str, Any]:
        """Cheap measurements for the report's ``measurements`` (never raises)."""
        out: dict[str, Any] = {}
        if self.data is None:
            return out
        out["file_bytes"] = len(self.data)
        try:
            out["format"] = self.format
            out["width"], out["height"] = self.header.size
            out["mode"] = self.mode
            d = self.dpi
            out["dpi"] = [d.x, d.y] if d.present else None
            out["dpi_source"] = d.source
            if self.jpeg is not None:
                out["jpeg_frame"] = self.jpeg.frame
                out["subsampling"] = self.jpeg.subsampling
            if self.quality is not None:
                out["jpeg_quality"] = self.quality.quality
        except NotAssessable:
            pass
        return out


def _to_dpi(density: float, per_cm: bool) -> float:
    """Dots per inch from a stored density (dots per cm × 2.54), to 0.01 dpi."""
    return round(float(density) * (2.54 if per_cm else 1.0), 2)


def _too_big() -> tuple[str, str]:
    mb = MAX_FILE_BYTES // (1024 * 1024)
    return (f"文件超过 {mb} MB，不是证件照上传文件", f"the file is larger than {mb} MB; not an upload photo")


def _bomb_msg(size: tuple[int, int] | None) -> tuple[str, str]:
    dims = f"{size[0]}×{size[1]} " if size else ""
    return (
        f"图像尺寸 {dims}过大（疑似解压炸弹），拒绝解码",
        f"the image {dims}is too large to decode safely (decompression-bomb guard)",
    )
