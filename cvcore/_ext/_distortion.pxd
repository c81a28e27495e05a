# OpenCV's Brown-Conrady lens distortion, written once for every kernel that
# needs it (projection and its Jacobian, undistortion, the rendering of the
# synthetic views). ``d`` points at (k1, k2, p1, p2, k3); (x, y) are
# normalised coordinates (X / Z, Y / Z):
#
#   r2 = x^2 + y^2,  rad = 1 + k1 r2 + k2 r2^2 + k3 r2^3
#   xd = x rad + 2 p1 x y + p2 (r2 + 2 x^2)
#   yd = y rad + p1 (r2 + 2 y^2) + 2 p2 x y
from libc.math cimport fabs


cdef inline void distort(double x, double y, const double* d, double* xd, double* yd) noexcept nogil:
    cdef double x2 = x * x, y2 = y * y, xy = x * y
    cdef double r2 = x2 + y2
    cdef double rad = 1.0 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))
    xd[0] = x * rad + 2.0 * d[2] * xy + d[3] * (r2 + 2.0 * x2)
    yd[0] = y * rad + d[2] * (r2 + 2.0 * y2) + 2.0 * d[3] * xy


cdef inline void distort_jacobian(double x, double y, const double* d, double* a, double* b,
                                  double* c) noexcept nogil:
    """d(xd, yd)/d(x, y) = [[a, b], [b, c]] (the matrix is symmetric)."""
    cdef double x2 = x * x, y2 = y * y, xy = x * y
    cdef double r2 = x2 + y2
    cdef double rad = 1.0 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))
    cdef double D = 2.0 * (d[0] + 2.0 * d[1] * r2 + 3.0 * d[4] * r2 * r2)
    a[0] = rad + x2 * D + 2.0 * d[2] * y + 6.0 * d[3] * x
    b[0] = xy * D + 2.0 * d[2] * x + 2.0 * d[3] * y
    c[0] = rad + y2 * D + 6.0 * d[2] * y + 2.0 * d[3] * x


cdef inline bint undistort(double xd, double yd, const double* d, double* x, double* y,
                           int max_iter) noexcept nogil:
    """Invert ``distort`` by Newton's method from the start point (x, y), in place.

    Stops at machine precision (a step below 1e-15), after ``max_iter`` steps,
    or where the Jacobian is singular or the iterate is no longer finite.
    Returns True when (x, y) is a true preimage on the lens model's unfolded
    side: it distorts back to (xd, yd) and the Jacobian there is positive
    (beyond the radius where strong barrel distortion folds over, no point
    maps to (xd, yd), or a second, wrong one does).
    """
    cdef double ex, ey, a, b, c, det, dx, dy, px, py
    cdef int it
    for it in range(max_iter):
        distort(x[0], y[0], d, &px, &py)
        ex = px - xd
        ey = py - yd
        if ex == 0.0 and ey == 0.0:
            break
        distort_jacobian(x[0], y[0], d, &a, &b, &c)
        det = a * c - b * b
        if not (fabs(det) > 1e-300):
            break
        dx = (c * ex - b * ey) / det
        dy = (a * ey - b * ex) / det
        if not (fabs(dx) + fabs(dy) < 1e300):
            break
        x[0] -= dx
        y[0] -= dy
        if fabs(dx) + fabs(dy) < 1e-15:
            break
    distort(x[0], y[0], d, &px, &py)
    distort_jacobian(x[0], y[0], d, &a, &b, &c)
    return (fabs(px - xd) + fabs(py - yd) <= 1e-9 * (1.0 + fabs(xd) + fabs(yd))) and a > 0 and a * c - b * b > 0
