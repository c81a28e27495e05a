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
#   stage_ntrees (ns,) int32, stage_thr (ns,) f32 (OpenCV's eps already applied)
from libc.stdint cimport int32_t, int64_t, uint32_t, uint8_t
from libc.stdlib cimport malloc, free


cdef struct Stump:
    int32_t ofs[16]     # the 4x4 grid corners of the feature's cells in the table
    uint32_t subset[8]
    float leaf[2]


cdef inline int64_t _cell(const int64_t* p, const int32_t* o, int a, int b, int c, int d) noexcept nogil:
    return p[o[a]] - p[o[b]] - p[o[c]] + p[o[d]]


cdef inline int _code(const int64_t* p, const int32_t* o) noexcept nogil:
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


cdef inline int _run(const Stump* s, const int32_t* ntrees, const float* thr, Py_ssize_t nstages,
                     const int64_t* p, double* last) noexcept nogil:
    """OpenCV's runAt for categorical stumps: -si rejected at stage si, 1 accepted; ``last`` gets
    the sum of the last stage evaluated."""
    cdef Py_ssize_t si, ti
    cdef double ssum
    cdef int c
    for si in range(nstages):
        ssum = 0
        for ti in range(ntrees[si]):
            c = _code(p, s[ti].ofs)
            ssum += s[ti].leaf[0 if (s[ti].subset[c >> 5] >> (c & 31)) & 1 else 1]
        s += ntrees[si]
        last[0] = ssum
        if ssum < thr[si]:
            return -<int>si
    return 1


cdef class LBPEngine:
    """An LBP cascade's arrays held for the kernels (built by cvcore._cascade_model only)."""
    cdef object keep
    cdef const int32_t* blocks
    cdef const int32_t* feat
    cdef const int32_t* subsets
    cdef const float* leaves
    cdef const int32_t* ntrees
    cdef const float* thr
    cdef Py_ssize_t nstages, nt
    cdef int win_w, win_h

    def __init__(self, const int32_t[:, ::1] blocks, const int32_t[::1] feat, const int32_t[:, ::1] subsets,
                 const float[:, ::1] leaves, const int32_t[::1] stage_ntrees, const float[::1] stage_thr,
                 int win_w, int win_h):
        self.keep = (blocks, feat, subsets, leaves, stage_ntrees, stage_thr)
        self.blocks = &blocks[0, 0]
        self.feat = &feat[0]
        self.subsets = &subsets[0, 0]
        self.leaves = &leaves[0, 0]
        self.ntrees = &stage_ntrees[0]
        self.thr = &stage_thr[0]
        self.nstages = stage_thr.shape[0]
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
        return s

    def scan(self, const int64_t[:, ::1] table, Py_ssize_t nrow, int step, bint skip_rejected,
             int32_t[:, ::1] out_xy, double[::1] out_sum):
        """Run the cascade on the windows whose top-left corners are rows ``0, step, ... < nrow``
        and columns ``0, step, ...`` of one (already resized) image's sum table ``(H + 1, W + 1)``
        (``H >= nrow + win_h - 1``). With ``skip_rejected`` the next column is skipped after a
        window rejected by the first stage (OpenCV's detectMultiScale). Writes accepted corners
        and their last stage's sum; returns their count (at most ``out_xy.shape[0]``)."""
        cdef Py_ssize_t st = table.shape[1], ncol = table.shape[1] - self.win_w
        cdef Py_ssize_t n = 0, x, i = 0, cap = out_xy.shape[0]
        cdef int res
        cdef double last = 0
        cdef const int64_t* base = &table[0, 0]
        if nrow <= 0 or ncol <= 0 or table.shape[0] < nrow + self.win_h:
            return 0
        cdef Stump* s = self._pack(st)
        with nogil:
            while i < nrow:
                x = 0
                while x < ncol:
                    res = _run(s, self.ntrees, self.thr, self.nstages, base + i * st + x, &last)
                    if res > 0 and n < cap:
                        out_xy[n, 0] = <int32_t>x
                        out_xy[n, 1] = <int32_t>i
                        out_sum[n] = last
                        n += 1
                    if res == 0 and skip_rejected:
                        x += step
                    x += step
                i += step
        free(s)
        return n

    def classify(self, const int64_t[:, ::1] table, int32_t[::1] out_result):
        """OpenCV's runAt result per window (1 accepted, -si rejected at stage si) of windows
        stacked into one tall image: window i's top-left table entry is row ``i * win_h``."""
        cdef Py_ssize_t nwin = out_result.shape[0], i
        cdef double last = 0
        if table.shape[0] < nwin * self.win_h + 1 or table.shape[1] != self.win_w + 1:
            raise ValueError("table does not hold the windows")
        cdef Stump* s = self._pack(table.shape[1])
        with nogil:
            for i in range(nwin):
                out_result[i] = _run(s, self.ntrees, self.thr, self.nstages, &table[i * self.win_h, 0], &last)
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
