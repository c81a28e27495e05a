# Multi-block LBP cascade evaluation (OpenCV's featureType LBP): the windows of
# one image scale (early rejection) and per-window classification. The integral
# sum table comes from the caller (cvcore._ext._integral); no variance
# normalisation is involved (LBP codes only compare block sums).
#
# Cascade layout (arrays built by cvcore._cascade_model, validated there):
#   blocks (nf, 4) int32   (x, y, w, h): a 3x3 grid of w x h cells at (x, y),
#                          inside the window
#   feat (nt,) int32       the feature of each stump
#   subsets (nt, 8) int32  256-bit category set of each stump: code c goes to
#                          leaf 0 when bit c is set, to leaf 1 otherwise
#   leaves (nt, 2) f32
#   rest_hi/rest_lo (nt,) f64   largest / smallest total the later stumps of the
#                          same stage can add (bounds for exact early exits)
#   stage_ntrees (ns,) int32, stage_thr (ns,) f32 (OpenCV's eps already applied)
#   stage_rej/stage_acc (ns,) f64   the threshold minus / plus a margin far above
#                          double rounding (acc = +inf for the last stage)
# Scans share the rows of windows among OpenMP threads (see _cascade_scan.pxd)
# and take a vector path where the CPU allows (below).
from libc.stdint cimport int32_t, int64_t, uint32_t, uint8_t
from libc.stdlib cimport calloc, malloc, free
from cython.parallel cimport prange, threadid

from cvcore._ext._parallel cimport chunks
from cvcore._ext._cascade_scan cimport pack_bands, write_row


# ---------------------------------------------------------------------------
# The scans' vector path (GCC on x86-64, taken when the CPU has AVX2; the
# scalar Cython code further down is the path everywhere else and the
# reference the vector path is tested against).
#
# The windows of one row at consecutive columns read consecutive table entries,
# so a stump is evaluated for 8 neighbouring windows at once with plain vector
# loads: 16 corners, 9 cell sums, 8 comparisons, the category bit through a
# permute and a variable shift, the leaf added in double. The first stage runs
# on every column of the row; OpenCV's skip rule (the column after a
# first-stage rejection is not scanned) then only selects which of those
# results count. Each later stage runs on blocks of 8 columns placed over the
# windows still running. (Loading scattered survivors one by one, 8 at a time,
# costs more per window than a whole block on the CPU measured, AMD Zen 4,
# even for blocks with a single running window.) With a scanning step s > 1
# the table is first rearranged so that the columns of each residue mod s are
# consecutive (``lbp_phase_major``): the windows of a row are consecutive
# entries again.
#
# Bit-identical to the scalar path: cell sums are exact uint32 differences
# (compared as int32: the engine checks that no cell's sum can reach 2**31),
# and each window's stage sum adds the same float32 leaves in the same order
# in double. Decisions come from full stage sums; the scalar path's early
# exits never change one (see Cascade._stage_bounds).
# ---------------------------------------------------------------------------
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #include <string.h>

    typedef struct {
        int32_t ofs[16];     /* the 4x4 grid corners of the feature's cells, from the window's table entry */
        ptrdiff_t col[4];    /* 4 * ofs[j]: byte offsets */
        ptrdiff_t drow;      /* 4 * (ofs[4 * (i + 1) + j] - ofs[4 * i + j]) */
        uint32_t subset[8];  /* category set: code c goes to leaf 0 when bit c is set */
        uint32_t rsub[8];    /* the same words in reverse order (for the vector lookup) */
        float leaf[2];
        double hi, lo;       /* rest_hi, rest_lo of the stump */
    } lbp_stump;

    typedef struct {
        const int32_t *ntrees;
        const float *thr;
        const double *rej;
        const double *acc;
        ptrdiff_t n;
    } lbp_stages;

    /* One row of a table rearranged so that the columns of each residue mod s come together, in
       order: column c moves to (the number of columns of residues below c % s) + c / s. */
    static void lbp_phase_major(const uint32_t *in, uint32_t *out, ptrdiff_t st, int s)
    {
        for (int k = 0; k < s; k++)
            for (ptrdiff_t c = k; c < st; c += s)
                *out++ = in[c];
    }

    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    #include <immintrin.h>
    #define LBP_T __attribute__((target("avx2")))
    #define LBP_INLINE static inline __attribute__((always_inline, target("avx2")))

    static int lbp_simd_available(void)
    {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    }

    /* The leaves of stump s for the 8 windows whose table entries are p[0 .. 8). The corners of
       row i of the cell grid are q_i + col[j], q_i = p + i * drow; the cell sums come from their
       row differences. Bit i of nc is set where the centre cell is greater than neighbour i
       (bit 7: top-left, clockwise), so nc = 255 - code, code >> 5 = 7 - (nc >> 5) and
       code & 31 = 31 - (nc & 31): rsub[nc >> 5] (the set's words reversed) shifted left by
       nc & 31 has bit `code` of the set as its sign bit. The vector holds nc's bits rotated,
       idx = (nc >> 5) | (nc & 31) << 3, built two comparisons at a time by a multiply-add of
       16-bit halves: the permute reads idx's low 3 bits, the shift idx >> 3. */
    LBP_INLINE __m256 lbp_leaf(const lbp_stump *s, const uint32_t *p)
    {
        #define LBP_PAIR(a, b, wa, wb) \\
            _mm256_madd_epi16(_mm256_blend_epi16(a, b, 0xAA), _mm256_set1_epi32((int)(((uint32_t)(uint16_t)-(wb) << 16) | (uint16_t)-(wa))))
        __m256i v[4][4], d[4][3], cell[3][3];
        const char *q = (const char *)p;
        const ptrdiff_t c0 = s->col[0], c1 = s->col[1], c2 = s->col[2], c3 = s->col[3];
        for (int i = 0; i < 4; i++, q += s->drow) {
            v[i][0] = _mm256_loadu_si256((const __m256i *)(q + c0));
            v[i][1] = _mm256_loadu_si256((const __m256i *)(q + c1));
            v[i][2] = _mm256_loadu_si256((const __m256i *)(q + c2));
            v[i][3] = _mm256_loadu_si256((const __m256i *)(q + c3));
            for (int j = 0; j < 3; j++)
                d[i][j] = _mm256_sub_epi32(v[i][j], v[i][j + 1]);
        }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                cell[i][j] = _mm256_sub_epi32(d[i][j], d[i + 1][j]);
        __m256i c = cell[1][1];
        __m256i idx = _mm256_add_epi32(
            _mm256_add_epi32(LBP_PAIR(_mm256_cmpgt_epi32(c, cell[0][0]), _mm256_cmpgt_epi32(c, cell[0][1]), 4, 2),
                             LBP_PAIR(_mm256_cmpgt_epi32(c, cell[0][2]), _mm256_cmpgt_epi32(c, cell[1][2]), 1, 128)),
            _mm256_add_epi32(LBP_PAIR(_mm256_cmpgt_epi32(c, cell[2][2]), _mm256_cmpgt_epi32(c, cell[2][1]), 64, 32),
                             LBP_PAIR(_mm256_cmpgt_epi32(c, cell[2][0]), _mm256_cmpgt_epi32(c, cell[1][0]), 16, 8)));
        #undef LBP_PAIR
        __m256i word = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)s->rsub), idx);
        word = _mm256_sllv_epi32(word, _mm256_srli_epi32(idx, 3));
        return _mm256_blendv_ps(_mm256_broadcast_ss(&s->leaf[1]), _mm256_broadcast_ss(&s->leaf[0]),
                                _mm256_castsi256_ps(word));
    }

    /* Stage si of the 8 windows whose table entries are p[0 .. 8): their sums go to sum[0 .. 8),
       bit l of the result is set where window l passes. Each window adds its leaves in double in
       stump order, as the scalar path does. */
    LBP_INLINE int lbp_stage(const lbp_stump *s, const lbp_stages *sg, ptrdiff_t si,
                                      const uint32_t *p, double *sum)
    {
        __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), thr;
        const lbp_stump *end = s + sg->ntrees[si];
        for (; s < end; s++) {
            __m256 leaf = lbp_leaf(s, p);
            a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
            a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(leaf, 1)));
        }
        thr = _mm256_set1_pd(sg->thr[si]);
        _mm256_storeu_pd(sum, a0);
        _mm256_storeu_pd(sum + 4, a1);
        return _mm256_movemask_pd(_mm256_cmp_pd(a0, thr, _CMP_NLT_UQ))
               | _mm256_movemask_pd(_mm256_cmp_pd(a1, thr, _CMP_NLT_UQ)) << 4;
    }

    /* The windows at entries row + m, m = 0 .. nm - 1, of one row of windows (entries up to
       row + max(nm, 8) + 7 + the largest offset must be readable); skip: OpenCV's skip rule.
       Returns the number accepted, with their m in xs and last-stage sums in sum. Scratch: sum
       and alive hold max(nm, 8) + 8 entries, xs nm.
       The first stage runs on blocks of 8 windows from 8 b, the last block ending at the last
       window (0 if nm < 8); a later stage on blocks starting at the first window still running
       after the previous block (or ending at the last window), so that as few blocks as possible
       cover the running windows. A block may overlap the previous one: it rewrites those
       windows' sums with the same values. */
    static LBP_T ptrdiff_t lbp_scan_row(const lbp_stump *s, const lbp_stages *sg, const uint32_t *row,
                                        ptrdiff_t nm, int skip, double *sum, unsigned char *alive, int32_t *xs)
    {
        ptrdiff_t m, o, si, na = 0;
        int scanned = 1, l, pass, running = 0;
        uint64_t eight;
        memset(alive + nm, 0, 8);
        for (m = 0; m < nm; m += 8) {
            o = m + 8 <= nm || nm < 8 ? m : nm - 8;
            pass = lbp_stage(s, sg, 0, row + o, sum + o);
            for (l = (int)(m - o); l < 8 && o + l < nm; l++) {   /* OpenCV's skip rule, column by column */
                int ok = (pass >> l) & 1;
                alive[o + l] = (unsigned char)(scanned & ok);
                running |= scanned & ok;
                scanned = !(skip && scanned && !ok);
            }
        }
        for (si = 1; si < sg->n && running; si++) {
            s += sg->ntrees[si - 1];
            running = 0;
            for (m = 0; m < nm; ) {
                memcpy(&eight, alive + m, 8);
                if (!eight) {
                    m += 8;
                    continue;
                }
                m += __builtin_ctzll(eight) >> 3;                 /* the first window still running */
                o = m + 8 <= nm || nm < 8 ? m : nm - 8;
                pass = lbp_stage(s, sg, si, row + o, sum + o);
                for (l = (int)(m - o); l < 8 && o + l < nm; l++) {
                    alive[o + l] &= (unsigned char)((pass >> l) & 1);
                    running |= alive[o + l];
                }
                m = o + 8;
            }
        }
        for (m = 0; m < nm; m++) {
            if (alive[m]) {
                xs[na] = (int32_t)m;
                sum[na++] = sum[m];
            }
        }
        return na;
    }
    #else
    static int lbp_simd_available(void)
    {
        return 0;
    }

    static ptrdiff_t lbp_scan_row(const lbp_stump *s, const lbp_stages *sg, const uint32_t *row, ptrdiff_t nm,
                                  int skip, double *sum, unsigned char *alive, int32_t *xs)
    {
        return 0;   /* never called: lbp_simd_available() is 0 */
    }
    #endif
    """
    ctypedef struct Stump "lbp_stump":
        int32_t ofs[16]
        Py_ssize_t col[4]
        Py_ssize_t drow
        uint32_t subset[8]
        uint32_t rsub[8]
        float leaf[2]
        double hi
        double lo

    ctypedef struct Stages "lbp_stages":
        const int32_t* ntrees
        const float* thr
        const double* rej
        const double* acc
        Py_ssize_t n

    void lbp_phase_major(const uint32_t* inp, uint32_t* out, Py_ssize_t st, int s) noexcept nogil
    int lbp_simd_available() noexcept nogil
    Py_ssize_t lbp_scan_row(const Stump* s, const Stages* sg, const uint32_t* row, Py_ssize_t nm, int skip,
                            double* sum, uint8_t* alive, int32_t* xs) noexcept nogil


# Sum tables: exact int64 (codes, for training), or uint32 wrapping modulo 2**32
# (the scans): a cell's four-corner difference is its exact sum either way.
ctypedef fused table_t:
    uint32_t
    int64_t


cdef inline int64_t _cell(const table_t* p, const int32_t* o, int a, int b, int c, int d) noexcept nogil:
    return p[o[a]] - p[o[b]] - p[o[c]] + p[o[d]]


cdef inline int _code(const table_t* p, const int32_t* o) noexcept nogil:
    """The 8-bit LBP code: neighbour cells clockwise from the top-left (bit 7) against the centre."""
    cdef int64_t c = _cell(p, o, 5, 6, 9, 10)
    return ((128 if _cell(p, o, 0, 1, 4, 5) >= c else 0)
            | (64 if _cell(p, o, 1, 2, 5, 6) >= c else 0)
            | (32 if _cell(p, o, 2, 3, 6, 7) >= c else 0)
            | (16 if _cell(p, o, 6, 7, 10, 11) >= c else 0)
            | (8 if _cell(p, o, 10, 11, 14, 15) >= c else 0)
            | (4 if _cell(p, o, 9, 10, 13, 14) >= c else 0)
            | (2 if _cell(p, o, 8, 9, 12, 13) >= c else 0)
            | (1 if _cell(p, o, 4, 5, 8, 9) >= c else 0))


cdef inline int _run(const Stump* s, const Stages* sg, Py_ssize_t nstages, const uint32_t* p,
                     double* last) noexcept nogil:
    """OpenCV's runAt for categorical stumps, first ``nstages`` stages: -si rejected at stage si, 1
    accepted; ``last`` gets the sum of the last stage. A stage stops early once its running sum plus what its remaining
    stumps could add at most (least) is certain to fail (pass): the full sum's decision."""
    cdef Py_ssize_t si, ti
    cdef double ssum
    cdef int c
    cdef bint passed
    for si in range(nstages):
        ssum = 0
        passed = False
        for ti in range(sg.ntrees[si]):
            c = _code(p, s[ti].ofs)
            ssum += s[ti].leaf[0 if (s[ti].subset[c >> 5] >> (c & 31)) & 1 else 1]
            if ssum + s[ti].hi < sg.rej[si]:
                return -<int>si
            if ssum + s[ti].lo >= sg.acc[si]:
                passed = True
                break
        s += sg.ntrees[si]
        last[0] = ssum
        if not passed and ssum < sg.thr[si]:
            return -<int>si
    return 1


cdef inline void _stage_sums(const Stump* s, Py_ssize_t nt, const uint32_t* row, Py_ssize_t na, const int32_t* xs,
                             double* sums) noexcept nogil:
    """The stage sums (stumps ``s[0 .. nt)``) of the ``na`` windows ``row + xs[i]`` of one row, a stump at a
    time over all of them (its record stays in cache); each window adds the same leaves in the same
    order as _run, so its sum is the same."""
    cdef Py_ssize_t k, i
    cdef int c
    for i in range(na):
        sums[i] = 0
    for k in range(nt):
        for i in range(na):
            c = _code(row + xs[i], s[k].ofs)
            sums[i] += s[k].leaf[0 if (s[k].subset[c >> 5] >> (c & 31)) & 1 else 1]


cdef Py_ssize_t _scan_rows(const Stump* s, const Stages* sg, const uint32_t* base, Py_ssize_t st,
                           Py_ssize_t y, Py_ssize_t y_end, int step, Py_ssize_t ncol, bint skip_rejected,
                           int32_t* xs, double* sums, int32_t* out_xy, double* out_sum) noexcept nogil:
    """Windows of rows ``y, y + step, ... < y_end``, columns ``0, step, ... < ncol``; returns the count
    of accepted ones written to ``out_xy`` (x, y pairs) and ``out_sum``. ``xs``, ``sums``: scratch for
    the windows of one row.

    Stage 0 window by window (with early exits; deciding which windows OpenCV's skip rule
    evaluates), then the later stages a stage at a time over the row's survivors (_stage_sums)."""
    cdef Py_ssize_t n = 0, x, na, i, j, si
    cdef const uint32_t* row
    cdef const Stump* sk
    cdef double thr, last = 0
    cdef int res
    while y < y_end:
        row = base + y * st
        na = 0
        x = 0
        while x < ncol:
            res = _run(s, sg, 1, row + x, &last)
            if res > 0:
                xs[na] = <int32_t>x
                sums[na] = last
                na += 1
            elif skip_rejected:
                x += step
            x += step
        sk = s + sg.ntrees[0]
        for si in range(1, sg.n):
            if na == 0:
                break
            _stage_sums(sk, sg.ntrees[si], row, na, xs, sums)
            sk += sg.ntrees[si]
            thr = sg.thr[si]
            j = 0
            for i in range(na):
                if not sums[i] < thr:
                    xs[j] = xs[i]
                    sums[j] = sums[i]
                    j += 1
            na = j
        n += write_row(xs, sums, na, y, out_xy + 2 * n, out_sum + n)
        y += step
    return n


cdef inline Py_ssize_t _vector_row(const Stump* s, const Stages* sg, const uint32_t* row, Py_ssize_t nm, int step,
                                   bint skip_rejected, double* sums, uint8_t* alive, int32_t* xs, Py_ssize_t y,
                                   int32_t* out_xy, double* out_sum) noexcept nogil:
    """One row of windows on the vector path (``row``: its first entry in the table rearranged for ``step``)."""
    cdef Py_ssize_t na = lbp_scan_row(s, sg, row, nm, skip_rejected, sums, alive, xs), i
    for i in range(na):
        xs[i] *= step
    return write_row(xs, sums, na, y, out_xy, out_sum)


def vector_path():
    """Whether the scans can take the vector path on this build and CPU (GCC, x86-64 with AVX2)."""
    return bool(lbp_simd_available())


cdef class LBPEngine:
    """An LBP cascade's arrays held for the kernels (built by cvcore._cascade_model only)."""
    cdef object keep
    cdef const int32_t* blocks
    cdef const int32_t* feat
    cdef const int32_t* subsets
    cdef const float* leaves
    cdef const double* rest_hi
    cdef const double* rest_lo
    cdef Stages sg
    cdef Py_ssize_t nt
    cdef int win_w, win_h
    cdef bint small_cells   # every cell's sum fits an int32 (what the vector path compares)
    cdef public bint vector
    """Whether scans take the vector path where it runs (:func:`vector_path`); False forces the
    scalar path (the reference the vector path is tested and benchmarked against)."""

    def __init__(self, const int32_t[:, ::1] blocks, const int32_t[::1] feat, const int32_t[:, ::1] subsets,
                 const float[:, ::1] leaves, const double[::1] rest_hi, const double[::1] rest_lo,
                 const int32_t[::1] stage_ntrees, const float[::1] stage_thr, const double[::1] stage_rej,
                 const double[::1] stage_acc, int win_w, int win_h):
        cdef Py_ssize_t f
        self.keep = (blocks, feat, subsets, leaves, rest_hi, rest_lo, stage_ntrees, stage_thr, stage_rej, stage_acc)
        self.blocks = &blocks[0, 0]
        self.feat = &feat[0]
        self.subsets = &subsets[0, 0]
        self.leaves = &leaves[0, 0]
        self.rest_hi = &rest_hi[0]
        self.rest_lo = &rest_lo[0]
        self.sg.ntrees = &stage_ntrees[0]
        self.sg.thr = &stage_thr[0]
        self.sg.rej = &stage_rej[0]
        self.sg.acc = &stage_acc[0]
        self.sg.n = stage_thr.shape[0]
        self.nt = feat.shape[0]
        self.win_w = win_w
        self.win_h = win_h
        self.vector = True
        self.small_cells = True
        for f in range(blocks.shape[0]):
            if <int64_t>blocks[f, 2] * blocks[f, 3] * 255 >= (<int64_t>1 << 31):
                self.small_cells = False

    cdef Stump* _pack(self, Py_ssize_t stride, int step=1) except NULL:
        """One record per stump in evaluation order, offsets for table row ``stride``; ``step > 1``:
        offsets into the table rearranged by lbp_phase_major for that step."""
        cdef Stump* s = <Stump*>malloc(self.nt * sizeof(Stump))
        cdef Py_ssize_t* colmap = <Py_ssize_t*>malloc((self.win_w + 1) * sizeof(Py_ssize_t))
        cdef Py_ssize_t t, i, j, c, start = 0
        cdef const int32_t* b
        if s == NULL or colmap == NULL:
            free(s)
            free(colmap)
            raise MemoryError()
        # where column c of a window at column m * step is, relative to entry m: the columns of
        # residue k start after those of residues k' < k, (stride - k' + step - 1) // step each
        for i in range(step):
            for c in range(i, self.win_w + 1, step):
                colmap[c] = start + c // step
            start += (stride - i + step - 1) // step
        for t in range(self.nt):
            b = &self.blocks[self.feat[t] * 4]
            for i in range(4):
                for j in range(4):
                    s[t].ofs[i * 4 + j] = <int32_t>((b[1] + i * b[3]) * stride + colmap[b[0] + j * b[2]])
            for j in range(4):
                s[t].col[j] = 4 * <Py_ssize_t>s[t].ofs[j]
            s[t].drow = 4 * <Py_ssize_t>(s[t].ofs[4] - s[t].ofs[0])
            for i in range(8):
                s[t].subset[i] = <uint32_t>self.subsets[t * 8 + i]
                s[t].rsub[7 - i] = s[t].subset[i]
            s[t].leaf[0] = self.leaves[t * 2]
            s[t].leaf[1] = self.leaves[t * 2 + 1]
            s[t].hi = self.rest_hi[t]
            s[t].lo = self.rest_lo[t]
        free(colmap)
        return s

    def scan(self, const uint32_t[:, ::1] table, Py_ssize_t nrow, int step, bint skip_rejected, int n_threads,
             int32_t[:, ::1] out_xy, double[::1] out_sum):
        """Run the cascade on the windows whose top-left corners are rows ``0, step, ... < nrow``
        and columns ``0, step, ...`` of one (already resized) image's sum table ``(H + 1, W + 1)``
        (``H >= nrow + win_h - 1``). With ``skip_rejected`` the next column is skipped after a
        window rejected by the first stage (OpenCV's detectMultiScale). Rows of windows go to
        ``n_threads`` OpenMP threads (the result does not depend on their number). Writes
        accepted corners and their last stage's sum; returns their count. The outputs need one
        entry per scanned window position. The vector and scalar paths give the same result."""
        cdef Py_ssize_t st = table.shape[1], ncol = table.shape[1] - self.win_w, nt_rows = table.shape[0]
        cdef Py_ssize_t rows, per_row, nc, t, r, n, w
        cdef Py_ssize_t* counts
        cdef int32_t* xs
        cdef double* sums
        cdef uint8_t* alive = NULL
        cdef uint32_t* moved = NULL
        cdef const uint32_t* tab = &table[0, 0]
        cdef Stump* s = NULL
        cdef bint vec = self.vector and self.small_cells and lbp_simd_available()
        if nrow <= 0 or ncol <= 0 or step < 1:
            return 0
        rows = (nrow - 1) // step + 1
        per_row = (ncol - 1) // step + 1
        if (nt_rows < nrow + self.win_h or out_xy.shape[0] < rows * per_row or out_xy.shape[1] != 2
                or out_sum.shape[0] < rows * per_row):
            raise ValueError("table or outputs do not match the windows")
        nc = chunks(rows, n_threads)
        w = per_row + 16            # per-thread scratch (the vector path works on blocks of 8)
        counts = <Py_ssize_t*>malloc(rows * sizeof(Py_ssize_t))
        xs = <int32_t*>malloc(nc * w * sizeof(int32_t))
        sums = <double*>malloc(nc * w * sizeof(double))
        if vec:
            alive = <uint8_t*>malloc(nc * w)
            if step > 1 or per_row < 8:   # rearranged, with 8 readable entries past the end
                moved = <uint32_t*>calloc(nt_rows * st + 8, sizeof(uint32_t))
        try:
            if (counts == NULL or xs == NULL or sums == NULL
                    or (vec and (alive == NULL or (moved == NULL and (step > 1 or per_row < 8))))):
                raise MemoryError()
            s = self._pack(st, step if vec else 1)
            with nogil:
                if vec:
                    if moved != NULL:
                        for r in prange(nt_rows, num_threads=nc, schedule='static'):
                            lbp_phase_major(tab + r * st, moved + r * st, st, step)
                        tab = moved
                    # one row per task, dynamically: faces make some rows far costlier than others
                    for r in prange(rows, num_threads=nc, schedule='dynamic'):
                        t = threadid()
                        counts[r] = _vector_row(s, &self.sg, tab + r * step * st, per_row, step, skip_rejected,
                                                sums + t * w, alive + t * w, xs + t * w, r * step,
                                                &out_xy[r * per_row, 0], &out_sum[r * per_row])
                else:
                    for r in prange(rows, num_threads=nc, schedule='dynamic'):
                        t = threadid()
                        counts[r] = _scan_rows(s, &self.sg, tab, st, r * step, r * step + 1, step, ncol,
                                               skip_rejected, xs + t * w, sums + t * w,
                                               &out_xy[r * per_row, 0], &out_sum[r * per_row])
                n = pack_bands(counts, rows, rows, per_row, &out_xy[0, 0], &out_sum[0])
        finally:
            free(s)
            free(counts)
            free(xs)
            free(sums)
            free(alive)
            free(moved)
        return n

    def classify(self, const uint32_t[:, ::1] table, int32_t[::1] out_result):
        """OpenCV's runAt result per window (1 accepted, -si rejected at stage si) of windows
        stacked into one tall image: window i's top-left table entry is row ``i * win_h``."""
        cdef Py_ssize_t nwin = out_result.shape[0], i
        cdef double last = 0
        if table.shape[0] < nwin * self.win_h + 1 or table.shape[1] != self.win_w + 1:
            raise ValueError("table does not hold the windows")
        cdef Stump* s = self._pack(table.shape[1])
        with nogil:
            for i in range(nwin):
                out_result[i] = _run(s, &self.sg, self.sg.n, &table[i * self.win_h, 0], &last)
        free(s)


def codes(const int64_t[:, ::1] table, int win_h, const int32_t[:, ::1] blocks, uint8_t[:, ::1] out):
    """LBP codes of every feature (row of ``blocks``, inside the window) on windows stacked into one
    tall sum table (window i's top-left entry is row ``i * win_h``): ``out[f, i]``, ``(F, n)``."""
    cdef Py_ssize_t nf = blocks.shape[0], nwin = out.shape[1], st = table.shape[1], f, i, a, b
    cdef int32_t ofs[16]
    if out.shape[0] != nf or table.shape[0] < nwin * win_h + 1:
        raise ValueError("out or table does not match the windows and features")
    with nogil:
        for f in range(nf):
            for a in range(4):
                for b in range(4):
                    ofs[a * 4 + b] = <int32_t>((blocks[f, 1] + a * blocks[f, 3]) * st + blocks[f, 0] + b * blocks[f, 2])
            for i in range(nwin):
                out[f, i] = <uint8_t>_code(&table[i * win_h, 0], ofs)
