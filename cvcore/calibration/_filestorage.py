"""OpenCV ``FileStorage`` files (YAML and XML) as flat dictionaries of nodes.

A private module made for the calibration file formats. It writes the YAML
dialect that ``cv2.FileStorage`` reads and reads the subset of both dialects
that OpenCV's calibration tools write: top-level scalars, ``opencv-matrix``
nodes and sequences of scalars. Anything else at the top level (nested
mappings) is kept as :data:`NESTED` and never interpreted.

Reading is defensive: the text's size is capped by the caller, YAML tags
other than ``!!opencv-matrix``, anchors and aliases are refused, duplicate
keys are refused, and a matrix's data is only converted when the caller asks
for it, after its declared size has been checked against a cap (a file that
declares a billion elements is refused before anything is allocated).
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

#: Marker for a nested mapping (OpenCV "map" node) that the reader skips.
NESTED = object()

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z")
_INTEGER = re.compile(r"[-+]?\d+\Z")
_SPECIAL = {".nan": math.nan, ".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf}
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_DT = re.compile(r"(\d?)([ucwsifdh])\Z")


class Matrix:
    """An ``opencv-matrix`` node whose data stays text until :meth:`array` is called."""

    def __init__(self, rows, cols, dt, data, where):
        self.where = where
        for label, v in (("rows", rows), ("cols", cols)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{where}: {label} must be a non-negative integer, got {v!r}")
        m = _DT.match(dt) if isinstance(dt, str) else None
        if m is None:
            raise ValueError(f"{where}: unsupported element type dt={dt!r}")
        self.channels = int(m.group(1) or 1)
        if not 1 <= self.channels <= 4:
            raise ValueError(f"{where}: unsupported channel count in dt={dt!r}")
        self.shape = (rows, cols) if self.channels == 1 else (rows, cols, self.channels)
        self.size = rows * cols * self.channels
        self.data = data

    def array(self, max_size):
        """The float64 array (NaN and infinity included; callers refuse them)."""
        if self.size > max_size:
            raise ValueError(f"{self.where}: declares {self.size} elements, more than the limit of {max_size}")
        if self.data is None:
            raise ValueError(f"{self.where}: has no data")
        if len(self.data) > 64 * self.size + 64:
            raise ValueError(f"{self.where}: data is longer than {self.size} numbers")
        tokens = self.data.replace(",", " ").split()
        if len(tokens) != self.size:
            raise ValueError(f"{self.where}: holds {len(tokens)} numbers, not rows x cols = {self.size}")
        out = np.empty(self.size)
        for i, t in enumerate(tokens):
            v = number(t)
            if v is None:
                raise ValueError(f"{self.where}: {t[:40]!r} is not a number")
            out[i] = v
        return out.reshape(self.shape)


def number(token):
    """int or float of a FileStorage number token (``.nan``, ``.inf`` accepted), else None."""
    low = token.lower()
    if low in _SPECIAL:
        return _SPECIAL[low]
    if _INTEGER.match(token):
        return int(token)
    if _NUMBER.match(token):
        return float(token)
    return None


def _scalar(text, where):
    """A YAML scalar: a quoted string, a number, or a plain string."""
    text = text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            raise ValueError(f"{where}: malformed quoted string {text[:40]!r}") from None
        if not isinstance(value, str):
            raise ValueError(f"{where}: malformed quoted string {text[:40]!r}")
        return value
    if text[:1] in ("&", "*", "!", "'", "|", ">", "{", "[", "@", "`"):
        raise ValueError(f"{where}: unsupported YAML construct {text[:40]!r}")
    v = number(text)
    return text if v is None else v


def _put(nodes, key, value, where):
    if not _KEY.match(key):
        raise ValueError(f"{where}: invalid key {key[:40]!r}")
    if key in nodes:
        raise ValueError(f"{where}: key {key!r} appears twice")
    nodes[key] = value


def parse_yaml(text, where):
    """Top-level nodes of OpenCV FileStorage YAML ``text`` (see the module docstring)."""
    lines = text.split("\n")
    if not lines[0].startswith("%YAML"):
        raise ValueError(f"{where}: not an OpenCV YAML file (no %YAML header)")
    nodes = {}
    i, n = 1, len(lines)
    while i < n:
        line = lines[i].rstrip("\r")
        i += 1
        stripped = line.strip()
        if not stripped or stripped in ("---", "...") or stripped.startswith("#"):
            continue
        at = f"{where}: line {i}"
        if line[0] in " \t":
            raise ValueError(f"{at}: unexpected indentation")
        key, sep, rest = line.partition(":")
        if not sep:
            raise ValueError(f"{at}: expected 'key: value'")
        key, rest = key.strip(), rest.strip()
        if rest.startswith("!!opencv-matrix") and rest.strip() == "!!opencv-matrix":
            body, data = {}, None
            while i < n and lines[i][:1] in (" ", "\t"):
                sub = lines[i].strip()
                i += 1
                if sub.startswith("data:"):
                    parts = [sub[5:]]
                    while "]" not in parts[-1] and i < n and lines[i][:1] in (" ", "\t"):
                        parts.append(lines[i])
                        i += 1
                    joined = " ".join(parts).strip()
                    if not (joined.startswith("[") and joined.endswith("]")):
                        raise ValueError(f"{at}: matrix {key!r} data must be a [ ... ] list")
                    data = joined[1:-1]
                else:
                    k, s2, v = sub.partition(":")
                    if not s2 or k.strip() not in ("rows", "cols", "dt"):
                        raise ValueError(f"{at}: unexpected entry {sub[:40]!r} in matrix {key!r}")
                    body[k.strip()] = _scalar(v, at)
            if set(body) != {"rows", "cols", "dt"}:
                raise ValueError(f"{at}: matrix {key!r} needs rows, cols and dt")
            _put(nodes, key, Matrix(body["rows"], body["cols"], body["dt"], data, f"{where}: {key}"), at)
        elif rest.startswith("!"):
            raise ValueError(f"{at}: unsupported YAML tag {rest[:40]!r}")
        elif rest == "":
            items, nested = [], False
            while i < n and (lines[i][:1] in (" ", "\t") or lines[i].startswith("-")):
                sub = lines[i].strip()
                i += 1
                if sub == "-" or sub.startswith("- "):
                    items.append(_scalar(sub[1:], f"{where}: line {i}"))
                elif sub:
                    nested = True
            _put(nodes, key, NESTED if nested else items, at)
        else:
            _put(nodes, key, _scalar(rest, at), at)
    return nodes


def _xml_text(elem):
    return elem.text or ""


def parse_xml(root, where):
    """Top-level nodes of a parsed OpenCV FileStorage XML document (``root`` from ``modelfile.parse_xml``)."""
    if root.tag != "opencv_storage":
        raise ValueError(f"{where}: not an OpenCV FileStorage XML file (root is <{root.tag[:40]}>)")
    nodes = {}
    for child in root:
        key = str(child.tag)
        at = f"{where}: <{key[:40]}>"
        if child.get("type_id") == "opencv-matrix":
            parts = {p.tag: p for p in child}
            if set(parts) - {"rows", "cols", "dt", "data"} or len(parts) != len(list(child)):
                raise ValueError(f"{at}: unexpected content in a matrix")
            try:
                rows = number(_xml_text(parts["rows"]).strip())
                cols = number(_xml_text(parts["cols"]).strip())
                dt = _xml_text(parts["dt"]).strip().strip('"')
            except KeyError as exc:
                raise ValueError(f"{at}: matrix needs {exc}") from None
            data = _xml_text(parts["data"]) if "data" in parts else None
            _put(nodes, key, Matrix(rows, cols, dt, data, f"{where}: {key}"), at)
        elif len(child):
            _put(nodes, key, NESTED, at)
        else:
            items = []
            for quoted, bare in _TOKEN.findall(_xml_text(child)):
                if bare:
                    v = number(bare)
                    items.append(bare if v is None else v)
                else:
                    items.append(quoted.replace('\\"', '"').replace("\\\\", "\\"))
            _put(nodes, key, items[0] if len(items) == 1 else items, at)
    return nodes


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def yaml_float(v):
    """Shortest text that reads back as exactly ``v`` (OpenCV's spelling of non-finite values)."""
    v = float(v)
    if math.isnan(v):
        return ".nan"
    if math.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    return repr(v)


def _yaml_string(s):
    return json.dumps(str(s), ensure_ascii=False)


def format_yaml(entries):
    """OpenCV FileStorage YAML text of ``entries``: (key, value) pairs, in order.

    Values: bool (written 0/1), int, float, str, a 2-D float array (an
    ``!!opencv-matrix`` of doubles) or a list of str.
    """
    lines = ["%YAML:1.0", "---"]
    for key, value in entries:
        if isinstance(value, (bool, np.bool_)):
            lines.append(f"{key}: {int(value)}")
        elif isinstance(value, (int, np.integer)):
            lines.append(f"{key}: {int(value)}")
        elif isinstance(value, (float, np.floating)):
            lines.append(f"{key}: {yaml_float(value)}")
        elif isinstance(value, str):
            lines.append(f"{key}: {_yaml_string(value)}")
        elif isinstance(value, np.ndarray):
            rows, cols = value.shape
            lines += [f"{key}: !!opencv-matrix", f"   rows: {rows}", f"   cols: {cols}", "   dt: d"]
            vals = [yaml_float(v) for v in value.ravel()]
            chunks = [", ".join(vals[i:i + 3]) for i in range(0, len(vals), 3)] or [""]
            lines.append("   data: [ " + ",\n       ".join(chunks) + " ]")
        else:
            lines.append(f"{key}:")
            lines += [f"   - {_yaml_string(v)}" for v in value]
    return "\n".join(lines) + "\n"
