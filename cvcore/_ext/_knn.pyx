# Exact k-nearest-neighbour kernels (Euclidean distance).
#
# Two search strategies, chosen by the Python layer (cvcore.segmentation.knn):
#   * a k-d tree (balanced, median split on the widest dimension, node bounding
#     boxes for pruning) for low-dimensional data;
#   * a blocked brute force for higher dimensions: the Python layer computes the
#     Gram block G = Q @ X.T with BLAS, this kernel adds ||x||^2 - 2 q.x and keeps
#     the k smallest per query with a bounded max-heap.
# Both keep neighbours ordered by (distance, training index): on exact distance
# ties the lower training index wins, like a sequential scan that rejects
# candidates equal to the current k-th distance.
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free
from cython.parallel cimport prange

ctypedef Py_ssize_t intp


# ---------------------------------------------------------------------------
# bounded max-heap of (distance, index) pairs, root = current worst neighbour
# ---------------------------------------------------------------------------

cdef inline bint _worse(double da, intp ia, double db, intp ib) noexcept nogil:
    # True when (da, ia) ranks after (db, ib)
    return da > db or (da == db and ia > ib)


cdef inline void _sift_down(double* dist, intp* idx, intp n, double d, intp i) noexcept nogil:
    """Place (d, i) at the root of the max-heap dist[:n], idx[:n] and sift it down."""
    cdef intp pos = 0, left, right, child
    while True:
        left = 2 * pos + 1
        if left >= n:
            break
        right = left + 1
        child = left
        if right < n and _worse(dist[right], idx[right], dist[left], idx[left]):
            child = right
        if _worse(dist[child], idx[child], d, i):
            dist[pos] = dist[child]
            idx[pos] = idx[child]
            pos = child
        else:
            break
    dist[pos] = d
    idx[pos] = i


cdef inline void _heap_push(double* dist, intp* idx, intp k, double d, intp i) noexcept nogil:
    """Replace the root (worst) with (d, i) if (d, i) is better, then sift down."""
    if _worse(dist[0], idx[0], d, i):
        _sift_down(dist, idx, k, d, i)


cdef inline void _heap_sort(double* dist, intp* idx, intp k) noexcept nogil:
    """In-place ascending sort of a max-heap (classic heapsort extraction)."""
    cdef intp end
    cdef double d
    cdef intp i
    for end in range(k - 1, 0, -1):
        d = dist[end]
        i = idx[end]
        dist[end] = dist[0]
        idx[end] = idx[0]
        _sift_down(dist, idx, end, d, i)


# ---------------------------------------------------------------------------
# brute force on a precomputed Gram block
# ---------------------------------------------------------------------------

def select_from_gram(const double[:, ::1] gram, const double[::1] sq_train,
                     const double[::1] sq_query, intp row_offset,
                     double[:, ::1] out_dist, intp[:, ::1] out_idx, int n_threads=1):
    """k nearest per row of ``gram`` (= Q_block @ X.T), rows spread over ``n_threads``
    OpenMP threads (each row is searched alone: results do not depend on them).

    Ranks training points by ``||x||^2 - 2 q.x`` (the query norm does not change
    the order), then writes squared distances ``max(0, that + ||q||^2)`` sorted
    ascending into rows ``row_offset ..`` of ``out_dist`` / ``out_idx``.
    """
    cdef intp nq = gram.shape[0], n = gram.shape[1], k = out_dist.shape[1]
    cdef intp r, j, t
    cdef double d, sq
    cdef double* hd
    cdef intp* hi
    with nogil:
        for r in prange(nq, num_threads=n_threads if n_threads > 0 else 1, schedule='static'):
            hd = &out_dist[row_offset + r, 0]
            hi = &out_idx[row_offset + r, 0]
            for t in range(k):
                hd[t] = INFINITY
                hi[t] = n
            for j in range(n):
                d = sq_train[j] - 2.0 * gram[r, j]
                if d < hd[0]:
                    _heap_push(hd, hi, k, d, j)
            _heap_sort(hd, hi, k)
            sq = sq_query[row_offset + r]
            for t in range(k):
                d = hd[t] + sq
                hd[t] = d if d > 0.0 else 0.0


# ---------------------------------------------------------------------------
# k-d tree
# ---------------------------------------------------------------------------

cdef void _select_nth(const double[:, ::1] X, intp* perm, intp lo, intp hi,
                      intp nth, intp dim) noexcept nogil:
    """Reorder perm[lo:hi] so that perm[nth] has the nth-smallest X[:, dim]
    (ties by index), smaller ones before it and larger ones after (quickselect)."""
    cdef intp i, j, mid, p, tmp
    cdef double pv
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        # median of three as pivot, moved to hi - 1
        if _key_less(X, perm[mid], perm[lo], dim):
            perm[mid], perm[lo] = perm[lo], perm[mid]
        if _key_less(X, perm[hi - 1], perm[lo], dim):
            perm[hi - 1], perm[lo] = perm[lo], perm[hi - 1]
        if _key_less(X, perm[mid], perm[hi - 1], dim):
            perm[mid], perm[hi - 1] = perm[hi - 1], perm[mid]
        p = perm[hi - 1]
        i = lo
        for j in range(lo, hi - 1):
            if _key_less(X, perm[j], p, dim):
                tmp = perm[i]
                perm[i] = perm[j]
                perm[j] = tmp
                i += 1
        perm[hi - 1] = perm[i]
        perm[i] = p
        if i == nth:
            return
        elif nth < i:
            hi = i
        else:
            lo = i + 1


cdef inline bint _key_less(const double[:, ::1] X, intp a, intp b, intp dim) noexcept nogil:
    return X[a, dim] < X[b, dim] or (X[a, dim] == X[b, dim] and a < b)


def kdtree_build(const double[:, ::1] X, intp[::1] perm,
                 intp[::1] node_start, intp[::1] node_end,
                 double[:, ::1] node_lo, double[:, ::1] node_hi, intp first, intp stop):
    """Nodes ``first .. stop - 1`` of a balanced k-d tree over the rows of X
    (implicit heap layout); the Python layer calls it level by level.

    Node ``i`` has children ``2i+1`` and ``2i+2``; leaves are the last level.
    ``perm`` (initially 0..n-1) is reordered so that node ``i`` owns
    ``perm[node_start[i]:node_end[i]]``; ``node_lo/node_hi`` are the bounding
    boxes of each node's points. A node's range must be set (by its parent, or
    here for the root) before it is built.
    """
    cdef intp n = X.shape[0], d = X.shape[1], n_nodes = node_start.shape[0]
    cdef intp i, j, t, s, e, dim, mid
    cdef double spread, best, v, lo, hi
    with nogil:
        if first == 0:
            node_start[0] = 0
            node_end[0] = n
        for i in range(first, stop):
            s = node_start[i]
            e = node_end[i]
            # bounding box
            for t in range(d):
                node_lo[i, t] = INFINITY
                node_hi[i, t] = -INFINITY
            for j in range(s, e):
                for t in range(d):
                    v = X[perm[j], t]
                    if v < node_lo[i, t]:
                        node_lo[i, t] = v
                    if v > node_hi[i, t]:
                        node_hi[i, t] = v
            if 2 * i + 1 >= n_nodes:
                continue
            dim = 0
            best = -1.0
            for t in range(d):
                spread = node_hi[i, t] - node_lo[i, t]
                if spread > best:
                    best = spread
                    dim = t
            mid = s + (e - s) // 2
            if e - s > 1:
                _select_nth(X, &perm[0], s, e, mid, dim)
            node_start[2 * i + 1] = s
            node_end[2 * i + 1] = mid
            node_start[2 * i + 2] = mid
            node_end[2 * i + 2] = e


cdef struct _Tree:
    const double* X          # training points in tree order (n, d)
    const intp* orig         # original index of each tree-ordered point
    const intp* start
    const intp* end
    const double* lo
    const double* hi
    intp n_nodes
    intp d
    intp k


cdef inline double _box_rdist(const _Tree* t, intp node, const double* q) noexcept nogil:
    cdef intp j
    cdef double acc = 0.0, a, b
    cdef const double* lo = t.lo + node * t.d
    cdef const double* hi = t.hi + node * t.d
    for j in range(t.d):
        a = lo[j] - q[j]
        b = q[j] - hi[j]
        if a > 0.0:
            acc += a * a
        elif b > 0.0:
            acc += b * b
    return acc


cdef void _query_node(const _Tree* t, intp node, double lb, const double* q,
                      double* hd, intp* hi) noexcept nogil:
    cdef intp j, c, left, right
    cdef double acc, diff, lb_l, lb_r
    cdef const double* x
    if lb > hd[0]:
        return
    left = 2 * node + 1
    if left >= t.n_nodes:
        for j in range(t.start[node], t.end[node]):
            x = t.X + j * t.d
            acc = 0.0
            for c in range(t.d):
                diff = q[c] - x[c]
                acc += diff * diff
            if acc <= hd[0]:
                _heap_push(hd, hi, t.k, acc, t.orig[j])
        return
    right = left + 1
    lb_l = _box_rdist(t, left, q)
    lb_r = _box_rdist(t, right, q)
    if lb_l <= lb_r:
        _query_node(t, left, lb_l, q, hd, hi)
        _query_node(t, right, lb_r, q, hd, hi)
    else:
        _query_node(t, right, lb_r, q, hd, hi)
        _query_node(t, left, lb_l, q, hd, hi)


def kdtree_query(const double[:, ::1] X_tree, const intp[::1] orig,
                 const intp[::1] node_start, const intp[::1] node_end,
                 const double[:, ::1] node_lo, const double[:, ::1] node_hi,
                 const double[:, ::1] Q, double[:, ::1] out_dist, intp[:, ::1] out_idx, int n_threads=1):
    """k nearest training points (original indices, squared distances, sorted) of
    every row of Q; queries spread over ``n_threads`` OpenMP threads in small
    dynamic chunks (their costs vary), each searched alone."""
    cdef _Tree t
    cdef intp nq = Q.shape[0], k = out_dist.shape[1], r, j
    cdef double* hd
    cdef intp* hi
    t.X = &X_tree[0, 0]
    t.orig = &orig[0]
    t.start = &node_start[0]
    t.end = &node_end[0]
    t.lo = &node_lo[0, 0]
    t.hi = &node_hi[0, 0]
    t.n_nodes = node_start.shape[0]
    t.d = X_tree.shape[1]
    t.k = k
    with nogil:
        for r in prange(nq, num_threads=n_threads if n_threads > 0 else 1, schedule='dynamic', chunksize=32):
            hd = &out_dist[r, 0]
            hi = &out_idx[r, 0]
            for j in range(k):
                hd[j] = INFINITY
                hi[j] = X_tree.shape[0]
            _query_node(&t, 0, _box_rdist(&t, 0, &Q[r, 0]), &Q[r, 0], hd, hi)
            _heap_sort(hd, hi, k)


# ---------------------------------------------------------------------------
# voting
# ---------------------------------------------------------------------------

def vote(const intp[:, ::1] ind, const double[:, ::1] sqdist, const intp[::1] y,
         bint distance_weights, double[:, ::1] proba):
    """Class probabilities from neighbour labels (scikit-learn's weighting rules).

    Uniform: each neighbour counts 1. Distance: weight ``1 / distance``; if any
    neighbour of a query is at distance 0, those neighbours weigh 1 and the
    others 0.
    """
    cdef intp nq = ind.shape[0], k = ind.shape[1], K = proba.shape[1]
    cdef intp r, j, c
    cdef bint has_zero
    cdef double w, total
    with nogil:
        for r in range(nq):
            for c in range(K):
                proba[r, c] = 0.0
            has_zero = False
            if distance_weights:
                for j in range(k):
                    if sqdist[r, j] == 0.0:
                        has_zero = True
                        break
            for j in range(k):
                if not distance_weights:
                    w = 1.0
                elif has_zero:
                    w = 1.0 if sqdist[r, j] == 0.0 else 0.0
                else:
                    w = 1.0 / sqrt(sqdist[r, j])
                proba[r, y[ind[r, j]]] += w
            total = 0.0
            for c in range(K):
                total = total + proba[r, c]
            for c in range(K):
                proba[r, c] = proba[r, c] / total
