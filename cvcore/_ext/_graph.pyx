# Felzenszwalb-Huttenlocher graph segmentation (IJCV 2004).
#
# The image graph is the 8-connected pixel grid: every pixel p = y * W + x owns
# up to four edges, identified as ``p * 4 + d`` with d = 0 (x+1, y), 1 (x, y+1),
# 2 (x+1, y+1), 3 (x+1, y-1). Edge weights are Euclidean distances between the
# (smoothed) colour vectors. Edges are sorted by a stable LSD radix sort on the
# IEEE bits of the non-negative float32 weights (exact order, ties by edge id),
# then merged with a union-find forest using the paper's criterion
#   w(e) <= min(Int(C1) + k / |C1|, Int(C2) + k / |C2|)
# and a second pass joins components smaller than ``min_size``.
# Sorting depends only on the image, so selective search sorts once and
# segments for several k.
#
# No validation happens here: cvcore.proposals checks everything first.
from libc.math cimport exp, sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport uint32_t, int32_t

import numpy as np


cdef inline Py_ssize_t _reflect(Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    # scipy.ndimage 'reflect' (half-sample symmetric, d c b a | a b c d),
    # valid for any offset, even when the radius exceeds the size.
    cdef Py_ssize_t period = 2 * n
    i = i % period
    if i < 0:
        i += period
    if i >= n:
        i = period - 1 - i
    return i


def gaussian_smooth(const float[:, :, ::1] img, double sigma, float[:, :, ::1] out):
    """Separable Gaussian (truncated at 4 sigma, 'reflect' border) per channel."""
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t r = <Py_ssize_t>(4.0 * sigma + 0.5)
    if r < 1:
        r = 1
    weights = np.empty(2 * r + 1, np.float64)
    cdef double[::1] wts = weights
    cdef Py_ssize_t i
    cdef double total = 0
    for i in range(2 * r + 1):
        wts[i] = exp(-0.5 * (i - r) * (i - r) / (sigma * sigma))
        total += wts[i]
    for i in range(2 * r + 1):
        wts[i] /= total
    tmp = np.empty((H, W, C), np.float32)
    cdef float[:, :, ::1] t = tmp
    with nogil:
        _smooth(img, wts, r, t, out)


cdef void _smooth(const float[:, :, ::1] img, const double[::1] wts, Py_ssize_t r,
                  float[:, :, ::1] tmp, float[:, :, ::1] out) noexcept nogil:
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t y, x, c, k, j, WC = W * C, K = 2 * r + 1
    cdef float* buf = <float*>malloc((W + 2 * r) * C * sizeof(float))
    cdef Py_ssize_t* ymap = <Py_ssize_t*>malloc((H + 2 * r) * sizeof(Py_ssize_t))
    cdef float* acc = <float*>malloc(WC * sizeof(float))
    cdef float wk
    cdef double s
    # horizontal pass into tmp
    for y in range(H):
        for j in range(W + 2 * r):
            x = _reflect(j - r, W)
            for c in range(C):
                buf[j * C + c] = img[y, x, c]
        for x in range(W):
            for c in range(C):
                s = 0
                for k in range(K):
                    s = s + wts[k] * buf[(x + k) * C + c]
                tmp[y, x, c] = <float>s
    # vertical pass into out (inner loop runs along the contiguous row)
    for j in range(H + 2 * r):
        ymap[j] = _reflect(j - r, H)
    for y in range(H):
        memset(acc, 0, WC * sizeof(float))
        for k in range(K):
            wk = <float>wts[k]
            for j in range(WC):
                acc[j] += wk * (&tmp[ymap[y + k], 0, 0])[j]
        memcpy(&out[y, 0, 0], acc, WC * sizeof(float))
    free(buf)
    free(ymap)
    free(acc)


def sorted_edges(const float[:, :, ::1] img):
    """Edges of the 8-connected grid sorted by weight: (ids uint32, weights float32)."""
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1]
    cdef Py_ssize_t n = H * (W - 1) + (H - 1) * W + 2 * (H - 1) * (W - 1)
    ids = np.empty(n, np.uint32)
    weights = np.empty(n, np.float32)
    cdef uint32_t[::1] ids_v = ids
    cdef float[::1] w_v = weights
    if n == 0:
        return ids, weights
    cdef uint32_t* tmp_ids = <uint32_t*>malloc(n * sizeof(uint32_t))
    cdef uint32_t* tmp_keys = <uint32_t*>malloc(n * sizeof(uint32_t))
    if tmp_ids == NULL or tmp_keys == NULL:
        free(tmp_ids)
        free(tmp_keys)
        raise MemoryError("not enough memory to sort the graph edges")
    with nogil:
        _edge_weights(img, &ids_v[0], <uint32_t*>&w_v[0])
        _radix_sort(<uint32_t*>&w_v[0], &ids_v[0], tmp_keys, tmp_ids, n)
    free(tmp_ids)
    free(tmp_keys)
    return ids, weights


cdef void _edge_weights(const float[:, :, ::1] img, uint32_t* ids, uint32_t* keys) noexcept nogil:
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t y, x, c, m = 0
    cdef uint32_t p
    cdef double s, dlt
    cdef float wf
    cdef const float* a
    cdef const float* b
    cdef int d
    cdef Py_ssize_t dx[4]
    cdef Py_ssize_t dy[4]
    dx[0] = 1; dy[0] = 0
    dx[1] = 0; dy[1] = 1
    dx[2] = 1; dy[2] = 1
    dx[3] = 1; dy[3] = -1
    for y in range(H):
        for x in range(W):
            p = <uint32_t>(y * W + x)
            a = &img[y, x, 0]
            for d in range(4):
                if x + dx[d] >= W or y + dy[d] >= H or y + dy[d] < 0:
                    continue
                b = &img[y + dy[d], x + dx[d], 0]
                s = 0
                for c in range(C):
                    dlt = <double>a[c] - <double>b[c]
                    s += dlt * dlt
                wf = <float>sqrt(s)
                ids[m] = p * 4 + <uint32_t>d
                memcpy(&keys[m], &wf, sizeof(float))  # non-negative floats sort like their bits
                m += 1


cdef void _radix_sort(uint32_t* keys, uint32_t* vals, uint32_t* tkeys, uint32_t* tvals,
                      Py_ssize_t n) noexcept nogil:
    # Stable LSD radix sort of (keys, vals) by keys, 3 passes of 11 bits; a pass
    # whose digit is the same for every key is skipped. Result ends in keys/vals.
    cdef Py_ssize_t count[2048]
    cdef Py_ssize_t i, total, cnt
    cdef int shift, pass_
    cdef uint32_t digit
    cdef uint32_t* sk = keys
    cdef uint32_t* sv = vals
    cdef uint32_t* dk = tkeys
    cdef uint32_t* dv = tvals
    cdef uint32_t* swap
    cdef bint trivial
    for pass_ in range(3):
        shift = 11 * pass_
        memset(count, 0, sizeof(count))
        for i in range(n):
            count[(sk[i] >> shift) & 2047] += 1
        trivial = False
        for i in range(2048):
            if count[i] == n:
                trivial = True
                break
        if trivial:
            continue
        total = 0
        for i in range(2048):
            cnt = count[i]
            count[i] = total
            total += cnt
        for i in range(n):
            digit = (sk[i] >> shift) & 2047
            dk[count[digit]] = sk[i]
            dv[count[digit]] = sv[i]
            count[digit] += 1
        swap = sk; sk = dk; dk = swap
        swap = sv; sv = dv; dv = swap
    if sk != keys:
        memcpy(keys, sk, n * sizeof(uint32_t))
        memcpy(vals, sv, n * sizeof(uint32_t))


cdef inline int32_t _find(int32_t* parent, int32_t a) noexcept nogil:
    # path halving
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def segment_sorted(const uint32_t[::1] ids, const float[::1] weights, Py_ssize_t height,
                   Py_ssize_t width, double k, Py_ssize_t min_size, int32_t[:, ::1] labels):
    """Union-find segmentation over pre-sorted edges; fills labels, returns the count."""
    cdef Py_ssize_t n = height * width
    parent_a = np.empty(n, np.int32)
    size_a = np.empty(n, np.int32)
    thresh_a = np.empty(n, np.float32)
    cdef int32_t[::1] parent = parent_a
    cdef int32_t[::1] size = size_a
    cdef float[::1] thresh = thresh_a
    cdef Py_ssize_t count
    with nogil:
        count = _segment(ids, weights, width, <float>k, min_size, &parent[0], &size[0],
                         &thresh[0], &labels[0, 0], n)
    return count


cdef Py_ssize_t _segment(const uint32_t[::1] ids, const float[::1] weights, Py_ssize_t W,
                         float k, Py_ssize_t min_size, int32_t* parent, int32_t* size,
                         float* thresh, int32_t* labels, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, m = ids.shape[0], count = 0
    cdef int32_t a, b, p, q
    cdef uint32_t e
    cdef float w
    cdef Py_ssize_t off[4]
    off[0] = 1
    off[1] = W
    off[2] = W + 1
    off[3] = 1 - W
    for i in range(n):
        parent[i] = <int32_t>i
        size[i] = 1
        thresh[i] = k
    for i in range(m):
        e = ids[i]
        p = <int32_t>(e >> 2)
        q = <int32_t>(p + off[e & 3])
        a = _find(parent, p)
        b = _find(parent, q)
        if a == b:
            continue
        w = weights[i]
        if w <= thresh[a] and w <= thresh[b]:
            if size[a] < size[b]:
                a, b = b, a
            parent[b] = a
            size[a] += size[b]
            thresh[a] = w + k / size[a]
    if min_size > 1:
        for i in range(m):
            e = ids[i]
            p = <int32_t>(e >> 2)
            q = <int32_t>(p + off[e & 3])
            a = _find(parent, p)
            b = _find(parent, q)
            if a != b and (size[a] < min_size or size[b] < min_size):
                if size[a] < size[b]:
                    a, b = b, a
                parent[b] = a
                size[a] += size[b]
    # labels numbered in raster order of first appearance; `size` is reused as map
    for i in range(n):
        size[i] = -1
    for i in range(n):
        a = _find(parent, <int32_t>i)
        if size[a] < 0:
            size[a] = <int32_t>count
            count += 1
        labels[i] = size[a]
    return count
