"""cvcore.evaluation: matching rule, PR/AP arithmetic, annotation readers, CLI."""
import json
import math
import subprocess
import sys

import cv2
import numpy as np
import pytest

from cvcore.cascade import Cascade
from cvcore.evaluation import (DetectionEvaluation, evaluate_detector, plot_precision_recall, read_annotations,
                               read_box_csv, read_dlib_xml, read_fddb)


def _fixed(found):
    """A detector returning the given (boxes, scores) for the images in order."""
    frames = iter(found)
    return lambda image: next(frames)


IMAGES = {"a": np.zeros((80, 80), np.uint8), "b": np.zeros((80, 80), np.uint8)}


# ---------------------------------------------------------------- matching and AP

def test_perfect_and_empty_detectors():
    truth = {"a": [[10, 10, 20, 20]], "b": [[0, 0, 10, 10], [40, 40, 10, 10]]}
    perfect = evaluate_detector(_fixed([(truth["a"], [1.0]), (truth["b"], [0.5, 0.7])]), truth, IMAGES)
    assert perfect.average_precision == 1.0 and perfect.max_recall == 1.0
    assert perfect.false_positives_per_image == 0 and perfect.detections_per_image == 1.5
    none = evaluate_detector(lambda im: np.zeros((0, 4)), truth, IMAGES)
    assert none.average_precision == 0.0 and none.n_detections == 0 and len(none.recall) == 0


def test_duplicate_detection_is_a_false_positive_and_ignored_boxes_do_not_count():
    truth = {"a": {"boxes": [[10, 10, 20, 20]], "ignore": [[50, 50, 20, 20]]}, "b": []}
    found = [([[10, 10, 20, 20], [11, 10, 20, 20], [50, 50, 20, 20]], [0.9, 0.8, 0.95]), ([[0, 0, 5, 5]], [0.1])]
    e = evaluate_detector(_fixed(found), truth, IMAGES)
    assert e.n_objects == 1 and e.true_positives == 1
    # counted: 0.9 TP, 0.8 FP (duplicate), 0.1 FP; the 0.95 one lies on an ignored box
    assert e.precision.tolist() == [1.0, 0.5, pytest.approx(1 / 3)]
    assert e.recall.tolist() == [1.0, 1.0, 1.0] and e.average_precision == 1.0
    assert e.thresholds.tolist() == [0.9, 0.8, 0.1]


def test_tied_scores_enter_together():
    truth = {"a": [[0, 0, 10, 10]], "b": [[0, 0, 10, 10]]}
    found = [([[0, 0, 10, 10]], [1.0]), ([[40, 40, 10, 10]], [1.0])]   # a TP and a FP with equal scores
    e = evaluate_detector(_fixed(found), truth, IMAGES)
    assert e.precision.tolist() == [0.5] and e.recall.tolist() == [0.5]
    assert e.average_precision == 0.25        # independent of the order the tie is listed in


def test_iou_threshold_decides_and_ap_at_0_3_is_reported():
    truth = {"a": [[0, 0, 20, 20]], "b": []}
    loose = [([[0, 0, 30, 30]], [1.0]), (np.zeros((0, 4)), [])]   # IoU 400/900 = 0.44
    e = evaluate_detector(_fixed(loose), truth, IMAGES)
    assert e.average_precision == 0.0 and e.average_precision_at == {0.5: 0.0, 0.3: 1.0}
    e = evaluate_detector(_fixed(loose), truth, IMAGES, iou=0.4)
    assert e.average_precision == 1.0 and set(e.average_precision_at) == {0.4, 0.5, 0.3}


def test_no_annotated_objects_gives_nan_ap():
    e = evaluate_detector(lambda im: ([[0, 0, 4, 4]], [1.0]), {"a": []}, IMAGES)
    assert math.isnan(e.average_precision) and e.false_positives_per_image == 1


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"iou": 0}, ValueError, "iou"),
    ({"iou": 1.5}, ValueError, "iou"),
    ({"annotations": 5}, TypeError, "annotations"),
    ({"annotations": {}}, ValueError, "at least one image"),
    ({"annotations": {"a": [[0, 0, -1, 4]]}}, ValueError, "annotations"),
    ({"annotations": {"zzz": []}}, ValueError, "no array for annotated image 'zzz'"),
    ({"images": 3}, TypeError, "images"),
    ({"images": "/no/such/folder"}, FileNotFoundError, "folder"),
    ({"detector": 3}, TypeError, "detector"),
    ({"options": {"min_neighbors": 1}}, ValueError, "Cascade detector only"),
    ({"detector": lambda im: ([[0, 0, 4, 4]], [1.0, 2.0])}, ValueError, "scores"),
    ({"detector": lambda im: [[0, 0, 4]]}, ValueError, "boxes"),
])
def test_arguments_are_validated(kwargs, exc, message):
    args = {"detector": lambda im: np.zeros((0, 4)), "annotations": {"a": [[0, 0, 4, 4]]}, "images": IMAGES}
    args.update(kwargs)
    extra = {k: args.pop(k) for k in ("iou", "options") if k in args}
    with pytest.raises(exc, match=message):
        evaluate_detector(args["detector"], args["annotations"], args["images"], **extra)


# ---------------------------------------------------------------- readers

def test_dlib_reader(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text("<?xml version='1.0'?><dataset><name>x</name><images>"
                    "<image file='p/one.jpg'><box top='1' left='2' width='3' height='4'/>"
                    "<box top='10' left='20' width='30' height='40' ignore='1'/></image>"
                    "<image file='two.jpg'/></images></dataset>")
    ann = read_annotations(path)
    assert list(ann) == ["p/one.jpg", "two.jpg"]
    assert ann["p/one.jpg"]["boxes"].tolist() == [[2, 1, 3, 4]]
    assert ann["p/one.jpg"]["ignore"].tolist() == [[20, 10, 30, 40]]
    assert ann["two.jpg"]["boxes"].shape == (0, 4) and ann["two.jpg"]["boxes"].dtype == np.int32


@pytest.mark.parametrize("body, message", [
    ("<images><image file='a'/></images>", "not a dlib image list"),
    ("<dataset><images><image/></images></dataset>", "no file attribute"),
    ("<dataset><images><image file='a'/><image file='a'/></images></dataset>", "listed twice"),
    ("<dataset><images><image file='a'><box top='1.5' left='0' width='3' height='3'/></image></images></dataset>",
     "four integers"),
    ("<dataset><images><image file='a'><box top='1' left='0' width='3'/></image></images></dataset>",
     "four integers"),
    ("<dataset><images><image file='a'><box top='1' left='0' width='-3' height='3'/></image></images></dataset>",
     "w, h >= 0"),
    ("<dataset><images><image file='a'><box top='1' left='0' width='3' height='3' ignore='yes'/></image>"
     "</images></dataset>", "ignore"),
    ("<dataset><images>", "a.xml"),
    ('<!DOCTYPE d [<!ENTITY e "x">]><dataset>&e;</dataset>', "a.xml"),
])
def test_dlib_reader_is_strict(tmp_path, body, message):
    path = tmp_path / "a.xml"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        read_dlib_xml(path)


def test_csv_reader(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("image,x,y,w,h,ignore\none.jpg,2,1,3,4,0\none.jpg,5,5,5,5,1\nnone.jpg,,,,,\n")
    ann = read_box_csv(path)
    assert ann["one.jpg"]["boxes"].tolist() == [[2, 1, 3, 4]] and ann["one.jpg"]["ignore"].tolist() == [[5, 5, 5, 5]]
    assert ann["none.jpg"]["boxes"].shape == (0, 4)


@pytest.mark.parametrize("text, message", [
    ("file,x,y,w,h\n", "first line"),
    ("image,x,y,w,h\na,1,2,3\n", "4 fields"),
    ("image,x,y,w,h\na,1,2,3,x\n", "four integers"),
    ("image,x,y,w,h\n,1,2,3,4\n", "no image name"),
    ("image,x,y,w,h,ignore\na,1,2,3,4,2\n", "ignore"),
])
def test_csv_reader_is_strict(tmp_path, text, message):
    path = tmp_path / "a.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_box_csv(path)
    path.write_bytes(b"image,x,y,w,h\n\xff\xfe,1,2,3,4\n")
    with pytest.raises(ValueError, match="UTF-8"):
        read_box_csv(path)


def test_plot_checks_its_arguments(tmp_path):
    e = evaluate_detector(lambda im: np.zeros((0, 4)), {"a": []}, IMAGES)
    with pytest.raises(TypeError):
        plot_precision_recall(["x"], tmp_path / "a.png")
    with pytest.raises(ValueError, match="labels"):
        plot_precision_recall([e], tmp_path / "a.png", labels=["a", "b"])
    with pytest.raises(ValueError, match="use .png, .svg or .pdf"):
        plot_precision_recall([e], tmp_path / "a.txt")
    with pytest.raises(ValueError, match="size"):
        plot_precision_recall([e], tmp_path / "a.png", size=(10, 10))
    plot_precision_recall(e, tmp_path / "a.png")
    assert cv2.imread(str(tmp_path / "a.png")).shape == (480, 640, 3)


def test_plot_draws_each_curve_where_its_points_are(tmp_path):
    """Two detectors, one perfect and one whose first detection is false: the SVG holds both curves,
    labelled with their average precision, and the PNG has the size asked for."""
    truth = {"a": [[0, 0, 8, 8]], "b": [[8, 8, 8, 8]]}
    images = {"a": np.zeros((32, 32)), "b": np.zeros((32, 32))}
    perfect = evaluate_detector(lambda im: ([[0, 0, 8, 8], [8, 8, 8, 8]], [1.0, 0.9]), {"a": truth["a"]},
                                {"a": images["a"]})
    late = evaluate_detector(lambda im: ([[20, 20, 8, 8], [0, 0, 8, 8], [8, 8, 8, 8]], [0.9, 0.5, 0.4]), truth, images)
    assert perfect.average_precision == 1.0 and 0 < late.average_precision < 1
    plot_precision_recall([perfect, late], tmp_path / "pr.svg", labels=["perfect", "late"])
    svg = (tmp_path / "pr.svg").read_text()
    assert "perfect (AP@0.5 1.000)" in svg and f"late (AP@0.5 {late.average_precision:.3f})" in svg
    plot_precision_recall([perfect, late], tmp_path / "pr.png", size=(800, 300))
    assert cv2.imread(str(tmp_path / "pr.png")).shape == (300, 800, 3)


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    e = evaluate_detector(lambda im: np.zeros((0, 4)), {"a": []}, IMAGES)
    with pytest.raises(ValueError, match=r"needs matplotlib.*cvcore\[plot\]"):
        plot_precision_recall(e, tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()


# ---------------------------------------------------------------- real photos

def test_cascade_and_its_function_form_score_the_same(shared_data):
    """A Cascade and a function running OpenCV's CascadeClassifier with the same cascade: same figures."""
    root = shared_data / "faces" / "dlib_photos_train"
    xml = shared_data / "cascades" / "lbpcascade_frontalface.xml"
    ref = cv2.CascadeClassifier(str(xml))

    def opencv(image):
        boxes, _, weights = ref.detectMultiScale3(image, 1.1, 0, outputRejectLevels=True)
        return np.asarray(boxes).reshape(-1, 4), np.ravel(weights)

    ours = evaluate_detector(Cascade.from_opencv_xml(xml), root / "training.xml", root,
                             options={"min_neighbors": 0})
    theirs = evaluate_detector(opencv, root / "training.xml", root)
    assert ours.n_images == 4 and ours.n_objects == 18 and ours.n_detections > 50
    assert ours.average_precision_at == pytest.approx(theirs.average_precision_at)
    assert ours.true_positives == theirs.true_positives > 5
    assert isinstance(ours, DetectionEvaluation) and ours.seconds > 0


def test_cli_evaluate_detector(shared_data, tmp_path):
    root = shared_data / "faces" / "dlib_photos_train"
    plot = tmp_path / "pr.png"
    cmd = [sys.executable, "-m", "cvcore", "evaluate-detector", "--annotations", str(root / "training.xml"),
           "--images", str(root), "--cascade", str(shared_data / "cascades" / "lbpcascade_frontalface.xml")]
    out = subprocess.run(cmd + ["--plot", str(plot)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "4 images, 18 annotated objects" in out.stdout and "AP@0.5" in out.stdout, out.stdout
    assert cv2.imread(str(plot)) is not None
    out = subprocess.run(cmd + ["--json", "--score", "neighbors", "--iou", "0.3"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    data = json.loads(out.stdout)
    assert data["iou"] == 0.3 and data["n_objects"] == 18 and len(data["precision"]) == len(data["recall"]) > 0
    bad = subprocess.run(cmd[:4] + ["--annotations", str(tmp_path / "none.xml"), "--images", str(root)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not found" in bad.stderr
    bad = subprocess.run(cmd[:4] + ["--annotations", str(root / "training.xml"), "--images", str(tmp_path)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "is not in" in bad.stderr


def test_fddb_reader(tmp_path):
    path = tmp_path / "fold.txt"
    path.write_text("a/img_1\n2\n40 30 0 100 80 1\n20.5 10 1.5707963 50 50  1\n\nb/img_2\n0\n")
    ann = read_fddb(path, suffix=".png")
    assert list(ann) == ["a/img_1.png", "b/img_2.png"]
    assert ann["a/img_1.png"]["boxes"].tolist() == [[60, 50, 80, 60], [40, 29, 20, 42]]
    assert ann["b/img_2.png"]["boxes"].shape == (0, 4)
    for bad, message in (("a\n1\n", "major minor"), ("a\nx\n", "number of faces"), ("a\n1\n1 2 3 nan 5 1\n",
                                                                                       "major minor"),
                         ("a\n1\n-1 2 0 5 5\n", "radii"), ("a\n0\na\n0\n", "twice")):
        path.write_text(bad)
        with pytest.raises(ValueError, match=message):
            read_fddb(path)
