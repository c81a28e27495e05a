"""Property-based fuzzing of the model-file layer (cvcore._validate.modelfile).

Every reader gets hostile input: random and mutated bytes, truncated files,
zip archives with encrypted members, unknown compression methods, corrupt
deflate streams, ``.npy`` members declaring huge shapes or object dtypes,
pickles, zip bombs, XML with entity expansion, external entities and deep
nesting, and JSON-like values of every type for the strict accessors. Each
call must return a value that obeys the request or raise ``ValueError``
(``OSError`` subclasses for paths); anything else is a crash. Each case is
timed: more than two seconds is a hang.
"""
import io
import json
import math
import os
import pickle
import re
import struct
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvcore._validate import modelfile as M

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
#: CPU seconds (this process), so other load on a shared machine cannot fail a call that does its work promptly.
HANG_SECONDS = 2.0
KIND = "cvcore-fuzz"


def bounded(call):
    """Run ``call``; return ``(result, None)`` or ``(None, ValueError)``; fail on anything else or a hang."""
    t0 = time.process_time()
    try:
        return call(), None
    except ValueError as exc:
        assert str(exc), "empty error message"
        return None, exc
    finally:
        assert time.process_time() - t0 < HANG_SECONDS, "hang: the call took more than 2 s of CPU"


def refused(call, match):
    """``call`` raises a ValueError matching ``match``, within the hang limit."""
    _, err = bounded(call)
    assert err is not None, "accepted hostile input"
    assert re.search(match, str(err)), str(err)


# ---- JSON-like values -----------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50), st.binary(max_size=8),
    st.sampled_from([np.int64(3), np.float32(2.5), np.bool_(True), np.uint64(2**64 - 1), np.float64("nan")]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                      max_leaves=20)
bounds = st.one_of(st.none(), st.integers(-100, 100))


@FUZZ
@given(values, bounds, bounds)
def test_fuzz_fields_int(value, low, high):
    f = M.Fields({"k": value}, "file.json")
    got, err = bounded(lambda: f.int("k", low=low, high=high))
    if err is None:
        assert type(got) is int and got == value and not isinstance(value, (bool, np.bool_))
        assert (low is None or got >= low) and (high is None or got <= high)
    else:
        assert str(err).startswith("file.json: k")


@FUZZ
@given(values, bounds, bounds, st.booleans())
def test_fuzz_fields_float(value, low, high, finite):
    f = M.Fields({"k": value}, "file.json")
    got, err = bounded(lambda: f.float("k", low=low, high=high, finite=finite))
    if err is None:
        assert type(got) is float and not isinstance(value, (bool, np.bool_, str))
        assert (got == float(value)) or (math.isnan(got) and not finite)
        assert not finite or math.isfinite(got)
        assert (low is None or got >= low) and (high is None or got <= high)
    else:
        assert str(err).startswith("file.json: k")


@FUZZ
@given(values, st.integers(0, 6))
def test_fuzz_fields_bool_str_list_sub_items(value, max_len):
    f = M.Fields({"k": value}, "file.json")
    got, err = bounded(lambda: f.bool("k"))
    assert (err is None) == isinstance(value, (bool, np.bool_))
    assert err is not None or got is bool(value)
    got, err = bounded(lambda: f.str("k", max_len=max_len, choices=None))
    assert (err is None) == (isinstance(value, str) and len(value) <= max_len)
    got, err = bounded(lambda: f.list("k", max_len=max_len))
    assert (err is None) == (isinstance(value, (list, tuple)) and len(value) <= max_len)
    got, err = bounded(lambda: f.sub("k"))
    assert (err is None) == isinstance(value, dict)
    got, err = bounded(lambda: f.items("k", max_len=max_len))
    if err is None:
        assert all(isinstance(item, M.Fields) for item in got) and len(got) <= max_len


def test_fields_float_nan_is_outside_any_bounds():
    f = M.Fields({"k": float("nan")}, "f")
    assert math.isnan(f.float("k", finite=False))
    with pytest.raises(ValueError, match="k must lie in"):
        f.float("k", finite=False, high=0)


def test_zero_dimensional_arrays_stay_zero_dimensional(tmp_path):
    assert M.strict_array(7, "w", dtype=np.uint8, shape=()).shape == ()
    assert M.strict_array(2.5, "w", dtype=np.float64).shape == ()
    M.write_npz(tmp_path / "m.npz", {"s": np.float32(1.5)}, {}, kind=KIND, version=1)
    assert M.read_npz(tmp_path / "m.npz", kind=KIND, versions=(1,))[2]["s"].shape == ()


def test_fields_missing_and_default():
    f = M.Fields({"a": 1}, "m.json")
    with pytest.raises(ValueError, match="m.json: missing field 'b'"):
        f.int("b")
    assert f.int("b", default=7) == 7 and f.float("b", default=None) is None
    with pytest.raises(ValueError, match="must be an object"):
        M.Fields([1, 2], "m.json")


# ---- strict_array ---------------------------------------------------------------------------

DTYPES = [np.uint8, np.int16, np.int32, np.int64, np.uint32, np.float32, np.float64]
numbers = st.one_of(st.integers(-(2**65), 2**65), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([True, None, "1", 1e300, -0.0]))
nested = st.one_of(
    st.lists(numbers, max_size=6),
    st.integers(0, 4).flatmap(lambda n: st.lists(st.lists(numbers, min_size=n, max_size=n), max_size=4)),
    st.lists(st.lists(numbers, max_size=3), max_size=3),  # ragged
    numbers,
)
ndarrays = st.sampled_from([np.arange(6).reshape(2, 3), np.ones((2, 2), bool), np.array([1.5, np.nan]),
                            np.array(["a"]), np.array([1, "x"], object), np.zeros((0, 3)),
                            np.array([2**40], np.int64), np.array([1 + 2j]), np.arange(4.0)[::2]])
shapes = st.one_of(st.none(), st.just((None,)), st.just((None, 3)), st.just((2, 3)), st.just(()))


@FUZZ
@given(st.one_of(nested, ndarrays), st.sampled_from(DTYPES), shapes, st.integers(1, 20))
def test_fuzz_strict_array(value, dtype, shape, max_size):
    got, err = bounded(lambda: M.strict_array(value, "w", dtype=dtype, shape=shape, max_size=max_size))
    if err is not None:
        assert str(err).startswith("w ")
        return
    dtype = np.dtype(dtype)
    assert got.dtype == dtype and got.flags.c_contiguous and got.size <= max_size
    if shape is not None:
        assert got.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, got.shape))
    source = np.asarray(value)
    assert source.dtype.kind != "b"
    if dtype.kind in "iu":  # exact: no truncation, no wrap
        assert [int(x) for x in np.ravel(value).tolist()] == got.ravel().tolist()
    else:
        assert np.isfinite(got).all()
        # values below the dtype's smallest normal may underflow to zero
        np.testing.assert_allclose(got.astype(np.float64), source.astype(np.float64), rtol=1e-6,
                                   atol=float(np.finfo(dtype).tiny))


# ---- JSON files -----------------------------------------------------------------------------

def _valid_json():
    return json.dumps({"format": KIND, "version": 1, "stages": [[1, 2.5], {"a": None}]}).encode()


mutations = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6)


def _mutate(data, flips, cut):
    data = bytearray(data)
    for pos, byte in flips:
        if data:
            data[pos % len(data)] = byte
    return bytes(data[:cut]) if cut is not None else bytes(data)


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.just(_valid_json())), mutations,
       st.one_of(st.none(), st.integers(0, 120)))
def test_fuzz_read_json_bytes(tmp_path, data, flips, cut):
    path = tmp_path / "m.json"
    path.write_bytes(_mutate(data, flips, cut))
    got, err = bounded(lambda: M.read_json(path, kind=KIND, versions=(1, 2)))
    if err is None:
        fields, version = got
        assert fields.raw("format") == KIND and version in (1, 2)


@FUZZ
@given(values)
def test_fuzz_read_json_documents(tmp_path, doc):
    path = tmp_path / "m.json"
    try:
        text = json.dumps({"format": KIND, "version": 1, "payload": doc})
    except (TypeError, ValueError):
        return  # not JSON-serialisable (bytes, NumPy scalars)
    path.write_text(text)
    got, err = bounded(lambda: M.read_json(path, kind=KIND, versions=(1,)))
    assert err is None or "JSON" in str(err), err


@pytest.mark.parametrize("text, match", [
    ("[" * 100_000 + "]" * 100_000, "nested"),
    ('{"format": "cvcore-fuzz", "version": 1, "x": ' + "[" * 40 + "]" * 40 + "}", "deeper than"),
    ('{"format": "cvcore-fuzz", "version": NaN}', "not valid JSON"),
    ('{"format": "cvcore-fuzz", "version": 1' + "0" * 5000 + "}", "not valid JSON"),
    ('{"format": "cvcore-fuzz", "version": 1.0}', "version must be an integer"),
    ('{"format": "cvcore-fuzz", "version": true}', "version must be an integer"),
    ('{"format": "cvcore-fuzz", "version": 3}', "version 3 is not supported"),
    ('{"format": "other", "version": 1}', "not a cvcore-fuzz file"),
    ("\ufeff{}", "not valid JSON"),
])
def test_read_json_hostile_documents(tmp_path, text, match):
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    refused(lambda: M.read_json(path, kind=KIND, versions=(1,)), match)


def test_read_json_size_cap_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as fh:
        fh.truncate(2 << 20)  # a sparse 2 MiB file
    with pytest.raises(ValueError, match="more than the 1024-byte limit"):
        M.read_json(path, kind=KIND, versions=(1,), max_bytes=1024)


# ---- NPZ files ------------------------------------------------------------------------------

def _npz_bytes(arrays, meta=None):
    meta = {"format": KIND, "version": 1} if meta is None else meta
    buf = io.BytesIO()
    np.savez_compressed(buf, __model__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return buf.getvalue()


def _npy(header_dict, body=b"", magic=b"\x93NUMPY\x01\x00"):
    header = repr(header_dict).encode("latin1")
    header += b" " * ((64 - (len(magic) + 2 + len(header) + 1) % 64) % 64) + b"\n"
    return magic + struct.pack("<H", len(header)) + header + body


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _with_header(members):
    head = io.BytesIO()
    np.save(head, np.frombuffer(json.dumps({"format": KIND, "version": 1}).encode(), np.uint8))
    return {"__model__.npy": head.getvalue(), **members}


def _set_flag(data, bit=None, method=None):
    """Rewrite every local and central header's flag bits / compression method."""
    data = bytearray(data)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            if bit is not None:
                data[at + flag_at] |= bit
            if method is not None:
                data[at + method_at:at + method_at + 2] = struct.pack("<H", method)
            start = at + 4
    return bytes(data)


def _bomb():
    # one member declaring 64 MiB of zeros (compresses to ~64 KiB), against a 1 MiB cap
    return _zip(_with_header({"a.npy": _npy({"descr": "|u1", "fortran_order": False, "shape": (64 << 20,)},
                                            bytes(64 << 20))}))


HOSTILE_NPZ = {
    "not a zip": b"hello",
    "empty zip": _zip({}),
    "no header": _zip({"a.npy": _npy({"descr": "<f8", "fortran_order": False, "shape": (1,)}, bytes(8))}),
    "huge declared shape": _zip(_with_header({"a.npy": _npy({"descr": "<f8", "fortran_order": False,
                                                             "shape": (10**12, 10**12)}, bytes(16))})),
    "negative shape": _zip(_with_header({"a.npy": _npy({"descr": "<f8", "fortran_order": False,
                                                        "shape": (-1,)}, bytes(16))})),
    "truncated body": _zip(_with_header({"a.npy": _npy({"descr": "<i4", "fortran_order": False,
                                                        "shape": (100,)}, bytes(40))})),
    "object dtype": _zip(_with_header({"a.npy": _npy({"descr": "|O", "fortran_order": False, "shape": (1,)},
                                                     pickle.dumps([1]))})),
    "structured object": _zip(_with_header({"a.npy": _npy({"descr": [("x", "|O")], "fortran_order": False,
                                                           "shape": (1,)}, pickle.dumps([1]))})),
    "void dtype": _zip(_with_header({"a.npy": _npy({"descr": "|V8", "fortran_order": False, "shape": (1,)},
                                                   bytes(8))})),
    "zero-size unicode": _zip(_with_header({"a.npy": _npy({"descr": "<U0", "fortran_order": False,
                                                           "shape": (10**9,)})})),
    "raw pickle member": _zip(_with_header({"a.npy": pickle.dumps(np.arange(3))})),
    "npy version 3": _zip(_with_header({"a.npy": _npy({"descr": "<f8", "fortran_order": False, "shape": (1,)},
                                                      bytes(8), magic=b"\x93NUMPY\x03\x00")})),
    "header is code": _zip(_with_header({"a.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 20)
                                         + b"__import__('os')   \n"})),
    "member in a folder": _zip(_with_header({"../a.npy": _npy({"descr": "<f8", "fortran_order": False,
                                                               "shape": (0,)})})),
    "not an npy member": _zip(_with_header({"a.txt": b"x"})),
    "header not uint8": _zip({"__model__.npy": _npy({"descr": "<f8", "fortran_order": False, "shape": (1,)},
                                                    bytes(8))}),
    "header not JSON": _zip({"__model__.npy": _npy({"descr": "|u1", "fortran_order": False, "shape": (3,)},
                                                   b"\xff\xfe\x00")}),
    "encrypted": _set_flag(_npz_bytes({"a": np.arange(3)}), bit=1),
    "unknown compression": _set_flag(_npz_bytes({"a": np.arange(3)}), method=1),
    "lzma member": _zip(_with_header({"a.npy": _npy({"descr": "<f8", "fortran_order": False, "shape": (1,)},
                                                    bytes(8))}), zipfile.ZIP_LZMA),
    "zip bomb": _bomb(),
}


@pytest.mark.parametrize("label", sorted(HOSTILE_NPZ))
def test_read_npz_refuses_hostile_archives(tmp_path, label):
    path = tmp_path / "m.npz"
    path.write_bytes(HOSTILE_NPZ[label])
    got, err = bounded(lambda: M.read_npz(path, kind=KIND, versions=(1,), max_bytes=1 << 20))
    if label == "lzma member":  # a valid archive with another compression is still a valid model
        assert err is None and got[2]["a"].tolist() == [0.0]
    else:
        assert err is not None and str(err).startswith(str(path)), label


def test_read_npz_roundtrip_and_pickle_free(tmp_path):
    path = tmp_path / "m.npz"
    arrays = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "f": np.asfortranarray(np.eye(3))}
    M.write_npz(path, arrays, {"n": 3}, kind=KIND, version=2)
    fields, version, got = M.read_npz(path, kind=KIND, versions=(2,))
    assert version == 2 and fields.int("n") == 3 and sorted(got) == ["f", "w"]
    for k, a in arrays.items():
        np.testing.assert_array_equal(got[k], a)
        assert got[k].dtype == a.dtype
    with pytest.raises(ValueError, match="cannot store"):
        M.write_npz(path, {"o": np.array([None])}, {}, kind=KIND, version=1)


@FUZZ
@given(mutations, st.one_of(st.none(), st.integers(0, 2000)))
def test_fuzz_read_npz_mutated(tmp_path, flips, cut):
    valid = _npz_bytes({"w": np.arange(50, dtype=np.int32), "x": np.linspace(0, 1, 7)})
    path = tmp_path / "m.npz"
    path.write_bytes(_mutate(valid, flips, cut))
    got, err = bounded(lambda: M.read_npz(path, kind=KIND, versions=(1,), max_bytes=1 << 20))
    if err is None:
        fields, version, arrays = got
        assert version == 1 and all(a.dtype.kind in "biufU" for a in arrays.values())


# ---- XML ------------------------------------------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
          + "]><l>&j;</l>")
HOSTILE_XML = {
    "billion laughs": (LAUGHS, "unsafe XML"),
    "external entity": ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
                        "unsafe XML"),
    "parameter entity": ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1/x">%p;]><r/>',
                         "unsafe XML|not valid XML"),
    "truncated": ("<opencv_storage><a>1</a>", "not valid XML"),
    "binary": ("\x00\x01garbage", "not valid XML"),
    "unknown encoding": ('<?xml version="1.0" encoding="x-nonsense"?><r/>', "not valid XML"),
    "too many elements": ("<r>" + "<e/>" * 2000 + "</r>", "more than 1000 XML elements"),
}


@pytest.mark.parametrize("label", sorted(HOSTILE_XML))
def test_parse_xml_refuses_hostile_documents(tmp_path, label):
    text, match = HOSTILE_XML[label]
    path = tmp_path / "m.xml"
    path.write_bytes(text.encode("utf-8"))
    refused(lambda: M.parse_xml(path, max_elements=1000), match)


def test_parse_xml_deep_nesting_is_bounded(tmp_path):
    path = tmp_path / "deep.xml"
    depth = 200_000
    path.write_text("<a>" * depth + "</a>" * depth)
    got, err = bounded(lambda: M.parse_xml(path, max_elements=depth + 1))
    assert err is None and got.tag == "a"
    with pytest.raises(ValueError, match="more than 1000 XML elements"):
        M.parse_xml(path, max_elements=1000)


@FUZZ
@given(mutations, st.one_of(st.none(), st.integers(0, 200)))
def test_fuzz_parse_xml_mutated(tmp_path, flips, cut):
    valid = b'<?xml version="1.0"?><opencv_storage><cascade><stageNum>3</stageNum></cascade></opencv_storage>'
    path = tmp_path / "m.xml"
    path.write_bytes(_mutate(valid, flips, cut))
    got, err = bounded(lambda: M.parse_xml(path))
    assert err is not None or got.tag


# ---- checkpoints and paths ------------------------------------------------------------------

settings_values = st.dictionaries(st.sampled_from(["window", "features", "seed", "rate"]),
                                  st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=3),
                                            st.lists(st.integers(0, 3), max_size=3)), max_size=4)


@FUZZ
@given(settings_values, settings_values)
def test_fuzz_check_settings(saved, current):
    _, err = bounded(lambda: M.check_settings(saved, current, where="ck"))
    def stored(v):  # as JSON would store it; NaN compares equal to itself
        return json.loads(json.dumps(v), parse_constant=str)

    differing = [k for k in current if k not in saved or stored(saved[k]) != stored(current[k])]
    assert (err is None) == (not differing)
    for k in differing:
        assert k in str(err)
    # the same settings, however the values are spelled, always resume
    bounded(lambda: M.check_settings(current, {k: (tuple(v) if isinstance(v, list) else v)
                                               for k, v in current.items()}, where="ck"))


@pytest.mark.parametrize("saved", [["window"], "window", None, 3])
def test_check_settings_refuses_a_checkpoint_whose_settings_are_not_a_mapping(saved):
    with pytest.raises(ValueError, match="ck: the checkpoint's settings must be a mapping"):
        M.check_settings(saved, {"window": 24}, where="ck")


def test_check_settings_nan_equals_itself():
    M.check_settings({"rate": float("nan")}, {"rate": float("nan")}, where="ck")


@pytest.mark.parametrize("path, exc", [
    ("", ValueError), (b"", ValueError), ("a\0b", ValueError), (3, TypeError), (None, TypeError),
])
def test_path_arguments_are_checked(path, exc):
    with pytest.raises(exc, match="path"):
        M.readable_file(path)
    with pytest.raises(exc, match="path"):
        M.writable_file(path)


def test_fields_float_refuses_integers_beyond_float_range():
    with pytest.raises(ValueError, match="k must be a finite number"):
        M.Fields({"k": 10**400}, "f").float("k")
    with pytest.raises(ValueError, match=r"an integer of \d+ bits"):
        M.Fields({"k": 10**5000}, "f").str("k")


def test_read_bytes_missing_directory_and_special_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        M.read_bytes(tmp_path / "missing.json")
    with pytest.raises(IsADirectoryError):
        M.read_bytes(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        with pytest.raises(OSError, match="not a regular file"):
            M.read_bytes(fifo)
