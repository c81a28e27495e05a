# Attentional-cascade kernels: OpenCV-compatible Haar cascade evaluation over the
# windows of one image scale (early rejection, OpenMP over rows of windows),
# per-window classification. Integral tables (cvcore._ext._integral; uint32 that
# wrap modulo 2**32, whose four-corner differences are exact rectangle sums) come from
# the caller; the variance normalisation factor of each window is computed here.
#
# Cascade layout (arrays built by cvcore._cascade_model, never validated here):
#   rects (nf, 12) int32   three (x, y, w, h) rectangles per feature
#   rweights (nf, 3) f32   rectangle weights (0 = unused)
#   tilted (nf,) uint8     1 for 45-degree features (OpenCV's tilted integral)
#   node_feat/node_thr/node_left/node_right (nn,)   tree nodes; a child <= 0
#                           is leaf -child of the tree, > 0 a node of the tree
#   tree_node0/tree_leaf0 (nt,) int32   first node / leaf of each tree
#   leaves (nl,) f32
#   rest_hi/rest_lo (nt,) f64   largest / smallest total the later trees of the
#                           same stage can add (bounds for exact early exits)
#   stage_tree0/stage_ntrees (ns,) int32, stage_thr (ns,) f32
#   stage_rej/stage_acc (ns,) f64   the stage threshold minus / plus a margin
#                           far above double rounding (acc = +inf for the last stage)
from libc.math cimport sqrt
from libc.stdint cimport int32_t, uint32_t, uint8_t
from libc.stdlib cimport malloc, free
from cython.parallel cimport prange, threadid

from cvcore._ext._parallel cimport chunks
from cvcore._ext._cascade_scan cimport pack_bands, write_row


cdef struct Model:
    const int32_t* rects
    const float* rweights
    const uint8_t* tilted
    Py_ssize_t nfeat
    const int32_t* node_feat
    const float* node_thr
    const int32_t* node_left
    const int32_t* node_right
    const int32_t* tree_node0
    const int32_t* tree_leaf0
    const float* leaves
    const double* rest_hi
    const double* rest_lo
    const int32_t* stage_tree0
    const int32_t* stage_ntrees
    const float* stage_thr
    const double* stage_rej
    const double* stage_acc
    Py_ssize_t nstages
    int win_w
    int win_h


cdef inline void _offsets(const Model* m, Py_ssize_t st, Py_ssize_t tofs, int32_t* ofs) noexcept nogil:
    """Corner offsets (p0 - p1 - p2 + p3) of every rectangle for integral row stride st."""
    cdef Py_ssize_t f, k
    cdef int32_t x, y, w, h
    cdef int32_t* o
    for f in range(m.nfeat):
        for k in range(3):
            x = m.rects[f * 12 + k * 4]
            y = m.rects[f * 12 + k * 4 + 1]
            w = m.rects[f * 12 + k * 4 + 2]
            h = m.rects[f * 12 + k * 4 + 3]
            o = &ofs[f * 12 + k * 4]
            if m.tilted[f]:
                o[0] = <int32_t>(tofs + x + y * st)
                o[1] = <int32_t>(tofs + x - h + (y + h) * st)
                o[2] = <int32_t>(tofs + x + w + (y + w) * st)
                o[3] = <int32_t>(tofs + x + w - h + (y + w + h) * st)
            else:
                o[0] = <int32_t>(x + y * st)
                o[1] = <int32_t>(x + w + y * st)
                o[2] = <int32_t>(x + (y + h) * st)
                o[3] = <int32_t>(x + w + (y + h) * st)


cdef inline float _feature(const uint32_t* p, const int32_t* o, const float* w) noexcept nogil:
    # differences of the wrapping uint32 tables: the exact rectangle sums (OpenCV's CV_32S sums)
    cdef float v = w[0] * <float>(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]])
    v = v + w[1] * <float>(p[o[4]] - p[o[5]] - p[o[6]] + p[o[7]])
    if w[2] != 0:
        v = v + w[2] * <float>(p[o[8]] - p[o[9]] - p[o[10]] + p[o[11]])
    return v


cdef struct Norm:
    # the window shrunk by one pixel on every side: corners in the sum table,
    # the squared-sum table ``sq`` entries further, its area
    Py_ssize_t a, b, c, d, sq
    double area


cdef inline float _norm_factor(const uint32_t* p, const Norm* nm) noexcept nogil:
    """OpenCV's variance normalisation factor ``float32(1 / sqrt(A*sqsum - sum^2))`` of the window at
    ``p``, 0 for a window OpenCV calls flat (no variance, or ``A * factor >= 0.1``)."""
    cdef const uint32_t* q = p + nm.sq
    cdef double s = <double>(p[nm.a] - p[nm.b] - p[nm.c] + p[nm.d])
    cdef double v = nm.area * <double>(q[nm.a] - q[nm.b] - q[nm.c] + q[nm.d]) - s * s
    cdef float f
    if v <= 0:
        return 0
    f = <float>(1.0 / sqrt(v))
    if nm.area * <double>f >= 0.1:
        return 0
    return f


cdef inline int _run(const Model* m, const uint32_t* p, float vnf, const int32_t* ofs,
                     double* last) noexcept nogil:
    """OpenCV's runAt: -1 flat window, -si rejected at stage si, 1 accepted (``last``: the
    sum of the last stage).

    ``vnf`` is the window's variance normalisation factor, 0 for a window that
    OpenCV calls flat. A stage stops early when the sum so far plus what its
    remaining trees could add at most (least) is certain to fail (pass) the
    threshold: the same decision as the full sum, with fewer features read.
    """
    cdef Py_ssize_t si, ti, t, node, leaf0
    cdef int idx
    cdef double ssum
    cdef float val
    cdef bint passed
    if vnf == 0:
        return -1
    for si in range(m.nstages):
        ssum = 0
        passed = False
        for ti in range(m.stage_ntrees[si]):
            t = m.stage_tree0[si] + ti
            node = m.tree_node0[t]
            leaf0 = m.tree_leaf0[t]
            idx = 0
            while True:
                val = _feature(p, &ofs[m.node_feat[node + idx] * 12],
                               &m.rweights[m.node_feat[node + idx] * 3]) * vnf
                if val < m.node_thr[node + idx]:
                    idx = m.node_left[node + idx]
                else:
                    idx = m.node_right[node + idx]
                if idx <= 0:
                    break
            ssum += m.leaves[leaf0 - idx]
            if ssum + m.rest_hi[t] < m.stage_rej[si]:
                return -<int>si
            if ssum + m.rest_lo[t] >= m.stage_acc[si]:
                passed = True
                break
        if not passed and ssum < m.stage_thr[si]:
            return -<int>si
        last[0] = ssum
    return 1


cdef struct PStump:
    int32_t ofs[12]
    float w[3]
    float thr
    float left
    float right


cdef void _pack_stumps(const Model* m, const int32_t* ofs, PStump* ps) noexcept nogil:
    """One contiguous record per stump, in evaluation order (cache friendly)."""
    cdef Py_ssize_t t, k, f, node, leaf0
    for t in range(m.stage_tree0[m.nstages - 1] + m.stage_ntrees[m.nstages - 1]):
        node = m.tree_node0[t]
        leaf0 = m.tree_leaf0[t]
        f = m.node_feat[node]
        for k in range(12):
            ps[t].ofs[k] = ofs[f * 12 + k]
        for k in range(3):
            ps[t].w[k] = m.rweights[f * 3 + k]
        ps[t].thr = m.node_thr[node]
        ps[t].left = m.leaves[leaf0 - m.node_left[node]] if m.node_left[node] <= 0 else 0
        ps[t].right = m.leaves[leaf0 - m.node_right[node]] if m.node_right[node] <= 0 else 0


cdef inline void _stump_on_windows(const PStump* s, const uint32_t* row, Py_ssize_t na, const int32_t* xs,
                                   const float* vnf, double* sums) noexcept nogil:
    """Add one stump's leaf to the stage sum of each window ``row + xs[i]``: the arithmetic of
    OpenCV's predictOrderedStump (as _run for one node), with the stump's fields held in
    registers across the windows."""
    cdef Py_ssize_t i
    cdef const uint32_t* p
    cdef int32_t o0 = s.ofs[0], o1 = s.ofs[1], o2 = s.ofs[2], o3 = s.ofs[3]
    cdef int32_t o4 = s.ofs[4], o5 = s.ofs[5], o6 = s.ofs[6], o7 = s.ofs[7]
    cdef int32_t o8 = s.ofs[8], o9 = s.ofs[9], o10 = s.ofs[10], o11 = s.ofs[11]
    cdef float w0 = s.w[0], w1 = s.w[1], w2 = s.w[2], thr = s.thr, v
    cdef double left = s.left, right = s.right
    if w2 != 0:
        for i in range(na):
            p = row + xs[i]
            v = w0 * <float>(p[o0] - p[o1] - p[o2] + p[o3])
            v = v + w1 * <float>(p[o4] - p[o5] - p[o6] + p[o7])
            v = v + w2 * <float>(p[o8] - p[o9] - p[o10] + p[o11])
            sums[i] += left if v * vnf[i] < thr else right
    else:
        for i in range(na):
            p = row + xs[i]
            v = w0 * <float>(p[o0] - p[o1] - p[o2] + p[o3])
            v = v + w1 * <float>(p[o4] - p[o5] - p[o6] + p[o7])
            sums[i] += left if v * vnf[i] < thr else right


cdef Py_ssize_t _stage_on_windows(const Model* m, const PStump* s, Py_ssize_t si, const uint32_t* row,
                                  Py_ssize_t na, int32_t* xs, float* vnf, double* sums) noexcept nogil:
    """Stage ``si`` (its stumps from ``s``) of a stump cascade on the ``na`` windows ``row + xs[i]``
    of one row, over all of them at once: each stump's fields are loaded once per row instead of
    once per window. Keeps the windows that pass in ``xs``/``vnf``, in order, with their stage
    sum in ``sums``; returns their count. Each window's sum adds the same leaves in the same order
    as OpenCV's predictOrderedStump, so the decisions are the same."""
    cdef Py_ssize_t k, i, j
    cdef double thr = m.stage_thr[si]
    for i in range(na):
        sums[i] = 0
    for k in range(m.stage_ntrees[si]):
        _stump_on_windows(&s[k], row, na, xs, vnf, sums)
    j = 0
    for i in range(na):
        if not sums[i] < thr:
            xs[j] = xs[i]
            vnf[j] = vnf[i]
            sums[j] = sums[i]
            j += 1
    return j


cdef Py_ssize_t _scan_rows(const Model* m, const PStump* ps, const int32_t* ofs, const Norm* nm,
                           const uint32_t* base, Py_ssize_t st, Py_ssize_t y, Py_ssize_t y_end, int step,
                           Py_ssize_t ncol, bint skip_rejected, int32_t* xs, float* vnf, double* sums,
                           int32_t* out_xy, double* out_sum) noexcept nogil:
    """Windows of rows ``y, y + step, ... < y_end``, columns ``0, step, ... < ncol``; returns the count
    of accepted ones written to ``out_xy`` (x, y pairs) and ``out_sum``. ``xs``, ``vnf``, ``sums``:
    scratch for the windows of one row.

    Stump cascades go a stage at a time over a row (_stage_on_windows). Stage 0 runs on every
    non-flat window of the row; OpenCV's skip rule (the window after one rejected by stage 0 is
    not evaluated) then picks, from those results, the windows it would have evaluated: the
    results of the others are computed and ignored. Trees: window by window."""
    cdef Py_ssize_t n = 0, x, na, i, j, k, si
    cdef const uint32_t* p
    cdef const uint32_t* row
    cdef const PStump* s
    cdef int res
    cdef float f
    cdef double last = 0, thr0 = m.stage_thr[0]
    while y < y_end:
        row = base + y * st
        na = 0
        if ps == NULL:
            x = 0
            while x < ncol:
                p = row + x
                res = _run(m, p, _norm_factor(p, nm), ofs, &last)
                if res > 0:
                    xs[na] = <int32_t>x
                    sums[na] = last
                    na += 1
                if res == 0 and skip_rejected:
                    x += step
                x += step
        else:
            x = 0
            while x < ncol:
                f = _norm_factor(row + x, nm)
                if f != 0:
                    xs[na] = <int32_t>x
                    vnf[na] = f
                    na += 1
                x += step
            for i in range(na):
                sums[i] = 0
            for k in range(m.stage_ntrees[0]):
                _stump_on_windows(&ps[k], row, na, xs, vnf, sums)
            # OpenCV's walk: a window rejected by stage 0 hides the next position
            j = 0
            x = -1      # the position hidden by the last rejection
            for i in range(na):
                if skip_rejected and xs[i] == x:
                    continue
                if sums[i] < thr0:
                    x = xs[i] + step
                    continue
                xs[j] = xs[i]
                vnf[j] = vnf[i]
                sums[j] = sums[i]
                j += 1
            na = j
            s = ps + m.stage_ntrees[0]
            for si in range(1, m.nstages):
                if na == 0:
                    break
                na = _stage_on_windows(m, s, si, row, na, xs, vnf, sums)
                s += m.stage_ntrees[si]
        n += write_row(xs, sums, na, y, out_xy + 2 * n, out_sum + n)
        y += step
    return n


cdef class Engine:
    """A cascade's arrays held for the kernels (built by cvcore._cascade_model only)."""
    cdef Model m
    cdef object keep
    cdef bint stumps_only, any_tilted
    cdef Py_ssize_t ntrees

    def __init__(self, const int32_t[:, ::1] rects, const float[:, ::1] rweights,
                 const uint8_t[::1] tilted, const int32_t[::1] node_feat, const float[::1] node_thr,
                 const int32_t[::1] node_left, const int32_t[::1] node_right,
                 const int32_t[::1] tree_node0, const int32_t[::1] tree_leaf0,
                 const float[::1] leaves, const double[::1] rest_hi, const double[::1] rest_lo,
                 const int32_t[::1] stage_tree0, const int32_t[::1] stage_ntrees, const float[::1] stage_thr,
                 const double[::1] stage_rej, const double[::1] stage_acc, int win_w, int win_h):
        cdef Py_ssize_t t
        self.keep = (rects, rweights, tilted, node_feat, node_thr, node_left, node_right,
                     tree_node0, tree_leaf0, leaves, rest_hi, rest_lo, stage_tree0, stage_ntrees, stage_thr,
                     stage_rej, stage_acc)
        self.m.rects = &rects[0, 0]
        self.m.rweights = &rweights[0, 0]
        self.m.tilted = &tilted[0]
        self.m.nfeat = rects.shape[0]
        self.m.node_feat = &node_feat[0]
        self.m.node_thr = &node_thr[0]
        self.m.node_left = &node_left[0]
        self.m.node_right = &node_right[0]
        self.m.tree_node0 = &tree_node0[0]
        self.m.tree_leaf0 = &tree_leaf0[0]
        self.m.leaves = &leaves[0]
        self.m.rest_hi = &rest_hi[0]
        self.m.rest_lo = &rest_lo[0]
        self.m.stage_tree0 = &stage_tree0[0]
        self.m.stage_ntrees = &stage_ntrees[0]
        self.m.stage_thr = &stage_thr[0]
        self.m.stage_rej = &stage_rej[0]
        self.m.stage_acc = &stage_acc[0]
        self.m.nstages = stage_thr.shape[0]
        self.m.win_w = win_w
        self.m.win_h = win_h
        self.ntrees = tree_node0.shape[0]
        self.stumps_only = node_feat.shape[0] == tree_node0.shape[0]
        self.any_tilted = False
        for t in range(tilted.shape[0]):
            self.any_tilted = self.any_tilted or tilted[t] != 0

    def scan(self, const uint32_t[:, :, ::1] tables, Py_ssize_t nrow, int step, bint skip_rejected,
             int n_threads, int32_t[:, ::1] out_xy, double[::1] out_sum):
        """Run the cascade on the windows of one (already resized) image whose top-left corners are
        rows ``0, step, ... < nrow`` and columns ``0, step, ...``.

        ``tables`` holds the image's sum, squared-sum (and, for tilted features,
        tilted) tables, ``(k, H + 1, W + 1)`` with ``H >= nrow + win_h - 1``.
        With ``skip_rejected`` the next column is skipped after a window rejected
        by the first stage (OpenCV's detectMultiScale). Rows of windows go to
        ``n_threads`` OpenMP threads, each writing its own part of the outputs,
        which are then packed in row order: the result does not depend on the
        thread count. Writes accepted top-left corners and the last stage's sum
        of leaf values; returns their count. The outputs need one entry per
        scanned window position.
        """
        cdef Model* m = &self.m
        cdef Py_ssize_t st = tables.shape[2], size = tables.shape[1] * tables.shape[2]
        cdef Py_ssize_t ncol = st - m.win_w, rows, per_row, nc, t, r, n
        cdef int32_t* ofs
        cdef PStump* ps = NULL
        cdef Py_ssize_t* counts
        cdef int32_t* xs
        cdef float* vnf
        cdef double* sums
        cdef Norm nm
        if nrow <= 0 or ncol <= 0 or step < 1:
            return 0
        rows = (nrow - 1) // step + 1
        per_row = (ncol - 1) // step + 1
        if (tables.shape[0] < (3 if self.any_tilted else 2) or tables.shape[1] < nrow + m.win_h or out_xy.shape[0] < rows * per_row
                or out_xy.shape[1] != 2 or out_sum.shape[0] < rows * per_row):
            raise ValueError("tables or outputs do not match the windows")
        nm.a, nm.b = st + 1, st + m.win_w - 1
        nm.c, nm.d = (m.win_h - 1) * st + 1, (m.win_h - 1) * st + m.win_w - 1
        nm.sq = size
        nm.area = (m.win_w - 2) * (m.win_h - 2)
        nc = chunks(rows, n_threads)
        ofs = <int32_t*>malloc((m.nfeat * 12 + 1) * sizeof(int32_t))
        counts = <Py_ssize_t*>malloc(rows * sizeof(Py_ssize_t))
        xs = <int32_t*>malloc(nc * per_row * sizeof(int32_t))
        vnf = <float*>malloc(nc * per_row * sizeof(float))
        sums = <double*>malloc(nc * per_row * sizeof(double))
        if self.stumps_only:
            ps = <PStump*>malloc(self.ntrees * sizeof(PStump))
        if (ofs == NULL or counts == NULL or xs == NULL or vnf == NULL or sums == NULL
                or (self.stumps_only and ps == NULL)):
            free(ofs)
            free(ps)
            free(counts)
            free(xs)
            free(vnf)
            free(sums)
            raise MemoryError()
        with nogil:
            _offsets(m, st, 2 * size, ofs)   # the tilted table sits 2*size after the sums
            if ps != NULL:
                _pack_stumps(m, ofs, ps)
            # one row per task, dynamically: faces make some rows far costlier than others
            for r in prange(rows, num_threads=nc, schedule='dynamic'):
                t = threadid()
                counts[r] = _scan_rows(m, ps, ofs, &nm, &tables[0, 0, 0], st, r * step, r * step + 1, step,
                                       ncol, skip_rejected, xs + t * per_row, vnf + t * per_row,
                                       sums + t * per_row, &out_xy[r * per_row, 0], &out_sum[r * per_row])
            n = pack_bands(counts, rows, rows, per_row, &out_xy[0, 0], &out_sum[0])
        free(ofs)
        free(ps)
        free(counts)
        free(xs)
        free(vnf)
        free(sums)
        return n

    def classify(self, const uint32_t[:, :, ::1] tables, const float[::1] factors, int32_t[::1] out_result):
        """OpenCV's runAt result (1 accepted, -si rejected at stage si, -1 flat) per window.

        ``tables`` holds the sum (k = 0), squared-sum (1) and, for tilted
        features, tilted (2) tables of the windows stacked into one tall image,
        ``(k, n * win_h + 1, win_w + 1)``: window i starts at row ``i * win_h``.
        ``factors[i]`` is its variance normalisation factor, 0 when flat.
        """
        cdef Model* m = &self.m
        cdef Py_ssize_t nwin = factors.shape[0], size = tables.shape[1] * tables.shape[2], i
        cdef int32_t* ofs
        cdef double last = 0
        ofs = <int32_t*>malloc((m.nfeat * 12 + 1) * sizeof(int32_t))
        if ofs == NULL:
            raise MemoryError()
        with nogil:
            _offsets(m, m.win_w + 1, 2 * size, ofs)
            for i in range(nwin):
                out_result[i] = _run(m, &tables[0, i * m.win_h, 0], factors[i], ofs, &last)
        free(ofs)
