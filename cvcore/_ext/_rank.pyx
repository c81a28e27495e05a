# Rank (order-statistic) filter kernels: median over a rectangular window.
#
# Same layout and border index maps as _convolve.pyx: the image is a
# C-contiguous (H, W * C) array, ``ymap``/``xmap`` give the source row/column
# of each padded position (-1 = outside, use ``cval``). Values are selected,
# never computed, so the filter runs in the input dtype. As there, a kernel
# fills ``out.shape[0]`` rows, so Python can run a band of rows per call.
# ``n_threads`` OpenMP threads share a call's rows, one block each with its own
# ring and scratch (see _parallel.pxd): results never depend on the count.
from libc.stdlib cimport malloc, free
from cython.parallel cimport prange
from libc.stdint cimport (uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t,
                          uint64_t, int64_t)

from cvcore._ext._parallel cimport chunks, chunk_start

ctypedef fused rank_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t
    uint64_t
    int64_t
    float
    double


# Selection-network ops in C so that gcc turns each min/max loop into SIMD
# min/max instructions (a plain ternary on one line, no branches); compiled
# for x86-64-v3 as well and picked at run time (see _convolve.pyx).
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
    #if defined(_MSC_VER) && !defined(restrict)
    #define restrict __restrict
    #endif
    /* ifunc-based dispatch needs GCC and glibc on x86-64 */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    #if __GNUC__ >= 12
    #define CVR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define CVR_CLONES __attribute__((target_clones("avx2", "default")))
    #endif
    #else
    #define CVR_CLONES
    #endif
    #define CVR_OPS(T, NAME)                                                              \\
    static CVR_CLONES void NAME(T *tmp, ptrdiff_t block, ptrdiff_t m,                    \\
                                const int *ops, ptrdiff_t nops)                          \\
    {                                                                                    \\
        for (ptrdiff_t o = 0; o < nops; o++) {                                           \\
            int kind = ops[3 * o];                                                       \\
            T *restrict a = tmp + (ptrdiff_t)ops[3 * o + 1] * block;                     \\
            T *restrict b = tmp + (ptrdiff_t)ops[3 * o + 2] * block;                     \\
            if (kind == 0) {                                                             \\
                for (ptrdiff_t k = 0; k < m; k++) {                                      \\
                    T u = a[k], v = b[k];                                                \\
                    a[k] = v < u ? v : u;                                                \\
                    b[k] = v < u ? u : v;                                                \\
                }                                                                        \\
            } else if (kind == 1) {                                                      \\
                for (ptrdiff_t k = 0; k < m; k++) { T u = a[k], v = b[k]; a[k] = v < u ? v : u; } \\
            } else {                                                                     \\
                for (ptrdiff_t k = 0; k < m; k++) { T u = a[k], v = b[k]; b[k] = v < u ? u : v; } \\
            }                                                                            \\
        }                                                                                \\
    }
    #include <stdint.h>
    CVR_OPS(uint8_t, cvr_ops_u8)
    CVR_OPS(int8_t, cvr_ops_i8)
    CVR_OPS(uint16_t, cvr_ops_u16)
    CVR_OPS(int16_t, cvr_ops_i16)
    CVR_OPS(uint32_t, cvr_ops_u32)
    CVR_OPS(int32_t, cvr_ops_i32)
    CVR_OPS(uint64_t, cvr_ops_u64)
    CVR_OPS(int64_t, cvr_ops_i64)
    CVR_OPS(float, cvr_ops_f)
    CVR_OPS(double, cvr_ops_d)
    """
    void cvr_ops_u8(uint8_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i8(int8_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u16(uint16_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i16(int16_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u32(uint32_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i32(int32_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u64(uint64_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i64(int64_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_f(float* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_d(double* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil


cdef inline void _apply_ops(rank_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops,
                            Py_ssize_t nops) noexcept nogil:
    if rank_t is uint8_t:
        cvr_ops_u8(tmp, block, m, ops, nops)
    elif rank_t is int8_t:
        cvr_ops_i8(tmp, block, m, ops, nops)
    elif rank_t is uint16_t:
        cvr_ops_u16(tmp, block, m, ops, nops)
    elif rank_t is int16_t:
        cvr_ops_i16(tmp, block, m, ops, nops)
    elif rank_t is uint32_t:
        cvr_ops_u32(tmp, block, m, ops, nops)
    elif rank_t is int32_t:
        cvr_ops_i32(tmp, block, m, ops, nops)
    elif rank_t is uint64_t:
        cvr_ops_u64(tmp, block, m, ops, nops)
    elif rank_t is int64_t:
        cvr_ops_i64(tmp, block, m, ops, nops)
    elif rank_t is float:
        cvr_ops_f(tmp, block, m, ops, nops)
    else:
        cvr_ops_d(tmp, block, m, ops, nops)


cdef inline rank_t _select(rank_t* a, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """k-th smallest of a[0:n] (reorders a). Three-way quickselect.

    Every element lands in exactly one of the <, ==, > regions (NaN compares
    false both ways, so it joins the == region); the pivot is an element of
    the range, so the range shrinks at each step and the loop terminates.
    """
    cdef Py_ssize_t lo = 0, hi = n, lt, gt, i, mid
    cdef rank_t pivot, v, t, p0, p1, p2
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        p0 = a[lo]
        p1 = a[mid]
        p2 = a[hi - 1]
        # median of three
        if p0 < p1:
            if p1 < p2:
                pivot = p1
            elif p0 < p2:
                pivot = p2
            else:
                pivot = p0
        else:
            if p0 < p2:
                pivot = p0
            elif p1 < p2:
                pivot = p2
            else:
                pivot = p1
        lt = lo
        i = lo
        gt = hi
        while i < gt:
            v = a[i]
            if v < pivot:
                a[i] = a[lt]
                a[lt] = v
                lt += 1
                i += 1
            elif pivot < v:
                gt -= 1
                a[i] = a[gt]
                a[gt] = v
            else:
                i += 1
        if k < lt:
            hi = lt
        elif k >= gt:
            lo = gt
        else:
            return a[k]
    return a[lo]


cdef inline void _advance_ring(const rank_t* img, Py_ssize_t n, rank_t* ring, const rank_t** rows,
                               Py_ssize_t y, Py_ssize_t y0, Py_ssize_t kh, Py_ssize_t npad, Py_ssize_t nch,
                               const Py_ssize_t* ymap, const Py_ssize_t* xmap, rank_t cval) noexcept nogil:
    """Point ``rows[0..kh-1]`` at padded rows ``y .. y + kh - 1`` held in the ring.

    Padded row ``p`` lives in slot ``p % kh`` and is built once: all ``kh`` rows
    at the block's first row ``y0``, afterwards only the entering row ``y + kh - 1``.
    """
    cdef Py_ssize_t stride = npad * nch, a, b, c, p, s, t
    cdef rank_t* line
    for a in range(kh):
        p = y + a
        if y > y0 and a < kh - 1:
            continue
        line = ring + (p % kh) * stride
        s = ymap[p]
        for t in range(npad):
            b = xmap[t]
            for c in range(nch):
                line[t * nch + c] = img[s * n + b * nch + c] if (s >= 0 and b >= 0) else cval
    for a in range(kh):
        rows[a] = ring + ((y + a) % kh) * stride


# Every kernel below: ``_x`` computes output rows y0 .. y1 with buffers of its
# own (-1 if they cannot be allocated); the ``def`` shares the rows among threads.


def median(const rank_t[:, ::1] img, rank_t[:, ::1] out, Py_ssize_t nch,
           Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
           const Py_ssize_t[::1] xmap, rank_t cval, int n_threads=1):
    """Median (rank ``kh * kw // 2`` of the sorted window) of every window.

    Padded rows (``W + kw - 1`` pixels, border from the maps) are kept in a
    ring of ``kh`` line buffers, so a window is gathered with contiguous reads
    and then reduced by quickselect.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const rank_t* ip = &img[0, 0]
    cdef rank_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1], nch,
                           kh, kw, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                 Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                 const Py_ssize_t* xmap, rank_t cval) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t size = kh * kw, rank = size // 2
    cdef Py_ssize_t y, x, c, a, b, m
    cdef const rank_t* src
    cdef rank_t* buf = <rank_t*>malloc(size * sizeof(rank_t) + 64)
    cdef rank_t* ring = <rank_t*>malloc(kh * stride * sizeof(rank_t) + 64)
    cdef const rank_t** rows = <const rank_t**>malloc(kh * sizeof(rank_t*) + 64)
    if buf == NULL or ring == NULL or rows == NULL:
        free(buf)
        free(ring)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        for x in range(width):
            for c in range(nch):
                m = 0
                for a in range(kh):
                    src = rows[a] + x * nch + c
                    for b in range(kw):
                        buf[m] = src[b * nch]
                        m += 1
                out[y * n + x * nch + c] = _select(buf, size, rank)
    free(buf)
    free(ring)
    free(rows)
    return 0


def median_u8(const uint8_t[:, ::1] img, uint8_t[:, ::1] out, Py_ssize_t nch,
              Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
              const Py_ssize_t[::1] xmap, uint8_t cval, int n_threads=1):
    """Median of uint8 images with a sliding 256-bin histogram (Huang's algorithm).

    Per output pixel the window's leaving column is subtracted and the
    entering column added (2 * kh updates), and the median is found by moving
    from the previous one while tracking how many values lie below it. Padded
    rows (``W + kw - 1`` pixels) are kept in a ring of ``kh`` line buffers.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const uint8_t* ip = &img[0, 0]
    cdef uint8_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median_u8(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1], nch,
                              kh, kw, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median_u8(const uint8_t* img, uint8_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                    Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                    const Py_ssize_t* xmap, uint8_t cval) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t rank = (kh * kw) // 2
    cdef Py_ssize_t y, x, c, a, b, t, lt, m
    cdef uint8_t v
    cdef uint8_t* o
    cdef uint8_t* ring = <uint8_t*>malloc(kh * stride + 64)
    cdef const uint8_t** rows = <const uint8_t**>malloc(kh * sizeof(uint8_t*) + 64)
    cdef Py_ssize_t hist[256]
    if ring == NULL or rows == NULL:
        free(ring)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        o = out + y * n
        for c in range(nch):
            for t in range(256):
                hist[t] = 0
            for a in range(kh):
                for b in range(kw):
                    hist[rows[a][b * nch + c]] += 1
            m = 0
            lt = 0
            while lt + hist[m] <= rank:
                lt += hist[m]
                m += 1
            o[c] = <uint8_t>m
            for x in range(1, width):
                for a in range(kh):
                    v = rows[a][(x - 1) * nch + c]
                    hist[v] -= 1
                    if v < m:
                        lt -= 1
                    v = rows[a][(x + kw - 1) * nch + c]
                    hist[v] += 1
                    if v < m:
                        lt += 1
                if lt > rank:
                    while lt > rank:
                        m -= 1
                        lt -= hist[m]
                else:
                    while lt + hist[m] <= rank:
                        lt += hist[m]
                        m += 1
                o[x * nch + c] = <uint8_t>m
    free(ring)
    free(rows)
    return 0


cdef enum:
    _NET_BLOCK = 128


def median_network(const rank_t[:, ::1] img, rank_t[:, ::1] out, Py_ssize_t nch,
                   Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
                   const Py_ssize_t[::1] xmap, rank_t cval, const int[:, ::1] ops,
                   Py_ssize_t out_slot, int n_threads=1):
    """Median of small windows with a selection network applied across pixels.

    ``ops`` rows are ``(kind, a, b)`` on window slots: kind 0 puts min(a, b)
    in ``a`` and max(a, b) in ``b``; 1 only the min in ``a``; 2 only the max
    in ``b``. After the network, slot ``out_slot`` holds the median. The
    network runs on blocks of values along a padded row (every window element
    is a shifted contiguous stream), so each op is a vectorisable min/max loop.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const rank_t* ip = &img[0, 0]
    cdef rank_t* op = &out[0, 0]
    cdef const int* opsp = &ops[0, 0] if ops.shape[0] > 0 else NULL
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median_network(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1],
                                   nch, kh, kw, &ymap[0], &xmap[0], cval, opsp, ops.shape[0], out_slot)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median_network(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                         Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                         const Py_ssize_t* xmap, rank_t cval, const int* ops, Py_ssize_t nops,
                         Py_ssize_t out_slot) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t size = kh * kw
    cdef Py_ssize_t y, a, b, e, i0, m, k
    cdef rank_t* ta
    cdef rank_t* o
    cdef const rank_t* src
    cdef rank_t* ring = <rank_t*>malloc(kh * stride * sizeof(rank_t) + 64)
    cdef rank_t* tmp = <rank_t*>malloc(size * _NET_BLOCK * sizeof(rank_t) + 64)
    cdef const rank_t** rows = <const rank_t**>malloc(kh * sizeof(rank_t*) + 64)
    if ring == NULL or tmp == NULL or rows == NULL:
        free(ring)
        free(tmp)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        o = out + y * n
        i0 = 0
        while i0 < n:
            m = n - i0 if n - i0 < _NET_BLOCK else _NET_BLOCK
            e = 0
            for a in range(kh):
                for b in range(kw):
                    src = rows[a] + i0 + b * nch
                    ta = tmp + e * _NET_BLOCK
                    for k in range(m):
                        ta[k] = src[k]
                    e += 1
            if nops > 0:
                _apply_ops(tmp, _NET_BLOCK, m, ops, nops)
            ta = tmp + out_slot * _NET_BLOCK
            for k in range(m):
                o[i0 + k] = ta[k]
            i0 += m
    free(ring)
    free(tmp)
    free(rows)
    return 0
