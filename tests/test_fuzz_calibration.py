"""Property-based fuzzing of cvcore.calibration (issue 9).

Every call either returns a correct result or raises ValueError/TypeError
(FileNotFoundError/OSError for paths); nothing crashes the interpreter or
hangs (each call is timed). Valid calls are checked against OpenCV or against
identities (projection then undistortion is the identity, a homography maps
its source points onto its destination points, corners lie inside the image).

``CameraCalibration.load`` gets hostile files: truncated, bytes flipped,
fields of the wrong type, huge and billion-element declared sizes, entity
expansion, NaN, and YAML with odd tokens (anchors, tags, flow maps).

Set ``CVCORE_FUZZ_EXAMPLES`` to run more examples per property (default 25);
``pytest -s`` prints the counts (cases, errors raised, results checked).
"""
import collections
import json
import os
import time

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cvcore.calibration import (CameraCalibration, calibrate_camera, chessboard_points, find_chessboard_corners,
                                find_homography, project_points, undistort_points)

EXAMPLES = int(os.environ.get("CVCORE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
OK = (ValueError, TypeError)
SLOW = 10.0          # seconds: a call taking longer counts as a hang
COUNTS = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print("\ncalibration fuzz:", dict(sorted(COUNTS.items())))


def run(kind, fn, *args, allowed=OK, **kw):
    """Call ``fn``; return its result or None when it raised an allowed error. Counts and times it."""
    COUNTS[f"{kind} cases"] += 1
    t0 = time.perf_counter()
    try:
        out = fn(*args, **kw)
    except allowed as exc:
        assert str(exc), "errors must say what is wrong"
        COUNTS[f"{kind} errors"] += 1
        out = None
    elapsed = time.perf_counter() - t0
    if elapsed > SLOW:
        COUNTS[f"{kind} hangs"] += 1
    assert elapsed < SLOW, f"{kind} took {elapsed:.1f} s"
    return out


finite = st.floats(-1e3, 1e3, allow_nan=False)
wild = st.one_of(finite, st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e300, np.nan, np.inf, -np.inf]))
odd_values = st.sampled_from([None, "1", b"x", True, [1, 2], {"a": 1}, object(), np.float64("nan"), -1, 0, 1e400])


def mostly(valid, invalid, share=8):
    """``valid`` about ``share`` times in 10, else ``invalid``."""
    return st.integers(0, 9).flatmap(lambda i: valid if i < share else invalid)


flag = mostly(st.booleans(), odd_values, 9)


@st.composite
def point_arrays(draw, n=None, dims=2, values=finite):
    n = draw(st.integers(0, 12)) if n is None else n
    shape = draw(st.sampled_from([(n, dims), (n, 1, dims), (n, dims + 1), (n,), (dims, n)]))
    vals = draw(st.lists(values, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(vals, dtype=np.float64).reshape(shape)


# --------------------------------------------------------------------------- find_homography

@FUZZ
@given(src=point_arrays(values=wild), dst=point_arrays(values=wild), refine=st.one_of(st.booleans(), odd_values))
def test_find_homography_fuzz(src, dst, refine):
    H = run("find_homography", find_homography, src, dst, refine=refine)
    if H is None:
        return
    assert H.shape == (3, 3) and np.all(np.isfinite(H)) and H[2, 2] == 1.0


@FUZZ
@given(n=st.integers(4, 30), seed=st.integers(0, 2**31), noise=st.sampled_from([0.0, 0.0, 1e-3, 1.0]))
def test_find_homography_maps_points(n, seed, noise):
    rng = np.random.default_rng(seed)
    # a plane seen by a camera: the points stay well in front of the horizon (w in about 0.6..1.4)
    H = np.array([[1.0, 0.1, 5], [0.05, 0.9, -3], [1e-3, -5e-4, 1]])
    H += rng.normal(0, 1, (3, 3)) * [[0.05, 0.05, 5], [0.05, 0.05, 5], [5e-4, 5e-4, 0]]
    src = rng.uniform(0, 200, (n, 2))
    dst = cv2.perspectiveTransform(src.reshape(-1, 1, 2), H).reshape(-1, 2) + rng.normal(0, noise, (n, 2))
    ours = run("find_homography", find_homography, src, dst)
    if ours is None:
        return
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), ours).reshape(-1, 2)
    err = np.sum((proj - dst) ** 2)
    dlt = find_homography(src, dst, refine=False)
    assert err <= np.sum((cv2.perspectiveTransform(src.reshape(-1, 1, 2), dlt).reshape(-1, 2) - dst) ** 2) + 1e-12
    # converged: refining its own result again gains nothing
    from cvcore.calibration._homography import _refine

    again = cv2.perspectiveTransform(src.reshape(-1, 1, 2), _refine(ours, src, dst)).reshape(-1, 2)
    assert np.sum((again - dst) ** 2) >= err * (1 - 1e-6) - 1e-12
    ref = cv2.findHomography(src, dst, 0)[0]
    if ref is not None:
        err_ref = np.sum((cv2.perspectiveTransform(src.reshape(-1, 1, 2), ref).reshape(-1, 2) - dst) ** 2)
        assert err <= err_ref * (1 + 1e-6) + 1e-12
    COUNTS["find_homography checked"] += 1


# --------------------------------------------------------------------------- projection and undistortion

cameras = st.tuples(st.floats(50, 3000), st.floats(0.5, 2.0), st.floats(-500, 1500), st.floats(-500, 1500))
distortions = st.tuples(st.floats(-0.5, 0.5), st.floats(-0.2, 0.2), st.floats(-0.01, 0.01), st.floats(-0.01, 0.01),
                        st.floats(-0.05, 0.05))


@FUZZ
@given(obj=point_arrays(dims=3, values=wild), rvec=st.one_of(st.lists(wild, min_size=3, max_size=3), odd_values),
       tvec=st.lists(wild, min_size=1, max_size=4),
       K=st.one_of(st.lists(st.lists(wild, min_size=3, max_size=3), min_size=3, max_size=3), odd_values),
       d=st.one_of(st.none(), st.lists(wild, min_size=0, max_size=6), odd_values))
def test_project_and_undistort_fuzz(obj, rvec, tvec, K, d):
    out = run("project_points", project_points, obj, rvec, tvec, K, d)
    if out is not None:
        assert out.shape == (len(obj), 2) and out.dtype == np.float64
    und = run("undistort_points", undistort_points, obj[..., :2] if obj.ndim >= 2 else obj, K, d)
    if und is not None:
        assert und.ndim == 2 and und.shape[1] == 2


@FUZZ
@given(cam=cameras, d=distortions, seed=st.integers(0, 2**31), n=st.integers(0, 40))
def test_projection_matches_opencv_and_undistortion_inverts_it(cam, d, seed, n):
    f, aspect, cx, cy = cam
    K = np.array([[f, 0, cx], [0, f * aspect, cy], [0, 0, 1]])
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-0.5, 0.5, (n, 2))
    pix = run("project_points", project_points, np.c_[xy, np.ones(n)], np.zeros(3), np.zeros(3), K, d)
    assert pix is not None
    if n:
        ref = cv2.projectPoints(np.c_[xy, np.ones(n)], np.zeros(3), np.zeros(3), K, np.array(d))[0].reshape(-1, 2)
        np.testing.assert_allclose(pix, ref, rtol=1e-12, atol=1e-9)
    # the distortion is invertible where its Jacobian stays positive on the way: then Newton inverts it
    r2 = np.sum(xy ** 2, axis=1)
    k1, k2, _, _, k3 = d
    monotone = 1 + 3 * k1 * r2 + 5 * k2 * r2 ** 2 + 7 * k3 * r2 ** 3 > 0.2
    back = run("undistort_points", undistort_points, pix, K, d)
    np.testing.assert_allclose(back[monotone], xy[monotone], atol=1e-8)
    # elsewhere: NaN (no preimage on the unfolded side) or a point that really maps back
    ok = np.isfinite(back).all(axis=1)
    again = project_points(np.c_[back[ok], np.ones(ok.sum())], np.zeros(3), np.zeros(3), K, d)
    np.testing.assert_allclose(again, pix[ok], rtol=1e-9, atol=1e-6)
    COUNTS["projection checked"] += 1


# --------------------------------------------------------------------------- calibrate_camera

@FUZZ
@given(n_views=st.integers(0, 6), n_points=st.integers(0, 12), size=mostly(
    st.tuples(st.integers(100, 2000), st.integers(100, 2000)),
    st.one_of(st.tuples(st.integers(-5, 5000), st.integers(-5, 5000)), odd_values)),
       values=st.sampled_from(["wild", "finite", "views", "views", "views"]), seed=st.integers(0, 2**31),
       noise=st.sampled_from([0.0, 0.1, 1.0, 20.0]), opts=st.fixed_dictionaries({}, optional={
           "fix_principal_point": flag, "fix_aspect_ratio": flag, "zero_tangent_dist": flag, "fix_k3": flag,
           "estimate_skew": flag, "max_iterations": mostly(st.integers(0, 50), odd_values),
           "intrinsic_guess": st.one_of(st.none(), odd_values,
                                        st.just([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]))}))
def test_calibrate_camera_fuzz(n_views, n_points, size, values, seed, noise, opts):
    rng = np.random.default_rng(seed)
    if values == "views":
        # real projections of a board under a random camera and random poses, plus noise
        board = chessboard_points((5, 4), 1.0)
        K = np.array([[rng.uniform(200, 1500), 0, rng.uniform(200, 400)], [0, 0, rng.uniform(150, 300)], [0, 0, 1]])
        K[1, 1] = K[0, 0] * rng.uniform(0.9, 1.1)
        d = rng.uniform(-0.2, 0.2, 5) * [1, 0.3, 0.01, 0.01, 0.1]
        objs = [board] * n_views
        imgs = [project_points(board, rng.uniform(-0.6, 0.6, 3), [-2, -1.5, rng.uniform(6, 20)], K, d)
                + rng.normal(0, noise, (20, 2)) for _ in range(n_views)]
    else:
        gen = (lambda s: rng.uniform(-1e3, 1e3, s)) if values == "finite" else (
            lambda s: rng.choice([0.0, 1.0, -1.0, 1e300, np.nan, np.inf, 3.5], s))
        objs = [np.c_[gen((n_points, 2)), np.zeros(n_points)] for _ in range(n_views)]
        imgs = [gen((n_points, 2)) for _ in range(n_views)]
    cal = run("calibrate_camera", calibrate_camera, objs, imgs, size, **opts)
    if cal is None:
        return
    assert isinstance(cal, CameraCalibration) and cal.n_views == n_views
    assert np.all(np.isfinite(cal.camera_matrix)) and cal.fx > 0 and cal.fy > 0 and np.isfinite(cal.rms)
    # the reported RMS is the RMS of the reported model
    res = [project_points(o, r, t, cal.camera_matrix, cal.dist_coeffs) - i
           for o, i, r, t in zip(objs, imgs, cal.rvecs, cal.tvecs)]
    rms = np.sqrt(sum(np.sum(r ** 2) for r in res) / sum(len(o) for o in objs))
    np.testing.assert_allclose(cal.rms, rms, rtol=1e-6, atol=1e-9)
    if values == "views" and noise == 0.0 and not opts and n_views >= 3:
        np.testing.assert_allclose(cal.camera_matrix, K, rtol=1e-5)      # exact data: the true camera
    COUNTS["calibrate_camera checked"] += 1


# --------------------------------------------------------------------------- find_chessboard_corners

IMAGE_DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64, np.bool_, np.complex64, object]


@FUZZ
@given(dtype=st.sampled_from(IMAGE_DTYPES), shape=st.one_of(
    st.tuples(st.integers(0, 120), st.integers(0, 120)), st.tuples(st.integers(40, 120), st.integers(40, 120)),
    st.tuples(st.integers(10, 100), st.integers(10, 100), st.integers(0, 5)),
    st.tuples(st.integers(0, 3)), st.just(())),
       content=st.sampled_from(["noise", "board", "flat", "special"]), seed=st.integers(0, 2**31),
       pattern=mostly(st.tuples(st.integers(3, 8), st.integers(3, 8)),
                      st.one_of(st.tuples(st.integers(-1, 12), st.integers(-1, 12)),
                                st.sampled_from(["3x3", "x", "9*6"]), odd_values), 7),
       subpixel=flag)
def test_find_chessboard_corners_fuzz(dtype, shape, content, seed, pattern, subpixel):
    rng = np.random.default_rng(seed)
    truth = None
    if content == "board" and isinstance(pattern, tuple) and min(pattern) >= 3 and len(shape) >= 2:
        # a board of exactly the requested size: (cols + 1) x (rows + 1) squares of 12 px, a 2-square margin
        cols, rows = pattern
        cell = 12
        board = np.kron(np.indices((rows + 1, cols + 1)).sum(axis=0) % 2, np.ones((cell, cell))) * 0.7 + 0.15
        img = np.pad(board, 2 * cell, constant_values=0.9)
        img = img if len(shape) == 2 else np.repeat(img[..., None], shape[2], axis=2)
        j, i = np.mgrid[1:rows + 1, 1:cols + 1]
        truth = np.stack([i.ravel(), j.ravel()], axis=1) * cell + 2 * cell - 0.5
    elif content == "flat":
        img = np.full(shape, 0.5)
    else:
        img = rng.random(shape)
    if content == "special" and img.size:
        img.flat[rng.integers(0, img.size)] = rng.choice([np.nan, np.inf, -1e300])
    with np.errstate(all="ignore"):              # the cast of 1e300 to an integer type is meant
        if np.dtype(dtype).kind in "ui":
            img = np.nan_to_num(img * np.iinfo(dtype).max * 0.9, posinf=0, neginf=0)
        elif np.dtype(dtype).kind not in "fc":
            img = np.nan_to_num(img)
        image = img.astype(dtype) if dtype is not object else img.astype(object)
    corners = run("find_chessboard_corners", find_chessboard_corners, image, pattern, subpixel=subpixel)
    if corners is None:
        return
    cols, rows = (3, 3) if pattern == "3x3" else (9, 6) if pattern == "9*6" else pattern
    h, w = image.shape[:2]
    assert corners.shape == (cols * rows, 2) and np.all(np.isfinite(corners))
    assert np.all((corners > -1) & (corners < [w, h]))
    if truth is not None:
        d = np.hypot(*(corners[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))
        assert d.min(axis=1).max() < 0.3 and len(set(d.argmin(axis=1))) == cols * rows
    COUNTS["find_chessboard_corners found"] += 1


# --------------------------------------------------------------------------- CameraCalibration.load

@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("cal")
    board = chessboard_points((5, 4), 1.0)
    K = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]])
    rng = np.random.default_rng(0)
    views = [project_points(board, rng.uniform(-0.4, 0.4, 3), [-2, -1.5, 10 + k], K, [-0.1, 0.02, 0, 0, 0])
             for k in range(4)]
    cal = calibrate_camera([board] * 4, views, (640, 480)).replace(
        view_names=["a.png", "b.png", "c.png", "d.png"], pattern_size=(5, 4), square_size=25.0, unit="mm",
        skipped=[("e.png", "no complete chessboard found")])
    files = {}
    for ext in ("json", "yml"):
        files[ext] = (root / f"cal.{ext}")
        cal.save(files[ext])
    xml = root / "cal.xml"
    fs = cv2.FileStorage(str(xml), cv2.FILE_STORAGE_WRITE)
    fs.write("image_width", 640)
    fs.write("image_height", 480)
    fs.write("camera_matrix", K)
    fs.write("distortion_coefficients", np.array([[-0.1, 0.02, 0, 0, 0]]))
    fs.release()
    files["xml"] = xml
    return {k: p.read_bytes() for k, p in files.items()}, root


def _load_bytes(root, data, name):
    path = root / name
    path.write_bytes(data)
    cal = run("load", CameraCalibration.load, path, allowed=(ValueError, OSError))
    if cal is not None:
        assert isinstance(cal, CameraCalibration)
        assert np.all(np.isfinite(cal.camera_matrix)) and cal.fx > 0 and np.all(np.isfinite(cal.dist_coeffs))
        assert cal.rms is None or np.isfinite(cal.rms)
        COUNTS["load accepted"] += 1
    return cal


ODD_TOKENS = ["&anchor 1", "*anchor", "!!python/object/apply:os.system ['ls']", "{a: 1}", "[1, 2", "'x'", "|",
              ".nan", ".inf", "-.inf", "1e999", "0x10", "1_000", "~", "null", "true", '"unterminated', "\t1",
              "1e-400", "99999999999999999999999", "-", "", ":", "- - -", "!!binary AAAA", "@x", "%TAG ! x"]


@FUZZ
@given(kind=st.sampled_from(["json", "yml", "xml"]), how=st.sampled_from(["truncate", "flip", "token", "size"]),
       where=st.floats(0, 1), token=st.sampled_from(ODD_TOKENS), byte=st.integers(0, 255),
       size=st.sampled_from(["1000000000", "-1", "4294967296", "3.5", "0", "100000", "1e9", "9223372036854775808"]))
def test_load_hostile_mutations(saved, kind, how, where, token, byte, size):
    blobs, root = saved
    data = blobs[kind]
    at = int(where * len(data))
    if how == "truncate":
        data = data[:at]
    elif how == "flip":
        data = data[:at] + bytes([byte]) + data[at + 1:]
    elif how == "token":
        # replace the value on one line by an odd token
        lines = data.split(b"\n")
        k = min(int(where * len(lines)), len(lines) - 1)
        key = lines[k].split(b":")[0] if kind == "yml" else lines[k][: max(0, lines[k].find(b">") + 1)]
        lines[k] = key + (b": " if kind == "yml" else b"") + token.encode()
        data = b"\n".join(lines)
    else:
        data = (data.replace(b"rows: 3", b"rows: " + size.encode()).replace(b"<rows>3<", b"<rows>" + size.encode()
                + b"<").replace(b"[640, 480]", b"[" + size.encode() + b", 480]")
                .replace(b'"iterations": ', b'"iterations": ' + size.encode() + b" + "))
    _load_bytes(root, data, f"m.{kind}")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children,
                                                                                max_size=4)),
    max_leaves=12)


@FUZZ
@given(key=st.sampled_from(["format", "version", "image_size", "camera_matrix", "dist_coeffs", "rms", "per_view_rms",
                            "rvecs", "tvecs", "std_intrinsics", "std_extrinsics", "view_names", "flags", "iterations",
                            "pattern_size", "square_size", "unit", "skipped", "cvcore_version", "date"]),
       value=json_values, drop=st.booleans())
def test_load_json_with_wrong_types(saved, key, value, drop):
    blobs, root = saved
    doc = json.loads(blobs["json"])
    if drop:
        doc.pop(key)
    else:
        doc[key] = value
    _load_bytes(root, json.dumps(doc).encode(), "t.json")


@FUZZ
@given(rows=st.integers(0, 2**40), cols=st.integers(0, 2**40), n=st.integers(0, 20), kind=st.sampled_from(["yml", "xml"]))
def test_load_declared_sizes_are_capped_before_allocation(saved, rows, cols, n, kind):
    _, root = saved
    data = " ".join(["1.5"] * n)
    if kind == "yml":
        text = ("%YAML:1.0\n---\nimage_width: 640\nimage_height: 480\ncamera_matrix: !!opencv-matrix\n"
                f"   rows: {rows}\n   cols: {cols}\n   dt: d\n   data: [ {data.replace(' ', ', ')} ]\n"
                "distortion_coefficients: !!opencv-matrix\n   rows: 1\n   cols: 4\n   dt: d\n   data: [ 0, 0, 0, 0 ]\n")
    else:
        text = ('<?xml version="1.0"?>\n<opencv_storage><image_width>640</image_width><image_height>480</image_height>'
                f'<camera_matrix type_id="opencv-matrix"><rows>{rows}</rows><cols>{cols}</cols><dt>d</dt>'
                f'<data>{data}</data></camera_matrix><distortion_coefficients type_id="opencv-matrix"><rows>1</rows>'
                '<cols>4</cols><dt>d</dt><data>0 0 0 0</data></distortion_coefficients></opencv_storage>')
    assume(rows * cols != 9 or n != 9)
    assert _load_bytes(root, text.encode(), f"s.{kind}") is None


def test_load_entity_expansion_and_external_entities_are_refused(tmp_path):
    laughs = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    for doc in ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">' + laughs + ']><opencv_storage>'
                '<unit>&l9;</unit></opencv_storage>',
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><opencv_storage>'
                '<unit>&e;</unit></opencv_storage>']:
        path = tmp_path / "e.xml"
        path.write_text(doc)
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match="unsafe XML"):
            CameraCalibration.load(path)
        assert time.perf_counter() - t0 < 1.0


@FUZZ
@given(state=st.integers(0, 2**31), other=st.sampled_from([None, (1, 0), (0, 1), (-1, 0), (2, 1)]))
def test_stress_view_corners_are_right_or_refused_with_a_reason(state, other):
    # one hard stress view (tilt, blur, noise, small squares, distortion); the right pattern or a wrong one
    from cvcore.calibration.chessboard import NotFound
    from cvcore.calibration._detector import REASONS
    from cvcore.datasets import corner_errors, stress_chessboard_views

    v = stress_chessboard_views(1, image_size=(320, 240), random_state=state, progress=False)
    cols, rows = v.pattern_sizes[0]
    pattern = (cols, rows) if other is None else (max(3, cols + other[0]), max(3, rows + other[1]))
    corners, why = run("find_chessboard_corners stress", find_chessboard_corners, v.images[0], pattern,
                       return_reason=True)
    if corners is None:
        assert isinstance(why, NotFound) and why.code in REASONS and why.message
        COUNTS[f"stress refused: {why.code}"] += 1
        return
    assert why is None
    if pattern == (cols, rows):
        assert corner_errors(corners, v.image_points[0], pattern).max() < 1.0
    else:
        # another size can only be "found" when it is the same board turned (e.g. 4x3 vs 3x4 never happens here)
        assert sorted(pattern) == sorted((cols, rows))
    COUNTS["stress found"] += 1
