"""Box utilities: cvcore vs OpenCV's dnn NMS and groupRectangles on the same boxes."""
import cv2
import numpy as np

from ._harness import Case
from cvcore.boxes import group_rectangles, nms, soft_nms


def _random_boxes(rng, n, span=1000.0):
    xy = rng.uniform(0, span, (n, 2))
    wh = rng.uniform(10, 100, (n, 2))
    return np.hstack([xy, wh])


def _same_indices(a, b):
    if not np.array_equal(np.asarray(a).ravel(), np.asarray(b).ravel()):
        raise AssertionError("kept indices differ")


def _same_groups(a, b):
    if not (np.array_equal(a[0], np.asarray(b[0]).reshape(-1, 4))
            and np.array_equal(a[1], np.asarray(b[1]).ravel())):
        raise AssertionError("groups differ")


def cases(quick):
    rng = np.random.default_rng(0)
    n = 2000 if quick else 10000
    boxes = _random_boxes(rng, n)
    scores = rng.random(n).astype(np.float32)
    # detections clustered around a few objects, as a detector produces them
    centers = rng.integers(0, 600, (40, 2))
    k = rng.integers(0, 40, 1500 if quick else 4000)
    rects = np.hstack([centers[k] + rng.normal(0, 2, (k.size, 2)), 40 + rng.normal(0, 2, (k.size, 2))])
    rects = np.round(rects).astype(np.int64)
    rect_list = rects.astype(np.int32).tolist()
    ib = np.round(boxes[:2000]).astype(np.int32)
    ib_list = ib.tolist()
    s2 = scores[:2000]
    return [
        Case(f"nms {n} boxes iou 0.5", lambda: nms(boxes, scores, 0.5, 0.0),
             lambda: cv2.dnn.NMSBoxes(boxes, scores, 0.0, 0.5), "OpenCV dnn.NMSBoxes",
             min_speedup=10.0, check=_same_indices),
        Case(f"nms {n} boxes iou 0.3", lambda: nms(boxes, scores, 0.3, 0.0),
             lambda: cv2.dnn.NMSBoxes(boxes, scores, 0.0, 0.3), "OpenCV dnn.NMSBoxes",
             check=_same_indices),
        Case("soft_nms 2000 boxes gaussian", lambda: soft_nms(ib, s2, score_threshold=0.001)[0],
             lambda: cv2.dnn.softNMSBoxes(ib_list, s2, 0.001, 0.3)[1], "OpenCV dnn.softNMSBoxes"),
        Case(f"group_rectangles {len(rects)} rects", lambda: group_rectangles(rects, 3, 0.2),
             lambda: cv2.groupRectangles(rect_list, 3, 0.2), "OpenCV groupRectangles",
             check=_same_groups),
    ]
