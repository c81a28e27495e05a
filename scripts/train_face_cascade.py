"""Train the face cascades shipped as cvcore/data/face_cascade.json (Haar) and face_cascade_lbp.json (LBP).

Usage (from the repository root, with the shared data beside the checkout):

    PYTHONPATH=. python scripts/train_face_cascade.py [--features haar|lbp] [--data ../shared/data] \
        [--out cvcore/data/face_cascade.json] [--checkpoint /tmp/face_ckpt]

Positives: the 16,520 24x24 faces of faces/faces_24x24.npz, each also mirrored
horizontally (``mirror_positives``). Negatives: mined by the cascade itself
from the 200 images of faces/backgrounds and 200 generated face-free clutter
images (``cvcore.datasets.synthetic_clutter_images``, 320x240, random_state=1)
at every scale, plus the 4,548 MIT CBCL training non-faces (19x19, resized
bilinearly to 24x24) as extra candidates. Stages are boosted with Gentle
AdaBoost (``boosting="gentle"``). Everything is seeded (random_state=0); the
result does not depend on the thread count.

The MIT CBCL faces (tight 19x19 crops), which earlier cascades also trained
on, are left out: with them every stage had to keep 99.6 % of two very
differently cropped face sets, and stages grew to 2-3 times the stumps,
which made detection slower and training longer without better results on
the selection photos below.

Recipe and stage counts were chosen by ``scripts/select_face_cascade.py``
(its docstring states the rule) on half of faces/dlib_photos_train
(2007_007763.jpg and 2008_001009.jpg, 9 faces) and 23 face-free scikit-image
images, among every cut of 25-stage Haar / 22-stage LBP runs of four recipes:
with or without one jittered copy of every training face
(``--augment 1``, :func:`cvcore.cascade.jitter_windows`) and with or without
the 200 clutter images (``--clutter 200``). The clutter recipe without
augmentation won for both (Haar: 25 stages, 0 false positives and 0
face-free detections against 1 and 0 for the previous 21-stage cascade; LBP:
22 stages, 0 and 4 against 0 and 8). Augmentation lost in both: stages
needed up to the 200-stump cap and the cuts had more false positives (Haar
with augmentation alone: 0 and 2 at best, with clutter too: 2 and 0). The
other half (2008_002079.jpg, 2008_001322.jpg) played no part in training or
selection; the figures on it are in the docs of
:func:`cvcore.cascade.default_face_cascade` (``python -m
benchmarks.bench_cascade`` prints them). An earlier selection (the previous
shipped cascades) used a face-free tie-break added after one held-out score
had been seen; this one ran the stated rule before the held-out half was
measured.

Training time on this 2-core machine with both threads and nothing else
running: Haar 391 s (25 stages, 2,458 stumps), LBP 76 s (22 stages, 861
stumps). Reruns give the same files (checked byte for byte).

Because dlib_photos_train chose the stage counts, the tests do not measure
the shipped cascades on it: their quality is checked on scikit-image's LFW
subset, which played no part here. The checkpoint refuses to resume with
other settings or data.
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
from cvcore.datasets import synthetic_clutter_images  # noqa: E402

SETTINGS = {
    "haar": dict(window=(24, 24), max_stages=25, min_hit_rate=0.996, max_false_alarm=0.5,
                 target_false_alarm=1e-8, negatives_per_stage=4000, positives_per_stage=2000,
                 validation_fraction=0.15, features_per_stage=12000, max_weak_per_stage=200, mirror_positives=True,
                 random_state=0, boosting="gentle"),
    "lbp": dict(window=(24, 24), max_stages=22, min_hit_rate=0.996, max_false_alarm=0.5,
                target_false_alarm=1e-8, negatives_per_stage=3000, positives_per_stage=2000,
                validation_fraction=0.15, features_per_stage=3000, max_weak_per_stage=100, mirror_positives=True,
                random_state=0, feature_type="lbp", boosting="gentle"),
}
OUT = {"haar": "face_cascade.json", "lbp": "face_cascade_lbp.json"}
# the shipped recipe's augmentation: jittered copies per training face, generated face-free images
RECIPE = {"haar": dict(augment=0, clutter=200), "lbp": dict(augment=0, clutter=200)}
CLUTTER_SIZE = (320, 240)


def load_data(root):
    """Faces (N, 24, 24), background images, and the MIT CBCL non-faces resized to 24x24."""
    faces = np.load(os.path.join(root, "faces", "faces_24x24.npz"), allow_pickle=False)["faces"].astype(np.uint8)
    mit = np.load(os.path.join(root, "faces", "mit_cbcl_train_19x19.npz"), allow_pickle=False)
    mit_non = np.stack([cv2.resize(f, (24, 24), interpolation=cv2.INTER_LINEAR) for f in mit["nonfaces"]])
    bgs = [cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in sorted(glob.glob(os.path.join(root, "faces", "backgrounds", "*.pgm")))]
    return faces, bgs, mit_non.astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", choices=("haar", "lbp"), default="haar", help="which cascade (default haar)")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(HERE), "..", "shared", "data"))
    ap.add_argument("--out", default=None, help="cascade file (default: the shipped one in cvcore/data)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (resume)")
    ap.add_argument("--augment", type=int, default=None,
                    help="jittered copies of each training face (default: the shipped recipe's)")
    ap.add_argument("--clutter", type=int, default=None,
                    help="generated face-free images added to the backgrounds (default: the shipped recipe's)")
    ap.add_argument("--max-stages", type=int, default=None, help="stages (default: the shipped cascade's)")
    args = ap.parse_args()
    out = args.out or os.path.join(os.path.dirname(HERE), "cvcore", "data", OUT[args.features])
    positives, bgs, extra = load_data(args.data)
    recipe = dict(RECIPE[args.features])
    settings = dict(SETTINGS[args.features])
    for key in ("augment", "clutter"):
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.max_stages is not None:
        settings["max_stages"] = args.max_stages
    if recipe["clutter"]:
        bgs = bgs + synthetic_clutter_images(recipe["clutter"], image_size=CLUTTER_SIZE, random_state=1)
    print(f"recipe: {recipe}, {len(bgs)} background images")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("always")     # a training that stops early says why, and the partial cascade is kept
        cascade = train_cascade(positives, bgs, extra_negatives=extra, augment_positives=recipe["augment"],
                                checkpoint_dir=args.checkpoint, progress=True, **settings)
    elapsed = time.perf_counter() - t0
    cascade.save(out)
    print(f"trained {cascade} in {elapsed:.0f} s -> {out}")
    print(json.dumps(cascade.training_log, indent=1))


if __name__ == "__main__":
    main()
