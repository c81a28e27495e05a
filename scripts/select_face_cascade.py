"""Choose the stage count of a trained face cascade (and between training recipes) on selection data only.

Usage (from the repository root, with the shared data beside the checkout):

    PYTHONPATH=. python scripts/select_face_cascade.py RUN.json [RUN2.json ...] [--min-stages 12]

Every cut (the first k stages, ``k >= --min-stages``) of every trained cascade
given is scored on the selection data, and the rule below picks one:

* the "choose" half of faces/dlib_photos_train (2007_007763.jpg and
  2008_001009.jpg, 9 faces; scale 1.1, 3 neighbours, boxes matched at IoU 0.5,
  ranked by ``score="confidence"``): recall and average precision must be at
  least those of OpenCV's haarcascade_frontalface_default there;
* among those, the fewest false positives on that half; then the fewest
  detections on the face-free scikit-image images of
  ``benchmarks/bench_cascade.py`` (every detection there is false); then the
  higher average precision on that half; then fewer stages.

The other half of the dlib photos (the "measure" half) is never read here: the
figures quoted for the shipped cascades are measured on it afterwards.
"""
import argparse
import os
import pathlib
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.bench_cascade import PHOTO_HALVES, _photos, _shared_data, face_free_images  # noqa: E402
from cvcore.cascade import Cascade  # noqa: E402
from cvcore.evaluation import evaluate_detector, read_annotations  # noqa: E402

OPTIONS = {"scale_factor": 1.1, "min_neighbors": 3, "score": "confidence"}


def cut(cascade, k):
    """The cascade's first ``k`` stages."""
    d = cascade.to_dict()
    d["stages"] = d["stages"][:k]
    return Cascade.from_dict(d)


def score(cascade, truth, images, free):
    e = evaluate_detector(cascade, truth, images, options=OPTIONS, progress=False)
    n_free = sum(len(cascade.detect(img, 1.1, 3)[0]) for img in free)
    return {"recall": e.max_recall, "ap": e.average_precision_at[0.5], "fp": e.n_detections - e.true_positives, "free": n_free}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cascades", nargs="+", help="trained cascade files (cvcore JSON)")
    ap.add_argument("--min-stages", type=int, default=12)
    ap.add_argument("--data", default=None, help="shared data folder (default: beside the checkout)")
    args = ap.parse_args()
    data = _shared_data() if args.data is None else pathlib.Path(args.data)
    annotations, images = _photos(data)
    truth = {k: v for k, v in read_annotations(annotations).items()
             if os.path.basename(k) in PHOTO_HALVES["choose"]}
    assert not any(os.path.basename(k) in PHOTO_HALVES["measure"] for k in truth)
    free = face_free_images()
    ref = score(Cascade.from_opencv_xml(data / "cascades" / "haarcascade_frontalface_default.xml"), truth, images, free)
    print(f"OpenCV haarcascade_frontalface_default: recall {ref['recall']:.3f} AP {ref['ap']:.3f} "
          f"FP {ref['fp']} face-free {ref['free']}")
    rows = []
    for path in args.cascades:
        full = Cascade.load(path)
        for k in range(min(args.min_stages, full.n_stages), full.n_stages + 1):
            r = score(cut(full, k), truth, images, free)
            rows.append((path, k, r))
            print(f"{os.path.basename(path):<32} {k:3d} stages: recall {r['recall']:.3f} AP {r['ap']:.3f} "
                  f"FP {r['fp']:2d} face-free {r['free']:3d}", flush=True)
    eligible = [row for row in rows if row[2]["recall"] >= ref["recall"] - 1e-9 and row[2]["ap"] >= ref["ap"] - 1e-9]
    if not eligible:
        print("no cut reaches OpenCV's recall and average precision on the selection photos")
        return 1
    best = min(eligible, key=lambda row: (row[2]["fp"], row[2]["free"], -row[2]["ap"], row[1]))
    print(f"chosen: {best[0]} cut at {best[1]} stages {best[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
