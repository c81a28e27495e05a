"""Haar features and cascade detection: cvcore vs scikit-image and OpenCV.

* ``haar features``: all 162,336 features of a 24x24 window on 1,000 windows,
  against ``skimage.feature.haar_like_feature``. scikit-image takes ~0.2 s per
  window, so it is timed on ``PEER_WINDOWS`` windows and its time is scaled
  linearly to 1,000 windows (``Case.peer_scale``; the work is exactly
  proportional to the number of windows); the reported peer time is that
  extrapolation. Our output for 1,000
  windows is a 650 MB float32 array, written into a preallocated ``out`` so
  that page faulting a fresh 650 MB block is not what gets measured.
* ``detect``: ``Cascade.detect`` with OpenCV's haarcascade_frontalface_default
  on a 640x480 photo (a dlib test photo resized, or scikit-image's astronaut
  when the shared data is absent) against ``cv2.CascadeClassifier.detectMultiScale``
  (scale 1.1, min_neighbors 3), both single-threaded; the check asserts that the
  two return the same boxes.
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from ._harness import Case

PEER_WINDOWS = 4


def _shared_data():
    env = os.environ.get("CVCORE_SHARED_DATA")
    root = pathlib.Path(__file__).resolve().parents[1]
    for cand in ([pathlib.Path(env)] if env else []) + [root.parent / "shared" / "data",
                                                          pathlib.Path.cwd().parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


def _haar_case(quick):
    from skimage.feature import haar_like_feature
    from skimage.transform import integral_image

    from cvcore.haar import haar_feature_values, haar_features

    n = 100 if quick else 1000
    peer_n = 1 if quick else PEER_WINDOWS
    rng = np.random.default_rng(0)
    windows = rng.integers(0, 256, (n, 24, 24)).astype(np.uint8)
    table = haar_features((24, 24))
    out = np.empty((n, len(table)), np.float32)
    integrals = [integral_image(w) for w in windows[:peer_n]]
    scale = n / peer_n

    def ours():
        return haar_feature_values(windows, table, out=out)

    def peer():
        res = [haar_like_feature(ii, 0, 0, 24, 24) for ii in integrals]
        return res

    def check(a, b):
        for k in range(peer_n):
            assert np.array_equal(a[k], b[k].astype(np.float32)), "feature values differ from scikit-image"

    return Case(name=f"haar 162336 features x {n} windows", ours=ours, peer=peer, peer_scale=scale,
                peer_name=f"skimage haar_like_feature (x{scale:g} from {peer_n} win)",
                min_speedup=200.0, check=check)


def _detect_case(quick):
    import cv2

    from cvcore.cascade import Cascade

    data = _shared_data()
    if data is None:
        return None
    xml = data / "cascades" / "haarcascade_frontalface_default.xml"
    photo = data / "faces" / "dlib_photos_train" / "2008_002079.jpg"
    grey = cv2.resize(cv2.imread(str(photo), cv2.IMREAD_GRAYSCALE), (640, 480), interpolation=cv2.INTER_AREA)
    if quick:
        grey = cv2.resize(grey, (320, 240), interpolation=cv2.INTER_AREA)
    ours_c = Cascade.from_opencv_xml(xml)
    ref = cv2.CascadeClassifier(str(xml))

    def ours():
        return ours_c.detect(grey, scale_factor=1.1, min_neighbors=3)[0]

    def peer():
        return np.asarray(ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)).reshape(-1, 4)

    def check(a, b):
        assert set(map(tuple, a.tolist())) == set(map(tuple, b.tolist())), "detections differ from OpenCV"

    return Case(name=f"detect frontalface_default {grey.shape[1]}x{grey.shape[0]}", ours=ours, peer=peer,
                peer_name="OpenCV detectMultiScale", min_speedup=1.0, check=check)


def cases(quick=False):
    out = [_haar_case(quick)]
    det = _detect_case(quick)
    if det is not None:
        out.append(det)
    return out
