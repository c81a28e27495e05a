"""The shipped face cascades: ``default_face_cascade(kind=...)`` and the commands' ``--kind``.

The LBP cascade's stage count was chosen on two of the dlib photos; scikit-image's
LFW subset played no part in its training or selection, so its quality is
measured here on that.
"""
import json
import os

import cv2
import numpy as np
import pytest
import skimage.data

from cvcore.cascade import default_face_cascade
from cvcore.cli import main


def _lfw_windows():
    lfw = skimage.data.lfw_subset()
    return np.stack([cv2.resize(np.round(im * 255).astype(np.uint8), (24, 24), interpolation=cv2.INTER_AREA)
                     for im in lfw])


def _opencv(path):
    cls = getattr(cv2, "CascadeClassifier", None) or getattr(getattr(cv2, "xobjdetect", None),
                                                            "CascadeClassifier", None)
    if cls is None:
        pytest.skip("this OpenCV build has no CascadeClassifier")
    return cls(str(path))


def test_kinds_load_once_and_are_checked():
    haar, lbp = default_face_cascade("haar"), default_face_cascade(kind="lbp")
    assert default_face_cascade() is haar and default_face_cascade("LBP") is lbp
    assert haar.feature_type == "haar" and lbp.feature_type == "lbp" and lbp.window == (24, 24)
    with pytest.raises(ValueError, match="kind must be one of 'haar', 'lbp'; got 'hog'"):
        default_face_cascade("hog")
    with pytest.raises(ValueError, match="kind"):
        default_face_cascade(None)


def test_shipped_lbp_cascade_is_small_and_reads_strictly():
    path = os.path.join(os.path.dirname(default_face_cascade.__code__.co_filename), "data",
                        "face_cascade_lbp.json")
    assert os.path.getsize(path) < 200_000
    with open(path) as fh:
        doc = json.load(fh)
    assert doc["format"] == "cvcore-cascade" and doc["feature_type"] == "lbp"
    assert len(doc["stages"]) == default_face_cascade("lbp").n_stages


def test_shipped_lbp_cascade_on_held_out_faces():
    """scikit-image's LFW subset (100 faces, then 100 non-faces, loosely cropped unlike the training
    faces): at least 45 % of the faces accepted and at most a tenth of the non-faces (measured: 54 % and 0 %)."""
    accepted = default_face_cascade("lbp").classify_windows(_lfw_windows()) == 1
    assert accepted[:100].mean() >= 0.45
    assert accepted[100:].mean() <= 0.1


def test_shipped_lbp_cascade_runs_exactly_as_opencv(tmp_path):
    """Exported to XML and run by cv2.CascadeClassifier: the same boxes on the astronaut."""
    path = tmp_path / "lbp.xml"
    default_face_cascade("lbp").to_opencv_xml(path)
    grey = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
    expected = np.asarray(_opencv(path).detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)).reshape(-1, 4)
    boxes, _ = default_face_cascade("lbp").detect(grey, scale_factor=1.1, min_neighbors=3)
    assert len(boxes) >= 1
    assert sorted(map(tuple, boxes.tolist())) == sorted(map(tuple, expected.tolist()))


def test_cli_detect_and_demo_pick_the_kind(tmp_path, capsys):
    from cvcore.io import imwrite

    rgb = np.ascontiguousarray(skimage.data.astronaut()[:300, 50:350])
    img = tmp_path / "astronaut.png"
    imwrite(img, rgb)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    for kind in ("haar", "lbp"):
        assert main(["detect", str(img), "--json", "--kind", kind]) == 0
        rec = json.loads(capsys.readouterr().out)[0]
        expected, _ = default_face_cascade(kind).detect(grey)
        assert rec["boxes"] == expected.tolist() and len(expected) >= 1
    assert main(["detect", str(img), "--kind", "lbp", "--cascade", str(img)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--kind chooses a shipped face cascade" in err
    assert main(["detect", str(img), "--kind", "svm"]) == 2
    assert "--kind" in capsys.readouterr().err

    video = tmp_path / "still.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (300, 300))
    for _ in range(3):
        writer.write(rgb[:, :, ::-1].copy())
    writer.release()
    out = tmp_path / "demo.avi"
    assert main(["demo", "--video", str(video), "--no-display", "--out", str(out), "--kind", "lbp"]) == 0
    assert "3 frames" in capsys.readouterr().out
