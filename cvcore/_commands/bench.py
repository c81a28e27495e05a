"""``cvcore bench``: run the side-by-side benchmark suite."""
from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys

from . import _common

HELP = "time cvcore against OpenCV, SciPy, scikit-image and scikit-learn (1 thread and default threads)"


def add_arguments(p):
    p.add_argument("--quick", action="store_true", help="small inputs and few repeats (a smoke run)")
    p.add_argument("--json", metavar="PATH.json", help="also write the results to a JSON file")
    p.add_argument("--only", nargs="+", metavar="KEY",
                   help="run only cases whose group or name contains one of these strings")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads of the multi-threaded rows, for cvcore and the peers alike "
                        "(default: each library's default; -1: all cores; 1: single-thread rows only)")


def _benchmarks_package():
    """``cvcore._benchmarks``: ``benchmarks/`` beside this cvcore (a source checkout), else the installed one.

    A development build in place has no ``cvcore._benchmarks`` package (setup.py maps
    ``benchmarks/`` to it only when installing), so load that folder under the same name;
    it comes first so that a checkout never runs another install's suite (an editable
    install of a different tree maps ``cvcore._benchmarks`` to that tree's folder).
    """
    folder = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
    init = folder / "__init__.py"
    if not (folder / "_harness.py").is_file() or not init.is_file():
        try:
            return importlib.import_module("cvcore._benchmarks")
        except ModuleNotFoundError as exc:
            if exc.name != "cvcore._benchmarks":
                raise
        raise FileNotFoundError("the benchmark suite is not installed and no benchmarks/ folder was found")
    spec = importlib.util.spec_from_file_location("cvcore._benchmarks", init,
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["cvcore._benchmarks"] = module
    spec.loader.exec_module(module)
    return module


def run(args):
    _common.output_file(args.json, "--json", "json")
    threads = args.threads
    if threads is not None:
        from .. import _threads

        try:
            threads = _threads._check(threads, "--threads")
        except ValueError as exc:
            raise _common.CLIError(str(exc)) from None
    try:
        _benchmarks_package()
        from cvcore._benchmarks import _harness

        cases = _harness.discover(quick=args.quick, only=args.only)
    except ModuleNotFoundError as exc:  # the peers are an optional extra
        raise _common.CLIError(f"the benchmarks need {exc.name}, which is not installed: "
                               "pip install 'cvcore[bench]'") from None
    if not cases and args.only:
        groups = sorted({c.group for c in _harness.discover(quick=args.quick)})
        raise _common.CLIError(f"no benchmark case matches --only {' '.join(args.only)}; groups are "
                               f"{', '.join(groups)} (or any part of a case name, see --list)")
    if not cases:
        raise _common.CLIError("no benchmark cases found")
    if args.list:
        for c in cases:
            print(f"{c.group:<12} {c.name}  (vs {c.peer_name})")
        return 0
    print(_harness.HEADER)
    results = _harness.run(cases, quick=args.quick, threads=threads)
    if args.json:
        _harness.to_json(results, args.json)
        print(f"wrote {args.json}")
    failed = [r for r in results if r.get("status") in ("FAIL", "mismatch")]
    print(f"{len(results)} rows, {len(failed)} below goal or mismatched"
          + (" (quick run: ratios are indicative only)" if args.quick else ""))
    return 0
