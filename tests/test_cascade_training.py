"""Cascade training: why it stops (keeping the stages trained so far), LBP checkpoints, augmentation.

Everything runs on tiny synthetic data ("faces" with dark bands on noise); each
training takes well under a second.
"""
import json
import warnings

import cv2
import numpy as np
import pytest

from cvcore.cascade import Cascade, TrainingStopped, jitter_windows, train_cascade
from cvcore.cli import main

_KW = dict(positives_per_stage=100, negatives_per_stage=1000, features_per_stage=200, max_weak_per_stage=5,
           random_state=0, progress=False)


def _faces(rng, n=200, depth=25):
    """``n`` 24x24 noise windows with two darker eye bands and a darker mouth band of ``depth`` grey levels."""
    pos = rng.normal(130, 35, (n, 24, 24))
    pos[:, 7:10, 4:10] -= depth
    pos[:, 7:10, 14:20] -= depth
    pos[:, 16:18, 8:16] -= depth
    return np.clip(pos, 0, 255).astype(np.uint8)


def _noise(rng, shape):
    return np.clip(rng.normal(130, 35, shape), 0, 255).astype(np.uint8)


def _train(pos, backgrounds, **kwargs):
    """Train, returning the cascade and the TrainingStopped warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cascade = train_cascade(pos, backgrounds, **{**_KW, **kwargs})
    return cascade, [w.message for w in caught if issubclass(w.category, TrainingStopped)]


def _negatives_case(feature_type):
    """A single 40x40 noise background: the cascade soon accepts too few of its windows."""
    rng = np.random.default_rng(0)
    pos = _faces(rng, depth=10 if feature_type == "haar" else 25)
    return pos, [_noise(rng, (40, 40))]


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
def test_training_stops_when_no_more_negatives_can_be_mined(feature_type):
    pos, bgs = _negatives_case(feature_type)
    c, stopped = _train(pos, bgs, max_stages=8, feature_type=feature_type)
    assert len(stopped) == 1 and stopped[0].reason == "negatives_exhausted"
    message = str(stopped[0])
    assert f"training stopped after {c.n_stages} stages, which are kept" in message
    assert "negatives wanted" in message and "face-free images" in message and "negatives_per_stage" in message
    assert 1 <= c.n_stages < 8 and c.training_log[-1]["stopped"] == "negatives_exhausted"
    assert all("stopped" not in r for r in c.training_log[:-1])
    # the stages kept are exactly those of a run told to stop there
    again, none = _train(pos, bgs, max_stages=c.n_stages, feature_type=feature_type)
    assert again.to_dict() == c.to_dict() and none == [] and again.training_log[-1]["stopped"] == "max_stages"


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
def test_training_stops_when_the_hit_rate_cannot_be_kept(feature_type):
    """30 faces, and each stage may lose half of them: soon fewer than 10 validation faces are left.
    (For Haar, a background tiled with faces keeps the first stage from rejecting every negative,
    which would end training with the target false-alarm rate reached.)"""
    rng = np.random.default_rng(0)
    pos = _faces(rng, 30, depth=10 if feature_type == "haar" else 45)
    bgs = [_noise(rng, (60, 60))]
    if feature_type == "haar":
        bgs.append(np.block([[pos[4 * i + j] for j in range(4)] for i in range(4)]))
    c, stopped = _train(pos, bgs, max_stages=8, min_hit_rate=0.5, validation_fraction=0.34,
                        negatives_per_stage=100, feature_type=feature_type)
    assert [w.reason for w in stopped] == ["hit_rate_unreachable"]
    assert "validation faces still pass the cascade" in str(stopped[0])
    assert "supply more faces or raise min_hit_rate" in str(stopped[0])
    assert c.n_stages >= 1 and c.training_log[-1]["stopped"] == "hit_rate_unreachable"


def _look_alike_case(feature_type):
    """Negatives that are the training faces themselves (``extra_negatives``, a quarter of each stage's
    negatives): once the stages reject the background windows, no stage can reject the rest."""
    rng = np.random.default_rng(0)
    pos = _faces(rng, depth=10 if feature_type == "haar" else 45)
    return pos, [_noise(rng, (40, 40) if feature_type == "haar" else (60, 60))], {"extra_negatives": pos}


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
def test_training_stops_when_a_stage_does_not_improve(feature_type):
    pos, bgs, extra = _look_alike_case(feature_type)
    c, stopped = _train(pos, bgs, max_stages=10, max_weak_per_stage=3, negatives_per_stage=100,
                        feature_type=feature_type, **extra)
    assert [w.reason for w in stopped] == ["no_progress"]
    message = str(stopped[0])
    assert "after 3 weak classifiers the false-alarm rate is still" in message
    assert "raise max_weak_per_stage or features_per_stage, lower min_hit_rate" in message
    # the failed stage is dropped: every stage kept rejects at least 5 % of its negatives
    assert c.n_stages >= 1 and all(r["false_alarm"] <= 0.95 for r in c.training_log)
    assert c.training_log[-1]["stopped"] == "no_progress"


def test_training_that_fails_before_the_first_stage_raises_the_reason():
    rng = np.random.default_rng(0)
    pos = _faces(rng, depth=10)
    with pytest.raises(ValueError, match="training produced no stage: stage 0: after 5 weak classifiers the "
                                         "false-alarm rate is still 1.000.*raise max_weak_per_stage"):
        train_cascade(pos, [_noise(rng, (32, 32))], feature_type="lbp", max_stages=3, **_KW)


def test_normal_ends_are_recorded_without_a_warning():
    pos, bgs = _negatives_case("haar")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingStopped)
        c = train_cascade(pos, bgs, max_stages=2, **_KW)
        assert c.training_log[-1]["stopped"] == "max_stages"
        c = train_cascade(pos, bgs, max_stages=8, target_false_alarm=0.3, **_KW)
        assert c.training_log[-1]["stopped"] == "target_false_alarm"
        assert c.training_log[-1]["cascade_false_alarm"] <= 0.3


def test_cli_writes_the_partial_cascade_and_says_why(tmp_path, monkeypatch, capsys):
    pos, bgs = _negatives_case("haar")
    monkeypatch.chdir(tmp_path)
    np.savez("faces.npz", faces=pos)
    (tmp_path / "bg").mkdir()
    cv2.imwrite("bg/noise.png", bgs[0])
    args = ["train-cascade", "--positives", "faces.npz", "--backgrounds", "bg", "--max-stages", "8",
            "--positives-per-stage", "100", "--negatives-per-stage", "1000", "--features-per-stage", "200", "--quiet"]
    assert main(args + ["--out", "c.json", "--max-weak-per-stage", "5"]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cvcore train-cascade: warning: training stopped after "), lines
    c = Cascade.load(tmp_path / "c.json")
    assert 1 <= c.n_stages < 8 and f"{c.n_stages} stages, which are kept" in lines[0]
    assert "stopped early (negatives_exhausted)" in out
    # nothing to keep: one line, exit status 2, no file
    assert main(args + ["--out", "none.json", "--max-weak-per-stage", "1", "--features", "lbp"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "error: training produced no stage" in err, err
    assert not (tmp_path / "none.json").exists()


# ---------------------------------------------------------------- LBP checkpoints

def _lbp_data():
    rng = np.random.default_rng(1)
    return _faces(rng, 300, depth=25), [_noise(rng, (80, 90)) for _ in range(3)]


_LBP = dict(feature_type="lbp", positives_per_stage=150, negatives_per_stage=150, features_per_stage=300,
            max_weak_per_stage=10, random_state=5, progress=False)


def test_lbp_training_resumes_from_its_checkpoint(tmp_path):
    pos, bgs = _lbp_data()
    full = train_cascade(pos, bgs, max_stages=4, **_LBP)
    assert full.n_stages == 4
    ckpt = tmp_path / "ckpt"
    first = train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **_LBP)
    saved = json.loads((ckpt / "cascade_checkpoint.json").read_text())
    assert saved["settings"]["feature_types"] == ["lbp"] and len(saved["stages"]) == 2
    assert first.n_stages == 2 and first.training_log[-1]["stopped"] == "max_stages"
    resumed = train_cascade(pos, bgs, max_stages=4, checkpoint_dir=ckpt, **_LBP)
    assert resumed.to_dict() == full.to_dict()
    assert [r["false_alarm"] for r in resumed.training_log] == [r["false_alarm"] for r in full.training_log]


def test_lbp_checkpoint_refuses_other_settings_and_bad_subsets(tmp_path):
    pos, bgs = _lbp_data()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, max_stages=1, checkpoint_dir=ckpt, **_LBP)
    haar = {k: v for k, v in _LBP.items() if k != "feature_type"}
    with pytest.raises(ValueError, match=r"cannot resume.*feature_types \(checkpoint \['lbp'\]"):
        train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **haar)
    with pytest.raises(ValueError, match="max_weak_per_stage"):
        train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **{**_LBP, "max_weak_per_stage": 11})
    path = ckpt / "cascade_checkpoint.json"
    good = json.loads(path.read_text())
    for damage, field in [(lambda st: st.update(subsets=[[0] * 7] * len(st["features"])), "subsets"),
                          (lambda st: st.update(subsets=[[2**31] * 8] * len(st["features"])), "subsets"),
                          (lambda st: st.update(features=[10**6] * len(st["features"])), "features")]:
        doc = json.loads(json.dumps(good))
        damage(doc["stages"][0])
        path.write_text(json.dumps(doc))
        with pytest.raises(ValueError, match=field) as info:
            train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **_LBP)
        assert str(path) in str(info.value)


def test_cli_lbp_training_resumes_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    pos, bgs = _lbp_data()
    monkeypatch.chdir(tmp_path)
    np.savez("faces.npz", faces=pos)
    (tmp_path / "bg").mkdir()
    for i, b in enumerate(bgs):
        cv2.imwrite(f"bg/{i}.png", b)
    args = ["train-cascade", "--positives", "faces.npz", "--backgrounds", "bg", "--features", "lbp",
            "--checkpoint", "ckpt", "--positives-per-stage", "150", "--negatives-per-stage", "150",
            "--features-per-stage", "300", "--max-weak-per-stage", "10", "--quiet"]
    assert main(args + ["--out", "two.json", "--max-stages", "2"]) == 0
    assert main(args + ["--out", "three.json", "--max-stages", "3"]) == 0
    assert "stopped early" not in capsys.readouterr().out
    two, three = Cascade.load(tmp_path / "two.json"), Cascade.load(tmp_path / "three.json")
    assert (two.n_stages, three.n_stages) == (2, 3) and three.feature_type == "lbp"
    assert [s["threshold"] for s in three.stages][:2] == [s["threshold"] for s in two.stages]
    # --augment is a training setting: the checkpoint refuses it, a fresh one records it
    assert main(args + ["--out", "aug.json", "--max-stages", "3", "--augment", "1"]) == 2
    assert "augment_positives" in capsys.readouterr().err
    assert main(args + ["--checkpoint", "ckpt2", "--out", "aug.json", "--max-stages", "1", "--augment", "1"]) == 0
    assert json.loads((tmp_path / "ckpt2" / "cascade_checkpoint.json").read_text())["settings"]["augment_positives"] == 1


# ---------------------------------------------------------------- augmentation

def test_jitter_windows_without_jitter_is_the_identity():
    pos = _faces(np.random.default_rng(2), 7)
    out = jitter_windows(pos, 3, max_rotation=0, max_scale=0, max_shift=0, max_blur=0, random_state=0)
    np.testing.assert_array_equal(out, np.repeat(pos, 3, axis=0))


def test_jitter_windows_moves_a_blob_by_at_most_the_shift_and_is_reproducible():
    yy, xx = np.mgrid[0:24, 0:24]
    blob = (255 * np.exp(-((xx - 11.5) ** 2 + (yy - 11.5) ** 2) / 18.0)).astype(np.uint8)
    out = jitter_windows(blob[None], 50, max_rotation=0, max_scale=0, max_shift=2.0, max_blur=0, random_state=3)
    w = out.astype(float)
    cx = (w * xx).sum((1, 2)) / w.sum((1, 2))
    cy = (w * yy).sum((1, 2)) / w.sum((1, 2))
    assert np.all(np.abs(cx - 11.5) <= 2.05) and np.all(np.abs(cy - 11.5) <= 2.05)
    assert np.ptp(cx) > 1.5 and np.ptp(cy) > 1.5          # the shifts are spread over the range
    np.testing.assert_array_equal(out, jitter_windows(blob[None], 50, max_rotation=0, max_scale=0, max_shift=2.0,
                                                      max_blur=0, random_state=3))
    blurred = jitter_windows(blob[None], 5, max_rotation=0, max_scale=0, max_shift=0, max_blur=2.0, random_state=0)
    assert blurred.max((1, 2)).min() < blob.max() - 10      # the peak is spread out


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(windows=np.zeros((2, 24, 24), np.float32)), TypeError, "uint8"),
    (dict(windows=np.zeros((24, 24), np.uint8)), ValueError, "windows"),
    (dict(windows=np.zeros((0, 24, 24), np.uint8)), ValueError, "windows must not be empty"),
    (dict(windows=np.zeros((3, 1, 24), np.uint8)), ValueError, "at least 2x2"),
    (dict(copies=0), ValueError, "copies"),
    (dict(max_rotation=46), ValueError, "max_rotation"),
    (dict(max_scale=-0.1), ValueError, "max_scale"),
    (dict(max_shift=7), ValueError, "max_shift"),
    (dict(max_blur=float("nan")), ValueError, "max_blur"),
])
def test_jitter_windows_validates(kwargs, error, match):
    args = {"windows": np.zeros((2, 24, 24), np.uint8), **kwargs}
    with pytest.raises(error, match=match):
        jitter_windows(**args)


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
def test_augmented_training_is_recorded_in_the_checkpoint(tmp_path, feature_type):
    pos, bgs = _lbp_data()
    kw = {**_LBP, "feature_type": feature_type, "features_per_stage": 300 if feature_type == "lbp" else 3000,
          "max_weak_per_stage": 30}
    plain = train_cascade(pos, bgs, max_stages=2, **kw)
    ckpt = tmp_path / "ckpt"
    first = train_cascade(pos, bgs, max_stages=1, augment_positives=2, checkpoint_dir=ckpt, **kw)
    saved = json.loads((ckpt / "cascade_checkpoint.json").read_text())
    assert saved["settings"]["augment_positives"] == 2
    with pytest.raises(ValueError, match="augment_positives"):
        train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **kw)
    resumed = train_cascade(pos, bgs, max_stages=2, augment_positives=2, checkpoint_dir=ckpt, **kw)
    full = train_cascade(pos, bgs, max_stages=2, augment_positives=2, **kw)
    assert resumed.to_dict() == full.to_dict() and first.n_stages == 1
    assert full.to_dict()["stages"] != plain.to_dict()["stages"]
    with pytest.raises(ValueError, match="augment_positives"):
        train_cascade(pos, bgs, augment_positives=21, **kw)


def test_a_checkpoint_from_before_augmentation_resumes_without_it(tmp_path):
    pos, bgs = _lbp_data()
    ckpt = tmp_path / "ckpt"
    train_cascade(pos, bgs, max_stages=1, checkpoint_dir=ckpt, **_LBP)
    path = ckpt / "cascade_checkpoint.json"
    doc = json.loads(path.read_text())
    del doc["settings"]["augment_positives"]
    path.write_text(json.dumps(doc))
    resumed = train_cascade(pos, bgs, max_stages=2, checkpoint_dir=ckpt, **_LBP)
    assert resumed.to_dict() == train_cascade(pos, bgs, max_stages=2, **_LBP).to_dict()
