"""cvcore.dask: lazy chunked functions are bit-identical to the in-memory calls."""
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from cvcore import dask as cd  # noqa: E402
from cvcore import edges, filters, integral  # noqa: E402
from cvcore.segmentation import PixelSegmenter, pixel_features  # noqa: E402

MODES = ["reflect", "mirror", "nearest", "constant", "wrap"]


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _lazy(a, chunks):
    return da.from_array(a, chunks=tuple(chunks) + a.shape[2:])


def _same(got, expected):
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(7)
    return {"grey": rng.integers(0, 256, (37, 53), dtype=np.uint8),
            "colour": rng.random((29, 31, 3)).astype(np.float32),
            "float64": rng.standard_normal((23, 19))}


# chunks smaller than the radius, uneven last chunks, one chunk
CHUNKS = [(3, 2), (10, 7)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["grey", "colour"])
@pytest.mark.parametrize("chunks", CHUNKS)
def test_gaussian_every_mode_and_chunking(images, mode, kind, chunks):
    a = images[kind]
    kw = {"cval": 0.3} if mode == "constant" else {}
    _same(cd.gaussian(_lazy(a, chunks), 2.5, mode=mode, **kw).compute(), filters.gaussian(a, 2.5, mode=mode, **kw))


CASES = [
    ("correlate", {"kernel": np.arange(20.0).reshape(4, 5) - 7}),
    ("convolve", {"kernel": np.arange(18.0).reshape(3, 6) / 10}),
    ("sepfilter", {"kernel_x": [1, 2, 3, 4], "kernel_y": [1, -1]}),
    ("box", {"size": (4, 5)}),
    ("median", {"size": (3, 5)}),
    ("sobel", {}),
    ("scharr", {"axis": 0}),
    ("prewitt", {"axis": 1}),
    ("laplacian", {}),
    ("laplacian_of_gaussian", {"sigma": 1.5}),
    ("difference_of_gaussians", {"low_sigma": 1.0, "high_sigma": (2.0, 1.2)}),
]


@pytest.mark.parametrize("mode", ["mirror", "constant", "wrap"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_every_filter_matches_numpy(images, name, kwargs, mode):
    kw = dict(kwargs, mode=mode)
    if mode == "constant" and name != "median":
        kw["cval"] = -1.25
    for kind, chunks in (("grey", (4, 3)), ("colour", (11, 8))):
        a = images[kind]
        _same(getattr(cd, name)(_lazy(a, chunks), **kw).compute(), getattr(filters, name)(a, **kw))


@pytest.mark.parametrize("mode", MODES)
def test_gradient_and_corners_match_numpy(images, mode):
    a = images["grey"]
    x = _lazy(a, (5, 7))
    gx, gy = cd.gradient(x, sigma=1.2, mode=mode)
    ex, ey = edges.gradient(a, sigma=1.2, mode=mode)
    got_x, got_y = dask.compute(gx, gy)
    _same(got_x, ex)
    _same(got_y, ey)
    _same(cd.harris(x, sigma=1.3, mode=mode).compute(), edges.harris(a, sigma=1.3, mode=mode))
    _same(cd.shi_tomasi(x, block_size=4, mode=mode).compute(), edges.shi_tomasi(a, block_size=4, mode=mode))


def test_gradient_pair_shares_one_pass_per_chunk(images, monkeypatch):
    calls = []
    real = edges.gradient
    monkeypatch.setattr(edges, "gradient", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = _lazy(images["grey"], (10, 20))
    gx, gy = cd.gradient(x)
    built = len(calls)  # argument probes on a tiny image
    dask.compute(gx, gy)
    assert len(calls) - built == x.npartitions


@pytest.mark.parametrize("kind", ["grey", "colour", "float64"])
@pytest.mark.parametrize("chunks", [(3, 2), (7, 64), (64, 64)])
def test_integral_image_is_exact_with_carries(images, kind, chunks):
    a = images[kind]
    _same(cd.integral_image(_lazy(a, chunks)).compute(), integral.integral_image(a))


def test_integral_image_bool_and_overflow_guard():
    b = np.random.default_rng(1).random((9, 11)) > 0.5
    _same(cd.integral_image(_lazy(b, (4, 4))).compute(), integral.integral_image(b))
    big = np.full((4, 4), 2**62, np.int64)
    with pytest.raises(ValueError, match="could overflow"):
        cd.integral_image(_lazy(big, (2, 2))).compute()


def test_pixel_features_and_segment_match_numpy(images):
    a = images["grey"]
    _same(cd.pixel_features(_lazy(a, (12, 15)), sigmas=(1.0, 2.0)).compute(), pixel_features(a, sigmas=(1.0, 2.0)))
    labels = np.zeros(a.shape, np.uint8)
    labels[:5, :5], labels[-5:, -5:] = 1, 2
    seg = PixelSegmenter(sigmas=(1.0,), random_state=0).fit(a, labels)
    x = _lazy(a, (9, 14))
    _same(cd.segment(seg, x).compute(), seg.predict(a))
    _same(cd.segment(seg, x, probabilities=True).compute(), seg.predict_proba(a))


def test_colour_pixel_features_channel_axis_first(images):
    a = images["colour"]
    first = np.moveaxis(a, -1, 0)
    got = cd.pixel_features(da.from_array(first, chunks=(3, 10, 10)), sigmas=(1.0,), channel_axis=0).compute()
    _same(got, pixel_features(a, sigmas=(1.0,)))


def test_results_are_lazy_and_keep_the_chunks(images):
    x = _lazy(images["grey"], (10, 7))
    out = cd.median(x, 5)
    assert isinstance(out, da.Array)
    assert out.chunks == x.chunks
    assert cd.gaussian_kernel(1.0).shape == filters.gaussian_kernel(1.0).shape


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: cd.gaussian(x, -1.0), ValueError, "sigma"),
    (lambda x: cd.box(x, 0), ValueError, "size"),
    (lambda x: cd.gaussian(x, 1.0, mode="bogus"), ValueError, "mode"),
    (lambda x: cd.correlate(x, np.zeros((2, 2, 2))), ValueError, "kernel"),
    (lambda x: cd.gaussian(np.zeros((4, 4)), 1.0), TypeError, "dask array"),
    (lambda x: cd.gaussian(da.zeros((4,), chunks=2), 1.0), ValueError, "2-D"),
    (lambda x: cd.segment("model", x), TypeError, "PixelSegmenter"),
    (lambda x: cd.segment(PixelSegmenter(), x), ValueError, "not fitted"),
])
def test_bad_arguments_fail_when_building_not_at_compute(call, exc, match):
    with pytest.raises(exc, match=match):
        call(da.zeros((8, 8), chunks=4))


@pytest.mark.parametrize("fn", [cd.canny, cd.corner_peaks])
def test_non_chunk_local_work_is_refused_with_the_reason(fn):
    with pytest.raises(NotImplementedError, match="whole"):
        fn(da.zeros((8, 8), chunks=4), 0.1, 0.2)


def test_import_cvcore_does_not_import_dask(tmp_path):
    code = "import sys, cvcore, cvcore.filters, cvcore.edges, cvcore.segmentation; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False"
