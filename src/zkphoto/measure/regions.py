"""Image regions and region statistics shared by the background, lighting and quality checks.

Everything here reads a :class:`~zkphoto.context.PhotoContext` and caches its result in
``ctx.cache`` (keys ``regions:*``), so the background mask, the background model, the face skin
region… are computed once per photo however many checks use them.

Most statistics are taken on a *grid*: the image sampled every ``step`` pixels (3 for a 480×640
photo).  Sampling without filtering keeps the per-pixel statistics (noise, texture amplitude)
unchanged while cutting the work ninefold.  Distances and areas are always reported in full-resolution
pixels.  Colours are CIELAB (D65, from sRGB) and differences CIEDE2000 (``measure.color``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import _kernels as _k
from ..checks.registry import NotAssessable
from .color import delta_e_2000, delta_e_2000_pair, rgb_to_lab, subsample
from .face import FACE_OVAL
from .stats import median, percentiles

# FaceMesh contours (canonical topology).  "L" = the eye/brow on the image's left.
EYE_L_CONTOUR = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
EYE_R_CONTOUR = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
BROW_L = (46, 52, 53, 55, 63, 65, 66, 70, 105, 107)
BROW_R = (276, 282, 283, 285, 293, 295, 296, 300, 334, 336)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
IRIS_L_CENTRE, IRIS_L_RING = 468, (469, 470, 471, 472)
IRIS_R_CENTRE, IRIS_R_RING = 473, (474, 475, 476, 477)
NOSE_BRIDGE, NOSE_TIP, CHIN = 168, 1, 152
MOUTH_CORNERS = (61, 291)


@functools.lru_cache(maxsize=None)
def ix(indices: tuple[int, ...]) -> np.ndarray:
    """A landmark index tuple as a (cached, read-only) index array: ``lm[ix(EYE_L_CONTOUR)]`` is
    ``lm[list(EYE_L_CONTOUR)]`` without converting the list on every look-up."""
    a = np.array(indices, dtype=np.intp)
    a.setflags(write=False)
    return a


def cached(ctx, key: str, fn: Callable[[], Any]) -> Any:
    """``ctx.cache[key]``, computing it with ``fn()`` on first use.  A NotAssessable raised by
    ``fn`` is cached too, so a failing measurement is not retried by every check."""
    k = "regions:" + key
    hit = ctx.cache.get(k)
    if hit is None:
        try:
            hit = ("ok", fn())
        except NotAssessable as e:
            hit = ("err", e)
        ctx.cache[k] = hit
    if hit[0] == "err":
        raise hit[1]
    return hit[1]


def _face_or_none(ctx):
    try:
        return ctx.face
    except NotAssessable:
        return None


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Grid:
    """The image sampled every ``step`` pixels, in CIELAB."""

    step: int
    lab: np.ndarray  # h×w×3 float32
    height: int  # full-resolution size
    width: int

    @functools.cached_property
    def lightness(self) -> np.ndarray:
        """The L* channel as a contiguous h×w array."""
        return np.ascontiguousarray(self.lab[..., 0])

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution (y, x) of every grid row and column."""
        return (np.arange(self.lab.shape[0]) * self.step, np.arange(self.lab.shape[1]) * self.step)


def grid_step(height: int, width: int) -> int:
    """Sampling step so that the short side has about 160 samples (3 for 480×640)."""
    return max(1, int(round(min(height, width) / 160.0)))


def grid_rgb(ctx) -> np.ndarray:
    """The uint8 RGB image sampled on the grid (``rgb[::step, ::step]``, cached)."""

    def make():
        h, w = ctx.rgb.shape[:2]
        return subsample(ctx.rgb, grid_step(h, w))

    return cached(ctx, "grid_rgb", make)


def grid(ctx) -> Grid:
    """CIELAB of the image sampled on the grid (cached)."""

    def make():
        h, w = ctx.rgb.shape[:2]
        return Grid(grid_step(h, w), rgb_to_lab(grid_rgb(ctx)), h, w)

    return cached(ctx, "grid", make)


def polygon_mask(shape: tuple[int, int], polys: list[tuple[np.ndarray, int]],
                 offset: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """Boolean mask of the union of polygons, each grown by its radius (0: as drawn): ``polys``
    holds (points as full-res x, y; radius in mask cells); the mask's cell (0, 0) is at full-res
    ``offset`` and a cell is ``scale`` px.  A polygon grown by a disc of radius r is drawn as the
    filled polygon plus its outline r cells thick (round-capped segments): the same cells as a
    dilation, to a cell along the edge, for a fraction of the cost."""
    import cv2

    m = np.zeros(shape, np.uint8)
    if not polys:
        return m.view(bool)
    # every polygon's points to fixed point (2 fractional bits) in one go
    arrs = [np.asarray(pts, np.float64)[:, :2] for pts, _ in polys]
    q = np.rint((np.concatenate(arrs) - offset) / scale * 4).astype(np.int32)
    start = 0
    for a, (_, r) in zip(arrs, polys):
        p = q[start:start + len(a)]
        start += len(a)
        cv2.fillPoly(m, [p], 1, lineType=cv2.LINE_8, shift=2)
        if r > 0:
            cv2.polylines(m, [p], True, 1, thickness=max(2, 2 * int(r) - 1), lineType=cv2.LINE_8, shift=2)
    return m.view(bool)


def _hull(pts: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.convexHull(np.asarray(pts[:, :2], np.float32)).reshape(-1, 2)


# --------------------------------------------------------------------------- subject and background


@dataclass(frozen=True)
class SubjectRegions:
    """The subject (the person whose face was found) and the background, on the grid."""

    subject: np.ndarray  # bool: the main person component(s) of the person mask
    others: np.ndarray  # bool: other person-mask components (other people, objects)
    distance: np.ndarray  # float32: full-res px from each grid cell to the subject (0 inside)
    background: np.ndarray  # bool: the background region used for colour and uniformity
    margin_body: float  # full-res px excluded around the body
    margin_head: float  # full-res px excluded around the head
    edge: int  # full-res px excluded along the image edges
    head_bottom_y: float  # rows above this use the head margin


def subject_regions(ctx) -> SubjectRegions:
    """Subject mask, distance to the subject and the background region (cached).

    The person mask (selfie segmentation, ≥ 0.5) is split into connected components; the subject
    is the component(s) under the main face (the face detector's largest face; its FaceMesh
    landmarks when the mesh found that face), or the largest component when there is no face.
    Other components — another person, a large object the segmenter took for a person — stay in
    the background so the uniformity check sees them, and so does the head-and-shoulders box
    around every other detected face (a second person touching the subject merges into its
    component).  The background region is everything farther
    than a margin from the subject: 3 % of the width around the body, 6 % around the head (hair
    strands and the segmentation's soft edge), and 1 % along the image edges (JPEG edge blocks;
    added borders are judged by ``image.border``).
    """

    def make():
        import cv2

        g = grid(ctx)
        s = g.step
        pm = subsample(np.asarray(ctx.person_mask), s) >= 0.5
        h, w = pm.shape
        n, labels = cv2.connectedComponents(pm.view(np.uint8), connectivity=8)
        face = _face_or_none(ctx)
        dets = sorted(ctx.face_detections, key=lambda d: -d.box[2] * d.box[3])
        main = dets[0].box if dets else None
        if face is not None and main is not None:
            x, y, bw, bh = main
            if not (x <= face.face_center_x <= x + bw and y - 0.5 * bh <= face.eye_line_y <= y + bh):
                face = None  # the mesh found a smaller face than the detector's largest
        if face is not None:
            pts = face.landmarks[[NOSE_TIP, CHIN, NOSE_BRIDGE, 234, 454, 10], :2]
            head_bottom = face.chin_y
        elif main is not None:
            x, y, bw, bh = main
            pts = np.array([[x + bw / 2, y + bh / 2], [x + bw / 2, y + bh * 0.95]])
            head_bottom = y + bh
        else:
            pts = np.zeros((0, 2))
            head_bottom = float(g.height)
        keep = np.zeros(n, bool)
        if n > 1:
            for x, y in pts / s:
                xi, yi = int(round(x)), int(round(y))
                if 0 <= yi < h and 0 <= xi < w and labels[yi, xi] > 0:
                    keep[labels[yi, xi]] = True
            if not keep.any():
                sizes = np.bincount(labels.ravel(), minlength=n)
                sizes[0] = 0
                keep[int(np.argmax(sizes))] = True
        kept = np.flatnonzero(keep)
        if len(kept) == 1:  # (a comparison is far cheaper than a table lookup per cell)
            subject = labels == kept[0]
        else:
            subject = np.isin(labels, kept)
        # another person touching the subject merges into its mask component: take the head
        # and shoulders around every other detected face out of the subject
        if len(dets) > 1:
            ys_ = np.arange(h)[:, None] * s
            xs_ = np.arange(w)[None, :] * s
            mx, my, mw, mh = main
            for det in dets[1:]:
                x, y, bw, bh = det.box
                if abs(x + bw / 2 - (mx + mw / 2)) < 0.5 * mw and abs(y + bh / 2 - (my + mh / 2)) < 0.5 * mh:
                    continue  # a second detection of the main face
                box = (xs_ >= x - 0.6 * bw) & (xs_ <= x + 1.6 * bw) & (ys_ >= y - 0.8 * bh) & (ys_ <= y + 2.2 * bh)
                # …keeping the pixels nearer (in face sizes) to the main face
                d_o = np.hypot(xs_ - (x + bw / 2), ys_ - (y + bh / 2)) / bw
                d_m = np.hypot(xs_ - (mx + mw / 2), ys_ - (my + mh / 2)) / mw
                subject &= ~(box & (d_o < d_m))
        others = pm & ~subject
        if subject.any():
            dist = cv2.distanceTransform(np.logical_not(subject).view(np.uint8), cv2.DIST_L2, 5)
            dist *= float(s)
        else:
            dist = np.full(subject.shape, 1e6, np.float32)
        W = g.width
        margin_body = 0.03 * W
        margin_head = 0.06 * W
        ys, _ = g.coords()
        edge = max(2, int(round(0.01 * min(g.width, g.height))))
        # farther than the head margin in the rows above the head's bottom, than the body
        # margin below (compared in float32 against exactly equivalent thresholds)
        split = int(np.count_nonzero(ys < head_bottom))
        bg = np.empty(dist.shape, bool)
        np.greater(dist[:split], _f32_below(margin_head), out=bg[:split])
        np.greater(dist[split:], _f32_below(margin_body), out=bg[split:])
        e = int(np.ceil(edge / s))
        bg[:e] = bg[-e:] = False
        bg[:, :e] = bg[:, -e:] = False
        return SubjectRegions(subject, others, dist, bg, margin_body, margin_head, edge, float(head_bottom))

    return cached(ctx, "subject", make)


def _f32_below(t: float) -> np.float32:
    """The largest float32 ≤ ``t``: for any float32 x, ``x > _f32_below(t)`` exactly when the
    real x > t, so a float32 array is compared with a float64 threshold without converting it."""
    f = np.float32(t)
    return np.nextafter(f, np.float32(-np.inf)) if float(f) > t else f


def _design(ys: np.ndarray, xs: np.ndarray, height: int, width: int) -> np.ndarray:
    """Quadratic 2-D polynomial basis (1, u, v, u², uv, v²) on coordinates scaled to −1…1."""
    u = xs.astype(np.float32) * np.float32(2.0 / max(width - 1, 1)) - np.float32(1.0)
    v = ys.astype(np.float32) * np.float32(2.0 / max(height - 1, 1)) - np.float32(1.0)
    out = np.empty((len(u), 6), np.float32)
    out[:, 0] = 1.0
    out[:, 1] = u
    out[:, 2] = v
    out[:, 3] = u * u
    out[:, 4] = u * v
    out[:, 5] = v * v
    return out


def _surface_on_grid(coef: np.ndarray, g: Grid) -> np.ndarray:
    """The quadratic surface with coefficients ``coef`` (6 × channels, the ``_design`` basis)
    at every grid cell (grid rows × grid columns × channels, float32).

    The basis separates: with U = (1, u, u²) per column and V = (1, v, v²) per row, the surface
    is V · (M · Uᵀ) where M holds the six coefficients by (v power, u power): two small matrix
    products instead of a six-term design row for every cell."""
    hg, wg = g.lab.shape[:2]
    nc = coef.shape[1]
    u = np.arange(wg) * (g.step * 2.0 / max(g.width - 1, 1)) - 1.0
    v = np.arange(hg) * (g.step * 2.0 / max(g.height - 1, 1)) - 1.0
    m = np.zeros((3, 3, nc))  # [u power, v power, channel]
    m[0, 0], m[1, 0], m[0, 1] = coef[0], coef[1], coef[2]
    m[2, 0], m[1, 1], m[0, 2] = coef[3], coef[4], coef[5]
    k = np.vander(u, 3, increasing=True) @ m.reshape(3, 3 * nc)  # [column, v power, channel]
    k = np.ascontiguousarray(k.reshape(wg, 3, nc).transpose(1, 0, 2), np.float32).reshape(3, wg * nc)
    out = np.empty((hg, wg * nc), np.float32)
    _k.rows_times_3(np.vander(v, 3, increasing=True).astype(np.float32), k, out)  # (BLAS: slow at 3)
    return out.reshape(hg, wg, nc)


def rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[idx]`` for integer ``idx`` along the first axis (``np.take``: several times faster
    than fancy or boolean indexing for n × 3 arrays)."""
    return np.take(a, idx, axis=0)


def nonzero2d(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the true elements of the 2-D ``m`` (as ``np.nonzero``, several
    times faster: numpy's 2-D nonzero is slow)."""
    i = np.flatnonzero(m)
    return np.divmod(i, m.shape[1])


def _spread(x: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` evenly spread elements of ``x`` (for medians of large regions: partial
    sorts slow down sharply once the array outgrows the CPU's first-level cache)."""
    return x[:: max(1, -(-len(x) // n))]


def _rownorm(d: np.ndarray) -> np.ndarray:
    """Euclidean norm of every row of an n × k array (as a product with ones: numpy's reductions
    over a short axis are slow)."""
    return np.sqrt((d * d) @ np.ones(d.shape[1], d.dtype))


#: The background model's samples (its colour, texture and surface range) are the background
#: cells on every BG_LATTICE-th row and column of the grid: every 6 px on a 480×640 photo,
#: ~3000 samples, plenty for medians and RMS, at a quarter of the work.  Objects are looked for
#: on every cell (``background_blobs``).
BG_LATTICE = 2

#: Samples of the far background the robust surface fit uses (evenly spread): ample for six
#: smooth terms per channel.
FIT_SAMPLES = 1000


def _robust_fit(A: np.ndarray, y: np.ndarray, max_fit: int = FIT_SAMPLES) -> tuple[np.ndarray, float]:
    """Least-squares fit of every column of ``y`` on ``A`` (normal equations on at most
    ``max_fit`` evenly spread samples), robust to objects covering up to half the samples: it
    starts from the median (a constant), keeps the samples within 3 robust standard deviations
    (at least 3) of the current model, refits, three times (fewer when the kept samples stop
    changing).  Returns (coefficients, inlier threshold on the residual norm).

    Works on channel-major copies (terms × samples); the iterations run in compiled code
    (``_kernels.robust_fit``, for the quadratic surface's 6 terms and 3 channels), the numpy
    formulation below when the normal equations are singular (samples on a line: least squares)
    or the shapes differ."""
    n = len(A)
    idx = np.arange(0, n, max(1, n // max_fit))
    At = np.ascontiguousarray(A[idx].T, dtype=np.float64)  # terms × m
    Yt = np.ascontiguousarray(y[idx].T, dtype=np.float64)  # channels × m
    if At.shape[0] == 6 and Yt.shape[0] == 3 and At.shape[1]:
        coef = np.empty((6, 3))
        thr, singular = _k.robust_fit(At, Yt, coef)
        if not singular:
            return coef, thr
    return _robust_fit_numpy(At, Yt)


def _robust_fit_numpy(At: np.ndarray, Yt: np.ndarray) -> tuple[np.ndarray, float]:
    """``_robust_fit``'s iterations in numpy, on channel-major samples (any number of terms and
    channels; a singular system takes the least-squares solution); the kept samples enter the
    normal equations as 0/1 weights."""
    med = median(Yt.T, axis=0)
    D = Yt - med[:, None]
    r = np.sqrt((D * D).sum(axis=0))
    coef = np.zeros((At.shape[0], Yt.shape[0]))
    coef[0] = med
    thr = 3.0
    prev = None
    for _ in range(3):
        thr = max(3.0 * 1.4826 * float(median(r)), 3.0)
        keep = r <= thr
        if prev is not None and np.array_equal(keep, prev):
            break  # converged: the same samples give the same fit
        if np.count_nonzero(keep) < At.shape[0] * 4:
            break
        prev = keep
        Aw = At * keep
        ata, aty = Aw @ At.T, Aw @ Yt.T
        try:
            coef = np.linalg.solve(ata, aty)
        except np.linalg.LinAlgError:  # degenerate layout (samples on a line): least squares
            coef = np.linalg.lstsq(ata, aty, rcond=None)[0]
        D = Yt - coef.T @ At
        r = np.sqrt((D * D).sum(axis=0))
    return coef, thr


@dataclass
class BackgroundModel:
    """A quadratic surface fitted to the background's L*, a*, b* and what departs from it."""

    ys: np.ndarray  # grid row index of every background sample
    xs: np.ndarray  # grid column index
    lab: np.ndarray  # n×3 samples
    surface: np.ndarray  # n×3 fitted surface at the samples
    residual: np.ndarray  # n ΔE*ab between sample and surface
    coef: np.ndarray  # 6×3 polynomial coefficients (full-res coordinates scaled to −1…1)
    inliers: np.ndarray  # n bool: samples the final fit used
    colour: np.ndarray  # robust background colour (median of the inliers)
    area_fraction: float  # background region / image
    surface_grid: np.ndarray  # grid rows × grid columns × 3: the surface at every grid cell
    cache: dict = field(default_factory=dict)

    def surface_at(self, flat: np.ndarray) -> np.ndarray:
        """The fitted surface (n × 3) at the grid cells with flat indices ``flat``."""
        return rows(self.surface_grid.reshape(-1, 3), flat)


def background_model(ctx) -> BackgroundModel:
    """Robust quadratic fit of the background region's CIELAB (cached): fitted on the far
    background (more than 10 % of the width from the subject; the whole region if that is under
    3 % of the image), evaluated on the whole region.

    NotAssessable when the background region is under 3 % of the image (a subject filling the
    frame leaves no background to judge).
    """

    def make():
        g = grid(ctx)
        reg = subject_regions(ctx)
        frac = np.count_nonzero(reg.background) / reg.background.size
        if frac < 0.03:
            raise NotAssessable(
                "照片中可见的背景太少，无法评估背景",
                "too little background is visible to judge it",
                {"background_fraction": round(frac, 4)},
            )
        W = reg.background.shape[1]
        # fit on the far background (a shadow or halo next to the subject must not bend the
        # surface): FIT_SAMPLES cells evenly spread over the far background
        flat_all = np.flatnonzero(reg.background)
        far = reg.distance.ravel()[flat_all] > 0.10 * g.width
        if np.count_nonzero(far) < 0.03 * reg.background.size:
            far[:] = True
        fi = flat_all[np.flatnonzero(far)]
        fi = fi[:: max(1, len(fi) // FIT_SAMPLES)]
        fy, fx = np.divmod(fi, W)
        coef, thr = _robust_fit(_design(fy * g.step, fx * g.step, g.height, g.width),
                                rows(g.lab.reshape(-1, 3), fi), max_fit=FIT_SAMPLES)
        # the model's samples (colour, texture, surface range): background cells on every
        # BG_LATTICE-th row and column of the grid
        lat = reg.background[::BG_LATTICE, ::BG_LATTICE]
        flat_l = np.flatnonzero(lat)
        ys, xs = np.divmod(flat_l, lat.shape[1])
        ys *= BG_LATTICE
        xs *= BG_LATTICE
        sg = _surface_on_grid(coef, g)
        cells = ys * W + xs
        lab = rows(g.lab.reshape(-1, 3), cells)
        surf = rows(sg.reshape(-1, 3), cells)
        res = _rownorm(lab - surf)
        inl = res <= thr
        sub = np.flatnonzero(inl)
        colour = median(rows(lab, _spread(sub, 4000)), axis=0).astype(np.float64)
        return BackgroundModel(ys, xs, lab, surf, res, coef, inl, colour, frac, sg)

    return cached(ctx, "bg_model", make)


#: Directions in CIELAB (the axes, the face and the body diagonals) along which the surface's
#: extreme points are candidates for its largest colour difference.
_DIRECTIONS = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1], [0, 1, 1],
     [0, 1, -1], [1, 1, 1], [1, 1, -1], [1, -1, 1], [1, -1, -1]], np.float32).T


#: Pairs (by ΔE*ab) whose CIEDE2000 is computed in ``surface_range``.
_TOP_PAIRS = 12


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs i < j of ``n`` points (``np.triu_indices(n, 1)``, cached)."""
    return np.triu_indices(n, 1)


def surface_range(model: BackgroundModel, max_points: int = 32, tail: float = 1.0,
                  max_samples: int = 1500) -> dict[str, float]:
    """Spread of the fitted surface over the background region: the largest CIEDE2000 between
    two points of the surface, leaving out the ``tail`` % most extreme points of each of L*, a*,
    b* at either end (a fall-off confined to the frame's very corners is not a gradient of the
    backdrop); and the L*, a*, b* ranges of the points kept (cached on the model).

    The surface is smooth, so it is read at ``max_samples`` evenly spread samples of the region;
    the largest difference is searched among ``max_points`` evenly spread points plus the
    extreme points along the CIELAB axes and their diagonals (where the most distant colours of
    the surface lie)."""
    key = ("range", max_points, tail, max_samples)
    if key in model.cache:
        return model.cache[key]
    s = model.surface[:: max(1, -(-len(model.surface) // max_samples))]
    # channel-major copy: numpy reduces along the short axis of an n × 3 array very slowly
    st = np.ascontiguousarray(s.T)
    lo, hi = percentiles(st.T, (tail, 100.0 - tail))
    n = st.shape[1]
    keep = np.ones(n, bool)
    for c in range(3):
        keep &= (st[c] >= lo[c] - 1e-6) & (st[c] <= hi[c] + 1e-6)
    s = s[keep]
    st = np.ascontiguousarray(s.T)  # (indexing st along its rows would leave it column-major)
    n = len(s)
    proj = s @ _DIRECTIONS
    pick = set(_spaced(n, min(n, max_points)))
    pick.update(np.argmin(proj, axis=0).tolist())
    pick.update(np.argmax(proj, axis=0).tolist())
    p = s[sorted(pick)]
    i, j = _pairs(len(p))
    if len(i):
        # CIEDE2000 of the pairs farthest apart in ΔE*ab (the largest CIEDE2000 is among them)
        d76 = _rownorm((p[i] - p[j]).astype(np.float32))
        top = np.argpartition(d76, -_TOP_PAIRS)[-_TOP_PAIRS:] if len(d76) > _TOP_PAIRS else np.arange(len(d76))
        pl = p.astype(np.float64).tolist()
        de, i, j = max((delta_e_2000_pair(pl[a], pl[b]), a, b) for a, b in zip(i[top].tolist(), j[top].tolist()))
    else:
        de, i, j = 0.0, 0, 0
    rng = st.max(axis=1) - st.min(axis=1)
    out = {
        "delta_e": de,
        "l_range": float(rng[0]),
        "a_range": float(rng[1]),
        "b_range": float(rng[2]),
        "from": p[i].tolist(),
        "to": p[j].tolist(),
    }
    model.cache[key] = out
    return out


def _spaced(n: int, m: int) -> list[int]:
    """``np.linspace(0, n - 1, m).astype(int).tolist()`` (the same float64 arithmetic, m ≥ 1)
    without numpy's overhead for a few dozen values."""
    if m == 1:
        return [0]
    step = (n - 1) / (m - 1)
    return [int(k * step) for k in range(m - 1)] + [n - 1]


@dataclass(frozen=True)
class Blob:
    """A connected background region departing from the model."""

    area_fraction: float  # of the image
    bbox: tuple[int, int, int, int]  # full-res x, y, w, h
    median_delta_e: float  # CIEDE2000 to the model, median over the blob


def background_blobs(ctx, min_delta_e: float, min_area: float) -> list[Blob]:
    """Connected regions of the background (grid, 8-connected) whose CIEDE2000 to the fitted
    surface exceeds ``min_delta_e``, with area ≥ ``min_area`` (fraction of the image), largest
    first.  Other person-mask components count as background here."""
    import cv2

    key = ("blobs", round(min_delta_e, 4), round(min_area, 6))
    model = background_model(ctx)
    if key in model.cache:
        return model.cache[key]
    g = grid(ctx)
    reg = subject_regions(ctx)
    # every cell of the region against the surface, on the whole grid at once: ΔE76 ≥ ΔE00/1.6
    # for these colours, a cheap prefilter before the exact CIEDE2000
    hit = np.empty(reg.background.shape, np.uint8)
    _k.far_from_surface(g.lab, model.surface_grid, reg.background.view(np.uint8), min_delta_e / 1.6, hit)
    hit = hit.view(bool)
    at = np.flatnonzero(hit)
    cell = g.step * g.step / float(g.height * g.width)
    if len(at):
        # a blob lies inside one connected group of candidates: only groups of at least the
        # smallest object's area need the exact CIEDE2000
        _, labels, stats, _ = cv2.connectedComponentsWithStats(hit.view(np.uint8), connectivity=8)
        big = stats[:, cv2.CC_STAT_AREA] * cell >= min_area
        big[0] = False
        at = at[big[labels.ravel()[at]]]
        hit[:] = False
    if len(at):
        de = delta_e_2000(rows(g.lab.reshape(-1, 3), at), model.surface_at(at), single=True)
        hit.ravel()[at[de > min_delta_e]] = True
        de_map = np.zeros(reg.background.shape, np.float32)
        de_map.ravel()[at] = de
    out: list[Blob] = []
    if hit.any():
        n, labels, stats, _ = cv2.connectedComponentsWithStats(hit.view(np.uint8), connectivity=8)
        for k in (np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] * cell >= min_area) + 1).tolist():
            x, y, bw, bh = (int(v) * g.step for v in stats[k, :4])
            med = float(median(de_map[labels == k]))
            out.append(Blob(float(stats[k, cv2.CC_STAT_AREA] * cell), (x, y, bw, bh), med))
    out.sort(key=lambda b: -b.area_fraction)
    model.cache[key] = out
    return out


# --------------------------------------------------------------------------- shadow profile


def shadow_profile(ctx) -> dict[str, Any]:
    """Darkening of the background next to the subject's silhouette (cached).

    The background model's L* surface (fitted on the far background, farther than 10 % of the
    width from the subject) is extrapolated to the band 1.5–8 % of the width from the
    silhouette, and the L* residual there is summarised per side (left/right of the head,
    left/right of the body, above the head) and per 1 %-wide distance bin.  The shadow depth is
    the largest median darkening of any side and bin.
    """

    def make():
        g = grid(ctx)
        reg = subject_regions(ctx)
        face = _face_or_none(ctx)
        W = g.width
        d = reg.distance
        edge_cells = int(np.ceil(reg.edge / g.step))
        inside = np.zeros(d.shape, bool)
        inside[edge_cells:-edge_cells, edge_cells:-edge_cells] = True
        others_far = _dilate(reg.others, int(np.ceil(0.03 * W / g.step)))
        usable = inside & ~others_far & ~reg.subject
        far = usable & (d > 0.10 * W)
        if np.count_nonzero(far) < 0.03 * d.size:
            far = reg.background & ~others_far
        if np.count_nonzero(far) < 200:
            raise NotAssessable("背景太少，无法评估阴影", "too little background to judge shadows")
        model = background_model(ctx)
        L = g.lightness
        d0, d1 = 0.015 * W, 0.08 * W
        cx = face.face_center_x if face is not None else W / 2.0
        fw = face.face_width if face is not None else 0.5 * W
        head_y = face.chin_y if face is not None else g.height / 2.0
        top_y = face.eye_line_y if face is not None else g.height / 3.0
        # the band d0…d1 from the silhouette by side — 1 left / 2 right of the head (above the
        # chin), 3 / 4 of the body (beyond a quarter face width from its centre), 0 above the
        # head (within it, above the eyes) — and by distance bin; per group the count and the
        # median L* residual to the surface (compiled code)
        names = ["above_head", "left_of_head", "right_of_head", "left_of_body", "right_of_body"]
        bin_w = 0.01 * W
        nb = int(np.ceil((d1 - d0) / bin_w))
        meds = np.empty(5 * nb)
        counts = np.empty(5 * nb, np.intp)
        if not _k.shadow_groups(d, usable.view(np.uint8), L, model.surface_grid, g.step, d0, d1, bin_w,
                                nb, cx, fw, head_y, top_y, meds, counts):
            raise NotAssessable("轮廓旁没有背景，无法评估阴影", "no background next to the silhouette")
        min_count = max(12, int(0.02 * W))
        sides: dict[str, float] = {}
        best = (0.0, None, None)
        for grp in np.flatnonzero(counts >= min_count).tolist():
            k, j = divmod(grp, nb)
            dep = -float(meds[grp])
            nm = names[k]
            if nm not in sides or dep > sides[nm]:
                sides[nm] = round(dep, 2)
            if dep > best[0]:
                best = (dep, nm, d0 + (j + 0.5) * bin_w)
        far_l = float(median(_spread(L[far], 4000)))
        return {"depth": best[0], "side": best[1], "distance_px": best[2], "sides": sides,
                "far_lightness": far_l}

    return cached(ctx, "shadow", make)


def _dilate(m: np.ndarray, r: int) -> np.ndarray:
    """``m`` dilated by a disc of radius ``r`` px (an elliptical kernel; for large radii the
    same disc from a distance transform, which costs the same whatever the radius)."""
    import cv2

    if r <= 0 or not m.any():
        return m
    if r >= 6:
        return cv2.distanceTransform((~m.astype(bool)).view(np.uint8), cv2.DIST_L2, 5) <= r
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(m.astype(np.uint8), k).astype(bool)


def _erode(m: np.ndarray, r: int) -> np.ndarray:
    """``m`` eroded by a disc of radius ``r`` px (see ``_dilate``)."""
    import cv2

    if r <= 0:
        return m
    if r >= 6:
        return cv2.distanceTransform(m.astype(bool).view(np.uint8), cv2.DIST_L2, 5) > r
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.erode(m.astype(np.uint8), k).astype(bool)


# --------------------------------------------------------------------------- face regions


@dataclass(frozen=True)
class FaceRegions:
    """Face regions on the grid, from the FaceMesh landmarks, within the face's box on the grid
    (``box``: the grid slices; the masks have the box's shape)."""

    skin: np.ndarray  # bool: face oval minus eyes, brows and lips, minus the upper forehead
    left: np.ndarray  # bool: cheek band, image-left of the facial midline
    right: np.ndarray  # bool: cheek band, image-right of the midline
    iod: float  # inter-ocular (iris centre) distance, full-res px
    box: tuple[slice, slice]  # grid rows, grid columns of the masks

    @property
    def origin(self) -> tuple[int, int]:
        """Grid (row, column) of the box's top-left cell."""
        return self.box[0].start, self.box[1].start


def face_regions(ctx) -> FaceRegions:
    """Skin and left/right cheek regions of the face (cached; NotAssessable without a face).

    Skin: the face-oval polygon minus the eye openings (dilated by 15 % of the inter-ocular
    distance), the eyebrows and the lips, keeping only the lower part of the forehead (fringes).
    Cheek bands: skin between the lower eyelids and the mouth corners, 0.2–0.75 inter-ocular
    distances either side of the facial midline (nose bridge → nose tip → chin): the nose's own
    shading and the face's turning-away edge are left out.  Computed in the face oval's box.
    """

    def make():
        g = grid(ctx)
        face = ctx.face
        lm = face.landmarks
        s = g.step
        gh, gw = g.lab.shape[:2]
        iod = float(np.hypot(face.right_eye[0] - face.left_eye[0], face.right_eye[1] - face.left_eye[1]))
        if iod < 8:
            raise NotAssessable("人脸太小，无法评估", "the face is too small to assess")
        oval = lm[ix(FACE_OVAL), :2]
        r0 = min(max(int(np.floor(oval[:, 1].min() / s)) - 1, 0), gh - 1)
        r1 = max(min(int(np.ceil(oval[:, 1].max() / s)) + 2, gh), r0 + 1)
        c0 = min(max(int(np.floor(oval[:, 0].min() / s)) - 1, 0), gw - 1)
        c1 = max(min(int(np.ceil(oval[:, 0].max() / s)) + 2, gw), c0 + 1)
        shape = (r1 - r0, c1 - c0)
        off = (c0 * s, r0 * s)
        skin = polygon_mask(shape, [(oval, 0)], off, s)
        r_eye = max(1, int(round(0.15 * iod / s)))
        r_brow = max(1, int(round(0.08 * iod / s)))
        r_lips = max(1, int(round(0.05 * iod / s)))
        cut = polygon_mask(shape, [(lm[ix(EYE_L_CONTOUR)], r_eye), (lm[ix(EYE_R_CONTOUR)], r_eye),
                                     (_hull(lm[ix(BROW_L)]), r_brow), (_hull(lm[ix(BROW_R)]), r_brow),
                                     (lm[ix(LIPS_OUTER)], r_lips)], off, s)
        skin &= ~cut
        brow_top = float(min(lm[ix(BROW_L), 1].min(), lm[ix(BROW_R), 1].min()))
        forehead_cut = brow_top - 0.35 * max(brow_top - face.forehead_y, 0.0)
        ys = np.arange(r0, r1)[:, None] * s
        xs = np.arange(c0, c1)[None, :] * s
        skin &= ys >= forehead_cut
        # midline through nose bridge, nose tip and chin (piecewise linear in y)
        mid = lm[[NOSE_BRIDGE, NOSE_TIP, CHIN], :2]
        order = np.argsort(mid[:, 1])
        xm = np.interp(ys[:, 0], mid[order, 1], mid[order, 0])[:, None]
        top = max(face.left_eye[1], face.right_eye[1]) + 0.25 * iod
        bottom = float(lm[ix(MOUTH_CORNERS), 1].mean())
        band = skin & (ys >= top) & (ys <= bottom)
        gap, reach = 0.2 * iod, 0.75 * iod
        left = band & (xs < xm - gap) & (xs > xm - reach)
        right = band & (xs > xm + gap) & (xs < xm + reach)
        if np.count_nonzero(skin) < 30 or np.count_nonzero(left) < 10 or np.count_nonzero(right) < 10:
            raise NotAssessable("无法确定面部皮肤区域", "cannot locate the facial skin")
        return FaceRegions(skin, left, right, iod, (slice(r0, r1), slice(c0, c1)))

    return cached(ctx, "face", make)


def skin_lab(ctx) -> np.ndarray:
    """CIELAB of the facial-skin grid cells (n × 3, cached; NotAssessable without a face)."""

    def make():
        fr = face_regions(ctx)
        box = np.ascontiguousarray(grid(ctx).lab[fr.box]).reshape(-1, 3)
        return rows(box, np.flatnonzero(fr.skin))

    return cached(ctx, "skin_lab", make)


def skin_colour(ctx) -> np.ndarray:
    """Median CIELAB of the facial skin (cached)."""
    return cached(ctx, "skin_colour", lambda: median(skin_lab(ctx), axis=0))


def face_crop(ctx, pad: float = 0.25) -> tuple[np.ndarray, tuple[int, int]]:
    """Full-resolution RGB crop around the eyes, brows, nose and mouth (``pad`` × IOD around
    their landmarks) and its top-left (x, y)."""
    face = ctx.face
    lm = face.landmarks
    iod = float(np.hypot(face.right_eye[0] - face.left_eye[0], face.right_eye[1] - face.left_eye[1]))
    idx = list(EYE_L_CONTOUR + EYE_R_CONTOUR + BROW_L + BROW_R + LIPS_OUTER) + [NOSE_TIP]
    p = lm[idx, :2]
    h, w = ctx.rgb.shape[:2]
    x0 = int(max(0, np.floor(p[:, 0].min() - pad * iod)))
    x1 = int(min(w, np.ceil(p[:, 0].max() + pad * iod)))
    y0 = int(max(0, np.floor(p[:, 1].min() - pad * iod)))
    y1 = int(min(h, np.ceil(p[:, 1].max() + pad * iod)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise NotAssessable("人脸区域太小，无法评估", "the face region is too small to assess")
    return np.asarray(ctx.rgb)[y0:y1, x0:x1], (x0, y0)


def inter_ocular(ctx) -> float:
    """Distance between the iris centres in full-res px."""
    f = ctx.face
    return float(np.hypot(f.right_eye[0] - f.left_eye[0], f.right_eye[1] - f.left_eye[1]))


def _eye_parts(ctx) -> dict:
    """Iris (x, y, radius), eye-opening contour and brow points of each eye by image side
    (cached: several checks read them)."""

    def make():
        lm = ctx.face.landmarks
        parts = {}
        for c, ring, cont, brow in ((IRIS_L_CENTRE, IRIS_L_RING, EYE_L_CONTOUR, BROW_L),
                                    (IRIS_R_CENTRE, IRIS_R_RING, EYE_R_CONTOUR, BROW_R)):
            cx, cy = float(lm[c, 0]), float(lm[c, 1])
            r = float(np.mean(np.hypot(lm[ix(ring), 0] - cx, lm[ix(ring), 1] - cy)))
            parts[c] = ((cx, cy, r), lm[ix(cont), :2], lm[ix(brow), :2])
        a, b = parts[IRIS_L_CENTRE], parts[IRIS_R_CENTRE]
        out = {}
        # each part goes to the side its own landmarks are on (as the separate look-ups did)
        out["iris"] = dict(zip(("left", "right"), (a[0], b[0]) if a[0][0] <= b[0][0] else (b[0], a[0])))
        out["eye"] = dict(zip(("left", "right"), (a[1], b[1]) if a[1][:, 0].mean() <= b[1][:, 0].mean() else (b[1], a[1])))
        out["brow"] = dict(zip(("left", "right"), (a[2], b[2]) if a[2][:, 0].mean() <= b[2][:, 0].mean() else (b[2], a[2])))
        return out

    return cached(ctx, "eye_parts", make)


def iris(ctx, side: str) -> tuple[float, float, float]:
    """Iris centre (x, y) and radius (mean distance of the 4 iris-ring landmarks) of the eye on
    the image's ``side`` ("left" or "right")."""
    return _eye_parts(ctx)["iris"][side]


def eye_contour(ctx, side: str) -> np.ndarray:
    """The eye-opening contour (16×2, full-res) of the eye on the image's ``side``."""
    return _eye_parts(ctx)["eye"][side]


def brow_points(ctx, side: str) -> np.ndarray:
    """The eyebrow landmarks (10×2, full-res) on the image's ``side``."""
    return _eye_parts(ctx)["brow"][side]


# --------------------------------------------------------------------------- clothing


@dataclass(frozen=True)
class Clothing:
    """Clothing and the background beside it."""

    colour: np.ndarray  # median CIELAB of the clothing samples
    background: np.ndarray  # median CIELAB of the background beside the shoulders
    samples: int
    area_fraction: float
    lab: np.ndarray  # n×3 clothing samples


def clothing(ctx) -> Clothing:
    """Clothing samples and the background beside them (cached).

    Clothing = the subject's mask below the chin (+20 % of the face width) and more than 0.35
    face widths either side of the face centre — shoulders and chest, leaving out the neck —
    eroded by 1.5 % of the width (the silhouette's soft edge), minus pixels whose colour is
    within ΔE*ab 12 of the face's skin (a V-neck, bare shoulders, a hand).  The background beside them
    is the background region below the eye line (the whole background region if that is small).
    """

    def make():
        g = grid(ctx)
        reg = subject_regions(ctx)
        face = ctx.face
        ys, xs = g.coords()
        W = g.width
        r0 = min(int(np.ceil((face.chin_y + 0.2 * face.face_width) / g.step)), len(ys))  # first row below
        e = int(np.ceil(reg.edge / g.step))
        # erode the subject below the chin (a margin of the erosion radius above: no edge effect)
        rad = max(1, int(round(0.015 * W / g.step)))
        top = max(0, r0 - rad - 1)
        subj = _erode(reg.subject[top:], rad)[r0 - top:]
        m = subj & (np.abs(xs[None, :] - face.face_center_x) >= 0.35 * face.face_width)
        m[max(0, m.shape[0] - e):] = False
        m[:, :e] = m[:, -e:] = False
        cy, cx = nonzero2d(m)
        lab = rows(g.lab.reshape(-1, 3), (cy + r0) * g.lab.shape[1] + cx)
        try:
            fr = face_regions(ctx)
            skin = skin_colour(ctx)
            lab = rows(lab, np.flatnonzero(_rownorm(lab - skin) >= 12.0))
        except NotAssessable:
            pass
        frac = len(lab) * g.step * g.step / float(g.width * g.height)
        if frac < 0.005:
            raise NotAssessable(
                "照片中看不到衣着（肩部），无法评估衣着与背景的区分",
                "no clothing (shoulders) visible, so its contrast with the background cannot be judged",
                {"clothing_fraction": round(frac, 4)},
            )
        model = background_model(ctx)
        by = model.ys * g.step
        near = by >= face.eye_line_y
        bgs = rows(model.lab, np.flatnonzero(near & model.inliers))
        if len(bgs) < 100:
            bgs = rows(model.lab, np.flatnonzero(model.inliers))
        return Clothing(median(_spread(lab, 4000), axis=0).astype(np.float64),
                        median(_spread(bgs, 4000), axis=0).astype(np.float64), len(lab), frac, lab)

    return cached(ctx, "clothing", make)


# --------------------------------------------------------------------------- focus

#: Variance (px²) the 3×3 Sobel derivative adds to an edge's Gaussian width, measured on ideal
#: synthetic step edges at 0°, 20° and 45° (the estimator's own blur, subtracted from every
#: estimate).
SOBEL_EDGE_VARIANCE = 0.48


def edge_blur_sigma(gray: np.ndarray, reblur: float = 2.0, percentile: float = 90.0) -> tuple[float, int]:
    """Gaussian blur σ (px) of the strong edges of ``gray``, and how many edge pixels it used.

    Re-blur estimator: for a step edge blurred by σ, the peak gradient is A/(√(2π)·σ); blurring
    again with ``reblur`` lowers it to A/(√(2π)·√(σ² + reblur²)).  So at every edge pixel (local
    maximum of the gradient along its direction, among the ``percentile`` strongest gradients)
    the ratio R of the two gradients gives σ² = reblur²/(R² − 1), independent of the edge's
    contrast.  The median over edge pixels is robust to noise and JPEG blocking (weak, so never
    among the strongest gradients) and to thin lines (which bias single pixels, not the median).
    """
    r = reblur_ratios(edge_gradients(gray, reblur, percentile))
    if len(r) < 20:
        return float("nan"), int(len(r))
    s2 = reblur * reblur / (r * r - 1.0) - SOBEL_EDGE_VARIANCE
    return float(np.sqrt(max(float(median(s2)), 0.0))), int(len(r))


#: Border (px) the blur estimator leaves out: the Sobel and non-maximum-suppression stencils
#: need their neighbours, and crop edges are not edges of the face.
BLUR_MARGIN = 4


def edge_gradients(gray: np.ndarray, reblur: float = 2.0, percentile: float = 90.0):
    """What the re-blur estimator reads (float32 arrays): the Sobel derivatives ``gx``, ``gy``
    of ``gray`` and their magnitude ``g0``, the image re-blurred by ``reblur`` and the threshold
    of the ``percentile`` strongest gradients ``BLUR_MARGIN`` px inside the border — or None
    when the image is too small (under 100 px inside that border)."""
    import cv2

    g = np.ascontiguousarray(gray, dtype=np.float32)
    h, w = g.shape
    m = BLUR_MARGIN
    if h <= 2 * m or w <= 2 * m or (h - 2 * m) * (w - 2 * m) < 100:
        return None
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    # (not cv2.magnitude: its result depends on the arrays' memory alignment, by a rounding,
    # which made the estimate differ from run to run on the same photo)
    g0 = np.empty_like(gx)
    _k.magnitude(gx, gy, g0)
    inner = g0[m:h - m, m:w - m]
    # the percentile from ≤ 4000 values on a regular lattice (a partial sort of the whole crop costs
    # more than everything else here; the threshold only selects the strong edges)
    st = max(1, int(math.ceil(math.sqrt(inner.size / 4000.0))))
    thr = max(float(percentiles(inner[::st, ::st].ravel(), (percentile,))[0]), 1e-3)
    return gx, gy, g0, cv2.GaussianBlur(g, (0, 0), reblur), np.float32(thr)


def reblur_ratios(grads) -> np.ndarray:
    """The re-blur ratios of ``edge_blur_sigma`` from ``edge_gradients``' output (float32,
    row-major order; empty for None): at the gradients at or above its threshold that are local
    maxima along their direction (non-maximum suppression, the unit gradient's components
    rounded to −1, 0, 1), the gradient over the re-blurred image's Sobel gradient, where above
    1.0005 (compiled code, ``_kernels.edge_reblur_ratios``)."""
    if grads is None:
        return np.empty(0, np.float32)
    gx, gy, g0, b, thr = grads
    h, w = g0.shape
    m = BLUR_MARGIN
    r = np.empty((h - 2 * m) * (w - 2 * m), np.float32)
    return r[:_k.edge_reblur_ratios(gx, gy, g0, b, thr, m, np.float32(1.0005), r)]


def face_blur(ctx, iod_norm: float = 100.0) -> dict[str, float]:
    """Blur σ of the face (eyes, brows, nose, mouth) resampled so the inter-ocular distance is
    ``iod_norm`` px: σ in px at that scale, i.e. per ``iod_norm`` px of inter-ocular distance,
    so it does not depend on the face's size in the photo (cached)."""

    def make():
        import cv2

        crop, (x0, y0) = face_crop(ctx, pad=0.25)
        iod = inter_ocular(ctx)
        k = iod_norm / iod
        gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, None, fx=k, fy=k, interpolation=interp)
        sigma, n = edge_blur_sigma(gray)
        if not np.isfinite(sigma):
            raise NotAssessable("脸部没有足够的清晰边缘，无法评估清晰度",
                                "not enough edges on the face to judge sharpness", {"edge_pixels": n})
        return {"sigma": sigma, "edges": n, "iod": iod, "scale": k}

    return cached(ctx, "blur", make)


# --------------------------------------------------------------------------- borders


def border_scan(rgb: np.ndarray, max_fraction: float = 0.2, tol: float = 12.0) -> dict[str, dict]:
    """Uniform strips along each edge of ``rgb`` and their contrast with the adjacent interior.

    For each edge, lines parallel to it are read from the edge inwards; a line is *uniform* when
    90 % of its pixels are within ``tol`` 8-bit luma levels of the line's mean (luma: JPEG
    subsamples chroma, so a thin line's colour bleeds), its mean luma is within ``tol``/2 of the
    outermost line's and, from the third line on, its mean colour within ``tol``/2 of the second
    line's.  The strip is the run of uniform lines from the edge (none if the whole
    ``max_fraction`` of the image is uniform: that is background, not a border).  Its contrast is
    the median CIEDE2000 between the strip's colour (its lines but the innermost, which JPEG
    blends with the interior) and the pixels of the second line past it.

    The first 8 lines are read pixel by pixel; deeper lines (only reached along a plain edge)
    from every other pixel, and line colours always from every other pixel: a line's mean and
    its share of pixels near the mean are the same statistic either way, and a line drawn
    parallel to the edge changes the line's mean however it is sampled.
    """
    import cv2

    a = np.ascontiguousarray(rgb)
    h, w = a.shape[:2]
    out: dict[str, dict] = {}
    for name in ("top", "bottom", "left", "right"):
        dim = h if name in ("top", "bottom") else w
        k = max(3, int(max_fraction * dim))
        width = k
        first_l = second = None
        # lines in chunks of growing size (most edges stop at the first or second line); the
        # colours only of lines whose luma is uniform
        c0, size = 0, 8
        while c0 < k:
            c1 = min(k, c0 + size)
            # past the first chunk every other pixel of each line (a line parallel to the edge
            # changes its mean whatever the sampling along it)
            lm, ok = _uniform_lines(a, name, c0, c1, tol, along=1 if c0 == 0 else 2)
            if first_l is None:
                first_l = float(lm[0])
            ok = ok & (np.abs(lm - first_l) <= tol / 2)
            n_ok = len(ok) if ok.all() else int(np.argmin(ok))
            # chroma is subsampled by JPEG (the outermost line borrows it from the next): compare
            # colours from the third line on with the second line's
            lo = max(c0, 2)
            col = None
            if c0 == 0 and n_ok >= 3:  # (two lines end the strip here: no colour to compare)
                col = _edge_colour(a, name, 1, n_ok)
                second, col = col[0], col[1:]
            elif c0 + n_ok > lo:
                col = _edge_colour(a, name, lo, c0 + n_ok)
            if col is not None and len(col):
                same = (np.abs(col - second) <= tol / 2).all(axis=1)
                if not same.all():
                    n_ok = lo - c0 + int(np.argmin(same))
            if n_ok < c1 - c0:
                width = c0 + n_ok
                break
            c0, size = c1, size * 2
        if width == 0 or width >= k - 2:
            out[name] = {"width": 0, "contrast": 0.0}
            continue
        # the strip's colour: its lines clear of the JPEG transition at its inner edge (all but
        # the innermost); the interior: the second line past the strip
        colour = np.array(cv2.mean(_edge_block(a, name, 0, max(1, width - 1)))[:3])
        j = min(width + 2, k - 1)
        line = np.ascontiguousarray(_edge_block(a, name, j, j + 1)).reshape(-1, 3)
        interior = rgb_to_lab(line[:: max(1, len(line) // 256)])  # ≤ 512 evenly spread pixels
        contrast = float(median(delta_e_2000(interior, rgb_to_lab(colour))))
        out[name] = {"width": int(width), "contrast": contrast,
                     "colour_rgb": [int(round(v)) for v in colour]}
    return out


#: Edge codes of the border kernels.
_EDGES = {"top": 0, "bottom": 1, "left": 2, "right": 3}


def _uniform_lines(a: np.ndarray, edge: str, c0: int, c1: int, tol: float,
                   along: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For lines ``c0``…``c1`` − 1 parallel to ``edge`` of the C-contiguous uint8 RGB image
    ``a`` (counted from the edge), every ``along``-th pixel of each: the mean BT.601 luma
    (OpenCV's 8-bit RGB→GRAY; float32, the integer sum times the float32 reciprocal of the
    count, as ``cv2.reduce(…, REDUCE_AVG)`` gives it) and whether 90 % of the pixels' luma is
    within ``tol`` of that mean.  One pass in compiled code (``_kernels.edge_line_luma``)."""
    lm = np.empty(c1 - c0, np.float32)
    ok = np.empty(c1 - c0, np.uint8)
    _k.edge_line_luma(a, _EDGES[edge], c0, c1, along, tol, lm, ok)
    return lm, ok.view(bool)


def _edge_block(a: np.ndarray, edge: str, c0: int, c1: int) -> np.ndarray:
    """The band of lines ``c0``…``c1`` − 1 parallel to ``edge`` (counted from it), as stored."""
    h, w = a.shape[:2]
    if edge == "top":
        return a[c0:c1]
    if edge == "bottom":
        return a[h - c1:h - c0]
    if edge == "left":
        return a[:, c0:c1]
    return a[:, w - c1:w - c0]


def _edge_colour(a: np.ndarray, edge: str, c0: int, c1: int) -> np.ndarray:
    """Mean colour (lines × 3, float32, as ``cv2.reduce(…, REDUCE_AVG)`` gives it) of lines
    ``c0``…``c1`` − 1 parallel to ``edge``, in order from the edge, from every other pixel of
    each line (``_kernels.edge_line_colour``)."""
    col = np.empty((c1 - c0, 3), np.float32)
    _k.edge_line_colour(a, _EDGES[edge], c0, c1, col)
    return col
