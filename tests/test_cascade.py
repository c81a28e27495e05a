"""cvcore.cascade: OpenCV-exact engine, XML import, file formats, shipped model, training."""
import json
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
import skimage.data
from numpy.testing import assert_array_equal

from cvcore.cascade import Cascade, default_face_cascade, train_cascade


def _grey(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _as_set(boxes):
    return set(map(tuple, np.asarray(boxes).reshape(-1, 4).tolist()))


@pytest.fixture(scope="module")
def frontal(shared_data):
    path = shared_data / "cascades" / "haarcascade_frontalface_default.xml"
    return Cascade.from_opencv_xml(path), cv2.CascadeClassifier(str(path))


@pytest.fixture(scope="module")
def dlib_photos(shared_data):
    root = shared_data / "faces" / "dlib_photos_train"
    out = []
    for im in ET.parse(root / "training.xml").getroot().iter("image"):
        boxes = np.array([[int(b.get(k)) for k in ("left", "top", "width", "height")] for b in im.iter("box")])
        out.append((cv2.imread(str(root / im.get("file")), cv2.IMREAD_GRAYSCALE), boxes))
    return out


# ---------------------------------------------------------------- OpenCV engine parity

def test_raw_windows_identical_to_opencv(frontal, dlib_photos):
    ours, ref = frontal
    for grey in (_grey(skimage.data.astronaut()), dlib_photos[0][0]):
        expected = ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=0)
        boxes, margins = ours.detect_raw(grey, 1.1)
        assert _as_set(boxes) == _as_set(expected)
        assert len(boxes) > 20 and np.all(margins >= -1e-4)


def test_grouped_detections_match_opencv(frontal, dlib_photos):
    """Exactly detectMultiScale's boxes, as int32 (N, 4)."""
    ours, ref = frontal
    images = [g for g, _ in dlib_photos] + [_grey(skimage.data.astronaut())]
    total = matched = 0
    for grey in images:
        expected = np.asarray(ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)).reshape(-1, 4)
        boxes, scores = ours.detect(grey, scale_factor=1.1, min_neighbors=3)
        assert boxes.dtype == np.int32 and boxes.shape[1] == 4
        assert scores.shape == (len(boxes),) and np.all(scores > 3)
        total += len(expected)
        assert _as_set(boxes) == _as_set(expected)
    assert total >= 10


def test_trees_and_min_max_size_match_opencv(shared_data):
    path = shared_data / "cascades" / "haarcascade_frontalface_alt2.xml"
    ours, ref = Cascade.from_opencv_xml(path), cv2.CascadeClassifier(str(path))
    assert max(t["nodes"].shape[0] for s in ours.stages for t in s["trees"]) == 2
    grey = _grey(skimage.data.astronaut())
    expected = ref.detectMultiScale(grey, 1.2, 0, minSize=(40, 40), maxSize=(300, 300))
    boxes, _ = ours.detect_raw(grey, 1.2, min_size=(40, 40), max_size=(300, 300))
    assert len(boxes) > 5 and _as_set(boxes) == _as_set(expected)


def _assert_same_windows(ours, expected):
    """Same windows as OpenCV. OpenCV 5 occasionally reports a window 1 px off in width or
    height at large scales (not for its own shipped cascades); positions are identical."""
    assert len(ours) == len(expected)
    exp_sorted = expected[np.lexsort(expected.T[::-1])]
    our_sorted = ours[np.lexsort(ours.T[::-1])]
    assert_array_equal(exp_sorted[:, :2], our_sorted[:, :2])
    assert np.all(np.abs(exp_sorted[:, 2:] - our_sorted[:, 2:]) <= 0.05 * exp_sorted[:, 2:])


def _random_cascade(rng, tilted_share):
    nf = 30
    rects, weights, tilted = np.zeros((nf, 3, 4), int), np.zeros((nf, 3)), np.zeros(nf, bool)
    for i in range(nf):
        if rng.random() < tilted_share:   # 45-degree rectangles inside the 24x24 window
            while True:
                rw, rh = rng.integers(2, 8, 2)
                x, y = rng.integers(rh, 24 - rw + 1), rng.integers(0, 24 - rw - rh + 1)
                if x - rh >= 0 and y + rw + rh <= 24:
                    break
            rects[i, :2] = [[x, y, rw, rh], [x, y + 1, rw - 1, rh - 1]]
            tilted[i] = True
        else:
            rw, rh = rng.integers(2, 12, 2)
            x, y = rng.integers(0, 24 - 2 * rw + 1), rng.integers(0, 24 - rh + 1)
            rects[i, :2] = [[x, y, 2 * rw, rh], [x + rw, y, rw, rh]]
        weights[i, :2] = (-1, 2)
    stages = [{"threshold": -1.0, "trees": [
        {"nodes": [[int(rng.integers(nf)), float(rng.normal(0, 0.01)), 0, -1]],
         "leaves": rng.normal(size=2).tolist()} for _ in range(8)]} for _ in range(3)]
    return Cascade((24, 24), rects, weights, tilted, stages)


def test_tilted_features_match_opencv(tmp_path):
    """A random cascade with 45-degree features, exported to XML and run by OpenCV."""
    cascade = _random_cascade(np.random.default_rng(0), tilted_share=0.6)
    assert cascade.tilted.any()
    path = tmp_path / "tilted.xml"
    cascade.to_opencv_xml(path)
    grey = cv2.resize(_grey(skimage.data.astronaut()), (200, 200), interpolation=cv2.INTER_AREA)
    expected = np.asarray(cv2.CascadeClassifier(str(path)).detectMultiScale(grey, 1.25, 0)).reshape(-1, 4)
    ours, _ = cascade.detect_raw(grey, 1.25)
    assert len(expected) > 50
    _assert_same_windows(ours, expected)
    reloaded = Cascade.from_opencv_xml(path)
    assert_array_equal(reloaded.tilted, cascade.tilted)


def _odd_photo(shape=(157, 211)):
    return cv2.resize(_grey(skimage.data.astronaut()), shape[::-1], interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("step", [None, 1, 3])
def test_detection_identical_for_any_thread_count(step):
    """Raw windows and margins, in order, the same on 1, 2 and 3 threads (odd image size), for a
    cascade of stumps with tilted features and for the shipped one."""
    import cvcore

    grey = _odd_photo((233, 311))     # large enough for the shipped cascade to accept windows at step 3
    for cascade in (_random_cascade(np.random.default_rng(3), tilted_share=0.5), default_face_cascade()):
        results = []
        for n in (1, 2, 3):
            with cvcore.num_threads(n):
                results.append(cascade.detect_raw(grey, 1.15, step=step))
        assert len(results[0][0]) > 0
        for boxes, margins in results[1:]:
            assert_array_equal(boxes, results[0][0])
            assert_array_equal(margins, results[0][1])


def test_trees_identical_for_any_thread_count(shared_data):
    import cvcore

    cascade = Cascade.from_opencv_xml(shared_data / "cascades" / "haarcascade_frontalface_alt2.xml")
    grey = _odd_photo((251, 187))
    with cvcore.num_threads(1):
        one = cascade.detect_raw(grey, 1.1)
    with cvcore.num_threads(3):
        three = cascade.detect_raw(grey, 1.1)
    assert len(one[0]) > 0
    assert_array_equal(one[0], three[0])
    assert_array_equal(one[1], three[1])


def test_detect_from_several_python_threads_at_once():
    """The engine keeps no state between calls: concurrent calls give the serial results."""
    from concurrent.futures import ThreadPoolExecutor

    cascade = default_face_cascade()
    base = _grey(skimage.data.astronaut())
    images = [np.ascontiguousarray(base[k * 20:k * 20 + 300, k * 30:k * 30 + 320]) for k in range(6)]
    serial = [cascade.detect(g, 1.2, 1) for g in images]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(lambda g: cascade.detect(g, 1.2, 1), images * 2))
    assert sum(len(b) for b, _ in serial) > 0
    for (b1, s1), (b2, s2) in zip(serial * 2, concurrent):
        assert_array_equal(b1, b2)
        assert_array_equal(s1, s2)


# ---------------------------------------------------------------- files

def test_save_load_roundtrip(tmp_path):
    cascade = _random_cascade(np.random.default_rng(1), tilted_share=0.3)
    path = tmp_path / "c.json"
    cascade.save(path)
    again = Cascade.load(path)
    assert again.to_dict() == cascade.to_dict()
    grey = _grey(skimage.data.astronaut())[::3, ::3].copy()
    assert_array_equal(again.detect_raw(grey)[0], cascade.detect_raw(grey)[0])
    xml_path = tmp_path / "c.xml"
    cascade.to_opencv_xml(xml_path)
    assert_array_equal(Cascade.load(xml_path).detect_raw(grey)[0], cascade.detect_raw(grey)[0])


def test_corrupt_and_foreign_files(tmp_path):
    cascade = _random_cascade(np.random.default_rng(2), tilted_share=0.0)
    good = cascade.to_dict()
    cases = {
        "truncated.json": json.dumps(good)[:200],
        "foreign.json": json.dumps({"format": "something-else", "version": 1}),
        "version.json": json.dumps({**good, "version": 99}),
        "badfeat.json": json.dumps({**good, "features": [{"rects": [[0, 0, 30, 30, 1.0], [0, 0, 1, 1, 1]]}]}),
        "badnode.json": json.dumps({**good, "stages": [{"threshold": 0, "trees": [
            {"nodes": [[999, 0.0, 0, -1]], "leaves": [0, 1]}]}]}),
        "binary.json": "\x00\x01garbage",
        "foreign.xml": "<?xml version='1.0'?><root><a>1</a></root>",
        "broken.xml": "<?xml version='1.0'?><opencv_storage><cascade>",
        "lbp.xml": ("<?xml version='1.0'?><opencv_storage><cascade><stageType>BOOST</stageType>"
                    "<featureType>LBP</featureType><height>24</height><width>24</width>"
                    "</cascade></opencv_storage>"),
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text, encoding="latin-1")
        with pytest.raises(ValueError) as info:
            Cascade.load(p)
        assert str(p) in str(info.value) or "cascade" in str(info.value), name
    with pytest.raises(FileNotFoundError):
        Cascade.load(tmp_path / "missing.json")


def test_detect_rejects_bad_input():
    cascade = _random_cascade(np.random.default_rng(3), tilted_share=0.0)
    # the input policy: a float image on [0, 1] is the same picture as uint8 * 255
    pic = np.random.default_rng(4).integers(0, 256, (50, 50)).astype(np.uint8)
    a, b = cascade.detect(pic), cascade.detect(pic.astype(np.float32) / 255)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="RGBA"):
        cascade.detect(np.zeros((50, 50, 5), np.uint8))
    with pytest.raises(ValueError, match="scale_factor"):
        cascade.detect(np.zeros((50, 50), np.uint8), scale_factor=1.0)
    with pytest.raises(ValueError, match="min_neighbors"):
        cascade.detect(np.zeros((50, 50), np.uint8), min_neighbors=-1)
    with pytest.raises(ValueError, match="image must be"):
        cascade.detect(np.zeros((5, 50, 50, 3), np.uint8))
    boxes, scores = cascade.detect(np.zeros((10, 10), np.uint8))   # smaller than the window
    assert boxes.shape == (0, 4) and scores.shape == (0,)


# ---------------------------------------------------------------- shipped model
#
# The shipped cascade's stage count was chosen on dlib_photos_train (see
# scripts/select_face_cascade.py), and the MIT CBCL non-faces are part of its training
# set, so neither measures it: the thresholds once asserted on them are gone.
# Its quality is measured on scikit-image's LFW subset, which played no part in
# training or selection; its engine is checked against OpenCV running its export.

def test_shipped_cascade_loads():
    c = default_face_cascade()
    assert c.window == (24, 24) and c.n_stages == 25 and sum(c.stage_sizes()) == 2458
    assert c.classify_windows(np.zeros((2, 24, 24), np.uint8)).tolist() == [-1, -1]
    assert c is default_face_cascade()


def test_shipped_cascade_runs_exactly_as_opencv(tmp_path, shared_data):
    """The shipped cascade, exported to XML and run by cv2.CascadeClassifier: the same raw windows."""
    path = tmp_path / "face.xml"
    default_face_cascade().to_opencv_xml(path)
    ref = cv2.CascadeClassifier(str(path))
    photo = cv2.imread(str(shared_data / "faces" / "dlib_photos_train" / "2008_002079.jpg"), cv2.IMREAD_GRAYSCALE)
    for grey in (_grey(skimage.data.astronaut()), photo):
        expected = np.asarray(ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=0)).reshape(-1, 4)
        boxes, _ = default_face_cascade().detect_raw(grey, 1.1)
        assert len(boxes) > 0
        _assert_same_windows(boxes, expected)


def test_shipped_cascade_on_held_out_faces():
    """scikit-image's LFW subset (100 faces, then 100 non-faces, never seen in training or selection):
    at least 45 % of the faces accepted and at most a tenth of the non-faces (measured: 45 % and 0 %;
    the previous 21-stage cascade accepted 57 %)."""
    lfw = skimage.data.lfw_subset()
    windows = np.stack([cv2.resize(np.round(im * 255).astype(np.uint8), (24, 24), interpolation=cv2.INTER_AREA)
                        for im in lfw])
    accepted = default_face_cascade().classify_windows(windows) == 1
    assert accepted[:100].mean() >= 0.45
    assert accepted[100:].mean() <= 0.1


# ---------------------------------------------------------------- training

def _toy_data(seed=0):
    """Synthetic 'faces' (two dark eyes, a dark mouth) on textured backgrounds."""
    rng = np.random.default_rng(seed)
    pos = rng.normal(130, 35, (300, 24, 24))
    pos[:, 7:10, 4:10] -= 25
    pos[:, 7:10, 14:20] -= 25
    pos[:, 16:18, 8:16] -= 20
    pos = np.clip(pos, 0, 255).astype(np.uint8)
    camera = skimage.data.camera()
    backgrounds = [camera[:200, :200].copy(), camera[200:400, 250:480].copy(),
                   _grey(skimage.data.coffee())[::2, ::2].copy()]
    return pos, backgrounds


def test_training_reproducible_and_resumable(tmp_path):
    pos, bgs = _toy_data()
    kw = dict(max_stages=3, negatives_per_stage=150, positives_per_stage=150, features_per_stage=400,
              max_weak_per_stage=10, random_state=7, progress=False)
    a = train_cascade(pos, bgs, **kw)
    b = train_cascade(pos, bgs, **kw)
    assert a.to_dict() == b.to_dict()
    assert a.n_stages == 3 and len(a.training_log) == 3
    for rec in a.training_log:
        assert rec["hit_rate"] >= 0.995 and rec["false_alarm"] <= 0.5
    # the trained cascade accepts its faces and rejects most background windows
    assert np.mean(a.classify_windows(pos) == 1) > 0.9
    # interrupted after 2 stages, resumed from the checkpoint: same cascade
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, checkpoint_dir=ckpt, **{**kw, "max_stages": 2})
    c = train_cascade(pos, bgs, checkpoint_dir=ckpt, **kw)
    assert c.to_dict() == a.to_dict()
    c2 = train_cascade(pos, bgs, **{**kw, "random_state": 8})
    assert c2.to_dict() != a.to_dict()


def test_training_mirror_positives():
    """Faces with one dark 'eye' on the left: only the mirrored training accepts them flipped."""
    rng = np.random.default_rng(0)
    pos = rng.normal(130, 35, (300, 24, 24))
    pos[:, 7:10, 4:10] -= 35
    pos[:, 16:18, 8:16] -= 20
    pos = np.clip(pos, 0, 255).astype(np.uint8)
    flipped = np.ascontiguousarray(pos[:, :, ::-1])
    _, bgs = _toy_data()
    kw = dict(max_stages=3, negatives_per_stage=150, positives_per_stage=150, features_per_stage=400,
              max_weak_per_stage=10, random_state=7, progress=False)
    plain = train_cascade(pos, bgs[:2], **kw)
    mirrored = train_cascade(pos, bgs[:2], mirror_positives=True, **kw)
    assert np.mean(plain.classify_windows(flipped) == 1) < 0.5
    assert np.mean(mirrored.classify_windows(flipped) == 1) > 0.9
    assert np.mean(mirrored.classify_windows(pos) == 1) > 0.9
    assert mirrored.to_dict() == train_cascade(pos, bgs[:2], mirror_positives=True, **kw).to_dict()


def test_training_rejects_bad_input():
    pos, bgs = _toy_data()
    with pytest.raises(ValueError, match="positives must have shape"):
        train_cascade(pos[:, :20], bgs)
    with pytest.raises(TypeError, match="uint8"):
        train_cascade(pos.astype(float), bgs)
    with pytest.raises(ValueError, match="negative_images must contain"):
        train_cascade(pos, [np.zeros((5, 5), np.uint8)])
    with pytest.raises(ValueError, match="min_hit_rate"):
        train_cascade(pos, bgs, min_hit_rate=1.5)
    with pytest.raises(TypeError, match="mirror_positives"):
        train_cascade(pos, bgs, mirror_positives="yes")
    with pytest.raises(ValueError, match="window"):
        train_cascade(pos[:, :2, :2], bgs, window=(2, 2))
    with pytest.raises(ValueError, match="types"):
        train_cascade(pos, bgs, feature_types=["diagonal"])


def test_cascade_pickles():
    import pickle

    c = default_face_cascade()
    again = pickle.loads(pickle.dumps(c))
    assert again.to_dict() == c.to_dict()
    windows = np.random.default_rng(0).integers(0, 256, (20, 24, 24)).astype(np.uint8)
    assert_array_equal(again.classify_windows(windows), c.classify_windows(windows))


_SMALL = dict(max_stages=2, negatives_per_stage=100, positives_per_stage=100, features_per_stage=200,
              max_weak_per_stage=5, random_state=3, progress=False)


def _toy_20(seed=0):
    """_toy_data cropped to a 20x20 window."""
    pos, bgs = _toy_data(seed)
    return np.ascontiguousarray(pos[:, 2:22, 2:22]), bgs


@pytest.mark.parametrize("change, setting", [
    (dict(window=(20, 20)), "window"),
    (dict(feature_types=["two_horizontal", "two_vertical"]), "feature_types"),
    (dict(mirror_positives=True), "mirror_positives"),
    (dict(min_hit_rate=0.99), "min_hit_rate"),
    (dict(max_false_alarm=0.4), "max_false_alarm"),
    (dict(negatives_per_stage=120), "negatives_per_stage"),
    (dict(random_state=4), "random_state"),
])
def test_checkpoint_refuses_a_mismatched_resume(tmp_path, change, setting):
    """Issue 9 regression: another window size silently wrote a corrupt cascade (the reverse: IndexError)."""
    pos, bgs = _toy_data()
    pos20, _ = _toy_20()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, checkpoint_dir=ckpt, **{**_SMALL, "max_stages": 1})
    kw = {**_SMALL, **change}
    with pytest.raises(ValueError, match=f"cannot resume.*{setting}"):
        train_cascade(pos20 if setting == "window" else pos, bgs, checkpoint_dir=ckpt, **kw)


def test_checkpoint_from_a_smaller_window_is_refused_too(tmp_path):
    pos20, bgs = _toy_20()
    pos, _ = _toy_data()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos20, bgs, window=(20, 20), checkpoint_dir=ckpt, **{**_SMALL, "max_stages": 1})
    with pytest.raises(ValueError, match="window.*checkpoint \\[20, 20\\], this run \\[24, 24\\]"):
        train_cascade(pos, bgs, checkpoint_dir=ckpt, **_SMALL)


def test_checkpoint_records_the_data(tmp_path):
    pos, bgs = _toy_data()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, checkpoint_dir=ckpt, **{**_SMALL, "max_stages": 1})
    with pytest.raises(ValueError, match="positives"):
        train_cascade(pos[::-1], bgs, checkpoint_dir=ckpt, **_SMALL)
    with pytest.raises(ValueError, match="negative_images"):
        train_cascade(pos, bgs[:2], checkpoint_dir=ckpt, **_SMALL)


def test_corrupt_checkpoints_name_file_and_field(tmp_path):
    pos, bgs = _toy_data()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, checkpoint_dir=ckpt, **{**_SMALL, "max_stages": 1})
    path = ckpt / "cascade_checkpoint.json"
    good = json.loads(path.read_text())
    cases = {
        "passes": lambda d: d.pop("passes"),
        "stages": lambda d: d.pop("stages"),
        "features": lambda d: d["stages"][0].update(features=["1"] * len(d["stages"][0]["features"])),
        "thresholds": lambda d: d["stages"][0].update(thresholds=[float("nan")] * len(d["stages"][0]["features"])),
        "rng": lambda d: d["rng"].update(state="garbage"),
        "hit_rate": lambda d: d["log"][0].update(hit_rate="high"),
        "version": lambda d: d.update(version=99),
    }
    for field, damage in cases.items():
        doc = json.loads(json.dumps(good))
        damage(doc)
        path.write_text(json.dumps(doc).replace("NaN", "1e999"))
        with pytest.raises(ValueError, match=field) as info:
            train_cascade(pos, bgs, checkpoint_dir=ckpt, **_SMALL)
        assert str(path) in str(info.value), field
    path.write_text(json.dumps(good)[:100])
    with pytest.raises(ValueError, match="not valid JSON"):
        train_cascade(pos, bgs, checkpoint_dir=ckpt, **_SMALL)


def test_checkpoint_path_that_is_a_file(tmp_path):
    pos, bgs = _toy_data()
    afile = tmp_path / "ckpt"
    afile.write_text("x")
    with pytest.raises(NotADirectoryError, match="checkpoint_dir.*is a file"):
        train_cascade(pos, bgs, checkpoint_dir=afile, **_SMALL)


def test_training_seed_is_a_deprecated_alias():
    pos, bgs = _toy_data()
    kw = {k: v for k, v in _SMALL.items() if k != "random_state"}
    with pytest.warns(DeprecationWarning, match="random_state"):
        old = train_cascade(pos, bgs, seed=3, **kw)
    assert old.to_dict() == train_cascade(pos, bgs, random_state=3, **kw).to_dict()
    gen = train_cascade(pos, bgs, random_state=np.random.default_rng(3), **kw)
    assert gen.n_stages == 2
    with pytest.raises(TypeError, match="random_state"):
        train_cascade(pos, bgs, seed=3, random_state=3, **kw)


def test_training_reports_progress_within_stages():
    pos, bgs = _toy_data()
    calls = []
    c = train_cascade(pos, bgs, **{**_SMALL, "progress": lambda d, t, s: calls.append((d, t, s))})
    descriptions = {s for _, _, s in calls}
    assert {"cascade stages", "stage 0: negatives mined", "stage 0: feature values evaluated",
            "stage 0: weak classifiers", "stage 1: negatives mined"} <= descriptions
    assert [d for d, _, s in calls if s == "cascade stages"] == [1, 2]
    evaluated = [(d, t) for d, t, s in calls if s == "stage 0: feature values evaluated"]
    assert evaluated[-1][0] == evaluated[-1][1] == 200 * (100 + 100)
    assert c.training_log[0]["negatives"] == 100
    with pytest.raises(TypeError, match="progress"):
        train_cascade(pos, bgs, **{**_SMALL, "progress": "yes"})


def test_training_stops_on_ctrl_c(interrupt_check):
    """A training that would run for minutes ends within 2 s of SIGINT."""
    code = """
import numpy as np
from cvcore.cascade import train_cascade
rng = np.random.default_rng(0)
faces = np.clip(rng.normal(130, 35, (3000, 24, 24)), 0, 255).astype(np.uint8)
faces[:, 7:10, 4:20] //= 2
backgrounds = [np.clip(rng.normal(130, 35, (400, 400)), 0, 255).astype(np.uint8) for _ in range(4)]
print("READY", flush=True)
train_cascade(faces, backgrounds, max_stages=50, features_per_stage=20000, positives_per_stage=3000,
              negatives_per_stage=3000, max_weak_per_stage=500, random_state=0, progress=False)
"""
    interrupt_check(code)


def test_detect_stops_on_ctrl_c(interrupt_check):
    """detect on a 4000x3000 photo (several seconds) ends within 2 s of SIGINT."""
    code = """
import numpy as np
from cvcore.cascade import default_face_cascade
c = default_face_cascade()
img = (np.random.default_rng(0).random((3000, 4000)) * 255).astype(np.uint8)
img = np.ascontiguousarray(np.cumsum(img, axis=1) // 2000 % 256, dtype=np.uint8)
print("READY", flush=True)
for _ in range(5):
    c.detect(img, scale_factor=1.05)
"""
    interrupt_check(code)


def test_cascade_has_no_attributes_added_after_construction():
    pos, bgs = _toy_data()
    c = train_cascade(pos, bgs, **_SMALL)
    assert len(c.training_log) == 2       # a declared, read-only attribute
    with pytest.raises(AttributeError):
        c.training_log = []
    with pytest.raises(AttributeError):
        c.something = 1
    with pytest.raises(ValueError, match="read-only"):
        c.rects[0, 0, 0] = 2_000_000_000
    with pytest.raises(TypeError):
        c.stages[0]["threshold"] = 1.0


# ---------------------------------------------------------------- command line

def _write_video(path, n_frames=6):
    """A small synthetic video: scikit-image's astronaut panning slowly (her face is visible)."""
    rgb = skimage.data.astronaut()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (240, 240))
    assert writer.isOpened()
    for k in range(n_frames):
        frame = cv2.resize(rgb[0:360, 60 + 4 * k:420 + 4 * k], (240, 240), interpolation=cv2.INTER_AREA)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def test_cli_detect_image_json_and_annotated_output(tmp_path, capsys):
    from cvcore.cli import main
    from cvcore.io import imwrite

    rgb = np.ascontiguousarray(skimage.data.astronaut()[:300, 50:350])
    img = tmp_path / "astronaut.png"
    imwrite(img, rgb)
    out = tmp_path / "annotated.png"
    assert main(["detect", str(img), "--json", "--out", str(out), "--scale-factor", "1.2"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    expected, scores = default_face_cascade().detect(_grey(rgb), scale_factor=1.2)
    assert rec["boxes"] == expected.tolist() and rec["scores"] == scores.tolist()
    assert cv2.imread(str(out)).shape == (300, 300, 3)


def test_cli_detect_errors(tmp_path, capsys):
    from cvcore.cli import main

    assert main(["detect", str(tmp_path / "nope.png")]) == 2
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["detect", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), np.zeros((30, 30), np.uint8))
    assert main(["detect", str(img), "--cascade", str(junk)]) == 2
    assert "not a cvcore-cascade file" in capsys.readouterr().err


def test_cli_detect_video_and_demo_on_generated_video(tmp_path, capsys):
    from cvcore.cli import main

    video = tmp_path / "faces.avi"
    _write_video(video)
    assert main(["detect", str(video), "--json"]) == 0
    frames = json.loads(capsys.readouterr().out)
    assert [f["frame"] for f in frames] == list(range(6))
    out = tmp_path / "demo.avi"
    assert main(["demo", "--video", str(video), "--no-display", "--out", str(out)]) == 0
    message = capsys.readouterr().out
    assert "6 frames" in message and "frames per second" in message and str(out) in message
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    cap.release()


def test_cli_demo_without_camera_says_so(capsys):
    from cvcore.cli import main

    assert main(["demo", "--camera", "97", "--no-display", "--max-frames", "1"]) == 2
    assert "no camera found at index 97" in capsys.readouterr().err


def test_cli_train_cascade(tmp_path, capsys):
    from cvcore.cli import main

    pos, bgs = _toy_data()
    np.savez(tmp_path / "pos.npz", faces=pos)
    bg_dir = tmp_path / "bg"
    bg_dir.mkdir()
    for i, bg in enumerate(bgs):
        cv2.imwrite(str(bg_dir / f"{i}.png"), bg)
    out = tmp_path / "toy.json"
    args = ["train-cascade", "--positives", str(tmp_path / "pos.npz"), "--backgrounds", str(bg_dir),
            "--out", str(out), "--max-stages", "2", "--positives-per-stage", "150",
            "--negatives-per-stage", "150", "--features-per-stage", "300", "--mirror", "--quiet"]
    assert main(args) == 0
    assert Cascade.load(out).n_stages == 2
    assert main(args[:2] + [str(tmp_path / "missing.npz")] + args[3:]) == 2


def test_hit_buffer_grows_when_many_windows_pass():
    """A cascade accepting every non-flat window: more hits than the first buffer holds."""
    rects = [[[0, 0, 24, 12], [0, 12, 24, 12], [0, 0, 0, 0]]]
    stages = [{"threshold": -1.0, "trees": [{"nodes": [[0, 0.0, 0, -1]], "leaves": [0.0, 0.0]}]}]
    accept_all = Cascade((24, 24), rects, [[-1.0, 1.0, 0.0]], [False], stages)
    grey = (np.random.default_rng(0).random((330, 330)) * 255).astype(np.uint8)
    boxes, _ = accept_all.detect_raw(grey, scale_factor=2.0, step=1)
    assert len(boxes) == 307 * 307 + 142 * 142 + 59 * 59 + 18 * 18   # every position of 4 scales
