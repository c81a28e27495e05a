# CART classification trees (Gini impurity) for the random forest, and
# prediction over a forest stored as flat arrays.
#
# Training layout: features are given transposed, XT[f, i], so that gathering
# one feature over a node's samples reads a single contiguous row. Sample
# weights carry the bootstrap counts (weight 0 = sample not drawn; such samples
# are never passed in). At each node a random subset of features is tried
# (Fisher-Yates draws without replacement; features constant in the node count
# towards max_features, but at least one non-constant feature is always tried),
# each by sorting the node's samples on it and scanning all split positions
# between distinct values.
#
# Flat tree arrays (one tree; the Python layer concatenates trees):
#   feature[i]   split feature, -1 for a leaf
#   threshold[i] go left when x[feature] <= threshold
#   left[i], right[i] child node indices (-1 for a leaf)
#   value[i, :]  class probabilities of the node's (weighted) samples
#   gain[i]      weighted impurity decrease of the split (for importances)
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy, memset
from libc.math cimport INFINITY
from libc.stdint cimport int32_t, uint32_t, uint64_t

import numpy as np

ctypedef Py_ssize_t intp

cdef double FEATURE_EPS = 1e-7
cdef double IMPURITY_EPS = 1e-7
#: nodes with at least this many samples are sorted by radix sort, smaller ones by introsort
cdef intp RADIX_MIN = 256


# ---------------------------------------------------------------------------
# random numbers: splitmix64
# ---------------------------------------------------------------------------

cdef inline uint64_t _next(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline intp _rand_below(uint64_t* state, intp bound) noexcept nogil:
    return <intp>(_next(state) % <uint64_t>bound)


# ---------------------------------------------------------------------------
# introsort of (value, sample) pairs by value
# ---------------------------------------------------------------------------

cdef inline void _swap(float* v, intp* s, intp i, intp j) noexcept nogil:
    cdef float tv = v[i]
    cdef intp ts = s[i]
    v[i] = v[j]
    s[i] = s[j]
    v[j] = tv
    s[j] = ts


cdef inline float _median3(float* v, intp n) noexcept nogil:
    cdef float a = v[0], b = v[n // 2], c = v[n - 1]
    if a < b:
        if b < c:
            return b
        elif a < c:
            return c
        return a
    elif b < c:
        if a < c:
            return a
        return c
    return b


cdef void _sift_down(float* v, intp* s, intp start, intp end) noexcept nogil:
    cdef intp child, maxind, root = start
    while True:
        child = root * 2 + 1
        maxind = root
        if child < end and v[maxind] < v[child]:
            maxind = child
        if child + 1 < end and v[maxind] < v[child + 1]:
            maxind = child + 1
        if maxind == root:
            break
        _swap(v, s, root, maxind)
        root = maxind


cdef void _heapsort(float* v, intp* s, intp n) noexcept nogil:
    cdef intp start = (n - 2) // 2, end = n
    while start >= 0:
        _sift_down(v, s, start, n)
        start -= 1
    end = n - 1
    while end > 0:
        _swap(v, s, 0, end)
        _sift_down(v, s, 0, end)
        end -= 1


cdef void _introsort(float* v, intp* s, intp n, int maxd) noexcept nogil:
    cdef float pivot, t
    cdef intp i, l, r, j
    cdef intp ts
    while n > 1:
        if n <= 16:
            # insertion sort
            for i in range(1, n):
                t = v[i]
                ts = s[i]
                j = i
                while j > 0 and v[j - 1] > t:
                    v[j] = v[j - 1]
                    s[j] = s[j - 1]
                    j -= 1
                v[j] = t
                s[j] = ts
            return
        if maxd <= 0:
            _heapsort(v, s, n)
            return
        maxd -= 1
        pivot = _median3(v, n)
        # three-way partition: [< pivot | == pivot | > pivot]
        i = 0
        l = 0
        r = n
        while i < r:
            if v[i] < pivot:
                _swap(v, s, i, l)
                i += 1
                l += 1
            elif v[i] > pivot:
                r -= 1
                _swap(v, s, i, r)
            else:
                i += 1
        _introsort(v, s, l, maxd)
        v += r
        s += r
        n -= r


cdef inline void _sort(float* v, intp* s, intp n) noexcept nogil:
    cdef int maxd = 0
    cdef intp m = n
    while m > 1:
        m >>= 1
        maxd += 1
    _introsort(v, s, n, 2 * maxd)




# ---------------------------------------------------------------------------
# LSD radix sort of (value, sample) pairs for large nodes: float32 values are
# mapped to order-preserving uint32 keys and sorted in three 11/11/10-bit passes
# (a pass is skipped when all keys share that digit).
# ---------------------------------------------------------------------------

cdef inline uint32_t _float_key(float v) noexcept nogil:
    cdef uint32_t b
    memcpy(&b, &v, 4)  # bit cast without breaking strict aliasing
    if b & <uint32_t>0x80000000:
        return ~b
    return b | <uint32_t>0x80000000


cdef inline float _key_float(uint32_t k) noexcept nogil:
    cdef uint32_t b
    if k & <uint32_t>0x80000000:
        b = k & <uint32_t>0x7FFFFFFF
    else:
        b = ~k
    cdef float v
    memcpy(&v, &b, 4)
    return v


cdef struct RadixBuffers:
    uint32_t* k1
    uint32_t* k2
    intp* s2
    uint32_t* hist      # 3 * 2048 counters


cdef void _radix_sort(float* v, intp* s, intp n, RadixBuffers* rb) noexcept nogil:
    cdef uint32_t* src_k = rb.k1
    cdef uint32_t* dst_k = rb.k2
    cdef intp* src_s = s
    cdef intp* dst_s = rb.s2
    cdef uint32_t* tk
    cdef intp* ts
    cdef uint32_t* h
    cdef uint32_t key, total, cnt
    cdef intp i, d, shift, nb, b
    cdef bint trivial
    memset(rb.hist, 0, 3 * 2048 * sizeof(uint32_t))
    for i in range(n):
        key = _float_key(v[i])
        src_k[i] = key
        rb.hist[key & 2047] += 1
        rb.hist[2048 + ((key >> 11) & 2047)] += 1
        rb.hist[4096 + (key >> 22)] += 1
    for d in range(3):
        h = rb.hist + 2048 * d
        shift = 11 * d
        nb = 2048 if d < 2 else 1024
        trivial = False
        total = 0
        for b in range(nb):
            cnt = h[b]
            if cnt == <uint32_t>n:
                trivial = True
                break
            h[b] = total
            total += cnt
        if trivial:
            continue
        for i in range(n):
            key = src_k[i]
            b = (key >> shift) & 2047
            dst_k[h[b]] = key
            dst_s[h[b]] = src_s[i]
            h[b] += 1
        tk = src_k
        src_k = dst_k
        dst_k = tk
        ts = src_s
        src_s = dst_s
        dst_s = ts
    if src_s != s:
        for i in range(n):
            s[i] = src_s[i]
    for i in range(n):
        v[i] = _key_float(src_k[i])

# ---------------------------------------------------------------------------
# growable node storage
# ---------------------------------------------------------------------------

cdef struct Nodes:
    intp count
    intp capacity
    intp n_classes
    int32_t* feature
    double* threshold
    int32_t* left
    int32_t* right
    double* value
    double* gain
    double* weight


cdef int _nodes_reserve(Nodes* t, intp need) noexcept nogil:
    cdef intp cap = t.capacity
    if need <= cap:
        return 0
    while cap < need:
        cap = cap * 2 if cap > 0 else 64
    t.feature = <int32_t*>realloc(t.feature, cap * sizeof(int32_t))
    t.threshold = <double*>realloc(t.threshold, cap * sizeof(double))
    t.left = <int32_t*>realloc(t.left, cap * sizeof(int32_t))
    t.right = <int32_t*>realloc(t.right, cap * sizeof(int32_t))
    t.value = <double*>realloc(t.value, cap * t.n_classes * sizeof(double))
    t.gain = <double*>realloc(t.gain, cap * sizeof(double))
    t.weight = <double*>realloc(t.weight, cap * sizeof(double))
    if (t.feature == NULL or t.threshold == NULL or t.left == NULL or t.right == NULL
            or t.value == NULL or t.gain == NULL or t.weight == NULL):
        return -1
    t.capacity = cap
    return 0


cdef void _nodes_free(Nodes* t) noexcept nogil:
    free(t.feature)
    free(t.threshold)
    free(t.left)
    free(t.right)
    free(t.value)
    free(t.gain)
    free(t.weight)


cdef struct StackItem:
    intp start
    intp end
    intp depth
    intp node


# ---------------------------------------------------------------------------
# tree growth, resumable: the Python layer calls step() repeatedly (each call
# releases the GIL and processes nodes until a work budget is spent), so that a
# tree on millions of samples stays interruptible. Nodes are processed in the
# same depth-first order whatever the budget: the tree does not depend on it.
# ---------------------------------------------------------------------------

cdef class TreeGrower:
    """Grow one tree on ``samples`` (indices with weight > 0; reordered in place).

    ``step(budget)`` grows nodes until about ``budget`` units of work (sample
    values gathered and sorted) are done and returns True once the tree is
    complete; ``result()`` then returns ``(feature, threshold, left, right,
    value, gain, node_weight)`` arrays.
    """
    cdef const float[:, ::1] XT
    cdef const intp[::1] y
    cdef const double[::1] w
    cdef intp[::1] samples_view
    cdef intp* samples
    cdef intp n_samples, K, max_depth, min_samples_leaf, max_features, n_features, top
    cdef uint64_t rng
    cdef Nodes t
    cdef float* Xf
    cdef intp* feats
    cdef double* counts
    cdef StackItem* stack
    cdef RadixBuffers rb
    cdef bint done

    def __cinit__(self, const float[:, ::1] XT, const intp[::1] y, const double[::1] weight,
                  intp[::1] samples, intp n_classes, intp max_depth, intp min_samples_leaf,
                  intp max_features, uint64_t seed):
        cdef intp n = samples.shape[0], f
        self.XT = XT
        self.y = y
        self.w = weight
        self.samples_view = samples
        self.samples = &samples[0]
        self.n_samples = n
        self.K = n_classes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.n_features = XT.shape[0]
        self.rng = seed
        self.t.count = 0
        self.t.capacity = 0
        self.t.n_classes = n_classes
        self.t.feature = NULL
        self.t.threshold = NULL
        self.t.left = NULL
        self.t.right = NULL
        self.t.value = NULL
        self.t.gain = NULL
        self.t.weight = NULL
        self.Xf = <float*>malloc(n * sizeof(float))
        self.feats = <intp*>malloc(self.n_features * sizeof(intp))
        self.counts = <double*>malloc(3 * n_classes * sizeof(double))
        self.stack = <StackItem*>malloc((n + 2) * sizeof(StackItem))
        self.rb.k1 = <uint32_t*>malloc(n * sizeof(uint32_t))
        self.rb.k2 = <uint32_t*>malloc(n * sizeof(uint32_t))
        self.rb.s2 = <intp*>malloc(n * sizeof(intp))
        self.rb.hist = <uint32_t*>malloc(3 * 2048 * sizeof(uint32_t))
        if (self.Xf == NULL or self.feats == NULL or self.counts == NULL or self.stack == NULL
                or self.rb.k1 == NULL or self.rb.k2 == NULL or self.rb.s2 == NULL or self.rb.hist == NULL
                or _nodes_reserve(&self.t, 1) != 0):
            raise MemoryError("out of memory while growing a tree")
        for f in range(self.n_features):
            self.feats[f] = f
        self.t.count = 1
        self.stack[0].start = 0
        self.stack[0].end = n
        self.stack[0].depth = 0
        self.stack[0].node = 0
        self.top = 1
        self.done = False

    def __dealloc__(self):
        free(self.Xf)
        free(self.feats)
        free(self.counts)
        free(self.stack)
        free(self.rb.k1)
        free(self.rb.k2)
        free(self.rb.s2)
        free(self.rb.hist)
        _nodes_free(&self.t)

    def step(self, intp budget):
        """Grow nodes until about ``budget`` work units are spent; True when the tree is complete."""
        cdef int status
        if self.done:
            return True
        with nogil:
            status = self._steps(budget)
        if status != 0:
            raise MemoryError("out of memory while growing a tree")
        self.done = self.top == 0
        return self.done

    cdef int _steps(self, intp budget) noexcept nogil:
        """Process stacked nodes until the budget is spent. Returns 0, or -1 when out of memory."""
        cdef const float[:, ::1] XT = self.XT
        cdef const intp[::1] y = self.y
        cdef const double[::1] w = self.w
        cdef intp* samples = self.samples
        cdef Nodes* t = &self.t
        cdef float* Xf = self.Xf
        cdef intp* feats = self.feats
        cdef StackItem* stack = self.stack
        cdef intp n_features = self.n_features, K = self.K, max_features = self.max_features
        cdef intp min_samples_leaf = self.min_samples_leaf
        cdef double* counts = self.counts
        cdef double* lc = counts + K
        cdef double* rc = counts + 2 * K
        cdef intp n_const, top = self.top, start, end, depth, node, i, p, c, f, j, n_node, visited, drawn, tmp
        cdef intp best_f, best_pos, lpos, work = 0
        cdef double wn, imp, sq, wl, wr, proxy, best_proxy, best_thr, thr, imp_l, imp_r
        cdef double sl, sr, wi
        cdef int status = 0
        cdef bint is_leaf
        while top > 0 and work < budget:
            top -= 1
            start = stack[top].start
            end = stack[top].end
            depth = stack[top].depth
            node = stack[top].node
            n_node = end - start
            work += n_node
            # class counts and impurity of the node
            memset(counts, 0, K * sizeof(double))
            wn = 0.0
            for i in range(start, end):
                wi = w[samples[i]]
                counts[y[samples[i]]] += wi
                wn += wi
            sq = 0.0
            for c in range(K):
                t.value[node * K + c] = counts[c] / wn
                sq += counts[c] * counts[c]
            imp = 1.0 - sq / (wn * wn)
            t.weight[node] = wn
            t.feature[node] = -1
            t.threshold[node] = 0.0
            t.left[node] = -1
            t.right[node] = -1
            t.gain[node] = 0.0
            is_leaf = (depth >= self.max_depth or n_node < 2 or n_node < 2 * min_samples_leaf
                       or imp <= IMPURITY_EPS)
            if is_leaf:
                continue
            best_f = -1
            best_pos = -1
            best_proxy = -INFINITY
            best_thr = 0.0
            visited = 0
            drawn = 0
            n_const = 0
            while drawn < n_features and (visited < max_features or visited <= n_const):
                j = drawn + _rand_below(&self.rng, n_features - drawn)
                tmp = feats[drawn]
                feats[drawn] = feats[j]
                feats[j] = tmp
                f = feats[drawn]
                drawn += 1
                for i in range(start, end):
                    Xf[i] = XT[f, samples[i]]
                if n_node >= RADIX_MIN:
                    _radix_sort(Xf + start, samples + start, n_node, &self.rb)
                else:
                    _sort(Xf + start, samples + start, n_node)
                work += n_node
                visited += 1
                if Xf[end - 1] <= Xf[start] + FEATURE_EPS:
                    # constant in this node: counts as tried (as in scikit-learn), but the
                    # search goes on until at least one non-constant feature was tried
                    n_const += 1
                    continue
                memset(lc, 0, K * sizeof(double))
                for c in range(K):
                    rc[c] = counts[c]
                wl = 0.0
                wr = wn
                sl = 0.0
                sr = sq
                for p in range(start, end - 1):
                    i = samples[p]
                    wi = w[i]
                    c = y[i]
                    # update sums of squares incrementally
                    sl += wi * (2.0 * lc[c] + wi)
                    sr += wi * (wi - 2.0 * rc[c])
                    lc[c] += wi
                    rc[c] -= wi
                    wl += wi
                    wr -= wi
                    if Xf[p + 1] <= Xf[p] + FEATURE_EPS:
                        continue
                    if p + 1 - start < min_samples_leaf:
                        continue
                    if end - p - 1 < min_samples_leaf:
                        break
                    proxy = sl / wl + sr / wr
                    if proxy > best_proxy:
                        best_proxy = proxy
                        best_f = f
                        best_pos = p + 1
                        thr = Xf[p] / 2.0 + Xf[p + 1] / 2.0
                        if thr == Xf[p + 1] or thr == INFINITY or thr == -INFINITY:
                            thr = Xf[p]
                        best_thr = thr
            if best_f < 0:
                continue
            # partition samples[start:end] on the best split
            lpos = start
            for i in range(start, end):
                if XT[best_f, samples[i]] <= best_thr:
                    tmp = samples[lpos]
                    samples[lpos] = samples[i]
                    samples[i] = tmp
                    lpos += 1
            if lpos == start or lpos == end:
                continue  # cannot happen with exact thresholds; keep the node a leaf
            if _nodes_reserve(t, t.count + 2) != 0:
                status = -1
                break
            t.feature[node] = <int32_t>best_f
            t.threshold[node] = best_thr
            t.left[node] = <int32_t>t.count
            t.right[node] = <int32_t>(t.count + 1)
            # impurity decrease (weighted), for feature importances
            memset(lc, 0, K * sizeof(double))
            wl = 0.0
            for i in range(start, lpos):
                lc[y[samples[i]]] += w[samples[i]]
                wl += w[samples[i]]
            wr = wn - wl
            sl = 0.0
            sr = 0.0
            for c in range(K):
                sl += lc[c] * lc[c]
                sr += (counts[c] - lc[c]) * (counts[c] - lc[c])
            imp_l = 1.0 - sl / (wl * wl)
            imp_r = 1.0 - sr / (wr * wr) if wr > 0 else 0.0
            t.gain[node] = wn * imp - wl * imp_l - wr * imp_r
            # push right first so that the left subtree is grown first
            stack[top].start = lpos
            stack[top].end = end
            stack[top].depth = depth + 1
            stack[top].node = t.count + 1
            top += 1
            stack[top].start = start
            stack[top].end = lpos
            stack[top].depth = depth + 1
            stack[top].node = t.count
            top += 1
            t.count += 2
        self.top = top
        return status

    def result(self):
        """The grown tree as ``(feature, threshold, left, right, value, gain, node_weight)``."""
        if not self.done:
            raise RuntimeError("the tree is not complete; call step() until it returns True")
        cdef intp n = self.t.count, K = self.K, i, c
        feature = np.empty(n, np.int32)
        threshold = np.empty(n, np.float64)
        left = np.empty(n, np.int32)
        right = np.empty(n, np.int32)
        value = np.empty((n, K), np.float64)
        gain = np.empty(n, np.float64)
        node_weight = np.empty(n, np.float64)
        cdef int32_t[::1] fv = feature, lv = left, rv = right
        cdef double[::1] tv = threshold, gv = gain, wv = node_weight
        cdef double[:, ::1] vv = value
        for i in range(n):
            fv[i] = self.t.feature[i]
            tv[i] = self.t.threshold[i]
            lv[i] = self.t.left[i]
            rv[i] = self.t.right[i]
            gv[i] = self.t.gain[i]
            wv[i] = self.t.weight[i]
            for c in range(K):
                vv[i, c] = self.t.value[i * K + c]
        return feature, threshold, left, right, value, gain, node_weight


# ---------------------------------------------------------------------------
# prediction over a flat forest
# ---------------------------------------------------------------------------

cdef packed struct Node:
    double threshold
    int32_t feature
    int32_t left          # right child is left + 1; -1 marks a leaf (index into value)


def pack_nodes(const int32_t[::1] feature, const double[::1] threshold, const int32_t[::1] left,
               const int32_t[::1] right, Node[::1] out):
    """Fill the packed node array used by :func:`forest_predict_proba`.

    Children must be adjacent (``right == left + 1``), as :func:`grow_tree`
    allocates them; returns False (and leaves ``out`` partly filled) otherwise.
    """
    cdef intp i
    for i in range(feature.shape[0]):
        if left[i] >= 0 and right[i] != left[i] + 1:
            return False
        out[i].threshold = threshold[i]
        out[i].feature = feature[i] if left[i] >= 0 else 0
        out[i].left = left[i]
    return True


def forest_predict_proba(const float[:, ::1] X, const int32_t[::1] roots, const Node[::1] nodes,
                         const double[:, ::1] value, double[:, ::1] out, intp block=4096):
    """Average of the trees' leaf class distributions for every row of X.

    Node indices are global (all trees concatenated); ``roots[t]`` is tree
    ``t``'s root. Samples are processed in blocks of ``block`` rows, tree by
    tree, so that a tree's nodes stay in cache while it handles the block.
    """
    cdef intp n = X.shape[0], n_trees = roots.shape[0], K = value.shape[1]
    cdef intp b0, b1, i, j, tr, c, node
    cdef intp BLOCK = block if block > 0 else 1
    cdef double scale = 1.0 / n_trees
    cdef const Node* nd = &nodes[0]
    with nogil:
        for i in range(n):
            for c in range(K):
                out[i, c] = 0.0
        b0 = 0
        while b0 < n:
            b1 = b0 + BLOCK
            if b1 > n:
                b1 = n
            for tr in range(n_trees):
                for i in range(b0, b1):
                    node = roots[tr]
                    while nd[node].left >= 0:
                        if X[i, nd[node].feature] <= nd[node].threshold:
                            node = nd[node].left
                        else:
                            node = nd[node].left + 1
                    for c in range(K):
                        out[i, c] += value[node, c]
            for i in range(b0, b1):
                for c in range(K):
                    out[i, c] *= scale
            b0 = b1


def forest_apply(const float[:, ::1] X, const int32_t[::1] roots, const int32_t[::1] feature,
                 const double[::1] threshold, const int32_t[::1] left, const int32_t[::1] right,
                 int32_t[:, ::1] out):
    """Leaf node (global index) reached by every row of X in every tree."""
    cdef intp n = X.shape[0], n_trees = roots.shape[0], i, tr, node
    with nogil:
        for i in range(n):
            for tr in range(n_trees):
                node = roots[tr]
                while left[node] >= 0:
                    if X[i, feature[node]] <= threshold[node]:
                        node = left[node]
                    else:
                        node = right[node]
                out[i, tr] = <int32_t>node
