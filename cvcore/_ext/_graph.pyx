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
# Threads (``n_threads`` from the Python wrapper): edge weights are computed
# by blocks of rows (each row's edges have a fixed place in the edge list),
# the radix sort gives each thread a block of the array (per-thread digit
# counts, then offsets ordered by digit and thread: the same stable order as
# one thread), and segment_sorted runs its several k side by side, each with
# its own forest. Results are the same for every thread count. The union-find
# of one k is sequential.
#
# No validation happens here: cvcore.proposals checks everything first.
# The long loops check for Ctrl-C every few million edges (see _signals.pxd).
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport uint8_t, uint32_t, int32_t, int64_t

import numpy as np

from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start
from cvcore._ext._signals cimport interrupted, raise_pending

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define CVCORE_PREFETCH(ptr) __builtin_prefetch(ptr)
    #else
    #define CVCORE_PREFETCH(ptr) ((void)0)
    #endif
    """
    void CVCORE_PREFETCH(const void* ptr) noexcept nogil

# How many edges ahead the union-find loops prefetch their nodes (they are
# memory-latency bound: sorted edges visit pixels in random order).
cdef enum:
    AHEAD = 16

# Signals are checked every CHECK_EVERY + 1 edges (or rows x 1024 pixels).
cdef enum:
    CHECK_EVERY = (1 << 21) - 1


def sorted_edges(const float[:, :, ::1] img, int n_threads=1):
    """Edges of the 8-connected grid sorted by weight: (ids uint32, weights float32)."""
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1]
    cdef Py_ssize_t n = H * (W - 1) + (H - 1) * W + 2 * (H - 1) * (W - 1)
    ids = np.empty(n, np.uint32)
    weights = np.empty(n, np.float32)
    cdef uint32_t[::1] ids_v = ids
    cdef float[::1] w_v = weights
    if n == 0:
        return ids, weights
    cdef Py_ssize_t nc = chunks(H, n_threads), t
    cdef uint32_t* tmp_ids = <uint32_t*>malloc(n * sizeof(uint32_t))
    cdef uint32_t* tmp_keys = <uint32_t*>malloc(n * sizeof(uint32_t))
    cdef Py_ssize_t* count = <Py_ssize_t*>malloc(nc * 2048 * sizeof(Py_ssize_t))
    if tmp_ids == NULL or tmp_keys == NULL or count == NULL:
        free(tmp_ids)
        free(tmp_keys)
        free(count)
        raise MemoryError("not enough memory to sort the graph edges")
    cdef int stop = 0
    cdef int* stop_p = &stop  # shared: written through the pointer inside prange
    with nogil:
        if nc == 1:
            stop = _edge_weights(img, &ids_v[0], <uint32_t*>&w_v[0], 0, H, stop_p)
        else:
            for t in prange(nc, num_threads=nc, schedule='static'):
                _edge_weights(img, &ids_v[0], <uint32_t*>&w_v[0], chunk_start(H, nc, t),
                              chunk_start(H, nc, t + 1), stop_p)
        if not stop:
            stop = _radix_sort(<uint32_t*>&w_v[0], &ids_v[0], tmp_keys, tmp_ids, n, nc, count)
    free(tmp_ids)
    free(tmp_keys)
    free(count)
    if stop:
        raise_pending()
    return ids, weights


cdef inline bint _stop_now(int* stop) noexcept nogil:
    # A thread's periodic check: another thread saw Ctrl-C, or this one does (only the
    # main thread can run Python's signal handlers; elsewhere the check finds nothing).
    if stop[0]:
        return True
    if interrupted():
        stop[0] = 1
        return True
    return False


cdef inline uint32_t _dist_bits(const float* a, const float* b, Py_ssize_t C) noexcept nogil:
    cdef float s = 0, dlt
    cdef Py_ssize_t c
    cdef uint32_t bits
    for c in range(C):
        dlt = a[c] - b[c]
        s += dlt * dlt
    s = sqrt(s)
    memcpy(&bits, &s, sizeof(float))  # non-negative floats sort like their bits
    return bits


cdef inline Py_ssize_t _first_edge(Py_ssize_t y, Py_ssize_t H, Py_ssize_t W) noexcept nogil:
    # Edges before row y: every row has W - 1 right edges, rows above the last W down and
    # W - 1 down-right edges, rows below the first W - 1 up-right edges.
    cdef Py_ssize_t below = y if y < H - 1 else H - 1
    cdef Py_ssize_t above = y - 1 if y > 0 else 0
    return y * (W - 1) + below * (2 * W - 1) + above * (W - 1)


cdef int _edge_weights(const float[:, :, ::1] img, uint32_t* ids, uint32_t* keys, Py_ssize_t y0,
                       Py_ssize_t y1, int* stop) noexcept nogil:
    # Edges of rows y0 .. y1 - 1, in the order (pixel, direction) so that ties keep a fixed
    # order, at their place in the whole list. Returns 1 when interrupted by a signal.
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t y, x, m = _first_edge(y0, H, W)
    cdef uint32_t p
    cdef const float* row
    cdef const float* below
    cdef const float* above
    cdef Py_ssize_t since = 0
    for y in range(y0, y1):
        since += W
        if since > CHECK_EVERY:
            since = 0
            if _stop_now(stop):
                return 1
        row = &img[y, 0, 0]
        below = &img[y + 1, 0, 0] if y + 1 < H else NULL
        above = &img[y - 1, 0, 0] if y > 0 else NULL
        for x in range(W):
            p = <uint32_t>((y * W + x) * 4)
            if x + 1 < W:
                ids[m] = p
                keys[m] = _dist_bits(row + x * C, row + (x + 1) * C, C)
                m += 1
            if below != NULL:
                ids[m] = p + 1
                keys[m] = _dist_bits(row + x * C, below + x * C, C)
                m += 1
                if x + 1 < W:
                    ids[m] = p + 2
                    keys[m] = _dist_bits(row + x * C, below + (x + 1) * C, C)
                    m += 1
            if above != NULL and x + 1 < W:
                ids[m] = p + 3
                keys[m] = _dist_bits(row + x * C, above + (x + 1) * C, C)
                m += 1
    return 0


cdef void _digit_counts(const uint32_t* keys, Py_ssize_t i0, Py_ssize_t i1, int shift, Py_ssize_t* cnt,
                        int* stop) noexcept nogil:
    cdef Py_ssize_t i
    memset(cnt, 0, 2048 * sizeof(Py_ssize_t))
    for i in range(i0, i1):
        if ((i - i0) & CHECK_EVERY) == CHECK_EVERY and _stop_now(stop):
            return
        cnt[(keys[i] >> shift) & 2047] += 1


cdef void _scatter(const uint32_t* sk, const uint32_t* sv, uint32_t* dk, uint32_t* dv, Py_ssize_t i0,
                   Py_ssize_t i1, int shift, Py_ssize_t* cnt, int* stop) noexcept nogil:
    # cnt[d]: where the next key of digit d from this block goes
    cdef Py_ssize_t i, at
    cdef uint32_t key
    for i in range(i0, i1):
        if ((i - i0) & CHECK_EVERY) == CHECK_EVERY and _stop_now(stop):
            return
        key = sk[i]
        at = cnt[(key >> shift) & 2047]
        cnt[(key >> shift) & 2047] = at + 1
        dk[at] = key
        dv[at] = sv[i]


cdef int _radix_sort(uint32_t* keys, uint32_t* vals, uint32_t* tkeys, uint32_t* tvals,
                     Py_ssize_t n, Py_ssize_t nc, Py_ssize_t* count) noexcept nogil:
    # Stable LSD radix sort of (keys, vals) by keys, 3 passes of 11 bits; a pass
    # whose digit is the same for every key is skipped. ``nc`` threads each take
    # a block of the array; ``count`` has nc * 2048 entries. Block t's keys of
    # digit d go after every key of a smaller digit and after block t' < t's keys
    # of digit d: the order one thread would give. The result ends in keys/vals.
    # Returns 1 when interrupted by a signal (keys/vals are then a permutation of
    # the input).
    cdef Py_ssize_t i, t, total, c, d
    cdef int shift, pass_
    cdef uint32_t* sk = keys
    cdef uint32_t* sv = vals
    cdef uint32_t* dk = tkeys
    cdef uint32_t* dv = tvals
    cdef uint32_t* swap
    cdef bint trivial
    cdef int stop = 0
    cdef int* stop_p = &stop
    for pass_ in range(3):
        shift = 11 * pass_
        for t in prange(nc, num_threads=nc, schedule='static'):
            _digit_counts(sk, chunk_start(n, nc, t), chunk_start(n, nc, t + 1), shift, count + 2048 * t, stop_p)
        if stop:
            return 1
        trivial = False
        for d in range(2048):
            c = 0
            for t in range(nc):
                c = c + count[2048 * t + d]
            if c == n:
                trivial = True
                break
        if trivial:
            continue
        total = 0
        for d in range(2048):
            for t in range(nc):
                c = count[2048 * t + d]
                count[2048 * t + d] = total
                total = total + c
        for t in prange(nc, num_threads=nc, schedule='static'):
            _scatter(sk, sv, dk, dv, chunk_start(n, nc, t), chunk_start(n, nc, t + 1), shift, count + 2048 * t,
                     stop_p)
        if stop:
            return 1
        swap = sk; sk = dk; dk = swap
        swap = sv; sv = dv; dv = swap
    if sk != keys:
        memcpy(keys, sk, n * sizeof(uint32_t))
        memcpy(vals, sv, n * sizeof(uint32_t))
    return 0


cdef struct Info:
    float thresh   # Int(C) + k / |C| of a root
    int32_t size   # |C| of a root


cdef inline int32_t _find(int32_t* parent, int32_t a) noexcept nogil:
    # path halving
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def segment_sorted(const uint32_t[::1] ids, const float[::1] weights, Py_ssize_t height,
                   Py_ssize_t width, const double[::1] ks, const int64_t[::1] min_sizes,
                   int32_t[:, :, ::1] labels, int n_threads=1):
    """Union-find segmentations over pre-sorted edges, one per k (``n_threads`` run different ks).

    ``labels`` has shape (len(ks), H, W); returns the segment counts (int64 array).
    """
    cdef Py_ssize_t n = height * width, K = ks.shape[0], nc = chunks(K, n_threads), t
    cdef int stop = 0
    cdef int* stop_p = &stop
    counts = np.zeros(K, np.int64)
    cdef int64_t[::1] cv = counts
    if K == 0:
        return counts
    # one forest per thread; the finds only touch `parent` (4 bytes per pixel, cache
    # friendly), Info is read only for pairs of distinct roots
    cdef int32_t* parent = <int32_t*>malloc(nc * n * sizeof(int32_t))
    cdef Info* info = <Info*>malloc(nc * n * sizeof(Info))
    cdef uint8_t* small = <uint8_t*>malloc(nc * n * sizeof(uint8_t))
    if parent == NULL or info == NULL or small == NULL:
        free(parent)
        free(info)
        free(small)
        raise MemoryError("not enough memory for the segmentation forest")
    with nogil:
        if nc == 1:
            _segment_ks(ids, weights, width, ks, min_sizes, labels, cv, 0, K, parent, info, small, n, stop_p)
        else:
            for t in prange(nc, num_threads=nc, schedule='static'):
                _segment_ks(ids, weights, width, ks, min_sizes, labels, cv, chunk_start(K, nc, t),
                            chunk_start(K, nc, t + 1), parent + t * n, info + t * n, small + t * n, n, stop_p)
    free(parent)
    free(info)
    free(small)
    if stop:
        raise_pending()
    return counts


cdef void _segment_ks(const uint32_t[::1] ids, const float[::1] weights, Py_ssize_t W,
                      const double[::1] ks, const int64_t[::1] min_sizes, int32_t[:, :, ::1] labels,
                      int64_t[::1] counts, Py_ssize_t j0, Py_ssize_t j1, int32_t* parent, Info* info,
                      uint8_t* small, Py_ssize_t n, int* stop) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(j0, j1):
        counts[j] = _segment(ids, weights, W, <float>ks[j], min_sizes[j], parent, info, small,
                             &labels[j, 0, 0], n, stop)
        if counts[j] < 0:
            return


cdef inline void _union(int32_t* parent, Info* info, int32_t a, int32_t b) noexcept nogil:
    # b joins a (the larger component becomes the root)
    cdef int32_t t
    if info[a].size < info[b].size:
        t = a; a = b; b = t
    parent[b] = a
    info[a].size += info[b].size


cdef Py_ssize_t _segment(const uint32_t[::1] ids, const float[::1] weights, Py_ssize_t W,
                         float k, Py_ssize_t min_size, int32_t* parent, Info* info,
                         uint8_t* small, int32_t* labels, Py_ssize_t n, int* stop) noexcept nogil:
    # Returns the number of segments, or -1 when interrupted by a signal.
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
        info[i].size = 1
        info[i].thresh = k
    for i in range(m):
        if (i & CHECK_EVERY) == CHECK_EVERY and _stop_now(stop):
            return -1
        if i + 2 * AHEAD < m:
            # two-stage prefetch: the nodes 2 * AHEAD edges ahead, and the
            # parents of the nodes AHEAD edges ahead (fetched by the first stage)
            e = ids[i + 2 * AHEAD]
            p = <int32_t>(e >> 2)
            CVCORE_PREFETCH(&parent[p])
            CVCORE_PREFETCH(&parent[p + off[e & 3]])
            e = ids[i + AHEAD]
            p = <int32_t>(e >> 2)
            CVCORE_PREFETCH(&parent[parent[p]])
            CVCORE_PREFETCH(&parent[parent[p + off[e & 3]]])
        e = ids[i]
        p = <int32_t>(e >> 2)
        q = <int32_t>(p + off[e & 3])
        a = _find(parent, p)
        b = _find(parent, q)
        if a == b:
            continue
        w = weights[i]
        if w <= info[a].thresh and w <= info[b].thresh:
            _union(parent, info, a, b)
            a = parent[a]  # the new root (a or b)
            info[a].thresh = w + k / info[a].size
    if min_size > 1:
        # Components only grow, so an edge can matter here only if one of its
        # ends lies in a component that is small now: flag those pixels and
        # scan the sorted edges, doing finds only for flagged ones.
        for i in range(n):
            a = _find(parent, <int32_t>i)
            small[i] = info[a].size < min_size
        for i in range(m):
            if (i & CHECK_EVERY) == CHECK_EVERY and _stop_now(stop):
                return -1
            e = ids[i]
            p = <int32_t>(e >> 2)
            q = <int32_t>(p + off[e & 3])
            if not (small[p] | small[q]):
                continue
            a = _find(parent, p)
            b = _find(parent, q)
            if a != b and (info[a].size < min_size or info[b].size < min_size):
                _union(parent, info, a, b)
    # labels numbered in raster order of first appearance; `size` becomes the map
    for i in range(n):
        info[i].size = -1
    for i in range(n):
        a = _find(parent, <int32_t>i)
        if info[a].size < 0:
            info[a].size = <int32_t>count
            count += 1
        labels[i] = info[a].size
    return count
