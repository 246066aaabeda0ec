"""JPEG structure parsing and IJG quality estimation, on raw bytes (no decoding).

Pillow exposes the quantisation tables (in natural order since Pillow 8.3, in zig-zag order
before) but no quality estimate and no end-of-image offset, so zkphoto walks the marker
segments itself: the tables come straight from the DQT segments in the order they are stored
(zig-zag), and are compared with the IJG reference tables put into that same order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

# IJG / JPEG Annex K reference tables, natural (row-major) order.
STD_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
STD_CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
# ZIGZAG[k] = natural index of the k-th coefficient in zig-zag (stream) order.
ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip

SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
SOF_NAMES = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive", 0xC3: "lossless"}


@dataclass
class Jfif:
    """The JFIF APP0 header: density units 0 (aspect only), 1 (dots/inch), 2 (dots/cm)."""

    version: tuple[int, int]
    units: int
    x_density: int
    y_density: int


@dataclass
class JpegStructure:
    """What the marker walk found. ``eoi_end`` is the offset just past the EOI marker."""

    tables: dict[int, list[int]] = field(default_factory=dict)  # id -> natural order
    jfif: Jfif | None = None
    has_exif: bool = False
    frame: str | None = None  # baseline / progressive / ...
    width: int | None = None
    height: int | None = None
    components: int | None = None
    sampling: list[tuple[int, int]] = field(default_factory=list)
    eoi_end: int | None = None
    error: str | None = None

    @property
    def subsampling(self) -> str | None:
        """Chroma subsampling as 4:4:4 / 4:2:2 / 4:2:0, when there are three components."""
        if len(self.sampling) != 3:
            return None
        (h0, v0), (h1, v1) = self.sampling[0], self.sampling[1]
        if (h0, v0) == (h1, v1):
            return "4:4:4"
        if h0 == 2 * h1 and v0 == v1:
            return "4:2:2"
        if h0 == 2 * h1 and v0 == 2 * v1:
            return "4:2:0"
        return f"{h0}x{v0},{h1}x{v1}"


def parse_jpeg(data: bytes) -> JpegStructure:
    """Walk the JPEG markers of ``data``; never raises (problems go to ``.error``)."""
    s = JpegStructure()
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        s.error = "no SOI marker"
        return s
    i = 2
    while i < n:
        # Skip fill bytes before a marker.
        if data[i] != 0xFF:
            s.error = f"expected a marker at offset {i}"
            return s
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            s.eoi_end = i
            return s
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM / RSTn carry no length
            continue
        if i + 2 > n:
            break
        length = (data[i] << 8) | data[i + 1]
        if length < 2 or i + length > n:
            s.error = f"segment 0x{marker:02X} overruns the file"
            return s
        payload = data[i + 2 : i + length]
        if marker == 0xDB:
            _parse_dqt(payload, s)
        elif marker == 0xE0 and payload[:5] == b"JFIF\x00" and len(payload) >= 12:
            s.jfif = Jfif(
                version=(payload[5], payload[6]),
                units=payload[7],
                x_density=(payload[8] << 8) | payload[9],
                y_density=(payload[10] << 8) | payload[11],
            )
        elif marker == 0xE1 and payload[:6] == b"Exif\x00\x00":
            s.has_exif = True
        elif marker in SOF_MARKERS and len(payload) >= 6:
            s.frame = SOF_NAMES.get(marker, f"SOF{marker - 0xC0}")
            s.height = (payload[1] << 8) | payload[2]
            s.width = (payload[3] << 8) | payload[4]
            s.components = payload[5]
            s.sampling = [
                (payload[6 + 3 * k + 1] >> 4, payload[6 + 3 * k + 1] & 15)
                for k in range(s.components)
                if 6 + 3 * k + 2 < len(payload)
            ]
        i += length
        if marker == 0xDA:  # SOS: entropy-coded data follows until the next real marker
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    s.error = "entropy-coded data runs to the end of the file (no EOI)"
                    return s
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    i = j + 1 if nxt == 0xFF else j + 2
                    continue
                i = j
                break
    s.error = "no EOI marker (truncated file)"
    return s


def _parse_dqt(payload: bytes, s: JpegStructure) -> None:
    k = 0
    while k < len(payload):
        pq, tq = payload[k] >> 4, payload[k] & 15
        k += 1
        size = 128 if pq else 64
        raw = payload[k : k + size]
        if len(raw) < size:
            return
        if pq:
            vals = [(raw[2 * m] << 8) | raw[2 * m + 1] for m in range(64)]
        else:
            vals = list(raw)
        natural = [0] * 64
        for zz, v in enumerate(vals):
            natural[ZIGZAG[zz]] = v
        s.tables[tq] = natural
        k += size


def ijg_table(base: tuple[int, ...], quality: int) -> list[int]:
    """The table libjpeg's ``jpeg_set_quality(quality, force_baseline=TRUE)`` writes."""
    q = min(max(quality, 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return [min(max((b * scale + 50) // 100, 1), 255) for b in base]


@dataclass
class QualityEstimate:
    """Best-fitting IJG quality. ``exact`` when the tables are exactly libjpeg's for it;
    ``mean_abs_error`` is the mean per-coefficient distance to those tables."""

    quality: int
    exact: bool
    mean_abs_error: float


_CAND_LUM = np.array([ijg_table(STD_LUMINANCE, q) for q in range(1, 101)], dtype=np.int32)
_CAND_CHROM = np.array([ijg_table(STD_CHROMINANCE, q) for q in range(1, 101)], dtype=np.int32)


def estimate_quality(tables: dict[int, list[int]]) -> QualityEstimate | None:
    """Estimate the IJG quality factor from quantisation tables (natural order).

    Table 0 is compared with the luminance reference and table 1 (if present) with the
    chrominance one; the quality whose libjpeg tables are closest (least mean absolute
    difference) wins, ties going to the higher quality.  Tables written by libjpeg (Pillow,
    OpenCV, most web tools) match one quality exactly.
    """
    if 0 not in tables:
        return None
    chrom = tables.get(1)
    return QualityEstimate(*_best_quality(tuple(tables[0]), None if chrom is None else tuple(chrom)))


@functools.lru_cache(maxsize=256)
def _best_quality(lum: tuple[int, ...], chrom: tuple[int, ...] | None) -> tuple[int, bool, float]:
    """``estimate_quality`` of one pair of tables, cached: the photos of a batch mostly share a
    handful of tables (each camera's or editor's few quality settings)."""
    err = np.abs(_CAND_LUM - np.asarray(lum, dtype=np.int32)).sum(axis=1)
    count = 64
    if chrom is not None:
        err = err + np.abs(_CAND_CHROM - np.asarray(chrom, dtype=np.int32)).sum(axis=1)
        count += 64
    # highest quality among the best fits
    best = int(np.flatnonzero(err == err.min())[-1])
    return best + 1, bool(err[best] == 0), float(err[best]) / count
