# Box kernels: IoU matrix, greedy NMS (OpenCV-compatible overlap), soft-NMS and
# OpenCV-style rectangle grouping. Boxes are (x, y, w, h) rows, already
# validated (finite, w, h >= 0) and C-contiguous. No validation happens here.
from libc.math cimport exp, fabs, lrint
from libc.float cimport DBL_EPSILON
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport malloc, free, realloc


# ------------------------------------------------------------------- IoU

def iou_matrix(const double[:, ::1] a, const double[:, ::1] b, double[:, ::1] out):
    """Plain IoU (intersection / union, 0 when the union is 0)."""
    cdef Py_ssize_t i, j
    cdef double ax1, ay1, ax2, ay2, aa, bx1, by1, bx2, by2, iw, ih, inter, union
    with nogil:
        for i in range(a.shape[0]):
            ax1 = a[i, 0]
            ay1 = a[i, 1]
            ax2 = ax1 + a[i, 2]
            ay2 = ay1 + a[i, 3]
            aa = a[i, 2] * a[i, 3]
            for j in range(b.shape[0]):
                bx1 = b[j, 0]
                by1 = b[j, 1]
                bx2 = bx1 + b[j, 2]
                by2 = by1 + b[j, 3]
                iw = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
                ih = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
                if iw <= 0 or ih <= 0:
                    out[i, j] = 0.0
                    continue
                inter = iw * ih
                union = aa + b[j, 2] * b[j, 3] - inter
                out[i, j] = inter / union if union > 0 else 0.0


# ------------------------------------------------ OpenCV-compatible overlap

cdef inline double _cv_side(double pa, double la, double pb, double lb) noexcept nogil:
    """Length of the overlap of [pa, pa+la) and [pb, pb+lb) computed exactly as
    OpenCV's Rect_ intersection does (<= 0 means empty)."""
    cdef double pmin, lmin, pmax, lmax, d
    if pa < pb:
        pmin = pa; lmin = la; pmax = pb; lmax = lb
    else:
        pmin = pb; lmin = lb; pmax = pa; lmax = la
    if pmin < 0 and pmin + lmin < pmax:
        return 0.0
    d = lmin - (pmax - pmin)
    return d if d < lmax else lmax


cdef inline float _cv_overlap(const double[:, ::1] boxes, const double[::1] areas,
                              Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    """``1 - (float)jaccardDistance`` as in cv::dnn::NMSBoxes (Rect2d)."""
    cdef double s = areas[i] + areas[j]
    cdef double iw, ih, inter
    if s <= DBL_EPSILON:
        return 1.0
    if areas[i] == 0 and (boxes[i, 2] <= 0 or boxes[i, 3] <= 0):
        return 0.0
    if areas[j] == 0 and (boxes[j, 2] <= 0 or boxes[j, 3] <= 0):
        return 0.0
    iw = _cv_side(boxes[i, 0], boxes[i, 2], boxes[j, 0], boxes[j, 2])
    if iw <= 0:
        return 0.0
    ih = _cv_side(boxes[i, 1], boxes[i, 3], boxes[j, 1], boxes[j, 3])
    if ih <= 0:
        return 0.0
    inter = iw * ih
    return 1.0 - <float>(1.0 - inter / (s - inter))


cdef inline float _cv_overlap_s(double ax, double ay, double aw, double ah, double aa,
                                double bx, double by, double bw, double bh, double ba) noexcept nogil:
    """Scalar form of :func:`_cv_overlap`."""
    cdef double s = aa + ba
    cdef double iw, ih, inter
    if s <= DBL_EPSILON:
        return 1.0
    if aw <= 0 or ah <= 0 or bw <= 0 or bh <= 0:
        return 0.0
    iw = _cv_side(ax, aw, bx, bw)
    if iw <= 0:
        return 0.0
    ih = _cv_side(ay, ah, by, bh)
    if ih <= 0:
        return 0.0
    inter = iw * ih
    return 1.0 - <float>(1.0 - inter / (s - inter))


cdef inline double _margin(double p, double l) noexcept nogil:
    """A slack far above rounding error (relative 1e-9) for the cheap prefilter."""
    return (fabs(p) + l) * 1e-9 + 1e-300


cdef inline bint _suppresses(const double* k, double ax, double ay, double aw, double ah, double aa,
                             double ax2m, double ay2m, float threshold) noexcept nogil:
    """Whether kept box ``k`` (x, y, w, h, area, x2+margin, y2+margin) suppresses box ``a``.

    The prefilter only skips pairs separated by more than the margins, for
    which OpenCV's intersection is certainly empty (overlap 0 <= threshold);
    pairs whose areas sum to <= DBL_EPSILON are handled by the caller.
    """
    if k[0] > ax2m or ax > k[5] or k[1] > ay2m or ay > k[6]:
        return False
    return _cv_overlap_s(ax, ay, aw, ah, aa, k[0], k[1], k[2], k[3], k[4]) > threshold


DEF MAX_CELLS = 16


def nms_sorted(const double[:, ::1] boxes, const double[::1] areas, const Py_ssize_t[::1] order,
               const int64_t[::1] classes, bint use_classes, float threshold,
               Py_ssize_t limit, const Py_ssize_t[:, ::1] cells, Py_ssize_t gx, Py_ssize_t gy,
               Py_ssize_t[::1] kept):
    """Greedy NMS over candidates ``order`` (already in descending score order).

    ``cells[i] = (cx0, cx1, cy0, cy1)`` is the inclusive range of grid cells
    (``gx`` x ``gy`` grid) that box ``i`` touches, computed conservatively by
    the caller: two boxes whose OpenCV intersection is non-empty always share
    a cell. Only such pairs can suppress each other, except pairs whose areas
    sum to <= DBL_EPSILON (overlap 1 by OpenCV's rule), handled by a separate
    list. Kept boxes touching more than MAX_CELLS cells are checked against
    every candidate. The result is identical to comparing every candidate with
    every kept box. With ``use_classes`` only boxes of the same class suppress
    each other. Writes kept indices to ``kept``; returns how many, or -1 when
    memory ran out.
    """
    cdef Py_ssize_t n = order.shape[0], nk = 0, t, k, i, j, cx, cy, node, ncell
    cdef Py_ssize_t nnodes = 0, cap = 0, nbig = 0, ntiny = 0
    cdef bint keep, big, ok = True
    cdef double ax, ay, aw, ah, aa, ax2m, ay2m
    cdef int64_t ac = 0
    cdef Py_ssize_t* head = <Py_ssize_t*>malloc(max(gx * gy, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* nbox = NULL
    cdef Py_ssize_t* nnext = NULL
    cdef Py_ssize_t* tmp
    cdef Py_ssize_t* bigs = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* tinys = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    # kept boxes, compact, in kept order
    cdef double* kb = <double*>malloc(max(n, 1) * 8 * sizeof(double))
    cdef int64_t* kc = <int64_t*>malloc(max(n, 1) * sizeof(int64_t))
    if head == NULL or bigs == NULL or tinys == NULL or kb == NULL or kc == NULL:
        free(head); free(bigs); free(tinys); free(kb); free(kc)
        return -1
    with nogil:
        for k in range(gx * gy):
            head[k] = -1
        for t in range(n):
            if nk >= limit:
                break
            i = order[t]
            ax = boxes[i, 0]; ay = boxes[i, 1]; aw = boxes[i, 2]; ah = boxes[i, 3]; aa = areas[i]
            ax2m = ax + aw + _margin(ax, aw)
            ay2m = ay + ah + _margin(ay, ah)
            if use_classes:
                ac = classes[i]
            keep = True
            # pairs whose areas sum to <= DBL_EPSILON overlap fully (OpenCV's rule)
            if aa <= DBL_EPSILON and not (threshold >= 1.0):
                for k in range(ntiny):
                    j = tinys[k]
                    if use_classes and kc[j] != ac:
                        continue
                    if aa + kb[8 * j + 4] <= DBL_EPSILON:
                        keep = False
                        break
            ncell = (cells[i, 1] - cells[i, 0] + 1) * (cells[i, 3] - cells[i, 2] + 1)
            big = ncell > MAX_CELLS
            if keep and aw > 0 and ah > 0:
                if big:  # compare with every kept box
                    for k in range(nk):
                        if use_classes and kc[k] != ac:
                            continue
                        if _suppresses(kb + 8 * k, ax, ay, aw, ah, aa, ax2m, ay2m, threshold):
                            keep = False
                            break
                else:
                    for k in range(nbig):
                        j = bigs[k]
                        if use_classes and kc[j] != ac:
                            continue
                        if _suppresses(kb + 8 * j, ax, ay, aw, ah, aa, ax2m, ay2m, threshold):
                            keep = False
                            break
                    cy = cells[i, 2]
                    while keep and cy <= cells[i, 3]:
                        cx = cells[i, 0]
                        while keep and cx <= cells[i, 1]:
                            node = head[cy * gx + cx]
                            while node >= 0:
                                j = nbox[node]
                                node = nnext[node]
                                if use_classes and kc[j] != ac:
                                    continue
                                if _suppresses(kb + 8 * j, ax, ay, aw, ah, aa, ax2m, ay2m, threshold):
                                    keep = False
                                    break
                            cx += 1
                        cy += 1
            if not keep:
                continue
            kb[8 * nk] = ax; kb[8 * nk + 1] = ay; kb[8 * nk + 2] = aw; kb[8 * nk + 3] = ah
            kb[8 * nk + 4] = aa; kb[8 * nk + 5] = ax2m; kb[8 * nk + 6] = ay2m; kb[8 * nk + 7] = 0
            kc[nk] = ac
            kept[nk] = i
            if aa <= DBL_EPSILON:
                tinys[ntiny] = nk
                ntiny += 1
            if aw > 0 and ah > 0:  # empty boxes never intersect anything
                if big:
                    bigs[nbig] = nk
                    nbig += 1
                else:
                    if nnodes + ncell > cap:
                        cap = 2 * cap + ncell + 64
                        tmp = <Py_ssize_t*>realloc(nbox, cap * sizeof(Py_ssize_t))
                        if tmp == NULL:
                            ok = False
                            break
                        nbox = tmp
                        tmp = <Py_ssize_t*>realloc(nnext, cap * sizeof(Py_ssize_t))
                        if tmp == NULL:
                            ok = False
                            break
                        nnext = tmp
                    for cy in range(cells[i, 2], cells[i, 3] + 1):
                        for cx in range(cells[i, 0], cells[i, 1] + 1):
                            nbox[nnodes] = nk
                            nnext[nnodes] = head[cy * gx + cx]
                            head[cy * gx + cx] = nnodes
                            nnodes += 1
            nk += 1
    free(head); free(bigs); free(tinys); free(kb); free(kc); free(nbox); free(nnext)
    return nk if ok else -1


# --------------------------------------------------------------- soft-NMS

def soft_nms_reference(const double[:, ::1] boxes, const double[::1] areas, double[::1] scores,
                       int linear, double sigma, float threshold, double score_threshold,
                       Py_ssize_t limit, Py_ssize_t[::1] kept, double[::1] kept_scores):
    """Soft-NMS (Bodla et al. 2017) by exhaustive scans, O(N K); the test
    reference for :func:`soft_nms`. ``scores`` is modified in place."""
    cdef Py_ssize_t n = scores.shape[0], nk = 0, m, t, i, best, nrem
    cdef double bs, ov
    cdef Py_ssize_t* rem = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    if rem == NULL:
        raise MemoryError()
    with nogil:
        nrem = 0
        for i in range(n):
            if scores[i] >= score_threshold:
                rem[nrem] = i
                nrem += 1
        while nrem > 0 and nk < limit:
            best = 0
            for t in range(1, nrem):
                i = rem[t]
                if scores[i] > scores[rem[best]] or (scores[i] == scores[rem[best]] and i < rem[best]):
                    best = t
            m = rem[best]
            bs = scores[m]
            if bs < score_threshold:
                break
            kept[nk] = m
            kept_scores[nk] = bs
            nk += 1
            nrem -= 1
            rem[best] = rem[nrem]
            t = 0
            while t < nrem:
                i = rem[t]
                ov = _cv_overlap(boxes, areas, m, i)
                if linear:
                    if ov > threshold:
                        scores[i] *= 1.0 - ov
                else:
                    scores[i] *= exp(-(ov * ov) / sigma)
                if scores[i] < score_threshold:  # can never be selected again
                    nrem -= 1
                    rem[t] = rem[nrem]
                else:
                    t += 1
    free(rem)
    return nk


# Lazy max-heap of (score, index): larger score first, then smaller index.
cdef struct _Heap:
    double* s
    Py_ssize_t* i
    Py_ssize_t n
    Py_ssize_t cap


cdef inline bint _before(double sa, Py_ssize_t ia, double sb, Py_ssize_t ib) noexcept nogil:
    return sa > sb or (sa == sb and ia < ib)


cdef bint _heap_push(_Heap* h, double s, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t k, parent
    cdef double* ns
    cdef Py_ssize_t* ni
    if h.n == h.cap:
        h.cap = 2 * h.cap + 16
        ns = <double*>realloc(h.s, h.cap * sizeof(double))
        if ns == NULL:
            return False
        h.s = ns
        ni = <Py_ssize_t*>realloc(h.i, h.cap * sizeof(Py_ssize_t))
        if ni == NULL:
            return False
        h.i = ni
    k = h.n
    h.n += 1
    while k > 0:
        parent = (k - 1) // 2
        if not _before(s, i, h.s[parent], h.i[parent]):
            break
        h.s[k] = h.s[parent]
        h.i[k] = h.i[parent]
        k = parent
    h.s[k] = s
    h.i[k] = i
    return True


cdef void _heap_pop(_Heap* h) noexcept nogil:
    cdef Py_ssize_t k = 0, child
    cdef double s
    cdef Py_ssize_t i
    h.n -= 1
    if h.n == 0:
        return
    s = h.s[h.n]
    i = h.i[h.n]
    while True:
        child = 2 * k + 1
        if child >= h.n:
            break
        if child + 1 < h.n and _before(h.s[child + 1], h.i[child + 1], h.s[child], h.i[child]):
            child += 1
        if not _before(h.s[child], h.i[child], s, i):
            break
        h.s[k] = h.s[child]
        h.i[k] = h.i[child]
        k = child
    h.s[k] = s
    h.i[k] = i


cdef inline bint _decay(const double[:, ::1] boxes, const double[::1] areas, double[::1] scores,
                        Py_ssize_t m, Py_ssize_t i, int linear, double sigma, float threshold) noexcept nogil:
    """Decay box i by the selected box m; True if its score changed."""
    cdef double ov = _cv_overlap(boxes, areas, m, i)
    cdef double before = scores[i]
    if linear:
        if ov > threshold:
            scores[i] *= 1.0 - ov
    else:
        scores[i] *= exp(-(ov * ov) / sigma)
    return scores[i] != before


cdef inline bint _rescore(const double[:, ::1] boxes, const double[::1] areas, double[::1] scores,
                          Py_ssize_t m, Py_ssize_t i, int linear, double sigma, float threshold,
                          double score_threshold, uint8_t* alive, _Heap* heap) noexcept nogil:
    """Decay box i by the selected box m; drop it below score_threshold, else
    queue its new score. False only if the heap could not grow."""
    if not _decay(boxes, areas, scores, m, i, linear, sigma, threshold):
        return True
    if scores[i] < score_threshold:
        alive[i] = 0
        return True
    return _heap_push(heap, scores[i], i)


def soft_nms(const double[:, ::1] boxes, const double[::1] areas, double[::1] scores,
             int linear, double sigma, float threshold, double score_threshold,
             Py_ssize_t limit, const Py_ssize_t[:, ::1] cells, Py_ssize_t gx, Py_ssize_t gy,
             Py_ssize_t[::1] kept, double[::1] kept_scores):
    """Soft-NMS (Bodla et al. 2017), same result as :func:`soft_nms_reference`.

    Only boxes that intersect the selected one (or, by OpenCV's rule, both
    have area <= DBL_EPSILON) can have their score changed, since a zero
    overlap leaves every decay function at exactly 1. A static grid (cells
    as in :func:`nms_sorted`) finds those boxes; a lazy max-heap with
    OpenCV's tie-break (lowest index) picks the next box. ``scores`` is
    modified in place. Returns the number kept, or -1 if memory ran out.
    """
    cdef Py_ssize_t n = scores.shape[0], nk = 0, m, t, i, k, cx, cy, node, nnodes = 0
    cdef Py_ssize_t nbig = 0, ntiny = 0, nrem = 0, ncell, stamp_id = 0
    cdef bint ok = True
    cdef _Heap heap
    cdef Py_ssize_t* head = <Py_ssize_t*>malloc(max(gx * gy, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* nbox = NULL
    cdef Py_ssize_t* nnext = NULL
    cdef Py_ssize_t* bigs = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* tinys = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* rem = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* stamp = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef uint8_t* alive = <uint8_t*>malloc(max(n, 1))
    heap.s = NULL
    heap.i = NULL
    heap.n = 0
    heap.cap = 0
    if head == NULL or bigs == NULL or tinys == NULL or rem == NULL or stamp == NULL or alive == NULL:
        ok = False
    with nogil:
        if ok:
            for k in range(gx * gy):
                head[k] = -1
            # count grid nodes first so the lists are allocated once
            for i in range(n):
                stamp[i] = -1
                alive[i] = scores[i] >= score_threshold
                if not alive[i]:
                    continue
                rem[nrem] = i
                nrem += 1
                if areas[i] <= DBL_EPSILON:
                    tinys[ntiny] = i
                    ntiny += 1
                if boxes[i, 2] <= 0 or boxes[i, 3] <= 0:
                    continue
                ncell = (cells[i, 1] - cells[i, 0] + 1) * (cells[i, 3] - cells[i, 2] + 1)
                if ncell > MAX_CELLS:
                    bigs[nbig] = i
                    nbig += 1
                else:
                    nnodes += ncell
            nbox = <Py_ssize_t*>malloc(max(nnodes, 1) * sizeof(Py_ssize_t))
            nnext = <Py_ssize_t*>malloc(max(nnodes, 1) * sizeof(Py_ssize_t))
            ok = nbox != NULL and nnext != NULL
        if ok:
            nnodes = 0
            for t in range(nrem):
                i = rem[t]
                if not _heap_push(&heap, scores[i], i):
                    ok = False
                    break
                if boxes[i, 2] <= 0 or boxes[i, 3] <= 0:
                    continue
                ncell = (cells[i, 1] - cells[i, 0] + 1) * (cells[i, 3] - cells[i, 2] + 1)
                if ncell > MAX_CELLS:
                    continue
                for cy in range(cells[i, 2], cells[i, 3] + 1):
                    for cx in range(cells[i, 0], cells[i, 1] + 1):
                        nbox[nnodes] = i
                        nnext[nnodes] = head[cy * gx + cx]
                        head[cy * gx + cx] = nnodes
                        nnodes += 1
        while ok and heap.n > 0 and nk < limit:
            m = heap.i[0]
            if not alive[m] or heap.s[0] != scores[m]:  # stale entry
                _heap_pop(&heap)
                continue
            _heap_pop(&heap)
            alive[m] = 0
            kept[nk] = m
            kept_scores[nk] = scores[m]
            nk += 1
            stamp_id += 1
            stamp[m] = stamp_id
            # every box whose score can change: intersecting boxes and tiny pairs
            ncell = (cells[m, 1] - cells[m, 0] + 1) * (cells[m, 3] - cells[m, 2] + 1)
            if ncell > MAX_CELLS or boxes[m, 2] <= 0 or boxes[m, 3] <= 0:
                if boxes[m, 2] > 0 and boxes[m, 3] > 0:
                    for t in range(nrem):  # big selected box: scan the survivors
                        i = rem[t]
                        if alive[i]:
                            stamp[i] = stamp_id
                            if not _rescore(boxes, areas, scores, m, i, linear, sigma, threshold,
                                            score_threshold, alive, &heap):
                                ok = False
            else:
                for k in range(nbig):
                    i = bigs[k]
                    if alive[i] and stamp[i] != stamp_id:
                        stamp[i] = stamp_id
                        if not _rescore(boxes, areas, scores, m, i, linear, sigma, threshold,
                                        score_threshold, alive, &heap):
                            ok = False
                for cy in range(cells[m, 2], cells[m, 3] + 1):
                    for cx in range(cells[m, 0], cells[m, 1] + 1):
                        node = head[cy * gx + cx]
                        while node >= 0:
                            i = nbox[node]
                            node = nnext[node]
                            if alive[i] and stamp[i] != stamp_id:
                                stamp[i] = stamp_id
                                if not _rescore(boxes, areas, scores, m, i, linear, sigma, threshold,
                                                score_threshold, alive, &heap):
                                    ok = False
            if areas[m] <= DBL_EPSILON:
                for k in range(ntiny):
                    i = tinys[k]
                    if alive[i] and stamp[i] != stamp_id and areas[m] + areas[i] <= DBL_EPSILON:
                        stamp[i] = stamp_id
                        if not _rescore(boxes, areas, scores, m, i, linear, sigma, threshold,
                                        score_threshold, alive, &heap):
                            ok = False
            if nk % 64 == 0:  # compact the survivor list now and then
                t = 0
                for k in range(nrem):
                    if alive[rem[k]]:
                        rem[t] = rem[k]
                        t += 1
                nrem = t
    free(head); free(nbox); free(nnext); free(bigs); free(tinys); free(rem); free(stamp); free(alive)
    free(heap.s); free(heap.i)
    return nk if ok else -1


# ------------------------------------------------- OpenCV groupRectangles

cdef inline Py_ssize_t _find(Py_ssize_t* parent, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t root = i, nxt
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


cdef inline int64_t _iabs(int64_t v) noexcept nogil:
    return -v if v < 0 else v


def similar_components(const int64_t[:, ::1] r, const Py_ssize_t[::1] by_x, double eps,
                       Py_ssize_t[::1] labels):
    """Connected components of OpenCV's SimilarRects predicate.

    ``by_x`` lists the rectangles sorted by x. Similar rectangles differ in x
    by at most ``delta <= eps * (w_i + h_i) / 2``, so a sweep over that order
    finds every similar pair without testing all N^2 pairs. Labels are
    numbered in order of each component's first member, as cv::partition
    does. Returns the number of components.
    """
    cdef Py_ssize_t n = r.shape[0], i, j, a, b, s, t, ncls = 0
    cdef double delta, reach
    cdef int64_t mw, mh
    cdef Py_ssize_t* parent = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    if parent == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            parent[i] = i
        for s in range(n):
            i = by_x[s]
            reach = eps * <double>(r[i, 2] + r[i, 3]) * 0.5
            for t in range(s + 1, n):
                j = by_x[t]
                if <double>(r[j, 0] - r[i, 0]) > reach:
                    break
                mw = r[i, 2] if r[i, 2] < r[j, 2] else r[j, 2]
                mh = r[i, 3] if r[i, 3] < r[j, 3] else r[j, 3]
                delta = eps * <double>(mw + mh) * 0.5
                if (_iabs(r[i, 0] - r[j, 0]) <= delta and _iabs(r[i, 1] - r[j, 1]) <= delta
                        and _iabs(r[i, 0] + r[i, 2] - r[j, 0] - r[j, 2]) <= delta
                        and _iabs(r[i, 1] + r[i, 3] - r[j, 1] - r[j, 3]) <= delta):
                    a = _find(parent, i)
                    b = _find(parent, j)
                    if a != b:
                        if a < b:
                            parent[b] = a
                        else:
                            parent[a] = b
        for i in range(n):
            labels[i] = -1
        for i in range(n):
            a = _find(parent, i)
            if labels[a] < 0:
                labels[a] = ncls
                ncls += 1
            labels[i] = labels[a]
    free(parent)
    return ncls


def nested_filter(const int64_t[:, ::1] r, const int64_t[::1] counts, int64_t threshold,
                  double eps, uint8_t[::1] keep):
    """OpenCV's final groupRectangles pass: drop weak clusters and small
    clusters nested inside a stronger one."""
    cdef Py_ssize_t n = r.shape[0], i, j
    cdef int64_t n1, n2, dx, dy
    with nogil:
        for i in range(n):
            keep[i] = 0
            n1 = counts[i]
            if n1 <= threshold:
                continue
            keep[i] = 1
            for j in range(n):
                n2 = counts[j]
                if j == i or n2 <= threshold:
                    continue
                dx = lrint(<double>r[j, 2] * eps)
                dy = lrint(<double>r[j, 3] * eps)
                if (r[i, 0] >= r[j, 0] - dx and r[i, 1] >= r[j, 1] - dy
                        and r[i, 0] + r[i, 2] <= r[j, 0] + r[j, 2] + dx
                        and r[i, 1] + r[i, 3] <= r[j, 1] + r[j, 3] + dy
                        and (n2 > (3 if n1 < 3 else n1) or n1 < 3)):
                    keep[i] = 0
                    break
