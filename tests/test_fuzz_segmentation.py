"""Property-based fuzzing of cvcore.segmentation (issue 9).

Hostile model files for ``PixelSegmenter.load`` (truncated, bytes flipped,
headers with wrong types / NaN / huge numbers / absurd ``n_jobs``,
``n_neighbors`` and depths, arrays of the wrong dtype or shape, object arrays
that would need unpickling, ``.npy`` headers declaring huge arrays), hostile
arrays and parameters for ``RandomForestClassifier.from_arrays`` and
``KNNClassifier.from_arrays``, and fuzzed arguments of ``pixel_features`` and
``PixelSegmenter.fit`` / ``predict``. Every call must return a correct result
(checked) or raise ValueError/TypeError (ValueError/OSError for files).

Outcome counts per target are printed at the end of the module (``pytest -s``);
set ``CVCORE_FUZZ_SCALE`` (e.g. 20) to run more examples than the default.
"""
import collections
import io
import json
import os
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier, feature_names, \
    pixel_features

SCALE = max(1, int(os.environ.get("CVCORE_FUZZ_SCALE", "1")))


def fuzz(n):
    return settings(max_examples=n * SCALE, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def mostly(valid, invalid):
    """``valid`` four times in five, else ``invalid``."""
    return st.integers(0, 4).flatmap(lambda i: valid if i else invalid)

#: a call that takes longer than this is counted (and failed) as a hang
HANG_SECONDS = 20.0
COUNTS = collections.defaultdict(collections.Counter)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    # reached only when no case crashed the interpreter or ran past HANG_SECONDS
    for target, c in sorted(COUNTS.items()):
        print(f"\nfuzz {target}: {sum(c.values())} cases, {c['ok']} correct results, {c['refused']} clear "
              f"errors, 0 crashes, 0 hangs")


def outcome(target, call, allowed=(ValueError, TypeError)):
    """Run ``call``; return its result or None when it raised an allowed error with a message."""
    t0 = time.perf_counter()
    try:
        result = call()
    except allowed as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        COUNTS[target]["refused"] += 1
        result = None
    else:
        COUNTS[target]["ok"] += 1
    elapsed = time.perf_counter() - t0
    assert elapsed < HANG_SECONDS, f"{target} took {elapsed:.1f} s"
    return result


# ---------------------------------------------------------------------------
# values of every kind
# ---------------------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.sampled_from([10**6, -1, 0, 3]),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=4), inner,
                                                                                 max_size=3)),
                           max_leaves=8)
DTYPES = ["<i4", "<i8", "<u1", "<f8", "<f4", "<f2", "|b1", "<c16", "<U3", "<i2", ">i4", ">f8"]


@st.composite
def hostile_array(draw, like=None):
    """An array of any dtype and a small shape, sometimes derived from ``like``."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    choice = draw(st.integers(0, 5))
    if like is not None and choice <= 2:
        arr = np.array(like)
        if choice == 0:  # same shape, another dtype
            arr = arr.astype(draw(st.sampled_from(DTYPES)), copy=True) if arr.dtype.kind != "U" else arr
        elif choice == 1 and arr.size:  # a few values changed to extremes
            arr = arr.astype(np.float64) if arr.dtype.kind == "f" else arr.copy()
            flat = arr.reshape(-1)
            specials = ([np.nan, np.inf, -1e300, 1e300, -1.0] if flat.dtype.kind == "f"
                        else [np.iinfo(flat.dtype).max, np.iinfo(flat.dtype).min, -1, 0]
                        if flat.dtype.kind in "iu" else [True])
            for i in rng.integers(0, flat.size, 1 + flat.size // 10):
                flat[i] = specials[int(rng.integers(len(specials)))]
        else:  # truncated or reshaped
            arr = arr.reshape(-1)[: draw(st.integers(0, max(0, arr.size - 1)))] if arr.size else arr[None]
        return arr
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    if dtype.kind == "U":
        return np.array(["ab"] * int(np.prod(shape)), dtype).reshape(shape)
    return (rng.integers(-3, 50, shape)).astype(dtype)


# ---------------------------------------------------------------------------
# PixelSegmenter.load on hostile files
# ---------------------------------------------------------------------------

def _scene():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 18, 3), dtype=np.uint8)
    img[:, 9:] //= 4
    lab = np.zeros((16, 18), np.uint8)
    lab[:, 2:5] = 1
    lab[:, 12:15] = 2
    return img, lab


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from cvcore._validate import modelfile

    img, lab = _scene()
    out = {}
    folder = tmp_path_factory.mktemp("fuzz_models")
    for name, clf in [("rf", RandomForestClassifier(3, max_depth=4, random_state=0)), ("knn", KNNClassifier(3))]:
        seg = PixelSegmenter(clf, sigmas=(1.0,), features=("intensity", "gradient")).fit(img, lab)
        path = folder / f"{name}.npz"
        seg.save(path)
        fields, _, arrays = modelfile.read_npz(path, kind="cvcore-pixel-segmenter", versions=(1,))
        out[name] = (path.read_bytes(), fields.data, arrays)
    return out


def _npz_bytes(header_text, arrays, pickled=False):
    buf = io.BytesIO()
    payload = {"__model__": np.frombuffer(header_text.encode("utf-8"), np.uint8), **arrays}
    np.savez(buf, **payload) if pickled else np.savez(buf, allow_pickle=False, **payload)
    return buf.getvalue()


def _huge_npy_member(data, name):
    """Replace member ``name`` by an .npy header declaring a huge array over 16 bytes of data."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            if info.filename == name + ".npy":
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False,
                                                            "shape": (10**6, 10**6)})
                dst.writestr(info.filename, head.getvalue() + b"\0" * 16)
            else:
                dst.writestr(info, src.read(info))
    return buf.getvalue()


HEADER_KEYS = ["format", "version", "classifier", "n_channels", "n_features", "segmenter.sigmas",
               "segmenter.features", "segmenter.channel_axis", "segmenter.max_training_pixels",
               "segmenter.random_state", "segmenter.tile_bytes", "segmenter.n_jobs", "classifier_params",
               "segmenter"]
PARAM_KEYS = ["n_estimators", "max_depth", "max_features", "min_samples_leaf", "bootstrap", "random_state",
              "n_jobs", "n_neighbors", "weights", "algorithm", "bogus"]


def _set(header, key, value):
    target = header
    *parents, last = key.split(".")
    for part in parents:
        if not isinstance(target.get(part), dict):
            return
        target = target[part]
    target[last] = value


@st.composite
def hostile_files(draw, models):
    kind = draw(st.sampled_from(["rf", "knn"]))
    data, header, arrays = models[kind]
    header = json.loads(json.dumps(header))
    arrays = dict(arrays)
    attack = draw(st.sampled_from(["header", "params", "array", "drop", "extra", "nan", "truncate", "flip",
                                   "huge", "pickle", "garbage"]))
    if attack == "header":
        _set(header, draw(st.sampled_from(HEADER_KEYS)), draw(json_values))
    elif attack == "params":
        header["classifier_params"][draw(st.sampled_from(PARAM_KEYS))] = draw(
            st.one_of(json_values, st.sampled_from([10**6, 10**9, -10**6, 2**31, 2**63, 0.5, 3.0])))
    elif attack == "array":
        key = draw(st.sampled_from(sorted(arrays)))
        arrays[key] = draw(hostile_array(arrays[key]))
    elif attack == "drop":
        arrays.pop(draw(st.sampled_from(sorted(arrays))))
    elif attack == "extra":
        arrays[draw(st.sampled_from(["x", "rf_value", "knn_X", "classes"]))] = draw(hostile_array())
    if attack in ("header", "params", "array", "drop", "extra"):
        return _npz_bytes(json.dumps(header), arrays)
    if attack == "nan":
        text = json.dumps(header).replace('"n_features": ', '"n_features": NaN, "x": ', 1)
        return _npz_bytes(text, arrays)
    if attack == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if attack == "flip":
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
        return bytes(raw)
    if attack == "huge":
        return _huge_npy_member(data, draw(st.sampled_from(sorted(arrays))))
    if attack == "pickle":
        key = draw(st.sampled_from(sorted(arrays)))
        arrays[key] = np.array([{"a": 1}, None], dtype=object)
        return _npz_bytes(json.dumps(header), arrays, pickled=True)
    return draw(st.binary(max_size=64))


def test_fuzz_segmenter_load(models, tmp_path):
    img = _scene()[0]

    @fuzz(150)
    @given(data=st.data())
    def run(data):
        path = tmp_path / "model.npz"
        path.write_bytes(data.draw(hostile_files(models)))
        seg = outcome("PixelSegmenter.load", lambda: PixelSegmenter.load(path), (ValueError, OSError))
        if seg is not None:
            # a file that loads is a working model: predictions are classes, probabilities sum to 1
            image = img if seg.n_channels_ == 3 else img[:, :, : seg.n_channels_]
            proba = seg.predict_proba(image)
            assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(-1), 1, atol=1e-5)
            assert set(np.unique(seg.predict(image))) <= set(seg.classes_.tolist())

    run()


# ---------------------------------------------------------------------------
# from_arrays with hostile arrays and parameters
# ---------------------------------------------------------------------------

forest_params = st.fixed_dictionaries({}, optional={
    "n_estimators": mostly(st.just(3), st.sampled_from([-2, 0, 4, 10**6, 3.0, "3", None])),
    "max_depth": mostly(st.one_of(st.none(), st.integers(1, 10**9)), st.sampled_from([0, -1, 2.5, "4", 2**40])),
    "max_features": mostly(st.sampled_from(["sqrt", "log2", None, 0.5, 1, 2, 10**9]),
                           st.sampled_from(["cube", 0.0, 2.0, np.nan, -1, 1.5j])),
    "min_samples_leaf": mostly(st.integers(1, 10**6), st.sampled_from([0, -1, 1.5, 2**40])),
    "bootstrap": mostly(st.booleans(), st.sampled_from(["false", 0, None])),
    "random_state": mostly(st.sampled_from([None, 0, 2**40]), st.sampled_from([-1, 1.5, "1"])),
    "n_jobs": mostly(st.sampled_from([None, 1, 2, -1, 256]), st.sampled_from([0, 257, -10**7, 10**6, 1.0, "2"])),
})
knn_params = st.fixed_dictionaries({}, optional={
    "n_neighbors": mostly(st.integers(1, 3), st.sampled_from([-1, 0, 41, 10**7, 2.0, "3", None])),
    "weights": mostly(st.sampled_from(["uniform", "distance"]), st.sampled_from(["gauss", None])),
    "algorithm": mostly(st.sampled_from(["auto", "kd_tree", "brute"]), st.sampled_from(["ball", 1])),
})


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, 40)
    return (X, RandomForestClassifier(3, max_depth=5, random_state=0).fit(X, y).to_arrays(),
            KNNClassifier(3).fit(X, y).to_arrays())


def _check_classifier(clf, X):
    X = np.resize(X, (X.shape[0], clf.n_features_in_))  # the arrays decide the width
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], clf.classes_.shape[0])
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0) and np.allclose(proba.sum(1), 1, atol=1e-6)


def _fuzz_from_arrays(data, estimator, arrays, params, X):
    arrays = dict(arrays)
    if data.draw(st.integers(0, 2)) == 0:
        key = data.draw(st.sampled_from(sorted(arrays)))
        arrays[key] = data.draw(hostile_array(arrays[key]))
    params = data.draw(params)
    clf = outcome(f"{estimator.__name__}.from_arrays", lambda: estimator.from_arrays(arrays, **params))
    if clf is not None:
        _check_classifier(clf, X)


@fuzz(150)
@given(data=st.data())
def test_fuzz_forest_from_arrays(fitted, data):
    X, arrays, _ = fitted
    _fuzz_from_arrays(data, RandomForestClassifier, arrays, forest_params, X)


@fuzz(150)
@given(data=st.data())
def test_fuzz_knn_from_arrays(fitted, data):
    X, _, arrays = fitted
    _fuzz_from_arrays(data, KNNClassifier, arrays, knn_params, X)


# ---------------------------------------------------------------------------
# pixel_features, fit and predict arguments
# ---------------------------------------------------------------------------

IMAGE_DTYPES = ["u1", "u2", "i2", "i8", "u8", "f2", "f4", "f8", "b1"] * 3 + ["c8", "O", "U2"]



@st.composite
def images(draw, max_side=9):
    side = st.integers(1, max_side)
    shape = draw(mostly(st.one_of(st.tuples(side, side), st.tuples(side, side, st.sampled_from([1, 2, 3, 4, 5]))),
                        st.lists(st.integers(0, 4), max_size=4).map(tuple)))
    dtype = np.dtype(draw(st.sampled_from(IMAGE_DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = rng.integers(0, 256, shape)
    if dtype.kind == "U":
        return base.astype(dtype)
    if dtype.kind == "O":
        return base.astype(object)
    arr = base.astype(dtype) if dtype.kind != "f" else (base / 255).astype(dtype)
    if dtype.kind == "f" and arr.size and draw(st.integers(0, 3)) == 0:
        arr.flat[0] = draw(st.sampled_from([np.nan, np.inf, 1e300 if dtype.itemsize == 8 else -7.0]))
    if arr.ndim >= 2 and draw(st.integers(0, 3)) == 0:
        arr = arr[::-1]  # negative strides
    return arr


sigmas = mostly(st.lists(st.floats(0.3, 6.0), min_size=1, max_size=3, unique=True),
                st.sampled_from([(), (0.1,), (1.0, 1.0), (np.nan,), ("1",), 2.0, "1 2", None, (1e9,),
                                    [1.0] * 40]))
features = mostly(st.lists(st.sampled_from(["intensity", "gradient", "log", "dog", "hessian", "structure"]),
                           min_size=1, max_size=3, unique=True),
                  st.sampled_from([(), ("colour",), "log", ("log", "log"), (1,), None, b"log"]))
axes = mostly(st.sampled_from([-1, -1, 0, 2]), st.sampled_from([None, 3, -4, 1.0, "x"]))


@fuzz(200)
@given(image=images(), sig=sigmas, feats=features, axis=axes)
def test_fuzz_pixel_features(image, sig, feats, axis):
    out = outcome("pixel_features", lambda: pixel_features(image, sigmas=sig, features=feats, channel_axis=axis))
    if out is not None:
        a = np.asarray(image)
        channels = 1 if a.ndim == 2 else a.shape[axis]
        if a.ndim == 3 and axis in (-1, 2) and channels == 4:
            channels = 3  # alpha ignored
        hw = a.shape if a.ndim == 2 else tuple(n for i, n in enumerate(a.shape) if i != axis % 3)
        assert out.shape == hw + (len(feature_names(channels, sig, feats)),)
        assert out.dtype == np.float32 and np.all(np.isfinite(out))


@st.composite
def label_maps(draw, shape):
    kind = draw(st.sampled_from(["good"] * 6 + ["dtype", "shape", "colour", "values"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lab = rng.integers(0, draw(st.sampled_from([2, 3, 3, 4, 5])), shape[:2]).astype(np.uint8)
    if kind == "dtype":
        lab = lab.astype(draw(st.sampled_from(["f4", "f8", "i8", "u2", "b1", "c8", "U1", "O"])))
    elif kind == "shape":
        lab = lab[: draw(st.integers(0, shape[0]))]
    elif kind == "colour":
        lab = np.repeat(lab[:, :, None], draw(st.sampled_from([1, 3, 4])), 2)
    elif kind == "values" and lab.size:
        lab = lab.astype(np.float64)
        lab.flat[0] = draw(st.sampled_from([-1.0, 0.5, np.nan, 1e300, 2.0**60, 7.0]))
    return lab


segmenter_params = st.fixed_dictionaries({}, optional={
    "classifier": mostly(st.sampled_from(["rf", "knn"]), st.sampled_from(["svm", None])),
    "max_training_pixels": mostly(st.sampled_from([None, 5, 40, 1000]), st.sampled_from([0, -1, 10**12, 2.5])),
    "random_state": mostly(st.sampled_from([0, 7]), st.sampled_from([-1, 1.5])),  # None would be irreproducible
    "tile_bytes": mostly(st.sampled_from([1 << 16, 1 << 20]), st.sampled_from([10, 10**30, 1e8])),
    "n_jobs": mostly(st.sampled_from([None, 1, 2, -1]), st.sampled_from([0, 10**6, 1.0])),
    "channel_axis": mostly(st.sampled_from([-1, 0]), st.sampled_from([None, 5])),
})


@fuzz(60)
@given(data=st.data())
def test_fuzz_fit_predict(data):
    img = data.draw(images(max_side=8).filter(lambda a: np.ndim(a) in (2, 3)))
    shape = np.shape(img)
    n_images = data.draw(st.integers(1, 2))
    labels = [data.draw(label_maps(shape)) for _ in range(n_images)]
    params = data.draw(segmenter_params)
    params.setdefault("random_state", 0)  # the default (None) would make cases irreproducible
    if params.get("classifier", "rf") == "rf":
        params["classifier"] = RandomForestClassifier(3, random_state=0)
    seg = PixelSegmenter(sigmas=(1.0,), features=("intensity", "gradient"), **params)
    fitted = outcome("PixelSegmenter.fit", lambda: seg.fit([img] * n_images, labels))
    if fitted is None:
        return
    labelled = np.unique(np.concatenate([np.asarray(lab, np.float64).reshape(-1) for lab in labels]))
    assert len(fitted.classes_) >= 2 and set(fitted.classes_.tolist()) <= set(labelled[labelled > 0].tolist())
    other = data.draw(images(max_side=8))
    pred = outcome("PixelSegmenter.predict", lambda: fitted.predict(other))
    if pred is not None:
        assert pred.shape == fitted.predict_proba(other).shape[:2]
        assert set(np.unique(pred)) <= set(fitted.classes_.tolist())
