# Kernels other _ext modules may call directly (cimport), without Python overhead.

cdef void wsum_f(float* out, Py_ssize_t n, Py_ssize_t nt, const float* k,
                 const float** A, const float** B, int sign) noexcept nogil
cdef void wsum_d(double* out, Py_ssize_t n, Py_ssize_t nt, const double* k,
                 const double** A, const double** B, int sign) noexcept nogil
