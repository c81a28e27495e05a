# Summed-area tables: plain, squared and 45-degree tilted (OpenCV's conventions).
#
# Every kernel works on an image laid out as (H, W * C) with C interleaved
# channels (a C-contiguous (H, W, C) array reshaped without a copy) and fills
# an (H + 1, (W + 1) * C) table (which may be uninitialised) including its zero
# first row and first C columns.
# Integer images accumulate in int64 (the caller guarantees no overflow),
# floating-point images in double. No validation happens here. The integer
# kernels also fill uint32 tables, which wrap modulo 2**32 by design: the
# difference of four corners is then still the exact sum of any rectangle (or
# tilted rectangle) whose true sum is below 2**32, whatever the image size (the
# cascade scans read uint8 images this way, in half the memory of int64).
from libc.stdint cimport uint8_t, uint16_t, int16_t, int32_t, uint32_t, int64_t
from cython.parallel cimport prange

from cvcore._ext._types cimport real_t
from cvcore._ext._parallel cimport chunks, chunk_start

ctypedef fused int_in_t:
    uint8_t
    uint16_t
    int16_t
    int64_t

# Plain sums of integer images may also go to int32 when the caller has
# proved they fit (cvcore.integral.integral_image(..., dtype=np.int32)).
ctypedef fused int_acc_t:
    int32_t
    uint32_t
    int64_t

# Squared and tilted sums: exact int64, or wrapping uint32 (see above).
ctypedef fused wide_t:
    uint32_t
    int64_t


# uint8 -> int32 plain sums (OpenCV's default depth) with an in-register
# prefix sum over 8 pixels at a time (3 shift-adds, then the row's carry),
# fused with the add of the row above; exact integer arithmetic, so equal to
# the scalar loop. Compiled for x86-64-v3 as well and picked at run time
# (see _convolve.pyx); plain scalar code without GCC vector extensions.
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #include <string.h>
    #include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    #if __GNUC__ >= 12
    #define CVI_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define CVI_CLONES __attribute__((target_clones("avx2", "default")))
    #endif
    #else
    #define CVI_CLONES
    #endif
    #if defined(__GNUC__) && !defined(__clang__)
    #define CVI_VEC 1
    typedef int32_t cvi_v8si __attribute__((vector_size(32)));
    #else
    #define CVI_VEC 0
    #endif

    static CVI_CLONES void cvi_sum_u8_i32(const uint8_t *img, ptrdiff_t h, ptrdiff_t w, int32_t *out)
    {
        ptrdiff_t W1 = w + 1, r, c;
        for (c = 0; c < W1; c++) out[c] = 0;
        for (r = 0; r < h; r++) {
            const uint8_t *s = img + r * w;
            const int32_t *p = out + r * W1 + 1;
            int32_t *o = out + (r + 1) * W1 + 1;
            int32_t run = 0;
            o[-1] = 0;
            c = 0;
    #if CVI_VEC
            {
                /* prefix sums within each 128-bit half (byte shifts), then the
                   lower half's total into the upper half; indices < 8 pick zeros */
                const cvi_v8si z = {0, 0, 0, 0, 0, 0, 0, 0};
                const cvi_v8si m1 = {0, 8, 9, 10, 0, 12, 13, 14};
                const cvi_v8si m2 = {0, 0, 8, 9, 0, 0, 12, 13};
                const cvi_v8si mh = {0, 0, 0, 0, 11, 11, 11, 11};
                const cvi_v8si last = {7, 7, 7, 7, 7, 7, 7, 7};
                cvi_v8si carry = z;  /* the row's running sum in every lane: no scalar round trip */
                for (; c + 8 <= w; c += 8) {
                    cvi_v8si x, above;
                    for (int k = 0; k < 8; k++) x[k] = s[c + k];
                    x += __builtin_shuffle(z, x, m1);
                    x += __builtin_shuffle(z, x, m2);
                    x += __builtin_shuffle(z, x, mh);
                    x += carry;
                    carry = __builtin_shuffle(x, last);
                    memcpy(&above, p + c, sizeof above);
                    x += above;
                    memcpy(o + c, &x, sizeof x);
                }
                run = carry[0];
            }
    #endif
            for (; c < w; c++) {
                run += s[c];
                o[c] = p[c] + run;
            }
        }
    }
    """
    void cvi_sum_u8_i32(const uint8_t* img, Py_ssize_t h, Py_ssize_t w, int32_t* out) noexcept nogil


cdef void _zero_row0_i(int_acc_t[:, ::1] out, Py_ssize_t C) noexcept nogil:
    """Zero the first row and the first C entries of row 1 (the kernels zero
    the first column of the other rows as they go, row by row)."""
    cdef Py_ssize_t c
    for c in range(out.shape[1]):
        out[0, c] = 0
    for c in range(C):
        out[1, c] = 0


cdef void _zero_row0_f(double[:, ::1] out, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t c
    for c in range(out.shape[1]):
        out[0, c] = 0
    for c in range(C):
        out[1, c] = 0


# ---------------------------------------------------------------- plain sums

def sum_table_int(const int_in_t[:, ::1] img, int_acc_t[:, ::1] out, Py_ssize_t channels):
    cdef Py_ssize_t r, c
    cdef int_acc_t run
    if int_in_t is uint8_t and int_acc_t is int32_t:
        if channels == 1:
            with nogil:
                cvi_sum_u8_i32(&img[0, 0], img.shape[0], img.shape[1], &out[0, 0])
            return
    with nogil:
        _zero_row0_i(out, channels)
        if channels != 1:
            _sumc_int(img, out, channels)
        else:
            for r in range(img.shape[0]):
                out[r + 1, 0] = 0
                run = 0
                for c in range(img.shape[1]):
                    run += img[r, c]
                    out[r + 1, c + 1] = out[r, c + 1] + run


cdef void _sumc_int(const int_in_t[:, ::1] img, int_acc_t[:, ::1] out, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t r, c, k, W = img.shape[1] // C
    cdef int_acc_t run
    for r in range(img.shape[0]):
        for k in range(C):
            out[r + 1, k] = 0
            run = 0
            for c in range(W):
                run += img[r, c * C + k]
                out[r + 1, (c + 1) * C + k] = out[r, (c + 1) * C + k] + run


def sum_table_float(const real_t[:, ::1] img, double[:, ::1] out, Py_ssize_t channels):
    with nogil:
        _zero_row0_f(out, channels)
        _sumc_float(img, out, channels)


cdef void _sumc_float(const real_t[:, ::1] img, double[:, ::1] out, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t r, c, k, W = img.shape[1] // C
    cdef double run
    for r in range(img.shape[0]):
        for k in range(C):
            out[r + 1, k] = 0
            run = 0
            for c in range(W):
                run += <double>img[r, c * C + k]
                out[r + 1, (c + 1) * C + k] = out[r, (c + 1) * C + k] + run


# -------------------------------------------------------------- squared sums

def sqsum_table_int(const int_in_t[:, ::1] img, wide_t[:, ::1] out, Py_ssize_t channels):
    cdef Py_ssize_t r, c, k, C = channels, W = img.shape[1] // channels
    cdef wide_t run, v
    with nogil:
        _zero_row0_i(out, channels)
        for r in range(img.shape[0]):
            for k in range(C):
                out[r + 1, k] = 0
                run = 0
                for c in range(W):
                    v = img[r, c * C + k]
                    run += v * v
                    out[r + 1, (c + 1) * C + k] = out[r, (c + 1) * C + k] + run


def sqsum_table_float(const real_t[:, ::1] img, double[:, ::1] out, Py_ssize_t channels):
    cdef Py_ssize_t r, c, k, C = channels, W = img.shape[1] // channels
    cdef double run, v
    with nogil:
        _zero_row0_f(out, channels)
        for r in range(img.shape[0]):
            for k in range(C):
                out[r + 1, k] = 0
                run = 0
                for c in range(W):
                    v = img[r, c * C + k]
                    run += v * v
                    out[r + 1, (c + 1) * C + k] = out[r, (c + 1) * C + k] + run


# -------------------------------------------------------------- tilted sums
#
# T[Y, X] = sum of I[y, x] over y < Y and |x - X + 1| <= Y - 1 - y, i.e. the
# upward-opening triangle whose apex is the pixel (X - 1, Y - 1). Lienhart's
# recurrence needs T at columns -1 and W + 1 of the previous row; both equal a
# value already in the table (T[Y, -1] = T[Y - 1, 0], T[Y, W + 1] = T[Y - 1, W]),
# which gives the closed forms used for the first and last column below.

def tilted_table_int(const int_in_t[:, ::1] img, wide_t[:, ::1] out, Py_ssize_t channels):
    cdef Py_ssize_t Y, X, k, C = channels, H = img.shape[0], W = img.shape[1] // channels
    with nogil:
        _zero_row0_i(out, channels)
        for k in range(C):
            for X in range(1, W + 1):
                out[1, X * C + k] = img[0, (X - 1) * C + k]
            for Y in range(2, H + 1):
                out[Y, k] = out[Y - 1, C + k]
                for X in range(1, W):
                    out[Y, X * C + k] = (out[Y - 1, (X - 1) * C + k] + out[Y - 1, (X + 1) * C + k]
                                         - out[Y - 2, X * C + k]
                                         + img[Y - 1, (X - 1) * C + k] + img[Y - 2, (X - 1) * C + k])
                out[Y, W * C + k] = (out[Y - 1, (W - 1) * C + k]
                                     + img[Y - 1, (W - 1) * C + k] + img[Y - 2, (W - 1) * C + k])


def tilted_table_float(const real_t[:, ::1] img, double[:, ::1] out, Py_ssize_t channels):
    cdef Py_ssize_t Y, X, k, C = channels, H = img.shape[0], W = img.shape[1] // channels
    with nogil:
        _zero_row0_f(out, channels)
        for k in range(C):
            for X in range(1, W + 1):
                out[1, X * C + k] = img[0, (X - 1) * C + k]
            for Y in range(2, H + 1):
                out[Y, k] = out[Y - 1, C + k]
                for X in range(1, W):
                    out[Y, X * C + k] = (out[Y - 1, (X - 1) * C + k] + out[Y - 1, (X + 1) * C + k]
                                         - out[Y - 2, X * C + k]
                                         + (<double>img[Y - 1, (X - 1) * C + k]
                                            + <double>img[Y - 2, (X - 1) * C + k]))
                out[Y, W * C + k] = (out[Y - 1, (W - 1) * C + k]
                                     + (<double>img[Y - 1, (W - 1) * C + k]
                                        + <double>img[Y - 2, (W - 1) * C + k]))


# ------------------------------------------- all three tables in one pass
#
# Single-channel fast path of integral_images: the image is read once, row by
# row, and each output row is written right after the previous one. Same
# arithmetic (and summation order) as the separate kernels above.

def tables3_int(const int_in_t[:, ::1] img, int64_t[:, ::1] s, int64_t[:, ::1] q, int64_t[:, ::1] t):
    cdef Py_ssize_t r, c, X, Y, H = img.shape[0], W = img.shape[1]
    cdef int64_t run, runq, v
    with nogil:
        _zero_row0_i(s, 1)
        _zero_row0_i(q, 1)
        _zero_row0_i(t, 1)
        for r in range(H):
            s[r + 1, 0] = 0
            q[r + 1, 0] = 0
            run = 0
            runq = 0
            for c in range(W):
                v = img[r, c]
                run += v
                runq += v * v
                s[r + 1, c + 1] = s[r, c + 1] + run
                q[r + 1, c + 1] = q[r, c + 1] + runq
            Y = r + 1
            if Y == 1:
                for X in range(1, W + 1):
                    t[1, X] = img[0, X - 1]
            else:
                t[Y, 0] = t[Y - 1, 1]
                for X in range(1, W):
                    t[Y, X] = (t[Y - 1, X - 1] + t[Y - 1, X + 1] - t[Y - 2, X]
                               + img[Y - 1, X - 1] + img[Y - 2, X - 1])
                t[Y, W] = t[Y - 1, W - 1] + img[Y - 1, W - 1] + img[Y - 2, W - 1]


def tables3_float(const real_t[:, ::1] img, double[:, ::1] s, double[:, ::1] q, double[:, ::1] t):
    cdef Py_ssize_t r, c, X, Y, H = img.shape[0], W = img.shape[1]
    cdef double run, runq, v
    with nogil:
        _zero_row0_f(s, 1)
        _zero_row0_f(q, 1)
        _zero_row0_f(t, 1)
        for r in range(H):
            s[r + 1, 0] = 0
            q[r + 1, 0] = 0
            run = 0
            runq = 0
            for c in range(W):
                v = img[r, c]
                run += v
                runq += v * v
                s[r + 1, c + 1] = s[r, c + 1] + run
                q[r + 1, c + 1] = q[r, c + 1] + runq
            Y = r + 1
            if Y == 1:
                for X in range(1, W + 1):
                    t[1, X] = img[0, X - 1]
            else:
                t[Y, 0] = t[Y - 1, 1]
                for X in range(1, W):
                    t[Y, X] = (t[Y - 1, X - 1] + t[Y - 1, X + 1] - t[Y - 2, X]
                               + (<double>img[Y - 1, X - 1] + <double>img[Y - 2, X - 1]))
                t[Y, W] = t[Y - 1, W - 1] + (<double>img[Y - 1, W - 1] + <double>img[Y - 2, W - 1])


# ------------------------------------ wrapping uint32 tables on several threads
#
# The cascade scans' sum and squared-sum tables of a uint8 image, modulo 2**32:
# first every row's running sums (rows shared among threads), then each column's
# running sum down the rows (columns shared among threads). Integer arithmetic
# modulo 2**32 is exact and associative, so the tables equal sum_table_int's and
# sqsum_table_int's uint32 results for any number of threads.

def sums_u8_u32(const uint8_t[:, ::1] img, uint32_t[:, ::1] s, uint32_t[:, ::1] q, bint squared, int n_threads):
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], nc, t
    with nogil:
        nc = chunks(H, n_threads)
        for t in prange(nc, num_threads=nc, schedule='static'):
            _row_sums(img, s, q, squared, chunk_start(H, nc, t), chunk_start(H, nc, t + 1))
        nc = chunks(W + 1, n_threads)
        for t in prange(nc, num_threads=nc, schedule='static'):
            _column_sums(s, q, squared, chunk_start(W + 1, nc, t), chunk_start(W + 1, nc, t + 1))


cdef void _row_sums(const uint8_t[:, ::1] img, uint32_t[:, ::1] s, uint32_t[:, ::1] q, bint squared,
                    Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t r, c
    cdef uint32_t run, runq, v
    for r in range(r0, r1):
        s[r + 1, 0] = 0
        run = 0
        for c in range(img.shape[1]):
            run += img[r, c]
            s[r + 1, c + 1] = run
        if squared:
            q[r + 1, 0] = 0
            runq = 0
            for c in range(img.shape[1]):
                v = img[r, c]
                runq += v * v
                q[r + 1, c + 1] = runq


cdef void _column_sums(uint32_t[:, ::1] s, uint32_t[:, ::1] q, bint squared, Py_ssize_t c0,
                       Py_ssize_t c1) noexcept nogil:
    cdef Py_ssize_t r, c
    for c in range(c0, c1):
        s[0, c] = 0
        if squared:
            q[0, c] = 0
    for r in range(1, s.shape[0]):   # row by row: each thread's columns stay contiguous
        for c in range(c0, c1):
            s[r, c] += s[r - 1, c]
        if squared:
            for c in range(c0, c1):
                q[r, c] += q[r - 1, c]
