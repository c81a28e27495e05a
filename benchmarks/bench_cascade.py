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
  on a dlib test photo resized to 640x480 and 1280x960, against
  ``cv2.CascadeClassifier.detectMultiScale`` (scale 1.1, min_neighbors 3); the
  check asserts that the two return the same boxes. Goal (issue 10): at most
  0.6x OpenCV's time on one thread, and 1->2 threads scaling >= 1.6x at
  1280x960. The same for OpenCV's lbpcascade_frontalface_improved
  (``detect LBP``), and (issue 13) LBP detection against cvcore's own Haar
  detection on the same 640x480 photo: at most half its time, for OpenCV's
  cascades and for the shipped ones. ``vector path``: the shipped LBP cascade's
  detection with the LBP scan's AVX2 path against its scalar path (same
  detections), where the CPU has AVX2.
* ``haar features ... fresh output``: the same without ``out``: the 650 MB
  fresh allocation (page faults) is then part of what is measured.
* ``dlib photos``: :func:`cvcore.evaluation.evaluate_detector` over the annotated
  dlib photos, the shipped Haar cascade (ours) against OpenCV's
  haarcascade_frontalface_default run by ``cv2.CascadeClassifier`` (peer, ranked
  by its level weights): time for the whole set; the check asserts both were
  scored on the same 18 faces.

``python -m benchmarks.bench_cascade`` prints the precision-recall tables
(:func:`accuracy`): every detector of :data:`DETECTORS` on the dlib photos
(the half that chose the shipped cascades' stage counts, the half that did
not, all four), scale 1.1, 3 neighbours, ranked by confidence, one matching
rule; and the detections of each on face-free images
(:func:`face_free_detections`).
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


def _haar_case(quick, preallocated=True):
    from skimage.feature import haar_like_feature
    from skimage.transform import integral_image

    from cvcore.haar import haar_feature_values, haar_features

    n = 100 if quick else 1000
    peer_n = 1 if quick else PEER_WINDOWS
    rng = np.random.default_rng(0)
    windows = rng.integers(0, 256, (n, 24, 24)).astype(np.uint8)
    table = haar_features((24, 24))
    out = np.empty((n, len(table)), np.float32) if preallocated else None
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

    how = "into out=" if preallocated else "fresh output"
    return Case(name=f"haar 162336 features x {n} windows, {how}", ours=ours, peer=peer, peer_scale=scale,
                peer_name=f"skimage haar_like_feature (x{scale:g} from {peer_n} win)",
                min_speedup=200.0 if preallocated else None, check=check, scaling=1.6 if preallocated else None)


def _photo(data, size, quick):
    import cv2

    photo = data / "faces" / "dlib_photos_train" / "2008_002079.jpg"
    if quick:
        size = (size[0] // 2, size[1] // 2)
    return cv2.resize(cv2.imread(str(photo), cv2.IMREAD_GRAYSCALE), size, interpolation=cv2.INTER_AREA)


def _same_boxes(a, b):
    assert set(map(tuple, a.tolist())) == set(map(tuple, b.tolist())), "detections differ"


def _detect_case(quick, xml_name="haarcascade_frontalface_default.xml", label="frontalface_default",
                 size=(640, 480), goal=1 / 0.6, scaling=None):
    import cv2

    from cvcore.cascade import Cascade

    data = _shared_data()
    if data is None:
        return None
    xml = data / "cascades" / xml_name
    grey = _photo(data, size, quick)
    ours_c = Cascade.from_opencv_xml(xml)
    ref = cv2.CascadeClassifier(str(xml))

    def ours():
        return ours_c.detect(grey, scale_factor=1.1, min_neighbors=3)[0]

    def peer():
        return np.asarray(ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)).reshape(-1, 4)

    return Case(name=f"detect {label} {grey.shape[1]}x{grey.shape[0]}", ours=ours, peer=peer,
                peer_name="OpenCV detectMultiScale", min_speedup=goal, check=_same_boxes, scaling=scaling)


def _lbp_vs_haar_case(quick):
    """Issue 13: LBP detection (OpenCV's lbpcascade_frontalface_improved) in at most half the time of
    Haar detection (haarcascade_frontalface_default), both run by cvcore, on the same photo."""
    from cvcore.cascade import Cascade

    data = _shared_data()
    if data is None:
        return None
    grey = _photo(data, (640, 480), quick)
    lbp = Cascade.from_opencv_xml(data / "cascades" / "lbpcascade_frontalface_improved.xml")
    haar = Cascade.from_opencv_xml(data / "cascades" / "haarcascade_frontalface_default.xml")
    return Case(name=f"detect LBP improved vs Haar default {grey.shape[1]}x{grey.shape[0]}",
                ours=lambda: lbp.detect(grey, 1.1, 3)[0], peer=lambda: haar.detect(grey, 1.1, 3)[0],
                peer_name="cvcore Haar frontalface_default", min_speedup=2.0)


def _shipped_lbp_vs_haar_case(quick):
    """Issue 13: the shipped LBP cascade against the shipped Haar cascade, both run by cvcore, on
    the same 640x480 photo: at most half its time."""
    from cvcore.cascade import default_face_cascade

    data = _shared_data()
    if data is None:
        return None
    grey = _photo(data, (640, 480), quick)
    lbp, haar = default_face_cascade("lbp"), default_face_cascade("haar")
    return Case(name=f"detect shipped LBP vs shipped Haar {grey.shape[1]}x{grey.shape[0]}",
                ours=lambda: lbp.detect(grey, 1.1, 3)[0], peer=lambda: haar.detect(grey, 1.1, 3)[0],
                peer_name="cvcore shipped Haar", min_speedup=2.0)


def _lbp_vector_case(quick):
    """The LBP scan's vector path against its scalar path (the same detections), shipped LBP
    cascade on the 640x480 photo; skipped where the vector path does not run."""
    from cvcore._ext import _lbp
    from cvcore.cascade import Cascade, default_face_cascade

    data = _shared_data()
    if data is None or not _lbp.vector_path():
        return None
    grey = _photo(data, (640, 480), quick)
    vector = default_face_cascade("lbp")
    scalar = Cascade.from_dict(vector.to_dict())
    scalar._engine.vector = False

    def check(a, b):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), "the two paths differ"

    return Case(name=f"detect shipped LBP {grey.shape[1]}x{grey.shape[0]}, vector path",
                ours=lambda: vector.detect(grey, 1.1, 3), peer=lambda: scalar.detect(grey, 1.1, 3),
                peer_name="the scalar path", min_speedup=2.5, check=check)


#: The detectors of the accuracy table: (label, cascade file in shared/data/cascades or None for ours).
#: (label, ``default_face_cascade`` kind or an OpenCV file in ``cascades/``)
DETECTORS = (("cvcore shipped Haar", "haar"),
             ("cvcore shipped LBP", "lbp"),
             ("OpenCV haarcascade_frontalface_default", "haarcascade_frontalface_default.xml"),
             ("OpenCV lbpcascade_frontalface_improved", "lbpcascade_frontalface_improved.xml"),
             ("OpenCV lbpcascade_frontalface", "lbpcascade_frontalface.xml"))


def _photos(data):
    root = data / "faces" / "dlib_photos_train"
    return root / "training.xml", root


#: The halves of the dlib photos: the shipped cascades' stage counts were chosen on "choose" only.
PHOTO_HALVES = {"choose": ("2007_007763.jpg", "2008_001009.jpg"), "measure": ("2008_002079.jpg", "2008_001322.jpg")}
#: Face-free images of ``skimage.data`` (every detection on them is a false positive).
FACE_FREE = ("coins", "moon", "page", "text", "brick", "grass", "gravel", "coffee", "chelsea", "rocket",
             "hubble_deep_field", "immunohistochemistry", "retina", "cell", "lily", "colorwheel", "logo",
             "microaneurysms", "clock", "cat", "horse", "kidney", "eagle", "binary_blobs", "shepp_logan_phantom",
             "checkerboard")


def _detector(data, name):
    from cvcore.cascade import Cascade, default_face_cascade

    return default_face_cascade(name) if name in ("haar", "lbp") else Cascade.from_opencv_xml(data / "cascades" / name)


def accuracy(data=None, *, half="all", scale_factor=1.1, min_neighbors=3):
    """``[(label, DetectionEvaluation)]`` of every detector of :data:`DETECTORS` on the dlib photos
    (``half``: "all", or one of :data:`PHOTO_HALVES`)."""
    from cvcore.evaluation import evaluate_detector, read_annotations

    data = data or _shared_data()
    annotations, images = _photos(data)
    truth = read_annotations(annotations)
    if half != "all":
        truth = {k: v for k, v in truth.items() if os.path.basename(k) in PHOTO_HALVES[half]}
    options = {"scale_factor": scale_factor, "min_neighbors": min_neighbors, "score": "confidence"}
    return [(label, evaluate_detector(_detector(data, name), truth, images, options=options, progress=False))
            for label, name in DETECTORS]


def face_free_images():
    """The :data:`FACE_FREE` images this scikit-image has (grey, 8 bits; those that need a download are skipped)."""
    import skimage.data

    from cvcore._validate import grey_uint8

    images = []
    for name in FACE_FREE:
        try:
            img = np.asarray(getattr(skimage.data, name)())
        except (AttributeError, ImportError, OSError):    # not in this version, or needs a download
            continue
        if img.dtype == bool:
            img = img.astype(np.uint8) * 255
        images.append(grey_uint8(img[..., :3] if img.ndim == 3 else img, name))
    return images


def face_free_detections(data=None, *, scale_factor=1.1, min_neighbors=3):
    """``([(label, detections)], n_images)``: the detections of every detector of :data:`DETECTORS`
    on the :data:`FACE_FREE` images (grey, 8 bits; those this scikit-image cannot load are skipped)."""
    data = data or _shared_data()
    images = face_free_images()
    rows = []
    for label, name in DETECTORS:
        cascade = _detector(data, name)
        rows.append((label, sum(len(cascade.detect(img, scale_factor, min_neighbors)[0]) for img in images)))
    return rows, len(images)


def _accuracy_case(quick):
    import cv2

    from cvcore.cascade import default_face_cascade
    from cvcore.evaluation import evaluate_detector

    data = _shared_data()
    if data is None or quick:
        return None
    annotations, images = _photos(data)
    ref = cv2.CascadeClassifier(str(data / "cascades" / "haarcascade_frontalface_default.xml"))

    def opencv(image):
        boxes, _, weights = ref.detectMultiScale3(image, 1.1, 3, outputRejectLevels=True)
        return np.asarray(boxes).reshape(-1, 4), np.ravel(weights)

    def ours():
        return evaluate_detector(default_face_cascade(), annotations, images, progress=False,
                                 options={"scale_factor": 1.1, "min_neighbors": 3})

    def peer():
        return evaluate_detector(opencv, annotations, images, progress=False)

    def check(a, b):
        assert a.n_objects == b.n_objects == 18 and a.n_images == b.n_images, "not scored on the same faces"

    return Case(name="dlib photos: shipped Haar, evaluate", ours=ours, peer=peer,
                peer_name="OpenCV frontalface_default", min_speedup=None, check=check)


def cases(quick=False):
    lbp = ("lbpcascade_frontalface_improved.xml", "LBP frontalface_improved")
    out = [_haar_case(quick), _haar_case(quick, preallocated=False),
           _detect_case(quick), _detect_case(quick, size=(1280, 960), scaling=1.6),
           _detect_case(quick, *lbp, goal=1.0), _detect_case(quick, *lbp, size=(1280, 960), goal=1.0, scaling=1.6),
           _lbp_vs_haar_case(quick), _shipped_lbp_vs_haar_case(quick), _lbp_vector_case(quick),
           _accuracy_case(quick)]
    return [c for c in out if c is not None]


def _table(rows):
    lines = [f"{'detector':<40} {'AP@0.5':>7} {'AP@0.3':>7} {'recall':>7} {'FP/img':>7} {'det/img':>7} {'ms/img':>7}"]
    for label, e in rows:
        lines.append(f"{label:<40} {e.average_precision_at[0.5]:7.3f} {e.average_precision_at[0.3]:7.3f} "
                     f"{e.max_recall:7.3f} {e.false_positives_per_image:7.2f} {e.detections_per_image:7.2f} "
                     f"{1000 * e.seconds_per_image:7.1f}")
    return "\n".join(lines)


if __name__ == "__main__":   # the precision-recall tables of the issue-13 note
    for half in ("measure", "choose", "all"):
        print(f"dlib photos, {half} half" if half != "all" else "dlib photos, all four")
        print(_table(accuracy(half=half)))
    counts, n = face_free_detections()
    print(f"detections on {n} face-free skimage.data images: " + ", ".join(f"{label} {k}" for label, k in counts))
