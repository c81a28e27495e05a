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
from libc.math cimport nextafterf
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start

import numpy as np

ctypedef Py_ssize_t intp

cdef double FEATURE_EPS = 1e-7
cdef double IMPURITY_EPS = 1e-7
#: nodes with at least this many samples are sorted by radix sort, smaller ones by introsort (48 with
#: 8-bit digits: forest fit on horse-photo pixels 1.5x faster than 256 with 11-bit digits; the trees
#: are the same whichever sort runs)
cdef intp RADIX_MIN = 48
#: nodes with at least this many samples use 11-bit radix digits, smaller ones 8-bit digits
cdef intp RADIX_WIDE = 2048


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
# LSD radix sort of (value, sample) pairs for all but small nodes: float32 values
# are mapped to order-preserving uint32 keys and sorted in three 11/11/10-bit
# passes, or four 8-bit passes below RADIX_WIDE samples (a pass is skipped when
# all keys share that digit).
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
    # digits of 8 bits (4 passes) below RADIX_WIDE samples, where clearing and scanning
    # 3 x 2048 counters would cost more than the passes; 11/11/10 bits above
    cdef int bits = 11 if n >= RADIX_WIDE else 8
    cdef int passes = 3 if n >= RADIX_WIDE else 4
    cdef uint32_t mask = (<uint32_t>1 << bits) - 1
    cdef intp nb = <intp>1 << bits
    cdef uint32_t* src_k = rb.k1
    cdef uint32_t* dst_k = rb.k2
    cdef intp* src_s = s
    cdef intp* dst_s = rb.s2
    cdef uint32_t* tk
    cdef intp* ts
    cdef uint32_t* h
    cdef uint32_t key, total, cnt
    cdef intp i, d, shift, b
    cdef bint trivial
    memset(rb.hist, 0, passes * nb * sizeof(uint32_t))
    for i in range(n):
        key = _float_key(v[i])
        src_k[i] = key
        for d in range(passes):
            rb.hist[d * nb + ((key >> (bits * d)) & mask)] += 1
    for d in range(passes):
        h = rb.hist + nb * d
        shift = bits * d
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
            b = (key >> shift) & mask
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
# tree growth, resumable: the Python layer calls grow_steps() repeatedly on a
# few trees at once (one OpenMP thread per tree; each call releases the GIL and
# grows every tree until a work budget is spent), so that a forest on millions
# of samples stays interruptible. Each tree has its own state and random
# stream and processes its nodes in the same depth-first order whatever the
# budget or the thread that runs it: the forest does not depend on either.
# ---------------------------------------------------------------------------

cdef struct Grow:
    const float* XT         # (n_features, n_total) training features, transposed
    intp n_total
    const intp* y
    const double* w
    intp* samples
    intp n_samples, K, max_depth, min_samples_leaf, max_features, n_features, top
    uint64_t rng
    Nodes t
    float* Xf
    intp* feats
    double* counts
    StackItem* stack
    RadixBuffers rb
    int status              # 0, or -1 once out of memory


cdef class TreeGrower:
    """Grow one tree on ``samples`` (indices with weight > 0; reordered in place).

    :func:`grow_steps` grows a list of them until about ``budget`` units of
    work (sample values gathered and sorted) are done per tree; ``done`` is
    True once the tree is complete, and ``result()`` then returns
    ``(feature, threshold, left, right, value, gain, node_weight)`` arrays.
    """
    cdef const float[:, ::1] XT
    cdef const intp[::1] y
    cdef const double[::1] w
    cdef intp[::1] samples_view
    cdef Grow g

    def __cinit__(self, const float[:, ::1] XT, const intp[::1] y, const double[::1] weight,
                  intp[::1] samples, intp n_classes, intp max_depth, intp min_samples_leaf,
                  intp max_features, uint64_t seed):
        cdef intp n = samples.shape[0], f
        cdef Grow* g = &self.g
        memset(g, 0, sizeof(Grow))
        self.XT = XT
        self.y = y
        self.w = weight
        self.samples_view = samples
        g.XT = &XT[0, 0]
        g.n_total = XT.shape[1]
        g.y = &y[0]
        g.w = &weight[0]
        g.samples = &samples[0]
        g.n_samples = n
        g.K = n_classes
        g.max_depth = max_depth
        g.min_samples_leaf = min_samples_leaf
        g.max_features = max_features
        g.n_features = XT.shape[0]
        g.rng = seed
        g.t.n_classes = n_classes
        g.Xf = <float*>malloc(n * sizeof(float))
        g.feats = <intp*>malloc(g.n_features * sizeof(intp))
        g.counts = <double*>malloc(3 * n_classes * sizeof(double))
        g.stack = <StackItem*>malloc((n + 2) * sizeof(StackItem))
        g.rb.k1 = <uint32_t*>malloc(n * sizeof(uint32_t))
        g.rb.k2 = <uint32_t*>malloc(n * sizeof(uint32_t))
        g.rb.s2 = <intp*>malloc(n * sizeof(intp))
        g.rb.hist = <uint32_t*>malloc(3 * 2048 * sizeof(uint32_t))
        if (g.Xf == NULL or g.feats == NULL or g.counts == NULL or g.stack == NULL
                or g.rb.k1 == NULL or g.rb.k2 == NULL or g.rb.s2 == NULL or g.rb.hist == NULL
                or _nodes_reserve(&g.t, 1) != 0):
            raise MemoryError("out of memory while growing a tree")
        for f in range(g.n_features):
            g.feats[f] = f
        g.t.count = 1
        g.stack[0].start = 0
        g.stack[0].end = n
        g.stack[0].depth = 0
        g.stack[0].node = 0
        g.top = 1

    def __dealloc__(self):
        free(self.g.Xf)
        free(self.g.feats)
        free(self.g.counts)
        free(self.g.stack)
        free(self.g.rb.k1)
        free(self.g.rb.k2)
        free(self.g.rb.s2)
        free(self.g.rb.hist)
        _nodes_free(&self.g.t)

    @property
    def done(self):
        """True once the tree is complete."""
        return self.g.top == 0

    def step(self, intp budget):
        """Grow nodes until about ``budget`` work units are spent; True when the tree is complete."""
        return grow_steps([self], budget, 1)

    def result(self):
        """The grown tree as ``(feature, threshold, left, right, value, gain, node_weight)``."""
        if self.g.top != 0:
            raise RuntimeError("the tree is not complete; call step() until it returns True")
        cdef Nodes* t = &self.g.t
        cdef intp n = t.count, K = self.g.K, i, c
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
            fv[i] = t.feature[i]
            tv[i] = t.threshold[i]
            lv[i] = t.left[i]
            rv[i] = t.right[i]
            gv[i] = t.gain[i]
            wv[i] = t.weight[i]
            for c in range(K):
                vv[i, c] = t.value[i * K + c]
        return feature, threshold, left, right, value, gain, node_weight


def grow_steps(growers, intp budget, int n_threads):
    """Grow every :class:`TreeGrower` of the list ``growers`` by about
    ``budget`` work units, on ``n_threads`` OpenMP threads (one tree each at a
    time). Returns True when all of them are complete."""
    cdef intp m = len(growers), i
    cdef int failed = 0
    cdef bint all_done = True
    if m == 0:
        return True
    cdef Grow** states = <Grow**>malloc(m * sizeof(Grow*))
    if states == NULL:
        raise MemoryError("out of memory while growing trees")
    try:
        for i in range(m):
            states[i] = &(<TreeGrower?>growers[i]).g
        with nogil:
            for i in prange(m, num_threads=n_threads if n_threads < m else <int>m, schedule='dynamic', chunksize=1):
                if states[i].top > 0 and states[i].status == 0:
                    states[i].status = _grow(states[i], budget)
        for i in range(m):
            if states[i].status != 0:
                failed = 1
            if states[i].top != 0:
                all_done = False
    finally:
        free(states)
    if failed:
        raise MemoryError("out of memory while growing a tree")
    return all_done


cdef int _grow(Grow* g, intp budget) noexcept nogil:
    """Process stacked nodes until the budget is spent. Returns 0, or -1 when out of memory."""
    cdef const float* XT = g.XT
    cdef intp n_total = g.n_total
    cdef const intp* y = g.y
    cdef const double* w = g.w
    cdef intp* samples = g.samples
    cdef Nodes* t = &g.t
    cdef float* Xf = g.Xf
    cdef intp* feats = g.feats
    cdef StackItem* stack = g.stack
    cdef const float* row
    cdef intp n_features = g.n_features, K = g.K, max_features = g.max_features
    cdef intp min_samples_leaf = g.min_samples_leaf
    cdef double* counts = g.counts
    cdef double* lc = counts + K
    cdef double* rc = counts + 2 * K
    cdef intp n_const, top = g.top, start, end, depth, node, i, p, c, f, j, n_node, visited, drawn, tmp
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
        is_leaf = (depth >= g.max_depth or n_node < 2 or n_node < 2 * min_samples_leaf
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
            j = drawn + _rand_below(&g.rng, n_features - drawn)
            tmp = feats[drawn]
            feats[drawn] = feats[j]
            feats[j] = tmp
            f = feats[drawn]
            drawn += 1
            row = XT + f * n_total
            for i in range(start, end):
                Xf[i] = row[samples[i]]
            if n_node >= RADIX_MIN:
                _radix_sort(Xf + start, samples + start, n_node, &g.rb)
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
        row = XT + best_f * n_total
        lpos = start
        for i in range(start, end):
            if row[samples[i]] <= best_thr:
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
    g.top = top
    return status


# ---------------------------------------------------------------------------
# prediction over a flat forest
# ---------------------------------------------------------------------------

# Descent of LANES rows through one tree at once, in C so that the lanes' node
# indices live in registers: the lanes' independent loads overlap, which is what
# bounds the speed (one lane at a time waits on two dependent loads per level).
# A block of rows is first transposed into groups of LANES rows stored feature by
# feature (xt[f * LANES + lane]), so that a lane reads its value at a fixed offset
# from the node's prescaled feature. Lanes step until none moves (a leaf leads to
# itself), testing that every second step. 16 lanes: 1.35x faster than 8 on
# horse-photo features (12 to 20 measured alike; 32 slower).
cdef extern from *:
    """
    #include <stdint.h>
    #include <stddef.h>
    #define CVF_LANES 16
    /* nodes as three arrays (one scaled index addresses each): go to left[i] + 1 when
       x[feature[i] / LANES] > threshold[i]; a leaf leads to itself (threshold +inf) */
    typedef struct { const float *threshold; const int32_t *feature; const int32_t *left; } cvf_nodes;
    #define CVF_ALL(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) \\
                       M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
    #define CVF_DECL(k) int32_t c##k = root, n##k;
    #define CVF_STEP(k) n##k = left[c##k] + (xt[feature[c##k] + k] > threshold[c##k]);
    #define CVF_ADVANCE(k) c##k = n##k;
    #define CVF_MOVED(k) | (n##k ^ c##k)
    #define CVF_STORE(k) leaf[k] = c##k;

    static inline void cvf_descend(cvf_nodes nd, const float *xt, int32_t root, int32_t *leaf) {
        const float *threshold = nd.threshold;
        const int32_t *feature = nd.feature, *left = nd.left;
        CVF_ALL(CVF_DECL)
        for (;;) {
            CVF_ALL(CVF_STEP)
            CVF_ALL(CVF_ADVANCE)
            CVF_ALL(CVF_STEP)
            if (!(0 CVF_ALL(CVF_MOVED))) break;
            CVF_ALL(CVF_ADVANCE)
        }
        CVF_ALL(CVF_STORE)
    }

    /* Rows r0 .. r1 - 1 of X (n x d): the trees' leaf distributions summed in tree
       order, then scaled by 1 / n_trees, into out (K per row). xt holds
       ceil((r1 - r0) / LANES) * d * LANES floats. */
    static void cvf_predict_block(const float *X, ptrdiff_t d, ptrdiff_t r0, ptrdiff_t r1,
                                  const int32_t *roots, ptrdiff_t n_trees, cvf_nodes nd,
                                  const double *value, ptrdiff_t K, double *out, float *xt) {
        ptrdiff_t ng = (r1 - r0 + CVF_LANES - 1) / CVF_LANES, g, f, i, c, tr, r;
        int32_t leaf[CVF_LANES];
        int j, m;
        for (g = 0; g < ng; g++) {
            float *dst = xt + g * d * CVF_LANES;
            for (j = 0; j < CVF_LANES; j++) {
                r = r0 + g * CVF_LANES + j;
                const float *src = X + (r < r1 ? r : r1 - 1) * d;  /* the last group is padded */
                for (f = 0; f < d; f++)
                    dst[f * CVF_LANES + j] = src[f];
            }
        }
        for (i = r0 * K; i < r1 * K; i++)
            out[i] = 0.0;
        for (tr = 0; tr < n_trees; tr++) {
            for (g = 0; g < ng; g++) {
                cvf_descend(nd, xt + g * d * CVF_LANES, roots[tr], leaf);
                r = r0 + g * CVF_LANES;
                m = (int)(r1 - r < CVF_LANES ? r1 - r : CVF_LANES);
                for (j = 0; j < m; j++)
                    for (c = 0; c < K; c++)
                        out[(r + j) * K + c] += value[(ptrdiff_t)leaf[j] * K + c];
            }
        }
        const double scale = 1.0 / (double)n_trees;
        for (i = r0 * K; i < r1 * K; i++)
            out[i] *= scale;
    }
    """
    enum: LANES "CVF_LANES"
    ctypedef struct cvf_nodes:
        const float* threshold
        const int32_t* feature
        const int32_t* left
    void cvf_predict_block(const float* X, intp d, intp r0, intp r1, const int32_t* roots, intp n_trees,
                           cvf_nodes nd, const double* value, intp K, double* out, float* xt) noexcept nogil


#: largest feature index the packed nodes can hold (its offset times LANES must fit int32)
MAX_PACKED_FEATURES = (2**31 - 1) // LANES


def pack_nodes(const int32_t[::1] feature, const double[::1] threshold, const int32_t[::1] left,
               const int32_t[::1] right, float[::1] threshold32, int32_t[::1] feature_offset, int32_t[::1] left_out):
    """Fill the node arrays used by :func:`forest_predict_proba` (``threshold32``,
    ``feature_offset`` and ``left_out``, of the forest's length).

    The float64 threshold ``t`` becomes the largest float32 not above it: for
    a float32 ``x``, ``x <= t`` exactly when ``x <= float32 threshold``, so
    the decisions are those of the float64 tree. A leaf becomes a node that
    leads to itself whatever the (finite) feature value, so that descending
    needs no test for leaves. The feature index is stored times ``LANES`` (its
    offset in a lane-transposed block). Children must be adjacent (``right ==
    left + 1``), as the grower allocates them, and features below
    ``MAX_PACKED_FEATURES``; returns False (and leaves the arrays partly
    filled) otherwise.
    """
    cdef intp i
    cdef float t32
    for i in range(feature.shape[0]):
        if left[i] < 0:
            threshold32[i] = INFINITY
            feature_offset[i] = 0
            left_out[i] = <int32_t>i
            continue
        if right[i] != left[i] + 1 or feature[i] >= MAX_PACKED_FEATURES:
            return False
        t32 = <float>threshold[i]
        if t32 > threshold[i]:
            t32 = nextafterf(t32, -INFINITY)
        threshold32[i] = t32
        feature_offset[i] = feature[i] * LANES
        left_out[i] = left[i]
    return True


def forest_predict_proba(const float[:, ::1] X, const int32_t[::1] roots, const float[::1] threshold32,
                         const int32_t[::1] feature_offset, const int32_t[::1] left, const double[:, ::1] value,
                         double[:, ::1] out, int n_threads=1, intp block_bytes=1 << 15):
    """Average of the trees' leaf class distributions for every row of X.

    Node indices are global (all trees concatenated); ``roots[t]`` is tree
    ``t``'s root; the node arrays come from :func:`pack_nodes`. Rows are processed
    in blocks small enough for their (transposed) features to stay in cache
    while every tree handles the block; the blocks are cut into ``n_threads``
    contiguous runs, one per OpenMP thread, each with its own transposition
    buffer. Each row's sum runs over the trees in order, so the result does
    not depend on blocks or threads. ``block_bytes`` sizes the blocks (32 KiB
    of features, rounded up to whole lane groups: the fastest measured).
    """
    cdef intp n = X.shape[0], d = X.shape[1], K = value.shape[1], n_trees = roots.shape[0]
    cdef intp block = block_bytes // (4 * d + 1)
    cdef intp nb, nc, t, b, b0, b1
    cdef cvf_nodes nd
    if feature_offset.shape[0] != threshold32.shape[0] or left.shape[0] != threshold32.shape[0] \
            or value.shape[0] != threshold32.shape[0] or out.shape[0] != n or out.shape[1] != K:
        raise ValueError("forest_predict_proba: node arrays, value and out must match")
    block = max(LANES, (block + LANES - 1) // LANES * LANES)
    nb = (n + block - 1) // block
    if nb == 0 or n_trees == 0:
        return
    nc = chunks(nb, n_threads)
    scratch = np.empty((nc, block * d), np.float32)
    cdef float[:, ::1] xt = scratch
    nd.threshold = &threshold32[0]
    nd.feature = &feature_offset[0]
    nd.left = &left[0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            for b in range(chunk_start(nb, nc, t), chunk_start(nb, nc, t + 1)):
                b0 = b * block
                b1 = min(n, b0 + block)
                cvf_predict_block(&X[0, 0], d, b0, b1, &roots[0], n_trees, nd,
                                  &value[0, 0], K, &out[0, 0], &xt[t, 0])


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
