# Linear filtering kernels: separable and general 2-D correlation.
#
# Layout: an image arrives as a C-contiguous (H, W * C) float32/float64 array
# (C channels interleaved, filtered independently). Borders are handled by
# index maps built in Python (cvcore.filters._index_map): ``ymap[p]`` is the
# source row of padded row ``p`` (``p = y + j`` for output row ``y`` and tap
# ``j``), ``xmap[p]`` the source column of padded column ``p``; -1 means
# "outside, use cval". The kernels never check anything.
#
# Row bands: a kernel computes ``out.shape[0]`` rows from the padded rows that
# ``ymap`` names, so Python can pass ``out[r0:r1]`` with ``ymap[r0:r1 + kh - 1]``
# (and the whole image) to compute one band of rows; rows are independent, so
# banded results are bit-identical to one call. cvcore._filtering runs long
# filters in bands so that Ctrl-C is honoured between them.
#
# Speed: every inner loop runs over a contiguous run of floats with a fixed
# stride between taps so that gcc -O3 vectorises it. The separable filter does
# one fused pass per output row: the vertical (axis 0) taps are accumulated
# over whole input rows into the interior of a padded line buffer, the border
# of the buffer is filled from the map, and the horizontal (axis 1) taps run
# over the buffer into the output row. No full-size temporary is written.
# Symmetric and antisymmetric kernels use half the multiplications.
# wsum runs on 512-bit vectors where the CPU has AVX-512, and aligns its
# blocks on its first source; line buffers and rings are placed so that the
# rows a pass reads and the line it writes share that alignment.
#
# Threads: a call's rows are cut into shared blocks that the threads take in
# turn (see _parallel.pxd), so a thread that starts late costs only its delay;
# each thread keeps its line buffers, and its row ring starts afresh at each
# block's first row; rows are computed exactly as in one serial pass
# (bit-identical). Kernels with a row ring use blocks of RING_BLOCK_ROWS rows
# or more on average: refilling the ring (kh - 1 rows copied or converted at a
# block's first row) then costs a few per cent of the block's work at most,
# whatever kh (the work of a row grows with kh too).
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, blocks, block_start, next_block, finish_block, leave_blocks
from cvcore._ext._padded_lines cimport fill_border

from libc.stdint cimport uint8_t, uint16_t, int16_t

from cvcore._ext._types cimport real_t, int_pixel_t

cdef enum:
    RING_BLOCK_ROWS = 8

# ---------------------------------------------------------------------------
# Inner loop in C. It is compiled with -O3 for the baseline target and, on
# x86-64 Linux with GCC, also for x86-64-v3 (AVX2 + FMA); target_clones picks
# the best version at run time through an ifunc (the way OpenCV dispatches its
# SIMD code), so the extension still runs on any x86-64 CPU.
#
# wsum: out[i] = sum_t k[t] * (A[t][i] + sign * B[t][i])   (B may be NULL)
# Outputs are produced in blocks of 8 vectors held in registers while all the
# terms are accumulated (one load per term and vector, one store per vector),
# using GCC/Clang vector extensions, which lower to whatever SIMD the target
# has. The tail of a row (fewer than 8 vectors) runs as plain scalar code.
# ---------------------------------------------------------------------------
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
    #define CVC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define CVC_CLONES __attribute__((target_clones("avx2", "default")))
    #endif
    #else
    #define CVC_CLONES
    #endif

    #if defined(__GNUC__)
    typedef float cvc_vf __attribute__((vector_size(32), aligned(4)));
    typedef double cvc_vd __attribute__((vector_size(32), aligned(8)));
    #define CVC_HAVE_VEC 1
    #else
    #define CVC_HAVE_VEC 0
    #endif

    #define CVC_TERMS(T, V, EXPR)                                                               \\
        for (t = 0; t < nt; t++) {                                                         \\
            const T kt = k[t];                                                             \\
            const V *s = (const V *)(A[t] + i0);                                           \\
            const V *u = (const V *)(B ? B[t] + i0 : A[t] + i0);                           \\
            (void)u;                                                                       \\
            a0 += kt * (EXPR(0)); a1 += kt * (EXPR(1)); a2 += kt * (EXPR(2));              \\
            a3 += kt * (EXPR(3)); a4 += kt * (EXPR(4)); a5 += kt * (EXPR(5));              \\
            a6 += kt * (EXPR(6)); a7 += kt * (EXPR(7));                                    \\
        }
    #define CVC_ONLY_A(j) s[j]
    #define CVC_A_PLUS_B(j) (s[j] + u[j])
    #define CVC_A_MINUS_B(j) (s[j] - u[j])

    #define CVC_WSUM_ARGS(T) (T *restrict out, ptrdiff_t n, ptrdiff_t nt, const T *k,              \\
                                   const T *const *A, const T *const *B, int sign)
    /* outputs lo .. hi one at a time */
    #define CVC_SCALAR(T, lo, hi)                                                              \\
        for (i = lo; i < hi; i++) out[i] = 0;                                                  \\
        for (t = 0; t < nt; t++) {                                                             \\
            const T kt = k[t];                                                                 \\
            const T *restrict s = A[t];                                                        \\
            if (!B) for (i = lo; i < hi; i++) out[i] += kt * s[i];                             \\
            else {                                                                             \\
                const T *restrict u = B[t];                                                    \\
                if (sign > 0) for (i = lo; i < hi; i++) out[i] += kt * (s[i] + u[i]);          \\
                else for (i = lo; i < hi; i++) out[i] += kt * (s[i] - u[i]);                   \\
            }                                                                                  \\
        }
    /* one vector of outputs at p */
    #define CVC_ONE(T, V, p)                                                                   \\
        {                                                                                      \\
            V a0 = {0};                                                                        \\
            for (t = 0; t < nt; t++) {                                                         \\
                const V *s = (const V *)(A[t] + (p));                                          \\
                if (!B) a0 += k[t] * s[0];                                                     \\
                else if (sign > 0) a0 += k[t] * (s[0] + *(const V *)(B[t] + (p)));            \\
                else a0 += k[t] * (s[0] - *(const V *)(B[t] + (p)));                           \\
            }                                                                                  \\
            *(V *)(out + (p)) = a0;                                                            \\
        }
    /* Blocks of 8 vectors start where the first term's source is aligned to a
       vector, so that the loads of the vertical pass (whose rows share one
       alignment when a row is a multiple of 64 bytes) never straddle two cache
       lines (20 % of a 3x3 filter's time with AVX-512). The outputs before that
       and after the last block are single vectors, the first and the last one
       overlapping their neighbours: those outputs are computed twice, the same
       way (out never overlaps the sources). Rows shorter than a vector run
       one output at a time. */
    #define CVC_WSUM_BODY(T, V)                                                                \\
    {                                                                                      \\
        const ptrdiff_t L = (ptrdiff_t)(sizeof(V) / sizeof(T));                            \\
        ptrdiff_t i0 = 0, t, i;                                                            \\
        if (CVC_HAVE_VEC && n >= L) {                                                      \\
            i0 = (ptrdiff_t)(((size_t)0 - (size_t)A[0]) % sizeof(V)) / (ptrdiff_t)sizeof(T); \\
            if (i0 > 0) CVC_ONE(T, V, 0)                                                   \\
            for (; i0 + 8 * L <= n; i0 += 8 * L) {                                         \\
                V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0}; \\
                if (!B) { CVC_TERMS(T, V, CVC_ONLY_A) }                                          \\
                else if (sign > 0) { CVC_TERMS(T, V, CVC_A_PLUS_B) }                             \\
                else { CVC_TERMS(T, V, CVC_A_MINUS_B) }                                          \\
                V *o = (V *)(out + i0);                                                    \\
                o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3;                                \\
                o[4] = a4; o[5] = a5; o[6] = a6; o[7] = a7;                                \\
            }                                                                              \\
            for (; i0 + L <= n; i0 += L) CVC_ONE(T, V, i0)                                 \\
            if (i0 < n) CVC_ONE(T, V, n - L)                                               \\
            i0 = n;                                                                        \\
        }                                                                                  \\
        CVC_SCALAR(T, i0, n)                                                               \\
    }

    /* The same loops on 512-bit vectors for CPUs with AVX-512 (x86-64-v4), chosen
       at run time. Every output is the same sum of the same products in the same
       order (fused multiply-adds in both versions), so results are identical. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
    #define CVC_HAVE_512 1
    typedef float cvc_zf __attribute__((vector_size(64), aligned(4)));
    typedef double cvc_zd __attribute__((vector_size(64), aligned(8)));
    #define CVC_WSUM(T, V, Z, NAME)                                                        \\
    static CVC_CLONES void NAME##_256 CVC_WSUM_ARGS(T) CVC_WSUM_BODY(T, V)                 \\
    static __attribute__((target("arch=x86-64-v4"))) void NAME##_512 CVC_WSUM_ARGS(T)     \\
        CVC_WSUM_BODY(T, Z)                                                                \\
    static void NAME CVC_WSUM_ARGS(T)                                                      \\
    {                                                                                      \\
        if (__builtin_cpu_supports("x86-64-v4")) NAME##_512(out, n, nt, k, A, B, sign);   \\
        else NAME##_256(out, n, nt, k, A, B, sign);                                        \\
    }
    #else
    #define CVC_WSUM(T, V, Z, NAME) static CVC_CLONES void NAME CVC_WSUM_ARGS(T) CVC_WSUM_BODY(T, V)
    #endif

    CVC_WSUM(float, cvc_vf, cvc_zf, cvc_wsum_f)
    CVC_WSUM(double, cvc_vd, cvc_zd, cvc_wsum_d)

    /* 3x3 separable filters with integer taps on integer images (Sobel, Scharr,
       Prewitt), exact: the vertical pass of a row into an integer line (int16
       for uint8 images, int32 otherwise; the wrapper bounds the sums), then the
       horizontal pass over the padded line into float32. Also built for
       x86-64-v4 (AVX-512): these loops are short and convert types. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && __GNUC__ >= 12
    #define CVC_CLONES4 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define CVC_CLONES4 CVC_CLONES
    #endif
    #define CVC_VERT3(IN, LT, NAME)                                                      \\
    static CVC_CLONES4 void NAME(const IN *restrict a, const IN *restrict b,            \\
                                 const IN *restrict c, LT *restrict line, ptrdiff_t n,  \\
                                 int k0, int k1, int k2)                                \\
    {                                                                                    \\
        for (ptrdiff_t i = 0; i < n; i++)                                                \\
            line[i] = (LT)(k0 * (LT)a[i] + k1 * (LT)b[i] + k2 * (LT)c[i]);               \\
    }
    #define CVC_HORIZ3(LT, NAME)                                                         \\
    static CVC_CLONES4 void NAME(const LT *restrict line, float *restrict out, ptrdiff_t n, \\
                                 ptrdiff_t nch, int k0, int k1, int k2)                 \\
    {                                                                                    \\
        const LT *restrict l1 = line + nch, *restrict l2 = line + 2 * nch;              \\
        for (ptrdiff_t i = 0; i < n; i++)                                                \\
            out[i] = (float)(LT)(k0 * line[i] + k1 * l1[i] + k2 * l2[i]);               \\
    }
    CVC_VERT3(unsigned char, short, cvc_vert3_u8)
    CVC_VERT3(unsigned short, int, cvc_vert3_u16)
    CVC_VERT3(short, int, cvc_vert3_s16)
    CVC_HORIZ3(short, cvc_horiz3_s)
    CVC_HORIZ3(int, cvc_horiz3_i)
    """
    void cvc_wsum_f(float* out, Py_ssize_t n, Py_ssize_t nt, const float* k,
                    const float** A, const float** B, int sign) noexcept nogil
    void cvc_wsum_d(double* out, Py_ssize_t n, Py_ssize_t nt, const double* k,
                    const double** A, const double** B, int sign) noexcept nogil
    void cvc_vert3_u8(const uint8_t* a, const uint8_t* b, const uint8_t* c, int16_t* line, Py_ssize_t n,
                      int k0, int k1, int k2) noexcept nogil
    void cvc_vert3_u16(const uint16_t* a, const uint16_t* b, const uint16_t* c, int* line, Py_ssize_t n,
                       int k0, int k1, int k2) noexcept nogil
    void cvc_vert3_s16(const int16_t* a, const int16_t* b, const int16_t* c, int* line, Py_ssize_t n,
                       int k0, int k1, int k2) noexcept nogil
    void cvc_horiz3_s(const int16_t* line, float* out, Py_ssize_t n, Py_ssize_t nch, int k0, int k1,
                      int k2) noexcept nogil
    void cvc_horiz3_i(const int* line, float* out, Py_ssize_t n, Py_ssize_t nch, int k0, int k1,
                      int k2) noexcept nogil


cdef void wsum_f(float* out, Py_ssize_t n, Py_ssize_t nt, const float* k,
                 const float** A, const float** B, int sign) noexcept nogil:
    """Exported (see _convolve.pxd): out[i] = sum_t k[t] * (A[t][i] + sign * B[t][i])."""
    cvc_wsum_f(out, n, nt, k, A, B, sign)


cdef void wsum_d(double* out, Py_ssize_t n, Py_ssize_t nt, const double* k,
                 const double** A, const double** B, int sign) noexcept nogil:
    cvc_wsum_d(out, n, nt, k, A, B, sign)


cdef inline void _wsum(real_t* out, Py_ssize_t n, Py_ssize_t nt, const real_t* k,
                       const real_t** A, const real_t** B, int sign, int init) noexcept nogil:
    if real_t is float:
        cvc_wsum_f(out, n, nt, k, A, B, sign)
    else:
        cvc_wsum_d(out, n, nt, k, A, B, sign)



cdef Py_ssize_t _plan(const real_t* k, Py_ssize_t klen, int sym, real_t* kc,
                      Py_ssize_t* ia, Py_ssize_t* ib) noexcept nogil:
    """Fold a kernel into wsum terms: coefficients ``kc`` and tap indices
    ``ia``/``ib`` (``ib[t] < 0``: single-tap term). Symmetric kernels pair
    taps j and klen-1-j (the centre becomes the pair (r, r) with half its
    weight, which is exact); antisymmetric ones pair them with a minus sign.
    Returns the number of terms."""
    cdef Py_ssize_t t, r = klen // 2
    if sym == 1:
        for t in range(r):
            kc[t] = k[t]
            ia[t] = t
            ib[t] = klen - 1 - t
        kc[r] = k[r] * <real_t>0.5
        ia[r] = r
        ib[r] = r
        return r + 1
    if sym == -1:
        for t in range(r):
            kc[t] = k[t]
            ia[t] = t
            ib[t] = klen - 1 - t
        return r
    for t in range(klen):
        kc[t] = k[t]
        ia[t] = t
        ib[t] = -1
    return klen


cdef struct SepPlan:
    Py_ssize_t n          # values per row (W * nch)
    Py_ssize_t nch
    Py_ssize_t width
    Py_ssize_t npad       # padded pixels per line (W + kw - 1)
    Py_ssize_t kh
    Py_ssize_t kw
    Py_ssize_t xleft
    Py_ssize_t nty
    Py_ssize_t ntx
    int ysym
    int xsym
    int copy_rows         # vertical kernel is [1]
    int no_horizontal     # horizontal kernel is [1]


cdef void _sep_row(const real_t** rowp, real_t* outrow, SepPlan* P, const real_t* kcy,
                   const Py_ssize_t* jy, const Py_ssize_t* jyb, const real_t** ya, const real_t** yb,
                   const real_t* kcx, const real_t** xa, const real_t** xb, real_t* line,
                   const Py_ssize_t* xmap, real_t lcv) noexcept nogil:
    """One output row of the separable filter; ``rowp[j]`` is the input row of
    vertical tap j (already resolved through the border map)."""
    cdef Py_ssize_t t
    for t in range(P.nty):
        ya[t] = rowp[jy[t]]
        if jyb[t] >= 0:
            yb[t] = rowp[jyb[t]]
    if P.no_horizontal:
        # vertical taps straight into the output row
        _wsum(outrow, P.n, P.nty, kcy, ya, yb if P.ysym != 0 else NULL, P.ysym, 1)
        return
    if P.copy_rows:
        memcpy(line + P.xleft * P.nch, rowp[0], P.n * sizeof(real_t))
    else:
        _wsum(line + P.xleft * P.nch, P.n, P.nty, kcy, ya, yb if P.ysym != 0 else NULL, P.ysym, 1)
    if P.kw > 1:
        fill_border(line, xmap, P.xleft, P.width, P.npad, P.nch, lcv)
    _wsum(outrow, P.n, P.ntx, kcx, xa, xb if P.xsym != 0 else NULL, P.xsym, 1)


cdef void* _sep_setup(SepPlan* P, Py_ssize_t n, Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw,
                      Py_ssize_t xleft, int ysym, int xsym, Py_ssize_t elsize, Py_ssize_t extra) noexcept nogil:
    """Fill the plan and allocate one block for every scratch buffer."""
    cdef Py_ssize_t kmax = kh if kh > kw else kw
    P.n = n
    P.nch = nch
    P.width = n // nch
    P.npad = P.width + kw - 1
    P.kh = kh
    P.kw = kw
    P.xleft = xleft
    P.ysym = ysym
    P.xsym = xsym
    # line, crow, kcy, kcx (reals); ia, ib, jy, jyb (indices); ya, yb, xa, xb, rowp (pointers); extra reals
    return malloc((P.npad * nch + n + 2 * kmax + extra) * elsize + 4 * kmax * sizeof(Py_ssize_t)
                  + 5 * kmax * sizeof(void*) + 16 * 64)


cdef inline Py_ssize_t _entering(Py_ssize_t y, Py_ssize_t y0, Py_ssize_t kh) noexcept nogil:
    """First tap row whose padded row is new in a ring of ``kh`` rows at output
    row ``y`` of a block starting at ``y0``: all of them at the block's first row,
    then only the last (padded row ``p`` lives in slot ``p % kh``)."""
    return 0 if y == y0 else kh - 1


cdef inline void* _line_at(void* mem, Py_ssize_t offset, size_t target) noexcept nogil:
    """A pointer ``p`` among the first 64 bytes of ``mem`` with ``p + offset``
    at ``target`` modulo 64: the image part of a line buffer (``offset`` bytes
    in) then has the alignment of the rows wsum reads when it writes the line,
    so that its aligned blocks are aligned for both (see CVC_WSUM_BODY)."""
    cdef size_t base = <size_t>mem
    cdef size_t want = (target - <size_t>offset) & 63
    return <void*>(base + ((want - base) & 63))


def sepfilter(const real_t[:, ::1] img, real_t[:, ::1] out, Py_ssize_t nch,
              const real_t[::1] ky, const Py_ssize_t[::1] ymap, int ysym,
              const real_t[::1] kx, const Py_ssize_t[::1] xmap, Py_ssize_t xleft, int xsym,
              double cval, double line_cval, int n_threads=1):
    """Separable correlation: ``ky`` along axis 0 first, then ``kx`` along axis 1.

    ``img`` is (H, W * nch), ``out`` (rows, W * nch) with ``ymap`` of
    rows + len(ky) - 1 entries (a band of rows: see the module notes);
    ``xmap`` W + len(kx) - 1; ``xleft`` is the horizontal anchor (left padding).
    Rows outside the image are ``cval``; columns outside the image in the
    line buffer (after the vertical pass) are ``line_cval``. ``n_threads``
    OpenMP threads share the rows.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), nb = blocks(h, nc, 1), t
    cdef Py_ssize_t sync[2]   # the next block; the blocks done (see _parallel.pxd)
    cdef Py_ssize_t* shared = sync
    cdef int err = 0
    if nc == 0:
        return
    nc = nb if nb < nc else nc   # no thread without a block
    sync[0] = 0
    sync[1] = 0
    cdef const real_t* ip = &img[0, 0]
    cdef real_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _sep_rows(ip, op, h, nb, shared, img.shape[1], nch,
                             &ky[0], ky.shape[0], &ymap[0], ysym, &kx[0], kx.shape[0], &xmap[0], xleft, xsym,
                             <real_t>cval, <real_t>line_cval)
            leave_blocks(shared, nb, t)
    if err:
        raise MemoryError("cannot allocate filter line buffers")


def sepfilter_int(const int_pixel_t[:, ::1] img, float[:, ::1] out, Py_ssize_t nch,
                  const float[::1] ky, const Py_ssize_t[::1] ymap, int ysym,
                  const float[::1] kx, const Py_ssize_t[::1] xmap, Py_ssize_t xleft, int xsym,
                  double cval, double line_cval, int n_threads=1):
    """:func:`sepfilter` for uint8/uint16/int16 input, computed in float32.

    Input rows are converted to float32 as they enter the vertical window
    (kept in a ring of ``len(ky)`` rows), so no float copy of the image is made.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef Py_ssize_t nb = blocks(h, nc, RING_BLOCK_ROWS)
    cdef Py_ssize_t sync[2]   # the next block; the blocks done (see _parallel.pxd)
    cdef Py_ssize_t* shared = sync
    cdef int err = 0
    if nc == 0:
        return
    nc = nb if nb < nc else nc   # no thread without a block
    sync[0] = 0
    sync[1] = 0
    cdef const int_pixel_t* ip = &img[0, 0]
    cdef float* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _sep_rows_int(ip, op, h, nb, shared, img.shape[1], nch,
                                 &ky[0], ky.shape[0], &ymap[0], ysym, &kx[0], kx.shape[0], &xmap[0], xleft,
                                 xsym, <float>cval, <float>line_cval)
            leave_blocks(shared, nb, t)
    if err:
        raise MemoryError("cannot allocate filter line buffers")


cdef void _plan_lines(SepPlan* P, const real_t* ky, const real_t* kx, real_t* kcy, real_t* kcx,
                      Py_ssize_t* ia, Py_ssize_t* ib, Py_ssize_t* jy, Py_ssize_t* jyb,
                      const real_t** xa, const real_t** xb, real_t* line) noexcept nogil:
    cdef Py_ssize_t t
    P.ntx = _plan(kx, P.kw, P.xsym, kcx, ia, ib)
    for t in range(P.ntx):
        xa[t] = line + ia[t] * P.nch
        xb[t] = line + ib[t] * P.nch if ib[t] >= 0 else NULL
    P.nty = _plan(ky, P.kh, P.ysym, kcy, jy, jyb)
    P.copy_rows = P.kh == 1 and ky[0] == 1
    P.no_horizontal = P.kw == 1 and kx[0] == 1


cdef int _sep_rows(const real_t* img, real_t* out, Py_ssize_t h, Py_ssize_t nb, Py_ssize_t* counter, Py_ssize_t n,
                   Py_ssize_t nch, const real_t* ky, Py_ssize_t kh, const Py_ssize_t* ymap, int ysym,
                   const real_t* kx, Py_ssize_t kw, const Py_ssize_t* xmap, Py_ssize_t xleft, int xsym,
                   real_t cv, real_t lcv) noexcept nogil:
    """The output rows of :func:`sepfilter` in the ``nb`` shared blocks this
    thread takes from ``counter``, with buffers of its own; -1 if out of memory."""
    cdef SepPlan P
    cdef Py_ssize_t kmax = kh if kh > kw else kw
    cdef Py_ssize_t y, j, i, s, b
    cdef void* mem = _sep_setup(&P, n, nch, kh, kw, xleft, ysym, xsym, sizeof(real_t), 0)
    if mem == NULL:
        return -1
    cdef real_t* line = <real_t*>_line_at(mem, xleft * nch * sizeof(real_t), <size_t>img)
    cdef real_t* crow = line + P.npad * nch + 16
    cdef real_t* kcy = crow + n + 16
    cdef real_t* kcx = kcy + kmax
    cdef Py_ssize_t* ia = <Py_ssize_t*>((<size_t>(kcx + kmax + 16) + 7) & ~(<size_t>7))
    cdef Py_ssize_t* ib = ia + kmax
    cdef Py_ssize_t* jy = ib + kmax
    cdef Py_ssize_t* jyb = jy + kmax
    cdef const real_t** ya = <const real_t**>(jyb + kmax)
    cdef const real_t** yb = ya + kmax
    cdef const real_t** xa = yb + kmax
    cdef const real_t** xb = xa + kmax
    cdef const real_t** rowp = xb + kmax
    for i in range(n):
        crow[i] = cv
    _plan_lines(&P, ky, kx, kcy, kcx, ia, ib, jy, jyb, xa, xb, line)
    b = next_block(counter)
    while b < nb:
        for y in range(block_start(h, nb, b), block_start(h, nb, b + 1)):
            for j in range(kh):
                s = ymap[y + j]
                rowp[j] = img + s * n if s >= 0 else crow
            _sep_row(rowp, out + y * n, &P, kcy, jy, jyb, ya, yb, kcx, xa, xb, line, xmap, lcv)
        b = finish_block(counter)
    free(mem)
    return 0


cdef int _sep_rows_int(const int_pixel_t* img, float* out, Py_ssize_t h, Py_ssize_t nb, Py_ssize_t* counter,
                       Py_ssize_t n, Py_ssize_t nch, const float* ky, Py_ssize_t kh, const Py_ssize_t* ymap,
                       int ysym, const float* kx, Py_ssize_t kw, const Py_ssize_t* xmap, Py_ssize_t xleft,
                       int xsym, float cv, float lcv) noexcept nogil:
    """The output rows of :func:`sepfilter_int` in the shared blocks this thread takes; -1 if out of memory."""
    cdef SepPlan P
    cdef Py_ssize_t kmax = kh if kh > kw else kw
    cdef Py_ssize_t y, y0, j, i, s, p, b
    cdef float* dst
    cdef const int_pixel_t* src
    cdef void* mem = _sep_setup(&P, n, nch, kh, kw, xleft, ysym, xsym, sizeof(float), 0)
    # ring rows 64-byte aligned, like the image part of the line buffer
    cdef Py_ssize_t rstride = (n + 16 + 15) // 16 * 16
    cdef float* ring_mem = <float*>malloc(kh * rstride * sizeof(float) + 64)
    cdef float* ring = <float*>_line_at(ring_mem, 0, 0)
    if mem == NULL or ring_mem == NULL:
        free(mem)
        free(ring_mem)
        return -1
    cdef float* line = <float*>_line_at(mem, xleft * nch * sizeof(float), 0)
    cdef float* crow = line + P.npad * nch + 16
    cdef float* kcy = crow + n + 16
    cdef float* kcx = kcy + kmax
    cdef Py_ssize_t* ia = <Py_ssize_t*>((<size_t>(kcx + kmax + 16) + 7) & ~(<size_t>7))
    cdef Py_ssize_t* ib = ia + kmax
    cdef Py_ssize_t* jy = ib + kmax
    cdef Py_ssize_t* jyb = jy + kmax
    cdef const float** ya = <const float**>(jyb + kmax)
    cdef const float** yb = ya + kmax
    cdef const float** xa = yb + kmax
    cdef const float** xb = xa + kmax
    cdef const float** rowp = xb + kmax
    for i in range(n):
        crow[i] = cv
    _plan_lines(&P, ky, kx, kcy, kcx, ia, ib, jy, jyb, xa, xb, line)
    b = next_block(counter)
    while b < nb:
        y0 = block_start(h, nb, b)
        for y in range(y0, block_start(h, nb, b + 1)):
            # convert the rows entering the window
            for j in range(_entering(y, y0, kh), kh):
                p = y + j
                s = ymap[p]
                dst = ring + (p % kh) * rstride
                if s < 0:
                    for i in range(n):
                        dst[i] = cv
                else:
                    src = img + s * n
                    for i in range(n):
                        dst[i] = <float>src[i]
            for j in range(kh):
                rowp[j] = ring + ((y + j) % kh) * rstride
            _sep_row(rowp, out + y * n, &P, kcy, jy, jyb, ya, yb, kcx, xa, xb, line, xmap, lcv)
        b = finish_block(counter)
    free(mem)
    free(ring_mem)
    return 0


def sep3_int(const int_pixel_t[:, ::1] img, float[:, ::1] out, Py_ssize_t nch, const int[::1] ky,
             const Py_ssize_t[::1] ymap, const int[::1] kx, const Py_ssize_t[::1] xmap, int cval,
             int n_threads=1):
    """3x3 separable correlation with integer taps of a uint8/uint16/int16 image
    (anchor 1, 1), in exact integer arithmetic, into float32 (Sobel, Scharr, Prewitt).
    For uint8 images every partial sum must fit int16 (checked by the wrapper).

    One pass per output row: the vertical taps over three input rows into an
    int32 line (border columns from ``xmap``; -1 = ``cval`` times the vertical
    taps' sum), then the horizontal taps into the output row. Rows outside the
    image (``ymap`` -1) are ``cval``. The wrapper guarantees that every sum
    is an integer below 2**24 in magnitude, so the float32 result is exact
    and equal to :func:`sepfilter_int`'s.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), nb = blocks(h, nc, 1), t
    cdef Py_ssize_t sync[2]   # the next block; the blocks done (see _parallel.pxd)
    cdef Py_ssize_t* shared = sync
    cdef int err = 0
    if nc == 0:
        return
    nc = nb if nb < nc else nc   # no thread without a block
    sync[0] = 0
    sync[1] = 0
    cdef const int_pixel_t* ip = &img[0, 0]
    cdef float* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _sep3_rows(ip, op, h, nb, shared, img.shape[1], nch, &ky[0], &ymap[0], &kx[0], &xmap[0], cval)
            leave_blocks(shared, nb, t)
    if err:
        raise MemoryError("cannot allocate filter line buffers")


cdef int _sep3_rows(const int_pixel_t* img, float* out, Py_ssize_t h, Py_ssize_t nb, Py_ssize_t* counter,
                    Py_ssize_t n, Py_ssize_t nch, const int* ky, const Py_ssize_t* ymap, const int* kx,
                    const Py_ssize_t* xmap, int cval) noexcept nogil:
    """The output rows of :func:`sep3_int` in the shared blocks this thread takes; -1 if out of memory."""
    cdef Py_ssize_t width = n // nch, y, j, i, c, s, p, b
    cdef const int_pixel_t* r[3]
    cdef int_pixel_t* crow = <int_pixel_t*>malloc((n + 16) * sizeof(int_pixel_t))
    cdef int* line = <int*>malloc(((width + 2) * nch + 16) * sizeof(int))
    cdef int16_t* line16 = <int16_t*>line   # the line of uint8 images
    cdef int line_cval = cval * (ky[0] + ky[1] + ky[2])
    if crow == NULL or line == NULL:
        free(crow)
        free(line)
        return -1
    for i in range(n):
        crow[i] = <int_pixel_t>cval
    b = next_block(counter)
    while b < nb:
        for y in range(block_start(h, nb, b), block_start(h, nb, b + 1)):
            for j in range(3):
                s = ymap[y + j]
                r[j] = img + s * n if s >= 0 else crow
            if int_pixel_t is uint8_t:
                cvc_vert3_u8(r[0], r[1], r[2], line16 + nch, n, ky[0], ky[1], ky[2])
            elif int_pixel_t is uint16_t:
                cvc_vert3_u16(r[0], r[1], r[2], line + nch, n, ky[0], ky[1], ky[2])
            else:
                cvc_vert3_s16(r[0], r[1], r[2], line + nch, n, ky[0], ky[1], ky[2])
            for j in range(2):
                p = j * (width + 1)   # the padded columns left and right of the image
                s = xmap[p]
                for c in range(nch):
                    if int_pixel_t is uint8_t:
                        line16[p * nch + c] = line16[(1 + s) * nch + c] if s >= 0 else <int16_t>line_cval
                    else:
                        line[p * nch + c] = line[(1 + s) * nch + c] if s >= 0 else line_cval
            if int_pixel_t is uint8_t:
                cvc_horiz3_s(line16, out + y * n, n, nch, kx[0], kx[1], kx[2])
            else:
                cvc_horiz3_i(line, out + y * n, n, nch, kx[0], kx[1], kx[2])
        b = finish_block(counter)
    free(crow)
    free(line)
    return 0


def correlate2d(const real_t[:, ::1] img, real_t[:, ::1] out, Py_ssize_t nch,
                const real_t[:, ::1] k, const Py_ssize_t[::1] ymap,
                const Py_ssize_t[::1] xmap, Py_ssize_t xleft, double cval, int n_threads=1):
    """General 2-D correlation ``out[y, x] = sum k[a, b] * pad[y + a, x + b]``.

    Padded rows are kept in a ring of ``kh`` line buffers so that each padded
    row is built once; zero taps are skipped; the remaining taps are summed
    by wsum. ``n_threads`` OpenMP threads share the rows.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef Py_ssize_t nb = blocks(h, nc, RING_BLOCK_ROWS)
    cdef Py_ssize_t sync[2]   # the next block; the blocks done (see _parallel.pxd)
    cdef Py_ssize_t* shared = sync
    cdef int err = 0
    if nc == 0:
        return
    nc = nb if nb < nc else nc   # no thread without a block
    sync[0] = 0
    sync[1] = 0
    cdef const real_t* ip = &img[0, 0]
    cdef real_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _corr_rows(ip, op, h, nb, shared, img.shape[1], nch,
                              &k[0, 0], k.shape[0], k.shape[1], &ymap[0], &xmap[0], xleft, <real_t>cval)
            leave_blocks(shared, nb, t)
    if err:
        raise MemoryError("cannot allocate filter line buffers")


cdef int _corr_rows(const real_t* img, real_t* out, Py_ssize_t h, Py_ssize_t nb, Py_ssize_t* counter,
                    Py_ssize_t n, Py_ssize_t nch, const real_t* k, Py_ssize_t kh, Py_ssize_t kw,
                    const Py_ssize_t* ymap, const Py_ssize_t* xmap, Py_ssize_t xleft, real_t cv) noexcept nogil:
    """The output rows of :func:`correlate2d` in the shared blocks this thread takes; -1 if out of memory."""
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    # each ring line starts ``lead`` values into a 64-byte aligned slot, so that
    # the image part of every line is aligned: the taps of the anchor column
    # then load whole cache lines (wsum aligns its blocks on the first term)
    cdef Py_ssize_t per64 = 64 // sizeof(real_t)
    cdef Py_ssize_t lead = (per64 - (xleft * nch) % per64) % per64
    cdef Py_ssize_t stride = (lead + npad * nch + per64 - 1) // per64 * per64
    cdef Py_ssize_t y, y0, a, b, i, s, p, nt, blk
    cdef real_t* line
    cdef void* ring_mem = malloc((kh * stride + per64) * sizeof(real_t) + 64)
    cdef real_t* ring = <real_t*>((<size_t>ring_mem + 63) & ~(<size_t>63)) + lead
    cdef real_t* kc = <real_t*>malloc(kh * kw * sizeof(real_t) + 64)
    cdef const real_t** src = <const real_t**>malloc(kh * kw * sizeof(real_t*) + 64)
    if ring_mem == NULL or kc == NULL or src == NULL:
        free(ring_mem)
        free(kc)
        free(src)
        return -1
    blk = next_block(counter)
    while blk < nb:
        y0 = block_start(h, nb, blk)
        for y in range(y0, block_start(h, nb, blk + 1)):
            for a in range(_entering(y, y0, kh), kh):
                p = y + a
                line = ring + (p % kh) * stride
                s = ymap[p]
                if s < 0:
                    for i in range(npad * nch):
                        line[i] = cv
                else:
                    memcpy(line + xleft * nch, img + s * n, n * sizeof(real_t))
                    fill_border(line, xmap, xleft, width, npad, nch, cv)
            nt = 0
            for a in range(kh):
                line = ring + ((y + a) % kh) * stride
                for b in range(kw):
                    if k[a * kw + b] != 0:
                        kc[nt] = k[a * kw + b]
                        src[nt] = line + b * nch
                        nt += 1
            _wsum(out + y * n, n, nt, kc, src, NULL, 1, 1)
        blk = finish_block(counter)
    free(ring_mem)
    free(kc)
    free(src)
    return 0
