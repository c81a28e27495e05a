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
from libc.stdlib cimport malloc, calloc, free

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


# uint8 -> int32 or int64 plain sums of a single-channel image, one row at a
# time: the in-register prefix sums of 16 (AVX-512) or 8 (AVX2) pixels in int32
# (at most 16 * 255, exact), plus the row's running sum so far (a vector whose
# lanes all hold it: one add per block on the dependency chain, the next
# block's carry being this block's broadcast total), plus the row above
# (widened to int64 for int64 tables). Integer arithmetic is exact and the
# carry is as wide as the table, so every variant equals the scalar loop for
# any image width. The x86-64 variants are compiled with target attributes
# and picked at run time from the CPU (libgcc checks that the OS saves the
# AVX-512/AVX registers too); elsewhere, or on older CPUs, the scalar loop runs.
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    #define CVI_X86 1
    #include <immintrin.h>
    #define CVI_AVX512 __attribute__((target("avx512f")))
    #define CVI_AVX2 __attribute__((target("avx2")))
    #else
    #define CVI_X86 0
    #endif
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && __GNUC__ >= 12
    #define CVI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define CVI_CLONES
    #endif

    /* Rows 0..rows-1 of `img` (width w) into the table rows starting at `out`
       (row stride w + 1, column 0 included); `above` is column 1 of the table
       row above the first one; SQ: sums of squared pixels. BLOCK handles STEP
       pixels from column c of the row `s` (table row `p` above, output `o`)
       and updates `carry`; RUN(carry) is the row's running sum after the
       blocks, for the tail. */
    #define CVI_SUM_ROWS(NAME, ATTR, T, CARRY_T, CARRY0, STEP, SQ, BLOCK, RUN)        \\
    static ATTR void NAME(const uint8_t *img, ptrdiff_t w, const T *above, T *out,    \\
                          ptrdiff_t rows)                                             \\
    {                                                                                 \\
        for (ptrdiff_t r = 0; r < rows; r++) {                                        \\
            const uint8_t *s = img + r * w;                                           \\
            const T *p = r ? out + (r - 1) * (w + 1) + 1 : above;                     \\
            T *o = out + r * (w + 1) + 1;                                             \\
            CARRY_T carry = CARRY0;                                                   \\
            ptrdiff_t c = 0;                                                          \\
            o[-1] = 0;                                                                \\
            for (; c + STEP <= w; c += STEP) { BLOCK }                                \\
            T run = RUN(carry);                                                       \\
            for (; c < w; c++) {                                                      \\
                run += SQ ? s[c] * s[c] : s[c];                                       \\
                o[c] = p[c] + run;                                                    \\
            }                                                                         \\
        }                                                                             \\
    }

    /* one pixel a step: the whole row in the loop, no tail; SQ: squared pixels */
    #define CVI_SCALAR_RUN(carry) (carry)
    #define CVI_SCALAR_BLOCK(SQ) carry += SQ ? s[c] * s[c] : s[c]; o[c] = p[c] + carry;
    CVI_SUM_ROWS(cvi_rows_i32_scalar, , int32_t, int32_t, 0, 1, 0, CVI_SCALAR_BLOCK(0), CVI_SCALAR_RUN)
    CVI_SUM_ROWS(cvi_rows_i64_scalar, , int64_t, int64_t, 0, 1, 0, CVI_SCALAR_BLOCK(0), CVI_SCALAR_RUN)
    CVI_SUM_ROWS(cvi_rows_sq64_scalar, , int64_t, int64_t, 0, 1, 1, CVI_SCALAR_BLOCK(1), CVI_SCALAR_RUN)

    #if CVI_X86
    /* prefix sums of the 16 pixels (or squared pixels, at most 16 * 255**2)
       at s, as int32 lanes: shifts by 1, 2, 4, 8 lanes */
    static CVI_AVX512 inline __m512i cvi_pre16(const uint8_t *s, int sq)
    {
        const __m512i z = _mm512_setzero_si512();
        __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)s));
        if (sq) x = _mm512_mullo_epi32(x, x);
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 15));
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 14));
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 12));
        return _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 8));
    }

    /* prefix sums of the 8 pixels (or squared pixels) at s: within each 128-bit
       half, then the lower half's total (lane 3) into the upper half */
    static CVI_AVX2 inline __m256i cvi_pre8(const uint8_t *s, int sq)
    {
        __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)s));
        if (sq) x = _mm256_mullo_epi32(x, x);
        x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
        x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
        return _mm256_add_epi32(x, _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xFF));
    }

    #define CVI_RUN512(carry) _mm_cvtsi128_si64(_mm512_castsi512_si128(carry))
    #define CVI_RUN256(carry) _mm_cvtsi128_si64(_mm256_castsi256_si128(carry))

    CVI_SUM_ROWS(cvi_rows_i32_avx512, CVI_AVX512, int32_t, __m512i, _mm512_setzero_si512(), 16, 0,
        __m512i x = cvi_pre16(s + c, 0);
        _mm512_storeu_si512(o + c, _mm512_add_epi32(_mm512_add_epi32(x, carry), _mm512_loadu_si512(p + c)));
        carry = _mm512_add_epi32(carry, _mm512_permutexvar_epi32(_mm512_set1_epi32(15), x));,
        (int32_t)CVI_RUN512)

    #define CVI_BLOCK512_I64(SQ)                                                                               \\
        __m512i x = cvi_pre16(s + c, SQ);                                                                       \\
        __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(x));                                          \\
        __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(x, 1));                                    \\
        _mm512_storeu_si512(o + c, _mm512_add_epi64(_mm512_add_epi64(lo, carry), _mm512_loadu_si512(p + c)));   \\
        _mm512_storeu_si512(o + c + 8, _mm512_add_epi64(_mm512_add_epi64(hi, carry), _mm512_loadu_si512(p + c + 8))); \\
        carry = _mm512_add_epi64(carry, _mm512_permutexvar_epi64(_mm512_set1_epi64(7), hi));
    CVI_SUM_ROWS(cvi_rows_i64_avx512, CVI_AVX512, int64_t, __m512i, _mm512_setzero_si512(), 16, 0,
        CVI_BLOCK512_I64(0), CVI_RUN512)
    CVI_SUM_ROWS(cvi_rows_sq64_avx512, CVI_AVX512, int64_t, __m512i, _mm512_setzero_si512(), 16, 1,
        CVI_BLOCK512_I64(1), CVI_RUN512)

    CVI_SUM_ROWS(cvi_rows_i32_avx2, CVI_AVX2, int32_t, __m256i, _mm256_setzero_si256(), 8, 0,
        __m256i x = cvi_pre8(s + c, 0);
        __m256i a = _mm256_loadu_si256((const __m256i *)(p + c));
        _mm256_storeu_si256((__m256i *)(o + c), _mm256_add_epi32(_mm256_add_epi32(x, carry), a));
        carry = _mm256_add_epi32(carry, _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(7)));,
        (int32_t)CVI_RUN256)

    #define CVI_BLOCK256_I64(SQ)                                                                 \\
        __m256i x = cvi_pre8(s + c, SQ);                                                          \\
        __m256i lo = _mm256_cvtepu32_epi64(_mm256_castsi256_si128(x));                            \\
        __m256i hi = _mm256_cvtepu32_epi64(_mm256_extracti128_si256(x, 1));                       \\
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(p + c));                                \\
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(p + c + 4));                            \\
        _mm256_storeu_si256((__m256i *)(o + c), _mm256_add_epi64(_mm256_add_epi64(lo, carry), a0));      \\
        _mm256_storeu_si256((__m256i *)(o + c + 4), _mm256_add_epi64(_mm256_add_epi64(hi, carry), a1));  \\
        carry = _mm256_add_epi64(carry, _mm256_permute4x64_epi64(hi, 0xFF));
    CVI_SUM_ROWS(cvi_rows_i64_avx2, CVI_AVX2, int64_t, __m256i, _mm256_setzero_si256(), 8, 0,
        CVI_BLOCK256_I64(0), CVI_RUN256)
    CVI_SUM_ROWS(cvi_rows_sq64_avx2, CVI_AVX2, int64_t, __m256i, _mm256_setzero_si256(), 8, 1,
        CVI_BLOCK256_I64(1), CVI_RUN256)
    #endif

    /* Best variant this CPU runs: 2 AVX-512, 1 AVX2, 0 scalar. */
    static int cvi_isa(void)
    {
    #if CVI_X86
        if (__builtin_cpu_supports("avx512f")) return 2;
        if (__builtin_cpu_supports("avx2")) return 1;
    #endif
        return 0;
    }

    #if CVI_X86
    #define CVI_VECTOR_CASES(SUF)                                                         \\
        case 2: cvi_rows_##SUF##_avx512(img, w, above, out, rows); return;                \\
        case 1: cvi_rows_##SUF##_avx2(img, w, above, out, rows); return;
    #else
    #define CVI_VECTOR_CASES(SUF)
    #endif

    /* The variant `isa` (the best one when negative or beyond this CPU). */
    #define CVI_DISPATCH(SUF, T)                                                          \\
    static void cvi_rows_##SUF(const uint8_t *img, ptrdiff_t w, const T *above, T *out,  \\
                               ptrdiff_t rows, int isa)                                  \\
    {                                                                                     \\
        int best = cvi_isa();                                                             \\
        switch (isa < 0 || isa > best ? best : isa) {                                     \\
            CVI_VECTOR_CASES(SUF)                                                         \\
            default: cvi_rows_##SUF##_scalar(img, w, above, out, rows);                   \\
        }                                                                                 \\
    }
    CVI_DISPATCH(i32, int32_t)
    CVI_DISPATCH(i64, int64_t)
    CVI_DISPATCH(sq64, int64_t)

    /* Row Y >= 2 of a tilted table from rows Y - 1 (t1) and Y - 2 (t2) and image
       rows Y - 1 (a) and Y - 2 (b): the recurrence of tilted_table_int below,
       vectorised along the row (every input is an earlier row). */
    static CVI_CLONES void cvi_tilted_row(const uint8_t *restrict a, const uint8_t *restrict b,
                                          const int64_t *restrict t1, const int64_t *restrict t2,
                                          int64_t *restrict t, ptrdiff_t w)
    {
        t[0] = t1[1];
        for (ptrdiff_t x = 1; x < w; x++)
            t[x] = t1[x - 1] + t1[x + 1] - t2[x] + ((int64_t)a[x - 1] + b[x - 1]);
        t[w] = t1[w - 1] + ((int64_t)a[w - 1] + b[w - 1]);
    }

    /* tot[c] += column sums of rows 0..rows-1 of img (width w), in uint16 over
       bands of 257 rows (257 * 255 = 65535 fits); acc holds w uint16. */
    static CVI_CLONES void cvi_column_sums(const uint8_t *img, ptrdiff_t w, ptrdiff_t rows,
                                           uint16_t *acc, int64_t *tot)
    {
        for (ptrdiff_t r0 = 0; r0 < rows; r0 += 257) {
            ptrdiff_t r1 = r0 + 257 < rows ? r0 + 257 : rows;
            for (ptrdiff_t c = 0; c < w; c++) acc[c] = 0;
            for (ptrdiff_t r = r0; r < r1; r++) {
                const uint8_t *s = img + r * w;
                for (ptrdiff_t c = 0; c < w; c++) acc[c] += s[c];
            }
            for (ptrdiff_t c = 0; c < w; c++) tot[c] += acc[c];
        }
    }
    """
    int cvi_isa() noexcept nogil
    void cvi_rows_i32(const uint8_t* img, Py_ssize_t w, const int32_t* above, int32_t* out, Py_ssize_t rows,
                      int isa) noexcept nogil
    void cvi_rows_i64(const uint8_t* img, Py_ssize_t w, const int64_t* above, int64_t* out, Py_ssize_t rows,
                      int isa) noexcept nogil
    void cvi_rows_sq64(const uint8_t* img, Py_ssize_t w, const int64_t* above, int64_t* out, Py_ssize_t rows,
                       int isa) noexcept nogil
    void cvi_column_sums(const uint8_t* img, Py_ssize_t w, Py_ssize_t rows, uint16_t* acc, int64_t* tot) noexcept nogil
    void cvi_tilted_row(const uint8_t* a, const uint8_t* b, const int64_t* t1, const int64_t* t2, int64_t* t,
                        Py_ssize_t w) noexcept nogil


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

def vector_isa():
    """The uint8 plain-sum variant this CPU runs: 2 AVX-512, 1 AVX2, 0 scalar."""
    return cvi_isa()


def sum_table_int(const int_in_t[:, ::1] img, int_acc_t[:, ::1] out, Py_ssize_t channels,
                  int n_threads=1, int isa=-1):
    """Plain sums; a single-channel uint8 image into int32 or int64 runs the
    vector kernels (variant ``isa``, the best when negative) on ``n_threads``."""
    cdef Py_ssize_t r, c
    cdef int_acc_t run
    if int_in_t is uint8_t:
        if channels == 1 and int_acc_t is not uint32_t:
            _sum_u8(img, out, n_threads, isa)
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


# Several threads: each takes a block of rows and needs the table row above
# its first one, i.e. the running sums along that row of the column sums of
# every earlier block. The column sums of every block but the last come first
# (in parallel), then each thread adds up those of the blocks before its
# own, takes their running sums and fills its block. Exact integers: the same
# table for every thread count.
cdef void _sum_u8(const uint8_t[:, ::1] img, int_acc_t[:, ::1] out, int n_threads, int isa) noexcept:
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], nc, t, r0, u, c
    cdef int64_t *cols
    cdef uint16_t *acc
    cdef int_acc_t *above
    cdef int64_t run
    with nogil:
        _zero_row0_i(out, 0)
        nc = chunks(H, n_threads)
        if nc <= 1:
            _rows_u8(img, out, 0, H, &out[0, 1], isa)
            return
        cols = <int64_t *>calloc(nc * W, sizeof(int64_t))
        acc = <uint16_t *>malloc(nc * W * sizeof(uint16_t))
        above = <int_acc_t *>malloc(nc * W * sizeof(int_acc_t))
        if cols == NULL or acc == NULL or above == NULL:   # no memory for the blocks: one thread
            _rows_u8(img, out, 0, H, &out[0, 1], isa)
        else:
            for t in prange(nc - 1, num_threads=nc - 1, schedule='static'):
                r0 = chunk_start(H, nc, t)
                cvi_column_sums(&img[r0, 0], W, chunk_start(H, nc, t + 1) - r0, acc + t * W, cols + t * W)
            for t in prange(nc, num_threads=nc, schedule='static'):
                r0 = chunk_start(H, nc, t)
                if t == 0:
                    _rows_u8(img, out, 0, chunk_start(H, nc, 1), &out[0, 1], isa)
                else:
                    run = 0
                    for c in range(W):
                        for u in range(t):
                            run = run + cols[u * W + c]
                        above[t * W + c] = <int_acc_t>run
                    _rows_u8(img, out, r0, chunk_start(H, nc, t + 1), above + t * W, isa)
        free(cols)
        free(acc)
        free(above)


cdef inline void _rows_u8(const uint8_t[:, ::1] img, int_acc_t[:, ::1] out, Py_ssize_t r0, Py_ssize_t r1,
                          const int_acc_t *above, int isa) noexcept nogil:
    """Image rows r0..r1-1 into table rows r0+1..r1; ``above`` is table row r0 from column 1."""
    if int_acc_t is int32_t:
        cvi_rows_i32(&img[r0, 0], img.shape[1], above, &out[r0 + 1, 0], r1 - r0, isa)
    elif int_acc_t is int64_t:
        cvi_rows_i64(&img[r0, 0], img.shape[1], above, &out[r0 + 1, 0], r1 - r0, isa)


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
    """Four rows at a time: their running sums are independent chains (each is
    bound by the latency of a floating-point add per pixel), and every entry is
    still the row above plus the running sum, added in the same order as one
    row at a time: the same table, bit for bit."""
    cdef Py_ssize_t r = 0, c, k, j, W = img.shape[1] // C, H = img.shape[0]
    cdef double run0, run1, run2, run3
    while r + 4 <= H:
        for k in range(C):
            out[r + 1, k] = out[r + 2, k] = out[r + 3, k] = out[r + 4, k] = 0
            run0 = run1 = run2 = run3 = 0
            for c in range(W):
                j = (c + 1) * C + k
                run0 += <double>img[r, c * C + k]
                run1 += <double>img[r + 1, c * C + k]
                run2 += <double>img[r + 2, c * C + k]
                run3 += <double>img[r + 3, c * C + k]
                out[r + 1, j] = out[r, j] + run0
                out[r + 2, j] = out[r + 1, j] + run1
                out[r + 3, j] = out[r + 2, j] + run2
                out[r + 4, j] = out[r + 3, j] + run3
        r += 4
    for r in range(r, H):
        for k in range(C):
            out[r + 1, k] = 0
            run0 = 0
            for c in range(W):
                run0 += <double>img[r, c * C + k]
                out[r + 1, (c + 1) * C + k] = out[r, (c + 1) * C + k] + run0


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
    if int_in_t is uint8_t and wide_t is int64_t:
        if channels == 1:
            with nogil:
                _tilted_u8(img, out)
            return
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


cdef void _tilted_u8(const uint8_t[:, ::1] img, int64_t[:, ::1] out) noexcept nogil:
    """tilted_table_int of a single-channel uint8 image into int64, rows 2.. vectorised."""
    cdef Py_ssize_t Y, X, W = img.shape[1]
    _zero_row0_i(out, 1)
    for X in range(1, W + 1):
        out[1, X] = img[0, X - 1]
    for Y in range(2, img.shape[0] + 1):
        cvi_tilted_row(&img[Y - 1, 0], &img[Y - 2, 0], &out[Y - 1, 0], &out[Y - 2, 0], &out[Y, 0], W)


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
# arithmetic (and summation order) as the separate kernels above. (uint8
# images take tables3_u8 instead.)

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


def tables3_u8(const uint8_t[:, ::1] img, int64_t[:, ::1] s, int64_t[:, ::1] q, int64_t[:, ::1] t, int isa=-1):
    """The three tables of a uint8 image by the vector kernels (variant ``isa``,
    the best when negative), one table after the other: three passes over an
    image that stays in cache, each faster than a third of the fused loop."""
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1]
    with nogil:
        _zero_row0_i(s, 0)
        _zero_row0_i(q, 0)
        cvi_rows_i64(&img[0, 0], W, &s[0, 1], &s[1, 0], H, isa)
        cvi_rows_sq64(&img[0, 0], W, &q[0, 1], &q[1, 0], H, isa)
        _tilted_u8(img, t)


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
