"""Per-photo cost of a full check versus the floor (decode + model inferences alone).

    python benchmarks/bench_check.py [--spec moe-2021] [--repeat 3]

Builds compliant-size 480×640 JPEGs from the shared real portraits (every portrait with a face:
studio portraits, smiles, selfies), then, warm (models loaded, one untimed pass), times on the
same photos in one run:
  floor = JPEG decode to RGB + face detector + face mesh + person segmentation
  full  = zkphoto.check(bytes, spec) — every rule of the spec, report built
and prints per-photo medians, the ratio full / floor (target ≤ 1.5) and the time per check.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PORTRAITS = Path(os.environ.get("ZKPHOTO_PORTRAITS", ROOT.parent / "shared" / "portraits" / "img"))


def build_photos() -> list[tuple[str, bytes]]:
    """480×640 JPEG bytes made by scaling/cropping each portrait around its face."""
    from zkphoto.context import PhotoContext

    out = []
    for p in sorted(PORTRAITS.glob("*")):
        im = Image.open(p).convert("RGB")
        ctx = PhotoContext.from_source(p)
        try:
            g = ctx.face
        except Exception:  # noqa: BLE001 - no face: use a plain centre crop
            g = None
        if g is not None:
            s = 240.0 / g.face_width
            left, top = g.face_center_x - 240 / s, g.eye_line_y - 250 / s
        else:
            s = min(480 / im.width, 640 / im.height)
            left, top = 0.0, 0.0
        box = (left, top, left + 480 / s, top + 640 / s)
        box = (max(0, box[0]), max(0, box[1]), min(im.width, box[2]), min(im.height, box[3]))
        photo = im.crop(tuple(round(v) for v in box)).resize((480, 640), Image.LANCZOS)
        b = io.BytesIO()
        photo.save(b, "JPEG", quality=85, dpi=(300, 300))
        out.append((p.name, b.getvalue()))
    return out


def floor_once(data: bytes) -> None:
    from zkphoto.measure import face as mf

    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    mf.detect_faces(rgb)
    mf.mesh_landmarks(rgb)
    mf.person_mask(rgb)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="moe-2021")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import zkphoto
    from zkphoto.context import PhotoContext
    from zkphoto.measure.face import warm_up
    from zkphoto.pipeline import run_checks

    spec = zkphoto.load_spec(args.spec)
    photos = build_photos()
    warm_up()
    for _, data in photos:  # warm pass
        floor_once(data)
        zkphoto.check(data, spec)

    from zkphoto.checks import CHECKS

    geometry = [cid for cid in spec.rules
                if CHECKS[cid].family in ("file", "image", "face", "composition")]
    floor_t, full_t, geo_t = [], [], []
    per_check: dict[str, float] = {}
    for _ in range(args.repeat):
        for _, data in photos:
            t0 = time.perf_counter()
            floor_once(data)
            t1 = time.perf_counter()
            run_checks(PhotoContext.from_source(data), spec, timings=per_check)
            t2 = time.perf_counter()
            run_checks(PhotoContext.from_source(data), spec, only=geometry)
            t3 = time.perf_counter()
            floor_t.append(t1 - t0)
            full_t.append(t2 - t1)
            geo_t.append(t3 - t2)
    n = len(floor_t)
    f_med, c_med = statistics.median(floor_t), statistics.median(full_t)
    print(f"photos: {len(photos)} × {args.repeat} repeats, spec {spec.id}, 480×640 JPEG, warm")
    print(f"floor (decode + detector + mesh + segmentation): median {f_med * 1000:.1f} ms, "
          f"mean {sum(floor_t) / n * 1000:.1f} ms")
    print(f"full zkphoto check:                              median {c_med * 1000:.1f} ms, "
          f"mean {sum(full_t) / n * 1000:.1f} ms")
    print(f"ratio full / floor (median): {c_med / f_med:.2f}   (target ≤ 1.5)")
    g_med = statistics.median(geo_t)
    print(f"file + image + face + composition rules only: median {g_med * 1000:.1f} ms "
          f"(ratio {g_med / f_med:.2f}); the appearance checks (background, lighting, quality) "
          f"add {(c_med - g_med) * 1000:.1f} ms")
    print("\nper check (mean ms per photo; the first check to need a model pays for it):")
    for cid, t in sorted(per_check.items(), key=lambda kv: -kv[1]):
        print(f"  {cid:28} {t / n * 1000:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
