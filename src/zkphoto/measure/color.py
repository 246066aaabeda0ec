"""Colour measurements on RGB arrays."""

from __future__ import annotations

import numpy as np


def colourfulness(rgb: np.ndarray, max_side: int = 256) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M of an RGB image.

    M = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²) with rg = R − G and yb = (R + G)/2 − B.
    A greyscale picture stored as RGB scores ≈ 0 (JPEG chroma noise keeps it under ~2); the
    paper's scale calls 15 "slightly", 33 "moderately" colourful.  The image is subsampled to at
    most ``max_side`` pixels on its long side first (the statistic is global).
    """
    h, w = rgb.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    a = rgb[::step, ::step].astype(np.float32)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(
        np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    )


def chroma_fraction(rgb: np.ndarray, min_chroma: float = 12.0, max_side: int = 256) -> float:
    """Share of pixels whose max−min channel spread exceeds ``min_chroma`` (0–1)."""
    h, w = rgb.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    a = rgb[::step, ::step].astype(np.int16)
    spread = a.max(axis=2) - a.min(axis=2)
    return float((spread > min_chroma).mean())
