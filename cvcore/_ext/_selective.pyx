# distutils: language = c++
# Selective search (Uijlings et al., IJCV 2013): per-pixel feature codes, region
# statistics and the hierarchical grouping loop.
#
# * texture_codes: per pixel and channel, the colour bin (25 bins over 0..255)
#   and, for each of 8 orientations, the bin (10 bins) of the half-wave
#   rectified Gaussian derivative (sigma 1) in that orientation.
# * region_stats: sizes, bounding boxes, colour/texture histogram counts and
#   the unique adjacent region pairs (8-connectivity) of a label image.
# * group: greedy hierarchical grouping with a sparse adjacency graph and a
#   lazy-deletion priority queue; merged histograms are size-weighted averages.
#
# Threads (``n_threads`` from the Python wrapper): texture_codes shares rows
# (the per-channel maxima of each block are combined, an exact operation);
# group_many runs several strategies' groupings side by side, each on its own
# rows of the arrays. Results are the same for every thread count.
#
# No validation happens here: cvcore.proposals checks everything first.
# texture_codes and group check for Ctrl-C as they go (see _signals.pxd).
from libc.math cimport sqrt
from libc.stdint cimport uint8_t, int32_t, int64_t
from libcpp.vector cimport vector
from libcpp.queue cimport priority_queue
from libcpp.pair cimport pair
from libcpp.algorithm cimport sort, unique

import numpy as np

from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start
from cvcore._ext._signals cimport interrupted, raise_pending

ctypedef pair[int32_t, int32_t] ipair
ctypedef pair[double, ipair] entry


def texture_codes(const float[:, :, ::1] gx, const float[:, :, ::1] gy,
                  const uint8_t[:, :, ::1] img, uint8_t[:, :, ::1] codes, int n_threads=1):
    """Fill codes (H, W, 9 * C): C colour bins, then 8 texture bins per channel.

    ``gx``, ``gy`` are the Gaussian derivatives (sigma 1) of each channel.
    Oriented responses are binned on [0, max |response| of that channel].
    """
    cdef Py_ssize_t H = img.shape[0], C = img.shape[2], nc = chunks(H, n_threads), t, c
    if nc == 0:
        return
    maxima_a = np.zeros((nc, C), np.float64)  # per row block, then the factor of each channel
    cdef double[:, ::1] maxima = maxima_a
    cdef int stop = 0
    cdef int* stop_p = &stop
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            _texture_codes(gx, gy, img, codes, &maxima[t, 0], 0, chunk_start(H, nc, t),
                           chunk_start(H, nc, t + 1), stop_p)
        if not stop:
            for c in range(C):  # the largest response of each channel -> the factor mapping it to 0..10
                for t in range(1, nc):
                    if maxima[t, c] > maxima[0, c]:
                        maxima[0, c] = maxima[t, c]
                maxima[0, c] = 10.0 / <float>maxima[0, c] if maxima[0, c] > 0 else 0.0
            for t in prange(nc, num_threads=nc, schedule='static'):
                _texture_codes(gx, gy, img, codes, &maxima[0, 0], 1, chunk_start(H, nc, t),
                               chunk_start(H, nc, t + 1), stop_p)
    if stop:
        raise_pending()


cdef inline uint8_t _bin(float v) noexcept nogil:
    # bin of a response already scaled to 0..10; negative responses -> bin 0
    if v <= 0:
        return 0
    if v >= 9:
        return 9
    return <uint8_t>v


cdef void _texture_codes(const float[:, :, ::1] gxs, const float[:, :, ::1] gys,
                         const uint8_t[:, :, ::1] img, uint8_t[:, :, ::1] codes, double* rmax,
                         int stage, Py_ssize_t y0, Py_ssize_t y1, int* stop) noexcept nogil:
    # Rows y0 .. y1 - 1. Oriented first derivatives at 0, 45, 90, 135 degrees
    # (x right, y down) and their negatives (180 .. 315 degrees), half-wave
    # rectified. Stage 0 stores each channel's largest |response| in rmax;
    # stage 1 writes the codes with rmax holding the factors to 0..10.
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t y, x, c
    cdef float gx, gy, d0, d1, d2, d3, m, sc
    cdef float h = 0.70710678
    cdef float mx[16]
    cdef uint8_t* out
    for c in range(C):
        mx[c] = 0
    cdef const float* rx
    cdef const float* ry
    cdef Py_ssize_t since = 0
    for y in range(y0, y1):
        since += W * C
        if since > (1 << 21):
            since = 0
            if stop[0]:
                return
            if interrupted():  # finds a signal on the main thread only
                stop[0] = 1
                return
        rx = &gxs[y, 0, 0]
        ry = &gys[y, 0, 0]
        for x in range(W):
            if stage == 1:
                out = &codes[y, x, 0]
            for c in range(C):
                gx = rx[x * C + c]
                gy = ry[x * C + c]
                d0 = gx
                d1 = h * (gx + gy)
                d2 = gy
                d3 = h * (gy - gx)
                if stage == 0:
                    m = d0 if d0 >= 0 else -d0
                    if d1 > m:
                        m = d1
                    elif -d1 > m:
                        m = -d1
                    if d2 > m:
                        m = d2
                    elif -d2 > m:
                        m = -d2
                    if d3 > m:
                        m = d3
                    elif -d3 > m:
                        m = -d3
                    if m > mx[c]:
                        mx[c] = m
                    continue
                out[c] = <uint8_t>((<int>img[y, x, c] * 25) >> 8)
                sc = <float>rmax[c]
                d0 = d0 * sc
                d1 = d1 * sc
                d2 = d2 * sc
                d3 = d3 * sc
                out[C + c * 8 + 0] = _bin(d0)
                out[C + c * 8 + 1] = _bin(d1)
                out[C + c * 8 + 2] = _bin(d2)
                out[C + c * 8 + 3] = _bin(d3)
                out[C + c * 8 + 4] = _bin(-d0)
                out[C + c * 8 + 5] = _bin(-d1)
                out[C + c * 8 + 6] = _bin(-d2)
                out[C + c * 8 + 7] = _bin(-d3)
    if stage == 0:
        for c in range(C):
            rmax[c] = mx[c]


def region_stats(const int32_t[:, ::1] labels, const uint8_t[:, :, ::1] codes, int nch,
                 int64_t[::1] sizes, int32_t[:, ::1] bbox, int32_t[:, ::1] chist,
                 int32_t[:, ::1] thist, int n_threads=1):
    """Sizes, boxes (x0, y0, x1, y1 inclusive), histogram counts and adjacent pairs.

    ``chist`` has 25 * nch columns, ``thist`` 80 * nch; either may have zero
    rows to skip it. Returns the unique pairs (i < j) as an (m, 2) int32 array.
    ``n_threads`` threads share the rows, each counting into its own arrays,
    which are then added up (integer sums, minima and maxima: exact).
    """
    cdef Py_ssize_t n = sizes.shape[0], H = labels.shape[0], nc = chunks(H, n_threads), t, r0, r1
    if nc == 0:
        nc = 1
    cdef vector[vector[vector[int32_t]]] nbs
    nbs.resize(nc)
    for t in range(nc):
        nbs[t].resize(n)
    # thread 0 counts into the outputs, thread t > 0 into row t - 1 of these
    x_sizes_a = np.zeros((nc - 1, n), np.int64)
    x_bbox_a = np.zeros((nc - 1, n, 4), np.int32)
    x_chist_a = np.zeros((nc - 1, chist.shape[0], chist.shape[1]), np.int32)
    x_thist_a = np.zeros((nc - 1, thist.shape[0], thist.shape[1]), np.int32)
    cdef int64_t[:, ::1] x_sizes = x_sizes_a
    cdef int32_t[:, :, ::1] x_bbox = x_bbox_a
    cdef int32_t[:, :, ::1] x_chist = x_chist_a
    cdef int32_t[:, :, ::1] x_thist = x_thist_a
    cdef Py_ssize_t m = 0, i, j
    with nogil:
        if nc == 1:
            _region_stats(labels, codes, nch, sizes, bbox, chist, thist, nbs[0], 0, H)
        else:
            for t in prange(nc, num_threads=nc, schedule='static'):
                if t == 0:
                    _region_stats(labels, codes, nch, sizes, bbox, chist, thist, nbs[0], 0, chunk_start(H, nc, 1))
                else:
                    _region_stats(labels, codes, nch, x_sizes[t - 1], x_bbox[t - 1], x_chist[t - 1],
                                  x_thist[t - 1], nbs[t], chunk_start(H, nc, t), chunk_start(H, nc, t + 1))
            for t in prange(nc, num_threads=nc, schedule='static'):  # add up, by blocks of regions
                _add_up(sizes, bbox, chist, thist, x_sizes, x_bbox, x_chist, x_thist, nbs, chunk_start(n, nc, t),
                        chunk_start(n, nc, t + 1), nc)
        for i in range(n):
            sort(nbs[0][i].begin(), nbs[0][i].end())
            nbs[0][i].erase(unique(nbs[0][i].begin(), nbs[0][i].end()), nbs[0][i].end())
            m += <Py_ssize_t>nbs[0][i].size()
    pairs = np.empty((m, 2), np.int32)
    cdef int32_t[:, ::1] pv = pairs
    m = 0
    with nogil:
        for i in range(n):
            for j in range(<Py_ssize_t>nbs[0][i].size()):
                pv[m, 0] = <int32_t>i
                pv[m, 1] = nbs[0][i][j]
                m += 1
    return pairs


cdef void _add_up(int64_t[::1] sizes, int32_t[:, ::1] bbox, int32_t[:, ::1] chist, int32_t[:, ::1] thist,
                  int64_t[:, ::1] x_sizes, int32_t[:, :, ::1] x_bbox, int32_t[:, :, ::1] x_chist,
                  int32_t[:, :, ::1] x_thist, vector[vector[vector[int32_t]]]& nbs, Py_ssize_t r0, Py_ssize_t r1,
                  Py_ssize_t nc) noexcept nogil:
    # Regions r0 .. r1 - 1: the counts of threads 1 .. nc - 1 added to thread 0's (the outputs).
    cdef Py_ssize_t r, t, i
    for r in range(r0, r1):
        for t in range(1, nc):
            nbs[0][r].insert(nbs[0][r].end(), nbs[t][r].begin(), nbs[t][r].end())
            if x_sizes[t - 1, r] == 0:
                continue
            sizes[r] += x_sizes[t - 1, r]
            bbox[r, 0] = min(bbox[r, 0], x_bbox[t - 1, r, 0])
            bbox[r, 1] = min(bbox[r, 1], x_bbox[t - 1, r, 1])
            bbox[r, 2] = max(bbox[r, 2], x_bbox[t - 1, r, 2])
            bbox[r, 3] = max(bbox[r, 3], x_bbox[t - 1, r, 3])
            if chist.shape[0]:
                for i in range(chist.shape[1]):
                    chist[r, i] += x_chist[t - 1, r, i]
            if thist.shape[0]:
                for i in range(thist.shape[1]):
                    thist[r, i] += x_thist[t - 1, r, i]


cdef inline void _link(vector[vector[int32_t]]& nbs, int32_t a, int32_t b) noexcept nogil:
    if a == b:
        return
    if a > b:
        a, b = b, a
    if nbs[a].size() == 0 or nbs[a].back() != b:
        nbs[a].push_back(b)


cdef void _region_stats(const int32_t[:, ::1] lab, const uint8_t[:, :, ::1] codes, int nch,
                        int64_t[::1] sizes, int32_t[:, ::1] bbox, int32_t[:, ::1] chist,
                        int32_t[:, ::1] thist, vector[vector[int32_t]]& nbs, Py_ssize_t y0,
                        Py_ssize_t y1) noexcept nogil:
    # Rows y0 .. y1 - 1 (their links to the row below included) into zeroed counts.
    cdef Py_ssize_t H = lab.shape[0], W = lab.shape[1], n = sizes.shape[0]
    cdef Py_ssize_t y, x, c, o
    cdef int32_t r
    cdef bint do_c = chist.shape[0] > 0, do_t = thist.shape[0] > 0
    for r in range(n):
        sizes[r] = 0
        bbox[r, 0] = <int32_t>W
        bbox[r, 1] = <int32_t>H
        bbox[r, 2] = -1
        bbox[r, 3] = -1
    for y in range(y0, y1):
        for x in range(W):
            r = lab[y, x]
            sizes[r] += 1
            if x < bbox[r, 0]:
                bbox[r, 0] = <int32_t>x
            if x > bbox[r, 2]:
                bbox[r, 2] = <int32_t>x
            if y < bbox[r, 1]:
                bbox[r, 1] = <int32_t>y
            bbox[r, 3] = <int32_t>y  # rows come in increasing order
            if do_c:
                for c in range(nch):
                    chist[r, c * 25 + codes[y, x, c]] += 1
            if do_t:
                for c in range(nch):
                    for o in range(8):
                        thist[r, c * 80 + o * 10 + codes[y, x, nch + c * 8 + o]] += 1
            if x + 1 < W:
                _link(nbs, r, lab[y, x + 1])
            if y + 1 < H:
                _link(nbs, r, lab[y + 1, x])
                if x + 1 < W:
                    _link(nbs, r, lab[y + 1, x + 1])
                if x > 0:
                    _link(nbs, r, lab[y + 1, x - 1])


cdef struct Params:
    double wc, wt, ws, wf, im_size
    Py_ssize_t nc, nt


cdef inline double _similarity(Params* p, int32_t a, int32_t b, const int64_t* sizes,
                               const int32_t[:, ::1] bb, const float[:, ::1] ch,
                               const float[:, ::1] th) noexcept nogil:
    cdef double s = 0, acc
    cdef Py_ssize_t i
    cdef float u, v
    cdef double bw, bh
    if p.wc != 0:
        acc = 0
        for i in range(p.nc):
            u = ch[a, i]
            v = ch[b, i]
            acc += u if u < v else v
        s += p.wc * acc
    if p.wt != 0:
        acc = 0
        for i in range(p.nt):
            u = th[a, i]
            v = th[b, i]
            acc += u if u < v else v
        s += p.wt * acc
    if p.ws != 0:
        s += p.ws * (1.0 - (sizes[a] + sizes[b]) / p.im_size)
    if p.wf != 0:
        bw = <double>(max(bb[a, 2], bb[b, 2]) - min(bb[a, 0], bb[b, 0]) + 1)
        bh = <double>(max(bb[a, 3], bb[b, 3]) - min(bb[a, 1], bb[b, 1]) + 1)
        s += p.wf * (1.0 - (bw * bh - sizes[a] - sizes[b]) / p.im_size)
    return s


def group_many(const int32_t[:, ::1] pairs, int64_t[:, ::1] sizes, int32_t[:, :, ::1] bbox,
               float[:, :, ::1] chist, float[:, :, ::1] thist, const double[:, ::1] weights,
               double im_size, int32_t[:, :, ::1] merges, int n_threads=1):
    """Hierarchical groupings of n initial regions, one per strategy (``n_threads`` side by side).

    Strategy ``s`` uses ``sizes[s]``, ``bbox[s]``, ``chist[s]``, ``thist[s]``
    (2n - 1 rows, rows 0..n-1 filled; merged regions are appended at rows n,
    n + 1, ...) and the similarity weights ``weights[s]`` = (colour, texture,
    size, fill); a histogram whose weight is 0 is left untouched (it may have
    zero columns). ``merges[s, t]`` holds the two regions that formed region
    n + t. Returns the number of merges of each strategy (n - 1 for a
    connected graph) as an int64 array.
    """
    cdef Py_ssize_t S = sizes.shape[0], total = sizes.shape[1], nc = chunks(S, n_threads), t, j
    counts_a = np.zeros(S, np.int64)
    cdef int64_t[::1] counts = counts_a
    cdef int stop = 0
    cdef int* stop_p = &stop
    if S == 0 or total == 0:
        return counts_a
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            for j in range(chunk_start(S, nc, t), chunk_start(S, nc, t + 1)):
                counts[j] = _group_one(pairs, sizes, bbox, chist, thist, weights, im_size, merges, j, stop_p)
    if stop:
        raise_pending()
    return counts_a


cdef Py_ssize_t _group_one(const int32_t[:, ::1] pairs, int64_t[:, ::1] sizes, int32_t[:, :, ::1] bbox,
                           float[:, :, ::1] chist, float[:, :, ::1] thist, const double[:, ::1] weights,
                           double im_size, int32_t[:, :, ::1] merges, Py_ssize_t j, int* stop) noexcept nogil:
    cdef Params p
    if stop[0]:
        return -1
    p.wc = weights[j, 0]
    p.wt = weights[j, 1]
    p.ws = weights[j, 2]
    p.wf = weights[j, 3]
    p.im_size = im_size
    p.nc = chist.shape[2] if p.wc != 0 else 0
    p.nt = thist.shape[2] if p.wt != 0 else 0
    return _group(&p, pairs, &sizes[j, 0], bbox[j], chist[j], thist[j], merges[j], sizes.shape[1], stop)


cdef Py_ssize_t _group(Params* p, const int32_t[:, ::1] pairs, int64_t* sizes,
                       int32_t[:, ::1] bb, float[:, ::1] ch, float[:, ::1] th,
                       int32_t[:, ::1] merges, Py_ssize_t total, int* stop) noexcept nogil:
    # Returns the number of merges, or -1 when interrupted by a signal.
    cdef Py_ssize_t n = (total + 1) // 2
    cdef Py_ssize_t i, k, t = n, nmerge = 0
    cdef int32_t a, b, q
    cdef vector[vector[int32_t]] nbs
    cdef vector[uint8_t] alive
    cdef vector[int32_t] stamp
    cdef priority_queue[entry] heap
    cdef entry top
    cdef double wa, wb, inv
    nbs.resize(total)
    alive.assign(total, 0)
    stamp.assign(total, -1)
    for i in range(n):
        alive[i] = 1
    for i in range(pairs.shape[0]):
        a = pairs[i, 0]
        b = pairs[i, 1]
        nbs[a].push_back(b)
        nbs[b].push_back(a)
        heap.push(entry(_similarity(p, a, b, sizes, bb, ch, th), ipair(-a, -b)))
    cdef Py_ssize_t work = 0
    while not heap.empty() and t < total:
        if work > (1 << 22):
            work = 0
            if stop[0]:
                return -1
            if interrupted():  # finds a signal on the main thread only
                stop[0] = 1
                return -1
        work += 1
        top = heap.top()
        heap.pop()
        a = -top.second.first
        b = -top.second.second
        if not alive[a] or not alive[b]:
            continue
        # new region t = a + b
        alive[a] = 0
        alive[b] = 0
        alive[t] = 1
        merges[nmerge, 0] = a
        merges[nmerge, 1] = b
        nmerge += 1
        sizes[t] = sizes[a] + sizes[b]
        bb[t, 0] = min(bb[a, 0], bb[b, 0])
        bb[t, 1] = min(bb[a, 1], bb[b, 1])
        bb[t, 2] = max(bb[a, 2], bb[b, 2])
        bb[t, 3] = max(bb[a, 3], bb[b, 3])
        inv = 1.0 / <double>sizes[t]
        wa = sizes[a] * inv
        wb = sizes[b] * inv
        for k in range(p.nc):
            ch[t, k] = <float>(wa * ch[a, k] + wb * ch[b, k])
        for k in range(p.nt):
            th[t, k] = <float>(wa * th[a, k] + wb * th[b, k])
        stamp[a] = <int32_t>t
        stamp[b] = <int32_t>t
        for k in range(<Py_ssize_t>nbs[a].size()):
            q = nbs[a][k]
            if alive[q] and stamp[q] != t:
                stamp[q] = <int32_t>t
                nbs[t].push_back(q)
        for k in range(<Py_ssize_t>nbs[b].size()):
            q = nbs[b][k]
            if alive[q] and stamp[q] != t:
                stamp[q] = <int32_t>t
                nbs[t].push_back(q)
        vector[int32_t]().swap(nbs[a])
        vector[int32_t]().swap(nbs[b])
        for k in range(<Py_ssize_t>nbs[t].size()):
            q = nbs[t][k]
            nbs[q].push_back(<int32_t>t)
            heap.push(entry(_similarity(p, <int32_t>t, q, sizes, bb, ch, th),
                            ipair(-<int32_t>t if t < q else -q, -q if t < q else -<int32_t>t)))
        # a merge costs about one histogram length per neighbour it touches
        work += (p.nc + p.nt + 16) * <Py_ssize_t>nbs[t].size()
        t += 1
    return nmerge
