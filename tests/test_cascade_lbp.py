"""LBP cascades (OpenCV's featureType LBP) on the cascade engine, and detection scores."""
import pickle
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
import skimage.data

from cvcore.cascade import Cascade

LBP_FILES = ("lbpcascade_frontalface.xml", "lbpcascade_frontalface_improved.xml", "lbpcascade_profileface.xml")


def _as_set(boxes):
    return set(map(tuple, np.asarray(boxes).reshape(-1, 4).tolist()))


def _reference(path):
    """OpenCV's CascadeClassifier: in cv2 up to 4.x and in OpenCV 5 builds that keep it there,
    in the contrib ``xobjdetect`` legacy module otherwise."""
    cls = getattr(cv2, "CascadeClassifier", None) or getattr(getattr(cv2, "xobjdetect", None),
                                                            "CascadeClassifier", None)
    if cls is None:
        pytest.skip("this OpenCV build has no CascadeClassifier")
    return cls(str(path))


@pytest.fixture(scope="module")
def photos(shared_data):
    root = shared_data / "faces" / "dlib_photos_train"
    out = []
    for im in ET.parse(root / "training.xml").getroot().iter("image"):
        truth = np.array([[int(b.get(k)) for k in ("left", "top", "width", "height")] for b in im.iter("box")])
        out.append((cv2.imread(str(root / im.get("file")), cv2.IMREAD_GRAYSCALE), truth))
    return out


@pytest.fixture(scope="module")
def lbp_models(shared_data):
    paths = [shared_data / "cascades" / name for name in LBP_FILES]
    return [(Cascade.from_opencv_xml(p), _reference(p)) for p in paths]


def _astronaut():
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)


# ---------------------------------------------------------------- agreement with OpenCV

def test_all_three_lbp_cascades_give_opencvs_boxes(lbp_models, photos):
    """Raw windows (min_neighbors 0) and grouped boxes (3) identical to detectMultiScale, every photo."""
    images = [g for g, _ in photos] + [_astronaut()]
    grouped = 0
    for ours, ref in lbp_models:
        assert ours.feature_type == "lbp" and ours.rect_weights is None
        raw_total = 0
        for grey in images:
            for neighbours in (0, 3):
                expected = ref.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=neighbours)
                boxes, scores = ours.detect(grey, scale_factor=1.1, min_neighbors=neighbours)
                assert boxes.dtype == np.int32 and scores.shape == (len(boxes),)
                assert _as_set(boxes) == _as_set(expected)
                assert len(boxes) == len(np.asarray(expected).reshape(-1, 4))
                raw_total += len(boxes) if neighbours == 0 else 0
                grouped += len(boxes) if neighbours == 3 else 0
        assert raw_total > 5          # every cascade fires somewhere: the comparison is not vacuous
    assert grouped >= 10


def test_lbp_scale_factor_and_size_limits_match_opencv(lbp_models, photos):
    """Other scale factors and size limits; includes a window that OpenCV 5 clips to the image."""
    grey = photos[1][0]
    for ours, ref in lbp_models[:2]:
        for sf, lo, hi in ((1.05, None, None), (1.25, (40, 40), (200, 200))):
            kw = {} if lo is None else {"minSize": lo, "maxSize": hi}
            expected = ref.detectMultiScale(grey, sf, 0, **kw)
            boxes, _ = ours.detect(grey, sf, 0, min_size=lo, max_size=hi)
            assert _as_set(boxes) == _as_set(expected)
    assert (408, 149, 92, 94) in _as_set(lbp_models[0][0].detect(grey, 1.05, 0)[0])   # 94 wide, clipped


def test_classify_windows_accepts_the_raw_detections(lbp_models, photos):
    ours, _ = lbp_models[0]
    crops = []
    for grey, _ in photos:   # scale 1 only: the windows are image crops
        boxes, margins = ours.detect_raw(grey, 1.1, max_size=(24, 24))
        assert np.all(margins >= -1e-4)
        crops += [grey[y:y + 24, x:x + 24] for x, y, _, _ in boxes]
    assert len(crops) >= 3
    assert np.all(ours.classify_windows(np.stack(crops)) == 1)
    assert np.all(ours.classify_windows(np.zeros((2, 24, 24), np.uint8)) <= 0)


# ---------------------------------------------------------------- files

def test_lbp_json_roundtrip_and_pickle(lbp_models, tmp_path):
    ours, _ = lbp_models[2]
    path = tmp_path / "profile.json"
    ours.save(path)
    back = Cascade.load(path)
    assert back.to_dict() == ours.to_dict()
    assert back.to_dict()["version"] == 2 and back.to_dict()["feature_type"] == "lbp"
    assert back.window == (20, 34)
    again = pickle.loads(pickle.dumps(ours))
    grey = _astronaut()
    assert _as_set(again.detect(grey, 1.2, 0)[0]) == _as_set(ours.detect(grey, 1.2, 0)[0])


def test_lbp_export_runs_in_opencv(lbp_models, photos, tmp_path):
    """to_opencv_xml: cv2 loads it as LBP and finds exactly our windows; we read it back unchanged."""
    for k, (ours, _) in enumerate(lbp_models):
        path = tmp_path / f"c{k}.xml"
        ours.to_opencv_xml(path)
        ref = _reference(path)
        assert not ref.empty() and ref.getFeatureType() == 1
        grey = photos[k][0]
        assert _as_set(ref.detectMultiScale(grey, 1.1, 0)) == _as_set(ours.detect(grey, 1.1, 0)[0])
        assert Cascade.load(path).to_dict() == ours.to_dict()


def _small_lbp_xml(tmp_path, nodes="0 -1 0 -1 -1 -1 -1 -1 -1 -1 -1", leaves="1.0 -1.0", rect="0 0 8 8",
                   window=24):
    text = f"""<?xml version="1.0"?>
<opencv_storage><cascade type_id="opencv-cascade-classifier">
<stageType>BOOST</stageType><featureType>LBP</featureType><height>{window}</height><width>{window}</width>
<stageParams><maxWeakCount>1</maxWeakCount></stageParams><featureParams><maxCatCount>256</maxCatCount></featureParams>
<stageNum>1</stageNum><stages><_><maxWeakCount>1</maxWeakCount><stageThreshold>0.5</stageThreshold>
<weakClassifiers><_><internalNodes>{nodes}</internalNodes><leafValues>{leaves}</leafValues></_>
</weakClassifiers></_></stages><features><_><rect>{rect}</rect></_></features></cascade></opencv_storage>"""
    path = tmp_path / "small.xml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("kwargs, message", [
    ({"nodes": "0 -1 0 -1 -1 -1 -1 -1 -1 -1"}, "must be a stump"),            # 7 subset words
    ({"nodes": "1 2 0 -1 -1 -1 -1 -1 -1 -1 -1"}, "children must be 0 -1"),
    ({"nodes": "0 -1 5 -1 -1 -1 -1 -1 -1 -1 -1"}, "feature"),                 # no feature 5
    ({"nodes": "0 -1 0 4294967295 -1 -1 -1 -1 -1 -1 -1"}, "32-bit"),
    ({"leaves": "1.0"}, "must be a stump"),
    ({"leaves": "1.0 nan"}, "number"),
    ({"rect": "0 0 9 8"}, "outside the 24x24 window"),
    ({"rect": "0 0 8"}, "x y w h"),
])
def test_malformed_lbp_xml_is_rejected(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Cascade.from_opencv_xml(_small_lbp_xml(tmp_path, **kwargs))


def test_lbp_semantics_on_a_hand_made_cascade(tmp_path):
    """Code 255 (flat image: every cell >= the centre) is bit 7 of word 7; a brighter centre gives code 0."""
    c = Cascade.from_opencv_xml(_small_lbp_xml(tmp_path, nodes="0 -1 0 0 0 0 0 0 0 0 -2147483648"))
    flat = np.full((1, 24, 24), 7, np.uint8)
    centre = flat.copy()
    centre[0, 8:16, 8:16] = 9
    assert c.classify_windows(flat).tolist() == [1]
    assert c.classify_windows(centre).tolist() == [0]
    ref = _reference(tmp_path / "small.xml")
    assert _as_set(ref.detectMultiScale(flat[0], 1.1, 0)) == {(0, 0, 24, 24)}
    assert _as_set(ref.detectMultiScale(centre[0], 1.1, 0)) == set()


@pytest.mark.parametrize("blocks, stages, exc, message", [
    ([[0, 0, 8, 8, 1]], None, ValueError, "shape"),
    ([[-1, 0, 8, 8]], None, ValueError, "outside"),
    ([[0, 0, 8, 8]], [{"threshold": 0, "trees": [{"feature": 1, "subset": [0] * 8, "leaves": [0, 1]}]}],
     ValueError, "feature"),
    ([[0, 0, 8, 8]], [{"threshold": 0, "trees": [{"feature": 0, "subset": [0.5] * 8, "leaves": [0, 1]}]}],
     TypeError, "subset"),
    ([[0, 0, 8, 8]], [{"threshold": 0, "trees": [{"feature": 0, "subset": [0] * 8, "leaves": [0, 1, 2]}]}],
     ValueError, "leaves"),
    ([[0, 0, 8, 8]], [{"threshold": 0, "trees": [{"nodes": [[0, 0, 0, -1]], "leaves": [0, 1]}]}],
     ValueError, "'feature', 'subset' and 'leaves'"),
])
def test_lbp_constructor_validates(blocks, stages, exc, message):
    stages = stages or [{"threshold": 0, "trees": [{"feature": 0, "subset": [0] * 8, "leaves": [0, 1]}]}]
    with pytest.raises(exc, match=message):
        Cascade.lbp((24, 24), blocks, stages)


def test_lbp_json_is_strict(lbp_models, tmp_path):
    d = lbp_models[0][0].to_dict()
    d["stages"][0]["trees"][0]["subset"][0] = 1 << 40
    with pytest.raises(ValueError, match="subset"):
        Cascade.from_dict(d)
    d = lbp_models[0][0].to_dict()
    d["version"] = 1                 # version 1 has no feature_type: read as Haar, and refused
    with pytest.raises(ValueError):
        Cascade.from_dict(d)


# ---------------------------------------------------------------- scores

def test_raw_confidence_is_opencvs_level_weight(lbp_models, shared_data, photos):
    """Per raw window, the confidence is exactly detectMultiScale3's levelWeights (Haar and LBP)."""
    haar = shared_data / "cascades" / "haarcascade_frontalface_default.xml"
    grey = photos[0][0]
    for ours, ref in [lbp_models[0], (Cascade.from_opencv_xml(haar), _reference(haar))]:
        boxes, scores = ours.detect(grey, 1.1, 0, score="confidence")
        rects, _, weights = ref.detectMultiScale3(grey, 1.1, 0, outputRejectLevels=True)
        expected = dict(zip(map(tuple, np.asarray(rects).tolist()), np.ravel(weights)))
        assert len(boxes) == len(expected) > 10
        for b, s in zip(boxes.tolist(), scores):
            assert s == pytest.approx(expected[tuple(b)], abs=1e-5)
        assert np.all(np.diff(scores) <= 0)   # best first


def test_scores_sorted_and_thresholded(lbp_models, photos):
    ours, _ = lbp_models[0]
    grey = photos[0][0]
    for score in ("neighbors", "confidence"):
        boxes, scores = ours.detect(grey, 1.1, 3, score=score)
        assert len(boxes) >= 2 and np.all(np.diff(scores) <= 0)
        cut = float(np.median(scores))
        kept, kept_scores = ours.detect(grey, 1.1, 3, score=score, min_score=cut)
        assert np.all(kept_scores >= cut) and len(kept) == int(np.sum(scores >= cut))
        assert _as_set(kept) <= _as_set(boxes)
    _, neighbours = ours.detect(grey, 1.1, 3)
    assert np.all(neighbours > 3) and np.all(neighbours == np.round(neighbours))


@pytest.mark.parametrize("kwargs, exc", [({"score": "area"}, ValueError), ({"score": 3}, ValueError),
                                         ({"min_score": "high"}, TypeError), ({"min_score": float("nan")}, ValueError)])
def test_score_arguments_are_validated(lbp_models, kwargs, exc):
    with pytest.raises(exc):
        lbp_models[0][0].detect(np.zeros((40, 40), np.uint8), **kwargs)


def _true_positive(boxes, truth, thr=0.5):
    from cvcore.boxes import iou
    if len(truth) == 0 or len(boxes) == 0:
        return np.zeros(len(boxes), bool)
    return iou(boxes, truth).max(axis=1) >= thr


def test_confidence_ranks_faces_above_false_positives(shared_data, photos):
    """On the dlib group photos, true faces score higher than false positives (both cascade types)."""
    for name in ("haarcascade_frontalface_default.xml", "lbpcascade_frontalface.xml"):
        c = Cascade.from_opencv_xml(shared_data / "cascades" / name)
        tp_scores, fp_scores = [], []
        for grey, truth in photos:
            boxes, scores = c.detect(grey, 1.1, 1, score="confidence")
            hit = _true_positive(boxes, truth, 0.3)
            tp_scores += scores[hit].tolist()
            fp_scores += scores[~hit].tolist()
        assert len(tp_scores) >= 5 and len(fp_scores) >= 1
        # probability that a random face outranks a random false positive (ROC AUC)
        auc = np.mean([[t > f for f in fp_scores] for t in tp_scores])
        assert auc > 0.75, (name, auc)


# ---------------------------------------------------------------- LBP training

def _toy_faces(rng, n=300):
    faces = rng.normal(140, 30, (n, 24, 24))
    faces[:, 6:10, 3:21] -= 40                       # dark "eyes" band
    faces[:, 15:18, 8:16] -= 25                      # dark "mouth"
    backgrounds = [np.clip(rng.normal(140, 30, (70, 80)), 0, 255).astype(np.uint8) for _ in range(4)]
    return np.clip(faces, 0, 255).astype(np.uint8), backgrounds


def _random_lbp_cascade(seed):
    rng = np.random.default_rng(seed)
    blocks = [[int(rng.integers(0, 24 - 3 * w + 1)), int(rng.integers(0, 24 - 3 * h + 1)), int(w), int(h)]
              for w, h in rng.integers(1, 8, (20, 2))]
    stages = [{"threshold": -0.5, "trees": [
        {"feature": int(rng.integers(20)), "subset": rng.integers(-(1 << 31), 1 << 31, 8).tolist(),
         "leaves": rng.normal(size=2).tolist()} for _ in range(6)]} for _ in range(4)]
    return Cascade.lbp((24, 24), blocks, stages)


@pytest.mark.parametrize("step", [None, 1, 2])
def test_lbp_detection_identical_for_any_thread_count(step):
    """Raw windows and margins, in order, the same on 1, 2 and 3 threads (odd image size)."""
    import cvcore

    grey = cv2.resize(_astronaut(), (203, 149), interpolation=cv2.INTER_AREA)
    cascade = _random_lbp_cascade(0)
    results = []
    for n in (1, 2, 3):
        with cvcore.num_threads(n):
            results.append(cascade.detect_raw(grey, 1.2, step=step))
    assert len(results[0][0]) > 10
    for boxes, margins in results[1:]:
        np.testing.assert_array_equal(boxes, results[0][0])
        np.testing.assert_array_equal(margins, results[0][1])


def test_lbp_scan_agrees_with_classify_windows():
    """Every window the scan accepts (step 1, no skipping) is accepted window by window, and no other."""
    cascade = _random_lbp_cascade(1)
    grey = cv2.resize(_astronaut(), (61, 47), interpolation=cv2.INTER_AREA)
    boxes, _ = cascade.detect_raw(grey, 50.0, step=1)   # one scale: the image itself
    windows = np.lib.stride_tricks.sliding_window_view(grey, (24, 24)).reshape(-1, 24, 24)
    accepted = cascade.classify_windows(np.ascontiguousarray(windows)) == 1
    ys, xs = np.divmod(np.flatnonzero(accepted), 61 - 23)
    assert 0 < len(boxes) < len(windows)
    assert _as_set(boxes) == _as_set(np.stack([xs, ys, np.full_like(xs, 24), np.full_like(xs, 24)], 1))


def test_lbp_codes_kernel_matches_a_direct_computation(rng):
    from cvcore._cascade_training import _lbp_codes, lbp_feature_blocks

    blocks = lbp_feature_blocks((24, 24))
    assert blocks.shape == (8464, 4)
    windows = rng.integers(0, 256, (5, 24, 24), dtype=np.uint8)
    pick = blocks[rng.choice(len(blocks), 40, replace=False)]
    codes = _lbp_codes(windows, pick)
    for f, (x, y, w, h) in enumerate(pick):
        for i, win in enumerate(windows):
            cells = win[y:y + 3 * h, x:x + 3 * w].astype(np.int64).reshape(3, h, 3, w).sum(axis=(1, 3))
            ring = [cells[0, 0], cells[0, 1], cells[0, 2], cells[1, 2], cells[2, 2], cells[2, 1], cells[2, 0],
                    cells[1, 0]]                          # clockwise from the top-left: bits 7..0
            assert codes[f, i] == sum(128 >> k for k, v in enumerate(ring) if v >= cells[1, 1])


def test_category_booster_picks_the_exact_best_subset(rng):
    from cvcore.boosting import CategoryBooster

    codes = rng.integers(0, 6, (4, 60)).astype(np.uint8)
    labels = rng.integers(0, 2, 60)
    codes[2] = np.where(labels == 1, rng.integers(0, 3, 60), rng.integers(2, 6, 60))   # informative feature
    b = CategoryBooster(codes, labels)
    w = b.weights / b.weights.sum()
    f, subset, alpha = b.step()
    errors = []
    for k in range(4):      # brute force over every subset of the 6 categories used
        best = min(np.sum(w[np.isin(codes[k], [c for c in range(6) if m >> c & 1]) != (labels == 1)])
                   for m in range(64))
        errors.append(best)
    assert f == int(np.argmin(errors)) == 2
    err = np.sum(w[subset[codes[f]] != (labels == 1)])
    assert err == pytest.approx(min(errors)) and alpha == pytest.approx(np.log((1 - err) / err))
    with pytest.raises(TypeError):
        CategoryBooster(codes.astype(np.int32), labels)
    with pytest.raises(ValueError, match="both"):
        CategoryBooster(codes, np.ones(60))


def test_train_lbp_cascade(rng, tmp_path):
    """A small LBP cascade trains, keeps its hit rate, and runs identically in OpenCV."""
    from cvcore.cascade import train_cascade

    faces, backgrounds = _toy_faces(rng)
    c = train_cascade(faces, backgrounds, feature_type="lbp", max_stages=3, positives_per_stage=150,
                      negatives_per_stage=150, features_per_stage=500, random_state=0, progress=False)
    assert c.feature_type == "lbp" and c.n_stages == len(c.training_log) >= 2
    assert all(r["hit_rate"] >= 0.99 and r["false_alarm"] <= 0.5 for r in c.training_log)
    assert np.mean(c.classify_windows(faces) == 1) > 0.9
    assert np.mean(c.classify_windows(np.stack([b[:24, :24] for b in backgrounds])) == 1) < 0.75
    again = train_cascade(faces, backgrounds, feature_type="lbp", max_stages=3, positives_per_stage=150,
                          negatives_per_stage=150, features_per_stage=500, random_state=0, progress=False)
    assert again.to_dict() == c.to_dict()
    path = tmp_path / "toy.xml"
    c.to_opencv_xml(path)
    scene = np.clip(rng.normal(140, 30, (90, 120)), 0, 255).astype(np.uint8)
    scene[20:44, 30:54] = faces[0]
    assert _as_set(_reference(path).detectMultiScale(scene, 1.1, 0)) == _as_set(c.detect(scene, 1.1, 0)[0])


@pytest.mark.parametrize("kwargs, message", [
    ({"feature_type": "hog"}, "feature_type"),
    ({"feature_type": "lbp", "feature_types": ["edge_x"]}, "feature_types"),
])
def test_train_lbp_arguments(rng, kwargs, message):
    from cvcore.cascade import train_cascade

    faces, backgrounds = _toy_faces(rng, 30)
    with pytest.raises(ValueError, match=message):
        train_cascade(faces, backgrounds, max_stages=1, progress=False, **kwargs)


def test_lbp_detect_and_training_stop_on_ctrl_c(interrupt_check, shared_data):
    """LBP detection on a 4000x3000 image and a long LBP training end within 2 s of SIGINT."""
    xml = shared_data / "cascades" / "lbpcascade_frontalface.xml"
    interrupt_check(f"""
import numpy as np
from cvcore.cascade import Cascade
c = Cascade.from_opencv_xml({str(xml)!r})
img = (np.random.default_rng(0).random((3000, 4000)) * 255).astype(np.uint8)
print("READY", flush=True)
for _ in range(20):
    c.detect(img, scale_factor=1.02, min_neighbors=0)
""")
    interrupt_check("""
import numpy as np
from cvcore.cascade import train_cascade
rng = np.random.default_rng(0)
faces = np.clip(rng.normal(130, 35, (6000, 24, 24)), 0, 255).astype(np.uint8)
faces[:, 7:10, 4:20] //= 2
backgrounds = [np.clip(rng.normal(130, 35, (400, 400)), 0, 255).astype(np.uint8) for _ in range(4)]
print("READY", flush=True)
train_cascade(faces, backgrounds, feature_type="lbp", max_stages=50, positives_per_stage=5000,
              negatives_per_stage=5000, max_weak_per_stage=500, random_state=0, progress=False)
""")
