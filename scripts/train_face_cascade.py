"""Train the face cascade shipped as cvcore/data/face_cascade.json.

Usage (from the repository root, with the shared data beside the checkout):

    PYTHONPATH=. python scripts/train_face_cascade.py [--data ../shared/data] \
        [--out cvcore/data/face_cascade.json] [--checkpoint /tmp/face_ckpt]

Positives: the 16,520 24x24 faces of faces/faces_24x24.npz plus the 2,429 MIT
CBCL training faces (19x19, resized bilinearly to 24x24), each also mirrored
horizontally (``mirror_positives``); the two sets are cropped very differently,
so each stage keeps the hit rate on both (``positive_groups``).
Negatives: mined by the cascade itself from the 200 images of faces/backgrounds
(plus the MIT CBCL non-faces as extra candidates). Everything is seeded
(random_state=0).

The shipped file came from one run of this script: 26 stages, 3,773 stumps,
about 870 s on the shared 2-core machine (stage table in the file's commit
message). ``max_stages=26`` was chosen on dlib_photos_train (16 of 18 faces,
1 false positive; 24 stages: 16 and 2; 27 stages: MIT acceptance drops to
90.6 %). ``time_budget`` only stops a run that is much slower than that one;
if it stops earlier, the result is the same cascade cut after fewer stages.

Because dlib_photos_train chose the stage count (and the MIT CBCL faces are
training data), the tests do not measure the shipped cascade on them: its
quality is checked on scikit-image's LFW subset, which played no part here.
The file was re-saved in the ``cvcore-cascade`` format (issue 9) without a
value changing. The checkpoint refuses to resume with other settings or data.
"""
import argparse
import glob
import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cvcore.cascade import train_cascade  # noqa: E402

SETTINGS = dict(window=(24, 24), max_stages=26, min_hit_rate=0.996, max_false_alarm=0.5,
                target_false_alarm=1e-6, negatives_per_stage=3000, positives_per_stage=2000,
                validation_fraction=0.15, features_per_stage=12000, max_weak_per_stage=200, mirror_positives=True,
                random_state=0, time_budget=27 * 60)


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
    ap.add_argument("--data", default=os.path.join(os.path.dirname(HERE), "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "cvcore", "data", "face_cascade.json"))
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (resume)")
    args = ap.parse_args()
    positives, groups, bgs, extra = load_data(args.data)
    t0 = time.perf_counter()
    cascade = train_cascade(positives, bgs, positive_groups=groups, extra_negatives=extra, checkpoint_dir=args.checkpoint,
                            **SETTINGS)
    elapsed = time.perf_counter() - t0
    cascade.save(args.out)
    print(f"trained {cascade} in {elapsed:.0f} s -> {args.out}")
    print(json.dumps(cascade.training_log, indent=1))


if __name__ == "__main__":
    main()
