# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels: arithmetic that numpy would spread over dozens of small array passes.

The measurements call these through the Python functions that document them (for example
``measure.color.delta_e_2000``); ``tests/test_measure_kernels.py`` checks each against a plain
definition.  They take numpy arrays as typed memoryviews, so building them needs no numpy
headers, only Cython and a C compiler (``setup.py``).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.math cimport M_PI, atan2, ceilf, cos, exp, fabs, floorf, sin, sqrt, sqrtf

ctypedef fused real_a:
    float
    double

ctypedef fused real_b:
    float
    double

cdef double _25_7 = 6103515625.0  # 25**7
cdef double _DEG = 180.0 / M_PI
cdef double _RAD = M_PI / 180.0
# T = 1 − 0.17 cos(h̄ − 30°) + 0.24 cos(2h̄) + 0.32 cos(3h̄ + 6°) − 0.20 cos(4h̄ − 63°), expanded
cdef double _T1C = -0.17 * cos(30.0 * M_PI / 180.0)
cdef double _T1S = -0.17 * sin(30.0 * M_PI / 180.0)
cdef double _T3C = 0.32 * cos(6.0 * M_PI / 180.0)
cdef double _T3S = -0.32 * sin(6.0 * M_PI / 180.0)
cdef double _T4C = -0.20 * cos(63.0 * M_PI / 180.0)
cdef double _T4S = -0.20 * sin(63.0 * M_PI / 180.0)


cdef inline double _pow7(double x) noexcept nogil:
    cdef double x2 = x * x
    return x2 * x2 * x2 * x


cdef double _de00(double L1, double a1, double b1, double L2, double a2, double b2,
                  double kl, double kc, double kh) noexcept nogil:
    """CIEDE2000 of one pair (Sharma, Wu & Dalal 2005), with the hue terms from unit hue
    vectors as ``measure.color.delta_e_2000`` documents; exactly opposite hues take Sharma's
    angle rules."""
    cdef double c_bar, c7, g1, ap1, ap2, cp1, cp2, ux1, uy1, ux2, uy2, cc, dl, dc, ex, ey, dH
    cdef double vx, vy, vn, c1, s1, c2, s2, c3, s3, c4, s4, t, h_bar, d_theta, cp_bar, cp7
    cdef double l50, sl, sc, sh, rt, tl, tc, th, h1, h2, hs, hd, hb, v
    c_bar = (sqrt(a1 * a1 + b1 * b1) + sqrt(a2 * a2 + b2 * b2)) * 0.5
    c7 = _pow7(c_bar)
    g1 = 1.5 - 0.5 * sqrt(c7 / (c7 + _25_7))
    ap1 = a1 * g1
    ap2 = a2 * g1
    cp1 = sqrt(ap1 * ap1 + b1 * b1)
    cp2 = sqrt(ap2 * ap2 + b2 * b2)
    if cp1 > 0:
        ux1 = ap1 / cp1
        uy1 = b1 / cp1
    else:
        ux1 = uy1 = 0.0
    if cp2 > 0:
        ux2 = ap2 / cp2
        uy2 = b2 / cp2
    else:
        ux2 = uy2 = 0.0
    cc = cp1 * cp2
    dl = L2 - L1
    dc = cp2 - cp1
    ex = ux1 - ux2
    ey = uy1 - uy2
    dH = sqrt(cc * (ex * ex + ey * ey))
    if ux1 * uy2 - uy1 * ux2 < 0:
        dH = -dH
    vx = ux1 + ux2
    vy = uy1 + uy2
    vn = sqrt(vx * vx + vy * vy)
    if vn < 1e-9:
        if cc > 0:  # opposite hues: Sharma's angle rules decide the side of 180°
            h1 = atan2(b1, ap1) * _DEG
            h2 = atan2(b2, ap2) * _DEG
            h1 = h1 + 360.0 if h1 < 0 else h1
            h2 = h2 + 360.0 if h2 < 0 else h2
            hs = h1 + h2
            hd = h2 - h1
            if fabs(hd) <= 180.0:
                hb = hs / 2.0
            elif hs < 360.0:
                hb = (hs + 360.0) / 2.0
            else:
                hb = (hs - 360.0) / 2.0
            if hd > 180.0:
                hd -= 360.0
            elif hd < -180.0:
                hd += 360.0
            vx = cos(hb * _RAD)
            vy = sin(hb * _RAD)
            dH = 2.0 * sqrt(cc) * sin(hd * _RAD / 2.0)
        else:
            vx = 1.0
            vy = 0.0
        vn = 1.0
    c1 = vx / vn
    s1 = vy / vn
    c2 = c1 * c1 - s1 * s1
    s2 = 2.0 * s1 * c1
    c3 = c2 * c1 - s2 * s1
    s3 = s2 * c1 + c2 * s1
    c4 = c2 * c2 - s2 * s2
    s4 = 2.0 * s2 * c2
    t = 1.0 + _T1C * c1 + _T1S * s1 + 0.24 * c2 + _T3C * c3 + _T3S * s3 + _T4C * c4 + _T4S * s4
    h_bar = atan2(s1, c1) * _DEG
    h_bar += (360.0 - 275.0) if h_bar < 0 else -275.0
    d_theta = exp(h_bar * h_bar * (-1.0 / 625.0))
    cp_bar = (cp1 + cp2) * 0.5
    cp7 = _pow7(cp_bar)
    l50 = (L1 + L2) * 0.5 - 50.0
    l50 *= l50
    sl = 1.0 + 0.015 * l50 / sqrt(20.0 + l50)
    sc = 1.0 + 0.045 * cp_bar
    sh = 1.0 + 0.015 * cp_bar * t
    rt = sin(d_theta * (M_PI / 3.0)) * sqrt(cp7 / (cp7 + _25_7)) * -2.0
    tl = dl / (kl * sl)
    tc = dc / (kc * sc)
    th = dH / (kh * sh)
    v = tl * tl + tc * tc + th * th + rt * tc * th
    return sqrt(v) if v > 0 else 0.0


cpdef double delta_e_2000_one(double L1, double a1, double b1, double L2, double a2, double b2,
                              double kl=1.0, double kc=1.0, double kh=1.0):
    """CIEDE2000 between two colours (L*, a*, b* each)."""
    return _de00(L1, a1, b1, L2, a2, b2, kl, kc, kh)


def delta_e_2000_rows(const real_a[:, ::1] x1, const real_b[:, ::1] x2, double kl, double kc,
                      double kh, double[::1] out):
    """CIEDE2000 between the rows of ``x1`` and ``x2`` (n × 3, L*a*b*, float32 or float64;
    either may have a single row, compared with every row of the other) into ``out`` (n,),
    computed in double precision."""
    cdef Py_ssize_t n = out.shape[0], i, i1, i2
    cdef Py_ssize_t s1 = 1 if x1.shape[0] > 1 else 0
    cdef Py_ssize_t s2 = 1 if x2.shape[0] > 1 else 0
    if x1.shape[1] != 3 or x2.shape[1] != 3:
        raise ValueError("colours must be rows of 3 values")
    if (s1 and x1.shape[0] != n) or (s2 and x2.shape[0] != n) or x1.shape[0] == 0 or x2.shape[0] == 0:
        raise ValueError("row counts do not match")
    with nogil:
        for i in range(n):
            i1 = i * s1
            i2 = i * s2
            out[i] = _de00(x1[i1, 0], x1[i1, 1], x1[i1, 2], x2[i2, 0], x2[i2, 1], x2[i2, 2], kl, kc, kh)


# ---------------------------------------------------------------------------- border lines
# Edges: 0 top, 1 bottom, 2 left, 3 right.  Line i of an edge is the i-th row (top, bottom) or
# column (left, right) counted from that edge; its pixels run along the edge.

cdef inline Py_ssize_t _line_origin(Py_ssize_t h, Py_ssize_t w, int edge, Py_ssize_t line,
                                    Py_ssize_t *step, Py_ssize_t *count) noexcept nogil:
    """Flat pixel index of a line's first pixel; ``step`` between its pixels, ``count`` of them."""
    if edge == 0:
        step[0] = 1
        count[0] = w
        return line * w
    if edge == 1:
        step[0] = 1
        count[0] = w
        return (h - 1 - line) * w
    step[0] = w
    count[0] = h
    if edge == 2:
        return line
    return w - 1 - line


cdef inline int _gray(const unsigned char *p) noexcept nogil:
    # OpenCV's RGB→GRAY for 8-bit pixels: BT.601 weights in 15-bit fixed point, rounded (the
    # same value as cv2.cvtColor for all 2²⁴ colours, checked in tests/test_measure_kernels.py)
    return (p[0] * 9798 + p[1] * 19235 + p[2] * 3735 + 16384) >> 15


def edge_line_luma(const unsigned char[:, :, ::1] rgb, int edge, Py_ssize_t c0, Py_ssize_t c1,
                   Py_ssize_t along, double tol, float[::1] means, unsigned char[::1] ok):
    """For lines ``c0``…``c1`` − 1 of ``edge``, reading every ``along``-th pixel of each: the
    mean BT.601 luma (float32: the integer sum times the float32 reciprocal of the count), and
    whether at least 90 % of the pixels' luma lies within ``tol`` of that mean (``ok``)."""
    cdef Py_ssize_t h = rgb.shape[0], w = rgb.shape[1], i, j, o, step, count, n
    cdef const unsigned char *px = &rgb[0, 0, 0]
    cdef long s
    cdef int lo, hi, y, within
    cdef float m, ftol = <float>tol, inv, lo_f, hi_f
    cdef unsigned char *lum
    if rgb.shape[2] != 3 or means.shape[0] < c1 - c0 or ok.shape[0] < c1 - c0 or along < 1:
        raise ValueError("bad arguments")
    if c0 < 0 or c1 > (h if edge < 2 else w) or edge < 0 or edge > 3:
        raise ValueError("lines outside the image")
    _line_origin(h, w, edge, 0, &step, &count)
    n = (count + along - 1) // along
    inv = <float>(1.0 / n)
    lum = <unsigned char *>PyMem_Malloc(n)
    if lum == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(c1 - c0):
                o = _line_origin(h, w, edge, c0 + i, &step, &count)
                s = 0
                for j in range(n):
                    y = _gray(px + 3 * (o + j * along * step))
                    lum[j] = <unsigned char>y
                    s += y
                m = (<float>s) * inv
                means[i] = m
                # |luma − mean| ≤ tol in integers: luma in [⌈mean − tol⌉, ⌊mean + tol⌋]
                lo_f = ceilf(m - ftol)
                hi_f = floorf(m + ftol)
                lo = 0 if lo_f < 0 else <int>lo_f
                hi = 255 if hi_f > 255 else <int>hi_f
                within = 0
                for j in range(n):
                    if lo <= lum[j] <= hi:
                        within += 1
                ok[i] = within >= 0.9 * n
    finally:
        PyMem_Free(lum)


def edge_line_colour(const unsigned char[:, :, ::1] rgb, int edge, Py_ssize_t c0, Py_ssize_t c1,
                     float[:, ::1] out):
    """Mean colour (float32: integer sums times the float32 reciprocal of the count) of lines
    ``c0``…``c1`` − 1 of ``edge``, from every other pixel of each line, into ``out`` (lines × 3)."""
    cdef Py_ssize_t h = rgb.shape[0], w = rgb.shape[1], i, j, o, step, count, n, q
    cdef const unsigned char *px = &rgb[0, 0, 0]
    cdef const unsigned char *p
    cdef long s0, s1, s2
    cdef float inv
    if rgb.shape[2] != 3 or out.shape[0] < c1 - c0 or out.shape[1] != 3:
        raise ValueError("bad arguments")
    if c0 < 0 or c1 > (h if edge < 2 else w) or edge < 0 or edge > 3:
        raise ValueError("lines outside the image")
    _line_origin(h, w, edge, 0, &step, &count)
    n = (count + 1) // 2
    inv = <float>(1.0 / n)
    with nogil:
        for i in range(c1 - c0):
            o = _line_origin(h, w, edge, c0 + i, &step, &count)
            s0 = s1 = s2 = 0
            for j in range(n):
                p = px + 3 * (o + 2 * j * step)
                s0 += p[0]
                s1 += p[1]
                s2 += p[2]
            out[i, 0] = (<float>s0) * inv
            out[i, 1] = (<float>s1) * inv
            out[i, 2] = (<float>s2) * inv


# ---------------------------------------------------------------------------- background surface

def rows_times_3(const float[:, ::1] v, const float[:, ::1] k, float[:, ::1] out):
    """``out = v @ k`` for ``v`` n × 3 and ``k`` 3 × m (float32): the product a quadratic
    surface separates into, written out (BLAS is slow for an inner dimension of 3)."""
    cdef Py_ssize_t n = v.shape[0], m = k.shape[1], y, j
    cdef float v0, v1, v2
    if v.shape[1] != 3 or k.shape[0] != 3 or out.shape[0] != n or out.shape[1] != m:
        raise ValueError("shapes do not match")
    with nogil:
        for y in range(n):
            v0 = v[y, 0]
            v1 = v[y, 1]
            v2 = v[y, 2]
            for j in range(m):
                out[y, j] = v0 * k[0, j] + v1 * k[1, j] + v2 * k[2, j]


def far_from_surface(const float[:, :, ::1] lab, const float[:, :, ::1] surface,
                     const unsigned char[:, ::1] region, float threshold, unsigned char[:, ::1] hit):
    """``hit`` = the cells of ``region`` whose ΔE*ab (Euclidean CIELAB distance, float32) to
    ``surface`` exceeds ``threshold``; returns how many."""
    cdef Py_ssize_t h = lab.shape[0], w = lab.shape[1], y, x, count = 0
    cdef float d0, d1, d2
    if (lab.shape[2] != 3 or surface.shape[0] != h or surface.shape[1] != w or surface.shape[2] != 3
            or region.shape[0] != h or region.shape[1] != w or hit.shape[0] != h or hit.shape[1] != w):
        raise ValueError("shapes do not match")
    with nogil:
        for y in range(h):
            for x in range(w):
                if region[y, x]:
                    d0 = lab[y, x, 0] - surface[y, x, 0]
                    d1 = lab[y, x, 1] - surface[y, x, 1]
                    d2 = lab[y, x, 2] - surface[y, x, 2]
                    if sqrtf(d0 * d0 + d1 * d1 + d2 * d2) > threshold:
                        hit[y, x] = 1
                        count += 1
                        continue
                hit[y, x] = 0
    return count


# ---------------------------------------------------------------------------- edge blur

cdef inline float _sobel_mag(const float *f, Py_ssize_t i, Py_ssize_t w) noexcept nogil:
    # 3×3 Sobel magnitude at flat index i, in float32, in the order numpy evaluates
    # (ur + 2·rt + dr) − (ul + 2·lf + dl) and (dl + 2·dn + dr) − (ul + 2·up + ur)
    cdef float ul = f[i - w - 1], up = f[i - w], ur = f[i - w + 1]
    cdef float dl = f[i + w - 1], dn = f[i + w], dr = f[i + w + 1]
    cdef float lf = f[i - 1], rt = f[i + 1]
    # (x + x is 2·x exactly, in float: a literal 2 would make Cython compute in double)
    cdef float gx = ((ur + (rt + rt)) + dr) - ((ul + (lf + lf)) + dl)
    cdef float gy = ((dl + (dn + dn)) + dr) - ((ul + (up + up)) + ur)
    return sqrtf(gx * gx + gy * gy)


def edge_reblur_ratios(const float[:, ::1] gx, const float[:, ::1] gy, const float[:, ::1] g0,
                       const float[:, ::1] blurred, float threshold, Py_ssize_t margin,
                       float min_ratio, float[::1] out):
    """The re-blur ratios of ``measure.regions.edge_blur_sigma``: at every pixel at least
    ``margin`` px inside the border whose gradient magnitude ``g0`` is ≥ ``threshold`` and a
    local maximum along its gradient direction (quantised to 8 neighbours), the ratio of ``g0``
    to the Sobel magnitude of ``blurred`` there (floored at 1e-6); the ratios above
    ``min_ratio``, in row-major order, go to ``out``.  Returns how many."""
    cdef Py_ssize_t h = g0.shape[0], w = g0.shape[1], y, x, i, step, n = 0
    cdef const float *f0
    cdef const float *fb
    cdef float c, ux, uy, r, sb
    if (gx.shape[0] != h or gx.shape[1] != w or gy.shape[0] != h or gy.shape[1] != w
            or blurred.shape[0] != h or blurred.shape[1] != w or margin < 1):
        raise ValueError("shapes do not match")
    if h <= 2 * margin or w <= 2 * margin:
        return 0
    if out.shape[0] < (h - 2 * margin) * (w - 2 * margin):
        raise ValueError("output too small")
    f0 = &g0[0, 0]
    fb = &blurred[0, 0]
    with nogil:
        for y in range(margin, h - margin):
            for x in range(margin, w - margin):
                c = g0[y, x]
                if not (c >= threshold):
                    continue
                ux = gx[y, x] / c
                uy = gy[y, x] / c
                step = ((ux > 0.5) - (ux < -0.5)) + w * ((uy > 0.5) - (uy < -0.5))
                i = y * w + x
                if not (c >= f0[i + step] and c >= f0[i - step]):
                    continue
                sb = _sobel_mag(fb, i, w)
                if sb < <float>1e-6:
                    sb = <float>1e-6
                r = c / sb
                if r > min_ratio:
                    out[n] = r
                    n += 1
    return n


# ---------------------------------------------------------------------------- shadow profile

cdef double _select(double *a, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """The k-th smallest of a[0:n] (0-based), partially reordering ``a`` (quickselect, Hoare
    partition around the median of three)."""
    cdef Py_ssize_t lo = 0, hi = n - 1, i, j, mid
    cdef double pivot, t
    while hi > lo:
        mid = lo + (hi - lo) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while pivot < a[j]:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


cdef double _median(double *a, Py_ssize_t n) noexcept nogil:
    """Median of a[0:n] as numpy gives it (the mean of the middle two for even n)."""
    cdef Py_ssize_t k = (n - 1) // 2, i
    cdef double lo = _select(a, n, k), nxt
    if n % 2:
        return lo
    nxt = a[k + 1]
    for i in range(k + 2, n):  # (everything past k is ≥ the k-th after the selection)
        if a[i] < nxt:
            nxt = a[i]
    return (lo + nxt) * 0.5


def shadow_groups(const float[:, ::1] dist, const unsigned char[:, ::1] usable,
                  const float[:, ::1] lightness, const float[:, :, ::1] surface, Py_ssize_t step,
                  double d0, double d1, double bin_w, Py_ssize_t nb, double cx, double fw,
                  double head_y, double top_y, double[::1] medians, Py_ssize_t[::1] counts):
    """The groups of ``measure.regions.shadow_profile``: the usable cells at distance
    ``d0``…``d1`` from the subject, by side (0 above the head, 1/2 left/right of the head,
    3/4 of the body; cells elsewhere are left out) and by ``bin_w``-wide distance bin; for each
    group (side × ``nb`` + bin) the number of cells and the median L* residual to the surface
    (float64).  Returns the number of usable cells in the band (on any side).  The arithmetic is
    the numpy formulation's, in the same precision."""
    cdef Py_ssize_t h = dist.shape[0], w = dist.shape[1], y, x, g, ng = 5 * nb, total = 0, i, n_near = 0
    cdef float fd0 = <float>d0, fd1 = <float>d1, fbin = <float>bin_w, dv
    cdef double xl = cx - 0.25 * fw, xr = cx + 0.25 * fw, yy, xx
    cdef int sector, b, left, right
    cdef Py_ssize_t *start
    cdef Py_ssize_t *fill
    cdef double *vals
    cdef Py_ssize_t *key
    cdef float *res
    if (usable.shape[0] != h or usable.shape[1] != w or lightness.shape[0] != h or lightness.shape[1] != w
            or surface.shape[0] != h or surface.shape[1] != w or surface.shape[2] != 3
            or medians.shape[0] < ng or counts.shape[0] < ng or nb < 1):
        raise ValueError("shapes do not match")
    key = <Py_ssize_t *>PyMem_Malloc(h * w * sizeof(Py_ssize_t))
    res = <float *>PyMem_Malloc(h * w * sizeof(float))
    vals = <double *>PyMem_Malloc(h * w * sizeof(double))
    start = <Py_ssize_t *>PyMem_Malloc((ng + 1) * sizeof(Py_ssize_t))
    fill = <Py_ssize_t *>PyMem_Malloc((ng + 1) * sizeof(Py_ssize_t))
    if key == NULL or res == NULL or vals == NULL or start == NULL or fill == NULL:
        PyMem_Free(key); PyMem_Free(res); PyMem_Free(vals); PyMem_Free(start); PyMem_Free(fill)
        raise MemoryError()
    with nogil:
        for g in range(ng):
            counts[g] = 0
        for y in range(h):
            yy = <double>(y * step)
            for x in range(w):
                dv = dist[y, x]
                if not usable[y, x] or not (dv >= fd0) or not (dv < fd1):
                    continue
                n_near += 1
                xx = <double>(x * step)
                left = xx < xl
                right = xx > xr
                sector = 1 if left else (2 if right else -1)
                if yy >= head_y and (left or right):
                    sector += 2
                if yy < top_y and not left and not right:
                    sector = 0
                if sector < 0:
                    continue
                b = <int>floorf((dv - fd0) / fbin)
                b = 0 if b < 0 else (<int>nb - 1 if b > nb - 1 else b)
                g = sector * nb + b
                key[total] = g
                res[total] = lightness[y, x] - surface[y, x, 0]
                counts[g] += 1
                total += 1
        start[0] = 0
        for g in range(ng):
            start[g + 1] = start[g] + counts[g]
            fill[g] = start[g]
        for i in range(total):
            vals[fill[key[i]]] = <double>res[i]
            fill[key[i]] += 1
        for g in range(ng):
            medians[g] = _median(vals + start[g], counts[g]) if counts[g] else 0.0
    PyMem_Free(key); PyMem_Free(res); PyMem_Free(vals); PyMem_Free(start); PyMem_Free(fill)
    return n_near


# ---------------------------------------------------------------------------- CIELAB

def srgb_to_xyz(const unsigned char[:, ::1] px, const float[::1] lut, const float[:, ::1] m,
                float[:, ::1] out):
    """Per pixel (rows of ``px``, uint8 R, G, B): the linear values from the 256-entry table
    ``lut``, times the 3 × 3 matrix ``m`` (float32), into ``out`` (n × 3)."""
    cdef Py_ssize_t n = px.shape[0], i
    cdef float r, g, b
    cdef float m00 = m[0, 0], m01 = m[0, 1], m02 = m[0, 2], m10 = m[1, 0], m11 = m[1, 1]
    cdef float m12 = m[1, 2], m20 = m[2, 0], m21 = m[2, 1], m22 = m[2, 2]
    if px.shape[1] != 3 or lut.shape[0] != 256 or out.shape[0] != n or out.shape[1] != 3:
        raise ValueError("shapes do not match")
    with nogil:
        for i in range(n):
            r = lut[px[i, 0]]
            g = lut[px[i, 1]]
            b = lut[px[i, 2]]
            out[i, 0] = m00 * r + m01 * g + m02 * b
            out[i, 1] = m10 * r + m11 * g + m12 * b
            out[i, 2] = m20 * r + m21 * g + m22 * b


def xyz_to_lab(const float[:, ::1] t, float[:, ::1] f, double eps, double kappa):
    """CIELAB from the white-normalised X, Y, Z ``t`` and their cube roots ``f`` (n × 3,
    float32), in place in ``f``: f(t) = ∛t above ``eps`` and ``kappa``·t + 4/29 below, then
    L* = 116 f(Y) − 16, a* = 500 (f(X) − f(Y)), b* = 200 (f(Y) − f(Z))."""
    cdef Py_ssize_t n = t.shape[0], i, c
    cdef float fe = <float>eps, fk = <float>kappa, f4 = <float>(4.0 / 29.0), fx, fy, fz
    if t.shape[1] != 3 or f.shape[0] != n or f.shape[1] != 3:
        raise ValueError("shapes do not match")
    with nogil:
        for i in range(n):
            for c in range(3):
                if t[i, c] <= fe:
                    f[i, c] = t[i, c] * fk + f4
            fx = f[i, 0]
            fy = f[i, 1]
            fz = f[i, 2]
            f[i, 0] = <float>116.0 * fy - <float>16.0
            f[i, 1] = <float>500.0 * (fx - fy)
            f[i, 2] = <float>200.0 * (fy - fz)


# ---------------------------------------------------------------------------- robust surface fit

cdef int _solve(double *a, double *b, int n, int nrhs) noexcept nogil:
    """Solve a · x = b in place (a n × n, b n × nrhs, row-major; x into b) by Gaussian
    elimination with partial pivoting, as LAPACK's dgesv factors.  Returns 1 if a is singular."""
    cdef int i, j, k, p, c
    cdef double t, piv
    for k in range(n):
        p = k
        for i in range(k + 1, n):
            if fabs(a[i * n + k]) > fabs(a[p * n + k]):
                p = i
        if a[p * n + k] == 0.0:
            return 1
        if p != k:
            for j in range(n):
                t = a[k * n + j]; a[k * n + j] = a[p * n + j]; a[p * n + j] = t
            for c in range(nrhs):
                t = b[k * nrhs + c]; b[k * nrhs + c] = b[p * nrhs + c]; b[p * nrhs + c] = t
        piv = a[k * n + k]
        for i in range(k + 1, n):
            t = a[i * n + k] / piv
            if t != 0.0:
                for j in range(k + 1, n):
                    a[i * n + j] -= t * a[k * n + j]
                for c in range(nrhs):
                    b[i * nrhs + c] -= t * b[k * nrhs + c]
    for k in range(n - 1, -1, -1):
        for c in range(nrhs):
            t = b[k * nrhs + c]
            for j in range(k + 1, n):
                t -= a[k * n + j] * b[j * nrhs + c]
            b[k * nrhs + c] = t / a[k * n + k]
    return 0


def robust_fit(const double[:, ::1] at, const double[:, ::1] yt, double[:, ::1] coef):
    """``measure.regions._robust_fit`` on its channel-major samples: terms ``at`` (6 × m) and
    values ``yt`` (3 × m).  Starts from the per-channel median, then up to three times keeps
    the samples whose residual norm is within max(3 · 1.4826 · median residual, 3) and refits
    by the normal equations (stopping early when the kept samples repeat or fall under 24).
    Writes the 6 × 3 coefficients to ``coef`` and returns (threshold, 0), or (0, 1) if the
    normal equations were singular (the caller then takes the least-squares path)."""
    cdef Py_ssize_t m = at.shape[1], i, it, nk
    cdef int t, u, c, same
    cdef double thr = 3.0, med, s, d, dd
    cdef double ata[36]
    cdef double aty[18]
    cdef double cf[18]
    cdef double *r
    cdef double *scratch
    cdef unsigned char *keep
    cdef unsigned char *prev
    cdef int have_prev = 0, singular = 0
    if at.shape[0] != 6 or yt.shape[0] != 3 or yt.shape[1] != m or coef.shape[0] != 6 or coef.shape[1] != 3 or m < 1:
        raise ValueError("shapes do not match")
    r = <double *>PyMem_Malloc(m * sizeof(double))
    scratch = <double *>PyMem_Malloc(m * sizeof(double))
    keep = <unsigned char *>PyMem_Malloc(m)
    prev = <unsigned char *>PyMem_Malloc(m)
    if r == NULL or scratch == NULL or keep == NULL or prev == NULL:
        PyMem_Free(r); PyMem_Free(scratch); PyMem_Free(keep); PyMem_Free(prev)
        raise MemoryError()
    with nogil:
        for t in range(18):
            cf[t] = 0.0
        for c in range(3):
            for i in range(m):
                scratch[i] = yt[c, i]
            cf[c] = _median(scratch, m)  # the constant term: the channel's median
        for i in range(m):
            dd = 0.0
            for c in range(3):
                d = yt[c, i] - cf[c]
                dd = dd + d * d
            r[i] = sqrt(dd)
        for it in range(3):
            for i in range(m):
                scratch[i] = r[i]
            med = _median(scratch, m)
            thr = 3.0 * 1.4826 * med
            if thr < 3.0:
                thr = 3.0
            nk = 0
            for i in range(m):
                keep[i] = r[i] <= thr
                nk += keep[i]
            if have_prev:
                same = 1
                for i in range(m):
                    if keep[i] != prev[i]:
                        same = 0
                        break
                if same:
                    break
            if nk < 24:
                break
            for i in range(m):
                prev[i] = keep[i]
            have_prev = 1
            for t in range(36):
                ata[t] = 0.0
            for t in range(18):
                aty[t] = 0.0
            for i in range(m):
                if not keep[i]:
                    continue
                for t in range(6):
                    s = at[t, i]
                    for u in range(6):
                        ata[t * 6 + u] += s * at[u, i]
                    for c in range(3):
                        aty[t * 3 + c] += s * yt[c, i]
            if _solve(ata, aty, 6, 3):
                singular = 1
                break
            for t in range(18):
                cf[t] = aty[t]
            for i in range(m):
                dd = 0.0
                for c in range(3):
                    s = 0.0
                    for t in range(6):
                        s = s + cf[t * 3 + c] * at[t, i]
                    d = yt[c, i] - s
                    dd = dd + d * d
                r[i] = sqrt(dd)
    for t in range(6):
        for c in range(3):
            coef[t, c] = cf[t * 3 + c]
    PyMem_Free(r); PyMem_Free(scratch); PyMem_Free(keep); PyMem_Free(prev)
    if singular:
        return 0.0, 1
    return thr, 0


def magnitude(const float[:, ::1] gx, const float[:, ::1] gy, float[:, ::1] out):
    """√(gx² + gy²) per element, in float32 (exactly rounded, as numpy computes it)."""
    cdef Py_ssize_t h = gx.shape[0], w = gx.shape[1], y, x
    cdef float a, b
    if gy.shape[0] != h or gy.shape[1] != w or out.shape[0] != h or out.shape[1] != w:
        raise ValueError("shapes do not match")
    with nogil:
        for y in range(h):
            for x in range(w):
                a = gx[y, x]
                b = gy[y, x]
                out[y, x] = sqrtf(a * a + b * b)
