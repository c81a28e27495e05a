"""The ``cvcore`` command line.

Each subcommand lives in ``cvcore/_commands/<name>.py`` and defines ``HELP``
(one line), ``add_arguments(parser)`` and ``run(args) -> int``. This module
only parses arguments, dispatches, and turns expected errors into a one-line
message and exit status 2 (no traceback).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ._version import __version__

#: subcommand name -> module in cvcore._commands
COMMANDS = {
    "calibrate": "calibrate",
    "detect": "detect",
    "demo": "demo",
    "train-cascade": "train_cascade",
    "propose": "propose",
    "segment": "segment",
    "bench": "bench",
}


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


def _load(module_name):
    try:
        return importlib.import_module(f"cvcore._commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"cvcore._commands.{module_name}":
            return None
        raise


def build_parser():
    parser = argparse.ArgumentParser(
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


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except (CLIError, ValueError, TypeError, FileNotFoundError, PermissionError) as exc:
        print(f"cvcore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cvcore {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
