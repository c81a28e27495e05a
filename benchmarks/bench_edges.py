"""Edges and corners: cvcore vs OpenCV and scikit-image on the same image."""
import cv2
import numpy as np

from ._harness import Case
from cvcore import edges as E


def _agree(min_fraction):
    def check(a, b):
        a, b = np.asarray(a) > 0, np.asarray(b) > 0
        frac = (a & b).sum() / max(b.sum(), 1)
        if frac < min_fraction:
            raise AssertionError(f"only {frac:.3f} of the peer's edge pixels found")
    return check


def _close_scaled(factor, rtol=1e-3):
    def check(a, b):
        b = np.asarray(b, np.float64) * factor
        if not np.allclose(a, b, rtol=rtol, atol=1e-4 * np.abs(b).max()):
            raise AssertionError("responses differ")
    return check


def _spiral(n):
    """One 3-pixel-wide grey-60 spiral (weak edges) over the whole n x n image,
    brightening to 250 over its first 1 % at the centre (the only strong edges):
    Canny's hysteresis must follow its chains across every thread band."""
    img = np.zeros((n, n), np.uint8)
    t = np.linspace(0, 2 * np.pi * (n // 70), 15 * n)  # rings 35 pixels apart
    r = 4 + t * (n / 2 - 10) / t[-1]
    pts = np.round(np.stack([n / 2 + r * np.cos(t), n / 2 + r * np.sin(t)], axis=1)).astype(np.int32)
    k = len(pts) // 100
    cv2.polylines(img, [pts[k:].reshape(-1, 1, 2)], False, 60, thickness=3)
    for i in range(k):  # a smooth ramp: a sudden step would end the chains
        cv2.line(img, tuple(map(int, pts[i])), tuple(map(int, pts[i + 1])), 250 - 190 * i / k, thickness=3)
    return img


def cases(quick):
    from skimage import data, feature

    n = 256 if quick else 1024
    img = cv2.resize(data.camera(), (n, n), interpolation=cv2.INTER_LINEAR)
    f32 = img.astype(np.float32) / 255
    tag = f"{n}^2"
    big = 512 if quick else 2048
    bimg = cv2.resize(data.camera(), (big, big), interpolation=cv2.INTER_LINEAR)
    spiral = _spiral(big)
    return [
        Case(f"canny u8 {big}^2 sigma=0 L2", lambda: E.canny(bimg, 50 / 255, 150 / 255, sigma=0),
             lambda: cv2.Canny(bimg, 50, 150, L2gradient=True), "OpenCV Canny",
             check=_agree(0.95), scaling=1.7),
        Case(f"canny u8 {big}^2 spiral across bands", lambda: E.canny(spiral, 0.2, 1.5, sigma=0),
             lambda: cv2.Canny(spiral, 0.2 * 255, 1.5 * 255, L2gradient=True), "OpenCV Canny",
             check=_agree(0.99)),
        Case(f"canny u8 {tag} sigma=0 L2", lambda: E.canny(img, 50 / 255, 150 / 255, sigma=0),
             lambda: cv2.Canny(img, 50, 150, L2gradient=True), "OpenCV Canny",
             min_speedup=0.5, check=_agree(0.95)),
        Case(f"canny u8 {tag} sigma=1", lambda: E.canny(img, 0.1, 0.2, sigma=1.0),
             lambda: feature.canny(img, 1.0, 0.1 * 255, 0.2 * 255), "skimage feature.canny",
             min_speedup=10.0, check=_agree(0.9)),
        Case(f"harris f32 {tag} block 3", lambda: E.harris(f32, block_size=3, k=0.04, mode="mirror"),
             lambda: cv2.cornerHarris(f32, 3, 3, 0.04), "OpenCV cornerHarris",
             min_speedup=1 / 1.5, check=_close_scaled(256)),
        Case(f"harris f32 {tag} sigma=1", lambda: E.harris(f32, 1.0, k=0.04),
             lambda: cv2.cornerHarris(f32, 3, 3, 0.04), "OpenCV cornerHarris (block 3)"),
        Case(f"harris f32 {tag} sigma=1", lambda: E.harris(f32, 1.0, k=0.05, mode="constant"),
             lambda: feature.corner_harris(f32, k=0.05, sigma=1.0), "skimage corner_harris",
             check=_close_scaled(1.0)),
        Case(f"shi_tomasi f32 {tag} block 3", lambda: E.shi_tomasi(f32, block_size=3, mode="mirror"),
             lambda: cv2.cornerMinEigenVal(f32, 3, 3), "OpenCV cornerMinEigenVal",
             check=_close_scaled(16)),
        Case(f"shi_tomasi f32 {tag} sigma=1", lambda: E.shi_tomasi(f32, 1.0),
             lambda: cv2.cornerMinEigenVal(f32, 3, 3), "OpenCV cornerMinEigenVal (block 3)"),
        Case(f"harris u8 {tag} block 3", lambda: E.harris(img, block_size=3, k=0.04, mode="mirror"),
             lambda: cv2.cornerHarris(img, 3, 3, 0.04), "OpenCV cornerHarris", check=_close_scaled(256)),
    ]
