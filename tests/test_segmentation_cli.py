"""``cvcore segment train`` / ``predict`` end to end."""
import numpy as np
import pytest

from cvcore.cli import main
from cvcore.io import imread, imwrite
from cvcore.segmentation import metrics


def _scene(seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:64, :80]
    mask = (yy - 32) ** 2 + (xx - 40) ** 2 < 20 ** 2
    img = np.where(mask, 170, 70) + rng.normal(0, 12, mask.shape) * np.where(mask, 0.3, 1.5)
    rgb = np.clip(np.stack([img, img, 255 - img], -1), 0, 255).astype(np.uint8)
    return rgb, mask


@pytest.fixture
def files(tmp_path):
    img, mask = _scene(0)
    lab = np.zeros(mask.shape, np.uint8)
    lab[30:34, 5:15] = 1      # background strokes
    lab[5:9, 60:75] = 1
    lab[28:36, 34:46] = 2     # object stroke
    imwrite(tmp_path / "a.png", img)
    imwrite(tmp_path / "a_labels.png", lab)
    test_img, test_mask = _scene(1)
    imwrite(tmp_path / "b.png", test_img)
    return tmp_path, test_mask


@pytest.mark.parametrize("classifier", ["rf", "knn"])
def test_segment_train_then_predict(files, classifier, capsys):
    d, truth = files
    rc = main(["segment", "train", "--images", str(d / "a.png"), "--labels", str(d / "a_labels.png"),
               "--classifier", classifier, "--trees", "15", "--sigmas", "1", "2", "4",
               "--out", str(d / "model.npz")])
    assert rc == 0 and (d / "model.npz").is_file()
    rc = main(["segment", "predict", str(d / "model.npz"), str(d / "b.png"), "--out", str(d / "mask.png"),
               "--overlay", str(d / "overlay.png")])
    assert rc == 0
    pred = imread(d / "mask.png")
    assert pred.shape == truth.shape and set(np.unique(pred)) <= {1, 2}
    assert metrics.mean_iou(pred - 1, truth, 2) > 0.85
    over = imread(d / "overlay.png")
    assert over.shape == truth.shape + (3,)
    out = capsys.readouterr().out
    assert "wrote" in out and "class 2" in out


def test_segment_cli_errors(files, capsys):
    d, _ = files
    assert main(["segment", "predict", str(d / "a.png"), str(d / "b.png"), "--out", str(d / "m.png")]) == 2
    assert "not a cvcore .npz model file" in capsys.readouterr().err
    assert main(["segment", "train", "--images", str(d / "a.png"), "--labels", str(d / "a_labels.png"),
                 str(d / "a_labels.png"), "--out", str(d / "m.npz")]) == 2
    assert "1 --images but 2 --labels" in capsys.readouterr().err
    assert main(["segment", "train", "--images", str(d / "a.png"), "--labels", str(d / "missing.png"),
                 "--out", str(d / "m.npz")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["segment", "train", "--images", str(d / "a.png"), "--labels", str(d / "a_labels.png"),
                 "--out", str(d / "nodir" / "m.npz")]) == 2
    assert "folder does not exist" in capsys.readouterr().err
    blank = np.zeros((64, 80), np.uint8)
    imwrite(d / "blank.png", blank)
    assert main(["segment", "train", "--images", str(d / "a.png"), "--labels", str(d / "blank.png"),
                 "--out", str(d / "m.npz")]) == 2
    assert "no labelled pixel" in capsys.readouterr().err
