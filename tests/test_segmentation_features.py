"""pixel_features / feature_names against SciPy/NumPy references."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.segmentation import feature_names, pixel_features
from cvcore.segmentation.features import FEATURES

ndi = pytest.importorskip("scipy.ndimage")


def _central(g):
    """Central differences with clamped borders (the documented stencil)."""
    p = np.pad(g, 1, mode="edge")
    gx = 0.5 * (p[1:-1, 2:] - p[1:-1, :-2])
    gy = 0.5 * (p[2:, 1:-1] - p[:-2, 1:-1])
    gxx = p[1:-1, 2:] - 2 * g + p[1:-1, :-2]
    gyy = p[2:, 1:-1] - 2 * g + p[:-2, 1:-1]
    gxy = 0.25 * (p[2:, 2:] - p[2:, :-2] - p[:-2, 2:] + p[:-2, :-2])
    return gx, gy, gxx, gyy, gxy


def _eig(a, b, c):
    vals = np.linalg.eigvalsh(np.stack([np.stack([a, b], -1), np.stack([b, c], -1)], -2))
    return vals[..., 1], vals[..., 0]


@pytest.mark.parametrize("sigma", [0.7, 1.6, 3.5])
def test_pixel_features_match_scipy_reference(sigma):
    rng = np.random.default_rng(0)
    img = ndi.gaussian_filter(rng.random((48, 57)), 1.0)  # smooth-ish float64 image
    f = pixel_features(img, sigmas=(sigma,))
    names = feature_names(1, (sigma,))
    col = {n.split("[")[0]: i for i, n in enumerate(names)}
    g = ndi.gaussian_filter(img, sigma, mode="reflect", truncate=4.0)
    gx, gy, gxx, gyy, gxy = _central(g)
    s2 = sigma * sigma
    assert_allclose(f[..., col["intensity"]], g, atol=2e-6)
    assert_allclose(f[..., col["gradient"]], sigma * np.hypot(gx, gy), atol=2e-6)
    assert_allclose(f[..., col["log"]], s2 * (gxx + gyy), atol=5e-6)
    hmax, hmin = _eig(s2 * gxx, s2 * gxy, s2 * gyy)
    assert_allclose(f[..., col["hessian_max"]], hmax, atol=5e-6)
    assert_allclose(f[..., col["hessian_min"]], hmin, atol=5e-6)
    wide = ndi.gaussian_filter(img, 1.6 * sigma, mode="reflect")
    # the wide blur is built from G(s) by the complementary Gaussian: equal up to discretisation
    assert_allclose(f[..., col["dog"]], g - wide, atol=2e-3 * np.abs(g - wide).max() + 1e-5)
    t = [ndi.gaussian_filter(s2 * p, sigma, mode="reflect") for p in (gx * gx, gx * gy, gy * gy)]
    smax, smin = _eig(*t)
    assert_allclose(f[..., col["structure_max"]], smax, atol=1e-6)
    assert_allclose(f[..., col["structure_min"]], smin, atol=1e-6)


def test_pixel_features_rgb_layout_and_uint8_scaling():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    f = pixel_features(img, sigmas=(1.0, 2.0), features=("intensity", "hessian"))
    names = feature_names(3, (1.0, 2.0), ("intensity", "hessian"))
    assert f.shape == (20, 30, len(names)) == (20, 30, 18)
    assert names[:4] == ["intensity[s=1,c=0]", "intensity[s=1,c=1]", "intensity[s=1,c=2]",
                         "hessian_max[s=1,c=0]"]
    for c in range(3):
        ref = ndi.gaussian_filter(img[..., c] / 255.0, 2.0)
        assert_allclose(f[..., names.index(f"intensity[s=2,c={c}]")], ref, atol=1e-5)
    # channel_axis moves the channels
    g = pixel_features(np.moveaxis(img, -1, 0), sigmas=(1.0, 2.0), features=("intensity", "hessian"),
                       channel_axis=0)
    assert_allclose(f, g)


def test_pixel_features_constant_image_has_zero_derivatives():
    f = pixel_features(np.full((16, 16), 0.5), sigmas=(1.0, 3.0))
    names = feature_names(1, (1.0, 3.0))
    for i, n in enumerate(names):
        expect = 0.5 if n.startswith("intensity") else 0.0
        assert_allclose(f[..., i], expect, atol=1e-6, err_msg=n)


@pytest.mark.parametrize("kwargs, err, match", [
    ({"sigmas": ()}, ValueError, "at least one scale"),
    ({"sigmas": (1.0, 1.0)}, ValueError, "repeat"),
    ({"sigmas": (0.0,)}, ValueError, "sigmas must be >= 0.3"),
    ({"sigmas": (100.0,)}, ValueError, "sigmas must be <= 64"),
    ({"features": ("colour",)}, ValueError, "features must be one of"),
    ({"features": ()}, ValueError, "at least one feature"),
])
def test_pixel_features_bad_config(kwargs, err, match):
    with pytest.raises(err, match=match):
        pixel_features(np.zeros((8, 8)), **kwargs)


def test_pixel_features_bad_images():
    with pytest.raises(ValueError, match="channel_axis"):
        pixel_features(np.zeros((8, 8, 3)), channel_axis=None)
    with pytest.raises(ValueError, match="finite"):
        pixel_features(np.full((8, 8), np.nan))
    with pytest.raises(TypeError, match="image"):
        pixel_features("img.png")
    with pytest.raises(ValueError, match="GiB"):
        pixel_features(np.broadcast_to(np.float32(0), (30000, 30000)))
    assert_array_equal(pixel_features(np.zeros((1, 1)), sigmas=(1.0,)), 0)
    with pytest.raises(ValueError, match="representable in float32"):
        pixel_features(np.full((8, 8), 1e300))
    with pytest.raises(ValueError, match="channel_axis must be <= 2"):
        pixel_features(np.zeros((8, 8)), channel_axis=5)
    with pytest.raises(ValueError, match="at most 64 are supported"):
        pixel_features(np.zeros((8, 8, 80)))


def test_pixel_features_follow_the_input_policy(monkeypatch):
    rng = np.random.default_rng(2)
    cfg = dict(sigmas=(1.0, 2.5), features=("intensity", "gradient", "structure"))
    grey16 = rng.integers(0, 65536, (24, 30), dtype=np.uint16)
    # integers are divided by their dtype maximum, floats used as they are: same features
    assert_allclose(pixel_features(grey16, **cfg),
                    pixel_features((grey16 / 65535.0).astype(np.float32), **cfg), atol=1e-6)
    signed = rng.integers(-32768, 32768, (24, 30), dtype=np.int16)
    assert_allclose(pixel_features(signed, **cfg), pixel_features(signed / 32767.0, **cfg), atol=1e-6)
    # (H, W, 1) is grey
    assert_array_equal(pixel_features(grey16[:, :, None], **cfg), pixel_features(grey16, **cfg))
    # the conversion is the policy's one door
    from cvcore import _validate

    calls = []
    real = _validate.unit_image
    monkeypatch.setattr(_validate, "unit_image", lambda *a, **k: calls.append(1) or real(*a, **k))
    pixel_features(grey16, **cfg)
    assert calls == [1]


def test_rgba_alpha_is_ignored_but_a_band_stack_keeps_four_channels():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (20, 26, 4), dtype=np.uint8)
    cfg = dict(sigmas=(1.0,), features=("intensity", "hessian"))
    # channels last is the image layout: RGBA's alpha says nothing about the scene
    assert_array_equal(pixel_features(rgba, **cfg), pixel_features(rgba[:, :, :3], **cfg))
    assert_array_equal(pixel_features(rgba, channel_axis=2, **cfg), pixel_features(rgba[:, :, :3], **cfg))
    # any other channel axis declares a stack of bands: all four are used
    bands = pixel_features(np.moveaxis(rgba, -1, 0), channel_axis=0, **cfg)
    assert bands.shape == (20, 26, len(feature_names(4, **cfg)))
    for c in range(4):
        one = pixel_features(rgba[:, :, c], **cfg)
        assert_array_equal(bands[:, :, [c, 4 + c, 8 + c]], one)
    # other channel counts are generic bands whatever the axis
    five = rng.random((12, 14, 5))
    assert pixel_features(five, **cfg).shape[2] == len(feature_names(5, **cfg))


def test_feature_margin_gives_exact_tiles():
    from cvcore.segmentation.features import feature_margin

    rng = np.random.default_rng(4)
    img = rng.random((90, 40))
    cfg = dict(sigmas=(1.0, 3.0), features=("dog", "structure"))
    m = feature_margin(**cfg)
    full = pixel_features(img, **cfg)
    tile = pixel_features(img[30 - m:60 + m], **cfg)[m:m + 30]
    assert_array_equal(tile, full[30:60])


def test_pixel_features_bit_identical_for_1_2_3_threads():
    import cvcore

    rng = np.random.default_rng(41)
    img = rng.random((67, 53, 3)).astype(np.float32)
    # 1.6 is DOG_RATIO * 1.0: the wider Gaussian of scale 1.0 is reused, as with the default scales
    cfg = dict(sigmas=(1.0, 1.6, 2.5), features=tuple(FEATURES))
    with cvcore.num_threads(1):
        ref = pixel_features(img, **cfg)
    for n in (2, 3):
        with cvcore.num_threads(n):
            assert_array_equal(pixel_features(img, **cfg), ref)
    # every column equals the same kind computed alone (no state shared between scales or kinds)
    names = feature_names(3, **cfg)
    for kind in FEATURES:
        alone = pixel_features(img, sigmas=cfg["sigmas"], features=(kind,))
        cols = [i for i, name in enumerate(names) if name.split("[")[0].startswith(kind)]
        assert_array_equal(ref[:, :, cols], alone)
