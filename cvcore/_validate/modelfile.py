"""Model files: the one layer that reads and writes cascades, segmenters,
calibrations and training checkpoints.

Every model file carries a ``format`` name and an integer ``version``; readers
name the versions they understand and refuse the rest. Reading is defensive:

* sizes are capped *before* anything is allocated or decompressed (the file
  size from ``stat``, each ``.npz`` member's declared size from the zip
  directory and its ``.npy`` header, XML through ``defusedxml``, which refuses
  entity expansion and external entities);
* types are strict (:class:`Fields`): no ``bool("false")``, no float silently
  truncated to an int, no int wrapped into int32, no NaN where a finite number
  is needed, bounded list lengths and nesting;
* ``.npz`` files are read with ``allow_pickle=False`` and object arrays are
  refused.

Errors are ``ValueError`` naming the file and the field, ``FileNotFoundError``
/ ``IsADirectoryError`` / ``OSError`` for paths that cannot be read.
Writers go through a temporary file and ``os.replace``, so an interrupted
write never leaves half a model behind.

Examples
--------
>>> from cvcore._validate import modelfile
>>> _ = modelfile.write_json("model.json", {"alpha": 0.5, "stages": [3, 5]},
...                          kind="cvcore-example", version=1)
>>> fields, version = modelfile.read_json("model.json", kind="cvcore-example", versions=(1,))
>>> fields.float("alpha", low=0, high=1), fields.list("stages", max_len=100), version
(0.5, [3, 5], 1)
>>> fields.int("alpha")
Traceback (most recent call last):
    ...
ValueError: model.json: alpha must be an integer, got float 0.5
>>> modelfile.read_json("model.json", kind="cvcore-cascade", versions=(1,))
Traceback (most recent call last):
    ...
ValueError: model.json: not a cvcore-cascade file (format is 'cvcore-example')
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

__all__ = [
    "MAX_MODEL_BYTES",
    "Fields",
    "readable_file",
    "writable_file",
    "read_bytes",
    "read_json",
    "write_json",
    "write_text",
    "read_npz",
    "write_npz",
    "parse_xml",
    "parse_xml_bytes",
    "check_settings",
]

#: Default cap on a model file's size on disk and on its decompressed arrays.
MAX_MODEL_BYTES = 1 << 30
#: Deepest JSON nesting accepted (cvcore's own files nest a handful of levels).
MAX_JSON_DEPTH = 32

_MISSING = object()
# Everything zipfile and the .npy reader raise on a damaged or hostile archive:
# encrypted members (RuntimeError), unknown compression methods
# (NotImplementedError), corrupt deflate streams (zlib.error), short headers.
_ARCHIVE_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, TypeError, SyntaxError, RuntimeError,
                   NotImplementedError, zlib.error, struct.error)


# --------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------


def _path(path, name):
    """``path`` as a non-empty ``str`` (bytes and path-like objects accepted)."""
    try:
        path = os.fspath(path)
    except TypeError:
        if not isinstance(path, bytearray):
            raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(path).__name__}") from None
    if isinstance(path, (bytes, bytearray)):
        path = os.fsdecode(bytes(path))
    if not path:
        raise ValueError(f"{name} must not be empty")
    if "\0" in path:
        raise ValueError(f"{name} must not contain a NUL character")
    return path


def readable_file(path, name="path"):
    """``os.fspath(path)`` of an existing regular file, or a precise OSError."""
    path = _path(path, name)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{name}: {path} is a directory, not a file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name}: file not found: {path}")
    if not os.path.isfile(path):
        raise OSError(f"{name}: {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{name}: {path} is not readable (permission denied)")
    return path


def writable_file(path, name="path", *, suffixes=None):
    """Check, before any work, that ``path`` can be written as a file.

    Refuses a directory, a missing or read-only parent folder and (with
    ``suffixes``, a tuple like ``(".json",)``) an extension outside the list.
    Returns ``os.fspath(path)``.
    """
    path = _path(path, name)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{name}: {path} is a directory; give a file name")
    if suffixes is not None:
        ext = os.path.splitext(path)[1].lower()
        if ext not in suffixes:
            raise ValueError(f"{name}: {path} must end in {' or '.join(suffixes)} (got {ext or 'no extension'!r})")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{name}: folder does not exist: {parent}")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f"{name}: cannot write {path} (permission denied)")
    return path


def read_bytes(path, *, max_bytes=MAX_MODEL_BYTES, name="path"):
    """The bytes of a file no larger than ``max_bytes`` (checked before reading)."""
    path = readable_file(path, name)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"{path}: file is {size} bytes, more than the {max_bytes}-byte limit for this kind of file")
    with open(path, "rb") as fh:
        data = fh.read(size + 1)  # not max_bytes + 1: that would preallocate the whole cap
        if len(data) > size:
            data += fh.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:  # the file grew after stat
        raise ValueError(f"{path}: file is more than the {max_bytes}-byte limit for this kind of file")
    return data


def _atomic_write(path, write):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a model file gets the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------
# strict fields
# --------------------------------------------------------------------------


class Fields:
    """Strict, bounded access to a mapping read from a model file.

    ``where`` names the file and the position (``"face.json: stages[3]"``)
    and prefixes every error message.
    """

    def __init__(self, data, where):
        if not isinstance(data, dict):
            raise ValueError(f"{where} must be an object/mapping, got {type(data).__name__}")
        self.data = data
        self.where = where

    def _name(self, key):
        return f"{self.where}: {key}"

    def __contains__(self, key):
        return key in self.data

    def raw(self, key, default=_MISSING):
        if key not in self.data:
            if default is _MISSING:
                raise ValueError(f"{self.where}: missing field {key!r}")
            return default
        return self.data[key]

    def int(self, key, *, low=None, high=None, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{self._name(key)} must be an integer, got {_show(v)}")
        v = int(v)
        if (low is not None and v < low) or (high is not None and v > high):
            raise ValueError(f"{self._name(key)} must lie in [{low}, {high}], got {v}")
        return v

    def float(self, key, *, low=None, high=None, finite=True, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{self._name(key)} must be a number, got {_show(v)}")
        try:
            v = float(v)
        except OverflowError:
            raise ValueError(f"{self._name(key)} must be a finite number, got an integer too large for a float") \
                from None
        if finite and not math.isfinite(v):
            raise ValueError(f"{self._name(key)} must be finite, got {v}")
        if math.isnan(v) and (low is not None or high is not None):
            raise ValueError(f"{self._name(key)} must lie in [{low}, {high}], got nan")
        if (low is not None and v < low) or (high is not None and v > high):
            raise ValueError(f"{self._name(key)} must lie in [{low}, {high}], got {v}")
        return v

    def bool(self, key, *, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{self._name(key)} must be true or false, got {_show(v)}")
        return bool(v)

    def str(self, key, *, choices=None, max_len=4096, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, str):
            raise ValueError(f"{self._name(key)} must be a string, got {_show(v)}")
        if len(v) > max_len:
            raise ValueError(f"{self._name(key)} is longer than {max_len} characters")
        if choices is not None and v not in choices:
            raise ValueError(f"{self._name(key)} must be one of {', '.join(map(repr, choices))}; got {v!r}")
        return v

    def list(self, key, *, max_len, min_len=0, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, (list, tuple)):
            raise ValueError(f"{self._name(key)} must be a list, got {_show(v)}")
        if not min_len <= len(v) <= max_len:
            raise ValueError(f"{self._name(key)} must hold {min_len} to {max_len} items, got {len(v)}")
        return list(v)

    def sub(self, key, *, default=_MISSING):
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        return Fields(v, self._name(key))

    def items(self, key, *, max_len, min_len=0):
        """The entries of list field ``key`` as :class:`Fields` (each must be a mapping)."""
        return [Fields(v, f"{self._name(key)}[{i}]")
                for i, v in enumerate(self.list(key, max_len=max_len, min_len=min_len))]

    def array(self, key, *, dtype, shape=None, max_size=1 << 26, default=_MISSING):
        """A numeric array from nested lists (or an ndarray), strictly typed.

        ``shape`` is a tuple whose entries are ints or None (any length). For an
        integer ``dtype``, every value must be an integer within the dtype's
        range; for a float ``dtype`` every value must be finite.
        """
        v = self.raw(key, default)
        if v is default and default is not _MISSING:
            return v
        return strict_array(v, self._name(key), dtype=dtype, shape=shape, max_size=max_size)


def strict_array(value, name, *, dtype, shape=None, max_size=1 << 26):
    """Convert ``value`` to ``dtype`` without truncation, wrapping or NaN (see :meth:`Fields.array`)."""
    dtype = np.dtype(dtype)
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ValueError(f"{name} must be a numeric array, got {_show(value)}")
    if isinstance(value, np.ndarray):
        arr = value
    else:
        _check_nested(value, name, max_size)
        try:
            arr = np.array(value, dtype=object if dtype.kind in "iu" else np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"{name} must be a rectangular numeric array ({exc})") from None
    if arr.size > max_size:
        raise ValueError(f"{name} has {arr.size} values, more than the limit of {max_size}")
    if arr.dtype.kind not in "biufO":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, arr.shape)):
            want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if dtype.kind in "iu":
        flat = arr.ravel()
        if arr.dtype.kind == "O":
            if not all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in flat):
                raise ValueError(f"{name} must hold integers only")
            ints = [int(x) for x in flat]
            lo, hi = (min(ints), max(ints)) if ints else (0, 0)
        elif arr.dtype.kind in "iu":
            lo, hi = (int(flat.min()), int(flat.max())) if flat.size else (0, 0)
        else:
            raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
        info = np.iinfo(dtype)
        if lo < info.min or hi > info.max:
            raise ValueError(f"{name} values must lie in [{info.min}, {info.max}] ({dtype}), got {lo}..{hi}")
        # np.asarray(order="C"), not ascontiguousarray: that one turns a 0-d array into 1-d
        return np.asarray(np.array(arr.tolist() if arr.dtype.kind == "O" else arr, dtype=dtype)
                          .reshape(arr.shape), order="C")
    if arr.dtype.kind == "b" or arr.dtype.kind == "O":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(arr, dtype=dtype, order="C")
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must hold finite numbers representable in {dtype}")
    return out


def _check_nested(value, name, max_size):
    """Refuse bools, strings and absurd sizes in nested lists before NumPy sees them."""
    stack, seen = [value], 0
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must hold numbers only, found {_show(v)}")
        else:
            seen += 1
        if seen > max_size or len(stack) > max_size:
            raise ValueError(f"{name} has more than {max_size} values")


def _show(v):
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:37] + "...")
    if isinstance(v, (list, tuple, dict)):
        return f"a {type(v).__name__} of {len(v)} items"
    if isinstance(v, int) and v.bit_length() > 64:
        return f"an integer of {v.bit_length()} bits"
    return f"{type(v).__name__} {v!r}"[:80]


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def _no_constant(token):
    raise ValueError(f"non-standard JSON constant {token}")


def _depth(obj, limit):
    stack = [(obj, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return True


def loads_json(data, where):
    """Parse JSON text strictly (no NaN/Infinity, bounded nesting) into Python objects."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None
    if not _depth(doc, MAX_JSON_DEPTH):
        raise ValueError(f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return doc


def check_header(fields, *, kind, versions):
    """Check ``fields`` declares ``format == kind`` and a ``version`` in ``versions``; return it."""
    fmt = fields.raw("format", None)
    if fmt != kind:
        raise ValueError(f"{fields.where}: not a {kind} file (format is {fmt!r})")
    version = fields.int("version", low=0, high=1 << 30)
    if version not in versions:
        raise ValueError(
            f"{fields.where}: {kind} version {version} is not supported by this cvcore "
            f"(reads versions {', '.join(map(str, versions))})"
        )
    return version


def read_json(path, *, kind, versions, max_bytes=64 << 20, name="path"):
    """Read a versioned JSON model file; returns ``(fields, version)``."""
    data = read_bytes(path, max_bytes=max_bytes, name=name)
    where = os.fspath(path)
    fields = Fields(loads_json(data, where), where)
    return fields, check_header(fields, kind=kind, versions=versions)


def write_json(path, payload, *, kind, version, compact=False, name="path"):
    """Write ``{"format": kind, "version": version, **payload}`` atomically as UTF-8.

    ``compact`` writes no indentation (large numeric models: about half the size).
    """
    doc = {"format": kind, "version": int(version), **payload}
    text = json.dumps(doc, allow_nan=False, separators=(",", ":")) if compact else \
        json.dumps(doc, indent=1, allow_nan=False)
    return write_text(path, text, name=name)


def write_text(path, text, *, name="path"):
    """Write ``text`` as UTF-8 atomically (for text model formats such as OpenCV YAML/XML)."""
    path = writable_file(path, name)
    data = text.encode("utf-8")
    _atomic_write(path, lambda fh: fh.write(data))
    return path


# --------------------------------------------------------------------------
# NPZ
# --------------------------------------------------------------------------

_META_KEY = "__model__"


def write_npz(path, arrays, meta, *, kind, version, name="path"):
    """Write arrays and a JSON header (``format``, ``version``, ``meta``) to a compressed .npz."""
    path = writable_file(path, name)
    header = json.dumps({"format": kind, "version": int(version), **meta}, allow_nan=False)
    for k, a in arrays.items():
        if k == _META_KEY or np.asarray(a).dtype.kind == "O":
            raise ValueError(f"cannot store array {k!r} in a model file")
    payload = {_META_KEY: np.frombuffer(header.encode("utf-8"), np.uint8), **arrays}

    def write(fh):
        np.savez_compressed(fh, **payload)

    _atomic_write(path, write)
    return path


def read_npz(path, *, kind, versions, max_bytes=MAX_MODEL_BYTES, max_members=4096, name="path"):
    """Read a model ``.npz``; returns ``(fields, version, arrays)``.

    Every member's declared size (zip directory and ``.npy`` header) is checked
    against ``max_bytes`` before it is decompressed; pickled or object arrays
    are refused.
    """
    data = read_bytes(path, max_bytes=max_bytes, name=name)
    where = os.fspath(path)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ARCHIVE_ERRORS as exc:
        raise ValueError(f"{where}: not a cvcore .npz model file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise ValueError(f"{where}: {len(infos)} members, more than the limit of {max_members}")
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            raise ValueError(f"{where}: declares {total} bytes of arrays, more than the limit of {max_bytes}")
        arrays = {}
        for info in infos:
            if not info.filename.endswith(".npy") or "/" in info.filename:
                raise ValueError(f"{where}: unexpected member {info.filename!r}")
            arrays[info.filename[:-4]] = _read_member(zf, info, where)
    if _META_KEY not in arrays:
        raise ValueError(f"{where}: not a cvcore model file (no {_META_KEY} header)")
    header = arrays.pop(_META_KEY)
    if header.dtype != np.uint8 or header.ndim != 1:
        raise ValueError(f"{where}: malformed {_META_KEY} header")
    fields = Fields(loads_json(header.tobytes(), where), where)
    return fields, check_header(fields, kind=kind, versions=versions), arrays


def _read_member(zf, info, where):
    fmt = np.lib.format
    try:
        with zf.open(info) as fh:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            if dtype.hasobject or dtype.kind not in "biufU":
                raise ValueError(f"dtype {dtype} is not allowed (no object or pickled arrays)")
            n = math.prod(shape)
            if n * dtype.itemsize > info.file_size:
                raise ValueError(f"declares {n * dtype.itemsize} bytes but holds at most {info.file_size}")
            raw = fh.read(n * dtype.itemsize)
            if len(raw) != n * dtype.itemsize:
                raise ValueError("truncated")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        return np.asarray(arr, order="C")  # keeps 0-d members 0-d
    except _ARCHIVE_ERRORS as exc:
        raise ValueError(f"{where}: member {info.filename!r} is not a valid array ({exc})") from None


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------


def parse_xml(path, *, max_bytes=64 << 20, max_elements=5_000_000, name="path"):
    """Parse an XML file with ``defusedxml`` (no entities, no DTD tricks); returns the root element."""
    data = read_bytes(path, max_bytes=max_bytes, name=name)
    return parse_xml_bytes(data, os.fspath(path), max_elements=max_elements)


def parse_xml_bytes(data, where, *, max_elements=5_000_000):
    """:func:`parse_xml` for bytes already read (``where`` names them in errors)."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data)
    except DefusedXmlException as exc:
        raise ValueError(f"{where}: refused unsafe XML ({type(exc).__name__})") from None
    except Exception as exc:  # ParseError and malformed encodings
        raise ValueError(f"{where}: not valid XML ({exc})") from None
    count = 0
    for _ in root.iter():
        count += 1
        if count > max_elements:
            raise ValueError(f"{where}: more than {max_elements} XML elements")
    return root


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------


def check_settings(saved, current, *, where):
    """Refuse to resume when any setting in ``current`` differs from the ``saved`` one.

    Both are mappings of JSON-able values; the message names each differing
    setting with both values.
    """
    if not isinstance(saved, dict):
        raise ValueError(f"{where}: the checkpoint's settings must be a mapping, got {_show(saved)}")
    diffs = []
    for key, value in current.items():
        if key not in saved:
            diffs.append(f"{key} (not recorded in the checkpoint; this run uses {value!r})")
        elif _canon(saved[key]) != _canon(value):
            diffs.append(f"{key} (checkpoint {saved[key]!r}, this run {value!r})")
    if diffs:
        raise ValueError(f"{where}: cannot resume: the checkpoint was made with different settings: "
                         + "; ".join(diffs))


def _canon(v):
    """A setting as JSON would store it (tuples become lists, arrays lists); NaN and the
    infinities become their JSON names so that a NaN setting equals itself."""
    text = json.dumps(v, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    return json.loads(text, parse_constant=str)
