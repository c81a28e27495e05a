"""The LBP scan's vector path (cvcore/_ext/_lbp.pyx): the same accepted windows and last-stage sums,
bit for bit, as the scalar path, for any cascade, image size, step, skip rule and thread count."""
import platform

import cv2
import numpy as np
import pytest
import skimage.data

from cvcore._ext import _lbp
from cvcore._haar_core import stack_tables
from cvcore.cascade import Cascade, default_face_cascade

LBP_FILES = ("lbpcascade_frontalface.xml", "lbpcascade_frontalface_improved.xml", "lbpcascade_profileface.xml")

needs_vector = pytest.mark.skipif(not _lbp.vector_path(), reason="no vector path on this build or CPU")


def _scalar(cascade):
    """A copy of ``cascade`` whose scans take the scalar path."""
    copy = Cascade.from_dict(cascade.to_dict())
    copy._engine.vector = False
    return copy


def _scan(cascade, image, step, skip, threads=1):
    """Accepted (x, y) corners and last-stage sums of one scan of ``image``, as ``Cascade._scan`` runs it."""
    ww, wh = cascade.window
    nrow, ncol = image.shape[0] - wh + 1, image.shape[1] - ww + 1
    table = stack_tables(np.ascontiguousarray(image)[None], squared=False, wrap=True)[0][0]
    cap = ((nrow - 1) // step + 1) * ((ncol - 1) // step + 1)
    xy, sums = np.empty((cap, 2), np.int32), np.empty(cap, np.float64)
    n = cascade._engine.scan(table, nrow, step, skip, threads, xy, sums)
    return xy[:n], sums[:n]


def _assert_same_scans(cascade, image, steps=(1, 2, 3), threads=(1, 2, 3)):
    """Vector path on 1-3 threads == scalar path, every step, with and without the skip rule;
    returns the number of accepted windows over all scans (so callers can check the test bites)."""
    accepted, scalar = 0, _scalar(cascade)
    for step in steps:
        for skip in (False, True):
            ref_xy, ref_sums = _scan(scalar, image, step, skip)
            for n in threads:
                xy, sums = _scan(cascade, image, step, skip, threads=n)
                np.testing.assert_array_equal(xy, ref_xy, err_msg=f"step {step} skip {skip} threads {n}")
                assert sums.tobytes() == ref_sums.tobytes(), f"sums differ: step {step} skip {skip} threads {n}"
            accepted += len(ref_xy)
    return accepted


def _random_cascade(seed, window=(24, 24), n_stages=5, trees=(4, 9), threshold=-1.5):
    rng = np.random.default_rng(seed)
    ww, wh = window
    blocks = []
    for _ in range(30):
        w, h = int(rng.integers(1, ww // 3 + 1)), int(rng.integers(1, wh // 3 + 1))
        blocks.append([int(rng.integers(0, ww - 3 * w + 1)), int(rng.integers(0, wh - 3 * h + 1)), w, h])
    stages = [{"threshold": threshold, "trees": [
        {"feature": int(rng.integers(len(blocks))), "subset": rng.integers(-(1 << 31), 1 << 31, 8).tolist(),
         "leaves": rng.normal(size=2).tolist()} for _ in range(int(rng.integers(*trees)))]}
        for _ in range(n_stages)]
    return Cascade.lbp(window, blocks, stages)


def _astronaut(size):
    grey = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def test_vector_path_is_built_where_the_cpu_has_avx2():
    """On x86-64 Linux with AVX2 the extension must not silently fall back to the scalar path."""
    if platform.machine() != "x86_64" or platform.system() != "Linux":
        pytest.skip("vector path is built for x86-64 Linux only")
    with open("/proc/cpuinfo") as fh:
        if " avx2" not in fh.read():
            pytest.skip("CPU without AVX2")
    assert _lbp.vector_path()


@needs_vector
@pytest.mark.parametrize("size, faces", [((133, 127), True), ((97, 61), False), ((30, 40), False),
                                         ((40, 29), False)])
def test_shipped_cascade_scans_identically(size, faces):
    """The shipped cascade (6 stumps in stage 0, 22 stages) on odd sizes: the astronaut's face at
    the window's size, and rows of fewer than 8 windows (30 and 40 px wide for a 24 px window)."""
    accepted = _assert_same_scans(default_face_cascade("lbp"), _astronaut(size))
    assert (accepted > 10) == faces


@needs_vector
@pytest.mark.parametrize("seed, window", [(0, (24, 24)), (1, (20, 34)), (2, (45, 45)), (3, (7, 5))])
def test_random_cascades_scan_identically(seed, window):
    """Random cascades that accept many windows (deep stages run on most blocks), on a photo and
    on noise, with windows of several shapes."""
    cascade = _random_cascade(seed, window)
    rng = np.random.default_rng(seed)
    for image in (_astronaut((83, 77)), rng.integers(0, 256, (59, 101), dtype=np.uint8)):
        assert _assert_same_scans(cascade, image) > 50


@needs_vector
@pytest.mark.parametrize("width", [24, 25, 31, 32, 33, 40, 41, 47])
def test_every_window_up_to_the_right_edge(width):
    """A cascade that accepts everything: every window is returned, the last column included,
    with its exact sum, for row lengths around multiples of the 8-window block."""
    stages = [{"threshold": -1e9, "trees": [{"feature": f, "subset": [0x5A5A5A5A] * 8, "leaves": [0.25, -0.5]}
                                           for f in range(3)]}] * 2
    cascade = Cascade.lbp((24, 24), [[0, 0, 8, 8], [3, 1, 2, 5], [15, 15, 3, 3]], stages)
    image = np.random.default_rng(width).integers(0, 256, (29, width), dtype=np.uint8)
    for step in (1, 2, 3):
        xy, _ = _scan(cascade, image, step, True)
        xs, ys = np.arange(0, width - 23, step), np.arange(0, 29 - 23, step)
        expected = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
        np.testing.assert_array_equal(xy, expected)
    assert _assert_same_scans(cascade, image) > 0


@needs_vector
def test_only_the_right_edge_window_is_accepted():
    """A pattern only the last column's window accepts: the vector path's last block of 8, which
    overlaps the one before it, finds it, and no other window."""
    columns = np.full(45, 100, np.uint8)
    columns[28], columns[36] = 0, 255
    image = np.full((24, 45), 50, np.uint8)
    image[8:16] = columns
    # one 3x3 grid of 8x8 cells over the whole window: leaf 1 (pass) only for code 0, a centre
    # cell brighter than all 8 neighbours, which only the window at x = 21 has
    stages = [{"threshold": 0.0, "trees": [{"feature": 0, "subset": [1] + [0] * 7, "leaves": [1.0, -1.0]}]}]
    cascade = Cascade.lbp((24, 24), [[0, 0, 8, 8]], stages)
    for step in (1, 3):
        xy, sums = _scan(cascade, image, step, False)
        assert xy.tolist() == [[21, 0]] and sums.tolist() == [1.0]
    assert _assert_same_scans(cascade, image, steps=(1, 3)) == 2


@needs_vector
def test_one_stage_cascade_returns_full_first_stage_sums():
    """With a single stage the first stage's sums are the output: they must be the full sums."""
    cascade = _random_cascade(7, n_stages=1, trees=(12, 13), threshold=-1.0)
    assert _assert_same_scans(cascade, _astronaut((70, 50))) > 50


def _assert_same_detections(cascade, image):
    """detect_raw (every scale: OpenCV's step and skip rule, then step 1) on both paths; returns
    the number of raw windows."""
    scalar, found = _scalar(cascade), 0
    for kwargs in ({"scale_factor": 1.1}, {"scale_factor": 1.25, "step": 1}):
        boxes, margins = cascade.detect_raw(image, **kwargs)
        ref_boxes, ref_margins = scalar.detect_raw(image, **kwargs)
        np.testing.assert_array_equal(boxes, ref_boxes)
        assert margins.tobytes() == ref_margins.tobytes()
        found += len(ref_boxes)
    return found


@needs_vector
def test_shipped_cascade_detects_identically():
    assert _assert_same_detections(default_face_cascade("lbp"), _astronaut((161, 121))) > 10


@needs_vector
@pytest.mark.parametrize("name", LBP_FILES)
def test_opencv_cascades_detect_identically(shared_data, name):
    """OpenCV's three LBP cascades on a group photo, every scale."""
    photo = cv2.imread(str(shared_data / "faces" / "dlib_photos_train" / "2008_002079.jpg"), cv2.IMREAD_GRAYSCALE)
    assert _assert_same_detections(Cascade.from_opencv_xml(shared_data / "cascades" / name), photo) > 0


@needs_vector
@pytest.mark.parametrize("name", LBP_FILES[:2])
def test_opencv_cascades_scan_identically(shared_data, name):
    """The frontal ones with the astronaut's face at their window's size, steps 1-3, 1-3 threads."""
    cascade = Cascade.from_opencv_xml(shared_data / "cascades" / name)
    ww, wh = cascade.window
    assert _assert_same_scans(cascade, _astronaut((int(5.5 * ww) | 1, int(5.5 * wh) + 2))) > 0
