"""Shared helpers for zkphoto's tests: synthetic photos with exact, known properties.

Everything here is generated in memory from one real portrait (Face Research Lab London Set,
CC-BY-4.0, DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5) or from scratch, so each
test states the property it checks (byte count, quality, dpi, mode...) instead of relying on an
opaque fixture file.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zkphoto

# --------------------------------------------------------------------------- constants

KIB = 1024
REPO = Path(__file__).resolve().parents[1]
SPEC_DIR = REPO / "specs"
SHIPPED_SPECS = ["moe-2021", "anhui-2023", "guangdong-2022", "chongqing-2022", "jiangsu-zjb-2020"]

#: The check ids that judge the file and pixels as a whole (no face models).
FILE_LEVEL_CHECKS = [
    "file.readable",
    "file.format",
    "file.extension",
    "file.size",
    "file.trailing_data",
    "image.dimensions",
    "image.aspect_ratio",
    "image.dpi",
    "image.color_mode",
    "image.colorful",
    "image.orientation",
    "jpeg.quality",
]

_PORTRAIT_NAME = "webmorphR.stim__005_03.jpg"
PORTRAIT_PATH = Path(
    os.environ.get(
        "ZKPHOTO_TEST_PORTRAIT",
        str(REPO.parent / "shared" / "portraits" / "img" / _PORTRAIT_NAME),
    )
)
if not PORTRAIT_PATH.is_file():  # a checkout elsewhere: fall back to the shared location
    PORTRAIT_PATH = Path("/work/shared/portraits/img") / _PORTRAIT_NAME


# --------------------------------------------------------------------------- source images


@lru_cache(maxsize=8)
def _portrait_cached(width: int, height: int) -> Image.Image:
    im = Image.open(PORTRAIT_PATH)
    im = im.convert("RGB")
    w, h = im.size
    want = height / width
    # Crop to the target aspect ratio around the centre, then scale (never stretch).
    if h / w > want:
        ch = round(w * want)
        y0 = (h - ch) // 2
        im = im.crop((0, y0, w, y0 + ch))
    else:
        cw = round(h / want)
        x0 = (w - cw) // 2
        im = im.crop((x0, 0, x0 + cw, h))
    return im.resize((width, height), Image.LANCZOS)


def portrait(width: int = 480, height: int = 640) -> Image.Image:
    """The real portrait, centre-cropped to ``width``:``height`` and resized (RGB, a copy)."""
    if not PORTRAIT_PATH.is_file():
        pytest.fail(f"test portrait missing: {PORTRAIT_PATH}")
    return _portrait_cached(width, height).copy()


def grey_portrait(width: int = 480, height: int = 640) -> Image.Image:
    """The portrait converted to greyscale and back to RGB: three equal channels."""
    return portrait(width, height).convert("L").convert("RGB")


def flat_image(width: int = 64, height: int = 64, color=(120, 160, 200), mode: str = "RGB") -> Image.Image:
    """A flat synthetic image (for tests that do not care about content)."""
    return Image.new(mode, (width, height), color)


# --------------------------------------------------------------------------- JPEG encoding


def encode_jpeg(
    img: Image.Image | None = None,
    *,
    quality: int = 75,
    subsampling: int = 2,
    dpi: tuple[float, float] | None = (300, 300),
    progressive: bool = False,
    exif: bytes | Image.Exif | None = None,
    **extra,
) -> bytes:
    """Encode with Pillow.  ``subsampling`` 2 = 4:2:0, 0 = 4:4:4.  ``dpi=None`` writes no
    resolution at all (JFIF density units 0, aspect ratio only)."""
    if img is None:
        img = portrait()
    kw = dict(quality=quality, subsampling=subsampling, progressive=progressive, **extra)
    if dpi is not None:
        kw["dpi"] = dpi
    if exif is not None:
        kw["exif"] = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def com_segment(payload_len: int) -> bytes:
    """A JPEG COM segment of ``payload_len + 4`` bytes (payload of printable filler)."""
    if not 0 <= payload_len <= 65533:
        raise ValueError(payload_len)
    payload = (b"zkphoto test padding " * (payload_len // 21 + 1))[:payload_len]
    return b"\xff\xfe" + struct.pack(">H", payload_len + 2) + payload


def insert_after_soi(data: bytes, segment: bytes) -> bytes:
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    return data[:2] + segment + data[2:]


def pad_jpeg_to(data: bytes, n_bytes: int) -> bytes:
    """Grow a JPEG to exactly ``n_bytes`` with COM segments right after SOI (the file stays a
    valid JPEG with nothing after EOI)."""
    deficit = n_bytes - len(data)
    if deficit == 0:
        return data
    if deficit < 4:
        raise ValueError(f"cannot pad by {deficit} bytes (a COM segment is at least 4)")
    segments = []
    while deficit > 0:
        take = min(deficit, 65537)
        if 0 < deficit - take < 4:  # leave enough for a last, legal segment
            take -= 4
        segments.append(com_segment(take - 4))
        deficit -= take
    out = data[:2] + b"".join(segments) + data[2:]
    assert len(out) == n_bytes
    return out


def jpeg_of_size(
    n_bytes: int,
    img: Image.Image | None = None,
    *,
    quality: int | None = None,
    subsampling: int = 2,
    dpi: tuple[float, float] | None = (300, 300),
    **kw,
) -> bytes:
    """A valid JPEG of exactly ``n_bytes``: the highest quality (≥ 60 unless given) whose
    encoding is small enough, padded with a COM segment."""
    if img is None:
        img = portrait()
    qualities = [quality] if quality is not None else range(95, 59, -1)
    for q in qualities:
        data = encode_jpeg(img, quality=q, subsampling=subsampling, dpi=dpi, **kw)
        if len(data) <= n_bytes - 4 or len(data) == n_bytes:
            return pad_jpeg_to(data, n_bytes)
    raise ValueError(f"cannot make a {n_bytes}-byte JPEG of this image at quality ≥ 60")


def jpeg_in_kib_window(lo_kib: float, hi_kib: float, img: Image.Image | None = None, **kw) -> bytes:
    """A valid JPEG whose size lies in the middle of [lo_kib, hi_kib] KiB."""
    return jpeg_of_size(int((lo_kib + hi_kib) / 2 * KIB), img, **kw)


def _find_jfif(data: bytes) -> int:
    """Offset of the JFIF APP0 marker (0xFFE0 ... 'JFIF\\0') among the header segments."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == 0xE0 and data[i + 4 : i + 9] == b"JFIF\x00":
            return i
        if marker == 0xDA:
            break
        i += 2 + seg_len
    raise AssertionError("no JFIF APP0 segment")


def set_jfif_density(data: bytes, units: int, x: int, y: int) -> bytes:
    """Rewrite the JFIF APP0 density fields (units 0 = none, 1 = dots/inch, 2 = dots/cm)."""
    i = _find_jfif(data)
    b = bytearray(data)
    b[i + 11] = units
    b[i + 12 : i + 14] = struct.pack(">H", x)
    b[i + 14 : i + 16] = struct.pack(">H", y)
    return bytes(b)


def strip_jfif(data: bytes) -> bytes:
    """Remove the JFIF APP0 segment (a JPEG with no JFIF header at all)."""
    i = _find_jfif(data)
    seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
    return data[:i] + data[i + 2 + seg_len :]


def exif_bytes(orientation: int | None = None, dpi: float | None = None, unit: int = 2) -> Image.Exif:
    e = Image.Exif()
    if orientation is not None:
        e[0x0112] = orientation
    if dpi is not None:
        e[282] = dpi
        e[283] = dpi
        e[296] = unit
    return e


def good_photo_bytes() -> bytes:
    """The acceptance photo: the real portrait at 480×640, 300 dpi, quality 75 (4:2:0),
    exactly 30 KiB (a COM segment tops the encoding up), nothing after EOI."""
    data = encode_jpeg(portrait(), quality=75, subsampling=2, dpi=(300, 300))
    return pad_jpeg_to(data, 30 * KIB)


# --------------------------------------------------------------------------- other formats


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_bytes(img: Image.Image | None = None, **kw) -> bytes:
    return encode(img if img is not None else portrait(), "PNG", **kw)


def gif_bytes() -> bytes:
    return encode(portrait(120, 160).convert("P"), "GIF")


def webp_bytes() -> bytes:
    return encode(portrait(120, 160), "WEBP", quality=80)


def cmyk_jpeg_bytes() -> bytes:
    return encode(portrait().convert("CMYK"), "JPEG", quality=85, dpi=(300, 300))


def grey_jpeg_bytes() -> bytes:
    """A true single-channel (mode L) JPEG."""
    return encode(portrait().convert("L"), "JPEG", quality=85, dpi=(300, 300))


def png16_bytes(width: int = 480, height: int = 640) -> bytes:
    """A 16-bit greyscale PNG (Pillow mode I;16)."""
    g = np.asarray(portrait(width, height).convert("L"), dtype=np.uint16) * 257
    im = Image.frombytes("I;16", (width, height), g.astype("<u2").tobytes())
    data = encode(im, "PNG")
    assert data[24] == 16, "bit depth in IHDR should be 16"
    return data


def palette_png_bytes() -> bytes:
    return png_bytes(portrait().convert("P"))


def rgba_png_bytes() -> bytes:
    return png_bytes(portrait().convert("RGBA"))


def fake_heic_bytes() -> bytes:
    """An ISO-BMFF ``ftyp`` box with the ``heic`` brand, then padding (not decodable)."""
    return b"\x00\x00\x00\x18ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 4096


def text_bytes() -> bytes:
    return ("这不是照片 / this is not a photo\n" * 50).encode("utf-8")


def truncated_jpeg_bytes() -> bytes:
    data = good_photo_bytes()
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_header_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose IHDR claims ``width``×``height`` 8-bit RGB (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)  # a few rows' worth; the rest is missing
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def pad_after_eoi(data: bytes, n: int = 10 * KIB, byte: bytes = b"\x00") -> bytes:
    return data + byte * n


# --------------------------------------------------------------------------- running checks


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def run_only(source, check_ids, spec: str = "moe-2021", name: str | None = None):
    """Judge ``source`` against only ``check_ids`` of ``spec`` (no face models are run)."""
    from zkphoto.context import PhotoContext
    from zkphoto.pipeline import run_checks

    sp = zkphoto.load_spec(spec)
    missing = [c for c in check_ids if sp.rule(c) is None]
    assert not missing, f"{spec} has no rule {missing}"
    return run_checks(PhotoContext.from_source(source, name=name), sp, only=check_ids)


def check_one(source, check_id: str, spec: str = "moe-2021", name: str | None = None):
    """The result of the single rule ``check_id`` of ``spec`` on ``source``."""
    return run_only(source, [check_id], spec, name).check(check_id)


def file_level_report(source, spec: str = "moe-2021", name: str | None = None):
    """A report over every file-level rule ``spec`` has (the face rules are left out)."""
    sp = zkphoto.load_spec(spec)
    return run_only(source, [c for c in FILE_LEVEL_CHECKS if sp.rule(c) is not None], spec, name)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def good_photo_data() -> bytes:
    return good_photo_bytes()


@pytest.fixture
def good_photo(tmp_path, good_photo_data) -> Path:
    """The acceptance photo written as ``good.jpg``."""
    return write(tmp_path, "good.jpg", good_photo_data)


@pytest.fixture
def write_file(tmp_path):
    """``write_file(name, data) -> Path`` inside the test's tmp dir."""

    def _w(name: str, data: bytes) -> Path:
        return write(tmp_path, name, data)

    return _w
