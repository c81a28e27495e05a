"""cvcore.edges against OpenCV, scipy.ndimage and scikit-image."""
import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from numpy.testing import assert_allclose

from cvcore import edges as E
from cvcore import filters as F


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_gradient_matches_opencv_sobel(dtype, rng):
    img = (rng.random((30, 41)) * 200).astype(dtype)
    gx, gy = E.gradient(img, mode="mirror")
    assert gx.dtype == gy.dtype == F._validate.output_float_dtype(dtype)
    assert_allclose(gx, cv2.Sobel(img, cv2.CV_64F, 1, 0), rtol=1e-5, atol=1e-3)
    assert_allclose(gy, cv2.Sobel(img, cv2.CV_64F, 0, 1), rtol=1e-5, atol=1e-3)


def test_gradient_with_sigma_is_sobel_of_gaussian(rng):
    img = rng.random((25, 25))
    gx, gy = E.gradient(img, sigma=1.5, mode="nearest")
    smooth = ndi.gaussian_filter(img, 1.5, mode="nearest")
    assert_allclose(gx, ndi.sobel(smooth, 1, mode="nearest"), atol=1e-12)
    assert_allclose(gy, ndi.sobel(smooth, 0, mode="nearest"), atol=1e-12)
