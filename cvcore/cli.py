"""The ``cvcore`` command line.

Each subcommand lives in ``cvcore/_commands/<name>.py`` and defines ``HELP``
(one line), ``add_arguments(parser)`` and ``run(args) -> int``; what they
share (argument types, path checks) is in ``cvcore/_commands/_common.py``.
This module parses arguments, dispatches, and reports every expected failure
as ONE line on stderr with exit status 2: argparse errors (no usage block),
``ValueError``/``TypeError`` from the library, ``OSError`` (missing files,
folders, permissions), ``cv2.error`` and ``MemoryError``. OpenCV's and
FFmpeg's own log lines are silenced. Ctrl-C ends with one line and status 130.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import warnings

from ._commands._common import CLIError
from ._version import __version__

__all__ = ["main", "build_parser", "CLIError"]

#: subcommand name -> module in cvcore._commands
COMMANDS = {
    "calibrate": "calibrate",
    "calibrate-stereo": "calibrate_stereo",
    "undistort": "undistort",
    "detect": "detect",
    "demo": "demo",
    "train-cascade": "train_cascade",
    "evaluate-detector": "evaluate_detector",
    "propose": "propose",
    "segment": "segment",
    "bench": "bench",
    "batch": "batch",
}

#: OpenCV's logger off, FFmpeg quiet (AV_LOG_QUIET); read by OpenCV when it first logs / opens FFmpeg,
#: so they are set before the commands import cv2. A user's own settings win (for debugging).
_QUIET_OPENCV = {"OPENCV_LOG_LEVEL": "OFF", "OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_VIDEOIO_DEBUG": "0"}


def _one_line(text):
    return " ".join(str(text).split())


class _UsageError(Exception):
    """A bad command line; :func:`main` prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block): ``cvcore detect: error: ... (see --help)``."""

    def error(self, message):
        message = re.sub(r"^argument (\S+): must ", r"\1 must ", _one_line(message))  # "--top must be ..."
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def _quiet_opencv():
    for key, value in _QUIET_OPENCV.items():
        os.environ.setdefault(key, value)
    cv2 = sys.modules.get("cv2")  # already imported (main called in-process): set its logger directly
    if cv2 is not None and os.environ["OPENCV_LOG_LEVEL"] == "OFF":
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _load(module_name):
    try:
        return importlib.import_module(f"cvcore._commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"cvcore._commands.{module_name}":
            return None
        raise


def build_parser():
    """The ``cvcore`` argument parser with every subcommand."""
    parser = _Parser(
        prog="cvcore",
        description="Classical computer vision with compiled kernels: camera calibration, "
        "Viola-Jones face detection, selective search, pixel segmentation, benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"cvcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = _load(module_name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _describe(exc):
    """One line for an expected failure."""
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and isinstance(exc, cv2.error):
        # "OpenCV(5.1.0) file.cpp:12: error: (-2:Unspecified error) what in function 'f'" -> "OpenCV: what"
        m = re.search(r"error: \([^)]*\)\s*(.*?)(?:\s+in function '[^']*')?\s*$", str(exc), re.S)
        return "OpenCV: " + _one_line(m.group(1) if m else exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for this input" + (f" ({_one_line(exc)})" if str(exc) else "")
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"  # "[Errno 2] No such file..." without the errno
    return _one_line(exc) or type(exc).__name__


def _expected(exc):
    cv2 = sys.modules.get("cv2")
    return isinstance(exc, (CLIError, ValueError, TypeError, OSError, MemoryError)) or (
        cv2 is not None and isinstance(exc, cv2.error))


def main(argv=None):
    """Run the ``cvcore`` command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    _quiet_opencv()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    prog = f"cvcore {args.command}"

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {_one_line(message)}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line_warning
            return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (head, less) went away: stop quietly, as cat does
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        except (OSError, ValueError):
            pass
        return 1
    except Exception as exc:
        if not _expected(exc):
            raise  # a bug: keep the traceback so it gets reported
        print(f"{prog}: error: {_describe(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
