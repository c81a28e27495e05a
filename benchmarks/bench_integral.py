"""Integral images: cvcore vs OpenCV on the same images."""
import cv2
import numpy as np

from ._harness import Case
from cvcore.integral import integral_image, integral_images


def _equal(a, b):
    if not np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)):
        raise AssertionError("integral tables differ")


def _equal3(a, b):
    for x, y in zip(a, b):
        _equal(x, y)


def cases(quick):
    n = 1024  # sub-millisecond even at full size; --quick only shortens the timing budget
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (n, n), dtype=np.uint8)
    f32 = rng.random((n, n), dtype=np.float32)
    return [
        Case(f"integral_image u8 {n}^2", lambda: integral_image(u8),
             lambda: cv2.integral(u8), "OpenCV integral (int32)", min_speedup=0.5, check=_equal),
        Case(f"integral_image u8 {n}^2 dtype=int32", lambda: integral_image(u8, dtype=np.int32),
             lambda: cv2.integral(u8), "OpenCV integral (int32)", min_speedup=1.0, check=_equal),
        Case(f"integral_image u8 {n}^2 (64-bit out)", lambda: integral_image(u8),
             lambda: cv2.integral(u8, sdepth=cv2.CV_64F), "OpenCV integral CV_64F", check=_equal),
        Case(f"integral_image f32 {n}^2", lambda: integral_image(f32),
             lambda: cv2.integral(f32, sdepth=cv2.CV_64F), "OpenCV integral CV_64F"),
        Case(f"integral_images u8 {n}^2", lambda: integral_images(u8),
             lambda: cv2.integral3(u8), "OpenCV integral3", check=_equal3),
    ]
