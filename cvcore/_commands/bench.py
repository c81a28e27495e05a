"""``cvcore bench``: run the side-by-side benchmark suite."""
from __future__ import annotations

HELP = "time cvcore against OpenCV, SciPy, scikit-image and scikit-learn (single thread)"


def add_arguments(p):
    p.add_argument("--quick", action="store_true", help="small inputs and few repeats (a smoke run)")
    p.add_argument("--json", metavar="PATH", help="also write the results to a JSON file")
    p.add_argument("--only", nargs="+", metavar="KEY",
                   help="run only cases whose group or name contains one of these strings")
    p.add_argument("--list", action="store_true", help="list the cases and exit")


def run(args):
    from cvcore._benchmarks import _harness

    cases = _harness.discover(quick=args.quick, only=args.only)
    if args.list:
        for c in cases:
            print(f"{c.group:<12} {c.name}  (vs {c.peer_name})")
        return 0
    if not cases:
        print("no benchmark case matched")
        return 1
    print(_harness.HEADER)
    results = _harness.run(cases, quick=args.quick)
    if args.json:
        _harness.to_json(results, args.json)
        print(f"wrote {args.json}")
    failed = [r for r in results if r.get("status") in ("FAIL", "mismatch")]
    print(f"{len(results)} cases, {len(failed)} below goal or mismatched"
          + (" (quick run: ratios are indicative only)" if args.quick else ""))
    return 0
