"""Every ``cvcore`` subcommand, run as a careless user would, in a child process.

A bad argument must end the process with exit status 2 and exactly one line on
stderr: no traceback, no usage block, no OpenCV ``[ WARN ]`` / ``[ERROR]`` or
FFmpeg lines, no crash. Every case fails before any real work (no training or
calibration runs), so the whole file takes seconds. The children run without
OpenCV's logging variables, so the command line must silence OpenCV itself.
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from cvcore.io import read_boxes

import cvcore

# the folder holding the cvcore this process imported (installed or built in place), never the bare checkout
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(cvcore.__file__)))


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    env["PYTHONPATH"] = PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _run(argv, cwd):
    return subprocess.run([sys.executable, "-m", "cvcore", *argv], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=120)


def _write(path, array):
    assert cv2.imwrite(str(path), array)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Small files a careless user points the command line at."""
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    _write(d / "img.png", rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    (d / "notimg.png").write_text("hello, I am not an image\n")
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200)
    (d / "somedir").mkdir()
    (d / "emptydir").mkdir()
    (d / "junk.json").write_text("{}")
    (d / "model.npz").write_text("not a model")
    np.savez(d / "pos.npz", faces=rng.integers(0, 256, (30, 24, 24), dtype=np.uint8))
    (d / "bg").mkdir()
    _write(d / "bg" / "0.png", rng.integers(0, 256, (64, 64), dtype=np.uint8))
    (d / "ckpt").mkdir()
    (d / "ckpt" / "cascade_checkpoint.json").write_text('{"format": "cvcore-cascade-checkpoint"}')
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:40] = 1
    _write(d / "mask01.png", mask)
    _write(d / "blank.png", np.zeros((48, 64), np.uint8))
    _write(d / "labels.jpg", mask * 2)
    (d / "jpeg_named.png").write_bytes((d / "labels.jpg").read_bytes())
    _write(d / "labels_rgb.png", np.dstack([mask + 1] * 3))
    _write(d / "labels_small.png", np.ones((10, 10), np.uint8))
    _write(d / "labels_ok.png", mask + 1)
    return d


# (id, argv, a piece of the expected message)
CASES = [
    # the command itself
    ("unknown-command", ["frobnicate"], "invalid choice"),
    ("missing-positional", ["detect"], "required"),
    ("unknown-option", ["detect", "img.png", "--colour"], "unrecognized arguments"),
    # calibrate
    ("calibrate-stereo-no-right", ["calibrate-stereo", "img.png", "--pattern", "9x6"], "--right"),
    ("calibrate-stereo-unpaired", ["calibrate-stereo", "img.png", "blank.png", "--right", "img.png", "--pattern", "9x6"],
     "2 left and 1 right images"),
    ("calibrate-stereo-out-dir", ["calibrate-stereo", "img.png", "--right", "blank.png", "--pattern", "9x6", "--out",
                                  "somedir"], "is a directory"),
    ("undistort-camera-missing", ["undistort", "img.png", "--camera", "nothere.json", "--out", "o"], "nothere.json"),
    ("undistort-camera-junk", ["undistort", "img.png", "--camera", "junk.json", "--out", "o"],
     "not a cvcore camera calibration"),
    ("undistort-alpha", ["undistort", "img.png", "--camera", "junk.json", "--out", "o", "--alpha", "2"], "--alpha must be"),
    ("undistort-out-file", ["undistort", "img.png", "--camera", "junk.json", "--out", "img.png"], "is a file"),
    ("calibrate-pattern-9", ["calibrate", "img.png", "--pattern", "9"], "must look like 9x6"),
    ("calibrate-pattern-words", ["calibrate", "img.png", "--pattern", "nine by six"], "must look like 9x6"),
    ("calibrate-pattern-missing", ["calibrate", "img.png"], "--pattern is required"),
    ("calibrate-pattern-1x6", ["calibrate", "img.png", "--pattern", "1x6"], "inner corners"),
    ("calibrate-square", ["calibrate", "img.png", "--pattern", "9x6", "--square", "0mm"], "--square must be"),
    ("calibrate-square-unit", ["calibrate", "img.png", "--pattern", "9x6", "--square", "3 furlongs"],
     "--square must be"),
    ("calibrate-out-dir", ["calibrate", "img.png", "--pattern", "9x6", "--out", "somedir"], "is a directory"),
    ("calibrate-out-ext", ["calibrate", "img.png", "--pattern", "9x6", "--out", "cal.txt"], ".json"),
    ("calibrate-yaml-nofolder", ["calibrate", "img.png", "--pattern", "9x6", "--yaml", "nodir/c.yml"],
     "folder does not exist"),
    ("calibrate-report-pdf", ["calibrate", "img.png", "--pattern", "9x6", "--report", "r.pdf"],
     "cannot write an image as '.pdf'"),
    ("calibrate-report-dir", ["calibrate", "img.png", "--pattern", "9x6", "--report", "somedir"],
     "is a directory"),
    ("calibrate-yaml-ext", ["calibrate", "img.png", "--pattern", "9x6", "--yaml", "c.txt"], ".yml or .yaml"),
    ("calibrate-missing-file", ["calibrate", "missing.png", "--pattern", "9x6"], "no such image file"),
    ("calibrate-no-match", ["calibrate", "nothing*.png", "--pattern", "9x6"], "no image file matches"),
    ("calibrate-empty-folder", ["calibrate", "emptydir", "--pattern", "9x6"], "no image files"),
    ("calibrate-not-image", ["calibrate", "notimg.png", "--pattern", "9x6"], "could be read"),
    ("calibrate-sample-and-images", ["calibrate", "--sample", "img.png"], "do not pass IMAGES"),
    # detect
    ("detect-dir", ["detect", "somedir"], "is a directory"),
    ("detect-missing", ["detect", "missing.png"], "not found"),
    ("detect-not-image", ["detect", "notimg.png"], "cannot read"),
    ("detect-corrupt-video", ["detect", "corrupt.mp4"], "cannot open corrupt.mp4 as a video"),
    ("detect-out-txt", ["detect", "img.png", "--out", "x.txt"], "cannot write an image as '.txt'"),
    ("detect-out-dir", ["detect", "img.png", "--out", "somedir"], "is a directory"),
    ("detect-out-nofolder", ["detect", "img.png", "--out", "nodir/x.png"], "folder does not exist"),
    ("detect-out-video-for-image", ["detect", "img.png", "--out", "x.mp4"], "cannot write an image as '.mp4'"),
    ("detect-out-image-for-video", ["detect", "corrupt.mp4", "--out", "x.png"], "cannot write a video as '.png'"),
    ("detect-overwrite-input", ["detect", "img.png", "--out", "./img.png"], "--out would overwrite IMAGE|VIDEO"),
    ("detect-max-frames-0", ["detect", "img.png", "--max-frames", "0"], "--max-frames must be an integer >= 1"),
    ("detect-scale-factor-1", ["detect", "img.png", "--scale-factor", "1"], "--scale-factor must be"),
    ("detect-scale-factor-nan", ["detect", "img.png", "--scale-factor", "nan"], "--scale-factor must be"),
    ("detect-min-neighbors", ["detect", "img.png", "--min-neighbors", "-1"], "--min-neighbors must be"),
    ("detect-min-size", ["detect", "img.png", "--min-size", "0"], "--min-size must be"),
    ("detect-cascade-junk", ["detect", "img.png", "--cascade", "junk.json"], "cascade"),
    ("detect-cascade-dir", ["detect", "img.png", "--cascade", "somedir"], "is a directory"),
    # demo
    ("demo-camera-negative", ["demo", "--camera=-1"], "--camera must be a camera index in 0..99"),
    ("demo-camera-backend-range", ["demo", "--camera", "200"], "--camera must be a camera index in 0..99"),
    ("demo-camera-text", ["demo", "--camera", "front"], "--camera must be"),
    ("demo-no-camera", ["demo", "--camera", "97", "--no-display", "--out", "o.avi"], "no camera found at index 97"),
    ("demo-corrupt-video", ["demo", "--video", "corrupt.mp4", "--no-display", "--out", "o.avi"], "cannot open"),
    ("demo-video-not-video", ["demo", "--video", "notimg.png", "--no-display", "--out", "o.avi"],
     "no frames could be read"),
    ("demo-video-dir", ["demo", "--video", "somedir", "--no-display", "--out", "o.avi"], "is a directory"),
    ("demo-out-txt", ["demo", "--video", "corrupt.mp4", "--no-display", "--out", "o.txt"],
     "cannot write a video as '.txt'"),
    ("demo-out-dir", ["demo", "--no-display", "--out", "somedir"], "is a directory"),
    ("demo-max-frames-0", ["demo", "--max-frames", "0"], "--max-frames must be"),
    # train-cascade
    ("train-missing-args", ["train-cascade"], "required"),
    ("train-positives-png", ["train-cascade", "--positives", "img.png", "--backgrounds", "bg", "--out", "c.json"],
     "--positives must be a .npz/.npy file or a folder"),
    ("train-positives-corrupt", ["train-cascade", "--positives", "model.npz", "--backgrounds", "bg",
                                 "--out", "c.json"], "not a readable .npz"),
    ("train-backgrounds-file", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "img.png",
                                "--out", "c.json"], "is a file; give a folder"),
    ("train-backgrounds-missing", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "nope",
                                   "--out", "c.json"], "folder not found"),
    ("train-out-ext", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.txt"],
     ".json or .xml"),
    ("train-out-dir", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "somedir"],
     "is a directory"),
    ("train-checkpoint-file", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                               "--checkpoint", "img.png"], "is a file; give a folder"),
    ("train-window", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                      "--window", "2", "24"], "--window must be an integer in 3..64"),
    ("train-max-stages", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                          "--max-stages", "0"], "--max-stages must be"),
    ("train-hit-rate", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                        "--min-hit-rate", "2"], "--min-hit-rate must be"),
    ("train-false-alarm", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                           "--max-false-alarm", "1"], "--max-false-alarm must be"),
    ("train-time-budget", ["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg", "--out", "c.json",
                           "--time-budget", "-1"], "--time-budget must be"),
    # propose
    ("propose-dir", ["propose", "somedir"], "is a directory"),
    ("propose-not-image", ["propose", "notimg.png"], "cannot read"),
    ("propose-top", ["propose", "img.png", "--top", "-2"], "--top must be an integer >= 0"),
    ("propose-seed", ["propose", "img.png", "--seed", "-1"], "--seed must be"),
    ("propose-mode", ["propose", "img.png", "--mode", "slow"], "invalid choice"),
    ("propose-out-ext", ["propose", "img.png", "--out", "boxes.txt"], ".json"),
    ("propose-out-dir", ["propose", "img.png", "--out", "somedir"], "is a directory"),
    ("propose-draw-txt", ["propose", "img.png", "--draw", "d.txt"], "cannot write an image as '.txt'"),
    ("propose-overwrite-input", ["propose", "img.png", "--draw", "img.png"], "--draw would overwrite IMAGE"),
    ("propose-draw-nofolder", ["propose", "img.png", "--draw", "nodir/d.png"], "folder does not exist"),
    # segment
    ("segment-no-action", ["segment"], "required"),
    ("segment-bad-action", ["segment", "frobnicate"], "invalid choice"),
    ("segment-train-01-mask", ["segment", "train", "--images", "img.png", "--labels", "mask01.png",
                               "--out", "m.npz"], "0 means unlabelled; classes are 1..K"),
    ("segment-train-blank", ["segment", "train", "--images", "img.png", "--labels", "blank.png", "--out", "m.npz"],
     "no labelled pixel"),
    ("segment-train-jpeg", ["segment", "train", "--images", "img.png", "--labels", "labels.jpg", "--out", "m.npz"],
     "JPEG"),
    ("segment-train-jpeg-renamed", ["segment", "train", "--images", "img.png", "--labels", "jpeg_named.png",
                                    "--out", "m.npz"], "JPEG"),
    ("segment-train-rgb-labels", ["segment", "train", "--images", "img.png", "--labels", "labels_rgb.png",
                                  "--out", "m.npz"], "has 3 channels"),
    ("segment-train-size", ["segment", "train", "--images", "img.png", "--labels", "labels_small.png",
                            "--out", "m.npz"], "label image is 10x10"),
    ("segment-train-count", ["segment", "train", "--images", "img.png", "--labels", "labels_ok.png",
                             "labels_ok.png", "--out", "m.npz"], "1 --images but 2 --labels"),
    ("segment-train-labels-dir", ["segment", "train", "--images", "img.png", "--labels", "somedir",
                                  "--out", "m.npz"], "is a directory"),
    ("segment-train-out-ext", ["segment", "train", "--images", "img.png", "--labels", "labels_ok.png",
                               "--out", "m.txt"], ".npz"),
    ("segment-train-trees", ["segment", "train", "--images", "img.png", "--labels", "labels_ok.png",
                             "--out", "m.npz", "--trees", "0"], "--trees must be"),
    ("segment-train-sigmas", ["segment", "train", "--images", "img.png", "--labels", "labels_ok.png",
                              "--out", "m.npz", "--sigmas", "1", "0"], "--sigmas must be"),
    ("segment-predict-missing-model", ["segment", "predict", "nope.npz", "img.png", "--out", "o.png"],
     "not found"),
    ("segment-predict-corrupt-model", ["segment", "predict", "model.npz", "img.png", "--out", "o.png"], "model"),
    ("segment-predict-out-jpeg", ["segment", "predict", "model.npz", "img.png", "--out", "o.jpg"], "JPEG is lossy"),
    ("segment-predict-overlay-pdf", ["segment", "predict", "model.npz", "img.png", "--out", "o.png",
                                     "--overlay", "o.pdf"], "cannot write an image as '.pdf'"),
    ("segment-predict-same-output", ["segment", "predict", "model.npz", "img.png", "--out", "o.png",
                                     "--overlay", "o.png"], "--overlay would overwrite --out"),
    ("segment-predict-overwrite-image", ["segment", "predict", "model.npz", "img.png", "--out", "img.png"],
     "--out would overwrite IMAGE"),
    ("segment-predict-alpha", ["segment", "predict", "model.npz", "img.png", "--out", "o.png", "--alpha", "0"],
     "--alpha must be"),
    # evaluate-detector
    ("evaluate-missing-annotations", ["evaluate-detector", "--annotations", "none.xml", "--images", "somedir"],
     "not found"),
    ("evaluate-annotations-not-xml", ["evaluate-detector", "--annotations", "junk.json", "--images", "somedir"],
     "a .csv or an FDDB .txt"),
    ("evaluate-images-file", ["evaluate-detector", "--annotations", "junk.json", "--images", "img.png"],
     "is a file"),
    ("evaluate-iou", ["evaluate-detector", "--annotations", "a.xml", "--images", "somedir", "--iou", "0"],
     "--iou must be"),
    ("evaluate-plot-txt", ["evaluate-detector", "--annotations", "junk.json", "--images", "somedir",
                           "--plot", "x.txt"], "cannot write a plot as '.txt'"),
    # bench
    ("bench-only-unknown", ["bench", "--only", "unknown"], "groups are"),
    ("bench-json-ext", ["bench", "--json", "results.txt"], ".json"),
    ("bench-json-dir", ["bench", "--json", "somedir"], "is a directory"),
    # batch (more in tests/test_batch.py)
    ("batch-no-match", ["batch", "detect", "nothing*.png", "--out", "r.jsonl"], "no file matches"),
]

#: the library's side of a case: passes once the cascade trainer reads checkpoints through the model-file layer
_LIBRARY_PENDING = {
    "train-checkpoint-missing-key": (["train-cascade", "--positives", "pos.npz", "--backgrounds", "bg",
                                      "--out", "c.json", "--checkpoint", "ckpt", "--quiet"], "checkpoint"),
}


@pytest.fixture(scope="module")
def results(workdir):
    """Run every case once, two at a time (each is a fresh interpreter)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case_id: pool.submit(_run, argv, workdir) for case_id, argv, _ in CASES}
        return {case_id: f.result() for case_id, f in futures.items()}


def _assert_one_line_error(proc, match):
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    for noise in ("Traceback", "[ WARN", "[ERROR", "OPENCV", "usage:", "moov atom"):
        assert noise not in err, err
    assert err.startswith("cvcore"), err
    assert match in err, err


@pytest.mark.parametrize("case_id, argv, match", CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_give_one_line_and_status_2(results, case_id, argv, match):
    _assert_one_line_error(results[case_id], match)


def test_checkpoint_missing_a_key_is_one_line(workdir):
    argv, match = _LIBRARY_PENDING["train-checkpoint-missing-key"]
    _assert_one_line_error(_run(argv, workdir), match)


def test_every_subcommand_is_covered():
    from cvcore.cli import COMMANDS

    covered = {argv[0] for _, argv, _ in CASES}
    assert set(COMMANDS) <= covered


def test_help_still_works(workdir):
    proc = _run(["detect", "--help"], workdir)
    assert proc.returncode == 0 and "usage: cvcore detect" in proc.stdout and proc.stderr == ""


def test_detect_runs_on_a_tiny_image(workdir):
    proc = _run(["detect", "img.png", "--json", "--out", "annotated.png"], workdir)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    records = json.loads(proc.stdout)
    assert records[0]["file"] == "img.png" and records[0]["boxes"] == []
    assert cv2.imread(str(workdir / "annotated.png")).shape == (48, 64, 3)


def test_propose_runs_on_a_tiny_image(workdir):
    proc = _run(["propose", "img.png", "--top", "7", "--out", "boxes.json", "--draw", "boxes.png"], workdir)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    saved = read_boxes(workdir / "boxes.json")
    assert saved.boxes.shape == (7, 4) and saved.image_size == (64, 48)
    assert saved.info["mode"] == "fast" and saved.info["seed"] == 0
    assert np.all(saved.boxes[:, :2] >= 0) and np.all(saved.boxes[:, 0] + saved.boxes[:, 2] <= 64)
    assert cv2.imread(str(workdir / "boxes.png")).shape == (48, 64, 3)


def test_outputs_are_checked_before_the_work(workdir):
    """A bad second output must not leave the first one written (nothing ran)."""
    proc = _run(["propose", "img.png", "--out", "early.json", "--draw", "late.pdf"], workdir)
    assert proc.returncode == 2 and not (workdir / "early.json").exists()


def test_a_closed_pipe_ends_quietly(workdir):
    """``cvcore propose img.png | head -1``: no traceback or error line once the reader has gone."""
    proc = subprocess.Popen([sys.executable, "-m", "cvcore", "propose", "img.png", "--top", "0"], cwd=workdir,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1 and err == "", err


def _cv2_error():
    try:
        cv2.imencode(".nosuchformat", np.zeros((2, 2), np.uint8))
    except cv2.error as exc:
        return exc
    raise AssertionError("OpenCV encoded an unknown format")


@pytest.mark.parametrize("exc, match", [
    (_cv2_error(), "error: OpenCV: could not find encoder for the specified extension"),
    (MemoryError(), "error: not enough memory for this input"),
    (PermissionError(13, "Permission denied", "/root/x.png"), "error: /root/x.png: Permission denied"),
    (OSError("disk full\nsecond line"), "error: disk full second line"),
    (ValueError("a library error"), "error: a library error"),
])
def test_library_and_opencv_errors_become_one_line(monkeypatch, capsys, exc, match):
    from cvcore._commands import propose
    from cvcore.cli import main

    def fail(args):
        raise exc

    monkeypatch.setattr(propose, "run", fail)
    assert main(["propose", "x.png"]) == 2
    err = capsys.readouterr().err
    assert err == f"cvcore propose: {match}\n"


def test_a_bug_keeps_its_traceback(monkeypatch):
    from cvcore._commands import propose
    from cvcore.cli import main

    def bug(args):
        return {}["missing"]

    monkeypatch.setattr(propose, "run", bug)
    with pytest.raises(KeyError):
        main(["propose", "x.png"])


def test_python_warnings_are_one_line(monkeypatch, capsys):
    import warnings

    from cvcore._commands import propose
    from cvcore.cli import main

    def warn(args):
        warnings.warn("careful\nnow", RuntimeWarning)
        return 0

    monkeypatch.setattr(propose, "run", warn)
    assert main(["propose", "x.png"]) == 0
    assert capsys.readouterr().err == "cvcore propose: warning: careful now\n"


def test_argument_errors_return_2_in_process(capsys):
    from cvcore.cli import main

    assert main(["detect", "x.png", "--max-frames", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
