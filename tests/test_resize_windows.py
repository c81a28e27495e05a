"""cascade.resize_windows: face crops of any size and dtype become training windows."""
import cv2
import numpy as np
import pytest

from cvcore.cascade import resize_windows


def test_matches_opencv_area_resize_and_follows_the_input_policy(rng):
    crop = rng.integers(0, 256, (37, 29, 3)).astype(np.uint8)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    want = cv2.resize(grey, (24, 20), interpolation=cv2.INTER_AREA)
    got = resize_windows([crop, crop.astype(np.float32) / 255], (24, 20))
    assert got.shape == (2, 20, 24) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[0], want)
    # the float copy goes through the float grey weights: within one grey level of OpenCV's fixed point
    assert np.abs(got[1].astype(int) - want).max() <= 1


@pytest.mark.parametrize("images, window, exc, match", [
    (np.zeros((30, 30)), (24, 24), ValueError, "list of crops"),
    ([], (24, 24), ValueError, "at least one"),
    ([np.zeros((5, 5, 7))], (24, 24), ValueError, r"images\[0\]"),
    (5, (24, 24), TypeError, "sequence of images"),
    ([np.zeros((5, 5))], (2, 24), ValueError, "window width"),
])
def test_bad_input_names_the_argument(images, window, exc, match):
    with pytest.raises(exc, match=match):
        resize_windows(images, window)
