"""Region proposals: Felzenszwalb graph segmentation and selective search.

``felzenszwalb`` implements Felzenszwalb and Huttenlocher, "Efficient
Graph-Based Image Segmentation" (IJCV 2004). ``selective_search`` implements
Uijlings, van de Sande, Gevers and Smeulders, "Selective Search for Object
Recognition" (IJCV 2013) on top of it, and ``evaluate_proposals`` scores boxes
against ground truth (recall at an IoU threshold and MABO).

Colour handling in the graph segmentation
-----------------------------------------
Section 5 of the paper segments a colour image three times (once per channel)
and intersects the three segmentations. The authors' released code instead
builds one graph whose edge weights are Euclidean distances between the
smoothed RGB vectors; so do current scikit-image (``felzenszwalb`` smooths
each channel, then uses the Euclidean distance; old releases segmented per
channel and intersected) and OpenCV's ``ximgproc`` ``GraphSegmentation``.
cvcore follows the released code: one graph over all channels with Euclidean
colour distance. ``scale`` is the paper's ``k`` on a 0..255 intensity scale,
exactly as scikit-image's ``scale`` (which divides by 255 for its 0..1 floats).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import _filtering, _validate
from .boxes import MAX_IOU_ELEMENTS, iou
from ._ext import _graph, _selective

__all__ = ["felzenszwalb", "selective_search", "evaluate_proposals", "ProposalRegions",
           "PRESETS", "COLOR_SPACES"]


def _smooth(img, sigma):
    """Per-channel Gaussian of a float32 (H, W, C) image ('reflect' border,
    truncated at 4 sigma), as scikit-image does."""
    if sigma <= 0:
        return img
    work, shape, nch = _filtering.prepare(img)
    ky, kx = _filtering.gaussian_kernels((sigma, sigma), 4.0, "sigma")
    return _filtering.sep(work, shape, nch, ky, kx, "reflect", 0.0)


def _graph_image(image):
    """The image as float32 (H, W, C) on the policy's unit scale times 255 (C is 1 or 3)."""
    img = _validate.unit_image(image, "image", peak=255.0, max_pixels=_validate.MAX_GRAPH_PIXELS)
    return img[:, :, None] if img.ndim == 2 else img


def felzenszwalb(image, scale=1.0, sigma=0.8, min_size=20):
    """Felzenszwalb-Huttenlocher graph-based segmentation.

    Pixels are the nodes of an 8-connected grid graph whose edges weigh the
    Euclidean distance between the Gaussian-smoothed colours of their ends.
    Edges are visited in increasing weight and two components ``C1, C2`` are
    joined when ``w <= min(Int(C1) + scale / |C1|, Int(C2) + scale / |C2|)``,
    where ``Int`` is the largest edge weight inside a component (the paper's
    internal difference). Components smaller than ``min_size`` are then joined
    to a neighbour along the lightest remaining edges.

    Parameters
    ----------
    image : (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array_like
        Grey, RGB or RGBA image (alpha is ignored). Colour uses one graph with
        Euclidean colour distance (see the module notes). Intensities follow
        the input policy: integers are divided by their dtype maximum (uint8
        by 255, uint16 by 65535, ...), bool is 0/1, floats are on [0, 1]
        (scikit-image's convention); the graph works on that scale times 255.
    scale : float, optional
        The paper's ``k`` on a 0..255 intensity scale (as in
        ``skimage.segmentation.felzenszwalb``); larger gives larger segments.
        Must be >= 0.
    sigma : float, optional
        Standard deviation of the Gaussian smoothing applied per channel
        before building the graph ('reflect' border, truncated at 4 sigma);
        0 disables smoothing.
    min_size : int, optional
        Minimum segment size in pixels, enforced by post-processing (every
        segment has at least ``min_size`` pixels unless the image is smaller).

    Returns
    -------
    (H, W) ndarray of int32
        Labels ``0 .. n - 1``, numbered in raster order of first appearance.

    See Also
    --------
    skimage.segmentation.felzenszwalb, cv2.ximgproc.segmentation.createGraphSegmentation

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((20, 30), np.uint8)
    >>> image[:, 15:] = 200
    >>> labels = felzenszwalb(image, scale=100, sigma=0, min_size=10)
    >>> int(labels.max()) + 1, int(labels[0, 0]), int(labels[0, -1])
    (2, 0, 1)
    """
    img = _graph_image(image)
    scale = _validate.non_negative(scale, "scale")
    sigma = _validate.non_negative(sigma, "sigma")
    min_size = _validate.min_size(min_size, "min_size")
    return _felzenszwalb(img, scale, sigma, min_size)


def _sorted_edges(img):
    """The grid graph's edges sorted by weight, threaded by rows (about 4 edges a pixel)."""
    height, width, nch = img.shape
    return _graph.sorted_edges(img, _filtering.threads_for(height, 4 * height * width * (nch + 2)))


def _segment_sorted(ids, weights, height, width, ks, min_sizes):
    """``(labels (K, H, W), counts)`` of one segmentation per k, the ks run side by side."""
    labels = np.empty((len(ks), height, width), np.int32)
    threads = _filtering.threads_for(len(ks), len(ks) * ids.shape[0])
    counts = _graph.segment_sorted(ids, weights, height, width, np.asarray(ks, np.float64),
                                   np.asarray(min_sizes, np.int64), labels, threads)
    return labels, counts


def _felzenszwalb(img, k, sigma, min_size):
    """Kernel path for a validated float32 (H, W, C) image on a 0..255 scale."""
    height, width = img.shape[:2]
    ids, weights = _sorted_edges(_smooth(img, sigma))
    return _segment_sorted(ids, weights, height, width, [k], [min_size])[0][0]


# --------------------------------------------------------------------------
# selective search
# --------------------------------------------------------------------------

#: Colour spaces selective search can diversify over (Uijlings et al., Table 1).
COLOR_SPACES = ("rgb", "hsv", "lab", "rgi", "h", "i")

#: The paper's configurations (section 5.2 and Table 4).
PRESETS = {
    "single": dict(color_spaces=("hsv",), ks=(100,), strategies=("CTSF",)),
    "fast": dict(color_spaces=("hsv", "lab"), ks=(50, 100), strategies=("CTSF", "TSF")),
    "quality": dict(color_spaces=("hsv", "lab", "rgi", "h", "i"), ks=(50, 100, 150, 300),
                    strategies=("CTSF", "TSF", "F", "S")),
}

_SIGMA = 0.8          # Gaussian smoothing before the graph segmentation (the paper's value)
_TEXTURE_SIGMA = 1.0  # Gaussian derivatives for the texture histograms
_REGION_COUNTS_BYTES = 1 << 28  # memory for the per-thread histogram counts of the region statistics


def _rgb_uint8(image):
    """Validated image as (H, W, 3) uint8 RGB by the input policy (grey replicated, alpha dropped)."""
    img = _validate.uint8_image(image, "image", max_pixels=_validate.MAX_GRAPH_PIXELS)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img)


def _convert(rgb, space):
    """(H, W, C) uint8 image in colour space ``space`` (every channel on 0..255)."""
    import cv2

    if space == "rgb":
        return rgb
    if space in ("hsv", "h"):
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)  # hue on 0..255
        return hsv if space == "hsv" else np.ascontiguousarray(hsv[:, :, :1])
    if space == "lab":
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    total = rgb.sum(axis=2, dtype=np.float32)
    if space == "i":
        return np.rint(total / 3)[:, :, None].astype(np.uint8)
    # rgI: normalised r and g (0..1 -> 0..255) and intensity
    safe = np.where(total > 0, total, 1)
    out = np.empty(rgb.shape, np.uint8)
    out[:, :, 0] = np.rint(rgb[:, :, 0] * (255 / safe))
    out[:, :, 1] = np.rint(rgb[:, :, 1] * (255 / safe))
    out[:, :, 2] = np.rint(total / 3)
    return out


def _strategy(value, name="strategies"):
    if not isinstance(value, str) or not value or set(value.upper()) - set("CTSF") \
            or len(set(value.upper())) != len(value):
        raise ValueError(f"{name} entries must be non-empty strings of distinct letters from "
                         f"'CTSF' (colour, texture, size, fill), e.g. 'CTSF' or 'TSF'; got {value!r}")
    return value.upper()


def _sequence(value, name, convert):
    if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
        value = [value]
    items = [convert(v) for v in value]
    if not items:
        raise ValueError(f"{name} must not be empty")
    return tuple(dict.fromkeys(items))  # de-duplicated, order kept


@dataclasses.dataclass
class ProposalRegions:
    """The merge hierarchies behind the boxes of :func:`selective_search`.

    Attributes
    ----------
    labels : list of (H, W) int32 ndarray
        The initial Felzenszwalb segmentations, one per (colour space, k).
    segmentations : list of (str, float)
        ``(colour space, k)`` of each entry of ``labels``.
    hierarchies : list of dict
        One per (segmentation, strategy): ``segmentation`` (index into
        ``labels``), ``strategy`` (e.g. ``"CTSF"``), ``regions`` (the number
        ``n`` of initial segments) and ``merges``, an ``(n - 1, 2)`` int32
        array: region ``n + t`` is the union of regions ``merges[t]``,
        regions ``0 .. n - 1`` being the initial segments (label values).
    source : (N, 2) int32 ndarray
        For each returned box, ``(hierarchy index, region id)``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((40, 60, 3), np.uint8)
    >>> image[10:30, 20:45] = (200, 30, 30)
    >>> boxes, regions = selective_search(image, mode="single", return_regions=True)
    >>> mask = regions.mask(0)
    >>> mask.shape, mask.dtype
    ((40, 60), dtype('bool'))
    """

    labels: list
    segmentations: list
    hierarchies: list
    source: np.ndarray

    def leaves(self, hierarchy, region):
        """Initial segment ids (of the hierarchy's segmentation) forming ``region``."""
        h = self.hierarchies[hierarchy]
        merges, n = h["merges"], h["regions"]
        stack, out = [int(region)], []
        while stack:
            r = stack.pop()
            if r < n:
                out.append(r)
            else:
                stack.extend(int(v) for v in merges[r - n])
        return np.sort(np.asarray(out, np.int32))

    def mask(self, index):
        """Boolean ``(H, W)`` mask of the region behind box ``index``."""
        index = _validate.integer(index, "index", low=-len(self.source), high=len(self.source) - 1)
        h, region = (int(v) for v in self.source[index])
        labels = self.labels[self.hierarchies[h]["segmentation"]]
        return np.isin(labels, self.leaves(h, region))


def selective_search(image, mode="fast", *, color_spaces=None, ks=None, strategies=None,
                     min_size=None, max_boxes=None, random_state=0, return_regions=False, seed=None):
    """Selective search object proposals (Uijlings et al., IJCV 2013).

    For every colour space and every ``k``, the image is over-segmented with
    :func:`felzenszwalb` (sigma 0.8); for every similarity strategy, adjacent
    regions are then merged greedily, most similar first, until one region
    remains. Every region of every hierarchy gives a box. Boxes are ranked as
    in the paper: within a hierarchy the last merged region has position 1,
    the one before position 2, and so on; each position is multiplied by a
    uniform random number (seeded) and the boxes of all hierarchies are sorted
    by that value. Duplicate boxes keep their best rank.

    Similarities (each in [0, 1], summed over the letters of a strategy):
    ``C`` colour, intersection of L1-normalised 25-bin histograms per channel;
    ``T`` texture, intersection of L1-normalised histograms (10 bins) of the
    half-wave rectified Gaussian derivatives (sigma 1) in 8 orientations per
    channel; ``S`` size, ``1 - (|a| + |b|) / |image|``; ``F`` fill,
    ``1 - (|bbox(a u b)| - |a| - |b|) / |image|``. Histograms of a merged
    region are the size-weighted averages of its parts.

    Parameters
    ----------
    image : (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array_like
        Grey, RGB or RGBA image (alpha ignored; grey is used as RGB). Any
        dtype, by the input policy: integers divided by their dtype maximum,
        bool 0/1, floats on [0, 1]; then converted to 8 bits (times 255,
        rounded, clipped), so uint8 input is used as it is.
    mode : {"fast", "single", "quality"}
        The paper's presets: ``single`` = HSV, k = 100, strategy CTSF;
        ``fast`` = HSV and Lab, k in {50, 100}, strategies CTSF and TSF;
        ``quality`` = HSV, Lab, rgI, H, I, k in {50, 100, 150, 300},
        strategies CTSF, TSF, F and S.
    color_spaces : sequence of str, optional
        Override the preset's colour spaces; from ``COLOR_SPACES``.
    ks : sequence of float, optional
        Override the preset's Felzenszwalb ``k`` values (0..255 scale, > 0).
    strategies : sequence of str, optional
        Override the preset's strategies: strings of letters from ``"CTSF"``.
    min_size : int, optional
        Minimum segment size of the initial segmentations; by default equal
        to ``k`` (as in the authors' code).
    max_boxes : int, optional
        Return at most this many boxes (the best ranked).
    random_state : int, numpy.random.Generator or None, optional
        Randomness of the ranking; the same seed gives the same boxes. Default
        0 (the same image always gives the same boxes); None draws fresh entropy.
    return_regions : bool, optional
        Also return a :class:`ProposalRegions` describing the hierarchy
        behind each box (so masks can be recovered).
    seed : int or numpy.random.Generator, optional
        Deprecated alias of ``random_state`` (DeprecationWarning).

    Returns
    -------
    boxes : (N, 4) ndarray of int32
        ``(x, y, w, h)`` rows, best ranked first, without duplicates.
    regions : ProposalRegions
        Only with ``return_regions=True``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((60, 80, 3), np.uint8)
    >>> image[10:40, 20:50] = (255, 0, 0)
    >>> boxes = selective_search(image, mode="single")
    >>> bool(((boxes == [20, 10, 30, 30]).all(axis=1)).any())
    True
    """
    if seed is not None and not (type(random_state) is int and random_state == 0):
        raise TypeError("selective_search: give random_state only (seed is its deprecated alias), not both")
    random_state = _validate.random_state_alias(None if seed is not None else random_state, seed,
                                                where="selective_search")
    rgb = _rgb_uint8(image)
    mode = _validate.choice(mode, "mode", tuple(PRESETS))
    preset = PRESETS[mode]
    spaces = _sequence(preset["color_spaces"] if color_spaces is None else color_spaces,
                       "color_spaces", lambda v: _validate.choice(v, "color_spaces", COLOR_SPACES))
    ks = _sequence(preset["ks"] if ks is None else ks, "ks",
                   lambda v: _validate.positive(v, "ks"))
    strategies = _sequence(preset["strategies"] if strategies is None else strategies,
                           "strategies", _strategy)
    if min_size is not None:
        min_size = _validate.min_size(min_size, "min_size")
    if max_boxes is not None:
        max_boxes = _validate.integer(max_boxes, "max_boxes", low=1)
    rng = _validate.random_state(random_state, "seed" if seed is not None else "random_state")
    return_regions = _validate.boolean(return_regions, "return_regions")

    height, width = rgb.shape[:2]
    im_size = float(height * width)
    all_boxes, all_scores, all_source = [], [], []
    labels_list, seg_list, hier_list = [], [], []
    need_texture = any("T" in s for s in strategies)
    need_colour = any("C" in s for s in strategies)
    for space in spaces:
        conv = _convert(rgb, space)
        ids, weights = _sorted_edges(_smooth(conv.astype(np.float32), _SIGMA))
        sizes_min = [int(round(k)) if min_size is None else min_size for k in ks]
        all_labels, counts = _segment_sorted(ids, weights, height, width, ks, sizes_min)
        segs = [(k, all_labels[j], int(counts[j])) for j, k in enumerate(ks)]
        del ids, weights
        nch = conv.shape[2]
        codes = np.zeros((height, width, 9 * nch), np.uint8)
        if need_texture or need_colour:
            gx, gy = _filtering.gaussian_gradient(*_filtering.prepare(conv.astype(np.float32)),
                                                  _TEXTURE_SIGMA)
            _selective.texture_codes(gx, gy, conv, codes,
                                     _filtering.threads_for(height, 40 * height * width * nch))
            del gx, gy
        for k, labels, n in segs:
            seg_index = len(labels_list)
            labels_list.append(labels)
            seg_list.append((space, float(k)))
            total = 2 * n - 1
            sizes = np.zeros(total, np.int64)
            bbox = np.zeros((total, 4), np.int32)
            ccount = np.zeros((n if need_colour else 0, 25 * nch), np.int32)
            tcount = np.zeros((n if need_texture else 0, 80 * nch), np.int32)
            pairs = _selective.region_stats(labels, codes, nch, sizes[:n], bbox, ccount, tcount,
                                            _region_threads(height, width, nch, n))
            merges, counts, s_bbox = _group(strategies, n, pairs, sizes, bbox, ccount, tcount, im_size)
            for strategy, merges_s, m, b in zip(strategies, merges, counts, s_bbox):
                count = n + int(m)  # regions created (n initial + m merged)
                h_index = len(hier_list)
                hier_list.append({"segmentation": seg_index, "strategy": strategy,
                                  "regions": n, "merges": merges_s[:m]})
                b = b[:count]
                all_boxes.append(np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0] + 1,
                                           b[:, 3] - b[:, 1] + 1], axis=1))
                position = np.arange(count, 0, -1, dtype=np.float64)  # last merged -> 1
                all_scores.append(position * rng.random(count))
                all_source.append(np.stack([np.full(count, h_index, np.int32),
                                            np.arange(count, dtype=np.int32)], axis=1))
        del codes
    boxes = np.concatenate(all_boxes).astype(np.int32)
    source = np.concatenate(all_source)
    order = np.argsort(np.concatenate(all_scores), kind="stable")
    boxes, source = boxes[order], source[order]
    _, first = np.unique(boxes, axis=0, return_index=True)
    keep = np.sort(first)
    if max_boxes is not None:
        keep = keep[:max_boxes]
    boxes, source = np.ascontiguousarray(boxes[keep]), np.ascontiguousarray(source[keep])
    if return_regions:
        return boxes, ProposalRegions(labels_list, seg_list, hier_list, source)
    return boxes


def _region_threads(height, width, nch, n):
    """Threads for the region statistics: each extra one holds its own histogram counts of the
    ``n`` regions, so many regions (a huge image) keep it on fewer threads."""
    threads = _filtering.threads_for(height, 12 * height * width * nch)
    return max(1, min(threads, _REGION_COUNTS_BYTES // max(1, n * 105 * nch * 4)))


def _group(strategies, n, pairs, sizes, bbox, ccount, tcount, im_size):
    """``(merges, merge counts, boxes)`` of one segmentation's grouping for each strategy.

    The strategies run side by side on cvcore's threads, each on its own copy
    of the sizes, boxes and (normalised) histograms of the ``n`` initial regions.
    """
    total, n_s = sizes.shape[0], len(strategies)
    weights = np.array([[letter in s for letter in "CTSF"] for s in strategies], np.float64)
    stacked = []
    for counts, used in ((ccount, weights[:, 0]), (tcount, weights[:, 1])):
        hist = np.zeros((n_s, total, counts.shape[1] if counts.shape[0] else 0), np.float32)
        if counts.shape[0]:
            hist[used != 0, :n] = _normalise(counts)  # strategies without the cue never read it
        stacked.append(hist)
    s_sizes = np.repeat(sizes[None], n_s, axis=0)
    s_bbox = np.repeat(bbox[None], n_s, axis=0)
    merges = np.zeros((n_s, max(n - 1, 0), 2), np.int32)
    work = n_s * n * (stacked[0].shape[2] + stacked[1].shape[2] + 16)
    counts = _selective.group_many(pairs, s_sizes, s_bbox, stacked[0], stacked[1], weights, im_size, merges,
                                   _filtering.threads_for(n_s, work))
    return merges, counts, s_bbox


def _normalise(counts):
    """Rows of histogram counts scaled to sum 1 (float32); empty rows stay 0."""
    if counts.size == 0:
        return counts.astype(np.float32)
    sums = counts.sum(axis=1, keepdims=True, dtype=np.float64)
    return (counts / np.where(sums > 0, sums, 1)).astype(np.float32)


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------

def _best_matches(gt, boxes, thr):
    """Per ground-truth box: best IoU over ``boxes`` and the index of the first
    box with IoU >= ``thr`` (int64 max if none), in blocks of proposals so the
    IoU matrix stays bounded."""
    none = np.iinfo(np.int64).max
    best = np.zeros(gt.shape[0])
    first = np.full(gt.shape[0], none, np.int64)
    step = max(1, MAX_IOU_ELEMENTS // gt.shape[0])
    for start in range(0, boxes.shape[0], step):
        overlap = iou(gt, boxes[start:start + step])
        best = np.maximum(best, overlap.max(axis=1))
        hit = overlap >= thr
        first = np.minimum(first, np.where(hit.any(axis=1), hit.argmax(axis=1) + start, none))
    return best, first


def evaluate_proposals(boxes, ground_truth, iou_threshold=0.5):
    """Recall and MABO of ranked proposals against ground-truth boxes.

    Parameters
    ----------
    boxes : (N, 4) array_like or sequence of them
        Proposals ``(x, y, w, h)``, best ranked first. A sequence (one array
        per image, matching ``ground_truth``) evaluates a whole data set: the
        figures are then over all objects of all images, and ``recall_curve``
        uses the first ``n`` proposals of every image.
    ground_truth : (M, 4) array_like or sequence of them
        Object boxes ``(x, y, w, h)``.
    iou_threshold : float, optional
        An object is recalled when a proposal overlaps it with IoU >= this.

    Returns
    -------
    dict
        ``recall`` (fraction of objects recalled by all proposals), ``mabo``
        (mean over objects of the best IoU), ``best_iou`` (per object, in
        order), ``num_objects``, ``num_proposals`` (total), and
        ``recall_curve``: recall when keeping only the first ``n`` proposals
        (per image), for ``n = 1 .. max N`` (index ``n - 1``).

    Examples
    --------
    >>> result = evaluate_proposals([[0, 0, 10, 10], [50, 50, 10, 10]], [[0, 0, 10, 12]])
    >>> round(result["mabo"], 4), result["recall"], result["recall_curve"].tolist()
    (0.8333, 1.0, [1.0, 1.0])
    """
    thr = _validate.real(iou_threshold, "iou_threshold", low=0.0, high=1.0, low_inclusive=False)
    single = not isinstance(boxes, (list, tuple)) or (
        len(boxes) > 0 and np.ndim(boxes[0]) == 1)
    if single:
        boxes_list = [_validate.boxes(boxes, "boxes")]
        gt_list = [_validate.boxes(ground_truth, "ground_truth")]
    else:
        if not isinstance(ground_truth, (list, tuple)) or len(ground_truth) != len(boxes):
            raise ValueError("with a sequence of per-image boxes, ground_truth must be a sequence "
                             f"of the same length ({len(boxes)})")
        boxes_list = [_validate.boxes(b, f"boxes[{i}]") for i, b in enumerate(boxes)]
        gt_list = [_validate.boxes(g, f"ground_truth[{i}]") for i, g in enumerate(ground_truth)]
    longest = max((b.shape[0] for b in boxes_list), default=0)
    best, first_hit = [], []
    for b, g in zip(boxes_list, gt_list):
        if g.shape[0] == 0:
            continue
        if b.shape[0] == 0:
            best.append(np.zeros(g.shape[0]))
            first_hit.append(np.full(g.shape[0], np.iinfo(np.int64).max))
            continue
        b_best, b_first = _best_matches(g, b, thr)
        best.append(b_best)
        first_hit.append(b_first)
    best = np.concatenate(best) if best else np.zeros(0)
    first_hit = np.concatenate(first_hit) if first_hit else np.zeros(0, np.int64)
    n_obj = best.shape[0]
    if n_obj:
        hits = np.bincount(first_hit[first_hit < longest], minlength=longest)
        curve = np.cumsum(hits)[:longest] / n_obj
    else:
        curve = np.zeros(longest)
    return {
        "recall": float(np.mean(best >= thr)) if n_obj else float("nan"),
        "mabo": float(np.mean(best)) if n_obj else float("nan"),
        "best_iou": best,
        "num_objects": int(n_obj),
        "num_proposals": int(sum(b.shape[0] for b in boxes_list)),
        "recall_curve": curve,
    }
