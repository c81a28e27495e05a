"""``cvcore batch``: one operation over many images on Dask, one JSON-Lines record per image."""
from __future__ import annotations

import os

from . import _common

HELP = "run detect / propose / corners / segment over many images on Dask workers (JSON-Lines results)"

_OPERATIONS = ("detect", "propose", "corners", "segment", "felzenszwalb")


def add_arguments(p):
    p.add_argument("operation", choices=_OPERATIONS,
                   help="detect: face boxes; propose: selective search boxes; corners: chessboard corners; "
                        "segment: pixel-segmenter masks (needs --model); felzenszwalb: segment counts")
    p.add_argument("inputs", nargs="+", metavar="INPUTS",
                   help="image files, quoted globs ('shots/**/*.jpg') or folders (walked recursively)")
    p.add_argument("--out", required=True, metavar="PATH.jsonl",
                   help="results table, one JSON record per image, appended as results arrive")
    p.add_argument("--workers", type=_common.integer(1, 1024), default=None, metavar="N",
                   help="worker processes of the embedded local cluster (default: the available cores)")
    p.add_argument("--scheduler", metavar="ADDR", help="run on the Dask cluster at ADDR (tcp://HOST:PORT) instead")
    p.add_argument("--model", metavar="PATH",
                   help="detect: cascade (cvcore JSON or OpenCV XML, default: the shipped face cascade); "
                        "segment: a saved PixelSegmenter")
    p.add_argument("--masks", metavar="DIR", help="segment: folder for the label masks (default: <out>_masks)")
    p.add_argument("--pattern", type=_common.pair_of_ints, default=(9, 6), metavar="COLSxROWS",
                   help="corners: inner corners of the chessboard (default 9x6)")
    p.add_argument("--top", type=_common.integer(1), default=200, metavar="K",
                   help="propose: keep the K best ranked boxes (default 200)")
    p.add_argument("--threads", type=_common.integer(1, 1024), default=1, metavar="T",
                   help="cvcore kernel threads per task (default 1: one image per core, no oversubscription)")
    p.add_argument("--max-pixels", type=_common.integer(1), default=None, metavar="PX",
                   help="refuse larger images with an error record (default 67108864 = 64 Mpx)")
    p.add_argument("--start-timeout", type=_common.real(0, low_inclusive=False),
                   default=120.0, metavar="S",
                   help="seconds the cluster has to start the operation on a worker (default 120)")
    p.add_argument("--restart", action="store_true",
                   help="start --out afresh (default: resume, processing only images without a record)")


def _operation(args):
    from cvcore import batch

    if args.operation == "detect":
        model = None if args.model is None else _common.input_file(args.model, "--model")
        return batch.Detect(model)
    if args.operation == "segment":
        if args.model is None:
            raise _common.CLIError("segment needs --model (a saved PixelSegmenter)")
        masks = args.masks or os.path.splitext(args.out)[0] + "_masks"
        return batch.Segment(_common.input_file(args.model, "--model"), _common.output_dir(masks, "--masks"))
    if args.model is not None:
        raise _common.CLIError(f"--model is for detect and segment, not {args.operation}")
    if args.operation == "propose":
        return batch.Propose(args.top)
    if args.operation == "corners":
        return batch.Corners(args.pattern)
    return batch.FelzenszwalbCount()


def run(args):
    import importlib.util

    from cvcore import batch

    if importlib.util.find_spec("distributed") is None:
        raise _common.CLIError('needs Dask: pip install "cvcore[dask]"')
    if args.scheduler is not None and args.workers is not None:
        raise _common.CLIError("give --workers (a local cluster) or --scheduler, not both")
    op = _operation(args)
    kwargs = {} if args.max_pixels is None else {"max_pixels": args.max_pixels}
    try:
        summary = batch.map_images(op, args.inputs, out=args.out, scheduler=args.scheduler,
                                   n_workers=args.workers, resume=not args.restart, threads=args.threads,
                                   start_timeout=args.start_timeout, **kwargs)
    except batch.ClusterError as exc:  # the cluster, not the input: still one line, status 2
        raise _common.CLIError(str(exc)) from None
    print(f"{summary['done']} done, {summary['failed']} failed, {summary['skipped']} skipped (already in "
          f"{args.out}) of {summary['total']}; {summary['seconds']:.1f} s, {summary['images_per_second']:.2f} "
          "images/s")
    return 1 if summary["failed"] else 0
