"""Tests for cvcore.proposals (Felzenszwalb segmentation, selective search)."""
import numpy as np
import pytest
import skimage.data
import skimage.segmentation
from sklearn.metrics import adjusted_rand_score

from cvcore.proposals import felzenszwalb


# --------------------------------------------------------------------------
# felzenszwalb
# --------------------------------------------------------------------------

SAMPLES = ["astronaut", "coffee", "chelsea", "camera"]


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("scale,sigma,min_size", [(1, 0.8, 20), (100, 0.8, 20), (300, 0.5, 50)])
def test_felzenszwalb_matches_skimage(name, scale, sigma, min_size):
    image = getattr(skimage.data, name)()
    ours = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size)
    ref = skimage.segmentation.felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size)
    n_ours, n_ref = int(ours.max()) + 1, int(ref.max()) + 1
    assert ours.shape == image.shape[:2] and ours.dtype == np.int32
    assert abs(n_ours - n_ref) <= 0.1 * n_ref, (n_ours, n_ref)
    ari = adjusted_rand_score(ref.ravel(), ours.ravel())
    print(f"{name} scale={scale}: {n_ours} vs skimage {n_ref} segments, ARI {ari:.4f}")
    assert ari > 0.9
    counts = np.bincount(ours.ravel())
    assert counts.min() >= min_size
    assert np.array_equal(np.unique(ours), np.arange(n_ours))


def test_felzenszwalb_segments_are_connected():
    from scipy import ndimage

    image = skimage.data.coffee()[::4, ::4]
    labels = felzenszwalb(image, scale=50, sigma=0.8, min_size=10)
    for lab in range(labels.max() + 1):
        _, n = ndimage.label(labels == lab, structure=np.ones((3, 3)))
        assert n == 1


def test_felzenszwalb_scale_controls_segment_count():
    image = skimage.data.astronaut()[::2, ::2]
    counts = [felzenszwalb(image, scale=s, min_size=5).max() + 1 for s in (10, 100, 1000)]
    assert counts[0] > counts[1] > counts[2]


def test_felzenszwalb_grey_rgb_rgba_and_dtypes():
    rgb = skimage.data.chelsea()[::3, ::3]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    assert np.array_equal(felzenszwalb(rgb, 100), felzenszwalb(rgba, 100))
    assert np.array_equal(felzenszwalb(rgb, 100), felzenszwalb(rgb / 255.0, 100))
    assert np.array_equal(felzenszwalb(rgb, 100), felzenszwalb(rgb.astype(np.uint16) * 257, 100))
    grey = rgb[:, :, 1]
    assert np.array_equal(felzenszwalb(grey, 100), felzenszwalb(grey[:, :, None], 100))
    ref = skimage.segmentation.felzenszwalb(grey, 100, 0.8, 20, channel_axis=None)
    assert abs(felzenszwalb(grey, 100).max() - ref.max()) <= 0.1 * (ref.max() + 1)
    ro = rgb.copy()
    ro.setflags(write=False)
    felzenszwalb(ro[:, ::-1])  # read-only, non-contiguous


@pytest.mark.parametrize("shape", [(1, 1), (1, 50), (50, 1), (3, 400), (400, 3), (1, 1, 3), (2, 2, 4)])
def test_felzenszwalb_degenerate_shapes(shape):
    image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    labels = felzenszwalb(image, scale=50, min_size=5)
    assert labels.shape == shape[:2]
    assert labels.min() == 0
    n = shape[0] * shape[1]
    counts = np.bincount(labels.ravel())
    assert counts.min() >= min(5, n)


def test_felzenszwalb_constant_image_is_one_segment():
    assert felzenszwalb(np.full((40, 60, 3), 90, np.uint8)).max() == 0
    assert felzenszwalb(np.zeros((40, 60)), sigma=0).max() == 0


def test_felzenszwalb_min_size_zero_and_no_smoothing():
    image = np.zeros((6, 6), np.uint8)
    image[2, 2] = 255
    labels = felzenszwalb(image, scale=1, sigma=0, min_size=0)
    assert labels.max() == 1 and (labels == labels[2, 2]).sum() == 1
    labels = felzenszwalb(image, scale=1, sigma=0, min_size=2)
    assert labels.max() == 0


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(scale=-1), ValueError, "scale must be >= 0"),
    (dict(scale=float("nan")), ValueError, "scale"),
    (dict(sigma=-0.5), ValueError, "sigma must be >= 0"),
    (dict(min_size=-1), ValueError, "min_size must be >= 0"),
    (dict(min_size=2.5), TypeError, "min_size must be an integer"),
    (dict(scale="big"), TypeError, "scale must be a real number"),
])
def test_felzenszwalb_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        felzenszwalb(np.zeros((8, 8), np.uint8), **kwargs)


@pytest.mark.parametrize("image,exc,match", [
    (np.zeros((4, 4, 2)), ValueError, "image must be grey"),
    (np.zeros((2, 2, 2, 2)), ValueError, "image must be 2-D or 3-D"),
    (np.zeros((0, 4)), ValueError, "must not be empty"),
    (np.array([[np.nan, 1.0]]), ValueError, "finite"),
    (np.array([[1 + 1j]]), TypeError, "real numeric"),
    (np.array([[-1, 3]], np.int32), ValueError, "0..255"),
    (None, TypeError, "image must be an array"),
])
def test_felzenszwalb_bad_images(image, exc, match):
    with pytest.raises(exc, match=match):
        felzenszwalb(image)
