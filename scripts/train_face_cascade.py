"""Train the face cascades shipped as cvcore/data/face_cascade.json (Haar) and face_cascade_lbp.json (LBP).

Usage (from the repository root, with the shared data beside the checkout):

    PYTHONPATH=. python scripts/train_face_cascade.py [--features haar|lbp] [--data ../shared/data] \
        [--out cvcore/data/face_cascade.json] [--checkpoint /tmp/face_ckpt]

Positives: the 16,520 24x24 faces of faces/faces_24x24.npz plus the 2,429 MIT
CBCL training faces (19x19, resized bilinearly to 24x24), each also mirrored
horizontally (``mirror_positives``); the two sets are cropped very differently,
so each stage keeps the hit rate on both (``positive_groups``).
Negatives: mined by the cascade itself from the 200 images of faces/backgrounds
(plus the MIT CBCL non-faces as extra candidates). Everything is seeded
(random_state=0).

Haar (``--features haar``, the default): the shipped file came from one run of
this script: 26 stages, 3,773 stumps, about 870 s on the shared 2-core machine
(stage table in the file's commit message). ``max_stages=26`` was chosen on
dlib_photos_train (16 of 18 faces, 1 false positive; 24 stages: 16 and 2; 27
stages: MIT acceptance drops to 90.6 %). ``time_budget`` only stops a run that
is much slower than that one; if it stops earlier, the result is the same
cascade cut after fewer stages.

LBP (``--features lbp``): the same data and sampling, multi-block LBP
features (3,000 of the 8,464 drawn per stage, at most 100 stumps a stage), no
time budget so that the run is reproducible anywhere: 19 stages, 1,100 stumps,
547 s of training (153 s of CPU time; 9 min 8 s with loading the data)
on the shared 2-core machine under a load average of about 12
(``nice -n 5``). ``max_stages=19`` was chosen on half of dlib_photos_train
(2007_007763.jpg and 2008_001009.jpg, 9 faces): the average precision at IoU
0.5 (``score="confidence"``) of the cascade cut after 8, 10, 12..19 stages of
one longer run rose to 0.778 at 18 and 19 stages (ties broken by fewer false
positives: 3 at 19), and 19 stages is about what 10 minutes allow. The other
half (2008_002079.jpg, 2008_001322.jpg) played no part; on it (scale 1.1, 3
neighbours, IoU 0.5, ranked by confidence) the LBP cascade has AP 0.906,
recall 9/9 and 2.0 false positives per image, the shipped Haar one AP 0.877,
8/9 and 1.0, OpenCV's haarcascade_frontalface_default AP 0.778, 7/9 and 1.0
(the Haar stage count was chosen on all four photos, so its figure is not
held out). On a 640x480 image the LBP cascade takes 0.7x the Haar cascade's
time (one thread, loaded machine).

Because dlib_photos_train chose the stage counts (and the MIT CBCL faces are
training data), the tests do not measure the shipped cascades on them: their
quality is checked on scikit-image's LFW subset, which played no part here.
The Haar file was re-saved in the ``cvcore-cascade`` format (issue 9) without a
value changing. The checkpoint refuses to resume with other settings or data.
"""
import argparse
import glob
import json
import os
import sys
import time
import warnings

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cvcore.cascade import train_cascade  # noqa: E402

SETTINGS = {
    "haar": dict(window=(24, 24), max_stages=26, min_hit_rate=0.996, max_false_alarm=0.5,
                 target_false_alarm=1e-6, negatives_per_stage=3000, positives_per_stage=2000,
                 validation_fraction=0.15, features_per_stage=12000, max_weak_per_stage=200, mirror_positives=True,
                 random_state=0, time_budget=27 * 60),
    "lbp": dict(window=(24, 24), max_stages=19, min_hit_rate=0.996, max_false_alarm=0.5,
                target_false_alarm=1e-6, negatives_per_stage=3000, positives_per_stage=2000,
                validation_fraction=0.15, features_per_stage=3000, max_weak_per_stage=100, mirror_positives=True,
                random_state=0, feature_type="lbp"),
}
OUT = {"haar": "face_cascade.json", "lbp": "face_cascade_lbp.json"}


def load_data(root):
    faces = np.load(os.path.join(root, "faces", "faces_24x24.npz"), allow_pickle=False)["faces"]
    mit = np.load(os.path.join(root, "faces", "mit_cbcl_train_19x19.npz"), allow_pickle=False)
    mit_faces = np.stack([cv2.resize(f, (24, 24), interpolation=cv2.INTER_LINEAR) for f in mit["faces"]])
    mit_non = np.stack([cv2.resize(f, (24, 24), interpolation=cv2.INTER_LINEAR) for f in mit["nonfaces"]])
    positives = np.concatenate([faces.astype(np.uint8), mit_faces.astype(np.uint8)])
    groups = np.repeat([0, 1], [faces.shape[0], mit_faces.shape[0]])
    bgs = [cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in sorted(glob.glob(os.path.join(root, "faces", "backgrounds", "*.pgm")))]
    return positives, groups, bgs, mit_non.astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", choices=("haar", "lbp"), default="haar", help="which cascade (default haar)")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(HERE), "..", "shared", "data"))
    ap.add_argument("--out", default=None, help="cascade file (default: the shipped one in cvcore/data)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (resume)")
    args = ap.parse_args()
    out = args.out or os.path.join(os.path.dirname(HERE), "cvcore", "data", OUT[args.features])
    positives, groups, bgs, extra = load_data(args.data)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("always")     # a training that stops early says why, and the partial cascade is kept
        cascade = train_cascade(positives, bgs, positive_groups=groups, extra_negatives=extra,
                                checkpoint_dir=args.checkpoint, progress=True, **SETTINGS[args.features])
    elapsed = time.perf_counter() - t0
    cascade.save(out)
    print(f"trained {cascade} in {elapsed:.0f} s -> {out}")
    print(json.dumps(cascade.training_log, indent=1))


if __name__ == "__main__":
    main()
