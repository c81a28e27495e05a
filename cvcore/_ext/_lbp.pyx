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
# Scans share the rows of windows among OpenMP threads (see _cascade_scan.pxd).
from libc.stdint cimport int32_t, int64_t, uint32_t, uint8_t
from libc.stdlib cimport malloc, free
from cython.parallel cimport prange, threadid

from cvcore._ext._parallel cimport chunks
from cvcore._ext._cascade_scan cimport pack_bands, write_row


cdef struct Stump:
    int32_t ofs[16]     # the 4x4 grid corners of the feature's cells in the table
    uint32_t subset[8]
    float leaf[2]
    double hi           # rest_hi, rest_lo of the stump
    double lo


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


cdef struct Stages:
    const int32_t* ntrees
    const float* thr
    const double* rej
    const double* acc
    Py_ssize_t n


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

    def __init__(self, const int32_t[:, ::1] blocks, const int32_t[::1] feat, const int32_t[:, ::1] subsets,
                 const float[:, ::1] leaves, const double[::1] rest_hi, const double[::1] rest_lo,
                 const int32_t[::1] stage_ntrees, const float[::1] stage_thr, const double[::1] stage_rej,
                 const double[::1] stage_acc, int win_w, int win_h):
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

    cdef Stump* _pack(self, Py_ssize_t stride) except NULL:
        """One record per stump in evaluation order, offsets for table row ``stride``."""
        cdef Stump* s = <Stump*>malloc(self.nt * sizeof(Stump))
        cdef Py_ssize_t t, i, j
        cdef const int32_t* b
        if s == NULL:
            raise MemoryError()
        for t in range(self.nt):
            b = &self.blocks[self.feat[t] * 4]
            for i in range(4):
                for j in range(4):
                    s[t].ofs[i * 4 + j] = <int32_t>((b[1] + i * b[3]) * stride + b[0] + j * b[2])
            for i in range(8):
                s[t].subset[i] = <uint32_t>self.subsets[t * 8 + i]
            s[t].leaf[0] = self.leaves[t * 2]
            s[t].leaf[1] = self.leaves[t * 2 + 1]
            s[t].hi = self.rest_hi[t]
            s[t].lo = self.rest_lo[t]
        return s

    def scan(self, const uint32_t[:, ::1] table, Py_ssize_t nrow, int step, bint skip_rejected, int n_threads,
             int32_t[:, ::1] out_xy, double[::1] out_sum):
        """Run the cascade on the windows whose top-left corners are rows ``0, step, ... < nrow``
        and columns ``0, step, ...`` of one (already resized) image's sum table ``(H + 1, W + 1)``
        (``H >= nrow + win_h - 1``). With ``skip_rejected`` the next column is skipped after a
        window rejected by the first stage (OpenCV's detectMultiScale). Rows of windows go to
        ``n_threads`` OpenMP threads (the result does not depend on their number). Writes
        accepted corners and their last stage's sum; returns their count. The outputs need one
        entry per scanned window position."""
        cdef Py_ssize_t st = table.shape[1], ncol = table.shape[1] - self.win_w
        cdef Py_ssize_t rows, per_row, nc, t, r, n
        cdef Py_ssize_t* counts
        cdef int32_t* xs
        cdef double* sums
        cdef Stump* s
        if nrow <= 0 or ncol <= 0 or step < 1:
            return 0
        rows = (nrow - 1) // step + 1
        per_row = (ncol - 1) // step + 1
        if (table.shape[0] < nrow + self.win_h or out_xy.shape[0] < rows * per_row or out_xy.shape[1] != 2
                or out_sum.shape[0] < rows * per_row):
            raise ValueError("table or outputs do not match the windows")
        nc = chunks(rows, n_threads)
        counts = <Py_ssize_t*>malloc(rows * sizeof(Py_ssize_t))
        xs = <int32_t*>malloc(nc * per_row * sizeof(int32_t))
        sums = <double*>malloc(nc * per_row * sizeof(double))
        if counts == NULL or xs == NULL or sums == NULL:
            free(counts)
            free(xs)
            free(sums)
            raise MemoryError()
        try:
            s = self._pack(st)
        except MemoryError:
            free(counts)
            free(xs)
            free(sums)
            raise
        with nogil:
            # one row per task, dynamically: faces make some rows far costlier than others
            for r in prange(rows, num_threads=nc, schedule='dynamic'):
                t = threadid()
                counts[r] = _scan_rows(s, &self.sg, &table[0, 0], st, r * step, r * step + 1, step, ncol,
                                       skip_rejected, xs + t * per_row, sums + t * per_row,
                                       &out_xy[r * per_row, 0], &out_sum[r * per_row])
            n = pack_bands(counts, rows, rows, per_row, &out_xy[0, 0], &out_sum[0])
        free(s)
        free(counts)
        free(xs)
        free(sums)
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
