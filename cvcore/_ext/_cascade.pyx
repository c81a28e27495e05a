# Attentional-cascade kernels: OpenCV-compatible Haar cascade evaluation over the
# windows of one image scale (early rejection), per-window classification, and
# the weighted decision-stump search over pre-sorted feature values. Integral
# tables (cvcore._ext._integral) and normalisation factors (_haar.norm_factors)
# come from the caller.
#
# Cascade layout (arrays built by cvcore.cascade, never validated here):
#   rects (nf, 12) int32   three (x, y, w, h) rectangles per feature
#   rweights (nf, 3) f32   rectangle weights (0 = unused)
#   tilted (nf,) uint8     1 for 45-degree features (OpenCV's tilted integral)
#   node_feat/node_thr/node_left/node_right (nn,)   tree nodes; a child <= 0
#                           is leaf -child of the tree, > 0 a node of the tree
#   tree_node0/tree_leaf0 (nt,) int32   first node / leaf of each tree
#   leaves (nl,) f32
#   stage_tree0/stage_ntrees (ns,) int32, stage_thr (ns,) f32
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, int8_t
from libc.stdlib cimport malloc, free


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
    const int32_t* stage_tree0
    const int32_t* stage_ntrees
    const float* stage_thr
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


cdef inline float _feature(const int64_t* p, const int32_t* o, const float* w) noexcept nogil:
    # rectangle sums are exact in int64 and fit int32 (as OpenCV's CV_32S sums)
    cdef float v = w[0] * <float>(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]])
    v = v + w[1] * <float>(p[o[4]] - p[o[5]] - p[o[6]] + p[o[7]])
    if w[2] != 0:
        v = v + w[2] * <float>(p[o[8]] - p[o[9]] - p[o[10]] + p[o[11]])
    return v


cdef inline int _run(const Model* m, const int64_t* p, float vnf, const int32_t* ofs,
                     double* last) noexcept nogil:
    """OpenCV's runAt: -1 flat window, -si rejected at stage si, 1 accepted (``last``: the
    sum of the last stage passed).

    ``vnf`` is the window's variance normalisation factor, 0 for a window that
    OpenCV calls flat (cvcore._haar_core.flat_windows decides).
    """
    cdef Py_ssize_t si, ti, t, node, leaf0
    cdef int idx
    cdef double ssum
    cdef float val
    if vnf == 0:
        return -1
    for si in range(m.nstages):
        ssum = 0
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
        if ssum < m.stage_thr[si]:
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
    cdef Py_ssize_t t, k, f, node, leaf0, ntrees = 0
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


cdef inline int _run_stumps(const Model* m, const int64_t* p, float vnf, const PStump* ps,
                            double* last) noexcept nogil:
    """_run for cascades made only of stumps (OpenCV's predictOrderedStump)."""
    cdef float val
    cdef Py_ssize_t si, ti, n
    cdef double ssum
    cdef const PStump* st
    if vnf == 0:
        return -1
    st = ps
    for si in range(m.nstages):
        ssum = 0
        n = m.stage_ntrees[si]
        for ti in range(n):
            val = _feature(p, st[ti].ofs, st[ti].w) * vnf
            ssum += st[ti].left if val < st[ti].thr else st[ti].right
        st += n
        if ssum < m.stage_thr[si]:
            return -<int>si
        last[0] = ssum
    return 1


cdef class Engine:
    """A cascade's arrays held for the kernels (built by cvcore.cascade only)."""
    cdef Model m
    cdef object keep
    cdef bint stumps_only
    cdef Py_ssize_t ntrees

    def __init__(self, const int32_t[:, ::1] rects, const float[:, ::1] rweights,
                 const uint8_t[::1] tilted, const int32_t[::1] node_feat, const float[::1] node_thr,
                 const int32_t[::1] node_left, const int32_t[::1] node_right,
                 const int32_t[::1] tree_node0, const int32_t[::1] tree_leaf0,
                 const float[::1] leaves, const int32_t[::1] stage_tree0,
                 const int32_t[::1] stage_ntrees, const float[::1] stage_thr, int win_w, int win_h):
        self.keep = (rects, rweights, tilted, node_feat, node_thr, node_left, node_right,
                     tree_node0, tree_leaf0, leaves, stage_tree0, stage_ntrees, stage_thr)
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
        self.m.stage_tree0 = &stage_tree0[0]
        self.m.stage_ntrees = &stage_ntrees[0]
        self.m.stage_thr = &stage_thr[0]
        self.m.nstages = stage_thr.shape[0]
        self.m.win_w = win_w
        self.m.win_h = win_h
        self.ntrees = tree_node0.shape[0]
        self.stumps_only = node_feat.shape[0] == tree_node0.shape[0]

    def scan(self, const int64_t[:, :, ::1] tables, const float[:, ::1] factors, Py_ssize_t y0, int step,
             bint skip_rejected, int32_t[:, ::1] out_xy, double[::1] out_sum):
        """Run the cascade on the windows of one (already resized) image whose rows start in
        ``[y0, y0 + factors.shape[0])``, on rows ``y0, y0 + step, ...``.

        ``tables`` holds the image's sum, squared-sum (and, for tilted features,
        tilted) tables, ``(k, H + 1, W + 1)``; ``factors[i, x]`` is the variance
        normalisation factor of the window at ``(x, y0 + i)``, 0 when flat (``W - win_w + 1``
        columns). Columns are ``0, step, 2 * step, ...``; with ``skip_rejected`` the
        next one is skipped after a window rejected by the first stage (OpenCV's
        detectMultiScale). Writes accepted top-left corners and the last stage's
        sum of leaf values; returns their count (at most ``out_xy.shape[0]``).
        """
        cdef Model* m = &self.m
        cdef Py_ssize_t st = tables.shape[2], size = tables.shape[1] * tables.shape[2]
        cdef Py_ssize_t n = 0, x, i, cap = out_xy.shape[0], ncol = factors.shape[1]
        cdef int32_t* ofs
        cdef int res
        cdef double last = 0
        cdef bint stumps = self.stumps_only
        cdef PStump* ps = NULL
        cdef const int64_t* base = &tables[0, 0, 0]
        ofs = <int32_t*>malloc((m.nfeat * 12 + 1) * sizeof(int32_t))
        if stumps:
            ps = <PStump*>malloc(self.ntrees * sizeof(PStump))
        if ofs == NULL or (stumps and ps == NULL):
            free(ofs)
            free(ps)
            raise MemoryError()
        with nogil:
            _offsets(m, st, 2 * size, ofs)   # the tilted table sits 2*size after the sums
            if stumps:
                _pack_stumps(m, ofs, ps)
            i = 0
            while i < factors.shape[0]:
                x = 0
                while x < ncol:
                    if stumps:
                        res = _run_stumps(m, base + (y0 + i) * st + x, factors[i, x], ps, &last)
                    else:
                        res = _run(m, base + (y0 + i) * st + x, factors[i, x], ofs, &last)
                    if res > 0 and n < cap:
                        out_xy[n, 0] = <int32_t>x
                        out_xy[n, 1] = <int32_t>(y0 + i)
                        out_sum[n] = last
                        n += 1
                    if res == 0 and skip_rejected:
                        x += step
                    x += step
                i += step
        free(ofs)
        free(ps)
        return n

    def classify(self, const int64_t[:, :, ::1] tables, const float[::1] factors, int32_t[::1] out_result):
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


# --------------------------------------------------------------------------
# decision stumps over pre-sorted feature values
# --------------------------------------------------------------------------

def best_stump(const float[:, ::1] sorted_values, const uint16_t[:, ::1] order,
               const double[::1] weights, const int8_t[::1] labels, double[::1] result):
    """Weighted-error-optimal stump over all features (rows of ``sorted_values``).

    ``order[f]`` sorts sample indices by feature f; ``sorted_values[f]`` are the
    values in that order. A stump predicts face when ``value < threshold``
    (polarity +1) or when ``value >= threshold`` (polarity -1). Writes
    ``result = (feature, threshold, polarity, error)``.
    """
    with nogil:
        _best_stump(sorted_values, order, weights, labels, result)


cdef void _best_stump(const float[:, ::1] sv, const uint16_t[:, ::1] order,
                      const double[::1] w, const int8_t[::1] y, double[::1] result) noexcept nogil:
    # With d = (positive weight left) - (negative weight left) of a threshold,
    # the error of "left = face" is tpos - d and of "right = face" is tneg + d,
    # so one signed running sum per feature suffices.
    cdef Py_ssize_t nf = sv.shape[0], n = sv.shape[1], f, k
    cdef double tpos = 0, tneg = 0, d, e1, e2
    cdef double best = 1e300, best_pol = 1
    cdef Py_ssize_t best_f = 0, best_k = 0
    cdef float thr, lo, hi, prev
    cdef const float* vals
    cdef const uint16_t* idx
    cdef double* sw = <double*>malloc(n * sizeof(double))
    if sw == NULL:
        result[3] = -1
        return
    for k in range(n):
        if y[k] > 0:
            tpos += w[k]
            sw[k] = w[k]
        else:
            tneg += w[k]
            sw[k] = -w[k]
    for f in range(nf):
        vals = &sv[f, 0]
        idx = &order[f, 0]
        d = 0
        prev = vals[0]
        for k in range(n + 1):
            # threshold between sorted k-1 and k: the first k samples go left
            if k == 0 or k == n or vals[k] != prev:
                e1 = tpos - d   # left = face
                e2 = tneg + d   # right = face
                if e1 < best or e2 < best:
                    best_f = f
                    best_k = k
                    if e1 <= e2:
                        best = e1
                        best_pol = 1
                    else:
                        best = e2
                        best_pol = -1
            if k < n:
                prev = vals[k]
                d += sw[idx[k]]
    free(sw)
    if best_k == 0:
        thr = sv[best_f, 0] - (1.0 + 0.5 * (sv[best_f, 0] if sv[best_f, 0] > 0 else -sv[best_f, 0]))
    elif best_k == n:
        thr = sv[best_f, n - 1] + (1.0 + 0.5 * (sv[best_f, n - 1] if sv[best_f, n - 1] > 0 else -sv[best_f, n - 1]))
    else:
        lo = sv[best_f, best_k - 1]
        hi = sv[best_f, best_k]
        thr = <float>(0.5 * (<double>lo + <double>hi))
        if not (thr > lo):
            thr = hi
    result[0] = best_f
    result[1] = thr
    result[2] = best_pol
    result[3] = best
