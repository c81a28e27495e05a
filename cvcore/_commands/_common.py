"""What the subcommands share: argument types and the checks of input and output paths.

Argument types raise ``argparse.ArgumentTypeError`` so a bad value is reported
by argparse as one line naming the option. Path checks run before any work
(a long run must not fail on its last line because ``--out`` is a folder) and
defer to the library's own checks (:mod:`cvcore.io`, the model-file layer).
"""
from __future__ import annotations

import argparse
import math
import os
import re


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


# --------------------------------------------------------------------------
# argument types
# --------------------------------------------------------------------------


def integer(low=None, high=None, what="an integer"):
    """An argparse type: an int within ``[low, high]``."""
    def parse(text):
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            bounds = (f" in {low}..{high}" if low is not None and high is not None else
                      f" >= {low}" if low is not None else f" <= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be {what}{bounds}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def real(low=None, high=None, *, low_inclusive=True, high_inclusive=True):
    """An argparse type: a finite float within the bounds."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value)
        if ok and low is not None:
            ok = value >= low if low_inclusive else value > low
        if ok and high is not None:
            ok = value <= high if high_inclusive else value < high
        if not ok:
            parts = []
            if low is not None:
                parts.append(f"{'>=' if low_inclusive else '>'} {low:g}")
            if high is not None:
                parts.append(f"{'<=' if high_inclusive else '<'} {high:g}")
            bounds = " " + " and ".join(parts) if parts else ""
            raise argparse.ArgumentTypeError(f"must be a finite number{bounds}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def pair_of_ints(text):
    """``COLSxROWS`` (also ``9,6`` or ``9*6``) as a pair of ints; the library checks the ranges."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX*,]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"must look like 9x6 (inner corners per row x per column: a board of 10x7 squares has 9x6), got {text!r}")
    return int(m.group(1)), int(m.group(2))


# --------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------


def input_file(path, opt):
    """An existing, readable regular file (``is a directory`` / ``not found`` otherwise)."""
    from cvcore._validate import modelfile

    return modelfile.readable_file(path, opt)


def input_dir(path, opt):
    """An existing folder."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{opt}: folder not found: {path}")
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{opt}: {path} is a file; give a folder")
    return path


def output_dir(path, opt):
    """A folder that exists, or can be created, and is writable."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"{opt}: {path} is a file; give a folder")
    probe = os.path.abspath(path)
    while not os.path.exists(probe):  # the nearest existing ancestor must be a writable folder
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise NotADirectoryError(f"{opt}: cannot create {path}: {probe} is a file")
    if not os.access(probe, os.W_OK):
        raise PermissionError(f"{opt}: cannot write in {probe} (permission denied)")
    return path


#: kind of output file -> accepted extensions (None: any the writer accepts)
_MODEL_SUFFIXES = {"json": (".json",), "yaml": (".yml", ".yaml"), "npz": (".npz",), "cascade": (".json", ".xml")}
#: formats that change pixel values (label maps must be written losslessly)
_LOSSY = (".jpg", ".jpeg", ".jpe", ".jfif")


def output_file(path, opt, kind):
    """Check, before any work, that ``path`` can be written as ``kind``.

    ``kind`` is ``"image"``, ``"labels"`` (a lossless image), ``"video"``, or
    a model/JSON kind from ``_MODEL_SUFFIXES``. Returns the path, or None for
    None.
    """
    if path is None:
        return None
    from cvcore import io
    from cvcore._validate import modelfile

    if kind == "image":
        return io.check_image_path(path, opt)
    if kind == "labels":
        path = io.check_image_path(path, opt)
        if os.path.splitext(path)[1].lower() in _LOSSY:
            raise ValueError(f"{opt}: JPEG is lossy and would change the class values; write a .png label map")
        return path
    if kind == "video":
        return io.check_video_path(path, opt)
    return modelfile.writable_file(path, opt, suffixes=_MODEL_SUFFIXES[kind])


def check_no_overwrite(inputs, outputs):
    """Refuse an output naming an input or another output; both are lists of ``(option, path)``."""
    seen = {os.path.realpath(path): name for name, path in inputs if path is not None}
    for name, path in outputs:
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise CLIError(f"{name} would overwrite {seen[key]} ({path}); choose another file name")
        seen[key] = name
