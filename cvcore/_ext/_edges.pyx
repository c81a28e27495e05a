# Edge and corner kernels: Canny non-maximum suppression + hysteresis,
# structure-tensor products and corner responses, maximum filter and greedy
# peak spacing for corner_peaks.
#
# All arrays arrive C-contiguous with the right dtype and shape (checked in
# cvcore.edges); nothing here validates.
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy, memchr

from libc.stdint cimport uint8_t, uint16_t, int16_t
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start
from cvcore._ext._padded_lines cimport fill_border

from cvcore._ext._types cimport real_t, pixel_t
from cvcore._ext._convolve cimport wsum_f, wsum_d

ctypedef unsigned char u8

# Branch-free inner loops in C (see _convolve.pyx for the dispatch scheme:
# AVX2+FMA clone picked at run time with GCC on x86-64 Linux).
cdef extern from *:
    """
    #include <stddef.h>
    #include <math.h>
    #include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
    #if defined(_MSC_VER) && !defined(restrict)
    #define restrict __restrict
    #endif
    /* ifunc-based dispatch needs GCC and glibc on x86-64 */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    #if __GNUC__ >= 12
    #define CVE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define CVE_CLONES __attribute__((target_clones("avx2", "default")))
    #endif
    #else
    #define CVE_CLONES
    #endif

    /* Canny non-maximum suppression of one row with OpenCV's sector rule:
       st[x] = 0 (suppressed or <= lo), 1 (weak), 2 (> hi). prev/cur/nxt are
       magnitude rows with one zero element on each side. */
    #define CVE_NMS(T, NAME, ABS)                                                           \\
    static CVE_CLONES void NAME(const T *restrict gx, const T *restrict gy,                \\
                                const T *restrict prev, const T *restrict cur,              \\
                                const T *restrict nxt, unsigned char *restrict st,          \\
                                ptrdiff_t w, T lo, T hi, T tg22)                            \\
    {                                                                                       \\
        for (ptrdiff_t x = 0; x < w; x++) {                                                 \\
            T vx = gx[x], vy = gy[x];                                                       \\
            T ax = ABS(vx), ay = ABS(vy);                                                   \\
            T m = cur[x];                                                                   \\
            T pl = prev[x - 1], pc = prev[x], pr = prev[x + 1];                             \\
            T cl = cur[x - 1], cr = cur[x + 1];                                             \\
            T nl = nxt[x - 1], nc = nxt[x], nr = nxt[x + 1];                                \\
            T tg = ax * tg22;                                                               \\
            int isH = ay < tg;                                                              \\
            int isV = ay > tg + 2 * ax;                                                     \\
            int same = (vx < 0) == (vy < 0);                                                \\
            T dA = same ? pl : pr;                                                          \\
            T dB = same ? nr : nl;                                                          \\
            T a1 = isV ? pc : dA;                                                           \\
            T b1 = isV ? nc : dB;                                                           \\
            T a = isH ? cl : a1;                                                            \\
            T b = isH ? cr : b1;                                                            \\
            int cb = (m > b) | ((isH | isV) & (m >= b));                                    \\
            int keep = (m > lo) & (m > a) & cb;                                             \\
            int strong = m > hi;                                                            \\
            st[x] = (unsigned char)(keep + (keep & strong));                                \\
        }                                                                                   \\
    }

    #define CVE_MAG(T, NAME)                                                                \\
    static CVE_CLONES void NAME(const T *restrict gx, const T *restrict gy, T *restrict mag, \\
                                ptrdiff_t w, int l2)                                        \\
    {                                                                                       \\
        if (l2) for (ptrdiff_t i = 0; i < w; i++) mag[i] = gx[i] * gx[i] + gy[i] * gy[i];  \\
        else for (ptrdiff_t i = 0; i < w; i++)                                              \\
            mag[i] = (gx[i] < 0 ? -gx[i] : gx[i]) + (gy[i] < 0 ? -gy[i] : gy[i]);          \\
    }

    /* Sobel (replicated border) of one row y from rows a = y-1, b = y, c = y+1
       (already clamped): sm and df need one spare element on each side. */
    #define CVE_SOBEL(IN, T, NAME)                                                          \\
    static CVE_CLONES void NAME(const IN *restrict a, const IN *restrict b,                \\
                                const IN *restrict c, T *restrict sm, T *restrict df,       \\
                                T *restrict gx, T *restrict gy, ptrdiff_t w)                \\
    {                                                                                       \\
        ptrdiff_t x;                                                                        \\
        for (x = 0; x < w; x++) {                                                           \\
            T va = (T)a[x], vb = (T)b[x], vc = (T)c[x];                                     \\
            sm[x] = va + 2 * vb + vc;                                                       \\
            df[x] = vc - va;                                                                \\
        }                                                                                   \\
        sm[-1] = sm[0]; sm[w] = sm[w - 1]; df[-1] = df[0]; df[w] = df[w - 1];               \\
        for (x = 0; x < w; x++) {                                                           \\
            gx[x] = sm[x + 1] - sm[x - 1];                                                  \\
            gy[x] = df[x - 1] + 2 * df[x] + df[x + 1];                                      \\
        }                                                                                   \\
    }

    /* Sobel and magnitude of row r (inside CVE_CANNY) from rows r - 1, r, r + 1
       clamped to the image. */
    #define CVE_ROW(IN, SOBEL, MAG, r) do {                                                 \\
        const IN *rb = img + (r) * w;                                                       \\
        SOBEL((r) > 0 ? rb - w : rb, rb, (r) + 1 < h ? rb + w : rb, sm, df,                 \\
              gxr[(r) & 1], gyr[(r) & 1], w);                                               \\
        MAG(gxr[(r) & 1], gyr[(r) & 1], mag[((r) + 1) % 3], w, l2);                         \\
    } while (0)

    /* Gradient, magnitude and non-maximum suppression of rows y0 .. y1, row
       by row with small ring buffers (magnitude of row r in mag[(r + 1) % 3],
       gradient in slot r & 1; a block starts by computing rows y0 - 1 and y0);
       state[] gets 0/1/2 (none, weak, strong). buf needs 10 * (w + 2)
       elements of T. */
    #define CVE_CANNY(IN, T, NAME, SOBEL, MAG, NMS)                                         \\
    static void NAME(const IN *img, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t y1,   \\
                     const unsigned char *mask, int l2, T lo, T hi, T tg22,                 \\
                     unsigned char *state, T *buf)                                          \\
    {                                                                                       \\
        ptrdiff_t s = w + 2, y, x, r;                                                       \\
        T *sm = buf + 1, *df = buf + s + 1;                                                 \\
        T *gxr[2] = {buf + 2 * s + 1, buf + 3 * s + 1};                                     \\
        T *gyr[2] = {buf + 4 * s + 1, buf + 5 * s + 1};                                     \\
        T *mag[3] = {buf + 6 * s + 1, buf + 7 * s + 1, buf + 8 * s + 1};                    \\
        T *zero = buf + 9 * s + 1;                                                          \\
        for (x = -1; x <= w; x++) { mag[0][x] = mag[1][x] = mag[2][x] = zero[x] = 0; }      \\
        for (r = y0 > 0 ? y0 - 1 : 0; r <= y0; r++) CVE_ROW(IN, SOBEL, MAG, r);                            \\
        for (y = y0; y < y1; y++) {                                                         \\
            T *prev = y > 0 ? mag[y % 3] : zero;                                           \\
            T *cur = mag[(y + 1) % 3];                                                      \\
            T *nxt = mag[(y + 2) % 3];                                                      \\
            unsigned char *st = state + y * w;                                              \\
            if (y + 1 < h) CVE_ROW(IN, SOBEL, MAG, y + 1);                                                  \\
            else nxt = zero;                                                                \\
            NMS(gxr[y & 1], gyr[y & 1], prev, cur, nxt, st, w, lo, hi, tg22);               \\
            if (mask) for (x = 0; x < w; x++) st[x] = mask[y * w + x] ? st[x] : 0;          \\
        }                                                                                   \\
    }

    #if defined(__GNUC__)
    CVE_NMS(float, cve_nms_f, __builtin_fabsf)
    CVE_NMS(double, cve_nms_d, __builtin_fabs)
    #else
    CVE_NMS(float, cve_nms_f, fabsf)
    CVE_NMS(double, cve_nms_d, fabs)
    #endif
    CVE_MAG(float, cve_mag_f)
    CVE_MAG(double, cve_mag_d)
    CVE_SOBEL(unsigned char, float, cve_sobel_u8)
    CVE_SOBEL(unsigned short, float, cve_sobel_u16)
    CVE_SOBEL(short, float, cve_sobel_s16)
    CVE_SOBEL(float, float, cve_sobel_f)
    CVE_SOBEL(double, double, cve_sobel_d)
    CVE_CANNY(unsigned char, float, cve_canny_u8, cve_sobel_u8, cve_mag_f, cve_nms_f)
    CVE_CANNY(unsigned short, float, cve_canny_u16, cve_sobel_u16, cve_mag_f, cve_nms_f)
    CVE_CANNY(short, float, cve_canny_s16, cve_sobel_s16, cve_mag_f, cve_nms_f)
    CVE_CANNY(float, float, cve_canny_f, cve_sobel_f, cve_mag_f, cve_nms_f)
    CVE_CANNY(double, double, cve_canny_d, cve_sobel_d, cve_mag_d, cve_nms_d)

    /* Corner responses. Also built for x86-64-v4 (AVX-512). */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && __GNUC__ >= 12
    #define CVE_CLONES4 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define CVE_CLONES4 CVE_CLONES
    #endif
    /* Sobel of one row from rows a (above), b, c (below), border columns from
       xmap (w + 2 entries, -1: zero gradient there), then the structure-tensor
       products sc * (gx*gx, gx*gy, gy*gy) into three planes. sm and df need
       one spare element on each side. */
    #define CVE_PRODUCTS(T, NAME)                                                           \\
    static CVE_CLONES4 void NAME(const T *restrict a, const T *restrict b, const T *restrict c, \\
                                 T *restrict sm, T *restrict df, const ptrdiff_t *xmap,      \\
                                 ptrdiff_t w, T *restrict xx, T *restrict xy, T *restrict yy, T sc) \\
    {                                                                                       \\
        ptrdiff_t x;                                                                        \\
        for (x = 0; x < w; x++) { sm[x] = a[x] + 2 * b[x] + c[x]; df[x] = c[x] - a[x]; }    \\
        sm[-1] = xmap[0] >= 0 ? sm[xmap[0]] : 0;                                            \\
        df[-1] = xmap[0] >= 0 ? df[xmap[0]] : 0;                                            \\
        sm[w] = xmap[w + 1] >= 0 ? sm[xmap[w + 1]] : 0;                                     \\
        df[w] = xmap[w + 1] >= 0 ? df[xmap[w + 1]] : 0;                                     \\
        for (x = 0; x < w; x++) {                                                           \\
            T u = sm[x + 1] - sm[x - 1], v = df[x - 1] + 2 * df[x] + df[x + 1];             \\
            xx[x] = sc * u * u; xy[x] = sc * u * v; yy[x] = sc * v * v;                     \\
        }                                                                                   \\
    }
    /* Harris (kind 0) det - k tr^2 or the smaller eigenvalue (kind 1) from the
       smoothed planes. The eigenvalue loop vectorises only when sqrt need not
       set errno (-fno-math-errno; its argument is a sum of squares anyway). */
    #define CVE_RESPONSE(T, NAME, SQRT)                                                     \\
    static CVE_CLONES4                                                                      \\
    void NAME(const T *restrict xx, const T *restrict xy, const T *restrict yy,             \\
              T *restrict out, ptrdiff_t w, int kind, T k)                                  \\
    {                                                                                       \\
        if (kind == 0) for (ptrdiff_t x = 0; x < w; x++) {                                  \\
            T tr = xx[x] + yy[x];                                                           \\
            out[x] = xx[x] * yy[x] - xy[x] * xy[x] - k * tr * tr;                           \\
        }                                                                                   \\
        else for (ptrdiff_t x = 0; x < w; x++) {                                            \\
            T d = (xx[x] - yy[x]) * (xx[x] - yy[x]) + 4 * xy[x] * xy[x];                    \\
            out[x] = (T)0.5 * ((xx[x] + yy[x]) - SQRT(d));                                  \\
        }                                                                                   \\
    }
    CVE_PRODUCTS(float, cve_products_f)
    CVE_PRODUCTS(double, cve_products_d)
    CVE_RESPONSE(float, cve_response_f, sqrtf)
    CVE_RESPONSE(double, cve_response_d, sqrt)
    """
    void cve_nms_f(const float* gx, const float* gy, const float* prev, const float* cur,
                   const float* nxt, unsigned char* st, Py_ssize_t w, float lo, float hi,
                   float tg22) noexcept nogil
    void cve_nms_d(const double* gx, const double* gy, const double* prev, const double* cur,
                   const double* nxt, unsigned char* st, Py_ssize_t w, double lo, double hi,
                   double tg22) noexcept nogil
    void cve_mag_f(const float* gx, const float* gy, float* mag, Py_ssize_t w, int l2) noexcept nogil
    void cve_mag_d(const double* gx, const double* gy, double* mag, Py_ssize_t w, int l2) noexcept nogil
    void cve_canny_u8(const uint8_t* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                      const u8* mask, int l2, float lo, float hi, float tg22, u8* state,
                      float* buf) noexcept nogil
    void cve_canny_u16(const uint16_t* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                       const u8* mask, int l2, float lo, float hi, float tg22, u8* state,
                       float* buf) noexcept nogil
    void cve_canny_s16(const int16_t* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                       const u8* mask, int l2, float lo, float hi, float tg22, u8* state,
                       float* buf) noexcept nogil
    void cve_canny_f(const float* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                     const u8* mask, int l2, float lo, float hi, float tg22, u8* state,
                     float* buf) noexcept nogil
    void cve_canny_d(const double* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                     const u8* mask, int l2, double lo, double hi, double tg22, u8* state,
                     double* buf) noexcept nogil
    void cve_products_f(const float* a, const float* b, const float* c, float* sm, float* df,
                        const Py_ssize_t* xmap, Py_ssize_t w, float* xx, float* xy, float* yy,
                        float sc) noexcept nogil
    void cve_products_d(const double* a, const double* b, const double* c, double* sm, double* df,
                        const Py_ssize_t* xmap, Py_ssize_t w, double* xx, double* xy, double* yy,
                        double sc) noexcept nogil
    void cve_response_f(const float* xx, const float* xy, const float* yy, float* out, Py_ssize_t w,
                        int kind, float k) noexcept nogil
    void cve_response_d(const double* xx, const double* xy, const double* yy, double* out, Py_ssize_t w,
                        int kind, double k) noexcept nogil



# ---------------------------------------------------------------- Canny

# OpenCV's fixed-point tan(22.5 deg) = round(0.41421356 * 2**15) / 2**15, so
# that integer gradients fall into the same direction sectors as cv2.Canny.
cdef double TG22 = 13573.0 / 32768.0


cdef int _canny_rows(const pixel_t* img, Py_ssize_t h, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1,
                     const u8* mk, bint l2, double low, double high, u8* state) noexcept nogil:
    """Gradient and non-maximum suppression of rows ``y0 .. y1`` into ``state``; -1 if out of memory."""
    cdef void* buf = malloc(10 * (w + 2) * sizeof(double) + 64)
    if buf == NULL:
        return -1
    if pixel_t is uint8_t:
        cve_canny_u8(img, h, w, y0, y1, mk, l2, <float>low, <float>high, <float>TG22, state, <float*>buf)
    elif pixel_t is uint16_t:
        cve_canny_u16(img, h, w, y0, y1, mk, l2, <float>low, <float>high, <float>TG22, state, <float*>buf)
    elif pixel_t is int16_t:
        cve_canny_s16(img, h, w, y0, y1, mk, l2, <float>low, <float>high, <float>TG22, state, <float*>buf)
    elif pixel_t is float:
        cve_canny_f(img, h, w, y0, y1, mk, l2, <float>low, <float>high, <float>TG22, state, <float*>buf)
    else:
        cve_canny_d(img, h, w, y0, y1, mk, l2, low, high, TG22, state, <double*>buf)
    free(buf)
    return 0


# Hysteresis states in the Canny state map: below STRONG the values written by
# non-maximum suppression (0 none, 1 weak); STRONG a pixel above the high
# threshold not yet grown from; EDGE an edge whose neighbours are (being)
# explored. The final map is ``state >> 1``: 0, 0, 1, 1.
cdef enum:
    WEAK = 1
    STRONG = 2
    EDGE = 3


cdef struct _Stack:
    Py_ssize_t* data
    Py_ssize_t top
    Py_ssize_t cap


cdef inline int _stack_init(_Stack* s) noexcept nogil:
    s.top = 0
    s.cap = 4096
    s.data = <Py_ssize_t*>malloc(s.cap * sizeof(Py_ssize_t))
    return -1 if s.data == NULL else 0


cdef inline int _push(_Stack* s, Py_ssize_t q) noexcept nogil:
    """Push pixel index ``q``, doubling the stack when full; -1 if out of memory."""
    cdef Py_ssize_t* grown
    if s.top == s.cap:
        grown = <Py_ssize_t*>realloc(s.data, 2 * s.cap * sizeof(Py_ssize_t))
        if grown == NULL:
            return -1
        s.data = grown
        s.cap *= 2
    s.data[s.top] = q
    s.top += 1
    return 0


cdef int _grow(u8* state, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1, _Stack* s) noexcept nogil:
    """Empty the stack of EDGE pixels: every WEAK 8-neighbour in rows
    ``y0 .. y1`` becomes EDGE and is pushed in turn. -1 if out of memory."""
    cdef Py_ssize_t p, y, x, yy, xx, q, x0, x1
    while s.top > 0:
        s.top -= 1
        p = s.data[s.top]
        y = p // w
        x = p - y * w
        x0 = x - 1 if x > 0 else 0
        x1 = x + 2 if x + 1 < w else w
        for yy in range(y - 1 if y > y0 else y0, y + 2 if y + 1 < y1 else y1):
            for xx in range(x0, x1):
                q = yy * w + xx
                if state[q] == WEAK:
                    state[q] = EDGE
                    if _push(s, q) != 0:
                        return -1
    return 0


cdef int _band_hysteresis(u8* state, Py_ssize_t w, Py_ssize_t y0, Py_ssize_t y1) noexcept nogil:
    """Hysteresis inside rows ``y0 .. y1`` alone: every STRONG pixel there
    becomes EDGE and grows through the band's WEAK pixels (never past its first
    or last row). -1 if out of memory."""
    cdef _Stack s
    cdef u8* row
    cdef u8* hit
    cdef Py_ssize_t y, x
    cdef int err = 0
    if _stack_init(&s) != 0:
        return -1
    for y in range(y0, y1):
        row = state + y * w
        x = 0
        while err == 0 and x < w:
            # memchr skips the (mostly non-edge) bytes many at a time
            hit = <u8*>memchr(row + x, STRONG, w - x)
            if hit == NULL:
                break
            x = hit - row
            row[x] = EDGE
            s.data[0] = y * w + x
            s.top = 1
            err = _grow(state, w, y0, y1, &s)
            x += 1
        if err != 0:
            break
    free(s.data)
    return err


cdef int _join_bands(u8* state, Py_ssize_t h, Py_ssize_t w, Py_ssize_t nc) noexcept nogil:
    """After every band ran its own hysteresis: continue the edges across the
    bands' boundaries. Every EDGE pixel on a row next to a boundary is grown
    again, now without row limits (the growth follows a chain through as many
    bands as it crosses). Pixels away from the boundaries had all their
    neighbours explored inside their band, so afterwards every EDGE pixel has,
    and the result is the one set of WEAK pixels 8-connected to a STRONG one,
    whatever the bands were. -1 if out of memory."""
    cdef _Stack s
    cdef Py_ssize_t t, yb, y, x
    cdef int err = 0
    if _stack_init(&s) != 0:
        return -1
    for t in range(1, nc):
        yb = chunk_start(h, nc, t)
        for y in range(yb - 1, yb + 1):
            for x in range(w):
                if state[y * w + x] == EDGE and _push(&s, y * w + x) != 0:
                    err = -1
                    break
            if err == 0:
                err = _grow(state, w, 0, h, &s)
            if err != 0:
                break
        if err != 0:
            break
    free(s.data)
    return err


cdef void _edge_bits(u8* state, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t p
    for p in range(n):
        state[p] = state[p] >> 1


def canny(const pixel_t[:, ::1] img, const u8[:, ::1] mask, bint use_mask, bint l2,
          double low, double high, u8[:, ::1] edges, int n_threads=1):
    """Canny from the image itself: Sobel (replicated border), magnitude,
    non-maximum suppression with OpenCV's sector rule, 8-connected hysteresis.

    Computed in float32 (double for double input). The rows are cut into one
    band per thread (``n_threads`` OpenMP threads); each thread computes its
    band's gradient and non-maximum suppression row by row, then the
    hysteresis inside its band. The edges are then continued across the band
    boundaries (serially: only chains that cross a boundary are walked again),
    and the threads write the 0/1 map. The set of weak pixels connected to a
    strong one does not depend on the order of the walk, so the result is the
    same for every thread count. With ``l2`` the magnitude is ``gx**2 + gy**2``
    and ``low``/``high`` must already be squared. ``edges`` (H, W) receives 1
    for edge pixels, 0 elsewhere. The hysteresis stacks grow on demand (each
    holds at most one connected edge at a time), so memory stays proportional
    to the edges, not the image.
    """
    cdef Py_ssize_t h = img.shape[0], w = img.shape[1], t, y0, y1
    cdef Py_ssize_t nc = chunks(h, n_threads)
    cdef u8* state = &edges[0, 0]
    cdef const u8* mk = &mask[0, 0] if use_mask else NULL
    cdef const pixel_t* ip = &img[0, 0]
    cdef int err = 0
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            y0 = chunk_start(h, nc, t)
            y1 = chunk_start(h, nc, t + 1)
            if _canny_rows(ip, h, w, y0, y1, mk, l2, low, high, state) != 0:
                err |= 1
            elif _band_hysteresis(state, w, y0, y1) != 0:
                err |= 1
            elif nc == 1:
                _edge_bits(state, h * w)
        if nc > 1 and err == 0:
            err = _join_bands(state, h, w, nc)
            if err == 0:
                for t in prange(nc, num_threads=nc, schedule='static'):
                    y0 = chunk_start(h, nc, t)
                    _edge_bits(state + y0 * w, (chunk_start(h, nc, t + 1) - y0) * w)
    if err != 0:
        raise MemoryError("cannot allocate the Canny buffers or grow its hysteresis stack")


# ---------------------------------------------------------------- corners


cdef inline void _wsum(real_t* out, Py_ssize_t n, Py_ssize_t nt, const real_t* k,
                       const real_t** A, const real_t** B, int sign) noexcept nogil:
    if real_t is float:
        wsum_f(out, n, nt, k, A, B, sign)
    else:
        wsum_d(out, n, nt, k, A, B, sign)


def corner_response(const real_t[:, ::1] img, const Py_ssize_t[::1] ymap3,
                    const Py_ssize_t[::1] xmap3, const real_t[::1] ky, const real_t[::1] kx,
                    const Py_ssize_t[::1] ymapw, const Py_ssize_t[::1] xmapw, Py_ssize_t xleft,
                    int kind, double k, double scale, real_t[:, ::1] out, int n_threads=1):
    """Harris (kind 0) or min-eigenvalue (kind 1) response, row by row.

    For each output row: the structure-tensor products of the padded rows
    entering the window are computed once into a ring of ``len(ky)`` rows
    (Sobel borders from ``ymap3``/``xmap3``, anchor 1), the window is applied
    vertically (``ky``, rows from ``ymapw``; -1 = zero products, i.e. a
    constant-0 border) and horizontally (``kx``, columns from ``xmapw``, left
    padding ``xleft``), and the response is written. No full-size temporary.

    Computes ``out.shape[0]`` rows whose window rows ``ymapw`` names, so a band
    of rows is ``out[r0:r1]`` with ``ymapw[r0:r1 + len(ky) - 1]``; the rows
    are shared by ``n_threads`` OpenMP threads, each with its own ring.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const real_t* ip = &img[0, 0]
    cdef real_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _corner_rows(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1],
                                &ymap3[0], &xmap3[0], &ky[0], ky.shape[0], &kx[0], kx.shape[0],
                                &ymapw[0], &xmapw[0], xleft, kind, <real_t>k, <real_t>scale)
    if err:
        raise MemoryError("cannot allocate corner buffers")


cdef int _corner_rows(const real_t* img, real_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t w,
                      const Py_ssize_t* ymap3, const Py_ssize_t* xmap3, const real_t* ky, Py_ssize_t kh,
                      const real_t* kx, Py_ssize_t kw, const Py_ssize_t* ymapw, const Py_ssize_t* xmapw,
                      Py_ssize_t xleft, int kind, real_t kk, real_t sc) noexcept nogil:
    """Output rows ``y0 .. y1`` of :func:`corner_response`; -1 if out of memory.

    Products live in three planes (xx, xy, yy) ``ls`` values apart, in ring
    slots and in the line buffer alike, so that each pass runs over all three
    planes in one contiguous sweep (the values between planes are padding).
    """
    cdef Py_ssize_t npad = w + kw - 1, ls = npad + 16, n3 = 2 * ls + w
    cdef Py_ssize_t y, j, p, s, t, x, c, src
    cdef Py_ssize_t total = (kh + 3) * 3 * ls + 3 * (w + 16)
    cdef real_t* mem = <real_t*>calloc(total + 64, sizeof(real_t))
    cdef const real_t** va = <const real_t**>malloc((kh + kw) * sizeof(real_t*) + 64)
    cdef const real_t** ha
    cdef real_t* ring
    cdef real_t* line
    cdef real_t* trow
    cdef real_t* zrow
    cdef real_t* sm
    cdef real_t* df
    cdef real_t* slot
    cdef const real_t* r0
    cdef const real_t* r1
    cdef const real_t* r2
    if mem == NULL or va == NULL:
        free(mem)
        free(va)
        return -1
    ring = mem
    line = ring + kh * 3 * ls
    trow = line + 3 * ls
    zrow = trow + 3 * ls        # zeros (calloc)
    sm = zrow + 3 * ls + 1
    df = sm + w + 8
    ha = va + kh
    for y in range(y0, y1):
        for j in range(kh):
            p = y + j
            if y > y0 and j < kh - 1:
                continue
            slot = ring + (p % kh) * 3 * ls
            s = ymapw[p]
            if s < 0:
                for x in range(3 * ls):
                    slot[x] = 0
                continue
            src = ymap3[s]
            r0 = img + src * w if src >= 0 else zrow
            src = ymap3[s + 1]
            r1 = img + src * w if src >= 0 else zrow
            src = ymap3[s + 2]
            r2 = img + src * w if src >= 0 else zrow
            if real_t is float:
                cve_products_f(r0, r1, r2, sm, df, xmap3, w, slot, slot + ls, slot + 2 * ls, sc)
            else:
                cve_products_d(r0, r1, r2, sm, df, xmap3, w, slot, slot + ls, slot + 2 * ls, sc)
        for j in range(kh):
            va[j] = ring + ((y + j) % kh) * 3 * ls
        _wsum(line + xleft, n3, kh, ky, va, NULL, 1)
        # horizontal border of each plane
        for c in range(3):
            fill_border(line + c * ls, xmapw, xleft, w, npad, 1, <real_t>0)
        for t in range(kw):
            ha[t] = line + t
        _wsum(trow, n3, kw, kx, ha, NULL, 1)
        if real_t is float:
            cve_response_f(trow, trow + ls, trow + 2 * ls, out + y * w, w, kind, kk)
        else:
            cve_response_d(trow, trow + ls, trow + 2 * ls, out + y * w, w, kind, kk)
    free(mem)
    free(va)
    return 0


# ---------------------------------------------------------------- peaks


cdef void _running_max(const real_t* a, Py_ssize_t n, Py_ssize_t r, double* pre, double* suf,
                       double* out) noexcept nogil:
    """out[i] = max(a[j] for |j - i| <= r, 0 <= j < n) in O(n) whatever r.

    van Herk / Gil-Werman: the line padded with -inf to n + 2r values is cut
    into blocks of k = 2r + 1; every window [t, t + 2r] of the padded line
    spans at most two blocks, so its maximum is max(suffix max from t within
    its block, prefix max up to t + 2r within its block). Exact (only
    comparisons), so equal to a direct scan.
    """
    cdef Py_ssize_t k = 2 * r + 1, L = n + 2 * r, t, b, e
    cdef double* p = out  # the padded line is built in suf, then scanned
    for t in range(r):
        suf[t] = -INFINITY
        suf[n + r + t] = -INFINITY
    for t in range(n):
        suf[r + t] = a[t]  # float32 -> double is exact
    b = 0
    while b < L:
        e = b + k if b + k < L else L
        pre[b] = suf[b]
        for t in range(b + 1, e):
            pre[t] = suf[t] if suf[t] > pre[t - 1] else pre[t - 1]
        for t in range(e - 2, b - 1, -1):
            if suf[t + 1] > suf[t]:
                suf[t] = suf[t + 1]
        b = e
    for t in range(n):
        p[t] = suf[t] if suf[t] > pre[t + 2 * r] else pre[t + 2 * r]


cdef enum:
    _TILE = 16   # rows handled together so the transposed writes stay contiguous


def peak_mask(const real_t[:, ::1] img, Py_ssize_t radius, double threshold,
              Py_ssize_t border, u8[:, ::1] out):
    """out = (img == max over the (2r+1)^2 window, replicate border) & (img > threshold),
    with a ``border``-pixel frame cleared.

    Separable running max in O(H * W) whatever the radius (see _running_max):
    rows first, stored transposed (column-major) so the column pass reads
    contiguous lines. A window clipped at the border has the same maximum as
    the replicate-padded one, and a radius beyond the line length is the
    whole line.
    """
    cdef Py_ssize_t h = img.shape[0], w = img.shape[1], y, x, i, y0, m
    cdef Py_ssize_t rx = radius if radius < w else w - 1
    cdef Py_ssize_t ry = radius if radius < h else h - 1
    cdef Py_ssize_t line = w + 2 * rx if w + 2 * rx > h + 2 * ry else h + 2 * ry
    cdef double v
    cdef double* colmaj = <double*>malloc(h * w * sizeof(double) + 64)
    cdef double* buf = <double*>malloc((3 * line + _TILE * w) * sizeof(double) + 64)
    cdef double* pre
    cdef double* suf
    cdef double* tmp
    cdef double* rows
    if colmaj == NULL or buf == NULL:
        free(colmaj); free(buf)
        raise MemoryError("cannot allocate peak buffers")
    pre = buf
    suf = pre + line
    tmp = suf + line
    rows = tmp + line
    with nogil:
        y0 = 0
        while y0 < h:
            m = h - y0 if h - y0 < _TILE else _TILE
            for i in range(m):
                _running_max(&img[y0 + i, 0], w, rx, pre, suf, rows + i * w)
            for x in range(w):
                for i in range(m):
                    colmaj[x * h + y0 + i] = rows[i * w + x]
            y0 += m
        for x in range(w):
            _running_max(colmaj + x * h, h, ry, pre, suf, tmp)
            memcpy(colmaj + x * h, tmp, h * sizeof(double))
        y0 = 0
        while y0 < h:
            m = h - y0 if h - y0 < _TILE else _TILE
            for x in range(w):
                for i in range(m):
                    y = y0 + i
                    v = img[y, x]
                    out[y, x] = (v == colmaj[x * h + y] and v > threshold and y >= border
                                 and y < h - border and x >= border and x < w - border)
            y0 += m
    free(colmaj)
    free(buf)


def spaced_peaks(const Py_ssize_t[::1] order, Py_ssize_t h, Py_ssize_t w, Py_ssize_t dist,
                 Py_ssize_t max_out, Py_ssize_t[::1] keep):
    """Greedy spacing: walk candidates (flat indices, best first) and keep one
    unless a kept peak lies within Chebyshev distance ``dist``. Returns the count."""
    cdef Py_ssize_t n = order.shape[0], i, p, y, x, yy, xx, count = 0
    cdef u8* blocked = <u8*>malloc(h * w + 64)
    if blocked == NULL:
        raise MemoryError("cannot allocate peak buffers")
    with nogil:
        memset(blocked, 0, h * w)
        for i in range(n):
            if count >= max_out:
                break
            p = order[i]
            if blocked[p]:
                continue
            keep[count] = p
            count += 1
            y = p // w
            x = p - y * w
            for yy in range(y - dist if y >= dist else 0, y + dist + 1 if y + dist < h else h):
                for xx in range(x - dist if x >= dist else 0, x + dist + 1 if x + dist < w else w):
                    blocked[yy * w + xx] = 1
    free(blocked)
    return count
