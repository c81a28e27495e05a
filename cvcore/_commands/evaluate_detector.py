"""``cvcore evaluate-detector``: precision-recall, average precision and speed of a cascade on annotated images."""
from __future__ import annotations

import json

from . import _common
from .detect import add_detection_arguments, load_cascade

HELP = "score a cascade on annotated images: precision-recall curve, average precision, speed"


def add_arguments(p):
    p.add_argument("--annotations", required=True, metavar="FILE",
                   help="dlib imglab .xml (training.xml style), .csv with the header image,x,y,w,h[,ignore], "
                        "or an FDDB ellipse list .txt (image names + .jpg)")
    p.add_argument("--images", required=True, metavar="DIR", help="folder holding the annotated images")
    p.add_argument("--iou", type=_common.real(0.0, 1.0, low_inclusive=False), default=0.5,
                   help="overlap a detection needs to match a box, in (0, 1] (default 0.5; AP at 0.3 is "
                        "reported too)")
    p.add_argument("--score", choices=("confidence", "neighbors"), default="confidence",
                   help="how detections are ranked (default: the cascade's confidence)")
    p.add_argument("--plot", metavar="FILE",
                   help="draw the precision-recall curve into this .png, .svg or .pdf (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print the results (and the curve) as JSON")
    add_detection_arguments(p, scale_factor=1.1, min_size=None, video=False)


def run(args):
    from cvcore.evaluation import check_plot_path, evaluate_detector, plot_precision_recall

    annotations = _common.input_file(args.annotations, "--annotations")
    images = _common.input_dir(args.images, "--images")
    if args.plot is not None:
        check_plot_path(args.plot, "--plot")
    cascade = load_cascade(args)
    options = {"scale_factor": args.scale_factor, "min_neighbors": args.min_neighbors,
               "min_size": args.min_size, "score": args.score}
    result = evaluate_detector(cascade, annotations, images, iou=args.iou, options=options,
                               progress=None if not args.json else False)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(result.summary())
    if args.plot:
        plot_precision_recall([result], args.plot, labels=[args.cascade or f"shipped {args.kind or 'haar'} face cascade"])
    return 0
