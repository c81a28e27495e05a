# Per-pixel features for cvcore.segmentation.pixel_features.
#
# The Python layer smooths the image once per scale (and, for the difference of
# Gaussians, at the wider scale); for the structure tensor, `products` writes the
# gradient products of every scale's smoothing, the Python layer smooths them and
# `tensor_eigenvalues` turns each smoothed tensor into its two eigenvalues. Then
# one pass over the rows (`fill`) writes every feature of every scale of a pixel
# straight into its row of the (H, W, F) feature array: intensity, difference of
# Gaussians, and, from central finite differences of G (borders: nearest), the
# gradient magnitude, the Laplacian and the Hessian eigenvalues, plus the
# structure-tensor eigenvalues. A pixel's F values are written together, so the
# large feature array is streamed once instead of being revisited scale by scale.
# Rows are split among OpenMP threads (cvcore._ext._parallel); every pixel is
# computed from its inputs alone, so results do not depend on the thread count.
from libc.math cimport sqrt
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start

ctypedef Py_ssize_t intp

#: columns of the table `fill` takes, per scale: first column of each kind (< 0: not wanted)
COL_INTENSITY, COL_DOG, COL_GRADIENT, COL_LOG, COL_HESSIAN, COL_STRUCTURE = range(6)


cdef inline void _eig2(double a, double b, double c, double* hi, double* lo) noexcept nogil:
    """Eigenvalues (descending) of the symmetric matrix [[a, b], [b, c]]."""
    cdef double m = 0.5 * (a + c)
    cdef double h = 0.5 * (a - c)
    cdef double r = sqrt(h * h + b * b)
    hi[0] = m + r
    lo[0] = m - r


cdef struct Stack:
    # the planes of `fill` as raw pointers, one per scale (memoryviews passed per pixel would
    # cost reference counting; separate arrays let a Gaussian serve two scales without a copy)
    const float** g         # S planes (H, W*nch)
    const float** wider     # S planes (H, W*nch), or NULL
    const float** eig       # S planes (H, W*2*nch), or NULL
    const intp* cols        # (S, 6)
    const double* s1
    const double* s2
    intp S, H, W, nch


cdef inline void _fill_pixel(const Stack* st, intp y, intp x, float* o) noexcept nogil:
    """Every feature of pixel (y, x) into o[0 .. F - 1]."""
    cdef intp H = st.H, W = st.W, nch = st.nch, row = W * nch
    cdef intp c, i, y0, y1, x0, x1, k0, kx0, kx1, ci, cd, cg, cl, ch, cs
    cdef double gx, gy, gxx, gyy, gxy, v, l1, l2, a1, a2
    cdef const float* gr
    cdef const float* gu
    cdef const float* gd
    cdef const float* e
    y0 = y - 1 if y > 0 else 0
    y1 = y + 1 if y + 1 < H else H - 1
    x0 = x - 1 if x > 0 else 0
    x1 = x + 1 if x + 1 < W else W - 1
    for i in range(st.S):
        ci = st.cols[6 * i]
        cd = st.cols[6 * i + 1]
        cg = st.cols[6 * i + 2]
        cl = st.cols[6 * i + 3]
        ch = st.cols[6 * i + 4]
        cs = st.cols[6 * i + 5]
        a1 = st.s1[i]
        a2 = st.s2[i]
        gr = st.g[i] + y * row
        gu = st.g[i] + y0 * row
        gd = st.g[i] + y1 * row
        for c in range(nch):
            k0 = x * nch + c
            kx0 = x0 * nch + c
            kx1 = x1 * nch + c
            v = gr[k0]
            if ci >= 0:
                o[ci + c] = gr[k0]
            if cd >= 0:
                o[cd + c] = gr[k0] - st.wider[i][y * row + k0]
            if cg >= 0:
                gx = 0.5 * (gr[kx1] - gr[kx0])
                gy = 0.5 * (gd[k0] - gu[k0])
                o[cg + c] = <float>(a1 * sqrt(gx * gx + gy * gy))
            if cl >= 0 or ch >= 0:
                gxx = gr[kx1] - 2.0 * v + gr[kx0]
                gyy = gd[k0] - 2.0 * v + gu[k0]
                if cl >= 0:
                    o[cl + c] = <float>(a2 * (gxx + gyy))
                if ch >= 0:
                    gxy = 0.25 * (gd[kx1] - gd[kx0] - gu[kx1] + gu[kx0])
                    _eig2(gxx, gxy, gyy, &l1, &l2)
                    o[ch + c] = <float>(a2 * l1)
                    o[ch + nch + c] = <float>(a2 * l2)
            if cs >= 0:
                e = st.eig[i] + y * 2 * row + x * 2 * nch
                o[cs + c] = e[c]
                o[cs + nch + c] = e[nch + c]


cdef class Smoothed:
    """The per-scale planes ``fill`` reads, checked once: ``g`` (S arrays (H, W*nch)
    float32, the image smoothed at each scale, channels interleaved), ``wider``
    (S arrays like g, the wider smoothing of the difference of Gaussians, or an
    empty list), ``eig`` (S arrays (H, W*2*nch), structure-tensor eigenvalues:
    larger at ``c``, smaller at ``nch + c``; or an empty list), ``cols`` (S, 6):
    the first column of each kind (COL_INTENSITY ... COL_STRUCTURE) per scale, < 0
    when not wanted, ``grad_scale`` and ``second_scale`` per scale."""
    cdef Stack st
    cdef object keep
    cdef readonly intp n_features

    def __cinit__(self, g, wider, eig, const intp[:, ::1] cols, const double[::1] grad_scale,
                  const double[::1] second_scale, intp nch):
        cdef intp S = len(g), i, k, end
        cdef const float[:, ::1] m
        if S < 1 or nch < 1 or cols.shape[0] != S or cols.shape[1] != 6 or grad_scale.shape[0] != S \
                or second_scale.shape[0] != S or len(wider) not in (0, S) or len(eig) not in (0, S):
            raise ValueError("Smoothed: inconsistent scales")
        self.keep = (list(g), list(wider), list(eig), cols, grad_scale, second_scale)
        self.st.g = <const float**>PyMem_Malloc(3 * S * sizeof(float*))
        if self.st.g == NULL:
            raise MemoryError()
        self.st.wider = self.st.g + S if len(wider) else NULL
        self.st.eig = self.st.g + 2 * S if len(eig) else NULL
        self.st.cols = &cols[0, 0]
        self.st.s1 = &grad_scale[0]
        self.st.s2 = &second_scale[0]
        self.st.S, self.st.nch = S, nch
        for i in range(S):
            m = g[i]
            if i == 0:
                self.st.H, self.st.W = m.shape[0], m.shape[1] // nch
            if m.shape[0] != self.st.H or m.shape[1] != self.st.W * nch or m.shape[1] % nch:
                raise ValueError("Smoothed: the smoothed images differ in shape")
            self.st.g[i] = &m[0, 0]
            if self.st.wider != NULL:
                m = wider[i]
                if m.shape[0] != self.st.H or m.shape[1] != self.st.W * nch:
                    raise ValueError("Smoothed: a wider smoothing differs in shape")
                self.st.wider[i] = &m[0, 0]
            if self.st.eig != NULL:
                m = eig[i]
                if m.shape[0] != self.st.H or m.shape[1] != 2 * self.st.W * nch:
                    raise ValueError("Smoothed: eigenvalue planes differ in shape")
                self.st.eig[i] = &m[0, 0]
        self.n_features = 0
        for i in range(S):
            if (cols[i, 1] >= 0 and self.st.wider == NULL) or (cols[i, 5] >= 0 and self.st.eig == NULL):
                raise ValueError("Smoothed: a wanted feature's planes are missing")
            for k in range(6):
                if cols[i, k] >= 0:
                    end = cols[i, k] + (2 if k >= 4 else 1) * nch
                    self.n_features = max(self.n_features, end)

    def __dealloc__(self):
        PyMem_Free(self.st.g)


def fill(Smoothed planes, float[:, :, ::1] out, intp out_row0, intp row_start, intp row_stop, int n_threads=1):
    """Every feature of rows ``row_start .. row_stop - 1`` of ``planes`` into
    ``out[y - out_row0]``, on ``n_threads`` OpenMP threads; the Python layer calls
    it on row blocks. For each channel ``c`` of scale ``i`` (columns from ``cols[i]``):
      intensity + c    G
      dog + c          G - wider (float32 subtraction)
      gradient + c     grad_scale[i] * |grad G|
      log + c          second_scale[i] * (Gxx + Gyy)
      hessian + c      second_scale[i] * larger Hessian eigenvalue (smaller at hessian + nch + c)
      structure + c    larger structure-tensor eigenvalue (smaller at structure + nch + c)
    """
    cdef Stack* st = &planes.st
    cdef intp rows = row_stop - row_start, nc, t, y, x
    if (row_start < 0 or row_stop > st.H or rows > 0 and (row_start - out_row0 < 0
            or row_stop - out_row0 > out.shape[0]) or out.shape[1] != st.W or out.shape[2] < planes.n_features):
        raise ValueError("fill: rows outside the planes or the output")
    nc = chunks(rows, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            for y in range(row_start + chunk_start(rows, nc, t), row_start + chunk_start(rows, nc, t + 1)):
                for x in range(st.W):
                    _fill_pixel(st, y, x, &out[y - out_row0, x, 0])


def fill_pixels(Smoothed planes, const intp[::1] ys, const intp[::1] xs, float[:, ::1] out, int n_threads=1):
    """The features of :func:`fill` at pixels ``(ys[k], xs[k])`` into ``out[k]``, on
    ``n_threads`` OpenMP threads: training needs a few pixels, not whole rows."""
    cdef Stack* st = &planes.st
    cdef intp n = ys.shape[0], nc, t, k
    if xs.shape[0] != n or out.shape[0] < n or out.shape[1] < planes.n_features:
        raise ValueError("fill_pixels: ys, xs and out must match")
    for k in range(n):
        if ys[k] < 0 or ys[k] >= st.H or xs[k] < 0 or xs[k] >= st.W:
            raise ValueError("fill_pixels: a pixel lies outside the planes")
    nc = chunks(n, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            for k in range(chunk_start(n, nc, t), chunk_start(n, nc, t + 1)):
                _fill_pixel(st, ys[k], xs[k], &out[k, 0])


cdef void _product_rows(const float[:, ::1] g, intp nch, intp c, double s1, float[:, ::1] prod,
                        intp row_start, intp row_stop) noexcept nogil:
    cdef intp H = g.shape[0], W = g.shape[1] // nch
    cdef intp y, x, y0, y1, x0, x1
    cdef double gx, gy, q = s1 * s1
    for y in range(row_start, row_stop):
        y0 = y - 1 if y > 0 else 0
        y1 = y + 1 if y + 1 < H else H - 1
        for x in range(W):
            x0 = x - 1 if x > 0 else 0
            x1 = x + 1 if x + 1 < W else W - 1
            gx = 0.5 * (g[y, x1 * nch + c] - g[y, x0 * nch + c])
            gy = 0.5 * (g[y1, x * nch + c] - g[y0, x * nch + c])
            prod[y, 3 * x] = <float>(q * gx * gx)
            prod[y, 3 * x + 1] = <float>(q * gx * gy)
            prod[y, 3 * x + 2] = <float>(q * gy * gy)


def products(const float[:, ::1] g, intp nch, intp c, double grad_scale, float[:, ::1] prod, intp row_start,
             intp row_stop, int n_threads=1):
    """Structure-tensor products ``grad_scale^2 * (Gx^2, Gx Gy, Gy^2)`` of channel
    ``c`` of ``g`` (H, W*nch) at ``prod[y, 3 * x + 0, 1, 2]`` (prod: (H, W*3)), rows
    ``row_start .. row_stop - 1``, on ``n_threads`` threads. One channel at a time:
    three-channel images are the Gaussian's fastest per channel."""
    cdef intp rows = row_stop - row_start, nc, t
    if not 0 <= c < nch or g.shape[1] % nch or prod.shape[0] != g.shape[0] or prod.shape[1] != 3 * (g.shape[1] // nch) \
            or row_start < 0 or row_stop > g.shape[0]:
        raise ValueError("products: inconsistent arguments")
    nc = chunks(rows, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _product_rows(g, nch, c, grad_scale, prod, row_start + chunk_start(rows, nc, t),
                          row_start + chunk_start(rows, nc, t + 1))


cdef void _eigen_rows(const float[:, ::1] t, intp nch, float[:, :, ::1] out, intp col, intp gap,
                      intp row_start, intp row_stop) noexcept nogil:
    cdef intp W = t.shape[1] // (3 * nch)
    cdef intp y, x, c, k
    cdef double l1, l2
    for y in range(row_start, row_stop):
        for x in range(W):
            for c in range(nch):
                k = (x * nch + c) * 3
                _eig2(t[y, k], t[y, k + 1], t[y, k + 2], &l1, &l2)
                out[y, x, col + c] = <float>l1
                out[y, x, col + gap + c] = <float>l2


def tensor_eigenvalues(const float[:, ::1] t, intp nch, float[:, :, ::1] out, intp col, intp gap,
                       intp row_start, intp row_stop, int n_threads=1):
    """Eigenvalues of smoothed structure tensors ``t`` (H, W*3*nch), rows
    ``row_start .. row_stop - 1``, into ``out[..., col + c]`` (larger) and
    ``out[..., col + gap + c]`` (smaller), on ``n_threads`` OpenMP threads."""
    cdef intp rows = row_stop - row_start, nc, i
    if (t.shape[1] % (3 * nch) or out.shape[0] != t.shape[0] or out.shape[1] != t.shape[1] // (3 * nch)
            or col < 0 or gap < 0 or col + gap + nch > out.shape[2] or row_start < 0 or row_stop > t.shape[0]):
        raise ValueError("tensor_eigenvalues: inconsistent arguments")
    nc = chunks(rows, n_threads)
    with nogil:
        for i in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _eigen_rows(t, nch, out, col, gap, row_start + chunk_start(rows, nc, i),
                        row_start + chunk_start(rows, nc, i + 1))
