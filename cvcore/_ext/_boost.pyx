# Weak-learner searches for cvcore.boosting: the best decision stump over
# pre-sorted feature values (discrete AdaBoost: smallest weighted error; Gentle
# AdaBoost: smallest weighted squared error of a two-leaf regression stump),
# and per-feature histograms of sample weights over 256 categories (LBP
# stumps). Features are shared among OpenMP threads in contiguous blocks; each
# block keeps the first best stump of a serial scan, and the blocks are
# compared in order with a strict "<", so the answer is the serial one for any
# thread count. The stump search's pre-sort (a stable radix sort of each
# feature's values) runs here too, a feature per thread at a time.
from libc.stdint cimport int8_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start


cdef struct Weight:
    double s            # signed weight: +w for a positive, -w for a negative
    double w


cdef struct Best:
    double err
    Py_ssize_t f, k
    double a, b         # discrete: polarity, unused; gentle: left / right leaf values


cdef void _scan_discrete(const float* vals, const uint16_t* idx, Py_ssize_t n, const Weight* sw,
                         double tpos, double tneg, Py_ssize_t f, Best* best) noexcept nogil:
    # With d = (positive weight left) - (negative weight left) of a threshold, the error
    # of "left = face" is tpos - d and of "right = face" is tneg + d.
    cdef Py_ssize_t k
    cdef double d = 0, e1, e2
    cdef float prev = vals[0]
    for k in range(n + 1):
        # threshold between sorted k-1 and k: the first k samples go left
        if k == 0 or k == n or vals[k] != prev:
            e1 = tpos - d
            e2 = tneg + d
            if e1 < best.err or e2 < best.err:
                best.f = f
                best.k = k
                if e1 <= e2:
                    best.err = e1
                    best.a = 1
                else:
                    best.err = e2
                    best.a = -1
        if k < n:
            prev = vals[k]
            d += sw[idx[k]].s


cdef void _scan_gentle(const float* vals, const uint16_t* idx, Py_ssize_t n, const Weight* sw,
                       double stot, double wtot, Py_ssize_t f, Best* best) noexcept nogil:
    # A leaf's weighted-least-squares value is its mean label s / w, and the stump's squared
    # error is wtot - sL^2 / wL - sR^2 / wR (labels +-1). Only real splits (both sides non-empty).
    cdef Py_ssize_t k
    cdef double sl = 0, wl = 0, sr, wr, e
    for k in range(1, n):
        sl += sw[idx[k - 1]].s
        wl += sw[idx[k - 1]].w
        if vals[k] != vals[k - 1]:
            sr = stot - sl
            wr = wtot - wl
            if wl > 0 and wr > 0:
                e = wtot - sl * sl / wl - sr * sr / wr
                if e < best.err:
                    best.err = e
                    best.f = f
                    best.k = k
                    best.a = sl / wl
                    best.b = sr / wr


def best_stump(const float[:, ::1] sorted_values, const uint16_t[:, ::1] order, const double[::1] weights,
               const int8_t[::1] labels, bint gentle, int n_threads, double[::1] result):
    """The best stump over all features (rows of ``sorted_values``; ``order[f]`` sorts the sample
    indices by feature f). Writes ``result = (feature, threshold, a, b, error)``: discrete, the
    stump says face when ``value < threshold`` (a = +1) or ``>= threshold`` (a = -1) and error is
    the weighted error; gentle, a and b are the values of ``value < threshold`` and of the rest and
    error the weighted squared error. ``error = inf`` when no feature splits the samples (gentle)."""
    cdef Py_ssize_t nf = sorted_values.shape[0], n = sorted_values.shape[1], nc, t, f, k
    cdef double tpos = 0, tneg = 0, stot = 0, wtot = 0
    cdef Weight* sw
    cdef Best* bests
    cdef Best best
    cdef float lo, hi, thr
    if (order.shape[0] != nf or order.shape[1] != n or weights.shape[0] != n or labels.shape[0] != n
            or n < 1 or nf < 1):
        raise ValueError("sorted_values, order, weights and labels do not match (or are empty)")
    if result.shape[0] != 5:
        raise ValueError("result must hold 5 values")
    nc = chunks(nf, n_threads)
    sw = <Weight*>malloc(n * sizeof(Weight))
    bests = <Best*>malloc(max(nc, 1) * sizeof(Best))
    if sw == NULL or bests == NULL:
        free(sw)
        free(bests)
        raise MemoryError()
    with nogil:
        for k in range(n):
            sw[k].w = weights[k]
            sw[k].s = weights[k] if labels[k] > 0 else -weights[k]
            if labels[k] > 0:
                tpos += weights[k]
            else:
                tneg += weights[k]
            stot += sw[k].s
            wtot += weights[k]
        for t in prange(nc, num_threads=nc, schedule='static'):
            bests[t].err = 1e300
            bests[t].f = 0
            bests[t].k = 0
            bests[t].a = 0
            bests[t].b = 0
            for f in range(chunk_start(nf, nc, t), chunk_start(nf, nc, t + 1)):
                if gentle:
                    _scan_gentle(&sorted_values[f, 0], &order[f, 0], n, sw, stot, wtot, f, &bests[t])
                else:
                    _scan_discrete(&sorted_values[f, 0], &order[f, 0], n, sw, tpos, tneg, f, &bests[t])
        best = bests[0]
        for t in range(1, nc):
            if bests[t].err < best.err:
                best = bests[t]
    free(sw)
    free(bests)
    if best.err >= 1e300:
        result[0] = 0
        result[1] = 0
        result[2] = 0
        result[3] = 0
        result[4] = float("inf")
        return
    f = best.f
    k = best.k
    if k == 0:
        thr = sorted_values[f, 0] - (1.0 + 0.5 * abs(sorted_values[f, 0]))
    elif k == n:
        thr = sorted_values[f, n - 1] + (1.0 + 0.5 * abs(sorted_values[f, n - 1]))
    else:
        lo = sorted_values[f, k - 1]
        hi = sorted_values[f, k]
        thr = <float>(0.5 * (<double>lo + <double>hi))
        if not (thr > lo):
            thr = hi
    result[0] = f
    result[1] = thr
    result[2] = best.a
    result[3] = best.b
    result[4] = best.err


def category_histograms(const uint8_t[:, ::1] codes, const double[::1] signed_weights,
                        const double[::1] weights, double[:, ::1] hist_signed, double[:, ::1] hist_weights,
                        int n_threads):
    """``hist_signed[f, c]``: the sum of ``signed_weights`` over the samples whose feature f has
    category c (samples in order); ``hist_weights`` likewise with ``weights``, when it has rows
    (pass a ``(0, 256)`` array to skip it)."""
    cdef Py_ssize_t nf = codes.shape[0], n = codes.shape[1], nc, t, f, i, c
    cdef bint both = hist_weights.shape[0] > 0
    cdef const uint8_t* row
    cdef double* hs
    cdef double* hw
    if (signed_weights.shape[0] != n or hist_signed.shape[0] != nf or hist_signed.shape[1] != 256
            or (both and (weights.shape[0] != n or hist_weights.shape[0] != nf or hist_weights.shape[1] != 256))):
        raise ValueError("codes, weights and histograms do not match")
    nc = chunks(nf, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            for f in range(chunk_start(nf, nc, t), chunk_start(nf, nc, t + 1)):
                row = &codes[f, 0]
                hs = &hist_signed[f, 0]
                for c in range(256):
                    hs[c] = 0
                for i in range(n):
                    hs[row[i]] += signed_weights[i]
                if both:
                    hw = &hist_weights[f, 0]
                    for c in range(256):
                        hw[c] = 0
                    for i in range(n):
                        hw[row[i]] += weights[i]


cdef inline uint32_t _sort_key(float v) noexcept nogil:
    """An unsigned key that orders like the float (finite values; -0.0 made +0.0 first, as it
    compares equal to it)."""
    cdef uint32_t b
    v = v + <float>0.0
    memcpy(&b, &v, 4)
    return ~b if b >> 31 else b | 0x80000000u


cdef void _radix_sorted_row(const float* x, Py_ssize_t n, uint32_t* keys, uint16_t* idx, Py_ssize_t* count,
                            float* out_values, uint16_t* out_order) noexcept nogil:
    """Stable LSD radix sort of ``x[0 .. n)`` on 11 + 11 + 10 bit digits; ``keys`` and ``idx`` hold
    ``2 n`` entries (two buffers each), ``count`` 2048."""
    cdef Py_ssize_t i, d, shift, pos, c
    cdef uint32_t* k0 = keys
    cdef uint32_t* k1 = keys + n
    cdef uint16_t* i0 = idx
    cdef uint16_t* i1 = idx + n
    cdef uint32_t* tk
    cdef uint16_t* ti
    for i in range(n):
        k0[i] = _sort_key(x[i])
        i0[i] = <uint16_t>i
    for d in range(3):
        shift = 11 * d
        for c in range(2048):
            count[c] = 0
        for i in range(n):
            count[(k0[i] >> shift) & 2047] += 1
        if count[(k0[0] >> shift) & 2047] == n:
            continue                    # one bucket: this digit leaves the order as it is
        pos = 0
        for c in range(2048):
            i = count[c]
            count[c] = pos
            pos += i
        for i in range(n):
            c = (k0[i] >> shift) & 2047
            k1[count[c]] = k0[i]
            i1[count[c]] = i0[i]
            count[c] += 1
        tk = k0
        k0 = k1
        k1 = tk
        ti = i0
        i0 = i1
        i1 = ti
    for i in range(n):
        out_order[i] = i0[i]
        out_values[i] = x[i0[i]]


def presort_rows(const float[:, ::1] values, float[:, ::1] sorted_values, uint16_t[:, ::1] order, int n_threads):
    """Each row of ``values`` (features x samples, at most 65536 samples) sorted increasingly:
    ``order[f]`` the sample indices (ties in index order, as a stable sort), ``sorted_values[f]``
    the values in that order (the same floats, -0.0 included). Rows go to ``n_threads`` threads."""
    cdef Py_ssize_t nf = values.shape[0], n = values.shape[1], nc, t, f
    cdef uint32_t* keys
    cdef uint16_t* idx
    cdef Py_ssize_t* count
    if (sorted_values.shape[0] != nf or sorted_values.shape[1] != n or order.shape[0] != nf
            or order.shape[1] != n or n > 65536):
        raise ValueError("values, sorted_values and order do not match")
    if nf == 0 or n == 0:
        return
    nc = chunks(nf, n_threads)
    keys = <uint32_t*>malloc(nc * 2 * n * sizeof(uint32_t))
    idx = <uint16_t*>malloc(nc * 2 * n * sizeof(uint16_t))
    count = <Py_ssize_t*>malloc(nc * 2048 * sizeof(Py_ssize_t))
    if keys == NULL or idx == NULL or count == NULL:
        free(keys)
        free(idx)
        free(count)
        raise MemoryError()
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            for f in range(chunk_start(nf, nc, t), chunk_start(nf, nc, t + 1)):
                _radix_sorted_row(&values[f, 0], n, keys + 2 * n * t, idx + 2 * n * t, count + 2048 * t,
                                  &sorted_values[f, 0], &order[f, 0])
    free(keys)
    free(idx)
    free(count)
