"""The fast numeric kernels the measurements are built on, against their plain definitions.

Speed work replaced numpy's median/percentile, strided subsampling, dilation, the CIEDE2000
hue terms and the per-colour conversions with cheaper equivalents.  Each is checked here
against the straightforward formulation it replaces (numpy's own functions, a reference
CIEDE2000 written angle by angle as in Sharma et al., OpenCV's morphological dilation), on
random data including the edge cases (even/odd lengths, achromatic and opposite hues, image
sizes that are not a multiple of the step), so a faster kernel cannot drift from the measure
it stands for.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from zkphoto.measure import regions as rg
from zkphoto.measure.color import (colourfulness, delta_e_2000, delta_e_2000_pair, lab_to_rgb,
                                   lab_to_rgb_one, rgb_to_lab, subsample)
from zkphoto.measure.stats import median, median_in_place, percentiles
from zkphoto.threads import single_threaded

RNG = np.random.default_rng(20261124)


# --------------------------------------------------------------------------- order statistics

@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 999, 4000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_median_and_percentiles_match_numpy(n, dtype):
    x = (RNG.random((n, 3)) * 100).astype(dtype)
    np.testing.assert_allclose(median(x, axis=0), np.median(x, axis=0), rtol=1e-6)
    np.testing.assert_allclose(median(x[:, 1]), np.median(x[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(median(np.asfortranarray(x), axis=0), np.median(x, axis=0), rtol=1e-6)
    for q in (0, 1, 5, 50, 90, 95, 99, 100):
        np.testing.assert_allclose(percentiles(x, (q,))[0], np.percentile(x, q, axis=0), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(percentiles(x[:, 0], (q,))[0], np.percentile(x[:, 0], q), rtol=1e-5, atol=1e-4)


def test_median_in_place_of_slices_of_a_scratch_array():
    x = RNG.normal(0, 10, 1000)
    scratch = x.copy()
    for a, b in ((0, 1), (1, 3), (3, 104), (104, 401), (401, 1000)):
        assert median_in_place(scratch[a:b]) == np.median(x[a:b])
        assert sorted(scratch[a:b]) == sorted(x[a:b])  # the slice is reordered, nothing else


def test_median_of_a_2d_mask_selection_is_the_flat_median():
    x = RNG.random((37, 41)).astype(np.float32)
    m = RNG.random((37, 41)) > 0.5
    assert float(median(x[m])) == pytest.approx(float(np.median(x[m])), rel=1e-6)


# --------------------------------------------------------------------------- sampling and colour

@pytest.mark.parametrize("shape", [(640, 480, 3), (641, 479, 3), (100, 7, 3), (640, 480), (33, 35, 3), (1201, 901, 3)])
@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 7])
def test_subsample_is_exactly_every_step_th_pixel(shape, step):
    a = (RNG.random(shape) * 255).astype(np.uint8)
    b = subsample(a, step)
    assert b.shape == a[::step, ::step].shape
    assert np.array_equal(b, a[::step, ::step])
    view = (RNG.random((700, 500, 3)) * 255).astype(np.uint8)[10:650, 7:487]  # not contiguous
    assert np.array_equal(subsample(view, step), view[::step, ::step])
    f = RNG.random(shape[:2]).astype(np.float32)  # a person mask
    assert np.array_equal(subsample(f, step), f[::step, ::step])


def _lab_reference(rgb: np.ndarray) -> np.ndarray:
    """sRGB (D65) → CIELAB straight from the definitions, in float64."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (64, 3), (5000, 3), (30, 40, 3), (214, 160, 3)])
def test_rgb_to_lab_fast_paths_match_the_definition(shape):
    x = (RNG.random(shape) * 255).astype(np.uint8)
    got = rgb_to_lab(x)
    assert got.shape == shape
    np.testing.assert_allclose(got, _lab_reference(x), atol=2e-3)


def test_rgb_to_lab_of_near_black_uses_the_linear_segment():
    x = np.zeros((80, 80, 3), np.uint8)
    x[:40] = 3  # Y below (6/29)³: the linear part of f
    x[40:, :40] = (0, 0, 9)
    np.testing.assert_allclose(rgb_to_lab(x), _lab_reference(x), atol=2e-3)


def test_rgb_to_lab_of_the_subsampled_grid_is_the_subsampled_conversion():
    x = (RNG.random((641, 481, 3)) * 255).astype(np.uint8)
    np.testing.assert_allclose(rgb_to_lab(subsample(x, 3)), _lab_reference(x[::3, ::3]), atol=2e-3)


def test_lab_to_rgb_one_colour_matches_the_array_path():
    lab = np.column_stack([RNG.uniform(0, 100, 500), RNG.uniform(-90, 90, 500), RNG.uniform(-90, 90, 500)])
    many = lab_to_rgb(lab)
    for i in range(0, 500, 7):
        # the plain-float function itself and the (3,) path that wraps it, against the array path
        np.testing.assert_allclose(lab_to_rgb_one(*lab[i].tolist()), many[i], atol=1e-9)
        np.testing.assert_allclose(lab_to_rgb(lab[i]), many[i], atol=1e-9)


def test_evenly_spread_picks_are_numpys_linspace():
    """The surface range's picks in plain floats are exactly ``np.linspace(...).astype(int)``."""
    for n in list(range(1, 400)) + [997, 1500, 4001]:
        for m in {1, 2, 3, 7, min(n, 32)}:
            if m <= n:
                assert rg._spaced(n, m) == np.linspace(0, n - 1, m).astype(int).tolist(), (n, m)


def _de2000_angles(lab1, lab2):
    """CIEDE2000 written angle by angle, as in Sharma, Wu & Dalal (2005)."""
    x1, x2 = np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)
    L1, a1, b1 = np.moveaxis(x1, -1, 0)
    L2, a2, b2 = np.moveaxis(x2, -1, 0)
    cb = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(cb**7 / (cb**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1 = np.where((a1p == 0) & (b1 == 0), 0, np.degrees(np.arctan2(b1, a1p)) % 360)
    h2 = np.where((a2p == 0) & (b2 == 0), 0, np.degrees(np.arctan2(b2, a2p)) % 360)
    z = c1p * c2p == 0
    dh = h2 - h1
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(z, 0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    hs = h1 + h2
    hb = np.where(z, hs, np.where(np.abs(h1 - h2) <= 180, hs / 2, np.where(hs < 360, (hs + 360) / 2, (hs - 360) / 2)))
    t = (1 - 0.17 * np.cos(np.radians(hb - 30)) + 0.24 * np.cos(np.radians(2 * hb))
         + 0.32 * np.cos(np.radians(3 * hb + 6)) - 0.20 * np.cos(np.radians(4 * hb - 63)))
    cpb = (c1p + c2p) / 2
    rc = 2 * np.sqrt(cpb**7 / (cpb**7 + 25.0**7))
    l50 = ((L1 + L2) / 2 - 50) ** 2
    sl, sc, sh = 1 + 0.015 * l50 / np.sqrt(20 + l50), 1 + 0.045 * cpb, 1 + 0.015 * cpb * t
    rt = -np.sin(np.radians(60 * np.exp(-(((hb - 275) / 25) ** 2)))) * rc
    tl, tc, th = (L2 - L1) / sl, (c2p - c1p) / sc, dH / sh
    return np.sqrt(tl**2 + tc**2 + th**2 + rt * tc * th)


def test_ciede2000_vector_and_pair_paths_match_the_angle_formulation():
    n = 4000
    a = np.column_stack([RNG.uniform(0, 100, n), RNG.uniform(-120, 120, n), RNG.uniform(-120, 120, n)])
    b = a + RNG.normal(0, 8, (n, 3))
    b[:300] = np.column_stack([RNG.uniform(0, 100, 300), RNG.uniform(-120, 120, 300), RNG.uniform(-120, 120, 300)])
    a[300:400, 1:] = 0  # achromatic first colour
    b[400:500, 1:] = 0  # achromatic second colour
    b[500:600] = a[500:600]  # identical
    b[600:700] = a[600:700] * [1, -1, -1]  # exactly opposite hues
    ref = _de2000_angles(a, b)
    np.testing.assert_allclose(delta_e_2000(a, b), ref, atol=1e-9)
    assert np.all(delta_e_2000(a[500:600], b[500:600]) == 0)
    for i in range(0, n, 97):
        assert delta_e_2000_pair(a[i].tolist(), b[i].tolist()) == pytest.approx(ref[i], abs=1e-9)
        assert float(delta_e_2000(a[i], b[i])) == pytest.approx(ref[i], abs=1e-9)
    # float32 arithmetic for large, thresholded arrays (exactly opposite hues left out: which
    # side of 180° their difference falls on is decided by rounding, in any precision)
    single = delta_e_2000(a, b, single=True)
    keep = np.r_[0:600, 700:n]
    np.testing.assert_allclose(single[keep], ref[keep], atol=1e-4, rtol=1e-5)
    assert np.isfinite(single).all()
    # broadcasting: many colours against one, and a grid against a row
    np.testing.assert_allclose(delta_e_2000(a[:50], b[7]), _de2000_angles(a[:50], b[7][None, :]), atol=1e-9)
    grid = a[:12].reshape(3, 4, 3)
    np.testing.assert_allclose(delta_e_2000(grid, b[:4]), _de2000_angles(grid, b[:4][None]), atol=1e-9)


def test_colourfulness_matches_hasler_susstrunk():
    rgb = (RNG.random((640, 480, 3)) * 255).astype(np.uint8)
    a = rgb[::3, ::3].astype(np.float64)
    rg_, yb = a[..., 0] - a[..., 1], 0.5 * (a[..., 0] + a[..., 1]) - a[..., 2]
    want = math.hypot(rg_.std(), yb.std()) + 0.3 * math.hypot(rg_.mean(), yb.mean())
    assert colourfulness(rgb) == pytest.approx(want, rel=1e-5)
    grey = np.repeat((RNG.random((640, 480, 1)) * 255).astype(np.uint8), 3, axis=2)
    assert colourfulness(grey) == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------- masks

def _ellipse_points(cx, cy, ax, ay, n=16, jitter=0.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + ax * np.cos(t), cy + ay * np.sin(t)]) + RNG.normal(0, jitter, (n, 2))


@pytest.mark.parametrize("r", [1, 2, 4, 10])
def test_grown_polygons_match_a_disc_dilation_to_a_cell(r):
    shape = (110, 190)
    pts = _ellipse_points(90, 55, 25, 8, jitter=1.0)
    grown = rg.polygon_mask(shape, [(pts, r)])
    filled = rg.polygon_mask(shape, [(pts, 0)])
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    dil = cv2.dilate(filled.astype(np.uint8), k).astype(bool)
    assert filled.sum() > 500 and (grown >= filled).all()
    # the two differ only along the boundary: less than a one-cell-wide ring of it
    perimeter = 2 * np.pi * math.sqrt(((25 + r) ** 2 + (8 + r) ** 2) / 2)
    assert (grown ^ dil).sum() < perimeter
    assert abs(int(grown.sum()) - int(dil.sum())) < 0.25 * perimeter


@pytest.mark.parametrize("r", [2, 5, 6, 9])
def test_dilate_and_erode_are_disc_operations(r):
    m = np.zeros((120, 160), bool)
    m[40:80, 50:110] = True
    d = rg._dilate(m, r)
    e = rg._erode(m, r)
    # a rectangle grown by a disc: its sides move out by r, its corners round off
    assert d[40 - r, 80] and not d[40 - r - 1, 80] and d[60, 50 - r] and not d[60, 50 - r - 1]
    assert e[40 + r, 80] and not e[40 + r - 1, 80] and not d[40 - r, 50 - r]
    assert (e <= m).all() and (m <= d).all()


@pytest.mark.parametrize("size,step", [((640, 480), 3), ((1280, 960), 6), ((579, 413), 3), ((37, 29), 1)])
def test_surface_on_grid_is_the_design_basis_at_every_cell(size, step):
    """The separable evaluation equals the six-term design row times the coefficients."""
    h, w = size
    hg, wg = -(-h // step), -(-w // step)
    g = rg.Grid(step, np.zeros((hg, wg, 3), np.float32), h, w)
    coef = RNG.normal(0, 20, (6, 3))
    coef[0] += (60, 5, -10)
    got = rg._surface_on_grid(coef, g)
    ys, xs = np.divmod(np.arange(hg * wg), wg)
    want = (rg._design(ys * step, xs * step, h, w).astype(np.float64) @ coef).reshape(hg, wg, 3)
    assert got.shape == (hg, wg, 3) and got.dtype == np.float32 and got.flags.c_contiguous
    assert np.abs(got - want).max() < 1e-3
    flat = np.flatnonzero(RNG.random(hg * wg) < 0.3)
    model = rg.BackgroundModel(*(None,) * 9, surface_grid=got)
    assert np.array_equal(model.surface_at(flat), got.reshape(-1, 3)[flat])


# --------------------------------------------------------------------------- threads

def test_single_threaded_sets_opencv_to_one_thread():
    before = cv2.getNumThreads()
    try:
        single_threaded()
        assert cv2.getNumThreads() == 1
        a = np.ones((200, 6)) @ np.ones((6, 3))  # BLAS still works
        assert a[0, 0] == 6
    finally:
        cv2.setNumThreads(before)


def _reblur_ratios_numpy(gx, gy, g0, b, thr, m):
    """The re-blur ratios as plain numpy (their form before the compiled kernel): non-maximum
    suppression over the strong gradients, then the re-blurred image's 3×3 Sobel magnitude at
    the pixels kept."""
    h, w = g0.shape
    strong = g0 >= thr
    strong[:m] = strong[h - m:] = False
    strong[:, :m] = strong[:, w - m:] = False
    idx = np.flatnonzero(strong)
    c = g0.ravel()[idx]
    ux, uy = gx.ravel()[idx] / c, gy.ravel()[idx] / c
    step = ((ux > 0.5).astype(np.intp) - (ux < -0.5)) + w * ((uy > 0.5).astype(np.intp) - (uy < -0.5))
    keep = (c >= g0.ravel()[idx + step]) & (c >= g0.ravel()[idx - step])
    idx, c = idx[keep], c[keep]
    f = b.ravel()
    ul, up, ur = f[idx - w - 1], f[idx - w], f[idx - w + 1]
    dl, dn, dr = f[idx + w - 1], f[idx + w], f[idx + w + 1]
    lf, rt = f[idx - 1], f[idx + 1]
    sx = (ur + 2 * rt + dr) - (ul + 2 * lf + dl)
    sy = (dl + 2 * dn + dr) - (ul + 2 * up + ur)
    bx, by = cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3)
    assert np.allclose(np.sqrt(sx * sx + sy * sy), np.hypot(bx, by).ravel()[idx], atol=1e-3)  # what it stands for
    r = c / np.maximum(np.sqrt(sx * sx + sy * sy), 1e-6)
    return r[r > 1.0005]


def test_edge_blur_kernel_gives_the_plain_numpy_ratios_exactly():
    """The compiled non-maximum suppression and re-blur ratios are bit for bit those of the
    numpy formulation, on a real face and on synthetic edges, sharp and blurred."""
    from pathlib import Path

    photo = cv2.imread(str(Path(__file__).resolve().parents[1] / "fixtures" / "sample.jpg"), cv2.IMREAD_GRAYSCALE)
    images = [photo, photo[100:400, 50:300], cv2.GaussianBlur(photo, (0, 0), 2.5)]
    for _ in range(12):
        h, w = RNG.integers(30, 260, 2)
        a = np.zeros((h, w), np.float32)
        for _ in range(6):  # random rectangles: edges in every direction after a rotation
            y0, x0 = RNG.integers(0, h - 5), RNG.integers(0, w - 5)
            a[y0:y0 + RNG.integers(4, h), x0:x0 + RNG.integers(4, w)] += RNG.uniform(20, 120)
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), float(RNG.uniform(0, 90)), 1.0)
        a = cv2.warpAffine(a, rot, (int(w), int(h)))
        a = cv2.GaussianBlur(a, (0, 0), float(RNG.uniform(0.3, 3))) + RNG.normal(0, 1, a.shape).astype(np.float32)
        images.append(a)
    images.append(np.zeros((6, 6), np.float32))  # too small: no edges
    seen = 0
    for img in images:
        assert rg.edge_blur_sigma(img) == rg.edge_blur_sigma(img.copy()) or img.size < 100  # deterministic
        grads = rg.edge_gradients(img)
        got = rg.reblur_ratios(grads)
        if grads is None:
            assert len(got) == 0 and math.isnan(rg.edge_blur_sigma(img)[0])
            continue
        want = _reblur_ratios_numpy(*grads, rg.BLUR_MARGIN)
        assert got.dtype == np.float32 and np.array_equal(got, want)
        gx, gy, g0 = grads[:3]
        assert np.array_equal(g0, np.sqrt(gx * gx + gy * gy))  # the magnitude: numpy's float32
        seen += len(got) >= 20
    assert seen >= 10


# --------------------------------------------------------------------------- border-scan kernels

def test_border_luma_is_opencvs_grey_for_every_colour():
    """The border kernel's luma is cv2.cvtColor(RGB2GRAY) for all 2²⁴ colours (read as the
    lines of a 4096 × 4096 image: each line's mean is the mean of OpenCV's grey values)."""
    c = np.arange(1 << 24, dtype=np.uint32)
    img = np.stack([c >> 16, (c >> 8) & 255, c & 255], axis=-1).astype(np.uint8).reshape(4096, 4096, 3)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    lm, ok = rg._uniform_lines(img, "top", 0, 4096, 255.0)
    want = cv2.reduce(grey, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    assert np.array_equal(lm, want) and ok.all()
    # a line of one colour has exactly that colour's grey value, for every colour
    for rgb in RNG.integers(0, 256, (200, 3)):
        one = np.broadcast_to(rgb.astype(np.uint8), (3, 5, 3)).copy()
        assert rg._uniform_lines(one, "left", 0, 2, 0.0)[0][0] == cv2.cvtColor(one, cv2.COLOR_RGB2GRAY)[0, 0]


def _plain_lines(a, edge, c0, c1, along):
    """Lines c0…c1 − 1 from ``edge`` as rows of a (lines × pixels × 3) array, every
    ``along``-th pixel: the plain definition of what the border kernels read."""
    t = {"top": a, "bottom": a[::-1], "left": a.transpose(1, 0, 2), "right": a[:, ::-1].transpose(1, 0, 2)}[edge]
    return np.ascontiguousarray(t[c0:c1, ::along])


@pytest.mark.parametrize("tol", [0.0, 3.0, 12.0, 40.0])
def test_border_lines_are_the_ninety_percent_rule_on_every_edge(tol):
    """Line means (OpenCV's average of the grey values) and the 90 % rule, for every edge,
    sampling and odd sizes, against numpy and OpenCV on the same pixels."""
    for t in range(30):
        h, w = RNG.integers(9, 300, 2)
        a = RNG.integers(0, 256, (h, w, 3)).astype(np.uint8)
        if t % 3 == 0:  # near-uniform lines, so both verdicts of the rule occur
            a = np.clip(RNG.integers(0, 256, (1, 1, 3)) + RNG.integers(-1, 2, (h, w, 1))
                        * RNG.integers(0, 30, (h, w, 1)), 0, 255).astype(np.uint8)
        if t % 3 == 1:
            a[:2] = [0, 0, 0]  # black and white lines: the clipped bounds
            a[-2:] = [255, 255, 255]
        for edge in ("top", "bottom", "left", "right"):
            dim = h if edge in ("top", "bottom") else w
            for along in (1, 2):
                c0 = int(RNG.integers(0, dim - 1))
                c1 = int(RNG.integers(c0 + 1, min(dim, c0 + 20) + 1))
                lm, ok = rg._uniform_lines(a, edge, c0, c1, tol, along)
                grey = cv2.cvtColor(_plain_lines(a, edge, c0, c1, along), cv2.COLOR_RGB2GRAY)
                want = cv2.reduce(grey, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
                assert lm.dtype == np.float32 and np.array_equal(lm, want)
                within = (np.abs(grey - lm[:, None].astype(np.float64)) <= tol).sum(axis=1)
                assert np.array_equal(ok, within >= 0.9 * grey.shape[1])
                col = rg._edge_colour(a, edge, c0, c1)
                want = cv2.reduce(_plain_lines(a, edge, c0, c1, 2), 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F)
                assert col.dtype == np.float32 and np.array_equal(col, want.reshape(-1, 3))
    with pytest.raises(ValueError):
        rg._uniform_lines(a, "top", 0, h + 1, 12.0)


def test_ciede2000_does_not_depend_on_call_size_layout_or_input_precision():
    """The compiled kernel gives each pair the same value however it is called: in one large
    call or in slices, many colours against one either way round, a grid or a flat list, from
    float32 or float64 (or integer) input, strided or contiguous."""
    n = 20_000
    a = np.column_stack([RNG.uniform(0, 100, n), RNG.uniform(-90, 90, n), RNG.uniform(-90, 90, n)])
    b = a + RNG.normal(0, 6, (n, 3))
    one = np.array([55.0, 3.0, -4.0])
    whole = np.concatenate([delta_e_2000(a[i:i + 1000], b[i:i + 1000]) for i in range(0, n, 1000)])
    got = delta_e_2000(a, b)
    assert got.shape == (n,) and got.dtype == np.float64 and np.array_equal(got, whole)
    many = delta_e_2000(a, one)
    assert np.array_equal(many, np.concatenate([delta_e_2000(a[i:i + 1000], one) for i in range(0, n, 1000)]))
    assert np.array_equal(delta_e_2000(one, a), many)
    assert np.array_equal(delta_e_2000(a[:1000].reshape(20, 50, 3), one), many[:1000].reshape(20, 50))
    # float32 input is read as float32 (no rounding of its own) and computed in double
    a32 = a.astype(np.float32)
    assert np.array_equal(delta_e_2000(a32, one), delta_e_2000(a32.astype(np.float64), one))
    single = delta_e_2000(a32, b, single=True)
    assert single.dtype == np.float32 and np.array_equal(single, delta_e_2000(a32, b).astype(np.float32))
    # a strided view equals its contiguous copy; integer colours are taken as numbers
    assert np.array_equal(delta_e_2000(a[::3], b[::3]), got[::3])
    assert np.array_equal(delta_e_2000(np.rint(a).astype(np.int32), one), delta_e_2000(np.rint(a), one))
    assert delta_e_2000(np.zeros((0, 3)), one).shape == (0,)
    with pytest.raises(ValueError):
        delta_e_2000(a[:, :2], b[:, :2])
    with pytest.raises(ValueError):
        delta_e_2000(a[:10], b[:7])


def test_polygon_mask_of_several_polygons_is_their_union():
    shape = (120, 200)
    polys = [(_ellipse_points(50, 40, 20, 10), 0), (_ellipse_points(140, 80, 30, 15), 3),
             (_ellipse_points(100, 60, 8, 30), 1)]
    both = rg.polygon_mask(shape, polys, (5.0, -3.0), 1.5)
    union = np.zeros(shape, bool)
    for p in polys:
        union |= rg.polygon_mask(shape, [p], (5.0, -3.0), 1.5)
    assert np.array_equal(both, union) and union.sum() > 1000
    assert not rg.polygon_mask(shape, []).any()


def test_surface_product_and_far_cells_match_numpy():
    """The background surface's separable product (``rows_times_3``) is numpy's float32
    product to rounding, and the object prefilter marks exactly the region's cells whose
    float32 ΔE*ab to the surface exceeds the threshold."""
    from zkphoto import _kernels as k

    for hg, wg in ((213, 480), (7, 3), (1, 1), (160, 601)):
        v = RNG.normal(0, 1, (hg, 3)).astype(np.float32)
        m = RNG.normal(0, 50, (3, wg)).astype(np.float32)
        out = np.empty((hg, wg), np.float32)
        k.rows_times_3(v, m, out)
        np.testing.assert_allclose(out, v.astype(np.float64) @ m.astype(np.float64), rtol=1e-5, atol=1e-4)
    lab = (RNG.random((90, 70, 3)) * [100, 60, 60]).astype(np.float32)
    surf = lab + RNG.normal(0, 6, lab.shape).astype(np.float32)
    region = RNG.random((90, 70)) < 0.7
    hit = np.empty((90, 70), np.uint8)
    n = k.far_from_surface(lab, surf, region.view(np.uint8), np.float32(6.25), hit)
    d = lab - surf
    want = (np.sqrt((d * d).sum(axis=2, dtype=np.float32)) > np.float32(6.25)) & region
    assert np.array_equal(hit.view(bool), want) and n == np.count_nonzero(want) > 0
    with pytest.raises(ValueError):
        k.far_from_surface(lab, surf[:5], region.view(np.uint8), 1.0, hit)


def test_shadow_groups_are_the_numpy_grouping_and_medians():
    """The shadow profile's compiled grouping gives, per side and distance bin, exactly the
    counts and medians of the numpy formulation (float32 band limits and bins, float64 medians
    with numpy's rule for even counts), on random bands with ties and odd and even groups."""
    from zkphoto import _kernels as k

    for t in range(25):
        h, w, step = int(RNG.integers(20, 120)), int(RNG.integers(20, 120)), int(RNG.integers(1, 4))
        W = w * step
        d = (RNG.random((h, w)) * 0.12 * W).astype(np.float32)
        if t % 2:
            d = np.round(d)  # ties, and values exactly on the band and bin limits
        usable = RNG.random((h, w)) < 0.8
        L = (RNG.random((h, w)) * 100).astype(np.float32)
        surf = (L[..., None] + RNG.normal(0, 3, (h, w, 3))).astype(np.float32)
        if t % 3 == 0:
            surf = np.round(surf)
        d0, d1, bin_w = 0.015 * W, 0.08 * W, 0.01 * W
        nb = int(np.ceil((d1 - d0) / bin_w))
        cx, fw, head_y, top_y = RNG.uniform(0, W), RNG.uniform(5, W / 2), RNG.uniform(0, h * step), RNG.uniform(0, h * step)
        meds, counts = np.empty(5 * nb), np.empty(5 * nb, np.intp)
        n_near = k.shadow_groups(d, usable.view(np.uint8), L, surf, step, d0, d1, bin_w, nb, cx, fw, head_y,
                                 top_y, meds, counts)
        # the numpy formulation
        near = usable & (d >= d0) & (d < d1)
        nflat = np.flatnonzero(near)
        ny, nx = np.divmod(nflat, w)
        res = L.ravel()[nflat] - surf.reshape(-1).take(nflat * 3)
        yy, xx = ny * step, nx * step
        left, right = xx < cx - 0.25 * fw, xx > cx + 0.25 * fw
        sector = np.where(left, 1, np.where(right, 2, -1)) + 2 * ((yy >= head_y) & (left | right))
        sector[(yy < top_y) & ~left & ~right] = 0
        b = np.clip(np.floor((d.ravel()[nflat] - d0) / bin_w).astype(int), 0, nb - 1)
        ok = sector >= 0
        key, vals = sector[ok] * nb + b[ok], res[ok].astype(np.float64)
        assert n_near == len(nflat)
        assert np.array_equal(counts, np.bincount(key, minlength=5 * nb))
        for g in np.flatnonzero(counts):
            assert meds[g] == np.median(vals[key == g]), (t, g)


def test_lab_fast_path_equals_the_generic_path():
    """uint8 pixels (compiled table-and-matrix pass, OpenCV's cube roots, compiled companding)
    give the generic float path's CIELAB to float32 rounding, dark pixels (the linear part of
    f) included, for images and for lists of pixels."""
    px = RNG.integers(0, 256, (5000, 3)).astype(np.uint8)
    px[:300] = RNG.integers(0, 6, (300, 3))  # very dark: t ≤ (6/29)³
    px[300] = 0
    fast = rgb_to_lab(px)
    generic = rgb_to_lab(px.astype(np.float64))
    assert fast.dtype == np.float32 and fast.shape == (5000, 3)
    np.testing.assert_allclose(fast, generic, atol=2e-4, rtol=0)
    assert np.array_equal(rgb_to_lab(px.reshape(50, 100, 3)), fast.reshape(50, 100, 3))
    assert fast[300, 0] == 0 and abs(fast[300, 1]) < 1e-6 and abs(fast[300, 2]) < 1e-6


def test_robust_fit_kernel_matches_the_numpy_iterations():
    """The compiled robust surface fit keeps the same samples and reaches the numpy
    formulation's coefficients and threshold to rounding — with objects covering part of the
    samples, few samples, and a degenerate layout (samples on a line: the numpy least-squares
    path takes over)."""
    for t in range(20):
        m = int(RNG.integers(30, 1200))
        ys, xs = RNG.integers(0, 640, m), RNG.integers(0, 480, m)
        if t == 0:
            xs[:] = 240  # one column: singular normal equations
        A = rg._design(ys, xs, 640, 480)
        true = RNG.normal(0, 5, (6, 3))
        true[0] += [70, 2, -3]
        y = (A.astype(np.float64) @ true + RNG.normal(0, 0.8, (m, 3))).astype(np.float32)
        bad = RNG.random(m) < RNG.uniform(0, 0.4)  # an object: far-off colours
        y[bad] += RNG.normal(0, 25, (np.count_nonzero(bad), 3)).astype(np.float32)
        coef, thr = rg._robust_fit(A, y)
        idx = np.arange(0, m, max(1, m // rg.FIT_SAMPLES))
        ref, ref_thr = rg._robust_fit_numpy(np.ascontiguousarray(A[idx].T, dtype=np.float64),
                                            np.ascontiguousarray(y[idx].T, dtype=np.float64))
        np.testing.assert_allclose(coef, ref, rtol=1e-9, atol=1e-7)
        assert thr == pytest.approx(ref_thr, rel=1e-9, abs=1e-9)
    # the fit recovers the surface under the object
    m = 1000
    ys, xs = RNG.integers(0, 640, m), RNG.integers(0, 480, m)
    A = rg._design(ys, xs, 640, 480)
    true = np.zeros((6, 3))
    true[0], true[1], true[5] = [80, 1, -2], [4, 0, 0], [-3, 1, 0]
    y = (A.astype(np.float64) @ true).astype(np.float32)
    y[:300] += np.float32(30)
    coef, _ = rg._robust_fit(A, y)
    np.testing.assert_allclose(coef, true, atol=1e-3)
